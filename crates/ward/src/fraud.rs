//! `ward fraud detect|train`, `ward eval fraud`, `ward bench fraud`: claims fraud detection
//! over the claims contract (`docs/claims-format.md`).

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use ward_fraud::load::{self, Bene, ClaimReader, Ids, Kind};
use ward_fraud::rules::Footprint;
use ward_fraud::{Engine, Hit, RiskModel, Scored, Table};

#[derive(Debug, Subcommand)]
pub enum FraudCmd {
    /// Run the claim rules and score every provider: writes `Provider,score,flag` per provider,
    /// and optionally every finding and the providers' reasons as JSON lines.
    #[command(after_help = "Examples:\n  ward sim claims --out claims/\n  \
        ward fraud detect claims/ --out providers.csv --findings findings.jsonl\n  \
        ward fraud detect claims/ --labels claims/labels.csv --report report.jsonl\n  \
        ward fraud detect --inpatient Train_Inpatientdata.csv --outpatient Train_Outpatientdata.csv \\\n    \
        --beneficiary Train_Beneficiarydata.csv --out providers.csv")]
    Detect(DetectArgs),
    /// Train the provider-risk model on labelled providers (`Provider,PotentialFraud`).
    #[command(
        after_help = "Example:\n  ward fraud train claims/ --labels claims/labels.csv --out fraud.model"
    )]
    Train(TrainArgs),
}

/// Where the claims are.
#[derive(Debug, Default, Args)]
pub struct Inputs {
    /// A folder with the contract's files: names holding `inpatient`, `outpatient`,
    /// `beneficiary`, `exclusion` and `providers.csv` are picked up (labels: `labels.csv`).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Inpatient claims (repeatable).
    #[arg(long, value_name = "FILE")]
    pub inpatient: Vec<PathBuf>,
    /// Outpatient claims (repeatable).
    #[arg(long, value_name = "FILE")]
    pub outpatient: Vec<PathBuf>,
    /// Beneficiaries.
    #[arg(long, value_name = "FILE")]
    pub beneficiary: Option<PathBuf>,
    /// Exclusion list (LEIE layout).
    #[arg(long, value_name = "FILE")]
    pub exclusions: Option<PathBuf>,
    /// Provider directory (`Id,NPI,Kind,Specialty,State`).
    #[arg(long, value_name = "FILE")]
    pub providers: Option<PathBuf>,
    /// Stop at the first bad row instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Provider labels: train on them (labelled providers are scored out of fold).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// A model from `ward fraud train` (without it and without labels: a model trained on
    /// simulated payers on the spot, `[fraud] simulated_payers`).
    #[arg(long, value_name = "FILE", conflicts_with = "labels")]
    pub model: Option<PathBuf>,
    /// Score with the peer-outlier score instead of a model (no training at all; flags at
    /// `[fraud] threshold`).
    #[arg(long, conflicts_with_all = ["labels", "model"])]
    pub outlier: bool,
    /// Where to write `Provider,score,flag` (highest score first).
    #[arg(long, short, default_value = "providers.csv", value_name = "FILE")]
    pub out: PathBuf,
    /// Write every finding (rule, provider, beneficiary, claim, day, reason) as JSON lines, in
    /// the order they are made (the whole-run signals last).
    #[arg(long, value_name = "FILE")]
    pub findings: Option<PathBuf>,
    /// Write each provider's score, flag, rule counts and reasons as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also keep one alert per flagged provider (detector `fraud.provider`, its reasons and
    /// the claims behind its findings) in this SQLite store, for `ward serve`.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Provider labels (`Provider,PotentialFraud`; default: labels.csv in the folder).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Where to write the model.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// More labelled claims folders to train on (repeatable; each with its own
    /// `labels.csv`, its providers measured against their own peers), so that one model
    /// learns from several payers.
    #[arg(long, value_name = "DIR")]
    pub also: Vec<PathBuf>,
    /// Also train on this many simulated payers of varied parameters (with no claims given:
    /// on them alone).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub simulated: u32,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Provider labels (default: labels.csv in the folder).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Also score with this model, trained elsewhere (`ward fraud train`).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Folds, gates and output.
    #[command(flatten)]
    pub run: crate::phish::EvalRun,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Passes of the rules over the claims held in memory.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

pub fn run(cmd: FraudCmd, cfg: &Config) -> Result<()> {
    match cmd {
        FraudCmd::Detect(a) => detect(&a, cfg),
        FraudCmd::Train(a) => train(&a, cfg),
    }
}

/// The files of one run.
#[derive(Debug, Default)]
struct Files {
    inpatient: Vec<PathBuf>,
    outpatient: Vec<PathBuf>,
    beneficiary: Option<PathBuf>,
    exclusions: Option<PathBuf>,
    providers: Option<PathBuf>,
    labels: Option<PathBuf>,
}

fn files(i: &Inputs) -> Result<Files> {
    let mut f = Files {
        inpatient: i.inpatient.clone(),
        outpatient: i.outpatient.clone(),
        beneficiary: i.beneficiary.clone(),
        exclusions: i.exclusions.clone(),
        providers: i.providers.clone(),
        labels: None,
    };
    if let Some(dir) = &i.dir {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
            .collect();
        names.sort();
        for p in names {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if n.contains("inpatient") {
                f.inpatient.push(p);
            } else if n.contains("outpatient") {
                f.outpatient.push(p);
            } else if n.contains("beneficiary") {
                f.beneficiary.get_or_insert(p);
            } else if n.contains("exclusion") || n.contains("leie") {
                f.exclusions.get_or_insert(p);
            } else if n == "providers.csv" {
                f.providers.get_or_insert(p);
            } else if n == "labels.csv" {
                f.labels = Some(p);
            }
        }
    }
    if f.inpatient.is_empty() && f.outpatient.is_empty() {
        bail!(
            "no claims: give a folder holding inpatient/outpatient CSV files, or --inpatient / --outpatient"
        );
    }
    Ok(f)
}

fn open(p: &Path) -> Result<BufReader<std::fs::File>> {
    Ok(BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
    ))
}

