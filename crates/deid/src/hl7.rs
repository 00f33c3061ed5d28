//! HL7 v2 de-identification in place: every byte that is not replaced is written back as it
//! came (separators, escape sequences, empty trailing fields, segment terminators), so the
//! output is the same message with PHI values swapped.
//!
//! - Segments end at CR, LF or CRLF (any run of them, kept as it was). A message starts at
//!   each `MSH`; batch envelope segments (`FHS`, `BHS`, `BTS`, `FTS`) are copied unchanged.
//! - MSH-1 gives the field separator and MSH-2 the encoding characters (component,
//!   repetition, escape, subcomponent, optionally truncation), per message, so custom
//!   separators work. Separators must be ASCII punctuation, all different.
//! - A policy ([`Hl7Policy`]) maps `SEG-N` (a field) or `SEG-N.C` (one component) to an
//!   [`Action`]; a component rule wins over its field's rule. Every repetition is treated
//!   alike; a component's subcomponents are rewritten one by one; free text is rewritten
//!   between escape sequences, which are kept. Replacements never contain a separator.
//! - The patient whose date shift applies is PID-3's first identifier (CX.1, as written),
//!   for the segments from that PID on (segments before the first PID use it too): the same
//!   string a CSV `patient` column or a FHIR `Patient.id` holds, so one key gives one shift
//!   per patient across formats. A message without PID uses patient `""`.
//! - Malformed messages (no MSH first, bad separators, MSH without MSH-9, a line that is not a
//!   segment, invalid UTF-8, an over-long segment) are an error naming the message number and
//!   line, or with [`OnError::Skip`] are reported and left out whole.

use crate::Detector;
use crate::action::{self, Action, Ctx, Leaf};
use crate::error::DeidError;
use crate::replace::{Counts, Mode};
use crate::rules::Category;
use crate::surrogate::Surrogates;
use crate::table::OnBad;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// A policy key: `SEG-N` or `SEG-N.C`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldRef {
    /// Segment id (`PID`).
    pub segment: String,
    /// 1-based field number (MSH-1 is the field separator).
    pub field: usize,
    /// 1-based component, or the whole field.
    pub component: Option<usize>,
}

impl FieldRef {
    /// Reads `PID-5` or `PID-11.5`.
    pub fn parse(s: &str) -> Option<Self> {
        let (seg, rest) = s.trim().split_once('-')?;
        if seg.len() != 3
            || !seg
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return None;
        }
        let (f, c) = match rest.split_once('.') {
            Some((f, c)) => (f, Some(c.parse().ok().filter(|&c: &usize| c > 0)?)),
            None => (rest, None),
        };
        let field = f.parse().ok().filter(|&f: &usize| f > 0)?;
        Some(Self {
            segment: seg.to_owned(),
            field,
            component: c,
        })
    }
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.segment, self.field)?;
        if let Some(c) = self.component {
            write!(f, ".{c}")?;
        }
        Ok(())
    }
}

