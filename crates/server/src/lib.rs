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
mod body;
mod cases;
mod error;
mod events;
mod mail;
mod metrics;
mod openapi;
mod privacy;
mod responses;
mod ui;

pub use alerts::{API_DEFAULT_LIMIT, API_MAX_LIMIT};
pub use auth::now;
pub use auth::{
    CSRF_HEADER, Principal, READ_ALERTS, READ_AUDIT, SESSION_COOKIE, SignInLimiter, TRIAGE, Via,
};
pub use error::ApiError;
pub use events::{
    EventSink, LineError, MAX_LISTED_ERRORS, POST_EVENTS, PipelineStats, SinkError, SubmitReport,
};
pub use mail::{MAX_MAIL_BYTES, MailScorer, SCORE_MAIL};
pub use metrics::Metrics;
pub use openapi::OPENAPI_JSON;
pub use privacy::{READ_PRIVACY, SEE_NAMES};
pub use responses::{MAX_DECISION_COMMENT, READ_RESPONSES};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{self, CONTENT_LENGTH, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_store::{Store, StoreError};

/// Largest accepted request body, in bytes (1 MiB); larger is 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Server settings (the `[server]` table of `ward.toml` maps onto these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// A session ends after this long without a request. Default 30 minutes.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active. Default 12 hours.
    pub session_max: Duration,
    /// Mark the session cookie `Secure` (set when ward is served over HTTPS through a
    /// proxy). Default false: `ward serve` itself speaks plain HTTP on loopback.
    pub secure_cookies: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            secure_cookies: false,
        }
    }
}

/// Shared state of every handler: the store, the settings, the sign-in limiter, metrics.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Box<dyn Store>>>,
    options: Arc<ServerOptions>,
    limiter: Arc<SignInLimiter>,
    metrics: Arc<Metrics>,
    readers: Option<Arc<ReaderPool>>,
    counts: Arc<Mutex<CountCache>>,
    sink: Option<Arc<dyn EventSink>>,
    mail: Option<Arc<dyn MailScorer>>,
}

/// Read-only store handles shared by the read routes, so reads run in parallel with each
/// other and with the writer (SQLite in WAL mode).
struct ReaderPool {
    conns: Mutex<Vec<Box<dyn Store>>>,
    permits: tokio::sync::Semaphore,
}

/// Alert counts by filter key, with the store generation they were taken at.
type CountCache = HashMap<String, ((u64, u64), u64)>;

