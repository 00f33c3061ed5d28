//! `ward train|detect|eval|bench|parse net`: the network detector on the command line.

use crate::config::Config;
use crate::inputs::{self, InputArgs};
use crate::output::{AlertFormat, write_alert};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use ward_core::{Alert, Flow};
use ward_detect::net::{AnomalyKind, MODEL_KIND, NetModel, NetTrainConfig, Verdict};
use ward_ml::model::ModelMeta;

#[derive(Debug, Subcommand)]
pub enum TrainCmd {
    /// Train the network detector on flows (labelled: supervised + anomaly; unlabelled: anomaly only).
    #[command(
        after_help = "Examples:\n  ward train net --format nsl-kdd KDDTrain+_20Percent.txt --out kdd.model\n  \
                            ward train net unsw-nb15-dev.csv --anomaly iforest --out unsw.model\n  \
                            ward train net benign-week/ --format zeek --out site.model   # unlabelled: anomaly model only"
    )]
    Net(TrainArgs),
    /// Train the PHI token classifier of the de-identifier on annotated notes (PhysioNet
    /// format); use it with `ward deid text --model`.
    #[command(
        after_help = "Examples:\n  ward train deid --text dev.text --gold dev.phi.phrase --out notes.model\n  \
                            ward deid text new.text --model notes.model --spans spans.txt\n  \
                            ward deid eval --text dev.text --gold dev.phi.phrase --cv 5   # honest estimate, by patient"
    )]
    Deid(crate::deid::TrainArgs),
    /// Train the phishing text model on labelled mail (phishing, ham and spam corpora); use
    /// it with `ward phish scan --model`.
    #[command(
        after_help = "Example:\n  ward train phish --phish nazario-dev.csv --ham easy-ham-1 --spam spam-1 --out phish.model"
    )]
    Phish(crate::phish::TrainArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Input files or folders (`-` for stdin).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the model (a manifest with its SHA-256 is written beside it).
    #[arg(long, short, default_value = "ward-net.model", value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Model choices shared by `train` and `eval`. Unset flags fall back to `[net.train]` in ward.toml.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Unsupervised model trained on benign rows: both (KitNET and Isolation Forest), kitnet,
    /// iforest or none.
    #[arg(long, value_name = "KIND")]
    pub anomaly: Option<String>,
    /// Supervised attack model: gbdt (boosted trees) or logreg (logistic regression).
    #[arg(long, value_name = "KIND")]
    pub supervised: Option<String>,
    /// Calibrate the attack probability on held-out rows: none, platt or isotonic.
    #[arg(long, value_name = "METHOD")]
    pub calibration: Option<String>,
    /// Skip the supervised models even when the data is labelled.
    #[arg(long)]
    pub no_supervised: bool,
    /// Do not let the anomaly model's verdict count as an attack (it still scores).
    #[arg(long)]
    pub no_fuse: bool,
    /// Boosting rounds of the supervised model.
    #[arg(long, value_name = "N")]
    pub rounds: Option<usize>,
    /// Attack-probability threshold of the supervised model.
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
    /// Quantile of benign training scores used as the anomaly threshold.
    #[arg(long, value_name = "Q")]
    pub anomaly_quantile: Option<f64>,
    /// Seed for every model (training is deterministic for a seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

impl ModelArgs {
    pub fn config(&self, cfg: &Config) -> Result<NetTrainConfig> {
        let mut c = cfg.net.train.clone();
        if let Some(a) = &self.anomaly {
            c.anomaly = match a.as_str() {
                "both" => AnomalyKind::Both,
                "kitnet" => AnomalyKind::Kitnet,
                "iforest" => AnomalyKind::Iforest,
                "none" => AnomalyKind::None,
                other => {
                    bail!("unknown anomaly model {other:?}: expected both, kitnet, iforest or none")
                }
            };
        }
        if let Some(k) = &self.supervised {
            c.supervised_model = match k.as_str() {
                "gbdt" => ward_detect::net::SupervisedKind::Gbdt,
                "logreg" => ward_detect::net::SupervisedKind::Logreg,
                other => bail!("unknown supervised model {other:?}: expected gbdt or logreg"),
            };
        }
        if let Some(k) = &self.calibration {
            c.calibration = match k.as_str() {
                "none" => ward_detect::net::CalibrationChoice::None,
                "platt" => ward_detect::net::CalibrationChoice::Platt,
                "isotonic" => ward_detect::net::CalibrationChoice::Isotonic,
                other => bail!("unknown calibration {other:?}: expected none, platt or isotonic"),
            };
        }
        if self.no_supervised {
            c.supervised = false;
        }
        if self.no_fuse {
            c.fuse_anomaly = false;
        }
        if let Some(r) = self.rounds {
            c.gbdt.n_rounds = r;
        }
        if let Some(t) = self.threshold {
            if !(0.0..=1.0).contains(&t) {
                bail!("--threshold must be between 0 and 1, got {t}");
            }
            c.threshold = t;
        }
        if let Some(q) = self.anomaly_quantile {
            if !(q > 0.0 && q < 1.0) {
                bail!("--anomaly-quantile must be strictly between 0 and 1, got {q}");
            }
            c.anomaly_quantile = q;
        }
        if let Some(s) = self.seed {
            c.seed = s;
        }
        Ok(c)
    }
}

pub fn train(cmd: TrainCmd, cfg: &Config) -> Result<()> {
    let args = match cmd {
        TrainCmd::Net(a) => a,
        TrainCmd::Deid(a) => return crate::deid::train(&a),
        TrainCmd::Phish(a) => return crate::phish::train(&a, cfg),
    };
    let tcfg = args.model.config(cfg)?;
    let opts = args.input.read_options(cfg);
    let (schema, flows, _, summary) = inputs::read_all(&args.inputs, &opts, args.input.strict)?;
    summary.report();
    eprintln!(
        "training on {} flows ({} format)",
        flows.len(),
        schema.format
    );
    let pb = inputs::spinner("training");
    let (model, report) = NetModel::train(&schema, &flows, &tcfg)?;
    pb.finish_and_clear();
    if tcfg.anomaly != AnomalyKind::None && model.anomaly.is_empty() {
        eprintln!(
            "warning: no anomaly model: {} benign rows is too few (at least 20 are needed, a fifth of them held out for the threshold)",
            report.anomaly_rows
        );
    }
    let meta = ModelMeta {
        feature_names: model.tree_names(),
        params: serde_json::to_value(&tcfg)?,
        training_summary: serde_json::to_value(&report)?,
    };
    let manifest = ward_ml::model::save(&args.out, &model, MODEL_KIND, &meta)
        .with_context(|| format!("cannot write model {}", args.out.display()))?;
    eprintln!(
        "trained: {} rows ({} attacks, {} benign); supervised: {}; families: {}; anomaly: {}",
        report.rows,
        report.attacks,
        report.benign,
        if model.supervised.is_some() {
            "yes"
        } else {
            "no"
        },
        model
            .families
            .as_ref()
            .map_or("none".to_owned(), |f| f.names[1..].join(", ")),
        if model.anomaly.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{} on {} benign rows",
                model
                    .anomaly
                    .iter()
                    .map(anomaly_name)
                    .collect::<Vec<_>>()
                    .join(" + "),
                report.anomaly_rows
            )
        }
    );
    println!("{} (sha256 {})", args.out.display(), manifest.sha256);
    Ok(())
}

