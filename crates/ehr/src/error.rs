//! Errors of the EHR loaders and detector. Messages never echo field values: they may be PHI.

/// Everything that can go wrong loading EHR files or configuring the detector.
#[derive(Debug, thiserror::Error)]
pub enum EhrError {
    /// A file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// File name as given.
        file: String,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },
    /// The file has no header line at all.
    #[error("{file}: empty file (no header line)")]
    Empty {
        /// File name as given.
        file: String,
    },
    /// A required column is not in the header.
    #[error("{file}: missing required column {column:?}")]
    MissingColumn {
        /// File name as given.
        file: String,
        /// The missing column.
        column: &'static str,
    },
    /// A value could not be parsed. `line` is the 1-based line in the file; the reason never
    /// contains the value itself.
    #[error("{file}:{line}: column {column:?}: {reason}")]
    BadValue {
        /// File name as given.
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// Column (CSV) or JSON path (FHIR) of the bad value.
        column: &'static str,
        /// What is wrong, without the value.
        reason: String,
    },
    /// A line that is not a well-formed record (CSV syntax, JSON syntax, too few fields).
    #[error("{file}:{line}: {reason}")]
    Malformed {
        /// File name as given.
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong, without the content.
        reason: String,
    },
    /// A required file was not found in the input directory.
    #[error("missing input file {0} (see the ward-ehr README for the input contract)")]
    MissingFile(String),
    /// The configuration is invalid.
    #[error("ehr config: {0}")]
    Config(String),
}
