//! `POST /api/v1/events` against a fake sink: status codes, roles, content types, the report.

use super::{error_message, fixture, send};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use std::sync::{Arc, Mutex};
use ward_server::{
    EventSink, LineError, MAX_LISTED_ERRORS, PipelineStats, SinkError, SubmitReport, app,
};
use ward_store::Role;

/// Accepts lines that start with `{`, rejects the rest; refuses everything once `full`.
#[derive(Default)]
struct FakeSink {
    full: bool,
    bodies: Mutex<Vec<Vec<u8>>>,
}

impl EventSink for FakeSink {
    fn submit(&self, body: &[u8]) -> Result<SubmitReport, SinkError> {
        if self.full {
            return Err(SinkError::QueueFull);
        }
        self.bodies.lock().expect("lock").push(body.to_vec());
        let mut r = SubmitReport::default();
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            if line.starts_with(b"{") {
                r.accepted += 1;
            } else {
                r.rejected += 1;
                if r.errors.len() < MAX_LISTED_ERRORS {
                    r.errors.push(LineError {
                        line: i as u64 + 1,
                        message: "invalid json: expected an object".into(),
                    });
                }
            }
        }
        Ok(r)
    }

    fn stats(&self) -> PipelineStats {
        PipelineStats {
            running: true,
            events_accepted: 7,
            events_rejected: 2,
            alerts_raised: 1,
            queue: 3,
            last_event: None,
        }
    }
}

fn post(token: Option<&str>, ctype: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut req = Request::post("/api/v1/events");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = ctype {
        req = req.header(header::CONTENT_TYPE, c);
    }
    req.body(Body::from(body)).expect("request")
}

#[tokio::test]
async fn events_route_checks_auth_roles_type_size_and_reports_lines() {
    let f = fixture();
    let sink = Arc::new(FakeSink::default());
    let live = app(f.state.clone().with_sink(sink.clone()));
    let token = |role: Role| {
        f.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
            .expect("token")
    };
    let nd = Some("application/x-ndjson");
    let body = b"{\"a\":1}\nnot json\n\n{\"b\":2}\n".to_vec();

    let (s, b, _) = send(&live, post(None, nd, body.clone())).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    error_message(&b, "unauthorized");
    for role in [Role::Viewer, Role::Auditor, Role::PrivacyOfficer] {
        let (s, b, _) = send(&live, post(Some(token(role)), nd, body.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
        error_message(&b, "forbidden");
    }
    for ct in [None, Some("application/xml"), Some("multipart/form-data")] {
        let (s, b, _) = send(&live, post(Some(token(Role::Admin)), ct, body.clone())).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert!(error_message(&b, "unsupported_media_type").contains("application/x-ndjson"));
    }
    assert!(
        sink.bodies.lock().expect("lock").is_empty(),
        "nothing reached the sink"
    );

    for (role, ct) in [
        (Role::Admin, "application/x-ndjson"),
        (Role::Analyst, "application/json; charset=utf-8"),
        (Role::Analyst, "text/plain"),
    ] {
        let (s, b, _) = send(&live, post(Some(token(role)), Some(ct), body.clone())).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{role:?} {ct}: {b}");
        assert_eq!(
            b,
            json!({"accepted":2,"rejected":1,"errors":[{"line":2,"message":"invalid json: expected an object"}]})
        );
    }
    assert_eq!(sink.bodies.lock().expect("lock").len(), 3);

    // Over the cap, declared or streamed: 413 with the JSON error, the sink never called.
    let huge = vec![b'{'; ward_server::MAX_BODY_BYTES + 1];
    let req = Request::post("/api/v1/events")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token(Role::Admin)),
        )
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CONTENT_LENGTH, huge.len())
        .body(Body::from(huge.clone()))
        .expect("req");
    let (s, b, _) = send(&live, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    error_message(&b, "payload_too_large");
    // No Content-Length header: the cap applies while reading.
    let req = Request::post("/api/v1/events")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token(Role::Admin)),
        )
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(huge))
        .expect("req");
    let (s, b, _) = send(&live, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    error_message(&b, "payload_too_large");
    assert_eq!(sink.bodies.lock().expect("lock").len(), 3);
}

#[tokio::test]
async fn events_are_503_when_full_or_without_a_pipeline() {
    let f = fixture();
    let nd = Some("application/x-ndjson");
    let (s, b, _) = send(&f.app, post(Some(f.token()), nd, b"{}\n".to_vec())).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(error_message(&b, "unavailable").contains("--model"));

    let full = app(f.state.clone().with_sink(Arc::new(FakeSink {
        full: true,
        ..FakeSink::default()
    })));
    let (s, b, _) = send(&full, post(Some(f.token()), nd, b"{}\n".to_vec())).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(error_message(&b, "unavailable").contains("retry"));
}

#[tokio::test]
async fn stats_and_metrics_carry_the_pipeline_counters() {
    let f = fixture();
    let auth = format!("Bearer {}", f.token());
    let (s, b) = super::get(&f.app, "/api/v1/stats", Some(&auth)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(b["pipeline"].is_null(), "{b}");
    let live = app(f.state.clone().with_sink(Arc::new(FakeSink::default())));
    let (s, b) = super::get(&live, "/api/v1/stats", Some(&auth)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b["pipeline"],
        json!({"running":true,"events_accepted":7,"events_rejected":2,"alerts_raised":1,"queue":3,"last_event":null})
    );
    let req = Request::get("/metrics")
        .header(header::AUTHORIZATION, &auth)
        .body(Body::empty())
        .expect("req");
    let resp = tower::ServiceExt::oneshot(live.clone(), req)
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf-8");
    for line in [
        "ward_events_accepted_total 7",
        "ward_events_rejected_total 2",
        "ward_pipeline_queue 3",
        "# TYPE ward_events_accepted_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}
