//! The IO edge: CSV and FHIR `AuditEvent` NDJSON readers for the input contract.
//!
//! Columns are found by header name (ASCII case-insensitive, surrounding spaces ignored); extra
//! columns are ignored. Errors name the file, the 1-based line and the column, never the value.

use crate::error::EhrError;
use crate::model::{
    Access, Action, CareSpell, Csr, Dataset, Encounter, NONE, NameParts, OPEN_END, Patient, User,
};
use crate::normalise;
use csv::ByteRecord;
use serde::Deserialize;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use ward_core::time::Timestamp;

/// Longest accepted field, in bytes.
pub const MAX_FIELD: usize = 64 * 1024;
/// Longest accepted id (user, patient), in bytes.
pub const MAX_ID: usize = 256;
/// Longest accepted NDJSON line, in bytes.
pub const MAX_LINE: usize = 1024 * 1024;

/// The input files, by path. `care_team` is optional.
#[derive(Debug, Clone)]
pub struct InputFiles {
    /// `access.csv`, or FHIR `AuditEvent` NDJSON when the name ends in `.ndjson` or `.jsonl`.
    pub access: PathBuf,
    /// `users.csv` (HR roster).
    pub users: PathBuf,
    /// `patients.csv`.
    pub patients: PathBuf,
    /// `encounters.csv`.
    pub encounters: PathBuf,
    /// `care_team.csv`, if any.
    pub care_team: Option<PathBuf>,
}

impl InputFiles {
    /// The contract's file names in `dir`: `access.csv` (or `access.ndjson` /
    /// `auditevent.ndjson` when there is no `access.csv`), `users.csv`, `patients.csv`,
    /// `encounters.csv` and `care_team.csv` when present.
    pub fn in_dir(dir: &Path) -> Result<Self, EhrError> {
        let need = |name: &str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EhrError::MissingFile(name.to_owned()))
            }
        };
        let access = [
            "access.csv",
            "access.ndjson",
            "auditevent.ndjson",
            "AuditEvent.ndjson",
        ]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| EhrError::MissingFile("access.csv".to_owned()))?;
        let care = dir.join("care_team.csv");
        Ok(Self {
            access,
            users: need("users.csv")?,
            patients: need("patients.csv")?,
            encounters: need("encounters.csv")?,
            care_team: care.is_file().then_some(care),
        })
    }
}

/// Loads the contract's files from `dir` (see [`InputFiles::in_dir`]).
pub fn load_dir(dir: &Path) -> Result<Dataset, EhrError> {
    load_files(&InputFiles::in_dir(dir)?)
}

/// Loads the given files.
pub fn load_files(files: &InputFiles) -> Result<Dataset, EhrError> {
    let open = |p: &Path| -> Result<(String, std::fs::File), EhrError> {
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let f = std::fs::File::open(p).map_err(|source| EhrError::Io {
            file: name.clone(),
            source,
        })?;
        Ok((name, f))
    };
    let mut l = Loader::new();
    let (n, f) = open(&files.users)?;
    l.users(&n, f)?;
    let (n, f) = open(&files.patients)?;
    l.patients(&n, f)?;
    let (n, f) = open(&files.encounters)?;
    l.encounters(&n, f)?;
    if let Some(c) = &files.care_team {
        let (n, f) = open(c)?;
        l.care_team(&n, f)?;
    }
    let (n, f) = open(&files.access)?;
    let lower = n.to_ascii_lowercase();
    if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") || lower.ends_with(".json") {
        l.access_fhir(&n, std::io::BufReader::with_capacity(1 << 20, f))?;
    } else {
        l.access_csv(&n, f)?;
    }
    Ok(l.finish())
}

/// Incremental loader: feed each file (any order), then [`Loader::finish`].
#[derive(Debug, Default)]
pub struct Loader {
    ds: Dataset,
    encounters: Vec<(u32, Encounter)>,
    care: Vec<(u32, CareSpell)>,
    /// Department as written to its normalised index (a cache: most files repeat a few).
    dept_raw: std::collections::HashMap<Box<str>, u32>,
}

