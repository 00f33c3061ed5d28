//! Message sources that hold several messages: the `nazario` CSV layout (sender, receiver,
//! date, subject, body, urls and an optional label) and mbox files. The caller reads the
//! bytes; these functions only split and parse them.

use crate::error::PhishError;
use crate::mail::{Limits, Mail};

/// One row of a `nazario`-layout CSV.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based data row (the header line is row 0).
    pub row: u64,
    /// The message.
    pub mail: Mail,
    /// The `label` column when present (1: phishing, 0: not).
    pub label: Option<u8>,
}

/// Reads a `nazario`-layout CSV: a header naming at least `sender`, `subject` and `body`
/// (`urls` and `label` optional, any order, other columns ignored). A row that is not valid
/// CSV, or lacks a column, is an error naming the file and row.
pub fn read_nazario(
    data: impl std::io::Read,
    file: &str,
    limits: &Limits,
) -> Result<Vec<Row>, PhishError> {
    let err = |row: u64, reason: String| PhishError::Csv {
        file: file.to_string(),
        row,
        reason,
    };
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let header = r
        .headers()
        .map_err(|e| err(0, format!("cannot read the header: {}", csv_reason(&e))))?
        .clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(sender), Some(subject), Some(body)) = (col("sender"), col("subject"), col("body"))
    else {
        return Err(err(
            0,
            "the header must name the columns sender, subject and body".into(),
        ));
    };
    let (urls, label) = (col("urls"), col("label"));
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i as u64 + 1;
        let rec = rec.map_err(|e| err(row, csv_reason(&e)))?;
        let get = |c: usize| rec.get(c).unwrap_or_default();
        let flag = |c: Option<usize>, what: &str| -> Result<Option<u8>, PhishError> {
            match c.map(|c| get(c).trim()) {
                None | Some("") => Ok(None),
                Some("0") => Ok(Some(0)),
                Some("1") => Ok(Some(1)),
                Some(_) => Err(err(row, format!("the {what} column must be 0 or 1"))),
            }
        };
        let has_urls = flag(urls, "urls")?.unwrap_or(0) == 1;
        let label = flag(label, "label")?;
        out.push(Row {
            row,
            mail: Mail::from_fields(get(sender), get(subject), get(body), has_urls, limits),
            label,
        });
    }
    Ok(out)
}

/// A CSV error's reason without the record's content.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => "malformed CSV".into(),
    }
}

/// Splits an mbox file into its messages: each starts at a line beginning `From ` at the
/// start of the file or after an empty line (the `From ` line stays with its message).
pub fn split_mbox(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut at = 0usize;
    let mut prev_empty = true;
    while at < data.len() {
        let end = data
            .get(at..)
            .and_then(|d| d.iter().position(|&b| b == b'\n'))
            .map_or(data.len(), |i| at + i + 1);
        let line = data.get(at..end).unwrap_or_default();
        if prev_empty && line.starts_with(b"From ") {
            starts.push(at);
        }
        prev_empty = line.iter().all(|b| matches!(b, b'\r' | b'\n'));
        at = end;
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let e = starts.get(i + 1).copied().unwrap_or(data.len());
            data.get(s..e).unwrap_or_default()
        })
        .collect()
}

/// The messages of a file: an mbox file (it begins with a `From ` line) split into its
/// messages, anything else as one message.
pub fn messages(data: &[u8]) -> Vec<&[u8]> {
    if data.starts_with(b"From ") {
        split_mbox(data)
    } else {
        vec![data]
    }
}

/// One URL of a URL list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRow {
    /// 1-based line (plain list) or data row (CSV).
    pub row: u64,
    /// The URL.
    pub url: String,
    /// Its label when the file has one (`status`: phishing/legitimate, or `label`: 1/0).
    pub phishing: Option<bool>,
}

/// Reads a list of URLs: a CSV whose header names a `url` column (and optionally `status`
/// with `phishing`/`legitimate` or `label` with 1/0), or plain text with one URL per line
/// (empty lines and lines starting with `#` skipped).
pub fn read_urls(data: &[u8], file: &str) -> Result<Vec<UrlRow>, PhishError> {
    let err = |row: u64, reason: String| PhishError::Csv {
        file: file.to_string(),
        row,
        reason,
    };
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let is_csv = String::from_utf8_lossy(first)
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case("url"));
    if !is_csv {
        let text = std::str::from_utf8(data).map_err(|e| {
            let line = data
                .get(..e.valid_up_to())
                .map_or(0, |d| d.iter().filter(|&&b| b == b'\n').count());
            err(line as u64 + 1, "not valid UTF-8".into())
        })?;
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| UrlRow {
                row: i as u64 + 1,
                url: l.trim().to_string(),
                phishing: None,
            })
            .collect());
    }
    let mut r = csv::ReaderBuilder::new().from_reader(data);
    let header = r.headers().map_err(|e| err(0, csv_reason(&e)))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let url_col = col("url").ok_or_else(|| err(0, "no url column".into()))?;
    let (status, label) = (col("status"), col("label"));
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i as u64 + 1;
        let rec = rec.map_err(|e| err(row, csv_reason(&e)))?;
        let get = |c: usize| rec.get(c).unwrap_or_default().trim();
        let phishing = match (status.map(get), label.map(get)) {
            (Some(s), _) if s.eq_ignore_ascii_case("phishing") => Some(true),
            (Some(s), _) if s.eq_ignore_ascii_case("legitimate") => Some(false),
            (Some(s), _) if !s.is_empty() => {
                return Err(err(row, "status must be phishing or legitimate".into()));
            }
            (_, Some("1")) => Some(true),
            (_, Some("0")) => Some(false),
            (_, Some(l)) if !l.is_empty() => return Err(err(row, "label must be 0 or 1".into())),
            _ => None,
        };
        out.push(UrlRow {
            row,
            url: get(url_col).to_string(),
            phishing,
        });
    }
    Ok(out)
}
