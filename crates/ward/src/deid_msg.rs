//! `ward deid hl7 | fhir`: de-identifying messages (HL7 v2 in place, FHIR R4 JSON and
//! NDJSON). Output is staged and renamed into place only when the run succeeded, and a
//! manifest (hashes, policy, counts, key id, never PHI) is written last, as `ward deid
//! table` does.

use crate::deid_out::{Staged, default_manifest, load_key, parse_mode};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use ward_deid::fhir::{FhirFormat, FhirOptions, FhirPolicy};
use ward_deid::hl7::{Hl7Options, Hl7Policy, OnError};
use ward_deid::manifest::{FileRef, Manifest, PolicyRef};
use ward_deid::{Counts, Detector, Key, Mode, Surrogates};

/// What happens to a malformed message or line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop; no output is written.
    Fail,
    /// Report it (by number and line, never its content) and leave it out.
    Skip,
}

impl From<OnErrorArg> for OnError {
    fn from(a: OnErrorArg) -> Self {
        match a {
            OnErrorArg::Fail => Self::Fail,
            OnErrorArg::Skip => Self::Skip,
        }
    }
}

/// FHIR input shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FhirFormatArg {
    /// One resource or Bundle.
    Json,
    /// One resource per line.
    Ndjson,
}

/// The options `ward deid hl7` and `ward deid fhir` share.
#[derive(Debug, Args)]
pub struct MsgArgs {
    /// The input file.
    pub input: PathBuf,
    /// The key file (from `ward deid keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The de-identified output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A policy file (TOML) over the built-in default (see docs/examples/).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Replacement of names, places, phones, identifiers and free text: tags, mask or
    /// surrogate (default: the policy's, else surrogate). Dates always shift.
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<Mode>,
    /// Where the run manifest goes (default: `<out>.manifest.json`).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// A malformed message (HL7) or line (NDJSON): fail, or skip it and report it.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
}

/// `ward deid hl7`.
#[derive(Debug, Args)]
pub struct Hl7Args {
    #[command(flatten)]
    pub common: MsgArgs,
}

/// `ward deid fhir`.
#[derive(Debug, Args)]
pub struct FhirArgs {
    #[command(flatten)]
    pub common: MsgArgs,
    /// Input shape (default: ndjson for `*.ndjson`/`*.jsonl`, else json).
    #[arg(long, value_enum)]
    pub format: Option<FhirFormatArg>,
}

/// Largest FHIR JSON file read whole (NDJSON is streamed).
const MAX_JSON: u64 = 512 << 20;

fn read_policy(p: Option<&PathBuf>) -> Result<Option<(String, PathBuf)>> {
    p.map(|p| {
        std::fs::read_to_string(p)
            .with_context(|| format!("cannot read policy {}", p.display()))
            .map(|t| (t, p.clone()))
    })
    .transpose()
}

/// Runs `body` with a staged output, then writes the manifest.
fn staged_run(
    command: &str,
    a: &MsgArgs,
    mode: Mode,
    policy: Option<(String, PathBuf)>,
    body: impl FnOnce(&Surrogates, &mut std::fs::File) -> Result<(u64, u64, Vec<String>, Counts)>,
) -> Result<()> {
    let mut manifest = Manifest::start(command);
    let key: Key = load_key(Some(&a.key), true, command)?.context("no key")?;
    let sur = Surrogates::new(&key);
    let t0 = std::time::Instant::now();
    let mut staged = Staged::new(std::slice::from_ref(&a.input));
    let tmp = staged.stage(&a.out)?;
    let (records, skipped, reasons, mut counts) = body(&sur, tmp.as_file_mut())?;
    staged.commit()?;
    if skipped > 0 {
        counts.add("skipped", skipped);
    }
    manifest.inputs.push(FileRef::of(&a.input)?);
    manifest.outputs.push(FileRef::of(&a.out)?);
    if let Some((text, path)) = policy {
        manifest.policy = Some(PolicyRef {
            file: FileRef::of(&path)?,
            content: text,
        });
    }
    manifest.mode = Some(mode.to_string());
    manifest.key_id = Some(key.id());
    let r = ward_deid::surrogate::SHIFT_RANGE;
    manifest.date_shift_days = Some([*r.start(), *r.end()]);
    manifest.records = records;
    manifest.counts = counts;
    let mpath = a
        .manifest
        .clone()
        .unwrap_or_else(|| default_manifest(&a.out, false));
    manifest.write(&mpath)?;
    for r in &reasons {
        eprintln!("skipped: {r}");
    }
    eprintln!(
        "{records} {} de-identified ({} values changed, {skipped} skipped, mode {mode}), written to {}; manifest {} ({:.2} s)",
        if command == "deid hl7" {
            "messages"
        } else {
            "resources"
        },
        manifest.counts.total(),
        a.out.display(),
        mpath.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `ward deid hl7`.
pub fn hl7(a: &Hl7Args) -> Result<()> {
    let a = &a.common;
    let ptext = read_policy(a.policy.as_ref())?;
    let mut policy = match &ptext {
        Some((t, p)) => Hl7Policy::parse(&p.display().to_string(), t)?,
        None => Hl7Policy::default(),
    };
    if let Some(m) = a.mode {
        policy.mode = m;
    }
    let opts = Hl7Options {
        on_error: a.on_error.into(),
        ..Hl7Options::default()
    };
    let input = crate::deid::open(&a.input)?;
    let mode = policy.mode;
    staged_run("deid hl7", a, mode, ptext, |sur, out| {
        let r = ward_deid::hl7::deid_hl7(
            &a.input.display().to_string(),
            input,
            std::io::BufWriter::new(out),
            &policy,
            &opts,
            sur,
            &Detector::new(),
        )?;
        Ok((r.messages, r.skipped, r.skipped_reasons, r.counts))
    })
}

/// `ward deid fhir`.
pub fn fhir(a: &FhirArgs) -> Result<()> {
    let format = match a.format {
        Some(FhirFormatArg::Json) => FhirFormat::Json,
        Some(FhirFormatArg::Ndjson) => FhirFormat::Ndjson,
        None => FhirFormat::for_path(&a.common.input),
    };
    let a = &a.common;
    let ptext = read_policy(a.policy.as_ref())?;
    let mut policy = match &ptext {
        Some((t, p)) => FhirPolicy::parse(&p.display().to_string(), t)?,
        None => FhirPolicy::default(),
    };
    if let Some(m) = a.mode {
        policy.mode = m;
    }
    let file = a.input.display().to_string();
    let mode = policy.mode;
    staged_run("deid fhir", a, mode, ptext, |sur, out| {
        let w = std::io::BufWriter::new(out);
        let r = match format {
            FhirFormat::Json => {
                let size = std::fs::metadata(&a.input)
                    .with_context(|| format!("cannot read {file}"))?
                    .len();
                if size > MAX_JSON {
                    anyhow::bail!(
                        "{file}: larger than {} MiB; write it as NDJSON (one resource per line)",
                        MAX_JSON >> 20
                    );
                }
                let text =
                    std::fs::read(&a.input).with_context(|| format!("cannot read {file}"))?;
                ward_deid::fhir::deid_json(&file, &text, w, &policy, sur, &Detector::new())?
            }
            FhirFormat::Ndjson => ward_deid::fhir::deid_ndjson(
                &file,
                crate::deid::open(&a.input)?,
                w,
                &policy,
                &FhirOptions {
                    on_error: a.on_error.into(),
                    ..FhirOptions::default()
                },
                sur,
                &Detector::new(),
            )?,
        };
        Ok((r.resources, r.skipped, r.skipped_reasons, r.counts))
    })
}
