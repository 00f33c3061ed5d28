//! The response engine: turns alerts into durable jobs ([`submit`]) and works the queue
//! ([`run_once`]): expires approvals, claims due jobs, runs them through an [`Executor`] (or,
//! for cases and quarantine recommendations, through the store), and records every result with
//! its audit entry. A worker that dies mid-job leaves a lease that lapses; the job is claimed
//! again with the same idempotency key, so receivers and local effects see it once.

use crate::action::{ActionContext, ActionError, Executor, Outcome};
use crate::plan::{Decision, History, PlannedStep, PlaybookPlan, Target, plan};
use crate::playbook::{ActionSpec, PlaybookSet};
use crate::safety::SafetyPolicy;
use serde::Serialize;
use serde_json::json;
use ward_core::alert::Alert;
use ward_core::time::Timestamp;
use ward_store::{Attempt, AuditRecord, Job, JobState, NewJob, Store, StoreError};

/// The actor the engine writes in the audit trail.
pub const ENGINE_ACTOR: &str = "ward-respond";

const MINUTE_US: i64 = 60_000_000;

struct StoreHistory<'a>(&'a dyn Store);

impl History for StoreHistory<'_> {
    fn last_run(&self, playbook: &str, entity: &str) -> Option<Timestamp> {
        self.0.last_response(playbook, entity).ok().flatten()
    }
    fn runs_since(&self, playbook: &str, since: Timestamp) -> u32 {
        // when the store cannot say, count as full: better skip than flood
        self.0.responses_since(playbook, since).unwrap_or(u32::MAX)
    }
}

/// What [`submit`] did with one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submitted {
    /// The plan, per matching playbook.
    pub plans: Vec<PlaybookPlan>,
    /// Jobs newly enqueued.
    pub enqueued: usize,
    /// Jobs whose idempotency key was stored already (the alert was submitted before).
    pub already: usize,
}

/// The job of a planned step.
pub fn new_job(alert: &Alert, s: &PlannedStep, now: Timestamp) -> NewJob {
    let (state, approval, expires_at, result) = match &s.decision {
        Decision::Run => (
            JobState::Pending,
            serde_json::Value::Null,
            None,
            serde_json::Value::Null,
        ),
        Decision::Approve {
            roles,
            timeout_minutes,
            proceed_on_timeout,
            clinical,
            reason,
        } => (
            JobState::AwaitingApproval,
            json!({
                "roles": roles, "clinical": clinical, "proceed_on_timeout": proceed_on_timeout,
                "timeout_minutes": timeout_minutes, "reason": reason,
            }),
            Some(Timestamp(now.micros().saturating_add(
                i64::from(*timeout_minutes).saturating_mul(MINUTE_US),
            ))),
            serde_json::Value::Null,
        ),
        Decision::Skip { reason } => (
            JobState::Skipped,
            serde_json::Value::Null,
            None,
            json!({ "skipped": reason }),
        ),
    };
    NewJob {
        key: s.idempotency_key.clone(),
        alert_id: alert.id.clone(),
        playbook: s.playbook.clone(),
        step: s.step.clone(),
        entity: alert.entity.to_string(),
        kind: s.action.kind().to_owned(),
        action: serde_json::to_value(&s.action).unwrap_or(serde_json::Value::Null),
        effect: s.effect.as_str().to_owned(),
        state,
        approval,
        expires_at,
        max_attempts: s.retries.saturating_add(1).clamp(1, 100),
        timeout_secs: s.timeout_secs.clamp(1, 3600),
        result,
        rollback_of: None,
    }
}

