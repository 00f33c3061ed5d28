//! FHIR R4 de-identification: a resource or a Bundle (JSON), or one resource per line
//! (NDJSON), walked as [`serde_json::Value`] (no generated FHIR model, so unknown resource
//! types and extensions pass through the same rules).
//!
//! Element paths are the resource type and element names joined by dots, array positions
//! left out (`Patient.name.given`, `Observation.note.text`). A policy ([`FhirPolicy`]) maps
//! path patterns (`*` matches one name, the resource type included) to [`Action`]s; `keep`
//! and `drop` apply to the whole element, the other actions to every string inside it. The
//! pattern with fewest `*` wins. Elements no rule names follow the built-in default (see the
//! crate README): names, telecom values, address lines and cities, identifier values become
//! surrogates (in the run's mode), postal codes keep 3 digits (others are removed), every
//! date, dateTime and instant moves by the patient's shift keeping its precision and zone,
//! free text (`text`, `div`, `valueString`, `comment`, `description`, ...) goes through the
//! [`Detector`], text attachments (`data` with a `text/*` content type) are decoded,
//! de-identified and re-encoded, other attachment data is removed, and resource ids and
//! references (`Patient/123`, `urn:uuid:...`) map to one format-preserving pseudonym, so
//! `Patient.id` and every `subject.reference` still match.
//!
//! The patient whose date shift applies: `Patient.id` for a Patient; for other resources the
//! id in `subject`, `patient` or `beneficiary` (a `urn:uuid:` reference is resolved through
//! the Bundle's `fullUrl`s). Give FHIR Patient ids the value HL7 PID-3.1 and the CSV
//! `patient` column hold, and one key gives one shift across the three.
//!
//! Output objects have their keys in alphabetical order (serde_json's map), which FHIR
//! allows.

use crate::Detector;
use crate::action::{self, Action, Ctx, Leaf};
use crate::error::DeidError;
use crate::hl7::OnError;
use crate::replace::{Counts, Mode};
use crate::rules::Category;
use crate::surrogate::Surrogates;
use crate::table::OnBad;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Write};

/// Input shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirFormat {
    /// One resource (or Bundle) per file.
    Json,
    /// One resource per line.
    Ndjson,
}

impl FhirFormat {
    /// `ndjson` for `*.ndjson` and `*.jsonl`, else `json`.
    pub fn for_path(p: &std::path::Path) -> Self {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("ndjson" | "jsonl") => Self::Ndjson,
            _ => Self::Json,
        }
    }
}

/// A FHIR policy.
#[derive(Debug, Clone)]
pub struct FhirPolicy {
    /// Path patterns and their actions.
    pub rules: Vec<(String, Action)>,
    /// Replacement mode of free text, names, places, phones and identifiers.
    pub mode: Mode,
    /// A value an action cannot read: error, or the element removed (the default).
    pub on_bad: OnBad,
}

impl Default for FhirPolicy {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            mode: Mode::Surrogate,
            on_bad: OnBad::Blank,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    mode: Option<String>,
    on_bad_value: Option<String>,
    #[serde(default)]
    paths: BTreeMap<String, toml::Value>,
}

