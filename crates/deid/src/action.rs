//! Element actions shared by the message formats ([`crate::hl7`], [`crate::fhir`]): what a
//! policy may ask for one field, component or element, and how one value is rewritten.

use crate::Detector;
use crate::replace::{Counts, Mode};
use crate::rules::Category;
use crate::surrogate::Surrogates;

/// What happens to one HL7 field/component or one FHIR element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Copied unchanged.
    Keep,
    /// Emptied (HL7) or removed (FHIR).
    Drop,
    /// Keyed hash, 16 hex digits ([`Surrogates::hash`]).
    Hash,
    /// The replacement of this category in the run's mode ([`crate::replace::replacement`]).
    Pseudonym(Category),
    /// An identifier (HL7 CX, XCN.1; FHIR `identifier.value`, resource ids): a
    /// format-preserving pseudonym ([`Category::IdNumber`]).
    Id,
    /// A person's name (HL7 XPN: family, given, middle; FHIR `family`, `given`, `text`).
    Name,
    /// A clinician (HL7 XCN: the id hashed, the name parts as [`Action::Name`]).
    Clinician,
    /// An address (HL7 XAD: street, other designation, city, county → places, ZIP → zip3;
    /// state and country kept).
    Address,
    /// A telephone (HL7 XTN: number, e-mail, area code, local number, unformatted number).
    Phone,
    /// Moved by the patient's date shift, keeping its precision and time.
    DateShift,
    /// A ZIP code cut to 3 digits.
    Zip3,
    /// An age, over 89 as `90+`.
    Age,
    /// Free text: PHI found by the [`Detector`] and replaced in this mode (`None`: the
    /// run's mode).
    Text(Option<Mode>),
    /// HL7 OBX-5: by the value type in OBX-2 (TX, FT, ST → text; DT, DTM, TS → date shift;
    /// XPN, PN → name; XCN → clinician; XAD, AD → address; XTN, TN → phone; CX → id; ED
    /// (encapsulated documents) emptied; others kept).
    ObxValue,
}

/// Every action name a policy may use.
pub const NAMES: &str = "keep, drop, hash, pseudonym, id, name, clinician, address, phone, date_shift, zip3, age, text, obx_value";

impl Action {
    /// Reads an action from a policy value: a name, or a table with `action = "..."` (and
    /// `category` for `pseudonym`, `mode` for `text`).
    pub fn parse(v: &toml::Value) -> Result<Self, String> {
        let (name, t) = name_and_table(v)?;
        if let Some(t) = t {
            let allowed: &[&str] = match name {
                "pseudonym" => &["action", "category"],
                "text" => &["action", "mode"],
                _ => &["action"],
            };
            if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(format!("unknown key {k:?} for action {name}"));
            }
        }
        let get = |k: &str| t.and_then(|t| t.get(k)).and_then(|x| x.as_str());
        Ok(match name {
            "keep" => Self::Keep,
            "drop" => Self::Drop,
            "hash" => Self::Hash,
            "id" => Self::Id,
            "name" => Self::Name,
            "clinician" | "xcn" => Self::Clinician,
            "address" => Self::Address,
            "phone" => Self::Phone,
            "date_shift" => Self::DateShift,
            "zip3" => Self::Zip3,
            "age" => Self::Age,
            "obx_value" => Self::ObxValue,
            "pseudonym" => {
                let c = get("category").ok_or(
                    "pseudonym needs category = \"PTName\" (or HCPName, Location, Phone, ID...)",
                )?;
                Self::Pseudonym(
                    Category::parse(c).ok_or_else(|| format!("unknown category {c:?}"))?,
                )
            }
            "text" => Self::Text(get("mode").map(str::parse).transpose()?),
            other => return Err(format!("unknown action {other:?} ({NAMES})")),
        })
    }

    /// The action's policy name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Drop => "drop",
            Self::Hash => "hash",
            Self::Pseudonym(_) => "pseudonym",
            Self::Id => "id",
            Self::Name => "name",
            Self::Clinician => "clinician",
            Self::Address => "address",
            Self::Phone => "phone",
            Self::DateShift => "date_shift",
            Self::Zip3 => "zip3",
            Self::Age => "age",
            Self::Text(_) => "text",
            Self::ObxValue => "obx_value",
        }
    }
}

