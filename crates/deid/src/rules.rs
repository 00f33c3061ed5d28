//! A rule-based PHI finder for clinical free text: the first, recall-oriented layer of the
//! de-identifier. Patterns with context words find dates, years, phone and pager numbers,
//! ages over 89, e-mail addresses, URLs, IP addresses, SSNs and record numbers; names are found
//! after titles (`Dr.`, `Mr.`, `NP` ...) and relationship words (`son`, `wife` ...), places
//! before hospital words (`... Hospital`, `... Medical Center`). No list of names or places is
//! used yet, and nothing is learned from any corpus.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::Regex;
use std::sync::OnceLock;

/// A PHI category (the PhysioNet and Safe Harbor categories this layer finds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A date with a day or month.
    Date,
    /// A year on its own.
    DateYear,
    /// A telephone, fax or pager number.
    Phone,
    /// An age over 89.
    Age,
    /// A clinician's name.
    HcpName,
    /// The patient's name.
    PtName,
    /// A relative's or proxy's name.
    RelativeProxyName,
    /// A hospital, city or other place.
    Location,
    /// A street address or ZIP code.
    Address,
    /// An e-mail address.
    Email,
    /// A URL.
    Url,
    /// An IP address.
    IpAddress,
    /// A US social security number.
    Ssn,
    /// A medical record, account, plan, licence or other identifying number.
    IdNumber,
    /// Any other identifying code.
    Other,
}

impl Category {
    /// The PhysioNet name of the category.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "Date",
            Self::DateYear => "DateYear",
            Self::Phone => "Phone",
            Self::Age => "Age",
            Self::HcpName => "HCPName",
            Self::PtName => "PTName",
            Self::RelativeProxyName => "RelativeProxyName",
            Self::Location => "Location",
            Self::Address => "Address",
            Self::Email => "Email",
            Self::Url => "URL",
            Self::IpAddress => "IPAddress",
            Self::Ssn => "SSN",
            Self::IdNumber => "ID",
            Self::Other => "Other",
        }
    }

    /// The PhysioNet gold-standard category this one is scored as (`Other` for the
    /// identifiers the PhysioNet notes lump together, `Location` for addresses).
    pub fn physionet(self) -> &'static str {
        match self {
            Self::Address => "Location",
            Self::Email | Self::Url | Self::IpAddress | Self::Ssn | Self::IdNumber => "Other",
            c => c.as_str(),
        }
    }

    /// Every category, in order.
    pub const ALL: [Category; 15] = [
        Self::Date,
        Self::DateYear,
        Self::Phone,
        Self::Age,
        Self::HcpName,
        Self::PtName,
        Self::RelativeProxyName,
        Self::Location,
        Self::Address,
        Self::Email,
        Self::Url,
        Self::IpAddress,
        Self::Ssn,
        Self::IdNumber,
        Self::Other,
    ];

    /// The category of a name as written by [`Category::as_str`] (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// A found span, in byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What it is.
    pub category: Category,
}

struct Rule {
    re: Regex,
    /// The capture group holding the PHI (0: the whole match).
    group: usize,
    category: Category,
    /// For name rules: the captured word must not be a common word.
    name: bool,
    /// When the rule can match at all (in ASCII text; see [`find`]).
    trigger: Trigger,
}

/// A necessary condition for a rule to match in ASCII text, so that [`find`] can skip the rule
/// (or try it only where it can start) instead of scanning the whole text with it.
enum Trigger {
    /// Every match starts with one of these words (ASCII case-insensitive) after a word
    /// boundary; the rule is tried only there, with `anchored` (its pattern with the leading
    /// `\b` replaced by `^`) on the text from that position.
    Starts {
        words: &'static [&'static str],
        anchored: Regex,
    },
    /// Every match contains one of these strings (ASCII case-insensitive).
    Contains(&'static [&'static str]),
    /// Every match contains one of these words, with a byte that is not a word character (or
    /// the text's edge) before it and, when the word ends in a word character, after it;
    /// `exact`: written with this case (else ASCII case-insensitive).
    Words {
        words: &'static [&'static str],
        exact: bool,
    },
    /// Every match contains this arrangement of digits ([`Shape`]).
    Shape(Shape),
}

/// Arrangements of digits that the rules led by digits need, all found in one pass over the
/// text ([`shapes`]); each is a necessary condition of its rules' matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Three digits, one of `-`, `.` or a space, four digits (`555-1234`): telephone numbers.
    Phone,
    /// Digits, `-`, digits, `-`, digits (`3-4-2010`, `2010-03-04`, `123-45-6789`).
    TwoDashes,
    /// A run of exactly four digits beginning `19` or `20`: a year.
    Year,
    /// An apostrophe and two digits (`'98`).
    Apostrophe,
    /// Digits, `/`, digits (`3/4`).
    Slash,
    /// Four runs of one to three digits joined by dots (`10.0.0.1`).
    DottedQuad,
}

