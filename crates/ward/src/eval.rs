//! `ward eval net` (quality) and `ward bench net` (speed and memory).

use crate::config::Config;
use crate::inputs::{self, InputArgs};
use crate::net::ModelArgs;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use ward_core::{Flow, FlowSchema};
use ward_detect::net::{NetModel, NetTrainConfig, Verdict};
use ward_ml::metrics::{BinaryReport, MulticlassReport, roc_auc};

#[derive(Debug, Subcommand)]
pub enum EvalCmd {
    /// Measure the network detector on labelled flows.
    #[command(after_help = "Protocols:\n  \
        --kfold K        stratified K-fold cross-validation on the inputs (default, K=5)\n  \
        --test FILE      train on the inputs, test on FILE\n  \
        --novel K        hold out whole attack types: K groups of attack names, each group in turn\n                   \
                         absent from training and present in the test set with 20% of the rest\n\n\
        Gates: --min accuracy=0.85 --max false_alarm_rate=0.018 (exit status 2 when one fails).\n\
        Metric names: accuracy, precision, recall, f1, false_alarm_rate, roc_auc, pr_auc,\n\
        family_macro_f1, anomaly_roc_auc, anomaly_pr_auc, kitnet_roc_auc, iforest_roc_auc,\n\
        novel_recall, known_accuracy.\n\n\
        Examples:\n  ward eval net --kfold 5 unsw-nb15-dev.csv\n  \
        ward eval net --format nsl-kdd --novel 5 KDDTrain+_20Percent.txt --json\n  \
        ward eval net train.csv --test test.csv --min f1=0.98")]
    Net(EvalArgs),
    /// Measure EHR-snooping detection against a ground-truth file.
    Ehr(crate::ehr::EhrEvalArgs),
    /// Measure phishing detection: phishing and spam against ham, cross-validated.
    Phish(crate::phish::EvalArgs),
    /// Measure the URL model on labelled URLs (the URL string alone), cross-validated.
    #[command(name = "phish-url")]
    PhishUrl(crate::phish::UrlEvalArgs),
    /// Measure claims fraud detection against provider labels: the peer-outlier score and the
    /// learned provider model (cross-validated), ROC-AUC and the fraud class's F1.
    #[command(
        after_help = "Example:\n  ward sim claims --out claims/\n  ward eval fraud claims/ --min roc_auc=0.95 --min f1=0.8"
    )]
    Fraud(crate::fraud::EvalArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled input files or folders (the training data with --test).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Stratified K-fold cross-validation.
    #[arg(long, value_name = "K", conflicts_with_all = ["test", "novel"])]
    pub kfold: Option<usize>,
    /// Labelled test file(s): train on INPUT, test here.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub test: Vec<PathBuf>,
    /// Leave-attack-types-out: K groups of attack names.
    #[arg(long, value_name = "K", conflicts_with = "test")]
    pub novel: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 2) when METRIC is below VALUE. Repeatable.
    #[arg(long = "min", value_name = "METRIC=VALUE")]
    pub min: Vec<String>,
    /// Fail (exit 2) when METRIC is above VALUE. Repeatable.
    #[arg(long = "max", value_name = "METRIC=VALUE")]
    pub max: Vec<String>,
}

/// The figures of one evaluation.
#[derive(Debug, Serialize)]
pub struct EvalResult {
    pub protocol: String,
    pub format: String,
    pub rows_tested: usize,
    pub binary: BinaryReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub families: Option<MulticlassReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_roc_auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_pr_auc: Option<f64>,
    /// The KitNET member alone (benign-only training), when the model has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kitnet_roc_auc: Option<f64>,
    /// The Isolation Forest member alone, when the model has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iforest_roc_auc: Option<f64>,
    /// Recall on attack types absent from training (`--novel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub novel_recall: Option<f64>,
    /// Accuracy on the rows whose type was seen in training (`--novel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_accuracy: Option<f64>,
    pub train_seconds: f64,
    pub score_seconds: f64,
}