/// Bad rows: reported (first few), counted, or the end of the run with --strict.
#[derive(Debug, Default)]
struct Bad {
    n: usize,
}

impl Bad {
    fn push(&mut self, e: &ward_fraud::FraudError, strict: bool) -> Result<()> {
        if strict {
            bail!("{e} (--strict stops at the first bad row)");
        }
        if self.n < 10 {
            eprintln!("skipped: {e}");
        }
        self.n += 1;
        Ok(())
    }
}

/// What one pass over the claims gives.
struct Pass {
    ids: Ids,
    engine: Engine,
    table: Table,
    /// The findings file, put in place by the caller once every other output is written.
    findings: Sink,
    bad: usize,
    seconds: f64,
}

/// Where findings go as they are made: a JSON-lines file put in place when the run ends (a
/// failed run leaves none), or nowhere (they are counted by the engine either way).
struct Sink(Option<crate::output::AtomicWriter>);

impl Sink {
    fn new(path: Option<&Path>) -> Result<Self> {
        Ok(Self(
            path.map(crate::output::AtomicWriter::create).transpose()?,
        ))
    }

    fn write(&mut self, hits: &[Hit], ids: &Ids) -> Result<()> {
        let Some(w) = &mut self.0 else {
            return Ok(());
        };
        for h in hits {
            let v = serde_json::json!({
                "rule": h.rule.code(),
                "provider": ids.providers.name(h.provider),
                "beneficiary": h.bene.map(|b| ids.benes.name(b)),
                "claim": h.claim,
                "day": (h.day != 0).then(|| ward_fraud::date::format(h.day)),
                "reason": h.reason,
            });
            writeln!(w, "{v}")?;
        }
        Ok(())
    }

    fn close(self) -> Result<()> {
        match self.0 {
            Some(w) => w.commit(),
            None => Ok(()),
        }
    }
}

/// The claim files (inpatient, then outpatient) read side by side by day, and their names.
fn merged_claims(
    f: &Files,
    cfg: &Config,
) -> Result<(Vec<String>, load::MergedClaims<BufReader<std::fs::File>>)> {
    let mut names = Vec::new();
    let mut readers = Vec::new();
    for (kind, list) in [
        (Kind::Inpatient, &f.inpatient),
        (Kind::Outpatient, &f.outpatient),
    ] {
        for p in list {
            let name = p.display().to_string();
            readers.push(ClaimReader::new(open(p)?, &name, kind, &cfg.fraud.columns)?);
            names.push(name);
        }
    }
    Ok((names, load::MergedClaims::new(readers)))
}

/// Findings held before they are written out.
const FINDINGS_BATCH: usize = 4096;

