//! Webhooks: one HTTP(S) POST of the alert as JSON, optionally HMAC-signed.

use super::{Actions, ActionsConfig, ActionsConfigError, clip, head, secret};
use crate::action::{ActionContext, ActionError, Outcome};
use crate::playbook::WebhookSpec;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use ward_core::alert::Alert;

/// The header carrying `sha256=<hex HMAC-SHA256 of the exact body bytes>`.
pub const SIGNATURE_HEADER: &str = "X-Ward-Signature";

/// Headers ward sets itself; a playbook may not set them.
const RESERVED: [&str; 7] = [
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "idempotency-key",
    "x-ward-signature",
    "user-agent",
];

/// The signature header's value for `body` under `key`: `sha256=` and the lower-case hex
/// HMAC-SHA256.
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&k, body);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in tag.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What a receiver gets.
#[derive(Serialize)]
struct Body<'a> {
    alert: &'a Alert,
    playbook: &'a str,
    step: &'a str,
    idempotency_key: &'a str,
    attempt: u32,
}

/// The HTTP client: no redirects followed, statuses returned rather than raised, no proxy
/// unless configured.
pub(super) fn agent(config: &ActionsConfig) -> Result<ureq::Agent, ActionsConfigError> {
    let proxy = match &config.http_proxy {
        Some(p) => Some(
            ureq::Proxy::new(p)
                .map_err(|_| ActionsConfigError("http_proxy is not a proxy URL".to_owned()))?,
        ),
        None => None,
    };
    let cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(config.user_agent.as_str())
        .proxy(proxy)
        .build();
    Ok(ureq::Agent::new_with_config(cfg))
}

/// The URL without user information (`https://user:pass@host/` shows as `https://host/`).
fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

fn sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "cookie"
        || ["auth", "token", "secret", "key", "password", "signature"]
            .iter()
            .any(|w| n.contains(w))
}

/// Checks the playbook's extra headers.
fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), ActionError> {
    for (k, v) in headers {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ActionError::Permanent(format!(
                "webhook.headers: bad header name {:?}",
                clip(k, 64)
            )));
        }
        if RESERVED.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(ActionError::Permanent(format!(
                "webhook.headers: {k} is set by ward and may not be overridden"
            )));
        }
        if v.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ActionError::Permanent(format!(
                "webhook.headers: the value of {k} holds a control character"
            )));
        }
    }
    Ok(())
}

/// One POST of the alert to `spec.url`.
pub(super) fn run(
    actions: &Actions,
    spec: &WebhookSpec,
    ctx: &ActionContext<'_>,
    label: &str,
) -> Result<Outcome, ActionError> {
    let url = spec.url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ActionError::Permanent(
            "webhook.url must start with http:// or https://".to_owned(),
        ));
    }
    check_headers(&spec.headers)?;
    let shown = display_url(url);
    let body = serde_json::to_vec(&Body {
        alert: ctx.alert,
        playbook: ctx.playbook,
        step: ctx.step,
        idempotency_key: ctx.idempotency_key,
        attempt: ctx.attempt,
    })
    .map_err(|e| ActionError::Permanent(format!("webhook body: {e}")))?;

    if ctx.dry_run {
        return Ok(dry_run(spec, ctx, label, &shown, &body));
    }

    let signature = match &spec.secret_env {
        Some(var) => Some(sign(secret(var)?.as_bytes(), &body)),
        None => None,
    };
    let timeout = actions.timeout(ctx);
    let mut req = actions
        .agent
        .post(url)
        .config()
        .timeout_global(Some(timeout))
        .build();
    for (k, v) in &spec.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req = req
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", ctx.idempotency_key);
    if let Some(sig) = &signature {
        req = req.header(SIGNATURE_HEADER, sig.as_str());
    }
    let mut resp = req
        .send(&body[..])
        .map_err(|e| classify(e, &shown, timeout.as_secs()))?;
    let status = resp.status().as_u16();
    let mut got = Vec::new();
    // The status decides; an unreadable or cut-short body does not change it.
    let _ = resp
        .body_mut()
        .as_reader()
        .take(actions.config.max_response_bytes)
        .read_to_end(&mut got);
    let answered = format!("{label}: POST {shown} answered {status}");
    match status {
        200..=299 => Ok(Outcome {
            summary: answered,
            detail: json!({
                "method": "POST",
                "url": shown,
                "status": status,
                "signed": signature.is_some(),
                "response": head(&got, 1024),
            }),
        }),
        408 | 429 | 500..=599 => Err(ActionError::Retryable(answered)),
        _ => Err(ActionError::Permanent(answered)),
    }
}

