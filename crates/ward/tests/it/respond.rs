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
    // a rollback needs a succeeded job and an admin or analyst
    let out = ward(
        &[
            "respond", "rollback", &id, "--as", "bio", "--store", "ward.db",
        ],
        dir.path(),
    );
    assert!(
        text(&out.stderr).contains("needs admin or analyst"),
        "{}",
        text(&out.stderr)
    );
    let out = ward(
        &[
            "respond", "rollback", &id, "--as", "ana", "--store", "ward.db",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nothing to undo"),
        "{}",
        text(&out.stderr)
    );
}

/// A real HTTP receiver on loopback: answers 200 after `delay`, records each request's
/// `Idempotency-Key` and the alert id of its body.
fn receiver(delay: std::time::Duration) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}/hook", l.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&got);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let seen = std::sync::Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut r = BufReader::new(c.try_clone().unwrap());
                loop {
                    let (mut len, mut key) = (0usize, String::new());
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let lower = h.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if lower.starts_with("idempotency-key:") {
                            key = h["idempotency-key:".len()..].trim().to_owned();
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    std::thread::sleep(delay);
                    seen.lock().unwrap().push(key);
                    if c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (addr, got)
}

/// The crash test of issue 5: kill `ward respond run` in the middle of a queue, start it
/// again, and check that every job ran, none was lost, and none ran twice in effect (each
/// idempotency key reached the receiver; a key may arrive twice only if it was in flight
/// when the process died, which is what the key is for).
#[test]
fn killed_in_the_middle_of_a_queue_nothing_is_lost_and_nothing_runs_twice_in_effect() {
    let dir = tempfile::tempdir().unwrap();
    let (url, got) = receiver(std::time::Duration::from_millis(40));
    std::fs::write(
        dir.path().join("pb.toml"),
        format!(
            "[[playbook]]\nname = \"page\"\nmax_runs_per_hour = 0\n[[playbook.step]]\nname = \"hook\"\n\
             effect = \"notify\"\ntimeout_secs = 2\nwebhook = {{ url = \"{url}\" }}\n"
        ),
    )
    .unwrap();
    const N: usize = 60;
    let now = ward_server::now();
    let alerts: Vec<Alert> = (0..N)
        .map(|i| {
            Alert::new(
                now,
                "net.anomaly",
                80,
                EntityId::host(format!("10.9.0.{i}")),
                "Unusual flow",
                Explanation::default(),
                Evidence::default(),
            )
        })
        .collect();
    SqliteStore::open(dir.path().join("ward.db"))
        .unwrap()
        .insert_alerts(&alerts)
        .unwrap();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ward"))
            .args([
                "respond",
                "run",
                "--store",
                "ward.db",
                "--playbooks",
                "pb.toml",
                "--batch",
                "8",
            ])
            .current_dir(dir.path())
            .env_remove("WARD_CONFIG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let wait_for = |n: usize, secs: u64| {
        let t0 = std::time::Instant::now();
        while got.lock().unwrap().len() < n && t0.elapsed().as_secs() < secs {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let mut first = start();
    wait_for(15, 60);
    first.kill().unwrap(); // SIGKILL: no clean-up of any kind
    first.wait().unwrap();
    let before = got.lock().unwrap().len();
    assert!(
        (15..N).contains(&before),
        "killed mid-queue ({before} of {N} delivered)"
    );
    let mut second = start();
    let done = || {
        let s = SqliteStore::open(dir.path().join("ward.db")).unwrap();
        s.list_jobs(&ward_store::JobQuery {
            states: vec![ward_store::JobState::Succeeded],
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .len()
    };
    let t0 = std::time::Instant::now();
    while done() < N && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let s = SqliteStore::open(dir.path().join("ward.db")).unwrap();
    let jobs = s
        .list_jobs(&ward_store::JobQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(jobs.len(), N, "one job per alert");
    assert!(
        jobs.iter()
            .all(|j| j.state == ward_store::JobState::Succeeded),
        "all succeeded"
    );
    let keys = got.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
    let want: std::collections::BTreeSet<&String> = jobs.iter().map(|j| &j.key).collect();
    assert_eq!(
        distinct, want,
        "every job's key reached the receiver, and no other"
    );
    assert!(
        keys.len() <= N + 1,
        "at most the one job in flight at the kill arrives twice: {} deliveries",
        keys.len()
    );
    let rerun = jobs.iter().filter(|j| j.attempts > 1).count();
    assert!(rerun <= 1, "{rerun} jobs were claimed again");
    assert!(s.verify_audit().unwrap().problem.is_none());
}

/// `ward serve --respond`: a stored alert reaches the real webhook receiver through the
/// engine running beside the API, and the engine stops with the server.
#[test]
fn serve_with_respond_runs_the_playbooks_beside_the_api() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (url, got) = receiver(std::time::Duration::from_millis(0));
    std::fs::write(
        dir.path().join("pb.toml"),
        format!(
            "[[playbook]]\nname = \"page\"\n[[playbook.step]]\nname = \"hook\"\neffect = \"notify\"\n\
             webhook = {{ url = \"{url}\" }}\n"
        ),
    )
    .unwrap();
    SqliteStore::open(dir.path().join("ward.db")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "serve",
            "--store",
            "ward.db",
            "--listen",
            "127.0.0.1:0",
            "--respond",
            "--playbooks",
            "pb.toml",
        ])
        .current_dir(dir.path())
        .env_remove("WARD_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let head: Vec<String> = (0..2).filter_map(|_| lines.next()?.ok()).collect();
    assert!(
        head.iter()
            .any(|l| l.contains("response engine on, 1 playbook")),
        "{head:?}"
    );
    // an alert arrives in the store while the server runs
    let a = Alert::new(
        ward_server::now(),
        "net.supervised",
        90,
        EntityId::host("10.1.1.1"),
        "Port scan",
        Explanation::default(),
        Evidence::default(),
    );
    SqliteStore::open(dir.path().join("ward.db"))
        .unwrap()
        .insert_alerts(std::slice::from_ref(&a))
        .unwrap();
    let t0 = std::time::Instant::now();
    while got.lock().unwrap().is_empty() && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(got.lock().unwrap().len(), 1, "the webhook arrived");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("response engine followed 1 alerts; 1 jobs succeeded")),
        "{rest:?}"
    );
}
