//! Consistent, keyed surrogates: the same real value gives the same surrogate in every note,
//! table and message de-identified with one [`Key`], and a different one under another key.
//! Everything derives from HMAC-SHA256 under the key, so without the key a surrogate cannot
//! be traced back (short of guessing the value and the key).
//!
//! - Names are replaced word by word from public-domain US name lists (see `data/`): the
//!   last word of `First Last` and the first word of `Last, First` are surnames, the other
//!   words first names; a lone word is a first name when it is a common first name and no
//!   common surname, otherwise a surname. So `John Smith`, `SMITH, JOHN` and `Mr. Smith`
//!   share their surrogate surname. Initials stay initials, titles (`Dr`, `MD`, `Jr`...) stay,
//!   and the case pattern (`SMITH`, `Smith`, `smith`) is kept. Different names may share a
//!   surrogate (the lists are short); one name never gets two.
//! - Places: runs of words that are not place words (`Hospital`, `Street`, `St`...) or state
//!   codes (`MA`) become an invented place name; numbers in them become other numbers; ZIP codes are cut to 3 digits
//!   ([`zip3`]).
//! - Phone numbers keep their separators; the digits are new, with the exchange `555`.
//! - E-mail, URLs, SSNs (which start with 9, never issued), IP addresses (10.x.x.x) and other
//!   identifiers keep their format: letters become letters and digits digits.
//! - Dates move by the patient's own offset ([`Surrogates::date_shift_days`]).

use crate::key::Key;
use crate::rules::Category;
use ring::hmac;
use std::collections::HashSet;
use std::sync::OnceLock;

/// Invented place names (no real hospital is meant).
const PLACES: [&str; 40] = [
    "Riverside",
    "Oak Hill",
    "Maple Grove",
    "Cedar Falls",
    "Brookside",
    "Pine Ridge",
    "Lakeview",
    "Willow Creek",
    "Fairhaven",
    "Stonebridge",
    "Elmwood",
    "Silver Lake",
    "Hillcrest",
    "Meadowbrook",
    "Clearwater",
    "Ashford",
    "Birchwood",
    "Northgate",
    "Westfield",
    "Eastbrook",
    "Greenvale",
    "Highland Park",
    "Mill Valley",
    "Rosewood",
    "Sunnyvale",
    "Harborview",
    "Foxborough",
    "Kingsley",
    "Redwood",
    "Bayside",
    "Fox Run",
    "Granite Springs",
    "Deer Park",
    "Laurel Heights",
    "Glenwood",
    "Springdale",
    "Wyndham",
    "Crestview",
    "Ridgefield",
    "Autumn Hills",
];

/// Words kept in places: hospital and street words, directions and joining words.
const PLACE_WORDS: &[&str] = &[
    "hospital",
    "hosp",
    "medical",
    "med",
    "center",
    "centre",
    "ctr",
    "clinic",
    "nursing",
    "home",
    "rehab",
    "rehabilitation",
    "hospice",
    "manor",
    "general",
    "memorial",
    "university",
    "county",
    "community",
    "regional",
    "health",
    "healthcare",
    "care",
    "institute",
    "infirmary",
    "of",
    "the",
    "and",
    "at",
    "in",
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "drive",
    "dr",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "court",
    "ct",
    "place",
    "pl",
    "way",
    "square",
    "sq",
    "highway",
    "hwy",
    "route",
    "rte",
    "suite",
    "ste",
    "apt",
    "apartment",
    "unit",
    "floor",
    "north",
    "south",
    "east",
    "west",
    "n",
    "s",
    "e",
    "w",
    "ne",
    "nw",
    "se",
    "sw",
    "saint",
    "mount",
    "mt",
    "fort",
    "ft",
    "city",
    "town",
    "village",
];

/// US state and territory codes, kept in places when written in capitals (Safe Harbor allows
/// the state).
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR", "GU", "VI",
];

/// Words kept in names: titles, degrees and suffixes.
const NAME_WORDS: &[&str] = &[
    "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "md", "do", "rn", "np", "pa", "phd",
    "dds", "jr", "sr", "ii", "iii", "iv", "lpn", "cna", "pt", "ot", "rt",
];

