//! Errors of the claims readers and models. They name the file, line and column, never a
//! cell's value (claims identify patients).

use thiserror::Error;

/// What went wrong.
#[derive(Debug, Error)]
pub enum FraudError {
    /// A row that cannot be read.
    #[error("{file}: line {line}: {reason}")]
    Row {
        /// The file's name as the caller gave it.
        file: String,
        /// 1-based line (the header is line 1).
        line: u64,
        /// What is wrong, naming the column, not the value.
        reason: String,
    },
    /// A required column is missing from the header.
    #[error("{file}: no column {column} in the header{hint}")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column the contract needs.
        column: String,
        /// A hint (the mapping in use), or empty.
        hint: String,
    },
    /// The file cannot be read at all.
    #[error("{file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A model that cannot be trained or read.
    #[error("model: {0}")]
    Model(String),
    /// Inconsistent input.
    #[error("{0}")]
    Data(String),
}