/// A CSV file being read: header resolved to column indexes.
struct CsvFile<'a, R> {
    file: &'a str,
    rdr: csv::Reader<R>,
    rec: ByteRecord,
    line: u64,
    width: usize,
}

impl<'a, R: Read> CsvFile<'a, R> {
    fn open(file: &'a str, r: R) -> Result<(Self, ByteRecord), EhrError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(r);
        let headers = rdr
            .byte_headers()
            .map_err(|e| csv_error(file, &e, 1))?
            .clone();
        if headers.is_empty()
            || (headers.len() == 1 && trim_bom(&headers[0]).trim_ascii().is_empty())
        {
            return Err(EhrError::Empty {
                file: file.to_owned(),
            });
        }
        Ok((
            Self {
                file,
                rdr,
                rec: ByteRecord::new(),
                line: 1,
                width: 0,
            },
            headers,
        ))
    }

    /// Index of a required column.
    fn col(&mut self, headers: &ByteRecord, name: &'static str) -> Result<usize, EhrError> {
        let ix = find_col(headers, name).ok_or_else(|| EhrError::MissingColumn {
            file: self.file.to_owned(),
            column: name,
        })?;
        self.width = self.width.max(ix + 1);
        Ok(ix)
    }

    /// Reads the next record; false at the end.
    fn next(&mut self) -> Result<bool, EhrError> {
        match self.rdr.read_byte_record(&mut self.rec) {
            Ok(more) => {
                self.line = self.rec.position().map_or(self.line + 1, |p| p.line());
                if more && self.rec.len() < self.width {
                    // A blank line is skipped by the csv crate; a short one is truncated.
                    return Err(EhrError::Malformed {
                        file: self.file.to_owned(),
                        line: self.line,
                        reason: format!(
                            "record has {} fields, the header needs at least {} (truncated line?)",
                            self.rec.len(),
                            self.width
                        ),
                    });
                }
                Ok(more)
            }
            Err(e) => Err(csv_error(self.file, &e, self.line + 1)),
        }
    }

    fn bad(&self, column: &'static str, reason: impl Into<String>) -> EhrError {
        EhrError::BadValue {
            file: self.file.to_owned(),
            line: self.line,
            column,
            reason: reason.into(),
        }
    }

    /// A field, trimmed, length-checked.
    fn field(&self, ix: usize, column: &'static str) -> Result<&[u8], EhrError> {
        let v = self.rec.get(ix).unwrap_or_default();
        if v.len() > MAX_FIELD {
            return Err(self.bad(column, format!("field longer than {MAX_FIELD} bytes")));
        }
        Ok(v.trim_ascii())
    }

    fn opt_field(&self, ix: Option<usize>, column: &'static str) -> Result<&[u8], EhrError> {
        match ix {
            Some(ix) => self.field(ix, column),
            None => Ok(b""),
        }
    }

    fn text(&self, ix: usize, column: &'static str) -> Result<&str, EhrError> {
        std::str::from_utf8(self.field(ix, column)?)
            .map_err(|_| self.bad(column, "not valid UTF-8"))
    }

    fn opt_text(&self, ix: Option<usize>, column: &'static str) -> Result<&str, EhrError> {
        std::str::from_utf8(self.opt_field(ix, column)?)
            .map_err(|_| self.bad(column, "not valid UTF-8"))
    }

    fn id(&self, ix: usize, column: &'static str) -> Result<&str, EhrError> {
        let v = self.text(ix, column)?;
        check_id(v).map_err(|r| self.bad(column, r))?;
        Ok(v)
    }

    fn time(&self, ix: usize, column: &'static str) -> Result<i64, EhrError> {
        parse_time(self.field(ix, column)?).ok_or_else(|| {
            self.bad(
                column,
                "not an RFC 3339 timestamp (e.g. 2024-05-01T12:00:00Z) or date",
            )
        })
    }

    /// Empty gives `None`.
    fn opt_time(&self, ix: Option<usize>, column: &'static str) -> Result<Option<i64>, EhrError> {
        let v = self.opt_field(ix, column)?;
        if v.is_empty() {
            return Ok(None);
        }
        parse_time(v).map(Some).ok_or_else(|| {
            self.bad(
                column,
                "not an RFC 3339 timestamp (e.g. 2024-05-01T12:00:00Z) or date",
            )
        })
    }
}