/// The built-in rules (see the crate README for the table).
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("MSH-7", "date_shift"),
    ("EVN-2", "date_shift"),
    ("EVN-3", "date_shift"),
    ("EVN-5", "clinician"),
    ("EVN-6", "date_shift"),
    ("PID-2", "id"),
    ("PID-3", "id"),
    ("PID-4", "id"),
    ("PID-5", "name"),
    ("PID-6", "name"),
    ("PID-7", "date_shift"),
    ("PID-9", "name"),
    ("PID-11", "address"),
    ("PID-12", "drop"),
    ("PID-13", "phone"),
    ("PID-14", "phone"),
    ("PID-18", "id"),
    ("PID-19", "pseudonym:SSN"),
    ("PID-20", "id"),
    ("PID-21", "id"),
    ("PID-23", "pseudonym:Location"),
    ("PID-29", "date_shift"),
    ("PID-33", "date_shift"),
    ("PD1-4", "clinician"),
    ("MRG-1", "id"),
    ("MRG-2", "id"),
    ("MRG-3", "id"),
    ("MRG-5", "id"),
    ("MRG-7", "name"),
    ("NK1-2", "name"),
    ("NK1-4", "address"),
    ("NK1-5", "phone"),
    ("NK1-6", "phone"),
    ("NK1-8", "date_shift"),
    ("NK1-9", "date_shift"),
    ("NK1-12", "id"),
    ("NK1-16", "date_shift"),
    ("NK1-30", "name"),
    ("NK1-31", "phone"),
    ("NK1-32", "address"),
    ("NK1-33", "id"),
    ("NK1-37", "pseudonym:SSN"),
    ("PV1-7", "clinician"),
    ("PV1-8", "clinician"),
    ("PV1-9", "clinician"),
    ("PV1-17", "clinician"),
    ("PV1-19", "id"),
    ("PV1-44", "date_shift"),
    ("PV1-45", "date_shift"),
    ("PV1-50", "id"),
    ("PV1-52", "clinician"),
    ("GT1-2", "id"),
    ("GT1-3", "name"),
    ("GT1-4", "name"),
    ("GT1-5", "address"),
    ("GT1-6", "phone"),
    ("GT1-7", "phone"),
    ("GT1-8", "date_shift"),
    ("GT1-12", "pseudonym:SSN"),
    ("GT1-13", "date_shift"),
    ("GT1-14", "date_shift"),
    ("GT1-16", "name"),
    ("GT1-17", "address"),
    ("GT1-18", "phone"),
    ("GT1-19", "id"),
    ("IN1-8", "id"),
    ("IN1-12", "date_shift"),
    ("IN1-13", "date_shift"),
    ("IN1-16", "name"),
    ("IN1-18", "date_shift"),
    ("IN1-19", "address"),
    ("IN1-29", "date_shift"),
    ("IN1-36", "id"),
    ("IN1-49", "id"),
    ("ORC-2", "id"),
    ("ORC-3", "id"),
    ("ORC-9", "date_shift"),
    ("ORC-10", "clinician"),
    ("ORC-11", "clinician"),
    ("ORC-12", "clinician"),
    ("ORC-15", "date_shift"),
    ("OBR-2", "id"),
    ("OBR-3", "id"),
    ("OBR-6", "date_shift"),
    ("OBR-7", "date_shift"),
    ("OBR-8", "date_shift"),
    ("OBR-13", "text"),
    ("OBR-14", "date_shift"),
    ("OBR-16", "clinician"),
    ("OBR-22", "date_shift"),
    ("OBR-28", "clinician"),
    ("OBX-5", "obx_value"),
    ("OBX-14", "date_shift"),
    ("OBX-16", "clinician"),
    ("OBX-19", "date_shift"),
    ("NTE-3", "text"),
    ("AL1-6", "date_shift"),
    ("DG1-5", "date_shift"),
    ("DG1-16", "clinician"),
    ("PR1-5", "date_shift"),
    ("PR1-11", "clinician"),
    ("PR1-12", "clinician"),
    ("TXA-4", "date_shift"),
    ("TXA-5", "clinician"),
    ("TXA-12", "id"),
];

/// What happens to a malformed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop with an error naming the message and line.
    #[default]
    Fail,
    /// Report it and leave it out of the output.
    Skip,
}

impl std::str::FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fail" | "error" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            _ => Err(format!("expected fail or skip, not {s:?}")),
        }
    }
}

/// An HL7 policy: rules by field or component, the free-text mode and what to do with values
/// an action cannot read.
#[derive(Debug, Clone)]
pub struct Hl7Policy {
    /// Rules; fields without one are kept.
    pub rules: BTreeMap<FieldRef, Action>,
    /// Replacement mode of free text, names, places, phones and ids.
    pub mode: Mode,
    /// A value an action cannot read: error, or an empty value (the default for messages).
    pub on_bad: OnBad,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    defaults: Option<bool>,
    mode: Option<String>,
    on_bad_value: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, toml::Value>,
}

fn default_action(s: &str) -> Action {
    match s.split_once(':') {
        Some((_, c)) => Category::parse(c).map_or(Action::Drop, Action::Pseudonym),
        None => Action::parse(&toml::Value::String(s.to_owned())).unwrap_or(Action::Drop),
    }
}

