//! Users and API tokens on SQLite: tables `users` and `api_tokens` (schema v5).

use crate::StoreError;
use crate::auth::{ApiToken, Role, User, check_user_name, is_password_hash, is_token_hash};
use crate::sqlite::{SqliteStore, classify};
use rusqlite::{ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use ward_core::Timestamp;

const USER_COLUMNS: &str = "name, role, created, disabled";
const TOKEN_COLUMNS: &str = "id, user, created, last_used, revoked";

fn check_hash(password_hash: &str) -> Result<(), StoreError> {
    if is_password_hash(password_hash) {
        Ok(())
    } else {
        // Never echo it: it may be a plaintext password passed by mistake.
        Err(StoreError::InvalidInput(
            "the password hash is not an Argon2id PHC string".into(),
        ))
    }
}

fn bad_name(e: String) -> StoreError {
    StoreError::InvalidInput(e)
}

pub(crate) fn add_user(
    s: &mut SqliteStore,
    name: &str,
    role: Role,
    password_hash: &str,
    created: Timestamp,
) -> Result<User, StoreError> {
    check_user_name(name).map_err(bad_name)?;
    check_hash(password_hash)?;
    let res = s
        .conn
        .prepare_cached(
            "INSERT INTO users (name, role, password_hash, created, disabled) VALUES (?1, ?2, ?3, ?4, 0)",
        )
        .and_then(|mut st| st.execute(params![name, role.as_str(), password_hash, created.0]));
    match res {
        Ok(_) => Ok(User {
            name: name.to_owned(),
            role,
            created,
            disabled: false,
        }),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::AlreadyExists(format!("user {name}")))
        }
        Err(e) => Err(s.err(e)),
    }
}

pub(crate) fn set_password(
    s: &mut SqliteStore,
    name: &str,
    password_hash: &str,
) -> Result<bool, StoreError> {
    check_hash(password_hash)?;
    let n = s
        .conn
        .prepare_cached("UPDATE users SET password_hash = ?1 WHERE name = ?2")
        .and_then(|mut st| st.execute(params![password_hash, name]))
        .map_err(|e| s.err(e))?;
    Ok(n > 0)
}

fn decode_user(s: &SqliteStore, r: &Row<'_>) -> rusqlite::Result<Result<User, StoreError>> {
    let name: String = r.get(0)?;
    let role: String = r.get(1)?;
    let created: i64 = r.get(2)?;
    let disabled: bool = r.get(3)?;
    Ok(match role.parse::<Role>() {
        Ok(role) => Ok(User {
            name,
            role,
            created: Timestamp(created),
            disabled,
        }),
        Err(e) => Err(StoreError::BadRecord {
            location: s.location.clone(),
            key: format!("user {name}"),
            reason: e.to_string(),
        }),
    })
}

pub(crate) fn get_user(s: &SqliteStore, name: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1");
    s.conn
        .prepare_cached(&sql)
        .and_then(|mut st| st.query_row([name], |r| decode_user(s, r)).optional())
        .map_err(|e| s.err(e))?
        .transpose()
}

pub(crate) fn password_hash(s: &SqliteStore, name: &str) -> Result<Option<String>, StoreError> {
    s.conn
        .prepare_cached("SELECT password_hash FROM users WHERE name = ?1")
        .and_then(|mut st| st.query_row([name], |r| r.get(0)).optional())
        .map_err(|e| s.err(e))
}

pub(crate) fn list_users(s: &SqliteStore) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
    let mut st = s.conn.prepare_cached(&sql).map_err(|e| s.err(e))?;
    let rows = st
        .query_map([], |r| decode_user(s, r))
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(|e| s.err(e))??);
    }
    Ok(out)
}

pub(crate) fn set_user_disabled(
    s: &mut SqliteStore,
    name: &str,
    disabled: bool,
) -> Result<bool, StoreError> {
    let n = s
        .conn
        .prepare_cached("UPDATE users SET disabled = ?1 WHERE name = ?2")
        .and_then(|mut st| st.execute(params![disabled, name]))
        .map_err(|e| s.err(e))?;
    Ok(n > 0)
}

fn decode_token(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let id: i64 = r.get(0)?;
    Ok(ApiToken {
        id: u64::try_from(id).unwrap_or(0),
        user: r.get(1)?,
        created: Timestamp(r.get(2)?),
        last_used: r.get::<_, Option<i64>>(3)?.map(Timestamp),
        revoked: r.get(4)?,
    })
}

pub(crate) fn add_token(
    s: &mut SqliteStore,
    user: &str,
    token_hash: &str,
    created: Timestamp,
) -> Result<ApiToken, StoreError> {
    if !is_token_hash(token_hash) {
        // Never echo it: it may be the token itself, passed by mistake.
        return Err(StoreError::InvalidInput(
            "the token hash is not a SHA-256 hex digest".into(),
        ));
    }
    let location = s.location.clone();
    let fail = |e| classify(&location, e);
    let tx = s
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let exists: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM users WHERE name = ?1")
        .and_then(|mut st| st.query_row([user], |r| r.get(0)).optional())
        .map_err(fail)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("user {user}")));
    }
    let inserted = tx
        .prepare_cached("INSERT INTO api_tokens (user, hash, created) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| st.execute(params![user, token_hash, created.0]));
    match inserted {
        Ok(_) => {}
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            return Err(StoreError::AlreadyExists("a token with this hash".into()));
        }
        Err(e) => return Err(fail(e)),
    }
    let id = tx.last_insert_rowid();
    tx.commit().map_err(fail)?;
    Ok(ApiToken {
        id: u64::try_from(id).unwrap_or(0),
        user: user.to_owned(),
        created,
        last_used: None,
        revoked: false,
    })
}

pub(crate) fn find_user_by_token_hash(
    s: &SqliteStore,
    token_hash: &str,
) -> Result<Option<(User, ApiToken)>, StoreError> {
    let token: Option<ApiToken> = s
        .conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?1 AND revoked = 0"
        ))
        .and_then(|mut st| st.query_row([token_hash], decode_token).optional())
        .map_err(|e| s.err(e))?;
    let Some(token) = token else { return Ok(None) };
    match get_user(s, &token.user)? {
        Some(user) if !user.disabled => Ok(Some((user, token))),
        _ => Ok(None),
    }
}

pub(crate) fn touch_token(
    s: &mut SqliteStore,
    id: u64,
    time: Timestamp,
) -> Result<bool, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(false);
    };
    let n = s
        .conn
        .prepare_cached("UPDATE api_tokens SET last_used = ?1 WHERE id = ?2")
        .and_then(|mut st| st.execute(params![time.0, id]))
        .map_err(|e| s.err(e))?;
    Ok(n > 0)
}

pub(crate) fn list_tokens(s: &SqliteStore, user: &str) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user = ?1 ORDER BY id");
    let mut st = s.conn.prepare_cached(&sql).map_err(|e| s.err(e))?;
    let rows = st.query_map([user], decode_token).map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(|e| s.err(e))?);
    }
    Ok(out)
}

pub(crate) fn revoke_token(s: &mut SqliteStore, id: u64) -> Result<bool, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(false);
    };
    let n = s
        .conn
        .prepare_cached("UPDATE api_tokens SET revoked = 1 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id]))
        .map_err(|e| s.err(e))?;
    Ok(n > 0)
}
