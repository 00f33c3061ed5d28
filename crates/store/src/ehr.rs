//! EHR-snooping cases for the privacy officer's view (schema v7).
//!
//! `ward ehr detect --store` writes one detection run with [`crate::Store::import_ehr`]: its
//! alerts, each case (keyed by the id of the alert raised for it), the flagged accesses of the
//! case with their plain-language reasons, and display names for the people who appear in
//! those cases only ([`EhrPerson`]). The whole run commits in one transaction together with
//! one `ehr.import` audit entry that carries counts, never names.
//!
//! This crate does not depend on `ward-ehr`: the records here are plain data, converted by
//! the binary.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ward_core::{Alert, Timestamp};

/// Longest user or patient id, in bytes (the EHR loaders' limit).
pub const MAX_EHR_ID_LEN: usize = 256;
/// Longest short text (an action, a link, a reason code, a signal, a role), in bytes.
pub const MAX_EHR_CODE_LEN: usize = 64;
/// Longest free text (a case summary, a reason sentence, a name, a department), in bytes.
pub const MAX_EHR_TEXT_LEN: usize = 4_000;
/// Most reasons kept per flagged access.
pub const MAX_EHR_REASONS: usize = 64;
/// Most users one [`EhrUserQuery`] page may ask for.
pub const MAX_EHR_PAGE: u32 = 1_000;
/// Most flagged accesses one timeline returns (the rest is reported as truncated).
pub const MAX_EHR_TIMELINE: u32 = 10_000;
/// Most ids one names lookup may ask for.
pub const MAX_EHR_LOOKUP: usize = 10_000;

/// One plain-language reason of a flagged access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EhrReason {
    /// `unexplained`, an explanation link or a signal name.
    pub code: String,
    /// A sentence naming ids, never names.
    pub text: String,
    /// Its part in the score, in log-odds (0 for context).
    pub weight: f64,
}

/// One case: the flagged accesses of one user on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EhrCaseRecord {
    /// The id of the alert raised for this case (the case's key).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// Start of the UTC day.
    pub day: Timestamp,
    /// First flagged access.
    pub first: Timestamp,
    /// Last flagged access.
    pub last: Timestamp,
    /// Case score, in log-odds.
    pub score: f64,
    /// Distinct patients in the case.
    pub patients: u32,
    /// Signal names that fired in the case.
    pub signals: Vec<String>,
    /// One-paragraph summary naming ids only.
    pub summary: String,
}

/// One flagged access of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EhrAccessRecord {
    /// The case (its alert id).
    pub case: String,
    /// 0-based data row in the access file.
    pub row: u64,
    /// When.
    pub time: Timestamp,
    /// Who (the case's user).
    pub user_id: String,
    /// Whose record.
    pub patient_id: String,
    /// What (`view`, `modify`, `print`, `export`, `break_glass`, `other`).
    pub action: String,
    /// Risk, in log-odds.
    pub score: f64,
    /// How the access was explained (`unexplained`, `attending`, ...).
    pub link: String,
    /// At least one reason, strongest first.
    pub reasons: Vec<EhrReason>,
}

/// Whose name an [`EhrPerson`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonKind {
    /// A workforce member (users.csv).
    User,
    /// A patient (patients.csv).
    Patient,
}

impl PersonKind {
    /// `user` or `patient`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Patient => "patient",
        }
    }
}

impl fmt::Display for PersonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PersonKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Self::User),
            "patient" => Ok(Self::Patient),
            _ => Err("unknown person kind: expected user or patient".into()),
        }
    }
}

/// The display name of a user or patient who appears in a stored case. PHI: shown only to
/// the privacy officer, and every view is audited by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EhrPerson {
    /// User or patient.
    pub kind: PersonKind,
    /// The id in the EHR files.
    pub id: String,
    /// First and last name.
    pub name: String,
    /// Job role (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Department (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// One detection run to store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EhrImport {
    /// The alerts of the run (one per case; idempotent on id like [`crate::Store::insert_alerts`]).
    pub alerts: Vec<Alert>,
    /// The cases; each `id` must be the id of an alert in `alerts` or already stored.
    pub cases: Vec<EhrCaseRecord>,
    /// The flagged accesses; each `case` must be a case of this run or already stored.
    pub accesses: Vec<EhrAccessRecord>,
    /// Display names of people in these cases (replace stored names with the same kind and id).
    pub people: Vec<EhrPerson>,
}

/// What [`crate::Store::import_ehr`] wrote (records already stored are skipped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EhrImportCounts {
    /// Alerts newly stored.
    pub alerts: u64,
    /// Cases newly stored.
    pub cases: u64,
    /// Flagged accesses newly stored.
    pub accesses: u64,
    /// Names written.
    pub people: u64,
}

