//! ward's persistence layer: the [`Store`] trait and its embedded SQLite backend.
//!
//! Everything above this crate (the server, the binary, responders) talks to a `Box<dyn Store>`;
//! the embedded default is [`SqliteStore`] (one file, no server). A PostgreSQL backend can be
//! added later behind the same trait and must pass the same [`conformance`] suite.
//!
//! What is stored:
//! - **alerts** ([`ward_core::Alert`]) with their workflow state ([`AlertState`]: open,
//!   acknowledged or closed, and an assignee), queried with [`AlertQuery`];
//! - **devices**: the medical/IoT device inventory ([`DeviceRecord`]);
//! - the **audit trail** ([`AuditEntry`]): append-only and hash-chained, checked by
//!   [`Store::verify_audit`] (see [`audit`]);
//! - **EHR-snooping cases** for the privacy officer's view ([`ehr`]): cases, their flagged
//!   accesses with reasons, and display names of the people in them;
//! - **users** and **API tokens** for sign-in ([`User`], [`ApiToken`]); hashing, roles and
//!   token generation are in [`auth`].
//!
//! Boundaries: this crate depends on `ward-core` only. It does not depend on `ward-detect`, and
//! `ward-detect` does not depend on it; see [`device`] for how the inventory record crosses over.

pub mod audit;
pub mod auth;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod device;
pub mod ehr;
mod query;
pub mod respond;
mod sqlite;
mod sqlite_audit;
mod sqlite_ehr;
mod sqlite_respond;
mod sqlite_users;
mod sqlite_workflow;
pub mod workflow;

pub use audit::{AuditEntry, AuditProblem, AuditVerification};
pub use auth::{ApiToken, Role, User};
pub use device::DeviceRecord;
pub use ehr::{
    EhrAccessRecord, EhrCaseRecord, EhrImport, EhrImportCounts, EhrPerson, EhrReason, EhrTimeline,
    EhrUserQuery, EhrUserSummary, PersonKind,
};
pub use query::{AlertCursor, AlertQuery, AlertSort, DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_LEN};
pub use respond::{Attempt, Decided, Job, JobQuery, JobState, NewJob, Verdict};
pub use sqlite::{MIGRATIONS, SqliteStore};
pub use workflow::{
    AlertStats, AuditRecord, Case, CaseStatus, DetectorCount, EntityCount, Session, SeverityCounts,
    StatsBucket, StatusCounts,
};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ward_core::{Alert, Timestamp};

/// A boxed error from a backend driver (SQLite today, PostgreSQL later).
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a store. `location` is the database path (or `:memory:`),
/// so a message always says which store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created (missing directory, permissions, a directory
    /// where a file was expected).
    #[error("cannot open store {location}: {source}")]
    Open {
        location: String,
        #[source]
        source: BackendError,
    },
    /// The file exists but is not an SQLite database (or its header is destroyed).
    #[error(
        "{location} is not a ward store: the file is not an SQLite database or its header is corrupt"
    )]
    NotADatabase { location: String },
    /// The file is an SQLite database whose pages are damaged.
    #[error("store {location} is corrupt: {detail}; restore it from a backup")]
    Corrupt { location: String, detail: String },
    /// The database was written by a newer ward whose schema this build does not know.
    #[error(
        "store {location} has schema version {found}, newer than this build supports ({supported}); upgrade ward or open a different file"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        supported: i64,
    },
    /// A schema migration step failed; the database is left at the last good version.
    #[error("store {location}: migration to schema version {version} failed: {source}")]
    Migration {
        location: String,
        version: i64,
        #[source]
        source: BackendError,
    },
    /// A stored record could not be decoded (written by a buggy or foreign writer).
    #[error("store {location}: record {key} cannot be decoded: {reason}")]
    BadRecord {
        location: String,
        key: String,
        reason: String,
    },
    /// The query is malformed (limit out of range, overlong search text, bad cursor).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A record offered for storage is unusable (for example an alert with an empty id).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The record to create exists already (a user name taken).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The record an operation refers to does not exist (a token for an unknown user).
    #[error("{0} does not exist")]
    NotFound(String),
    /// Any other backend failure (disk full, locked past the busy timeout, I/O error).
    #[error("store {location}: {source}")]
    Backend {
        location: String,
        #[source]
        source: BackendError,
    },
}

