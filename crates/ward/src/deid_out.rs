//! `ward deid keygen | note | table`: writing de-identified output (issue 6, replacement).
//! Every output is staged in temporary files next to its target and renamed into place only
//! when the whole run succeeded, so a failed run leaves no output file; a manifest (hashes,
//! counts, key id, never PHI) is written last.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_deid::manifest::{FileRef, Manifest, PolicyRef};
use ward_deid::{Key, Mode, Surrogates};

/// `ward deid keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where the key goes (created with mode 0600; keep it apart from the output).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing key file (every surrogate and date shift will change).
    #[arg(long)]
    pub force: bool,
}

/// Input format of `ward deid note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoteFormat {
    /// One note per file, plain UTF-8 text.
    Plain,
    /// PhysioNet `*.text` records (`START_OF_RECORD=patient||||note||||` ...), written back in
    /// the same format; each record's patient number selects its date shift.
    Physionet,
}

/// `ward deid note`.
#[derive(Debug, Args)]
pub struct NoteArgs {
    /// Note files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output: a file for one input, or a directory (created if missing) that receives a
    /// file of the same name per input.
    #[arg(long, value_name = "FILE|DIR")]
    pub out: PathBuf,
    /// Replacement: tags (`[NAME]`), mask (`****`) or surrogate (realistic, consistent).
    #[arg(long, default_value = "tags", value_parser = parse_mode)]
    pub mode: Mode,
    /// The key file (from `ward deid keygen`); required for `--mode surrogate`.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The patient whose date shift applies (plain notes; default: each file's stem).
    #[arg(long, value_name = "ID")]
    pub patient: Option<String>,
    /// Input format.
    #[arg(long, value_enum, default_value = "plain")]
    pub format: NoteFormat,
    /// A PHI classifier trained by `ward train deid` (default: rules and dictionaries only).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Override the classifier's PHI probability threshold (lower finds more).
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
    /// Where the run manifest goes (default: `<out>.manifest.json`, or `manifest.json`
    /// inside an output directory).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

/// `ward deid table`.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// The table (CSV, or TSV for `*.tsv`/`*.tab`), with a header row.
    pub input: PathBuf,
    /// The column policy (TOML; see docs/examples/deid-table-policy.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The key file (from `ward deid keygen`); required unless every column is keep or drop.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The de-identified table.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A PHI classifier trained by `ward train deid` (default: rules and dictionaries only).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Override the classifier's PHI probability threshold (lower finds more).
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
    /// Field delimiter: `,`, `tab`, `;` or `|` (default: the policy's, else from the input's
    /// extension).
    #[arg(long, value_name = "D")]
    pub delimiter: Option<String>,
    /// Where the run manifest goes (default: `<out>.manifest.json`).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

pub(crate) fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse()
}

/// Largest plain note file read, in bytes.
const MAX_NOTE: u64 = 64 << 20;

/// `ward deid keygen`.
pub fn keygen(a: &KeygenArgs) -> Result<()> {
    let key = Key::generate()?;
    key.save(&a.out, a.force)?;
    eprintln!(
        "key {} written to {} (mode 0600). Keep it secret and apart from de-identified data: \
         whoever holds it can test guesses against the surrogates.",
        key.id(),
        a.out.display()
    );
    Ok(())
}

pub(crate) fn load_key(p: Option<&PathBuf>, needed: bool, what: &str) -> Result<Option<Key>> {
    match p {
        Some(p) => Ok(Some(Key::load(p)?)),
        None if needed => bail!("{what} needs --key FILE (create one with `ward deid keygen`)"),
        None => Ok(None),
    }
}

/// Outputs staged in temporary files, persisted together by [`Staged::commit`].
pub(crate) struct Staged {
    files: Vec<(tempfile::NamedTempFile, PathBuf)>,
    inputs: Vec<PathBuf>,
}

impl Staged {
    pub(crate) fn new(inputs: &[PathBuf]) -> Self {
        Self {
            files: Vec::new(),
            inputs: inputs
                .iter()
                .filter_map(|p| std::fs::canonicalize(p).ok())
                .collect(),
        }
    }

    /// Refuses a target that is an input (or key or policy) or already staged.
    fn check_free(&self, target: &Path) -> Result<()> {
        if let Ok(c) = std::fs::canonicalize(target)
            && self.inputs.contains(&c)
        {
            bail!(
                "{} is an input: refusing to overwrite it (choose another output)",
                target.display()
            );
        }
        if self.files.iter().any(|(_, t)| t == target) {
            bail!("two outputs would both be written to {}", target.display());
        }
        Ok(())
    }

    /// A temporary file for `target`, after [`Staged::check_free`].
    pub(crate) fn stage(&mut self, target: &Path) -> Result<&mut tempfile::NamedTempFile> {
        self.check_free(target)?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".ward-tmp-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        self.files.push((tmp, target.to_owned()));
        let last = self.files.len() - 1;
        match self.files.get_mut(last) {
            Some((t, _)) => Ok(t),
            None => bail!("internal: staging failed"),
        }
    }

