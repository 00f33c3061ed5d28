//! Date parsing and shifting for de-identification, in the shape the date was written.
//!
//! Shapes read (separators `/`, `-` or `.` for the numeric US forms):
//!
//! | shape | examples |
//! |---|---|
//! | month/day/year | `7/4/2012`, `07-04-12` |
//! | month/day (no year) | `7/4`, `07/04` |
//! | month/year | `3/97`, `03/1997` (the second number cannot be a day) |
//! | ISO | `2012-07-04`, `2012/07/04`, `2012-07-04T10:30:00Z` (the time is kept as is) |
//! | ISO month | `2012-07` |
//! | HL7 / compact | `20120704`, `201207041030`, `20120704103000.123+0500` (time kept) |
//! | month name | `March 3, 2012`, `Mar. 3rd 2012`, `MARCH 3`, `March 2012` |
//! | day first | `3 March 2012`, `3rd of March`, `3 Mar` |
//!
//! Two-digit years are 2000-2049 for `00`-`49` and 1950-1999 for `50`-`99`. A date without a
//! year is shifted within the reference year 2000 (a leap year, so `2/29` is read) and written
//! without a year. A month without a day is shifted from the 15th of that month and written
//! as a month again. Anything else (including impossible dates such as `2/30/2012`) is not
//! read: the caller decides what to write instead.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    ward_core::time::days_from_civil(y, m, d)
}

