//! Alert and device routes.

use crate::{ApiError, AppState, Principal, READ_ALERTS};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use ward_core::{Severity, Timestamp};
use ward_store::{AlertCursor, AlertQuery, AlertSort, AlertStatus};

/// Page size of `GET /alerts` when `limit` is absent.
pub const API_DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` accepted by `GET /alerts`.
pub const API_MAX_LIMIT: u32 = 1000;
/// Longest alert id looked up; longer ids are simply not found.
const MAX_ID_LEN: usize = 256;

type Params = Vec<(String, String)>;

/// Parses the query string of `GET /alerts` into a store query and the page size. Every
/// error names the parameter and never echoes its value.
fn parse_params(params: &[(String, String)]) -> Result<(AlertQuery, u32), ApiError> {
    let bad = |name: &str, what: &str| ApiError::BadRequest(format!("parameter {name}: {what}"));
    let mut q = AlertQuery::new();
    let mut limit = API_DEFAULT_LIMIT;
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in params {
        if seen.contains(&name.as_str()) {
            return Err(bad(name, "given more than once"));
        }
        let text = || -> Result<String, ApiError> {
            if value.is_empty() {
                Err(bad(name, "must not be empty"))
            } else if value.len() > ward_store::MAX_TEXT_LEN {
                Err(bad(
                    name,
                    &format!("longer than {} bytes", ward_store::MAX_TEXT_LEN),
                ))
            } else {
                Ok(value.clone())
            }
        };
        let time = || {
            Timestamp::parse_rfc3339(value).ok_or_else(|| {
                bad(
                    name,
                    "expected an RFC 3339 time such as 2026-01-31T12:00:00Z",
                )
            })
        };
        match name.as_str() {
            "severity" => {
                q.min_severity = Some(
                    value
                        .parse::<Severity>()
                        .map_err(|_| bad(name, "expected info, low, medium, high or critical"))?,
                );
            }
            "detector" => q.detector = Some(text()?),
            "entity" => q.entity = Some(text()?),
            "q" => q.text = Some(text()?),
            "from" => q.from = Some(time()?),
            "to" => q.to = Some(time()?),
            "limit" => {
                limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=API_MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad(
                            name,
                            &format!("expected an integer from 1 to {API_MAX_LIMIT}"),
                        )
                    })?;
            }
            "sort" => {
                q.sort = match value.as_str() {
                    "time_desc" => AlertSort::TimeDesc,
                    "time_asc" => AlertSort::TimeAsc,
                    "score_desc" => AlertSort::ScoreDesc,
                    _ => return Err(bad(name, "expected time_desc, time_asc or score_desc")),
                };
            }
            "status" => {
                q.status = Some(
                    value
                        .parse::<AlertStatus>()
                        .map_err(|_| bad(name, "expected open, acknowledged or closed"))?,
                );
            }
            "cursor" => {
                q.after = Some(
                    value
                        .parse::<AlertCursor>()
                        .map_err(|_| bad(name, "malformed; pass next_cursor back unchanged"))?,
                );
            }
            _ => {
                let shown = if name.len() <= 32
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    name.as_str()
                } else {
                    "(unprintable)"
                };
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {shown}: expected severity, detector, entity, q, status, from, to, sort, limit or cursor"
                )));
            }
        }
        seen.push(name);
    }
    Ok((q, limit))
}

/// `GET /api/v1/alerts`: keyset-paged, newest first unless `sort` says otherwise
/// (`time_desc`, `time_asc`, `score_desc`; keep the same sort while following `next_cursor`).
/// `severity` is a minimum; `q` is a case-insensitive substring of the title; `status` is
/// the workflow status; `from` is inclusive and `to` exclusive (RFC 3339).
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Principal,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let Query(params) =
        params.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let (query, limit) = parse_params(&params)?;
    let (mut alerts, total) = state
        .with_store(move |s| {
            // One extra row tells whether another page exists.
            let page = s.query_alerts(&query.clone().limit(limit + 1))?;
            let total = s.count_alerts(&query)?;
            Ok((page, total))
        })
        .await?;
    let next_cursor = if alerts.len() > limit as usize {
        alerts.truncate(limit as usize);
        alerts.last().map(|a| AlertCursor::after(a).to_string())
    } else {
        None
    };
    Ok(Json(
        json!({ "alerts": alerts, "next_cursor": next_cursor, "total": total }),
    ))
}

/// `GET /api/v1/alerts/{id}`: the alert and its workflow state.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(ApiError::NotFound("alert"));
    }
    let found = state
        .with_store(move |s| {
            let Some(alert) = s.get_alert(&id)? else {
                return Ok(None);
            };
            let st = s.alert_state(&id)?.unwrap_or_default();
            Ok(Some((alert, st)))
        })
        .await?;
    let (alert, st) = found.ok_or(ApiError::NotFound("alert"))?;
    Ok(Json(json!({ "alert": alert, "state": st })))
}

/// `GET /api/v1/devices`: the device inventory.
pub(crate) async fn devices(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let devices = state.with_store(|s| s.list_devices()).await?;
    Ok(Json(json!({ "devices": devices })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &[(&str, &str)], expect: Result<(), &str>) {
        let params: Params = query
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        match (parse_params(&params), expect) {
            (Ok(_), Ok(())) => {}
            (Err(ApiError::BadRequest(m)), Err(needle)) => {
                assert!(m.contains(needle), "{query:?}: {m}")
            }
            (got, want) => panic!("{query:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn params_are_checked_and_named() {
        check(&[], Ok(()));
        check(&[("severity", "HIGH"), ("limit", "1000")], Ok(()));
        check(&[("from", "2026-01-01T00:00:00Z"), ("q", "x")], Ok(()));
        check(&[("limit", "abc")], Err("parameter limit"));
        check(&[("limit", "0")], Err("parameter limit"));
        check(&[("limit", "1001")], Err("parameter limit"));
        check(&[("limit", "-1")], Err("parameter limit"));
        check(&[("severity", "urgent")], Err("parameter severity"));
        check(&[("from", "yesterday")], Err("parameter from"));
        check(&[("to", "")], Err("parameter to"));
        check(&[("cursor", "1.2")], Err("parameter cursor"));
        check(&[("q", "")], Err("parameter q"));
        check(&[("q", &"a".repeat(2000))], Err("parameter q"));
        check(&[("q", "a"), ("q", "b")], Err("more than once"));
        check(&[("sort", "score_desc"), ("status", "open")], Ok(()));
        check(&[("sort", "x")], Err("parameter sort"));
        check(&[("status", "done")], Err("parameter status"));
        check(&[("order", "x")], Err("unknown parameter order"));
        check(
            &[("patient name", "x")],
            Err("unknown parameter (unprintable)"),
        );
    }

    #[test]
    fn errors_do_not_echo_values() {
        let params: Params = vec![("severity".into(), "Jane Doe MRN 1234".into())];
        let Err(e) = parse_params(&params) else {
            panic!("accepted")
        };
        assert!(!e.to_string().contains("Jane"), "{e}");
    }
}
