//! Sign-in building blocks: roles, password hashing and API tokens. Kept in `ward-store`
//! because the user and token tables live here, and small enough that the server and the
//! binary share one implementation.
//!
//! - Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes,
//!   1 lane, as OWASP recommends) and a 16-byte random salt from `ring`'s system generator,
//!   stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
//! - API tokens are 32 random bytes, shown once as `ward_` + 64 hex digits; only their
//!   SHA-256 (hex) is stored, so a copy of the database does not hand out working tokens.
//!
//! No IO and no clock; the only outside input is the operating system's random generator.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in bytes (Argon2 itself takes more; this bounds the work).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Prefix of every API token, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "ward_";

/// Largest Argon2 memory cost (KiB) [`verify_password`] accepts from a stored hash, so a
/// planted hash cannot make a sign-in allocate gigabytes.
const MAX_M_COST: u32 = 256 * 1024;
/// Largest Argon2 time cost and parallelism accepted from a stored hash.
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

/// What a user may do. Checked by the server on every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including user management and configuration.
    Admin,
    /// Triage alerts and cases, approve or reject responses.
    Analyst,
    /// Review EHR-access alerts, re-identify pseudonyms (audited), export evidence.
    PrivacyOfficer,
    /// Read everything including the audit trail; change nothing.
    Auditor,
    /// Read alerts and the dashboard.
    Viewer,
    /// Biomedical / clinical engineering: approve or reject responses that would touch a
    /// life-sustaining or life-supporting device; read alerts and devices.
    ClinicalEngineer,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 6] = [
        Self::Admin,
        Self::Analyst,
        Self::PrivacyOfficer,
        Self::Auditor,
        Self::Viewer,
        Self::ClinicalEngineer,
    ];

    /// The stored and serialised name: `admin`, `analyst`, `privacy_officer`, `auditor`,
    /// `viewer`, `clinical_engineer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Analyst => "analyst",
            Self::PrivacyOfficer => "privacy_officer",
            Self::Auditor => "auditor",
            Self::Viewer => "viewer",
            Self::ClinicalEngineer => "clinical_engineer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {shown:?}: expected one of admin, analyst, privacy_officer, auditor, viewer, clinical_engineer"
)]
pub struct UnknownRole {
    /// The rejected name, cut to 64 characters.
    pub shown: String,
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole {
                shown: s.chars().take(64).collect(),
            })
    }
}

/// Why a password or token could not be made. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    /// Longer than [`MAX_PASSWORD_LEN`] bytes.
    #[error("password is too long: at most {MAX_PASSWORD_LEN} bytes")]
    PasswordTooLong,
    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// Argon2 refused its input (should not happen with the fixed parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks the password policy: [`MIN_PASSWORD_CHARS`] characters to [`MAX_PASSWORD_LEN`]
/// bytes.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(AuthError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort);
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| AuthError::Random)?;
    Ok(b)
}

/// Hashes a password with Argon2id and a fresh random salt; returns the PHC string. Applies
/// [`check_password_policy`] first. Slow on purpose (tens of milliseconds): call it off an
/// async executor thread.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    check_password_policy(password)?;
    let salt = random_bytes::<16>()?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// `true` when `password` matches the Argon2id PHC string `phc`. The comparison of the
