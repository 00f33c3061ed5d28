//! `ward fraud` and `ward eval fraud` as a user runs them, on a small simulated payer.

use super::ward;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn fraud_detect_train_and_eval_on_a_simulated_payer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = [
        "sim",
        "claims",
        "--out",
        "c",
        "--beneficiaries",
        "4000",
        "--providers",
        "200",
        "--fraud-share",
        "0.2",
        "--seed",
        "5",
    ];
    let out = ward(&sim, d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // one simulated training payer instead of four keeps the debug build quick
    std::fs::write(d.join("ward.toml"), "[fraud]\nsimulated_payers = 1\n").unwrap();

    // without labels: a model trained on a simulated payer of varied parameters
    let out = ward(
        &[
            "fraud",
            "detect",
            "c",
            "--out",
            "p.csv",
            "--findings",
            "f.jsonl",
            "--report",
            "r.jsonl",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("training on 1 simulated payers")
            && text(&out.stderr).contains("estimated share of fraudulent providers"),
        "{}",
        text(&out.stderr)
    );
    let csv = std::fs::read_to_string(d.join("p.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Provider,score,flag"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 150, "{}", rows.len());
    let scores: Vec<f32> = rows
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first");
    assert!(rows.iter().any(|l| l.ends_with(",1")) && rows.iter().any(|l| l.ends_with(",0")));
    let findings = std::fs::read_to_string(d.join("f.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(findings.lines().next().unwrap()).unwrap();
    assert!(
        first["rule"].is_string() && first["reason"].is_string(),
        "{first}"
    );
    let report = std::fs::read_to_string(d.join("r.jsonl")).unwrap();
    let top: serde_json::Value = serde_json::from_str(report.lines().next().unwrap()).unwrap();
    assert!(!top["reasons"].as_array().unwrap().is_empty(), "{top}");
    // the trees say which features pushed the score, structured as well as in words
    let c = &top["contributions"][0];
    assert!(
        c["feature"].is_string() && c["weight"].as_f64().unwrap() > 0.0,
        "{top}"
    );
    assert!(
        top["reasons"][0].as_str().unwrap().contains("log-odds"),
        "{top}"
    );

    // flagged providers become alerts in the store, once
    for (run, want) in [(0, "stored "), (1, "stored 0 new")] {
        let out = ward(
            &[
                "fraud",
                "detect",
                "c",
                "--outlier",
                "--out",
                "o.csv",
                "--store",
                "w.db",
            ],
            d,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(want) && err.contains("provider alerts"),
            "run {run}: {err}"
        );
        if run == 0 {
            assert!(!err.contains("stored 0 new"), "{err}");
        }
        // the peer-outlier score: no training
        assert!(!err.contains("simulated"), "{err}");
        let csv = std::fs::read_to_string(d.join("o.csv")).unwrap();
        assert_eq!(csv.lines().count(), rows.len() + 1);
    }

    // the learned model, cross-validated against the labels
    let out = ward(&["eval", "fraud", "c", "--json", "--min", "roc_auc=0.8"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(v["roc_auc"].as_f64().unwrap() > 0.8, "{v}");
    assert!(v["outlier_roc_auc"].as_f64().unwrap() > 0.7, "{v}");
    assert!(v["sim_roc_auc"].as_f64().unwrap() > 0.8, "{v}");
    // an impossible gate fails with status 2
    let out = ward(&["eval", "fraud", "c", "--min", "roc_auc=1.01"], d);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // train on this payer, score another
    let out = ward(&["fraud", "train", "c", "--out", "m.model"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut other = sim;
    other[11] = "6";
    other[3] = "c2";
    let out = ward(&other, d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ward(
        &[
            "fraud", "detect", "c2", "--model", "m.model", "--out", "p2.csv",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ward(&["eval", "fraud", "c2", "--model", "m.model", "--json"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(v["model_roc_auc"].as_f64().unwrap() > 0.8, "{v}");
    // a model of simulated payers alone, saved and used
    let out = ward(
        &["fraud", "train", "--simulated", "1", "--out", "s.model"],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ward(
        &[
            "fraud", "detect", "c2", "--model", "s.model", "--out", "p3.csv",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("training on"));
    // train without any claims or payers
    let out = ward(&["fraud", "train", "--out", "n.model"], d);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--simulated N"),
        "{}",
        text(&out.stderr)
    );

    // a damaged model is refused
    std::fs::write(d.join("bad.model"), "ward-fraud-model 1\n{").unwrap();
    let out = ward(
        &[
            "fraud",
            "detect",
            "c",
            "--model",
            "bad.model",
            "--findings",
            "bad.jsonl",
        ],
        d,
    );
    assert!(!out.status.success());
    assert!(!d.join("bad.jsonl").exists());
    assert!(
        text(&out.stderr).contains("damaged model"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_rows_are_skipped_and_named_or_stop_a_strict_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("o.csv"),
        "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed\n\
         B1,C1,2009-01-02,2009-01-02,PRV1,100\n\
         B2,C2,2009-13-02,2009-01-02,PRV1,100\n\
         B3,C3,2009-01-03,2009-01-03,PRV2,100\n",
    )
    .unwrap();
    let out = ward(
        &[
            "fraud",
            "detect",
            "--outlier",
            "--outpatient",
            "o.csv",
            "--out",
            "p.csv",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("o.csv: line 3: ClaimStartDt"), "{err}");
    assert!(!err.contains("2009-13-02") && !err.contains("B2"), "{err}");
    assert!(
        err.contains("2 claims") && err.contains("1 bad rows"),
        "{err}"
    );
    let out = ward(
        &[
            "fraud",
            "detect",
            "--strict",
            "--outpatient",
            "o.csv",
            "--out",
            "q.csv",
            "--findings",
            "q.jsonl",
        ],
        d,
    );
    assert!(!out.status.success());
    // a failed run leaves neither the scores nor half the findings
    assert!(!d.join("q.csv").exists() && !d.join("q.jsonl").exists());
    assert_eq!(
        std::fs::read_dir(d).unwrap().count(),
        2,
        "o.csv and p.csv only"
    );
    // no claims at all
    let out = ward(&["fraud", "detect", "--out", "p.csv"], d);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no claims"),
        "{}",
        text(&out.stderr)
    );
}