impl FhirPolicy {
    /// Reads a policy (TOML): `mode`, `on_bad_value`, and `[paths]` mapping path patterns
    /// to actions. Unnamed elements follow the built-in default.
    pub fn parse(file: &str, text: &str) -> Result<Self, DeidError> {
        let bad = |reason: String| DeidError::Policy {
            file: file.to_owned(),
            reason,
        };
        let p: PolicyFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let mut policy = Self::default();
        if let Some(m) = &p.mode {
            policy.mode = m.parse().map_err(bad)?;
        }
        policy.on_bad = OnBad::parse(p.on_bad_value.as_deref(), OnBad::Blank).map_err(bad)?;
        for (k, v) in &p.paths {
            let ok = !k.is_empty()
                && k.split('.').all(|s| {
                    s == "*"
                        || (!s.is_empty()
                            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                });
            if !ok {
                return Err(bad(format!(
                    "{k:?} is not an element path (e.g. Patient.name.family, *.text.div)"
                )));
            }
            let a = Action::parse(v).map_err(|e| bad(format!("{k}: {e}")))?;
            if matches!(a, Action::ObxValue) {
                return Err(bad(format!("{k}: obx_value is for HL7 only")));
            }
            policy.rules.push((k.clone(), a));
        }
        Ok(policy)
    }

    fn rule(&self, path: &[String]) -> Option<Action> {
        self.rules
            .iter()
            .filter(|(p, _)| {
                let parts: Vec<&str> = p.split('.').collect();
                parts.len() == path.len()
                    && parts.iter().zip(path).all(|(a, b)| *a == "*" || a == b)
            })
            .min_by_key(|(p, _)| p.split('.').filter(|s| *s == "*").count())
            .map(|(_, a)| *a)
    }
}

/// Limits and error handling for NDJSON.
#[derive(Debug, Clone, Copy)]
pub struct FhirOptions {
    /// Bad lines (NDJSON): fail, or report and leave out.
    pub on_error: OnError,
    /// Longest NDJSON line, in bytes.
    pub max_line: usize,
}

impl Default for FhirOptions {
    fn default() -> Self {
        Self {
            on_error: OnError::Fail,
            max_line: 64 << 20,
        }
    }
}

/// What a run did (no PHI).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FhirReport {
    /// Resources de-identified (Bundle entries and contained resources included).
    pub resources: u64,
    /// NDJSON lines left out.
    pub skipped: u64,
    /// Why, for the first [`crate::hl7::MAX_LISTED`].
    pub skipped_reasons: Vec<String>,
    /// Values changed, by category or action.
    pub counts: Counts,
}

/// Keys whose string values are free text by default.
const FREE_TEXT: &[&str] = &[
    "text",
    "div",
    "valueString",
    "valueMarkdown",
    "comment",
    "description",
    "conclusion",
    "summary",
    "patientInstruction",
    "title",
    "note",
];

/// Keys whose string values are codes, URIs or ids: never rewritten as text or dates.
const STRUCTURAL: &[&str] = &[
    "resourceType",
    "system",
    "code",
    "version",
    "url",
    "profile",
    "use",
    "status",
    "unit",
    "language",
    "contentType",
    "gender",
    "display",
    "mode",
];

/// `YYYY-MM`, `YYYY-MM-DD` or a dateTime / instant.
fn is_fhir_date(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let is = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(b.len() >= 7 && (0..4).all(d) && is(4, b'-') && d(5) && d(6)) {
        return false;
    }
    if b.len() == 7 {
        return true;
    }
    if !(is(7, b'-') && d(8) && d(9)) {
        return false;
    }
    b.len() == 10
        || (is(10, b'T')
            && b.get(11..)
                .is_some_and(|t| t.iter().all(|c| c.is_ascii_digit() || b":.+-Z".contains(c))))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    let enc = |i: u32| char::from(B64.get((i & 63) as usize).copied().unwrap_or(b'A'));
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(enc(n >> 18));
        out.push(enc(n >> 12));
        out.push(if chunk.len() > 1 { enc(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { enc(n) } else { '=' });
    }
    out
}

/// Decodes standard base64 (whitespace ignored, padding optional); `None` when invalid.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut pad = false;
    for c in s.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad = true;
            continue;
        }
        if pad {
            return None;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The id of a reference `Type/id`, `http://.../Type/id[/_history/n]` or `urn:uuid:id`.
fn reference_id(r: &str) -> Option<&str> {
    if let Some(u) = r
        .strip_prefix("urn:uuid:")
        .or_else(|| r.strip_prefix("urn:oid:"))
    {
        return Some(u);
    }
    let r = r.split("/_history/").next()?;
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (ty.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && !id.is_empty()).then_some(id)
}

struct Walker<'a> {
    policy: &'a FhirPolicy,
    s: &'a Surrogates,
    detector: &'a Detector,
    counts: Counts,
    resources: u64,
    /// Bundle `fullUrl` → Patient id.
    urls: HashMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Name(Category),
    Address,
    Telecom,
    Identifier,
    Attachment,
    Reference,
}

