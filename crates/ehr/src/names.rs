//! Display names for the privacy officer's view: a second, streaming pass over `users.csv`
//! and `patients.csv` that keeps the names of the wanted ids only.
//!
//! The detector never reads first names (the [`crate::Dataset`] keeps normalised last-name
//! parts only), so names for display are read here, after detection, for the users and
//! patients that appear in cases. Columns are found by header name like the loaders
//! (ASCII case-insensitive, surrounding spaces and a BOM ignored):
//!
//! - `users.csv`: `user_id` and `last_name` required; `first_name`, `role`, `department`
//!   optional;
//! - `patients.csv`: `patient_id` and `last_name` required; `first_name` optional.
//!
//! A file that does not exist gives no names (the view shows ids only). A file without a
//! required column is [`EhrError::MissingColumn`]; a malformed CSV line is
//! [`EhrError::Malformed`]; errors name the file, line and column, never a value. A field
//! that is not UTF-8 or is longer than [`MAX_FIELD`] is skipped (that person keeps
//! the other fields), so a stray byte in one name does not cost every other name.

use crate::error::EhrError;
use crate::load::{MAX_FIELD, MAX_ID};
use csv::ByteRecord;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// A display name and, for users, role and department.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisplayName {
    /// `first_name last_name`, single-spaced (the last name alone without a first name).
    pub name: String,
    /// Job role (users.csv only).
    pub role: Option<String>,
    /// Department (users.csv only).
    pub department: Option<String>,
}

/// Names found for the wanted ids (ids not in the files are simply absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    /// By user id.
    pub users: HashMap<String, DisplayName>,
    /// By patient id.
    pub patients: HashMap<String, DisplayName>,
}

/// Reads the names of `users` from the file at `users_path` and of `patients` from
/// `patients_path`; a missing file gives no names of that kind (see the module docs).
pub fn read_names(
    users_path: &Path,
    users: &HashSet<&str>,
    patients_path: &Path,
    patients: &HashSet<&str>,
) -> Result<Names, EhrError> {
    let mut out = Names::default();
    if let Some((file, f)) = open_optional(users_path)? {
        out.users = read(&file, f, Kind::Users, users)?;
    }
    if let Some((file, f)) = open_optional(patients_path)? {
        out.patients = read(&file, f, Kind::Patients, patients)?;
    }
    Ok(out)
}

/// Which file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `users.csv`: `user_id`, names, `role`, `department`.
    Users,
    /// `patients.csv`: `patient_id`, names.
    Patients,
}

fn open_optional(p: &Path) -> Result<Option<(String, std::fs::File)>, EhrError> {
    let file = p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match std::fs::File::open(p) {
        Ok(f) => Ok(Some((file, f))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EhrError::Io { file, source: e }),
    }
}

fn find_col(headers: &ByteRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| {
        h.strip_prefix(b"\xef\xbb\xbf")
            .unwrap_or(h)
            .trim_ascii()
            .eq_ignore_ascii_case(name.as_bytes())
    })
}

/// A field as trimmed UTF-8, `None` when absent, empty, overlong or not UTF-8.
fn text(rec: &ByteRecord, ix: Option<usize>) -> Option<&str> {
    let v = rec.get(ix?)?.trim_ascii();
    if v.is_empty() || v.len() > MAX_FIELD {
        return None;
    }
    std::str::from_utf8(v).ok()
}