impl Shape {
    fn bit(self) -> u8 {
        match self {
            Shape::Phone => 1,
            Shape::TwoDashes => 2,
            Shape::Year => 4,
            Shape::Apostrophe => 8,
            Shape::Slash => 16,
            Shape::DottedQuad => 32,
        }
    }
}

/// The [`Shape`]s of an ASCII text (bits of [`Shape::bit`]), from its runs of digits.
fn shapes(b: &[u8]) -> u8 {
    let mut out = 0u8;
    // the three runs before the current one, as (start, end)
    let mut prev: Option<(usize, usize)> = None;
    let mut prev2: Option<(usize, usize)> = None;
    let mut prev3: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
            continue;
        }
        let s = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let e = i;
        // the byte between this run and the one before, when exactly one byte separates them
        let sep = |run: Option<(usize, usize)>, next: usize| {
            run.filter(|&(_, pe)| pe + 1 == next)
                .and_then(|(_, pe)| b.get(pe).copied())
        };
        if e - s == 4 && matches!(b.get(s..s + 2), Some(b"19" | b"20")) {
            out |= Shape::Year.bit();
        }
        if e - s >= 2 && s >= 1 && b.get(s - 1) == Some(&b'\'') {
            out |= Shape::Apostrophe.bit();
        }
        if e - s >= 4
            && prev.is_some_and(|(ps, pe)| pe - ps >= 3)
            && matches!(sep(prev, s), Some(b'-' | b'.' | b' '))
        {
            out |= Shape::Phone.bit();
        }
        let before = |run: Option<(usize, usize)>, earlier: Option<(usize, usize)>| {
            run.and_then(|(rs, _)| sep(earlier, rs))
        };
        if sep(prev, s) == Some(b'-') && before(prev, prev2) == Some(b'-') {
            out |= Shape::TwoDashes.bit();
        }
        if sep(prev, s) == Some(b'/') {
            out |= Shape::Slash.bit();
        }
        let short = |run: Option<(usize, usize)>| run.is_some_and(|(rs, re)| re - rs <= 3);
        if e - s <= 3
            && [prev, prev2, prev3].into_iter().all(short)
            && sep(prev, s) == Some(b'.')
            && before(prev, prev2) == Some(b'.')
            && before(prev2, prev3) == Some(b'.')
        {
            out |= Shape::DottedQuad.bit();
        }
        prev3 = prev2;
        prev2 = prev;
        prev = Some((s, e));
    }
    out
}

const MONTHS: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const NAME: &str = r"([A-Za-z][A-Za-z'\-]+)";
/// One or two name-like words (no capture group).
const NAME2: &str = r"[A-Za-z][A-Za-z'\-]+(?:\s+[A-Za-z][A-Za-z'\-]+)?";