fn check_id(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("empty id")
    } else if v.len() > MAX_ID {
        Err("id longer than 256 bytes")
    } else {
        Ok(())
    }
}

fn trim_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

fn find_col(headers: &ByteRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| {
        trim_bom(h)
            .trim_ascii()
            .eq_ignore_ascii_case(name.as_bytes())
    })
}

fn csv_error(file: &str, e: &csv::Error, fallback_line: u64) -> EhrError {
    let line = e.position().map_or(fallback_line, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => EhrError::Io {
            file: file.to_owned(),
            source: std::io::Error::new(io.kind(), "read failed"),
        },
        _ => EhrError::Malformed {
            file: file.to_owned(),
            line,
            reason: "malformed CSV record".to_owned(),
        },
    }
}

/// Parses an RFC 3339 timestamp or a bare `YYYY-MM-DD` date (midnight UTC), in microseconds.
pub fn parse_time(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b.trim_ascii()).ok()?;
    if s.len() == 10 {
        let mut buf = [0u8; 20];
        buf.get_mut(..10)?.copy_from_slice(s.as_bytes());
        buf.get_mut(10..)?.copy_from_slice(b"T00:00:00Z");
        return Timestamp::parse_rfc3339(std::str::from_utf8(&buf).ok()?).map(|t| t.0);
    }
    Timestamp::parse_rfc3339(s).map(|t| t.0)
}

fn parse_bool(b: &[u8]) -> Option<bool> {
    let b = b.trim_ascii();
    if b.is_empty() {
        return Some(false);
    }
    for t in [&b"true"[..], b"t", b"yes", b"y", b"1"] {
        if b.eq_ignore_ascii_case(t) {
            return Some(true);
        }
    }
    for f in [&b"false"[..], b"f", b"no", b"n", b"0"] {
        if b.eq_ignore_ascii_case(f) {
            return Some(false);
        }
    }
    None
}

/// Lowercase, single-spaced department key.
fn dept_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

fn too_many(file: &str) -> EhrError {
    EhrError::Malformed {
        file: file.to_owned(),
        line: 0,
        reason: "more than 4,294,967,294 distinct ids".to_owned(),
    }
}

impl Loader {
    /// An empty loader.
    pub fn new() -> Self {
        Self::default()
    }

    fn user_ix(&mut self, id: &str, file: &str) -> Result<u32, EhrError> {
        let ix = self.ds.user_ids.intern(id).ok_or_else(|| too_many(file))?;
        if self.ds.users.len() <= ix as usize {
            self.ds.users.resize(ix as usize + 1, User::UNKNOWN);
        }
        Ok(ix)
    }

    fn patient_ix(&mut self, id: &str, file: &str) -> Result<u32, EhrError> {
        let ix = self
            .ds
            .patient_ids
            .intern(id)
            .ok_or_else(|| too_many(file))?;
        if self.ds.patients.len() <= ix as usize {
            self.ds.patients.resize(ix as usize + 1, Patient::UNKNOWN);
        }
        Ok(ix)
    }

    fn name_parts(&mut self, last: &str) -> NameParts {
        let mut out = [NONE; 3];
        for (slot, p) in out.iter_mut().zip(normalise::name_parts(last)) {
            *slot = self.ds.name_parts.intern(&p).unwrap_or(NONE);
        }
        out
    }

    /// (address key, street key).
    fn address(&mut self, addr: &str) -> (u32, u32) {
        match normalise::address(addr) {
            Some(a) => {
                let key = a
                    .key()
                    .and_then(|k| self.ds.addresses.intern(&k))
                    .unwrap_or(NONE);
                let street = if a.street.is_empty() {
                    NONE
                } else {
                    self.ds.addresses.intern(&a.street).unwrap_or(NONE)
                };
                (key, street)
            }
            None => (NONE, NONE),
        }
    }

    fn dept(&mut self, d: &str) -> u32 {
        if let Some(&ix) = self.dept_raw.get(d) {
            return ix;
        }
        let k = dept_key(d);
        let ix = if k.is_empty() {
            NONE
        } else {
            self.ds.departments.intern(&k).unwrap_or(NONE)
        };
        if self.dept_raw.len() < 100_000 {
            self.dept_raw.insert(d.into(), ix);
        }
        ix
    }

