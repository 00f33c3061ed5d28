//! Readers of the claims contract (`docs/claims-format.md`): inpatient and outpatient claims,
//! beneficiaries, the exclusion list, the provider directory and provider labels. Columns are
//! found by name, through an optional mapping for other layouts. A bad row is an error naming
//! file, line and column, never the value; the caller decides whether to skip it.

use crate::date::{self, Day};
use crate::error::FraudError;
pub use foldhash::HashMap;
use std::io::Read;

/// Interns identifiers and codes to dense ids.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    map: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The id of `s`, added when new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.map.insert(s.into(), i);
        i
    }
    /// The id of `s` if known.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    /// The text of an id.
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// No ids yet.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Every interned namespace of one run.
#[derive(Debug, Default, Clone)]
pub struct Ids {
    /// Beneficiaries (`BeneID`).
    pub benes: Interner,
    /// Billing providers (`Provider`).
    pub providers: Interner,
    /// Physicians (attending, operating, other).
    pub physicians: Interner,
    /// Diagnosis codes.
    pub diagnoses: Interner,
    /// Procedure codes.
    pub procedures: Interner,
    /// DRG codes.
    pub drgs: Interner,
}

/// Inpatient or outpatient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An inpatient stay.
    Inpatient,
    /// An outpatient claim.
    Outpatient,
}

/// Most diagnosis codes a claim holds.
pub const MAX_DX: usize = 10;
/// Most procedure codes a claim holds.
pub const MAX_PX: usize = 6;

/// One claim, with interned ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Inpatient or outpatient.
    pub kind: Kind,
    /// `ClaimID` as written.
    pub claim_id: String,
    /// Beneficiary id.
    pub bene: u32,
    /// Billing provider id.
    pub provider: u32,
    /// First day of service.
    pub start: Day,
    /// Last day of service (the start when missing).
    pub end: Day,
    /// Admission and discharge days (inpatient).
    pub admission: Option<Day>,
    /// Discharge day.
    pub discharge: Option<Day>,
    /// `InscClaimAmtReimbursed`.
    pub amount: f32,
    /// `DeductibleAmtPaid` (0 when missing).
    pub deductible: f32,
    /// Attending, operating and other physician.
    pub physicians: [Option<u32>; 3],
    /// `DiagnosisGroupCode` (inpatient).
    pub drg: Option<u32>,
    /// Diagnosis codes (the first `n_dx`).
    pub dx: [u32; MAX_DX],
    /// Number of diagnosis codes.
    pub n_dx: u8,
    /// Procedure codes (the first `n_px`).
    pub px: [u32; MAX_PX],
    /// Number of procedure codes.
    pub n_px: u8,
}

impl Claim {
    /// The diagnosis codes.
    pub fn diagnoses(&self) -> &[u32] {
        self.dx.get(..usize::from(self.n_dx)).unwrap_or_default()
    }
    /// The procedure codes.
    pub fn procedures(&self) -> &[u32] {
        self.px.get(..usize::from(self.n_px)).unwrap_or_default()
    }
}

/// Column names of another layout, keyed by the contract's names (`ClaimStartDt = "from_date"`).
pub type Mapping = std::collections::BTreeMap<String, String>;

fn lookup(
    headers: &csv::StringRecord,
    file: &str,
    mapping: &Mapping,
    name: &str,
    required: bool,
) -> Result<Option<usize>, FraudError> {
    let want = mapping.get(name).map_or(name, String::as_str);
    let pos = headers.iter().position(|h| h.trim() == want);
    if pos.is_none() && required {
        return Err(FraudError::MissingColumn {
            file: file.into(),
            column: want.into(),
            hint: if mapping.is_empty() {
                String::new()
            } else {
                " (after the column mapping)".into()
            },
        });
    }
    Ok(pos)
}

fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(r)
}

fn headers<R: Read>(r: &mut csv::Reader<R>, file: &str) -> Result<csv::StringRecord, FraudError> {
    r.headers().cloned().map_err(|e| FraudError::File {
        file: file.into(),
        reason: format!("no readable header row ({})", kind_of(&e)),
    })
}