const MONTH_WORDS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
/// Every month name the date patterns accept, as a whole word.
const MONTH_NAMES: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
];
const PROCEDURES: &[&str] = &[
    "mi",
    "cabg",
    "ptca",
    "pci",
    "cva",
    "tia",
    "mvr",
    "avr",
    "ablation",
    "pacer",
    "ppm",
    "aicd",
    "stent",
    "stents",
    "cholecystectomy",
    "appendectomy",
    "hysterectomy",
    "thoracotomy",
    "craniotomy",
    "colectomy",
    "dx",
    "diagnosed",
];
const PAGERS: &[&str] = &[
    "pager", "pgr", "pg", "beeper", "beep", "cell", "phone", "tel", "fax", "ext",
];
/// Words after which a run of digits is a telephone number.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "fax",
    "mobile",
    "cell",
    "desk",
    "call me at",
    "call me on",
    "messages to",
    "answering at",
    "reach me at",
    "home#",
    "work#",
    "cell#",
];
const AGE_WORDS: &[&str] = &["yo", "y/o", "y.o.", "year", "yr"];
/// The first words of the record-number labels.
const ID_WORDS: &[&str] = &[
    "mrn", "mr#", "med", "acct", "account", "policy", "ref", "member", "id",
];
const HCP_WORDS: &[&str] = &[
    "dr",
    "doctor",
    "np",
    "attending",
    "resident",
    "fellow",
    "intern",
];
const DR_WORDS: &[&str] = &["dr", "doctor"];
const HCP_AFTER: &[&str] = &["MD", "M.D.", "NP", "RN", "PA-C", "DO"];
const PT_WORDS: &[&str] = &["mr", "ms", "miss"];
/// Relationship words before a relative's name (also the hints' kin words).
pub(crate) const RELATIVES: &[&str] = &[
    "son",
    "sons",
    "daughter",
    "daughters",
    "dtr",
    "husband",
    "wife",
    "spouse",
    "sister",
    "brother",
    "mother",
    "father",
    "mom",
    "dad",
    "niece",
    "nephew",
    "aunt",
    "uncle",
    "grandson",
    "granddaughter",
    "cousin",
    "friend",
    "neighbor",
    "neighbour",
    "partner",
    "fiance",
    "fiancee",
    "proxy",
    "proxys",
    "hcp",
    "guardian",
];
/// The first words of the moving phrases (`transferred to`, `lives in` ...).
const MOVING: &[&str] = &[
    "transfer",
    "admitted",
    "sent",
    "taken",
    "discharged",
    "go",
    "moved",
    "returned",
    "lives",
    "living",
    "resides",
];
const PLACE_WORDS: &[&str] = &[
    "Hospital",
    "HOSPITAL",
    "Medical Center",
    "MEDICAL CENTER",
    "Med Ctr",
    "Nursing Home",
    "NURSING HOME",
    "Rehab",
    "REHAB",
    "Clinic",
    "CLINIC",
    "Hospice",
    "HOSPICE",
    "Manor",
    "MANOR",
];

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        // the patterns are constants of this file; `RULE_COUNT` and a test make sure every one
        // compiles
        let r = |pattern: &str, group: usize, category: Category, name: bool, t: Tr| {
            let trigger = match t {
                Tr::Contains(w) => Trigger::Contains(w),
                Tr::Words(words) => Trigger::Words { words, exact: false },
                Tr::WordsExact(words) => Trigger::Words { words, exact: true },
                Tr::Shape(shape) => Trigger::Shape(shape),
                Tr::Starts(words) => {
                    // the pattern is `(?i)\b...`: anchored at the start of the searched text
                    let anchored = pattern.replacen(r"\b", "^", 1);
                    Trigger::Starts {
                        words,
                        anchored: Regex::new(&anchored).ok()?,
                    }
                }
            };
            Regex::new(pattern).ok().map(|re| Rule {
                re,
                group,
                category,
                name,
                trigger,
            })
        };
        let alt = |w: &[&str]| w.join("|");
        [
            // dates: 7/22, 9/3/97, 10-15-2004, 2004-10-15, Jan 5, 5th of January, January 5, 2004
            r(r"\b(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?:/(?:\d{4}|\d{2}))?\b", 0, Category::Date, false, Tr::Shape(Shape::Slash)),
            r(r"\b(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])-(?:\d{4}|\d{2})\b", 0, Category::Date, false, Tr::Shape(Shape::TwoDashes)),
            r(r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0, Category::Date, false, Tr::Shape(Shape::TwoDashes)),
            r(&format!(r"(?i)\b{MONTHS}\.?\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?\b"), 0, Category::Date, false, Tr::Starts(MONTH_WORDS)),
            r(&format!(r"(?i)\b(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b(?:,?\s+(?:19|20)\d{{2}})?"), 0, Category::Date, false, Tr::Words(MONTH_NAMES)),
            r(r"\b(?:0?[1-9]|1[0-2])/(?:19|20)?\d{2}\b", 0, Category::Date, false, Tr::Shape(Shape::Slash)),
            // years: four digits, or two after an apostrophe
            r(r"\b(?:19[0-9]{2}|20[0-4][0-9])\b", 0, Category::DateYear, false, Tr::Shape(Shape::Year)),
            r(r"'(\d{2})\b", 1, Category::DateYear, false, Tr::Shape(Shape::Apostrophe)),
            r(
                &format!(r"(?i)\b(?:{})\s+(?:x\d\s+)?(?:in\s+)?'?((?:19|20)?\d{{2}})\b", alt(PROCEDURES)),
                1,
                Category::DateYear,
                false,
                Tr::Starts(PROCEDURES),
            ),
            // phone and pager numbers
            r(r"(?:\(\d{3}\)\s?|\b\d{3}[\-. ])\d{3}[\-. ]\d{4}(?:\s?x\d{1,5})?\b", 0, Category::Phone, false, Tr::Shape(Shape::Phone)),
            // international numbers (+41 (0)96 471 07 95, +1-903-140-4508x769) and any grouping
            // of 7 to 15 digits after a telephone word (Fax: 9498777106, call me on 9472 7916)
            r(r"\+\d{1,3}[\s\-.]?(?:\(0\)\s?)?\d{1,5}(?:[\s\-.]\d{1,5}){0,5}(?:\s?x\d{1,5})?\b", 0, Category::Phone, false, Tr::Contains(&["+"])),
            r(&format!(r"(?i)\b(?:{})\b[^\d]{{0,12}}?(\(?\d[\d\-. ()]{{5,20}}\d(?:\s?x\d{{1,5}})?)\b", alt(PHONE_WORDS)), 1, Category::Phone, false, Tr::Words(PHONE_WORDS)),
            r(r"\b\d{3}-\d{4}\b", 0, Category::Phone, false, Tr::Shape(Shape::Phone)),
            r(&format!(r"(?i)\b(?:{})\.?\s*(?:#|no\.?|number)?\s*:?\s*(\d{{4,5}})\b", alt(PAGERS)), 1, Category::Phone, false, Tr::Starts(PAGERS)),
            // ages over 89
            r(r"(?i)\b((?:9\d|1[01]\d))\s*(?:yo\b|y/o|y\.o\.|-?\s*years?[\s-]old|-?\s*yr)", 1, Category::Age, false, Tr::Contains(AGE_WORDS)),
            // e-mail, URL, IP, SSN, record and account numbers
            r(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0, Category::Email, false, Tr::Contains(&["@"])),
            r(r"(?i)\b(?:https?://|www\.)\S+", 0, Category::Url, false, Tr::Contains(&["http", "www."])),
            r(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", 0, Category::IpAddress, false, Tr::Shape(Shape::DottedQuad)),
            r(r"\b\d{3}-\d{2}-\d{4}\b", 0, Category::Ssn, false, Tr::Shape(Shape::TwoDashes)),
            r(r"(?i)\b(?:mrn|mr#|med(?:ical)?\s+record(?:\s+(?:no|number))?|acct|account|policy|ref|member\s+id|id)\s*[#:]?\s*([a-z]{0,3}\d[\w-]{3,})", 1, Category::IdNumber, false, Tr::Starts(ID_WORDS)),
            // names after titles and relationship words
            r(&format!(r"(?i)\b(?:{})\.?\s+{NAME}", alt(HCP_WORDS)), 1, Category::HcpName, true, Tr::Starts(HCP_WORDS)),
            r(&format!(r"(?i)\b(?:{})\.?\s+([A-Za-z][A-Za-z'\-]+\s+[A-Za-z][A-Za-z'\-]+)", alt(DR_WORDS)), 1, Category::HcpName, true, Tr::Starts(DR_WORDS)),
            r(&format!(r"\b{NAME},?\s+(?:MD|M\.D\.|NP|RN|PA-C|DO)\b"), 1, Category::HcpName, true, Tr::WordsExact(HCP_AFTER)),
            r(&format!(r"(?i)\b(?:mr\.?|mrs\.?|ms\.|miss)\s+{NAME}"), 1, Category::PtName, true, Tr::Starts(PT_WORDS)),
            r(&format!(r"(?i)\b(?:{})(?:'s)?\s+(?:is\s+|named\s+|,\s*)?{NAME}", alt(RELATIVES)), 1, Category::RelativeProxyName, true, Tr::Starts(RELATIVES)),
            // places after moving words: transferred to X, admitted from X, lives in X
            r(
                &format!(r"(?i)\b(?:transfer(?:red)?|transfered|admitted|sent|taken|discharged|going|go|moved|returned|lives|living|resides)\s+(?:back\s+)?(?:to|from|in|at)\s+(?:the\s+)?((?:st\.?\s+)?{NAME2})"),
                1,
                Category::Location,
                true,
                Tr::Starts(MOVING),
            ),
            // places before hospital words
            r(&format!(r"\b((?:[A-Z][A-Za-z'\-]+\s+){{1,3}})(?:{})\b", alt(PLACE_WORDS)), 1, Category::Location, true, Tr::WordsExact(PLACE_WORDS)),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// How a rule's trigger is declared (compiled into a [`Trigger`]).
enum Tr {
    Starts(&'static [&'static str]),
    Contains(&'static [&'static str]),
    Words(&'static [&'static str]),
    WordsExact(&'static [&'static str]),
    Shape(Shape),
}

