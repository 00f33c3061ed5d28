//! Reading flow inputs named on the command line: files, folders (every file inside, sorted),
//! or `-` for stdin. Bad records are counted and reported with file, line and reason; with
//! `--strict` the first one stops the run.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use ward_core::{EventId, Flow, FlowSchema};
use ward_ingest::{Format, IngestError, ReadOptions, Record};

/// Options shared by every command that reads flows.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input format; detected from the content when omitted.
    /// Known: zeek, zeek-json, eve, nsl-kdd, unsw-nb15, csv, pcap.
    #[arg(long, short = 'f', value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Stop at the first record that cannot be parsed instead of counting and skipping it.
    #[arg(long)]
    pub strict: bool,
}

impl InputArgs {
    pub fn read_options(&self, cfg: &crate::config::Config) -> ReadOptions {
        ReadOptions {
            format: self.format,
            csv_mapping: cfg.ingest.csv.clone(),
            pcap: cfg.ingest.pcap.options(),
        }
    }
}

/// Expands folders into their files (sorted, hidden files skipped); `-` stays as stdin.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    !p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("input {} does not exist", p.display());
        }
    }
    if out.is_empty() {
        bail!("no input files found");
    }
    Ok(out)
}

/// Totals over all inputs of one run.
#[derive(Debug, Default)]
pub struct ReadSummary {
    pub records: u64,
    pub bad: u64,
    pub skipped: u64,
    /// The first bad records, for the report.
    pub errors: Vec<String>,
}

impl ReadSummary {
    /// Prints the count of bad records and the first few of them to stderr.
    pub fn report(&self) {
        if self.bad > 0 {
            eprintln!(
                "warning: {} record(s) could not be parsed and were skipped; first ones:",
                self.bad
            );
            for e in self.errors.iter().take(10) {
                eprintln!("  {e}");
            }
        }
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{msg:>10} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    pb.set_message(what.to_owned());
    pb
}

/// A spinner with elapsed time for work without a known length (training); hidden when stderr
/// is not a terminal. Finish it with `finish_and_clear`.
pub fn spinner(msg: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_owned());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Streams every record of every input through `each`, in order. Returns the schema of the
/// first input (all inputs of one run must share a format) and the read summary.
pub fn for_each_flow(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    strict: bool,
    mut each: impl FnMut(&FlowSchema, Record) -> Result<()>,
) -> Result<(FlowSchema, ReadSummary)> {
    let files = expand(inputs)?;
    let mut summary = ReadSummary::default();
    let mut first_schema: Option<FlowSchema> = None;
    let total: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let pb = progress(None, "reading");
    let _ = total;
    for path in &files {
        let mut reader = ward_ingest::open(path, opts)
            .with_context(|| format!("cannot read {}", display(path)))?;
        let schema = reader.schema().clone();
        match &first_schema {
            None => first_schema = Some(schema.clone()),
            Some(s) if s.format != schema.format || s.extra != schema.extra => bail!(
                "{} is {} but earlier inputs were {}: give one format per run",
                display(path),
                schema.format,
                s.format
            ),
            Some(_) => {}
        }
        for item in reader.by_ref() {
            match item {
                Ok(rec) => {
                    summary.records += 1;
                    if summary.records % 65_536 == 0 {
                        pb.set_position(summary.records);
                    }
                    each(&schema, rec)?;
                }
                Err(IngestError::Record(e)) => {
                    if strict {
                        bail!("{e} (stopped by --strict)");
                    }
                    summary.bad += 1;
                    if summary.errors.len() < 100 {
                        summary.errors.push(e.to_string());
                    }
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("reading {} failed", display(path)));
                }
            }
        }
        summary.skipped += reader.stats().skipped;
    }
    pb.finish_and_clear();
    Ok((first_schema.unwrap_or_default(), summary))
}

/// Reads every flow into memory (for training and evaluation).
pub fn read_all(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    strict: bool,
) -> Result<(FlowSchema, Vec<Flow>, Vec<EventId>, ReadSummary)> {
    let mut flows = Vec::new();
    let mut ids = Vec::new();
    let (schema, summary) = for_each_flow(inputs, opts, strict, |_, rec| {
        flows.push(rec.flow);
        ids.push(rec.id);
        Ok(())
    })?;
    if flows.is_empty() {
        bail!("no flows could be read from the input");
    }
    Ok((schema, flows, ids, summary))
}

pub fn display(p: &Path) -> String {
    if p.as_os_str() == "-" {
        "stdin".into()
    } else {
        p.display().to_string()
    }
}
