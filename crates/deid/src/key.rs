//! The de-identification key: 32 random bytes that make surrogates, hashes and date shifts
//! consistent across runs and formats (the same key gives the same pseudonym everywhere) and
//! unguessable without it. The key lives in its own file, never in any output.
//!
//! File format (text, mode 0600): `ward-deid-key v1\n<64 lowercase hex digits>\n`.

use crate::error::DeidError;
use std::fmt::Write as _;
use std::path::Path;

const MAGIC: &str = "ward-deid-key v1";
/// Key length in bytes.
pub const KEY_LEN: usize = 32;

/// A secret de-identification key. Its `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    bytes: [u8; KEY_LEN],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("id", &self.id()).finish()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.bytes = [0; KEY_LEN];
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Key {
    /// A new key from the system's secure random number generator.
    pub fn generate() -> Result<Self, DeidError> {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; KEY_LEN];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| DeidError::Random)?;
        Ok(Self { bytes })
    }

    /// A key from given bytes (tests, and keys kept in a secret store).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// The key's public id: the first 8 hex digits of SHA-256 of the key. It names the key
    /// in manifests without revealing it.
    pub fn id(&self) -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.bytes);
        hex(d.as_ref().get(..4).unwrap_or_default())
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// Writes the key to `path` atomically with mode 0600 (unix). An existing file is an
    /// error unless `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<(), DeidError> {
        crate::output::write_atomic(path, overwrite, |w| {
            let text = format!("{MAGIC}\n{}\n", hex(&self.bytes));
            w.write_all(text.as_bytes())
                .map_err(|e| DeidError::io(path.display(), e))
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| DeidError::io(path.display(), e))?;
        }
        Ok(())
    }

    /// Reads a key file written by [`Key::save`]. Errors name the file and the problem
    /// (missing, not a key file, wrong length, readable by group or others on unix), never
    /// the content.
    pub fn load(path: &Path) -> Result<Self, DeidError> {
        let file = path.display().to_string();
        let bad = |reason: &str| DeidError::Key {
            file: file.clone(),
            reason: reason.to_owned(),
        };
        let meta = std::fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad("does not exist (create one with `ward deid keygen --out FILE`)")
            } else {
                DeidError::io(&file, e)
            }
        })?;
        if !meta.is_file() {
            return Err(bad("is not a regular file"));
        }
        if meta.len() > 1024 {
            return Err(bad("is too large to be a key file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(bad(
                    "is readable or writable by group or others: run `chmod 600` on it",
                ));
            }
        }
        let bytes = std::fs::read(path).map_err(|e| DeidError::io(&file, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not a ward key file"))?;
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(MAGIC) {
            return Err(bad(
                "not a ward key file (expected `ward-deid-key v1` first)",
            ));
        }
        let digits = lines.next().map(str::trim).unwrap_or_default();
        if digits.len() != KEY_LEN * 2 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key must be 64 hex digits on the second line"));
        }
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(bad("unexpected text after the key"));
        }
        let mut out = [0u8; KEY_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let pair = digits.get(2 * i..2 * i + 2).unwrap_or_default();
            *slot = u8::from_str_radix(pair, 16).map_err(|_| bad("bad hex digit"))?;
        }
        Ok(Self { bytes: out })
    }
}