/// A csv error in words, without the data it was reading.
fn kind_of(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields".into(),
        _ => "malformed CSV".into(),
    }
}

/// Reads the next row into `rec`: `None` at the end, an error naming file and line for a row
/// that cannot be read.
fn next_row<R: Read>(
    csv: &mut csv::Reader<R>,
    rec: &mut csv::StringRecord,
    file: &str,
) -> Option<Result<(), FraudError>> {
    match csv.read_record(rec) {
        Ok(false) => None,
        Ok(true) => Some(Ok(())),
        Err(e) => Some(Err(FraudError::Row {
            file: file.into(),
            line: line_of(&e),
            reason: kind_of(&e),
        })),
    }
}

fn line_of(e: &csv::Error) -> u64 {
    e.position().map_or(0, csv::Position::line)
}

/// The column positions of a claims file.
#[derive(Debug, Clone)]
struct ClaimColumns {
    bene: usize,
    claim: usize,
    start: usize,
    end: Option<usize>,
    provider: usize,
    amount: usize,
    deductible: Option<usize>,
    physicians: [Option<usize>; 3],
    admission: Option<usize>,
    discharge: Option<usize>,
    drg: Option<usize>,
    dx: Vec<usize>,
    px: Vec<usize>,
}

/// Reads claims one at a time (inpatient or outpatient layout).
#[derive(Debug)]
pub struct ClaimReader<R: Read> {
    csv: csv::Reader<R>,
    file: String,
    kind: Kind,
    cols: ClaimColumns,
    record: csv::ByteRecord,
}

impl<R: Read> ClaimReader<R> {
    /// Opens a claims file; `file` names it in errors.
    pub fn new(r: R, file: &str, kind: Kind, mapping: &Mapping) -> Result<Self, FraudError> {
        let mut csv = csv_reader(r);
        let h = headers(&mut csv, file)?;
        let req = |n: &str| -> Result<usize, FraudError> {
            lookup(&h, file, mapping, n, true).map(|p| p.unwrap_or_default())
        };
        let opt = |n: &str| lookup(&h, file, mapping, n, false);
        let mut dx = Vec::new();
        if let Some(p) = opt("ClmAdmitDiagnosisCode")? {
            dx.push(p);
        }
        for i in 1..=MAX_DX {
            if let Some(p) = opt(&format!("ClmDiagnosisCode_{i}"))? {
                dx.push(p);
            }
        }
        let mut px = Vec::new();
        for i in 1..=MAX_PX {
            if let Some(p) = opt(&format!("ClmProcedureCode_{i}"))? {
                px.push(p);
            }
        }
        let cols = ClaimColumns {
            bene: req("BeneID")?,
            claim: req("ClaimID")?,
            start: req("ClaimStartDt")?,
            end: opt("ClaimEndDt")?,
            provider: req("Provider")?,
            amount: req("InscClaimAmtReimbursed")?,
            deductible: opt("DeductibleAmtPaid")?,
            physicians: [
                opt("AttendingPhysician")?,
                opt("OperatingPhysician")?,
                opt("OtherPhysician")?,
            ],
            admission: opt("AdmissionDt")?,
            discharge: opt("DischargeDt")?,
            drg: opt("DiagnosisGroupCode")?,
            dx,
            px,
        };
        Ok(Self {
            csv,
            file: file.into(),
            kind,
            cols,
            record: csv::ByteRecord::new(),
        })
    }

    fn bad(&self, column: &str, what: &str) -> FraudError {
        FraudError::Row {
            file: self.file.clone(),
            line: self.record.position().map_or(0, csv::Position::line),
            reason: format!("{column}: {what}"),
        }
    }

    fn cell(&self, i: usize) -> &str {
        self.record
            .get(i)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map_or("", str::trim)
    }

