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

/// The value of cookie `name` among all `Cookie` headers; `None` when absent, empty,
/// overlong, or sent more than once (a planted second cookie must not shadow the real one).
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.trim());
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(first).filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_LEN)
}

/// The session cookie's name: with `Secure`, the `__Host-` prefix makes browsers refuse it
/// unless it was set by this origin over HTTPS, without a Domain, for path `/`.
pub fn cookie_name(opts: &crate::ServerOptions) -> &'static str {
    if opts.secure_cookies {
        "__Host-ward_session"
    } else {
        SESSION_COOKIE
    }
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
        let opts = state.options().clone();
        let secret = cookie(&parts.headers, cookie_name(&opts)).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(secret);
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

/// Sign-in attempts allowed per user name within [`SignInLimiter::WINDOW`].
const PER_USER: usize = 5;
/// Sign-in attempts allowed per client address within the window.
const PER_ADDRESS: usize = 20;
/// Keys remembered at most (oldest forgotten first), bounding memory under a spray attack.
const MAX_KEYS: usize = 10_000;

/// Counts sign-in attempts per user name and per client address in a sliding window. An
/// attempt is counted *before* its password is checked (so a burst of concurrent guesses is
/// cut off at the limit, not after it), and a successful one is taken back. While either key
/// is at its limit, sign-in is refused with 429 without checking any password. It also bounds
/// how many Argon2 checks run at once.
#[derive(Debug)]
pub struct SignInLimiter {
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
    verify_slots: tokio::sync::Semaphore,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self {
            attempts: Mutex::new(HashMap::new()),
            verify_slots: tokio::sync::Semaphore::new(VERIFY_SLOTS),
        }
    }
}

/// Argon2 checks allowed at once (each takes ~19 MiB and tens of milliseconds of CPU).
const VERIFY_SLOTS: usize = 2;

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

    /// Counts an attempt by `user` from `addr` at `at`, or says how many seconds to wait when
    /// either is at its limit (and counts nothing).
    pub fn begin(&self, user: &str, addr: Option<IpAddr>, at: Instant) -> Result<(), u64> {
        let Ok(mut map) = self.attempts.lock() else {
            return Err(Self::WINDOW.as_secs());
        };
        let keys = Self::keys(user, addr);
        let mut wait: Option<u64> = None;
        for (key, limit) in &keys {
            if let Some(q) = map.get_mut(key) {
                while q
                    .front()
                    .is_some_and(|t| at.duration_since(*t) >= Self::WINDOW)
                {
                    q.pop_front();
                }
                if q.len() >= *limit
                    && let Some(first) = q.front()
                {
                    let left = Self::WINDOW.saturating_sub(at.duration_since(*first));
                    let secs = left.as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w| w.max(secs)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        // Room for the two keys: forget the keys whose newest attempt is oldest.
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
        for (key, limit) in keys {
            let q = map.entry(key).or_default();
            q.push_back(at);
            while q.len() > limit {
                q.pop_front();
            }
        }
        Ok(())
    }

    /// Takes back a successful attempt: the user's count is cleared, the address loses one.
    pub fn succeed(&self, user: &str, addr: Option<IpAddr>) {
        if let Ok(mut map) = self.attempts.lock() {
            let [(u, _), (a, _)] = Self::keys(user, addr);
            map.remove(&u);
            if let Some(q) = map.get_mut(&a) {
                q.pop_back();
            }
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
    if let Err(wait) = limiter.begin(&username, addr, Instant::now()) {
        state.metrics().signin_failure();
        return Err(ApiError::TooManyRequests(wait));
    }
    let opts = state.options().clone();
    // 1. Read the account on a reader (no write lock held while hashing).
    let name = username.clone();
    let (user, stored) = state
        .read(move |s| Ok((s.get_user(&name)?, s.password_hash(&name)?)))
        .await?;
    // 2. Check the password on the blocking pool, a few at a time. An unknown user is checked
    //    against a dummy hash, so timing does not tell which names exist.
    let slot = limiter
        .verify_slots
        .acquire()
        .await
        .map_err(|_| ApiError::Internal)?;
    let hash = stored.clone().unwrap_or_else(|| dummy_hash().to_owned());
    let good = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|_| ApiError::Internal)?;
    drop(slot);
    // 3. Write the session or the failure, with its audit entry.
    let presented = cookie(&parts.headers, cookie_name(&opts)).map(token_hash);
    let outcome = state
        .with_store(move |store| {
            let now = now();
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
                    // A session presented with the sign-in is replaced, never kept (no
                    // fixation); and forget sessions that can no longer be used.
                    if let Some(old) = presented {
                        store.end_session(&old, None)?;
                    }
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
            limiter.succeed(&username, addr);
            let mut cookie = format!(
                "{}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                cookie_name(&opts),
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
        check(&["ward_session=abc; ward_session=planted"], None);
        check(&["ward_session=abc", "ward_session=planted"], None);
        check(&["ward_session="], None);
        check(&[], None);
        check(&[&format!("ward_session={}", "x".repeat(600))], None);
    }

    #[test]
    fn limiter_counts_attempts_before_they_are_checked() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        let ip: Option<IpAddr> = "127.0.0.1".parse().ok();
        // A burst: only PER_USER attempts get through, however concurrent.
        let passed = (0..40).filter(|_| l.begin("alice", ip, t0).is_ok()).count();
        assert_eq!(passed, PER_USER);
        let wait = l.begin("Alice", ip, t0).err();
        assert!(wait.is_some_and(|w| w > 0 && w <= 300), "{wait:?}");
        // Another user from the same address is not yet blocked.
        assert!(l.begin("bob", ip, t0).is_ok());
        // The window passes.
        let later = t0 + SignInLimiter::WINDOW + Duration::from_secs(1);
        assert!(l.begin("alice", ip, later).is_ok());
        // A success is taken back.
        let other: Option<IpAddr> = "10.9.9.9".parse().ok();
        for _ in 0..10 {
            assert!(l.begin("carol", other, t0).is_ok());
            l.succeed("carol", other);
        }
    }

    #[test]
    fn limiter_blocks_an_address_spraying_many_users() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        let ip: Option<IpAddr> = "10.0.0.9".parse().ok();
        for i in 0..PER_ADDRESS {
            assert!(l.begin(&format!("user{i}"), ip, t0).is_ok());
        }
        assert!(l.begin("someone-new", ip, t0).is_err());
        assert!(l.begin("someone-new", "10.0.0.10".parse().ok(), t0).is_ok());
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let l = SignInLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 50) {
            let ip = IpAddr::from([10, 0, (i / 256 % 256) as u8, (i % 256) as u8]);
            let _ = l.begin(&format!("u{i}"), Some(ip), t0);
        }
        let n = l.attempts.lock().map(|m| m.len()).unwrap_or(0);
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