fn pass(
    i: &Inputs,
    f: &Files,
    cfg: &Config,
    progress: bool,
    findings: Option<&Path>,
) -> Result<Pass> {
    let t = Instant::now();
    let mut sink = Sink::new(findings)?;
    let mut ids = Ids::default();
    let mut bad = Bad::default();
    let mut benes: Vec<Bene> = Vec::new();
    if let Some(p) = &f.beneficiary {
        let (n, errs) = load::read_benes(
            open(p)?,
            &p.display().to_string(),
            &cfg.fraud.columns,
            &mut ids,
            &mut benes,
        )?;
        for e in &errs {
            bad.push(e, i.strict)?;
        }
        if progress {
            eprintln!("{n} beneficiaries read");
        }
    }
    let exclusions = match &f.exclusions {
        Some(p) => {
            let (m, no_npi, errs) = load::read_exclusions(open(p)?, &p.display().to_string())?;
            for e in &errs {
                bad.push(e, i.strict)?;
            }
            if progress {
                eprintln!(
                    "{} excluded NPIs read ({no_npi} exclusions without an NPI cannot be matched)",
                    m.len()
                );
            }
            m
        }
        None => Default::default(),
    };
    let directory = match &f.providers {
        Some(p) => {
            let (m, errs) = load::read_directory(open(p)?, &p.display().to_string())?;
            for e in &errs {
                bad.push(e, i.strict)?;
            }
            m
        }
        None => Default::default(),
    };
    let mut engine = Engine::new(
        cfg.fraud.rules.clone(),
        benes,
        &exclusions,
        &directory,
        &mut ids,
    );
    let (names, mut claims) = merged_claims(f, cfg)?;
    while let Some(c) = claims.next_claim(&mut ids) {
        match c {
            Ok(c) => engine.observe(&c, &ids),
            Err(e) => bad.push(&e, i.strict)?,
        }
        if engine.pending() >= FINDINGS_BATCH {
            sink.write(&engine.take_findings(), &ids)?;
        }
    }
    if progress {
        for (name, n) in names.iter().zip(&claims.counts) {
            eprintln!("{name}: {n} claims");
        }
    }
    sink.write(&engine.finish(&ids), &ids)?;
    if engine.late > 0 {
        eprintln!(
            "{} claims were dated over {} days before the latest day of service seen when they came, after their day was closed: they are left out of the impossible-day and busiest-day totals (sort the claims by date, or raise [fraud.rules] day_horizon)",
            engine.late, cfg.fraud.rules.day_horizon
        );
    }
    let table = ward_fraud::provider::table(&engine, &ids);
    Ok(Pass {
        ids,
        engine,
        table,
        findings: sink,
        bad: bad.n,
        seconds: t.elapsed().as_secs_f64(),
    })
}

fn read_labels(p: &Path) -> Result<load::HashMap<String, bool>> {
    Ok(load::read_labels(open(p)?, &p.display().to_string())?)
}

/// Rows of the table with a label, and the labels.
fn labelled(t: &Table, labels: &load::HashMap<String, bool>) -> (Vec<usize>, Vec<u32>) {
    t.providers
        .iter()
        .enumerate()
        .filter_map(|(i, p)| labels.get(p).map(|&l| (i, u32::from(l))))
        .unzip()
}

const MODEL_FORMAT: &str = "ward-fraud-model 1";

fn load_model(p: &Path) -> Result<RiskModel> {
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    let (head, body) = text.split_once('\n').unwrap_or(("", ""));
    if head != MODEL_FORMAT {
        bail!("{}: not a ward fraud model ({MODEL_FORMAT})", p.display());
    }
    serde_json::from_str(body).with_context(|| format!("{}: damaged model file", p.display()))
}

/// Scores every provider: out of fold for labelled ones when `labels` are given; with the
/// run's estimated share of fraudulent providers when a carried model was adapted to it.
fn scores(
    run: &Pass,
    labels: Option<&load::HashMap<String, bool>>,
    model: Option<&RiskModel>,
    cfg: &Config,
) -> Result<(Vec<Scored>, Option<f32>)> {
    let Some(labels) = labels else {
        return Ok(ward_fraud::score_run(
            &run.table,
            model,
            cfg.fraud.threshold,
        )?);
    };
    let (rows, y) = labelled(&run.table, labels);
    if y.iter().all(|&v| v == 0) || y.iter().all(|&v| v == 1) {
        bail!("the labels need both fraudulent and honest providers among those with claims");
    }
    let x = run.table.x.select_rows(&rows);
    let mut m = RiskModel::train(&x, &y)?;
    // trained on this payer: nothing to adapt to
    m.prior = 0.0;
    let mut out = ward_fraud::score(&run.table, Some(&m), cfg.fraud.threshold)?;
    // labelled providers: the score of a model that did not see them
    let oof = ward_fraud::provider::oof_scores(&x, &y, 5, 5)?;
    for (&i, s) in rows.iter().zip(oof) {
        if let Some(o) = out.get_mut(i) {
            o.score = s;
            o.flag = s >= m.threshold;
        }
    }
    Ok((out, None))
}

