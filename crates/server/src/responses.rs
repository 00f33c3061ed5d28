//! The response queue (`ward-respond`'s jobs): the list and one job with its audit history,
//! and the approve / reject decisions of a human approver.
//!
//! **Who may read.** admin, analyst, auditor, clinical_engineer and privacy_officer
//! ([`READ_RESPONSES`]). Viewers get 403: a job's action carries internal addresses, URLs and
//! program paths, which a read-only dashboard role does not need.
//!
//! **Who may decide.** Any signed-in caller may ask, but only a role listed in the job's
//! `approval.roles` is let through, with no administrator override: a step that would isolate
//! or disrupt a life-sustaining or life-supporting device asks for a clinical role, and an
//! administrator who is not in that list gets 403 like anyone else. The verdict, the job's
//! new state and the audit entry (`respond.approve` / `respond.reject`, details: the job's key,
//! the comment and `via: "api"`) are written in one store transaction. A request that comes
//! after the approval expired changes nothing the approver asked for: the store expires the
//! job first (audited as `respond.approval_expired`) and the answer is 409.
//!
//! **What is shown.** A job as the store keeps it, except that a webhook's header values and
//! the credentials and query of its URL are replaced by `…` (they may hold secrets).

use crate::cases::get;
use crate::{ApiError, AppState, Principal, body};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use ward_store::respond::{MAX_JOB_PAGE, MAX_JOB_TEXT};
use ward_store::{AuditEntry, Decided, Job, JobQuery, JobState, Role, Verdict};

/// Who may read the response queue.
pub const READ_RESPONSES: &[Role] = &[
    Role::Admin,
    Role::Analyst,
    Role::Auditor,
    Role::ClinicalEngineer,
    Role::PrivacyOfficer,
];

/// Longest accepted decision comment, in bytes (the CLI's limit too).
pub const MAX_DECISION_COMMENT: usize = 1000;

/// Page size of `GET /responses` when `limit` is absent.
const DEFAULT_JOBS: u32 = 50;
/// Most audit entries shown with one job.
const MAX_JOB_HISTORY: u32 = 1000;
/// What replaces a hidden value.
const HIDDEN: &str = "…";

type Params = Vec<(String, String)>;

/// The filters of the list: `state` may repeat (or be a comma list); the others may not.
fn list_query(raw: Result<Query<Params>, QueryRejection>) -> Result<JobQuery, ApiError> {
    const KNOWN: [&str; 4] = ["state", "alert", "limit", "before"];
    let Query(p) = raw.map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    for (i, (name, _)) in p.iter().enumerate() {
        if !KNOWN.contains(&name.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "unknown parameter {}: expected {}",
                body::shown_name(name),
                KNOWN.join(", ")
            )));
        }
        if name != "state" && p.iter().skip(i + 1).any(|(n, _)| n == name) {
            return Err(ApiError::BadRequest(format!(
                "parameter {name}: given more than once"
            )));
        }
    }
    let mut states = Vec::new();
    for v in p.iter().filter(|(n, _)| n == "state").map(|(_, v)| v) {
        for s in v.split(',').map(str::trim) {
            let st = JobState::parse(s).ok_or_else(|| {
                let all: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::BadRequest(format!("parameter state: expected {}", all.join(", ")))
            })?;
            if !states.contains(&st) {
                states.push(st);
            }
        }
    }
    let alert_id = match get(&p, "alert") {
        Some(a) if a.is_empty() || a.len() > MAX_JOB_TEXT => {
            return Err(ApiError::BadRequest(format!(
                "parameter alert: expected an alert id of 1 to {MAX_JOB_TEXT} bytes"
            )));
        }
        a => a.map(str::to_owned),
    };
    let limit = match get(&p, "limit") {
        None => DEFAULT_JOBS,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_JOB_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "parameter limit: expected an integer from 1 to {MAX_JOB_PAGE}"
                ))
            })?,
    };
    let before_id = get(&p, "before")
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n >= 1 && i64::try_from(*n).is_ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "parameter before: expected a job id (a positive integer)".into(),
                    )
                })
        })
        .transpose()?;
    Ok(JobQuery {
        states,
        alert_id,
        limit,
        before_id,
    })
}

/// A URL without its user name, password and query: `https://…@host/path?…`.
fn hide_url_secrets(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (main, query) = match rest.split_once(['?', '#']) {
        Some((m, _)) => (m, true),
        None => (rest, false),
    };
    let (host, path) = match main.find('/') {
        Some(i) => main.split_at(i),
        None => (main, ""),
    };
    let host = match host.rsplit_once('@') {
        Some((_, h)) => format!("{HIDDEN}@{h}"),
        None => host.to_owned(),
    };
    let sep = if scheme.is_empty() { "" } else { "://" };
    let q = if query {
        format!("?{HIDDEN}")
    } else {
        String::new()
    };
    format!("{scheme}{sep}{host}{path}{q}")
}

/// A job as the API shows it (see the module documentation).
pub(crate) fn shown(job: &Job) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(job).map_err(|_| ApiError::Internal)?;
    if let Some(hook) = v.pointer_mut("/action/webhook") {
        if let Some(Value::Object(headers)) = hook.get_mut("headers") {
            for value in headers.values_mut() {
                *value = json!(HIDDEN);
            }
        }
        if let Some(Value::String(url)) = hook.get_mut("url") {
            *url = hide_url_secrets(url);
        }
    }
    Ok(v)
}

fn entry(e: &AuditEntry) -> Value {
    json!({
        "seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action, "details": e.details,
    })
}

