use super::fixture::{self, CARE, ENCOUNTERS, PATIENTS, USERS};
use ward_ehr::model::{Action, NONE, OPEN_END};
use ward_ehr::{EhrError, Loader};

const HEAD: &str = "time,user_id,patient_id,action,module,workstation\n";

#[test]
fn loads_the_contract_and_counts_unknown_ids() {
    let ds = fixture::with_access(&format!(
        "{HEAD}2024-03-02T10:00:00Z,u1,p1,view,chart,ws1
2024-03-02T10:05:00Z,u9,p1,VIEW,chart,
2024-03-02T10:06:00Z,u9,p8,print,,ws1
2024-03-02T10:07:00+01:00,u2,p2,break-glass,chart,ws2
2024-03-02T10:08:00Z,u2,p2,teleport,chart,ws2
"
    ))
    .unwrap();
    let r = &ds.report;
    assert_eq!(r.accesses, 5);
    assert_eq!(
        (r.users, r.patients, r.encounters, r.care_team),
        (3, 3, 1, 1)
    );
    assert_eq!((r.unknown_users, r.unknown_user_accesses), (1, 2));
    assert_eq!((r.unknown_patients, r.unknown_patient_accesses), (1, 1));
    assert_eq!(r.other_actions, 1);
    let rows: Vec<u64> = ds.accesses.iter().map(|a| a.row).collect();
    assert_eq!(rows, [0, 1, 2, 3, 4]);
    let actions: Vec<Action> = ds.accesses.iter().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [
            Action::View,
            Action::View,
            Action::Print,
            Action::BreakGlass,
            Action::Other
        ]
    );
    assert_eq!(ds.accesses[1].workstation, NONE);
    // offset applied: 10:07+01:00 is 09:07Z
    assert_eq!(
        ds.accesses[3].time.to_string(),
        "2024-03-02T09:07:00.000000Z"
    );
    // joins: patient p3 is employee u3, deceased, VIP
    let p3 = ds.patient_ids.get("p3").unwrap();
    let u3 = ds.user_ids.get("u3").unwrap();
    assert_eq!(ds.patient(p3).employee, u3);
    assert!(ds.patient(p3).vip);
    assert!(ds.patient(p3).deceased < i64::MAX);
    let p1 = ds.patient_ids.get("p1").unwrap();
    assert_eq!(ds.encounters.get(p1).len(), 1);
    let p2 = ds.patient_ids.get("p2").unwrap();
    assert_eq!(ds.care_team.get(p2)[0].end, OPEN_END);
    // the street address matches across spellings, the unit is ignored
    let u2 = ds.user_ids.get("u2").unwrap();
    assert_ne!(ds.user(u2).address, NONE);
    assert_eq!(ds.user(u2).address, ds.patient(p2).address);
    assert_eq!(ds.user(u2).zip, ds.patient(p2).zip);
}

#[test]
fn extra_columns_and_column_order_do_not_matter() {
    let ds = fixture::with_access(
        "workstation,extra,action,patient_id,user_id,time\nws,x,view,p1,u1,2024-03-02T10:00:00Z\n",
    )
    .unwrap();
    assert_eq!(ds.report.accesses, 1);
    // module and workstation are optional columns
    let ds =
        fixture::with_access("time,user_id,patient_id,action\n2024-03-02T10:00:00Z,u1,p1,view\n")
            .unwrap();
    assert_eq!(ds.accesses[0].module, NONE);
}

/// Runs a loader on one bad file and returns the error text.
fn err(file: &str, text: &[u8]) -> String {
    let mut l = Loader::new();
    let r = match file {
        "users.csv" => l.users(file, text),
        "patients.csv" => l.patients(file, text),
        "encounters.csv" => l.encounters(file, text),
        "care_team.csv" => l.care_team(file, text),
        "access.ndjson" => l.access_fhir(file, text),
        _ => l.access_csv(file, text),
    };
    match r {
        Err(e) => e.to_string(),
        Ok(()) => panic!("{file} accepted bad input"),
    }
}

