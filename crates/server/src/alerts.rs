//! Alert and device routes.

use crate::{ApiError, AppState, Principal, READ_ALERTS, TRIAGE, body};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ward_core::{Severity, Timestamp};
use ward_store::{AlertCursor, AlertQuery, AlertSort, AlertState, AlertStatus, AuditEntry};

/// Page size of `GET /alerts` when `limit` is absent.
pub const API_DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` accepted by `GET /alerts`.
pub const API_MAX_LIMIT: u32 = 1000;
/// Longest alert id looked up; longer ids are simply not found.
pub(crate) const MAX_ID_LEN: usize = 256;
/// Longest workflow comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// History entries shown on an alert page.
const HISTORY: u32 = 200;

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
                let shown = body::shown_name(name);
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
) -> Result<Response, ApiError> {
    who.require(READ_ALERTS)?;
    let Query(params) =
        params.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let (query, limit) = parse_params(&params)?;
    // The total ignores sort and paging; it is cached per filter until the store changes.
    let key = format!(
        "{:?}",
        AlertQuery {
            sort: AlertSort::default(),
            after: None,
            limit: None,
            offset: 0,
            ..query.clone()
        }
    );
    let cache = state.clone();
    let (mut rows, total) = state
        .read(move |s| {
            // One extra row tells whether another page exists.
            let page = s.query_alerts_raw(&query.clone().limit(limit + 1))?;
            let generation = s.alerts_generation()?;
            let total = match cache.cached_count(&key, generation) {
                Some(n) => n,
                None => {
                    let n = s.count_alerts(&query)?;
                    cache.cache_count(key, generation, n);
                    n
                }
            };
            Ok((page, total))
        })
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        match rows.last() {
            Some(r) => {
                let a: ward_core::Alert =
                    serde_json::from_str(&r.body).map_err(|_| ApiError::Internal)?;
                Some(AlertCursor::after(&a).to_string())
            }
            None => None,
        }
    } else {
        None
    };
    // Alerts pass through as stored: each body gets its state spliced in, no decoding.
    let mut out = String::with_capacity(rows.iter().map(|r| r.body.len() + 64).sum::<usize>() + 64);
    out.push_str("{\"alerts\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        splice_state(&mut out, &r.body, &r.state)?;
    }
    out.push_str("],\"next_cursor\":");
    out.push_str(&serde_json::to_string(&next_cursor).map_err(|_| ApiError::Internal)?);
    out.push_str(",\"total\":");
    out.push_str(&total.to_string());
    out.push('}');
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

/// Appends alert JSON object `body` with `"state":<state>` added as its last member.
fn splice_state(out: &mut String, body: &str, st: &AlertState) -> Result<(), ApiError> {
    let body = body.trim_end();
    let inner = body.strip_suffix('}').ok_or(ApiError::Internal)?.trim_end();
    out.push_str(inner);
    if !inner.ends_with('{') {
        out.push(',');
    }
    out.push_str("\"state\":");
    out.push_str(&serde_json::to_string(st).map_err(|_| ApiError::Internal)?);
    out.push('}');
    Ok(())
}

/// An alert's JSON with its workflow state as one more member, `state`.
pub(crate) fn with_state(a: &ward_core::Alert, st: &AlertState) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(a).map_err(|_| ApiError::Internal)?;
    if let Value::Object(m) = &mut v {
        m.insert(
            "state".into(),
            serde_json::to_value(st).map_err(|_| ApiError::Internal)?,
        );
    }
    Ok(v)
}

/// One step of an alert's history, from its audit entry.
#[derive(Debug, Serialize)]
struct HistoryItem {
    time: Timestamp,
    actor: String,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<Value>,
}

impl From<AuditEntry> for HistoryItem {
    fn from(e: AuditEntry) -> Self {
        let get = |k: &str| e.details.get(k).filter(|v| !v.is_null()).cloned();
        Self {
            comment: get("comment"),
            assignee: get("assignee"),
            resolution: get("resolution"),
            time: e.time,
            actor: e.actor,
            action: e.action,
        }
    }
}

/// `GET /api/v1/alerts/{id}`: the alert, its workflow state, history and cases.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let id = crate::body::path(id, "alert")?;
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(ApiError::NotFound("alert"));
    }
    let found = state
        .read(move |s| {
            let Some(alert) = s.get_alert(&id)? else {
                return Ok(None);
            };
            let st = s.alert_state(&id)?.unwrap_or_default();
            let history = s.audit_for_target(&id, HISTORY)?;
            let cases = s.cases_of_alert(&id)?;
            Ok(Some((alert, st, history, cases)))
        })
        .await?;
    let (alert, st, history, cases) = found.ok_or(ApiError::NotFound("alert"))?;
    let history: Vec<HistoryItem> = history
        .into_iter()
        .filter(|e| e.action.starts_with("alert."))
        .map(HistoryItem::from)
        .collect();
    Ok(Json(
        json!({ "alert": alert, "state": st, "history": history, "cases": cases }),
    ))
}

/// A workflow action on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Acknowledge,
    Assign,
    Close,
    Reopen,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "acknowledge" => Self::Acknowledge,
            "assign" => Self::Assign,
            "close" => Self::Close,
            "reopen" => Self::Reopen,
            _ => return None,
        })
    }

    fn audit_action(self) -> &'static str {
        match self {
            Self::Acknowledge => "alert.acknowledge",
            Self::Assign => "alert.assign",
            Self::Close => "alert.close",
            Self::Reopen => "alert.reopen",
        }
    }
}

/// How an alert was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Resolution {
    TruePositive,
    FalsePositive,
    Benign,
    Duplicate,
}

/// The body of every workflow action; which members are required depends on the action.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActBody {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    resolution: Option<Resolution>,
}

/// The next state for `action` by `user` on an alert in `current`, or why not. Pure, so the
/// workflow rules are tested without a server.
pub(crate) fn transition(
    current: &AlertState,
    action: Action,
    user: &str,
    body: &ActBody,
) -> Result<AlertState, ApiError> {
    let bad = |m: &str| Err(ApiError::BadRequest(m.to_owned()));
    if let Some(c) = &body.comment
        && c.chars().count() > MAX_COMMENT_CHARS
    {
        return bad(&format!(
            "comment is longer than {MAX_COMMENT_CHARS} characters"
        ));
    }
    if action != Action::Assign && body.assignee.is_some() {
        return bad("assignee is only read by assign");
    }
    if action != Action::Close && body.resolution.is_some() {
        return bad("resolution is only read by close");
    }
    let mut next = current.clone();
    match action {
        Action::Acknowledge => {
            if current.status != AlertStatus::Open {
                return Err(ApiError::Conflict(format!(
                    "the alert is {}, only an open alert can be acknowledged",
                    current.status
                )));
            }
            next.status = AlertStatus::Acknowledged;
            if next.assignee.is_none() {
                next.assignee = Some(user.to_owned());
            }
        }
        Action::Assign => {
            let a = body
                .assignee
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| ApiError::BadRequest("assign needs an assignee".into()))?;
            if a.len() > ward_store::MAX_ASSIGNEE_LEN {
                return bad(&format!(
                    "assignee is longer than {} bytes",
                    ward_store::MAX_ASSIGNEE_LEN
                ));
            }
            if current.status == AlertStatus::Closed {
                return Err(ApiError::Conflict(
                    "the alert is closed: reopen it before assigning it".into(),
                ));
            }
            next.assignee = Some(a.to_owned());
        }
        Action::Close => {
            if body.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
                return bad("close needs a comment saying why");
            }
            if body.resolution.is_none() {
                return bad(
                    "close needs a resolution: true_positive, false_positive, benign or duplicate",
                );
            }
            if current.status == AlertStatus::Closed {
                return Err(ApiError::Conflict("the alert is already closed".into()));
            }
            next.status = AlertStatus::Closed;
        }
        Action::Reopen => {
            if current.status != AlertStatus::Closed {
                return Err(ApiError::Conflict(format!(
                    "the alert is {}, only a closed alert can be reopened",
                    current.status
                )));
            }
            next.status = AlertStatus::Open;
        }
    }
    Ok(next)
}

/// `POST /api/v1/alerts/{id}/{acknowledge|assign|close|reopen}`: one audited workflow step.
pub(crate) async fn act(
    State(state): State<AppState>,
    who: Principal,
    id_action: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (id, action) = crate::body::path(id_action, "route")?;
    let action = Action::parse(&action).ok_or(ApiError::NotFound("route"))?;
    who.require(TRIAGE)?;
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(ApiError::NotFound("alert"));
    }
    let b: ActBody = body::json(&headers, &body::bytes(raw)?)?;
    let user = who.user.clone();
    let next = state
        .with_store(move |s| {
            let Some(current) = s.alert_state(&id)? else {
                return Ok(Err(ApiError::NotFound("alert")));
            };
            let next = match transition(&current, action, &user, &b) {
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            let details = json!({
                "from": current.status,
                "to": next.status,
                "comment": b.comment,
                "assignee": next.assignee,
                "resolution": b.resolution,
            });
            let rec = ward_store::AuditRecord::new(
                crate::auth::now(),
                user.as_str(),
                action.audit_action(),
                id.as_str(),
                details,
            );
            if !s.update_alert_state(&id, &next, &rec)? {
                return Ok(Err(ApiError::NotFound("alert")));
            }
            Ok(Ok(next))
        })
        .await??;
    Ok(Json(json!({ "state": next })))
}

/// `GET /api/v1/devices`: the device inventory.
pub(crate) async fn devices(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_ALERTS)?;
    let devices = state.read(|s| s.list_devices()).await?;
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

#[cfg(test)]
mod splice_tests {
    use super::*;

    #[test]
    fn state_is_spliced_into_the_object() {
        let st = AlertState::default();
        let mut out = String::new();
        splice_state(&mut out, "{\"id\":\"a\"}\n", &st).expect("splice");
        let v: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["id"], "a");
        assert_eq!(v["state"]["status"], "open");
        let mut out = String::new();
        splice_state(&mut out, "{ }", &st).expect("splice");
        let v: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["state"]["status"], "open");
        assert!(splice_state(&mut String::new(), "[1]", &st).is_err());
    }
}