impl Default for Hl7Policy {
    fn default() -> Self {
        Self {
            rules: DEFAULT_RULES
                .iter()
                .filter_map(|(k, a)| Some((FieldRef::parse(k)?, default_action(a))))
                .collect(),
            mode: Mode::Surrogate,
            on_bad: OnBad::Blank,
        }
    }
}

impl Hl7Policy {
    /// Reads a policy file (TOML): `defaults = false` starts from no rules instead of the
    /// built-in ones; `mode`, `on_bad_value`; `[fields]` maps `SEG-N[.C]` to actions.
    pub fn parse(file: &str, text: &str) -> Result<Self, DeidError> {
        let bad = |reason: String| DeidError::Policy {
            file: file.to_owned(),
            reason,
        };
        let p: PolicyFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let mut policy = if p.defaults.unwrap_or(true) {
            Self::default()
        } else {
            Self {
                rules: BTreeMap::new(),
                ..Self::default()
            }
        };
        if let Some(m) = &p.mode {
            policy.mode = m.parse().map_err(bad)?;
        }
        policy.on_bad = OnBad::parse(p.on_bad_value.as_deref(), OnBad::Blank).map_err(bad)?;
        for (k, v) in &p.fields {
            let r = FieldRef::parse(k).ok_or_else(|| {
                bad(format!(
                    "{k:?} is not SEG-N or SEG-N.C (e.g. PID-5, PID-11.5)"
                ))
            })?;
            if r.segment == "MSH" && r.field <= 2 {
                return Err(bad(format!("{k}: MSH-1 and MSH-2 are the separators")));
            }
            let a = Action::parse(v).map_err(|e| bad(format!("{k}: {e}")))?;
            policy.rules.insert(r, a);
        }
        Ok(policy)
    }
}

/// Limits and error handling for [`deid_hl7`].
#[derive(Debug, Clone, Copy)]
pub struct Hl7Options {
    /// Malformed messages: fail or skip.
    pub on_error: OnError,
    /// Longest segment accepted, in bytes.
    pub max_segment: usize,
    /// Largest message accepted, in bytes (memory stays bounded by about this much).
    pub max_message: usize,
}

impl Default for Hl7Options {
    fn default() -> Self {
        Self {
            on_error: OnError::Fail,
            max_segment: 16 << 20,
            max_message: 64 << 20,
        }
    }
}

/// At most this many skipped messages are described in a report.
pub const MAX_LISTED: usize = 100;

/// What a run did (no PHI: messages are named by number and line).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Hl7Report {
    /// Messages written.
    pub messages: u64,
    /// Segments written (batch envelope included).
    pub segments: u64,
    /// Messages (or stray lines) left out with [`OnError::Skip`].
    pub skipped: u64,
    /// Why, for the first [`MAX_LISTED`] of them.
    pub skipped_reasons: Vec<String>,
    /// Values changed, by category or action.
    pub counts: Counts,
}

struct Seg {
    content: Vec<u8>,
    term: Vec<u8>,
    line: u64,
}

/// Reads segments: content up to CR or LF, then the run of CR/LF that ends it.
struct Segments<R> {
    r: R,
    line: u64,
    max: usize,
}