/// Workflow status of an alert. New alerts are [`AlertStatus::Open`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Not yet looked at (default).
    #[default]
    Open,
    /// Someone has taken it.
    Acknowledged,
    /// Resolved or dismissed.
    Closed,
}

impl AlertStatus {
    /// The stored and serialised name: `open`, `acknowledged` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "acknowledged" => Ok(Self::Acknowledged),
            "closed" => Ok(Self::Closed),
            _ => Err(format!(
                "unknown alert status {s:?}: expected open, acknowledged or closed"
            )),
        }
    }
}

/// The mutable workflow state kept beside an (immutable) alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertState {
    /// Default `open`.
    #[serde(default)]
    pub status: AlertStatus,
    /// Who owns the alert (a user token or team name); default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// An alert as stored: its JSON text (an object, as [`Alert`] serialises) and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAlert {
    /// The alert id.
    pub id: String,
    /// The alert's JSON object text.
    pub body: String,
    /// Its workflow state.
    pub state: AlertState,
}

/// Longest accepted assignee, in bytes.
pub const MAX_ASSIGNEE_LEN: usize = 256;

/// A persistent home for alerts and the device inventory.
///
/// Implementations must pass [`conformance::run`]. Writes take `&mut self`; a store is `Send`
/// so it can move to a blocking worker thread, but it is not required to be `Sync`.
pub trait Store: Send {
    /// Stores alerts in one transaction (all or nothing). Idempotent on [`Alert::id`]: an id
    /// already stored, or repeated in the batch, is skipped and keeps its first content and its
    /// workflow state. Returns how many alerts were newly stored.
    fn insert_alerts(&mut self, alerts: &[Alert]) -> Result<usize, StoreError>;

    /// Alerts matching `query`, in its sort order, one page (see [`AlertQuery`]).
    fn query_alerts(&self, query: &AlertQuery) -> Result<Vec<Alert>, StoreError>;

    /// The same page as [`Store::query_alerts`], each alert as its stored JSON text with its
    /// workflow state: for servers that pass alerts through without decoding them.
    fn query_alerts_raw(&self, query: &AlertQuery) -> Result<Vec<RawAlert>, StoreError>;

    /// A pair that changes whenever alerts are added or any audited change (a workflow state,
    /// a case) is made: `(newest alert seq, newest audit seq)`. Cheap (two index lookups), for
    /// caching counts.
    fn alerts_generation(&self) -> Result<(u64, u64), StoreError>;

    /// How many alerts match the filters of `query` (sort, limit, offset and cursor ignored).
    fn count_alerts(&self, query: &AlertQuery) -> Result<u64, StoreError>;

    /// One alert by id.
    fn get_alert(&self, id: &str) -> Result<Option<Alert>, StoreError>;

    /// The workflow state of an alert, `None` when the id is unknown.
    fn alert_state(&self, id: &str) -> Result<Option<AlertState>, StoreError>;

    /// Replaces the workflow state of an alert. Returns `false` when the id is unknown.
    fn set_alert_state(&mut self, id: &str, state: &AlertState) -> Result<bool, StoreError>;

    /// Inserts or replaces device records by address, in one transaction. `first_seen` keeps the
    /// earlier of the stored and the new value, so a restarted profiler does not forget when a
    /// device first appeared. Returns how many records were written.
    fn upsert_devices(&mut self, devices: &[DeviceRecord]) -> Result<usize, StoreError>;

    /// All devices, ordered by address text.
    fn list_devices(&self) -> Result<Vec<DeviceRecord>, StoreError>;

    /// One device by address.
    fn get_device(&self, address: &str) -> Result<Option<DeviceRecord>, StoreError>;

