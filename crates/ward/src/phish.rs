//! `ward phish scan`, `ward train phish` and `ward eval phish`: phishing detection over mail
//! files, folders (Maildir included), mbox files and `nazario`-layout CSVs.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_phish::combiner::Context as MailContext;
use ward_phish::model::{Example, TrainOptions};
use ward_phish::{Limits, Mail, Org, PhishModel, Scored, Thresholds, Unparseable, Verdict};

#[derive(Debug, Subcommand)]
pub enum PhishCmd {
    /// Score messages: one JSON line per message with its source, score (0-100), verdict
    /// (clean, suspicious, phishing, unparseable) and reasons, strongest first.
    #[command(
        after_help = "Inputs: .eml files, folders (Maildir and any tree of message files), mbox files,\n\
        and CSV files in the nazario layout (sender, receiver, date, subject, body, urls).\n\n\
        Examples:\n  ward phish scan suspicious.eml\n  \
        ward phish scan ~/Maildir --model phish.model --out verdicts.jsonl\n  \
        ward phish scan export.csv --model phish.model"
    )]
    Scan(ScanArgs),
    /// Score URLs from their string alone (no page is fetched): one JSON line per URL with
    /// its score, verdict and reasons.
    #[command(
        after_help = "Input: a text file with one URL per line, or a CSV with a url column.\n\n\
        Examples:\n  ward phish url links.txt --model phish.model\n  \
        ward phish url urls.csv --model phish.model --out scored.jsonl"
    )]
    Url(UrlArgs),
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// A file of URLs.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// A model from `ward train phish --urls ...` (without a URL model, the rule signals
    /// alone score).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Where to write the JSON lines (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Gates: --min accuracy=0.96 (exit status 2 when one fails).\n\
    Metric names: accuracy, precision, recall, char_accuracy.\n\n\
    Example:\n  ward eval phish-url --urls urls-dev.csv --cv 5"
)]
pub struct UrlEvalArgs {
    /// Labelled URLs: a CSV with `url` and `status` (phishing/legitimate) or `label` (1/0).
    #[arg(long, value_name = "FILE")]
    pub urls: PathBuf,
    #[command(flatten)]
    pub run: EvalRun,
    /// Write the misjudged URLs (label, probability, URL) to this file.
    #[arg(long, value_name = "FILE")]
    pub misses: Option<PathBuf>,
}

/// How an evaluation runs and reports: the folds, the gates, the format.
#[derive(Debug, Args)]
pub struct EvalRun {
    /// Folds of the cross-validation (stratified by class, seeded).
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub cv: usize,
    /// Fail (exit status 2) when a metric is below this (`name=value`, repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub min: Vec<String>,
    /// Fail (exit status 2) when a metric is above this (`name=value`, repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub max: Vec<String>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Message files, folders, mbox or CSV files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// A model from `ward train phish` (without one, the rule signals alone score).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Where to write the JSON lines (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Labelled corpora, shared by training and evaluation.
#[derive(Debug, Args)]
pub struct Corpora {
    /// Phishing messages (files, folders, mbox or nazario CSV).
    #[arg(long, value_name = "INPUT", required = true)]
    pub phish: Vec<PathBuf>,
    /// Legitimate messages.
    #[arg(long, value_name = "INPUT", required = true)]
    pub ham: Vec<PathBuf>,
    /// Spam (unwanted but not phishing): taught as its own class, so that marketing mail is
    /// not taken for phishing.
    #[arg(long, value_name = "INPUT")]
    pub spam: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  ward bench phish spamassassin/ --model phish.model --messages 20000"
)]
pub struct BenchArgs {
    /// Message files, folders or mbox files to score (read into memory first).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// A model from `ward train phish` (without one, the rules alone).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Messages scored per size band (the inputs are cycled).
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub corpora: Corpora,
    /// Labelled URLs to train the URL model on (a CSV with `url` and `status` or `label`).
    #[arg(long, value_name = "FILE")]
    pub urls: Option<PathBuf>,
    /// Where to write the model.
    #[arg(long, short, default_value = "ward-phish.model", value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Gates: --min phishing_recall=0.95 --max ham_fpr=0.005 (exit status 2 when one fails).\n\
    Metric names: phishing_recall, spam_as_phishing, ham_fpr, phishing_recall_at_half_percent, brier,\n\
    spam_caught, ham_as_spam, ham_suspicious.\n\n\
    Example:\n  ward eval phish --phish nazario-dev.csv --ham spamassassin/easy-ham-1 \\\n    \
    --spam spamassassin/spam-1 --cv 5"
)]
pub struct EvalArgs {
    #[command(flatten)]
    pub corpora: Corpora,
    /// Labelled URLs: train a URL model on them and let it judge the messages' links.
    #[arg(long, value_name = "FILE")]
    pub urls: Option<PathBuf>,
    #[command(flatten)]
    pub run: EvalRun,
}

