//! `POST /api/v1/mail/score`: a raw RFC 5322 message in, a verdict out. The server only knows
//! the [`MailScorer`] trait; the binary implements it with the phishing detector, so this
//! crate depends on no detector.

use crate::{ApiError, AppState, Principal};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::Value;
use ward_store::Role;

/// Roles that may have mail scored.
pub const SCORE_MAIL: &[Role] = &[Role::Admin, Role::Analyst];

/// Largest message accepted by `POST /api/v1/mail/score`, in bytes (25 MiB, the usual
/// ceiling of mail servers); larger is 413.
pub const MAX_MAIL_BYTES: usize = 25 * 1024 * 1024;

/// Scores one raw message. The answer is the verdict object (`score`, `verdict`, `reasons`);
/// a message that cannot be read is a verdict too (`unparseable` with the reason), never an
/// error.
pub trait MailScorer: Send + Sync + 'static {
    /// The verdict on `raw`.
    fn score(&self, raw: &[u8]) -> Value;
}

pub(crate) async fn score(
    State(state): State<AppState>,
    who: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    who.require(SCORE_MAIL)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(MAX_MAIL_BYTES)
        } else {
            ApiError::BadRequest("cannot read the request body".into())
        }
    })?;
    let scorer = state.mail_scorer().cloned().ok_or_else(|| {
        ApiError::Unavailable(
            "this server scores no mail; start ward serve with --phish-model".into(),
        )
    })?;
    let verdict = tokio::task::spawn_blocking(move || scorer.score(&body))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "mail scoring task failed");
            ApiError::Internal
        })?;
    Ok(Json(verdict))
}
