//! `ward ehr detect` and `ward eval ehr`: EHR-snooping detection over the input contract of
//! `crates/ehr/README.md`, and its measurement against a ground-truth file.

use crate::eval::check_gates_with;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use ward_ehr::{Dataset, Detection, Detector, EhrConfig};
use ward_store::{EhrAccessRecord, EhrCaseRecord, EhrImport, EhrPerson, EhrReason, PersonKind};

#[derive(Debug, Subcommand)]
pub enum EhrCmd {
    /// Find unexplained access to patient records: flagged accesses with reasons, cases per
    /// user, alerts.
    #[command(
        after_help = "The folder holds access.csv (or access.ndjson, FHIR AuditEvent), \
users.csv, patients.csv, encounters.csv and optionally care_team.csv; see crates/ehr/README.md.\n\n\
Every flagged access names its 0-based data row in access.csv with its time, user_id and \
patient_id.\n\nExamples:\n  ward ehr detect ehr-sim/\n  ward ehr detect ehr-sim/ --flagged \
flagged.csv --cases cases.jsonl --store ward.db"
    )]
    Detect(EhrDetectArgs),
}

#[derive(Debug, Args)]
pub struct EhrDetectArgs {
    /// Folder with the input files.
    pub dir: PathBuf,
    /// Flagged accesses as CSV (row,time,user_id,patient_id,score,case,reasons); `-` is stdout.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub flagged: PathBuf,
    /// Cases (flagged accesses of one user and day) as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// One alert per case as JSON lines (docs/alert-format.md).
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// Also keep the alerts, the cases with their flagged accesses and reasons, and the names
    /// of the people in them (read from users.csv and patients.csv) in this store, for the
    /// privacy view of `ward serve`. One audited transaction (`ehr.import`).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Metrics: recall, precision, flagged_share (flagged accesses / all \
accesses), cases, and recall_<case_type> per case type of the truth file.\n\
Gates: --min recall=0.9 --max flagged_share=0.005 (exit status 2 when one fails).\n\n\
Example:\n  ward sim ehr --out ehr-sim/ && ward eval ehr ehr-sim/"
)]
pub struct EhrEvalArgs {
    /// Folder with the input files.
    pub dir: PathBuf,
    /// Ground truth: CSV with a `row` column (0-based data row in access.csv) and optionally
    /// `case_type`. Default: truth.csv in the folder.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit status 2) unless METRIC >= VALUE. Repeatable.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub min: Vec<String>,
    /// Fail (exit status 2) unless METRIC <= VALUE. Repeatable.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub max: Vec<String>,
}

fn load(dir: &Path, cfg: &EhrConfig) -> Result<(Dataset, Detection)> {
    if !dir.is_dir() {
        bail!("{} is not a folder with the EHR input files", dir.display());
    }
    let pb = crate::inputs::spinner("loading the access log, roster, patients and encounters");
    let ds = ward_ehr::load_dir(dir)?;
    pb.finish_and_clear();
    let r = &ds.report;
    eprintln!(
        "loaded {} accesses, {} users, {} patients, {} encounters, {} care-team rows",
        r.accesses, r.users, r.patients, r.encounters, r.care_team
    );
    if r.unknown_user_accesses > 0 || r.unknown_patient_accesses > 0 {
        eprintln!(
            "  {} accesses by {} user ids not in users.csv, {} accesses to {} patient ids not in patients.csv (kept and scored)",
            r.unknown_user_accesses,
            r.unknown_users,
            r.unknown_patient_accesses,
            r.unknown_patients
        );
    }
    let pb = crate::inputs::spinner("explaining and scoring accesses");
    let det = Detector::new(*cfg)?.detect(&ds);
    pb.finish_and_clear();
    Ok((ds, det))
}

fn create(p: &Path) -> Result<Box<dyn Write>> {
    if p.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    Ok(Box::new(BufWriter::new(
        std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
    )))
}

