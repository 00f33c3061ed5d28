//! Identifiers that carry their own proof: payment card numbers (Luhn check digit), IBANs
//! (ISO 13616 mod-97 check), US street addresses and ZIP codes after a state. These spans are
//! trusted as found; with a classifier they also serve it as features.

use crate::prefilter::{self, is_space_byte, word_start};
use crate::rules::{Category, Found};
use regex::Regex;
use std::sync::OnceLock;

struct Pattern {
    re: Regex,
    /// `re` anchored at the searched text's start ([`prefilter::anchored`]).
    anchored: Regex,
    category: Category,
    check: fn(&str) -> bool,
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let p = |re: &str, category, check: fn(&str) -> bool| {
            Some(Pattern {
                re: Regex::new(re).ok()?,
                anchored: prefilter::anchored(re)?,
                category,
                check,
            })
        };
        [
            // 13 to 19 digits in groups of 4 (or 4-6-5), with spaces or dashes, Luhn-valid
            p(
                r"\b(?:\d{4}[ -]?){3}\d{1,7}\b|\b\d{4}[ -]\d{6}[ -]\d{5}\b",
                Category::IdNumber,
                luhn,
            ),
            // IBAN: country, check digits, up to 30 letters and digits (groups of four allowed)
            p(
                r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b",
                Category::IdNumber,
                iban,
            ),
            // a US street address: number, up to four capitalised words, a street word in
            // title case (or an unambiguous one in capitals), an optional unit. Lower-case
            // forms are clinical far more often (`in place`, `st` for sinus tachycardia, `sq`).
            p(
                r"\b\d{1,6}\s+(?:[A-Z][A-Za-z.'\-]*\s+){1,4}(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|Place|Pl\.?|Way|Terrace|Circle|Parkway|Pkwy\.?|Highway|Hwy\.?|Square|STREET|AVENUE|ROAD|BOULEVARD|LANE|DRIVE|COURT|TERRACE|PARKWAY|HIGHWAY)\b(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|APT|SUITE|UNIT|#)\.?\s*[A-Za-z0-9\-]+)?",
                Category::Address,
                |_| true,
            ),
            // a ZIP code after a state abbreviation or a label: MD 21204, zip: 21204-1234
            p(
                r"\b(?:A[LKZR]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY]|(?i:zip|zip code|postal code)[:#]?),?\s+\d{5}(?:-\d{4})?\b",
                Category::Address,
                |_| true,
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// The number of patterns that compiled (all: a test checks it).
pub fn compiled() -> usize {
    patterns().len()
}

/// The Luhn check of a card number written with spaces or dashes.
pub fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The ISO 13616 check of an IBAN (spaces allowed): moved to the end, letters as numbers,
/// the whole taken mod 97 must be 1.
pub fn iban(s: &str) -> bool {
    let c: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&c.len()) {
        return false;
    }
    let mut rem: u32 = 0;
    for ch in c.iter().skip(4).chain(c.iter().take(4)) {
        let v = match ch.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// The identifiers of `text`, sorted by start and not overlapping (of overlapping matches,
/// the one starting first wins, then the earlier pattern).
///
/// The same spans as [`find_unfiltered`], faster: in ASCII text one pass over the digit runs
/// lists where each pattern can start, and the patterns are tried only there.
pub fn find(text: &str) -> Vec<Found> {
    if !text.is_ascii() {
        return find_unfiltered(text);
    }
    let mut all: Vec<(Found, usize)> = Vec::new();
    let mut cands = starts(text.as_bytes());
    for ((p, c), i) in patterns().iter().zip(cands.iter_mut()).zip(0..) {
        prefilter::each_match(&p.anchored, 0, text, c, |s, e| {
            if text.get(s..e).is_some_and(p.check) {
                all.push((
                    Found {
                        start: s,
                        end: e,
                        category: p.category,
                    },
                    i,
                ));
            }
        });
    }
    first_of_overlaps(all)
}

/// Per pattern of [`patterns`], every position in ASCII `b` where a match can start (a
/// superset; [`prefilter::each_match`] checks the rest), from the maximal runs of digits:
/// card numbers start with four digits after a word boundary; IBANs with two capitals before
/// two digits; addresses with one to six digits, whitespace and a capital; a ZIP code is five
/// digits after whitespace, after a state or a `zip`/`postal code` label (and a `,`, `:` or
/// `#`). A pattern whose text has too few digits gets no candidates.
fn starts(b: &[u8]) -> [Vec<usize>; 4] {
    let mut out: [Vec<usize>; 4] = Default::default();
    let mut digits = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while let Some(d) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(u8::is_ascii_digit))
        .map(|k| i + k)
    {
        i = d;
        while at(i).is_ascii_digit() {
            i += 1;
        }
        let (e, len) = (i, i - d);
        digits += len;
        let [card, iban, addr, zip] = &mut out;
        if len >= 4 {
            card.push(d);
        }
        if len >= 2 && d >= 2 && at(d - 1).is_ascii_uppercase() && at(d - 2).is_ascii_uppercase() {
            iban.push(d - 2);
        }
        if len <= 6 && is_space_byte(at(e)) {
            let mut k = e;
            while is_space_byte(at(k)) {
                k += 1;
            }
            if at(k).is_ascii_uppercase() {
                addr.push(d);
            }
        }
        if len == 5 && d >= 1 && is_space_byte(at(d - 1)) {
            let mut w = d - 1;
            while w > 0 && is_space_byte(at(w - 1)) {
                w -= 1;
            }
            if w > 0 && at(w - 1) == b',' {
                w -= 1;
            }
            let mut ends = vec![w];
            if w > 0 && matches!(at(w - 1), b':' | b'#') {
                ends.push(w - 1);
            }
            // a state (2), `zip` (3), `zip code` (8), `postal code` (11)
            for y in ends {
                for n in [2, 3, 8, 11] {
                    if let Some(c) = y.checked_sub(n)
                        && word_start(b, c)
                    {
                        zip.push(c);
                    }
                }
            }
        }
    }
    let [card, iban, _, _] = &mut out;
    if digits < 13 {
        card.clear();
    }
    if digits < 14 {
        iban.clear();
    }
    out
}

/// [`find`] without the prefilter: every pattern scans the whole text. The reference the
/// fast path must equal (the tests compare them); used for text that is not ASCII.
pub fn find_unfiltered(text: &str) -> Vec<Found> {
    let mut all: Vec<(Found, usize)> = Vec::new();
    // every pattern needs digits: cards and IBANs at least 13 and 14, addresses and ZIP codes
    // one and five
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    for (i, p) in patterns().iter().enumerate() {
        let needs = match i {
            0 => 13,
            1 => 14,
            2 => 1,
            _ => 5,
        };
        if digits < needs {
            continue;
        }
        for m in p.re.find_iter(text) {
            if (p.check)(m.as_str()) {
                all.push((
                    Found {
                        start: m.start(),
                        end: m.end(),
                        category: p.category,
                    },
                    i,
                ));
            }
        }
    }
    first_of_overlaps(all)
}

/// Sorts hits (with their pattern index) and drops those overlapping an earlier one.
fn first_of_overlaps(mut all: Vec<(Found, usize)>) -> Vec<Found> {
    all.sort_by_key(|(f, i)| (f.start, *i));
    let mut out: Vec<Found> = Vec::with_capacity(all.len());
    for (f, _) in all {
        if out.last().is_none_or(|l| l.end <= f.start) {
            out.push(f);
        }
    }
    out
}