impl<R: BufRead> Segments<R> {
    fn next(&mut self, file: &str, message: u64) -> Result<Option<Seg>, DeidError> {
        let mut content = Vec::new();
        let line = self.line + 1;
        let io = |e| DeidError::io(file, e);
        loop {
            let buf = self.r.fill_buf().map_err(io)?;
            if buf.is_empty() {
                if content.is_empty() {
                    return Ok(None);
                }
                self.line += 1;
                return Ok(Some(Seg {
                    content,
                    term: Vec::new(),
                    line,
                }));
            }
            let (n, found) = match buf.iter().position(|&b| b == b'\r' || b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            content.extend_from_slice(buf.get(..n).unwrap_or_default());
            self.r.consume(n);
            if content.len() > self.max {
                return Err(DeidError::Hl7 {
                    file: file.to_owned(),
                    message,
                    line,
                    reason: format!("segment longer than {} bytes", self.max),
                });
            }
            if found {
                break;
            }
        }
        let mut term = Vec::new();
        loop {
            let buf = self.r.fill_buf().map_err(io)?;
            match buf.first() {
                Some(&b) if b == b'\r' || b == b'\n' => {
                    term.push(b);
                    self.r.consume(1);
                }
                _ => break,
            }
        }
        let lf = term.iter().filter(|&&b| b == b'\n').count() as u64;
        self.line += if lf > 0 { lf } else { term.len() as u64 };
        Ok(Some(Seg {
            content,
            term,
            line,
        }))
    }
}

/// The separators of one message.
#[derive(Debug, Clone, Copy)]
struct Delims {
    field: char,
    comp: char,
    rep: char,
    esc: char,
    sub: char,
}

impl Delims {
    fn all(&self) -> [char; 5] {
        [self.field, self.comp, self.rep, self.esc, self.sub]
    }

    fn from_msh(msh: &str) -> Result<Self, String> {
        let b = msh.as_bytes();
        let field = b
            .get(3)
            .copied()
            .ok_or("MSH is truncated (no field separator)")?;
        let ok = |c: u8| c.is_ascii_punctuation();
        if !ok(field) {
            return Err("MSH-1 field separator must be ASCII punctuation".to_owned());
        }
        let enc: Vec<u8> = b
            .get(4..)
            .unwrap_or_default()
            .iter()
            .copied()
            .take_while(|&c| c != field)
            .collect();
        if !(4..=5).contains(&enc.len()) {
            return Err(format!(
                "MSH-2 must hold 4 or 5 encoding characters, not {}",
                enc.len()
            ));
        }
        let mut seen = vec![field];
        for &c in &enc {
            if !ok(c) || seen.contains(&c) {
                return Err(
                    "MSH-2 encoding characters must be distinct ASCII punctuation".to_owned(),
                );
            }
            seen.push(c);
        }
        let ch = |i: usize| enc.get(i).map_or(' ', |&c| char::from(c));
        Ok(Self {
            field: char::from(field),
            comp: ch(0),
            rep: ch(1),
            esc: ch(2),
            sub: ch(3),
        })
    }
}

fn segment_id(content: &[u8]) -> Option<&str> {
    let id = content.get(..3)?;
    if !id
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return None;
    }
    std::str::from_utf8(id).ok()
}

/// The patient id of a PID segment: PID-3, first repetition, first component and
/// subcomponent, trimmed.
fn pid_patient(seg: &str, d: &Delims) -> Option<String> {
    let f = seg.split(d.field).nth(3)?;
    let rep = f.split(d.rep).next()?;
    let c = rep.split(d.comp).next()?;
    let v = c.split(d.sub).next()?.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// How a component of a field with `action` is rewritten (1-based component).
fn leaf_for(action: Action, comp: usize, obx2: &str) -> Leaf {
    match action {
        Action::Keep => Leaf::Keep,
        Action::Drop => Leaf::Drop,
        Action::Text(m) => Leaf::Text(m),
        Action::Name => match comp {
            1 => Leaf::Family(Category::PtName),
            2 | 3 => Leaf::Given(Category::PtName),
            _ => Leaf::Keep,
        },
        Action::Clinician => match comp {
            1 => Leaf::Hash,
            2 => Leaf::Family(Category::HcpName),
            3 | 4 => Leaf::Given(Category::HcpName),
            _ => Leaf::Keep,
        },
        Action::Address => match comp {
            1 | 2 | 3 | 8 | 9 => Leaf::As(Category::Location),
            5 => Leaf::Zip3,
            _ => Leaf::Keep,
        },
        Action::Phone => match comp {
            1 | 6 | 7 | 12 => Leaf::As(Category::Phone),
            4 => Leaf::As(Category::Email),
            _ => Leaf::Keep,
        },
        Action::ObxValue => {
            let a = match obx2.trim() {
                "TX" | "FT" | "ST" => Action::Text(None),
                "DT" | "DTM" | "TS" => Action::DateShift,
                "XPN" | "PN" => Action::Name,
                "XCN" | "CN" => Action::Clinician,
                "XAD" | "AD" => Action::Address,
                "XTN" | "TN" => Action::Phone,
                "CX" => Action::Id,
                // encapsulated documents (PDF, images) cannot be read: emptied
                "ED" => Action::Drop,
                _ => Action::Keep,
            };
            leaf_for(a, comp, obx2)
        }
        // single-value actions apply to the first component (TS/DTM precision and the
        // CX assigning authority and type stay)
        _ if comp != 1 => Leaf::Keep,
        Action::Hash => Leaf::Hash,
        Action::Pseudonym(c) => Leaf::As(c),
        Action::Id => Leaf::As(Category::IdNumber),
        Action::DateShift => Leaf::Date,
        Action::Zip3 => Leaf::Zip3,
        Action::Age => Leaf::Age,
    }
}

/// One message's state while it is rewritten.
struct Rewriter<'a> {
    d: Delims,
    policy: &'a Hl7Policy,
    counts: Counts,
}