    pub(crate) fn commit(self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for (tmp, target) in self.files {
            tmp.as_file()
                .sync_all()
                .with_context(|| format!("cannot write {}", target.display()))?;
            tmp.persist(&target)
                .with_context(|| format!("cannot write {}", target.display()))?;
            done.push(target);
        }
        Ok(done)
    }
}

/// A plain note: UTF-8, not empty, no line over the PhysioNet reader's limit. Errors name the
/// file and line.
/// The most notes of one patient de-identified together in PhysioNet input.
const GROUP_NOTES: usize = 256;
/// The most bytes of one patient's notes held together.
const GROUP_BYTES: usize = 8 << 20;

fn read_plain(p: &Path) -> Result<String> {
    let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
    if meta.len() > MAX_NOTE {
        bail!(
            "{}: larger than {} MiB; split it (one note per file)",
            p.display(),
            MAX_NOTE >> 20
        );
    }
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("{}: empty note", p.display());
    }
    let line_at = |pos: usize| bytes.iter().take(pos).filter(|&&b| b == b'\n').count() + 1;
    let text = match String::from_utf8(bytes.clone()) {
        Ok(t) => t,
        Err(e) => bail!(
            "{}:{}: not UTF-8",
            p.display(),
            line_at(e.utf8_error().valid_up_to())
        ),
    };
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > ward_deid::physionet::MAX_LINE {
            bail!(
                "{}:{}: line longer than {} bytes",
                p.display(),
                i + 1,
                ward_deid::physionet::MAX_LINE
            );
        }
    }
    Ok(text)
}

pub(crate) fn default_manifest(out: &Path, is_dir: bool) -> PathBuf {
    if is_dir {
        out.join("manifest.json")
    } else {
        let mut s = out.as_os_str().to_owned();
        s.push(".manifest.json");
        PathBuf::from(s)
    }
}

