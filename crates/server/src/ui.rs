//! The dashboard: `GET /` and `GET /assets/{file}`, static files embedded in the binary at
//! build time (no CDN, no network, no files next to the binary).
//!
//! These routes are public: the files carry no data; everything the dashboard shows comes
//! from the authenticated API. The page loads only same-origin scripts and styles, so it runs
//! under `Content-Security-Policy: default-src 'self'` (no inline scripts, styles or handlers).

use crate::{ApiError, AppState};
use axum::Router;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// The page itself, always revalidated so a new binary's dashboard shows at once.
const INDEX: &[u8] = include_bytes!("../assets/index.html");

/// Files under `/assets/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/icon.svg"),
    },
];

/// `Cache-Control` of `/`: always ask the server again.
const CACHE_INDEX: &str = "no-cache";
/// `Cache-Control` of `/assets/*`: a short private cache; an upgrade shows within minutes.
const CACHE_ASSET: &str = "private, max-age=300";

/// The dashboard routes, merged into the API router by [`crate::app`].
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{file}", get(asset))
}

fn file(content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    file("text/html; charset=utf-8", CACHE_INDEX, INDEX)
}

async fn asset(name: Result<Path<String>, PathRejection>) -> Result<Response, ApiError> {
    let name = crate::body::path(name, "asset")?;
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| file(a.content_type, CACHE_ASSET, a.body))
        .ok_or(ApiError::NotFound("asset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_names_is_embedded() {
        let page = String::from_utf8_lossy(INDEX);
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
        }
        for part in page.split("/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "index.html names /assets/{name}, which is not embedded"
            );
        }
    }

    #[test]
    fn nothing_is_loaded_from_elsewhere_and_nothing_runs_inline() {
        for (name, body) in
            std::iter::once(("index.html", INDEX)).chain(ASSETS.iter().map(|a| (a.name, a.body)))
        {
            let text = String::from_utf8_lossy(body);
            for bad in ["http://", "https://", "//cdn", "@import"] {
                // The SVG namespace URI is an identifier, not a fetch.
                let hits = text
                    .match_indices(bad)
                    .filter(|(i, _)| !text[*i..].starts_with("http://www.w3.org/2000/svg"))
                    .count();
                assert_eq!(hits, 0, "{name} contains {bad}");
            }
        }
        let page = String::from_utf8_lossy(INDEX);
        assert!(!page.contains("<script>"), "inline script in index.html");
        assert!(!page.contains("style="), "inline style in index.html");
        assert!(!page.contains(" onclick"), "inline handler in index.html");
    }
}