#[test]
fn bad_input_is_a_clear_error_without_the_value() {
    let huge = format!(
        "{HEAD}2024-03-02T10:00:00Z,u1,p1,view,{},ws\n",
        "A".repeat(70_000)
    );
    let long_id = format!(
        "{HEAD}2024-03-02T10:00:00Z,{},p1,view,m,ws\n",
        "u".repeat(300)
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "access.csv",
            b"time,user_id,action\n".to_vec(),
            "access.csv: missing required column \"patient_id\"",
        ),
        (
            "users.csv",
            b"user_id,last_name,role,department,zip\n".to_vec(),
            "users.csv: missing required column \"address\"",
        ),
        (
            "encounters.csv",
            b"patient_id,department,start,attending_user_id\n".to_vec(),
            "missing required column \"end\"",
        ),
        (
            "care_team.csv",
            b"patient_id,start,end\n".to_vec(),
            "missing required column \"user_id\"",
        ),
        (
            "access.csv",
            format!("{HEAD}2024-03-02T10:00:00Z,u1,p1,view,m,w\nSECRET-TIME,u1,p1,view,m,w\n")
                .into_bytes(),
            "access.csv:3: column \"time\": not an RFC 3339 timestamp",
        ),
        (
            "encounters.csv",
            b"patient_id,department,start,end,attending_user_id\np1,icu,2024-01-01,2024-13-01,u1\n"
                .to_vec(),
            "encounters.csv:2: column \"end\"",
        ),
        (
            "patients.csv",
            format!(
                "{}\np1,A,B,1970-01-01,x,02139,maybe,,\n",
                PATIENTS.lines().next().unwrap_or_default()
            )
            .into_bytes(),
            "patients.csv:2: column \"vip\": expected true or false",
        ),
        (
            "access.csv",
            format!("{HEAD}2024-03-02T10:00:00Z,u1\n").into_bytes(),
            "access.csv:2: record has 2 fields",
        ),
        ("access.csv", Vec::new(), "access.csv: empty file"),
        (
            "access.csv",
            huge.into_bytes(),
            "access.csv:2: column \"module\": field longer than 65536 bytes",
        ),
        (
            "access.csv",
            long_id.into_bytes(),
            "column \"user_id\": id longer than 256 bytes",
        ),
        (
            "access.csv",
            format!("{HEAD}2024-03-02T10:00:00Z,,p1,view,m,w\n").into_bytes(),
            "column \"user_id\": empty id",
        ),
        (
            "access.csv",
            [
                HEAD.as_bytes(),
                b"2024-03-02T10:00:00Z,u\xff\xfe,p1,view,m,w\n",
            ]
            .concat(),
            "access.csv:2: column \"user_id\": not valid UTF-8",
        ),
        (
            "access.ndjson",
            b"{\"resourceType\":\"AuditEvent\",\"recorded\":\"SECRET\"}\n".to_vec(),
            "access.ndjson:1: column \"recorded\"",
        ),
        (
            "access.ndjson",
            b"\n{\"resourceType\":\"AuditEvent\",\n".to_vec(),
            "access.ndjson:2: not a JSON AuditEvent",
        ),
        (
            "access.ndjson",
            b"{\"resourceType\":\"Patient\"}\n".to_vec(),
            "expected AuditEvent",
        ),
        (
            "access.ndjson",
            format!("{{\"x\":\"{}\"}}\n", "a".repeat(1_100_000)).into_bytes(),
            "access.ndjson:1: line longer than",
        ),
    ];
    for (file, text, want) in cases {
        let got = err(file, &text);
        assert!(got.contains(want), "{file}: got {got:?}, want {want:?}");
        assert!(
            !got.contains("SECRET"),
            "{file}: error echoes the value: {got}"
        );
    }
}

#[test]
fn header_only_and_blank_lines_are_fine() {
    let ds =
        fixture::with_access(&format!("{HEAD}\n2024-03-02T10:00:00Z,u1,p1,view,m,w\n\n")).unwrap();
    assert_eq!(ds.report.accesses, 1);
    let ds = fixture::with_access(HEAD).unwrap();
    assert_eq!(ds.report.accesses, 0);
    assert!(ds.report.first_access.is_none());
}