impl EvalResult {
    fn metric(&self, name: &str) -> Option<f64> {
        let b = &self.binary;
        Some(match name {
            "accuracy" => b.accuracy,
            "precision" => b.precision,
            "recall" => b.recall,
            "f1" => b.f1,
            "false_alarm_rate" | "far" => b.false_alarm_rate,
            "roc_auc" => b.roc_auc?,
            "pr_auc" => b.pr_auc?,
            "family_macro_f1" => self.families.as_ref()?.macro_f1,
            "anomaly_roc_auc" => self.anomaly_roc_auc?,
            "anomaly_pr_auc" => self.anomaly_pr_auc?,
            "kitnet_roc_auc" => self.kitnet_roc_auc?,
            "iforest_roc_auc" => self.iforest_roc_auc?,
            "novel_recall" => self.novel_recall?,
            "known_accuracy" => self.known_accuracy?,
            _ => return None,
        })
    }
}

/// Pooled predictions over all folds.
#[derive(Default)]
struct Pool {
    labels: Vec<u32>,
    scores: Vec<f32>,
    attack: Vec<u32>,
    anomaly: Vec<f32>,
    members: [Vec<f32>; 2],
    fam_true: Vec<String>,
    fam_pred: Vec<String>,
    novel: Vec<bool>,
    train_secs: f64,
    score_secs: f64,
}

impl Pool {
    fn add(&mut self, model: &NetModel, test: &[&Flow], novel: impl Fn(&Flow) -> bool) {
        let t = std::time::Instant::now();
        let mut scorer = model.scorer();
        let mut verdicts: Vec<Verdict> = Vec::with_capacity(test.len());
        let mut all = Vec::with_capacity(test.len());
        for chunk in test.chunks(4096) {
            scorer.score_batch(chunk, &mut verdicts);
            all.extend_from_slice(&verdicts);
        }
        self.score_secs += t.elapsed().as_secs_f64();
        for (f, v) in test.iter().zip(&all) {
            let Some(l) = &f.label else { continue };
            self.labels.push(u32::from(l.attack));
            self.scores.push(v.score);
            self.attack.push(u32::from(v.attack));
            self.anomaly
                .push(v.anomaly_raw.map_or(f32::NAN, |s| s as f32));
            for (m, s) in self.members.iter_mut().zip(v.anomaly_members) {
                m.push(s);
            }
            self.fam_true.push(if l.attack {
                l.category.clone()
            } else {
                "Normal".into()
            });
            let pred = v
                .family
                .and_then(|c| {
                    model
                        .families
                        .as_ref()
                        .and_then(|m| m.names.get(c as usize))
                })
                .cloned()
                .unwrap_or_else(|| {
                    if v.attack {
                        "attack".into()
                    } else {
                        "Normal".into()
                    }
                });
            self.fam_pred.push(pred);
            self.novel.push(novel(f));
        }
    }

    fn finish(self, protocol: String, format: String, with_novel: bool) -> Result<EvalResult> {
        // The fused decision is binary; report it at threshold 0.5 on a 0/1 "decision" score so the
        // counts are the fused decisions, and the AUCs from the continuous fused score.
        let decisions: Vec<f32> = self.attack.iter().map(|a| *a as f32).collect();
        let mut binary = BinaryReport::new(&self.labels, &decisions, 0.5)?;
        binary.roc_auc = roc_auc(&self.labels, &self.scores).ok();
        binary.pr_auc = ward_ml::metrics::average_precision(&self.labels, &self.scores).ok();
        binary.brier = ward_ml::metrics::brier_score(&self.labels, &self.scores).ok();
        let (anomaly_roc_auc, anomaly_pr_auc) = if self.anomaly.iter().all(|s| s.is_finite()) {
            (
                roc_auc(&self.labels, &self.anomaly).ok(),
                ward_ml::metrics::average_precision(&self.labels, &self.anomaly).ok(),
            )
        } else {
            (None, None)
        };
        let member_auc = |s: &[f32]| -> Option<f64> {
            if s.is_empty() || !s.iter().all(|v| v.is_finite()) {
                return None;
            }
            roc_auc(&self.labels, s).ok()
        };
        let kitnet_roc_auc = member_auc(&self.members[0]);
        let iforest_roc_auc = member_auc(&self.members[1]);
        let families = {
            let mut names: Vec<String> = self
                .fam_true
                .iter()
                .chain(&self.fam_pred)
                .cloned()
                .collect();
            names.sort();
            names.dedup();
            if let Some(p) = names.iter().position(|n| n == "Normal") {
                let n = names.remove(p);
                names.insert(0, n);
            }
            let idx: BTreeMap<&str, u32> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i as u32))
                .collect();
            let yt: Vec<u32> = self.fam_true.iter().map(|n| idx[n.as_str()]).collect();
            let yp: Vec<u32> = self.fam_pred.iter().map(|n| idx[n.as_str()]).collect();
            if names.len() > 2 {
                MulticlassReport::new(&yt, &yp, names.len(), Some(&names)).ok()
            } else {
                None
            }
        };
        let (novel_recall, known_accuracy) = if with_novel {
            let (mut nt, mut nd, mut kt, mut kc) = (0u64, 0u64, 0u64, 0u64);
            for i in 0..self.labels.len() {
                if self.novel[i] {
                    nt += 1;
                    nd += u64::from(self.attack[i] == 1);
                } else {
                    kt += 1;
                    kc += u64::from(self.attack[i] == self.labels[i]);
                }
            }
            (
                Some(nd as f64 / nt.max(1) as f64),
                Some(kc as f64 / kt.max(1) as f64),
            )
        } else {
            (None, None)
        };
        Ok(EvalResult {
            protocol,
            format,
            rows_tested: self.labels.len(),
            binary,
            families,
            anomaly_roc_auc,
            anomaly_pr_auc,
            kitnet_roc_auc,
            iforest_roc_auc,
            novel_recall,
            known_accuracy,
            train_seconds: self.train_secs,
            score_seconds: self.score_secs,
        })
    }
}

