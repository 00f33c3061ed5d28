//! The analyst workflow on SQLite (schema v6): audited alert state changes, sessions, cases
//! and alert statistics. Every change runs in one immediate transaction with its audit entry.

use crate::auth::{User, is_token_hash};
use crate::sqlite::{SqliteStore, classify, severity_from_rank};
use crate::sqlite_audit::append_in;
use crate::workflow::{
    AlertStats, AuditRecord, Case, CaseStatus, DetectorCount, EntityCount,
    MAX_CASE_ALERTS_PER_CALL, Session, SeverityCounts, StatsBucket, StatusCounts, TOP_ENTITIES,
    case_id, check_case_text, check_stats_window, parse_case_id,
};
use crate::{AlertState, StoreError, sqlite_users, validate_state};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};
use ward_core::{Alert, Timestamp};

/// Longest CSRF token accepted for storage.
const MAX_CSRF_LEN: usize = 128;

/// An immediate (write-locking) transaction and the store's location for errors.
pub(crate) fn immediate<'a>(
    s: &'a mut SqliteStore,
) -> Result<(Transaction<'a>, String), StoreError> {
    let location = s.location.clone();
    let tx = s
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| classify(&location, e))?;
    Ok((tx, location))
}

/// Appends `a` to the audit trail inside `tx`.
pub(crate) fn audit(
    tx: &Transaction<'_>,
    location: &str,
    a: &AuditRecord,
) -> Result<(), StoreError> {
    append_in(
        tx, location, a.time, &a.actor, &a.action, &a.target, &a.details,
    )
    .map(|_| ())
}

pub(crate) fn update_alert_state(
    s: &mut SqliteStore,
    id: &str,
    state: &AlertState,
    a: &AuditRecord,
) -> Result<bool, StoreError> {
    validate_state(state)?;
    let (tx, location) = immediate(s)?;
    let n = tx
        .prepare_cached("UPDATE alerts SET status = ?1, assignee = ?2 WHERE id = ?3")
        .and_then(|mut st| st.execute(params![state.status.as_str(), state.assignee, id]))
        .map_err(|e| classify(&location, e))?;
    if n == 0 {
        return Ok(false);
    }
    audit(&tx, &location, a)?;
    tx.commit().map_err(|e| classify(&location, e))?;
    Ok(true)
}

// ---- sessions ----

const SESSION_COLUMNS: &str = "hash, user, csrf, created, last_seen";

fn decode_session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        hash: r.get(0)?,
        user: r.get(1)?,
        csrf: r.get(2)?,
        created: Timestamp(r.get(3)?),
        last_seen: Timestamp(r.get(4)?),
    })
}

pub(crate) fn create_session(
    s: &mut SqliteStore,
    session: &Session,
    a: &AuditRecord,
) -> Result<(), StoreError> {
    if !is_token_hash(&session.hash) {
        return Err(StoreError::InvalidInput(
            "the session hash is not a SHA-256 hex digest".into(),
        ));
    }
    if session.csrf.is_empty() || session.csrf.len() > MAX_CSRF_LEN {
        return Err(StoreError::InvalidInput(format!(
            "the CSRF token must be 1 to {MAX_CSRF_LEN} bytes"
        )));
    }
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    let user: Option<i64> = tx
        .prepare_cached("SELECT disabled FROM users WHERE name = ?1")
        .and_then(|mut st| st.query_row([&session.user], |r| r.get(0)).optional())
        .map_err(fail)?;
    match user {
        None => return Err(StoreError::NotFound(format!("user {}", session.user))),
        Some(d) if d != 0 => {
            return Err(StoreError::InvalidInput(format!(
                "user {} is disabled",
                session.user
            )));
        }
        Some(_) => {}
    }
    let inserted = tx
        .prepare_cached(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                session.hash,
                session.user,
                session.csrf,
                session.created.0,
                session.last_seen.0
            ])
        });
    match inserted {
        Ok(_) => {}
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            return Err(StoreError::AlreadyExists("a session with this hash".into()));
        }
        Err(e) => return Err(fail(e)),
    }
    audit(&tx, &location, a)?;
    tx.commit().map_err(fail)?;
    Ok(())
}