/// A page of users with stored cases, ranked by their highest case score (then user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EhrUserQuery {
    /// Only cases whose last flagged access is at or after this time.
    pub since: Option<Timestamp>,
    /// Page size, 1 to [`MAX_EHR_PAGE`].
    pub limit: u32,
    /// Users to skip.
    pub offset: u64,
}

impl Default for EhrUserQuery {
    fn default() -> Self {
        Self {
            since: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// One user's cases, summed up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EhrUserSummary {
    /// The user.
    pub user_id: String,
    /// Cases.
    pub cases: u64,
    /// Flagged accesses over those cases.
    pub accesses: u64,
    /// Distinct patients over those cases.
    pub patients: u64,
    /// Highest case score, in log-odds.
    pub max_score: f64,
    /// Last flagged access.
    pub last: Timestamp,
    /// Every signal that fired in those cases, sorted.
    pub signals: Vec<String>,
}

/// One user's stored cases and every flagged access of them, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EhrTimeline {
    /// The user.
    pub user_id: String,
    /// The cases, oldest first.
    pub cases: Vec<EhrCaseRecord>,
    /// Flagged accesses by time (then row), at most the limit asked for.
    pub accesses: Vec<EhrAccessRecord>,
    /// More accesses exist than were returned.
    pub truncated: bool,
}

fn check_len(what: &str, v: &str, min: usize, max: usize) -> Result<(), String> {
    if v.len() < min || v.len() > max {
        Err(format!("{what} must be {min} to {max} bytes"))
    } else {
        Ok(())
    }
}

/// Checks a run before storage (lengths, finite scores, case references within the run or
/// the ids of its alerts); shared by backends so they reject the same input. Messages name
/// the record and field, never a value.
pub fn validate_import(run: &EhrImport) -> Result<(), String> {
    for (i, c) in run.cases.iter().enumerate() {
        let at = |f: &str| format!("case {i}: {f}");
        check_len(&at("id"), &c.id, 1, 256)?;
        check_len(&at("user_id"), &c.user_id, 1, MAX_EHR_ID_LEN)?;
        check_len(&at("summary"), &c.summary, 0, MAX_EHR_TEXT_LEN)?;
        if !c.score.is_finite() {
            return Err(at("score is not a finite number"));
        }
        if c.signals.len() > MAX_EHR_REASONS {
            return Err(at("too many signals"));
        }
        for s in &c.signals {
            check_len(&at("signal"), s, 1, MAX_EHR_CODE_LEN)?;
        }
    }
    for (i, a) in run.accesses.iter().enumerate() {
        let at = |f: &str| format!("access {i}: {f}");
        check_len(&at("case"), &a.case, 1, 256)?;
        check_len(&at("user_id"), &a.user_id, 1, MAX_EHR_ID_LEN)?;
        check_len(&at("patient_id"), &a.patient_id, 1, MAX_EHR_ID_LEN)?;
        check_len(&at("action"), &a.action, 1, MAX_EHR_CODE_LEN)?;
        check_len(&at("link"), &a.link, 1, MAX_EHR_CODE_LEN)?;
        if !a.score.is_finite() {
            return Err(at("score is not a finite number"));
        }
        if a.row > i64::MAX as u64 {
            return Err(at("row is out of range"));
        }
        if a.reasons.len() > MAX_EHR_REASONS {
            return Err(at("too many reasons"));
        }
        for r in &a.reasons {
            check_len(&at("reason code"), &r.code, 1, MAX_EHR_CODE_LEN)?;
            check_len(&at("reason text"), &r.text, 0, MAX_EHR_TEXT_LEN)?;
            if !r.weight.is_finite() {
                return Err(at("reason weight is not a finite number"));
            }
        }
    }
    for (i, p) in run.people.iter().enumerate() {
        let at = |f: &str| format!("person {i}: {f}");
        check_len(&at("id"), &p.id, 1, MAX_EHR_ID_LEN)?;
        check_len(&at("name"), &p.name, 0, MAX_EHR_TEXT_LEN)?;
        if let Some(r) = &p.role {
            check_len(&at("role"), r, 0, MAX_EHR_TEXT_LEN)?;
        }
        if let Some(d) = &p.department {
            check_len(&at("department"), d, 0, MAX_EHR_TEXT_LEN)?;
        }
    }
    Ok(())
}

/// Checks a user page query.
pub fn validate_user_query(q: &EhrUserQuery) -> Result<(), String> {
    if q.limit == 0 || q.limit > MAX_EHR_PAGE {
        return Err(format!("limit must be 1 to {MAX_EHR_PAGE}"));
    }
    if q.offset > i64::MAX as u64 {
        return Err("offset is out of range".into());
    }
    Ok(())
}