fn train_on(
    schema: &FlowSchema,
    flows: &[&Flow],
    cfg: &NetTrainConfig,
    pool: &mut Pool,
) -> Result<NetModel> {
    let t = std::time::Instant::now();
    let owned: Vec<Flow> = flows.iter().map(|f| (*f).clone()).collect();
    let pb = inputs::spinner(&format!("training on {} flows", owned.len()));
    let (model, _) = NetModel::train(schema, &owned, cfg)?;
    pb.finish_and_clear();
    pool.train_secs += t.elapsed().as_secs_f64();
    Ok(model)
}

pub fn eval(cmd: EvalCmd, cfg: &Config) -> Result<()> {
    let args = match cmd {
        EvalCmd::Net(a) => a,
        EvalCmd::Ehr(a) => return crate::ehr::eval(a, cfg),
        EvalCmd::Phish(a) => return crate::phish::eval(&a, cfg),
        EvalCmd::PhishUrl(a) => return crate::phish::eval_urls(&a, cfg),
        EvalCmd::Fraud(a) => return crate::fraud::eval(&a, cfg),
    };
    let tcfg = args.model.config(cfg)?;
    let opts = args.input.read_options(cfg);
    let (schema, flows, _, summary) = inputs::read_all(&args.inputs, &opts, args.input.strict)?;
    summary.report();
    let labelled: Vec<&Flow> = flows.iter().filter(|f| f.label.is_some()).collect();
    if labelled.len() < flows.len() {
        eprintln!(
            "note: {} of {} flows carry no label and are left out",
            flows.len() - labelled.len(),
            flows.len()
        );
    }
    if labelled.is_empty() {
        bail!("the input carries no labels: evaluation needs a labelled dataset");
    }
    if labelled
        .iter()
        .all(|f| f.label.as_ref().is_some_and(|l| l.attack))
        || labelled
            .iter()
            .all(|f| f.label.as_ref().is_some_and(|l| !l.attack))
    {
        eprintln!(
            "warning: every labelled flow is of one class (all benign or all attacks): no supervised model can be trained and precision, recall and F1 say little"
        );
    }
    let y: Vec<u32> = labelled
        .iter()
        .map(|f| u32::from(f.label.as_ref().is_some_and(|l| l.attack)))
        .collect();
    let mut pool = Pool::default();
    let protocol;
    let seed = tcfg.seed;
    if !args.test.is_empty() {
        let (tschema, tflows, _, tsum) = inputs::read_all(&args.test, &opts, args.input.strict)?;
        tsum.report();
        if tschema.format != schema.format || tschema.extra != schema.extra {
            bail!(
                "test data is {} but training data is {}",
                tschema.format,
                schema.format
            );
        }
        let model = train_on(&schema, &labelled, &tcfg, &mut pool)?;
        let test: Vec<&Flow> = tflows.iter().filter(|f| f.label.is_some()).collect();
        pool.add(&model, &test, |_| false);
        protocol = "train/test".to_owned();
    } else if let Some(k) = args.novel {
        if k < 2 {
            bail!("--novel needs at least 2 groups");
        }
        // Attack names (finest label available), grouped deterministically.
        let name_of = |f: &Flow| {
            f.label
                .as_ref()
                .filter(|l| l.attack)
                .map(|l| l.name.clone().unwrap_or_else(|| l.category.clone()))
        };
        let mut names: Vec<String> = labelled.iter().filter_map(|f| name_of(f)).collect();
        names.sort();
        names.dedup();
        if k > names.len() {
            bail!(
                "--novel {k} needs at least {k} attack types, the input has {}: use --novel {} or fewer",
                names.len(),
                names.len().max(2)
            );
        }
        let rng = fastrand_shuffle(names.len(), seed);
        let group_of: BTreeMap<String, usize> = rng
            .iter()
            .enumerate()
            .map(|(pos, &i)| (names[i].clone(), pos % k))
            .collect();
        for g in 0..k {
            let held: Vec<&str> = group_of
                .iter()
                .filter(|(_, gg)| **gg == g)
                .map(|(n, _)| n.as_str())
                .collect();
            let is_novel = |f: &Flow| name_of(f).is_some_and(|n| group_of.get(&n) == Some(&g));
            let rest: Vec<usize> = (0..labelled.len())
                .filter(|&i| !is_novel(labelled[i]))
                .collect();
            let rest_y: Vec<u32> = rest.iter().map(|&i| y[i]).collect();
            let (tr, te) =
                ward_ml::cv::stratified_split(&rest_y, 0.2, seed.wrapping_add(g as u64))?;
            let train: Vec<&Flow> = tr.iter().map(|&j| labelled[rest[j]]).collect();
            let mut test: Vec<&Flow> = te.iter().map(|&j| labelled[rest[j]]).collect();
            test.extend(labelled.iter().copied().filter(|f| is_novel(f)));
            eprintln!(
                "group {}/{k}: holding out {} ({} novel rows)",
                g + 1,
                held.join(", "),
                test.len() - te.len()
            );
            let model = train_on(&schema, &train, &tcfg, &mut pool)?;
            pool.add(&model, &test, is_novel);
        }
        protocol = format!("leave-attack-types-out, {k} groups");
    } else {
        let k = args.kfold.unwrap_or(5);
        if k < 2 {
            bail!("--kfold needs at least 2 folds");
        }
        let folds = ward_ml::cv::stratified_kfold(&y, k, seed)?;
        for (i, fold) in folds.iter().enumerate() {
            eprintln!("fold {}/{k}", i + 1);
            let train: Vec<&Flow> = fold.train.iter().map(|&j| labelled[j]).collect();
            let test: Vec<&Flow> = fold.test.iter().map(|&j| labelled[j]).collect();
            let model = train_on(&schema, &train, &tcfg, &mut pool)?;
            pool.add(&model, &test, |_| false);
        }
        protocol = format!("stratified {k}-fold");
    }
    let result = pool.finish(protocol, schema.format.clone(), args.novel.is_some())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_result(&result);
    }
    check_gates_with(|m| result.metric(m), &args.min, &args.max)
}

