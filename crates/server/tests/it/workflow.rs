//! Sign-in, sessions and CSRF, the alert workflow, cases, statistics, the audit route,
//! metrics, the OpenAPI document and the security headers.

use super::{T0, error_message, fixture, send};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use ward_server::{AppState, ServerOptions, app};

const PASSWORD: &str = "correct horse battery";

/// A signed-in browser: the cookie header value and the CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn login(app: &Router, user: &str, password: &str) -> (StatusCode, Value, HeaderMap) {
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": user, "password": password }).to_string(),
        ))
        .expect("request");
    send(app, req).await
}

async fn sign_in(app: &Router, user: &str) -> Browser {
    let (s, b, h) = login(app, user, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let set = h
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain-HTTP default: {set}");
    let cookie = set.split(';').next().expect("pair").to_owned();
    Browser {
        cookie,
        csrf: b["csrf_token"].as_str().expect("csrf").to_owned(),
    }
}

/// A request with the session cookie, and the CSRF header when `csrf` is given.
async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    b: &Browser,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, &b.cookie);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (s, v, _) = send(app, req.body(body).expect("request")).await;
    (s, v)
}

async fn post(app: &Router, uri: &str, b: &Browser, body: Value) -> (StatusCode, Value) {
    call(app, "POST", uri, b, Some(&b.csrf), Some(body)).await
}

async fn get(app: &Router, uri: &str, b: &Browser) -> Value {
    let (s, v) = call(app, "GET", uri, b, None, None).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {v}");
    v
}

async fn first_alert_id(app: &Router, b: &Browser) -> String {
    let v = get(app, "/api/v1/alerts?limit=1", b).await;
    v["alerts"][0]["id"].as_str().expect("id").to_owned()
}