impl Rewriter<'_> {
    fn clean(&self, v: String) -> String {
        let bad = self.d.all();
        if v.chars()
            .any(|c| bad.contains(&c) || c == '\r' || c == '\n')
        {
            v.chars()
                .map(|c| {
                    if bad.contains(&c) || c == '\r' || c == '\n' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect()
        } else {
            v
        }
    }

    /// One subcomponent's value.
    fn value(&mut self, leaf: Leaf, v: &str, cx: &Ctx<'_>) -> Result<String, String> {
        if leaf == Leaf::Keep || v.is_empty() || v == "\"\"" {
            return Ok(v.to_owned());
        }
        if let Leaf::Text(_) = leaf {
            // rewrite between escape sequences, which stay
            let esc = self.d.esc;
            let mut out = String::with_capacity(v.len());
            for (i, part) in v.split(esc).enumerate() {
                if i > 0 {
                    out.push(esc);
                }
                if i % 2 == 1 {
                    out.push_str(part);
                } else {
                    let t = action::apply(leaf, part, cx, &mut self.counts).unwrap_or_default();
                    out.push_str(&self.clean(t));
                }
            }
            return Ok(out);
        }
        match action::apply(leaf, v, cx, &mut self.counts) {
            Some(t) => Ok(self.clean(t)),
            None if self.policy.on_bad == OnBad::Blank => {
                self.counts.add("blanked", 1);
                Ok(String::new())
            }
            None => Err("cannot read this value (set on_bad_value = \"blank\" to empty it)".into()),
        }
    }

    fn field(
        &mut self,
        seg: &str,
        n: usize,
        raw: &str,
        obx2: &str,
        cx: &Ctx<'_>,
    ) -> Result<String, String> {
        let key = |c| FieldRef {
            segment: seg.to_owned(),
            field: n,
            component: c,
        };
        let whole = self.policy.rules.get(&key(None)).copied();
        let has_comp = self
            .policy
            .rules
            .range(key(Some(1))..=key(Some(usize::MAX)))
            .next()
            .is_some();
        if whole.is_none() && !has_comp {
            return Ok(raw.to_owned());
        }
        if whole == Some(Action::Drop) {
            if !raw.is_empty() {
                self.counts.add("dropped", 1);
            }
            return Ok(String::new());
        }
        let d = self.d;
        let mut out = String::with_capacity(raw.len() + 16);
        for (ri, rep) in raw.split(d.rep).enumerate() {
            if ri > 0 {
                out.push(d.rep);
            }
            for (ci, comp) in rep.split(d.comp).enumerate() {
                if ci > 0 {
                    out.push(d.comp);
                }
                let c = ci + 1;
                let action = self
                    .policy
                    .rules
                    .get(&key(Some(c)))
                    .copied()
                    .or(whole)
                    .unwrap_or(Action::Keep);
                // a component rule applies to its component as a whole value
                let cnum = if self.policy.rules.contains_key(&key(Some(c))) {
                    1
                } else {
                    c
                };
                let leaf = leaf_for(action, cnum, obx2);
                for (si, sub) in comp.split(d.sub).enumerate() {
                    if si > 0 {
                        out.push(d.sub);
                    }
                    let v = self
                        .value(leaf, sub, cx)
                        .map_err(|e| format!("{}: {e}", key(Some(c))))?;
                    out.push_str(&v);
                }
            }
        }
        Ok(out)
    }
}

/// Rewrites one message; the error is (line, reason).
fn message(
    segs: &[Seg],
    policy: &Hl7Policy,
    s: &Surrogates,
    detector: &Detector,
) -> Result<(Vec<u8>, Counts), (u64, String)> {
    let first = segs.first().ok_or((0, "empty message".to_owned()))?;
    let text: Vec<&str> = segs
        .iter()
        .map(|g| std::str::from_utf8(&g.content).map_err(|_| (g.line, "not UTF-8".to_owned())))
        .collect::<Result<_, _>>()?;
    let msh = text.first().copied().unwrap_or_default();
    let d = Delims::from_msh(msh).map_err(|e| (first.line, e))?;
    if msh.split(d.field).count() < 10 {
        return Err((
            first.line,
            "MSH is truncated (no MSH-9 message type)".into(),
        ));
    }
    // each segment's patient: the latest PID's, or the first PID's before it
    let mut patients: Vec<String> = Vec::with_capacity(segs.len());
    let mut cur: Option<String> = None;
    for (g, t) in segs.iter().zip(&text) {
        if t.is_empty() {
            patients.push(cur.clone().unwrap_or_default());
            continue;
        }
        let id = segment_id(&g.content).ok_or((
            g.line,
            "not a segment (expected a 3-character segment id)".to_owned(),
        ))?;
        if t.get(3..)
            .is_some_and(|r| !r.is_empty() && !r.starts_with(d.field))
        {
            return Err((
                g.line,
                format!("segment {id} is not followed by the field separator"),
            ));
        }
        if id == "PID" {
            cur = Some(pid_patient(t, &d).unwrap_or_default());
        }
        patients.push(cur.clone().unwrap_or_default());
    }
    let first_pid = segs
        .iter()
        .zip(&text)
        .find(|(g, _)| segment_id(&g.content) == Some("PID"))
        .and_then(|(_, t)| pid_patient(t, &d))
        .unwrap_or_default();
    let mut rw = Rewriter {
        d,
        policy,
        counts: Counts::default(),
    };
    let mut out = Vec::with_capacity(segs.iter().map(|g| g.content.len() + 2).sum());
    let mut seen_pid = false;
    for ((g, t), p) in segs.iter().zip(&text).zip(&patients) {
        let id = segment_id(&g.content).unwrap_or_default();
        seen_pid |= id == "PID";
        let patient = if seen_pid {
            p.as_str()
        } else {
            first_pid.as_str()
        };
        let cx = Ctx {
            s,
            detector,
            mode: policy.mode,
            patient,
        };
        let fields: Vec<&str> = t.split(d.field).collect();
        let obx2 = if id == "OBX" {
            fields.get(2).copied().unwrap_or_default()
        } else {
            ""
        };
        let is_msh = id == "MSH";
        let ruled = policy
            .rules
            .range(
                FieldRef {
                    segment: id.to_owned(),
                    field: 0,
                    component: None,
                }..,
            )
            .next()
            .is_some_and(|(k, _)| k.segment == id);
        if !ruled {
            out.extend_from_slice(&g.content);
            out.extend_from_slice(&g.term);
            continue;
        }
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(d.field as u8);
            }
            // MSH-1 is the separator itself: split index i is MSH-(i+1)
            let n = if is_msh { i + 1 } else { i };
            if i == 0 || (is_msh && n <= 2) {
                out.extend_from_slice(f.as_bytes());
                continue;
            }
            let v = rw.field(id, n, f, obx2, &cx).map_err(|e| (g.line, e))?;
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(&g.term);
    }
    Ok((out, rw.counts))
}