/// Most cached alert counts kept (the cache is cleared when full).
const MAX_CACHED_COUNTS: usize = 256;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over an opened store, with default [`ServerOptions`].
    pub fn new(store: Box<dyn Store>) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
            options: Arc::new(ServerOptions::default()),
            limiter: Arc::new(SignInLimiter::default()),
            metrics: Arc::new(Metrics::default()),
            readers: None,
            counts: Arc::new(Mutex::new(HashMap::new())),
            sink: None,
            mail: None,
        }
    }

    /// The same state with a phishing detector taking `POST /api/v1/mail/score`.
    pub fn with_mail_scorer(mut self, scorer: Arc<dyn MailScorer>) -> Self {
        self.mail = Some(scorer);
        self
    }

    /// The mail scorer, when there is one.
    pub fn mail_scorer(&self) -> Option<&Arc<dyn MailScorer>> {
        self.mail.as_ref()
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

    /// The same state with read-only handles for the read routes (for SQLite:
    /// [`ward_store::SqliteStore::open_reader`] on the same file, one or two per core).
    /// Without readers every request goes through the one store handle.
    pub fn with_readers(mut self, readers: Vec<Box<dyn Store>>) -> Self {
        if readers.is_empty() {
            self.readers = None;
        } else {
            let n = readers.len();
            self.readers = Some(Arc::new(ReaderPool {
                conns: Mutex::new(readers),
                permits: tokio::sync::Semaphore::new(n),
            }));
        }
        self
    }

    /// Runs a read-only `f` on a reader from the pool (on the blocking thread pool), or on
    /// the main store when there is no pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(pool) = self.readers.clone() else {
            return self.with_store(move |s| f(s)).await;
        };
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Internal)?;
        let conn = pool.conns.lock().ok().and_then(|mut v| v.pop());
        let Some(conn) = conn else {
            // A reader was lost to a panicked task: fall back to the main handle.
            return self.with_store(move |s| f(s)).await;
        };
        let back = Arc::clone(&pool);
        tokio::task::spawn_blocking(move || {
            let out = f(conn.as_ref()).map_err(ApiError::from);
            if let Ok(mut v) = back.conns.lock() {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reader task failed");
            ApiError::Internal
        })?
    }

    /// A cached count for `key` at store generation `generation`, if any.
    pub(crate) fn cached_count(&self, key: &str, generation: (u64, u64)) -> Option<u64> {
        let m = self.counts.lock().ok()?;
        m.get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, n)| *n)
    }

    /// Remembers a count.
    pub(crate) fn cache_count(&self, key: String, generation: (u64, u64), n: u64) {
        if let Ok(mut m) = self.counts.lock() {
            if m.len() >= MAX_CACHED_COUNTS {
                m.clear();
            }
            m.insert(key, (generation, n));
        }
    }

    /// The same state with other settings.
    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    /// The settings.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// The sign-in rate limiter.
    pub fn limiter(&self) -> &SignInLimiter {
        &self.limiter
    }

    /// The request and sign-in counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The live pipeline's counters for `/stats`, null without a pipeline.
    pub(crate) fn pipeline_json(&self) -> Value {
        self.sink
            .as_ref()
            .and_then(|s| serde_json::to_value(s.stats()).ok())
            .unwrap_or(Value::Null)
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

/// The whole API as a router, ready for [`serve`] or `oneshot` tests. The routes, their
/// roles and bodies are documented in `docs/api.md` and served as OpenAPI at
/// `/api/v1/openapi.json`; [`ROUTES`] lists them for tests.
///
/// Unknown paths are 404 and wrong methods 405, both with the JSON error body; bodies over
/// [`MAX_BODY_BYTES`] are 413. Every response carries the security headers of
/// [`security_headers`].
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get_one))
        .route("/alerts/{id}/{action}", post(alerts::act))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::get_one))
        .route("/cases/{id}/alerts", post(cases::add_alerts))
        .route("/cases/{id}/close", post(cases::close))
        .route("/devices", get(alerts::devices))
        .route("/events", post(events::submit))
        .route(
            "/mail/score",
            post(mail::score).layer(DefaultBodyLimit::max(MAX_MAIL_BYTES)),
        )
        .route("/stats", get(cases::stats))
        .route("/audit", get(cases::audit))
        .route("/privacy/users", get(privacy::users))
        .route("/privacy/users/{user_id}", get(privacy::timeline))
        .route("/responses", get(responses::list))
        .route("/responses/{id}", get(responses::get_one))
        .route("/responses/{id}/approve", post(responses::approve))
        .route("/responses/{id}/reject", post(responses::reject));
    Router::new()
        .nest("/api/v1", api)
        .route("/metrics", get(metrics::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .merge(ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_body))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Every route as (method, path template), in the order of [`app`]; tests check each is
/// served and described in the OpenAPI document.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts/{id}"),
    ("POST", "/api/v1/alerts/{id}/acknowledge"),
    ("POST", "/api/v1/alerts/{id}/assign"),
    ("POST", "/api/v1/alerts/{id}/close"),
    ("POST", "/api/v1/alerts/{id}/reopen"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/{id}/alerts"),
    ("POST", "/api/v1/cases/{id}/close"),
    ("GET", "/api/v1/devices"),
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/mail/score"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/privacy/users"),
    ("GET", "/api/v1/privacy/users/{user_id}"),
    ("GET", "/api/v1/responses"),
    ("GET", "/api/v1/responses/{id}"),
    ("POST", "/api/v1/responses/{id}/approve"),
    ("POST", "/api/v1/responses/{id}/reject"),
    ("GET", "/metrics"),
];

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
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
    // mail may be larger than any other body
    let max = if req.uri().path() == "/api/v1/mail/score" {
        MAX_MAIL_BYTES
    } else {
        MAX_BODY_BYTES
    };
    if let Some(len) = req.headers().get(CONTENT_LENGTH) {
        let len = len
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::BadRequest("malformed content-length header".into()))?;
        if len > max as u64 {
            return Err(ApiError::PayloadTooLarge(max));
        }
    }
    Ok(next.run(req).await)
}

/// Adds the browser-hardening headers to every response: a strict Content-Security-Policy
/// (the dashboard loads only its own files), no MIME sniffing, no framing, no referrer, and
/// `no-store` on API answers so alert data is not kept in a browser cache.
async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/") || req.uri().path() == "/metrics";
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