/// The detection run as store records: the alerts, one case per alert (same order), the
/// flagged accesses, and names read from the input folder for the people in those cases.
fn to_import(dir: &Path, det: &Detection, alerts: Vec<ward_core::Alert>) -> Result<EhrImport> {
    let case_ids: HashMap<u32, &str> = det
        .cases
        .iter()
        .zip(&alerts)
        .map(|(c, a)| (c.id.0, a.id.as_str()))
        .collect();
    let cases = det
        .cases
        .iter()
        .zip(&alerts)
        .map(|(c, a)| EhrCaseRecord {
            id: a.id.clone(),
            user_id: c.user_id.clone(),
            day: c.day,
            first: c.first,
            last: c.last,
            score: c.score,
            patients: c.patients,
            signals: c.signals.iter().map(|s| s.as_str().to_owned()).collect(),
            summary: c.summary.clone(),
        })
        .collect();
    let mut accesses = Vec::with_capacity(det.flagged.len());
    for f in &det.flagged {
        // Every flagged access has a case; one without (a detector bug) is not stored.
        let Some(case) = case_ids.get(&f.case.0) else {
            continue;
        };
        let action = match serde_json::to_value(f.action)? {
            serde_json::Value::String(a) => a,
            _ => "other".to_owned(),
        };
        accesses.push(EhrAccessRecord {
            case: (*case).to_owned(),
            row: f.row,
            time: f.time,
            user_id: f.user_id.clone(),
            patient_id: f.patient_id.clone(),
            action,
            score: f.score,
            link: f.link.as_str().to_owned(),
            reasons: f
                .reasons
                .iter()
                .map(|r| EhrReason {
                    code: r.code.to_owned(),
                    text: r.text.clone(),
                    weight: r.weight,
                })
                .collect(),
        });
    }
    let users: HashSet<&str> = det.cases.iter().map(|c| c.user_id.as_str()).collect();
    let patients: HashSet<&str> = det.flagged.iter().map(|f| f.patient_id.as_str()).collect();
    let names = ward_ehr::names::read_names(
        &dir.join("users.csv"),
        &users,
        &dir.join("patients.csv"),
        &patients,
    )
    .context("cannot read display names for the privacy view")?;
    let mut people: Vec<EhrPerson> = Vec::new();
    for (kind, map) in [
        (PersonKind::User, names.users),
        (PersonKind::Patient, names.patients),
    ] {
        for (id, d) in map {
            people.push(EhrPerson {
                kind,
                id,
                name: d.name,
                role: d.role,
                department: d.department,
            });
        }
    }
    people.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    Ok(EhrImport {
        alerts,
        cases,
        accesses,
        people,
    })
}

/// Stores alerts, cases, flagged accesses and names in one audited transaction
/// (`ehr.import`, with counts only).
fn store_run(p: &Path, dir: &Path, det: &Detection, alerts: Vec<ward_core::Alert>) -> Result<()> {
    use ward_store::Store;
    let run = to_import(dir, det, alerts)?;
    let mut s = ward_store::SqliteStore::open(p)
        .with_context(|| format!("cannot open store {}", p.display()))?;
    let source = Path::new(&det.source)
        .file_name()
        .map_or_else(|| det.source.clone(), |n| n.to_string_lossy().into_owned());
    let audit = ward_store::AuditRecord::new(
        crate::pipeline::now(),
        "cli",
        "ehr.import",
        source,
        serde_json::json!({
            "alerts": run.alerts.len(),
            "cases": run.cases.len(),
            "accesses": run.accesses.len(),
            "user_names": run.people.iter().filter(|p| p.kind == PersonKind::User).count(),
            "patient_names": run.people.iter().filter(|p| p.kind == PersonKind::Patient).count(),
        }),
    );
    let n = s
        .import_ehr(&run, &audit)
        .context("cannot store the EHR cases")?;
    eprintln!(
        "stored {} new alerts, {} cases, {} flagged accesses and {} names in {}",
        n.alerts,
        n.cases,
        n.accesses,
        n.people,
        p.display()
    );
    Ok(())
}

