//! The response queue routes: the list and one job, approve and reject with the job's
//! roles (no administrator override on a clinical step), expiry, CSRF, and one audit entry per
//! decision.

use super::{Fixture, error_message, fixture, get, send};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use ward_core::Timestamp;
use ward_store::{Attempt, AuditRecord, JobState, NewJob, Role};

const MINUTE: i64 = 60_000_000;

/// The jobs of the fixture, by the id the store gives them (enqueued in this order).
const CLINICAL: u64 = 1;
const ANALYST: u64 = 2;
const SUCCEEDED: u64 = 3;
const FAILED: u64 = 4;
const SKIPPED: u64 = 5;
const STALE: u64 = 6;
const TO_REJECT: u64 = 7;
const BY_COOKIE: u64 = 8;
const ALL: [u64; 8] = [8, 7, 6, 5, 4, 3, 2, 1];

fn job(n: u64, alert: &str, state: JobState, roles: &[&str], expires: Option<Timestamp>) -> NewJob {
    let clinical = roles.contains(&"clinical_engineer");
    let approval = if roles.is_empty() {
        Value::Null
    } else {
        json!({
            "roles": roles, "clinical": clinical, "proceed_on_timeout": false,
            "timeout_minutes": 30, "reason": if clinical { "life-sustaining device" } else { "containment" },
        })
    };
    let action = if n == ANALYST {
        json!({ "webhook": {
            "url": "https://user:pw@soc.example/hook?token=s3cret",
            "secret_env": "WARD_HOOK_KEY",
            "headers": { "Authorization": "Bearer s3cret" },
        }})
    } else {
        json!({ "firewall": { "address": "10.0.0.9" } })
    };
    NewJob {
        key: format!("key-{n}"),
        alert_id: alert.to_owned(),
        playbook: "contain".into(),
        step: format!("step-{n}"),
        entity: "device:10.0.0.9".into(),
        kind: if n == ANALYST { "webhook" } else { "firewall" }.into(),
        action,
        effect: "contain".into(),
        state,
        approval,
        expires_at: expires,
        max_attempts: 3,
        timeout_secs: 10,
        result: if state == JobState::Skipped {
            json!({ "skipped": "rate limit" })
        } else {
            Value::Null
        },
        rollback_of: None,
    }
}

/// The common fixture plus eight jobs: two awaiting a clinical or an analyst approval, one
/// succeeded, one failed, one skipped, one whose approval expired, two more awaiting an
/// analyst.
async fn with_jobs() -> Fixture {
    let f = fixture();
    let now = ward_server::now();
    let later = Some(Timestamp(now.0 + 60 * MINUTE));
    let past = Some(Timestamp(now.0 - MINUTE));
    f.state
        .with_store(move |s| {
            let t = Timestamp(now.0 - 10 * MINUTE);
            use JobState::{AwaitingApproval, Pending, Skipped};
            let mut enqueue = |j: NewJob| s.enqueue_jobs(&[j], t, "engine").map(|_| ());
            enqueue(job(
                1,
                "al-a",
                AwaitingApproval,
                &["clinical_engineer"],
                later,
            ))?;
            enqueue(job(2, "al-a", AwaitingApproval, &["analyst"], later))?;
            for (n, attempt) in [
                (3, Attempt::Succeeded(json!({ "summary": "blocked" }))),
                (4, Attempt::Failed(json!({ "error": "refused" }))),
            ] {
                s.enqueue_jobs(&[job(n, "al-b", Pending, &[], None)], t, "engine")?;
                let claimed = s.claim_jobs(t, MINUTE, 10)?;
                assert_eq!(claimed.len(), 1);
                let rec = AuditRecord::new(t, "engine", "respond.run", "", json!({}));
                s.finish_job(n, &attempt, &rec)?;
            }
            let mut enqueue = |j: NewJob| s.enqueue_jobs(&[j], t, "engine").map(|_| ());
            enqueue(job(5, "al-b", Skipped, &[], None))?;
            enqueue(job(6, "al-a", AwaitingApproval, &["analyst"], past))?;
            enqueue(job(7, "al-c", AwaitingApproval, &["analyst"], later))?;
            enqueue(job(
                8,
                "al-c",
                AwaitingApproval,
                &["analyst", "admin"],
                later,
            ))?;
            Ok(())
        })
        .await
        .expect("jobs");
    f
}

fn auth(f: &Fixture, role: Role) -> String {
    let t = &f.tokens.iter().find(|(r, _)| *r == role).expect("role").1;
    format!("Bearer {t}")
}