    /// Appends one entry to the audit trail and returns it. The next `seq`, `prev_hash` and
    /// `hash` are computed inside one write transaction (see [`audit::next_entry`]); the store
    /// reads no clock, `time` comes from the caller. Rejects an empty actor or action, overlong
    /// fields and oversized or too deeply nested details with [`StoreError::InvalidInput`],
    /// whose message never echoes the details.
    fn append_audit(
        &mut self,
        time: Timestamp,
        actor: &str,
        action: &str,
        target: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StoreError>;

    /// Up to `limit` (1 to [`audit::MAX_AUDIT_PAGE`]) audit entries with `seq >= from_seq`, in
    /// `seq` order. A stored entry that cannot be decoded is a [`StoreError::BadRecord`].
    fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The last audit entry (highest `seq`), `None` for an empty trail.
    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError>;

    /// Walks the whole audit trail in `seq` order and reports the first edited, unreadable,
    /// missing, moved or mislinked entry (see [`AuditProblem`]), or how many entries are
    /// intact. A damaged trail is an `Ok` with a problem; `Err` means the store failed.
    fn verify_audit(&self) -> Result<AuditVerification, StoreError>;

    /// Adds a user with an Argon2id PHC `password_hash` (from [`auth::hash_password`]; a
    /// plaintext password is refused). A taken name is [`StoreError::AlreadyExists`]; a bad
    /// name is [`StoreError::InvalidInput`] (see [`auth::check_user_name`]).
    fn add_user(
        &mut self,
        name: &str,
        role: Role,
        password_hash: &str,
        created: Timestamp,
    ) -> Result<User, StoreError>;

    /// Replaces a user's password hash. Returns `false` when the user is unknown.
    fn set_password(&mut self, name: &str, password_hash: &str) -> Result<bool, StoreError>;

    /// One user by name.
    fn get_user(&self, name: &str) -> Result<Option<User>, StoreError>;

    /// The stored PHC password hash of a user, for [`auth::verify_password`] at sign-in.
    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// All users, ordered by name.
    fn list_users(&self) -> Result<Vec<User>, StoreError>;

    /// Disables or re-enables a user. Returns `false` when the user is unknown.
    fn set_user_disabled(&mut self, name: &str, disabled: bool) -> Result<bool, StoreError>;

    /// Records a new API token for `user` by its SHA-256 hex `token_hash` (from
    /// [`auth::new_token`]; anything else is refused). An unknown user is
    /// [`StoreError::NotFound`].
    fn add_token(
        &mut self,
        user: &str,
        token_hash: &str,
        created: Timestamp,
    ) -> Result<ApiToken, StoreError>;

    /// The user a presented token acts as (look it up with [`auth::token_hash`] of the token).
    /// `None` when the hash is unknown, the token is revoked, or the user is disabled.
    fn find_user_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(User, ApiToken)>, StoreError>;

    /// Records that token `id` authenticated a request at `time`. Returns `false` when the id
    /// is unknown.
    fn touch_token(&mut self, id: u64, time: Timestamp) -> Result<bool, StoreError>;

    /// A user's tokens (revoked ones included), oldest first.
    fn list_tokens(&self, user: &str) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes token `id` for good. Returns `false` when the id is unknown.
    fn revoke_token(&mut self, id: u64) -> Result<bool, StoreError>;

    // ---- the analyst workflow (see [`workflow`]): each change commits with its audit entry ----

    /// Replaces an alert's workflow state and appends `audit`, in one transaction. `false`
    /// (and nothing written) when the id is unknown.
    fn update_alert_state(
        &mut self,
        id: &str,
        state: &AlertState,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;

    /// The newest `limit` (1 to [`audit::MAX_AUDIT_PAGE`]) audit entries whose target is
    /// `target`, oldest first: an alert's or a case's history.
    fn audit_for_target(&self, target: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// Records a new session (sign-in) and its audit entry. The user must exist and be
    /// enabled; `session.hash` must be a SHA-256 hex digest.
    fn create_session(&mut self, session: &Session, audit: &AuditRecord) -> Result<(), StoreError>;

    /// The session with this hash and its user; `None` when unknown, ended, or the user is
    /// disabled. Expiry is the caller's policy (it compares `created`/`last_seen` to now).
    fn find_session(&self, hash: &str) -> Result<Option<(User, Session)>, StoreError>;

    /// Records activity on a session (`last_seen` never moves back). `false` when unknown.
    fn touch_session(&mut self, hash: &str, time: Timestamp) -> Result<bool, StoreError>;

    /// Ends a session (sign-out, with `audit`; expiry, without). `false` when unknown.
    fn end_session(&mut self, hash: &str, audit: Option<&AuditRecord>) -> Result<bool, StoreError>;

    /// Deletes sessions idle since before `idle_before` or signed in before `created_before`;
    /// returns how many. A changed password or a disabled user also ends their sessions.
    fn purge_sessions(
        &mut self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Opens a case (actor and time from `audit`, whose `target` the store sets to the new
    /// case id) with the given alerts. An unknown alert id is [`StoreError::NotFound`] naming
    /// its position, and nothing is written.
    fn create_case(
        &mut self,
        title: &str,
        description: &str,
        alert_ids: &[String],
        audit: &AuditRecord,
    ) -> Result<Case, StoreError>;

    /// Adds alerts to a case (ones already in it are skipped). `None` for an unknown case.
    fn add_case_alerts(
        &mut self,
        case: &str,
        alert_ids: &[String],
        audit: &AuditRecord,
    ) -> Result<Option<Case>, StoreError>;

    /// Opens or closes a case. `None` for an unknown case.
    fn set_case_status(
        &mut self,
        case: &str,
        status: CaseStatus,
        audit: &AuditRecord,
    ) -> Result<Option<Case>, StoreError>;

    /// One case by id (`case-<n>`).
    fn get_case(&self, case: &str) -> Result<Option<Case>, StoreError>;

    /// Cases, optionally of one status, most recently updated first.
    fn list_cases(&self, status: Option<CaseStatus>) -> Result<Vec<Case>, StoreError>;

    /// The alerts of a case, newest first (empty for an unknown case).
    fn case_alerts(&self, case: &str) -> Result<Vec<Alert>, StoreError>;

    /// The ids of the cases an alert belongs to.
    fn cases_of_alert(&self, alert_id: &str) -> Result<Vec<String>, StoreError>;

    /// The newest alert event time, `None` for an empty store.
    fn latest_alert_time(&self) -> Result<Option<Timestamp>, StoreError>;

    /// Alert counts over event times in `[from, to)`, bucketed by `bucket_micros` (at most
    /// [`workflow::MAX_STATS_BUCKETS`] buckets, else [`StoreError::InvalidQuery`]).
    fn alert_stats(
        &self,
        from: Timestamp,
        to: Timestamp,
        bucket_micros: i64,
    ) -> Result<AlertStats, StoreError>;

    // ---- EHR-snooping cases (see [`ehr`]) ----

    /// Stores one detection run (alerts, cases, flagged accesses, names) and appends `audit`,
    /// all in one transaction. Idempotent on alert ids, case ids and (case, row); a name
    /// replaces the stored one of the same kind and id. A case whose id is not an alert id,
    /// or an access whose case is unknown, is [`StoreError::InvalidInput`] and nothing is
    /// written. `audit.details` must carry counts, never names.
    fn import_ehr(
        &mut self,
        run: &EhrImport,
        audit: &AuditRecord,
    ) -> Result<EhrImportCounts, StoreError>;

    /// Users with stored cases, ranked by their highest case score, then user id; one page.
    fn ehr_users(&self, query: &EhrUserQuery) -> Result<Vec<EhrUserSummary>, StoreError>;

    /// How many users [`Store::ehr_users`] would list over all pages.
    fn count_ehr_users(&self, query: &EhrUserQuery) -> Result<u64, StoreError>;

    /// One user's cases and up to `limit` (1 to [`ehr::MAX_EHR_TIMELINE`]) flagged accesses
    /// in time order; `None` when the user has no stored case.
    fn ehr_timeline(&self, user_id: &str, limit: u32) -> Result<Option<EhrTimeline>, StoreError>;

    /// The stored names of these people (unknown ids are left out, repeats once; at most
    /// [`ehr::MAX_EHR_LOOKUP`] ids). PHI: callers show them to the privacy officer only.
    fn ehr_people(&self, kind: PersonKind, ids: &[String]) -> Result<Vec<EhrPerson>, StoreError>;

    /// Enqueues response jobs and appends one `respond.plan` audit entry per new job, in one
    /// transaction. A job whose idempotency key is stored already is skipped. Returns each
    /// job's id and whether it was new.
    fn enqueue_jobs(
        &mut self,
        jobs: &[NewJob],
        time: Timestamp,
        actor: &str,
    ) -> Result<Vec<(u64, bool)>, StoreError>;

    /// Claims up to `limit` due jobs (pending and due, or running with a lapsed lease, i.e.
    /// whose worker died), counting an attempt on each. A job's lease runs for its own
    /// `timeout_secs` plus `lease_micros`.
    fn claim_jobs(
        &mut self,
        now: Timestamp,
        lease_micros: i64,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Records how a claimed attempt ended, with `audit` (target set to the job). `None`
    /// when the id is unknown or the job is not running (nothing written).
    fn finish_job(
        &mut self,
        id: u64,
        attempt: &Attempt,
        audit: &AuditRecord,
    ) -> Result<Option<Job>, StoreError>;

    /// Records an approver's verdict (`decision`: who, role, comment) on a job awaiting
    /// approval, with `audit`. An expired request is expired first and reported as such.
    /// The caller checks the approver's role.
    fn decide_job(
        &mut self,
        id: u64,
        verdict: Verdict,
        decision: &serde_json::Value,
        audit: &AuditRecord,
    ) -> Result<Decided, StoreError>;

    /// Ends every approval request whose time is up: expired (nothing done), or pending when
    /// its approval is not clinical and its playbook says to proceed. Each is audited.
    fn expire_approvals(&mut self, now: Timestamp, actor: &str) -> Result<Vec<Job>, StoreError>;

    /// One job.
    fn get_job(&self, id: u64) -> Result<Option<Job>, StoreError>;

    /// Jobs, newest first, filtered (see [`JobQuery`]).
    fn list_jobs(&self, query: &JobQuery) -> Result<Vec<Job>, StoreError>;

    /// When `playbook` last enqueued jobs for `entity`.
    fn last_response(&self, playbook: &str, entity: &str) -> Result<Option<Timestamp>, StoreError>;

    /// How many alerts started `playbook` at or after `since`.
    fn responses_since(&self, playbook: &str, since: Timestamp) -> Result<u32, StoreError>;

    /// Up to `limit` (1 to [`respond::MAX_JOB_PAGE`]) alerts stored after insertion number
    /// `seq`, with their numbers, in insertion order: how a consumer (the response engine)
    /// follows new alerts.
    fn alerts_after(&self, seq: u64, limit: u32) -> Result<Vec<(u64, Alert)>, StoreError>;

    /// A consumer's saved position (0 when never saved).
    fn cursor(&self, name: &str) -> Result<u64, StoreError>;

    /// Saves a consumer's position.
    fn set_cursor(&mut self, name: &str, value: u64) -> Result<(), StoreError>;
}

/// Checks an alert before storage; shared by backends so they reject the same input.
pub fn validate_alert(alert: &Alert) -> Result<(), StoreError> {
    if alert.id.is_empty() {
        return Err(StoreError::InvalidInput("alert id is empty".into()));
    }
    if alert.id.len() > 256 {
        return Err(StoreError::InvalidInput(format!(
            "alert id is {} bytes long, at most 256 allowed",
            alert.id.len()
        )));
    }
    Ok(())
}

/// Checks an alert state before storage; shared by backends.
pub fn validate_state(state: &AlertState) -> Result<(), StoreError> {
    match &state.assignee {
        Some(a) if a.len() > MAX_ASSIGNEE_LEN => Err(StoreError::InvalidInput(format!(
            "assignee is {} bytes long, at most {MAX_ASSIGNEE_LEN} allowed",
            a.len()
        ))),
        _ => Ok(()),
    }
}
