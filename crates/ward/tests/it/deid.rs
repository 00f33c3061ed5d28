//! `ward deid eval` as a user runs it.

use super::{text, ward};

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
