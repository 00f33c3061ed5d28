//! Who is calling: session cookies (people) and bearer tokens (machines), CSRF checks, role
//! checks, and the sign-in, sign-out and `me` routes with their rate limit.

use crate::{ApiError, AppState, body};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ward_core::Timestamp;
use ward_store::auth::{new_token, token_hash, verify_password};
use ward_store::{AuditRecord, Role, Session};

/// Every role may read alerts, cases, devices and statistics.
pub const READ_ALERTS: &[Role] = &Role::ALL;
/// Who may change alerts and cases.
pub const TRIAGE: &[Role] = &[Role::Admin, Role::Analyst, Role::PrivacyOfficer];
/// Who may read the audit trail.
pub const READ_AUDIT: &[Role] = &[Role::Admin, Role::Auditor, Role::PrivacyOfficer];

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ward_session";
/// Header carrying the anti-CSRF token on state changes made with the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Longest bearer token or cookie secret considered; anything longer is rejected unhashed.
const MAX_TOKEN_LEN: usize = 512;
/// `last_seen` / `last_used` are written at most this often per session or token, so
/// reads do not turn into writes.
const TOUCH_EVERY_MICROS: i64 = 60_000_000;

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer`; the token's id.
    Token(u64),
    /// The session cookie: the session's hash and CSRF token.
    Session {
        /// SHA-256 hex of the cookie secret.
        hash: String,
        /// The session's anti-CSRF token.
        csrf: String,
    },
}

/// The authenticated caller of a request. Extracting it checks the bearer token (when an
/// `Authorization` header is present) or else the session cookie, with expiry; on a state
/// change (any method but GET, HEAD, OPTIONS) made with the cookie it also checks the
/// `X-CSRF-Token` header. Failures: [`ApiError::Unauthorized`], [`ApiError::Csrf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name.
    pub user: String,
    /// The user's role.
    pub role: Role,
    /// Token or session.
    pub via: Via,
}

impl Principal {
    /// `Ok` when the caller's role is in `allowed`, else [`ApiError::Forbidden`]. Every
    /// protected route starts with this call, so the role policy reads off the handlers.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// An audit record of an action by this caller.
    pub(crate) fn audit(
        &self,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord::new(now(), self.user.as_str(), action, target, details)
    }
}

/// The token in an `Authorization` header value: scheme `Bearer` (any case), one space-free token.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && !token.contains(char::is_whitespace))
    .then_some(token)
}

/// The value of cookie `name` among all `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_LEN)
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Equal-length comparison that does not stop at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = now();
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
            let hash = token_hash(bearer(value).ok_or(ApiError::Unauthorized)?);
            let found = state
                .read(move |store| store.find_user_by_token_hash(&hash))
                .await?;
            let (user, token) = found.ok_or(ApiError::Unauthorized)?;
            if token
                .last_used
                .is_none_or(|t| now.0 - t.0 >= TOUCH_EVERY_MICROS)
            {
                let id = token.id;
                state.with_store(move |s| s.touch_token(id, now)).await?;
            }
            return Ok(Principal {
                user: user.name,
                role: user.role,
                via: Via::Token(token.id),
            });
        }
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(secret);
        let opts = state.options().clone();
        let key = hash.clone();
        let found = state.read(move |store| store.find_session(&key)).await?;
        let (user, session) = found.ok_or(ApiError::Unauthorized)?;
        let idle = now.0 - session.last_seen.0 > opts.session_idle.as_micros() as i64;
        let old = now.0 - session.created.0 > opts.session_max.as_micros() as i64;
        if idle || old {
            state
                .with_store(move |s| s.end_session(&hash, None))
                .await?;
            return Err(ApiError::Unauthorized);
        }
        if now.0 - session.last_seen.0 >= TOUCH_EVERY_MICROS {
            let key = hash.clone();
            state
                .with_store(move |s| s.touch_session(&key, now))
                .await?;
        }
        let found = Some(Principal {
            user: user.name,
            role: user.role,
            via: Via::Session {
                hash,
                csrf: session.csrf,
            },
        });
        let who = found.ok_or(ApiError::Unauthorized)?;
        if changes_state(&parts.method)
            && let Via::Session { csrf, .. } = &who.via
        {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same(sent, csrf) {
                return Err(ApiError::Csrf);
            }
        }
        Ok(who)
    }
}

/// Wall-clock time (the server is allowed to read the clock; pure crates are not).
pub fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

// ---- the sign-in rate limit ----

/// Failed sign-ins allowed per user name within [`SignInLimiter::WINDOW`].
const PER_USER: usize = 5;
/// Failed sign-ins allowed per client address within the window.
const PER_ADDRESS: usize = 20;
/// Keys remembered at most (oldest forgotten first), bounding memory under a spray attack.
const MAX_KEYS: usize = 10_000;

