//! The manifest of a de-identification run: what went in and came out (paths, SHA-256, sizes),
//! the mode, the key's id (never the key), the policy, counts per category, record counts and
//! times. It never holds PHI: no value from any input is copied into it. (File paths are
//! recorded as given: name files so that their names identify no one.)

use crate::error::DeidError;
use crate::replace::Counts;
use std::io::Read;
use std::path::Path;

/// One file read or written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileRef {
    /// The path as given.
    pub path: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl FileRef {
    /// Hashes `path` (streaming).
    pub fn of(path: &Path) -> Result<Self, DeidError> {
        let shown = path.display().to_string();
        let mut f = std::fs::File::open(path).map_err(|e| DeidError::io(&shown, e))?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|e| DeidError::io(&shown, e))?;
            if n == 0 {
                break;
            }
            ctx.update(buf.get(..n).unwrap_or_default());
            bytes += n as u64;
        }
        Ok(Self {
            path: shown,
            sha256: ctx
                .finish()
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            bytes,
        })
    }
}

/// A policy file: its hash and content (policies hold column names and actions, no PHI).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyRef {
    /// The file, hash and size.
    #[serde(flatten)]
    pub file: FileRef,
    /// The policy text.
    pub content: String,
}

/// A run's manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    /// `ward`.
    pub tool: &'static str,
    /// The tool's version.
    pub version: &'static str,
    /// The command (`deid note`, `deid table`...).
    pub command: String,
    /// The replacement mode, where there is one.
    pub mode: Option<String>,
    /// The key's id ([`crate::Key::id`]), never the key.
    pub key_id: Option<String>,
    /// The date shift range in days, when dates were shifted.
    pub date_shift_days: Option<[i64; 2]>,
    /// The policy file, for tables.
    pub policy: Option<PolicyRef>,
    /// The learned PHI classifier used, if any.
    pub model: Option<FileRef>,
    /// Inputs.
    pub inputs: Vec<FileRef>,
    /// Outputs.
    pub outputs: Vec<FileRef>,
    /// Records (notes, rows, messages) de-identified.
    pub records: u64,
    /// Values replaced, by category or action.
    pub counts: Counts,
    /// Start, RFC 3339 UTC.
    pub started: String,
    /// End, RFC 3339 UTC.
    pub finished: String,
}

/// Now, RFC 3339 UTC.
pub fn now() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    ward_core::Timestamp(micros).to_string()
}

impl Manifest {
    /// A manifest for `command` started now; fill the rest and [`Manifest::write`] it.
    pub fn start(command: &str) -> Self {
        Self {
            tool: "ward",
            version: env!("CARGO_PKG_VERSION"),
            command: command.to_owned(),
            mode: None,
            key_id: None,
            date_shift_days: None,
            policy: None,
            model: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            records: 0,
            counts: Counts::default(),
            started: now(),
            finished: String::new(),
        }
    }

    /// Sets `finished` and writes the manifest atomically as pretty JSON (replacing an older
    /// manifest).
    pub fn write(&mut self, path: &Path) -> Result<(), DeidError> {
        self.finished = now();
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| DeidError::io(path.display(), std::io::Error::other(e)))?;
        crate::output::write_atomic(path, true, |w| {
            w.write_all(&json)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| DeidError::io(path.display(), e))
        })
    }
}