pub(crate) fn find_session(
    s: &SqliteStore,
    hash: &str,
) -> Result<Option<(User, Session)>, StoreError> {
    let session: Option<Session> = s
        .conn
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE hash = ?1"
        ))
        .and_then(|mut st| st.query_row([hash], decode_session).optional())
        .map_err(|e| s.err(e))?;
    let Some(session) = session else {
        return Ok(None);
    };
    match sqlite_users::get_user(s, &session.user)? {
        Some(user) if !user.disabled => Ok(Some((user, session))),
        _ => Ok(None),
    }
}

pub(crate) fn touch_session(
    s: &mut SqliteStore,
    hash: &str,
    time: Timestamp,
) -> Result<bool, StoreError> {
    let n = s
        .conn
        .prepare_cached("UPDATE sessions SET last_seen = max(last_seen, ?1) WHERE hash = ?2")
        .and_then(|mut st| st.execute(params![time.0, hash]))
        .map_err(|e| s.err(e))?;
    Ok(n > 0)
}

pub(crate) fn end_session(
    s: &mut SqliteStore,
    hash: &str,
    a: Option<&AuditRecord>,
) -> Result<bool, StoreError> {
    let (tx, location) = immediate(s)?;
    let n = tx
        .prepare_cached("DELETE FROM sessions WHERE hash = ?1")
        .and_then(|mut st| st.execute([hash]))
        .map_err(|e| classify(&location, e))?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(a) = a {
        audit(&tx, &location, a)?;
    }
    tx.commit().map_err(|e| classify(&location, e))?;
    Ok(true)
}

pub(crate) fn end_user_sessions(s: &mut SqliteStore, user: &str) -> Result<u64, StoreError> {
    let n = s
        .conn
        .prepare_cached("DELETE FROM sessions WHERE user = ?1")
        .and_then(|mut st| st.execute([user]))
        .map_err(|e| s.err(e))?;
    Ok(n as u64)
}

pub(crate) fn purge_sessions(
    s: &mut SqliteStore,
    idle_before: Timestamp,
    created_before: Timestamp,
) -> Result<u64, StoreError> {
    let n = s
        .conn
        .prepare_cached("DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2")
        .and_then(|mut st| st.execute(params![idle_before.0, created_before.0]))
        .map_err(|e| s.err(e))?;
    Ok(n as u64)
}

// ---- cases ----

const CASE_SELECT: &str =
    "SELECT c.id, c.title, c.description, c.status, c.created, c.created_by, c.updated,
        (SELECT count(*) FROM case_alerts ca WHERE ca.case_id = c.id),
        (SELECT max(a.severity) FROM case_alerts ca JOIN alerts a ON a.seq = ca.alert_seq
          WHERE ca.case_id = c.id)
     FROM cases c";

fn decode_case(location: &str, r: &Row<'_>) -> Result<Case, StoreError> {
    let bad = |reason: String| StoreError::BadRecord {
        location: location.to_owned(),
        key: "case".into(),
        reason,
    };
    let get = |e: rusqlite::Error| bad(e.to_string());
    let n: i64 = r.get(0).map_err(get)?;
    let status: String = r.get(3).map_err(get)?;
    let count: i64 = r.get(7).map_err(get)?;
    let max: Option<i64> = r.get(8).map_err(get)?;
    Ok(Case {
        id: case_id(n),
        title: r.get(1).map_err(get)?,
        description: r.get(2).map_err(get)?,
        status: status.parse().map_err(bad)?,
        created: Timestamp(r.get(4).map_err(get)?),
        created_by: r.get(5).map_err(get)?,
        updated: Timestamp(r.get(6).map_err(get)?),
        alert_count: u64::try_from(count).unwrap_or(0),
        max_severity: max.and_then(severity_from_rank),
    })
}

