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
        "1 1 23 27 Date 7/22\n"
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
