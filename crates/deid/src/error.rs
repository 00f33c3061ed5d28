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
}