struct Names {
    first: Vec<&'static str>,
    last: Vec<&'static str>,
    first_set: HashSet<String>,
    last_set: HashSet<String>,
}

fn names() -> &'static Names {
    static N: OnceLock<Names> = OnceLock::new();
    N.get_or_init(|| {
        let read = |s: &'static str| -> Vec<&'static str> {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect()
        };
        let first = read(include_str!("../data/first_names.txt"));
        let last = read(include_str!("../data/surnames.txt"));
        let set = |v: &[&str]| v.iter().map(|s| s.to_ascii_lowercase()).collect();
        Names {
            first_set: set(&first),
            last_set: set(&last),
            first,
            last,
        }
    })
}

/// The number of first names and surnames surrogates are drawn from.
pub fn name_list_sizes() -> (usize, usize) {
    let n = names();
    (n.first.len(), n.last.len())
}

/// Lower case, runs of whitespace and punctuation as one space, trimmed: the form values are
/// compared in, so `John  SMITH` and `john smith` get one surrogate.
pub fn normalise(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut gap = false;
    for c in value.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Which part of a name a word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Decided by position (see [`Surrogates::name`]).
    Auto,
    /// Every word a surname.
    Surname,
    /// Every word a given name.
    Given,
}

/// The keyed surrogate generator. Cheap to share (`&Surrogates` is `Sync`).
pub struct Surrogates {
    key: hmac::Key,
}

impl std::fmt::Debug for Surrogates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Surrogates { .. }")
    }
}

/// The range of per-patient date shifts, in days: always earlier, never 0.
pub const SHIFT_RANGE: std::ops::RangeInclusive<i64> = -365..=-1;

/// A stream of keyed pseudo-random bytes for one (purpose, value).
struct Stream<'a> {
    key: &'a hmac::Key,
    seed: [u8; 32],
    block: [u8; 32],
    pos: usize,
    counter: u32,
}

impl Stream<'_> {
    fn byte(&mut self) -> u8 {
        if self.pos >= self.block.len() {
            let mut ctx = hmac::Context::with_key(self.key);
            ctx.update(b"stream\0");
            ctx.update(&self.seed);
            ctx.update(&self.counter.to_be_bytes());
            self.counter = self.counter.wrapping_add(1);
            self.block.copy_from_slice(ctx.sign().as_ref());
            self.pos = 0;
        }
        let b = self.block.get(self.pos).copied().unwrap_or_default();
        self.pos += 1;
        b
    }

    /// A number below `n` (n > 0), with negligible bias.
    fn below(&mut self, n: usize) -> usize {
        let mut v: u64 = 0;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.byte());
        }
        (v % n.max(1) as u64) as usize
    }

    fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    fn letter(&mut self, upper: bool) -> char {
        let c = char::from(b'a' + self.below(26) as u8);
        if upper { c.to_ascii_uppercase() } else { c }
    }
}

fn case_like(template: &str, word: &str) -> String {
    let letters: Vec<char> = template.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.len() > 1 && letters.iter().all(|c| c.is_uppercase());
    let lower = !letters.is_empty() && letters.iter().all(|c| c.is_lowercase());
    if upper {
        word.to_uppercase()
    } else if lower {
        word.to_lowercase()
    } else {
        word.to_owned()
    }
}

/// `list[i]`, or the next entry when that is `original` itself (a surrogate never equals
/// the value it replaces).
fn not_same<'a>(list: &[&'a str], i: usize, original: &str) -> &'a str {
    let n = list.len().max(1);
    let pick = |k: usize| list.get(k % n).copied().unwrap_or("Alex");
    if pick(i).eq_ignore_ascii_case(original) {
        pick(i + 1)
    } else {
        pick(i)
    }
}

/// Splits `s` into maximal runs of letters (with inner apostrophes) and the rest.
fn word_runs(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut cur: Option<bool> = None;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next_alpha = it.peek().is_some_and(|&(_, n)| n.is_alphabetic());
        let is_word = c.is_alphabetic() || (c == '\'' && cur == Some(true) && next_alpha);
        match cur {
            Some(w) if w == is_word => {}
            Some(w) => {
                out.push((w, s.get(start..i).unwrap_or_default()));
                start = i;
                cur = Some(is_word);
            }
            None => cur = Some(is_word),
        }
    }
    if let Some(w) = cur {
        out.push((w, s.get(start..).unwrap_or_default()));
    }
    out
}