    /// Reads `users.csv`: `user_id, last_name, role, department, address, zip` required
    /// (`first_name` is optional: only the last name is compared).
    pub fn users<R: Read>(&mut self, file: &str, r: R) -> Result<(), EhrError> {
        let (mut c, h) = CsvFile::open(file, r)?;
        let (id, last, role, dept, addr, zip) = (
            c.col(&h, "user_id")?,
            c.col(&h, "last_name")?,
            c.col(&h, "role")?,
            c.col(&h, "department")?,
            c.col(&h, "address")?,
            c.col(&h, "zip")?,
        );
        while c.next()? {
            let uid = c.id(id, "user_id")?.to_owned();
            let u = self.user_ix(&uid, file)?;
            let last = c.text(last, "last_name")?.to_owned();
            let role = c.text(role, "role")?.to_owned();
            let dept = c.text(dept, "department")?.to_owned();
            let addr = c.text(addr, "address")?.to_owned();
            let zip = normalise::zip5(c.field(zip, "zip")?).unwrap_or(NONE);
            let last_name = self.name_parts(&last);
            let (address, street) = self.address(&addr);
            let role = if role.is_empty() {
                NONE
            } else {
                self.ds.roles.intern(&role.to_lowercase()).unwrap_or(NONE)
            };
            let department = self.dept(&dept);
            if self.ds.user(u).in_roster {
                self.ds.report.duplicate_users += 1;
            } else {
                self.ds.report.users += 1;
            }
            if let Some(slot) = self.ds.users.get_mut(u as usize) {
                *slot = User {
                    in_roster: true,
                    role,
                    department,
                    last_name,
                    address,
                    street,
                    zip,
                };
            }
        }
        Ok(())
    }

    /// Reads `patients.csv`: `patient_id, last_name, address, zip, vip, deceased_date,
    /// employee_user_id` required (`first_name`, `birth_date` optional and unused).
    pub fn patients<R: Read>(&mut self, file: &str, r: R) -> Result<(), EhrError> {
        let (mut c, h) = CsvFile::open(file, r)?;
        let (id, last, addr, zip, vip, dec, emp) = (
            c.col(&h, "patient_id")?,
            c.col(&h, "last_name")?,
            c.col(&h, "address")?,
            c.col(&h, "zip")?,
            c.col(&h, "vip")?,
            c.col(&h, "deceased_date")?,
            c.col(&h, "employee_user_id")?,
        );
        while c.next()? {
            let p = self.patient_ix(c.id(id, "patient_id")?, file)?;
            let last = c.text(last, "last_name")?;
            let addr = c.text(addr, "address")?;
            let zip = normalise::zip5(c.field(zip, "zip")?).unwrap_or(NONE);
            let vip = parse_bool(c.field(vip, "vip")?)
                .ok_or_else(|| c.bad("vip", "expected true or false"))?;
            let deceased = c.opt_time(Some(dec), "deceased_date")?.unwrap_or(i64::MAX);
            let emp = c.text(emp, "employee_user_id")?;
            let employee = if emp.is_empty() {
                NONE
            } else {
                check_id(emp).map_err(|r| c.bad("employee_user_id", r))?;
                self.user_ix(emp, file)?
            };
            let last_name = self.name_parts(last);
            let (address, street) = self.address(addr);
            if self.ds.patient(p).in_list {
                self.ds.report.duplicate_patients += 1;
            } else {
                self.ds.report.patients += 1;
            }
            if let Some(slot) = self.ds.patients.get_mut(p as usize) {
                *slot = Patient {
                    in_list: true,
                    last_name,
                    address,
                    street,
                    zip,
                    vip,
                    deceased,
                    employee,
                };
            }
        }
        Ok(())
    }

