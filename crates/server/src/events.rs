//! `POST /api/v1/events`: the live event intake. The server only knows the [`EventSink`]
//! trait; the binary implements it with the readers and detectors, so this crate depends on
//! neither.

use crate::{ApiError, AppState, Principal};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use ward_core::Timestamp;
use ward_store::Role;

/// Roles that may post events.
pub const POST_EVENTS: &[Role] = &[Role::Admin, Role::Analyst];

/// Most line errors listed in a [`SubmitReport`]; the rest are only counted.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Where accepted events go: parses request bodies and queues the good lines for the detectors.
pub trait EventSink: Send + Sync + 'static {
    /// Parses NDJSON (or one JSON object) and queues the good lines for the detectors. Either
    /// every good line is queued (and will be processed, even across a graceful shutdown) or
    /// none is and the answer is an error.
    fn submit(&self, body: &[u8]) -> Result<SubmitReport, SinkError>;
    /// Counters for `/api/v1/stats` and `/metrics`.
    fn stats(&self) -> PipelineStats;
}

/// What became of a request body's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubmitReport {
    /// Lines queued for the detectors.
    pub accepted: u64,
    /// Lines that could not be read.
    pub rejected: u64,
    /// The first [`MAX_LISTED_ERRORS`] rejected lines and why.
    pub errors: Vec<LineError>,
}

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number in the body.
    pub line: u64,
    /// Why; names the field or the problem, never echoes the line's content.
    pub message: String,
}

/// Why a sink refused a whole request (503 `unavailable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The queue to the detectors is full; retry later.
    #[error("the event queue is full; retry later")]
    QueueFull,
    /// The pipeline is shutting down or has stopped.
    #[error("the event pipeline is shutting down")]
    Closed,
    /// The server runs without a live pipeline.
    #[error("this server runs without a detection pipeline; start ward serve with --model")]
    NoPipeline,
}

/// Counters of the live pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineStats {
    /// True while the detectors run.
    pub running: bool,
    /// Events queued for the detectors since start.
    pub events_accepted: u64,
    /// Lines, messages or records that could not be read since start.
    pub events_rejected: u64,
    /// Alerts written to the store since start.
    pub alerts_raised: u64,
    /// Events queued and not yet scored.
    pub queue: u64,
    /// When the last event was accepted.
    pub last_event: Option<Timestamp>,
}

/// Appends the pipeline's counters to a Prometheus text exposition: accepted and rejected
/// events (counters), the queue (gauge) and whether it runs (gauge). Without a pipeline the
/// counters are absent, not zero.
pub(crate) fn render_metrics(stats: Option<PipelineStats>, out: &mut String) {
    use std::fmt::Write;
    let Some(s) = stats else {
        return;
    };
    let rows = [
        (
            "ward_events_accepted_total",
            "counter",
            "Events queued for the detectors.",
            s.events_accepted,
        ),
        (
            "ward_events_rejected_total",
            "counter",
            "Event lines that could not be read.",
            s.events_rejected,
        ),
        (
            "ward_pipeline_alerts_total",
            "counter",
            "Alerts the live pipeline stored.",
            s.alerts_raised,
        ),
        (
            "ward_pipeline_queue",
            "gauge",
            "Events queued and not yet scored.",
            s.queue,
        ),
        (
            "ward_pipeline_running",
            "gauge",
            "1 while the detectors run.",
            u64::from(s.running),
        ),
    ];
    for (name, kind, help, v) in rows {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
}

/// Whether a `Content-Type` may carry events: NDJSON, JSON or plain text (parameters such as
/// `charset` are ignored). A missing header is refused too.
fn acceptable(headers: &HeaderMap) -> bool {
    let Some(v) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = v.split(';').next().unwrap_or_default().trim();
    ["application/x-ndjson", "application/json", "text/plain"]
        .iter()
        .any(|t| essence.eq_ignore_ascii_case(t))
}

/// `POST /api/v1/events`: 202 with the report; 415 for another content type; 503 when the
/// queue is full or there is no pipeline.
pub(crate) async fn submit(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitReport>), ApiError> {
    who.require(POST_EVENTS)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
        } else {
            ApiError::BadRequest("cannot read the request body".into())
        }
    })?;
    if !acceptable(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the events as Content-Type: application/x-ndjson, application/json or text/plain"
                .into(),
        ));
    }
    let sink = state
        .sink()
        .cloned()
        .ok_or_else(|| ApiError::Unavailable(SinkError::NoPipeline.to_string()))?;
    let report = tokio::task::spawn_blocking(move || sink.submit(&body))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "event submit task failed");
            ApiError::Internal
        })?
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(report)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn content_types() {
        let cases = [
            (Some("application/x-ndjson"), true),
            (Some("application/json; charset=utf-8"), true),
            (Some("Text/Plain"), true),
            (Some("application/xml"), false),
            (Some("multipart/form-data; boundary=x"), false),
            (None, false),
        ];
        for (ct, want) in cases {
            let mut h = HeaderMap::new();
            if let Some(ct) = ct {
                h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            }
            assert_eq!(acceptable(&h), want, "{ct:?}");
        }
    }
}