fn out_err(e: std::io::Error) -> DeidError {
    DeidError::io("output", e)
}

struct Run<'a> {
    file: &'a str,
    policy: &'a Hl7Policy,
    opts: &'a Hl7Options,
    s: &'a Surrogates,
    detector: &'a Detector,
}

impl Run<'_> {
    fn fail(
        &self,
        report: &mut Hl7Report,
        message: u64,
        line: u64,
        reason: String,
    ) -> Result<(), DeidError> {
        let e = DeidError::Hl7 {
            file: self.file.to_owned(),
            message,
            line,
            reason,
        };
        if self.opts.on_error == OnError::Fail {
            return Err(e);
        }
        report.skipped += 1;
        if report.skipped_reasons.len() < MAX_LISTED {
            report.skipped_reasons.push(e.to_string());
        }
        Ok(())
    }

    fn flush(
        &self,
        msg: &mut Vec<Seg>,
        number: u64,
        report: &mut Hl7Report,
        output: &mut dyn Write,
    ) -> Result<(), DeidError> {
        if msg.is_empty() {
            return Ok(());
        }
        match message(msg, self.policy, self.s, self.detector) {
            Ok((bytes, counts)) => {
                output.write_all(&bytes).map_err(out_err)?;
                report.messages += 1;
                report.segments += msg.iter().filter(|g| !g.content.is_empty()).count() as u64;
                report.counts.merge(&counts);
            }
            Err((line, reason)) => self.fail(report, number, line, reason)?,
        }
        msg.clear();
        Ok(())
    }
}