    /// The next claim, `None` at the end. A bad row is an error; reading may go on after it.
    pub fn next_claim(&mut self, ids: &mut Ids) -> Option<Result<Claim, FraudError>> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.parse(ids)),
            Err(e) => Some(Err(FraudError::Row {
                file: self.file.clone(),
                line: line_of(&e),
                reason: kind_of(&e),
            })),
        }
    }

    fn date(&self, col: usize, name: &str) -> Result<Day, FraudError> {
        let s = self.cell(col);
        if s.is_empty() {
            return Err(self.bad(name, "missing"));
        }
        date::parse(s).ok_or_else(|| self.bad(name, "not a date (YYYY-MM-DD or M/D/YYYY)"))
    }

    fn opt_date(&self, col: Option<usize>, name: &str) -> Result<Option<Day>, FraudError> {
        match col.map(|c| self.cell(c)) {
            None | Some("") | Some("NA") => Ok(None),
            Some(s) => date::parse(s)
                .map(Some)
                .ok_or_else(|| self.bad(name, "not a date (YYYY-MM-DD or M/D/YYYY)")),
        }
    }

    fn money(&self, col: Option<usize>, name: &str, required: bool) -> Result<f32, FraudError> {
        let s = col.map_or("", |c| self.cell(c));
        if s.is_empty() || s == "NA" {
            return if required {
                Err(self.bad(name, "missing"))
            } else {
                Ok(0.0)
            };
        }
        match s.parse::<f32>() {
            Ok(v) if v.is_finite() && v.abs() < 1e9 => Ok(v),
            _ => Err(self.bad(name, "not an amount")),
        }
    }

    fn parse(&mut self, ids: &mut Ids) -> Result<Claim, FraudError> {
        let c = &self.cols;
        let bene = self.cell(c.bene);
        if bene.is_empty() {
            return Err(self.bad("BeneID", "missing"));
        }
        let provider = self.cell(c.provider);
        if provider.is_empty() {
            return Err(self.bad("Provider", "missing"));
        }
        let claim_id = self.cell(c.claim);
        if claim_id.is_empty() {
            return Err(self.bad("ClaimID", "missing"));
        }
        let start = self.date(c.start, "ClaimStartDt")?;
        let end = self.opt_date(c.end, "ClaimEndDt")?.unwrap_or(start);
        if end < start {
            return Err(self.bad("ClaimEndDt", "before ClaimStartDt"));
        }
        let admission = self.opt_date(c.admission, "AdmissionDt")?;
        let discharge = self.opt_date(c.discharge, "DischargeDt")?;
        if let (Some(a), Some(d)) = (admission, discharge)
            && d < a
        {
            return Err(self.bad("DischargeDt", "before AdmissionDt"));
        }
        let amount = self.money(Some(c.amount), "InscClaimAmtReimbursed", true)?;
        let deductible = self.money(c.deductible, "DeductibleAmtPaid", false)?;
        let mut physicians = [None; 3];
        for (slot, col) in physicians.iter_mut().zip(c.physicians) {
            let s = col.map_or("", |i| self.cell(i));
            if !s.is_empty() && s != "NA" {
                *slot = Some(ids.physicians.id(s));
            }
        }
        let drg = c
            .drg
            .map(|i| self.cell(i))
            .filter(|s| !s.is_empty() && *s != "NA")
            .map(|s| ids.drgs.id(s));
        let mut dx = [0u32; MAX_DX];
        let mut n_dx = 0usize;
        for &col in &c.dx {
            let s = self.cell(col);
            if s.is_empty() || s == "NA" || n_dx >= MAX_DX {
                continue;
            }
            let id = ids.diagnoses.id(s);
            if !dx.get(..n_dx).unwrap_or_default().contains(&id)
                && let Some(slot) = dx.get_mut(n_dx)
            {
                *slot = id;
                n_dx += 1;
            }
        }
        let mut px = [0u32; MAX_PX];
        let mut n_px = 0usize;
        for &col in &c.px {
            let s = self.cell(col);
            let s = s.strip_suffix(".0").unwrap_or(s);
            if s.is_empty() || s == "NA" || n_px >= MAX_PX {
                continue;
            }
            if let Some(slot) = px.get_mut(n_px) {
                *slot = ids.procedures.id(s);
                n_px += 1;
            }
        }
        Ok(Claim {
            kind: self.kind,
            claim_id: claim_id.to_string(),
            bene: ids.benes.id(bene),
            provider: ids.providers.id(provider),
            start,
            end,
            admission,
            discharge,
            amount,
            deductible,
            physicians,
            drg,
            dx,
            n_dx: n_dx as u8,
            px,
            n_px: n_px as u8,
        })
    }
}