pub fn run(cmd: PhishCmd, cfg: &Config) -> Result<()> {
    match cmd {
        PhishCmd::Scan(a) => scan(&a, cfg),
        PhishCmd::Url(a) => score_urls(&a, cfg),
    }
}

/// One message read from an input: where it came from and the message or why not.
struct Item {
    source: String,
    mail: Result<Mail, Unparseable>,
}

/// The files of the inputs: files as given, folders walked recursively in name order
/// (hidden entries skipped).
fn files(paths: &[PathBuf], out: &mut Vec<PathBuf>) -> Result<()> {
    for path in paths {
        let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        entries.sort();
        files(&entries, out)?;
    }
    Ok(())
}

/// Where JSON lines go: the file named, or standard output.
fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Reads every message of one file (a CSV's rows, an mbox's messages, or one message).
fn read_file(path: &Path, limits: &Limits, out: &mut Vec<Item>) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    let name = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let f = std::fs::File::open(path).with_context(|| name.clone())?;
        let rows = ward_phish::corpus::read_nazario(std::io::BufReader::new(f), &name, limits)?;
        out.extend(rows.into_iter().map(|r| Item {
            source: format!("{name}:row {}", r.row),
            mail: Ok(r.mail),
        }));
        return Ok(());
    }
    if meta.len() > limits.max_bytes as u64 * 16 {
        // a file larger than any mbox we read whole: one verdict for it
        out.push(Item {
            source: name,
            mail: Err(Unparseable::TooLarge {
                size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
                limit: limits.max_bytes * 16,
            }),
        });
        return Ok(());
    }
    let data = std::fs::read(path).with_context(|| name.clone())?;
    let msgs = ward_phish::corpus::messages(&data);
    let many = msgs.len() > 1;
    if msgs.is_empty() {
        out.push(Item {
            source: name,
            mail: Err(Unparseable::Empty),
        });
        return Ok(());
    }
    for (i, m) in msgs.iter().enumerate() {
        out.push(Item {
            source: if many {
                format!("{name}#{}", i + 1)
            } else {
                name.clone()
            },
            mail: Mail::parse(m, limits),
        });
    }
    Ok(())
}

fn read_all(paths: &[PathBuf], limits: &Limits) -> Result<Vec<Item>> {
    let mut all = Vec::new();
    files(paths, &mut all)?;
    let mut out = Vec::new();
    for p in &all {
        read_file(p, limits, &mut out)?;
    }
    Ok(out)
}

fn load_model(path: &Path) -> Result<PhishModel> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    PhishModel::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

/// One line of `ward phish scan`'s output.
#[derive(serde::Serialize)]
struct ScanLine<'a> {
    source: &'a str,
    #[serde(flatten)]
    scored: &'a Scored,
}

