//! `ward deid eval` as a user runs it.

use super::{text, ward};

/// A manifest's text without the values that are random or sizes (hashes, the key id, times,
/// byte counts), in which a short number from the input could turn up by chance: what is left
/// is what could carry PHI.
fn manifest_words(m: &str) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    out.push_str(k);
                    out.push('\n');
                    if !matches!(
                        k.as_str(),
                        "sha256" | "key_id" | "started" | "finished" | "bytes"
                    ) {
                        walk(v, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            other => {
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }
    let mut out = String::new();
    walk(
        &serde_json::from_str(m).expect("a manifest is JSON"),
        &mut out,
    );
    out
}

#[test]
fn eval_scores_found_spans_with_the_physionet_convention_and_lists_misses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("n.text"),
        "START_OF_RECORD=1||||1||||\nO: SEEN BY DR SMITH ON 7/22.\n||||END_OF_RECORD\n",
    )
    .unwrap();
    std::fs::write(
        d.join("g.phi.phrase"),
        "1 1 14 19 HCPName SMITH\n1 1 23 27 Date 7/22\n",
    )
    .unwrap();
    std::fs::write(d.join("found.txt"), "1 1 15 17 HCPName\n1 1 0 2 Other\n").unwrap();
    let args = [
        "deid",
        "eval",
        "--text",
        "n.text",
        "--gold",
        "g.phi.phrase",
        "--found",
        "found.txt",
        "--misses",
        "m.txt",
    ];
    let out = ward(&args, d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("span recall 0.5000 (1 of 2 gold spans), precision 0.5000 (1 of 2 found spans)"),
        "{s}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("m.txt")).unwrap(),
        "1 1 23 27 Date 7/22\nFP 1 1 0 2 O:\n"
    );
    std::fs::write(d.join("found.txt"), "1 1 15\n").unwrap();
    let out = ward(&args, d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("found.txt:1: expected"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(d.join("n.text"), "START_OF_RECORD=1||||1||||\ncut off\n").unwrap();
    let out = ward(&args, d);
    assert!(
        text(&out.stderr).contains("n.text:1: record without"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn text_writes_character_spans_that_eval_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // "É" is two bytes: offsets must count characters, as the gold files do
    std::fs::write(
        d.join("n.text"),
        "START_OF_RECORD=1||||1||||\nÉ: SEEN BY DR SMITH ON 7/22.\n||||END_OF_RECORD\n",
    )
    .unwrap();
    std::fs::write(
        d.join("g.phi.phrase"),
        "1 1 14 19 HCPName SMITH\n1 1 23 27 Date 7/22\n",
    )
    .unwrap();
    let out = ward(&["deid", "text", "n.text", "--spans", "s.txt"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(d.join("s.txt")).unwrap(),
        "1 1 14 19 HCPName\n1 1 23 27 Date\n"
    );
    assert!(!d.join("s.txt.tmp").exists());
    let out = ward(
        &[
            "deid",
            "eval",
            "--text",
            "n.text",
            "--gold",
            "g.phi.phrase",
            "--found",
            "s.txt",
        ],
        d,
    );
    assert!(
        text(&out.stdout).contains("span recall 1.0000"),
        "{}",
        text(&out.stdout)
    );
}

/// An invented annotated corpus in the PhysioNet formats: clinicians' names after "Seen by",
/// 12 patients with 2 notes each.
fn write_corpus(d: &std::path::Path) {
    let staff = [
        "Zorvath", "Quillan", "Brannick", "Ostrava", "Pellham", "Varnel", "Tiverton",
    ];
    let (mut text, mut gold) = (String::new(), String::new());
    for p in 1..=12u32 {
        for n in 1..=2u32 {
            let s = staff[(p * 2 + n) as usize % staff.len()];
            let body = format!("Pt resting, Parkinson tremor. Seen by {s} this shift.\n");
            let at = body.find(s).unwrap();
            text.push_str(&format!(
                "START_OF_RECORD={p}||||{n}||||\n{body}||||END_OF_RECORD\n"
            ));
            gold.push_str(&format!("{p} {n} {at} {} HCPName {s}\n", at + s.len()));
        }
    }
    std::fs::write(d.join("c.text"), text).unwrap();
    std::fs::write(d.join("c.phi.phrase"), gold).unwrap();
}

#[test]
fn train_writes_a_checked_model_that_text_and_eval_use() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_corpus(d);
    let out = ward(
        &[
            "train",
            "deid",
            "--text",
            "c.text",
            "--gold",
            "c.phi.phrase",
            "--out",
            "m.model",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(d.join("m.model.manifest.json").exists());
    std::fs::write(
        d.join("new.text"),
        "START_OF_RECORD=1||||1||||\nPt resting, Parkinson tremor. Seen by Harrowgate this shift.\n||||END_OF_RECORD\n",
    )
    .unwrap();
    let out = ward(
        &[
            "deid", "text", "new.text", "--model", "m.model", "--spans", "s.txt",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // "Harrowgate" starts at character 38 of the body: found from its context alone
    let spans = std::fs::read_to_string(d.join("s.txt")).unwrap();
    assert!(spans.contains("1 1 38 48 HCPName"), "{spans}");
    // cross-validation by patient, with gates: an impossible one fails with status 2
    let cv = |min: &str| {
        ward(
            &[
                "deid",
                "eval",
                "--text",
                "c.text",
                "--gold",
                "c.phi.phrase",
                "--cv",
                "3",
                "--min",
                min,
            ],
            d,
        )
    };
    let ok = cv("recall=0.9");
    assert!(
        ok.status.success(),
        "{}{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    assert!(
        text(&ok.stdout).contains("tokens: recall"),
        "{}",
        text(&ok.stdout)
    );
    assert_eq!(cv("precision=1.01").status.code(), Some(2));
    // a tampered model is refused by its checksum, naming the file
    let mut m = std::fs::read(d.join("m.model")).unwrap();
    m.push(b' ');
    std::fs::write(d.join("m.model"), m).unwrap();
    let out = ward(
        &[
            "deid", "text", "new.text", "--model", "m.model", "--spans", "t.txt",
        ],
        d,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("m.model"),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.join("t.txt").exists());
}

// ---------------------------------------------------------------------------------------------
// Replacement: `ward deid keygen | note | table`.
// ---------------------------------------------------------------------------------------------

const NOTE: &str =
    "Seen by Dr. Smith on 3/15/2012. Lives in Boston. Call 617-732-1234, pt 93 yo.\n";
const TABLE: &str = "mrn,name,admitted,zip,age\nA1,John Smith,2012-03-15,02139,93\nA2,Ann Lee,2012-07-04,03601,40\n";
const POLICY: &str = "patient = \"mrn\"\n[columns]\nmrn = \"hash\"\nname = { action = \"pseudonym\", category = \"PTName\" }\nadmitted = \"date_shift\"\nzip = \"zip3\"\nage = \"age\"\n";

fn ok(args: &[&str], d: &std::path::Path) -> String {
    let o = ward(args, d);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stderr)
}

fn fails(args: &[&str], d: &std::path::Path) -> String {
    let o = ward(args, d);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    text(&o.stderr)
}

fn leftovers(d: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ward-tmp"))
        .collect()
}

#[test]
fn keygen_writes_a_0600_key_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = ok(&["deid", "keygen", "--out", "k.key"], d);
    let key = std::fs::read_to_string(d.join("k.key")).unwrap();
    assert!(key.starts_with("ward-deid-key v1\n"));
    assert!(
        !err.contains(key.lines().nth(1).unwrap()),
        "key printed: {err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(d.join("k.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o600);
    }
    assert!(fails(&["deid", "keygen", "--out", "k.key"], d).contains("exists already"));
    assert_eq!(std::fs::read_to_string(d.join("k.key")).unwrap(), key);
    ok(&["deid", "keygen", "--out", "k.key", "--force"], d);
    assert_ne!(std::fs::read_to_string(d.join("k.key")).unwrap(), key);
}

#[test]
fn notes_in_three_modes_with_a_manifest_free_of_phi() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("p7.txt"), NOTE).unwrap();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    let run = |mode: &str, out: &str| {
        ok(
            &[
                "deid", "note", "p7.txt", "--out", out, "--mode", mode, "--key", "k.key",
            ],
            d,
        );
        std::fs::read_to_string(d.join(out)).unwrap()
    };
    let tags = run("tags", "t.txt");
    assert!(
        tags.contains("Dr. [HCP_NAME] on [DATE]") && tags.contains("[PHONE]"),
        "{tags}"
    );
    let mask = run("mask", "m.txt");
    assert_eq!(mask.len(), NOTE.len());
    assert!(mask.contains("Dr. ***** on *********."), "{mask}");
    let sur = run("surrogate", "s.txt");
    for phi in ["Smith", "3/15/2012", "Boston", "732-1234", "93 yo"] {
        assert!(!sur.contains(phi), "{phi} left in {sur}");
    }
    assert!(sur.contains("90+ yo") && sur.contains("-555-"), "{sur}");
    let m = std::fs::read_to_string(d.join("s.txt.manifest.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&m).unwrap();
    assert_eq!(v["mode"], "surrogate");
    assert_eq!(v["records"], 1);
    assert_eq!(v["key_id"].as_str().unwrap().len(), 8);
    assert_eq!(v["inputs"][0]["bytes"], NOTE.len());
    assert_eq!(v["outputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["counts"]["Date"].as_u64().unwrap() >= 1);
    let key = std::fs::read_to_string(d.join("k.key")).unwrap();
    assert!(
        !m.contains(key.lines().nth(1).unwrap()),
        "the key in the manifest"
    );
    let m = manifest_words(&m);
    for phi in [
        "Smith",
        "3/15",
        "Boston",
        "617",
        "1234",
        key.lines().nth(1).unwrap(),
    ] {
        assert!(!m.contains(phi), "{phi} in the manifest");
    }
    // the same patient gets the same date shift again; --patient changes it
    assert_eq!(run("surrogate", "s2.txt"), sur);
    ok(
        &[
            "deid",
            "note",
            "p7.txt",
            "--out",
            "s3.txt",
            "--mode",
            "surrogate",
            "--key",
            "k.key",
            "--patient",
            "other",
        ],
        d,
    );
    let s3 = std::fs::read_to_string(d.join("s3.txt")).unwrap();
    assert_ne!(s3, sur, "another patient, another date shift");
    // surrogates need a key; tags do not
    assert!(
        fails(
            &[
                "deid",
                "note",
                "p7.txt",
                "--out",
                "x.txt",
                "--mode",
                "surrogate"
            ],
            d
        )
        .contains("needs --key")
    );
    assert!(!d.join("x.txt").exists());
}

#[test]
fn one_key_one_surrogate_across_notes_and_tables_another_key_another() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("n.txt"), "Seen by Dr. Smith today.\n").unwrap();
    std::fs::write(d.join("t.csv"), TABLE).unwrap();
    std::fs::write(d.join("p.toml"), POLICY).unwrap();
    let mut surnames = Vec::new();
    for key in ["a.key", "b.key"] {
        ok(&["deid", "keygen", "--out", key], d);
        ok(
            &[
                "deid",
                "note",
                "n.txt",
                "--out",
                "n.out",
                "--mode",
                "surrogate",
                "--key",
                key,
            ],
            d,
        );
        ok(
            &[
                "deid", "table", "t.csv", "--policy", "p.toml", "--key", key, "--out", "t.out",
            ],
            d,
        );
        let note = std::fs::read_to_string(d.join("n.out")).unwrap();
        let doc = note
            .strip_prefix("Seen by Dr. ")
            .and_then(|r| r.strip_suffix(" today.\n"))
            .unwrap()
            .to_owned();
        let table = std::fs::read_to_string(d.join("t.out")).unwrap();
        let row = table.lines().nth(1).unwrap().to_owned();
        let name = row.split(',').nth(1).unwrap();
        assert_eq!(name.split(' ').nth(1), Some(doc.as_str()), "{note} / {row}");
        assert!(row.ends_with(",02100,90+"), "{row}");
        assert!(
            table.lines().nth(2).unwrap().ends_with(",00000,40"),
            "{table}"
        );
        let m = std::fs::read_to_string(d.join("t.out.manifest.json")).unwrap();
        let words = manifest_words(&m);
        for phi in ["Smith", "John", "02139", "2012-03-15", "Ann Lee"] {
            assert!(!words.contains(phi), "{phi} in the table manifest");
        }
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["records"], 2);
        assert_eq!(v["policy"]["content"], POLICY);
        assert_eq!(v["counts"]["hash"], 2);
        surnames.push(row);
    }
    assert_ne!(surnames[0], surnames[1], "another key, other surrogates");
}

#[test]
fn physionet_records_are_written_back_as_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("n.text"),
        "START_OF_RECORD=3||||1||||\nSeen by Dr. Smith on 3/15/2012.\n||||END_OF_RECORD\nSTART_OF_RECORD=3||||2||||\nFollow-up 3/25/2012.\n||||END_OF_RECORD\n",
    )
    .unwrap();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    ok(
        &[
            "deid",
            "note",
            "n.text",
            "--format",
            "physionet",
            "--out",
            "o.text",
            "--mode",
            "surrogate",
            "--key",
            "k.key",
        ],
        d,
    );
    let out = std::fs::read_to_string(d.join("o.text")).unwrap();
    let f = std::fs::File::open(d.join("o.text")).unwrap();
    let notes = ward_deid::read_notes("o.text", std::io::BufReader::new(f)).unwrap();
    assert_eq!(notes.len(), 2, "{out}");
    assert!(
        !out.contains("Smith") && !out.contains("3/15/2012"),
        "{out}"
    );
    // both notes of patient 3 moved by one shift: 10 days apart still
    let date = |s: &str| {
        let w = s
            .split_whitespace()
            .find(|w| w.matches('/').count() == 2)
            .unwrap();
        let p: Vec<i64> = w
            .trim_end_matches('.')
            .split('/')
            .map(|x| x.parse().unwrap())
            .collect();
        ward_deid::date::days_from_civil(p[2], p[0], p[1])
    };
    assert_eq!(date(&notes[1].body) - date(&notes[0].body), 10);
}

#[test]
fn physionet_input_is_streamed_and_a_late_error_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // many records, written back one for one and in order
    let mut text = String::new();
    for i in 1..=3000 {
        text.push_str(&format!(
            "START_OF_RECORD={}||||{i}||||\nSeen by Dr. Smith on 3/15/2012, bed {i}.\n||||END_OF_RECORD\n",
            i % 7
        ));
    }
    std::fs::write(d.join("many.text"), &text).unwrap();
    let args = |input: &'static str| {
        vec![
            "deid",
            "note",
            input,
            "--format",
            "physionet",
            "--out",
            "o.text",
            "--mode",
            "tags",
        ]
    };
    ok(&args("many.text"), d);
    let f = std::fs::File::open(d.join("o.text")).unwrap();
    let notes = ward_deid::read_notes("o.text", std::io::BufReader::new(f)).unwrap();
    assert_eq!(notes.len(), 3000);
    assert_eq!((notes[2999].patient, notes[2999].note), (3000 % 7, 3000));
    assert!(notes.iter().all(|n| !n.body.contains("Smith")));
    let manifest = std::fs::read_to_string(d.join("o.text.manifest.json")).unwrap();
    assert!(manifest.contains("\"records\": 3000"), "{manifest}");
    // a record cut off after thousands of good ones: the run fails naming the line, and
    // neither the output nor a temporary file is left behind
    std::fs::remove_file(d.join("o.text")).unwrap();
    std::fs::remove_file(d.join("o.text.manifest.json")).unwrap();
    text.push_str("START_OF_RECORD=1||||9999||||\nSecret Name was here\n");
    std::fs::write(d.join("cut.text"), &text).unwrap();
    let e = fails(&args("cut.text"), d);
    assert!(e.contains("cut.text:9001: record without"), "{e}");
    assert!(!e.contains("Secret"), "{e}");
    assert!(!d.join("o.text").exists() && !d.join("o.text.manifest.json").exists());
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    // no record at all
    std::fs::write(d.join("none.text"), "\n\n").unwrap();
    assert!(fails(&args("none.text"), d).contains("none.text: no records"));
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