fn case_in(tx: &Transaction<'_>, location: &str, n: i64) -> Result<Option<Case>, StoreError> {
    let mut st = tx
        .prepare_cached(&format!("{CASE_SELECT} WHERE c.id = ?1"))
        .map_err(|e| classify(location, e))?;
    let mut rows = st.query([n]).map_err(|e| classify(location, e))?;
    match rows.next().map_err(|e| classify(location, e))? {
        Some(r) => decode_case(location, r).map(Some),
        None => Ok(None),
    }
}

/// Links alerts to case row `n`; every id must exist. Returns how many links were new.
fn link_alerts(
    tx: &Transaction<'_>,
    location: &str,
    n: i64,
    alert_ids: &[String],
) -> Result<u64, StoreError> {
    if alert_ids.len() > MAX_CASE_ALERTS_PER_CALL {
        return Err(StoreError::InvalidInput(format!(
            "at most {MAX_CASE_ALERTS_PER_CALL} alerts can be added at once, got {}",
            alert_ids.len()
        )));
    }
    let fail = |e| classify(location, e);
    let mut find = tx
        .prepare_cached("SELECT seq FROM alerts WHERE id = ?1")
        .map_err(fail)?;
    let mut link = tx
        .prepare_cached("INSERT OR IGNORE INTO case_alerts (case_id, alert_seq) VALUES (?1, ?2)")
        .map_err(fail)?;
    let mut added = 0;
    for (i, id) in alert_ids.iter().enumerate() {
        let seq: Option<i64> = find
            .query_row([id], |r| r.get(0))
            .optional()
            .map_err(fail)?;
        // Name the position, not the id: ids are safe, but a caller may paste anything.
        let seq = seq.ok_or_else(|| StoreError::NotFound(format!("alert_ids[{i}]")))?;
        added += link.execute(params![n, seq]).map_err(fail)? as u64;
    }
    Ok(added)
}

pub(crate) fn create_case(
    s: &mut SqliteStore,
    title: &str,
    description: &str,
    alert_ids: &[String],
    a: &AuditRecord,
) -> Result<Case, StoreError> {
    check_case_text(title, description).map_err(StoreError::InvalidInput)?;
    let (tx, location) = immediate(s)?;
    let fail = |e| classify(&location, e);
    tx.prepare_cached(
        "INSERT INTO cases (title, description, status, created, created_by, updated)
         VALUES (?1, ?2, 'open', ?3, ?4, ?3)",
    )
    .and_then(|mut st| st.execute(params![title, description, a.time.0, a.actor]))
    .map_err(fail)?;
    let n = tx.last_insert_rowid();
    link_alerts(&tx, &location, n, alert_ids)?;
    let mut rec = a.clone();
    rec.target = case_id(n);
    audit(&tx, &location, &rec)?;
    let case = case_in(&tx, &location, n)?.ok_or_else(|| StoreError::BadRecord {
        location: location.clone(),
        key: case_id(n),
        reason: "the new case vanished".into(),
    })?;
    tx.commit().map_err(fail)?;
    Ok(case)
}

pub(crate) fn add_case_alerts(
    s: &mut SqliteStore,
    case: &str,
    alert_ids: &[String],
    a: &AuditRecord,
) -> Result<Option<Case>, StoreError> {
    let Some(n) = parse_case_id(case) else {
        return Ok(None);
    };
    let (tx, location) = immediate(s)?;
    if case_in(&tx, &location, n)?.is_none() {
        return Ok(None);
    }
    link_alerts(&tx, &location, n, alert_ids)?;
    tx.prepare_cached("UPDATE cases SET updated = max(updated, ?1) WHERE id = ?2")
        .and_then(|mut st| st.execute(params![a.time.0, n]))
        .map_err(|e| classify(&location, e))?;
    audit(&tx, &location, a)?;
    let out = case_in(&tx, &location, n)?;
    tx.commit().map_err(|e| classify(&location, e))?;
    Ok(out)
}