/// Retryable when the network may recover (connection, timeout, a broken exchange);
/// permanent when the request itself is wrong (URL, TLS certificate, redirect).
fn classify(e: ureq::Error, url: &str, timeout_secs: u64) -> ActionError {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => {
            ActionError::Retryable(format!("POST {url}: no answer within {timeout_secs} s"))
        }
        E::Io(io) => ActionError::Retryable(format!("POST {url}: {io}")),
        E::ConnectionFailed | E::HostNotFound | E::BodyStalled => {
            ActionError::Retryable(format!("POST {url}: {e}"))
        }
        E::Protocol(p) => ActionError::Retryable(format!("POST {url}: HTTP protocol error: {p}")),
        E::ConnectProxyFailed(_) => ActionError::Retryable(format!("POST {url}: proxy failed")),
        E::BadUri(_) | E::Http(_) => ActionError::Permanent(format!("POST {url}: invalid request")),
        other => ActionError::Permanent(format!("POST {url}: {other}")),
    }
}

fn dry_run(
    spec: &WebhookSpec,
    ctx: &ActionContext<'_>,
    label: &str,
    url: &str,
    body: &[u8],
) -> Outcome {
    let mut headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .map(|(k, v)| {
            let v = if sensitive(k) {
                "<redacted>".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    headers.push(("Idempotency-Key".to_owned(), ctx.idempotency_key.to_owned()));
    let mut warning = String::new();
    if let Some(var) = &spec.secret_env {
        headers.push((
            SIGNATURE_HEADER.to_owned(),
            format!("sha256=<HMAC-SHA256 of the body, key from ${var}>"),
        ));
        if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
            warning = format!(" (warning: ${var} is not set; a real run would fail)");
        }
    }
    let list: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    Outcome {
        summary: format!(
            "dry run: {label} would POST {url} with headers [{}] and a {}-byte JSON body holding the alert{warning}",
            list.join("; "),
            body.len()
        ),
        detail: json!({
            "dry_run": true,
            "method": "POST",
            "url": url,
            "headers": headers.into_iter().collect::<BTreeMap<_, _>>(),
            "body_bytes": body.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn user_information_is_hidden() {
        for (url, shown) in [
            ("https://u:p@h.example/x?y=1", "https://h.example/x?y=1"),
            ("http://h.example:8080/a@b", "http://h.example:8080/a@b"),
            ("https://h.example", "https://h.example"),
            ("nonsense", "nonsense"),
        ] {
            assert_eq!(display_url(url), shown);
        }
    }

    #[test]
    fn reserved_and_malformed_headers_are_refused() {
        for (k, v) in [
            ("Idempotency-Key", "x"),
            ("content-type", "text/plain"),
            ("X-Ward-Signature", "sha256=00"),
            ("X-Fine", "a\r\nInjected: yes"),
            ("Bad Name", "x"),
        ] {
            let h = BTreeMap::from([(k.to_owned(), v.to_owned())]);
            assert!(check_headers(&h).is_err(), "{k}: {v:?} accepted");
        }
        let ok = BTreeMap::from([("X-Tenant".to_owned(), "icu\t2".to_owned())]);
        assert_eq!(check_headers(&ok), Ok(()));
    }
}