/// How many rules there are (every pattern compiles: a test checks it).
pub const RULE_COUNT: usize = 27;

/// How many rules compiled.
pub fn compiled_rules() -> usize {
    rules().len()
}

/// Common words that follow titles and relationship words but are not names.
const NOT_NAMES: &[&str] = &[
    "a",
    "about",
    "able",
    "after",
    "back",
    "again",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aware",
    "as",
    "at",
    "be",
    "been",
    "being",
    "by",
    "call",
    "called",
    "calls",
    "came",
    "can",
    "come",
    "coming",
    "contacted",
    "could",
    "did",
    "does",
    "doing",
    "down",
    "each",
    "for",
    "from",
    "gave",
    "given",
    "go",
    "going",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "him",
    "his",
    "home",
    "how",
    "i",
    "if",
    "in",
    "informed",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "left",
    "let",
    "made",
    "may",
    "me",
    "met",
    "more",
    "much",
    "my",
    "new",
    "no",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "or",
    "other",
    "our",
    "out",
    "over",
    "phoned",
    "plan",
    "plans",
    "pt",
    "pt's",
    "patient",
    "present",
    "questions",
    "re",
    "said",
    "saw",
    "see",
    "seen",
    "she",
    "should",
    "so",
    "some",
    "spoke",
    "stated",
    "states",
    "still",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "they",
    "this",
    "to",
    "today",
    "told",
    "too",
    "two",
    "up",
    "updated",
    "very",
    "visit",
    "visited",
    "visiting",
    "was",
    "we",
    "were",
    "what",
    "when",
    "which",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "in-law",
    "inlaw",
    "and/or",
    "aware",
    "notified",
    "bedside",
    "present",
    "concerned",
    "involved",
    "wishes",
    "wants",
    "requested",
    "asked",
    "agreed",
    "understands",
    "feels",
    "update",
    "family",
    "also",
    "office",
    "service",
    "team",
    "on-call",
    "oncall",
    "covering",
    "following",
    "following.",
    "per",
    "line",
    "notes",
    "note",
    "numbers",
    "care",
    "both",
    "hour",
    "reports",
    "reported",
    "brought",
    "bringing",
    "died",
    "condition",
    "unable",
    "request",
    "phone",
    "around",
    "changes",
    "clears",
    "aspiration",
    "neuro",
    "cont",
    "issues",
    "tolerating",
    "before",
    "maintain",
    "improves",
    "verbal",
    "without",
    "waxing",
    "oob",
    "wedding",
    "order",
    "orders",
    // where patients are moved inside a hospital
    "floor",
    "icu",
    "micu",
    "sicu",
    "ccu",
    "csru",
    "nicu",
    "picu",
    "unit",
    "or",
    "pacu",
    "cath",
    "lab",
    "ct",
    "mri",
    "radiology",
    "ir",
    "er",
    "ed",
    "ward",
    "room",
    "bed",
    "bathroom",
    "chair",
    "commode",
    "stretcher",
    "nursing",
    "rehab",
    "hospital",
    "hospice",
    "surgery",
    "dialysis",
    "ep",
    "echo",
    "endoscopy",
    "morgue",
    "trauma",
    "step",
    "stepdown",
    "general",
    "medicine",
    "med",
    "service",
    "location",
    "facility",
    "house",
    "apartment",
    "assisted",
    "living",
    "bedrest",
    "sleep",
    "sitting",
    "standing",
    "morning",
    "evening",
    "night",
    "day",
    "days",
    "afternoon",
    "tomorrow",
    "tonight",
    "am",
    "pm",
    "fluids",
    "meds",
];

