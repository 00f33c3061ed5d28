//! The audit trail on SQLite: table `audit_log` (schema v4), appended inside an immediate
//! transaction so two writers on one file cannot take the same `seq`.

use crate::StoreError;
use crate::audit::{
    AuditEntry, AuditVerification, ChainVerifier, MAX_AUDIT_PAGE, canonical_json, next_entry,
};
use crate::sqlite::{SqliteStore, classify};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};
use ward_core::Timestamp;

const COLUMNS: &str = "seq, time, actor, action, target, details, prev_hash, hash";

pub(crate) fn append(
    s: &mut SqliteStore,
    time: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> Result<AuditEntry, StoreError> {
    let location = s.location.clone();
    let tx = s
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| classify(&location, e))?;
    let entry = append_in(&tx, &location, time, actor, action, target, details)?;
    tx.commit().map_err(|e| classify(&location, e))?;
    Ok(entry)
}

/// Appends inside the caller's (immediate) transaction, so a state change and its audit
/// entry commit together or not at all.
pub(crate) fn append_in(
    tx: &Transaction<'_>,
    location: &str,
    time: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> Result<AuditEntry, StoreError> {
    let details_text =
        canonical_json(details).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
    let fail = |e| classify(location, e);
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(fail)?;
    let prev = match &last {
        Some((seq, hash)) => Some((
            u64::try_from(*seq).map_err(|_| StoreError::BadRecord {
                location: location.to_owned(),
                key: format!("audit entry {seq}"),
                reason: "negative sequence number".into(),
            })?,
            hash.as_str(),
        )),
        None => None,
    };
    let entry = next_entry(prev, time, actor, action, target, details.clone())
        .map_err(|e| StoreError::InvalidInput(e.to_string()))?;
    let seq = i64::try_from(entry.seq)
        .map_err(|_| StoreError::InvalidInput("the audit log is full".into()))?;
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, time, actor, action, target, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            seq,
            entry.time.0,
            entry.actor,
            entry.action,
            entry.target,
            details_text,
            entry.prev_hash,
            entry.hash,
        ])
    })
    .map_err(fail)?;
    Ok(entry)
}

/// The newest `limit` entries whose target is `target`, oldest first.
pub(crate) fn list_for_target(
    s: &SqliteStore,
    target: &str,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM audit_log WHERE target = ?1 \
         ORDER BY seq DESC LIMIT ?2) ORDER BY seq"
    );
    page(s, &sql, Value::Text(target.to_owned()), limit)
}

pub(crate) fn list(
    s: &SqliteStore,
    from_seq: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let from = i64::try_from(from_seq).unwrap_or(i64::MAX);
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
    page(s, &sql, Value::Integer(from), limit)
}

/// Runs a listing `sql` with `?1 = key` and `?2 = limit` (1 to [`MAX_AUDIT_PAGE`]).
fn page(s: &SqliteStore, sql: &str, key: Value, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(StoreError::InvalidQuery(format!(
            "audit page size must be 1 to {MAX_AUDIT_PAGE}, got {limit}"
        )));
    }
    let mut st = s.conn.prepare_cached(sql).map_err(|e| s.err(e))?;
    let mut rows = st
        .query(params![key, i64::from(limit)])
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| s.err(e))? {
        out.push(decode_or_bad_record(s, row)?);
    }
    Ok(out)
}

pub(crate) fn head(s: &SqliteStore) -> Result<Option<AuditEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    let mut st = s.conn.prepare_cached(&sql).map_err(|e| s.err(e))?;
    let mut rows = st.query([]).map_err(|e| s.err(e))?;
    match rows.next().map_err(|e| s.err(e))? {
        Some(row) => decode_or_bad_record(s, row).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn verify(s: &SqliteStore) -> Result<AuditVerification, StoreError> {
    // One read transaction, so the walk sees one consistent snapshot while writers append.
    let tx = s.conn.unchecked_transaction().map_err(|e| s.err(e))?;
    let max: Option<i64> = tx
        .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .map_err(|e| s.err(e))?;
    let mut v = ChainVerifier::new(max.and_then(|m| u64::try_from(m).ok()).unwrap_or(0));
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq");
    let mut st = tx.prepare(&sql).map_err(|e| s.err(e))?;
    let mut rows = st.query([]).map_err(|e| s.err(e))?;
    let mut last_seq = 0u64;
    while let Some(row) = rows.next().map_err(|e| s.err(e))? {
        let more = match decode(row) {
            Some(e) => {
                last_seq = e.seq;
                v.push(&e)
            }
            None => {
                let seq = row
                    .get::<_, i64>(0)
                    .ok()
                    .and_then(|q| u64::try_from(q).ok())
                    .unwrap_or_else(|| last_seq.saturating_add(1));
                v.push_unreadable(seq)
            }
        };
        if !more {
            break;
        }
    }
    Ok(v.finish())
}

/// Decodes a row, `None` when any column has the wrong type or the details are not JSON.
fn decode(row: &Row<'_>) -> Option<AuditEntry> {
    let text = |i: usize| match row.get::<_, Value>(i).ok()? {
        Value::Text(t) => Some(t),
        _ => None,
    };
    let int = |i: usize| match row.get::<_, Value>(i).ok()? {
        Value::Integer(n) => Some(n),
        _ => None,
    };
    Some(AuditEntry {
        seq: u64::try_from(int(0)?).ok()?,
        time: Timestamp(int(1)?),
        actor: text(2)?,
        action: text(3)?,
        target: text(4)?,
        details: serde_json::from_str(&text(5)?).ok()?,
        prev_hash: text(6)?,
        hash: text(7)?,
    })
}

fn decode_or_bad_record(s: &SqliteStore, row: &Row<'_>) -> Result<AuditEntry, StoreError> {
    decode(row).ok_or_else(|| StoreError::BadRecord {
        location: s.location.clone(),
        key: match row.get::<_, Value>(0) {
            Ok(Value::Integer(n)) => format!("audit entry {n}"),
            _ => "audit entry".into(),
        },
        // The details may hold sensitive context: say what is wrong, never what is there.
        reason: "a column has the wrong type or the details are not valid JSON".into(),
    })
}
