//! De-identification for ward (issue 6, in progress): the PhysioNet gold-standard formats
//! ([`physionet`]), span scoring with the PhysioNet convention ([`score`]) and a first,
//! rule-based PHI finder ([`rules`]). Dictionaries, a learned classifier and replacement come
//! next.

pub mod action;
pub mod date;
pub mod error;
pub mod features;
pub mod fhir;
pub mod hints;
pub mod hl7;
pub mod ids;
pub mod key;
pub mod manifest;
pub mod model;
pub mod output;
pub mod physionet;
mod prefilter;
pub mod presidio;
pub mod replace;
pub mod rules;
pub mod score;
pub mod surrogate;
pub mod table;

pub use error::DeidError;
pub use key::Key;
pub use physionet::{GoldSpan, Note, read_notes, read_phrases};
pub use replace::{Counts, Mode, replace};
pub use rules::{Category, Found};
pub use score::{Score, Span, TokenScore, score, token_score};
pub use surrogate::Surrogates;

/// The PHI finder for free text: every layer the de-identifier has, combined. Build one and
/// share it; [`Detector::find`] is pure and thread-safe. For many texts on one thread,
/// [`Detector::session`] keeps the learned classifier's word cache between them.
#[derive(Debug, Default)]
pub struct Detector {
    model: Option<model::Model>,
}

impl Detector {
    /// The rules and dictionaries alone (no learned classifier).
    pub fn new() -> Self {
        Self::default()
    }

    /// The rules together with a classifier trained by `ward train deid`.
    pub fn with_model(model: model::Model) -> Self {
        Self { model: Some(model) }
    }

    /// The learned classifier, if there is one.
    pub fn model(&self) -> Option<&model::Model> {
        self.model.as_ref()
    }

    /// A session for many texts on one thread.
    pub fn session(&self) -> Session<'_> {
        Session {
            finder: self.model.as_ref().map(model::Model::finder),
        }
    }

    /// The PHI spans of `text`, in byte offsets, sorted by start and not overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        self.session().find(text)
    }
}

/// A [`Detector`] at work on one thread.
#[derive(Debug)]
pub struct Session<'d> {
    finder: Option<model::Finder<'d>>,
}

impl Session<'_> {
    /// The PHI spans of `text`, in byte offsets, sorted by start and not overlapping: the rules'
    /// spans and the classifier's, merged where they overlap (the rule's category wins).
    pub fn find(&mut self, text: &str) -> Vec<Found> {
        self.find_group(&[text]).pop().unwrap_or_default()
    }

    /// The PHI spans of several texts about one person (one patient's notes), each as
    /// [`Session::find`] gives them, except that a name or place the classifier is sure of in
    /// one text is looked for in all of them.
    pub fn find_group(&mut self, texts: &[&str]) -> Vec<Vec<Found>> {
        let rules: Vec<Vec<Found>> = texts.iter().map(|t| pattern_spans(t)).collect();
        let Some(f) = self.finder.as_mut() else {
            return rules
                .into_iter()
                .zip(texts)
                .map(|(mut r, text)| {
                    r.retain(|f| plausible(text, f));
                    r
                })
                .collect();
        };
        let pairs: Vec<(&str, &[Found])> = texts
            .iter()
            .zip(&rules)
            .map(|(t, r)| (*t, r.as_slice()))
            .collect();
        let learned = f.find_group(&pairs);
        rules
            .into_iter()
            .zip(learned)
            .zip(texts)
            .map(|((r, l), text)| {
                let mut all = merge(r.into_iter().filter(|f| !taught(f.category)).collect(), l);
                all.retain(|f| plausible(text, f));
                all
            })
            .collect()
    }
}

/// Whether a found span (the rules' or the classifier's) can be PHI at all: it holds a letter
/// or digit; it is not just a US state's name (Safe Harbor keeps states) unless a facility is
/// named after it; and a date written in digits is not a piece of a run of measurements or a
/// pain score ([`rules::in_number_run`]; the rules apply the same test to their own dates).
fn plausible(text: &str, f: &Found) -> bool {
    let Some(s) = text.get(f.start..f.end) else {
        return false;
    };
    if !s.chars().any(char::is_alphanumeric) {
        return false;
    }
    if f.category == Category::Location && is_state(s) && !in_facility_name(text, f) {
        return false;
    }
    let numeric = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'.' | b'-'));
    !(numeric
        && matches!(f.category, Category::Date | Category::DateYear)
        && rules::in_number_run(text, f.start, f.end))
}

