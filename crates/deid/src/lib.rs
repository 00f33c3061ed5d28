//! De-identification for ward (issue 6, in progress): the PhysioNet gold-standard formats
//! ([`physionet`]) and span scoring with the PhysioNet convention ([`score`]). Detection and
//! replacement come next.

pub mod error;
pub mod physionet;
pub mod score;

pub use error::DeidError;
pub use physionet::{GoldSpan, Note, read_notes, read_phrases};
pub use score::{Score, Span, score};