/// What a merged file holds next.
#[derive(Debug)]
enum Head {
    Need,
    Have(Claim),
    Done,
}

/// Claim files read side by side: the claim with the earliest first day of service comes
/// next (ties to the earlier file), so that files each sorted by date stream out in date
/// order, which keeps the rule engine's open days few. Unsorted files lose nothing: every
/// claim comes out once.
#[derive(Debug)]
pub struct MergedClaims<R: Read> {
    readers: Vec<ClaimReader<R>>,
    heads: Vec<Head>,
    /// Claims read per file (bad rows not counted).
    pub counts: Vec<u64>,
}

impl<R: Read> MergedClaims<R> {
    /// Merges the readers.
    pub fn new(readers: Vec<ClaimReader<R>>) -> Self {
        let n = readers.len();
        Self {
            readers,
            heads: (0..n).map(|_| Head::Need).collect(),
            counts: vec![0; n],
        }
    }

    /// The next claim, `None` at the end of every file. A bad row is an error; reading may
    /// go on after it.
    pub fn next_claim(&mut self, ids: &mut Ids) -> Option<Result<Claim, FraudError>> {
        for (r, h) in self.readers.iter_mut().zip(self.heads.iter_mut()) {
            if matches!(h, Head::Need) {
                match r.next_claim(ids) {
                    Some(Ok(c)) => *h = Head::Have(c),
                    Some(Err(e)) => return Some(Err(e)),
                    None => *h = Head::Done,
                }
            }
        }
        let mut best: Option<(usize, Day)> = None;
        for (i, h) in self.heads.iter().enumerate() {
            if let Head::Have(c) = h
                && best.is_none_or(|(_, d)| c.start < d)
            {
                best = Some((i, c.start));
            }
        }
        let (i, _) = best?;
        let h = self.heads.get_mut(i)?;
        match std::mem::replace(h, Head::Need) {
            Head::Have(c) => {
                if let Some(n) = self.counts.get_mut(i) {
                    *n += 1;
                }
                Some(Ok(c))
            }
            other => {
                *h = other;
                None
            }
        }
    }
}

/// One beneficiary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bene {
    /// Date of birth.
    pub dob: Option<Day>,
    /// Date of death.
    pub dod: Option<Day>,
    /// SSA state code (0 unknown).
    pub state: u8,
    /// County code.
    pub county: u16,
    /// Chronic conditions, one bit each in the contract's column order.
    pub chronic: u16,
}

/// The chronic-condition columns, in bit order.
pub const CHRONIC: [&str; 11] = [
    "ChronicCond_Alzheimer",
    "ChronicCond_Heartfailure",
    "ChronicCond_KidneyDisease",
    "ChronicCond_Cancer",
    "ChronicCond_ObstrPulmonary",
    "ChronicCond_Depression",
    "ChronicCond_Diabetes",
    "ChronicCond_IschemicHeart",
    "ChronicCond_Osteoporasis",
    "ChronicCond_rheumatoidarthritis",
    "ChronicCond_stroke",
];