pub(crate) fn set_case_status(
    s: &mut SqliteStore,
    case: &str,
    status: CaseStatus,
    a: &AuditRecord,
) -> Result<Option<Case>, StoreError> {
    let Some(n) = parse_case_id(case) else {
        return Ok(None);
    };
    let (tx, location) = immediate(s)?;
    let changed = tx
        .prepare_cached("UPDATE cases SET status = ?1, updated = max(updated, ?2) WHERE id = ?3")
        .and_then(|mut st| st.execute(params![status.as_str(), a.time.0, n]))
        .map_err(|e| classify(&location, e))?;
    if changed == 0 {
        return Ok(None);
    }
    audit(&tx, &location, a)?;
    let out = case_in(&tx, &location, n)?;
    tx.commit().map_err(|e| classify(&location, e))?;
    Ok(out)
}

pub(crate) fn get_case(s: &SqliteStore, case: &str) -> Result<Option<Case>, StoreError> {
    let Some(n) = parse_case_id(case) else {
        return Ok(None);
    };
    let mut st = s
        .conn
        .prepare_cached(&format!("{CASE_SELECT} WHERE c.id = ?1"))
        .map_err(|e| s.err(e))?;
    let mut rows = st.query([n]).map_err(|e| s.err(e))?;
    match rows.next().map_err(|e| s.err(e))? {
        Some(r) => decode_case(&s.location, r).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn list_cases(
    s: &SqliteStore,
    status: Option<CaseStatus>,
) -> Result<Vec<Case>, StoreError> {
    let mut st = s
        .conn
        .prepare_cached(&format!(
            "{CASE_SELECT} WHERE ?1 IS NULL OR c.status = ?1 ORDER BY c.updated DESC, c.id DESC"
        ))
        .map_err(|e| s.err(e))?;
    let mut rows = st
        .query([status.map(CaseStatus::as_str)])
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| s.err(e))? {
        out.push(decode_case(&s.location, r)?);
    }
    Ok(out)
}

pub(crate) fn case_alerts(s: &SqliteStore, case: &str) -> Result<Vec<Alert>, StoreError> {
    let Some(n) = parse_case_id(case) else {
        return Ok(Vec::new());
    };
    let mut st = s
        .conn
        .prepare_cached(
            "SELECT a.id, b.body FROM case_alerts ca JOIN alerts a ON a.seq = ca.alert_seq
             LEFT JOIN alert_bodies b ON b.seq = a.seq
             WHERE ca.case_id = ?1 ORDER BY a.time DESC, a.id DESC",
        )
        .map_err(|e| s.err(e))?;
    let rows = st
        .query_map([n], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body) = row.map_err(|e| s.err(e))?;
        out.push(s.decode_alert(&id, body.as_deref())?);
    }
    Ok(out)
}

pub(crate) fn cases_of_alert(s: &SqliteStore, alert_id: &str) -> Result<Vec<String>, StoreError> {
    let mut st = s
        .conn
        .prepare_cached(
            "SELECT ca.case_id FROM case_alerts ca JOIN alerts a ON a.seq = ca.alert_seq
             WHERE a.id = ?1 ORDER BY ca.case_id",
        )
        .map_err(|e| s.err(e))?;
    let rows = st
        .query_map([alert_id], |r| r.get::<_, i64>(0))
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(case_id(row.map_err(|e| s.err(e))?));
    }
    Ok(out)
}

// ---- statistics ----

