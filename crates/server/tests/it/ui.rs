//! The dashboard's static routes: `GET /` and `GET /assets/{file}`, public, embedded.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;
use ward_server::{AppState, app};
use ward_store::SqliteStore;

fn ui_app() -> axum::Router {
    app(AppState::new(Box::new(
        SqliteStore::open_in_memory().expect("in-memory store"),
    )))
}

/// Sends one request without credentials; returns status, content type, cache control, body.
async fn fetch(method: Method, uri: &str) -> (StatusCode, String, String, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let resp = ui_app().oneshot(req).await.expect("response");
    let status = resp.status();
    let header_text = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let ctype = header_text(header::CONTENT_TYPE);
    let cache = header_text(header::CACHE_CONTROL);
    let body = axum::body::to_bytes(resp.into_body(), 4 * 1024 * 1024)
        .await
        .expect("body")
        .to_vec();
    (status, ctype, cache, body)
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_without_credentials() {
    let (status, ctype, cache, body) = fetch(Method::GET, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "text/html; charset=utf-8");
    assert_eq!(cache, "no-cache");
    let page = String::from_utf8(body).expect("utf-8 page");
    for needle in [
        "<main id=\"main\"",
        "src=\"/assets/app.js\"",
        "href=\"/assets/app.css\"",
        "Skip to main content",
        "aria-live",
    ] {
        assert!(page.contains(needle), "index.html lacks {needle}");
    }
    for (file, want) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let (status, ctype, cache, body) = fetch(Method::GET, &format!("/assets/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(ctype, want, "{file}");
        assert!(cache.contains("max-age="), "{file}: {cache}");
        assert!(!body.is_empty(), "{file}");
    }
    let (status, ctype, _, body) = fetch(Method::HEAD, "/assets/app.css").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::OK, "text/css; charset=utf-8")
    );
    assert!(body.is_empty(), "HEAD has no body");
}

#[tokio::test]
async fn the_privacy_page_is_in_the_navigation_and_the_script() {
    let (_, _, _, page) = fetch(Method::GET, "/").await;
    let page = String::from_utf8(page).expect("utf-8 page");
    assert!(
        page.contains("href=\"#/privacy\" data-nav=\"privacy\""),
        "no Privacy link in the navigation"
    );
    let (status, _, _, js) = fetch(Method::GET, "/assets/app.js").await;
    assert_eq!(status, StatusCode::OK);
    let js = String::from_utf8(js).expect("utf-8 script");
    for needle in [
        "/privacy/users",
        "function viewPrivacy(",
        "function viewPrivacyUser(",
        "privacy: ['privacy'",
        // Names only ever as text nodes, never as markup.
        "a.patient_name ? h('div', null, a.patient_name)",
    ] {
        assert!(js.contains(needle), "app.js lacks {needle}");
    }
    for bad in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
    ] {
        assert!(!js.contains(bad), "app.js uses {bad}");
    }
}

#[tokio::test]
async fn the_responses_page_is_in_the_navigation_and_the_script() {
    let (_, _, _, page) = fetch(Method::GET, "/").await;
    let page = String::from_utf8(page).expect("utf-8 page");
    assert!(
        page.contains("href=\"#/responses\" data-nav=\"responses\""),
        "no Responses link in the navigation"
    );
    let (status, _, _, js) = fetch(Method::GET, "/assets/app.js").await;
    assert_eq!(status, StatusCode::OK);
    let js = String::from_utf8(js).expect("utf-8 script");
    for needle in [
        "function viewResponses(",
        "responses: ['responses'",
        // The approve / reject calls and the alert page's section.
        "`/responses/${encodeURIComponent(j.id)}/${verb}`",
        "query({ alert: id, limit: 100 })",
        "function alertResponse(",
        // Buttons only for a role the job names; the nav entry hidden for viewers.
        "if (!roles.includes(session.role))",
        "RESPONSE_ROLES = new Set(['admin', 'analyst', 'auditor', 'clinical_engineer', 'privacy_officer'])",
    ] {
        assert!(js.contains(needle), "app.js lacks {needle}");
    }
    let (_, _, _, css) = fetch(Method::GET, "/assets/app.css").await;
    let css = String::from_utf8(css).expect("utf-8 css");
    assert!(
        css.contains(".job-awaiting_approval"),
        "no job state styles"
    );
}

#[tokio::test]
async fn unknown_and_hostile_asset_names_are_json_404s() {
    let long = format!("/assets/{}", "a".repeat(10_000));
    for uri in [
        "/assets/nope.js",
        "/assets/APP.JS",
        "/assets/app.js%00",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/%2e%2e",
        "/assets/index.html",
        "/assets/",
        "/assets/app.js/x",
        long.as_str(),
    ] {
        let (status, ctype, _, body) = fetch(Method::GET, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(ctype.starts_with("application/json"), "{uri}: {ctype}");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!(v["error"]["code"], "not_found", "{uri}");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.len() < 100 && !msg.contains("aaaa"), "{uri}: {msg}");
    }
}

#[tokio::test]
async fn static_routes_refuse_other_methods() {
    for uri in ["/", "/assets/app.js"] {
        for m in [Method::POST, Method::DELETE, Method::PUT] {
            let (status, _, _, body) = fetch(m.clone(), uri).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {uri}");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json error");
            assert_eq!(v["error"]["code"], "method_not_allowed", "{m} {uri}");
        }
    }
}