/// Reads the beneficiary file into `out`, indexed by interned bene id. Returns the rows read
/// and the bad rows (each an error; the rest are kept).
pub fn read_benes<R: Read>(
    r: R,
    file: &str,
    mapping: &Mapping,
    ids: &mut Ids,
    out: &mut Vec<Bene>,
) -> Result<(usize, Vec<FraudError>), FraudError> {
    let mut csv = csv_reader(r);
    let h = headers(&mut csv, file)?;
    let bene_col = lookup(&h, file, mapping, "BeneID", true)?.unwrap_or_default();
    let dob = lookup(&h, file, mapping, "DOB", false)?;
    let dod = lookup(&h, file, mapping, "DOD", false)?;
    let state = lookup(&h, file, mapping, "State", false)?;
    let county = lookup(&h, file, mapping, "County", false)?;
    let mut chronic = Vec::new();
    for (bit, name) in CHRONIC.iter().enumerate() {
        if let Some(p) = lookup(&h, file, mapping, name, false)? {
            chronic.push((bit, p));
        }
    }
    let mut rec = csv::StringRecord::new();
    let (mut n, mut bad) = (0usize, Vec::new());
    loop {
        match next_row(&mut csv, &mut rec, file) {
            None => break,
            Some(Err(e)) => {
                bad.push(e);
                continue;
            }
            Some(Ok(())) => {}
        }
        let line = rec.position().map_or(0, csv::Position::line);
        let err = |column: &str, what: &str| FraudError::Row {
            file: file.into(),
            line,
            reason: format!("{column}: {what}"),
        };
        let cell = |c: Option<usize>| c.and_then(|i| rec.get(i)).map_or("", str::trim);
        let id = cell(Some(bene_col));
        if id.is_empty() {
            bad.push(err("BeneID", "missing"));
            continue;
        }
        let day = |c: Option<usize>, name: &str| match cell(c) {
            "" | "NA" => Ok(None),
            s => date::parse(s)
                .map(Some)
                .ok_or_else(|| err(name, "not a date")),
        };
        let (b_dob, b_dod) = match (day(dob, "DOB"), day(dod, "DOD")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                bad.push(e);
                continue;
            }
        };
        let st = match cell(state) {
            "" => 0,
            s => match s.parse::<u8>() {
                Ok(v) => v,
                Err(_) => {
                    bad.push(err("State", "not a state code"));
                    continue;
                }
            },
        };
        let co = cell(county).parse::<u16>().unwrap_or(0);
        let mut bits = 0u16;
        for &(bit, col) in &chronic {
            if cell(Some(col)) == "1" {
                bits |= 1 << bit;
            }
        }
        let i = ids.benes.id(id) as usize;
        if out.len() <= i {
            out.resize(i + 1, Bene::default());
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = Bene {
                dob: b_dob,
                dod: b_dod,
                state: st,
                county: co,
                chronic: bits,
            };
        }
        n += 1;
    }
    Ok((n, bad))
}

/// One exclusion from the LEIE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The statute (`1128a1`).
    pub kind: String,
    /// Excluded from this day.
    pub from: Day,
    /// Reinstated on this day, if ever.
    pub until: Option<Day>,
}

/// Exclusions by NPI.
pub type Exclusions = HashMap<String, Vec<Exclusion>>;

/// Reads the exclusion list: NPI -> exclusions. Rows without an NPI (`0000000000`) cannot reach
/// a claim and are counted apart. Returns (exclusions by NPI, rows without NPI, bad rows).
pub fn read_exclusions<R: Read>(
    r: R,
    file: &str,
) -> Result<(Exclusions, usize, Vec<FraudError>), FraudError> {
    let mut csv = csv_reader(r);
    let h = headers(&mut csv, file)?;
    let none = Mapping::new();
    let npi = lookup(&h, file, &none, "NPI", true)?.unwrap_or_default();
    let kind = lookup(&h, file, &none, "EXCLTYPE", false)?;
    let from = lookup(&h, file, &none, "EXCLDATE", true)?.unwrap_or_default();
    let until = lookup(&h, file, &none, "REINDATE", false)?;
    let mut out: Exclusions = HashMap::default();
    let (mut no_npi, mut bad) = (0usize, Vec::new());
    let mut rec = csv::StringRecord::new();
    loop {
        match next_row(&mut csv, &mut rec, file) {
            None => break,
            Some(Err(e)) => {
                bad.push(e);
                continue;
            }
            Some(Ok(())) => {}
        }
        let line = rec.position().map_or(0, csv::Position::line);
        let cell = |c: usize| rec.get(c).map_or("", str::trim);
        let n = cell(npi);
        if n.is_empty() || n.bytes().all(|b| b == b'0') {
            no_npi += 1;
            continue;
        }
        let Some(f) = date::parse(cell(from)) else {
            bad.push(FraudError::Row {
                file: file.into(),
                line,
                reason: "EXCLDATE: not a date (YYYYMMDD)".into(),
            });
            continue;
        };
        let u = until.map(cell).and_then(date::parse);
        out.entry(n.to_string()).or_default().push(Exclusion {
            kind: kind.map(cell).unwrap_or_default().to_string(),
            from: f,
            until: u,
        });
    }
    Ok((out, no_npi, bad))
}