fn join(path: &[String]) -> String {
    path.join(".")
}

impl Walker<'_> {
    /// The pseudonym of a resource id (format-preserving, whatever the mode, so that ids stay
    /// valid and references keep matching).
    fn id(&mut self, v: &str) -> String {
        self.counts.add("resource id", 1);
        self.s.format_preserving("id", v.trim())
    }

    fn reference(&mut self, r: &str) -> String {
        match reference_id(r) {
            Some(id) if !id.is_empty() => {
                // `id` is a slice of `r`: its offset
                let start = (id.as_ptr() as usize).saturating_sub(r.as_ptr() as usize);
                let end = start + id.len();
                let new = self.id(id);
                format!(
                    "{}{new}{}",
                    r.get(..start).unwrap_or_default(),
                    r.get(end..).unwrap_or_default()
                )
            }
            _ => r.to_owned(),
        }
    }

    fn patient_of(&self, rt: &str, obj: &Map<String, Value>, inherited: &str) -> String {
        if rt == "Patient" {
            return obj
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(inherited)
                .trim()
                .to_owned();
        }
        for k in ["subject", "patient", "beneficiary"] {
            let r = obj
                .get(k)
                .and_then(|s| s.get("reference"))
                .and_then(Value::as_str);
            if let Some(r) = r {
                if let Some(p) = self.urls.get(r) {
                    return p.clone();
                }
                if r.contains("Patient/")
                    && let Some(id) = reference_id(r)
                {
                    return id.trim().to_owned();
                }
            }
        }
        inherited.to_owned()
    }

    fn resource(&mut self, v: &mut Value, inherited: &str, at: &str) -> Result<(), String> {
        let Some(obj) = v.as_object_mut() else {
            return Err(format!("{at}: not a JSON object"));
        };
        let rt = match obj.get("resourceType").and_then(Value::as_str) {
            Some(t) if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()) => {
                t.to_owned()
            }
            _ => return Err(format!("{at}: not a FHIR resource (no valid resourceType)")),
        };
        self.resources += 1;
        if rt == "Bundle" {
            for e in obj
                .get("entry")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(url), Some(res)) =
                    (e.get("fullUrl").and_then(Value::as_str), e.get("resource"))
                else {
                    continue;
                };
                if res.get("resourceType").and_then(Value::as_str) == Some("Patient")
                    && let Some(id) = res.get("id").and_then(Value::as_str)
                {
                    self.urls.insert(url.to_owned(), id.trim().to_owned());
                }
            }
        }
        let patient = self.patient_of(&rt, obj, inherited);
        let mut path = vec![rt.clone()];
        let name_cat = match rt.as_str() {
            "Practitioner" | "PractitionerRole" => Category::HcpName,
            "RelatedPerson" => Category::RelativeProxyName,
            _ => Category::PtName,
        };
        // a Binary is an attachment at the top: text decoded and de-identified, else removed
        let kind = if rt == "Binary" {
            Kind::Attachment
        } else {
            Kind::Plain
        };
        self.object(&mut path, obj, &patient, kind, name_cat, true)
    }

    fn kind_of(
        parent: Option<&str>,
        key: &str,
        o: &Map<String, Value>,
        name_cat: Category,
    ) -> Kind {
        let has = |k: &str| o.contains_key(k);
        if has("family") || has("given") || key == "name" {
            // a Patient's contacts are relatives or proxies
            Kind::Name(
                if parent == Some("contact") && name_cat == Category::PtName {
                    Category::RelativeProxyName
                } else {
                    name_cat
                },
            )
        } else if key == "address" || has("line") || has("city") || has("postalCode") {
            Kind::Address
        } else if key == "telecom" {
            Kind::Telecom
        } else if key == "identifier" || key == "masterIdentifier" {
            Kind::Identifier
        } else if has("contentType") || (has("data") && !has("resourceType")) {
            Kind::Attachment
        } else if has("reference") {
            Kind::Reference
        } else {
            Kind::Plain
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        path: &mut Vec<String>,
        obj: &mut Map<String, Value>,
        patient: &str,
        kind: Kind,
        name_cat: Category,
        top: bool,
    ) -> Result<(), String> {
        let keys: Vec<String> = obj.keys().cloned().collect();
        // the attachment's content type, or the contact point's system
        let content_type = obj
            .get("contentType")
            .or_else(|| obj.get("system"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let ref_cat = obj
            .get("reference")
            .and_then(Value::as_str)
            .map(|r| {
                if r.contains("Practitioner") {
                    Some(Category::HcpName)
                } else if r.contains("RelatedPerson") {
                    Some(Category::RelativeProxyName)
                } else if r.contains("Patient") || r.contains("Person") {
                    Some(Category::PtName)
                } else {
                    None
                }
            })
            .unwrap_or(None);
        let mut remove = Vec::new();
        for k in keys {
            path.push(k.clone());
            let Some(child) = obj.get_mut(&k) else {
                path.pop();
                continue;
            };
            let keep = if let Some(a) = self.policy.rule(path) {
                self.apply_action(a, path, child, patient, &k)?
            } else {
                self.default(
                    path,
                    &k,
                    child,
                    patient,
                    kind,
                    name_cat,
                    top,
                    content_type.as_deref(),
                    ref_cat,
                )?
            };
            if !keep {
                remove.push(k);
            }
            path.pop();
        }
        for k in remove {
            obj.remove(&k);
        }
        Ok(())
    }

    /// A leaf action on every string in `v`; false when `v` is to be removed.
    fn apply_action(
        &mut self,
        a: Action,
        path: &[String],
        v: &mut Value,
        patient: &str,
        key: &str,
    ) -> Result<bool, String> {
        let leaf = match a {
            Action::Keep => return Ok(true),
            Action::Drop => {
                self.counts.add("dropped", 1);
                return Ok(false);
            }
            Action::Hash => Leaf::Hash,
            Action::Pseudonym(c) => Leaf::As(c),
            Action::Id => Leaf::As(Category::IdNumber),
            Action::Name => Leaf::As(Category::PtName),
            Action::Clinician => Leaf::As(Category::HcpName),
            Action::Address => Leaf::As(Category::Location),
            Action::Phone => Leaf::As(Category::Phone),
            Action::DateShift => Leaf::Date,
            Action::Zip3 => Leaf::Zip3,
            Action::Age => Leaf::Age,
            Action::Text(m) => Leaf::Text(m),
            Action::ObxValue => Leaf::Keep,
        };
        self.leaf_all(leaf, path, v, patient, key)
    }

    fn leaf_all(
        &mut self,
        leaf: Leaf,
        path: &[String],
        v: &mut Value,
        patient: &str,
        key: &str,
    ) -> Result<bool, String> {
        match v {
            Value::String(s) => self.leaf(leaf, path, s, patient, key),
            Value::Array(items) => {
                let mut keep = Vec::with_capacity(items.len());
                for it in items.iter_mut() {
                    keep.push(self.leaf_all(leaf, path, it, patient, key)?);
                }
                let mut i = 0;
                items.retain(|_| {
                    let k = keep.get(i).copied().unwrap_or(true);
                    i += 1;
                    k
                });
                Ok(!items.is_empty())
            }
            Value::Object(o) => {
                let mut remove = Vec::new();
                for (k, c) in o.iter_mut() {
                    if !self.leaf_all(leaf, path, c, patient, k)? {
                        remove.push(k.clone());
                    }
                }
                for k in remove {
                    o.remove(&k);
                }
                Ok(true)
            }
            _ => Ok(true),
        }
    }

    /// One string; false when it is to be removed.
    fn leaf(
        &mut self,
        leaf: Leaf,
        path: &[String],
        s: &mut String,
        patient: &str,
        key: &str,
    ) -> Result<bool, String> {
        let cx = Ctx {
            s: self.s,
            detector: self.detector,
            mode: self.policy.mode,
            patient,
        };
        let new = match leaf {
            Leaf::Text(_) if key == "div" => Some(self.xhtml(leaf, s, &cx)),
            Leaf::Text(_) if key == "data" => {
                match base64_decode(s).and_then(|b| String::from_utf8(b).ok()) {
                    Some(t) => action::apply(leaf, &t, &cx, &mut self.counts)
                        .map(|t| base64_encode(t.as_bytes())),
                    None => {
                        self.counts.add("dropped", 1);
                        return Ok(false);
                    }
                }
            }
            _ => action::apply(leaf, s, &cx, &mut self.counts),
        };
        match new {
            Some(n) if !n.is_empty() => {
                *s = n;
                Ok(true)
            }
            Some(_) => Ok(false),
            None if self.policy.on_bad == OnBad::Blank => {
                self.counts.add("blanked", 1);
                Ok(false)
            }
            None => Err(format!(
                "{}: cannot read this value (set on_bad_value = \"blank\" to remove it)",
                join(path)
            )),
        }
    }

    /// XHTML narrative: the text between tags is de-identified, tags and entities stay.
    fn xhtml(&mut self, leaf: Leaf, div: &str, cx: &Ctx<'_>) -> String {
        let mut out = String::with_capacity(div.len());
        let mut rest = div;
        while !rest.is_empty() {
            let (text, tail) = match rest.find('<') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            // entities split text so that no replacement cuts one
            let mut t = text;
            while !t.is_empty() {
                let (plain, more) = match t.find('&') {
                    Some(i) => t.split_at(i),
                    None => (t, ""),
                };
                out.push_str(&action::apply(leaf, plain, cx, &mut self.counts).unwrap_or_default());
                match more.find(';') {
                    Some(j) if !more.is_empty() => {
                        out.push_str(more.get(..=j).unwrap_or_default());
                        t = more.get(j + 1..).unwrap_or_default();
                    }
                    _ => {
                        out.push_str(more);
                        t = "";
                    }
                }
            }
            match tail.find('>') {
                Some(j) => {
                    out.push_str(tail.get(..=j).unwrap_or_default());
                    rest = tail.get(j + 1..).unwrap_or_default();
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn default(
        &mut self,
        path: &mut Vec<String>,
        key: &str,
        v: &mut Value,
        patient: &str,
        kind: Kind,
        name_cat: Category,
        top: bool,
        content_type: Option<&str>,
        ref_cat: Option<Category>,
    ) -> Result<bool, String> {
        // nested resources: contained, Bundle entries, outcomes
        if let Value::Object(o) = v
            && o.contains_key("resourceType")
        {
            let at = join(path);
            self.resource(v, patient, &at)?;
            return Ok(true);
        }
        match v {
            Value::Object(o) => {
                let parent = path.len().checked_sub(2).and_then(|i| path.get(i));
                let k = Self::kind_of(parent.map(String::as_str), key, o, name_cat);
                self.object(path, o, patient, k, name_cat, false)?;
                return Ok(true);
            }
            Value::Array(items) => {
                let mut keep = Vec::with_capacity(items.len());
                for it in items.iter_mut() {
                    keep.push(self.default(
                        path,
                        key,
                        it,
                        patient,
                        kind,
                        name_cat,
                        top,
                        content_type,
                        ref_cat,
                    )?);
                }
                let mut i = 0;
                items.retain(|_| {
                    let k = keep.get(i).copied().unwrap_or(true);
                    i += 1;
                    k
                });
                return Ok(!items.is_empty());
            }
            Value::String(_) => {}
            _ => return Ok(true),
        }
        let Value::String(s) = v else {
            return Ok(true);
        };
        if (top && key == "id") || key == "fullUrl" {
            *s = if key == "id" {
                self.id(s)
            } else {
                self.reference(s)
            };
            return Ok(true);
        }
        if key == "reference" {
            *s = self.reference(s);
            return Ok(true);
        }
        let leaf = match (kind, key) {
            (Kind::Name(c), "family") => Leaf::Family(c),
            (Kind::Name(c), "given") => Leaf::Given(c),
            (Kind::Name(c), "text") => Leaf::As(c),
            (Kind::Name(_), _) => Leaf::Keep,
            (Kind::Address, "line" | "city" | "district" | "text") => Leaf::As(Category::Location),
            (Kind::Address, "postalCode") => {
                return match crate::surrogate::zip3(s) {
                    Some(z) => {
                        *s = z;
                        self.counts.add("ZIP", 1);
                        Ok(true)
                    }
                    None => {
                        self.counts.add("dropped", 1);
                        Ok(false)
                    }
                };
            }
            (Kind::Telecom, "value") => Leaf::As(match content_type {
                Some("email") => Category::Email,
                Some("url") => Category::Url,
                _ => Category::Phone,
            }),
            (Kind::Identifier, "value") => Leaf::As(Category::IdNumber),
            (Kind::Attachment, "data") => {
                let is_text = content_type
                    .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/"));
                if !is_text {
                    self.counts.add("dropped", 1);
                    return Ok(false);
                }
                Leaf::Text(None)
            }
            (Kind::Reference, "display") => ref_cat.map_or(Leaf::Text(None), Leaf::As),
            (_, "authorString") => Leaf::As(Category::HcpName),
            _ if STRUCTURAL.contains(&key) || key == "id" => Leaf::Keep,
            _ if FREE_TEXT.contains(&key) => Leaf::Text(None),
            _ if is_fhir_date(s) => Leaf::Date,
            _ => Leaf::Keep,
        };
        self.leaf(leaf, path, s, patient, key)
    }
}

fn json_error(file: &str, e: &serde_json::Error, text: &[u8], line_base: Option<u64>) -> DeidError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON",
        serde_json::error::Category::Io => "unreadable JSON",
    };
    let location = match line_base {
        Some(l) if e.line() > 1 || e.column() == 0 => format!("line {l}"),
        Some(l) => format!("line {l}, column {}", e.column()),
        None => {
            // the byte offset of (line, column)
            let mut line = 1usize;
            let mut off = 0usize;
            for (i, &b) in text.iter().enumerate() {
                if line == e.line() {
                    off = i;
                    break;
                }
                if b == b'\n' {
                    line += 1;
                    off = i + 1;
                }
            }
            format!(
                "line {}, column {} (byte {})",
                e.line(),
                e.column(),
                off + e.column().saturating_sub(1)
            )
        }
    };
    DeidError::Fhir {
        file: file.to_owned(),
        location,
        reason: what.to_owned(),
    }
}

fn walker<'a>(policy: &'a FhirPolicy, s: &'a Surrogates, detector: &'a Detector) -> Walker<'a> {
    Walker {
        policy,
        s,
        detector,
        counts: Counts::default(),
        resources: 0,
        urls: HashMap::new(),
    }
}

/// De-identifies one resource in place; the error names the element path.
pub fn deid_resource(
    v: &mut Value,
    policy: &FhirPolicy,
    s: &Surrogates,
    detector: &Detector,
) -> Result<FhirReport, String> {
    let mut w = walker(policy, s, detector);
    w.resource(v, "", "resource")?;
    Ok(FhirReport {
        resources: w.resources,
        counts: w.counts,
        ..FhirReport::default()
    })
}

/// De-identifies a FHIR JSON file (a resource or a Bundle) held in `text`, writing pretty
/// JSON to `output`. Errors name the line, column and byte offset, or the element path.
pub fn deid_json(
    file: &str,
    text: &[u8],
    mut output: impl Write,
    policy: &FhirPolicy,
    s: &Surrogates,
    detector: &Detector,
) -> Result<FhirReport, DeidError> {
    let mut v: Value =
        serde_json::from_slice(text).map_err(|e| json_error(file, &e, text, None))?;
    let report = deid_resource(&mut v, policy, s, detector).map_err(|e| {
        // "path: reason"
        let (location, reason) = e.split_once(": ").unwrap_or(("resource", e.as_str()));
        DeidError::Fhir {
            file: file.to_owned(),
            location: location.to_owned(),
            reason: reason.to_owned(),
        }
    })?;
    serde_json::to_writer_pretty(&mut output, &v)
        .map_err(|e| DeidError::io("output", std::io::Error::other(e)))?;
    output
        .write_all(b"\n")
        .and_then(|()| output.flush())
        .map_err(|e| DeidError::io("output", e))?;
    Ok(report)
}

/// De-identifies FHIR NDJSON (one resource per line, blank lines kept out), streamed line by
/// line. Bad lines are an error naming the line, or with [`OnError::Skip`] are reported
/// and left out.
pub fn deid_ndjson(
    file: &str,
    mut input: impl BufRead,
    mut output: impl Write,
    policy: &FhirPolicy,
    opts: &FhirOptions,
    s: &Surrogates,
    detector: &Detector,
) -> Result<FhirReport, DeidError> {
    let mut report = FhirReport::default();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        let n = (&mut input)
            .take(opts.max_line as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| DeidError::io(file, e))?;
        if n == 0 {
            break;
        }
        let err = |location: String, reason: String| DeidError::Fhir {
            file: file.to_owned(),
            location,
            reason,
        };
        let result: Result<Vec<u8>, DeidError> = if buf.len() > opts.max_line {
            // skip the rest of the over-long line
            loop {
                let more = input.fill_buf().map_err(|e| DeidError::io(file, e))?;
                if more.is_empty() {
                    break;
                }
                let (k, done) = match more.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (more.len(), false),
                };
                input.consume(k);
                if done {
                    break;
                }
            }
            Err(err(
                format!("line {line}"),
                format!("line longer than {} bytes", opts.max_line),
            ))
        } else if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        } else {
            match serde_json::from_slice::<Value>(&buf) {
                Err(e) => Err(json_error(file, &e, &buf, Some(line))),
                Ok(mut v) => match deid_resource(&mut v, policy, s, detector) {
                    Err(reason) => Err(err(format!("line {line}"), reason)),
                    Ok(r) => {
                        report.resources += r.resources;
                        report.counts.merge(&r.counts);
                        serde_json::to_vec(&v)
                            .map_err(|e| DeidError::io("output", std::io::Error::other(e)))
                    }
                },
            }
        };
        match result {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                output
                    .write_all(&bytes)
                    .map_err(|e| DeidError::io("output", e))?;
            }
            Err(e) if opts.on_error == OnError::Skip => {
                report.skipped += 1;
                if report.skipped_reasons.len() < crate::hl7::MAX_LISTED {
                    report.skipped_reasons.push(e.to_string());
                }
            }
            Err(e) => return Err(e),
        }
    }
    output.flush().map_err(|e| DeidError::io("output", e))?;
    if report.resources == 0 && report.skipped == 0 {
        return Err(DeidError::Fhir {
            file: file.to_owned(),
            location: "line 1".to_owned(),
            reason: "no resource (empty input)".to_owned(),
        });
    }
    Ok(report)
}
