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
    }
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
    let set = match &a.playbooks {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read playbooks {}", p.display()))?;
            ward_respond::PlaybookSet::from_toml(&text)
                .with_context(|| format!("invalid playbooks {}", p.display()))?
        }
        None => cfg.respond.playbooks()?,
    };
    if set.playbook.is_empty() {
        bail!("no playbooks: pass --playbooks FILE or set [respond] playbooks in ward.toml");
    }
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
    println!("dry run: nothing was sent, run or changed");
    Ok(())
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
