//! CSV/TSV de-identification with a column policy.

use ward_deid::table::{Policy, TableOptions, deid_table};
use ward_deid::{Category, DeidError, Detector, Key, Surrogates};

const FIXTURE: &str = include_str!("../fixtures/patients.csv");
const POLICY: &str = include_str!("../../../../docs/examples/deid-table-policy.toml");

fn s() -> Surrogates {
    Surrogates::new(&Key::from_bytes([7; 32]))
}

fn run(policy: &str, input: &str, opts: TableOptions) -> Result<String, DeidError> {
    let p = Policy::parse("p.toml", policy)?;
    let mut out = Vec::new();
    deid_table(
        "t.csv",
        input.as_bytes(),
        &mut out,
        &p,
        &opts,
        &s(),
        &Detector::new(),
    )?;
    Ok(String::from_utf8(out).unwrap())
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_example_policy_applies_every_action() {
    let out = run(POLICY, FIXTURE, TableOptions::default()).unwrap();
    let header = out.lines().next().unwrap();
    assert_eq!(
        header,
        "mrn,name,admitted,discharged,born,zip,age,weight_kg,ward,note"
    );
    let r = rows(&out);
    assert_eq!(r.len(), 3);
    let s = s();
    // hash: consistent per patient, not the value
    assert_eq!(r[0][0], s.hash("A1001"));
    assert_eq!(r[0][0], r[2][0]);
    assert_ne!(r[0][0], r[1][0]);
    // pseudonym: the same one a note gets
    assert_eq!(r[0][1], s.pseudonym(Category::PtName, "John Smith"));
    assert_eq!(r[0][1], r[2][1]);
    assert!(
        r[1][1].contains(", ") && r[1][1] == r[1][1].to_uppercase(),
        "{}",
        r[1][1]
    );
    // date shift: the patient's, and the stay length is kept
    let shift = s.date_shift_days("A1001");
    assert_eq!(
        r[0][2],
        ward_deid::date::shift("03/15/2012", shift).unwrap()
    );
    let day = |d: &str| {
        let p: Vec<i64> = d.split('/').map(|x| x.parse().unwrap()).collect();
        ward_deid::date::days_from_civil(p[2], p[0], p[1])
    };
    assert_eq!(day(&r[0][3]) - day(&r[0][2]), 5);
    assert_eq!(
        day(&r[2][2]) - day(&r[0][2]),
        17,
        "intervals across rows of a patient"
    );
    assert_eq!(r[0][4], "1931");
    assert_eq!((r[0][5].as_str(), r[1][5].as_str()), ("02100", "00000"));
    assert_eq!((r[0][6].as_str(), r[1][6].as_str()), ("90+", "41"));
    assert_eq!((r[0][7].as_str(), r[1][7].as_str()), ("70-80", "50-60"));
    assert_eq!(r[0][8], "ICU-4");
    assert!(
        r[0][9].contains("[HCP_NAME]") && r[0][9].contains("[PHONE]"),
        "{}",
        r[0][9]
    );
    assert!(!out.contains("Lopez") && !out.contains("732-1234") && !out.contains("6789"));
}

#[test]
fn tsv_has_no_quoting() {
    let out = run(
        "default = \"keep\"\n[columns]\nage = \"age\"\n",
        "id\tage\tq\n\"1\t93.5\t5\" tall\n",
        TableOptions {
            delimiter: b'\t',
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out, "id\tage\tq\n\"1\t90+\t5\" tall\n");
}

#[test]
fn tsv_default_keep_and_blank() {
    let policy = "default = \"keep\"\non_bad_value = \"blank\"\n[columns]\nwhen = \"date_shift\"\n";
    let out = run(
        policy,
        "id\twhen\tx\n1\t2/30/2012\ty\n2\t\tz\n",
        TableOptions {
            delimiter: b'\t',
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out, "id\twhen\tx\n1\t\ty\n2\t\tz\n");
}

#[test]
fn errors_name_line_and_column_never_the_value() {
    let cases: [(&str, &str, &str); 7] = [
        (
            POLICY,
            "mrn,name\nA1,Bob\n",
            "names column \"admitted\", which the header lacks",
        ),
        (
            "[columns]\nwhen = \"date_shift\"\n",
            "id,when\n1,2012-01-01\n2,Secret-Value\n",
            "t.csv:3: column when: date_shift cannot read",
        ),
        (
            "[columns]\na = \"keep\"\n",
            "a,b\n1,2\n3\n",
            "t.csv:3: 1 fields where the header has 2",
        ),
        ("[columns]\na = \"keep\"\n", "", "empty table"),
        (
            "[columns]\na = \"frobnicate\"\n",
            "a\n1\n",
            "unknown action",
        ),
        (
            "[columns]\na = { action = \"pseudonym\" }\n",
            "a\n1\n",
            "needs category",
        ),
        ("colums = 1\n", "a\n1\n", "unknown field"),
    ];
    for (policy, input, want) in cases {
        let e = run(policy, input, TableOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e} (wanted {want})");
        assert!(!e.contains("Secret-Value"), "{e}");
    }
    let p = Policy::parse("p.toml", "[columns]\na = \"keep\"\n").unwrap();
    let mut out = Vec::new();
    let e = deid_table(
        "t.csv",
        &b"a,b\n1,\xff\xfe\n"[..],
        &mut out,
        &p,
        &TableOptions::default(),
        &s(),
        &Detector::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("t.csv:2: column b: not UTF-8"), "{e}");
}

#[test]
fn an_enormous_record_is_refused_with_bounded_memory() {
    let big = format!("a,b\n1,2\n3,\"{}\"\n", "x".repeat(300_000));
    let opts = TableOptions {
        max_record: 1000,
        ..TableOptions::default()
    };
    let e = run("[columns]\na = \"keep\"\n", &big, opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv:3: record longer than 1000 bytes"), "{e}");
    // just under the limit passes
    let ok = format!("a,b\n1,\"{}\"\n", "x".repeat(900));
    assert!(run("default = \"keep\"\n[columns]\na = \"keep\"\n", &ok, opts).is_ok());
}

proptest::proptest! {
    #[test]
    fn tables_never_panic(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let p = Policy::parse(
            "p.toml",
            "default = \"keep\"\npatient = \"a\"\non_bad_value = \"blank\"\n[columns]\na = \"date_shift\"\n",
        )
        .unwrap();
        let mut input = input;
        input.splice(0..0, b"a,b\n".iter().copied());
        let mut out = Vec::new();
        let _ = deid_table("t.csv", &input[..], &mut out, &p, &TableOptions::default(), &s(), &Detector::new());
    }
}