async fn decide(f: &Fixture, role: Role, id: &str, verb: &str, body: &str) -> (StatusCode, Value) {
    let req = Request::post(format!("/api/v1/responses/{id}/{verb}"))
        .header(header::AUTHORIZATION, auth(f, role))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let (s, v, _) = send(&f.app, req).await;
    (s, v)
}

async fn audit_len(f: &Fixture) -> u64 {
    f.state
        .read(|s| s.audit_head())
        .await
        .expect("head")
        .map_or(0, |e| e.seq)
}

async fn last_audit(f: &Fixture) -> ward_store::AuditEntry {
    f.state
        .read(|s| s.audit_head())
        .await
        .expect("head")
        .expect("an entry")
}

async fn job_state(f: &Fixture, id: u64) -> JobState {
    f.state
        .read(move |s| s.get_job(id))
        .await
        .expect("get")
        .expect("job")
        .state
}

fn ids(v: &Value) -> Vec<u64> {
    v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["id"].as_u64().expect("id"))
        .collect()
}

#[tokio::test]
async fn decisions_need_a_role_the_job_names_and_each_is_one_audit_entry() {
    let f = with_jobs().await;
    let start = audit_len(&f).await;
    let c = &CLINICAL.to_string();

    // No administrator override on a clinical step; other roles neither.
    for role in [
        Role::Admin,
        Role::Analyst,
        Role::Viewer,
        Role::PrivacyOfficer,
    ] {
        for verb in ["approve", "reject"] {
            let (s, v) = decide(&f, role, c, verb, "{}").await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} {verb}: {v}");
            let msg = error_message(&v, "forbidden");
            assert!(msg.contains("clinical_engineer"), "{msg}");
            assert!(msg.contains("life-sustaining"), "{msg}");
        }
    }
    assert_eq!(audit_len(&f).await, start, "refusals change nothing");
    assert_eq!(job_state(&f, CLINICAL).await, JobState::AwaitingApproval);

    // The clinical engineer approves: the job is pending, with the decision on it.
    let (s, v) = decide(
        &f,
        Role::ClinicalEngineer,
        c,
        "approve",
        r#"{"comment":"pump is on bypass"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["state"], "pending");
    let d = &v["job"]["approval"]["decision"];
    assert_eq!(d["by"], "u_clinical_engineer");
    assert_eq!(d["role"], "clinical_engineer");
    assert_eq!(d["comment"], "pump is on bypass");
    assert_eq!(d["via"], "api");
    assert!(d["time"].is_string(), "{d}");
    assert_eq!(audit_len(&f).await, start + 1);
    let e = last_audit(&f).await;
    assert_eq!(
        (e.action.as_str(), e.target.as_str(), e.actor.as_str()),
        ("respond.approve", "job-1", "u_clinical_engineer")
    );
    assert_eq!(
        e.details,
        json!({ "key": "key-1", "comment": "pump is on bypass", "via": "api" })
    );

    // A second decision on the same job: 409, saying its state; nothing written.
    for verb in ["approve", "reject"] {
        let (s, v) = decide(&f, Role::ClinicalEngineer, c, verb, "{}").await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert!(error_message(&v, "conflict").contains("is pending"), "{v}");
    }
    assert_eq!(audit_len(&f).await, start + 1);

    // An analyst step: the analyst approves (empty body allowed), and rejects another.
    let (s, v) = decide(&f, Role::Analyst, &ANALYST.to_string(), "approve", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["state"], "pending");
    let (s, v) = decide(
        &f,
        Role::Analyst,
        &TO_REJECT.to_string(),
        "reject",
        r#"{"comment":"false positive"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["state"], "rejected");
    assert_eq!(job_state(&f, TO_REJECT).await, JobState::Rejected);
    assert_eq!(audit_len(&f).await, start + 3);
    assert_eq!(last_audit(&f).await.action, "respond.reject");
    // A job that lists admin is approved by admin like by any listed role.
    let (s, v) = decide(&f, Role::Admin, &BY_COOKIE.to_string(), "approve", "{}").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(audit_len(&f).await, start + 4);

    // An expired approval: 409 saying so; the job ends expired, which is the one entry.
    let (s, v) = decide(&f, Role::Analyst, &STALE.to_string(), "approve", "{}").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let msg = error_message(&v, "conflict");
    assert!(
        msg.contains("expired") && msg.contains("nothing was done"),
        "{msg}"
    );
    assert_eq!(job_state(&f, STALE).await, JobState::Expired);
    assert_eq!(audit_len(&f).await, start + 5);
    assert_eq!(last_audit(&f).await.action, "respond.approval_expired");
    let (s, v) = decide(&f, Role::Analyst, &STALE.to_string(), "reject", "{}").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(error_message(&v, "conflict").contains("is expired"));

    // Jobs that never asked for an approval: 409 for readers, 403 for a viewer.
    for id in [SUCCEEDED, FAILED, SKIPPED] {
        let (s, v) = decide(&f, Role::Analyst, &id.to_string(), "approve", "{}").await;
        assert_eq!(s, StatusCode::CONFLICT, "{id}: {v}");
        assert!(error_message(&v, "conflict").contains("not waiting"));
        let (s, v) = decide(&f, Role::Viewer, &id.to_string(), "approve", "{}").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{id}: {v}");
        assert!(!error_message(&v, "forbidden").contains("succeeded"));
    }
    assert_eq!(audit_len(&f).await, start + 5);
    let check = f.state.read(|s| s.verify_audit()).await.expect("verify");
    assert!(check.is_intact(), "{:?}", check.problem);
    assert_eq!(check.entries, start + 5);
}

#[tokio::test]
async fn bad_ids_and_bodies_are_json_errors_and_change_nothing() {
    let f = with_jobs().await;
    let start = audit_len(&f).await;
    let long = "9".repeat(5000);
    for id in [
        "999",
        "0",
        "-1",
        "abc",
        "1.0",
        "%FF",
        "99999999999999999999",
        "9223372036854775808",
        long.as_str(),
    ] {
        let (s, v) = decide(&f, Role::ClinicalEngineer, id, "approve", "{}").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}: {v}");
        assert_eq!(error_message(&v, "not_found"), "response not found");
        let (s, v) = get(
            &f.app,
            &format!("/api/v1/responses/{id}"),
            Some(&auth(&f, Role::Admin)),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}: {v}");
        error_message(&v, "not_found");
    }
    let c = CLINICAL.to_string();
    let long_comment = json!({ "comment": "é".repeat(501) }).to_string();
    for (body, code, says) in [
        (long_comment.as_str(), "bad_request", "1000 bytes"),
        (
            r#"{"comment":"ok","approve":true}"#,
            "bad_request",
            "unknown field",
        ),
        (r#"{"comment":5}"#, "bad_request", "invalid type"),
        ("{\"comment\":", "bad_request", "line 1"),
        (r#""approve""#, "bad_request", "wrong JSON"),
    ] {
        let (s, v) = decide(&f, Role::ClinicalEngineer, &c, "approve", body).await;
        assert_eq!(s.as_u16(), 400, "{body}: {v}");
        let msg = error_message(&v, code);
        assert!(msg.contains(says), "{body}: {msg}");
        assert!(!msg.contains("éé"), "value echoed: {msg}");
    }
    // Exactly 1000 bytes is fine.
    let ok = json!({ "comment": "é".repeat(500) }).to_string();
    let req = Request::post(format!("/api/v1/responses/{c}/reject"))
        .header(header::AUTHORIZATION, auth(&f, Role::ClinicalEngineer))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(ok.clone()))
        .expect("request");
    let (s, v, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    assert_eq!(audit_len(&f).await, start, "nothing written");
    let (s, v) = decide(&f, Role::ClinicalEngineer, &c, "reject", &ok).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["state"], "rejected");
    // Other verbs and methods.
    let (s, v) = decide(&f, Role::ClinicalEngineer, &c, "cancel", "{}").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = get(
        &f.app,
        &format!("/api/v1/responses/{c}/approve"),
        Some(&auth(&f, Role::Admin)),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{v}");
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header() {
    let f = with_jobs().await;
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": "u_analyst", "password": "correct horse battery" }).to_string(),
        ))
        .expect("request");
    let (s, b, h) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let cookie = h[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let csrf = b["csrf_token"].as_str().expect("csrf").to_owned();
    let start = audit_len(&f).await;
    let post = |csrf: Option<String>| {
        let mut req = Request::post(format!("/api/v1/responses/{BY_COOKIE}/approve"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.body(Body::from("{}")).expect("request")
    };
    for bad in [None, Some(String::new()), Some("wrong".to_owned())] {
        let (s, v, _) = send(&f.app, post(bad)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        error_message(&v, "csrf");
    }
    assert_eq!(audit_len(&f).await, start);
    assert_eq!(job_state(&f, BY_COOKIE).await, JobState::AwaitingApproval);
    let (s, v, _) = send(&f.app, post(Some(csrf))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["approval"]["decision"]["by"], "u_analyst");
    assert_eq!(audit_len(&f).await, start + 1);
}

#[tokio::test]
async fn the_list_filters_pages_and_hides_secrets() {
    let f = with_jobs().await;
    let admin = auth(&f, Role::Admin);
    // Every role but the viewer reads the queue.
    for role in Role::ALL {
        let (s, v) = get(&f.app, "/api/v1/responses", Some(&auth(&f, role))).await;
        if role == Role::Viewer {
            assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
            error_message(&v, "forbidden");
            let (s, _) = get(&f.app, "/api/v1/responses/1", Some(&auth(&f, role))).await;
            assert_eq!(s, StatusCode::FORBIDDEN);
        } else {
            assert_eq!(s, StatusCode::OK, "{role}: {v}");
            assert_eq!(ids(&v), ALL, "{role}");
            assert_eq!(v["next_before"], Value::Null);
            assert!(v["now"].is_string());
        }
    }
    let cases: &[(&str, &[u64])] = &[
        ("state=awaiting_approval", &[8, 7, 6, 2, 1]),
        ("state=succeeded,failed", &[4, 3]),
        ("state=succeeded&state=skipped", &[5, 3]),
        ("state=skipped,%20skipped", &[5]),
        ("state=running", &[]),
        ("alert=al-b", &[5, 4, 3]),
        ("alert=al-a&state=awaiting_approval", &[6, 2, 1]),
        ("alert=nope", &[]),
        ("alert=%27%20OR%201%3D1%20--", &[]),
        ("before=4", &[3, 2, 1]),
        ("before=1", &[]),
        ("limit=8", &[8, 7, 6, 5, 4, 3, 2, 1]),
    ];
    for (q, want) in cases {
        let (s, v) = get(&f.app, &format!("/api/v1/responses?{q}"), Some(&admin)).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(ids(&v), *want, "{q}");
        assert_eq!(v["next_before"], Value::Null, "{q}");
    }
    // Keyset paging walks every job once, whatever the page size.
    for limit in 1..=9 {
        let mut seen = Vec::new();
        let mut uri = format!("/api/v1/responses?limit={limit}");
        for _ in 0..20 {
            let (s, v) = get(&f.app, &uri, Some(&admin)).await;
            assert_eq!(s, StatusCode::OK, "{uri}: {v}");
            seen.extend(ids(&v));
            match v["next_before"].as_u64() {
                Some(b) => uri = format!("/api/v1/responses?limit={limit}&before={b}"),
                None => break,
            }
        }
        assert_eq!(seen, ALL, "limit {limit}");
    }
    let bad = [
        ("state=done", "state"),
        ("state=", "state"),
        ("state=pending,", "state"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("limit=1&limit=2", "limit"),
        ("before=0", "before"),
        ("before=-3", "before"),
        ("before=x", "before"),
        ("alert=", "alert"),
        ("order=asc", "order"),
    ];
    for (q, param) in bad {
        let (s, v) = get(&f.app, &format!("/api/v1/responses?{q}"), Some(&admin)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert!(error_message(&v, "bad_request").contains(param), "{q}");
    }
    let long = format!("/api/v1/responses?alert={}", "x".repeat(300));
    let (s, v) = get(&f.app, &long, Some(&admin)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(!error_message(&v, "bad_request").contains("xxx"));

    // The webhook's secrets are not shown; the rest is.
    let (_, v) = get(&f.app, "/api/v1/responses?alert=al-a", Some(&admin)).await;
    let text = v.to_string();
    assert!(!text.contains("s3cret") && !text.contains("pw@"), "{text}");
    let hook = v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["id"] == ANALYST)
        .expect("job 2")["action"]["webhook"]
        .clone();
    assert_eq!(hook["headers"]["Authorization"], "…");
    assert_eq!(hook["url"], "https://…@soc.example/hook?…");
    assert_eq!(hook["secret_env"], "WARD_HOOK_KEY");
}

#[tokio::test]
async fn one_job_comes_with_its_audit_history() {
    let f = with_jobs().await;
    let (s, _) = decide(
        &f,
        Role::ClinicalEngineer,
        "1",
        "reject",
        r#"{"comment":"not during surgery"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = get(
        &f.app,
        "/api/v1/responses/1",
        Some(&auth(&f, Role::ClinicalEngineer)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["id"], 1);
    assert_eq!(v["job"]["state"], "rejected");
    assert_eq!(v["job"]["approval"]["clinical"], true);
    let actions: Vec<&str> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions.last(), Some(&"respond.reject"), "{v}");
    assert!(actions.len() >= 2, "the plan entry too: {actions:?}");
    let last = v["history"]
        .as_array()
        .expect("history")
        .last()
        .expect("last")
        .clone();
    assert_eq!(last["details"]["comment"], "not during surgery");
    assert_eq!(last["actor"], "u_clinical_engineer");
    // A succeeded job shows its attempt.
    let (s, v) = get(
        &f.app,
        "/api/v1/responses/3",
        Some(&auth(&f, Role::Auditor)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["job"]["state"], "succeeded");
    assert_eq!(v["job"]["attempts"], 1);
    assert_eq!(v["job"]["result"]["summary"], "blocked");
}
