//! Bearer-token authentication and role checks.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ward_core::Timestamp;
use ward_store::Role;
use ward_store::auth::token_hash;

/// Every role may read alerts and devices in this slice.
pub const READ_ALERTS: &[Role] = &Role::ALL;

/// Longest bearer token considered; anything longer is rejected without hashing.
const MAX_TOKEN_LEN: usize = 512;

/// The authenticated caller of a request. Extracting it checks `Authorization: Bearer <token>`
/// against the store (by SHA-256 of the token) and records the token's use; a missing,
/// malformed, unknown or revoked token, or a disabled user, is [`ApiError::Unauthorized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name.
    pub user: String,
    /// The user's role.
    pub role: Role,
    /// Id of the token used.
    pub token_id: u64,
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

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(bearer(value).ok_or(ApiError::Unauthorized)?);
        let now = now();
        let found = state
            .with_store(move |store| {
                let Some((user, token)) = store.find_user_by_token_hash(&hash)? else {
                    return Ok(None);
                };
                store.touch_token(token.id, now)?;
                Ok(Some(Principal {
                    user: user.name,
                    role: user.role,
                    token_id: token.id,
                }))
            })
            .await?;
        found.ok_or(ApiError::Unauthorized)
    }
}

/// Wall-clock time (the server is allowed to read the clock; pure crates are not).
fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

#[cfg(test)]
mod tests {
    use super::bearer;

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
}