fn anomaly_name(a: &ward_detect::net::AnomalyModel) -> &'static str {
    match a {
        ward_detect::net::AnomalyModel::Kitnet { .. } => "kitnet",
        ward_detect::net::AnomalyModel::Iforest { .. } => "iforest",
    }
}

/// Loads and checks a model file.
pub fn load_model(path: &Path) -> Result<NetModel> {
    let (model, _manifest): (NetModel, _) = ward_ml::model::load(path, MODEL_KIND)
        .with_context(|| format!("cannot load model {}", path.display()))?;
    model.check_version()?;
    Ok(model)
}

#[derive(Debug, Subcommand)]
pub enum DetectCmd {
    /// Score flows with a trained model and emit alerts.
    #[command(
        after_help = "Examples:\n  ward detect net --model net.model conn.log\n  \
                            zcat conn.log.gz | ward detect net --model net.model - --output ecs\n  \
                            ward detect net --model net.model logs/ --store ward.db --alerts alerts.jsonl\n  \
                            ward detect net --model kdd.model KDDTest+.txt --scores scores.csv   # line,score,label per record"
    )]
    Net(DetectArgs),
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Model file from `ward train net`.
    #[arg(long, short, value_name = "FILE")]
    pub model: PathBuf,
    /// Input files or folders; `-` (the default) reads stdin.
    #[arg(value_name = "INPUT", default_value = "-")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Alert encoding.
    #[arg(long, value_enum, default_value_t = AlertFormat::Jsonl)]
    pub output: AlertFormat,
    /// Where alerts go (`-` is stdout).
    #[arg(long, default_value = "-", value_name = "FILE")]
    pub alerts: PathBuf,
    /// Also keep alerts in this SQLite store.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Write `line,score,label,category` for every input record to FILE (label 1 = attack).
    #[arg(long, value_name = "FILE")]
    pub scores: Option<PathBuf>,
    /// Only emit alerts with at least this score (0-100).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub min_score: u8,
    /// Raise one alert per detector, entity and headline per this many seconds of event time
    /// (0 keeps every alert).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub dedup: u64,
    /// Flows scored per batch.
    #[arg(long, default_value_t = 4096, value_name = "N", hide = true)]
    pub batch: usize,
}

