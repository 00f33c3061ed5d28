//! `ward respond` as a user runs it: a dry run of the example playbooks, and approvals of a
//! queued step from the command line.

use super::{text, ward};
use ward_core::alert::{Alert, Evidence, Explanation};
use ward_core::entity::EntityId;
use ward_core::time::Timestamp;
use ward_store::auth::{Role, hash_password};
use ward_store::{SqliteStore, Store};

fn example() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/playbooks.toml"
    )
    .to_owned()
}

#[test]
fn test_prints_each_step_and_its_decision_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pb = example();
    let out = ward(
        &["respond", "test", "--playbooks", &pb, "--sample", "host"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "playbook contain-attack-on-host:",
        "page-on-call",
        "block-host                   firewall         contain  waits up to 15 min for analyst; then nothing is done",
        "quarantine-medical-device    quarantine       record   skipped",
        "dry run: nothing was sent",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
    let out = ward(
        &[
            "respond",
            "test",
            "--playbooks",
            &pb,
            "--sample",
            "user",
            "--json",
        ],
        dir.path(),
    );
    let plans: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plans[0]["playbook"], "disable-snooping-account");
    assert_eq!(plans[0]["steps"][0]["decision"]["decision"], "approve");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // clear errors
    for (args, want) in [
        (vec!["respond", "test", "--sample", "host"], "no playbooks"),
        (
            vec!["respond", "test", "--playbooks", &pb, "--sample", "toaster"],
            "unknown sample",
        ),
        (
            vec!["respond", "test", "--playbooks", "missing.toml"],
            "missing.toml",
        ),
    ] {
        let out = ward(&args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_clinical_step_is_approved_only_by_a_clinical_role_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let now = ward_server::now();
    let alert = Alert::new(
        now,
        "net.device",
        99,
        EntityId::device("10.3.0.5"),
        "Ventilator gateway talked to a new peer",
        Explanation::default(),
        Evidence::default(),
    );
    {
        let mut s = SqliteStore::open(&db).unwrap();
        let h = hash_password("correct horse battery staple").unwrap();
        s.add_user("ana", Role::Analyst, &h, Timestamp(0)).unwrap();
        s.add_user("bio", Role::ClinicalEngineer, &h, Timestamp(0))
            .unwrap();
        s.insert_alerts(std::slice::from_ref(&alert)).unwrap();
        let set = ward_respond::PlaybookSet::from_toml(
            "[[playbook]]\nname = \"isolate\"\n[[playbook.step]]\nname = \"block\"\n\
             firewall = { file = \"/tmp/ward-never.nft\" }\n",
        )
        .unwrap();
        let t = ward_respond::plan::Target::of(&alert, ward_respond::DeviceClass::LifeSustaining);
        let sub = ward_respond::engine::submit(&mut s, &alert, &t, &set, &Default::default(), now)
            .unwrap();
        assert_eq!(sub.enqueued, 1);
    }
    let out = ward(&["respond", "approvals", "--store", "ward.db"], dir.path());
    let listed = text(&out.stdout);
    assert!(
        listed.contains("awaiting_approval") && listed.contains("clinical_engineer"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().unwrap().to_owned();
    let out = ward(
        &[
            "respond", "approve", &id, "--as", "ana", "--store", "ward.db",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("needs one of: clinical_engineer"),
        "{}",
        text(&out.stderr)
    );
    let out = ward(
        &[
            "respond",
            "approve",
            &id,
            "--as",
            "bio",
            "--comment",
            "pump on backup",
            "--store",
            "ward.db",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is now pending"));
    let out = ward(
        &[
            "respond", "reject", &id, "--as", "bio", "--store", "ward.db",
        ],
        dir.path(),
    );
    assert!(text(&out.stderr).contains("not waiting for an approval"));
    let out = ward(
        &["respond", "history", "--json", "--store", "ward.db"],
        dir.path(),
    );
    let job: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(job["state"], "pending");
    assert_eq!(job["approval"]["decision"]["by"], "bio");
    let v = ward(
        &["audit", "list", "--json", "--store", "ward.db"],
        dir.path(),
    );
    assert!(text(&v.stdout).contains("respond.approve"));
}
