//! `ward deid ...`: de-identification (issue 6, in progress). For now the scorer: found spans
//! against the PhysioNet gold standard, with the PhysioNet convention.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// `ward deid ...`.
#[derive(Debug, Subcommand)]
pub enum DeidCmd {
    /// Score found PHI spans against PhysioNet gold spans: span recall and precision (a gold
    /// span counts as found when any found span overlaps it), per category.
    #[command(
        after_help = "Examples:\n  ward deid eval --text dev.text --gold dev.phi.phrase --found spans.txt --misses misses.txt\n  \
                      ward deid eval --text dev.text --gold dev.phi.phrase --cv 5 --min recall=0.8\n  \
                      ward deid eval --gold synth_dataset_v2.json --model notes.model   # Presidio format"
    )]
    Eval(EvalArgs),
    /// Find PHI in PhysioNet-format notes and write the spans as `patient note start end
    /// category` lines (character offsets into each note body), for `ward deid eval` or any
    /// outside scorer. (Replacement comes with the rest of issue 6.)
    #[command(
        after_help = "Example:\n  ward deid text dev.text --spans spans.txt\n  ward deid eval --text dev.text --gold dev.phi.phrase --found spans.txt"
    )]
    Text(TextArgs),
    /// Create a de-identification key (32 random bytes, file mode 0600). The key makes
    /// surrogates and date shifts consistent across runs and formats; it never goes into any
    /// output, and whoever holds it can test guesses, so keep it apart from the data.
    #[command(after_help = "Example:\n  ward deid keygen --out site.key")]
    Keygen(crate::deid_out::KeygenArgs),
    /// De-identify notes: find PHI and replace it with tags (`[NAME]`, `[DATE]`...), masks
    /// (`*****`) or consistent surrogates (realistic names, places and numbers; dates moved by
    /// a per-patient offset of 1 to 365 days earlier; ages over 89 as `90+`). Plain notes
    /// are one per file (the patient is --patient or the file's stem); PhysioNet `*.text`
    /// files are written back as records, each record's patient selecting its date shift.
    /// Output and manifest are written atomically; a failed run leaves no output.
    #[command(
        after_help = "Examples:\n  ward deid keygen --out site.key\n  ward deid note visit.txt --out visit.deid.txt --mode surrogate --key site.key --patient 12345\n  ward deid note notes/*.txt --out deid/ --mode tags\n  ward deid note dev.text --format physionet --out dev.deid.text --mode surrogate --key site.key"
    )]
    Note(crate::deid_out::NoteArgs),
    /// De-identify a CSV/TSV table under a column policy (keep, drop, hash, pseudonym,
    /// date_shift, generalise, zip3, age, text). Columns the policy does not name are
    /// dropped unless it says `default = "keep"`. Streamed; errors name line and column.
    #[command(
        after_help = "Example:\n  ward deid table patients.csv --policy docs/examples/deid-table-policy.toml --key site.key --out patients.deid.csv\n  (writes patients.deid.csv.manifest.json too)"
    )]
    Table(crate::deid_out::TableArgs),
    /// De-identify HL7 v2 messages in place: PHI fields (PID, NK1, PV1, GT1, IN1, OBR, ORC,
    /// OBX, NTE...) replaced, every other byte kept; dates shift by PID-3's patient. A TOML
    /// policy maps `SEG-N[.C]` to actions over the built-in rules.
    #[command(
        after_help = "Example:\n  ward deid hl7 adt.hl7 --key site.key --out adt.deid.hl7 [--policy docs/examples/deid-hl7-policy.toml] [--on-error skip]"
    )]
    Hl7(crate::deid_msg::Hl7Args),
    /// De-identify FHIR R4 JSON (a resource or Bundle) or NDJSON: names, contacts,
    /// addresses, identifiers, dates, narrative and free text; ids and references keep
    /// matching. A TOML policy maps element paths to actions over the built-in default.
    #[command(
        after_help = "Example:\n  ward deid fhir bundle.json --key site.key --out bundle.deid.json\n  ward deid fhir export.ndjson --key site.key --out export.deid.ndjson --on-error skip"
    )]
    Fhir(crate::deid_msg::FhirArgs),
}

/// `ward deid text`.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// The notes (`*.text`, PhysioNet format).
    pub input: PathBuf,
    /// Where the found spans go (they point at PHI but hold none).
    #[arg(long, value_name = "FILE")]
    pub spans: PathBuf,
    /// A classifier trained with `ward train deid` (without one: rules and dictionaries only).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Override the model's PHI probability threshold (lower finds more).
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
}

