//! A rule-based PHI finder for clinical free text: the first, recall-oriented layer of the
//! de-identifier. Patterns with context words find dates, years, phone and pager numbers,
//! ages over 89, e-mail addresses, URLs, IP addresses, SSNs and record numbers; names are found
//! after titles (`Dr.`, `Mr.`, `NP` ...) and relationship words (`son`, `wife` ...), places
//! before hospital words (`... Hospital`, `... Medical Center`). No list of names or places is
//! used yet, and nothing is learned from any corpus.

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
}

const MONTHS: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const NAME: &str = r"([A-Za-z][A-Za-z'\-]+)";
/// One or two name-like words (no capture group).
const NAME2: &str = r"[A-Za-z][A-Za-z'\-]+(?:\s+[A-Za-z][A-Za-z'\-]+)?";

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        // the patterns are constants of this file; `RULE_COUNT` and a test make sure every one
        // compiles
        let r = |pattern: &str, group: usize, category: Category, name: bool| {
            Regex::new(pattern).ok().map(|re| Rule {
                re,
                group,
                category,
                name,
            })
        };
        [
            // dates: 7/22, 9/3/97, 10-15-2004, 2004-10-15, Jan 5, 5th of January, January 5, 2004
            r(r"\b(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?:/(?:\d{4}|\d{2}))?\b", 0, Category::Date, false),
            r(r"\b(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])-(?:\d{4}|\d{2})\b", 0, Category::Date, false),
            r(r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0, Category::Date, false),
            r(&format!(r"(?i)\b{MONTHS}\.?\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?\b"), 0, Category::Date, false),
            r(&format!(r"(?i)\b(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b(?:,?\s+(?:19|20)\d{{2}})?"), 0, Category::Date, false),
            r(r"\b(?:0?[1-9]|1[0-2])/(?:19|20)?\d{2}\b", 0, Category::Date, false),
            // years: four digits, or two after an apostrophe
            r(r"\b(?:19[0-9]{2}|20[0-4][0-9])\b", 0, Category::DateYear, false),
            r(r"'(\d{2})\b", 1, Category::DateYear, false),
            r(
                r"(?i)\b(?:mi|cabg|ptca|pci|cva|tia|mvr|avr|ablation|pacer|ppm|aicd|stent|stents|cholecystectomy|appendectomy|hysterectomy|thoracotomy|craniotomy|colectomy|dx|diagnosed)\s+(?:x\d\s+)?(?:in\s+)?'?((?:19|20)?\d{2})\b",
                1,
                Category::DateYear,
                false,
            ),
            // phone and pager numbers
            r(r"\(?\b\d{3}\)?[\-. ]\d{3}[\-. ]\d{4}\b", 0, Category::Phone, false),
            r(r"\b\d{3}-\d{4}\b", 0, Category::Phone, false),
            r(r"(?i)\b(?:pager|pgr|pg|beeper|beep|cell|phone|tel|fax|ext)\.?\s*(?:#|no\.?|number)?\s*:?\s*(\d{4,5})\b", 1, Category::Phone, false),
            // ages over 89
            r(r"(?i)\b((?:9\d|1[01]\d))\s*(?:yo\b|y/o|y\.o\.|-?\s*years?[\s-]old|-?\s*yr)", 1, Category::Age, false),
            // e-mail, URL, IP, SSN, record and account numbers
            r(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0, Category::Email, false),
            r(r"(?i)\b(?:https?://|www\.)\S+", 0, Category::Url, false),
            r(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", 0, Category::IpAddress, false),
            r(r"\b\d{3}-\d{2}-\d{4}\b", 0, Category::Ssn, false),
            r(r"(?i)\b(?:mrn|mr#|med(?:ical)?\s+record(?:\s+(?:no|number))?|acct|account|policy|ref|member\s+id|id)\s*[#:]?\s*([a-z]{0,3}\d[\w-]{3,})", 1, Category::IdNumber, false),
            // names after titles and relationship words
            r(&format!(r"(?i)\b(?:dr|doctor|np|attending|resident|fellow|intern)\.?\s+{NAME}"), 1, Category::HcpName, true),
            r(r"(?i)\b(?:dr|doctor)\.?\s+([A-Za-z][A-Za-z'\-]+\s+[A-Za-z][A-Za-z'\-]+)", 1, Category::HcpName, true),
            r(&format!(r"\b{NAME},?\s+(?:MD|M\.D\.|NP|RN|PA-C|DO)\b"), 1, Category::HcpName, true),
            r(&format!(r"(?i)\b(?:mr\.?|mrs\.?|ms\.|miss)\s+{NAME}"), 1, Category::PtName, true),
            r(&format!(r"(?i)\b(?:son|sons|daughter|daughters|dtr|husband|wife|spouse|sister|brother|mother|father|mom|dad|niece|nephew|aunt|uncle|grandson|granddaughter|cousin|friend|neighbor|neighbour|partner|fiance|fiancee|proxy|guardian)(?:'s)?\s+(?:is\s+|named\s+|,\s*)?{NAME}"), 1, Category::RelativeProxyName, true),
            // places after moving words: transferred to X, admitted from X, lives in X
            r(
                &format!(r"(?i)\b(?:transfer(?:red)?|transfered|admitted|sent|taken|discharged|going|go|moved|returned|lives|living|resides)\s+(?:back\s+)?(?:to|from|in|at)\s+(?:the\s+)?((?:st\.?\s+)?{NAME2})"),
                1,
                Category::Location,
                true,
            ),
            // places before hospital words
            r(r"\b((?:[A-Z][A-Za-z'\-]+\s+){1,3})(?:Hospital|HOSPITAL|Medical Center|MEDICAL CENTER|Med Ctr|Nursing Home|NURSING HOME|Rehab|REHAB|Clinic|CLINIC|Hospice|HOSPICE|Manor|MANOR)\b", 1, Category::Location, true),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// How many rules there are (every pattern compiles: a test checks it).
pub const RULE_COUNT: usize = 25;

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

fn is_name(word: &str) -> bool {
    let w = word
        .trim_end_matches(['.', ',', ';', ':'])
        .to_ascii_lowercase();
    w.len() >= 2 && !NOT_NAMES.contains(&w.as_str()) && w.chars().any(|c| c.is_ascii_alphabetic())
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
    // ventilator and pressure settings: PS 10/5, PEEP 5/5, CPAP 10/5
    let prev = before
        .split(|c: char| !c.is_ascii_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        prev.as_str(),
        "ps" | "psv" | "peep" | "cpap" | "bipap" | "ipap" | "epap" | "vent" | "settings"
            if m.split('/').count() == 2
    )
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

/// Finds PHI in `text`; spans are sorted and do not overlap (overlaps are merged, keeping the
/// first span's category).
pub fn find(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for rule in rules() {
        for caps in rule.re.captures_iter(text) {
            let Some(m) = caps.get(rule.group) else {
                continue;
            };
            let (mut start, mut end) = (m.start(), m.end());
            let before = text
                .get(start.saturating_sub(12)..start)
                .unwrap_or_default();
            let skip = match rule.category {
                Category::Date => not_a_date(m.as_str(), before),
                Category::DateYear => m.as_str().len() == 4 && looks_like_time(m.as_str()),
                Category::Phone => looks_like_time_range(m.as_str()),
                _ => false,
            };
            if skip {
                continue;
            }
            if rule.name {
                // keep the leading run of name-like words ("Springfield" of "Springfield with")
                let text_m = m.as_str();
                let mut keep: Option<(usize, usize)> = None;
                for (ws, we) in word_spans(text_m) {
                    if !is_name(text_m.get(ws..we).unwrap_or_default()) {
                        break;
                    }
                    keep = Some((keep.map_or(ws, |k| k.0), we));
                }
                let Some((ws, we)) = keep else { continue };
                end = start + we;
                start += ws;
            }
            if end > start {
                out.push(Found {
                    start,
                    end,
                    category: rule.category,
                });
            }
        }
    }
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