pub(crate) fn latest_alert_time(s: &SqliteStore) -> Result<Option<Timestamp>, StoreError> {
    s.conn
        .query_row("SELECT max(time) FROM alerts", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map(|t| t.map(Timestamp))
        .map_err(|e| s.err(e))
}

pub(crate) fn alert_stats(
    s: &SqliteStore,
    from: Timestamp,
    to: Timestamp,
    bucket: i64,
) -> Result<AlertStats, StoreError> {
    let n = check_stats_window(from, to, bucket).map_err(StoreError::InvalidQuery)?;
    let fail = |e| s.err(e);
    // One read transaction: the four aggregates describe the same snapshot.
    let tx = s.conn.unchecked_transaction().map_err(fail)?;
    let mut series: Vec<StatsBucket> = (0..n as i64)
        .map(|i| StatsBucket {
            start: Timestamp(from.0 + i * bucket),
            counts: SeverityCounts::default(),
        })
        .collect();
    let mut total = 0u64;
    {
        let mut st = tx
            .prepare_cached(
                "SELECT (time - ?1) / ?3, severity, count(*) FROM alerts
                 WHERE time >= ?1 AND time < ?2 GROUP BY 1, 2",
            )
            .map_err(fail)?;
        let mut rows = st.query(params![from.0, to.0, bucket]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let b: i64 = r.get(0).map_err(fail)?;
            let sev: i64 = r.get(1).map_err(fail)?;
            let c = u64::try_from(r.get::<_, i64>(2).map_err(fail)?).unwrap_or(0);
            if let (Some(slot), Some(sev)) = (
                usize::try_from(b).ok().and_then(|b| series.get_mut(b)),
                severity_from_rank(sev),
            ) {
                slot.counts.add(sev, c);
                total += c;
            }
        }
    }
    let mut by_status = StatusCounts::default();
    {
        let mut st = tx
            .prepare_cached(
                "SELECT status, count(*) FROM alerts WHERE time >= ?1 AND time < ?2 GROUP BY 1",
            )
            .map_err(fail)?;
        let mut rows = st.query(params![from.0, to.0]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let status: String = r.get(0).map_err(fail)?;
            let c = u64::try_from(r.get::<_, i64>(1).map_err(fail)?).unwrap_or(0);
            match status.as_str() {
                "open" => by_status.open += c,
                "acknowledged" => by_status.acknowledged += c,
                "closed" => by_status.closed += c,
                _ => {}
            }
        }
    }
    let mut by_detector = Vec::new();
    {
        let mut st = tx
            .prepare_cached(
                "SELECT detector, count(*), max(time) FROM alerts WHERE time >= ?1 AND time < ?2
                 GROUP BY 1 ORDER BY 2 DESC, 1",
            )
            .map_err(fail)?;
        let mut rows = st.query(params![from.0, to.0]).map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            by_detector.push(DetectorCount {
                detector: r.get(0).map_err(fail)?,
                count: u64::try_from(r.get::<_, i64>(1).map_err(fail)?).unwrap_or(0),
                last: Timestamp(r.get(2).map_err(fail)?),
            });
        }
    }
    let mut top_entities = Vec::new();
    {
        let mut st = tx
            .prepare_cached(
                "SELECT entity, count(*), max(severity) FROM alerts WHERE time >= ?1 AND time < ?2
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
            )
            .map_err(fail)?;
        let mut rows = st
            .query(params![from.0, to.0, i64::from(TOP_ENTITIES)])
            .map_err(fail)?;
        while let Some(r) = rows.next().map_err(fail)? {
            let sev: i64 = r.get(2).map_err(fail)?;
            let Some(max_severity) = severity_from_rank(sev) else {
                continue;
            };
            top_entities.push(EntityCount {
                entity: r.get(0).map_err(fail)?,
                count: u64::try_from(r.get::<_, i64>(1).map_err(fail)?).unwrap_or(0),
                max_severity,
            });
        }
    }
    Ok(AlertStats {
        from,
        to,
        bucket_micros: bucket,
        series,
        by_status,
        by_detector,
        top_entities,
        total,
    })
}