/// `ward deid eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The notes (`*.text`, PhysioNet format; not needed for the Presidio format, whose gold
    /// file holds its texts).
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Gold spans: `*.phi.phrase` (`patient note start end Category phrase`), or with
    /// `--presidio` the Presidio synthetic JSON (texts and spans).
    #[arg(long, value_name = "FILE")]
    pub gold: PathBuf,
    /// The gold file is in the Presidio research synthetic format (implied by a `.json`
    /// gold file). Only its Safe Harbor entity types are scored unless `--all-types`.
    #[arg(long)]
    pub presidio: bool,
    /// Score every Presidio entity type (organisations, titles, all ages ...), not only the
    /// Safe Harbor identifiers.
    #[arg(long)]
    pub all_types: bool,
    /// Found spans: `patient note start end [category]` per line (offsets into each note body).
    /// Without it, ward finds the spans itself (with `--model`, or `--cv`, or rules alone).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "cv"])]
    pub found: Option<PathBuf>,
    /// Find the spans with this classifier (trained with `ward train deid`).
    #[arg(long, value_name = "FILE", conflicts_with = "cv")]
    pub model: Option<PathBuf>,
    /// K-fold cross-validation by patient: train a classifier on the other folds' notes and
    /// find the spans of each fold's notes with it; scores are pooled over all folds.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..=50))]
    pub cv: Option<u32>,
    /// Override the PHI probability threshold (lower finds more).
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
    /// Fail (exit status 2) unless METRIC >= VALUE (`recall`, `precision`, `f1`). Repeatable.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub min: Vec<String>,
    /// Fail (exit status 2) unless METRIC <= VALUE. Repeatable.
    #[arg(long, value_name = "METRIC=VALUE")]
    pub max: Vec<String>,
    /// Write the missed gold spans with their text here (they are PHI: choose the place),
    /// followed by the found spans that overlap no gold span (`FP` lines).
    #[arg(long, value_name = "FILE")]
    pub misses: Option<PathBuf>,
}

/// The kind of the de-identification model in its manifest.
const MODEL_KIND: &str = "deid.token";

/// `ward train deid`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Annotated notes (`*.text`, PhysioNet format).
    #[arg(long, value_name = "FILE")]
    pub text: PathBuf,
    /// Their PHI spans (`*.phi.phrase`: `patient note start end Category phrase`).
    #[arg(long, value_name = "FILE")]
    pub gold: PathBuf,
    /// Where to write the model (a manifest with its SHA-256 is written beside it).
    #[arg(long, short, default_value = "ward-deid.model", value_name = "FILE")]
    pub out: PathBuf,
    /// The PHI probability from which the model flags a token (lower finds more).
    #[arg(long, value_name = "P", default_value_t = ward_deid::model::DEFAULT_THRESHOLD)]
    pub threshold: f32,
    /// Passes over the training tokens.
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
}

