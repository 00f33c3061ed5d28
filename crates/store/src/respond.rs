//! The durable response queue: one row per planned step (a *job*), keyed by its idempotency
//! key, with its state, attempts, approval and result. The store knows nothing of playbooks:
//! actions and approvals are JSON the response engine writes and reads.
//!
//! States: `awaiting_approval` → (`pending` | `rejected` | `expired`); `pending` → `running`
//! (claimed with a lease) → `succeeded` | `failed` | back to `pending` (a retry, later) ;
//! `skipped` is final from the start. A `running` job whose lease ran out (its worker died) is
//! claimed again: receivers see the same idempotency key, so the effect happens once.

use serde::{Deserialize, Serialize};
use ward_core::Timestamp;

/// Longest accepted text field of a job (names, keys), in bytes.
pub const MAX_JOB_TEXT: usize = 256;
/// Largest accepted JSON field of a job (action, approval, result), in bytes.
pub const MAX_JOB_JSON: usize = 64 * 1024;
/// Largest page of [`crate::Store::list_jobs`].
pub const MAX_JOB_PAGE: u32 = 1000;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waits for a human approval.
    AwaitingApproval,
    /// Due at `next_at`.
    Pending,
    /// Claimed by a worker until `lease_until`.
    Running,
    /// Done.
    Succeeded,
    /// Gave up (a permanent error, or no attempts left).
    Failed,
    /// Never ran (condition, template or rate limit; see its result).
    Skipped,
    /// An approver said no: nothing was done.
    Rejected,
    /// Nobody approved in time: nothing was done.
    Expired,
}

impl JobState {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::AwaitingApproval,
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Skipped,
        Self::Rejected,
        Self::Expired,
    ];

    /// Snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether nothing more will happen to the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Skipped | Self::Rejected | Self::Expired
        )
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Idempotency key: a second job with the same key is not stored.
    pub key: String,
    /// The alert it answers.
    pub alert_id: String,
    /// Playbook name.
    pub playbook: String,
    /// Step name.
    pub step: String,
    /// The alert's entity (`host:10.0.0.5`), for deduplication.
    pub entity: String,
    /// Action kind (`webhook`, `firewall`, ...).
    pub kind: String,
    /// The action, as JSON.
    pub action: serde_json::Value,
    /// `notify`, `record`, `contain` or `release`.
    pub effect: String,
    /// `pending`, `awaiting_approval` or `skipped`.
    pub state: JobState,
    /// The approval asked (roles, clinical, reason ...), as JSON; `null` without one.
    pub approval: serde_json::Value,
    /// When an approval expires.
    pub expires_at: Option<Timestamp>,
    /// Attempts allowed in all.
    pub max_attempts: u32,
    /// Seconds per attempt.
    pub timeout_secs: u32,
    /// Why it is skipped, or other context, as JSON (`null` for none).
    pub result: serde_json::Value,
    /// The job this one undoes.
    pub rollback_of: Option<u64>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Dense id.
    pub id: u64,
    /// Idempotency key.
    pub key: String,
    /// The alert.
    pub alert_id: String,
    /// Playbook.
    pub playbook: String,
    /// Step.
    pub step: String,
    /// Entity.
    pub entity: String,
    /// Action kind.
    pub kind: String,
    /// The action.
    pub action: serde_json::Value,
    /// Effect.
    pub effect: String,
    /// State.
    pub state: JobState,
    /// The approval asked, and once decided who decided, when and why.
    pub approval: serde_json::Value,
    /// When an approval expires.
    pub expires_at: Option<Timestamp>,
    /// Attempts made.
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Seconds per attempt.
    pub timeout_secs: u32,
    /// Not due before.
    pub next_at: Timestamp,
    /// Claimed until (while running).
    pub lease_until: Option<Timestamp>,
    /// The outcome or the last error.
    pub result: serde_json::Value,
    /// The job this one undoes.
    pub rollback_of: Option<u64>,
    /// Enqueued.
    pub created: Timestamp,
    /// Last changed.
    pub updated: Timestamp,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Attempt {
    /// Done; the outcome.
    Succeeded(serde_json::Value),
    /// Try again at the time given; the error.
    Retry(Timestamp, serde_json::Value),
    /// Give up; the error.
    Failed(serde_json::Value),
}

/// An approver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run it.
    Approve,
    /// Do nothing.
    Reject,
}

/// Filters of [`crate::Store::list_jobs`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobQuery {
    /// Only jobs in these states (empty: all).
    pub states: Vec<JobState>,
    /// Only jobs of this alert.
    pub alert_id: Option<String>,
    /// Newest first, at most this many (1 to [`MAX_JOB_PAGE`]).
    pub limit: u32,
    /// Only jobs with an id below this (keyset paging, newest first).
    pub before_id: Option<u64>,
}

/// Checks a new job's fields.
pub fn validate_new_job(j: &NewJob) -> Result<(), String> {
    for (name, v) in [
        ("key", &j.key),
        ("alert_id", &j.alert_id),
        ("playbook", &j.playbook),
        ("step", &j.step),
        ("entity", &j.entity),
        ("kind", &j.kind),
        ("effect", &j.effect),
    ] {
        if v.is_empty() || v.len() > MAX_JOB_TEXT {
            return Err(format!("job {name} must be 1 to {MAX_JOB_TEXT} bytes"));
        }
    }
    for (name, v) in [
        ("action", &j.action),
        ("approval", &j.approval),
        ("result", &j.result),
    ] {
        if v.to_string().len() > MAX_JOB_JSON {
            return Err(format!("job {name} is larger than {MAX_JOB_JSON} bytes"));
        }
    }
    if !matches!(
        j.state,
        JobState::Pending | JobState::AwaitingApproval | JobState::Skipped
    ) {
        return Err("a new job is pending, awaiting_approval or skipped".to_owned());
    }
    if j.state == JobState::AwaitingApproval && j.expires_at.is_none() {
        return Err("a job awaiting approval needs expires_at".to_owned());
    }
    if !(1..=100).contains(&j.max_attempts) || !(1..=3600).contains(&j.timeout_secs) {
        return Err("job max_attempts must be 1 to 100 and timeout_secs 1 to 3600".to_owned());
    }
    Ok(())
}

/// What [`crate::Store::decide_job`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Decided {
    /// The verdict was recorded; the job as it is now.
    Done(Box<Job>),
    /// No job with that id.
    NotFound,
    /// The job is not waiting for an approval (its state).
    NotAwaiting(JobState),
    /// The approval expired before the verdict; the job is now expired (or, when its
    /// playbook allows it, pending).
    Expired(Box<Job>),
}