pub fn detect(a: &DetectArgs, cfg: &Config) -> Result<()> {
    let f = files(&a.inputs)?;
    // what can be refused is refused before the claims are read
    let labels = a.labels.as_deref().map(read_labels).transpose()?;
    let given = a.model.as_deref().map(load_model).transpose()?;
    let mut run = pass(&a.inputs, &f, cfg, true, a.findings.as_deref())?;
    let model = match (given, &labels) {
        (Some(m), _) => Some(m),
        (None, None) if !a.outlier && cfg.fraud.simulated_payers > 0 => {
            eprintln!(
                "no labels or model: training on {} simulated payers of varied parameters (save one with `ward fraud train --simulated {} --out fraud.model` and pass --model, or use --outlier)",
                cfg.fraud.simulated_payers, cfg.fraud.simulated_payers
            );
            Some(simulated_model(cfg.fraud.simulated_payers, cfg)?)
        }
        _ => None,
    };
    let (mut scored, share) = scores(&run, labels.as_ref(), model.as_ref(), cfg)?;
    if let Some(share) = share {
        eprintln!(
            "the model's probabilities are adapted to this run's estimated share of fraudulent providers, {:.1}% (it was trained at {:.1}%)",
            share * 100.0,
            model.as_ref().map_or(0.0, |m| m.prior * 100.0)
        );
    }
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&scored[i], &scored[j]);
        b.score
            .total_cmp(&a.score)
            .then(a.provider.cmp(&b.provider))
    });
    let mut csv = String::from("Provider,score,flag\n");
    for &i in &order {
        let s = &scored[i];
        csv.push_str(&format!(
            "{},{:.4},{}\n",
            s.provider,
            s.score,
            u8::from(s.flag)
        ));
    }
    crate::output::write_atomic(&a.out, csv.as_bytes())?;
    if let Some(p) = &a.report {
        let mut w = crate::output::AtomicWriter::create(p)?;
        for &i in &order {
            let s = &mut scored[i];
            let pid = run.table.ids.get(i).copied().unwrap_or_default();
            let rules: serde_json::Map<String, serde_json::Value> = run
                .engine
                .providers
                .get(pid as usize)
                .map(|p| {
                    ward_fraud::rules::RULES
                        .iter()
                        .filter(|r| p.hits[r.index()] > 0)
                        .map(|r| (r.code().to_string(), p.hits[r.index()].into()))
                        .collect()
                })
                .unwrap_or_default();
            let v = serde_json::json!({
                "provider": s.provider,
                "score": s.score,
                "flag": s.flag,
                "rules": rules,
                "reasons": std::mem::take(&mut s.reasons),
                "contributions": s.contributions,
            });
            writeln!(w, "{v}")?;
        }
        w.commit()?;
    }
    std::mem::replace(&mut run.findings, Sink(None)).close()?;
    if let Some(p) = &a.store {
        let alerts = alerts(&run, &scored);
        let mut st = ward_store::SqliteStore::open(p)
            .with_context(|| format!("cannot open store {}", p.display()))?;
        use ward_store::Store;
        let n = st.insert_alerts(&alerts).context("cannot store alerts")?;
        eprintln!(
            "stored {n} new provider alerts ({} flagged) in {}",
            alerts.len(),
            p.display()
        );
    }
    let flagged = scored.iter().filter(|s| s.flag).count();
    eprintln!(
        "{} claims, {} providers ({flagged} flagged), {} findings, {} bad rows skipped, {:.1} s; wrote {}",
        run.engine.claims,
        scored.len(),
        run.engine.findings,
        run.bad,
        run.seconds,
        a.out.display()
    );
    Ok(())
}

/// Claims named per provider alert, at most.
const ALERT_CLAIMS: usize = 20;