/// Plans `alert` against `set` and enqueues its jobs; a playbook left out by deduplication or
/// its rate limit is written to the audit trail.
pub fn submit(
    store: &mut dyn Store,
    alert: &Alert,
    target: &Target,
    set: &PlaybookSet,
    policy: &SafetyPolicy,
    now: Timestamp,
) -> Result<Submitted, StoreError> {
    let plans = plan(alert, target, set, policy, &StoreHistory(store), now);
    let mut jobs = Vec::new();
    for p in &plans {
        match p {
            PlaybookPlan::Started { steps, .. } => {
                jobs.extend(steps.iter().map(|s| new_job(alert, s, now)));
            }
            PlaybookPlan::Deduplicated { playbook, last_run } => {
                store.append_audit(
                    now,
                    ENGINE_ACTOR,
                    "respond.deduplicated",
                    &alert.id,
                    &json!({ "playbook": playbook, "last_run": last_run }),
                )?;
            }
            PlaybookPlan::RateLimited {
                playbook,
                runs_last_hour,
            } => {
                store.append_audit(
                    now,
                    ENGINE_ACTOR,
                    "respond.rate_limited",
                    &alert.id,
                    &json!({ "playbook": playbook, "runs_last_hour": runs_last_hour }),
                )?;
            }
        }
    }
    let ids = if jobs.is_empty() {
        Vec::new()
    } else {
        store.enqueue_jobs(&jobs, now, ENGINE_ACTOR)?
    };
    Ok(Submitted {
        plans,
        enqueued: ids.iter().filter(|x| x.1).count(),
        already: ids.iter().filter(|x| !x.1).count(),
    })
}

/// Settings of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerOptions {
    /// How long past its timeout a claimed job stays the worker's before another worker may
    /// take it (the worker is presumed dead), in microseconds. Jobs are claimed one at a time,
    /// so a lease never waits behind other jobs.
    pub lease_micros: i64,
    /// Most jobs run per round.
    pub batch: u32,
    /// Describe, change nothing.
    pub dry_run: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            lease_micros: 5_000_000,
            batch: 64,
            dry_run: false,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Round {
    /// Approval requests that ran out.
    pub expired: usize,
    /// Jobs claimed.
    pub claimed: usize,
    /// Succeeded.
    pub succeeded: usize,
    /// Scheduled again.
    pub retried: usize,
    /// Gave up.
    pub failed: usize,
}

/// Delay before attempt `attempt + 1` after a retryable failure, in microseconds (see
/// [`crate::actions::backoff`]: 1 s, 2 s, 4 s ... at most 5 minutes).
pub fn backoff_micros(attempt: u32) -> i64 {
    i64::try_from(crate::actions::backoff(attempt).as_micros()).unwrap_or(i64::MAX)
}

/// One round of the worker: expire approvals, then claim and run up to `opts.batch` due jobs
/// one at a time. `clock` gives the time (the wall clock in ward, a fixed one in tests).
pub fn run_once(
    store: &mut dyn Store,
    executor: &dyn Executor,
    clock: &dyn Fn() -> Timestamp,
    opts: &WorkerOptions,
) -> Result<Round, StoreError> {
    let mut round = Round {
        expired: store.expire_approvals(clock(), ENGINE_ACTOR)?.len(),
        ..Round::default()
    };
    for _ in 0..opts.batch.max(1) {
        let Some(job) = store.claim_jobs(clock(), opts.lease_micros, 1)?.pop() else {
            break;
        };
        round.claimed += 1;
        let now = clock();
        let result = run_job(store, executor, &job, opts.dry_run, now);
        let (attempt, action) = match result {
            Ok(o) => {
                round.succeeded += 1;
                (
                    Attempt::Succeeded(json!({ "summary": o.summary, "detail": o.detail })),
                    "respond.succeeded",
                )
            }
            Err(e) if e.is_retryable() && job.attempts < job.max_attempts => {
                round.retried += 1;
                (
                    Attempt::Retry(
                        Timestamp(now.micros().saturating_add(backoff_micros(job.attempts))),
                        json!({ "error": e.to_string(), "attempt": job.attempts }),
                    ),
                    "respond.retry",
                )
            }
            Err(e) => {
                round.failed += 1;
                (
                    Attempt::Failed(json!({ "error": e.to_string(), "attempt": job.attempts })),
                    "respond.failed",
                )
            }
        };
        let details = json!({
            "key": job.key, "playbook": job.playbook, "step": job.step, "action": job.kind,
            "attempt": job.attempts, "dry_run": opts.dry_run,
            "result": match &attempt {
                Attempt::Succeeded(v) | Attempt::Retry(_, v) | Attempt::Failed(v) => v.clone(),
            },
        });
        store.finish_job(
            job.id,
            &attempt,
            &AuditRecord::new(now, ENGINE_ACTOR, action, "", details),
        )?;
    }
    Ok(round)
}

