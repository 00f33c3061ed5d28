//! `ward respond`: try playbooks on a sample alert (a dry run by default), list pending
//! approvals, approve or reject them, and show what the response queue did.

use crate::admin::{StoreArg, open_existing};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use ward_core::alert::{Alert, Evidence, Explanation};
use ward_core::entity::{EntityId, EntityKind};
use ward_core::time::Timestamp;
use ward_respond::plan::{Decision, NoHistory, PlaybookPlan, Target, plan};
use ward_store::{Decided, JobQuery, JobState, Store, Verdict};

/// `ward respond ...`.
#[derive(Debug, Subcommand)]
pub enum RespondCmd {
    /// Run the playbooks against a sample alert and show what each step would do (a dry run
    /// unless --execute).
    #[command(
        after_help = "Examples:\n  ward respond test --playbooks docs/examples/playbooks.toml --sample host\n  ward respond test --sample device --device-class life_sustaining\n  ward respond test --alert alert.json --json"
    )]
    Test(TestArgs),
    /// Jobs waiting for an approval.
    Approvals(ListArgs),
    /// Approve a job waiting for an approval (as a user whose role may approve it).
    Approve(DecideArgs),
    /// Reject a job waiting for an approval: nothing is done, and that is recorded.
    Reject(DecideArgs),
    /// Jobs of the response queue, newest first.
    History(ListArgs),
    /// Undo a succeeded step (release a firewall block); the release passes the clinical gate
    /// like any step, so on a life-critical device it waits for a clinical role.
    Rollback(RollbackArgs),
    /// Follow new alerts in the store and work the response queue until Ctrl-C (or --once).
    #[command(
        after_help = "Examples:\n  ward respond run --store ward.db --playbooks playbooks.toml\n  ward respond run --once --dry-run"
    )]
    Run(RunArgs),
}

/// `ward respond rollback JOB --as USER`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The succeeded job to undo.
    pub job: u64,
    /// The ward user asking (admin or analyst).
    #[arg(long = "as", value_name = "USER")]
    pub user: String,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `ward respond run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Playbook file (default: `[respond] playbooks` in ward.toml).
    #[arg(long, value_name = "FILE")]
    pub playbooks: Option<PathBuf>,
    /// One round (submit new alerts, run due jobs), then exit.
    #[arg(long)]
    pub once: bool,
    /// Describe each action instead of carrying it out (jobs still complete).
    #[arg(long)]
    pub dry_run: bool,
    /// Alerts submitted and jobs claimed per round.
    #[arg(long, default_value_t = 64)]
    pub batch: u32,
    /// Milliseconds to wait when there is nothing to do.
    #[arg(long, default_value_t = 20)]
    pub idle_ms: u64,
}

/// `ward respond test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Playbook file (default: `[respond] playbooks` in ward.toml).
    #[arg(long, value_name = "FILE")]
    pub playbooks: Option<PathBuf>,
    /// A ward alert as JSON (one object, as `ward alerts --json` prints).
    #[arg(long, value_name = "FILE", conflicts_with = "sample")]
    pub alert: Option<PathBuf>,
    /// A built-in sample alert: `host` (a port scan, score 95), `device` (an infusion pump
    /// talking to a new peer, score 90) or `user` (an EHR snooping case, score 97).
    #[arg(long, default_value = "host")]
    pub sample: String,
    /// Device class of the target (default: from `[[respond.devices]]`, else unknown).
    #[arg(long, value_name = "CLASS")]
    pub device_class: Option<ward_respond::DeviceClass>,
    /// The plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Carry out the steps that would run now (never those waiting for an approval); without
    /// it each action only describes what it would do.
    #[arg(long)]
    pub execute: bool,
}

/// A store and a page size.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Most jobs shown.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// As JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `ward respond approve|reject JOB --as USER`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The job id (`ward respond approvals` lists them).
    pub job: u64,
    /// The ward user deciding; their role must be one the job asks for.
    #[arg(long = "as", value_name = "USER")]
    pub user: String,
    /// Why (kept in the audit trail).
    #[arg(long, default_value = "")]
    pub comment: String,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Runs a `ward respond` command.
pub fn run(cmd: RespondCmd, cfg: &Config) -> Result<()> {
    match cmd {
        RespondCmd::Test(a) => test(a, cfg),
        RespondCmd::Approvals(a) => list(a, cfg, vec![JobState::AwaitingApproval]),
        RespondCmd::History(a) => list(a, cfg, Vec::new()),
        RespondCmd::Approve(a) => decide(a, cfg, Verdict::Approve),
        RespondCmd::Reject(a) => decide(a, cfg, Verdict::Reject),
        RespondCmd::Run(a) => run_cmd(a, cfg),
        RespondCmd::Rollback(a) => rollback_cmd(a, cfg),
    }
}

