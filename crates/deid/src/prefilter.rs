//! Shared machinery for prefiltered pattern search: instead of running a regex over a whole
//! text, a cheap byte or keyword pass lists the positions where a match could start, and the
//! regex, anchored, is tried only there. The matches are exactly those of the regex's own
//! `find_iter`/`captures_iter` as long as the candidate list holds every position where a
//! match starts (a superset is fine): each module keeps its unfiltered search as the
//! reference, and the tests compare the two.

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

/// Keywords of several patterns in one trie over ASCII letters (case-insensitive), found at
/// word starts. A word start reports every keyword that starts there (a keyword that is a
/// prefix of a longer one included), with the pattern it belongs to.
#[derive(Debug)]
pub(crate) struct Keywords {
    /// Per trie node (the root is node 0): the child per letter `a`..`z` (0: none).
    next: Vec<[u32; 26]>,
    /// Per trie node: (owner, length) of every keyword that ends there.
    ends: Vec<Vec<(usize, usize)>>,
}

impl Keywords {
    /// A trie over `words` (owner, keyword). Every keyword must be ASCII letters only, so that
    /// a keyword at a word start lies within the token ([`crate::features::tokenize`]) that
    /// starts there.
    pub(crate) fn new(words: &[(usize, &str)]) -> Option<Self> {
        let mut next: Vec<[u32; 26]> = vec![[0; 26]];
        let mut ends: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
        for &(owner, w) in words {
            if w.is_empty() || !w.bytes().all(|b| b.is_ascii_alphabetic()) {
                return None;
            }
            let mut node = 0usize;
            for b in w.bytes() {
                let l = usize::from(b.to_ascii_lowercase() - b'a');
                let child = next.get(node)?.get(l).copied()?;
                node = if child == 0 {
                    let id = next.len();
                    next.push([0; 26]);
                    ends.push(Vec::new());
                    *next.get_mut(node)?.get_mut(l)? = u32::try_from(id).ok()?;
                    id
                } else {
                    child as usize
                };
            }
            ends.get_mut(node)?.push((owner, w.len()));
        }
        Some(Self { next, ends })
    }

    /// Calls `f(start, owner, length)` for every keyword at a word start of ASCII `text`, in
    /// order of start. `tokens` are the text's tokens ([`crate::features::tokenize`]): every
    /// word start that begins with a letter begins a token.
    pub(crate) fn each(
        &self,
        text: &str,
        tokens: &[crate::features::Token],
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let bytes = text.as_bytes();
        let Some(root) = self.next.first() else {
            return;
        };
        for t in tokens {
            let s = t.start;
            let Some(&c) = bytes.get(s) else { continue };
            if !c.is_ascii_alphabetic()
                || root.get(usize::from(c.to_ascii_lowercase() - b'a')) == Some(&0)
                || !word_start(bytes, s)
            {
                continue;
            }
            let mut node = 0usize;
            for &x in bytes.get(s..t.end).unwrap_or_default() {
                if !x.is_ascii_alphabetic() {
                    break;
                }
                let l = usize::from(x.to_ascii_lowercase() - b'a');
                match self.next.get(node).and_then(|n| n.get(l)) {
                    Some(&child) if child != 0 => node = child as usize,
                    _ => break,
                }
                for &(owner, len) in self.ends.get(node).into_iter().flatten() {
                    f(s, owner, len);
                }
            }
        }
    }
}
