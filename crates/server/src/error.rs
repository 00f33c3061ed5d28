//! The one error type of the API and its stable JSON body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use ward_store::StoreError;

/// Every failure a route can return. Rendered as
/// `{"error":{"code":"<code>","message":"<text>"}}` with the matching status. Messages never
/// carry tokens, PHI or query values; at most a parameter name.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed request; the message names the offending parameter.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no session or bearer token, or one that is unknown, expired, revoked or belongs
    /// to a disabled user.
    #[error("sign in first: no valid session cookie or bearer token")]
    Unauthorized,
    /// 403: authenticated, but the role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// 403 (code `forbidden`): the role may not do this; the message names who may.
    #[error("{0}")]
    Denied(String),
    /// 404: no such resource (the payload names its kind, never the requested id).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the request body is larger than the limit (bytes).
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 500: a store or runtime failure; details go to the log, not the client.
    #[error("internal error")]
    Internal,
    /// 401: sign-in with a wrong user name or password (which of the two is not said).
    #[error("wrong user name or password")]
    BadCredentials,
    /// 403: a state change made with a session cookie lacks the right `X-CSRF-Token` header.
    #[error("missing or wrong X-CSRF-Token header: send the csrf_token from sign-in")]
    Csrf,
    /// 409: the change does not fit the resource's current state (the message says why).
    #[error("{0}")]
    Conflict(String),
    /// 429: too many failed sign-ins; retry after this many seconds.
    #[error("too many failed sign-ins: try again in {0} seconds")]
    TooManyRequests(u64),
    /// 415: the body's content type is not one the route reads (the message names them).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the service cannot take this now (the message says why and whether to retry).
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Denied(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable machine-readable code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden | Self::Denied(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Internal => "internal",
            Self::BadCredentials => "unauthorized",
            Self::Csrf => "csrf",
            Self::Conflict(_) => "conflict",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut resp = (self.status(), Json(body)).into_response();
        if matches!(self, Self::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ward\""),
            );
        }
        if let Self::TooManyRequests(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // Store query messages name the filter and its limits, never the value.
            StoreError::InvalidQuery(m) => Self::BadRequest(m),
            // Input messages name the field and its limits, never the value.
            StoreError::InvalidInput(m) => Self::BadRequest(m),
            StoreError::NotFound(m) => Self::BadRequest(format!("{m} does not exist")),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::Internal
            }
        }
    }
}
