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

/// Reads every note of a `*.text` file (all in memory; [`notes`] reads one at a time).
pub fn read_notes(file: &str, r: impl BufRead) -> Result<Vec<Note>, DeidError> {
    notes(file, r).collect()
}

/// The notes of a `*.text` file, read one at a time: memory holds one note and one line
/// (at most [`MAX_LINE`] bytes), whatever the size of the file. The errors are those of
/// [`read_notes`] (a record without its end marker, a bad header, invalid UTF-8, a line over
/// [`MAX_LINE`]; each naming the file and line, never the text); after an error the
/// iterator ends.
pub fn notes<R: BufRead>(file: &str, r: R) -> Notes<R> {
    Notes {
        file: file.to_owned(),
        r,
        line: 0,
        buf: Vec::new(),
        done: false,
    }
}

/// An iterator over the notes of a `*.text` file (see [`notes`]).
#[derive(Debug)]
pub struct Notes<R> {
    file: String,
    r: R,
    /// Lines read so far.
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Notes<R> {
    fn bad(&self, line: u64, reason: &str) -> DeidError {
        DeidError::Malformed {
            file: self.file.clone(),
            line,
            reason: reason.to_owned(),
        }
    }

    /// The next line (without its `\n`) into `self.buf`; `false` at the end of the input.
    fn next_line(&mut self) -> Result<bool, DeidError> {
        use std::io::Read;
        self.buf.clear();
        // one byte more than a line may hold, so that a longer line is seen without
        // reading all of it
        let limit = MAX_LINE as u64 + 1;
        let n = (&mut self.r)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| DeidError::Io {
                file: self.file.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.len() > MAX_LINE {
            return Err(self.bad(self.line, &format!("line longer than {MAX_LINE} bytes")));
        }
        Ok(true)
    }

    fn next_note(&mut self) -> Result<Option<Note>, DeidError> {
        let mut open: Option<Note> = None;
        while self.next_line()? {
            let n = self.line;
            let text = std::str::from_utf8(&self.buf).map_err(|_| self.bad(n, "not UTF-8"))?;
            match open.as_mut() {
                None => {
                    if text.trim().is_empty() {
                        continue;
                    }
                    let head = text
                        .trim_end_matches('\r')
                        .strip_prefix("START_OF_RECORD=")
                        .ok_or_else(|| {
                            self.bad(n, "expected START_OF_RECORD=<patient>||||<note>||||")
                        })?;
                    let mut it = head.split("||||");
                    let num = |s: Option<&str>| s.and_then(|x| x.trim().parse::<u32>().ok());
                    let (Some(patient), Some(note)) = (num(it.next()), num(it.next())) else {
                        return Err(
                            self.bad(n, "the record header needs a patient and a note number")
                        );
                    };
                    open = Some(Note {
                        patient,
                        note,
                        body: String::new(),
                        line: n,
                    });
                }
                Some(cur) => {
                    // most lines hold no `|` at all: skip the substring search there
                    if let Some(pos) =
                        memchr::memchr(b'|', self.buf.as_slice()).and_then(|_| text.find(END))
                    {
                        cur.body.push_str(text.get(..pos).unwrap_or_default());
                        return Ok(open);
                    }
                    cur.body.push_str(text);
                    cur.body.push('\n');
                }
            }
        }
        match open {
            Some(cur) => Err(self.bad(
                cur.line,
                "record without ||||END_OF_RECORD (truncated file?)",
            )),
            None => Ok(None),
        }
    }
}

impl<R: BufRead> Iterator for Notes<R> {
    type Item = Result<Note, DeidError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_note();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
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