/// Streams one names file from `r` (named `file` in errors), keeping the rows whose id is
/// in `wanted`. Memory is bounded by `wanted`, not by the file.
pub fn read<R: Read>(
    file: &str,
    r: R,
    kind: Kind,
    wanted: &HashSet<&str>,
) -> Result<HashMap<String, DisplayName>, EhrError> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(r);
    let malformed = |line: u64| EhrError::Malformed {
        file: file.to_owned(),
        line,
        reason: "malformed CSV record".to_owned(),
    };
    let headers = rdr.byte_headers().map_err(|_| malformed(1))?.clone();
    if headers.iter().all(|h| h.trim_ascii().is_empty()) {
        return Err(EhrError::Empty {
            file: file.to_owned(),
        });
    }
    let id_col = match kind {
        Kind::Users => "user_id",
        Kind::Patients => "patient_id",
    };
    let need = |column: &'static str| {
        find_col(&headers, column).ok_or_else(|| EhrError::MissingColumn {
            file: file.to_owned(),
            column,
        })
    };
    let id_ix = need(id_col)?;
    let last_ix = need("last_name")?;
    let first_ix = find_col(&headers, "first_name");
    let (role_ix, dept_ix) = match kind {
        Kind::Users => (find_col(&headers, "role"), find_col(&headers, "department")),
        Kind::Patients => (None, None),
    };
    let mut rec = ByteRecord::new();
    let mut line = 1u64;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(malformed(
                    e.position().map_or(line + 1, csv::Position::line),
                ));
            }
        }
        line = rec.position().map_or(line + 1, csv::Position::line);
        let Some(id) = rec
            .get(id_ix)
            .map(<[u8]>::trim_ascii)
            .filter(|v| !v.is_empty() && v.len() <= MAX_ID)
            .and_then(|v| std::str::from_utf8(v).ok())
        else {
            continue;
        };
        if !wanted.contains(id) || out.contains_key(id) {
            continue;
        }
        let name = [text(&rec, first_ix), text(&rec, Some(last_ix))]
            .into_iter()
            .flatten()
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            continue;
        }
        out.insert(
            id.to_owned(),
            DisplayName {
                name,
                role: text(&rec, role_ix).map(str::to_owned),
                department: text(&rec, dept_ix).map(str::to_owned),
            },
        );
        if out.len() == wanted.len() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: Kind, csv: &[u8], wanted: &[&str], expect: &[(&str, &str, Option<&str>)]) {
        let wanted: HashSet<&str> = wanted.iter().copied().collect();
        let got = read("f.csv", csv, kind, &wanted).expect("readable");
        let mut got: Vec<(String, String, Option<String>)> = got
            .into_iter()
            .map(|(id, d)| (id, d.name, d.role))
            .collect();
        got.sort();
        let want: Vec<(String, String, Option<String>)> = expect
            .iter()
            .map(|(i, n, r)| ((*i).into(), (*n).into(), r.map(Into::into)))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn only_wanted_ids_are_kept_with_names_joined() {
        check(
            Kind::Users,
            b"user_id,first_name,last_name,role,department,address,zip\n\
              u1,Ann,Lee,nurse,ICU,1 Main St,12345\n\
              u2,Bob,  Smith  Jones ,doctor,ER,2 Main St,12345\n\
              u3,Cy,Ng,clerk,HR,3 Main St,12345\n",
            &["u2", "u3", "u9"],
            &[
                ("u2", "Bob Smith Jones", Some("doctor")),
                ("u3", "Cy Ng", Some("clerk")),
            ],
        );
        // Header names in any case, a BOM, reordered columns; no first_name column.
        check(
            Kind::Patients,
            b"\xef\xbb\xbf Last_Name ,PATIENT_ID\nLee,p1\nNg,p2\n",
            &["p2"],
            &[("p2", "Ng", None)],
        );
    }

    #[test]
    fn hostile_rows_are_skipped_not_fatal() {
        let long = "x".repeat(MAX_FIELD + 1);
        let mut csv = b"patient_id,first_name,last_name\np1\n,Ann,Lee\np2,".to_vec();
        csv.extend_from_slice(long.as_bytes());
        // p3's last name is not UTF-8; its later duplicate row is ignored.
        csv.extend_from_slice(b",Ng\np3,Bo,\xff\xfe\np3,Late,Duplicate\n");
        check(
            Kind::Patients,
            &csv,
            &["p1", "p2", "p3"],
            &[("p2", "Ng", None), ("p3", "Bo", None)],
        );
    }

    #[test]
    fn missing_columns_and_empty_files_are_clear_errors() {
        let wanted: HashSet<&str> = ["u1"].into_iter().collect();
        for (csv, want) in [
            (
                &b"user_id,first_name\nu1,Ann\n"[..],
                "missing required column \"last_name\"",
            ),
            (
                b"id,last_name\nu1,Lee\n",
                "missing required column \"user_id\"",
            ),
            (b"", "empty file"),
        ] {
            let err = read("users.csv", csv, Kind::Users, &wanted)
                .expect_err("refused")
                .to_string();
            assert!(err.contains(want) && err.contains("users.csv"), "{err}");
            assert!(!err.contains("Ann") && !err.contains("Lee"), "{err}");
        }
    }

    #[test]
    fn a_missing_file_means_no_names() {
        let dir = std::env::temp_dir().join("ward-ehr-names-missing");
        let wanted: HashSet<&str> = ["u1"].into_iter().collect();
        let names = read_names(
            &dir.join("users.csv"),
            &wanted,
            &dir.join("patients.csv"),
            &wanted,
        )
        .expect("no error");
        assert_eq!(names, Names::default());
    }
}