fn not_names() -> &'static std::collections::HashSet<&'static str> {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| NOT_NAMES.iter().copied().collect())
}

fn is_name(word: &str) -> bool {
    let w = word
        .trim_end_matches(['.', ',', ';', ':'])
        .to_ascii_lowercase();
    w.len() >= 2 && !not_names().contains(w.as_str()) && w.chars().any(|c| c.is_ascii_alphabetic())
}

/// Common fractions and muscle-strength grades written like dates.
fn not_a_date(m: &str, before: &str) -> bool {
    const FRACTIONS: [&str; 7] = ["1/2", "1/3", "1/4", "2/3", "3/4", "1/8", "3/8"];
    if FRACTIONS.contains(&m) {
        return true;
    }
    if let Some((a, b)) = m.split_once('/')
        && a == b
        && !m.contains('-')
    {
        return true; // 5/5 strength
    }
    // ventilator and pressure settings right after their word: PS 10/5, PEEP 5/5, CPAP 10/5
    // (in_number_run looks further along the line)
    let prev = before
        .split(|c: char| !c.is_ascii_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase();
    m.split('/').count() == 2
        && (VENT_WORDS.contains(&prev.as_str()) || matches!(prev.as_str(), "vent" | "settings"))
}

/// Ventilator words: two numbers beside one are a setting (`CPAP/PS 10/5`), not a date.
const VENT_WORDS: [&str; 13] = [
    "peep", "ps", "psv", "cpap", "bipap", "bi-pap", "ipap", "epap", "imv", "simv", "ips", "flowby",
    "fio2",
];

/// Whether the number written like a date at `start..end` of `text` is a piece of a run of
/// measurements (`CO/CI 5.8/2.71`, `AC/700/8/50%`, `ABG 7.46/40/135/5/29`, `PS 10 / 5/10`) or a
/// pain score (`c/o CP 4/10`), which no date is. Only the text around the span is looked at; a
/// whole date (`6/10/87`) is not a piece of a run.
pub fn in_number_run(text: &str, start: usize, end: usize) -> bool {
    let Some(m) = text.get(start..end) else {
        return false;
    };
    let (mut s, mut e) = number_run(text.as_bytes(), start, end);
    // (a slash, point or space at either end is punctuation: `on 8/2.`)
    let edge = |c: u8| matches!(c, b'.' | b'/' | b' ');
    while s < start && text.as_bytes().get(s).copied().is_some_and(edge) {
        s += 1;
    }
    while e > end
        && e.checked_sub(1)
            .and_then(|i| text.as_bytes().get(i))
            .copied()
            .is_some_and(edge)
    {
        e -= 1;
    }
    let (Some(run), Some(before), Some(after)) = (text.get(s..e), text.get(..s), text.get(e..))
    else {
        return false;
    };
    if run.len() > m.len() && !date_run(run) {
        return true;
    }
    // two numbers beside a word of pain or of ventilation
    const PAIN: [&str; 9] = [
        "pain",
        "cp",
        "discomfort",
        "pressure",
        "ache",
        "headache",
        "scale",
        "c/o",
        "rates",
    ];
    let Some((_, den)) = run.split_once('/') else {
        return false;
    };
    (den == "10" && (before.ends_with('#') || near_words(before, after, &PAIN)))
        || near_words(before, after, &VENT_WORDS)
}

/// Whether one of `words` (lower case) is among the words within 30 bytes before or 10 after,
/// on the same line (words split at spaces, punctuation and slashes: `CPAP/PS`).
fn near_words(before: &str, after: &str, words: &[&str]) -> bool {
    let line_before = before.rsplit('\n').next().unwrap_or_default();
    let line_after = after.split('\n').next().unwrap_or_default();
    let mut from = line_before.len().saturating_sub(30);
    while !line_before.is_char_boundary(from) {
        from += 1;
    }
    let mut to = line_after.len().min(10);
    while !line_after.is_char_boundary(to) {
        to -= 1;
    }
    let has = |s: &str| {
        s.split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '.' | ':' | '(' | ')' | '#' | '&')
        })
        .flat_map(|w| std::iter::once(w).chain(w.split('/')))
        .any(|w| words.iter().any(|x| w.eq_ignore_ascii_case(x)))
    };
    has(line_before.get(from..).unwrap_or_default())
        || has(line_after.get(..to).unwrap_or_default())
}

