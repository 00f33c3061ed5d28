//! CSV and TSV de-identification with a column policy (TOML).
//!
//! ```toml
//! default = "drop"          # columns the policy does not name: "drop" (default) or "keep"
//! patient = "mrn"           # whose date shift applies to each row (its raw value)
//! mode = "surrogate"        # for `text` columns without their own mode: tags, mask, surrogate
//! on_bad_value = "error"    # a value an action cannot read: "error" (default) or "blank"
//! delimiter = ","           # optional: ",", "tab", ";" or "|" (else from the file name)
//!
//! [columns]
//! mrn = "hash"
//! name = { action = "pseudonym", category = "PTName" }
//! admitted = "date_shift"
//! born = { action = "generalise", to = "year" }
//! weight_kg = { action = "generalise", bucket = 10 }
//! zip = "zip3"
//! age = "age"
//! note = { action = "text", mode = "tags" }
//! ward = "keep"
//! ssn = "drop"
//! ```
//!
//! Actions: `keep`, `drop`, `hash` (keyed, 16 hex digits), `pseudonym` (with a `category`
//! such as `PTName`, `HCPName`, `Location`, `Phone`, `Email`, `ID`), `date_shift` (the row
//! patient's shift, same shape), `generalise` (`to = "year"` for dates, or `bucket = W` for
//! numbers: `47` with `bucket = 10` becomes `40-50`, meaning 40 or more and under 50), `zip3`, `age` (over 89 becomes `90+`)
//! and `text` (free text through the [`Detector`] and [`crate::replace()`]). Empty cells stay
//! empty. The first row is the header; the output has the kept columns in input order.
//!
//! TSV (tab-delimited) has no quoting: a `"` is an ordinary character, and fields hold no tab
//! or line break. CSV follows RFC 4180 quoting.
//!
//! The table is streamed: memory stays bounded by the longest record ([`TableOptions`]).
//! Errors name the file, line and column, never a value.

use crate::Detector;
use crate::error::DeidError;
use crate::replace::{Counts, Mode};
use crate::rules::Category;
use crate::surrogate::Surrogates;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::rc::Rc;

/// What happens to one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Copied unchanged.
    Keep,
    /// Left out of the output.
    Drop,
    /// Keyed hash ([`Surrogates::hash`]).
    Hash,
    /// Consistent surrogate of this category ([`Surrogates::pseudonym`]).
    Pseudonym(Category),
    /// Shifted by the row patient's date shift.
    DateShift,
    /// A date cut to its year.
    Year,
    /// A number cut to a bucket of this width.
    Bucket(f64),
    /// ZIP code cut to 3 digits ([`crate::surrogate::zip3`]).
    Zip3,
    /// Age, over 89 as `90+`.
    Age,
    /// Free text: PHI found and replaced in this mode.
    Text(Mode),
}

/// What to do with a value an action cannot read (a date that is no date...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBad {
    /// Stop with an error naming line and column.
    Error,
    /// Write an empty cell and count it under `blanked`.
    Blank,
}

impl OnBad {
    /// Reads a policy's `on_bad_value` (`error` or `blank`; `default` when unset).
    pub fn parse(v: Option<&str>, default: OnBad) -> Result<OnBad, String> {
        match v {
            None => Ok(default),
            Some("error") => Ok(OnBad::Error),
            Some("blank") => Ok(OnBad::Blank),
            Some(o) => Err(format!("on_bad_value must be error or blank, not {o:?}")),
        }
    }
}

/// A column policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// For columns the policy does not name: `Keep` or `Drop`.
    pub default: Action,
    /// The column whose value selects each row's date shift; without one, all rows share
    /// the shift of patient `""`.
    pub patient: Option<String>,
    /// What to do with unreadable values.
    pub on_bad: OnBad,
    /// The delimiter the policy asks for.
    pub delimiter: Option<u8>,
    /// The named columns, in the policy's order.
    pub columns: Vec<(String, Action)>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    default: Option<String>,
    patient: Option<String>,
    mode: Option<String>,
    on_bad_value: Option<String>,
    delimiter: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, toml::Value>,
}

