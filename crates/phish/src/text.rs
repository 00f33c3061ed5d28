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
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The words of a text: lower-case runs of letters (2 to 30 long), with addresses and URLs
/// removed first and digits dropped.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        if raw.contains('@') || raw.contains("://") || raw.starts_with("www.") {
            out.push("<link>".to_string());
            continue;
        }
        let mut w = String::new();
        for c in raw.chars() {
            if c.is_alphabetic() {
                w.extend(c.to_lowercase());
            } else if !w.is_empty() {
                if (2..=30).contains(&w.chars().count()) {
                    out.push(std::mem::take(&mut w));
                } else {
                    w.clear();
                }
            }
        }
        if (2..=30).contains(&w.chars().count()) {
            out.push(w);
        }
    }
    out
}

/// The features of a message, each once.
pub fn features(mail: &Mail, signals: &[Signal]) -> Vec<Feature> {
    let mut names: Vec<String> = Vec::new();
    for w in words(&mail.subject) {
        names.push(format!("s:{w}"));
    }
    let text: String = mail.text.chars().take(FEATURE_TEXT).collect();
    let body = words(&text);
    for w in &body {
        names.push(format!("w:{w}"));
    }
    for pair in body.windows(2) {
        if let [a, b] = pair {
            names.push(format!("b:{a}_{b}"));
        }
    }
    if mail.has_links {
        names.push("has:links".to_string());
    }
    let len = body.len();
    names.push(format!("len:{}", len.max(1).ilog2()));
    for s in signals {
        if s.code.starts_with("text.") || s.code.starts_with("sender.") {
            names.push(format!("sig:{}", s.code));
        }
    }
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
