//! End-to-end tests of the API through `tower::ServiceExt::oneshot` (no sockets), plus one
//! real socket run of `serve` with graceful shutdown.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::OnceLock;
use tower::ServiceExt;
use ward_core::{Alert, EntityId, Evidence, Explanation, Timestamp};
use ward_server::{AppState, app};
use ward_store::auth::{hash_password, new_token};
use ward_store::{DeviceRecord, Role, SqliteStore, Store};

#[path = "it/workflow.rs"]
mod workflow;

const HOUR: i64 = 3_600_000_000;
const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

/// One Argon2id hash for every fixture user (hashing is deliberately slow).
fn pw_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("correct horse battery").expect("hash"))
}

fn alert(hours: i64, detector: &str, score: u8, host: &str, title: &str) -> Alert {
    Alert::new(
        Timestamp(T0 + hours * HOUR),
        detector,
        score,
        EntityId::host(host),
        title,
        Explanation::default(),
        Evidence::default(),
    )
}

/// Five alerts, newest is "e" at hour 4.
fn alerts() -> Vec<Alert> {
    vec![
        alert(
            0,
            "net.supervised",
            95,
            "10.0.0.1",
            "a: port scan from workstation",
        ),
        alert(
            1,
            "net.device",
            70,
            "10.0.0.2",
            "b: DICOM device talks to the internet",
        ),
        alert(2, "net.supervised", 50, "10.0.0.1", "c: Port Scan repeated"),
        alert(3, "net.anomaly", 30, "10.0.0.3", "d: unusual volume"),
        alert(
            4,
            "net.device",
            10,
            "10.0.0.2",
            "e: new protocol on infusion pump",
        ),
    ]
}

struct Fixture {
    app: Router,
    state: AppState,
    /// One valid token per role, in `Role::ALL` order.
    tokens: Vec<(Role, String)>,
    revoked: String,
    disabled: String,
}

impl Fixture {
    fn token(&self) -> &str {
        &self.tokens[0].1
    }
}

fn fixture() -> Fixture {
    let mut store = SqliteStore::open_in_memory().expect("store");
    store.insert_alerts(&alerts()).expect("alerts");
    let device: DeviceRecord = serde_json::from_value(json!({
        "address": "10.0.0.2", "role": "dicom_modality_or_pacs", "criticality": "clinical",
        "first_seen": Timestamp(T0), "last_seen": Timestamp(T0 + HOUR),
    }))
    .expect("device");
    store.upsert_devices(&[device]).expect("devices");
    let t = Timestamp(T0);
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = format!("u_{}", role.as_str());
        store.add_user(&name, role, pw_hash(), t).expect("user");
        let (token, hash) = new_token().expect("token");
        store.add_token(&name, &hash, t).expect("add token");
        tokens.push((role, token));
    }
    let (revoked, hash) = new_token().expect("token");
    let id = store.add_token("u_admin", &hash, t).expect("add").id;
    assert!(store.revoke_token(id).expect("revoke"));
    store
        .add_user("gone", Role::Analyst, pw_hash(), t)
        .expect("user");
    let (disabled, hash) = new_token().expect("token");
    store.add_token("gone", &hash, t).expect("add");
    assert!(store.set_user_disabled("gone", true).expect("disable"));
    let state = AppState::new(Box::new(store));
    Fixture {
        app: app(state.clone()),
        state,
        tokens,
        revoked,
        disabled,
    }
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("non-JSON body {e}: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body, headers)
}

async fn get(app: &Router, uri: &str, auth: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::get(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let (s, b, _) = send(app, req.body(Body::empty()).expect("request")).await;
    (s, b)
}

async fn get_ok(f: &Fixture, uri: &str) -> Value {
    let (s, b) = get(&f.app, uri, Some(&format!("Bearer {}", f.token()))).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {b}");
    b
}

/// Asserts the stable error shape and returns the message.
fn error_message(body: &Value, code: &str) -> String {
    let err = body
        .get("error")
        .unwrap_or_else(|| panic!("no error: {body}"));
    assert_eq!(err["code"], code, "{body}");
    let obj = err.as_object().expect("object");
    assert_eq!(obj.len(), 2, "exactly code and message: {body}");
    assert_eq!(body.as_object().expect("object").len(), 1, "{body}");
    err["message"].as_str().expect("message").to_owned()
}

fn titles(body: &Value) -> Vec<String> {
    body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["title"].as_str().expect("title")[..1].to_owned())
        .collect()
}