/// One alert per flagged provider: its score, its rules and reasons, the claims of its
/// findings (ids only), timed at its last finding's day.
fn alerts(run: &Pass, scored: &[Scored]) -> Vec<ward_core::Alert> {
    use ward_core::{Alert, EntityId, EntityKind, Evidence, Explanation, Timestamp};
    scored
        .iter()
        .filter(|s| s.flag)
        .map(|s| {
            let pid = run.ids.providers.get(&s.provider);
            let hits = pid.map(|p| run.engine.examples(p)).unwrap_or_default();
            let counts = pid.and_then(|p| run.engine.providers.get(p as usize));
            let rules: Vec<String> = ward_fraud::rules::RULES
                .iter()
                .filter(|r| counts.is_some_and(|c| c.hits[r.index()] > 0))
                .map(|r| r.code().to_string())
                .collect();
            let day = counts.map_or(0, |c| c.last_finding);
            let mut lines: Vec<String> = s.reasons.clone();
            lines.extend(hits.iter().take(5).map(|h| h.reason.clone()));
            let summary = format!(
                "provider {} scores {:.0}% for fraud risk: {}",
                s.provider,
                s.score * 100.0,
                if lines.is_empty() {
                    "it stands apart from its peers".to_string()
                } else {
                    lines.join("; ")
                }
            );
            let claims: Vec<String> = hits
                .iter()
                .filter_map(|h| h.claim.clone())
                .take(ALERT_CLAIMS)
                .collect();
            Alert::new(
                Timestamp(i64::from(day) * 86_400_000_000),
                "fraud.provider",
                (s.score * 100.0).round().clamp(0.0, 100.0) as u8,
                EntityId::new(EntityKind::Provider, s.provider.clone()),
                format!("provider {} flagged for claims fraud risk", s.provider),
                Explanation {
                    summary,
                    contributions: s.contributions.clone(),
                    rules,
                },
                Evidence {
                    events: Vec::new(),
                    uids: claims,
                },
            )
        })
        .collect()
}

/// What the demo's claims step found.
#[derive(Debug)]
pub struct DemoSummary {
    /// Providers scored.
    pub providers: usize,
    /// Providers flagged.
    pub flagged: usize,
    /// Fraudulent providers (by the simulator's labels).
    pub fraudulent: usize,
    /// Flagged fraudulent providers.
    pub caught: usize,
    /// ROC-AUC of the scores against the labels.
    pub roc_auc: f64,
    /// Findings of the claim rules.
    pub findings: usize,
}

/// The demo's claims step: trains the provider model on `history` (with its labels), scores
/// `today`'s providers, stores an alert per flagged provider and compares with `today`'s
/// labels.
pub fn demo(history: &Path, today: &Path, store: &Path, cfg: &Config) -> Result<DemoSummary> {
    let inputs = |dir: &Path| Inputs {
        dir: Some(dir.to_path_buf()),
        inpatient: Vec::new(),
        outpatient: Vec::new(),
        beneficiary: None,
        exclusions: None,
        providers: None,
        strict: true,
    };
    let quiet = |dir: &Path| -> Result<(Pass, load::HashMap<String, bool>)> {
        let i = inputs(dir);
        let f = files(&i)?;
        let labels = read_labels(&f.labels.clone().context("no labels.csv")?)?;
        Ok((pass(&i, &f, cfg, false, None)?, labels))
    };
    let (old, old_labels) = quiet(history)?;
    let (rows, y) = labelled(&old.table, &old_labels);
    let model = RiskModel::train(&old.table.x.select_rows(&rows), &y)?;
    let (now, now_labels) = quiet(today)?;
    let scored = ward_fraud::score(&now.table, Some(&model), cfg.fraud.threshold)?;
    let alerts = alerts(&now, &scored);
    let mut st = ward_store::SqliteStore::open(store)
        .with_context(|| format!("cannot open store {}", store.display()))?;
    {
        use ward_store::Store;
        st.insert_alerts(&alerts).context("cannot store alerts")?;
    }
    let truth: Vec<u32> = scored
        .iter()
        .map(|s| u32::from(now_labels.get(&s.provider).copied().unwrap_or(false)))
        .collect();
    let scores: Vec<f32> = scored.iter().map(|s| s.score).collect();
    Ok(DemoSummary {
        providers: scored.len(),
        flagged: alerts.len(),
        fraudulent: truth.iter().filter(|&&t| t == 1).count(),
        caught: scored
            .iter()
            .zip(&truth)
            .filter(|(s, t)| s.flag && **t == 1)
            .count(),
        roc_auc: ward_ml::metrics::roc_auc(&truth, &scores).unwrap_or(f64::NAN),
        findings: now.engine.findings as usize,
    })
}

