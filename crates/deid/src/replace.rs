//! Writing de-identified text: found PHI spans replaced by tags, masks or surrogates.

use crate::rules::{Category, Found};
use crate::surrogate::Surrogates;
use std::collections::BTreeMap;

/// How PHI is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A tag naming the category, such as `[NAME]` (see [`tag`]).
    #[default]
    Tags,
    /// One `*` per character; whitespace inside the span is kept, so lines stay lines.
    Mask,
    /// Realistic, consistent surrogates (see [`crate::surrogate`]); dates move by the
    /// patient's shift; years stay; ages over 89 become `90+`.
    Surrogate,
}

impl Mode {
    /// The mode's name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tags => "tags",
            Self::Mask => "mask",
            Self::Surrogate => "surrogate",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tags" | "tag" => Ok(Self::Tags),
            "mask" => Ok(Self::Mask),
            "surrogate" | "surrogates" => Ok(Self::Surrogate),
            _ => Err(format!(
                "unknown replacement mode {s:?} (expected tags, mask or surrogate)"
            )),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tag of a category in [`Mode::Tags`].
pub fn tag(c: Category) -> &'static str {
    match c {
        Category::Date => "[DATE]",
        Category::DateYear => "[YEAR]",
        Category::Phone => "[PHONE]",
        Category::Age => "[AGE]",
        Category::HcpName => "[HCP_NAME]",
        Category::PtName => "[NAME]",
        Category::RelativeProxyName => "[RELATIVE_NAME]",
        Category::Location => "[LOCATION]",
        Category::Address => "[ADDRESS]",
        Category::Email => "[EMAIL]",
        Category::Url => "[URL]",
        Category::IpAddress => "[IP]",
        Category::Ssn => "[SSN]",
        Category::IdNumber => "[ID]",
        Category::Other => "[OTHER]",
    }
}

/// How many values were replaced, by category name ([`Category::as_str`], or another fixed
/// name for table actions). Holds no PHI.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Counts(pub BTreeMap<&'static str, u64>);

impl Counts {
    /// Adds `n` under `name`.
    pub fn add(&mut self, name: &'static str, n: u64) {
        *self.0.entry(name).or_default() += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Counts) {
        for (k, v) in &other.0 {
            self.add(k, *v);
        }
    }

    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// The replacement of one span's `value`.
pub fn replacement(
    value: &str,
    category: Category,
    mode: Mode,
    patient: &str,
    s: &Surrogates,
) -> String {
    replacement_shifted(value, category, mode, s, || s.date_shift_days(patient))
}

/// [`replacement`] with the patient's date shift given by `days` (called only for a date in
/// surrogate mode), so that a caller with many values computes it once.
fn replacement_shifted(
    value: &str,
    category: Category,
    mode: Mode,
    s: &Surrogates,
    days: impl FnOnce() -> i64,
) -> String {
    match mode {
        Mode::Tags => tag(category).to_owned(),
        Mode::Mask => value
            .chars()
            .map(|c| if c.is_whitespace() { c } else { '*' })
            .collect(),
        Mode::Surrogate => match category {
            Category::Date => {
                crate::date::shift(value, days()).unwrap_or_else(|| tag(category).to_owned())
            }
            Category::Age => {
                crate::surrogate::age_checked(value).unwrap_or_else(|| tag(category).to_owned())
            }
            c => s.pseudonym(c, value),
        },
    }
}

/// `text` with every `found` span replaced in `mode`; `patient` selects the date shift.
/// Spans may come in any order: spans out of range, empty, not on character boundaries or
/// overlapping an earlier span are clipped to what is left, or skipped, never a panic.
/// Returns the new text and the count of replaced spans per category.
pub fn replace(
    text: &str,
    found: &[Found],
    mode: Mode,
    patient: &str,
    s: &Surrogates,
) -> (String, Counts) {
    let mut spans: Vec<Found> = found.to_vec();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut counts = Counts::default();
    let mut last = 0usize;
    // the patient's date shift, keyed-hashed once per text rather than once per date
    let mut shift: Option<i64> = None;
    for f in spans {
        let mut start = f.start.max(last);
        let mut end = f.end.min(text.len());
        while start < end && !text.is_char_boundary(start) {
            start += 1;
        }
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let (Some(before), Some(value)) = (text.get(last..start), text.get(start..end)) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        out.push_str(before);
        let days = || *shift.get_or_insert_with(|| s.date_shift_days(patient));
        out.push_str(&replacement_shifted(value, f.category, mode, s, days));
        counts.add(f.category.as_str(), 1);
        last = end;
    }
    out.push_str(text.get(last..).unwrap_or_default());
    (out, counts)
}
