//! Errors of the phishing crate. None of them carries message content: a reason names what
//! was wrong and where (file, row, byte count), never a sender, a subject or a body.

use thiserror::Error;

/// Why a message could not be read as mail. A scan reports it as the verdict `unparseable`
/// with this reason instead of failing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unparseable {
    /// The message is larger than the configured limit.
    #[error("message is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Bytes in the message.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More header lines than the limit before the body starts.
    #[error("more than {limit} header lines")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// More MIME parts than the limit.
    #[error("{parts} MIME parts, over the limit of {limit}")]
    TooManyParts {
        /// Parts found.
        parts: usize,
        /// The limit.
        limit: usize,
    },
    /// Nothing that looks like an RFC 5322 message.
    #[error("no RFC 5322 header found")]
    NotMail,
    /// The input is empty.
    #[error("empty message")]
    Empty,
}

/// Errors of reading corpora and models.
#[derive(Debug, Error)]
pub enum PhishError {
    /// A CSV file of messages could not be read.
    #[error("{file}: row {row}: {reason}")]
    Csv {
        /// The file.
        file: String,
        /// 1-based data row (the header is row 0).
        row: u64,
        /// What was wrong.
        reason: String,
    },
    /// An input file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not a ward phishing model, or was altered.
    #[error("model: {0}")]
    Model(String),
    /// Training or evaluation could not run on the data given.
    #[error("{0}")]
    Data(String),
}