    /// Reads `encounters.csv`: `patient_id, department, start, end, attending_user_id`
    /// required (`encounter_id` optional: encounters are cited by row). An empty `end` is an
    /// open encounter; an `end` before `start` is taken as `start`.
    pub fn encounters<R: Read>(&mut self, file: &str, r: R) -> Result<(), EhrError> {
        let (mut c, h) = CsvFile::open(file, r)?;
        let (pid, dept, start, end, att) = (
            c.col(&h, "patient_id")?,
            c.col(&h, "department")?,
            c.col(&h, "start")?,
            c.col(&h, "end")?,
            c.col(&h, "attending_user_id")?,
        );
        let mut row: u32 = 0;
        while c.next()? {
            let p = self.patient_ix(c.id(pid, "patient_id")?, file)?;
            let s = c.time(start, "start")?;
            let e = c.opt_time(Some(end), "end")?.unwrap_or(OPEN_END).max(s);
            let a = c.text(att, "attending_user_id")?;
            let attending = if a.is_empty() {
                NONE
            } else {
                check_id(a).map_err(|r| c.bad("attending_user_id", r))?;
                self.user_ix(a, file)?
            };
            let department = self.dept(c.text(dept, "department")?);
            self.encounters.push((
                p,
                Encounter {
                    start: s,
                    end: e,
                    department,
                    attending,
                    row,
                },
            ));
            row = row.saturating_add(1);
        }
        Ok(())
    }

    /// Reads `care_team.csv`: `patient_id, user_id, start, end` required (`role` optional).
    /// Empty `start` means "always", empty `end` means open.
    pub fn care_team<R: Read>(&mut self, file: &str, r: R) -> Result<(), EhrError> {
        let (mut c, h) = CsvFile::open(file, r)?;
        let (pid, uid, start, end) = (
            c.col(&h, "patient_id")?,
            c.col(&h, "user_id")?,
            c.col(&h, "start")?,
            c.col(&h, "end")?,
        );
        while c.next()? {
            let p = self.patient_ix(c.id(pid, "patient_id")?, file)?;
            let user = self.user_ix(c.id(uid, "user_id")?, file)?;
            let s = c.opt_time(Some(start), "start")?.unwrap_or(i64::MIN);
            let e = c.opt_time(Some(end), "end")?.unwrap_or(OPEN_END).max(s);
            self.care.push((
                p,
                CareSpell {
                    user,
                    start: s,
                    end: e,
                },
            ));
        }
        Ok(())
    }

    /// Reads `access.csv`: `time, user_id, patient_id, action` required, `module` and
    /// `workstation` optional (empty allowed).
    pub fn access_csv<R: Read>(&mut self, file: &str, r: R) -> Result<(), EhrError> {
        let (mut c, h) = CsvFile::open(file, r)?;
        let (time, uid, pid, act) = (
            c.col(&h, "time")?,
            c.col(&h, "user_id")?,
            c.col(&h, "patient_id")?,
            c.col(&h, "action")?,
        );
        let module = find_col(&h, "module");
        let ws = find_col(&h, "workstation");
        self.ds.access_source = file.to_owned();
        let mut row = 0u64;
        while c.next()? {
            let t = c.time(time, "time")?;
            let user = self.user_ix(c.id(uid, "user_id")?, file)?;
            let patient = self.patient_ix(c.id(pid, "patient_id")?, file)?;
            let action = Action::parse(c.field(act, "action")?);
            let m = c.opt_text(module, "module")?;
            let module = if m.is_empty() {
                NONE
            } else {
                self.ds.labels.intern(m).unwrap_or(NONE)
            };
            let w = c.opt_text(ws, "workstation")?;
            let workstation = if w.is_empty() {
                NONE
            } else {
                self.ds.labels.intern(w).unwrap_or(NONE)
            };
            self.ds.accesses.push(Access {
                row,
                time: Timestamp(t),
                user,
                patient,
                action,
                module,
                workstation,
            });
            row += 1;
        }
        Ok(())
    }

