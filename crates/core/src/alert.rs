//! Alerts: what a detector says about an entity, why, and on what evidence.
//!
//! The JSON form is stable and documented in `docs/alert-format.md`. Titles never carry raw
//! PHI: entities are network addresses, device ids or pseudonymous tokens.

use crate::entity::EntityId;
use crate::event::EventId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Severity level, derived from the 0-100 score unless a detector overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Score bands: below 20 info, below 40 low, below 60 medium, below 80 high, else critical.
    pub fn from_score(score: u8) -> Self {
        match score {
            0..=19 => Self::Info,
            20..=39 => Self::Low,
            40..=59 => Self::Medium,
            60..=79 => Self::High,
            _ => Self::Critical,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
    /// The lowest score that falls in this band.
    pub fn min_score(self) -> u8 {
        match self {
            Self::Info => 0,
            Self::Low => 20,
            Self::Medium => 40,
            Self::High => 60,
            Self::Critical => 80,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "info" => Self::Info,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => {
                return Err(format!(
                    "unknown severity {s:?}: expected info, low, medium, high or critical"
                ));
            }
        })
    }
}

/// One feature's part in a decision: its value and how much it pushed the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Feature name as the model knows it (`dst_bytes`, `service=dicom`).
    pub feature: String,
    /// The observed value, rendered for people.
    pub value: String,
    /// Signed contribution to the score (model units: log-odds for supervised models,
    /// share of reconstruction error for autoencoders). Larger magnitude = more influence.
    pub weight: f64,
}

/// Why an alert fired, in words a person can act on, plus the structured drivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Explanation {
    /// One or more plain sentences.
    pub summary: String,
    /// Top contributing features, most influential first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributions: Vec<Contribution>,
    /// Rules that matched, by name, for rule-based detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// What the alert rests on: the events (source and line) that raised it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventId>,
    /// Sensor connection ids (Zeek uid, Suricata flow id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<String>,
}

/// A detector's finding about one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id, derived from detector, entity, time and evidence (same input, same id).
    pub id: String,
    /// Event time of the triggering event (not wall-clock time).
    pub time: Timestamp,
    /// Detector name, e.g. `net.supervised`, `net.anomaly`, `net.device`.
    pub detector: String,
    /// 0-100, higher is more certain or more severe.
    pub score: u8,
    pub severity: Severity,
    pub entity: EntityId,
    /// Short headline. Never contains PHI.
    pub title: String,
    pub explanation: Explanation,
    pub evidence: Evidence,
    /// MITRE ATT&CK technique ids (`T1046`), where they apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitre: Vec<String>,
}

impl Alert {
    /// Builds an alert, deriving its severity from the score and its id from its content.
    pub fn new(
        time: Timestamp,
        detector: impl Into<String>,
        score: u8,
        entity: EntityId,
        title: impl Into<String>,
        explanation: Explanation,
        evidence: Evidence,
    ) -> Self {
        let score = score.min(100);
        let mut a = Self {
            id: String::new(),
            time,
            detector: detector.into(),
            score,
            severity: Severity::from_score(score),
            entity,
            title: title.into(),
            explanation,
            evidence,
            mitre: Vec::new(),
        };
        a.id = a.derive_id();
        a
    }

    pub fn with_mitre(mut self, ids: &[&str]) -> Self {
        self.mitre = ids.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn derive_id(&self) -> String {
        let mut h = Fnv64::default();
        h.write(self.detector.as_bytes());
        h.write(self.entity.to_string().as_bytes());
        h.write(&self.time.0.to_le_bytes());
        for e in &self.evidence.events {
            h.write(e.source.as_bytes());
            h.write(&e.line.to_le_bytes());
        }
        for u in &self.evidence.uids {
            h.write(u.as_bytes());
        }
        format!("al_{:016x}", h.0)
    }
}

/// FNV-1a, 64 bit: a stable, dependency-free content hash for ids (not for security).
struct Fnv64(u64);
impl Default for Fnv64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}
impl Fnv64 {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // field separator so ("ab","c") and ("a","bc") differ
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Alert {
        Alert::new(
            Timestamp(1_700_000_000_000_000),
            "net.supervised",
            87,
            EntityId::host("10.0.0.5"),
            "likely port scan from 10.0.0.5",
            Explanation {
                summary: "The connection was rejected and touched many ports.".into(),
                contributions: vec![Contribution {
                    feature: "state=REJ".into(),
                    value: "REJ".into(),
                    weight: 2.1,
                }],
                rules: vec![],
            },
            Evidence {
                events: vec![EventId {
                    source: "conn.log".into(),
                    line: 12,
                }],
                uids: vec!["C1".into()],
            },
        )
        .with_mitre(&["T1046"])
    }

    #[test]
    fn severity_bands() {
        let cases = [
            (0, Severity::Info),
            (19, Severity::Info),
            (20, Severity::Low),
            (59, Severity::Medium),
            (60, Severity::High),
            (80, Severity::Critical),
            (100, Severity::Critical),
        ];
        for (s, sev) in cases {
            assert_eq!(Severity::from_score(s), sev, "score {s}");
            assert!(sev.min_score() <= s);
        }
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn ids_are_content_derived_and_stable() {
        let a = sample();
        assert_eq!(a.id, sample().id);
        assert!(a.id.starts_with("al_"));
        let mut b = sample();
        b.evidence.events[0].line = 13;
        assert_ne!(
            a.id,
            Alert::new(
                b.time,
                b.detector,
                b.score,
                b.entity,
                b.title,
                b.explanation,
                b.evidence
            )
            .id
        );
    }

    #[test]
    fn json_shape_is_stable() {
        let v: serde_json::Value = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(v["severity"], "critical");
        assert_eq!(v["entity"], "host:10.0.0.5");
        assert_eq!(v["mitre"][0], "T1046");
        assert_eq!(v["evidence"]["events"][0]["line"], 12);
        let back: Alert = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample());
    }
}
