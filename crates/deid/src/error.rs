//! Errors of the de-identification readers. Messages name the file and line, never the text.

/// A file that cannot be read as its format.
#[derive(Debug, thiserror::Error)]
pub enum DeidError {
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A malformed line or record.
    #[error("{file}:{line}: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong (never the line's content).
        reason: String,
    },
    /// A key file that cannot be used.
    #[error("key file {file}: {reason}")]
    Key {
        /// The key file.
        file: String,
        /// What is wrong (never the key).
        reason: String,
    },
    /// An output that exists already and may not be replaced.
    #[error("{file} exists already (refusing to overwrite it)")]
    Exists {
        /// The file.
        file: String,
    },
    /// A policy file that cannot be used.
    #[error("policy {file}: {reason}")]
    Policy {
        /// The policy file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A table cell or record that cannot be de-identified.
    #[error("{file}:{line}: column {column}: {reason}")]
    Field {
        /// The table file.
        file: String,
        /// 1-based line where the record starts.
        line: u64,
        /// The column's name (from the header).
        column: String,
        /// What is wrong (never the cell's value).
        reason: String,
    },
    /// An HL7 v2 message that cannot be de-identified.
    #[error("{file}: message {message} (line {line}): {reason}")]
    Hl7 {
        /// The input file.
        file: String,
        /// 1-based message number in the file.
        message: u64,
        /// 1-based segment line in the file.
        line: u64,
        /// What is wrong, naming the segment and field (never a value).
        reason: String,
    },
    /// FHIR JSON that cannot be de-identified.
    #[error("{file}: {location}: {reason}")]
    Fhir {
        /// The input file.
        file: String,
        /// Where: `line N` (NDJSON), `byte N`, or an element path.
        location: String,
        /// What is wrong (never a value).
        reason: String,
    },
    /// The random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl DeidError {
    /// An [`DeidError::Io`] for `file`.
    pub fn io(file: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_string(),
            source,
        }
    }
}