#[tokio::test]
async fn health_is_public() {
    let f = fixture();
    let (s, b) = get(&f.app, "/api/v1/health", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "ok");
    assert_eq!(b["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn protected_routes_refuse_missing_bad_revoked_and_disabled_tokens() {
    let f = fixture();
    let revoked = format!("Bearer {}", f.revoked);
    let disabled = format!("Bearer {}", f.disabled);
    let basic = "Basic dXNlcjpwYXNz";
    let long = format!("Bearer {}", "x".repeat(100_000));
    let auths: [Option<&str>; 8] = [
        None,
        Some("Bearer ward_nope"),
        Some("Bearer"),
        Some(basic),
        Some(&revoked),
        Some(&disabled),
        Some(&long),
        Some("Bearer ' OR 1=1 --"),
    ];
    for uri in ["/api/v1/alerts", "/api/v1/devices", "/api/v1/alerts/x"] {
        for auth in auths {
            let mut req = Request::get(uri);
            if let Some(a) = auth {
                req = req.header(header::AUTHORIZATION, a);
            }
            let (s, b, h) = send(&f.app, req.body(Body::empty()).expect("req")).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} {auth:?}");
            let msg = error_message(&b, "unauthorized");
            assert!(h.contains_key(header::WWW_AUTHENTICATE));
            assert!(!msg.contains("ward_"), "token echoed: {msg}");
        }
    }
}

#[tokio::test]
async fn every_role_reads_alerts_and_devices_and_use_is_recorded() {
    let f = fixture();
    for (role, token) in &f.tokens {
        let auth = format!("bearer {token}");
        for uri in ["/api/v1/alerts", "/api/v1/devices"] {
            let (s, b) = get(&f.app, uri, Some(&auth)).await;
            assert_eq!(s, StatusCode::OK, "{role} {uri}: {b}");
        }
    }
    let tokens = f
        .state
        .with_store(|s| s.list_tokens("u_viewer"))
        .await
        .expect("tokens");
    assert!(tokens[0].last_used.is_some(), "touch_token not called");
    let b = get_ok(&f, "/api/v1/devices").await;
    assert_eq!(b["devices"][0]["address"], "10.0.0.2");
}

#[tokio::test]
async fn alert_filters() {
    let f = fixture();
    let cases: &[(&str, &[&str])] = &[
        ("", &["e", "d", "c", "b", "a"]),
        ("?severity=high", &["b", "a"]),
        ("?severity=CRITICAL", &["a"]),
        ("?detector=net.device", &["e", "b"]),
        ("?entity=host:10.0.0.1", &["c", "a"]),
        ("?q=port%20scan", &["c", "a"]),
        ("?q=PORT&severity=medium", &["c", "a"]),
        (
            "?from=2026-01-01T01:00:00Z&to=2026-01-01T03:00:00Z",
            &["c", "b"],
        ),
        ("?q=100%25", &[]),
        ("?q=_", &[]),
        ("?detector=net.nothing", &[]),
        ("?sort=time_asc", &["a", "b", "c", "d", "e"]),
        ("?sort=score_desc&detector=net.device", &["b", "e"]),
        ("?status=open&severity=critical", &["a"]),
        ("?status=closed", &[]),
    ];
    for (query, want) in cases {
        let b = get_ok(&f, &format!("/api/v1/alerts{query}")).await;
        assert_eq!(titles(&b), *want, "{query}");
        assert_eq!(b["total"], want.len(), "{query}");
        assert_eq!(b["next_cursor"], Value::Null, "{query}");
    }
}

#[tokio::test]
async fn keyset_paging_walks_every_alert_once() {
    let f = fixture();
    let sorts = [
        ("time_desc", ["e", "d", "c", "b", "a"]),
        ("time_asc", ["a", "b", "c", "d", "e"]),
        ("score_desc", ["a", "b", "c", "d", "e"]),
    ];
    for (limit, (sort, want)) in (1..=6).flat_map(|l| sorts.iter().map(move |s| (l, s))) {
        let mut seen = Vec::new();
        let mut uri = format!("/api/v1/alerts?sort={sort}&limit={limit}");
        let mut pages = 0;
        loop {
            let b = get_ok(&f, &uri).await;
            assert_eq!(b["total"], 5);
            assert!(b["alerts"].as_array().expect("alerts").len() <= limit);
            seen.extend(titles(&b));
            pages += 1;
            match b["next_cursor"].as_str() {
                Some(c) => uri = format!("/api/v1/alerts?sort={sort}&limit={limit}&cursor={c}"),
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen, *want, "{sort} limit {limit}");
        assert_eq!(pages, 5usize.div_ceil(limit), "limit {limit}");
    }
}

#[tokio::test]
async fn one_alert_and_not_found() {
    let f = fixture();
    let id = alerts()[1].id.clone();
    let b = get_ok(&f, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(b["alert"]["id"], id.as_str());
    assert_eq!(b["state"]["status"], "open");
    let auth = format!("Bearer {}", f.token());
    let long = "a".repeat(5000);
    for missing in ["al_missing", "%27%20OR%201%3D1%20--", long.as_str()] {
        let (s, b) = get(&f.app, &format!("/api/v1/alerts/{missing}"), Some(&auth)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(error_message(&b, "not_found"), "alert not found");
    }
}

#[tokio::test]
async fn malformed_parameters_are_400_naming_the_parameter() {
    let f = fixture();
    let auth = format!("Bearer {}", f.token());
    let cases = [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("severity=urgent", "severity"),
        ("from=last%20week", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("cursor=garbage", "cursor"),
        ("q=", "q"),
        ("q=a&q=b", "q"),
        ("order=asc", "order"),
        ("sort=newest", "sort"),
        ("status=done", "status"),
    ];
    for (query, param) in cases {
        let (s, b) = get(&f.app, &format!("/api/v1/alerts?{query}"), Some(&auth)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {b}");
        let msg = error_message(&b, "bad_request");
        assert!(msg.contains(param), "{query}: {msg}");
    }
    let big = format!("/api/v1/alerts?q={}", "x".repeat(5000));
    let (s, b) = get(&f.app, &big, Some(&auth)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(!error_message(&b, "bad_request").contains("xxxx"));
}

#[tokio::test]
async fn injection_looking_filters_match_nothing_and_harm_nothing() {
    let f = fixture();
    for q in [
        "'%20OR%201%3D1%20--",
        "%27%3B%20DROP%20TABLE%20alerts%3B%20--",
        "%22)%20OR%20(%221%22%3D%221",
        "%25",
    ] {
        for param in ["q", "detector", "entity"] {
            let b = get_ok(&f, &format!("/api/v1/alerts?{param}={q}")).await;
            assert_eq!(b["total"], 0, "{param}={q}");
            assert_eq!(b["alerts"], json!([]), "{param}={q}");
        }
    }
    let b = get_ok(&f, "/api/v1/alerts").await;
    assert_eq!(b["total"], 5, "alerts survived");
}

#[tokio::test]
async fn unknown_routes_methods_and_huge_bodies_get_json_errors() {
    let f = fixture();
    let (s, b) = get(&f.app, "/api/v1/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    error_message(&b, "not_found");
    // `/` is the dashboard (tests/it/ui.rs); other unknown paths are JSON 404s.
    let (s, b) = get(&f.app, "/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    error_message(&b, "not_found");

    let req = Request::post("/api/v1/alerts")
        .body(Body::empty())
        .expect("req");
    let (s, b, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    error_message(&b, "method_not_allowed");

    let huge = vec![b'x'; ward_server::MAX_BODY_BYTES + 1];
    let req = Request::post("/api/v1/alerts")
        .header(header::CONTENT_LENGTH, huge.len())
        .body(Body::from(huge))
        .expect("req");
    let (s, b, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    error_message(&b, "payload_too_large");

    let req = Request::get("/api/v1/health")
        .header(header::CONTENT_LENGTH, "lots")
        .body(Body::empty())
        .expect("req");
    let (s, b, _) = send(&f.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    error_message(&b, "bad_request");
}

#[tokio::test]
async fn require_refuses_roles_outside_the_set_with_403() {
    use axum::response::IntoResponse;
    let p = ward_server::Principal {
        user: "v".into(),
        role: Role::Viewer,
        via: ward_server::Via::Token(1),
    };
    assert!(p.require(ward_server::READ_ALERTS).is_ok());
    let err = p
        .require(&[Role::Admin, Role::Analyst])
        .expect_err("viewer");
    let resp = err.into_response();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .expect("body");
    let b: Value = serde_json::from_slice(&bytes).expect("json");
    error_message(&b, "forbidden");
}

#[tokio::test]
async fn serve_answers_on_a_socket_and_shuts_down_gracefully() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ward_server::serve(listener, f.state.clone(), async move {
        let _ = stopped.await;
    }));
    let resp = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(addr).expect("connect");
        conn.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut resp = String::new();
        conn.read_to_string(&mut resp).expect("read");
        resp
    })
    .await
    .expect("client");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"status\":\"ok\""), "{resp}");
    stop.send(()).expect("server alive");
    server.await.expect("join").expect("serve");
}

// The dashboard's static files (tests/it/ui.rs).
#[path = "it/ui.rs"]
mod ui;

#[path = "it/events.rs"]
mod events;

#[path = "it/privacy.rs"]
mod privacy;

#[path = "it/responses.rs"]
mod responses;
