//! Planning: which playbooks an alert starts, and for each step the rendered action, its effect,
//! the gate's decision and an idempotency key. Pure: the caller supplies the time and the run
//! history (for deduplication and rate limits).

use crate::playbook::{ActionSpec, DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECS, Playbook, PlaybookSet};
use crate::safety::{self, DeviceClass, Effect, Gate, SafetyPolicy};
use crate::template::{self, Context, Vars};
use serde::Serialize;
use ward_core::alert::Alert;
use ward_core::entity::EntityKind;
use ward_core::time::Timestamp;

/// What is known of the alert's target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Target {
    /// Network address, when the entity is a host or device.
    pub address: Option<String>,
    /// Device class from the inventory or configuration ([`DeviceClass::Unknown`] otherwise).
    pub class: DeviceClass,
}

impl Target {
    /// The target of `alert` with device class `class`: a host or device entity's value is its
    /// address (the first of a host pair).
    pub fn of(alert: &Alert, class: DeviceClass) -> Self {
        let address = match alert.entity.kind {
            EntityKind::Host | EntityKind::Device => Some(alert.entity.value.clone()),
            EntityKind::HostPair => alert
                .entity
                .value
                .split_once("->")
                .map(|(a, _)| a.to_owned()),
            _ => None,
        };
        Self { address, class }
    }
}

/// Past runs, for deduplication and rate limits.
pub trait History {
    /// When `playbook` last ran for `entity` (its `kind:value` form), if ever.
    fn last_run(&self, playbook: &str, entity: &str) -> Option<Timestamp>;
    /// How many times `playbook` ran at or after `since`.
    fn runs_since(&self, playbook: &str, since: Timestamp) -> u32;
}

/// No history: every playbook is new.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHistory;

impl History for NoHistory {
    fn last_run(&self, _: &str, _: &str) -> Option<Timestamp> {
        None
    }
    fn runs_since(&self, _: &str, _: Timestamp) -> u32 {
        0
    }
}

/// What happens to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Runs now.
    Run,
    /// Waits for an approval.
    Approve {
        /// Roles that may approve.
        roles: Vec<String>,
        /// Minutes before it expires.
        timeout_minutes: u32,
        /// True when expiry runs the step (never for a clinical approval).
        proceed_on_timeout: bool,
        /// True when the clinical-safety rule requires it.
        clinical: bool,
        /// Why.
        reason: String,
    },
    /// Does not run.
    Skip {
        /// Why, in a sentence.
        reason: String,
    },
}

/// One step of a started playbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    /// The playbook.
    pub playbook: String,
    /// The step.
    pub step: String,
    /// The action with its parameters rendered from the alert (the unrendered one when
    /// rendering failed and the step is skipped).
    pub action: ActionSpec,
    /// Its effect, as the gate saw it.
    pub effect: Effect,
    /// Run, approve or skip.
    pub decision: Decision,
    /// Same playbook, step and alert: same key. A queue refuses a second job with the same key.
    pub idempotency_key: String,
    /// Attempts after the first.
    pub retries: u32,
    /// Seconds per attempt.
    pub timeout_secs: u32,
    /// The action that undoes it, if any.
    pub rollback: Option<ActionSpec>,
}

/// What an alert did to one matching playbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PlaybookPlan {
    /// Started: its steps.
    Started {
        /// The playbook.
        playbook: String,
        /// Its steps, in order.
        steps: Vec<PlannedStep>,
    },
    /// Not started: it ran for the same entity within its deduplication window.
    Deduplicated {
        /// The playbook.
        playbook: String,
        /// Its last run for the entity.
        last_run: Timestamp,
    },
    /// Not started: it reached its rate limit.
    RateLimited {
        /// The playbook.
        playbook: String,
        /// Runs in the last hour.
        runs_last_hour: u32,
    },
}