/// `ward deid note`.
pub fn note(a: &NoteArgs) -> Result<()> {
    let mut manifest = Manifest::start("deid note");
    let key = load_key(
        a.key.as_ref(),
        a.mode == Mode::Surrogate,
        "--mode surrogate",
    )?;
    // tags and masks need no key; a fixed one keeps the code path single
    let sur = Surrogates::new(key.as_ref().unwrap_or(&Key::from_bytes([0; 32])));
    let to_dir = a.inputs.len() > 1 || a.out.is_dir();
    if to_dir {
        std::fs::create_dir_all(&a.out)
            .with_context(|| format!("cannot create {}", a.out.display()))?;
    }
    let detector = crate::deid::detector(a.model.as_deref(), a.threshold)?;
    let mut finder = detector.session();
    let mut protected = a.inputs.clone();
    protected.extend(a.key.iter().cloned());
    let mut staged = Staged::new(&protected);
    let mut counts = ward_deid::Counts::default();
    let mut records = 0u64;
    let t0 = std::time::Instant::now();
    let mut bytes_in = 0u64;
    for input in &a.inputs {
        let target = if to_dir {
            let name = input
                .file_name()
                .with_context(|| format!("{} has no file name", input.display()))?;
            a.out.join(name)
        } else {
            a.out.clone()
        };
        let tmp = staged.stage(&target)?;
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        let write_err = || format!("cannot write {}", target.display());
        match a.format {
            NoteFormat::Plain => {
                // one note per file: one file in memory at a time (at most MAX_NOTE)
                let text = read_plain(input)?;
                bytes_in += text.len() as u64;
                let patient = match &a.patient {
                    Some(p) => p.clone(),
                    None => input
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                let found = finder.find(&text);
                let (t, c) = ward_deid::replace(&text, &found, a.mode, &patient, &sur);
                counts.merge(&c);
                records += 1;
                w.write_all(t.as_bytes()).with_context(write_err)?;
            }
            NoteFormat::Physionet => {
                // note by note: memory holds one note, whatever the size of the file
                let f = std::fs::File::open(input)
                    .with_context(|| format!("cannot open {}", input.display()))?;
                let notes = ward_deid::physionet::notes(
                    &input.display().to_string(),
                    std::io::BufReader::with_capacity(1 << 16, f),
                );
                let mut any = false;
                // one patient's notes together (names found in one are looked for in all),
                // at most GROUP_NOTES notes or GROUP_BYTES bytes at a time
                let mut group: Vec<ward_deid::Note> = Vec::new();
                let mut flush = |group: &mut Vec<ward_deid::Note>,
                                 w: &mut dyn std::io::Write|
                 -> Result<()> {
                    let texts: Vec<&str> = group.iter().map(|n| n.body.as_str()).collect();
                    let found = finder.find_group(&texts);
                    for (n, found) in group.iter().zip(found) {
                        let patient = match &a.patient {
                            Some(p) => p.clone(),
                            None => n.patient.to_string(),
                        };
                        let (t, c) = ward_deid::replace(&n.body, &found, a.mode, &patient, &sur);
                        counts.merge(&c);
                        records += 1;
                        write!(
                            w,
                            "START_OF_RECORD={}||||{}||||\n{t}||||END_OF_RECORD\n",
                            n.patient, n.note
                        )
                        .with_context(write_err)?;
                    }
                    group.clear();
                    Ok(())
                };
                let mut group_bytes = 0usize;
                for n in notes {
                    let n = n?;
                    any = true;
                    bytes_in += n.body.len() as u64;
                    let other = group.first().is_some_and(|g| g.patient != n.patient);
                    if other || group.len() >= GROUP_NOTES || group_bytes >= GROUP_BYTES {
                        flush(&mut group, &mut w)?;
                        group_bytes = 0;
                    }
                    group_bytes += n.body.len();
                    group.push(n);
                }
                flush(&mut group, &mut w)?;
                if !any {
                    bail!("{}: no records", input.display());
                }
            }
        }
        w.flush().with_context(write_err)?;
        drop(w);
        manifest.inputs.push(FileRef::of(input)?);
    }
    let mpath = a
        .manifest
        .clone()
        .unwrap_or_else(|| default_manifest(&a.out, to_dir));
    staged.check_free(&mpath)?;
    let outputs = staged.commit()?;
    if let Some(m) = &a.model {
        manifest.model = Some(FileRef::of(m)?);
    }
    for o in &outputs {
        manifest.outputs.push(FileRef::of(o)?);
    }
    let secs = t0.elapsed().as_secs_f64();
    manifest.mode = Some(a.mode.to_string());
    manifest.key_id = key.as_ref().map(Key::id);
    if a.mode == Mode::Surrogate {
        let r = ward_deid::surrogate::SHIFT_RANGE;
        manifest.date_shift_days = Some([*r.start(), *r.end()]);
    }
    manifest.records = records;
    manifest.counts = counts;
    manifest.write(&mpath)?;
    eprintln!(
        "{records} notes de-identified ({} values replaced, mode {}), written to {}; manifest {} ({:.1} MB/s)",
        manifest.counts.total(),
        a.mode,
        a.out.display(),
        mpath.display(),
        bytes_in as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

/// `ward deid table`.
pub fn table(a: &TableArgs) -> Result<()> {
    let mut manifest = Manifest::start("deid table");
    let ptext = std::fs::read_to_string(&a.policy)
        .with_context(|| format!("cannot read policy {}", a.policy.display()))?;
    let policy = ward_deid::table::Policy::parse(&a.policy.display().to_string(), &ptext)?;
    let key = load_key(a.key.as_ref(), policy.needs_key(), "this policy")?;
    let sur = Surrogates::new(key.as_ref().unwrap_or(&Key::from_bytes([0; 32])));
    let delimiter = match &a.delimiter {
        Some(d) => ward_deid::table::parse_delimiter(d)
            .with_context(|| format!("--delimiter {d:?}: expected `,`, `tab`, `;` or `|`"))?,
        None => policy
            .delimiter
            .unwrap_or_else(|| ward_deid::table::delimiter_for(&a.input)),
    };
    let opts = ward_deid::table::TableOptions {
        delimiter,
        ..Default::default()
    };
    let detector = crate::deid::detector(a.model.as_deref(), a.threshold)?;
    let input = std::fs::File::open(&a.input)
        .with_context(|| format!("cannot open {}", a.input.display()))?;
    let mut protected = vec![a.input.clone(), a.policy.clone()];
    protected.extend(a.key.iter().cloned());
    let mut staged = Staged::new(&protected);
    let tmp = staged.stage(&a.out)?;
    let t0 = std::time::Instant::now();
    let report = {
        let w = std::io::BufWriter::new(tmp.as_file_mut());
        ward_deid::table::deid_table(
            &a.input.display().to_string(),
            std::io::BufReader::new(input),
            w,
            &policy,
            &opts,
            &sur,
            &detector,
        )?
    };
    let mpath = a
        .manifest
        .clone()
        .unwrap_or_else(|| default_manifest(&a.out, false));
    staged.check_free(&mpath)?;
    staged.commit()?;
    manifest.inputs.push(FileRef::of(&a.input)?);
    manifest.outputs.push(FileRef::of(&a.out)?);
    manifest.policy = Some(PolicyRef {
        file: FileRef::of(&a.policy)?,
        content: ptext,
    });
    manifest.key_id = key.as_ref().map(Key::id);
    if let Some(m) = &a.model {
        manifest.model = Some(FileRef::of(m)?);
    }
    manifest.records = report.records;
    manifest.counts = report.counts.clone();
    if policy.columns.iter().any(|(_, x)| {
        matches!(
            x,
            ward_deid::table::Action::DateShift | ward_deid::table::Action::Text(_)
        )
    }) {
        let r = ward_deid::surrogate::SHIFT_RANGE;
        manifest.date_shift_days = Some([*r.start(), *r.end()]);
    }
    manifest.write(&mpath)?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} rows de-identified ({} columns kept, {} dropped, {} values changed), written to {}; manifest {} ({:.1} s)",
        report.records,
        report.columns_written,
        report.columns_dropped,
        report.counts.total(),
        a.out.display(),
        mpath.display(),
        secs
    );
    Ok(())
}