/// A pass over labelled claims: the run, the table rows with a label, and the labels (both
/// classes present). `labels` defaults to the folder's labels.csv.
fn labelled_run(
    inputs: &Inputs,
    labels: Option<&Path>,
    cfg: &Config,
    progress: bool,
) -> Result<(Pass, Vec<usize>, Vec<u32>)> {
    let f = files(inputs)?;
    let lp = labels
        .map(Path::to_path_buf)
        .or(f.labels.clone())
        .context("no labels: give --labels (Provider,PotentialFraud)")?;
    let labels = read_labels(&lp)?;
    let run = pass(inputs, &f, cfg, progress, None)?;
    let (rows, y) = labelled(&run.table, &labels);
    if y.iter().all(|&v| v == 0) || y.iter().all(|&v| v == 1) {
        bail!("the labels need both fraudulent and honest providers among those with claims");
    }
    Ok((run, rows, y))
}

/// The first seed of the simulated training payers (the default simulation's seed, 42, and
/// small seeds stay out of training).
const SIM_SEED: u64 = 1000;

/// Appends the labelled providers (features and labels) of `n` simulated payers of varied
/// parameters.
fn simulated_training(
    n: u32,
    cfg: &Config,
    x: &mut ward_ml::Matrix,
    y: &mut Vec<u32>,
) -> Result<()> {
    let tmp = tempfile::tempdir().context("cannot make a temporary folder")?;
    for k in 0..u64::from(n) {
        let sim = ward_sim::claims::ClaimsSimConfig::varied(SIM_SEED + k);
        let dir = tmp.path().join(k.to_string());
        crate::demo::write_claims(&sim, &dir)?;
        add_payer(dir, cfg, false, x, y)?;
    }
    Ok(())
}

/// Appends the labelled providers (features and labels) of the claims folder `dir`.
fn add_payer(
    dir: PathBuf,
    cfg: &Config,
    progress: bool,
    x: &mut ward_ml::Matrix,
    y: &mut Vec<u32>,
) -> Result<()> {
    let inputs = Inputs {
        dir: Some(dir),
        ..Inputs::default()
    };
    let (run, rows, labels) = labelled_run(&inputs, None, cfg, progress)?;
    for &i in &rows {
        x.push_row(run.table.x.row(i));
    }
    y.extend(labels);
    Ok(())
}

/// A model trained on `n` simulated payers of varied parameters.
fn simulated_model(n: u32, cfg: &Config) -> Result<RiskModel> {
    let mut x = ward_ml::Matrix::with_cols(ward_fraud::provider::FEATURES.len());
    let mut y = Vec::new();
    simulated_training(n, cfg, &mut x, &mut y)?;
    Ok(RiskModel::train(&x, &y)?)
}

fn has_claims(i: &Inputs) -> bool {
    i.dir.is_some() || !i.inpatient.is_empty() || !i.outpatient.is_empty()
}

pub fn train(a: &TrainArgs, cfg: &Config) -> Result<()> {
    let (mut x, mut y) = if has_claims(&a.inputs) {
        let (run, rows, y) = labelled_run(&a.inputs, a.labels.as_deref(), cfg, true)?;
        (run.table.x.select_rows(&rows), y)
    } else if a.simulated > 0 {
        (
            ward_ml::Matrix::with_cols(ward_fraud::provider::FEATURES.len()),
            Vec::new(),
        )
    } else {
        bail!("no claims: give a folder or --inpatient/--outpatient files, or --simulated N");
    };
    for dir in &a.also {
        add_payer(dir.clone(), cfg, true, &mut x, &mut y)?;
    }
    if a.simulated > 0 {
        eprintln!("simulating {} payers of varied parameters", a.simulated);
        simulated_training(a.simulated, cfg, &mut x, &mut y)?;
    }
    let m = RiskModel::train(&x, &y)?;
    let body = serde_json::to_string(&m)?;
    crate::output::write_atomic(&a.out, format!("{MODEL_FORMAT}\n{body}").as_bytes())?;
    eprintln!(
        "trained on {} labelled providers ({} fraudulent); flag threshold {:.3}; wrote {}",
        y.len(),
        y.iter().filter(|&&v| v == 1).count(),
        m.threshold,
        a.out.display()
    );
    Ok(())
}