pub fn detect(cmd: DetectCmd, cfg: &Config) -> Result<()> {
    let DetectCmd::Net(args) = cmd;
    let model = load_model(&args.model)?;
    let summary = run_detect(&model, &args, cfg)?;
    eprintln!(
        "{} flows scored, {} alerts ({} supervised, {} anomaly, {} device); {} repeats folded",
        summary.flows,
        summary.alerts,
        summary.by_detector[0],
        summary.by_detector[1],
        summary.by_detector[2],
        summary.suppressed
    );
    Ok(())
}

/// What a detection run did.
#[derive(Debug, Default)]
pub struct DetectSummary {
    pub flows: u64,
    pub alerts: u64,
    /// net.supervised, net.anomaly, net.device
    pub by_detector: [u64; 3],
    pub suppressed: u64,
    pub devices: usize,
}

/// Scores every input flow, writes alerts and scores, fills the store.
pub fn run_detect(model: &NetModel, args: &DetectArgs, cfg: &Config) -> Result<DetectSummary> {
    let opts = args.input.read_options(cfg);
    let mut alerts_out: Box<dyn Write> = if args.alerts.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(
            std::fs::File::create(&args.alerts)
                .with_context(|| format!("cannot create {}", args.alerts.display()))?,
        ))
    };
    let mut scores_out = match &args.scores {
        Some(p) => {
            let mut w = BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?,
            );
            writeln!(w, "line,score,label,category")?;
            Some(w)
        }
        None => None,
    };
    let mut store = match &args.store {
        Some(p) => Some(
            ward_store::SqliteStore::open(p)
                .with_context(|| format!("cannot open store {}", p.display()))?,
        ),
        None => None,
    };
    let batch_size = args.batch.max(1);
    let mut scorer = model.scorer();
    let mut profiler = model.devices.as_ref().and_then(|d| d.profiler());
    let mut dedup = ward_detect::dedup::Deduper::new(args.dedup, 100_000);
    let mut by_detector = [0u64; 3];
    let mut pending: Vec<ward_ingest::Record> = Vec::with_capacity(batch_size);
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(batch_size);
    let mut stored: Vec<Alert> = Vec::new();
    let mut n_alerts = 0u64;
    let mut n_flows = 0u64;
    let mut flush =
        |pending: &mut Vec<ward_ingest::Record>, verdicts: &mut Vec<Verdict>| -> Result<()> {
            let refs: Vec<&Flow> = pending.iter().map(|r| &r.flow).collect();
            scorer.score_batch(&refs, verdicts);
            for (i, (rec, v)) in pending.iter().zip(verdicts.iter()).enumerate() {
                n_flows += 1;
                if let Some(w) = scores_out.as_mut() {
                    let cat = v
                        .family
                        .and_then(|c| {
                            model
                                .families
                                .as_ref()
                                .and_then(|f| f.names.get(c as usize))
                        })
                        .map_or("", String::as_str);
                    writeln!(
                        w,
                        "{},{:.6},{},{}",
                        rec.id.line,
                        v.score,
                        u8::from(v.attack),
                        cat
                    )?;
                }
                let mut raised: Vec<Alert> = model
                    .alert(&rec.flow, &rec.id, v, scorer.context_row(i))
                    .into_iter()
                    .collect();
                if let Some(p) = profiler.as_mut() {
                    raised.extend(p.observe(&rec.flow, &rec.id));
                }
                for a in raised {
                    // records without an event time (NSL-KDD, UNSW) cannot be windowed: never folded
                    if a.score < args.min_score || (rec.flow.ts.is_some() && !dedup.admit(&a)) {
                        continue;
                    }
                    n_alerts += 1;
                    by_detector[match a.detector.as_str() {
                        "net.supervised" => 0,
                        "net.anomaly" => 1,
                        _ => 2,
                    }] += 1;
                    write_alert(&mut alerts_out, &a, args.output)?;
                    if store.is_some() {
                        stored.push(a);
                    }
                }
            }
            if let Some(s) = store.as_mut()
                && !stored.is_empty()
            {
                use ward_store::Store;
                s.insert_alerts(&stored).context("cannot store alerts")?;
                stored.clear();
            }
            pending.clear();
            Ok(())
        };
    let mut checked = false;
    let (_, summary) =
        inputs::for_each_flow(&args.inputs, &opts, args.input.strict, |schema, rec| {
            if !checked {
                model.check_schema(schema)?;
                checked = true;
            }
            pending.push(rec);
            if pending.len() >= batch_size {
                flush(&mut pending, &mut verdicts)?;
            }
            Ok(())
        })?;
    flush(&mut pending, &mut verdicts)?;
    alerts_out.flush()?;
    if let Some(mut w) = scores_out {
        w.flush()?;
    }
    summary.report();
    let mut devices = 0;
    if let (Some(s), Some(p)) = (store.as_mut(), profiler.as_ref()) {
        use ward_store::Store;
        let records: Vec<ward_store::DeviceRecord> = p
            .devices()
            .into_iter()
            .map(|d| serde_json::to_value(d).and_then(serde_json::from_value))
            .collect::<Result<_, _>>()
            .context("device record shapes differ between detect and store")?;
        devices = records.len();
        s.upsert_devices(&records)
            .context("cannot store the device inventory")?;
    }
    Ok(DetectSummary {
        flows: n_flows,
        alerts: n_alerts,
        by_detector,
        suppressed: dedup.suppressed(),
        devices,
    })
}

