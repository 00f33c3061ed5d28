//! `ward sim net|ehr|claims`, `ward demo` and `ward alerts`: the simulated hospital, the end-to-end demo on
//! it, and a look into the store.

use crate::config::Config;
use crate::inputs::InputArgs;
use crate::net::{DetectArgs, run_detect};
use crate::output::AlertFormat;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use ward_core::{Alert, Severity};
use ward_detect::net::{MODEL_KIND, NetModel};
use ward_sim::{SimConfig, SimOutput};
use ward_store::{AlertQuery, Store};

#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Simulate a hospital network: Zeek conn.log, ground truth, attack list, device list.
    #[command(
        after_help = "Examples:\n  ward sim net --out sim/\n  ward sim net --hours 72 --scale 0.2 --seed 7 --out sim/"
    )]
    Net(SimArgs),
    /// Simulate a hospital's EHR access log with labelled snooping: access.csv, users.csv,
    /// patients.csv, encounters.csv, care_team.csv, truth.csv (and access.ndjson with --fhir).
    #[command(
        after_help = "Examples:\n  ward sim ehr --out ehr/\n  ward sim ehr --patients 1000000 --users 50000 --encounters 5000000 --out big/"
    )]
    Ehr(EhrSimArgs),
    /// Simulate Medicare-style claims with labelled provider fraud: inpatient.csv,
    /// outpatient.csv, beneficiary.csv (the Kaggle layout), providers.csv, exclusions.csv (the
    /// LEIE layout), labels.csv and truth.csv (docs/claims-format.md).
    #[command(
        after_help = "Examples:\n  ward sim claims --out claims/\n  ward sim claims --beneficiaries 250000 --providers 5000 --out big/   # about 1.1M claims\n  ward sim claims --params claims-sim.toml --seed 7 --fraud-share 0.2 --out other/"
    )]
    Claims(ClaimsSimArgs),
}

/// `ward sim claims` options.
#[derive(Debug, Args)]
pub struct ClaimsSimArgs {
    /// Output folder (created if missing).
    #[arg(long, short, default_value = "ward-claims-sim", value_name = "DIR")]
    pub out: PathBuf,
    /// Every simulation parameter (TOML: seed, start, days, beneficiaries, providers,
    /// outpatient_per_year, inpatient_per_year, fraud_share, fraud_intensity, scheme_weights,
    /// ...; see crates/sim/README.md); the flags below override it.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Seed: the same seed gives byte-identical files [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Beneficiaries [default: 20000, about 86,000 claims a year].
    #[arg(long)]
    pub beneficiaries: Option<u32>,
    /// Provider organisations [default: 1000].
    #[arg(long)]
    pub providers: Option<u32>,
    /// Days of claims from the start date [default: 365].
    #[arg(long)]
    pub days: Option<u32>,
    /// Share of providers that commit fraud [default: 0.10].
    #[arg(long)]
    pub fraud_share: Option<f64>,
}