/// ROC-AUC and the fraud class's precision, recall and F1 at the flags.
fn figures(y: &[u32], scores: &[f32], flags: &[bool]) -> (f64, f64, f64, f64) {
    let auc = ward_ml::metrics::roc_auc(y, scores).unwrap_or(f64::NAN);
    let pred: Vec<u32> = flags.iter().map(|&f| u32::from(f)).collect();
    let c = ward_ml::metrics::BinaryCounts::from_predictions(y, &pred);
    match c {
        Ok(c) => (auc, c.precision(), c.recall(), c.f1()),
        Err(_) => (auc, f64::NAN, f64::NAN, f64::NAN),
    }
}

/// A carried model's ROC-AUC, precision, recall and F1 at its threshold over the labelled
/// `rows` of a run, scored as `ward fraud detect --model` scores the whole run, under `names`.
fn model_figures(
    m: &RiskModel,
    all: &ward_ml::Matrix,
    rows: &[usize],
    y: &[u32],
    names: [&'static str; 4],
) -> Result<[(&'static str, f64); 4]> {
    let (p_all, _) = m.predict_run(all)?;
    let p: Vec<f32> = rows
        .iter()
        .map(|&i| p_all.get(i).copied().unwrap_or(0.0))
        .collect();
    let flags: Vec<bool> = p.iter().map(|&v| v >= m.threshold).collect();
    let (auc, pr, r, f1) = figures(y, &p, &flags);
    let [a, b, c, d] = names;
    Ok([(a, auc), (b, pr), (c, r), (d, f1)])
}

pub fn eval(a: &EvalArgs, cfg: &Config) -> Result<()> {
    if a.run.cv < 2 {
        bail!("--cv needs at least 2 folds");
    }
    let (run, rows, y) = labelled_run(&a.inputs, a.labels.as_deref(), cfg, true)?;
    let x = run.table.x.select_rows(&rows);
    let mut figs: Vec<(&str, f64)> = Vec::new();
    // without labels: the peer-outlier score
    let un = ward_fraud::provider::outlier_scores(&run.table);
    let us: Vec<f32> = rows
        .iter()
        .map(|&i| un.get(i).map_or(0.0, |s| s.0))
        .collect();
    let uf: Vec<bool> = us.iter().map(|&s| s >= cfg.fraud.threshold).collect();
    let (auc, p, r, f1) = figures(&y, &us, &uf);
    figs.extend([
        ("outlier_roc_auc", auc),
        ("outlier_precision", p),
        ("outlier_recall", r),
        ("outlier_f1", f1),
    ]);
    // the learned model, cross-validated: each fold's model sets its own threshold
    let folds = ward_ml::cv::stratified_kfold(&y, a.run.cv, 17)?;
    let mut s = vec![0f32; y.len()];
    let mut fl = vec![false; y.len()];
    for (k, fold) in folds.iter().enumerate() {
        let yt: Vec<u32> = fold
            .train
            .iter()
            .filter_map(|&i| y.get(i).copied())
            .collect();
        let m = RiskModel::train(&x.select_rows(&fold.train), &yt)?;
        let p = m.predict(&x.select_rows(&fold.test))?;
        for (&i, v) in fold.test.iter().zip(p) {
            s[i] = v;
            fl[i] = v >= m.threshold;
        }
        eprintln!(
            "fold {}/{}: trained on {} providers",
            k + 1,
            a.run.cv,
            yt.len()
        );
    }
    let (auc, p, r, f1) = figures(&y, &s, &fl);
    figs.extend([
        ("roc_auc", auc),
        ("precision", p),
        ("recall", r),
        ("f1", f1),
    ]);
    // what `ward fraud detect` does without labels: a model trained on simulated payers
    if cfg.fraud.simulated_payers > 0 {
        eprintln!(
            "training on {} simulated payers of varied parameters",
            cfg.fraud.simulated_payers
        );
        let m = simulated_model(cfg.fraud.simulated_payers, cfg)?;
        figs.extend(model_figures(
            &m,
            &run.table.x,
            &rows,
            &y,
            ["sim_roc_auc", "sim_precision", "sim_recall", "sim_f1"],
        )?);
    }
    if let Some(mp) = &a.model {
        figs.extend(model_figures(
            &load_model(mp)?,
            &run.table.x,
            &rows,
            &y,
            [
                "model_roc_auc",
                "model_precision",
                "model_recall",
                "model_f1",
            ],
        )?);
    }
    let fraud = y.iter().filter(|&&v| v == 1).count();
    if a.run.json {
        let obj: serde_json::Map<String, serde_json::Value> = figs
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::json!(v)))
            .collect();
        println!("{}", serde_json::Value::Object(obj));
    } else {
        println!(
            "{} claims, {} labelled providers ({fraud} fraudulent), {} findings, {:.1} s",
            run.engine.claims,
            y.len(),
            run.engine.findings,
            run.seconds
        );
        for (k, v) in &figs {
            println!("  {k:<20} {v:.4}");
        }
        println!(
            "  (outlier_*: the peer-outlier score, flagged at {:.2}; roc_auc..f1: gradient-boosted trees, {}-fold cross-validation on these labels; sim_*: trees trained on {} simulated payers, as `ward fraud detect` scores without labels; model_*: the given model)",
            cfg.fraud.threshold, a.run.cv, cfg.fraud.simulated_payers
        );
    }
    crate::phish::gates(&figs, &a.run.min, &a.run.max)
}

