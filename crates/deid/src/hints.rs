//! Hints for the learned classifier: patterns that often, but not always, mark a name or a
//! place. Unlike the rules ([`crate::rules`]) they never flag anything on their own; the
//! classifier sees, for each token, which hint (if any) covers it, and learns how far to trust
//! each one from annotated notes.

use crate::prefilter::{self, is_space_byte, is_word_byte};
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

/// Relationship words before a relative's name (the rules' list).
const KIN: &[&str] = crate::rules::RELATIVES;
/// Prepositions before a place.
const PREPOSITIONS: &[&str] = &["in", "from", "to", "at", "near", "of"];
/// Words after the name of a place.
const PLACE_WORDS: &[&str] = &[
    "hospital", "memorial", "regional", "medical", "center", "house", "square", "campus", "beach",
    "county", "street", "st", "ave", "avenue", "road", "rd",
];

/// One hint pattern.
struct Pattern {
    re: Regex,
    /// The capture group holding the hint.
    group: usize,
    name: &'static str,
    /// Where the pattern can match in ASCII text (see [`find`]).
    trigger: Trigger,
    /// `re` anchored ([`prefilter::anchored`]; with the leading `\b`, for start triggers).
    anchored: Regex,
}

/// Where a hint pattern can match, so that [`find`] tries it only there.
#[derive(Clone, Copy)]
enum Trigger {
    /// Only on a line that ends (spaces and tabs aside) with a credential ([`credentials`]);
    /// the pattern never crosses a line. Holds in any text.
    LineEnd,
    /// Only where one of these words (ASCII case-insensitive) starts a word.
    Starts(&'static [&'static str]),
    /// Only where one of these words starts a word and is followed by whitespace, then a
    /// capital or `the`, whitespace and a capital.
    BeforeCapital(&'static [&'static str]),
    /// Only at a letter after a word boundary, followed by `.`, an optional whitespace and a
    /// letter.
    Initial,
    /// Only in the two words (runs of letters, `'` and `-`) before one of these words, which
    /// follows whitespace and ends a word.
    WordsBefore(&'static [&'static str]),
}

