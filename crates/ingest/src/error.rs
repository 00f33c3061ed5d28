//! Errors and counters.
//!
//! A bad record is a [`RecordError`]: counted, reported with source and line, and iteration goes
//! on. Everything else ([`IngestError::is_fatal`]) ends the stream.

use std::fmt;

/// How many record errors [`IngestStats::errors`] keeps; later ones are only counted.
pub const MAX_KEPT_ERRORS: usize = 100;

/// One record that could not be parsed. Its reason names the field and the problem, never the
/// whole raw line (which may carry PHI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Source name: the file path, or `stdin`.
    pub source: String,
    /// 1-based line number (for pcap: packet number).
    pub line: u64,
    /// What is wrong, e.g. `field id.orig_p: invalid port "7000000"`.
    pub reason: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

impl std::error::Error for RecordError {}

/// Everything that can go wrong while reading flows.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input could not be opened.
    #[error("{input}: cannot open: {err}")]
    Open {
        input: String,
        #[source]
        err: std::io::Error,
    },
    /// Reading failed part-way (after `line` complete lines).
    #[error("{input}:{line}: read error: {err}")]
    Io {
        input: String,
        line: u64,
        #[source]
        err: std::io::Error,
    },
    /// The gzip layer failed: a truncated or corrupt `.gz` file.
    #[error("{input}:{line}: truncated or corrupt gzip stream: {err}")]
    Gzip {
        input: String,
        line: u64,
        #[source]
        err: std::io::Error,
    },
    /// No format was given and none could be recognised from the content or file name.
    #[error("{input}: unknown input format; known formats: {known} (pass one explicitly)")]
    UnknownFormat {
        input: String,
        /// The known format names, comma separated.
        known: String,
    },
    /// No format was given and the input is empty, so there is nothing to recognise.
    #[error("{input}: input is empty, cannot detect its format")]
    Empty { input: String },
    /// A header or structural problem that makes the rest of the input unreadable
    /// (missing CSV column, Zeek log of the wrong kind, unsupported link type).
    #[error("{input}{}: {reason}", at(.line))]
    Header {
        input: String,
        line: u64,
        reason: String,
    },
    /// A malformed or truncated capture file: reading stops at packet `packet`.
    #[error("{input}: packet {packet}: {reason}")]
    Capture {
        input: String,
        packet: u64,
        reason: String,
    },
    /// Invalid [`crate::ReadOptions`].
    #[error("invalid read options: {reason}")]
    Options { reason: String },
    /// One bad record; not fatal, iteration continues.
    #[error("{0}")]
    Record(RecordError),
}

/// `:line`, or nothing for line 0 (a problem before the first line, such as a capture header).
fn at(line: &u64) -> String {
    if *line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

impl IngestError {
    /// True for errors after which the reader yields nothing more. A [`IngestError::Record`]
    /// is the only non-fatal error.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::Record(_))
    }
}

/// Counters a reader keeps while it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Records parsed into flows.
    pub records: u64,
    /// Records that could not be parsed (each yielded as an [`IngestError::Record`]).
    pub bad: u64,
    /// Well-formed records of a kind this reader does not turn into flows (Suricata events other
    /// than `flow`/`alert`, Zeek JSON lines of another log, non-IP packets, IP fragments after
    /// the first).
    pub skipped: u64,
    /// The first [`MAX_KEPT_ERRORS`] record errors.
    pub errors: Vec<RecordError>,
}

impl IngestStats {
    pub(crate) fn push_error(&mut self, e: &RecordError) {
        self.bad += 1;
        if self.errors.len() < MAX_KEPT_ERRORS {
            self.errors.push(e.clone());
        }
    }
}