/// computed and stored hashes is constant-time (the `argon2` crate's verifier). A malformed
/// hash, another algorithm, or cost parameters beyond sane bounds give `false`, not an error,
/// so a damaged record cannot be told apart from a wrong password by a caller.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN || phc.len() > 512 {
        return false;
    }
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm.as_str() != "argon2id" {
        return false;
    }
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST || params.t_cost() > MAX_T_COST || params.p_cost() > MAX_P_COST
    {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// `true` when `s` looks like a PHC string this module made (`$argon2id$...`). Stores use it
/// to refuse a plaintext password passed where a hash belongs.
pub fn is_password_hash(s: &str) -> bool {
    s.starts_with("$argon2id$") && s.len() <= 512 && PasswordHash::new(s).is_ok()
}

/// A new API token: `(token, sha256_hex)`. Show `token` to the user once; store only the hash
/// (see [`token_hash`]).
pub fn new_token() -> Result<(String, String), AuthError> {
    let token = format!(
        "{TOKEN_PREFIX}{}",
        crate::audit::hex(&random_bytes::<32>()?)
    );
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// The stored form of a token presented by a client: SHA-256 of its bytes, lowercase hex. A
/// token has 256 random bits, so a fast unsalted hash is enough (no dictionary to attack).
pub fn token_hash(token: &str) -> String {
    crate::audit::hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// `true` when `s` is a SHA-256 hex digest (64 lowercase hex digits).
pub fn is_token_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Longest accepted user name, in bytes.
pub const MAX_USER_NAME_LEN: usize = 64;

/// Checks a user name: 1 to [`MAX_USER_NAME_LEN`] bytes of lowercase ASCII letters, digits,
/// `.`, `_`, `-` and `@`, starting with a letter or digit. Lowercase only, so `Alice` and
/// `alice` cannot be two accounts.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_USER_NAME_LEN {
        return Err(format!(
            "user name must be 1 to {MAX_USER_NAME_LEN} characters long, got {}",
            name.len()
        ));
    }
    let ok_char = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-' | '@');
    if !name.chars().all(ok_char) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(
            "user name may hold only lowercase letters, digits, '.', '_', '-' and '@', and must start with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// A local user as the store returns it. The password hash is not part of it (see
/// [`crate::Store::password_hash`]), so serialising a user can never leak it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Unique name (see [`check_user_name`]).
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was added.
    pub created: ward_core::Timestamp,
    /// A disabled user cannot sign in and their tokens do not authenticate.
    pub disabled: bool,
}

/// An API token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Store-assigned id, for listing and revoking.
    pub id: u64,
    /// The user the token acts as.
    pub user: String,
    /// When it was made.
    pub created: ward_core::Timestamp,
    /// When it last authenticated a request (as recorded by [`crate::Store::touch_token`]).
    pub last_used: Option<ward_core::Timestamp>,
    /// A revoked token never authenticates again.
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(is_password_hash(&h));
        assert!(verify_password("correct horse battery", &h));
        for wrong in ["correct horse batterY", "", "correct horse battery ", "x"] {
            assert!(!verify_password(wrong, &h), "{wrong:?}");
        }
        assert_ne!(
            h,
            hash_password("correct horse battery").unwrap(),
            "a fresh salt every time"
        );
        assert!(!h.contains("correct"));
    }

    #[test]
    fn password_policy() {
        let cases: &[(&str, Result<(), AuthError>)] = &[
            ("12345678", Ok(())),
            ("ünïcödé✓", Ok(())),
            ("1234567", Err(AuthError::PasswordTooShort)),
            ("", Err(AuthError::PasswordTooShort)),
        ];
        for (pw, expect) in cases {
            assert_eq!(check_password_policy(pw), *expect, "{pw:?}");
        }
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(hash_password(&long), Err(AuthError::PasswordTooLong));
        assert!(!verify_password(
            &long,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }

    #[test]
    fn malformed_or_hostile_hashes_do_not_verify() {
        let good = hash_password("password1").unwrap();
        let huge_cost = good.replacen("m=19456", "m=4194304", 1);
        let cases = [
            "",
            "password1",
            "$argon2id$",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "$2b$12$abcdefghijklmnopqrstuv",
            huge_cost.as_str(),
            &good[..good.len() - 4],
        ];
        for phc in cases {
            assert!(!verify_password("password1", phc), "{phc:?}");
        }
        assert!(!is_password_hash("password1"));
    }

    #[test]
    fn tokens() {
        let (t, h) = new_token().unwrap();
        assert!(
            t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + 64,
            "{t}"
        );
        assert_eq!(h, token_hash(&t));
        assert!(is_token_hash(&h) && !is_token_hash(&t));
        assert!(!h.contains(&t[TOKEN_PREFIX.len()..]));
        assert_ne!(new_token().unwrap().0, t);
        // SHA-256("abc"), the FIPS 180-2 example.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(r.to_string(), r.as_str());
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        let err = "root".parse::<Role>().unwrap_err().to_string();
        for r in Role::ALL {
            assert!(err.contains(r.as_str()), "{err}");
        }
        assert!(err.contains("root"));
        let long = "Admin"
            .repeat(1000)
            .parse::<Role>()
            .unwrap_err()
            .to_string();
        assert!(long.len() < 200, "{long}");
    }

    #[test]
    fn user_names() {
        let cases = [
            ("alice", true),
            ("a.b-c_d@hospital.org", true),
            ("7", true),
            ("", false),
            ("Alice", false),
            ("-alice", false),
            ("al ice", false),
            ("alice'; DROP TABLE users; --", false),
            ("ålice", false),
        ];
        for (name, ok) in cases {
            assert_eq!(check_user_name(name).is_ok(), ok, "{name:?}");
        }
        assert!(check_user_name(&"a".repeat(65)).is_err());
    }
}