/// Counts failed sign-ins per user name and per client address in a sliding window. While
/// either is over its limit, sign-in is refused with 429 before any password is checked.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SignInLimiter {
    /// The sliding window.
    pub const WINDOW: Duration = Duration::from_secs(300);

    fn keys(user: &str, addr: Option<IpAddr>) -> [(String, usize); 2] {
        [
            (format!("u:{}", user.to_lowercase()), PER_USER),
            (
                format!("a:{}", addr.map_or_else(|| "-".into(), |a| a.to_string())),
                PER_ADDRESS,
            ),
        ]
    }

    /// `Some(seconds)` to wait when `user` or `addr` is over its limit at `at`.
    pub fn blocked(&self, user: &str, addr: Option<IpAddr>, at: Instant) -> Option<u64> {
        let mut map = self.failures.lock().ok()?;
        let mut wait: Option<u64> = None;
        for (key, limit) in Self::keys(user, addr) {
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| at.duration_since(*t) >= Self::WINDOW)
                {
                    q.pop_front();
                }
                if q.len() >= limit
                    && let Some(first) = q.front()
                {
                    let left = Self::WINDOW.saturating_sub(at.duration_since(*first));
                    let secs = left.as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w| w.max(secs)));
                }
            }
        }
        wait
    }

    /// Records one failure for `user` and `addr` at `at`.
    pub fn fail(&self, user: &str, addr: Option<IpAddr>, at: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        // Room for the two keys below: forget the keys whose newest failure is oldest.
        while map.len() + 2 > MAX_KEYS {
            let Some(k) = map
                .iter()
                .min_by_key(|(_, q)| q.back().copied())
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&k);
        }
        for (key, limit) in Self::keys(user, addr) {
            let q = map.entry(key).or_default();
            q.push_back(at);
            while q.len() > limit {
                q.pop_front();
            }
        }
    }

    /// Forgets the failures of `user` (after a successful sign-in); the address keeps its.
    pub fn succeed(&self, user: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("u:{}", user.to_lowercase()));
        }
    }
}

// ---- routes ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    username: String,
    password: String,
}

/// A well-formed Argon2id hash of a random password, verified against when the user does
/// not exist, so a wrong user name costs as much time as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let random = new_token().map_or_else(|_| "x".repeat(40), |(t, _)| t);
        ward_store::auth::hash_password(&random).unwrap_or_default()
    })
}

fn client_ip(parts_ext: &axum::http::Extensions) -> Option<IpAddr> {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// `POST /api/v1/auth/login`: checks the password (Argon2id, on the blocking pool), starts a
/// session, sets the cookie and returns the CSRF token. Rate-limited; audited either way.
pub(crate) async fn login(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let addr = client_ip(req.extensions());
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES))?;
    let LoginBody { username, password } = body::json(&parts.headers, &bytes)?;
    if username.is_empty() || username.len() > 128 || password.len() > 1024 {
        return Err(ApiError::BadRequest(
            "username must be 1 to 128 bytes and password at most 1024".into(),
        ));
    }
    let limiter = state.limiter();
    if let Some(wait) = limiter.blocked(&username, addr, Instant::now()) {
        state.metrics().signin_failure();
        return Err(ApiError::TooManyRequests(wait));
    }
    let opts = state.options().clone();
    let user_for_store = username.clone();
    let outcome = state
        .with_store(move |store| {
            let user = store.get_user(&user_for_store)?;
            let stored = store.password_hash(&user_for_store)?;
            let now = now();
            let hash = stored.as_deref().unwrap_or_else(|| dummy_hash());
            let good = verify_password(&password, hash);
            match user {
                Some(u) if good && stored.is_some() && !u.disabled => {
                    let random = || {
                        new_token().map_err(|e| ward_store::StoreError::Backend {
                            location: "random".into(),
                            source: e.to_string().into(),
                        })
                    };
                    let (secret, hash) = random()?;
                    let (csrf, _) = random()?;
                    let session = Session {
                        hash,
                        user: u.name.clone(),
                        csrf: csrf.clone(),
                        created: now,
                        last_seen: now,
                    };
                    // Housekeeping: forget sessions that can no longer be used.
                    store.purge_sessions(
                        Timestamp(now.0 - opts.session_idle.as_micros() as i64),
                        Timestamp(now.0 - opts.session_max.as_micros() as i64),
                    )?;
                    let rec = AuditRecord::new(
                        now,
                        u.name.as_str(),
                        "signin.ok",
                        u.name.as_str(),
                        json!({ "via": "password" }),
                    );
                    store.create_session(&session, &rec)?;
                    Ok(Ok((u, secret, csrf)))
                }
                other => {
                    // Name the user only when the account exists: a password typed into the
                    // user field must not land in the audit trail.
                    let (target, reason) = match other {
                        Some(u) if u.disabled => (u.name, "disabled"),
                        Some(u) => (u.name, "wrong password"),
                        None => (String::new(), "unknown user"),
                    };
                    store.append_audit(
                        now,
                        "anonymous",
                        "signin.fail",
                        &target,
                        &json!({ "reason": reason }),
                    )?;
                    Ok(Err(()))
                }
            }
        })
        .await?;
    match outcome {
        Ok((user, secret, csrf)) => {
            limiter.succeed(&username);
            let mut cookie = format!(
                "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                opts.session_max.as_secs()
            );
            if opts.secure_cookies {
                cookie.push_str("; Secure");
            }
            let mut resp = Json(json!({
                "user": user.name, "role": user.role, "csrf_token": csrf,
            }))
            .into_response();
            let v = HeaderValue::from_str(&cookie).map_err(|_| ApiError::Internal)?;
            resp.headers_mut().insert(SET_COOKIE, v);
            Ok(resp)
        }
        Err(()) => {
            limiter.fail(&username, addr, Instant::now());
            state.metrics().signin_failure();
            Err(ApiError::BadCredentials)
        }
    }
}