/// Trains the PHI token classifier on annotated notes.
pub fn train(a: &TrainArgs) -> Result<()> {
    check_threshold(a.threshold)?;
    let name = |p: &PathBuf| p.display().to_string();
    let notes = ward_deid::read_notes(&name(&a.text), open(&a.text)?)?;
    let gold = ward_deid::read_phrases(&name(&a.gold), open(&a.gold)?)?;
    if notes.is_empty() {
        bail!("{}: no notes to train on", a.text.display());
    }
    let opts = ward_deid::model::TrainOptions {
        threshold: a.threshold,
        epochs: a.epochs,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let model = ward_deid::model::Model::train(&notes, &gold, &opts);
    let meta = ward_ml::model::ModelMeta {
        feature_names: Vec::new(),
        params: serde_json::json!({
            "epochs": opts.epochs, "rate": opts.rate, "l2": opts.l2,
            "threshold": opts.threshold, "seed": opts.seed,
        }),
        training_summary: serde_json::json!({
            "notes": notes.len(), "gold_spans": gold.len(), "weight_rows": model.rows(),
        }),
    };
    let manifest = ward_ml::model::save(&a.out, &model, MODEL_KIND, &meta)
        .with_context(|| format!("cannot write model {}", a.out.display()))?;
    eprintln!(
        "trained on {} notes and {} gold spans in {:.1} s: {} weight rows",
        notes.len(),
        gold.len(),
        t0.elapsed().as_secs_f64(),
        model.rows()
    );
    println!("{} (sha256 {})", a.out.display(), manifest.sha256);
    Ok(())
}

/// Runs a `ward deid` command.
pub fn run(cmd: DeidCmd) -> Result<()> {
    match cmd {
        DeidCmd::Eval(a) => eval(&a),
        DeidCmd::Text(a) => text(&a),
        DeidCmd::Keygen(a) => crate::deid_out::keygen(&a),
        DeidCmd::Note(a) => crate::deid_out::note(&a),
        DeidCmd::Table(a) => crate::deid_out::table(&a),
        DeidCmd::Hl7(a) => crate::deid_msg::hl7(&a),
        DeidCmd::Fhir(a) => crate::deid_msg::fhir(&a),
    }
}

fn text(a: &TextArgs) -> Result<()> {
    use std::fmt::Write as _;
    let t0 = std::time::Instant::now();
    let notes = ward_deid::read_notes(&a.input.display().to_string(), open(&a.input)?)?;
    let detector = detector(a.model.as_deref(), a.threshold)?;
    let bytes: usize = notes.iter().map(|n| n.body.len()).sum();
    let spans = find_spans(&notes, &detector);
    let mut out = String::new();
    for (s, c) in &spans {
        let _ = writeln!(out, "{} {} {} {} {c}", s.patient, s.note, s.start, s.end);
    }
    write_atomic(&a.spans, out.as_bytes())?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} notes, {} spans found, written to {} ({:.1} MB/s)",
        notes.len(),
        spans.len(),
        a.spans.display(),
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

/// Writes `data` to `path` atomically (the library's temporary file, then a rename).
fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let shown = path.display().to_string();
    ward_deid::output::write_atomic(path, true, |w| {
        w.write_all(data)
            .map_err(|e| ward_deid::DeidError::io(&shown, e))
    })?;
    Ok(())
}

/// The detector: rules alone, or with the classifier in `model`.
pub(crate) fn detector(
    model: Option<&Path>,
    threshold: Option<f32>,
) -> Result<ward_deid::Detector> {
    let Some(p) = model else {
        if threshold.is_some() {
            bail!("--threshold needs --model (the rules have no threshold)");
        }
        return Ok(ward_deid::Detector::new());
    };
    let (mut m, _): (ward_deid::model::Model, _) = ward_ml::model::load(p, MODEL_KIND)
        .with_context(|| format!("cannot load de-identification model {}", p.display()))?;
    m.check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    if let Some(t) = threshold {
        check_threshold(t)?;
        m.threshold = t;
    }
    Ok(ward_deid::Detector::with_model(m))
}

fn check_threshold(t: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&t) || t.is_nan() {
        bail!("--threshold must be a probability between 0 and 1, not {t}");
    }
    Ok(())
}

/// The spans `detector` finds in `notes`, in character offsets, with their PhysioNet category.
fn find_spans(
    notes: &[ward_deid::Note],
    detector: &ward_deid::Detector,
) -> Vec<(ward_deid::Span, &'static str)> {
    let mut session = detector.session();
    let mut out = Vec::new();
    // one patient's notes at a time: names found in one note are looked for in the others
    let groups = notes.chunk_by(|a, b| a.patient == b.patient);
    let found_all: Vec<Vec<ward_deid::Found>> = groups
        .flat_map(|g| {
            let texts: Vec<&str> = g.iter().map(|n| n.body.as_str()).collect();
            session.find_group(&texts)
        })
        .collect();
    for (note, found) in notes.iter().zip(found_all) {
        let offs: Vec<usize> = found.iter().flat_map(|f| [f.start, f.end]).collect();
        let chars = ward_deid::char_offsets(&note.body, &offs);
        for (f, c) in found.iter().zip(chars.chunks(2)) {
            if let [s, e] = c {
                out.push((
                    ward_deid::Span {
                        patient: note.patient,
                        note: note.note,
                        start: *s,
                        end: *e,
                    },
                    f.category.physionet(),
                ));
            }
        }
    }
    out
}

pub(crate) fn open(p: &Path) -> Result<BufReader<std::fs::File>> {
    Ok(BufReader::new(
        std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
    ))
}

