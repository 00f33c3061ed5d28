//! De-identification for ward (issue 6, in progress): the PhysioNet gold-standard formats
//! ([`physionet`]), span scoring with the PhysioNet convention ([`score`]) and a first,
//! rule-based PHI finder ([`rules`]). Dictionaries, a learned classifier and replacement come
//! next.

pub mod action;
pub mod date;
pub mod error;
pub mod fhir;
pub mod hl7;
pub mod key;
pub mod manifest;
pub mod output;
pub mod physionet;
pub mod replace;
pub mod rules;
pub mod score;
pub mod surrogate;
pub mod table;

pub use error::DeidError;
pub use key::Key;
pub use physionet::{GoldSpan, Note, read_notes, read_phrases};
pub use replace::{Counts, Mode, replace};
pub use rules::{Category, Found};
pub use score::{Score, Span, score};
pub use surrogate::Surrogates;

/// The PHI finder for free text: every layer the de-identifier has, combined. Build one and
/// share it; [`Detector::find`] is pure and thread-safe.
#[derive(Debug, Default)]
pub struct Detector {
    _private: (),
}

impl Detector {
    /// The default detector (rules; dictionaries and the learned classifier join as they land).
    pub fn new() -> Self {
        Self::default()
    }

    /// The PHI spans of `text`, in byte offsets, sorted by start and not overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        rules::find(text)
    }
}

/// Character offsets of byte offsets into `text` (for formats that count characters).
pub fn char_offsets(text: &str, bytes: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut chars = 0usize;
    let mut last = 0usize;
    for &b in bytes {
        let b = b.min(text.len());
        if b >= last {
            chars += text.get(last..b).map_or(0, |s| s.chars().count());
        } else {
            chars = text.get(..b).map_or(0, |s| s.chars().count());
        }
        last = b;
        out.push(chars);
    }
    out
}
