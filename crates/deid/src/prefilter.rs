//! Shared machinery for prefiltered pattern search: instead of running a regex over a whole
//! text, a cheap byte or keyword pass lists the positions where a match could start, and the
//! regex, anchored, is tried only there. The matches are exactly those of the regex's own
//! `find_iter`/`captures_iter` as long as the candidate list holds every position where a
//! match starts (a superset is fine): each module keeps its unfiltered search as the
//! reference, and the tests compare the two.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

/// A word character for `\b` in ASCII text (`[0-9A-Za-z_]`).
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A whitespace byte as the regex `\s` sees it in ASCII text (unlike
/// [`u8::is_ascii_whitespace`], vertical tab included).
pub(crate) fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r')
}

/// Whether a `\b` that is followed by a word character holds at `at` in ASCII `bytes`: the
/// byte before is not a word character (or `at` is the start).
pub(crate) fn word_start(bytes: &[u8], at: usize) -> bool {
    at == 0 || !bytes.get(at - 1).copied().is_some_and(is_word_byte)
}

/// `pattern` anchored at the start of the searched text. For a pattern whose every match
/// starts with `\b` and a word character, a match of the anchored pattern on `text[p..]`
/// is the match of `pattern` starting at `p` whenever [`word_start`] holds at `p`.
pub(crate) fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{pattern})")).ok()
}

/// The matches the unanchored `pattern`'s `captures_iter` gives over `text` (capture group
/// `group`, 0 for the whole match), found by trying `anchored` ([`anchored`]) only at the
/// candidate starts `cands` (any order, duplicates allowed; every start where [`word_start`]
/// does not hold is skipped). Calls `f(start, end)` for each match's group, in order.
pub(crate) fn each_match(
    anchored: &Regex,
    group: usize,
    text: &str,
    cands: &mut Vec<usize>,
    mut f: impl FnMut(usize, usize),
) {
    cands.sort_unstable();
    cands.dedup();
    let bytes = text.as_bytes();
    // each match from the first start at or after the end of the previous one
    let mut pos = 0;
    // one set of capture slots for every try
    let mut locs = anchored.capture_locations();
    for &p in cands.iter() {
        if p < pos || !word_start(bytes, p) {
            continue;
        }
        let Some(rest) = text.get(p..) else { continue };
        if group == 0 {
            if let Some(m) = anchored.find(rest) {
                pos = p + m.end().max(1);
                f(p + m.start(), p + m.end());
            }
            continue;
        }
        if anchored.captures_read(&mut locs, rest).is_none() {
            continue;
        }
        if let Some((_, e)) = locs.get(0) {
            pos = p + e.max(1);
        }
        if let Some((s, e)) = locs.get(group) {
            f(p + s, p + e);
        }
    }
}

/// Keywords of several patterns in one Aho-Corasick automaton (ASCII case-insensitive), found
/// at word starts. A hit reports every keyword that starts there (a keyword that is a prefix
/// of a longer one included), with the pattern it belongs to.
#[derive(Debug)]
pub(crate) struct Keywords {
    ac: AhoCorasick,
    /// Per automaton pattern: (owner, length) of every keyword that is a prefix of it.
    prefixes: Vec<Vec<(usize, usize)>>,
}

impl Keywords {
    /// An automaton over `words` (owner, keyword). Every keyword must be ASCII letters only,
    /// so that no hit can hide another hit at a later word start.
    pub(crate) fn new(words: &[(usize, &str)]) -> Option<Self> {
        let mut pats: Vec<String> = Vec::new();
        for (_, w) in words {
            let l = w.to_ascii_lowercase();
            if !l.bytes().all(|b| b.is_ascii_lowercase()) {
                return None;
            }
            if !pats.contains(&l) {
                pats.push(l);
            }
        }
        let prefixes = pats
            .iter()
            .map(|p| {
                words
                    .iter()
                    .filter(|(_, w)| p.starts_with(&w.to_ascii_lowercase()))
                    .map(|(o, w)| (*o, w.len()))
                    .collect()
            })
            .collect();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&pats)
            .ok()?;
        Some(Self { ac, prefixes })
    }

    /// Calls `f(start, owner, length)` for every keyword at a word start of ASCII `text`.
    ///
    /// Complete: a keyword at a word start is never inside an earlier hit (hits are letters
    /// only, and a word start follows a non-word byte), so the leftmost-longest hit there has
    /// every keyword starting at that position as a prefix.
    pub(crate) fn each(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        let bytes = text.as_bytes();
        for hit in self.ac.find_iter(text) {
            let s = hit.start();
            if !word_start(bytes, s) {
                continue;
            }
            for &(owner, len) in self
                .prefixes
                .get(hit.pattern().as_usize())
                .into_iter()
                .flatten()
            {
                f(s, owner, len);
            }
        }
    }
}