/// `GET /api/v1/responses[?state&alert&limit&before]`: jobs, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Principal,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_RESPONSES)?;
    let query = list_query(q)?;
    let (jobs, more) = state
        .read(move |s| {
            let jobs = s.list_jobs(&query)?;
            // One more exists when a page of one before the last job is not empty.
            let more = match jobs.last() {
                Some(last) if jobs.len() == query.limit as usize => !s
                    .list_jobs(&JobQuery {
                        limit: 1,
                        before_id: Some(last.id),
                        ..query
                    })?
                    .is_empty(),
                _ => false,
            };
            Ok((jobs, more))
        })
        .await?;
    let next = if more {
        jobs.last().map(|j| j.id)
    } else {
        None
    };
    let jobs: Vec<Value> = jobs.iter().map(shown).collect::<Result<_, _>>()?;
    Ok(Json(
        json!({ "jobs": jobs, "next_before": next, "now": crate::now() }),
    ))
}

/// The job id of a path: a decimal id, else 404 (no job can have that name).
fn job_id(raw: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let id = body::path(raw, "response")?;
    id.parse::<u64>()
        .ok()
        .filter(|n| *n >= 1 && i64::try_from(*n).is_ok())
        .ok_or(ApiError::NotFound("response"))
}

/// `GET /api/v1/responses/{id}`: one job and its audit entries, oldest first.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_RESPONSES)?;
    let id = job_id(id)?;
    let found = state
        .read(move |s| {
            let Some(job) = s.get_job(id)? else {
                return Ok(None);
            };
            let history = s.audit_for_target(&format!("job-{id}"), MAX_JOB_HISTORY)?;
            Ok(Some((job, history)))
        })
        .await?;
    let (job, history) = found.ok_or(ApiError::NotFound("response"))?;
    let history: Vec<Value> = history.iter().map(entry).collect();
    Ok(Json(json!({
        "job": shown(&job)?, "history": history, "now": crate::now(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    #[serde(default)]
    comment: String,
}

/// The roles a job's approval asks for.
fn approver_roles(job: &Job) -> Vec<String> {
    job.approval
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn not_awaiting(id: u64, st: JobState) -> ApiError {
    ApiError::Conflict(format!(
        "job {id} is {}, not waiting for an approval",
        st.as_str()
    ))
}

/// `POST /api/v1/responses/{id}/approve` and `/reject` (`{"comment"?}`).
async fn decide(
    state: AppState,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
    verdict: Verdict,
) -> Result<Json<Value>, ApiError> {
    let id = job_id(id)?;
    let b: DecisionBody = body::json(&headers, &body::bytes(raw)?)?;
    if b.comment.len() > MAX_DECISION_COMMENT {
        return Err(ApiError::BadRequest(format!(
            "comment: at most {MAX_DECISION_COMMENT} bytes"
        )));
    }
    let job = state
        .read(move |s| s.get_job(id))
        .await?
        .ok_or(ApiError::NotFound("response"))?;
    let roles = approver_roles(&job);
    if roles.is_empty() {
        // The job never asked for an approval; say so only to those who may read it.
        who.require(READ_RESPONSES)?;
        return Err(not_awaiting(id, job.state));
    }
    if !roles.iter().any(|r| r == who.role.as_str()) {
        return Err(ApiError::Denied(format!(
            "job {id} needs the decision of a {} (your role is {}){}",
            roles.join(" or "),
            who.role.as_str(),
            if job.approval.get("clinical") == Some(&Value::Bool(true)) {
                ": it would act on a life-sustaining or life-supporting device"
            } else {
                ""
            }
        )));
    }
    if job.state != JobState::AwaitingApproval {
        return Err(not_awaiting(id, job.state));
    }
    let action = match verdict {
        Verdict::Approve => "respond.approve",
        Verdict::Reject => "respond.reject",
    };
    let rec = who.audit(
        action,
        "",
        json!({ "key": job.key, "comment": b.comment, "via": "api" }),
    );
    let decision = json!({
        "by": who.user, "role": who.role.as_str(), "comment": b.comment,
        "via": "api", "time": rec.time,
    });
    let out = state
        .with_store(move |s| s.decide_job(id, verdict, &decision, &rec))
        .await?;
    match out {
        Decided::Done(j) => Ok(Json(json!({ "job": shown(&j)? }))),
        Decided::NotFound => Err(ApiError::NotFound("response")),
        Decided::NotAwaiting(st) => Err(not_awaiting(id, st)),
        Decided::Expired(j) => Err(ApiError::Conflict(if j.state == JobState::Pending {
            format!(
                "the approval of job {id} had expired: your decision was not recorded, and its \
                 playbook lets it run without one, so it is now pending"
            )
        } else {
            format!(
                "the approval of job {id} had expired: your decision was not recorded and \
                 nothing was done; the job is now {}",
                j.state.as_str()
            )
        })),
    }
}

/// `POST /api/v1/responses/{id}/approve`.
pub(crate) async fn approve(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    decide(state, who, id, headers, raw, Verdict::Approve).await
}

/// `POST /api/v1/responses/{id}/reject`.
pub(crate) async fn reject(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    decide(state, who, id, headers, raw, Verdict::Reject).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_secrets_are_hidden() {
        for (url, want) in [
            ("https://soc.example/hook", "https://soc.example/hook"),
            (
                "https://user:pw@soc.example/hook?token=abc",
                "https://…@soc.example/hook?…",
            ),
            ("http://h:8080?x=1#f", "http://h:8080?…"),
            ("http://a@b@c/p", "http://…@c/p"),
            ("no scheme@host", "…@host"),
            ("", ""),
        ] {
            assert_eq!(hide_url_secrets(url), want, "{url}");
        }
    }
}