pub fn bench(a: &BenchArgs, cfg: &Config) -> Result<()> {
    let f = files(&a.inputs)?;
    let mut ids = Ids::default();
    let mut benes = Vec::new();
    if let Some(p) = &f.beneficiary {
        load::read_benes(
            open(p)?,
            &p.display().to_string(),
            &cfg.fraud.columns,
            &mut ids,
            &mut benes,
        )?;
    }
    let exclusions = match &f.exclusions {
        Some(p) => load::read_exclusions(open(p)?, &p.display().to_string())?.0,
        None => Default::default(),
    };
    let directory = match &f.providers {
        Some(p) => load::read_directory(open(p)?, &p.display().to_string())?.0,
        None => Default::default(),
    };
    // parse once into memory
    let t = Instant::now();
    let mut claims = Vec::new();
    let mut bytes = 0u64;
    for p in f.inpatient.iter().chain(&f.outpatient) {
        bytes += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    }
    // in the order `ward fraud detect` reads them: the files side by side, by day
    let (_, mut merged) = merged_claims(&f, cfg)?;
    while let Some(c) = merged.next_claim(&mut ids) {
        if let Ok(c) = c {
            claims.push(c);
        }
    }
    let parse = t.elapsed().as_secs_f64();
    let n = claims.len() as f64;
    println!(
        "{} claims ({:.1} MB) parsed in {:.2} s: {:.0} claims/s",
        claims.len(),
        bytes as f64 / 1e6,
        parse,
        n / parse
    );
    let mut best = f64::INFINITY;
    let mut best_finish = 0.0;
    let mut footprint = Footprint::default();
    let mut late = 0;
    for _ in 0..a.repeat.max(1) {
        let mut e = Engine::new(
            cfg.fraud.rules.clone(),
            benes.clone(),
            &exclusions,
            &directory,
            &mut ids,
        );
        let t = Instant::now();
        for c in &claims {
            e.observe(c, &ids);
            if e.pending() >= FINDINGS_BATCH {
                std::hint::black_box(e.take_findings());
            }
        }
        let rules = t.elapsed().as_secs_f64();
        let state = e.footprint();
        let t = Instant::now();
        let hits = e.finish(&ids);
        let fin = t.elapsed().as_secs_f64();
        std::hint::black_box(hits);
        if rules < best {
            best = rules;
            best_finish = fin;
            footprint = state;
            late = e.late;
        }
    }
    println!(
        "rules, one thread (best of {}): {:.0} claims/s ({:.2} s), then {:.2} s for the whole-run signals (impossible days, overbilling, identity)",
        a.repeat.max(1),
        n / best,
        best,
        best_finish
    );
    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "rule state after the last claim: {:.1} MB ({} beneficiaries, {} providers): beneficiaries {:.1}, their recent claims and providers {:.1}, open days {:.1}, providers {:.1}, same-day provider pairs {:.1}, peer medians {:.1}, findings held {:.1}; {late} claims behind the {}-day horizon",
        mb(footprint.total()),
        benes.len(),
        ids.providers.len(),
        mb(footprint.benes),
        mb(footprint.bene_state),
        mb(footprint.days),
        mb(footprint.providers),
        mb(footprint.same_day),
        mb(footprint.peers),
        mb(footprint.findings),
        cfg.fraud.rules.day_horizon
    );
    if let Some(rss) = crate::bench::peak_rss() {
        println!(
            "peak memory {:.0} MB (the claims held in memory for the benchmark included)",
            rss as f64 / 1e6
        );
    }
    Ok(())
}