/// The idempotency key of a step for an alert: 32 hex digits of SHA-256 over playbook, step
/// and alert id.
pub fn idempotency_key(playbook: &str, step: &str, alert_id: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in ["ward-respond-v1", playbook, step, alert_id] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

const MINUTE_US: i64 = 60_000_000;

/// Plans `alert` against every playbook of `set`.
pub fn plan(
    alert: &Alert,
    target: &Target,
    set: &PlaybookSet,
    policy: &SafetyPolicy,
    history: &dyn History,
    now: Timestamp,
) -> Vec<PlaybookPlan> {
    let entity = alert.entity.to_string();
    let mut out = Vec::new();
    for p in set
        .playbook
        .iter()
        .filter(|p| p.matches(alert, target.class))
    {
        if p.dedup_minutes > 0
            && let Some(last) = history.last_run(&p.name, &entity)
            && now.micros().saturating_sub(last.micros())
                < i64::from(p.dedup_minutes).saturating_mul(MINUTE_US)
        {
            out.push(PlaybookPlan::Deduplicated {
                playbook: p.name.clone(),
                last_run: last,
            });
            continue;
        }
        if p.max_runs_per_hour > 0 {
            let runs = history.runs_since(
                &p.name,
                Timestamp(now.micros().saturating_sub(60 * MINUTE_US)),
            );
            if runs >= p.max_runs_per_hour {
                out.push(PlaybookPlan::RateLimited {
                    playbook: p.name.clone(),
                    runs_last_hour: runs,
                });
                continue;
            }
        }
        out.push(PlaybookPlan::Started {
            playbook: p.name.clone(),
            steps: plan_steps(p, alert, target, policy),
        });
    }
    out
}

fn vars(alert: &Alert, target: &Target, playbook: &str, step: &str) -> Vars {
    let mut v = Vars::new();
    v.insert("alert.id", alert.id.clone());
    v.insert("alert.detector", alert.detector.clone());
    v.insert(
        "alert.severity",
        serde_json::to_value(alert.severity)
            .ok()
            .and_then(|x| x.as_str().map(str::to_owned))
            .unwrap_or_default(),
    );
    v.insert("alert.score", alert.score.to_string());
    v.insert("alert.title", alert.title.clone());
    v.insert("alert.time", alert.time.to_string());
    v.insert("entity.kind", alert.entity.kind.as_str().to_owned());
    v.insert("entity.value", alert.entity.value.clone());
    v.insert("target.address", target.address.clone().unwrap_or_default());
    v.insert("target.class", target.class.as_str().to_owned());
    v.insert("playbook", playbook.to_owned());
    v.insert("step", step.to_owned());
    v
}

fn plan_steps(
    p: &Playbook,
    alert: &Alert,
    target: &Target,
    policy: &SafetyPolicy,
) -> Vec<PlannedStep> {
    p.steps
        .iter()
        .map(|s| {
            let raw = s.action();
            let effect = s.effect();
            let key = idempotency_key(&p.name, &s.name, &alert.id);
            let v = vars(alert, target, &p.name, &s.name);
            let rendered = render_action(&raw, &v, alert, target);
            let (action, decision) = match rendered {
                Err(reason) => (raw, Decision::Skip { reason }),
                Ok(a) => {
                    let decision = if s
                        .when
                        .as_ref()
                        .is_some_and(|w| !w.matches(alert, target.class))
                    {
                        Decision::Skip {
                            reason: "the step's `when` condition does not match the alert"
                                .to_owned(),
                        }
                    } else {
                        match safety::gate(effect, target.class, s.approval.as_ref(), policy) {
                            Gate::Run => Decision::Run,
                            Gate::Approve {
                                roles,
                                timeout_minutes,
                                on_timeout,
                                clinical,
                                reason,
                            } => Decision::Approve {
                                roles,
                                timeout_minutes,
                                proceed_on_timeout: !clinical
                                    && on_timeout == safety::OnTimeout::Proceed,
                                clinical,
                                reason,
                            },
                        }
                    };
                    (a, decision)
                }
            };
            let rollback = action.rollback();
            PlannedStep {
                playbook: p.name.clone(),
                step: s.name.clone(),
                action,
                effect,
                decision,
                idempotency_key: key,
                retries: s.retries.unwrap_or(DEFAULT_RETRIES),
                timeout_secs: s.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
                rollback,
            }
        })
        .collect()
}

/// Renders every template of `a`; an error names what could not be rendered.
fn render_action(
    a: &ActionSpec,
    v: &Vars,
    alert: &Alert,
    target: &Target,
) -> Result<ActionSpec, String> {
    use crate::playbook::{ExecSpec, WebhookSpec};
    let web = |w: &WebhookSpec| -> Result<WebhookSpec, String> {
        let mut w = w.clone();
        w.url = template::render(&w.url, v, Context::Url)?;
        for h in w.headers.values_mut() {
            *h = template::render(h, v, Context::Text)?;
        }
        Ok(w)
    };
    let exec = |e: &ExecSpec| -> Result<ExecSpec, String> {
        let mut e = e.clone();
        for arg in &mut e.args {
            *arg = template::render(arg, v, Context::Arg)?;
        }
        Ok(e)
    };
    let address = || -> Result<String, String> {
        let a = target
            .address
            .as_deref()
            .ok_or("the alert's entity has no network address to act on")?;
        a.parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| "the target address is not an IP address".to_owned())
    };
    Ok(match a {
        ActionSpec::Webhook(w) => ActionSpec::Webhook(web(w)?),
        ActionSpec::Exec(e) => ActionSpec::Exec(exec(e)?),
        ActionSpec::Email(e) => {
            let mut e = e.clone();
            e.subject = template::render(&e.subject, v, Context::Text)?;
            ActionSpec::Email(e)
        }
        ActionSpec::Syslog(s) => ActionSpec::Syslog(s.clone()),
        ActionSpec::Firewall(f) => {
            address()?;
            let mut f = f.clone();
            for arg in f
                .block_command
                .iter_mut()
                .chain(f.release_command.iter_mut())
            {
                *arg = template::render(arg, v, Context::Arg)?;
            }
            ActionSpec::Firewall(f)
        }
        ActionSpec::DisableAccount(d) => {
            if alert.entity.kind != EntityKind::User {
                return Err("disable_account needs an alert about a user".to_owned());
            }
            let mut d = d.clone();
            d.webhook = d.webhook.as_ref().map(web).transpose()?;
            d.exec = d.exec.as_ref().map(exec).transpose()?;
            ActionSpec::DisableAccount(d)
        }
        ActionSpec::OpenCase(c) => {
            let mut c = c.clone();
            c.title = template::render(&c.title, v, Context::Text)?;
            ActionSpec::OpenCase(c)
        }
        ActionSpec::Quarantine(q) => {
            address()?;
            ActionSpec::Quarantine(q.clone())
        }
    })
}