async fn audit_actions(app: &Router, b: &Browser) -> Vec<(String, String, Value)> {
    let v = get(app, "/api/v1/audit?limit=1000", b).await;
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_owned(),
                e["target"].as_str().unwrap_or("").to_owned(),
                e["details"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sign_in_session_and_sign_out() {
    let f = fixture();
    // Wrong password, unknown user: the same 401, neither says which.
    let (s, b, _) = login(&f.app, "u_analyst", "wrong password!").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let m1 = error_message(&b, "unauthorized");
    let (s, b, _) = login(&f.app, "Hunter2-typed-in-the-name-field", "x").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_message(&b, "unauthorized"), m1);
    // A disabled user cannot sign in.
    let (s, _, _) = login(&f.app, "gone", PASSWORD).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let analyst = sign_in(&f.app, "u_analyst").await;
    let me = get(&f.app, "/api/v1/auth/me", &analyst).await;
    assert_eq!(me["user"], "u_analyst");
    assert_eq!(me["role"], "analyst");
    assert_eq!(me["csrf_token"], analyst.csrf.as_str());
    assert_eq!(get(&f.app, "/api/v1/alerts", &analyst).await["total"], 5);

    // Sign-out is a state change: it needs the CSRF token.
    let (s, b) = call(&f.app, "POST", "/api/v1/auth/logout", &analyst, None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    error_message(&b, "csrf");
    let (s, _) = call(
        &f.app,
        "POST",
        "/api/v1/auth/logout",
        &analyst,
        Some(&analyst.csrf),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = call(&f.app, "GET", "/api/v1/alerts", &analyst, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");

    // The trail has the failures (without the typed name of an unknown user), the sign-in
    // and the sign-out.
    let auditor = sign_in(&f.app, "u_auditor").await;
    let trail = audit_actions(&f.app, &auditor).await;
    let actions: Vec<&str> = trail.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "signin.fail",
            "signin.fail",
            "signin.fail",
            "signin.ok",
            "signout",
            "signin.ok"
        ]
    );
    let text = serde_json::to_string(&trail).expect("json");
    assert!(!text.contains("Hunter2"), "{text}");
    assert!(!text.contains("wrong password!"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[tokio::test]
async fn csrf_is_required_for_cookie_state_changes_but_not_for_tokens() {
    let f = fixture();
    let b = sign_in(&f.app, "u_analyst").await;
    let id = first_alert_id(&f.app, &b).await;
    let uri = format!("/api/v1/alerts/{id}/acknowledge");
    for bad in [None, Some("wrong"), Some("")] {
        let (s, v) = call(&f.app, "POST", &uri, &b, bad, Some(json!({}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{bad:?}: {v}");
        error_message(&v, "csrf");
    }
    // Another session's token does not fit this session.
    let other = sign_in(&f.app, "u_admin").await;
    let (s, _) = call(&f.app, "POST", &uri, &b, Some(&other.csrf), Some(json!({}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(&f.app, &uri, &b, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A bearer token needs no CSRF header (browsers never send one on their own).
    let token = &f.tokens[1].1; // analyst
    let req = Request::post(format!("/api/v1/alerts/{id}/assign"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "assignee": "soc-team" }).to_string()))
        .expect("req");
    let (s, v, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"]["assignee"], "soc-team");
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited() {
    let f = fixture();
    for _ in 0..5 {
        let (s, _, _) = login(&f.app, "u_viewer", "not the password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused now, without being checked.
    let (s, b, h) = login(&f.app, "u_viewer", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    error_message(&b, "too_many_requests");
    let wait: u64 = h
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!((1..=300).contains(&wait), "{wait}");
    // Other users are not locked out by someone else's failures.
    sign_in(&f.app, "u_analyst").await;
    let admin = sign_in(&f.app, "u_admin").await;
    let (s, text) = metrics(&f.app, &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("ward_signin_failures_total 6"), "{text}");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let f = fixture();
    let state = f.state.clone().with_options(ServerOptions {
        session_idle: std::time::Duration::ZERO,
        ..ServerOptions::default()
    });
    let app = app(state);
    let b = sign_in(&app, "u_analyst").await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (s, _) = call(&app, "GET", "/api/v1/alerts", &b, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn roles_are_checked_on_every_route() {
    let f = fixture();
    let id = {
        let b = sign_in(&f.app, "u_admin").await;
        first_alert_id(&f.app, &b).await
    };
    // (role, may triage, may read the audit trail, may read the privacy view, may read the
    // response queue)
    let table = [
        ("u_admin", true, true, true, true),
        ("u_analyst", true, false, false, true),
        ("u_privacy_officer", true, true, true, true),
        ("u_auditor", false, true, true, true),
        ("u_viewer", false, false, false, false),
        ("u_clinical_engineer", false, false, false, true),
    ];
    assert_eq!(table.len(), ward_store::Role::ALL.len(), "a row per role");
    for (user, triage, audit, privacy, responses) in table {
        let b = sign_in(&f.app, user).await;
        let (s, v) = post(
            &f.app,
            &format!("/api/v1/alerts/{id}/assign"),
            &b,
            json!({ "assignee": user }),
        )
        .await;
        let want = if triage {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(s, want, "{user} assign: {v}");
        let (s, _) = post(&f.app, "/api/v1/cases", &b, json!({ "title": "t" })).await;
        let want = if triage {
            StatusCode::CREATED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(s, want, "{user} case");
        let (s, _) = call(&f.app, "GET", "/api/v1/audit", &b, None, None).await;
        let want = if audit {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(s, want, "{user} audit");
        // The fixture has no EHR cases: the list is empty, a user is 404; the role check
        // comes first.
        for (uri, allowed) in [
            ("/api/v1/privacy/users", StatusCode::OK),
            ("/api/v1/privacy/users/e1", StatusCode::NOT_FOUND),
        ] {
            let (s, _) = call(&f.app, "GET", uri, &b, None, None).await;
            let want = if privacy {
                allowed
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(s, want, "{user} {uri}");
        }
        // The fixture has no jobs: the list is empty, a job is 404; a decision on a job is
        // checked against the job's roles after it is found, so it is 404 for everyone.
        for (uri, allowed) in [
            ("/api/v1/responses", StatusCode::OK),
            ("/api/v1/responses/1", StatusCode::NOT_FOUND),
        ] {
            let (s, _) = call(&f.app, "GET", uri, &b, None, None).await;
            let want = if responses {
                allowed
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(s, want, "{user} {uri}");
        }
        for verb in ["approve", "reject"] {
            let (s, _) = post(
                &f.app,
                &format!("/api/v1/responses/1/{verb}"),
                &b,
                json!({}),
            )
            .await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{user} {verb}");
        }
        for uri in ["/api/v1/stats", "/api/v1/cases", "/api/v1/devices"] {
            let (s, _) = call(&f.app, "GET", uri, &b, None, None).await;
            assert_eq!(s, StatusCode::OK, "{user} {uri}");
        }
        assert_eq!(
            metrics(&f.app, &b).await.0,
            StatusCode::OK,
            "{user} metrics"
        );
    }
    // No session at all: 401 everywhere but the public routes.
    for (method, path) in ward_server::ROUTES {
        let uri = path.replace("{id}", &id).replace("{user_id}", "e1");
        let req = Request::builder()
            .method(*method)
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("req");
        let (s, _, _) = send_any(&f.app, req).await;
        let public = matches!(
            *path,
            "/api/v1/health" | "/api/v1/openapi.json" | "/api/v1/auth/login"
        );
        if public {
            assert_ne!(s, StatusCode::UNAUTHORIZED, "{method} {uri}");
        } else {
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {uri}");
        }
    }
}

/// Like `send`, for answers that may not be JSON (metrics, the OpenAPI document).
async fn send_any(app: &Router, req: Request<Body>) -> (StatusCode, String, HeaderMap) {
    use tower::ServiceExt;
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .expect("body");
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    )
}

async fn metrics(app: &Router, b: &Browser) -> (StatusCode, String) {
    let req = Request::get("/metrics")
        .header(header::COOKIE, &b.cookie)
        .body(Body::empty())
        .expect("req");
    let (s, text, _) = send_any(app, req).await;
    (s, text)
}

#[tokio::test]
async fn alert_workflow_moves_are_checked_and_audited() {
    let f = fixture();
    let b = sign_in(&f.app, "u_analyst").await;
    let id = first_alert_id(&f.app, &b).await;
    let act = |action: &'static str, body: Value| {
        let (app, b, id) = (f.app.clone(), &b, id.clone());
        async move { post(&app, &format!("/api/v1/alerts/{id}/{action}"), b, body).await }
    };
    let (s, v) = act("acknowledge", json!({ "comment": "looking" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["state"],
        json!({ "status": "acknowledged", "assignee": "u_analyst" })
    );
    let (s, v) = act("acknowledge", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    error_message(&v, "conflict");
    let (s, v) = act("assign", json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_message(&v, "bad_request").contains("assignee"));
    let (s, _) = act("assign", json!({ "assignee": "u_admin" })).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act("close", json!({ "resolution": "false_positive" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_message(&v, "bad_request").contains("comment"));
    let (s, v) = act(
        "close",
        json!({ "comment": "scanner", "resolution": "maybe" }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = error_message(&v, "bad_request");
    assert!(m.contains("true_positive") && !m.contains("maybe"), "{m}");
    let (s, v) = act(
        "close",
        json!({ "comment": "the weekly vulnerability scan", "resolution": "benign" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"]["status"], "closed");
    let (s, _) = act("assign", json!({ "assignee": "x" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = act("reopen", json!({ "comment": "it was not the scanner" })).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act("escalate", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = post(
        &f.app,
        "/api/v1/alerts/al_missing/acknowledge",
        &b,
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let page = get(&f.app, &format!("/api/v1/alerts/{id}"), &b).await;
    assert_eq!(page["state"]["status"], "open");
    let hist: Vec<(&str, &str)> = page["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap_or(""),
                h["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        hist,
        [
            ("alert.acknowledge", "u_analyst"),
            ("alert.assign", "u_analyst"),
            ("alert.close", "u_analyst"),
            ("alert.reopen", "u_analyst"),
        ]
    );
    assert_eq!(page["history"][2]["resolution"], "benign");
    assert_eq!(
        page["history"][2]["comment"],
        "the weekly vulnerability scan"
    );
    // The list shows the state too, and filters by it.
    let list = get(&f.app, "/api/v1/alerts?status=open", &b).await;
    assert_eq!(list["total"], 5);
    assert_eq!(list["alerts"][0]["state"]["status"], "open");
    let verify = f
        .state
        .with_store(|s| s.verify_audit())
        .await
        .expect("verify");
    assert!(verify.problem.is_none(), "{verify:?}");
}

#[tokio::test]
async fn bodies_are_checked_with_clear_errors() {
    let f = fixture();
    let b = sign_in(&f.app, "u_analyst").await;
    let id = first_alert_id(&f.app, &b).await;
    let uri = format!("/api/v1/alerts/{id}/close");
    let raw = |ct: &'static str, body: &'static str| {
        Request::post(&uri)
            .header(header::COOKIE, &b.cookie)
            .header("x-csrf-token", &b.csrf)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("req")
    };
    let cases: [(&str, &str, StatusCode, &str, &str); 5] = [
        (
            "application/json",
            "{\"comment\": \"Jane Doe\",",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "malformed JSON body at line 1",
        ),
        (
            "application/json",
            "{\"comment\": 5}",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "wrong JSON body",
        ),
        (
            "application/json",
            "{\"comment\": \"x\", \"resolution\": \"benign\", \"patient\": \"Jane Doe\"}",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "unknown field `…`, expected one of `comment`",
        ),
        (
            "text/plain",
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/json",
        ),
        (
            "application/json",
            "[1,2,3]",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid type",
        ),
    ];
    for (ct, body, status, code, needle) in cases {
        let (s, v, _) = send(&f.app, raw(ct, body)).await;
        assert_eq!(s, status, "{body}: {v}");
        let m = error_message(&v, code);
        assert!(m.contains(needle), "{body}: {m}");
        assert!(!m.contains("Jane"), "{body}: echoed a value: {m}");
    }
    // A huge body without Content-Length (chunked) is cut off at the limit: 413.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let req = Request::post(&uri)
        .header(header::COOKIE, &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_stream(chunks)))
        .expect("req");
    let (s, text, _) = send_any(&f.app, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json error");
    error_message(&v, "payload_too_large");
    // Nothing changed.
    let page = get(&f.app, &format!("/api/v1/alerts/{id}"), &b).await;
    assert_eq!(page["state"]["status"], "open");
}

/// A body stream over ready chunks: the request has no Content-Length.
fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> futures_util::stream::Iter<std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>> {
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn cases_group_alerts_and_are_audited() {
    let f = fixture();
    let b = sign_in(&f.app, "u_privacy_officer").await;
    let list = get(&f.app, "/api/v1/alerts?sort=score_desc&limit=3", &b).await;
    let ids: Vec<String> = list["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    let (s, v) = post(
        &f.app,
        "/api/v1/cases",
        &b,
        json!({ "title": "Scanning from 10.0.0.1", "alert_ids": [ids[0], ids[1]] }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let case = v["case"]["id"].as_str().expect("id").to_owned();
    assert_eq!(v["case"]["alert_count"], 2);
    assert_eq!(v["case"]["max_severity"], "critical");
    assert_eq!(v["case"]["created_by"], "u_privacy_officer");
    let (s, v) = post(
        &f.app,
        &format!("/api/v1/cases/{case}/alerts"),
        &b,
        json!({ "alert_ids": [ids[2], "al_unknown"] }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_message(&v, "bad_request").contains("alert_ids[1]"));
    let (s, v) = post(
        &f.app,
        &format!("/api/v1/cases/{case}/alerts"),
        &b,
        json!({ "alert_ids": [ids[2]] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["alert_count"], 3);
    let page = get(&f.app, &format!("/api/v1/cases/{case}"), &b).await;
    assert_eq!(page["alerts"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["alerts"][0]["state"]["status"], "open");
    let alert = get(&f.app, &format!("/api/v1/alerts/{}", ids[0]), &b).await;
    assert_eq!(alert["cases"], json!([case]));
    let (s, _) = post(
        &f.app,
        &format!("/api/v1/cases/{case}/close"),
        &b,
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = post(
        &f.app,
        &format!("/api/v1/cases/{case}/close"),
        &b,
        json!({ "comment": "contained" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["case"]["status"], "closed");
    let (s, _) = post(
        &f.app,
        &format!("/api/v1/cases/{case}/close"),
        &b,
        json!({ "comment": "again" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    for missing in ["case-99", "nope", "case-1'--"] {
        let (s, _) = call(
            &f.app,
            "GET",
            &format!("/api/v1/cases/{missing}"),
            &b,
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    }
    let closed = get(&f.app, "/api/v1/cases?status=closed", &b).await;
    assert_eq!(closed["cases"].as_array().map(Vec::len), Some(1));
    let (s, _) = call(
        &f.app,
        "GET",
        "/api/v1/cases?status=open'%20OR%201=1",
        &b,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let trail = audit_actions(&f.app, &b).await;
    let case_actions: Vec<&str> = trail
        .iter()
        .filter(|(_, t, _)| t == &case)
        .map(|(a, _, _)| a.as_str())
        .collect();
    assert_eq!(
        case_actions,
        ["case.create", "case.add_alerts", "case.close"]
    );
}

#[tokio::test]
async fn stats_cover_the_newest_day_by_default() {
    let f = fixture();
    let b = sign_in(&f.app, "u_viewer").await;
    let v = get(&f.app, "/api/v1/stats", &b).await;
    assert_eq!(v["total"], 5, "{v}");
    assert_eq!(v["bucket"], "hour");
    assert_eq!(v["series"].as_array().map(Vec::len), Some(24));
    let sum: u64 = v["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|b| {
            ["info", "low", "medium", "high", "critical"]
                .iter()
                .map(|k| b[k].as_u64().unwrap_or(0))
                .sum::<u64>()
        })
        .sum();
    assert_eq!(sum, 5);
    assert_eq!(v["by_status"]["open"], 5);
    assert_eq!(v["by_detector"][0]["detector"], "net.device");
    assert_eq!(v["by_detector"][0]["count"], 2);
    assert_eq!(v["top_entities"][0]["count"], 2);
    assert!(v["pipeline"].is_null());
    let day = get(&f.app, "/api/v1/stats?bucket=day", &b).await;
    assert_eq!(day["series"].as_array().map(Vec::len), Some(30));
    assert_eq!(day["total"], 5);
    let from = ward_core::Timestamp(T0 + 2 * super::HOUR).to_string();
    let part = get(
        &f.app,
        &format!("/api/v1/stats?from={from}&to=2026-01-01T04:00:00Z"),
        &b,
    )
    .await;
    assert_eq!(part["total"], 2, "{part}");
    for bad in [
        "bucket=week",
        "from=yesterday",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "bucket=hour&bucket=day",
        "x=1",
    ] {
        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/stats?{bad}"),
            &b,
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        error_message(&v, "bad_request");
    }
}

#[tokio::test]
async fn metrics_use_route_templates_not_ids() {
    let f = fixture();
    let b = sign_in(&f.app, "u_admin").await;
    let id = first_alert_id(&f.app, &b).await;
    get(&f.app, &format!("/api/v1/alerts/{id}"), &b).await;
    let (s, text) = metrics(&f.app, &b).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains("ward_alerts_total{severity=\"critical\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("ward_alerts_total{severity=\"info\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("ward_http_requests_total{route=\"/api/v1/alerts/{id}\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(!text.contains(&id), "a concrete id leaked into a label");
    assert!(text.contains("ward_build_info{version="));
}

#[tokio::test]
async fn openapi_describes_exactly_the_routes() {
    let f = fixture();
    let req = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .expect("req");
    let (s, text, h) = send_any(&f.app, req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("ops").keys() {
            described.push((method.to_uppercase(), path.clone()));
        }
    }
    let mut served: Vec<(String, String)> = ward_server::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    described.sort();
    served.sort();
    assert_eq!(described, served);
    // Every $ref points at a schema that exists.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in text.split("\"$ref\":").skip(1) {
        let target = r.trim_start().trim_start_matches('"');
        let name = target
            .strip_prefix("#/components/schemas/")
            .and_then(|t| t.split('"').next())
            .expect("local schema ref");
        assert!(schemas.contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let f = fixture();
    for uri in ["/api/v1/health", "/api/v1/alerts", "/api/v1/nope"] {
        let req = Request::get(uri).body(Body::empty()).expect("req");
        let (_, _, h) = send_any(&f.app, req).await;
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{uri}: {csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{uri}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{uri}");
    }
}

#[tokio::test]
async fn a_second_state_over_the_same_store_shares_nothing_but_the_store() {
    // AppState clones share the limiter; a fresh state over another store does not.
    let f = fixture();
    let other = AppState::new(Box::new(
        ward_store::SqliteStore::open_in_memory().expect("store"),
    ));
    let (s, _, _) = login(&app(other), "u_admin", PASSWORD).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no users in the other store");
    sign_in(&f.app, "u_admin").await;
}

#[tokio::test]
async fn a_pool_of_readers_sees_every_write_and_counts_stay_exact() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("ward.db");
    let mut store = ward_store::SqliteStore::open(&path).expect("store");
    use ward_store::Store;
    store.insert_alerts(&super::alerts()).expect("alerts");
    store
        .add_user(
            "u_analyst",
            ward_store::Role::Analyst,
            super::pw_hash(),
            ward_core::Timestamp(T0),
        )
        .expect("user");
    let readers: Vec<Box<dyn Store>> = (0..2)
        .map(|_| {
            Box::new(ward_store::SqliteStore::open_reader(&path).expect("reader")) as Box<dyn Store>
        })
        .collect();
    let app = app(AppState::new(Box::new(store)).with_readers(readers));
    let b = sign_in(&app, "u_analyst").await;
    for round in 0..3u64 {
        let open = get(&app, "/api/v1/alerts?status=open", &b).await;
        assert_eq!(open["total"], 5 - round, "round {round}: {open}");
        let id = open["alerts"][0]["id"].as_str().expect("id").to_owned();
        let (s, v) = post(
            &app,
            &format!("/api/v1/alerts/{id}/acknowledge"),
            &b,
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // Read-your-writes through a reader: the page and the (cached) total both moved.
        let page = get(&app, &format!("/api/v1/alerts/{id}"), &b).await;
        assert_eq!(page["state"]["status"], "acknowledged");
        let acked = get(&app, "/api/v1/alerts?status=acknowledged", &b).await;
        assert_eq!(acked["total"], round + 1);
    }
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_is_cut_off_at_the_limit() {
    let f = fixture();
    let tries = (0..20).map(|_| {
        let app = f.app.clone();
        tokio::spawn(async move { login(&app, "u_admin", "a wrong guess").await.0 })
    });
    let mut checked = 0;
    let mut refused = 0;
    for t in tries {
        match t.await.expect("join") {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!((checked, refused), (5, 15));
}

#[tokio::test]
async fn sign_in_replaces_a_presented_session_and_planted_cookies_are_refused() {
    let f = fixture();
    let first = sign_in(&f.app, "u_analyst").await;
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &first.cookie)
        .body(Body::from(
            json!({ "username": "u_analyst", "password": PASSWORD }).to_string(),
        ))
        .expect("req");
    let (s, _, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&f.app, "GET", "/api/v1/auth/me", &first, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the old session was ended");
    let second = sign_in(&f.app, "u_analyst").await;
    let doubled = Browser {
        cookie: format!("{}; ward_session=planted", second.cookie),
        csrf: second.csrf.clone(),
    };
    let (s, _) = call(&f.app, "GET", "/api/v1/auth/me", &doubled, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unreadable_path_parameters_are_json_404s() {
    let f = fixture();
    let b = sign_in(&f.app, "u_admin").await;
    for uri in [
        "/api/v1/alerts/%FF",
        "/api/v1/cases/%FF%FE",
        "/api/v1/alerts/%FF/close",
    ] {
        let method = if uri.ends_with("close") {
            "POST"
        } else {
            "GET"
        };
        let (s, v) = call(&f.app, method, uri, &b, Some(&b.csrf), Some(json!({}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {v}");
        error_message(&v, "not_found");
    }
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix() {
    let f = fixture();
    let app = app(f.state.clone().with_options(ServerOptions {
        secure_cookies: true,
        ..ServerOptions::default()
    }));
    let (s, _, h) = login(&app, "u_viewer", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    let set = h[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set.starts_with("__Host-ward_session="), "{set}");
    assert!(set.contains("; Secure"), "{set}");
}
