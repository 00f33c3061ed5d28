//! Hints for the learned classifier: patterns that often, but not always, mark a name or a
//! place. Unlike the rules ([`crate::rules`]) they never flag anything on their own; the
//! classifier sees, for each token, which hint (if any) covers it, and learns how far to trust
//! each one from annotated notes.

use regex::Regex;
use std::sync::OnceLock;

/// A hint over a byte range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The hint's name (a feature value).
    pub name: &'static str,
}

/// Clinical credentials that follow a signature.
const CREDENTIALS: &str = r"(?:RRT|RN|MD|M\.D\.|NP|PA|PA-C|DO|CRNA|LPN|LCSW|LICSW|MSW|SW|RT|CRT|PT|OT|RD|PharmD|CNS|CCRN|BSN|NNP|RNC)";
/// A name-like word, or an initial with its dot.
const WORD: &str = r"(?:[A-Za-z]\.|[A-Za-z][A-Za-z'\-]+)";

fn hints_re() -> &'static [(Regex, usize, &'static str)] {
    static RE: OnceLock<Vec<(Regex, usize, &'static str)>> = OnceLock::new();
    RE.get_or_init(|| {
        let r = |p: &str, group: usize, name: &'static str| Regex::new(p).ok().map(|re| (re, group, name));
        [
            // a signature: up to four name-like words before a credential, ending a line
            r(
                &format!(r"(?m)((?:{WORD}[ \t]*){{1,4}}),?[ \t]*{CREDENTIALS}[ \t]*$"),
                1,
                "signature",
            ),
            // a clinician's title, with or without a space, initials allowed: Dr. L. Ruuska,
            // dr.lipper, Drs Ferullo, DR'S CAMARDA, NP Djuric
            r(
                r"(?i)\b(?:drs?|dr's|doctors?|np)\b\.?[ \t]*((?:[a-z]\.[ \t]*)?[a-z][a-z'\-]+)",
                1,
                "title",
            ),
            // an initial and a word: W. Marotta, q. lander
            r(r"\b([A-Za-z]\.\s?[A-Za-z][A-Za-z'\-]{2,})", 1, "initial"),
            // a relationship word, then a name after a dash, comma or colon: DAUGHTER-KRISSY,
            // son, bill,
            r(
                r"(?i)\b(?:son|sons|daughter|daughters|dtr|husband|wife|spouse|sister|brother|mother|father|mom|dad|niece|nephew|aunt|uncle|grandson|granddaughter|cousin|friend|neighbor|partner|proxy|proxys|hcp)\s*(?:'s)?\s*[-:,(]*\s*([A-Za-z][A-Za-z'\-]+)",
                1,
                "kin",
            ),
            // a capitalised place after a preposition: lives in Towson, from Seattle, at Calvert
            r(
                r"\b(?i:in|from|to|at|near|of)\s+(?:(?i:the)\s+)?([A-Z][A-Za-z'\-]+(?:\s+[A-Z][A-Za-z'\-]+)?)",
                1,
                "place",
            ),
            // words before a place word: Sacred Heart Memorial, Laurel Regional, Franklin Square
            r(
                r"(?i)\b((?:[A-Za-z][A-Za-z'\-]+\s+){1,2})(?:hospital|memorial|regional|medical|center|house|square|campus|beach|county|street|st|ave|avenue|road|rd)\b",
                1,
                "placeword",
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// The hints of `text`, sorted by start (they may overlap; the first one covering a token
/// names it).
pub fn find(text: &str) -> Vec<Hint> {
    let mut out = Vec::new();
    for (re, group, name) in hints_re() {
        for c in re.captures_iter(text) {
            if let Some(m) = c.get(*group)
                && m.end() > m.start()
            {
                out.push(Hint {
                    start: m.start(),
                    end: m.end(),
                    name,
                });
            }
        }
    }
    out.sort_by_key(|h| (h.start, h.end));
    out
}

/// The number of hint patterns that compiled (all of them: a test checks it).
pub fn compiled() -> usize {
    hints_re().len()
}