    /// Reads FHIR R4 `AuditEvent` resources, one JSON object per line (blank lines skipped).
    /// The mapping is documented in the crate README.
    pub fn access_fhir<R: BufRead>(&mut self, file: &str, mut r: R) -> Result<(), EhrError> {
        self.ds.access_source = file.to_owned();
        let mut buf = Vec::new();
        let mut line = 0u64;
        let mut row = 0u64;
        loop {
            buf.clear();
            line += 1;
            let n = r
                .by_ref()
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|source| EhrError::Io {
                    file: file.to_owned(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            if buf.len() > MAX_LINE {
                return Err(EhrError::Malformed {
                    file: file.to_owned(),
                    line,
                    reason: format!("line longer than {MAX_LINE} bytes"),
                });
            }
            let text = trim_bom(&buf).trim_ascii();
            if text.is_empty() {
                continue;
            }
            let bad = |column: &'static str, reason: &str| EhrError::BadValue {
                file: file.to_owned(),
                line,
                column,
                reason: reason.to_owned(),
            };
            let ev: fhir::AuditEvent =
                serde_json::from_slice(text).map_err(|e| EhrError::Malformed {
                    file: file.to_owned(),
                    line,
                    reason: format!(
                        "not a JSON AuditEvent ({} at column {})",
                        match e.classify() {
                            serde_json::error::Category::Io => "read error",
                            serde_json::error::Category::Syntax => "syntax error",
                            serde_json::error::Category::Data => "unexpected field type",
                            serde_json::error::Category::Eof => "unexpected end",
                        },
                        e.column()
                    ),
                })?;
            if ev
                .resource_type
                .as_deref()
                .is_some_and(|t| t != "AuditEvent")
            {
                return Err(bad("resourceType", "expected AuditEvent"));
            }
            let t = ev
                .recorded
                .as_deref()
                .and_then(|s| parse_time(s.as_bytes()))
                .ok_or_else(|| bad("recorded", "missing or not an RFC 3339 timestamp"))?;
            let agent = ev
                .agent
                .iter()
                .find(|a| a.requestor == Some(true) && a.who_id().is_some())
                .or_else(|| ev.agent.iter().find(|a| a.who_id().is_some()));
            let uid = agent
                .and_then(fhir::Agent::who_id)
                .ok_or_else(|| bad("agent.who.identifier.value", "missing"))?;
            check_id(uid).map_err(|r| bad("agent.who.identifier.value", r))?;
            let pid = ev
                .entity
                .iter()
                .find_map(|e| e.what.as_ref().and_then(fhir::Reference::id))
                .ok_or_else(|| bad("entity.what.identifier.value", "missing"))?;
            check_id(pid).map_err(|r| bad("entity.what.identifier.value", r))?;
            let action = ev.action();
            let user = self.user_ix(uid, file)?;
            let patient = self.patient_ix(pid, file)?;
            let ws = agent
                .and_then(|a| a.network.as_ref())
                .and_then(|n| n.address.as_deref())
                .unwrap_or("");
            let workstation = if ws.is_empty() {
                NONE
            } else {
                self.ds.labels.intern(ws).unwrap_or(NONE)
            };
            let module = ev
                .kind
                .as_ref()
                .and_then(|c| c.display.as_deref().or(c.code.as_deref()))
                .and_then(|m| self.ds.labels.intern(m))
                .unwrap_or(NONE);
            self.ds.accesses.push(Access {
                row,
                time: Timestamp(t),
                user,
                patient,
                action,
                module,
                workstation,
            });
            row += 1;
        }
        Ok(())
    }

    /// Builds the CSR arrays and counts unknown ids.
    pub fn finish(mut self) -> Dataset {
        let mut ds = std::mem::take(&mut self.ds);
        let np = ds.patients.len();
        let mut rep = std::mem::take(&mut ds.report);
        rep.encounters = self.encounters.len() as u64;
        rep.care_team = self.care.len() as u64;
        rep.unknown_patient_encounters = self
            .encounters
            .iter()
            .map(|(p, _)| *p)
            .chain(self.care.iter().map(|(p, _)| *p))
            .filter(|p| !ds.patient(*p).in_list)
            .count() as u64;
        ds.encounters = Csr::build(np, std::mem::take(&mut self.encounters), |a, b| {
            a.start.cmp(&b.start)
        });
        ds.care_team = Csr::build(np, std::mem::take(&mut self.care), |a, b| {
            a.start.cmp(&b.start)
        });
        let mut seen_u = vec![false; ds.users.len()];
        let mut seen_p = vec![false; ds.patients.len()];
        rep.accesses = ds.accesses.len() as u64;
        for a in &ds.accesses {
            if !ds.user(a.user).in_roster {
                rep.unknown_user_accesses += 1;
                if let Some(s) = seen_u.get_mut(a.user as usize).filter(|s| !**s) {
                    *s = true;
                    rep.unknown_users += 1;
                }
            }
            if !ds.patient(a.patient).in_list {
                rep.unknown_patient_accesses += 1;
                if let Some(s) = seen_p.get_mut(a.patient as usize).filter(|s| !**s) {
                    *s = true;
                    rep.unknown_patients += 1;
                }
            }
            if a.action == Action::Other {
                rep.other_actions += 1;
            }
        }
        rep.first_access = ds.accesses.iter().map(|a| a.time).min();
        rep.last_access = ds.accesses.iter().map(|a| a.time).max();
        ds.report = rep;
        ds
    }
}

/// The few FHIR R4 AuditEvent fields the mapping reads; everything else is ignored.
mod fhir {
    use super::{Action, Deserialize};

