//! `ward phish scan`, `ward train phish` and `ward eval phish` as a user runs them.

use super::{text, ward};
use std::path::{Path, PathBuf};

/// Writes `phish.csv` and `ham.csv`, 20 messages each in the nazario layout: a corpus a
/// model learns in a moment.
pub(super) fn tiny_corpora(d: &Path) {
    let mut phish = String::from("sender,receiver,date,subject,body,urls,label\n");
    let mut ham = String::from("sender,receiver,date,subject,body,urls,label\n");
    for i in 0..20 {
        phish.push_str(&format!("Support <s{i}@help-desk.example>,a@b.c,d,Verify your mailbox {i},\"Your mailbox will be suspended. Verify your password now at the link.\",1,1\n"));
        ham.push_str(&format!("Ana <ana@hospital.example>,a@b.c,d,Rota {i},\"The rota for next week is on the shared drive. Thanks.\",0,0\n"));
    }
    std::fs::write(d.join("phish.csv"), phish).unwrap();
    std::fs::write(d.join("ham.csv"), ham).unwrap();
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../phish/tests/fixtures")
}

#[test]
fn scan_writes_one_json_line_per_message_with_verdict_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixtures();
    let arg = |n: &str| f.join(n).display().to_string();
    let (lure, clean, notmail, mbox) = (
        arg("lure.eml"),
        arg("clean.eml"),
        arg("notmail.eml"),
        arg("two.mbox"),
    );
    let out = ward(
        &["phish", "scan", &lure, &clean, &notmail, &mbox],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["phishing", "clean", "unparseable", "clean", "clean"]
    );
    assert!(lines[0]["score"].as_u64().unwrap() >= 90);
    let reasons = lines[0]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r["code"] == "attach.double_extension")
    );
    assert!(
        lines[2]["reasons"][0]["text"]
            .as_str()
            .unwrap()
            .contains("no RFC 5322 header")
    );
    assert!(lines[3]["source"].as_str().unwrap().ends_with("two.mbox#1"));
    assert!(
        text(&out.stderr).contains("5 messages: 3 clean, 0 suspicious, 1 phishing, 1 unparseable")
    );
}

#[test]
fn train_then_scan_with_the_model_and_eval_by_cross_validation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tiny_corpora(d);
    let out = ward(
        &[
            "train",
            "phish",
            "--phish",
            "phish.csv",
            "--ham",
            "ham.csv",
            "--out",
            "p.model",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("trained on 40 messages"));
    let lure = fixtures().join("lure.eml").display().to_string();
    let out = ward(&["phish", "scan", "--model", "p.model", &lure], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["verdict"], "phishing", "{line}");
    assert!(line["probability"].as_f64().unwrap() > 0.5);
    assert!(line["spam"].is_number(), "{line}");

    let out = ward(
        &[
            "eval",
            "phish",
            "--phish",
            "phish.csv",
            "--ham",
            "ham.csv",
            "--cv",
            "4",
            "--json",
            "--min",
            "phishing_recall=0.9",
            "--max",
            "ham_fpr=0.1",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["phishing_recall"], 1.0);
    for k in [
        "spam_as_phishing",
        "ham_fpr",
        "ham_suspicious",
        "spam_caught",
        "ham_as_spam",
        "brier",
    ] {
        assert!(v[k].is_number(), "{k} in {v}");
    }
    // a gate that cannot hold fails with exit status 2
    let out = ward(
        &[
            "eval",
            "phish",
            "--phish",
            "phish.csv",
            "--ham",
            "ham.csv",
            "--cv",
            "4",
            "--max",
            "phishing_recall=0.5",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));

    // a damaged model and a missing input are clear errors
    let mut bytes = std::fs::read(d.join("p.model")).unwrap();
    let n = bytes.len() - 3;
    bytes[n] ^= 1;
    std::fs::write(d.join("bad.model"), bytes).unwrap();
    let out = ward(&["phish", "scan", "--model", "bad.model", &lure], d);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("checksum"),
        "{}",
        text(&out.stderr)
    );
    let out = ward(&["phish", "scan", "missing.eml"], d);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("missing.eml"));
}

#[test]
fn urls_are_scored_and_the_url_model_is_cross_validated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = String::from("url,status\n");
    for i in 0..60 {
        csv.push_str(&format!(
            "https://www.news{i}.example/world/{i},legitimate\n"
        ));
        csv.push_str(&format!(
            "http://192.168.{}.9/paypal.com/webscr/login.php?id={i},phishing\n",
            i % 250
        ));
    }
    std::fs::write(d.join("urls.csv"), csv).unwrap();
    let out = ward(
        &[
            "eval",
            "phish-url",
            "--urls",
            "urls.csv",
            "--cv",
            "3",
            "--json",
            "--min",
            "accuracy=0.9",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(v["accuracy"].as_f64().unwrap() >= 0.9);

    std::fs::write(
        d.join("links.txt"),
        "https://www.news5.example/world/5\nhttp://192.168.1.9/paypal.com/webscr/login.php?id=1\n",
    )
    .unwrap();
    // rules only: the IP host and the credential path are reasons
    let out = ward(&["phish", "url", "links.txt"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "clean");
    assert_eq!(lines[1]["verdict"], "phishing");
    assert!(
        lines[1]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "url.ip_host")
    );

    // with a trained URL model
    tiny_corpora(d);
    let out = ward(
        &[
            "train",
            "phish",
            "--phish",
            "phish.csv",
            "--ham",
            "ham.csv",
            "--urls",
            "urls.csv",
            "--out",
            "m.model",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("URL model: trained on 120 URLs"));
    let out = ward(&["phish", "url", "links.txt", "--model", "m.model"], d);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["score"].as_u64().unwrap() < 50 && lines[1]["score"].as_u64().unwrap() > 50,
        "{lines:?}"
    );
}

#[test]
fn the_phish_section_of_ward_toml_names_the_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ceo.eml"),
        "From: Maria Chen <maria.chen.office@gmail.com>\nTo: ap@hospital.example\nSubject: quick favour\n\nAre you at your desk? I need a wire transfer today.\n",
    )
    .unwrap();
    let out = ward(&["phish", "scan", "ceo.eml"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("sender.executive_name"));
    std::fs::write(
        d.join("ward.toml"),
        "[phish]\ndomains = [\"hospital.example\"]\nexecutives = [\"Maria Chen\"]\n",
    )
    .unwrap();
    let out = ward(&["phish", "scan", "ceo.eml"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("sender.executive_name"),
        "{}",
        text(&out.stdout)
    );
    // an unknown key is refused, naming it
    std::fs::write(d.join("ward.toml"), "[phish]\nexecutive = [\"x\"]\n").unwrap();
    let out = ward(&["phish", "scan", "ceo.eml"], d);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("executive"),
        "{}",
        text(&out.stderr)
    );
}
