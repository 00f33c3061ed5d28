//! Cases, statistics and the audit trail routes.

use crate::alerts::{MAX_ID_LEN, with_state};
use crate::{ApiError, AppState, Principal, READ_ALERTS, READ_AUDIT, TRIAGE, body};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use ward_core::Timestamp;
use ward_store::CaseStatus;

type Params = Vec<(String, String)>;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

/// Rejects repeated and unknown parameters, naming them (never echoing values).
pub(crate) fn params(
    raw: Result<Query<Params>, QueryRejection>,
    known: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let Query(p) = raw.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &p {
        if !known.contains(&name.as_str()) {
            let shown = body::shown_name(name);
            return Err(ApiError::BadRequest(format!(
                "unknown parameter {shown}: expected {}",
                known.join(", ")
            )));
        }
        if seen.contains(&name.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "parameter {name}: given more than once"
            )));
        }
        seen.push(known.iter().copied().find(|k| k == name).unwrap_or(""));
    }
    Ok(p)
}

pub(crate) fn get<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn check_case_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 32 {
        return Err(ApiError::NotFound("case"));
    }
    Ok(())
}

/// `GET /api/v1/cases[?status=open|closed]`.
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Principal,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let p = params(q, &["status"])?;
    let status = match get(&p, "status") {
        Some(s) => Some(s.parse::<CaseStatus>().map_err(|_| {
            ApiError::BadRequest("parameter status: expected open or closed".into())
        })?),
        None => None,
    };
    let cases = state.read(move |s| s.list_cases(status)).await?;
    Ok(Json(json!({ "cases": cases })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCase {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    alert_ids: Vec<String>,
}

/// `POST /api/v1/cases`: opens a case with some alerts (audited `case.create`).
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(TRIAGE)?;
    let b: NewCase = body::json(&headers, &body::bytes(raw)?)?;
    let rec = who.audit(
        "case.create",
        "",
        json!({ "alerts": b.alert_ids.len(), "title_chars": b.title.chars().count() }),
    );
    let case = state
        .with_store(move |s| s.create_case(b.title.trim(), &b.description, &b.alert_ids, &rec))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "case": case }))))
}

