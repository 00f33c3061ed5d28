//! Prometheus metrics: request counts and latencies by route template (never by concrete
//! path, which could carry an id), sign-in failures, and alert counts read from the store at
//! scrape time. Text exposition format 0.0.4.

use crate::{ApiError, AppState, Principal, READ_ALERTS};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use ward_core::Severity;
use ward_store::AlertQuery;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// In-process counters behind `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    signin_failures: AtomicU64,
}

impl Metrics {
    /// Records one request to `route` (a template such as `/api/v1/alerts/{id}`).
    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            for (slot, bound) in h.counts.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *slot += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// Counts one failed or refused sign-in.
    pub fn signin_failure(&self) {
        self.signin_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition of the in-process counters.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP ward_http_requests_total HTTP requests by route template and status.\n# TYPE ward_http_requests_total counter"
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "ward_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ward_http_request_duration_seconds Request latency by route template.\n# TYPE ward_http_request_duration_seconds histogram"
        );
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let r = escape(route);
                for (bound, n) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "ward_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "ward_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}\nward_http_request_duration_seconds_sum{{route=\"{r}\"}} {}\nward_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ward_signin_failures_total Failed or rate-limited sign-ins.\n# TYPE ward_signin_failures_total counter\nward_signin_failures_total {}",
            self.signin_failures.load(Ordering::Relaxed)
        );
    }
}

/// Label values are route templates from our own router, but escape anyway.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware timing every matched route.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let t0 = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics()
        .observe(&route, resp.status().as_u16(), t0.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: any signed-in role or token (Prometheus sends a bearer token).
pub(crate) async fn metrics(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    who.require(READ_ALERTS)?;
    // Alerts at or above each severity, turned into counts per severity.
    let at_least = state
        .read(|s| {
            let mut v = Vec::with_capacity(5);
            for sev in [
                Severity::Info,
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ] {
                v.push((sev, s.count_alerts(&AlertQuery::new().min_severity(sev))?));
            }
            Ok(v)
        })
        .await?;
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP ward_build_info The running ward version.\n# TYPE ward_build_info gauge\nward_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "# HELP ward_alerts_total Alerts in the store by severity.\n# TYPE ward_alerts_total gauge"
    );
    for (i, (sev, n)) in at_least.iter().enumerate() {
        let above = at_least.get(i + 1).map_or(0, |(_, m)| *m);
        let _ = writeln!(
            out,
            "ward_alerts_total{{severity=\"{}\"}} {}",
            sev.as_str(),
            n.saturating_sub(above)
        );
    }
    state.metrics().render(&mut out);
    crate::events::render_metrics(state.sink().map(|s| s.stats()), &mut out);
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("/a", 200, 0.003);
        m.observe("/a", 200, 0.2);
        m.observe("/a", 500, 9.0);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("ward_http_requests_total{route=\"/a\",status=\"200\"} 2"));
        assert!(out.contains("ward_http_requests_total{route=\"/a\",status=\"500\"} 1"));
        assert!(
            out.contains("ward_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1")
        );
        assert!(
            out.contains("ward_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.25\"} 2")
        );
        assert!(
            out.contains("ward_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3")
        );
        assert!(out.contains("ward_http_request_duration_seconds_count{route=\"/a\"} 3"));
    }
}