#[test]
fn failed_runs_leave_no_output_and_inputs_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    std::fs::write(d.join("p.toml"), POLICY).unwrap();
    // a bad date on line 3: no output, no manifest, no temporary file
    std::fs::write(
        d.join("bad.csv"),
        "mrn,name,admitted,zip,age\nA1,Jo Roe,2012-03-15,02139,50\nA2,Secret Name,31/31/2012,02139,50\n",
    )
    .unwrap();
    let e = fails(
        &[
            "deid", "table", "bad.csv", "--policy", "p.toml", "--key", "k.key", "--out", "o.csv",
        ],
        d,
    );
    assert!(e.contains("bad.csv:3: column admitted"), "{e}");
    assert!(!e.contains("Secret") && !e.contains("31/31"), "{e}");
    assert!(!d.join("o.csv").exists() && !d.join("o.csv.manifest.json").exists());
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    // a missing column
    std::fs::write(d.join("few.csv"), "mrn,name\nA1,Jo\n").unwrap();
    let e = fails(
        &[
            "deid", "table", "few.csv", "--policy", "p.toml", "--key", "k.key", "--out", "o.csv",
        ],
        d,
    );
    assert!(e.contains("\"admitted\", which the header lacks"), "{e}");
    // the input as output
    std::fs::write(d.join("t.csv"), TABLE).unwrap();
    let e = fails(
        &[
            "deid", "table", "t.csv", "--policy", "p.toml", "--key", "k.key", "--out", "t.csv",
        ],
        d,
    );
    assert!(e.contains("is an input"), "{e}");
    assert_eq!(std::fs::read_to_string(d.join("t.csv")).unwrap(), TABLE);
    std::fs::write(d.join("a.txt"), NOTE).unwrap();
    let e = fails(&["deid", "note", "a.txt", "--out", "a.txt"], d);
    assert!(e.contains("is an input"), "{e}");
    let e = fails(
        &[
            "deid",
            "note",
            "a.txt",
            "--out",
            "k.key",
            "--mode",
            "surrogate",
            "--key",
            "k.key",
        ],
        d,
    );
    assert!(e.contains("is an input"), "{e}");
    let e = fails(
        &[
            "deid",
            "table",
            "t.csv",
            "--policy",
            "p.toml",
            "--key",
            "k.key",
            "--out",
            "o.csv",
            "--manifest",
            "p.toml",
        ],
        d,
    );
    assert!(e.contains("p.toml is an input"), "{e}");
    assert_eq!(std::fs::read_to_string(d.join("p.toml")).unwrap(), POLICY);
    assert!(!d.join("o.csv").exists());
    // several notes into a directory: one bad file means none is written
    std::fs::write(d.join("b.txt"), b"fine line\nbad \xff byte\n").unwrap();
    let e = fails(&["deid", "note", "a.txt", "b.txt", "--out", "outdir"], d);
    assert!(e.contains("b.txt:2: not UTF-8"), "{e}");
    assert!(!d.join("outdir/a.txt").exists());
    std::fs::write(d.join("e.txt"), " \n").unwrap();
    assert!(fails(&["deid", "note", "e.txt", "--out", "o.txt"], d).contains("empty note"));
    std::fs::write(d.join("b.txt"), format!("{}\n", "x".repeat(2 << 20))).unwrap();
    assert!(
        fails(&["deid", "note", "b.txt", "--out", "o.txt"], d).contains("b.txt:1: line longer")
    );
    assert!(!d.join("o.txt").exists());
    assert!(leftovers(d).is_empty());
    assert!(leftovers(&d.join("outdir")).is_empty());
    // several good notes into a directory, with one manifest
    ok(&["deid", "note", "a.txt", "t.csv", "--out", "outdir"], d);
    assert!(d.join("outdir/a.txt").is_file() && d.join("outdir/manifest.json").is_file());
}