/// De-identifies HL7 v2 messages from `input` to `output` in place (see the module
/// documentation). `file` names the input in errors. A message is written only when all of
/// it was rewritten.
pub fn deid_hl7(
    file: &str,
    input: impl BufRead,
    mut output: impl Write,
    policy: &Hl7Policy,
    opts: &Hl7Options,
    s: &Surrogates,
    detector: &Detector,
) -> Result<Hl7Report, DeidError> {
    let mut rdr = Segments {
        r: input,
        line: 0,
        max: opts.max_segment,
    };
    let mut report = Hl7Report::default();
    let mut msg: Vec<Seg> = Vec::new();
    let mut size = 0usize;
    let mut number = 0u64;
    let run = Run {
        file,
        policy,
        opts,
        s,
        detector,
    };
    let mut stray = false;
    while let Some(seg) = rdr.next(file, number.max(1))? {
        let id = segment_id(&seg.content);
        match id {
            Some("MSH") => {
                run.flush(&mut msg, number, &mut report, &mut output)?;
                number += 1;
                size = 0;
                stray = false;
            }
            Some("FHS" | "BHS" | "BTS" | "FTS") => {
                run.flush(&mut msg, number, &mut report, &mut output)?;
                output.write_all(&seg.content).map_err(out_err)?;
                output.write_all(&seg.term).map_err(out_err)?;
                report.segments += 1;
                continue;
            }
            _ if msg.is_empty() => {
                if seg.content.is_empty() {
                    output.write_all(&seg.term).map_err(out_err)?;
                } else if !stray {
                    // lines outside a message: one error for the run of them
                    stray = true;
                    run.fail(
                        &mut report,
                        number + 1,
                        seg.line,
                        "no MSH segment before this line".to_owned(),
                    )?;
                }
                continue;
            }
            _ => {}
        }
        size += seg.content.len() + seg.term.len();
        if size > opts.max_message {
            let line = seg.line;
            msg.clear();
            run.fail(
                &mut report,
                number,
                line,
                format!("message larger than {} bytes", opts.max_message),
            )?;
            stray = true;
            continue;
        }
        msg.push(seg);
    }
    run.flush(&mut msg, number, &mut report, &mut output)?;
    output.flush().map_err(out_err)?;
    if report.messages == 0 && report.skipped == 0 {
        return Err(DeidError::Hl7 {
            file: file.to_owned(),
            message: 1,
            line: 1,
            reason: "no HL7 message (no MSH segment)".to_owned(),
        });
    }
    Ok(report)
}
