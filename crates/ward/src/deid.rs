//! `ward deid ...`: de-identification (issue 6, in progress). For now the scorer: found spans
//! against the PhysioNet gold standard, with the PhysioNet convention.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::BufReader;
use std::path::PathBuf;

/// `ward deid ...`.
#[derive(Debug, Subcommand)]
pub enum DeidCmd {
    /// Score found PHI spans against PhysioNet gold spans: span recall and precision (a gold
    /// span counts as found when any found span overlaps it), per category.
    #[command(
        after_help = "Example:\n  ward deid eval --text dev.text --gold dev.phi.phrase --found spans.txt --misses misses.txt"
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
}

/// `ward deid text`.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// The notes (`*.text`, PhysioNet format).
    pub input: PathBuf,
    /// Where the found spans go (they point at PHI but hold none).
    #[arg(long, value_name = "FILE")]
    pub spans: PathBuf,
}

/// `ward deid eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The notes (`*.text`, PhysioNet format).
    #[arg(long, value_name = "FILE")]
    pub text: PathBuf,
    /// Gold spans (`*.phi.phrase`: `patient note start end Category phrase`).
    #[arg(long, value_name = "FILE")]
    pub gold: PathBuf,
    /// Found spans: `patient note start end [category]` per line (offsets into each note body).
    #[arg(long, value_name = "FILE")]
    pub found: PathBuf,
    /// Write the missed gold spans with their text here (they are PHI: choose the place).
    #[arg(long, value_name = "FILE")]
    pub misses: Option<PathBuf>,
}

/// Runs a `ward deid` command.
pub fn run(cmd: DeidCmd) -> Result<()> {
    match cmd {
        DeidCmd::Eval(a) => eval(&a),
        DeidCmd::Text(a) => text(&a),
        DeidCmd::Keygen(a) => crate::deid_out::keygen(&a),
        DeidCmd::Note(a) => crate::deid_out::note(&a),
        DeidCmd::Table(a) => crate::deid_out::table(&a),
    }
}

fn text(a: &TextArgs) -> Result<()> {
    use std::fmt::Write as _;
    let t0 = std::time::Instant::now();
    let notes = ward_deid::read_notes(&a.input.display().to_string(), open(&a.input)?)?;
    let mut out = String::new();
    let (mut n, mut bytes) = (0usize, 0usize);
    for note in &notes {
        bytes += note.body.len();
        let found = ward_deid::rules::find(&note.body);
        let offs: Vec<usize> = found.iter().flat_map(|f| [f.start, f.end]).collect();
        let chars = ward_deid::char_offsets(&note.body, &offs);
        for (f, c) in found.iter().zip(chars.chunks(2)) {
            if let [s, e] = c {
                let _ = writeln!(
                    out,
                    "{} {} {s} {e} {}",
                    note.patient,
                    note.note,
                    f.category.physionet()
                );
                n += 1;
            }
        }
    }
    let mut tmp = a.spans.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, out).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.spans)
        .with_context(|| format!("cannot write {}", a.spans.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} notes, {} spans found, written to {} ({:.1} MB/s)",
        notes.len(),
        n,
        a.spans.display(),
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

fn open(p: &PathBuf) -> Result<BufReader<std::fs::File>> {
    Ok(BufReader::new(
        std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
    ))
}

fn eval(a: &EvalArgs) -> Result<()> {
    let name = |p: &PathBuf| p.display().to_string();
    let notes = ward_deid::read_notes(&name(&a.text), open(&a.text)?)?;
    let gold = ward_deid::read_phrases(&name(&a.gold), open(&a.gold)?)?;
    // the found file has the gold file's first four columns; a category is optional
    let found: Vec<ward_deid::Span> = {
        let text = std::fs::read_to_string(&a.found)
            .with_context(|| format!("cannot read {}", a.found.display()))?;
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
                    a.found.display(),
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
        v
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
    for (c, (g, f)) in &s.by_category {
        println!(
            "  {c:<20} {g:>6} {f:>6} {:>7.3}",
            if *g == 0 { 1.0 } else { *f as f64 / *g as f64 }
        );
    }
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
        std::fs::write(p, out).with_context(|| format!("cannot write {}", p.display()))?;
        println!("{} missed spans written to {}", s.missed.len(), p.display());
    }
    Ok(())
}