#[test]
fn notes_and_tables_use_a_trained_classifier_named_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut notes = String::new();
    let mut gold = String::new();
    for i in 1..=6 {
        let body = format!("Son Robert{i} visited today, spoke with Dr. Ames{i}.\n");
        notes.push_str(&format!(
            "START_OF_RECORD={i}||||1||||\n{body}||||END_OF_RECORD\n"
        ));
        let at = |w: &str| body.find(w).unwrap();
        let (r, a) = (format!("Robert{i}"), format!("Ames{i}"));
        gold.push_str(&format!(
            "{i} 1 {} {} RelativeProxyName {r}\n{i} 1 {} {} HCPName {a}\n",
            at(&r),
            at(&r) + r.len(),
            at(&a),
            at(&a) + a.len()
        ));
    }
    std::fs::write(d.join("n.text"), notes).unwrap();
    std::fs::write(d.join("g.phi.phrase"), gold).unwrap();
    ok(
        &[
            "train",
            "deid",
            "--text",
            "n.text",
            "--gold",
            "g.phi.phrase",
            "--out",
            "m.model",
        ],
        d,
    );
    std::fs::write(d.join("a.txt"), NOTE).unwrap();
    ok(
        &[
            "deid", "note", "a.txt", "--out", "o.txt", "--model", "m.model",
        ],
        d,
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o.txt.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(v["model"]["path"], "m.model");
    assert_eq!(v["model"]["sha256"].as_str().unwrap().len(), 64);
    std::fs::write(
        d.join("t.csv"),
        "id,note\n1,Seen by Dr. Smith on 3/15/2012.\n",
    )
    .unwrap();
    std::fs::write(
        d.join("p.toml"),
        "default = \"keep\"\n[columns]\nnote = \"text\"\n",
    )
    .unwrap();
    ok(
        &[
            "deid", "table", "t.csv", "--policy", "p.toml", "--out", "o.csv", "--model", "m.model",
        ],
        d,
    );
    let out = std::fs::read_to_string(d.join("o.csv")).unwrap();
    // a model trained on six notes over-marks; what matters is that the PHI is gone
    assert!(!out.contains("3/15") && !out.contains("Smith"), "{out}");
    let e = fails(
        &[
            "deid",
            "note",
            "a.txt",
            "--out",
            "x.txt",
            "--model",
            "none.model",
        ],
        d,
    );
    assert!(e.contains("none.model"), "{e}");
    assert!(!d.join("x.txt").exists());
}