fn run_job(
    store: &mut dyn Store,
    executor: &dyn Executor,
    job: &Job,
    dry_run: bool,
    now: Timestamp,
) -> Result<Outcome, ActionError> {
    let action: ActionSpec = serde_json::from_value(job.action.clone())
        .map_err(|_| ActionError::Permanent("the stored action cannot be read".to_owned()))?;
    let alert = store
        .get_alert(&job.alert_id)
        .map_err(|e| ActionError::Retryable(format!("store: {e}")))?
        .ok_or_else(|| ActionError::Permanent("the alert is not in the store".to_owned()))?;
    let target = Target::of(&alert, crate::safety::DeviceClass::Unknown);
    match &action {
        ActionSpec::OpenCase(c) => open_case(store, &alert, job, &c.title, dry_run, now),
        ActionSpec::Quarantine(q) => Ok(Outcome {
            summary: format!(
                "recommended quarantine of {} ({}): no network change made",
                target.address.as_deref().unwrap_or("the device"),
                q.mode.as_str().replace('_', " ")
            ),
            detail: json!({ "recommendation": q.mode, "address": target.address }),
        }),
        a => executor.execute(
            a,
            &ActionContext {
                alert: &alert,
                playbook: &job.playbook,
                step: &job.step,
                target_address: target.address.as_deref(),
                idempotency_key: &job.key,
                attempt: job.attempts,
                timeout_secs: job.timeout_secs,
                dry_run,
            },
        ),
    }
}

/// The description of a case a response opened: how a rerun finds it.
pub fn case_marker(playbook: &str, key: &str) -> String {
    format!("Opened by ward response {playbook} (key {key}).")
}

/// Opens a case for the alert, once per idempotency key: a rerun after a crash finds the case
/// it made by the key in its description.
fn open_case(
    store: &mut dyn Store,
    alert: &Alert,
    job: &Job,
    title: &str,
    dry_run: bool,
    now: Timestamp,
) -> Result<Outcome, ActionError> {
    let marker = case_marker(&job.playbook, &job.key);
    let title: String = if title.trim().is_empty() {
        alert.title.clone()
    } else {
        title.to_owned()
    }
    .chars()
    .take(200)
    .collect();
    if dry_run {
        return Ok(Outcome {
            summary: format!("would open a case {title:?} holding alert {}", alert.id),
            detail: json!({ "title": title }),
        });
    }
    let store_err = |e: StoreError| ActionError::Retryable(format!("store: {e}"));
    let existing = store
        .list_cases(None)
        .map_err(store_err)?
        .into_iter()
        .find(|c| c.description == marker);
    let case = match existing {
        Some(c) => c,
        None => store
            .create_case(
                &title,
                &marker,
                std::slice::from_ref(&alert.id),
                &AuditRecord::new(
                    now,
                    ENGINE_ACTOR,
                    "case.create",
                    "",
                    json!({ "playbook": job.playbook, "step": job.step, "key": job.key }),
                ),
            )
            .map_err(store_err)?,
    };
    Ok(Outcome {
        summary: format!("case {} holds alert {}", case.id, alert.id),
        detail: json!({ "case": case.id }),
    })
}

/// The cursor name under which the engine keeps its place in the alert stream.
pub const CURSOR: &str = "respond";

