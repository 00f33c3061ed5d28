//! Users and API tokens on an SQLite file: secrets never reach the file in the clear, older
//! stores gain the tables, damaged rows are reported.

use rusqlite::Connection;
use std::path::Path;
use ward_core::Timestamp;
use ward_store::auth::{hash_password, new_token, token_hash};
use ward_store::{MIGRATIONS, Role, SqliteStore, Store, StoreError};

const T: Timestamp = Timestamp(1_714_521_600_000_000);

/// Every byte SQLite keeps for the store at `path` (main file, WAL and journal if present).
fn all_bytes(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-journal"] {
        let p = format!("{}{suffix}", path.display());
        if let Ok(b) = std::fs::read(p) {
            out.extend(b);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn tokens_and_passwords_are_stored_only_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let password = "plaintext-Sentinel-4711";
    let (token, hash) = new_token().unwrap();
    let mut s = SqliteStore::open(&path).unwrap();
    s.add_user("alice", Role::Admin, &hash_password(password).unwrap(), T)
        .unwrap();
    let t = s.add_token("alice", &hash, T).unwrap();
    // While open (WAL in use) and after closing (checkpointed into the main file).
    for phase in ["open", "closed"] {
        let bytes = all_bytes(&path);
        assert!(
            contains(&bytes, "alice"),
            "{phase}: the sanity check sees stored text"
        );
        assert!(contains(&bytes, &hash), "{phase}: the hash is stored");
        assert!(
            !contains(&bytes, &token),
            "{phase}: the raw token is in the file"
        );
        let secret_part = token.trim_start_matches("ward_");
        assert!(
            !contains(&bytes, &secret_part[..32]),
            "{phase}: half the token is in the file"
        );
        assert!(
            !contains(&bytes, password),
            "{phase}: the password is in the file"
        );
        if phase == "open" {
            drop(std::mem::replace(
                &mut s,
                SqliteStore::open_in_memory().unwrap(),
            ));
        }
    }
    let s = SqliteStore::open(&path).unwrap();
    let (user, found) = s
        .find_user_by_token_hash(&token_hash(&token))
        .unwrap()
        .unwrap();
    assert_eq!((user.name.as_str(), found.id), ("alice", t.id));
}

#[test]
fn a_v4_store_gains_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in MIGRATIONS.iter().take(4) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert!(s.list_users().unwrap().is_empty());
    s.add_user(
        "bob",
        Role::Auditor,
        &hash_password("bob's password").unwrap(),
        T,
    )
    .unwrap();
    assert_eq!(
        s.get_user("bob").unwrap().map(|u| u.role),
        Some(Role::Auditor)
    );
}

#[test]
fn a_damaged_role_is_a_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    SqliteStore::open(&path)
        .unwrap()
        .add_user(
            "eve",
            Role::Viewer,
            &hash_password("eve's password").unwrap(),
            T,
        )
        .unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE users SET role = 'superuser' WHERE name = 'eve'", [])
        .unwrap();
    let s = SqliteStore::open(&path).unwrap();
    for err in [s.get_user("eve").unwrap_err(), s.list_users().unwrap_err()] {
        assert!(matches!(err, StoreError::BadRecord { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("user eve") && msg.contains("superuser"),
            "{msg}"
        );
    }
}