fn eval(a: &EvalArgs) -> Result<()> {
    let name = |p: &PathBuf| p.display().to_string();
    let presidio = a.presidio || a.gold.extension().is_some_and(|e| e == "json");
    let (notes, gold) = if presidio {
        let bytes =
            std::fs::read(&a.gold).with_context(|| format!("cannot read {}", a.gold.display()))?;
        ward_deid::presidio::read(&name(&a.gold), &bytes, a.all_types)?
    } else {
        let Some(text) = &a.text else {
            bail!("--text is needed with PhysioNet-format gold spans");
        };
        (
            ward_deid::read_notes(&name(text), open(text)?)?,
            ward_deid::read_phrases(&name(&a.gold), open(&a.gold)?)?,
        )
    };
    let found: Vec<ward_deid::Span> = if let Some(f) = &a.found {
        read_found(f)?
    } else if let Some(k) = a.cv {
        cross_validate(&notes, &gold, k, a.threshold)?
    } else {
        let d = detector(a.model.as_deref(), a.threshold)?;
        find_spans(&notes, &d).into_iter().map(|(s, _)| s).collect()
    };
    let s = ward_deid::score(&gold, &found);
    println!(
        "{} notes; span recall {:.4} ({} of {} gold spans), precision {:.4} ({} of {} found spans), F1 {:.4}",
        notes.len(),
        s.recall(),
        s.found_gold,
        s.gold,
        s.precision(),
        s.correct,
        s.found,
        s.f1()
    );
    println!(
        "  {:<20} {:>6} {:>6} {:>7}",
        "category", "gold", "found", "recall"
    );
    let t = ward_deid::token_score(&notes, &gold, &found);
    for (c, (g, f)) in &s.by_category {
        let (tg, tf) = t.by_category.get(c).copied().unwrap_or_default();
        println!(
            "  {c:<20} {g:>6} {f:>6} {:>7.3}   tokens {tg:>6} {tf:>6} {:>7.3}",
            if *g == 0 { 1.0 } else { *f as f64 / *g as f64 },
            if tg == 0 { 1.0 } else { tf as f64 / tg as f64 }
        );
    }
    println!(
        "tokens: recall {:.4} ({} of {}), precision {:.4} ({} of {} found tokens), F1 {:.4}",
        t.recall(),
        t.both,
        t.gold,
        t.precision(),
        t.both,
        t.found,
        t.f1()
    );
    if let Some(p) = &a.misses {
        use std::fmt::Write as _;
        let bodies: std::collections::HashMap<(u32, u32), &str> = notes
            .iter()
            .map(|n| ((n.patient, n.note), n.body.as_str()))
            .collect();
        let mut out = String::new();
        for &i in &s.missed {
            if let Some(g) = gold.get(i) {
                let phrase: String = bodies
                    .get(&(g.patient, g.note))
                    .map(|b| b.chars().skip(g.start).take(g.end - g.start).collect())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{} {} {} {} {} {}",
                    g.patient, g.note, g.start, g.end, g.category, phrase
                );
            }
        }
        for &i in &s.wrong {
            if let Some(f) = found.get(i) {
                let body = bodies
                    .get(&(f.patient, f.note))
                    .copied()
                    .unwrap_or_default();
                let phrase: String = body
                    .chars()
                    .skip(f.start)
                    .take(f.end.saturating_sub(f.start))
                    .collect();
                let _ = writeln!(
                    out,
                    "FP {} {} {} {} {}",
                    f.patient, f.note, f.start, f.end, phrase
                );
            }
        }
        write_atomic(p, out.as_bytes())?;
        println!(
            "{} missed spans and {} false positives written to {}",
            s.missed.len(),
            s.wrong.len(),
            p.display()
        );
    }
    crate::eval::check_gates_with(
        |m| match m {
            "recall" => Some(s.recall()),
            "precision" => Some(s.precision()),
            "f1" => Some(s.f1()),
            "token_recall" => Some(t.recall()),
            "token_precision" => Some(t.precision()),
            "token_f1" => Some(t.f1()),
            _ => None,
        },
        &a.min,
        &a.max,
    )
}