/// The run of numbers, slashes, decimal points and percent signs around `start..end` (a slash
/// may have spaces around it).
fn number_run(b: &[u8], start: usize, end: usize) -> (usize, usize) {
    let part = |c: u8| c.is_ascii_digit() || matches!(c, b'.' | b'/' | b'%');
    let (mut s, mut e) = (start, end);
    loop {
        match s.checked_sub(1).and_then(|i| b.get(i)) {
            Some(&c) if part(c) => s -= 1,
            Some(b' ') => {
                let mut j = s - 1;
                while j > 0 && b.get(j - 1) == Some(&b' ') {
                    j -= 1;
                }
                let left = j.checked_sub(1).and_then(|i| b.get(i)).copied();
                let slash = b.get(s) == Some(&b'/') || left == Some(b'/');
                if slash && left.is_some_and(part) {
                    s = j;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    loop {
        match b.get(e) {
            Some(&c) if part(c) => e += 1,
            Some(b' ') => {
                let mut j = e + 1;
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
                let right = b.get(j).copied();
                let slash =
                    e.checked_sub(1).and_then(|i| b.get(i)) == Some(&b'/') || right == Some(b'/');
                if slash && right.is_some_and(part) {
                    e = j;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    (s, e)
}

/// Whether a run of numbers and slashes reads as dates (`10/03/10/04`, `6/10/87`,
/// `11/21.93`) rather than measurements: no percent sign, no decimals, no number over 31
/// except a year in third place.
fn date_run(run: &str) -> bool {
    if run.contains('%') {
        return false;
    }
    let parts: Vec<&str> = run.split('/').map(str::trim).collect();
    if let [m, dy] = parts.as_slice()
        && let Some((d, y)) = dy.split_once('.')
    {
        // month/day.year
        return small(m, 12)
            && small(d, 31)
            && y.len() == 2
            && y.bytes().all(|c| c.is_ascii_digit());
    }
    let year = |p: &str| (p.len() == 2 || p.len() == 4) && p.bytes().all(|c| c.is_ascii_digit());
    if let [m, y] = parts.as_slice() {
        return small(m, 12) && (small(y, 31) || year(y));
    }
    parts
        .iter()
        .enumerate()
        .all(|(i, p)| small(p, 31) || (i == 2 && parts.len() == 3 && year(p)))
}

/// `s` is a number from 1 to `max` (a leading zero allowed).
fn small(s: &str, max: u32) -> bool {
    s.len() <= 2
        && !s.is_empty()
        && s.bytes().all(|c| c.is_ascii_digit())
        && s.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
}

/// A 24-hour clock time written like a year (`1900`, `2030`).
fn looks_like_time(m: &str) -> bool {
    let n: u32 = m.parse().unwrap_or(0);
    let (h, min) = (n / 100, n % 100);
    (19..=23).contains(&h) && matches!(min, 0 | 15 | 30 | 45)
}

/// A time range written like a phone number (`900-1300`).
fn looks_like_time_range(m: &str) -> bool {
    m.split_once('-')
        .is_some_and(|(_, b)| b.len() == 4 && b.ends_with("00") && b <= "2400")
}

/// Byte spans of the whitespace-separated words of `s`.
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(b)) => {
                out.push((b, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, s.len()));
    }
    out
}

/// The rule's hit at `start..end` (its capture group), after the rule's exceptions, or `None`.
fn accept(rule: &Rule, text: &str, start: usize, end: usize) -> Option<Found> {
    let m = text.get(start..end)?;
    let before = text
        .get(start.saturating_sub(12)..start)
        .unwrap_or_default();
    let skip = match rule.category {
        Category::Date => not_a_date(m, before) || in_number_run(text, start, end),
        Category::DateYear => m.len() == 4 && looks_like_time(m),
        // (pager numbers have 4 or 5 digits; a longer match needs a telephone's 7 to 15)
        Category::Phone => {
            let digits = m.bytes().filter(u8::is_ascii_digit).count();
            looks_like_time_range(m)
                || ((m.len() > 6 || m.starts_with('+')) && !(7..=15).contains(&digits))
        }
        _ => false,
    };
    if skip {
        return None;
    }
    let (mut start, mut end) = (start, end);
    if rule.name {
        // keep the leading run of name-like words ("Springfield" of "Springfield with")
        let mut keep: Option<(usize, usize)> = None;
        for (ws, we) in word_spans(m) {
            if !is_name(m.get(ws..we).unwrap_or_default()) {
                break;
            }
            keep = Some((keep.map_or(ws, |k| k.0), we));
        }
        let (ws, we) = keep?;
        end = start + we;
        start += ws;
    }
    (end > start).then_some(Found {
        start,
        end,
        category: rule.category,
    })
}

/// Every hit of `rule` in `text`, scanning the whole text.
fn scan(rule: &Rule, text: &str, out: &mut Vec<Found>) {
    if rule.group == 0 {
        // the whole match: no capture groups to track
        for m in rule.re.find_iter(text) {
            if let Some(f) = accept(rule, text, m.start(), m.end()) {
                out.push(f);
            }
        }
        return;
    }
    for caps in rule.re.captures_iter(text) {
        if let Some(m) = caps.get(rule.group)
            && let Some(f) = accept(rule, text, m.start(), m.end())
        {
            out.push(f);
        }
    }
}

/// Sorts spans and merges overlapping ones, keeping the first span's category.
fn merge(mut out: Vec<Found>) -> Vec<Found> {
    out.sort();
    let mut merged: Vec<Found> = Vec::with_capacity(out.len());
    for f in out {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    merged
}

/// The words of every rule's trigger in one Aho-Corasick automaton (ASCII case-insensitive,
/// overlapping), each word with the rules it triggers.
struct TriggerWords {
    ac: AhoCorasick,
    /// Per pattern: (rule index, the word as written).
    rules: Vec<Vec<(usize, &'static str)>>,
}

fn trigger_words() -> Option<&'static TriggerWords> {
    static WORDS: OnceLock<Option<TriggerWords>> = OnceLock::new();
    WORDS
        .get_or_init(|| {
            let mut patterns: Vec<String> = Vec::new();
            let mut rules_of: Vec<Vec<(usize, &'static str)>> = Vec::new();
            for (i, rule) in rules().iter().enumerate() {
                let words: &'static [&'static str] = match &rule.trigger {
                    Trigger::Starts { words, .. } => words,
                    Trigger::Contains(w) | Trigger::Words { words: w, .. } => w,
                    Trigger::Shape(_) => continue,
                };
                for &w in words {
                    let lower = w.to_ascii_lowercase();
                    let k = match patterns.iter().position(|p| *p == lower) {
                        Some(k) => k,
                        None => {
                            patterns.push(lower);
                            rules_of.push(Vec::new());
                            patterns.len() - 1
                        }
                    };
                    if let Some(v) = rules_of.get_mut(k) {
                        v.push((i, w));
                    }
                }
            }
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .ok()?;
            Some(TriggerWords {
                ac,
                rules: rules_of,
            })
        })
        .as_ref()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A digit, a dot, one to three digits, a dot and a digit somewhere in `b`.
/// Finds PHI in `text`; spans are sorted and do not overlap (overlaps are merged, keeping the
/// first span's category).
///
/// The same spans as [`find_unfiltered`], faster: in ASCII text one pass finds the words the
/// rules depend on and one pass the arrangements of digits ([`Shape`]); a rule whose words or
/// digits are absent is skipped, and a rule whose matches start with its words is tried only
/// where they start. Every rule has such a condition. Other text goes through every rule.
pub fn find(text: &str) -> Vec<Found> {
    let Some(words) = trigger_words().filter(|_| text.is_ascii()) else {
        return find_unfiltered(text);
    };
    let rules = rules();
    let mut gate = vec![false; rules.len()];
    let mut starts: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
    let bytes = text.as_bytes();
    for hit in words.ac.find_overlapping_iter(text) {
        let (s, e) = (hit.start(), hit.end());
        for &(i, word) in words
            .rules
            .get(hit.pattern().as_usize())
            .into_iter()
            .flatten()
        {
            match rules.get(i).map(|r| &r.trigger) {
                Some(Trigger::Starts { .. }) => {
                    if (s == 0 || !bytes.get(s - 1).copied().is_some_and(is_word_byte))
                        && let Some(v) = starts.get_mut(i)
                    {
                        v.push(s);
                    }
                }
                Some(Trigger::Contains(_)) => {
                    if let Some(g) = gate.get_mut(i) {
                        *g = true;
                    }
                }
                Some(Trigger::Words { exact, .. }) => {
                    let edge = |i: Option<usize>| {
                        !i.and_then(|i| bytes.get(i))
                            .copied()
                            .is_some_and(is_word_byte)
                    };
                    let ends_in_word = word.bytes().last().is_some_and(is_word_byte);
                    if (!*exact || bytes.get(s..e) == Some(word.as_bytes()))
                        && edge(s.checked_sub(1))
                        && (!ends_in_word || edge(Some(e)))
                        && let Some(g) = gate.get_mut(i)
                    {
                        *g = true;
                    }
                }
                _ => {}
            }
        }
    }
    let digits = shapes(bytes);
    let mut out: Vec<Found> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        match &rule.trigger {
            Trigger::Shape(shape) => {
                if digits & shape.bit() != 0 {
                    scan(rule, text, &mut out);
                }
            }
            Trigger::Contains(_) | Trigger::Words { .. } => {
                if gate.get(i).copied().unwrap_or(true) {
                    scan(rule, text, &mut out);
                }
            }
            Trigger::Starts { anchored, .. } => {
                let Some(cands) = starts.get_mut(i) else {
                    scan(rule, text, &mut out);
                    continue;
                };
                cands.sort_unstable();
                cands.dedup();
                // the matches `captures_iter` would give: each from the first start at or
                // after the end of the previous one
                let mut pos = 0;
                for &p in cands.iter() {
                    if p < pos {
                        continue;
                    }
                    let Some(caps) = text.get(p..).and_then(|t| anchored.captures(t)) else {
                        continue;
                    };
                    if let Some(whole) = caps.get(0) {
                        pos = p + whole.end().max(1);
                    }
                    if let Some(m) = caps.get(rule.group)
                        && let Some(f) = accept(rule, text, p + m.start(), p + m.end())
                    {
                        out.push(f);
                    }
                }
            }
        }
    }
    merge(out)
}

/// [`find`] without the prefilters: every rule scans the whole text. The reference the fast
/// path must equal (the tests compare them); used for text that is not ASCII, where
/// case-insensitive patterns and word boundaries reach beyond what the prefilters know.
pub fn find_unfiltered(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for rule in rules() {
        scan(rule, text, &mut out);
    }
    merge(out)
}
