//! Atomic output: every file this crate writes goes to a temporary file in the target's own
//! directory first and is renamed over the target only when complete, so a failed run never
//! leaves a half-written file that looks finished.

use crate::error::DeidError;
use std::io::Write;
use std::path::Path;

/// Writes `path` atomically: `fill` writes the content into a temporary file next to `path`
/// (created with mode 0600 on unix), which is flushed, synced and renamed to `path` only when
/// `fill` succeeds. With `overwrite == false` an existing `path` is an
/// [`DeidError::Exists`] (checked again at the rename, so a race cannot clobber it). On any
/// error the temporary file is removed.
pub fn write_atomic<T>(
    path: &Path,
    overwrite: bool,
    fill: impl FnOnce(&mut dyn Write) -> Result<T, DeidError>,
) -> Result<T, DeidError> {
    let shown = path.display().to_string();
    if !overwrite && path.exists() {
        return Err(DeidError::Exists { file: shown });
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".ward-tmp-")
        .tempfile_in(dir)
        .map_err(|e| DeidError::io(&shown, e))?;
    let mut w = std::io::BufWriter::new(tmp);
    let value = fill(&mut w)?;
    let tmp = w
        .into_inner()
        .map_err(|e| DeidError::io(&shown, e.into_error()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| DeidError::io(&shown, e))?;
    let persisted = if overwrite {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(value),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(DeidError::Exists { file: shown })
        }
        Err(e) => Err(DeidError::io(&shown, e.error)),
    }
}
