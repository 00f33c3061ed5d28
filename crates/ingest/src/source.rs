//! The internal reader interface: every format is a [`Source`] of [`Item`]s; line formats are a
//! [`LineParser`] driven by a [`LineSource`].

use crate::error::IngestError;
use crate::input::{Line, LineReader, MAX_LINE_BYTES};
use ward_core::Flow;

/// What a source produces next.
// Flows are the common case: boxing them would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    Flow {
        line: u64,
        flow: Flow,
    },
    /// A well-formed record that is not a flow (counted in `stats.skipped`).
    Skipped,
    Bad {
        line: u64,
        reason: String,
    },
    Fatal(IngestError),
}

/// A stream of items; `None` once exhausted or after a fatal item.
pub(crate) trait Source: Send {
    fn next_item(&mut self) -> Option<Item>;
}

/// The outcome of one line.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Parsed {
    Flow(Flow),
    /// A header or comment line: not a record, not counted.
    Meta,
    /// A record of another kind: counted as skipped.
    Skipped,
}

/// Why a line failed.
pub(crate) enum LineError {
    /// This record is bad; go on with the next.
    Bad(String),
    /// The input cannot be read further (e.g. a Zeek header for another log).
    Fatal(String),
}

impl From<String> for LineError {
    fn from(s: String) -> Self {
        Self::Bad(s)
    }
}

/// Parses one line (without terminator, never empty) into a flow.
pub(crate) trait LineParser: Send {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError>;
}

/// Drives a [`LineParser`] over a [`LineReader`].
pub(crate) struct LineSource<P> {
    input: String,
    lines: LineReader,
    parser: P,
    gzip: bool,
    done: bool,
}

impl<P: LineParser> LineSource<P> {
    pub fn new(input: String, lines: LineReader, parser: P, gzip: bool) -> Self {
        Self {
            input,
            lines,
            parser,
            gzip,
            done: false,
        }
    }
}

impl<P: LineParser> Source for LineSource<P> {
    fn next_item(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        loop {
            let line_no = self.lines.line_no;
            let (line, text) = match self.lines.next_line() {
                Ok(Line::Text(n, t)) => (n, t),
                Ok(Line::TooLong(line)) => {
                    return Some(Item::Bad {
                        line,
                        reason: format!("line longer than {MAX_LINE_BYTES} bytes"),
                    });
                }
                Ok(Line::Eof) => {
                    self.done = true;
                    return None;
                }
                Err(err) => {
                    self.done = true;
                    let input = self.input.clone();
                    return Some(Item::Fatal(if self.gzip {
                        IngestError::Gzip {
                            input,
                            line: line_no,
                            err,
                        }
                    } else {
                        IngestError::Io {
                            input,
                            line: line_no,
                            err,
                        }
                    }));
                }
            };
            if text.trim_ascii().is_empty() {
                continue;
            }
            match self.parser.parse(text) {
                Ok(Parsed::Flow(flow)) => return Some(Item::Flow { line, flow }),
                Ok(Parsed::Meta) => {}
                Ok(Parsed::Skipped) => return Some(Item::Skipped),
                Err(LineError::Bad(reason)) => return Some(Item::Bad { line, reason }),
                Err(LineError::Fatal(reason)) => {
                    self.done = true;
                    return Some(Item::Fatal(IngestError::Header {
                        input: self.input.clone(),
                        line,
                        reason,
                    }));
                }
            }
        }
    }
}
