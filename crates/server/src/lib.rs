//! The ward REST API (`ward serve`): axum routes under `/api/v1`, bearer-token
//! authentication against the store, role checks, and one JSON error shape.
//!
//! Build the router with [`app`] and run it with [`serve`]; tests drive [`app`] directly with
//! `tower::ServiceExt::oneshot`.
//!
//! **Store access.** The store is synchronous (SQLite) and not `Sync`, so it lives behind
//! `Arc<Mutex<Box<dyn Store>>>` and every call runs inside [`tokio::task::spawn_blocking`]
//! (see [`AppState::with_store`]): a slow query or a busy database file blocks a worker of the
//! blocking pool, never an async worker, and requests touching the store are serialised by the
//! mutex. That is enough for one hospital team's dashboard; a pool of read connections can
//! replace the mutex behind the same method later.

mod alerts;
mod auth;
mod error;
mod events;

pub use alerts::{API_DEFAULT_LIMIT, API_MAX_LIMIT};
pub use auth::{Principal, READ_ALERTS};
pub use error::ApiError;
pub use events::{
    EventSink, LineError, MAX_LISTED_ERRORS, POST_EVENTS, PipelineStats, SinkError, SubmitReport,
};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::{Arc, Mutex};
use ward_store::{Store, StoreError};

/// Largest accepted request body, in bytes (1 MiB); larger is 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every handler: the store.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Box<dyn Store>>>,
    sink: Option<Arc<dyn EventSink>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over an opened store.
    pub fn new(store: Box<dyn Store>) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
            sink: None,
        }
    }

    /// The same state with a live pipeline taking `POST /api/v1/events`.
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The live pipeline, when there is one.
    pub fn sink(&self) -> Option<&Arc<dyn EventSink>> {
        self.sink.as_ref()
    }

    /// Runs `f` with exclusive access to the store on the blocking thread pool. A store error
    /// becomes an [`ApiError`] (details logged, not sent); a poisoned lock or a panicked
    /// task is [`ApiError::Internal`].
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| {
                tracing::error!("store lock poisoned");
                ApiError::Internal
            })?;
            f(guard.as_mut()).map_err(ApiError::from)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "store task failed");
            ApiError::Internal
        })?
    }
}

/// The whole API as a router, ready for [`serve`] or `oneshot` tests.
///
/// | route | auth | returns |
/// |---|---|---|
/// | `GET /api/v1/health` | public | `{"status":"ok","version":..}` |
/// | `GET /api/v1/alerts` | any role | `{"alerts":[..],"next_cursor":..,"total":..}` |
/// | `GET /api/v1/alerts/{id}` | any role | `{"alert":..,"state":..}` or 404 |
/// | `GET /api/v1/devices` | any role | `{"devices":[..]}` |
///
/// Unknown paths are 404 and wrong methods 405, both with the JSON error body; bodies over
/// [`MAX_BODY_BYTES`] are 413.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get_one))
        .route("/devices", get(alerts::devices))
        .route("/events", axum::routing::post(events::submit));
    Router::new()
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_body))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn health(State(_): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Refuses a declared `Content-Length` above the cap before any handler runs (bodies
/// without one are capped by [`DefaultBodyLimit`] when read).
async fn limit_body(req: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(len) = req.headers().get(CONTENT_LENGTH) {
        let len = len
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::BadRequest("malformed content-length header".into()))?;
        if len > MAX_BODY_BYTES as u64 {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
    }
    Ok(next.run(req).await)
}