#[derive(Debug, Subcommand)]
pub enum ParseCmd {
    /// Print flows as ward events, one JSON object per line, with their source and line.
    #[command(
        after_help = "Examples:\n  ward parse net conn.log | head\n  ward parse net --count capture.pcapng"
    )]
    Net(ParseArgs),
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Input files or folders; `-` (the default) reads stdin.
    #[arg(value_name = "INPUT", default_value = "-")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Only count records; print nothing per record.
    #[arg(long)]
    pub count: bool,
}

pub fn parse(cmd: ParseCmd, cfg: &Config) -> Result<()> {
    let ParseCmd::Net(args) = cmd;
    let opts = args.input.read_options(cfg);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (schema, summary) = inputs::for_each_flow(
        &args.inputs,
        &opts,
        args.input.strict,
        |_, rec| {
            if !args.count {
                let v = serde_json::json!({ "source": rec.id.source, "line": rec.id.line, "event": ward_core::Event::Flow(rec.flow) });
                serde_json::to_writer(&mut out, &v)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        },
    )?;
    out.flush()?;
    summary.report();
    eprintln!(
        "{} records ({} format), {} bad, {} skipped",
        summary.records, schema.format, summary.bad, summary.skipped
    );
    Ok(())
}

pub use crate::eval::{BenchCmd, EvalCmd, bench, eval};