impl Policy {
    /// Reads a policy from its TOML text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, DeidError> {
        let bad = |reason: String| DeidError::Policy {
            file: file.to_owned(),
            reason,
        };
        let p: PolicyFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let default = match p.default.as_deref().unwrap_or("drop") {
            "drop" => Action::Drop,
            "keep" => Action::Keep,
            other => return Err(bad(format!("default must be drop or keep, not {other:?}"))),
        };
        let mode: Mode = match &p.mode {
            Some(m) => m.parse().map_err(bad)?,
            None => Mode::Tags,
        };
        let on_bad = OnBad::parse(p.on_bad_value.as_deref(), OnBad::Error).map_err(bad)?;
        let delimiter = match p.delimiter.as_deref() {
            None => None,
            Some(d) => Some(parse_delimiter(d).ok_or_else(|| {
                bad(format!(
                    "delimiter must be \",\", \"tab\", \";\" or \"|\", not {d:?}"
                ))
            })?),
        };
        if p.columns.is_empty() {
            return Err(bad("the policy names no column ([columns])".to_owned()));
        }
        let mut columns = Vec::new();
        for (name, v) in &p.columns {
            let action = column_action(v, mode).map_err(|r| bad(format!("column {name}: {r}")))?;
            columns.push((name.clone(), action));
        }
        Ok(Self {
            default,
            patient: p.patient,
            on_bad,
            delimiter,
            columns,
        })
    }

    /// Whether any column needs the key (all but keep, drop, zip3, age, generalise, and
    /// text in tags or mask mode).
    pub fn needs_key(&self) -> bool {
        self.columns.iter().any(|(_, a)| {
            !matches!(
                a,
                Action::Keep
                    | Action::Drop
                    | Action::Zip3
                    | Action::Age
                    | Action::Year
                    | Action::Bucket(_)
                    | Action::Text(Mode::Tags | Mode::Mask)
            )
        })
    }
}

/// `","`, `"tab"` (or a tab), `";"`, `"|"`.
pub fn parse_delimiter(d: &str) -> Option<u8> {
    match d {
        "," | "comma" => Some(b','),
        "\t" | "tab" | "\\t" => Some(b'\t'),
        ";" => Some(b';'),
        "|" => Some(b'|'),
        _ => None,
    }
}

/// The delimiter a file name suggests: tab for `.tsv` and `.tab`, else comma.
pub fn delimiter_for(path: &std::path::Path) -> u8 {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("tsv" | "tab") => b'\t',
        _ => b',',
    }
}

fn column_action(v: &toml::Value, mode: Mode) -> Result<Action, String> {
    let (name, t) = crate::action::name_and_table(v)?;
    let get = |k: &str| t.and_then(|t| t.get(k));
    if let Some(t) = t {
        let allowed: &[&str] = match name {
            "pseudonym" => &["action", "category"],
            "generalise" | "generalize" => &["action", "to", "bucket"],
            "text" => &["action", "mode"],
            _ => &["action"],
        };
        if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown key {k:?} for action {name}"));
        }
    }
    Ok(match name {
        "keep" => Action::Keep,
        "drop" => Action::Drop,
        "hash" => Action::Hash,
        "date_shift" => Action::DateShift,
        "zip3" => Action::Zip3,
        "age" => Action::Age,
        "pseudonym" => {
            let c = get("category").and_then(|c| c.as_str()).ok_or(
                "pseudonym needs category = \"PTName\" (or HCPName, Location, Phone, ID...)",
            )?;
            Action::Pseudonym(Category::parse(c).ok_or_else(|| format!("unknown category {c:?}"))?)
        }
        "generalise" | "generalize" => match (get("to").and_then(|x| x.as_str()), get("bucket")) {
            (Some("year"), None) => Action::Year,
            (None, Some(b)) => {
                let w = b
                    .as_float()
                    .or_else(|| b.as_integer().map(|i| i as f64))
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .ok_or("bucket must be a positive number")?;
                Action::Bucket(w)
            }
            _ => return Err("generalise needs to = \"year\" or bucket = WIDTH".into()),
        },
        "text" => match get("mode").and_then(|m| m.as_str()) {
            Some(m) => Action::Text(m.parse()?),
            None => Action::Text(mode),
        },
        other => {
            return Err(format!(
                "unknown action {other:?} (keep, drop, hash, pseudonym, date_shift, generalise, zip3, age, text)"
            ));
        }
    })
}