/// How one scalar value is rewritten (what structured actions come down to).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaf {
    /// Unchanged.
    Keep,
    /// Emptied.
    Drop,
    /// Keyed hash.
    Hash,
    /// Replaced as this category in the run's mode.
    As(Category),
    /// A family name of this category ([`Surrogates::family_name`] in surrogate mode).
    Family(Category),
    /// Given names of this category ([`Surrogates::given_name`] in surrogate mode).
    Given(Category),
    /// Date shift.
    Date,
    /// ZIP to 3 digits.
    Zip3,
    /// Age.
    Age,
    /// Free text in this mode (`None`: the run's).
    Text(Option<Mode>),
}

/// The context a leaf is rewritten in.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// Surrogates (the key).
    pub s: &'a Surrogates,
    /// The free-text finder.
    pub detector: &'a Detector,
    /// The run's mode.
    pub mode: Mode,
    /// The patient whose date shift applies.
    pub patient: &'a str,
}

/// A date in an HL7 or FHIR shape moved by `patient`'s shift, keeping its precision: a bare
/// year (`2024`) stays (Safe Harbor keeps years), `YYYYMM` and `YYYY-MM` move from the 15th
/// of the month, full dates and date-times move by whole days with the time and zone kept.
/// `None` for anything else.
pub fn shift_date(s: &Surrogates, patient: &str, v: &str) -> Option<String> {
    let t = v.trim();
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if t.len() == 4 && digits(t) {
        return Some(v.to_owned());
    }
    if t.len() == 6 && digits(t) {
        let iso = format!("{}-{}", t.get(..4)?, t.get(4..)?);
        let moved = s.shift_date(patient, &iso)?;
        return Some(moved.replace('-', ""));
    }
    s.shift_date(patient, v)
}

/// Rewrites one value; `None` when the leaf cannot read it (a date that is no date...).
/// Counts go to `counts` (category names, `hash`, `ZIP`, never values).
pub fn apply(leaf: Leaf, v: &str, cx: &Ctx<'_>, counts: &mut Counts) -> Option<String> {
    if v.trim().is_empty() {
        return Some(v.to_owned());
    }
    let (out, what) = match leaf {
        Leaf::Keep => return Some(v.to_owned()),
        Leaf::Drop => (String::new(), "dropped"),
        Leaf::Hash => (cx.s.hash(v), "hash"),
        Leaf::As(c) => (
            crate::replace::replacement(v, c, cx.mode, cx.patient, cx.s),
            c.as_str(),
        ),
        Leaf::Family(c) | Leaf::Given(c) if cx.mode == Mode::Surrogate => (
            if matches!(leaf, Leaf::Family(_)) {
                cx.s.family_name(v)
            } else {
                cx.s.given_name(v)
            },
            c.as_str(),
        ),
        Leaf::Family(c) | Leaf::Given(c) => (
            crate::replace::replacement(v, c, cx.mode, cx.patient, cx.s),
            c.as_str(),
        ),
        Leaf::Date => (shift_date(cx.s, cx.patient, v)?, "Date"),
        Leaf::Zip3 => (crate::surrogate::zip3(v)?, "ZIP"),
        Leaf::Age => (crate::surrogate::age_checked(v)?, "Age"),
        Leaf::Text(m) => {
            let found = cx.detector.find(v);
            let (t, c) = crate::replace::replace(v, &found, m.unwrap_or(cx.mode), cx.patient, cx.s);
            counts.merge(&c);
            return Some(t);
        }
    };
    counts.add(what, 1);
    Some(out)
}

/// A policy entry's action name and, when it is a table, the table (`"hash"` or
/// `{ action = "pseudonym", category = "Name" }`).
pub fn name_and_table(v: &toml::Value) -> Result<(&str, Option<&toml::Table>), String> {
    match v {
        toml::Value::String(s) => Ok((s.as_str(), None)),
        toml::Value::Table(t) => Ok((
            t.get("action")
                .and_then(|a| a.as_str())
                .ok_or("needs action = \"...\"")?,
            Some(t),
        )),
        _ => Err("expected an action name or a table with action = \"...\"".into()),
    }
}
