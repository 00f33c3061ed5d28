//! Tokens and features for the learned PHI classifier ([`crate::model`]).
//!
//! A token is a maximal run of letters and digits, or any other single non-space character.
//! Features are hashed (64-bit FNV-1a of a template tag and a string, a stable function so that
//! model files outlive crate upgrades). They split in two kinds:
//!
//! - **word features** depend only on the word itself: its lower-cased form, shape, prefix,
//!   suffix, length and its entries in the name dictionary. They are computed once per distinct
//!   word, and a word's features also serve, with the offset in the tag, as the context features
//!   of its neighbours up to two tokens away. Summing weights per distinct word is what makes the
//!   classifier fast.
//! - **token features** depend on the place: which rule (if any) matched the token, whether it
//!   opens a line, whether the note is written in capitals.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A token: byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Splits `text` into tokens: runs of alphanumeric characters, and single other non-space
/// characters.
pub fn tokenize(text: &str) -> Vec<Token> {
    if text.is_ascii() {
        return tokenize_ascii(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len() / 4);
    let mut run: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if run.is_none() {
                run = Some(i);
            }
            continue;
        }
        if let Some(s) = run.take() {
            out.push(Token { start: s, end: i });
        }
        if !c.is_whitespace() {
            out.push(Token {
                start: i,
                end: i + c.len_utf8(),
            });
        }
    }
    if let Some(s) = run {
        out.push(Token {
            start: s,
            end: text.len(),
        });
    }
    out
}

/// [`tokenize`] for ASCII text, byte by byte (ASCII letters and digits are the alphanumeric
/// characters there, and the whitespace is `\t`, `\n`, `\x0B`, `\x0C`, `\r` and space).
fn tokenize_ascii(b: &[u8]) -> Vec<Token> {
    let mut out = Vec::with_capacity(b.len() / 4);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_alphanumeric() {
            let s = i;
            while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                i += 1;
            }
            out.push(Token { start: s, end: i });
            continue;
        }
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r') {
            out.push(Token {
                start: i,
                end: i + 1,
            });
        }
        i += 1;
    }
    out
}

/// What the name dictionary knows of a word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameInfo {
    /// A first name (SSA baby-name tables).
    pub first: bool,
    /// A surname's frequency band (0 = most common, 2 = rarest listed), if it is one.
    pub surname: Option<u8>,
}

/// The compiled-in name dictionary (`data/names.tsv`, public-domain US government tables; see
/// the file's header and `scripts/gen-deid-names`), keyed by lower-cased name.
pub fn names() -> &'static HashMap<&'static str, NameInfo> {
    static NAMES: OnceLock<HashMap<&'static str, NameInfo>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut m: HashMap<&'static str, NameInfo> = HashMap::new();
        for line in include_str!("../data/names.tsv").lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            let (Some(name), Some(kind), Some(band)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let e = m.entry(name).or_default();
            match kind {
                "f" => e.first = true,
                _ => e.surname = band.parse().ok(),
            }
        }
        m
    })
}

/// Feature templates (the tag hashed in front of the string).
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
enum T {
    Bias = 1,
    Lower,
    Shape,
    Prefix,
    Suffix,
    Len,
    Name,
    Rule,
    LineStart,
    CapsShape,
    RuleCtx,
    Hint,
    Chunk,
    Vocab,
}

