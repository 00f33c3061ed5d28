//! EHR-snooping cases on SQLite (schema v7): `ehr_cases`, `ehr_accesses`, `ehr_people`.
//! A detection run is written in one immediate transaction with its alerts and its audit entry.

use crate::ehr::{
    EhrAccessRecord, EhrCaseRecord, EhrImport, EhrImportCounts, EhrPerson, EhrReason, EhrTimeline,
    EhrUserQuery, EhrUserSummary, MAX_EHR_LOOKUP, MAX_EHR_TIMELINE, PersonKind, validate_import,
    validate_user_query,
};
use crate::sqlite::{SqliteStore, classify, insert_alerts_in};
use crate::sqlite_audit::append_in;
use crate::workflow::AuditRecord;
use crate::{StoreError, validate_alert};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use std::collections::{BTreeSet, HashSet};
use ward_core::Timestamp;

const CASE_COLUMNS: &str = "id, user_id, day, first, last, score, patients, signals, summary";
const ACCESS_COLUMNS: &str =
    "case_id, row, time, user_id, patient_id, action, score, link, reasons";

pub(crate) fn import(
    s: &mut SqliteStore,
    run: &EhrImport,
    a: &AuditRecord,
) -> Result<EhrImportCounts, StoreError> {
    validate_import(run).map_err(StoreError::InvalidInput)?;
    for alert in &run.alerts {
        validate_alert(alert)?;
    }
    let mut encoded = Vec::with_capacity(run.accesses.len());
    for (i, x) in run.accesses.iter().enumerate() {
        let reasons = serde_json::to_string(&x.reasons).map_err(|_| {
            StoreError::InvalidInput(format!("access {i}: reasons cannot be encoded"))
        })?;
        encoded.push(reasons);
    }
    let mut signals = Vec::with_capacity(run.cases.len());
    for (i, c) in run.cases.iter().enumerate() {
        let text = serde_json::to_string(&c.signals).map_err(|_| {
            StoreError::InvalidInput(format!("case {i}: signals cannot be encoded"))
        })?;
        signals.push(text);
    }
    let location = s.location.clone();
    let fail = |e| classify(&location, e);
    let tx = s
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let mut counts = EhrImportCounts {
        alerts: insert_alerts_in(&tx, &location, &run.alerts)? as u64,
        ..EhrImportCounts::default()
    };
    {
        let mut alert_known = tx
            .prepare_cached("SELECT 1 FROM alerts WHERE id = ?1")
            .map_err(fail)?;
        let mut put = tx
            .prepare_cached(&format!(
                "INSERT OR IGNORE INTO ehr_cases ({CASE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .map_err(fail)?;
        for (i, (c, sig)) in run.cases.iter().zip(&signals).enumerate() {
            if !alert_known.exists([&c.id]).map_err(fail)? {
                return Err(StoreError::InvalidInput(format!(
                    "case {i}: its id is not the id of a stored alert"
                )));
            }
            counts.cases += put
                .execute(params![
                    c.id,
                    c.user_id,
                    c.day.0,
                    c.first.0,
                    c.last.0,
                    c.score,
                    i64::from(c.patients),
                    sig,
                    c.summary
                ])
                .map_err(fail)? as u64;
        }
        let mut case_known = tx
            .prepare_cached("SELECT 1 FROM ehr_cases WHERE id = ?1")
            .map_err(fail)?;
        let mut put = tx
            .prepare_cached(&format!(
                "INSERT OR IGNORE INTO ehr_accesses ({ACCESS_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .map_err(fail)?;
        let mut checked: HashSet<&str> = HashSet::new();
        for (i, (x, reasons)) in run.accesses.iter().zip(&encoded).enumerate() {
            if !checked.contains(x.case.as_str()) {
                if !case_known.exists([&x.case]).map_err(fail)? {
                    return Err(StoreError::InvalidInput(format!(
                        "access {i}: its case is not a stored case"
                    )));
                }
                checked.insert(&x.case);
            }
            counts.accesses += put
                .execute(params![
                    x.case,
                    x.row as i64,
                    x.time.0,
                    x.user_id,
                    x.patient_id,
                    x.action,
                    x.score,
                    x.link,
                    reasons
                ])
                .map_err(fail)? as u64;
        }
        let mut put = tx
            .prepare_cached(
                "INSERT OR REPLACE INTO ehr_people (kind, id, name, role, department) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(fail)?;
        for p in &run.people {
            counts.people += put
                .execute(params![p.kind.as_str(), p.id, p.name, p.role, p.department])
                .map_err(fail)? as u64;
        }
    }
    append_in(
        &tx, &location, a.time, &a.actor, &a.action, &a.target, &a.details,
    )?;
    tx.commit().map_err(fail)?;
    Ok(counts)
}

fn bad(s: &SqliteStore, key: String, reason: &str) -> StoreError {
    StoreError::BadRecord {
        location: s.location.clone(),
        key,
        reason: reason.to_owned(),
    }
}

fn decode_case(s: &SqliteStore, r: &Row<'_>) -> Result<EhrCaseRecord, StoreError> {
    let id: String = r.get(0).map_err(|e| s.err(e))?;
    let wrong = || bad(s, format!("ehr case {id}"), "a column has the wrong type");
    let read = || -> rusqlite::Result<(EhrCaseRecord, String)> {
        let case = EhrCaseRecord {
            id: id.clone(),
            user_id: r.get(1)?,
            day: Timestamp(r.get(2)?),
            first: Timestamp(r.get(3)?),
            last: Timestamp(r.get(4)?),
            score: r.get(5)?,
            patients: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(u32::MAX),
            signals: Vec::new(),
            summary: r.get(8)?,
        };
        Ok((case, r.get(7)?))
    };
    let (mut case, signals) = read().map_err(|_| wrong())?;
    case.signals = serde_json::from_str(&signals)
        .map_err(|_| bad(s, format!("ehr case {id}"), "signals are not a JSON list"))?;
    Ok(case)
}

fn decode_access(s: &SqliteStore, r: &Row<'_>) -> Result<EhrAccessRecord, StoreError> {
    let read = || -> rusqlite::Result<EhrAccessRecord> {
        Ok(EhrAccessRecord {
            case: r.get(0)?,
            row: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            time: Timestamp(r.get(2)?),
            user_id: r.get(3)?,
            patient_id: r.get(4)?,
            action: r.get(5)?,
            score: r.get(6)?,
            link: r.get(7)?,
            reasons: Vec::new(),
        })
    };
    let mut x = read().map_err(|_| bad(s, "ehr access".into(), "a column has the wrong type"))?;
    let reasons: String = r.get(8).map_err(|e| s.err(e))?;
    x.reasons = serde_json::from_str::<Vec<EhrReason>>(&reasons).map_err(|_| {
        bad(
            s,
            format!("ehr access row {} of case {}", x.row, x.case),
            "reasons are not a JSON list",
        )
    })?;
    Ok(x)
}

fn since_value(q: &EhrUserQuery) -> i64 {
    q.since.map_or(i64::MIN, |t| t.0)
}

pub(crate) fn count_users(s: &SqliteStore, q: &EhrUserQuery) -> Result<u64, StoreError> {
    validate_user_query(q).map_err(StoreError::InvalidQuery)?;
    let n: i64 = s
        .conn
        .prepare_cached("SELECT count(DISTINCT user_id) FROM ehr_cases WHERE last >= ?1")
        .and_then(|mut st| st.query_row([since_value(q)], |r| r.get(0)))
        .map_err(|e| s.err(e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) fn users(s: &SqliteStore, q: &EhrUserQuery) -> Result<Vec<EhrUserSummary>, StoreError> {
    validate_user_query(q).map_err(StoreError::InvalidQuery)?;
    let since = since_value(q);
    let page: Vec<(String, i64, f64, i64)> = {
        let mut st = s
            .conn
            .prepare_cached(
                "SELECT user_id, count(*), max(score), max(last) FROM ehr_cases \
                 WHERE last >= ?1 GROUP BY user_id \
                 ORDER BY max(score) DESC, user_id LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| s.err(e))?;
        let rows = st
            .query_map(params![since, i64::from(q.limit), q.offset as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(|e| s.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| s.err(e))?
    };
    let mut out = Vec::with_capacity(page.len());
    let mut totals = s
        .conn
        .prepare_cached(
            "SELECT count(*), count(DISTINCT a.patient_id) FROM ehr_accesses a \
             JOIN ehr_cases c ON c.id = a.case_id WHERE c.user_id = ?1 AND c.last >= ?2",
        )
        .map_err(|e| s.err(e))?;
    let mut sigs = s
        .conn
        .prepare_cached("SELECT signals FROM ehr_cases WHERE user_id = ?1 AND last >= ?2")
        .map_err(|e| s.err(e))?;
    for (user_id, cases, max_score, last) in page {
        let (accesses, patients): (i64, i64) = totals
            .query_row(params![user_id, since], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| s.err(e))?;
        let mut signals = BTreeSet::new();
        let rows = sigs
            .query_map(params![user_id, since], |r| r.get::<_, String>(0))
            .map_err(|e| s.err(e))?;
        for text in rows {
            let text = text.map_err(|e| s.err(e))?;
            let list: Vec<String> = serde_json::from_str(&text).map_err(|_| {
                bad(
                    s,
                    format!("ehr cases of user {user_id}"),
                    "signals are not a JSON list",
                )
            })?;
            signals.extend(list);
        }
        out.push(EhrUserSummary {
            user_id,
            cases: u64::try_from(cases).unwrap_or(0),
            accesses: u64::try_from(accesses).unwrap_or(0),
            patients: u64::try_from(patients).unwrap_or(0),
            max_score,
            last: Timestamp(last),
            signals: signals.into_iter().collect(),
        });
    }
    Ok(out)
}

pub(crate) fn timeline(
    s: &SqliteStore,
    user_id: &str,
    limit: u32,
) -> Result<Option<EhrTimeline>, StoreError> {
    if limit == 0 || limit > MAX_EHR_TIMELINE {
        return Err(StoreError::InvalidQuery(format!(
            "timeline limit must be 1 to {MAX_EHR_TIMELINE}"
        )));
    }
    let mut cases = Vec::new();
    {
        let mut st = s
            .conn
            .prepare_cached(&format!(
                "SELECT {CASE_COLUMNS} FROM ehr_cases WHERE user_id = ?1 ORDER BY first, id"
            ))
            .map_err(|e| s.err(e))?;
        let mut rows = st.query([user_id]).map_err(|e| s.err(e))?;
        while let Some(r) = rows.next().map_err(|e| s.err(e))? {
            cases.push(decode_case(s, r)?);
        }
    }
    if cases.is_empty() {
        return Ok(None);
    }
    let mut accesses = Vec::new();
    let mut truncated = false;
    {
        let mut st = s
            .conn
            .prepare_cached(&format!(
                "SELECT {ACCESS_COLUMNS} FROM ehr_accesses WHERE user_id = ?1 \
                 ORDER BY time, row, case_id LIMIT ?2"
            ))
            .map_err(|e| s.err(e))?;
        let mut rows = st
            .query(params![user_id, i64::from(limit) + 1])
            .map_err(|e| s.err(e))?;
        while let Some(r) = rows.next().map_err(|e| s.err(e))? {
            if accesses.len() == limit as usize {
                truncated = true;
                break;
            }
            accesses.push(decode_access(s, r)?);
        }
    }
    Ok(Some(EhrTimeline {
        user_id: user_id.to_owned(),
        cases,
        accesses,
        truncated,
    }))
}

pub(crate) fn people(
    s: &SqliteStore,
    kind: PersonKind,
    ids: &[String],
) -> Result<Vec<EhrPerson>, StoreError> {
    if ids.len() > MAX_EHR_LOOKUP {
        return Err(StoreError::InvalidQuery(format!(
            "at most {MAX_EHR_LOOKUP} ids per names lookup"
        )));
    }
    let mut st = s
        .conn
        .prepare_cached("SELECT name, role, department FROM ehr_people WHERE kind = ?1 AND id = ?2")
        .map_err(|e| s.err(e))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let found: Option<(String, Option<String>, Option<String>)> = st
            .query_row(params![kind.as_str(), id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(|e| s.err(e))?;
        if let Some((name, role, department)) = found {
            out.push(EhrPerson {
                kind,
                id: id.clone(),
                name,
                role,
                department,
            });
        }
    }
    Ok(out)
}
