//! De-identification for ward (issue 6, in progress): the PhysioNet gold-standard formats
//! ([`physionet`]), span scoring with the PhysioNet convention ([`score`]) and a first,
//! rule-based PHI finder ([`rules`]). Dictionaries, a learned classifier and replacement come
//! next.

pub mod error;
pub mod physionet;
pub mod rules;
pub mod score;

pub use error::DeidError;
pub use physionet::{GoldSpan, Note, read_notes, read_phrases};
pub use score::{Score, Span, score};

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