/// A stable 64-bit FNV-1a hash of a template, an offset and a string, folded to 32 bits.
fn fid(t: T, offset: i8, s: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in [t as u8, offset as u8, 0xff].into_iter().chain(s.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

/// The shape of a word: upper-case letters become `X`, lower-case `x`, digits `d`, other
/// characters stay; runs longer than two collapse to two.
pub fn shape(w: &str) -> String {
    let mut out = String::with_capacity(8);
    shape_into(w, &mut out);
    out
}

/// [`shape`], appended to `out` (so that a caller can reuse one buffer).
fn shape_into(w: &str, out: &mut String) {
    let (mut last, mut run) = ('\0', 0);
    for c in w.chars() {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        if s == last {
            run += 1;
            if run > 2 {
                continue;
            }
        } else {
            last = s;
            run = 1;
        }
        out.push(s);
    }
}

/// The word features of `w` that serve as its own features (offset 0) and as its neighbours'
/// context at offsets -2, -1, +1 and +2 (a subset: lower-cased form, shape, name entry).
pub fn word_features(w: &str, offset: i8, out: &mut Vec<u32>) {
    let lower = w.to_lowercase();
    let sh = shape(w);
    out.push(fid(T::Lower, offset, &lower));
    out.push(fid(T::Shape, offset, &sh));
    let name = names().get(lower.as_str()).copied().unwrap_or_default();
    if name.first || name.surname.is_some() {
        let band = name.surname.map_or('-', |b| char::from(b'0' + b.min(9)));
        let tag = [if name.first { 'f' } else { '-' }, band];
        let tag: String = tag.iter().collect();
        out.push(fid(T::Name, offset, &tag));
        // the name entry together with the shape (capitalised names are stronger evidence)
        out.push(fid(T::Name, offset, &format!("{tag}{sh}")));
    }
    if offset != 0 {
        return;
    }
    out.push(fid(T::Bias, 0, ""));
    let chars: Vec<char> = lower.chars().collect();
    let n = chars.len();
    let pre: String = chars.iter().take(3).collect();
    let suf: String = chars.iter().skip(n.saturating_sub(3)).collect();
    out.push(fid(T::Prefix, 0, &pre));
    out.push(fid(T::Suffix, 0, &suf));
    let len = match n {
        0..=1 => "1",
        2 => "2",
        3 => "3",
        4..=5 => "4",
        6..=8 => "6",
        _ => "9",
    };
    out.push(fid(T::Len, 0, len));
}

/// The context of one place that is not the words themselves: the rule categories covering
/// the token and its neighbours (`-` for none, `|` beyond the text), the hints likewise, and
/// whether the token opens a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Place {
    /// Rule category of the token, the one before, the one after.
    pub rules: [&'static str; 3],
    /// Hint of the token, the one before, the one after.
    pub hints: [&'static str; 3],
    /// The token is the first on its line.
    pub line_start: bool,
    /// The token is a capitalised word in the middle of a sentence of a note not written in
    /// capitals.
    pub mid_capital: bool,
    /// The token's vocabulary bucket ([`vocab_bucket`]): crossed with the rule and hint of
    /// the place (an unseen word after `Dr.` or `lives in` is more telling than a common one).
    pub novelty: u8,
}

/// The key of a word in a model's vocabulary: the hash of its lower-cased form.
pub fn word_key(w: &str) -> u32 {
    fid(T::Lower, 0, &w.to_lowercase())
}

/// The bucket of a vocabulary count: 0, 1, 2, 3-5, 6-20, more (0 to 5).
pub fn vocab_bucket(patients: u32) -> u8 {
    match patients {
        0 => 0,
        1 => 1,
        2 => 2,
        3..=5 => 3,
        6..=20 => 4,
        _ => 5,
    }
}

/// The vocabulary feature of a word: in how many of the training patients' notes it occurs as
/// a word that is not PHI (bucketed: 0, 1, 2, 3-5, 6-20, more), together with its casing. A
/// word no other patient's notes use is often a name or a place; a capitalised one more so.
pub fn vocab_feature(w: &str, patients: u32, offset: i8) -> u32 {
    let bucket = char::from(b"01236m"[usize::from(vocab_bucket(patients))]);
    let mut chars = w.chars();
    let casing = match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_uppercase() => 'X',
        (Some(a), _) if a.is_uppercase() => 'C',
        (Some(a), _) if a.is_lowercase() => 'x',
        (Some(a), _) if a.is_numeric() => 'd',
        _ => '-',
    };
    let tag: String = [bucket, casing].iter().collect();
    fid(T::Vocab, offset, &tag)
}

/// A word's features at `offset` ([`word_features`]) with, for the token and its nearest
/// neighbours, the vocabulary feature of a word used as non-PHI in `patients` training
/// patients' notes ([`vocab_feature`]).
pub fn known_word_features(w: &str, offset: i8, patients: u32, out: &mut Vec<u32>) {
    word_features(w, offset, out);
    if offset.abs() <= 1 {
        out.push(vocab_feature(w, patients, offset));
    }
}

/// The token features of one place ([`Place`]).
pub fn token_features(p: &Place, out: &mut Vec<u32>) {
    let [rule, rule_prev, rule_next] = p.rules;
    out.push(fid(T::Rule, 0, rule));
    out.push(fid(T::RuleCtx, -1, rule_prev));
    out.push(fid(T::RuleCtx, 1, rule_next));
    let [hint, hint_prev, hint_next] = p.hints;
    if hint != "-" {
        out.push(fid(T::Hint, 0, hint));
        out.push(fid(T::Hint, 2, &format!("{hint}{}", p.novelty)));
    }
    if rule != "-" {
        out.push(fid(T::Rule, 2, &format!("{rule}{}", p.novelty)));
    }
    if hint_prev != "-" {
        out.push(fid(T::Hint, -1, hint_prev));
    }
    if hint_next != "-" {
        out.push(fid(T::Hint, 1, hint_next));
    }
    if p.line_start {
        out.push(fid(T::LineStart, 0, ""));
    }
    if p.mid_capital {
        out.push(fid(T::LineStart, 1, "mid-capital"));
    }
}

/// Per token: the feature of the shape of the whitespace-delimited chunk holding it, when the
/// chunk holds a digit (`7.4/40/100` reads `d.d/dd/dd`, unlike a date's `d/dd/dd`).
pub fn chunk_features(text: &str, tokens: &[Token]) -> Vec<Option<u32>> {
    let mut out = vec![None; tokens.len()];
    let mut buf = String::new();
    let mut i = 0;
    while i < tokens.len() {
        // the tokens of one chunk touch each other
        let mut j = i + 1;
        while let (Some(a), Some(b)) = (tokens.get(j - 1), tokens.get(j)) {
            if a.end != b.start {
                break;
            }
            j += 1;
        }
        let (Some(first), Some(last)) = (tokens.get(i), tokens.get(j - 1)) else {
            break;
        };
        let chunk = text.get(first.start..last.end).unwrap_or_default();
        if j - i > 1 && chunk.bytes().any(|b| b.is_ascii_digit()) {
            buf.clear();
            shape_into(chunk, &mut buf);
            let f = fid(T::Chunk, 0, &buf);
            for slot in out.iter_mut().take(j).skip(i) {
                *slot = Some(f);
            }
        }
        i = j;
    }
    out
}

/// The shape again, as its own feature, for notes written in capitals (where capitals say
/// nothing and the model needs to weigh shapes differently).
pub fn caps_shape_feature(shape_of_word: &str) -> u32 {
    fid(T::CapsShape, 0, shape_of_word)
}

/// English function words, which are never a part of a name or place: a name span does not
/// grow into them.
pub fn is_function_word(w: &str) -> bool {
    // (no single letters: "A." and "I." are initials; no "and": "Suzette and Hank")
    const WORDS: [&str; 45] = [
        "an", "are", "as", "at", "be", "but", "by", "did", "do", "for", "from", "had", "has",
        "have", "he", "her", "him", "his", "if", "in", "is", "it", "me", "my", "no", "not", "of",
        "on", "or", "our", "per", "she", "so", "than", "that", "the", "their", "them", "then",
        "they", "this", "to", "was", "we", "with",
    ];
    w.len() <= 5 && WORDS.contains(&w.to_ascii_lowercase().as_str())
}

/// Whether a note is written mostly in capitals (fewer than one letter in five lower-case).
pub fn caps_note(text: &str) -> bool {
    let (mut upper, mut lower) = (0usize, 0usize);
    if text.is_ascii() {
        for b in text.bytes() {
            upper += usize::from(b.is_ascii_uppercase());
            lower += usize::from(b.is_ascii_lowercase());
        }
        return lower * 4 < upper;
    }
    for c in text.chars() {
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    lower * 4 < upper
}