fn hints_re() -> &'static [Pattern] {
    static RE: OnceLock<Vec<Pattern>> = OnceLock::new();
    RE.get_or_init(|| {
        let r = |p: &str, group: usize, name: &'static str, trigger: Trigger| {
            Some(Pattern {
                re: Regex::new(p).ok()?,
                group,
                name,
                trigger,
                anchored: prefilter::anchored(p)?,
            })
        };
        [
            // a signature: up to four name-like words before a credential, ending a line
            r(
                &format!(r"(?m)((?:{WORD}[ \t]*){{1,4}}),?[ \t]*{CREDENTIALS}[ \t]*$"),
                1,
                "signature",
                Trigger::LineEnd,
            ),
            // a clinician's title, with or without a space, initials allowed: Dr. L. Ruuska,
            // dr.lipper, Drs Ferullo, DR'S CAMARDA, NP Djuric
            r(
                r"(?i)\b(?:drs?|dr's|doctors?|np)\b\.?[ \t]*((?:[a-z]\.[ \t]*)?[a-z][a-z'\-]+)",
                1,
                "title",
                Trigger::Starts(&["dr", "doctor", "np"]),
            ),
            // an initial and a word: W. Marotta, q. lander
            r(
                r"\b([A-Za-z]\.\s?[A-Za-z][A-Za-z'\-]{2,})",
                1,
                "initial",
                Trigger::Initial,
            ),
            // a relationship word, then a name after a dash, comma or colon: DAUGHTER-KRISSY,
            // son, bill,
            r(
                &format!(
                    r"(?i)\b(?:{})\s*(?:'s)?\s*[-:,(]*\s*([A-Za-z][A-Za-z'\-]+)",
                    KIN.join("|")
                ),
                1,
                "kin",
                Trigger::Starts(KIN),
            ),
            // a capitalised place after a preposition: lives in Towson, from Seattle, at Calvert
            r(
                &format!(
                    r"\b(?i:{})\s+(?:(?i:the)\s+)?([A-Z][A-Za-z'\-]+(?:\s+[A-Z][A-Za-z'\-]+)?)",
                    PREPOSITIONS.join("|")
                ),
                1,
                "place",
                Trigger::BeforeCapital(PREPOSITIONS),
            ),
            // words before a place word: Sacred Heart Memorial, Laurel Regional, Franklin Square
            r(
                &format!(
                    r"(?i)\b((?:[A-Za-z][A-Za-z'\-]+\s+){{1,2}})(?:{})\b",
                    PLACE_WORDS.join("|")
                ),
                1,
                "placeword",
                Trigger::WordsBefore(PLACE_WORDS),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// The credentials of [`CREDENTIALS`], as plain strings (`None` if it is not a plain
/// alternation of words with escaped dots, each ending in a capital or a dot).
fn credentials() -> Option<&'static [String]> {
    static C: OnceLock<Option<Vec<String>>> = OnceLock::new();
    C.get_or_init(|| {
        let inner = CREDENTIALS.strip_prefix("(?:")?.strip_suffix(')')?;
        inner
            .split('|')
            .map(|w| {
                let plain = w.replace(r"\.", ".");
                let last = plain.bytes().last().unwrap_or(0);
                (plain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    && (last.is_ascii_uppercase() || last == b'.'))
                    .then_some(plain)
            })
            .collect()
    })
    .as_deref()
}

/// The trigger words of every start-triggered pattern in one automaton; owners are pattern
/// indices.
fn keywords() -> Option<&'static prefilter::Keywords> {
    static K: OnceLock<Option<prefilter::Keywords>> = OnceLock::new();
    K.get_or_init(|| {
        let mut words: Vec<(usize, &str)> = Vec::new();
        for (i, p) in hints_re().iter().enumerate() {
            if let Trigger::Starts(w) | Trigger::BeforeCapital(w) | Trigger::WordsBefore(w) =
                p.trigger
            {
                words.extend(w.iter().map(|w| (i, *w)));
            }
        }
        prefilter::Keywords::new(&words)
    })
    .as_ref()
}

/// The hints of `text`, sorted by start (they may overlap; the first one covering a token
/// names it).
///
/// The same hints as [`find_unfiltered`], faster: the signature pattern runs only on lines
/// that end with a credential; in ASCII text one keyword pass and one pass over the dots list
/// where the other patterns can start, and they are tried only there.
pub fn find(text: &str) -> Vec<Hint> {
    find_in(text, &crate::features::tokenize(text))
}

/// [`find`] for a text already tokenized: `tokens` must be [`crate::features::tokenize`]`(text)`
/// (the keyword pass looks for its words at the starts of these tokens).
pub fn find_in(text: &str, tokens: &[crate::features::Token]) -> Vec<Hint> {
    let (Some(words), Some(creds)) = (keywords(), credentials()) else {
        return find_unfiltered(text);
    };
    let ascii = text.is_ascii();
    let pats = hints_re();
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut cands: Vec<Vec<usize>> = vec![Vec::new(); pats.len()];
    if ascii {
        words.each(text, tokens, |s, i, len| {
            let Some((p, c)) = pats.get(i).zip(cands.get_mut(i)) else {
                return;
            };
            match p.trigger {
                Trigger::Starts(_) => c.push(s),
                Trigger::BeforeCapital(_) => {
                    let skip = |mut k: usize| {
                        while is_space_byte(at(k)) {
                            k += 1;
                        }
                        k
                    };
                    let e = s + len;
                    if !is_space_byte(at(e)) {
                        return;
                    }
                    let k = skip(e);
                    let the = b
                        .get(k..k + 3)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"the"))
                        && is_space_byte(at(k + 3))
                        && at(skip(k + 3)).is_ascii_uppercase();
                    if at(k).is_ascii_uppercase() || the {
                        c.push(s);
                    }
                }
                Trigger::WordsBefore(_) => {
                    if s == 0 || !is_space_byte(at(s - 1)) || is_word_byte(at(s + len)) {
                        return;
                    }
                    // the two runs of name characters before, across whitespace
                    let name = |x: u8| x.is_ascii_alphabetic() || x == b'\'' || x == b'-';
                    let mut k = s;
                    for _ in 0..2 {
                        while k > 0 && is_space_byte(at(k - 1)) {
                            k -= 1;
                        }
                        let end = k;
                        while k > 0 && name(at(k - 1)) {
                            k -= 1;
                        }
                        if k == end {
                            break;
                        }
                        c.extend((k..end).filter(|&j| at(j).is_ascii_alphabetic()));
                    }
                }
                Trigger::LineEnd | Trigger::Initial => {}
            }
        });
    }
    let mut out = Vec::new();
    for (p, c) in pats.iter().zip(cands.iter_mut()) {
        let mut push = |start: usize, end: usize| {
            if end > start {
                out.push(Hint {
                    start,
                    end,
                    name: p.name,
                });
            }
        };
        match p.trigger {
            Trigger::LineEnd => {
                let mut from = 0;
                for line in text.split('\n') {
                    let t = line.trim_end_matches([' ', '\t']);
                    // (every credential ends with a capital or a dot)
                    let last = t.bytes().last().unwrap_or(0);
                    if (last.is_ascii_uppercase() || last == b'.')
                        && creds.iter().any(|c| t.ends_with(c.as_str()))
                    {
                        for caps in p.re.captures_iter(line) {
                            if let Some(m) = caps.get(p.group) {
                                push(from + m.start(), from + m.end());
                            }
                        }
                    }
                    from += line.len() + 1;
                }
            }
            _ if !ascii => {
                for caps in p.re.captures_iter(text) {
                    if let Some(m) = caps.get(p.group) {
                        push(m.start(), m.end());
                    }
                }
            }
            Trigger::Initial => {
                for i in memchr::memchr_iter(b'.', b) {
                    let next = at(i + 1);
                    if i >= 1
                        && at(i - 1).is_ascii_alphabetic()
                        && (next.is_ascii_alphabetic()
                            || (is_space_byte(next) && at(i + 2).is_ascii_alphabetic()))
                    {
                        c.push(i - 1);
                    }
                }
                prefilter::each_match(&p.anchored, p.group, text, c, &mut push);
            }
            _ => prefilter::each_match(&p.anchored, p.group, text, c, &mut push),
        }
    }
    out.retain(|h| plausible(text, h));
    out.sort_by_key(|h| (h.start, h.end));
    out
}

/// An initial is not the end of a contraction or abbreviation (`dc'd. qtc`, `a.m. generating`,
/// `p.t. reconsulted`).
fn plausible(text: &str, h: &Hint) -> bool {
    h.name != "initial"
        || !h
            .start
            .checked_sub(1)
            .and_then(|i| text.as_bytes().get(i))
            .is_some_and(|&c| c == b'\'' || c == b'.')
}

/// [`find`] without the prefilters: every pattern scans the whole text. The reference the
/// fast path must equal (the tests compare them).
pub fn find_unfiltered(text: &str) -> Vec<Hint> {
    let mut out = Vec::new();
    for p in hints_re() {
        for c in p.re.captures_iter(text) {
            if let Some(m) = c.get(p.group)
                && m.end() > m.start()
            {
                out.push(Hint {
                    start: m.start(),
                    end: m.end(),
                    name: p.name,
                });
            }
        }
    }
    out.retain(|h| plausible(text, h));
    out.sort_by_key(|h| (h.start, h.end));
    out
}

/// The number of hint patterns that compiled (all of them: a test checks it).
pub fn compiled() -> usize {
    hints_re().len()
}