/// Limits for [`deid_table`].
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Field delimiter.
    pub delimiter: u8,
    /// Longest record accepted, in bytes (memory stays bounded by about this much).
    pub max_record: usize,
}

/// The default longest record: 8 MiB.
pub const MAX_RECORD: usize = 8 << 20;

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            max_record: MAX_RECORD,
        }
    }
}

/// What a table run did (no PHI).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TableReport {
    /// Data records (rows after the header).
    pub records: u64,
    /// Values changed, by category or action.
    pub counts: Counts,
    /// Columns written.
    pub columns_written: usize,
    /// Columns dropped.
    pub columns_dropped: usize,
}

/// A reader that fails once more than `max` bytes were read past the last record start.
struct Bounded<R> {
    inner: R,
    read: u64,
    mark: Rc<Cell<u64>>,
    max: u64,
}

const TOO_LONG: &str = "ward-deid: record too long";

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.saturating_sub(self.mark.get()) > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TOO_LONG,
            ));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn year_of(v: &str) -> Option<String> {
    let t = v.trim();
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(t.to_owned());
    }
    crate::date::year(v).map(|y| format!("{y:04}"))
}

fn bucket(v: &str, w: f64) -> Option<String> {
    let x: f64 = v.trim().parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    let lo = (x / w).floor() * w;
    Some(format!("{lo}-{}", lo + w))
}

