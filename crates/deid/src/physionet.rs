//! The PhysioNet deid gold-standard formats (Neamatullah et al., 2008).
//!
//! - `*.text`: notes, each `START_OF_RECORD=<patient>||||<note>||||` on its own line, then the
//!   body, then `||||END_OF_RECORD`. Offsets count characters from the start of the body (the
//!   character after the header line's newline).
//! - `*.phi.phrase`: one gold span per line, `patient note start end Category phrase`.

use crate::error::DeidError;
use std::io::BufRead;

/// One note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Patient number.
    pub patient: u32,
    /// Note number within the patient.
    pub note: u32,
    /// The body, exactly as between the header line and `||||END_OF_RECORD`.
    pub body: String,
    /// 1-based line of the header in the file.
    pub line: u64,
}

/// One gold PHI span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldSpan {
    /// Patient number.
    pub patient: u32,
    /// Note number.
    pub note: u32,
    /// First character (0-based, in characters of the body).
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// PHI category (`HCPName`, `Date`, `Location`, ...).
    pub category: String,
}

/// Longest line accepted, in bytes.
pub const MAX_LINE: usize = 1 << 20;

const END: &str = "||||END_OF_RECORD";

/// Reads every note of a `*.text` file.
pub fn read_notes(file: &str, r: impl BufRead) -> Result<Vec<Note>, DeidError> {
    let bad = |line: u64, reason: &str| DeidError::Malformed {
        file: file.to_owned(),
        line,
        reason: reason.to_owned(),
    };
    let mut notes = Vec::new();
    let mut open: Option<Note> = None;
    for (i, line) in r.split(b'\n').enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|source| DeidError::Io {
            file: file.to_owned(),
            source,
        })?;
        if line.len() > MAX_LINE {
            return Err(bad(n, &format!("line longer than {MAX_LINE} bytes")));
        }
        let text = std::str::from_utf8(&line).map_err(|_| bad(n, "not UTF-8"))?;
        match open.as_mut() {
            None => {
                if text.trim().is_empty() {
                    continue;
                }
                let head = text
                    .trim_end_matches('\r')
                    .strip_prefix("START_OF_RECORD=")
                    .ok_or_else(|| bad(n, "expected START_OF_RECORD=<patient>||||<note>||||"))?;
                let mut it = head.split("||||");
                let num = |s: Option<&str>| s.and_then(|x| x.trim().parse::<u32>().ok());
                let (Some(patient), Some(note)) = (num(it.next()), num(it.next())) else {
                    return Err(bad(
                        n,
                        "the record header needs a patient and a note number",
                    ));
                };
                open = Some(Note {
                    patient,
                    note,
                    body: String::new(),
                    line: n,
                });
            }
            Some(cur) => {
                if let Some(pos) = text.find(END) {
                    cur.body.push_str(text.get(..pos).unwrap_or_default());
                    if let Some(done) = open.take() {
                        notes.push(done);
                    }
                } else {
                    cur.body.push_str(text);
                    cur.body.push('\n');
                }
            }
        }
    }
    if let Some(cur) = open {
        return Err(bad(
            cur.line,
            "record without ||||END_OF_RECORD (truncated file?)",
        ));
    }
    Ok(notes)
}

/// Reads every gold span of a `*.phi.phrase` file.
pub fn read_phrases(file: &str, r: impl BufRead) -> Result<Vec<GoldSpan>, DeidError> {
    let mut out = Vec::new();
    for (i, line) in r.split(b'\n').enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|source| DeidError::Io {
            file: file.to_owned(),
            source,
        })?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        let mut it = text.splitn(6, ' ');
        let mut num = |what: &str| {
            it.next()
                .and_then(|x| x.parse::<usize>().ok())
                .ok_or_else(|| DeidError::Malformed {
                    file: file.to_owned(),
                    line: n,
                    reason: format!(
                        "expected `patient note start end Category phrase`: bad {what}"
                    ),
                })
        };
        let (patient, note, start, end) =
            (num("patient")?, num("note")?, num("start")?, num("end")?);
        let category = it.next().unwrap_or_default().to_owned();
        if category.is_empty() || end <= start {
            return Err(DeidError::Malformed {
                file: file.to_owned(),
                line: n,
                reason: "a span needs start < end and a category".to_owned(),
            });
        }
        out.push(GoldSpan {
            patient: u32::try_from(patient).unwrap_or(u32::MAX),
            note: u32::try_from(note).unwrap_or(u32::MAX),
            start,
            end,
            category,
        });
    }
    Ok(out)
}