/// A seeded permutation of `0..n`.
fn fastrand_shuffle(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_0fa7_7ac4);
    rng.shuffle(&mut v);
    v
}

fn print_result(r: &EvalResult) {
    println!(
        "protocol: {} on {} ({} rows tested)",
        r.protocol, r.format, r.rows_tested
    );
    println!("{}", r.binary);
    if let Some(a) = r.anomaly_roc_auc {
        println!(
            "anomaly model alone: roc_auc {a:.4}, pr_auc {:.4}",
            r.anomaly_pr_auc.unwrap_or(f64::NAN)
        );
    }
    match (r.kitnet_roc_auc, r.iforest_roc_auc) {
        (Some(k), Some(i)) => {
            println!("  its members alone: KitNET roc_auc {k:.4}, Isolation Forest roc_auc {i:.4}")
        }
        (Some(k), None) => println!("  KitNET alone: roc_auc {k:.4}"),
        (None, Some(i)) => println!("  Isolation Forest alone: roc_auc {i:.4}"),
        (None, None) => {}
    }
    if let (Some(n), Some(k)) = (r.novel_recall, r.known_accuracy) {
        println!("novel attack types: recall {n:.4}; seen types and benign: accuracy {k:.4}");
    }
    if let Some(f) = &r.families {
        println!(
            "attack families: macro-F1 {:.4}, accuracy {:.4}",
            f.macro_f1, f.accuracy
        );
        println!(
            "  {:<16}{:>9}{:>11}{:>9}{:>9}",
            "family", "support", "precision", "recall", "f1"
        );
        for c in &f.classes {
            println!(
                "  {:<16}{:>9}{:>11.4}{:>9.4}{:>9.4}",
                c.name, c.support, c.precision, c.recall, c.f1
            );
        }
    }
    println!(
        "time: training {:.1} s, scoring {:.2} s",
        r.train_seconds, r.score_seconds
    );
}