/// The spans of the rules and of the self-checking identifiers ([`ids`]), merged (the rules'
/// category wins where they overlap).
fn pattern_spans(text: &str) -> Vec<Found> {
    merge(rules::find(text), ids::find(text))
}

/// Whether the classifier decides on a rule category (it sees the rules' spans as features);
/// the categories it is never taught (e-mail, URL, IP, SSN, ID numbers) or too rarely (ages
/// over 89) pass on the rules alone.
fn taught(c: Category) -> bool {
    model::CLASSES.contains(&Some(c)) && !matches!(c, Category::Other | Category::Age)
}

/// Merges two sorted span lists; overlapping spans join, keeping the first list's category.
fn merge(first: Vec<Found>, second: Vec<Found>) -> Vec<Found> {
    let mut all: Vec<(Found, u8)> = first
        .into_iter()
        .map(|f| (f, 0))
        .chain(second.into_iter().map(|f| (f, 1)))
        .collect();
    all.sort_by_key(|(f, k)| (f.start, *k));
    let mut out: Vec<(Found, u8)> = Vec::with_capacity(all.len());
    for (f, k) in all {
        match out.last_mut() {
            Some((last, lk)) if f.start < last.end => {
                last.end = last.end.max(f.end);
                if k < *lk {
                    last.category = f.category;
                    *lk = k;
                }
            }
            _ => out.push((f, k)),
        }
    }
    out.into_iter().map(|(f, _)| f).collect()
}

/// The names of the US states: Safe Harbor keeps states, so a place that is just a state
/// (`lives in California`) is not PHI.
const STATES: [&str; 50] = [
    "alabama",
    "alaska",
    "arizona",
    "arkansas",
    "california",
    "colorado",
    "connecticut",
    "delaware",
    "florida",
    "georgia",
    "hawaii",
    "idaho",
    "illinois",
    "indiana",
    "iowa",
    "kansas",
    "kentucky",
    "louisiana",
    "maine",
    "maryland",
    "massachusetts",
    "michigan",
    "minnesota",
    "mississippi",
    "missouri",
    "montana",
    "nebraska",
    "nevada",
    "new hampshire",
    "new jersey",
    "new mexico",
    "new york",
    "north carolina",
    "north dakota",
    "ohio",
    "oklahoma",
    "oregon",
    "pennsylvania",
    "rhode island",
    "south carolina",
    "south dakota",
    "tennessee",
    "texas",
    "utah",
    "vermont",
    "virginia",
    "washington",
    "west virginia",
    "wisconsin",
    "wyoming",
];

/// Whether a span is exactly a state's name (any case, any spacing).
fn is_state(s: &str) -> bool {
    let name = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    STATES.contains(&name.as_str())
}

/// Whether the words around a state's name make it part of a facility's (`Maryland Rehab`,
/// `Washington Adventist`, `U Maryland`, `University of Maryland`).
fn in_facility_name(text: &str, f: &Found) -> bool {
    const AFTER: [&str; 12] = [
        "rehab",
        "hospital",
        "hosp",
        "medical",
        "center",
        "adventist",
        "general",
        "memorial",
        "university",
        "clinic",
        "nursing",
        "health",
    ];
    const BEFORE: [&str; 4] = ["u", "univ", "university", "of"];
    let word = |s: Option<&str>| {
        s.and_then(|s| {
            s.split(|c: char| !c.is_alphanumeric())
                .find(|w| !w.is_empty())
        })
        .unwrap_or_default()
        .to_ascii_lowercase()
    };
    let next = word(text.get(f.end..));
    let prev: String = word(text.get(..f.start).map(|b| {
        b.rsplit(|c: char| c.is_whitespace())
            .find(|w| !w.is_empty())
            .unwrap_or("")
    }));
    AFTER.contains(&next.as_str()) || BEFORE.contains(&prev.as_str())
}

/// Character offsets of byte offsets into `text` (for formats that count characters).
pub fn char_offsets(text: &str, bytes: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut chars = 0usize;
    let mut last = 0usize;
    for &b in bytes {
        let b = b.min(text.len());
        if b >= last {
            chars += text.get(last..b).map_or(0, |s| s.chars().count());
        } else {
            chars = text.get(..b).map_or(0, |s| s.chars().count());
        }
        last = b;
        out.push(chars);
    }
    out
}
