//! The privacy officer's view of EHR-snooping cases (stored by `ward ehr detect --store`):
//! users with cases, ranked by score, and one user's timeline of flagged accesses with the
//! reasons for each.
//!
//! **Who may read.** admin, privacy_officer and auditor ([`READ_PRIVACY`]). Which staff member
//! opened which patient's record is itself protected information (patient ids, staff
//! behaviour under HR review), so the analyst and viewer roles, who work network alerts,
//! get 403.
//!
//! **Names.** Only the privacy_officer role sees names (the user's name, role and department;
//! the patients' names). Every response that carries them appends one audit entry
//! (`privacy.view_names`, with counts, never the names) and the entry is committed before
//! the response is built: if the audit write fails the request fails with 500 and no name
//! leaves the server. Everyone else gets ids only; the name fields are absent.

use crate::cases::{get, params};
use crate::{ApiError, AppState, Principal};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use ward_core::Timestamp;
use ward_store::ehr::{MAX_EHR_ID_LEN, MAX_EHR_PAGE, MAX_EHR_TIMELINE};
use ward_store::{EhrPerson, EhrUserQuery, PersonKind, Role};

/// Who may read the privacy view.
pub const READ_PRIVACY: &[Role] = &[Role::Admin, Role::PrivacyOfficer, Role::Auditor];
/// Who sees names in it (every such response is audited).
pub const SEE_NAMES: &[Role] = &[Role::PrivacyOfficer];

/// Page size of `GET /privacy/users` when `limit` is absent.
const DEFAULT_USERS: u32 = 100;
/// Flagged accesses of a timeline when `limit` is absent.
const DEFAULT_TIMELINE: u32 = 1_000;
/// Largest accepted `offset`.
const MAX_OFFSET: u64 = 1_000_000;

type Params = Vec<(String, String)>;

fn int_param<T: std::str::FromStr + PartialOrd>(
    p: &[(String, String)],
    name: &str,
    min: T,
    max: T,
    default: T,
    shown: &str,
) -> Result<T, ApiError> {
    match get(p, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .ok()
            .filter(|n| *n >= min && *n <= max)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("parameter {name}: expected an integer {shown}"))
            }),
    }
}

/// Adds `name`, `role` and `department` of `person` (null when unknown) to `obj`.
fn add_user_names(obj: &mut Map<String, Value>, person: Option<&EhrPerson>) {
    obj.insert("name".into(), json!(person.map(|p| &p.name)));
    obj.insert("role".into(), json!(person.and_then(|p| p.role.as_ref())));
    obj.insert(
        "department".into(),
        json!(person.and_then(|p| p.department.as_ref())),
    );
}

/// Appends the audit entry of a names view; the caller sends names only after this succeeds.
async fn audit_names(
    state: &AppState,
    who: &Principal,
    target: String,
    details: Value,
) -> Result<(), ApiError> {
    let rec = who.audit("privacy.view_names", &target, details);
    state
        .with_store(move |s| {
            s.append_audit(rec.time, &rec.actor, &rec.action, &rec.target, &rec.details)
        })
        .await
        .map(|_| ())
}