/// Runs `ward ehr ...`.
pub fn run(cmd: EhrCmd, cfg: &crate::config::Config) -> Result<()> {
    let EhrCmd::Detect(args) = cmd;
    let (ds, det) = load(&args.dir, &cfg.ehr)?;
    let mut w = csv::Writer::from_writer(create(&args.flagged)?);
    w.write_record([
        "row",
        "time",
        "user_id",
        "patient_id",
        "score",
        "case",
        "reasons",
    ])?;
    for f in &det.flagged {
        let reasons: Vec<&str> = f.reasons.iter().map(|r| r.text.as_str()).collect();
        w.write_record([
            f.row.to_string(),
            f.time.to_string(),
            f.user_id.clone(),
            f.patient_id.clone(),
            format!("{:.3}", f.score),
            f.case.0.to_string(),
            reasons.join(" "),
        ])?;
    }
    w.flush()?;
    if let Some(p) = &args.cases {
        let mut w = create(p)?;
        for c in &det.cases {
            serde_json::to_writer(&mut w, c)?;
            writeln!(w)?;
        }
        w.flush()?;
    }
    let alerts = det.to_alerts();
    if let Some(p) = &args.alerts {
        let mut w = create(p)?;
        for a in &alerts {
            serde_json::to_writer(&mut w, a)?;
            writeln!(w)?;
        }
        w.flush()?;
    }
    if let Some(p) = &args.store {
        store_run(p, &args.dir, &det, alerts)?;
    }
    eprintln!(
        "{} of {} accesses flagged ({:.3}%) in {} cases; {} candidates, {} left out by the daily budget",
        det.report.flagged,
        ds.accesses.len(),
        100.0 * det.report.flagged as f64 / ds.accesses.len().max(1) as f64,
        det.report.cases,
        det.report.candidates,
        det.report.over_budget
    );
    Ok(())
}

/// The figures of one evaluation.
#[derive(Debug, serde::Serialize)]
struct EhrEval {
    accesses: u64,
    truth: u64,
    flagged: u64,
    true_positives: u64,
    recall: f64,
    precision: f64,
    flagged_share: f64,
    cases: u64,
    /// case type -> (snooping accesses, flagged)
    per_type: BTreeMap<String, (u64, u64)>,
    unknown_truth_rows: u64,
}

impl EhrEval {
    fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "recall" => Some(self.recall),
            "precision" => Some(self.precision),
            "flagged_share" => Some(self.flagged_share),
            "cases" => Some(self.cases as f64),
            other => {
                let t = other.strip_prefix("recall_")?;
                let (n, hit) = self.per_type.get(t)?;
                Some(*hit as f64 / (*n).max(1) as f64)
            }
        }
    }
}

/// Reads the truth file: (row, case type) pairs; errors name the file and line.
fn read_truth(p: &Path) -> Result<Vec<(u64, String)>> {
    let mut rdr = csv::Reader::from_path(p)
        .with_context(|| format!("cannot read ground truth {}", p.display()))?;
    let h = rdr.headers()?.clone();
    let Some(ri) = h.iter().position(|c| c == "row") else {
        bail!("{}: no `row` column in the header", p.display());
    };
    let ci = h.iter().position(|c| c == "case_type");
    let mut out = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let line = i + 2;
        let r = r.with_context(|| format!("{}:{line}: unreadable line", p.display()))?;
        let row: u64 = r
            .get(ri)
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{}:{line}: `row` is not a row number", p.display()))?;
        let ct = ci
            .and_then(|c| r.get(c))
            .filter(|v| !v.is_empty())
            .unwrap_or("snooping");
        out.push((row, ct.to_owned()));
    }
    Ok(out)
}

