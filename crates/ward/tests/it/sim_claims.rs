//! `ward sim claims` as a user runs it.

use super::ward;

#[test]
fn sim_claims_writes_the_seven_files_and_refuses_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "days = 90\nfraud_intensity = 0.1\n",
    )
    .unwrap();
    let out = ward(
        &[
            "sim",
            "claims",
            "--out",
            "c",
            "--params",
            "p.toml",
            "--beneficiaries",
            "1500",
            "--providers",
            "100",
            "--seed",
            "3",
            "--fraud-share",
            "0.2",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("of 1500 beneficiaries"), "{said}");
    assert!(said.contains("phantom_billing"), "{said}");
    for name in ward_sim::claims::FILES {
        let text = std::fs::read_to_string(dir.path().join("c").join(name)).unwrap();
        assert!(text.lines().count() > 1, "{name}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("c"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let labels = std::fs::read_to_string(dir.path().join("c/labels.csv")).unwrap();
    let yes = labels.lines().filter(|l| l.ends_with(",Yes")).count();
    let all = labels.lines().count() - 1;
    assert!(
        yes * 100 >= all * 12 && yes * 100 <= all * 28,
        "{yes} of {all}"
    );
    // --params sets the period: 90 days from 2009-01-01
    let outpatient = std::fs::read_to_string(dir.path().join("c/outpatient.csv")).unwrap();
    assert!(
        outpatient
            .lines()
            .skip(1)
            .all(|l| !l.contains(",2009-05") && !l.contains(",2009-1"))
    );

    // the same seed gives the same bytes
    let again = ward(
        &[
            "sim",
            "claims",
            "--out",
            "d",
            "--params",
            "p.toml",
            "--beneficiaries",
            "1500",
            "--providers",
            "100",
            "--seed",
            "3",
            "--fraud-share",
            "0.2",
        ],
        dir.path(),
    );
    assert!(again.status.success());
    for name in ward_sim::claims::FILES {
        assert_eq!(
            std::fs::read(dir.path().join("c").join(name)).unwrap(),
            std::fs::read(dir.path().join("d").join(name)).unwrap(),
            "{name}"
        );
    }

    for (text, args, want) in [
        ("unknown_knob = 1\n", &[][..], "unknown_knob"),
        ("fraud_share = 0.9\n", &[][..], "fraud_share"),
        ("", &["--beneficiaries", "5"][..], "beneficiaries"),
        ("start = \"2009-13-01\"\n", &[][..], "start"),
    ] {
        std::fs::write(dir.path().join("p.toml"), text).unwrap();
        let mut argv = vec!["sim", "claims", "--params", "p.toml", "--out", "q"];
        argv.extend_from_slice(args);
        let out = ward(&argv, dir.path());
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{text}: {err}");
    }
}
