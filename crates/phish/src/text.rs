//! The features the learned model reads from a message: the words and word pairs of its
//! subject and text (addresses and URLs taken out, digits folded), whether it has links, and
//! the signals that any message shows whatever its source (sender and language signals; the
//! header, link-target and attachment signals are left to the rules, since a corpus of bare
//! text rows cannot teach them).

use crate::mail::Mail;
use crate::signals::Signal;

/// Characters of text turned into features (the rest of a long message adds little).
const FEATURE_TEXT: usize = 20_000;

/// A feature: its hashed id and the words it stands for (kept to explain a score).
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Stable 32-bit hash of the feature's name.
    pub id: u32,
    /// The feature's name (`w:account`, `b:verify_your`, `s:urgent`, `sig:text.urgency`).
    pub name: String,
}

/// FNV-1a, 32 bits: stable across platforms and versions, so a model file means the same
/// everywhere.
pub fn hash(s: &str) -> u32 {
    hash_parts(&[s])
}

/// [`hash`] of the concatenation of `parts`, without building it.
pub fn hash_parts(parts: &[&str]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in p.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// A text lower-cased character by character (the form [`lower_words`] reads).
pub fn lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars().flat_map(char::to_lowercase).collect()
}

/// The words of a lower-cased text ([`lower`]): runs of letters 2 to 30 long; a
/// whitespace-separated token holding an address or URL is the one word `<link>`.
pub fn lower_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        if raw.contains('@') || raw.contains("://") || raw.starts_with("www.") {
            out.push("<link>");
            continue;
        }
        for w in raw.split(|c: char| !c.is_alphabetic()) {
            if w.len() >= 2 && (2..=30).contains(&w.chars().count()) {
                out.push(w);
            }
        }
    }
    out
}

/// Calls `f` with the name of each feature of a message, in parts (their concatenation is the
/// name; a name may come more than once). The one definition of the features: [`feature_ids`]
/// hashes the parts, [`features`] joins them.
fn each_feature(mail: &Mail, signals: &[Signal], mut f: impl FnMut(&[&str])) {
    let subject = lower(&mail.subject);
    for w in lower_words(&subject) {
        f(&["s:", w]);
    }
    let head = mail
        .text
        .char_indices()
        .nth(FEATURE_TEXT)
        .map_or(mail.text.as_str(), |(i, _)| {
            mail.text.get(..i).unwrap_or_default()
        });
    let text = lower(head);
    let body = lower_words(&text);
    for w in &body {
        f(&["w:", w]);
    }
    for pair in body.windows(2) {
        if let [a, b] = pair {
            f(&["b:", a, "_", b]);
        }
    }
    if mail.has_links {
        f(&["has:links"]);
    }
    f(&[&format!("len:{}", body.len().max(1).ilog2())]);
    for s in signals {
        if s.code.starts_with("text.") || s.code.starts_with("sender.") {
            f(&["sig:", s.code]);
        }
    }
}

/// The ids of the features of a message, each once, sorted: the ids of [`features`], without
/// building their names.
pub fn feature_ids(mail: &Mail, signals: &[Signal]) -> Vec<u32> {
    let mut ids: Vec<u32> = Vec::new();
    each_feature(mail, signals, |parts| ids.push(hash_parts(parts)));
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The features of a message, each once, with their names (to explain a score).
pub fn features(mail: &Mail, signals: &[Signal]) -> Vec<Feature> {
    let mut names: Vec<String> = Vec::new();
    each_feature(mail, signals, |parts| names.push(parts.concat()));
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| Feature {
            id: hash(&name),
            name,
        })
        .collect()
}