pub(crate) fn load_set(path: Option<&PathBuf>, cfg: &Config) -> Result<ward_respond::PlaybookSet> {
    let set = cfg.respond.playbooks(path.map(PathBuf::as_path))?;
    if set.playbook.is_empty() {
        bail!("no playbooks: pass --playbooks FILE or set [respond] playbooks in ward.toml");
    }
    Ok(set)
}

fn rollback_cmd(a: RollbackArgs, cfg: &Config) -> Result<()> {
    use ward_respond::engine::Rollback;
    let mut store = open_existing(&a.store, cfg)?;
    let user = store
        .get_user(&a.user)?
        .filter(|u| !u.disabled)
        .with_context(|| format!("no enabled ward user {:?}", a.user))?;
    if !matches!(
        user.role,
        ward_store::auth::Role::Admin | ward_store::auth::Role::Analyst
    ) {
        bail!(
            "user {} has role {}; a rollback needs admin or analyst",
            user.name,
            user.role
        );
    }
    let job = store
        .get_job(a.job)?
        .with_context(|| format!("no job {}", a.job))?;
    let alert = store
        .get_alert(&job.alert_id)?
        .with_context(|| format!("job {}'s alert is not in the store", a.job))?;
    let target = target_of(&cfg.respond, &store, &alert);
    match ward_respond::engine::rollback(
        &mut store,
        a.job,
        &target,
        &cfg.respond.safety,
        &user.name,
        ward_server::now(),
    )? {
        Rollback::Enqueued { job, new, decision } => {
            println!(
                "rollback of job {} is job {job}{}: {}",
                a.job,
                if new { "" } else { " (asked before)" },
                describe(&decision)
            );
            Ok(())
        }
        Rollback::Refused(why) => bail!("cannot roll back job {}: {why}", a.job),
    }
}

fn run_cmd(a: RunArgs, cfg: &Config) -> Result<()> {
    let set = load_set(a.playbooks.as_ref(), cfg)?;
    let mut store = open_existing(&a.store, cfg)?;
    let actions = cfg.respond.actions()?;
    if a.batch == 0 || a.batch > ward_store::respond::MAX_JOB_PAGE {
        bail!(
            "--batch must be between 1 and {}",
            ward_store::respond::MAX_JOB_PAGE
        );
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if !a.once {
        let flag = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(crate::serve::shutdown_signal());
                eprintln!("ward respond: stopping after this round");
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        eprintln!(
            "ward respond: {} playbook{} on {}{} (Ctrl-C stops)",
            set.playbook.len(),
            if set.playbook.len() == 1 { "" } else { "s" },
            a.store.store.as_ref().unwrap_or(&cfg.store.path).display(),
            if a.dry_run { ", dry run" } else { "" }
        );
    }
    let t = run_worker(
        &mut store,
        &cfg.respond,
        &set,
        &actions,
        WorkerSettings {
            idle: std::time::Duration::from_millis(a.idle_ms.clamp(1, 60_000)),
            batch: a.batch,
            dry_run: a.dry_run,
            once: a.once,
        },
        &stop,
    )?;
    eprintln!(
        "ward respond: {} alerts followed; {} jobs succeeded, {} retried, {} failed; {} approvals expired",
        t.alerts, t.succeeded, t.retried, t.failed, t.expired
    );
    Ok(())
}

fn sample(kind: &str) -> Result<Alert> {
    let (detector, score, entity, title, rules) = match kind {
        "host" => (
            "net.supervised",
            95,
            EntityId::host("10.20.1.15"),
            "Port scan from 10.20.1.15 (supervised model: reconnaissance)",
            vec!["reconnaissance".to_owned()],
        ),
        "device" => (
            "net.device",
            90,
            EntityId::device("10.30.4.21"),
            "Infusion pump 10.30.4.21 talked to a peer it never used",
            vec!["new_peer".to_owned()],
        ),
        "user" => (
            "ehr.access",
            97,
            EntityId::new(EntityKind::User, "U004217"),
            "possible inappropriate record access by user U004217 (3 patients)",
            vec!["vip".to_owned(), "off_hours".to_owned()],
        ),
        other => bail!("unknown sample {other:?}: expected host, device or user"),
    };
    Ok(Alert::new(
        Timestamp(1_714_953_600_000_000),
        detector,
        score,
        entity,
        title,
        Explanation {
            summary: "A sample alert for `ward respond test`.".to_owned(),
            rules,
            ..Explanation::default()
        },
        Evidence::default(),
    ))
}

fn test(a: TestArgs, cfg: &Config) -> Result<()> {
    let set = load_set(a.playbooks.as_ref(), cfg)?;
    let alert = match &a.alert {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            serde_json::from_str::<Alert>(&text)
                .with_context(|| format!("{} is not a ward alert (JSON)", p.display()))?
        }
        None => sample(&a.sample)?,
    };
    let mut target = Target::of(&alert, ward_respond::DeviceClass::Unknown);
    target.class = match a.device_class {
        Some(c) => c,
        None => target
            .address
            .as_deref()
            .map(|addr| cfg.respond.class_of(addr, None))
            .unwrap_or_default(),
    };
    let plans = plan(
        &alert,
        &target,
        &set,
        &cfg.respond.safety,
        &NoHistory,
        alert.time,
    );
    if a.json {
        println!("{}", serde_json::to_string_pretty(&plans)?);
        return Ok(());
    }
    println!(
        "alert {} ({}, {} {}, {}), target {} class {}",
        alert.id,
        alert.detector,
        severity(&alert),
        alert.score,
        alert.entity,
        target.address.as_deref().unwrap_or("-"),
        target.class.as_str()
    );
    if plans.is_empty() {
        println!("no playbook matches this alert");
    }
    let actions = cfg.respond.actions()?;
    for p in &plans {
        match p {
            PlaybookPlan::Started { playbook, steps } => {
                println!("playbook {playbook}:");
                for s in steps {
                    println!(
                        "  {:<28} {:<16} {:<8} {}",
                        s.step,
                        s.action.kind(),
                        s.effect.as_str(),
                        describe(&s.decision)
                    );
                    if s.decision == Decision::Run {
                        println!(
                            "      {}",
                            carry_out(&actions, &alert, &target, s, !a.execute)
                        );
                    }
                }
            }
            PlaybookPlan::Deduplicated { playbook, .. } => {
                println!("playbook {playbook}: deduplicated")
            }
            PlaybookPlan::RateLimited { playbook, .. } => {
                println!("playbook {playbook}: rate limited")
            }
        }
    }
    if a.execute {
        println!(
            "executed: the steps that run now were carried out (cases and quarantine recommendations need the store: `ward respond run`)"
        );
    } else {
        println!("dry run: nothing was sent, run or changed");
    }
    Ok(())
}

