//! The input contract as CSV (and the accesses as FHIR R4 `AuditEvent` NDJSON). Lines are
//! formatted by hand into one reused buffer: tens of millions of rows stay fast.

use super::{Action, EhrSimOutput};
use std::io::{self, Write};
use std::path::Path;

/// Header of `access.csv`.
pub const ACCESS_HEADER: &str = "time,user_id,patient_id,action,module,workstation";
/// Header of `users.csv`.
pub const USERS_HEADER: &str = "user_id,first_name,last_name,role,department,address,zip";
/// Header of `patients.csv`.
pub const PATIENTS_HEADER: &str =
    "patient_id,first_name,last_name,birth_date,address,zip,vip,deceased_date,employee_user_id";
/// Header of `encounters.csv`.
pub const ENCOUNTERS_HEADER: &str =
    "encounter_id,patient_id,department,start,end,attending_user_id";
/// Header of `care_team.csv`.
pub const CARE_TEAM_HEADER: &str = "patient_id,user_id,role,start,end";
/// Header of `truth.csv`.
pub const TRUTH_HEADER: &str = "row,time,user_id,patient_id,case_type";

fn push_num(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(c) = tmp.get_mut(i) {
            *c = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    let digits = tmp.len() - i;
    for _ in digits..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(tmp.get(i..).unwrap_or(&[]));
}

fn push_date(buf: &mut Vec<u8>, days: i64) {
    let (y, m, d) = ward_core::time::civil_from_days(days);
    push_num(buf, y.max(0) as u64, 4);
    buf.push(b'-');
    push_num(buf, m as u64, 2);
    buf.push(b'-');
    push_num(buf, d as u64, 2);
}

/// `2024-05-06T08:15:00Z`.
fn push_time(buf: &mut Vec<u8>, unix: i64) {
    push_date(buf, unix.div_euclid(86_400));
    let sod = unix.rem_euclid(86_400) as u64;
    buf.push(b'T');
    push_num(buf, sod / 3600, 2);
    buf.push(b':');
    push_num(buf, (sod / 60) % 60, 2);
    buf.push(b':');
    push_num(buf, sod % 60, 2);
    buf.push(b'Z');
}

fn push_user(buf: &mut Vec<u8>, u: u32) {
    buf.push(b'U');
    push_num(buf, u64::from(u) + 1, 6);
}

fn push_patient(buf: &mut Vec<u8>, out: &EhrSimOutput, p: u32) {
    buf.extend_from_slice(b"MRN");
    push_num(buf, u64::from(out.mrn(p)), 8);
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn push_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

fn push_workstation(buf: &mut Vec<u8>, out: &EhrSimOutput, ws: u32) {
    let Some(&(d, n)) = ws
        .checked_sub(1)
        .and_then(|i| out.workstations.get(i as usize))
    else {
        return;
    };
    buf.extend_from_slice(b"WS-");
    buf.extend_from_slice(
        out.departments
            .get(usize::from(d))
            .map_or("X", |d| d.code)
            .as_bytes(),
    );
    buf.push(b'-');
    push_num(buf, u64::from(n), 3);
}

fn flush_if_big(w: &mut impl Write, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.len() >= 1 << 16 {
        w.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// `access.csv`: one row per access, sorted by time.
pub fn write_access_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(ACCESS_HEADER.as_bytes());
    buf.push(b'\n');
    for a in &out.accesses {
        push_time(&mut buf, out.unix(a.time));
        buf.push(b',');
        push_user(&mut buf, a.user);
        buf.push(b',');
        push_patient(&mut buf, out, a.patient);
        buf.push(b',');
        buf.extend_from_slice(a.action.as_str().as_bytes());
        buf.push(b',');
        buf.extend_from_slice(a.module.as_str().as_bytes());
        buf.push(b',');
        push_workstation(&mut buf, out, a.workstation);
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `truth.csv`: one row per snooping access, naming its 0-based data row in `access.csv`.
pub fn write_truth_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(TRUTH_HEADER.as_bytes());
    buf.push(b'\n');
    for (row, a, case) in out.truth() {
        push_num(&mut buf, row as u64, 1);
        buf.push(b',');
        push_time(&mut buf, out.unix(a.time));
        buf.push(b',');
        push_user(&mut buf, a.user);
        buf.push(b',');
        push_patient(&mut buf, out, a.patient);
        buf.push(b',');
        buf.extend_from_slice(case.as_str().as_bytes());
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `users.csv`: the HR roster.
pub fn write_users_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(USERS_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, u) in out.users.iter().enumerate() {
        push_user(&mut buf, i as u32);
        buf.push(b',');
        push_field(&mut buf, out.string(u.first_name));
        buf.push(b',');
        push_field(&mut buf, out.string(u.last_name));
        buf.push(b',');
        buf.extend_from_slice(u.role.as_str().as_bytes());
        buf.push(b',');
        push_field(
            &mut buf,
            out.departments
                .get(usize::from(u.department))
                .map_or("", |d| d.name),
        );
        buf.push(b',');
        push_field(&mut buf, &out.address(u.address));
        buf.push(b',');
        push_num(&mut buf, u64::from(out.zip(u.address)), 5);
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `patients.csv`: the registry.
pub fn write_patients_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(PATIENTS_HEADER.as_bytes());
    buf.push(b'\n');
    // In MRN order: the registry's row order says nothing about households.
    let mut order: Vec<u32> = (0..out.patients.len() as u32).collect();
    order.sort_unstable_by_key(|&i| out.mrn(i));
    for i in order {
        let Some(p) = out.patients.get(i as usize) else {
            continue;
        };
        push_patient(&mut buf, out, i);
        buf.push(b',');
        push_field(&mut buf, out.string(p.first_name));
        buf.push(b',');
        push_field(&mut buf, out.string(p.last_name));
        buf.push(b',');
        push_date(&mut buf, i64::from(p.birth_day));
        buf.push(b',');
        push_field(&mut buf, &out.address(p.address));
        buf.push(b',');
        push_num(&mut buf, u64::from(out.zip(p.address)), 5);
        buf.push(b',');
        buf.extend_from_slice(if p.vip { b"true" } else { b"false" });
        buf.push(b',');
        if let Some(d) = p.deceased_day {
            push_date(&mut buf, i64::from(d));
        }
        buf.push(b',');
        if let Some(u) = p.employee {
            push_user(&mut buf, u);
        }
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `encounters.csv`, by start time.
pub fn write_encounters_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(ENCOUNTERS_HEADER.as_bytes());
    buf.push(b'\n');
    for (i, e) in out.encounters.iter().enumerate() {
        buf.push(b'E');
        push_num(&mut buf, i as u64 + 1, 9);
        buf.push(b',');
        push_patient(&mut buf, out, e.patient);
        buf.push(b',');
        push_field(
            &mut buf,
            out.departments
                .get(usize::from(e.department))
                .map_or("", |d| d.name),
        );
        buf.push(b',');
        push_time(&mut buf, out.unix(e.start));
        buf.push(b',');
        if let Some(end) = e.end {
            push_time(&mut buf, out.unix(end));
        }
        buf.push(b',');
        push_user(&mut buf, e.attending);
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// `care_team.csv`, by start time.
pub fn write_care_team_csv(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(CARE_TEAM_HEADER.as_bytes());
    buf.push(b'\n');
    for c in &out.care_team {
        push_patient(&mut buf, out, c.patient);
        buf.push(b',');
        push_user(&mut buf, c.user);
        buf.push(b',');
        buf.extend_from_slice(c.role.as_str().as_bytes());
        buf.push(b',');
        push_time(&mut buf, out.unix(c.start));
        buf.push(b',');
        push_time(&mut buf, out.unix(c.end));
        buf.push(b'\n');
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// The accesses as FHIR R4 `AuditEvent` resources, one JSON object per line, in the order of
/// `access.csv` (`id` is `ae-` and the row number).
pub fn write_access_fhir(mut w: impl Write, out: &EhrSimOutput) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 17);
    for (row, a) in out.accesses.iter().enumerate() {
        let (code, subtype) = match a.action {
            Action::View => ("R", "read"),
            Action::Modify => ("U", "update"),
            Action::Print => ("R", "print"),
            Action::Export => ("E", "export"),
            Action::BreakGlass => ("E", "break_glass"),
        };
        buf.extend_from_slice(b"{\"resourceType\":\"AuditEvent\",\"id\":\"ae-");
        push_num(&mut buf, row as u64, 1);
        buf.extend_from_slice(
            b"\",\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/audit-event-type\",\"code\":\"rest\",\"display\":\"RESTful Operation\"},\"subtype\":[{\"system\":\"urn:ward:ehr-action\",\"code\":\"",
        );
        buf.extend_from_slice(subtype.as_bytes());
        buf.extend_from_slice(b"\"}],\"action\":\"");
        buf.extend_from_slice(code.as_bytes());
        buf.extend_from_slice(b"\",\"recorded\":\"");
        push_time(&mut buf, out.unix(a.time));
        buf.extend_from_slice(b"\",\"outcome\":\"0\",");
        if a.action == Action::BreakGlass {
            buf.extend_from_slice(
                b"\"purposeOfEvent\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"BTG\",\"display\":\"break the glass\"}]}],",
            );
        }
        buf.extend_from_slice(b"\"agent\":[{\"who\":{\"identifier\":{\"value\":\"");
        push_user(&mut buf, a.user);
        buf.extend_from_slice(b"\"}},\"requestor\":true");
        if a.workstation != 0 {
            buf.extend_from_slice(b",\"network\":{\"address\":\"");
            push_workstation(&mut buf, out, a.workstation);
            buf.extend_from_slice(b"\",\"type\":\"1\"}");
        }
        buf.extend_from_slice(
            b"}],\"source\":{\"observer\":{\"display\":\"ward-sim EHR\"}},\"entity\":[{\"what\":{\"identifier\":{\"value\":\"",
        );
        push_patient(&mut buf, out, a.patient);
        buf.extend_from_slice(
            b"\"}},\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/audit-entity-type\",\"code\":\"1\",\"display\":\"Person\"},\"role\":{\"system\":\"http://terminology.hl7.org/CodeSystem/object-role\",\"code\":\"1\",\"display\":\"Patient\"},\"detail\":[{\"type\":\"module\",\"valueString\":\"",
        );
        buf.extend_from_slice(a.module.as_str().as_bytes());
        buf.extend_from_slice(b"\"}]}]}\n");
        flush_if_big(&mut w, &mut buf)?;
    }
    w.write_all(&buf)
}

/// Writes `access.csv`, `users.csv`, `patients.csv`, `encounters.csv`, `care_team.csv`,
/// `truth.csv` and, with `fhir`, `access.ndjson` into `dir` (created if missing).
pub fn write_all(dir: &Path, out: &EhrSimOutput, fhir: bool) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    type Writer = fn(&mut io::BufWriter<std::fs::File>, &EhrSimOutput) -> io::Result<()>;
    let mut files: Vec<(&str, Writer)> = vec![
        ("users.csv", |w, o| write_users_csv(w, o)),
        ("patients.csv", |w, o| write_patients_csv(w, o)),
        ("encounters.csv", |w, o| write_encounters_csv(w, o)),
        ("care_team.csv", |w, o| write_care_team_csv(w, o)),
        ("access.csv", |w, o| write_access_csv(w, o)),
        ("truth.csv", |w, o| write_truth_csv(w, o)),
    ];
    if fhir {
        files.push(("access.ndjson", |w, o| write_access_fhir(w, o)));
    }
    for (name, f) in files {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        f(&mut w, out)?;
        w.flush()?;
    }
    Ok(())
}
