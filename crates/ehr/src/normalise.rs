//! Normalising names, street addresses and ZIP codes so that family and neighbour matches
//! survive case, accents, hyphenation and abbreviations.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Name particles that never count as a matching last-name part on their own
/// ("de la Cruz" and "de Souza" are not family because both have "de").
const PARTICLES: &[&str] = &[
    "al", "bin", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "el",
    "la", "las", "le", "los", "st", "ten", "ter", "van", "von", "y",
];

/// Lowercases, decomposes (NFKD), drops combining marks and folds a few letters that do not
/// decompose (ß, æ, ø, ł, đ, œ).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd().filter(|c| !is_combining_mark(*c)) {
        for l in c.to_lowercase() {
            match l {
                'ß' => out.push_str("ss"),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ø' => out.push('o'),
                'ł' => out.push('l'),
                'đ' | 'ð' => out.push('d'),
                'þ' => out.push_str("th"),
                l => out.push(l),
            }
        }
    }
    out
}

/// The parts of a last name that are compared: folded, split on hyphens, spaces and other
/// separators, apostrophes removed ("O'Brien" = "obrien"), parts shorter than 2 characters and
/// particles dropped. `García-López` gives `["garcia", "lopez"]`.
pub fn name_parts(s: &str) -> Vec<String> {
    let folded = fold(s);
    let mut parts = Vec::new();
    for raw in folded.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
        let p: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
        if p.chars().count() >= 2 && !PARTICLES.contains(&p.as_str()) && !parts.contains(&p) {
            parts.push(p);
        }
    }
    parts
}

/// True when two last names share a part after normalising.
pub fn same_last_name(a: &str, b: &str) -> bool {
    let pa = name_parts(a);
    name_parts(b).iter().any(|p| pa.contains(p))
}

/// A normalised street address: the house number and the street, unit designators dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// House number as written after folding (`12`, `12a`, `12-14`); empty when none.
    pub number: String,
    /// Street name with standard abbreviations (`n main st`).
    pub street: String,
}

impl Address {
    /// `number street`, or `None` without a number (then only the street can match).
    pub fn key(&self) -> Option<String> {
        (!self.number.is_empty()).then(|| format!("{} {}", self.number, self.street))
    }
}

/// Standard abbreviations (USPS style) for street suffixes and directions.
fn abbreviate(w: &str) -> &str {
    match w {
        "street" | "str" => "st",
        "avenue" | "av" | "aven" => "ave",
        "road" => "rd",
        "boulevard" | "boul" => "blvd",
        "drive" | "drv" => "dr",
        "lane" => "ln",
        "court" => "ct",
        "place" => "pl",
        "terrace" => "ter",
        "highway" => "hwy",
        "parkway" => "pkwy",
        "circle" => "cir",
        "square" => "sq",
        "trail" => "trl",
        "way" => "wy",
        "mount" => "mt",
        "saint" => "st",
        "north" => "n",
        "south" => "s",
        "east" => "e",
        "west" => "w",
        "northeast" => "ne",
        "northwest" => "nw",
        "southeast" => "se",
        "southwest" => "sw",
        w => w,
    }
}

/// Words that start a unit designator; the designator and its value are dropped.
fn is_unit(w: &str) -> bool {
    matches!(
        w,
        "apt" | "apartment" | "unit" | "suite" | "ste" | "room" | "rm" | "floor" | "fl" | "#"
    )
}

/// Normalises a street address: folded, punctuation collapsed, abbreviations applied, unit
/// (`Apt 4`, `#4`, `Suite 200`) and anything after the first comma dropped; hyphens separate
/// words (`Saint-Honoré` = `st honore`).
/// `None` when nothing is left.
pub fn address(s: &str) -> Option<Address> {
    let folded = fold(s);
    // Only the first comma-separated part is the street line ("12 Main St, Springfield").
    let line = folded.split(',').next().unwrap_or_default();
    let spaced: String = line
        .chars()
        .flat_map(|c| {
            let r: [char; 3] = if c == '#' {
                [' ', '#', ' ']
            } else if c.is_alphanumeric() {
                [c, '\0', '\0']
            } else {
                [' ', '\0', '\0']
            };
            r.into_iter().filter(|c| *c != '\0')
        })
        .collect();
    let mut words = spaced.split_whitespace();
    let mut number = String::new();
    let mut street: Vec<&str> = Vec::new();
    let mut first = true;
    while let Some(w) = words.next() {
        if w.is_empty() {
            continue;
        }
        if is_unit(w) {
            // drop the unit value too
            words.next();
            continue;
        }
        if first && w.starts_with(|c: char| c.is_ascii_digit()) {
            number = w.to_owned();
        } else {
            street.push(abbreviate(w));
        }
        first = false;
    }
    if number.is_empty() && street.is_empty() {
        return None;
    }
    Some(Address {
        number,
        street: street.join(" "),
    })
}

/// A ZIP code as its first five digits (non-digits ignored: `02139-4307` = `02139`); `None`
/// with fewer than five digits.
pub fn zip5(s: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    let mut n = 0;
    for c in s.iter().filter(|c| c.is_ascii_digit()).take(5) {
        v = v * 10 + u32::from(c - b'0');
        n += 1;
    }
    (n == 5).then_some(v)
}
