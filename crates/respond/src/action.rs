//! What executes a step: the [`Executor`] trait, its context and its outcome.

use crate::playbook::ActionSpec;
use serde::Serialize;
use ward_core::alert::Alert;

/// Everything an executor may use besides the action itself.
#[derive(Debug, Clone, Copy)]
pub struct ActionContext<'a> {
    /// The alert the step answers.
    pub alert: &'a Alert,
    /// The playbook.
    pub playbook: &'a str,
    /// The step.
    pub step: &'a str,
    /// The target's network address, when it has one (checked to be an IP address by the
    /// planner for firewall and quarantine steps).
    pub target_address: Option<&'a str>,
    /// The job's idempotency key: sent to receivers (`Idempotency-Key` header, syslog
    /// message id, ...) so a repeated delivery can be recognised, and used to make local
    /// effects (a firewall rule, a case) happen at most once.
    pub idempotency_key: &'a str,
    /// Attempt number, 1 for the first.
    pub attempt: u32,
    /// Seconds the attempt may take.
    pub timeout_secs: u32,
    /// Describe what would happen; change nothing.
    pub dry_run: bool,
}

/// The result of a successful step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// One sentence for the audit trail and the dashboard (no PHI).
    pub summary: String,
    /// Details (HTTP status, exit code, rule text, case id, ...).
    pub detail: serde_json::Value,
}

/// A failed step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// May succeed if tried again (connection refused, timeout, HTTP 5xx or 429).
    #[error("{0} (will retry)")]
    Retryable(String),
    /// Will not succeed as configured (HTTP 4xx, bad configuration, missing secret).
    #[error("{0}")]
    Permanent(String),
}

impl ActionError {
    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

/// Carries out actions. Implementations live at the edge (network, processes, the store).
pub trait Executor {
    /// Runs `action` once. Must not panic; must respect `ctx.timeout_secs` and `ctx.dry_run`.
    fn execute(&self, action: &ActionSpec, ctx: &ActionContext<'_>)
    -> Result<Outcome, ActionError>;
}