impl Surrogates {
    /// A generator keyed by `key`.
    pub fn new(key: &Key) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.bytes()),
        }
    }

    fn mac(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(purpose.as_bytes());
        ctx.update(b"\0");
        ctx.update(value.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn stream(&self, purpose: &str, value: &str) -> Stream<'_> {
        Stream {
            key: &self.key,
            seed: self.mac(purpose, value),
            block: [0; 32],
            pos: 32,
            counter: 0,
        }
    }

    /// A keyed hash of `value` (case and whitespace ignored): 16 hex digits, the same for the
    /// same value under the same key. For the `hash` column action and join keys.
    pub fn hash(&self, value: &str) -> String {
        let norm: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let m = self.mac("hash", &norm.to_lowercase());
        m.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The patient's date shift in days, within [`SHIFT_RANGE`] (never 0): the same patient
    /// id (surrounding whitespace ignored) always gets the same shift under one key.
    pub fn date_shift_days(&self, patient: &str) -> i64 {
        let m = self.mac("date-shift", patient.trim());
        let mut v = [0u8; 8];
        v.copy_from_slice(m.get(..8).unwrap_or(&[0; 8]));
        let span = (SHIFT_RANGE.end() - SHIFT_RANGE.start() + 1) as u64;
        SHIFT_RANGE.start() + (u64::from_be_bytes(v) % span) as i64
    }

    /// `date` moved by the patient's shift, in the shape it was written (see [`crate::date`]);
    /// `None` when the date is not in a shape this crate reads.
    pub fn shift_date(&self, patient: &str, date: &str) -> Option<String> {
        crate::date::shift(date, self.date_shift_days(patient))
    }

    /// The consistent surrogate of a `category` value. Dates move by the shift of patient
    /// `""` (use [`Surrogates::shift_date`] for per-patient shifts), falling back to a
    /// format-preserving surrogate; years stay (Safe Harbor keeps them); ages over 89 become
    /// `90+`.
    pub fn pseudonym(&self, category: Category, value: &str) -> String {
        match category {
            Category::HcpName | Category::PtName | Category::RelativeProxyName => self.name(value),
            Category::Location => self.place(value),
            Category::Address => zip3(value).unwrap_or_else(|| self.place(value)),
            Category::Phone => self.phone(value),
            Category::Email => self.email(value),
            Category::Url => self.url(value),
            Category::IpAddress => self.ip(value),
            Category::Ssn => self.ssn(value),
            Category::Date => self
                .shift_date("", value)
                .unwrap_or_else(|| self.format_preserving("date", value)),
            Category::DateYear => value.to_owned(),
            Category::Age => age(value),
            Category::IdNumber | Category::Other => self.format_preserving("id", value),
        }
    }

    /// A person's name, word by word (see the module documentation): the surname is the last
    /// word of `First Last`, the first of `Last, First`, and a lone word is a surname unless it
    /// is a common first name only. Hyphenated parts (`Smith-Jones`) share their role.
    pub fn name(&self, value: &str) -> String {
        self.name_as(value, Role::Auto)
    }

    /// A family name (HL7 XPN.1, FHIR `HumanName.family`): every word a surname, so it
    /// matches the surname [`Surrogates::name`] gives the same person in free text.
    pub fn family_name(&self, value: &str) -> String {
        self.name_as(value, Role::Surname)
    }

    /// Given names (HL7 XPN.2 and .3, FHIR `HumanName.given`): every word a first name (or
    /// initial), matching [`Surrogates::name`] on `First Last`.
    pub fn given_name(&self, value: &str) -> String {
        self.name_as(value, Role::Given)
    }

    fn name_as(&self, value: &str, role: Role) -> String {
        let n = names();
        let runs = word_runs(value);
        let is_name_word =
            |w: &str| w.chars().count() > 1 && !NAME_WORDS.contains(&w.to_lowercase().as_str());
        // name words and their group: parts joined by `-` form one group
        let mut group_of = vec![usize::MAX; runs.len()];
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, (w, s)) in runs.iter().enumerate() {
            if !*w || !is_name_word(s) {
                continue;
            }
            let joined = i >= 2
                && runs.get(i - 1).is_some_and(|r| r.1 == "-")
                && group_of.get(i - 2).is_some_and(|&g| g != usize::MAX);
            let g = match (joined, group_of.get(i.wrapping_sub(2))) {
                (true, Some(&g)) => g,
                _ => {
                    groups.push(Vec::new());
                    groups.len() - 1
                }
            };
            if let Some(slot) = group_of.get_mut(i) {
                *slot = g;
            }
            if let Some(v) = groups.get_mut(g) {
                v.push(i);
            }
        }
        let comma_first = groups.first().and_then(|g| g.last()).is_some_and(|&i| {
            runs.get(i + 1)
                .is_some_and(|(w, s)| !*w && s.trim_start().starts_with(','))
        });
        let surname_group = match (role, groups.len()) {
            (Role::Surname | Role::Given, _) | (Role::Auto, 0) => None,
            (Role::Auto, 1) => {
                let words: Vec<String> = groups
                    .first()
                    .into_iter()
                    .flatten()
                    .filter_map(|&i| runs.get(i))
                    .map(|r| {
                        r.1.to_lowercase()
                            .chars()
                            .filter(|c| c.is_alphabetic())
                            .collect()
                    })
                    .collect();
                let given_only = words.len() == 1
                    && words
                        .first()
                        .is_some_and(|l| n.first_set.contains(l) && !n.last_set.contains(l));
                if given_only { None } else { Some(0) }
            }
            (Role::Auto, _) if comma_first => Some(0),
            (Role::Auto, k) => Some(k - 1),
        };
        let surname = |i: usize| match role {
            Role::Surname => true,
            Role::Given => false,
            Role::Auto => {
                let g = group_of.get(i).copied().unwrap_or(usize::MAX);
                g != usize::MAX && Some(g) == surname_group
            }
        };
        let mut out = String::with_capacity(value.len() + 8);
        for (i, (w, s)) in runs.iter().enumerate() {
            if !*w {
                out.push_str(s);
                continue;
            }
            let norm = normalise(s);
            if s.chars().count() == 1 {
                // an initial stays an initial
                let upper = s.chars().all(char::is_uppercase);
                out.push(self.stream("initial", &norm).letter(upper));
            } else if !is_name_word(s) {
                out.push_str(s);
            } else if surname(i) {
                let k = self.stream("surname", &norm).below(n.last.len());
                out.push_str(&case_like(s, not_same(&n.last, k, s)));
            } else {
                let k = self.stream("first", &norm).below(n.first.len());
                out.push_str(&case_like(s, not_same(&n.first, k, s)));
            }
        }
        out
    }

    /// A place: runs of non-place words become an invented place, numbers other numbers.
    pub fn place(&self, value: &str) -> String {
        let runs = word_runs(value);
        let mut out = String::with_capacity(value.len() + 8);
        let keep =
            |s: &str| PLACE_WORDS.contains(&s.to_lowercase().as_str()) || STATES.contains(&s);
        let mut i = 0usize;
        while let Some(&(w, s)) = runs.get(i) {
            if !w {
                // digits in places (house numbers) become other digits
                let norm = normalise(s);
                let mut st = self.stream("place-number", &norm);
                out.extend(
                    s.chars()
                        .map(|c| if c.is_ascii_digit() { st.digit() } else { c }),
                );
                i += 1;
                continue;
            }
            if keep(s) {
                out.push_str(s);
                i += 1;
                continue;
            }
            // a run of non-place words separated by single spaces
            let mut j = i + 1;
            while let (Some((false, gap)), Some((true, next))) = (runs.get(j), runs.get(j + 1)) {
                if *gap == " " && !keep(next) {
                    j += 2;
                } else {
                    break;
                }
            }
            let words: Vec<&str> = runs
                .get(i..j)
                .unwrap_or_default()
                .iter()
                .map(|r| r.1)
                .collect();
            let joined = words.concat();
            let k = self
                .stream("place", &normalise(&joined))
                .below(PLACES.len());
            out.push_str(&case_like(&joined, not_same(&PLACES, k, &joined)));
            i = j;
        }
        out
    }

    /// A phone number with the same separators; the exchange is `555` when there are at least
    /// seven digits.
    pub fn phone(&self, value: &str) -> String {
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let mut st = self.stream("phone", &normalise(value));
        let mut k = 0usize;
        let mut out = String::with_capacity(value.len());
        for c in value.chars() {
            if !c.is_ascii_digit() {
                out.push(c);
                continue;
            }
            let pos = k;
            k += 1;
            let d = if digits >= 7 && pos + 7 >= digits && pos + 4 < digits {
                '5'
            } else if digits >= 10 && pos + 10 == digits {
                // area codes do not start with 0 or 1
                char::from(b'2' + st.below(8) as u8)
            } else {
                st.digit()
            };
            out.push(d);
        }
        out
    }

    /// Letters become letters (same case), digits digits; everything else stays.
    pub fn format_preserving(&self, purpose: &str, value: &str) -> String {
        let mut st = self.stream(purpose, &normalise(value));
        value
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    st.digit()
                } else if c.is_alphabetic() {
                    st.letter(c.is_uppercase())
                } else {
                    c
                }
            })
            .collect()
    }

    fn email(&self, value: &str) -> String {
        match value.rsplit_once('@') {
            Some((local, domain)) => {
                let tld = domain.rsplit_once('.').map_or("", |(_, t)| t);
                let fake = if tld.is_empty() {
                    "example".to_owned()
                } else {
                    format!("example.{}", case_like(tld, "com"))
                };
                format!("{}@{fake}", self.format_preserving("email", local))
            }
            None => self.format_preserving("email", value),
        }
    }

    fn url(&self, value: &str) -> String {
        let (scheme, rest) = match value.find("://") {
            Some(i) => value.split_at(i + 3),
            None => ("", value),
        };
        let (www, rest) = match rest.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("www.") => rest.split_at(4),
            _ => ("", rest),
        };
        format!("{scheme}{www}{}", self.format_preserving("url", rest))
    }

    fn ip(&self, value: &str) -> String {
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
            let mut st = self.stream("ip", value.trim());
            format!("10.{}.{}.{}", st.below(256), st.below(256), st.below(256))
        } else {
            self.format_preserving("ip", value)
        }
    }

    fn ssn(&self, value: &str) -> String {
        let mut out = self.format_preserving("ssn", value);
        // 9xx area numbers are never issued as SSNs
        if let Some(i) = out.find(|c: char| c.is_ascii_digit()) {
            out.replace_range(i..i + 1, "9");
        }
        out
    }
}