// ---------------------------------------------------------------------------------------------
// Messages: `ward deid hl7 | fhir`.
// ---------------------------------------------------------------------------------------------

const ADT: &str = include_str!("../../../deid/tests/fixtures/adt_a01.hl7");
const ORU: &str = include_str!("../../../deid/tests/fixtures/oru_r01.hl7");
const BUNDLE: &str = include_str!("../../../deid/tests/fixtures/bundle.json");
const NDJSON: &str = include_str!("../../../deid/tests/fixtures/resources.ndjson");

fn field<'a>(msg: &'a str, seg: &str, n: usize) -> &'a str {
    let s = msg
        .split(['\r', '\n'])
        .find(|l| l.starts_with(seg))
        .unwrap();
    s.split('|')
        .nth(if seg == "MSH" { n - 1 } else { n })
        .unwrap()
}

#[test]
fn one_key_one_patient_across_hl7_fhir_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("adt.hl7"), ADT).unwrap();
    std::fs::write(d.join("b.json"), BUNDLE).unwrap();
    std::fs::write(
        d.join("t.csv"),
        "patient,name,admitted\nMRN445566,Evelyn Whitaker,2024-01-15\n",
    )
    .unwrap();
    std::fs::write(
        d.join("p.toml"),
        "patient = \"patient\"\n[columns]\npatient = { action = \"pseudonym\", category = \"ID\" }\nname = { action = \"pseudonym\", category = \"PTName\" }\nadmitted = \"date_shift\"\n",
    )
    .unwrap();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    ok(
        &[
            "deid", "hl7", "adt.hl7", "--key", "k.key", "--out", "adt.out",
        ],
        d,
    );
    ok(
        &["deid", "fhir", "b.json", "--key", "k.key", "--out", "b.out"],
        d,
    );
    ok(
        &[
            "deid", "table", "t.csv", "--policy", "p.toml", "--key", "k.key", "--out", "t.out",
        ],
        d,
    );
    let hl7 = std::fs::read_to_string(d.join("adt.out")).unwrap();
    let fhir: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("b.out")).unwrap()).unwrap();
    let table = std::fs::read_to_string(d.join("t.out")).unwrap();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split(',').collect();
    let patient = &fhir["entry"][0]["resource"];
    // one pseudonym for the patient id
    let id = field(&hl7, "PID", 3).split('^').next().unwrap();
    assert_ne!(id, "MRN445566");
    assert_eq!(patient["id"], id);
    assert_eq!(row[0], id);
    // one surrogate surname
    let family = field(&hl7, "PID", 5).split('^').next().unwrap();
    assert_eq!(
        patient["name"][0]["family"]
            .as_str()
            .unwrap()
            .to_uppercase(),
        family
    );
    assert_eq!(row[1].split(' ').nth(1).unwrap().to_uppercase(), family);
    // one date shift: the admission day agrees in all three, and the birth date in two
    let admitted = row[2].replace('-', "");
    assert_eq!(&field(&hl7, "PV1", 44)[..8], admitted);
    let start = patient_period(&fhir);
    assert_eq!(start.get(..10).unwrap().replace('-', ""), admitted);
    assert_eq!(
        patient["birthDate"].as_str().unwrap().replace('-', ""),
        field(&hl7, "PID", 7)
    );
}