/// De-identifies one CSV/TSV table from `input` to `output` under `policy`. `file` names the
/// input in errors. The first row must be a header; every column the policy names (and its
/// patient column) must be in it.
pub fn deid_table(
    file: &str,
    input: impl Read,
    output: impl Write,
    policy: &Policy,
    opts: &TableOptions,
    s: &Surrogates,
    detector: &Detector,
) -> Result<TableReport, DeidError> {
    let mark = Rc::new(Cell::new(0u64));
    let bounded = Bounded {
        inner: input,
        read: 0,
        mark: Rc::clone(&mark),
        max: opts.max_record as u64 + (64 << 10),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .quoting(opts.delimiter != b'\t')
        .has_headers(true)
        .flexible(false)
        .from_reader(bounded);
    let malformed = |line: u64, reason: String| DeidError::Malformed {
        file: file.to_owned(),
        line,
        reason,
    };
    let headers = rdr
        .headers()
        .map_err(|e| csv_error(file, e, &[], opts.max_record, 1))?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers.get(0) == Some("")) {
        return Err(malformed(1, "empty table (no header row)".to_owned()));
    }
    let names: Vec<String> = headers.iter().map(str::to_owned).collect();
    let find = |name: &str| -> Result<usize, DeidError> {
        let hits: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, h)| h.trim() == name)
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => Err(DeidError::Policy {
                file: file.to_owned(),
                reason: format!("the policy names column {name:?}, which the header lacks"),
            }),
            _ => Err(malformed(
                1,
                format!("column {name:?} appears more than once"),
            )),
        }
    };
    let mut actions: Vec<Action> = vec![policy.default.clone(); names.len()];
    for (name, a) in &policy.columns {
        let i = find(name)?;
        if let Some(slot) = actions.get_mut(i) {
            *slot = a.clone();
        }
    }
    let patient_col = policy.patient.as_deref().map(find).transpose()?;
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .quote_style(if opts.delimiter == b'\t' {
            csv::QuoteStyle::Never
        } else {
            csv::QuoteStyle::Necessary
        })
        .from_writer(output);
    let kept: Vec<usize> = (0..names.len())
        .filter(|&i| actions.get(i) != Some(&Action::Drop))
        .collect();
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => DeidError::io("output", e),
        _ => DeidError::io("output", std::io::Error::other("cannot write the table")),
    };
    wtr.write_record(kept.iter().filter_map(|&i| names.get(i)))
        .map_err(io)?;
    let mut report = TableReport {
        columns_written: kept.len(),
        columns_dropped: names.len() - kept.len(),
        ..TableReport::default()
    };
    let mut finder = detector.session();
    let mut rec = csv::StringRecord::new();
    let mut out: Vec<String> = Vec::with_capacity(kept.len());
    loop {
        mark.set(rdr.position().byte());
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let at = rdr.position().line();
                return Err(csv_error(file, e, &names, opts.max_record, at));
            }
        }
        let line = rec.position().map_or(0, csv::Position::line);
        if rec.as_slice().len() > opts.max_record {
            return Err(malformed(
                line,
                format!("record longer than {} bytes", opts.max_record),
            ));
        }
        report.records += 1;
        let patient = patient_col.and_then(|i| rec.get(i)).unwrap_or_default();
        out.clear();
        for &i in &kept {
            let v = rec.get(i).unwrap_or_default();
            let action = actions.get(i).unwrap_or(&Action::Drop);
            let column = names.get(i).map_or("", String::as_str);
            if v.trim().is_empty() || *action == Action::Keep {
                out.push(v.to_owned());
                continue;
            }
            let (new, what): (Option<String>, &'static str) = match action {
                Action::Keep | Action::Drop => (Some(v.to_owned()), ""),
                Action::Hash => (Some(s.hash(v)), "hash"),
                Action::Pseudonym(c) => (Some(s.pseudonym(*c, v)), c.as_str()),
                Action::DateShift => (s.shift_date(patient, v), "Date"),
                Action::Year => (year_of(v), "generalised"),
                Action::Bucket(w) => (bucket(v, *w), "generalised"),
                Action::Zip3 => (crate::surrogate::zip3(v), "ZIP"),
                Action::Age => (crate::surrogate::age_checked(v), "Age"),
                Action::Text(mode) => {
                    let found = finder.find(v);
                    let (t, c) = crate::replace::replace(v, &found, *mode, patient, s);
                    report.counts.merge(&c);
                    (Some(t), "")
                }
            };
            match new {
                Some(n) => {
                    if !what.is_empty() {
                        report.counts.add(what, 1);
                    }
                    out.push(n);
                }
                None if policy.on_bad == OnBad::Blank => {
                    report.counts.add("blanked", 1);
                    out.push(String::new());
                }
                None => {
                    return Err(DeidError::Field {
                        file: file.to_owned(),
                        line,
                        column: column.to_owned(),
                        reason: format!(
                            "{} cannot read this value (fix it, drop the column, or set on_bad_value = \"blank\")",
                            action_name(action)
                        ),
                    });
                }
            }
        }
        wtr.write_record(&out).map_err(io)?;
    }
    wtr.flush().map_err(|e| DeidError::io("output", e))?;
    Ok(report)
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Keep => "keep",
        Action::Drop => "drop",
        Action::Hash => "hash",
        Action::Pseudonym(_) => "pseudonym",
        Action::DateShift => "date_shift",
        Action::Year | Action::Bucket(_) => "generalise",
        Action::Zip3 => "zip3",
        Action::Age => "age",
        Action::Text(_) => "text",
    }
}

/// A CSV error as a [`DeidError`] naming line and column, never the content.
fn csv_error(file: &str, e: csv::Error, names: &[String], max: usize, at: u64) -> DeidError {
    let line = e.position().map_or(at, csv::Position::line);
    let malformed = |line: u64, reason: String| DeidError::Malformed {
        file: file.to_owned(),
        line,
        reason,
    };
    match e.into_kind() {
        csv::ErrorKind::Io(io) if io.to_string() == TOO_LONG => {
            malformed(line.max(1), format!("record longer than {max} bytes"))
        }
        csv::ErrorKind::Io(io) => DeidError::io(file, io),
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.map_or(line, |p| p.line());
            let column = names
                .get(err.field())
                .cloned()
                .unwrap_or_else(|| format!("#{}", err.field() + 1));
            DeidError::Field {
                file: file.to_owned(),
                line,
                column,
                reason: "not UTF-8".to_owned(),
            }
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => malformed(
            pos.map_or(line, |p| p.line()),
            format!("{len} fields where the header has {expected_len}"),
        ),
        _ => malformed(line, "malformed CSV".to_owned()),
    }
}