/// An age under the Safe Harbor rule: 90 and over becomes `90+`, anything else stays. `None`
/// when `value` is not a number of years (`93`, `89.5`, optionally with surrounding spaces).
pub fn age_checked(value: &str) -> Option<String> {
    let n: f64 = value.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some(if n >= 90.0 {
        "90+".to_owned()
    } else {
        value.to_owned()
    })
}

/// [`age_checked`], with values that are not a number left as they are.
pub fn age(value: &str) -> String {
    age_checked(value).unwrap_or_else(|| value.to_owned())
}

/// Three-digit ZIP areas with 20,000 people or fewer (2000 Census), which Safe Harbor
/// requires to be written `000`. Source: HHS, "Guidance Regarding Methods for
/// De-identification of Protected Health Information in Accordance with the HIPAA Privacy
/// Rule" (2012), section 3.3 (45 CFR 164.514(b)(2)(i)(B)).
pub const RESTRICTED_ZIP3: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

/// A ZIP code under Safe Harbor, written as five digits: the first three kept and `00`
/// appended (`02139` and `02139-4307` become `02100`), or `00000` for the restricted areas
/// ([`RESTRICTED_ZIP3`]). `None` when `zip` is not a 5-digit or ZIP+4 code.
pub fn zip3(zip: &str) -> Option<String> {
    let z = zip.trim();
    let (five, plus) = match z.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (z, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(five, 5) || plus.is_some_and(|p| !digits(p, 4)) {
        return None;
    }
    let head = five.get(..3)?;
    Some(if RESTRICTED_ZIP3.contains(&head) {
        "00000".to_owned()
    } else {
        format!("{head}00")
    })
}