/// Simulates claims by `cfg` and writes the seven files into `dir` (created if missing), each
/// under a temporary name renamed once all are complete, so a failed run never leaves a
/// half-written file under a contract name. Returns the summary and the seconds it took to
/// generate.
pub(crate) fn write_claims(
    cfg: &ward_sim::claims::ClaimsSimConfig,
    dir: &Path,
) -> Result<(ward_sim::claims::ClaimsSummary, f64)> {
    use ward_sim::claims::{ClaimsWriters, FILES, generate, write_all};
    let clock = std::time::Instant::now();
    let sim = generate(cfg);
    let generated = clock.elapsed().as_secs_f64();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let tmp = |name: &str| dir.join(format!(".{name}.tmp"));
    let mut w = ClaimsWriters {
        inpatient: create(&tmp(FILES[0]))?,
        outpatient: create(&tmp(FILES[1]))?,
        beneficiary: create(&tmp(FILES[2]))?,
        providers: create(&tmp(FILES[3]))?,
        exclusions: create(&tmp(FILES[4]))?,
        labels: create(&tmp(FILES[5]))?,
        truth: create(&tmp(FILES[6]))?,
    };
    let written = write_all(&sim, &mut w).and_then(|()| {
        for f in [
            w.inpatient,
            w.outpatient,
            w.beneficiary,
            w.providers,
            w.exclusions,
            w.labels,
            w.truth,
        ] {
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    });
    if let Err(e) = written {
        for name in FILES {
            let _ = std::fs::remove_file(tmp(name));
        }
        return Err(e).with_context(|| format!("cannot write to {}", dir.display()));
    }
    for name in FILES {
        std::fs::rename(tmp(name), dir.join(name))
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
    }
    Ok((sim.summary(), generated))
}

/// `ward sim claims`: simulate, write the seven files, print a summary.
fn sim_claims(args: ClaimsSimArgs) -> Result<()> {
    use ward_sim::claims::ClaimsSimConfig;
    let mut cfg = match &args.params {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str::<ClaimsSimConfig>(&text).with_context(|| {
                format!("{}: not a valid simulation parameter file", p.display())
            })?
        }
        None => ClaimsSimConfig::default(),
    };
    if let Some(v) = args.seed {
        cfg.seed = v;
    }
    if let Some(v) = args.beneficiaries {
        cfg.beneficiaries = v;
    }
    if let Some(v) = args.providers {
        cfg.providers = v;
    }
    if let Some(v) = args.days {
        cfg.days = v;
    }
    if let Some(v) = args.fraud_share {
        cfg.fraud_share = v;
    }
    cfg.validate()?;
    let clock = std::time::Instant::now();
    let dir = &args.out;
    let (s, generated) = write_claims(&cfg, dir)?;
    println!(
        "{}: {} claims ({} inpatient, {} outpatient) of {} beneficiaries at {} providers, {} fraudulent \
         ({} fraudulent claims); schemes (claims/providers): {} (generated in {generated:.1} s, written in {:.1} s)",
        dir.display(),
        s.inpatient + s.outpatient,
        s.inpatient,
        s.outpatient,
        s.beneficiaries,
        s.providers,
        s.fraudulent_providers,
        s.fraudulent_claims,
        s.by_scheme
            .iter()
            .map(|(k, (rows, providers))| format!("{} {rows}/{providers}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        clock.elapsed().as_secs_f64() - generated
    );
    Ok(())
}

/// `ward sim ehr` options.
#[derive(Debug, Args)]
pub struct EhrSimArgs {
    /// Output folder (created if missing).
    #[arg(long, short, default_value = "ward-ehr-sim", value_name = "DIR")]
    pub out: PathBuf,
    /// Every simulation parameter (TOML: seed, days, history_days, patients, users,
    /// encounters, snoop_rate, off_hours_share, vip_share, deceased_share, case_weights, ...;
    /// see crates/sim/README.md); the flags below override it.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Seed: the same seed gives byte-identical files [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Days of access log [default: 14].
    #[arg(long)]
    pub days: Option<u32>,
    /// Patients in the registry [default: 20000].
    #[arg(long)]
    pub patients: Option<u32>,
    /// Staff on the HR roster [default: 1500].
    #[arg(long)]
    pub users: Option<u32>,
    /// Encounters over the history and the window (default: half an encounter per user per day).
    #[arg(long)]
    pub encounters: Option<u32>,
    /// Snooping accesses as a share of all accesses [default: 0.002].
    #[arg(long)]
    pub snoop_rate: Option<f64>,
    /// Also write the accesses as FHIR R4 AuditEvent NDJSON (access.ndjson).
    #[arg(long)]
    pub fhir: bool,
}

/// `ward sim ehr`: simulate, write the files, print a summary.
fn sim_ehr(args: EhrSimArgs) -> Result<()> {
    use ward_sim::ehr::{EhrSimConfig, generate, write_all};
    let mut cfg = match &args.params {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str::<EhrSimConfig>(&text).with_context(|| {
                format!("{}: not a valid simulation parameter file", p.display())
            })?
        }
        None => EhrSimConfig::default(),
    };
    if let Some(v) = args.seed {
        cfg.seed = v;
    }
    if let Some(v) = args.days {
        cfg.days = v;
    }
    if let Some(v) = args.patients {
        cfg.patients = v;
    }
    if let Some(v) = args.users {
        cfg.users = v;
    }
    if args.encounters.is_some() {
        cfg.encounters = args.encounters;
    }
    if let Some(v) = args.snoop_rate {
        cfg.snoop_rate = v;
    }
    cfg.validate()?;
    let clock = std::time::Instant::now();
    let out = generate(&cfg);
    let generated = clock.elapsed().as_secs_f64();
    write_all(&args.out, &out, args.fhir)
        .with_context(|| format!("cannot write to {}", args.out.display()))?;
    let written = clock.elapsed().as_secs_f64() - generated;
    let s = out.summary();
    println!(
        "{}: {} accesses by {} users on {} patients, {} encounters, {} care-team rows \
         (generated in {generated:.1} s, written in {written:.1} s)",
        args.out.display(),
        s.accesses,
        s.users,
        s.patients,
        s.encounters,
        s.care_team
    );
    println!(
        "snooping: {} accesses ({:.3}%): {}",
        s.snooping,
        100.0 * s.snoop_share(),
        s.by_case
            .iter()
            .map(|(c, n)| format!("{} {n}", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "explained by care links: {:.2}% of legitimate accesses, {:.2}% of all",
        100.0 * s.legit_explained_share(),
        100.0 * s.explained_share()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Output folder (created if missing).
    #[arg(long, short, default_value = "ward-sim", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, Clone, Args)]
pub struct SimOptions {
    /// Seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Simulated hours.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Size of the hospital and its traffic (0.01 to 10).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Attack-free hours at the start.
    #[arg(long, default_value_t = 8.0)]
    pub benign_hours: f64,
    /// Simulate no attacks at all.
    #[arg(long)]
    pub no_attacks: bool,
}

impl SimOptions {
    fn config(&self, seed: u64) -> Result<SimConfig> {
        let cfg = SimConfig {
            seed,
            hours: self.hours,
            scale: self.scale,
            benign_hours: self.benign_hours,
            attacks: !self.no_attacks,
            ..SimConfig::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

fn create(p: &Path) -> Result<BufWriter<std::fs::File>> {
    Ok(BufWriter::new(std::fs::File::create(p).with_context(
        || format!("cannot create {}", p.display()),
    )?))
}

/// Writes conn.log, truth.csv, attacks.json and devices.jsonl for one simulated run.
fn write_sim(dir: &Path, prefix: &str, out: &SimOutput) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let conn = dir.join(format!("{prefix}conn.log"));
    let mut w = create(&conn)?;
    ward_sim::write_zeek_conn(&mut w, &out.flows)?;
    w.flush()?;
    let mut w = create(&dir.join(format!("{prefix}truth.csv")))?;
    ward_sim::write_truth(&mut w, out)?;
    w.flush()?;
    let mut w = create(&dir.join(format!("{prefix}attacks.json")))?;
    ward_sim::write_attacks_json(&mut w, &out.attacks)?;
    w.flush()?;
    let mut w = create(&dir.join(format!("{prefix}devices.jsonl")))?;
    ward_sim::write_devices(&mut w, &out.devices)?;
    w.flush()?;
    Ok(conn)
}

pub fn sim(cmd: SimCmd) -> Result<()> {
    let args = match cmd {
        SimCmd::Net(args) => args,
        SimCmd::Ehr(args) => return sim_ehr(args),
        SimCmd::Claims(args) => return sim_claims(args),
    };
    let cfg = args.sim.config(args.sim.seed)?;
    let out = ward_sim::generate(&cfg);
    write_sim(&args.out, "", &out)?;
    println!(
        "{}: {} devices, {} flows ({} in {} attacks) over {} h",
        args.out.display(),
        out.devices.len(),
        out.flows.len(),
        out.attack_flow_count(),
        out.attacks.len(),
        cfg.hours
    );
    Ok(())
}

#[derive(Debug, Args)]
#[command(
    after_help = "The demo simulates two days of one hospital: yesterday, with its labelled incidents \
(the attack history the supervised model learns from, and the benign traffic the anomaly model and the \
device profiles learn from), and today, which ward has never seen. It then detects on today and \
compares the alerts with the ground truth."
)]
pub struct DemoArgs {
    /// Working folder for the simulated logs, the model and the store.
    #[arg(long, default_value = "ward-demo", value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub sim: SimOptions,
    /// Where the dashboard and API listen once the demo has run (plain HTTP: keep it on
    /// loopback). Port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Stop after the report instead of serving the dashboard.
    #[arg(long)]
    pub no_serve: bool,
}

pub fn demo(args: DemoArgs, cfg: &Config) -> Result<()> {
    let t0 = std::time::Instant::now();
    let dir = &args.dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let db = dir.join("ward.db");
    for p in [db.clone(), dir.join("ward.db-wal"), dir.join("ward.db-shm")] {
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| {
                format!("cannot remove the previous demo store {}", p.display())
            })?;
        }
    }
    println!("ward demo: a simulated hospital, in {}", dir.display());

    let history_cfg = args.sim.config(args.sim.seed.wrapping_add(1))?;
    let history = ward_sim::generate(&history_cfg);
    let history_conn = write_sim(dir, "history-", &history)?;
    println!(
        "  1. yesterday: {} devices, {} flows, {} labelled incidents ({} attack flows)",
        history.devices.len(),
        history.flows.len(),
        history.attacks.len(),
        history.attack_flow_count()
    );

    let today_cfg = args.sim.config(args.sim.seed)?;
    let today = ward_sim::generate(&today_cfg);
    let conn = write_sim(dir, "", &today)?;
    println!(
        "  2. today: {} flows in {}, {} attacks hidden in them",
        today.flows.len(),
        conn.display(),
        today.attacks.len()
    );

    // Train on yesterday's log as ward reads it (the same parser as detection), with the
    // incident labels joined by connection uid.
    let labels: HashMap<&str, &ward_core::FlowLabel> = history
        .flows
        .iter()
        .filter_map(|f| Some((f.flow.uid.as_deref()?, f.flow.label.as_ref()?)))
        .collect();
    let opts = InputArgs {
        format: Some(ward_ingest::Format::Zeek),
        strict: true,
    }
    .read_options(cfg);
    let (schema, mut flows, _, _) =
        crate::inputs::read_all(std::slice::from_ref(&history_conn), &opts, true)?;
    for f in &mut flows {
        f.label = f
            .uid
            .as_deref()
            .and_then(|u| labels.get(u))
            .map(|l| (*l).clone());
    }
    let pb = crate::inputs::spinner("training on yesterday");
    let (model, report) = NetModel::train(&schema, &flows, &cfg.net.train)?;
    pb.finish_and_clear();
    let model_path = dir.join("net.model");
    let meta = ward_ml::model::ModelMeta {
        feature_names: model.tree_names(),
        params: serde_json::to_value(&cfg.net.train)?,
        training_summary: serde_json::to_value(&report)?,
    };
    ward_ml::model::save(&model_path, &model, MODEL_KIND, &meta)?;
    println!(
        "  3. trained on yesterday: supervised attack model, {} attack families, anomaly model on {} benign flows, {} device profiles",
        report.families.len(),
        report.anomaly_rows,
        report.devices
    );

    let detect_args = DetectArgs {
        model: model_path,
        inputs: vec![conn],
        input: InputArgs {
            format: Some(ward_ingest::Format::Zeek),
            strict: false,
        },
        output: AlertFormat::Jsonl,
        alerts: dir.join("alerts.jsonl"),
        store: Some(db.clone()),
        scores: None,
        min_score: 0,
        dedup: 300,
        batch: 4096,
    };
    let summary = run_detect(&model, &detect_args, cfg)?;
    println!(
        "  4. detected on today: {} alerts ({} supervised, {} anomaly, {} device; {} repeats folded), {} devices inventoried",
        summary.alerts,
        summary.by_detector[0],
        summary.by_detector[1],
        summary.by_detector[2],
        summary.suppressed,
        summary.devices
    );

    let store = ward_store::SqliteStore::open(&db)?;
    let mut alerts = Vec::new();
    let mut q = AlertQuery {
        limit: Some(ward_store::MAX_LIMIT),
        ..AlertQuery::default()
    };
    loop {
        let page = store.query_alerts(&q)?;
        let Some(last) = page.last() else { break };
        q.after = Some(ward_store::AlertCursor::after(last));
        alerts.extend(page);
    }
    let scorecard = score_against_truth(&today, &alerts);
    println!(
        "\nattacks found ({} of {}):",
        scorecard.found,
        today.attacks.len()
    );
    for line in &scorecard.lines {
        println!("  {line}");
    }
    println!(
        "alerts that point at an attack: {} of {} ({:.0}%)",
        scorecard.true_alerts,
        alerts.len(),
        100.0 * scorecard.true_alerts as f64 / alerts.len().max(1) as f64
    );
    println!("\ntop alerts:");
    let mut top = alerts.clone();
    top.sort_by(|a, b| b.score.cmp(&a.score).then(a.time.cmp(&b.time)));
    for a in top.iter().take(8) {
        println!(
            "  {:>3} {:<8} {:<15} {}",
            a.score,
            a.severity.as_str(),
            a.detector,
            a.title
        );
    }
    drop(store);
    let r = respond_demo(&db, &alerts, &today, cfg)?;
    println!(
        "\n  5. response (docs/examples/playbooks.toml and a device-isolation playbook, a dry run): {} jobs planned; {} would have run, {} wait for an approval ({} clinical), {} skipped; {} playbook runs held back by deduplication or the rate limit",
        r.jobs, r.ran, r.awaiting, r.clinical, r.skipped, r.held
    );
    // claims: a payer's claims of last year with its investigated providers teach the
    // provider model, which then scores this year's claims
    let mut claims_cfg = ward_sim::claims::ClaimsSimConfig {
        seed: args.sim.seed.wrapping_add(1),
        ..Default::default()
    };
    let claims_history = dir.join("claims-history");
    write_claims(&claims_cfg, &claims_history)?;
    claims_cfg.seed = args.sim.seed;
    let claims_today = dir.join("claims");
    let (cs, _) = write_claims(&claims_cfg, &claims_today)?;
    let f = crate::fraud::demo(&claims_history, &claims_today, &db, cfg)?;
    println!(
        "\n  6. claims: {} claims of {} beneficiaries; a provider model trained on last year's investigated providers flags {} of this year's {} providers, {} of them among the {} simulated fraudsters (ROC-AUC {:.3}); {} findings of the claim rules; the flagged providers are alerts (the dashboard's Providers page)",
        cs.inpatient + cs.outpatient,
        cs.beneficiaries,
        f.flagged,
        f.providers,
        f.caught,
        f.fraudulent,
        f.roc_auc,
        f.findings
    );
    println!(
        "\nmore: ward alerts --store {} --severity high   (or read {})",
        db.display(),
        dir.join("alerts.jsonl").display()
    );
    println!("done in {:.1} s", t0.elapsed().as_secs_f64());
    if args.no_serve {
        return Ok(());
    }
    serve_demo(&db, args.listen, cfg)
}

/// A password for this run only: 100 random bits as five groups of five characters from an
/// alphabet without look-alikes. Printed once, never written to disk.
fn demo_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let (token, _) = ward_store::auth::new_token().context("no randomness for a password")?;
    let hex = token.trim_start_matches(ward_store::auth::TOKEN_PREFIX);
    let mut out = String::new();
    for (i, pair) in hex.as_bytes().chunks(2).take(25).enumerate() {
        let byte = u8::from_str_radix(std::str::from_utf8(pair)?, 16)?;
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
    }
    Ok(out)
}

/// What the response step of the demo did.
struct RespondDemo {
    jobs: usize,
    ran: usize,
    awaiting: usize,
    clinical: usize,
    skipped: usize,
    held: usize,
}

/// Plans every alert against the example playbooks and works the queue in dry-run mode, so
/// the dashboard shows what the playbooks would do and what waits for a human.
fn respond_demo(
    db: &Path,
    alerts: &[ward_core::Alert],
    today: &ward_sim::SimOutput,
    cfg: &Config,
) -> Result<RespondDemo> {
    use ward_store::{JobQuery, JobState, Store};
    // the example playbooks, plus one that would isolate a misbehaving medical device: on a
    // life-sustaining one the clinical gate makes it wait for a clinical engineer
    let text = format!(
        "{}\n{}",
        include_str!("../../../docs/examples/playbooks.toml"),
        "[[playbook]]\nname = \"isolate-medical-device\"\n\
         description = \"Demo: isolate a medical device that talks to peers it never used.\"\n\
         max_runs_per_hour = 10\n\
         [playbook.trigger]\ndetectors = [\"net.device\"]\nmin_severity = \"high\"\n\
         [[playbook.step]]\nname = \"isolate\"\n\
         firewall = { file = \"/var/lib/ward/blocked.nft\" }\n"
    );
    let set = ward_respond::PlaybookSet::from_toml(&text)?;
    // the hospital knows its life-sustaining devices: class them as its configuration would
    let mut rcfg = cfg.respond.clone();
    for d in &today.devices {
        if d.criticality == ward_sim::Criticality::LifeSustaining {
            rcfg.devices.push(crate::config::DeviceClassRule {
                network: d.addr.to_string(),
                class: ward_respond::DeviceClass::LifeSustaining,
            });
        }
    }
    let cfg_respond = &rcfg;
    let actions = cfg.respond.actions()?;
    let mut store = ward_store::SqliteStore::open(db)?;
    let now = ward_server::now();
    let mut held = 0;
    let mut ordered: Vec<&ward_core::Alert> = alerts.iter().collect();
    ordered.sort_by(|a, b| b.score.cmp(&a.score).then(a.time.cmp(&b.time)));
    for a in ordered {
        let t = crate::respond::target_of(cfg_respond, &store, a);
        let sub = ward_respond::engine::submit(&mut store, a, &t, &set, &cfg_respond.safety, now)?;
        held += sub
            .plans
            .iter()
            .filter(|p| !matches!(p, ward_respond::plan::PlaybookPlan::Started { .. }))
            .count();
    }
    let opts = ward_respond::engine::WorkerOptions {
        dry_run: true,
        batch: 1000,
        ..Default::default()
    };
    while ward_respond::engine::run_once(&mut store, &actions, &ward_server::now, &opts)?.claimed
        > 0
    {}
    let jobs = store.list_jobs(&JobQuery {
        limit: ward_store::respond::MAX_JOB_PAGE,
        ..JobQuery::default()
    })?;
    let count = |st: JobState| jobs.iter().filter(|j| j.state == st).count();
    Ok(RespondDemo {
        jobs: jobs.len(),
        ran: count(JobState::Succeeded),
        awaiting: count(JobState::AwaitingApproval),
        clinical: jobs
            .iter()
            .filter(|j| j.state == JobState::AwaitingApproval && j.approval["clinical"] == true)
            .count(),
        skipped: count(JobState::Skipped),
        held,
    })
}

/// Adds the `admin` user with a fresh password and serves the dashboard until Ctrl-C.
fn serve_demo(db: &Path, listen: std::net::SocketAddr, cfg: &Config) -> Result<()> {
    let mut store = ward_store::SqliteStore::open(db)?;
    let password = demo_password()?;
    let hash = ward_store::auth::hash_password(&password)?;
    let now = ward_server::now();
    store.add_user("admin", ward_store::Role::Admin, &hash, now)?;
    store.append_audit(
        now,
        "cli",
        "user.add",
        "admin",
        &serde_json::json!({ "role": "admin", "by": "ward demo" }),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let opts = cfg.server.options()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| {
                format!("cannot listen on {listen}: pass --listen 127.0.0.1:0 for any free port")
            })?;
        let addr = listener.local_addr().unwrap_or(listen);
        println!("\ndashboard: http://{addr}/");
        println!("sign in:   admin / {password}   (made for this run only)");
        println!("API:       http://{addr}/api/v1/openapi.json");
        println!(
            "Ctrl-C stops the server; the store stays in {}",
            db.display()
        );
        let state = crate::serve::app_state(store, db, opts)?;
        ward_server::serve(listener, state, async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
        .context("server failed")
    })
}

struct Scorecard {
    found: usize,
    true_alerts: usize,
    lines: Vec<String>,
}

/// Matches alerts to the simulator's attacks: an alert belongs to an attack when its evidence
/// names one of the attack's flows, or its entity is the attacker (or a target) while the attack runs.
fn score_against_truth(sim: &SimOutput, alerts: &[Alert]) -> Scorecard {
    let by_uid: HashMap<&str, u32> = sim
        .flows
        .iter()
        .filter_map(|f| Some((f.flow.uid.as_deref()?, f.attack?)))
        .collect();
    let mut hits: BTreeMap<u32, usize> = BTreeMap::new();
    let mut true_alerts = 0;
    for a in alerts {
        let mut ids: Vec<u32> = a
            .evidence
            .uids
            .iter()
            .filter_map(|u| by_uid.get(u.as_str()).copied())
            .collect();
        if ids.is_empty() {
            for at in &sim.attacks {
                let during = a.time >= at.start && a.time.micros() <= at.end.micros() + 300_000_000;
                let who = at.attacker.to_string() == a.entity.value
                    || at.targets.iter().any(|t| t.to_string() == a.entity.value);
                if during && who {
                    ids.push(at.id);
                }
            }
        }
        if !ids.is_empty() {
            true_alerts += 1;
        }
        for id in ids {
            *hits.entry(id).or_default() += 1;
        }
    }
    let lines = sim
        .attacks
        .iter()
        .map(|at| match hits.get(&at.id) {
            Some(n) => format!(
                "found   {:<16} from {:<15} {n} alert(s)",
                at.category,
                at.attacker.to_string()
            ),
            None => format!("missed  {:<16} from {}", at.category, at.attacker),
        })
        .collect();
    Scorecard {
        found: hits.len(),
        true_alerts,
        lines,
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ward alerts --store ward.db --severity high\n  ward alerts --detector net.device --json"
)]
pub struct AlertsArgs {
    /// The store to read (default: `[store] path`, `ward.db`).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Lowest severity shown: info, low, medium, high, critical.
    #[arg(long)]
    pub severity: Option<Severity>,
    /// Only this detector (`net.supervised`, `net.anomaly`, `net.device`).
    #[arg(long)]
    pub detector: Option<String>,
    /// Only this entity (`host:10.1.2.3`).
    #[arg(long)]
    pub entity: Option<String>,
    /// Only alerts whose title contains this text.
    #[arg(long)]
    pub search: Option<String>,
    /// Most alerts shown.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Full alerts as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn alerts(args: AlertsArgs, cfg: &Config) -> Result<()> {
    let path = args.store.clone().unwrap_or_else(|| cfg.store.path.clone());
    if !path.is_file() {
        bail!(
            "no store at {}: run `ward detect net --store {}` or `ward demo` first",
            path.display(),
            path.display()
        );
    }
    let store = ward_store::SqliteStore::open(&path)
        .with_context(|| format!("cannot open store {}", path.display()))?;
    if let Some(e) = &args.entity {
        e.parse::<ward_core::EntityId>()?;
    }
    let q = AlertQuery {
        min_severity: args.severity,
        detector: args.detector.clone(),
        entity: args.entity.clone(),
        text: args.search.clone(),
        limit: Some(
            u32::try_from(args.limit)
                .unwrap_or(u32::MAX)
                .clamp(1, ward_store::MAX_LIMIT),
        ),
        ..AlertQuery::default()
    };
    let total = store.count_alerts(&q)?;
    let list = store.query_alerts(&q)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        for a in &list {
            serde_json::to_writer(&mut out, a)?;
            out.write_all(b"\n")?;
        }
    } else {
        writeln!(
            out,
            "{:<27} {:>5} {:<8} {:<15} title",
            "time", "score", "severity", "detector"
        )?;
        for a in &list {
            writeln!(
                out,
                "{:<27} {:>5} {:<8} {:<15} {}",
                a.time.to_string(),
                a.score,
                a.severity.as_str(),
                a.detector,
                a.title
            )?;
        }
        writeln!(out, "{} of {} matching alerts shown", list.len(), total)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod demo_tests {
    use super::demo_password;

    #[test]
    fn demo_passwords_are_fresh_and_readable() {
        let a = demo_password().expect("password");
        let b = demo_password().expect("password");
        assert_ne!(a, b);
        assert_eq!(a.len(), 29, "{a}");
        assert_eq!(a.split('-').count(), 5, "{a}");
        assert!(
            a.chars()
                .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"ilo01".contains(c))),
            "{a}"
        );
        assert!(ward_store::auth::check_password_policy(&a).is_ok());
    }
}
