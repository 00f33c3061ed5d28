//! The OpenAPI 3.1 document of the API, embedded at build time. It is written by
//! `scripts/openapi.py`; the tests check it describes exactly [`crate::ROUTES`].

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The document, as served.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json` (public: it describes the API, it holds no data).
pub(crate) async fn document() -> Response {
    let mut resp = OPENAPI_JSON.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