/// `GET /api/v1/cases/{id}`: the case and its alerts (with their states).
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let id = crate::body::path(id, "case")?;
    check_case_id(&id)?;
    let found = state
        .read(move |s| {
            let Some(case) = s.get_case(&id)? else {
                return Ok(None);
            };
            let mut alerts = Vec::new();
            for a in s.case_alerts(&id)? {
                let st = s.alert_state(&a.id)?.unwrap_or_default();
                alerts.push((a, st));
            }
            Ok(Some((case, alerts)))
        })
        .await?;
    let (case, alerts) = found.ok_or(ApiError::NotFound("case"))?;
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(a, st)| with_state(a, st))
        .collect::<Result<_, _>>()?;
    Ok(Json(json!({ "case": case, "alerts": alerts })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddAlerts {
    alert_ids: Vec<String>,
}

/// `POST /api/v1/cases/{id}/alerts` (audited `case.add_alerts`).
pub(crate) async fn add_alerts(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(TRIAGE)?;
    let id = crate::body::path(id, "case")?;
    check_case_id(&id)?;
    let b: AddAlerts = body::json(&headers, &body::bytes(raw)?)?;
    if b.alert_ids.is_empty() {
        return Err(ApiError::BadRequest("alert_ids must not be empty".into()));
    }
    if b.alert_ids
        .iter()
        .any(|a| a.is_empty() || a.len() > MAX_ID_LEN)
    {
        return Err(ApiError::BadRequest(format!(
            "every alert id must be 1 to {MAX_ID_LEN} bytes"
        )));
    }
    let rec = who.audit("case.add_alerts", &id, json!({ "alert_ids": b.alert_ids }));
    let case = state
        .with_store(move |s| s.add_case_alerts(&id, &b.alert_ids, &rec))
        .await?;
    Ok(Json(
        json!({ "case": case.ok_or(ApiError::NotFound("case"))? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseCase {
    comment: String,
}

/// `POST /api/v1/cases/{id}/close` (audited `case.close`, with the comment).
pub(crate) async fn close(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(TRIAGE)?;
    let id = crate::body::path(id, "case")?;
    check_case_id(&id)?;
    let b: CloseCase = body::json(&headers, &body::bytes(raw)?)?;
    if b.comment.trim().is_empty() || b.comment.chars().count() > crate::alerts::MAX_COMMENT_CHARS {
        return Err(ApiError::BadRequest(format!(
            "comment must be 1 to {} characters",
            crate::alerts::MAX_COMMENT_CHARS
        )));
    }
    let rec = who.audit("case.close", &id, json!({ "comment": b.comment }));
    let case = state
        .with_store(move |s| {
            match s.get_case(&id)? {
                Some(c) if c.status == CaseStatus::Closed => return Ok(Err(())),
                Some(_) => {}
                None => return Ok(Ok(None)),
            }
            s.set_case_status(&id, CaseStatus::Closed, &rec).map(Ok)
        })
        .await?
        .map_err(|()| ApiError::Conflict("the case is already closed".into()))?;
    Ok(Json(
        json!({ "case": case.ok_or(ApiError::NotFound("case"))? }),
    ))
}

/// `GET /api/v1/stats[?from&to&bucket=hour|day]`: alert counts over time for the overview.
/// Without `from`/`to`, the 24 hours (hourly) or 30 days (daily) up to the newest alert.
pub(crate) async fn stats(
    State(state): State<AppState>,
    who: Principal,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let p = params(q, &["from", "to", "bucket"])?;
    let (bucket, name) = match get(&p, "bucket") {
        None | Some("hour") => (HOUR, "hour"),
        Some("day") => (DAY, "day"),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "parameter bucket: expected hour or day".into(),
            ));
        }
    };
    let time = |n: &str| -> Result<Option<Timestamp>, ApiError> {
        get(&p, n)
            .map(|v| {
                Timestamp::parse_rfc3339(v).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "parameter {n}: expected an RFC 3339 time such as 2026-01-31T12:00:00Z"
                    ))
                })
            })
            .transpose()
    };
    let (from, to) = (time("from")?, time("to")?);
    let span = if bucket == HOUR { DAY } else { 30 * DAY };
    let out = state
        .read(move |s| {
            let (from, to) = match (from, to) {
                (Some(f), Some(t)) => (f, t),
                (Some(f), None) => (f, Timestamp(f.0.saturating_add(span))),
                (None, Some(t)) => (Timestamp(t.0.saturating_sub(span)), t),
                (None, None) => {
                    let end = s.latest_alert_time()?.unwrap_or_else(crate::auth::now);
                    // End on the bucket boundary after the newest alert.
                    let to = Timestamp((end.0.div_euclid(bucket) + 1).saturating_mul(bucket));
                    (Timestamp(to.0.saturating_sub(span)), to)
                }
            };
            s.alert_stats(from, to, bucket)
        })
        .await?;
    let mut v = serde_json::to_value(&out).map_err(|_| ApiError::Internal)?;
    if let Value::Object(m) = &mut v {
        m.remove("bucket_micros");
        m.insert("bucket".into(), json!(name));
        m.insert("pipeline".into(), state.pipeline_json());
    }
    Ok(Json(v))
}

/// `GET /api/v1/audit[?from_seq=1&limit=100]`: the audit trail, oldest first.
pub(crate) async fn audit(
    State(state): State<AppState>,
    who: Principal,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_AUDIT)?;
    let p = params(q, &["from_seq", "limit"])?;
    let from = match get(&p, "from_seq") {
        Some(v) => v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::BadRequest("parameter from_seq: expected a positive integer".into())
        })?,
        None => 1,
    };
    let limit = match get(&p, "limit") {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest("parameter limit: expected an integer from 1 to 1000".into())
            })?,
        None => 100,
    };
    let entries = state.read(move |s| s.list_audit(from, limit + 1)).await?;
    let mut entries = entries;
    let next = if entries.len() > limit as usize {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.seq + 1)
    } else {
        None
    };
    Ok(Json(json!({ "entries": entries, "next": next })))
}