/// Runs (or with `dry_run` describes) one step outside the queue, for `ward respond test`.
fn carry_out(
    actions: &ward_respond::actions::Actions,
    alert: &Alert,
    target: &Target,
    s: &ward_respond::PlannedStep,
    dry_run: bool,
) -> String {
    use ward_respond::{ActionContext, ActionSpec, Executor};
    match &s.action {
        ActionSpec::OpenCase(c) => {
            return format!("would open a case titled {:?} holding the alert", c.title);
        }
        ActionSpec::Quarantine(q) => {
            return format!(
                "would record a quarantine recommendation ({}) for {}",
                q.mode.as_str(),
                target.address.as_deref().unwrap_or("the device")
            );
        }
        _ => {}
    }
    let ctx = ActionContext {
        alert,
        playbook: &s.playbook,
        step: &s.step,
        target_address: target.address.as_deref(),
        idempotency_key: &s.idempotency_key,
        attempt: 1,
        timeout_secs: s.timeout_secs,
        dry_run,
    };
    match actions.execute(&s.action, &ctx) {
        Ok(o) => o.summary,
        Err(e) => format!("error: {e}"),
    }
}

fn severity(a: &Alert) -> String {
    serde_json::to_value(a.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn describe(d: &Decision) -> String {
    match d {
        Decision::Run => "runs now".to_owned(),
        Decision::Approve {
            roles,
            timeout_minutes,
            proceed_on_timeout,
            clinical,
            ..
        } => format!(
            "waits up to {timeout_minutes} min for {}{}; then {}",
            roles.join(" or "),
            if *clinical { " (clinical safety)" } else { "" },
            if *proceed_on_timeout {
                "runs"
            } else {
                "nothing is done"
            }
        ),
        Decision::Skip { reason } => format!("skipped: {reason}"),
    }
}

fn list(a: ListArgs, cfg: &Config, states: Vec<JobState>) -> Result<()> {
    let store = open_existing(&a.store, cfg)?;
    let jobs = store.list_jobs(&JobQuery {
        states,
        limit: a.limit.clamp(1, ward_store::respond::MAX_JOB_PAGE),
        ..JobQuery::default()
    })?;
    if a.json {
        for j in &jobs {
            println!("{}", serde_json::to_string(j)?);
        }
        return Ok(());
    }
    if jobs.is_empty() {
        println!("no jobs");
    }
    for j in &jobs {
        let who = j
            .approval
            .get("roles")
            .map(|r| r.to_string())
            .unwrap_or_default();
        println!(
            "{:>6}  {:<18} {:<24} {:<22} {:<16} {:<9} {} {}",
            j.id,
            j.state.as_str(),
            j.playbook,
            j.step,
            j.kind,
            j.effect,
            j.entity,
            who
        );
    }
    Ok(())
}

fn decide(a: DecideArgs, cfg: &Config, verdict: Verdict) -> Result<()> {
    let mut store = open_existing(&a.store, cfg)?;
    let user = store
        .get_user(&a.user)?
        .filter(|u| !u.disabled)
        .with_context(|| format!("no enabled ward user {:?}", a.user))?;
    let job = store
        .get_job(a.job)?
        .with_context(|| format!("no job {}", a.job))?;
    let roles: Vec<String> = job
        .approval
        .get("roles")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_default();
    if !roles.iter().any(|r| r == user.role.as_str()) {
        bail!(
            "user {} has role {}; job {} needs one of: {}",
            user.name,
            user.role,
            a.job,
            roles.join(", ")
        );
    }
    if a.comment.len() > 1000 {
        bail!("--comment: at most 1000 bytes");
    }
    let now = ward_server::now();
    let action = match verdict {
        Verdict::Approve => "respond.approve",
        Verdict::Reject => "respond.reject",
    };
    let decision = serde_json::json!({
        "by": user.name, "role": user.role.as_str(), "comment": a.comment,
        "via": "cli", "time": now,
    });
    let rec = ward_store::AuditRecord::new(
        now,
        user.name.clone(),
        action,
        "",
        serde_json::json!({ "key": job.key, "comment": a.comment, "via": "cli" }),
    );
    match store.decide_job(a.job, verdict, &decision, &rec)? {
        Decided::Done(j) => {
            println!("job {} is now {}", j.id, j.state.as_str());
            Ok(())
        }
        Decided::NotFound => bail!("no job {}", a.job),
        Decided::NotAwaiting(s) => bail!(
            "job {} is {}, not waiting for an approval",
            a.job,
            s.as_str()
        ),
        Decided::Expired(j) => bail!(
            "job {}'s approval had expired; it is now {} (nothing was done)",
            j.id,
            j.state.as_str()
        ),
    }
}

/// Settings of the response worker (`ward respond run`, `ward serve --respond`).
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Pause between rounds when there was nothing to do.
    pub idle: std::time::Duration,
    /// Alerts submitted and jobs claimed per round.
    pub batch: u32,
    /// Describe, change nothing.
    pub dry_run: bool,
    /// One round, then return.
    pub once: bool,
}

/// What the worker did, in all.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerTotals {
    /// Alerts submitted to the playbooks.
    pub alerts: usize,
    /// Jobs that succeeded.
    pub succeeded: usize,
    /// Jobs scheduled again.
    pub retried: usize,
    /// Jobs given up.
    pub failed: usize,
    /// Approvals that ran out.
    pub expired: usize,
}