/// The (year, month, day) of `z` days after 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    ward_core::time::civil_from_days(z)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_len(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The reference year for dates written without one.
pub const REFERENCE_YEAR: i64 = 2000;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_of_word(w: &str) -> Option<(i64, bool)> {
    let l = w.to_ascii_lowercase();
    for (i, m) in MONTHS.iter().enumerate() {
        let n = i as i64 + 1;
        if l == *m {
            return Some((n, false));
        }
        if l.len() >= 3 && m.starts_with(&l) && (l.len() == 3 || l == "sept") {
            return Some((n, true));
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Upper,
    Lower,
    Title,
}

fn case_of(w: &str) -> Case {
    if w.len() > 1 && w.chars().all(|c| !c.is_lowercase()) {
        Case::Upper
    } else if w.chars().all(|c| !c.is_uppercase()) {
        Case::Lower
    } else {
        Case::Title
    }
}

fn apply_case(w: &str, c: Case) -> String {
    match c {
        Case::Upper => w.to_uppercase(),
        Case::Lower => w.to_lowercase(),
        Case::Title => {
            let mut it = w.chars();
            it.next()
                .map(|f| {
                    f.to_uppercase()
                        .chain(it.flat_map(char::to_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        }
    }
}

/// How one component is written.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// Digits, zero-padded to this width.
    Num(usize),
    /// Two-digit year.
    Year2,
    /// Month name: abbreviated?, case.
    Name(bool, Case),
    /// Ordinal suffix (`st`/`nd`/`rd`/`th`) of the day, in this case.
    Ordinal(Case),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Year,
    Month,
    Day,
}

/// A parsed date: its value and where each component sits in the text.
#[derive(Debug, Clone)]
struct Parsed {
    y: Option<i64>,
    m: i64,
    d: Option<i64>,
    /// (byte range, part, form), in order.
    slots: Vec<(usize, usize, Part, Form)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Num,
    Word,
    Punct(u8),
    Space,
}

fn tokens(s: &str) -> Option<Vec<(Tok, usize, usize)>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let start = i;
        let kind = if c.is_ascii_digit() {
            Tok::Num
        } else if c.is_ascii_alphabetic() {
            Tok::Word
        } else if c == b' ' || c == b'\t' {
            Tok::Space
        } else if c.is_ascii_punctuation() {
            i += 1;
            out.push((Tok::Punct(c), start, i));
            continue;
        } else {
            return None;
        };
        while b.get(i).is_some_and(|&x| match kind {
            Tok::Num => x.is_ascii_digit(),
            Tok::Word => x.is_ascii_alphabetic(),
            _ => x == b' ' || x == b'\t',
        }) {
            i += 1;
        }
        out.push((kind, start, i));
    }
    Some(out)
}

fn num(s: &str, a: usize, b: usize) -> Option<i64> {
    s.get(a..b)?.parse().ok()
}

fn two_digit_year(v: i64) -> i64 {
    if v < 50 { 2000 + v } else { 1900 + v }
}

fn valid(y: i64, m: i64, d: i64) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= month_len(y, m)
}

fn parse(s: &str) -> Option<Parsed> {
    let t = tokens(s)?;
    // leading and trailing spaces are kept, not part of the date
    let first = t.iter().position(|x| x.0 != Tok::Space)?;
    let last = t.iter().rposition(|x| x.0 != Tok::Space)?;
    let t = t.get(first..=last)?;
    let kinds: Vec<Tok> = t.iter().map(|x| x.0).collect();
    let len = |k: usize| t.get(k).map_or(0, |x| x.2 - x.1);
    let at = |k: usize| t.get(k).map_or((0, 0), |x| (x.1, x.2));
    let n = |k: usize| {
        let (a, b) = at(k);
        num(s, a, b)
    };
    let word = |k: usize| {
        let (a, b) = at(k);
        s.get(a..b).unwrap_or_default()
    };
    let slot = |k: usize, p: Part, f: Form| {
        let (a, b) = at(k);
        (a, b, p, f)
    };
    // US forms: zero-padded only when the original was (`07/04`); `12/15` could be either
    let pad = |k: usize| if word(k).starts_with('0') { 2 } else { 1 };
    let year_slot = |k: usize| {
        if len(k) == 2 {
            slot(k, Part::Year, Form::Year2)
        } else {
            slot(k, Part::Year, Form::Num(4))
        }
    };
    let year_val = |k: usize| -> Option<i64> {
        let v = n(k)?;
        match len(k) {
            2 => Some(two_digit_year(v)),
            4 => Some(v),
            _ => None,
        }
    };
    // compact HL7: YYYYMMDD then optional time digits and a tail
    if kinds.first() == Some(&Tok::Num) && matches!(len(0), 8 | 10 | 12 | 14) {
        let (a, _) = at(0);
        let tail_ok = t.get(1..).is_none_or(|rest| {
            matches!(
                rest.first().map(|x| x.0),
                None | Some(Tok::Punct(b'.' | b'+' | b'-'))
            )
        });
        if tail_ok {
            let (y, m, d) = (
                num(s, a, a + 4)?,
                num(s, a + 4, a + 6)?,
                num(s, a + 6, a + 8)?,
            );
            if valid(y, m, d) {
                return Some(Parsed {
                    y: Some(y),
                    m,
                    d: Some(d),
                    slots: vec![
                        (a, a + 4, Part::Year, Form::Num(4)),
                        (a + 4, a + 6, Part::Month, Form::Num(2)),
                        (a + 6, a + 8, Part::Day, Form::Num(2)),
                    ],
                });
            }
        }
        return None;
    }
    match kinds.as_slice() {
        // ISO: YYYY-MM-DD, optionally followed by a time (kept)
        [
            Tok::Num,
            Tok::Punct(s1),
            Tok::Num,
            Tok::Punct(s2),
            Tok::Num,
            rest @ ..,
        ] if len(0) == 4
            && s1 == s2
            && matches!(s1, b'-' | b'/')
            && len(2) <= 2
            && len(4) <= 2
            && (rest.is_empty() || matches!(rest.first(), Some(Tok::Word | Tok::Space))) =>
        {
            if let Some(Tok::Word) = rest.first() {
                // only a time may follow: T10:30...
                if !word(5).starts_with(['T', 't']) {
                    return None;
                }
            }
            let (y, m, d) = (n(0)?, n(2)?, n(4)?);
            valid(y, m, d).then(|| Parsed {
                y: Some(y),
                m,
                d: Some(d),
                slots: vec![
                    slot(0, Part::Year, Form::Num(4)),
                    slot(2, Part::Month, Form::Num(len(2))),
                    slot(4, Part::Day, Form::Num(len(4))),
                ],
            })
        }
        // ISO month: YYYY-MM
        [Tok::Num, Tok::Punct(b'-'), Tok::Num] if len(0) == 4 && len(2) == 2 => {
            let (y, m) = (n(0)?, n(2)?);
            (1..=12).contains(&m).then(|| Parsed {
                y: Some(y),
                m,
                d: None,
                slots: vec![
                    slot(0, Part::Year, Form::Num(4)),
                    slot(2, Part::Month, Form::Num(2)),
                ],
            })
        }
        // US numeric: M/D/Y, M/D, M/Y
        [Tok::Num, Tok::Punct(s1), Tok::Num, Tok::Punct(s2), Tok::Num]
            if s1 == s2 && matches!(s1, b'/' | b'-' | b'.') && len(0) <= 2 && len(2) <= 2 =>
        {
            let (m, d, y) = (n(0)?, n(2)?, year_val(4)?);
            valid(y, m, d).then(|| Parsed {
                y: Some(y),
                m,
                d: Some(d),
                slots: vec![
                    slot(0, Part::Month, Form::Num(pad(0))),
                    slot(2, Part::Day, Form::Num(pad(2))),
                    year_slot(4),
                ],
            })
        }
        [Tok::Num, Tok::Punct(sep), Tok::Num]
            if matches!(sep, b'/' | b'-' | b'.') && len(0) <= 2 && len(2) <= 4 =>
        {
            let (m, second) = (n(0)?, n(2)?);
            if len(2) <= 2 && (1..=31).contains(&second) && valid(REFERENCE_YEAR, m, second) {
                Some(Parsed {
                    y: None,
                    m,
                    d: Some(second),
                    slots: vec![
                        slot(0, Part::Month, Form::Num(pad(0))),
                        slot(2, Part::Day, Form::Num(pad(2))),
                    ],
                })
            } else if (len(2) == 2 && second > 31 || len(2) == 4) && (1..=12).contains(&m) {
                Some(Parsed {
                    y: year_val(2),
                    m,
                    d: None,
                    slots: vec![slot(0, Part::Month, Form::Num(pad(0))), year_slot(2)],
                })
            } else {
                None
            }
        }
        _ => words(s, t, &kinds),
    }
}

/// Month-name shapes: `March 3, 2012`, `Mar. 3rd`, `3 March 2012`, `3rd of March`,
/// `March 2012`.
fn words(s: &str, t: &[(Tok, usize, usize)], kinds: &[Tok]) -> Option<Parsed> {
    let mut slots = Vec::new();
    let mut k = 0usize;
    let text = |k: usize| t.get(k).and_then(|x| s.get(x.1..x.2)).unwrap_or_default();
    let skip_spaces = |k: &mut usize| {
        while kinds.get(*k) == Some(&Tok::Space) {
            *k += 1;
        }
    };
    let (mut d, mut y) = (None, None);
    let month = |k: &mut usize, slots: &mut Vec<_>| -> Option<i64> {
        let w = text(*k);
        let (v, abbr) = month_of_word(w)?;
        let x = t.get(*k)?;
        slots.push((x.1, x.2, Part::Month, Form::Name(abbr, case_of(w))));
        *k += 1;
        if abbr && kinds.get(*k) == Some(&Tok::Punct(b'.')) {
            *k += 1;
        }
        Some(v)
    };
    let day = |k: &mut usize, slots: &mut Vec<_>| -> Option<i64> {
        let x = t.get(*k)?;
        if x.0 != Tok::Num || x.2 - x.1 > 2 {
            return None;
        }
        let v = num(s, x.1, x.2)?;
        let w = if s.get(x.1..).is_some_and(|r| r.starts_with('0')) {
            2
        } else {
            1
        };
        slots.push((x.1, x.2, Part::Day, Form::Num(w)));
        *k += 1;
        if let Some(w) = t.get(*k).filter(|w| w.0 == Tok::Word) {
            let suffix = s.get(w.1..w.2).unwrap_or_default();
            if ["st", "nd", "rd", "th"].contains(&suffix.to_ascii_lowercase().as_str()) {
                slots.push((w.1, w.2, Part::Day, Form::Ordinal(case_of(suffix))));
                *k += 1;
            }
        }
        Some(v)
    };
    let m = match kinds.first()? {
        Tok::Word => {
            let m = month(&mut k, &mut slots)?;
            skip_spaces(&mut k);
            if kinds.get(k) == Some(&Tok::Num) && t.get(k).is_some_and(|x| x.2 - x.1 == 4) {
                // March 2012
                y = num(s, t.get(k)?.1, t.get(k)?.2);
                slots.push((t.get(k)?.1, t.get(k)?.2, Part::Year, Form::Num(4)));
                k += 1;
            } else {
                d = Some(day(&mut k, &mut slots)?);
            }
            m
        }
        Tok::Num => {
            d = Some(day(&mut k, &mut slots)?);
            skip_spaces(&mut k);
            if text(k).eq_ignore_ascii_case("of") {
                k += 1;
                skip_spaces(&mut k);
            }
            month(&mut k, &mut slots)?
        }
        _ => return None,
    };
    if y.is_none() {
        // optional `,` and four-digit year
        let mut j = k;
        skip_spaces(&mut j);
        if kinds.get(j) == Some(&Tok::Punct(b',')) {
            j += 1;
            skip_spaces(&mut j);
        }
        if let Some(x) = t.get(j).filter(|x| x.0 == Tok::Num && x.2 - x.1 == 4) {
            y = num(s, x.1, x.2);
            slots.push((x.1, x.2, Part::Year, Form::Num(4)));
            k = j + 1;
        }
    }
    if k != t.len() {
        return None;
    }
    match d {
        Some(d) if !valid(y.unwrap_or(REFERENCE_YEAR), m, d) => None,
        _ => Some(Parsed { y, m, d, slots }),
    }
}

fn ordinal(d: i64) -> &'static str {
    match (d % 10, d % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn render(s: &str, p: &Parsed, y: i64, m: i64, d: i64) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 8);
    let mut last = 0usize;
    for &(a, b, part, form) in &p.slots {
        out.push_str(s.get(last..a)?);
        let piece = match (part, form) {
            (Part::Year, Form::Year2) => format!("{:02}", y.rem_euclid(100)),
            (Part::Year, _) => format!("{y:04}"),
            (Part::Month, Form::Name(abbr, case)) => {
                let full = MONTHS.get(usize::try_from(m - 1).ok()?)?;
                let name = if abbr { full.get(..3)? } else { full };
                apply_case(name, case)
            }
            (Part::Month, Form::Num(w)) => format!("{m:0w$}"),
            (Part::Day, Form::Ordinal(case)) => apply_case(ordinal(d), case),
            (Part::Day, Form::Num(w)) => format!("{d:0w$}"),
            _ => return None,
        };
        out.push_str(&piece);
        last = b;
    }
    out.push_str(s.get(last..)?);
    Some(out)
}

/// `date` moved by `days` (negative: earlier), written in the shape it came in. `None` when
/// `date` is not one of the shapes this module reads.
pub fn shift(date: &str, days: i64) -> Option<String> {
    let p = parse(date)?;
    let y = p.y.unwrap_or(REFERENCE_YEAR);
    let z = days_from_civil(y, p.m, p.d.unwrap_or(15)).checked_add(days)?;
    let (ny, nm, nd) = civil_from_days(z);
    if !(0..=9999).contains(&ny) {
        return None;
    }
    render(date, &p, ny, nm, nd)
}

/// The year of `date`, when it is a date this module reads and has one.
pub fn year(date: &str) -> Option<i64> {
    parse(date)?.y
}