/// One entry of the provider directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// National Provider Identifier.
    pub npi: String,
    /// `organization` or `individual`.
    pub kind: String,
    /// Specialty word.
    pub specialty: String,
    /// SSA state code (0 unknown).
    pub state: u8,
}

/// Reads the provider directory: id (`PRV…` or `PHY…`) -> entry. Returns (entries, bad rows).
pub fn read_directory<R: Read>(
    r: R,
    file: &str,
) -> Result<(HashMap<String, Entry>, Vec<FraudError>), FraudError> {
    let mut csv = csv_reader(r);
    let h = headers(&mut csv, file)?;
    let none = Mapping::new();
    let id = lookup(&h, file, &none, "Id", true)?.unwrap_or_default();
    let npi = lookup(&h, file, &none, "NPI", false)?;
    let kind = lookup(&h, file, &none, "Kind", false)?;
    let spec = lookup(&h, file, &none, "Specialty", false)?;
    let state = lookup(&h, file, &none, "State", false)?;
    let mut out: HashMap<String, Entry> = HashMap::default();
    let mut bad = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match next_row(&mut csv, &mut rec, file) {
            None => break,
            Some(Err(e)) => {
                bad.push(e);
                continue;
            }
            Some(Ok(())) => {}
        }
        let cell = |c: Option<usize>| c.and_then(|i| rec.get(i)).map_or("", str::trim);
        let k = cell(Some(id));
        if k.is_empty() {
            bad.push(FraudError::Row {
                file: file.into(),
                line: rec.position().map_or(0, csv::Position::line),
                reason: "Id: missing".into(),
            });
            continue;
        }
        out.insert(
            k.to_string(),
            Entry {
                npi: cell(npi).to_string(),
                kind: cell(kind).to_string(),
                specialty: cell(spec).to_string(),
                state: cell(state).parse().unwrap_or(0),
            },
        );
    }
    Ok((out, bad))
}

/// Reads provider labels (`Provider,PotentialFraud` with `Yes`/`No`, or 1/0): provider -> fraud.
pub fn read_labels<R: Read>(r: R, file: &str) -> Result<HashMap<String, bool>, FraudError> {
    let mut csv = csv_reader(r);
    let h = headers(&mut csv, file)?;
    let none = Mapping::new();
    let p = lookup(&h, file, &none, "Provider", true)?.unwrap_or_default();
    let l = lookup(&h, file, &none, "PotentialFraud", true)?.unwrap_or_default();
    let mut out = HashMap::default();
    for rec in csv.records() {
        let rec = rec.map_err(|e| FraudError::Row {
            file: file.into(),
            line: line_of(&e),
            reason: kind_of(&e),
        })?;
        let line = rec.position().map_or(0, csv::Position::line);
        let v = match rec.get(l).map(str::trim) {
            Some("Yes" | "yes" | "1" | "true") => true,
            Some("No" | "no" | "0" | "false") => false,
            _ => {
                return Err(FraudError::Row {
                    file: file.into(),
                    line,
                    reason: "PotentialFraud: not Yes or No".into(),
                });
            }
        };
        out.insert(rec.get(p).unwrap_or_default().trim().to_string(), v);
    }
    Ok(out)
}