/// The target of an alert: its address, and the device class from `[[respond.devices]]`, else
/// from the device inventory's criticality.
pub fn target_of(cfg: &crate::config::RespondConfig, store: &dyn Store, alert: &Alert) -> Target {
    let mut t = Target::of(alert, ward_respond::DeviceClass::Unknown);
    if let Some(addr) = t.address.clone() {
        let inventory = store
            .get_device(&addr)
            .ok()
            .flatten()
            .map(|d| d.criticality);
        t.class = cfg.class_of(&addr, inventory.as_deref());
    }
    t
}

/// Follows new alerts and works the response queue until `stop` is set (or once).
pub fn run_worker(
    store: &mut dyn Store,
    cfg: &crate::config::RespondConfig,
    set: &ward_respond::PlaybookSet,
    executor: &dyn ward_respond::Executor,
    settings: WorkerSettings,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<WorkerTotals> {
    use std::sync::atomic::Ordering;
    let mut totals = WorkerTotals::default();
    let opts = ward_respond::engine::WorkerOptions {
        batch: settings.batch,
        dry_run: settings.dry_run,
        ..ward_respond::engine::WorkerOptions::default()
    };
    let targets = |s: &dyn Store, a: &Alert| target_of(cfg, s, a);
    loop {
        let now = ward_server::now();
        let alerts =
            ward_respond::engine::follow(store, set, &cfg.safety, &targets, now, settings.batch)
                .context("response engine: cannot follow new alerts")?;
        let round = ward_respond::engine::run_once(store, executor, &ward_server::now, &opts)
            .context("response engine: cannot work the queue")?;
        totals.alerts += alerts;
        totals.succeeded += round.succeeded;
        totals.retried += round.retried;
        totals.failed += round.failed;
        totals.expired += round.expired;
        if settings.once || stop.load(Ordering::Relaxed) {
            return Ok(totals);
        }
        if alerts == 0 && round.claimed == 0 {
            std::thread::sleep(settings.idle);
        }
    }
}