fn scan(a: &ScanArgs, cfg: &Config) -> Result<()> {
    let limits = cfg.phish.limits.clone();
    let org = cfg.phish.org();
    let model = a.model.as_deref().map(load_model).transpose()?;
    let items = read_all(&a.inputs, &limits)?;
    let mut out = output(a.out.as_deref())?;
    let mut counts = [0usize; 4];
    for it in &items {
        let scored = match &it.mail {
            Ok(m) => ward_phish::score(m, &org, model.as_ref()),
            Err(e) => Scored::unparseable(e),
        };
        let k = match scored.verdict {
            Verdict::Clean => 0,
            Verdict::Suspicious => 1,
            Verdict::Phishing => 2,
            Verdict::Unparseable => 3,
        };
        if let Some(c) = counts.get_mut(k) {
            *c += 1;
        }
        let line = serde_json::to_string(&ScanLine {
            source: &it.source,
            scored: &scored,
        })?;
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    eprintln!(
        "{} messages: {} clean, {} suspicious, {} phishing, {} unparseable",
        items.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    Ok(())
}

/// The labelled messages of the corpora: (mail, class index). Unparseable messages are
/// counted and left out.
fn labelled(c: &Corpora, limits: &Limits) -> Result<Vec<(Mail, usize)>> {
    let mut out = Vec::new();
    for (paths, class, what) in [
        (&c.ham, 0, "ham"),
        (&c.spam, 1, "spam"),
        (&c.phish, 2, "phishing"),
    ] {
        let items = read_all(paths, limits)?;
        let mut bad = 0;
        let n = items.len();
        for it in items {
            match it.mail {
                Ok(m) => out.push((m, class)),
                Err(_) => bad += 1,
            }
        }
        eprintln!(
            "{what}: {} messages read{}",
            n - bad,
            if bad > 0 {
                format!(", {bad} unparseable left out")
            } else {
                String::new()
            }
        );
    }
    Ok(out)
}

/// The text model's examples and the combiner's contexts of labelled messages (the contexts
/// with the URL model, when there is one).
fn examples(
    data: &[(Mail, usize)],
    org: &Org,
    urls: Option<&ward_phish::urlmodel::UrlModel>,
) -> (Vec<Example>, Vec<MailContext>) {
    data.iter()
        .map(|(m, c)| {
            let sigs = ward_phish::signals::signals(m, org);
            (
                Example {
                    features: ward_phish::text::feature_ids(m, &sigs),
                    class: *c,
                },
                ward_phish::combiner::context(m, &sigs, urls),
            )
        })
        .unzip()
}

pub fn train(a: &TrainArgs, cfg: &Config) -> Result<()> {
    let limits = cfg.phish.limits.clone();
    let org = cfg.phish.org();
    let data = labelled(&a.corpora, &limits)?;
    let t = std::time::Instant::now();
    let urls = a.urls.as_deref().map(|u| url_model(u, &org)).transpose()?;
    let (ex, ctx) = examples(&data, &org, urls.as_ref());
    let model = ward_phish::train(
        &ex,
        &ctx,
        urls,
        &TrainOptions::default(),
        Thresholds::default(),
    )?;
    let rows = model.text.len();
    let bytes = model.to_bytes()?;
    crate::output::write_atomic(&a.out, &bytes)?;
    eprintln!(
        "trained on {} messages in {:.1} s: {rows} weight rows, written to {}",
        ex.len(),
        t.elapsed().as_secs_f64(),
        a.out.display()
    );
    match &model.combiner {
        Some(c) => {
            let w: Vec<String> = ward_phish::combiner::INPUTS
                .iter()
                .zip(c.weights())
                .map(|(n, w)| format!("{n} {w:+.2}"))
                .collect();
            let dropped: Vec<&str> = c.dropped().collect();
            let dropped = if dropped.is_empty() {
                String::new()
            } else {
                format!(
                    " (left out, commoner in the training ham than in phishing: {})",
                    dropped.join(", ")
                )
            };
            eprintln!(
                "combiner weights (per standard deviation): {}{dropped}; phishing threshold {:.3}",
                w.join(", "),
                model.thresholds.phishing
            );
        }
        None => eprintln!("no combiner: the training data had too few messages of a class"),
    }
    Ok(())
}

pub fn eval(a: &EvalArgs, cfg: &Config) -> Result<()> {
    if a.run.cv < 2 {
        bail!("--cv needs at least 2 folds");
    }
    let limits = cfg.phish.limits.clone();
    let org = cfg.phish.org();
    let data = labelled(&a.corpora, &limits)?;
    let urls = a.urls.as_deref().map(|u| url_model(u, &org)).transpose()?;
    let (ex, ctx) = examples(&data, &org, urls.as_ref());
    let classes: Vec<usize> = ex.iter().map(|e| e.class).collect();
    let fold = stratified_folds(&classes, a.run.cv);
    let mut prob = vec![0f32; ex.len()];
    let mut spam_prob = vec![0f32; ex.len()];
    let mut verdict = vec![Verdict::Clean; ex.len()];
    // the phishing threshold each fold's training chose
    let mut cuts = Vec::with_capacity(a.run.cv);
    for k in 0..a.run.cv {
        let (train, train_ctx): (Vec<Example>, Vec<MailContext>) = ex
            .iter()
            .zip(&ctx)
            .zip(&fold)
            .filter(|(_, f)| **f != k)
            .map(|((e, c), _)| (e.clone(), *c))
            .unzip();
        let model = ward_phish::train(
            &train,
            &train_ctx,
            urls.clone(),
            &TrainOptions::default(),
            Thresholds::default(),
        )?;
        cuts.push(model.thresholds.phishing);
        for (i, ((m, _), f)) in data.iter().zip(&fold).enumerate() {
            if *f != k {
                continue;
            }
            let s = ward_phish::score(m, &org, Some(&model));
            if let Some(p) = prob.get_mut(i) {
                *p = s.probability.unwrap_or(0.0);
            }
            if let Some(p) = spam_prob.get_mut(i) {
                *p = s.spam.unwrap_or(0.0);
            }
            if let Some(v) = verdict.get_mut(i) {
                *v = s.verdict;
            }
        }
        eprintln!(
            "fold {}/{}: trained on {} messages",
            k + 1,
            a.run.cv,
            train.len()
        );
    }
    let of = |class: usize| -> Vec<usize> {
        (0..ex.len())
            .filter(|&i| ex.get(i).is_some_and(|e| e.class == class))
            .collect()
    };
    let (ham, spam, phish) = (of(0), of(1), of(2));
    let rate = |idx: &[usize], pred: &dyn Fn(usize) -> bool| {
        idx.iter().filter(|&&i| pred(i)).count() as f64 / idx.len().max(1) as f64
    };
    let flagged = |i: usize| verdict.get(i) == Some(&Verdict::Phishing);
    let phishing_recall = rate(&phish, &flagged);
    let spam_as_phishing = rate(&spam, &flagged);
    let ham_fpr = rate(&ham, &flagged);
    // ham a gateway would hold for review (suspicious or phishing)
    let held = |i: usize| verdict.get(i).is_some_and(|v| *v != Verdict::Clean);
    let ham_suspicious = rate(&ham, &held);
    // the threshold that flags at most 0.5% of ham, and the phishing caught there
    let mut hp: Vec<f32> = ham.iter().filter_map(|&i| prob.get(i).copied()).collect();
    hp.sort_by(|a, b| b.total_cmp(a));
    let allowed = (hp.len() as f64 * 0.005).floor() as usize;
    let cut = hp.get(allowed).copied().unwrap_or(0.0);
    let at_half = rate(&phish, &|i| prob.get(i).is_some_and(|&p| p > cut));
    // how well the probabilities are calibrated: the Brier score of phishing against the rest
    let is_phish: Vec<u32> = ex.iter().map(|e| u32::from(e.class == 2)).collect();
    let brier = ward_ml::metrics::brier_score(&is_phish, &prob).unwrap_or(f64::NAN);
    // spam as its own task: a message is taken for spam when the text model gives spam 0.5
    let as_spam = |i: usize| spam_prob.get(i).is_some_and(|&p| p >= 0.5);
    let spam_as_spam = rate(&spam, &as_spam);
    let ham_as_spam = rate(&ham, &as_spam);
    let figures = [
        ("phishing_recall", phishing_recall),
        ("spam_caught", spam_as_spam),
        ("ham_as_spam", ham_as_spam),
        ("spam_as_phishing", spam_as_phishing),
        ("ham_fpr", ham_fpr),
        ("ham_suspicious", ham_suspicious),
        ("phishing_recall_at_half_percent", at_half),
        ("brier", brier),
    ];
    if a.run.json {
        let obj: serde_json::Map<String, serde_json::Value> = figures
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        println!("{}", serde_json::Value::Object(obj));
    } else {
        println!(
            "{} messages ({} ham, {} spam, {} phishing), {}-fold cross-validation",
            ex.len(),
            ham.len(),
            spam.len(),
            phish.len(),
            a.run.cv
        );
        let lo = cuts.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = cuts.iter().copied().fold(0.0f32, f32::max);
        println!(
            "  verdict phishing (thresholds {lo:.3}-{hi:.3} set in training, rules can raise a verdict):"
        );
        println!(
            "    phishing caught   {:.4} ({} of {})",
            phishing_recall,
            phish.iter().filter(|&&i| flagged(i)).count(),
            phish.len()
        );
        println!(
            "    spam flagged      {:.4} ({} of {})",
            spam_as_phishing,
            spam.iter().filter(|&&i| flagged(i)).count(),
            spam.len()
        );
        println!(
            "    ham flagged       {:.4} ({} of {})",
            ham_fpr,
            ham.iter().filter(|&&i| flagged(i)).count(),
            ham.len()
        );
        println!(
            "    ham held (suspicious or phishing) {:.4} ({} of {})",
            ham_suspicious,
            ham.iter().filter(|&&i| held(i)).count(),
            ham.len()
        );
        println!(
            "  at the model threshold {cut:.3} that flags at most 0.5% of ham: phishing caught {at_half:.4}"
        );
        println!("  spam (probability of spam 0.5 or more):");
        println!(
            "    spam caught       {spam_as_spam:.4} ({} of {})",
            spam.iter().filter(|&&i| as_spam(i)).count(),
            spam.len()
        );
        println!(
            "    ham taken for it  {ham_as_spam:.4} ({} of {})",
            ham.iter().filter(|&&i| as_spam(i)).count(),
            ham.len()
        );
        println!(
            "  Brier score of the calibrated probability of phishing: {brier:.4} (0 is perfect)"
        );
    }
    gates(&figures, &a.run.min, &a.run.max)
}

/// The fold of each item for a `k`-fold cross-validation stratified by class: each class's
/// items shuffled (seeded, so every run gives the same folds) and dealt round-robin.
fn stratified_folds(classes: &[usize], k: usize) -> Vec<usize> {
    let mut fold = vec![0usize; classes.len()];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut distinct: Vec<usize> = classes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    for class in distinct {
        let mut idx: Vec<usize> = (0..classes.len())
            .filter(|&i| classes.get(i) == Some(&class))
            .collect();
        for i in (1..idx.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            idx.swap(i, (x % (i as u64 + 1)) as usize);
        }
        for (n, i) in idx.into_iter().enumerate() {
            if let Some(f) = fold.get_mut(i) {
                *f = n % k.max(1);
            }
        }
    }
    fold
}

/// Checks `name=value` gates; exit status 2 when one fails.
pub(crate) fn gates(figures: &[(&str, f64)], min: &[String], max: &[String]) -> Result<()> {
    let mut failed = Vec::new();
    for (list, is_min) in [(min, true), (max, false)] {
        for g in list {
            let Some((name, v)) = g.split_once('=') else {
                bail!("gate {g:?} is not name=value");
            };
            let want: f64 = v
                .parse()
                .with_context(|| format!("gate {g:?}: not a number"))?;
            let Some((_, got)) = figures.iter().find(|(n, _)| *n == name) else {
                bail!(
                    "unknown metric {name:?} (known: {})",
                    figures
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            if (is_min && *got < want) || (!is_min && *got > want) {
                failed.push(format!(
                    "{name} = {got:.4} ({} {want})",
                    if is_min { "min" } else { "max" }
                ));
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    for f in &failed {
        eprintln!("gate failed: {f}");
    }
    std::process::exit(2);
}

/// Labelled URLs of a file (every row must carry a label).
fn labelled_urls(path: &Path) -> Result<Vec<(String, bool)>> {
    let data = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let rows = ward_phish::corpus::read_urls(&data, &path.display().to_string())?;
    rows.into_iter()
        .map(|r| match r.phishing {
            Some(p) => Ok((r.url, p)),
            None => bail!(
                "{}: row {}: no label (status or label column)",
                path.display(),
                r.row
            ),
        })
        .collect()
}

/// Trains the URL model on a labelled URL file.
fn url_model(path: &Path, org: &Org) -> Result<ward_phish::urlmodel::UrlModel> {
    let urls = labelled_urls(path)?;
    let t = std::time::Instant::now();
    let m = ward_phish::urlmodel::UrlModel::train(&urls, &org.brands)?;
    eprintln!(
        "URL model: trained on {} URLs in {:.1} s",
        urls.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(m)
}

fn score_urls(a: &UrlArgs, cfg: &Config) -> Result<()> {
    let model = a.model.as_deref().map(load_model).transpose()?;
    let um = model.as_ref().and_then(|m| m.urls.as_ref());
    if model.is_some() && um.is_none() {
        eprintln!(
            "note: the model has no URL model (train it with --urls); the rule signals alone score"
        );
    }
    let data = std::fs::read(&a.input).with_context(|| format!("{}", a.input.display()))?;
    let rows = ward_phish::corpus::read_urls(&data, &a.input.display().to_string())?;
    let org = cfg.phish.org();
    let mut known = ward_phish::url::Known::list(&org.domains);
    known.extend(ward_phish::url::Known::list(&org.brands));
    let mut out = output(a.out.as_deref())?;
    let th = Thresholds::default();
    let mut counts = [0usize; 3];
    for r in &rows {
        let sigs = ward_phish::url::parse(&r.url)
            .map(|p| ward_phish::signals::url_signals(&p, &known))
            .unwrap_or_default();
        let p = match um {
            Some(m) => m.probability(&r.url),
            None => ward_phish::combine(&sigs),
        };
        let verdict = th.verdict(p);
        if let Some(c) = counts.get_mut(match verdict {
            Verdict::Clean => 0,
            Verdict::Suspicious => 1,
            _ => 2,
        }) {
            *c += 1;
        }
        let line = serde_json::json!({
            "row": r.row,
            "url": r.url,
            "score": (p.clamp(0.0, 1.0) * 100.0).round() as u8,
            "verdict": verdict,
            "reasons": sigs,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    eprintln!(
        "{} URLs: {} clean, {} suspicious, {} phishing",
        rows.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    Ok(())
}

pub fn eval_urls(a: &UrlEvalArgs, cfg: &Config) -> Result<()> {
    if a.run.cv < 2 {
        bail!("--cv needs at least 2 folds");
    }
    let urls = labelled_urls(&a.urls)?;
    let brands = cfg.phish.brands.clone();
    let classes: Vec<usize> = urls.iter().map(|u| usize::from(u.1)).collect();
    let fold = stratified_folds(&classes, a.run.cv);
    let mut p = vec![0f32; urls.len()];
    let mut pc = vec![0f32; urls.len()];
    let t = std::time::Instant::now();
    for k in 0..a.run.cv {
        let train: Vec<(String, bool)> = urls
            .iter()
            .zip(&fold)
            .filter(|(_, f)| **f != k)
            .map(|(u, _)| u.clone())
            .collect();
        let m = ward_phish::urlmodel::UrlModel::train(&train, &brands)?;
        for (i, (u, f)) in urls.iter().zip(&fold).enumerate() {
            if *f == k {
                if let Some(v) = p.get_mut(i) {
                    *v = m.probability(&u.0);
                }
                if let Some(v) = pc.get_mut(i) {
                    *v = m.char_probability(&u.0);
                }
            }
        }
        eprintln!(
            "fold {}/{}: trained on {} URLs",
            k + 1,
            a.run.cv,
            train.len()
        );
    }
    if let Some(path) = &a.misses {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}", path.display()))?,
        );
        for ((u, y), q) in urls.iter().zip(&p) {
            if (*q >= 0.5) != *y {
                writeln!(
                    w,
                    "{}\t{q:.3}\t{u}",
                    if *y { "phishing" } else { "legitimate" }
                )?;
            }
        }
        w.flush()?;
    }
    let n = urls.len().max(1) as f64;
    let acc = |ps: &[f32]| {
        urls.iter()
            .zip(ps)
            .filter(|((_, y), q)| (**q >= 0.5) == *y)
            .count() as f64
            / n
    };
    let tp = urls
        .iter()
        .zip(&p)
        .filter(|((_, y), q)| *y && **q >= 0.5)
        .count() as f64;
    let fp = urls
        .iter()
        .zip(&p)
        .filter(|((_, y), q)| !*y && **q >= 0.5)
        .count() as f64;
    let pos = urls.iter().filter(|(_, y)| *y).count() as f64;
    let figures = [
        ("accuracy", acc(&p)),
        ("precision", tp / (tp + fp).max(1.0)),
        ("recall", tp / pos.max(1.0)),
        ("char_accuracy", acc(&pc)),
    ];
    if a.run.json {
        let obj: serde_json::Map<String, serde_json::Value> = figures
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        println!("{}", serde_json::Value::Object(obj));
    } else {
        println!(
            "{} URLs ({} phishing), {}-fold cross-validation, {:.1} s",
            urls.len(),
            pos,
            a.run.cv,
            t.elapsed().as_secs_f64()
        );
        for (k, v) in &figures {
            println!("  {k:<14} {v:.4}");
        }
        println!("  (char_accuracy: the character n-gram model alone, the usual baseline)");
    }
    gates(&figures, &a.run.min, &a.run.max)
}

/// Raw messages of the inputs (mbox files split), in memory.
fn raw_messages(paths: &[PathBuf], out: &mut Vec<Vec<u8>>) -> Result<()> {
    let mut all = Vec::new();
    files(paths, &mut all)?;
    for p in all {
        let data = std::fs::read(&p).with_context(|| format!("{}", p.display()))?;
        out.extend(
            ward_phish::corpus::messages(&data)
                .into_iter()
                .map(<[u8]>::to_vec),
        );
    }
    Ok(())
}

pub fn bench(a: &BenchArgs, cfg: &Config) -> Result<()> {
    let model = a.model.as_deref().map(load_model).transpose()?;
    let mut raws = Vec::new();
    raw_messages(&a.inputs, &mut raws)?;
    if raws.is_empty() {
        bail!("no messages in the inputs");
    }
    let limits = cfg.phish.limits.clone();
    let org = cfg.phish.org();
    let bands: [(&str, usize, usize); 4] = [
        ("all", 0, usize::MAX),
        ("under 10 KB", 0, 10 << 10),
        ("10-50 KB", 10 << 10, 50 << 10),
        ("over 50 KB", 50 << 10, usize::MAX),
    ];
    let mut results = Vec::new();
    for (name, lo, hi) in bands {
        let set: Vec<&Vec<u8>> = raws
            .iter()
            .filter(|r| r.len() >= lo && r.len() < hi)
            .collect();
        if set.is_empty() {
            continue;
        }
        let t = std::time::Instant::now();
        let mut bytes = 0usize;
        let mut phishing = 0usize;
        for raw in set.iter().cycle().take(a.messages) {
            bytes += raw.len();
            let s = match Mail::parse(raw, &limits) {
                Ok(m) => ward_phish::score(&m, &org, model.as_ref()),
                Err(e) => Scored::unparseable(&e),
            };
            phishing += usize::from(s.verdict == Verdict::Phishing);
        }
        let secs = t.elapsed().as_secs_f64().max(1e-9);
        let n = a.messages;
        results.push(serde_json::json!({
            "band": name,
            "distinct": set.len(),
            "messages": n,
            "mean_kb": bytes as f64 / n as f64 / 1024.0,
            "messages_per_s": n as f64 / secs,
            "mb_per_s": bytes as f64 / secs / 1e6,
            "phishing": phishing,
        }));
    }
    if a.json {
        println!("{}", serde_json::Value::Array(results));
        return Ok(());
    }
    println!(
        "{} messages read; scored end to end (parse, signals{}), one thread:",
        raws.len(),
        if model.is_some() {
            ", text and URL models"
        } else {
            ""
        }
    );
    for r in &results {
        println!(
            "  {:<12} {:>6} distinct, mean {:>5.1} KB: {:>8.0} messages/s ({:.1} MB/s)",
            r["band"].as_str().unwrap_or_default(),
            r["distinct"],
            r["mean_kb"].as_f64().unwrap_or(0.0),
            r["messages_per_s"].as_f64().unwrap_or(0.0),
            r["mb_per_s"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// The phishing detector behind `POST /api/v1/mail/score`.
struct Scorer {
    model: PhishModel,
    org: Org,
    limits: Limits,
}

impl ward_server::MailScorer for Scorer {
    fn score(&self, raw: &[u8]) -> serde_json::Value {
        let scored = match Mail::parse(raw, &self.limits) {
            Ok(m) => ward_phish::score(&m, &self.org, Some(&self.model)),
            Err(e) => Scored::unparseable(&e),
        };
        serde_json::to_value(&scored).unwrap_or(serde_json::Value::Null)
    }
}

/// Loads a model for `ward serve --phish-model`.
pub fn scorer(path: &Path, cfg: &Config) -> Result<std::sync::Arc<dyn ward_server::MailScorer>> {
    Ok(std::sync::Arc::new(Scorer {
        model: load_model(path)?,
        org: cfg.phish.org(),
        limits: cfg.phish.limits.clone(),
    }))
}