/// `GET /api/v1/auth/me`: the caller, and the session's CSRF token (null for a token).
pub(crate) async fn me(who: Principal) -> Json<serde_json::Value> {
    let csrf = match &who.via {
        Via::Session { csrf, .. } => Some(csrf.clone()),
        Via::Token(_) => None,
    };
    Json(json!({ "user": who.user, "role": who.role, "csrf_token": csrf }))
}

/// `POST /api/v1/auth/logout`: ends the session (audited) and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    if let Via::Session { hash, .. } = &who.via {
        let hash = hash.clone();
        let rec = who.audit("signout", &who.user, json!({}));
        state
            .with_store(move |s| s.end_session(&hash, Some(&rec)))
            .await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("ward_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let check =
            |input: &str, expect: Option<&str>| assert_eq!(bearer(input), expect, "{input:?}");
        check("Bearer ward_abc", Some("ward_abc"));
        check("bearer  ward_abc ", Some("ward_abc"));
        check("Basic dXNlcjpwYXNz", None);
        check("Bearer", None);
        check("Bearer ", None);
        check("Bearer a b", None);
        check("", None);
        check(&format!("Bearer {}", "x".repeat(513)), None);
    }

    #[test]
    fn cookie_parsing() {
        let check = |headers: &[&str], expect: Option<&str>| {
            let mut h = HeaderMap::new();
            for v in headers {
                h.append(
                    COOKIE,
                    HeaderValue::from_str(v).unwrap_or_else(|_| panic!()),
                );
            }
            assert_eq!(cookie(&h, SESSION_COOKIE), expect, "{headers:?}");
        };
        check(&["ward_session=abc"], Some("abc"));
        check(&["a=1; ward_session=abc; b=2"], Some("abc"));
        check(&["a=1", "ward_session=abc"], Some("abc"));
        check(&["xward_session=abc"], None);
        check(&["ward_session="], None);
        check(&[], None);
        check(&[&format!("ward_session={}", "x".repeat(600))], None);
    }

    #[test]
    fn limiter_blocks_after_failures_and_forgets_after_the_window() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        let ip: Option<IpAddr> = "127.0.0.1".parse().ok();
        for _ in 0..PER_USER {
            assert_eq!(l.blocked("alice", ip, t0), None);
            l.fail("alice", ip, t0);
        }
        let wait = l.blocked("Alice", ip, t0);
        assert!(wait.is_some_and(|w| w > 0 && w <= 300), "{wait:?}");
        // Another user from the same address is not yet blocked.
        assert_eq!(l.blocked("bob", ip, t0), None);
        // The window passes.
        let later = t0 + SignInLimiter::WINDOW + Duration::from_secs(1);
        assert_eq!(l.blocked("alice", ip, later), None);
        // A success clears the user's count.
        l.fail("carol", ip, t0);
        l.succeed("carol");
        assert_eq!(l.blocked("carol", ip, t0), None);
    }

    #[test]
    fn limiter_blocks_an_address_spraying_many_users() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        let ip: Option<IpAddr> = "10.0.0.9".parse().ok();
        for i in 0..PER_ADDRESS {
            l.fail(&format!("user{i}"), ip, t0);
        }
        assert!(l.blocked("someone-new", ip, t0).is_some());
        assert_eq!(l.blocked("someone-new", "10.0.0.10".parse().ok(), t0), None);
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 50) {
            l.fail(&format!("u{i}"), None, t0);
        }
        let n = l.failures.lock().map(|m| m.len()).unwrap_or(0);
        assert!(n <= MAX_KEYS, "{n}");
    }

    #[test]
    fn constant_time_compare() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