/// Submits every alert stored since the engine's cursor (at most `batch`), moving the cursor
/// past each as it goes. `target_of` says what the alert's target is (address and device
/// class, from the inventory and configuration). Returns how many alerts were submitted.
/// A crash between a submit and the cursor update submits that alert again; its jobs'
/// idempotency keys make that harmless.
pub fn follow(
    store: &mut dyn Store,
    set: &PlaybookSet,
    policy: &SafetyPolicy,
    target_of: &dyn Fn(&dyn Store, &Alert) -> Target,
    now: Timestamp,
    batch: u32,
) -> Result<usize, StoreError> {
    let from = store.cursor(CURSOR)?;
    let alerts = store.alerts_after(from, batch.clamp(1, ward_store::respond::MAX_JOB_PAGE))?;
    let n = alerts.len();
    let mut last = from;
    for (seq, alert) in alerts {
        if !set.playbook.is_empty() {
            let target = target_of(store, &alert);
            submit(store, &alert, &target, set, policy, now)?;
        }
        last = seq;
    }
    if last != from {
        store.set_cursor(CURSOR, last)?;
    }
    Ok(n)
}

/// What [`rollback`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Rollback {
    /// A rollback job was enqueued (or existed already); its id and how it will run.
    Enqueued {
        /// The rollback job.
        job: u64,
        /// False when a rollback of this job had been asked before.
        new: bool,
        /// Runs now, or waits for an approval (a release on a life-critical device does).
        decision: Decision,
    },
    /// The job cannot be rolled back (why).
    Refused(String),
}

/// Asks to undo a succeeded job (a firewall block is released): enqueues its rollback job,
/// which goes through the clinical gate like any other step (a release on a life-sustaining or
/// life-supporting device waits for a clinical role).
pub fn rollback(
    store: &mut dyn Store,
    job_id: u64,
    target: &Target,
    policy: &SafetyPolicy,
    actor: &str,
    now: Timestamp,
) -> Result<Rollback, StoreError> {
    let Some(job) = store.get_job(job_id)? else {
        return Ok(Rollback::Refused(format!("no job {job_id}")));
    };
    if job.rollback_of.is_some() {
        return Ok(Rollback::Refused(
            "a rollback is not rolled back".to_owned(),
        ));
    }
    if job.state != JobState::Succeeded {
        return Ok(Rollback::Refused(format!(
            "job {job_id} is {}, not succeeded: there is nothing to undo",
            job.state.as_str()
        )));
    }
    let Ok(action) = serde_json::from_value::<ActionSpec>(job.action.clone()) else {
        return Ok(Rollback::Refused(
            "the stored action cannot be read".to_owned(),
        ));
    };
    let Some(undo) = action.rollback() else {
        return Ok(Rollback::Refused(format!(
            "a {} step has no rollback",
            action.kind()
        )));
    };
    let effect = undo.effect();
    let step = PlannedStep {
        playbook: job.playbook.clone(),
        step: format!("{}#rollback", job.step),
        idempotency_key: crate::plan::idempotency_key(
            &job.playbook,
            &format!("{}#rollback", job.step),
            &job.alert_id,
        ),
        decision: match crate::safety::gate(effect, target.class, None, policy) {
            crate::safety::Gate::Run => Decision::Run,
            crate::safety::Gate::Approve {
                roles,
                timeout_minutes,
                clinical,
                reason,
                ..
            } => Decision::Approve {
                roles,
                timeout_minutes,
                proceed_on_timeout: false,
                clinical,
                reason,
            },
        },
        rollback: None,
        action: undo,
        effect,
        retries: job.max_attempts.saturating_sub(1),
        timeout_secs: job.timeout_secs,
    };
    let Some(alert) = store.get_alert(&job.alert_id)? else {
        return Ok(Rollback::Refused(
            "the job's alert is not in the store".to_owned(),
        ));
    };
    let mut new = new_job(&alert, &step, now);
    new.rollback_of = Some(job_id);
    let ids = store.enqueue_jobs(&[new], now, actor)?;
    let (id, fresh) = ids.first().copied().unwrap_or((0, false));
    Ok(Rollback::Enqueued {
        job: id,
        new: fresh,
        decision: step.decision,
    })
}
