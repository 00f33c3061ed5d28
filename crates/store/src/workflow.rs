//! Records of the analyst workflow: sign-in sessions, cases grouping alerts, the audit record
//! that travels with every state change, and alert statistics for the dashboard.
//!
//! Every state-changing [`crate::Store`] method in this area takes an [`AuditRecord`] and
//! writes the change and its audit entry in **one transaction**: a change is never stored
//! without its entry, nor an entry without its change.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ward_core::{Severity, Timestamp};

/// Longest case title, in bytes.
pub const MAX_CASE_TITLE_LEN: usize = 200;
/// Longest case description, in bytes.
pub const MAX_CASE_DESCRIPTION_LEN: usize = 8_000;
/// Most alerts one call may add to a case.
pub const MAX_CASE_ALERTS_PER_CALL: usize = 1_000;
/// Most buckets one statistics call may ask for.
pub const MAX_STATS_BUCKETS: u64 = 2_000;
/// How many entities [`AlertStats::top_entities`] lists.
pub const TOP_ENTITIES: u32 = 10;

/// The audit entry to append together with a state change (see [`crate::Store::append_audit`]
/// for the limits on each field).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// When the change happened.
    pub time: Timestamp,
    /// Who made it (a user name, `cli`, `system`).
    pub actor: String,
    /// What it was (`alert.acknowledge`, `case.create`, `signin.ok`, ...).
    pub action: String,
    /// What it was made to (an alert id, `case-7`, a user name).
    pub target: String,
    /// Context (a comment, an assignee). Never a password, a token or raw PHI.
    pub details: serde_json::Value,
}

impl AuditRecord {
    /// A record with the given fields.
    pub fn new(
        time: Timestamp,
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        Self {
            time,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            details,
        }
    }
}

/// A signed-in browser session. The cookie secret itself is never stored, only its SHA-256
/// ([`crate::auth::token_hash`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 hex of the cookie secret (the key).
    pub hash: String,
    /// The signed-in user.
    pub user: String,
    /// The anti-CSRF token the client must echo in `X-CSRF-Token` on state changes.
    pub csrf: String,
    /// Sign-in time.
    pub created: Timestamp,
    /// Last request seen (updated at most about once a minute).
    pub last_seen: Timestamp,
}

/// Workflow status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// Being worked (default).
    #[default]
    Open,
    /// Done.
    Closed,
}

impl CaseStatus {
    /// `open` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            _ => Err(format!(
                "unknown case status {s:?}: expected open or closed"
            )),
        }
    }
}

/// A case: alerts grouped under a title for one investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// `case-<n>`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Free text; may be empty.
    pub description: String,
    /// Open or closed.
    pub status: CaseStatus,
    /// When it was opened.
    pub created: Timestamp,
    /// Who opened it.
    pub created_by: String,
    /// Last change (alerts added, closed).
    pub updated: Timestamp,
    /// How many alerts it groups.
    pub alert_count: u64,
    /// The highest severity among its alerts (`None` for an empty case).
    pub max_severity: Option<Severity>,
}

/// `case-<n>` for store row `n`.
pub fn case_id(n: i64) -> String {
    format!("case-{n}")
}

/// The row number in a `case-<n>` id; `None` for anything else.
pub fn parse_case_id(id: &str) -> Option<i64> {
    let n = id.strip_prefix("case-")?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

/// Checks a case title and description; the message names the field, never its value.
pub fn check_case_text(title: &str, description: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("title must not be empty".into());
    }
    if title.len() > MAX_CASE_TITLE_LEN {
        return Err(format!(
            "title is {} bytes long, at most {MAX_CASE_TITLE_LEN} allowed",
            title.len()
        ));
    }
    if description.len() > MAX_CASE_DESCRIPTION_LEN {
        return Err(format!(
            "description is {} bytes long, at most {MAX_CASE_DESCRIPTION_LEN} allowed",
            description.len()
        ));
    }
    Ok(())
}

/// Alert counts of one time bucket, by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SeverityCounts {
    /// Info.
    pub info: u64,
    /// Low.
    pub low: u64,
    /// Medium.
    pub medium: u64,
    /// High.
    pub high: u64,
    /// Critical.
    pub critical: u64,
}

