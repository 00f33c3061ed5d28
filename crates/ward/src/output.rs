//! Alert sinks for the command line: JSON lines (ward's own alert JSON) and ECS JSON lines.

use anyhow::Context;
use std::io::Write;
use std::path::Path;
use ward_core::{Alert, EntityKind};

/// Alert output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertFormat {
    /// ward's alert JSON, one object per line (see docs/alert-format.md).
    Jsonl,
    /// Elastic Common Schema JSON, one document per line.
    Ecs,
}

/// Writes one alert as a line in the chosen format.
pub fn write_alert(w: &mut dyn Write, alert: &Alert, format: AlertFormat) -> std::io::Result<()> {
    match format {
        AlertFormat::Jsonl => serde_json::to_writer(&mut *w, alert)?,
        AlertFormat::Ecs => serde_json::to_writer(&mut *w, &to_ecs(alert))?,
    }
    w.write_all(b"\n")
}

/// Maps an alert onto ECS 8 fields. ward's full alert rides along under `ward.alert`.
pub fn to_ecs(a: &Alert) -> serde_json::Value {
    let mut doc = serde_json::json!({
        "@timestamp": a.time.to_string(),
        "ecs": { "version": "8.11.0" },
        "message": a.explanation.summary,
        "event": {
            "kind": "alert",
            "module": "ward",
            "dataset": a.detector,
            "id": a.id,
            "severity": a.score,
            "risk_score": a.score,
            "category": ["network", "intrusion_detection"],
            "type": ["info"],
        },
        "rule": { "name": a.title, "ruleset": a.detector },
        "log": { "level": a.severity.as_str() },
        "ward": { "alert": a },
    });
    if !a.mitre.is_empty() {
        doc["threat"] = serde_json::json!({
            "framework": "MITRE ATT&CK",
            "technique": { "id": a.mitre },
        });
    }
    // ECS `ip` fields must hold addresses: sources without them (NSL-KDD) get none
    let ip = |v: &str| {
        v.parse::<std::net::IpAddr>()
            .ok()
            .map(|a| serde_json::json!({ "ip": a.to_string() }))
    };
    match a.entity.kind {
        EntityKind::Host => {
            if let Some(v) = ip(&a.entity.value) {
                doc["source"] = v;
            }
        }
        EntityKind::HostPair => {
            if let Some((s, d)) = a.entity.value.split_once("->") {
                if let Some(v) = ip(s) {
                    doc["source"] = v;
                }
                if let Some(v) = ip(d) {
                    doc["destination"] = v;
                }
            }
        }
        EntityKind::Device => {
            if let Some(v) = ip(&a.entity.value) {
                doc["destination"] = v;
            }
        }
        _ => {}
    }
    doc
}

/// Writes `bytes` to `path` through a temporary file renamed into place, so a reader never
/// sees half a file. A path that exists and is not a regular file (`/dev/null`, a pipe) is
/// written directly: renaming onto it would replace the device with a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut w = AtomicWriter::create(path)?;
    w.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.commit()
}

/// A file written as a stream and put in place whole by [`AtomicWriter::commit`]: a temporary
/// file beside it, renamed over it (dropped uncommitted, it disappears). A path that exists and
/// is not a regular file is written directly, as [`write_atomic`] does.
pub struct AtomicWriter {
    inner: Inner,
    path: std::path::PathBuf,
}

enum Inner {
    Temp(std::io::BufWriter<tempfile::NamedTempFile>),
    Direct(std::io::BufWriter<std::fs::File>),
}

impl AtomicWriter {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let inner = if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            Inner::Direct(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            ))
        } else {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Inner::Temp(std::io::BufWriter::new(
                tempfile::NamedTempFile::new_in(dir)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            ))
        };
        Ok(Self {
            inner,
            path: path.to_path_buf(),
        })
    }

    /// Flushes and puts the file in place.
    pub fn commit(self) -> anyhow::Result<()> {
        let what = || format!("cannot write {}", self.path.display());
        match self.inner {
            Inner::Direct(mut w) => w.flush().with_context(what),
            Inner::Temp(w) => {
                let tmp = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(what)?;
                tmp.persist(&self.path).with_context(what)?;
                Ok(())
            }
        }
    }
}

impl Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.inner {
            Inner::Temp(w) => w.write(buf),
            Inner::Direct(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Inner::Temp(w) => w.flush(),
            Inner::Direct(w) => w.flush(),
        }
    }
}
