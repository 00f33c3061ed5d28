//! Versioned model files with a checksummed manifest. The only module that does IO.
//!
//! [`save`] writes the model as JSON to `path` and a manifest to `<path>.manifest.json` holding
//! the format version, the model kind, the writer (`ward <version>`), the SHA-256 of the model
//! file, the feature names, the parameters and a caller-supplied training summary. [`load`]
//! checks the manifest's version and kind, re-hashes the model file, and only then decodes it,
//! so a tampered, truncated or swapped file is reported as a typed error.
//!
//! Nothing here reads a clock: put any timestamp you want into the training summary.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// The model file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Largest model or manifest file [`load`] will read (1 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Caller-supplied description stored in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelMeta {
    /// Names of the input features, in column order.
    pub feature_names: Vec<String>,
    /// Training parameters (e.g. `serde_json::to_value(&params)`).
    pub params: serde_json::Value,
    /// Free-form training summary: data set, metrics, timestamps, ...
    pub training_summary: serde_json::Value,
}

/// The manifest written next to a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// File format version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// Model kind chosen by the caller, e.g. `"gbdt"` or `"net.unsw.binary"`.
    pub kind: String,
    /// The writer, `"ward <version>"`.
    pub created_by: String,
    /// Lower-case hex SHA-256 of the model file.
    pub sha256: String,
    /// Size of the model file in bytes.
    pub model_bytes: u64,
    /// Names of the input features.
    pub feature_names: Vec<String>,
    /// Training parameters.
    pub params: serde_json::Value,
    /// Training summary.
    pub training_summary: serde_json::Value,
}

/// The envelope written to the model file itself, so the file is self-describing.
#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    format_version: u32,
    kind: &'a str,
    model: &'a T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn<T> {
    format_version: u32,
    kind: String,
    model: T,
}

/// `<path>.manifest.json`.
pub fn manifest_path(path: &Path) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".manifest.json");
    PathBuf::from(s)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MlError + '_ {
    move |source| MlError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to a sibling temporary file, then renames it over `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp: OsString = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

fn read_capped(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(MlError::Format {
            what: "model",
            path: path.to_path_buf(),
            reason: format!(
                "{} bytes exceeds the {MAX_FILE_BYTES}-byte limit",
                meta.len()
            ),
        });
    }
    std::fs::read(path).map_err(io_err(path))
}

/// Serialises `model` to `path` and writes its manifest to `<path>.manifest.json`.
/// Returns the manifest written. Output is byte-identical for identical inputs.
pub fn save<T: Serialize>(
    path: &Path,
    model: &T,
    kind: &str,
    meta: &ModelMeta,
) -> Result<Manifest> {
    let fmt_err = |what, reason: String| MlError::Format {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let bytes = serde_json::to_vec(&EnvelopeOut {
        format_version: FORMAT_VERSION,
        kind,
        model,
    })
    .map_err(|e| fmt_err("model", e.to_string()))?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        kind: kind.to_string(),
        created_by: format!("ward {}", env!("CARGO_PKG_VERSION")),
        sha256: sha256_hex(&bytes),
        model_bytes: bytes.len() as u64,
        feature_names: meta.feature_names.clone(),
        params: meta.params.clone(),
        training_summary: meta.training_summary.clone(),
    };
    let mut mbytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| fmt_err("manifest", e.to_string()))?;
    mbytes.push(b'\n');
    write_atomic(path, &bytes)?;
    write_atomic(&manifest_path(path), &mbytes)?;
    Ok(manifest)
}

/// Reads and checks the manifest of the model at `path`.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let mpath = manifest_path(path);
    let bytes = read_capped(&mpath)?;
    // Check the version before the full schema, so a future format is reported as such.
    let version: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| MlError::Format {
            what: "manifest",
            path: mpath.clone(),
            reason: e.to_string(),
        })?;
    if let Some(found) = version
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        && found != u64::from(FORMAT_VERSION)
    {
        return Err(MlError::UnsupportedVersion {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_value(version).map_err(|e| MlError::Format {
        what: "manifest",
        path: mpath,
        reason: e.to_string(),
    })
}

/// Loads a model of kind `kind` saved by [`save`], verifying version, kind and checksum
/// before decoding. Returns the model and its manifest.
pub fn load<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<(T, Manifest)> {
    let manifest = read_manifest(path)?;
    if manifest.kind != kind {
        return Err(MlError::KindMismatch {
            expected: kind.to_string(),
            found: manifest.kind,
        });
    }
    let bytes = read_capped(path)?;
    let actual = sha256_hex(&bytes);
    if actual != manifest.sha256 || bytes.len() as u64 != manifest.model_bytes {
        return Err(MlError::Checksum {
            path: path.to_path_buf(),
            expected: manifest.sha256,
            actual,
        });
    }
    let env: EnvelopeIn<T> = serde_json::from_slice(&bytes).map_err(|e| MlError::Format {
        what: "model",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if env.format_version != FORMAT_VERSION {
        return Err(MlError::UnsupportedVersion {
            found: env.format_version,
            supported: FORMAT_VERSION,
        });
    }
    if env.kind != kind {
        return Err(MlError::KindMismatch {
            expected: kind.to_string(),
            found: env.kind,
        });
    }
    Ok((env.model, manifest))
}