fn patient_period(fhir: &serde_json::Value) -> String {
    fhir["entry"][1]["resource"]["period"]["start"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn hl7_runs_write_a_phi_free_manifest_and_fail_or_skip_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    std::fs::write(d.join("m.hl7"), format!("{ADT}{ORU}")).unwrap();
    let policy = include_str!("../../../../docs/examples/deid-hl7-policy.toml");
    std::fs::write(d.join("p.toml"), policy).unwrap();
    let err = ok(
        &[
            "deid", "hl7", "m.hl7", "--key", "k.key", "--out", "m.out", "--policy", "p.toml",
        ],
        d,
    );
    assert!(err.contains("2 messages de-identified"), "{err}");
    let out = std::fs::read_to_string(d.join("m.out")).unwrap();
    assert_eq!(out.matches("MSH|").count(), 2);
    let m = std::fs::read_to_string(d.join("m.out.manifest.json")).unwrap();
    let words = manifest_words(&m);
    for phi in ["WHITAKER", "Whitaker", "445566", "Larkspur", "19480312"] {
        assert!(!out.contains(phi) && !words.contains(phi), "{phi}");
    }
    let v: serde_json::Value = serde_json::from_str(&m).unwrap();
    assert_eq!(v["command"], "deid hl7");
    assert_eq!(v["records"], 2);
    assert_eq!(v["policy"]["content"], policy);
    assert!(v["counts"]["Date"].as_u64().unwrap() > 5);
    // a malformed message: no output at all, or skipped with --on-error skip
    let bad = "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\r\u{1}PID|1||X9^^^A||DOE^JANE\r";
    std::fs::write(d.join("bad.hl7"), format!("{ADT}{bad}")).unwrap();
    let e = fails(
        &[
            "deid", "hl7", "bad.hl7", "--key", "k.key", "--out", "bad.out",
        ],
        d,
    );
    assert!(
        e.contains("bad.hl7: message 2 (line 9): not a segment"),
        "{e}"
    );
    assert!(!e.contains("DOE"));
    assert!(!d.join("bad.out").exists() && leftovers(d).is_empty());
    let e = ok(
        &[
            "deid",
            "hl7",
            "bad.hl7",
            "--key",
            "k.key",
            "--out",
            "bad.out",
            "--on-error",
            "skip",
        ],
        d,
    );
    assert!(
        e.contains("skipped: bad.hl7: message 2 (line 9)") && e.contains("1 skipped"),
        "{e}"
    );
    let out = std::fs::read_to_string(d.join("bad.out")).unwrap();
    assert_eq!(out.matches("MSH|").count(), 1);
    let e = fails(
        &["deid", "hl7", "m.hl7", "--key", "k.key", "--out", "m.hl7"],
        d,
    );
    assert!(e.contains("is an input"), "{e}");
    let o = ward(&["deid", "hl7", "m.hl7", "--out", "x.out"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--key"));
}

#[test]
fn fhir_runs_read_json_and_ndjson_with_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&["deid", "keygen", "--out", "k.key"], d);
    std::fs::write(d.join("b.json"), BUNDLE).unwrap();
    std::fs::write(d.join("r.ndjson"), NDJSON).unwrap();
    let policy = include_str!("../../../../docs/examples/deid-fhir-policy.toml");
    std::fs::write(d.join("p.toml"), policy).unwrap();
    ok(
        &[
            "deid", "fhir", "b.json", "--key", "k.key", "--out", "b.out", "--policy", "p.toml",
        ],
        d,
    );
    let e = ok(
        &[
            "deid", "fhir", "r.ndjson", "--key", "k.key", "--out", "r.out", "--mode", "tags",
        ],
        d,
    );
    assert!(e.contains("4 resources de-identified"), "{e}");
    let nd = std::fs::read_to_string(d.join("r.out")).unwrap();
    assert_eq!(nd.lines().count(), 4);
    assert!(nd.contains("\"family\":\"[NAME]\""), "{nd}");
    for phi in ["Whitaker", "Larkspur", "445566", "1948-03-12", "555-0142"] {
        assert!(!nd.contains(phi), "{phi}");
        assert!(
            !std::fs::read_to_string(d.join("b.out"))
                .unwrap()
                .contains(phi),
            "{phi}"
        );
    }
    // the format from the flag; bad lines located, or skipped
    std::fs::write(
        d.join("x.json"),
        format!("{}\n{{\"resourceType\":\n", NDJSON.lines().next().unwrap()),
    )
    .unwrap();
    let e = fails(
        &[
            "deid", "fhir", "x.json", "--key", "k.key", "--out", "x.out", "--format", "ndjson",
        ],
        d,
    );
    assert!(e.contains("x.json: line 2"), "{e}");
    assert!(!d.join("x.out").exists());
    let e = fails(
        &["deid", "fhir", "x.json", "--key", "k.key", "--out", "x.out"],
        d,
    );
    assert!(e.contains("x.json: line 2, column"), "{e}");
    ok(
        &[
            "deid",
            "fhir",
            "x.json",
            "--key",
            "k.key",
            "--out",
            "x.out",
            "--format",
            "ndjson",
            "--on-error",
            "skip",
        ],
        d,
    );
    assert_eq!(
        std::fs::read_to_string(d.join("x.out"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}