/// Runs `ward eval ehr`.
pub fn eval(args: EhrEvalArgs, cfg: &crate::config::Config) -> Result<()> {
    let truth_path = args
        .truth
        .clone()
        .unwrap_or_else(|| args.dir.join("truth.csv"));
    let truth = read_truth(&truth_path)?;
    let (ds, det) = load(&args.dir, &cfg.ehr)?;
    let n = ds.accesses.len() as u64;
    let rows: HashSet<u64> = ds.accesses.iter().map(|a| a.row).collect();
    let flagged: HashSet<u64> = det.flagged.iter().map(|f| f.row).collect();
    let mut per_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut truth_rows = HashSet::new();
    let mut unknown = 0;
    for (row, ct) in &truth {
        if !rows.contains(row) {
            unknown += 1;
        }
        if !truth_rows.insert(*row) {
            continue;
        }
        let e = per_type.entry(ct.clone()).or_default();
        e.0 += 1;
        if flagged.contains(row) {
            e.1 += 1;
        }
    }
    if unknown > 0 {
        eprintln!(
            "warning: {unknown} truth rows are not data rows of the access file (counted as missed)"
        );
    }
    let tp = flagged.intersection(&truth_rows).count() as u64;
    let r = EhrEval {
        accesses: n,
        truth: truth_rows.len() as u64,
        flagged: flagged.len() as u64,
        true_positives: tp,
        recall: tp as f64 / (truth_rows.len() as f64).max(1.0),
        precision: tp as f64 / (flagged.len() as f64).max(1.0),
        flagged_share: flagged.len() as f64 / (n as f64).max(1.0),
        cases: det.report.cases,
        per_type,
        unknown_truth_rows: unknown,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "recall {:.4} ({} of {} snooping accesses)   precision {:.4}   flagged {} of {} accesses ({:.3}%) in {} cases",
            r.recall,
            r.true_positives,
            r.truth,
            r.precision,
            r.flagged,
            r.accesses,
            100.0 * r.flagged_share,
            r.cases
        );
        println!(
            "  {:<14}{:>9}{:>9}{:>9}",
            "case type", "accesses", "flagged", "recall"
        );
        for (ct, (t, h)) in &r.per_type {
            println!(
                "  {ct:<14}{t:>9}{h:>9}{:>9.3}",
                *h as f64 / (*t).max(1) as f64
            );
        }
    }
    check_gates_with(|m| r.metric(m), &args.min, &args.max)
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example (the issue's size):\n  ward sim ehr --out big/ --patients 1000000 \
--users 50000 --encounters 5000000 --days 7\n  ward bench ehr big/"
)]
pub struct EhrBenchArgs {
    /// Folder with the input files.
    pub dir: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `ward bench ehr`: one load and one detection, timed, with peak memory.
pub fn bench(args: EhrBenchArgs, cfg: &crate::config::Config) -> Result<()> {
    let files = ward_ehr::InputFiles::in_dir(&args.dir)?;
    let pb = crate::inputs::spinner("loading and detecting");
    let r = ward_ehr::bench::run(&files, cfg.ehr)?;
    pb.finish_and_clear();
    let rss = crate::bench::peak_rss();
    let total = r.load_secs + r.detect_secs;
    if args.json {
        let mut v = serde_json::to_value(&r)?;
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("peak_rss_bytes".into(), serde_json::json!(rss));
            m.insert(
                "end_to_end_per_sec".into(),
                serde_json::json!(r.accesses as f64 / total.max(1e-9)),
            );
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} accesses, {} patients, {} users, {} encounters",
        r.accesses, r.patients, r.users, r.encounters
    );
    println!("load and join: {:.2} s", r.load_secs);
    println!(
        "detect: {:.2} s = {:.0} accesses/s (explanations, signals, score, cases, budget)",
        r.detect_secs, r.detect_per_sec
    );
    println!(
        "end to end: {:.2} s = {:.0} accesses/s; {} flagged",
        total,
        r.accesses as f64 / total.max(1e-9),
        r.flagged
    );
    if let Some(b) = rss {
        println!("peak memory: {:.2} GiB", b as f64 / (1u64 << 30) as f64);
    }
    Ok(())
}