/// `GET /api/v1/privacy/users[?since&limit&offset]`: users with stored EHR cases, ranked by
/// their highest case score.
pub(crate) async fn users(
    State(state): State<AppState>,
    who: Principal,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_PRIVACY)?;
    let p = params(q, &["since", "limit", "offset"])?;
    let since = get(&p, "since")
        .map(|v| {
            Timestamp::parse_rfc3339(v).ok_or_else(|| {
                ApiError::BadRequest(
                    "parameter since: expected an RFC 3339 time such as 2026-01-31T12:00:00Z"
                        .into(),
                )
            })
        })
        .transpose()?;
    let limit = int_param(
        &p,
        "limit",
        1,
        MAX_EHR_PAGE,
        DEFAULT_USERS,
        &format!("from 1 to {MAX_EHR_PAGE}"),
    )?;
    let offset = int_param(
        &p,
        "offset",
        0,
        MAX_OFFSET,
        0,
        &format!("from 0 to {MAX_OFFSET}"),
    )?;
    let names = who.require(SEE_NAMES).is_ok();
    let query = EhrUserQuery {
        since,
        limit,
        offset,
    };
    let (page, total, people) = state
        .read(move |s| {
            let page = s.ehr_users(&query)?;
            let total = s.count_ehr_users(&query)?;
            let people = if names {
                let ids: Vec<String> = page.iter().map(|u| u.user_id.clone()).collect();
                s.ehr_people(PersonKind::User, &ids)?
            } else {
                Vec::new()
            };
            Ok((page, total, people))
        })
        .await?;
    let by_id: HashMap<&str, &EhrPerson> = people.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut users = Vec::with_capacity(page.len());
    for u in &page {
        let mut v = serde_json::to_value(u).map_err(|_| ApiError::Internal)?;
        if names && let Value::Object(m) = &mut v {
            add_user_names(m, by_id.get(u.user_id.as_str()).copied());
        }
        users.push(v);
    }
    if names {
        audit_names(
            &state,
            &who,
            "privacy:users".into(),
            json!({ "users": page.len(), "user_names": people.len(), "patient_names": 0 }),
        )
        .await?;
    }
    let shown = offset + page.len() as u64;
    let next = (shown < total).then_some(shown);
    Ok(Json(
        json!({ "users": users, "total": total, "next_offset": next, "names": names }),
    ))
}

/// `GET /api/v1/privacy/users/{user_id}[?limit]`: the user's cases and flagged accesses in
/// time order, each with its reasons and case.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(READ_PRIVACY)?;
    let user_id = crate::body::path(id, "user")?;
    if user_id.is_empty() || user_id.len() > MAX_EHR_ID_LEN {
        return Err(ApiError::NotFound("user"));
    }
    let p = params(q, &["limit"])?;
    let limit = int_param(
        &p,
        "limit",
        1,
        MAX_EHR_TIMELINE,
        DEFAULT_TIMELINE,
        &format!("from 1 to {MAX_EHR_TIMELINE}"),
    )?;
    let names = who.require(SEE_NAMES).is_ok();
    let found = state
        .read(move |s| {
            let Some(t) = s.ehr_timeline(&user_id, limit)? else {
                return Ok(None);
            };
            let (user, patients) = if names {
                let user = s
                    .ehr_people(PersonKind::User, std::slice::from_ref(&t.user_id))?
                    .into_iter()
                    .next();
                let ids: Vec<String> = t
                    .accesses
                    .iter()
                    .map(|a| a.patient_id.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                (user, s.ehr_people(PersonKind::Patient, &ids)?)
            } else {
                (None, Vec::new())
            };
            Ok(Some((t, user, patients)))
        })
        .await?;
    let (t, user, patients) = found.ok_or(ApiError::NotFound("user"))?;
    let mut head = Map::new();
    head.insert("user_id".into(), json!(t.user_id));
    if names {
        add_user_names(&mut head, user.as_ref());
    }
    let by_id: HashMap<&str, &str> = patients
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let mut accesses = Vec::with_capacity(t.accesses.len());
    for a in &t.accesses {
        let mut v = serde_json::to_value(a).map_err(|_| ApiError::Internal)?;
        if let Value::Object(m) = &mut v {
            m.remove("user_id");
            if names {
                m.insert(
                    "patient_name".into(),
                    json!(by_id.get(a.patient_id.as_str())),
                );
            }
        }
        accesses.push(v);
    }
    if names {
        audit_names(
            &state,
            &who,
            format!("user:{}", t.user_id),
            json!({
                "user_name": user.is_some(),
                "patient_names": patients.len(),
                "accesses": t.accesses.len(),
            }),
        )
        .await?;
    }
    Ok(Json(json!({
        "user": head,
        "cases": t.cases,
        "accesses": accesses,
        "truncated": t.truncated,
        "names": names,
    })))
}