    #[derive(Debug, Deserialize)]
    pub(super) struct AuditEvent {
        #[serde(rename = "resourceType")]
        pub resource_type: Option<String>,
        pub recorded: Option<String>,
        pub action: Option<String>,
        #[serde(rename = "type")]
        pub kind: Option<Coding>,
        #[serde(default)]
        pub subtype: Vec<Coding>,
        #[serde(default, rename = "purposeOfEvent")]
        pub purpose_of_event: Vec<Concept>,
        #[serde(default)]
        pub agent: Vec<Agent>,
        #[serde(default)]
        pub entity: Vec<Entity>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Coding {
        pub code: Option<String>,
        pub display: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Concept {
        #[serde(default)]
        pub coding: Vec<Coding>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Agent {
        pub who: Option<Reference>,
        pub requestor: Option<bool>,
        pub network: Option<Network>,
        #[serde(default, rename = "purposeOfUse")]
        pub purpose_of_use: Vec<Concept>,
    }

    impl Agent {
        pub fn who_id(&self) -> Option<&str> {
            self.who.as_ref().and_then(Reference::id)
        }
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Network {
        pub address: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Reference {
        pub identifier: Option<Identifier>,
        pub reference: Option<String>,
    }

    impl Reference {
        /// `identifier.value`, else the id part of `reference` (`Patient/123` = `123`).
        pub fn id(&self) -> Option<&str> {
            self.identifier
                .as_ref()
                .and_then(|i| i.value.as_deref())
                .filter(|v| !v.trim().is_empty())
                .map(str::trim)
                .or_else(|| {
                    self.reference
                        .as_deref()
                        .map(|r| r.rsplit('/').next().unwrap_or(r).trim())
                        .filter(|v| !v.is_empty())
                })
        }
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Identifier {
        pub value: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Entity {
        pub what: Option<Reference>,
    }

    fn is_btg(code: &str) -> bool {
        let c = code.to_ascii_lowercase().replace(['-', ' '], "_");
        matches!(
            c.as_str(),
            "btg" | "break_glass" | "breakglass" | "emergency"
        )
    }

    impl AuditEvent {
        /// C/U/D = modify, R/E = view; a subtype (code or display) `print`, `export` or
        /// break-glass, or a purpose of use `BTG`, overrides.
        pub fn action(&self) -> Action {
            let codes = self
                .subtype
                .iter()
                .flat_map(|c| [c.code.as_deref(), c.display.as_deref()])
                .flatten();
            let purposes = self
                .purpose_of_event
                .iter()
                .chain(self.agent.iter().flat_map(|a| a.purpose_of_use.iter()))
                .flat_map(|p| p.coding.iter())
                .filter_map(|c| c.code.as_deref());
            let mut sub = None;
            for c in codes.chain(purposes) {
                if is_btg(c) {
                    return Action::BreakGlass;
                }
                if let a @ (Action::Print | Action::Export) = Action::parse(c.as_bytes()) {
                    sub = Some(a);
                }
            }
            if let Some(a) = sub {
                return a;
            }
            match self.action.as_deref().map(str::trim) {
                Some("C" | "U" | "D") => Action::Modify,
                Some("R" | "E") => Action::View,
                _ => Action::Other,
            }
        }
    }
}
