//! Alert sinks for the command line: JSON lines (ward's own alert JSON) and ECS JSON lines.

use std::io::Write;
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