#[test]
fn fhir_audit_events_map_onto_the_model() {
    let lines = [
        r#"{"resourceType":"AuditEvent","type":{"code":"rest","display":"chart"},"action":"R","recorded":"2024-03-02T10:00:00Z","agent":[{"who":{"identifier":{"value":"u1"}},"requestor":true,"network":{"address":"ws7"}}],"entity":[{"what":{"identifier":{"value":"p1"}}}]}"#,
        "",
        r#"{"resourceType":"AuditEvent","action":"U","recorded":"2024-03-02T10:01:00Z","agent":[{"who":{"reference":"Device/x"},"requestor":false},{"who":{"reference":"Practitioner/u2"},"requestor":true}],"entity":[{"what":{"reference":"Patient/p2"}}]}"#,
        r#"{"resourceType":"AuditEvent","action":"R","subtype":[{"code":"print"}],"recorded":"2024-03-02T10:02:00Z","agent":[{"who":{"identifier":{"value":"u1"}}}],"entity":[{"what":{"identifier":{"value":"p1"}}}]}"#,
        r#"{"resourceType":"AuditEvent","action":"R","recorded":"2024-03-02T10:03:00Z","agent":[{"who":{"identifier":{"value":"u1"}},"purposeOfUse":[{"coding":[{"code":"BTG"}]}]}],"entity":[{"what":{"identifier":{"value":"p9"}}}]}"#,
        r#"{"resourceType":"AuditEvent","action":"E","subtype":[{"code":"export"}],"recorded":"2024-03-02T10:04:00Z","agent":[{"who":{"identifier":{"value":"u1"}}}],"entity":[{"what":{"identifier":{"value":"p1"}}}]}"#,
    ]
    .join("\n");
    let mut l = Loader::new();
    l.users("users.csv", USERS.as_bytes()).unwrap();
    l.patients("patients.csv", PATIENTS.as_bytes()).unwrap();
    l.encounters("encounters.csv", ENCOUNTERS.as_bytes())
        .unwrap();
    l.care_team("care_team.csv", CARE.as_bytes()).unwrap();
    l.access_fhir("audit.ndjson", lines.as_bytes()).unwrap();
    let ds = l.finish();
    let got: Vec<(u64, &str, &str, Action)> = ds
        .accesses
        .iter()
        .map(|a| {
            (
                a.row,
                ds.user_ids.name(a.user),
                ds.patient_ids.name(a.patient),
                a.action,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, "u1", "p1", Action::View),
            (1, "u2", "p2", Action::Modify),
            (2, "u1", "p1", Action::Print),
            (3, "u1", "p9", Action::BreakGlass),
            (4, "u1", "p1", Action::Export),
        ]
    );
    assert_eq!(ds.labels.name(ds.accesses[0].workstation), "ws7");
    assert_eq!(ds.labels.name(ds.accesses[0].module), "chart");
    assert_eq!(ds.report.unknown_patients, 1);
    assert_eq!(ds.access_source, "audit.ndjson");
}

#[test]
fn load_dir_reads_the_contract_file_names() {
    let dir = std::env::temp_dir().join(format!("ward-ehr-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("users.csv"), USERS).unwrap();
    std::fs::write(dir.join("patients.csv"), PATIENTS).unwrap();
    std::fs::write(dir.join("encounters.csv"), ENCOUNTERS).unwrap();
    let missing = ward_ehr::load_dir(&dir).unwrap_err();
    assert!(
        matches!(missing, EhrError::MissingFile(ref f) if f == "access.csv"),
        "{missing}"
    );
    std::fs::write(
        dir.join("access.csv"),
        format!("{HEAD}2024-03-02T10:00:00Z,u1,p1,view,m,w\n"),
    )
    .unwrap();
    let ds = ward_ehr::load_dir(&dir).unwrap();
    assert_eq!(ds.report.accesses, 1);
    assert_eq!(ds.report.care_team, 0);
    assert_eq!(ds.access_source, "access.csv");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_runs_on_a_folder() {
    let dir = std::env::temp_dir().join(format!("ward-ehr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("users.csv"), USERS).unwrap();
    std::fs::write(dir.join("patients.csv"), PATIENTS).unwrap();
    std::fs::write(dir.join("encounters.csv"), ENCOUNTERS).unwrap();
    std::fs::write(dir.join("care_team.csv"), CARE).unwrap();
    std::fs::write(
        dir.join("access.csv"),
        format!("{HEAD}2024-03-02T10:00:00Z,u1,p1,view,m,w\n"),
    )
    .unwrap();
    let files = ward_ehr::InputFiles::in_dir(&dir).unwrap();
    let r = ward_ehr::bench::run(&files, ward_ehr::EhrConfig::default()).unwrap();
    assert_eq!(
        (r.accesses, r.patients, r.users, r.encounters),
        (1, 3, 3, 1)
    );
    assert!(r.detect_per_sec > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
}