/// Found spans from a file: `patient note start end [category]` per line.
fn read_found(path: &Path) -> Result<Vec<ward_deid::Span>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let n = |k: usize| f.get(k).and_then(|x| x.parse::<usize>().ok());
        let (Some(p), Some(note), Some(s), Some(e)) = (n(0), n(1), n(2), n(3)) else {
            bail!(
                "{}:{}: expected `patient note start end [category]`",
                path.display(),
                i + 1
            );
        };
        v.push(ward_deid::Span {
            patient: u32::try_from(p).unwrap_or(u32::MAX),
            note: u32::try_from(note).unwrap_or(u32::MAX),
            start: s,
            end: e,
        });
    }
    Ok(v)
}

/// K-fold cross-validation by patient: each fold's spans come from a model trained on the
/// other folds' notes.
fn cross_validate(
    notes: &[ward_deid::Note],
    gold: &[ward_deid::GoldSpan],
    k: u32,
    threshold: Option<f32>,
) -> Result<Vec<ward_deid::Span>> {
    let mut patients: Vec<u32> = notes.iter().map(|n| n.patient).collect();
    patients.sort_unstable();
    patients.dedup();
    if patients.len() < k as usize {
        bail!(
            "--cv {k} needs at least {k} patients; the notes have {}",
            patients.len()
        );
    }
    let fold_of = |p: u32| patients.binary_search(&p).unwrap_or(0) as u32 % k;
    let mut opts = ward_deid::model::TrainOptions::default();
    if let Some(t) = threshold {
        check_threshold(t)?;
        opts.threshold = t;
    }
    let mut out = Vec::new();
    for fold in 0..k {
        let (test, train): (Vec<_>, Vec<_>) = notes
            .iter()
            .cloned()
            .partition(|n| fold_of(n.patient) == fold);
        let train_gold: Vec<_> = gold
            .iter()
            .filter(|g| fold_of(g.patient) != fold)
            .cloned()
            .collect();
        let model = ward_deid::model::Model::train(&train, &train_gold, &opts);
        eprintln!(
            "fold {}/{k}: trained on {} notes ({} weight rows), testing on {}",
            fold + 1,
            train.len(),
            model.rows(),
            test.len()
        );
        let d = ward_deid::Detector::with_model(model);
        out.extend(find_spans(&test, &d).into_iter().map(|(s, _)| s));
    }
    Ok(out)
}

/// `ward bench deid`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The notes (`*.text`, PhysioNet format), repeated until `--mb` megabytes have passed.
    #[arg(long, value_name = "FILE")]
    pub text: PathBuf,
    /// A classifier trained with `ward train deid`; without it only the rules are measured.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Megabytes of note text per measurement.
    #[arg(long, default_value_t = 50)]
    pub mb: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Measures MB/s of PHI finding on one thread.
pub fn bench(a: &BenchArgs) -> Result<()> {
    let notes = ward_deid::read_notes(&a.text.display().to_string(), open(&a.text)?)?;
    let corpus: usize = notes.iter().map(|n| n.body.len()).sum();
    if corpus == 0 {
        bail!("{}: no note text to measure", a.text.display());
    }
    let target = a.mb.max(1) * 1_000_000;
    let run = |d: &ward_deid::Detector| -> (f64, usize, usize) {
        let mut session = d.session();
        let (mut bytes, mut spans) = (0usize, 0usize);
        let t0 = std::time::Instant::now();
        while bytes < target {
            for n in &notes {
                spans += std::hint::black_box(session.find(&n.body)).len();
                bytes += n.body.len();
            }
        }
        (t0.elapsed().as_secs_f64(), bytes, spans)
    };
    let mut figures = serde_json::Map::new();
    let mut report = |name: &str, (secs, bytes, spans): (f64, usize, usize)| {
        let mbs = bytes as f64 / 1e6 / secs.max(1e-9);
        eprintln!(
            "{name:<14} {:>7.1} MB/s  ({:.1} MB in {secs:.2} s, {spans} spans)",
            mbs,
            bytes as f64 / 1e6
        );
        figures.insert(format!("{name}_mb_per_s"), serde_json::json!(mbs));
    };
    report("rules", run(&ward_deid::Detector::new()));
    if a.model.is_some() {
        let d = detector(a.model.as_deref(), None)?;
        report("rules+model", run(&d));
    }
    let peak = crate::bench::peak_rss();
    eprintln!(
        "peak memory {:.1} MiB",
        peak.unwrap_or(0) as f64 / (1024.0 * 1024.0)
    );
    figures.insert("peak_rss_bytes".into(), serde_json::json!(peak));
    if a.json {
        println!("{}", serde_json::Value::Object(figures));
    }
    Ok(())
}