impl SeverityCounts {
    /// Adds `n` alerts of `severity`.
    pub fn add(&mut self, severity: Severity, n: u64) {
        let slot = match severity {
            Severity::Info => &mut self.info,
            Severity::Low => &mut self.low,
            Severity::Medium => &mut self.medium,
            Severity::High => &mut self.high,
            Severity::Critical => &mut self.critical,
        };
        *slot += n;
    }

    /// All severities together.
    pub fn total(&self) -> u64 {
        self.info + self.low + self.medium + self.high + self.critical
    }
}

/// One bucket of [`AlertStats::series`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsBucket {
    /// Start of the bucket (inclusive).
    pub start: Timestamp,
    /// Alerts in it, by severity.
    #[serde(flatten)]
    pub counts: SeverityCounts,
}

/// Alerts of one detector in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorCount {
    /// Detector name.
    pub detector: String,
    /// Alerts in the window.
    pub count: u64,
    /// Time of its newest alert in the window.
    pub last: Timestamp,
}

/// One of the entities with the most alerts in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCount {
    /// Entity (`host:10.1.2.3`, `user:u123`).
    pub entity: String,
    /// Alerts in the window.
    pub count: u64,
    /// Their highest severity.
    pub max_severity: Severity,
}

/// Alert counts by workflow status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StatusCounts {
    /// Open.
    pub open: u64,
    /// Acknowledged.
    pub acknowledged: u64,
    /// Closed.
    pub closed: u64,
}

/// Statistics over alert event times in `[from, to)` (see [`crate::Store::alert_stats`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertStats {
    /// Window start (inclusive).
    pub from: Timestamp,
    /// Window end (exclusive).
    pub to: Timestamp,
    /// Bucket width, microseconds.
    pub bucket_micros: i64,
    /// One entry per bucket from `from`, zeros included.
    pub series: Vec<StatsBucket>,
    /// By workflow status.
    pub by_status: StatusCounts,
    /// By detector, most alerts first.
    pub by_detector: Vec<DetectorCount>,
    /// The [`TOP_ENTITIES`] entities with the most alerts, most first.
    pub top_entities: Vec<EntityCount>,
    /// All alerts in the window.
    pub total: u64,
}

/// Checks a statistics window; returns the number of buckets.
pub fn check_stats_window(from: Timestamp, to: Timestamp, bucket: i64) -> Result<u64, String> {
    if bucket <= 0 {
        return Err("bucket width must be positive".into());
    }
    if to.0 <= from.0 {
        return Err("the window end must be after its start".into());
    }
    let span = to.0.checked_sub(from.0).ok_or("the window is too long")?;
    let (span, bucket) = (span as u64, bucket as u64); // both positive here
    let n = span.div_ceil(bucket);
    if n > MAX_STATS_BUCKETS {
        return Err(format!(
            "the window holds {n} buckets, at most {MAX_STATS_BUCKETS} allowed: widen the bucket or shorten the window"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_round_trip_and_refuse_junk() {
        assert_eq!(parse_case_id(&case_id(7)), Some(7));
        for bad in [
            "",
            "case-",
            "case-0",
            "case--1",
            "case-1a",
            "7",
            "CASE-7",
            "case-99999999999999999999",
        ] {
            assert_eq!(parse_case_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stats_windows() {
        let h = 3_600_000_000;
        assert_eq!(
            check_stats_window(Timestamp(0), Timestamp(24 * h), h),
            Ok(24)
        );
        assert_eq!(check_stats_window(Timestamp(0), Timestamp(h + 1), h), Ok(2));
        assert!(check_stats_window(Timestamp(5), Timestamp(5), h).is_err());
        assert!(check_stats_window(Timestamp(0), Timestamp(h), 0).is_err());
        assert!(check_stats_window(Timestamp(i64::MIN), Timestamp(i64::MAX), 1).is_err());
        assert!(check_stats_window(Timestamp(0), Timestamp(10_000 * h), h).is_err());
    }

    #[test]
    fn case_text_limits() {
        assert!(check_case_text("Scan from 10.0.0.5", "").is_ok());
        assert!(check_case_text("  ", "").is_err());
        assert!(check_case_text(&"t".repeat(201), "").is_err());
        assert!(check_case_text("t", &"d".repeat(8_001)).is_err());
    }
}