/// Checks `--min`/`--max METRIC=VALUE` gates against `metric`; prints each and exits with
/// status 2 when one fails.
pub(crate) fn check_gates_with(
    metric: impl Fn(&str) -> Option<f64>,
    min: &[String],
    max: &[String],
) -> Result<()> {
    let mut failed = Vec::new();
    for (specs, is_min) in [(min, true), (max, false)] {
        for spec in specs {
            let Some((name, value)) = spec.split_once('=') else {
                bail!("gate {spec:?} is not METRIC=VALUE");
            };
            let Ok(want) = value.trim().parse::<f64>() else {
                bail!("gate {spec:?}: {value:?} is not a number");
            };
            let Some(got) = metric(name.trim()) else {
                bail!("gate {spec:?}: metric {name:?} is unknown or not measured by this protocol");
            };
            let ok = if is_min { got >= want } else { got <= want };
            eprintln!(
                "gate {} {} {want}: {got:.4} {}",
                name.trim(),
                if is_min { ">=" } else { "<=" },
                if ok { "ok" } else { "FAILED" }
            );
            if !ok {
                failed.push(name.trim().to_owned());
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("quality gates failed: {}", failed.join(", "));
        std::process::exit(2);
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Measure parsing, scoring and streaming speed, and memory per tracked host.
    Net(BenchArgs),
    /// Measure `ward serve`: event ingest through `POST /api/v1/events` with the detectors
    /// running, and alert-list query latency under concurrent clients (loopback, in-process).
    Serve(crate::pipeline::bench::BenchServeArgs),
    /// Measure EHR-snooping detection: load and join time, accesses per second through
    /// detection, and peak memory, on a folder in the input contract (`ward sim ehr` makes one).
    Ehr(crate::ehr::EhrBenchArgs),
    /// Measure automated response: alerts stored at a steady rate through a playbook with a
    /// webhook step to a loopback receiver: latency from stored alert to delivered webhook,
    /// sustained rate, loss.
    Respond(crate::respond_bench::RespondBenchArgs),
    /// Measure de-identification of free text: MB/s of note text through the rules alone and
    /// through rules plus a trained classifier, on one core, with peak memory.
    Deid(crate::deid::BenchArgs),
    /// Measure phishing detection: messages per second scored end to end (parse, signals,
    /// models) on one thread, by message size.
    Phish(crate::phish::BenchArgs),
    /// Measure the claim rules: claims per second on one thread over claims held in memory,
    /// and the parse rate.
    Fraud(crate::fraud::BenchArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Rows per measurement.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Instead of the synthetic suite: train the default supervised model on this labelled
    /// file and measure scoring its records (repeated up to --rows), for comparison with
    /// other tools on the same records.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
}

pub fn bench(cmd: BenchCmd, cfg: &Config) -> Result<()> {
    let args = match cmd {
        BenchCmd::Net(a) => a,
        BenchCmd::Serve(a) => return crate::pipeline::bench::run(&a, cfg),
        BenchCmd::Ehr(a) => return crate::ehr::bench(a, cfg),
        BenchCmd::Respond(a) => return crate::respond_bench::run(&a, cfg),
        BenchCmd::Deid(a) => return crate::deid::bench(&a),
        BenchCmd::Phish(a) => return crate::phish::bench(&a, cfg),
        BenchCmd::Fraud(a) => return crate::fraud::bench(&a, cfg),
    };
    match &args.input {
        Some(p) => {
            let opts = args.input_args.read_options(cfg);
            crate::bench::run_on_file(p, &opts, &cfg.net.train, args.rows, args.json)
        }
        None => crate::bench::run(&cfg.net.train, args.rows, args.json),
    }
}
