//! End-to-end tests of the `ward` binary: the commands as a user runs them, on fixtures the
//! tests write themselves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ward(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .current_dir(dir)
        .env_remove("WARD_CONFIG")
        .output()
        .expect("ward runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An NSL-KDD-layout file: benign web traffic and SYN-flood-like and probe-like attacks.
fn kdd_fixture(dir: &Path, rows: usize, seed: u64) -> PathBuf {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = String::new();
    for i in 0..rows {
        let kind = i % 4;
        let (proto, svc, flag, src, dst, count, serr, label) = match kind {
            0 | 1 => (
                "tcp",
                "http",
                "SF",
                rng.u32(150..400),
                rng.u32(300..9000),
                rng.u32(1..20),
                0.0,
                "normal",
            ),
            2 => (
                "tcp",
                "private",
                "S0",
                0,
                0,
                rng.u32(100..500),
                1.0,
                "neptune",
            ),
            _ => ("tcp", "other", "REJ", 0, 0, rng.u32(1..5), 0.0, "portsweep"),
        };
        let mut cols: Vec<String> = vec![
            "0".into(),
            proto.into(),
            svc.into(),
            flag.into(),
            src.to_string(),
            dst.to_string(),
        ];
        cols.extend(std::iter::repeat_n("0".to_string(), 16));
        cols.push(count.to_string());
        cols.push(rng.u32(1..20).to_string());
        cols.push(format!("{serr:.2}"));
        cols.extend(std::iter::repeat_n("0.00".to_string(), 16));
        cols.push(label.into());
        cols.push("20".into());
        assert_eq!(cols.len(), 43);
        out.push_str(&cols.join(","));
        out.push('\n');
    }
    let p = dir.join(format!("kdd-{seed}.txt"));
    std::fs::write(&p, out).unwrap();
    p
}

/// Trains `m.model` in `d` on `data` with a few boosting rounds; fails the test with ward's
/// stderr when training fails.
fn train_model(d: &Path, data: &Path, rounds: &str) {
    let o = ward(
        &[
            "train",
            "net",
            data.to_str().unwrap(),
            "--out",
            "m.model",
            "--rounds",
            rounds,
        ],
        d,
    );
    assert!(o.status.success(), "train failed: {}", text(&o.stderr));
}

#[test]
fn train_detect_scores_and_store_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = kdd_fixture(d, 800, 1);
    let test = kdd_fixture(d, 200, 2);
    let o = ward(
        &[
            "train",
            "net",
            train.to_str().unwrap(),
            "--out",
            "m.model",
            "--rounds",
            "20",
        ],
        d,
    );
    assert!(o.status.success(), "train failed: {}", text(&o.stderr));
    assert!(d.join("m.model").is_file());
    assert!(d.join("m.model.manifest.json").is_file());

    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            test.to_str().unwrap(),
            "--scores",
            "s.csv",
            "--store",
            "w.db",
        ],
        d,
    );
    assert!(o.status.success(), "detect failed: {}", text(&o.stderr));
    let scores = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let lines: Vec<&str> = scores.lines().collect();
    assert_eq!(lines[0], "line,score,label,category");
    assert_eq!(lines.len(), 201, "one line per record plus the header");
    // rows 3 and 4 of every 4 are attacks: the fixture is easy, so all must be right
    let mut correct = 0;
    for l in &lines[1..] {
        let f: Vec<&str> = l.split(',').collect();
        let line: usize = f[0].parse().unwrap();
        let attack = (line - 1) % 4 >= 2;
        if (f[2] == "1") == attack {
            correct += 1;
        }
    }
    assert!(correct >= 196, "only {correct} of 200 right");
    let alerts: Vec<ward_core::Alert> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(alerts.len() >= 95, "{} alerts", alerts.len());
    assert!(alerts.iter().all(|a| !a.explanation.summary.is_empty()));
    assert!(
        alerts
            .iter()
            .any(|a| a.mitre.iter().any(|m| m == "T1046" || m == "T1499"))
    );

    use ward_store::Store;
    let store = ward_store::SqliteStore::open(d.join("w.db")).unwrap();
    let n = store
        .count_alerts(&ward_store::AlertQuery::default())
        .unwrap();
    assert_eq!(n as usize, alerts.len());

    // ECS output carries the same alerts
    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            test.to_str().unwrap(),
            "--output",
            "ecs",
        ],
        d,
    );
    let first: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["event"]["kind"], "alert");
    assert!(
        first["ward"]["alert"]["id"]
            .as_str()
            .unwrap()
            .starts_with("al_")
    );
}

#[test]
fn bad_records_are_reported_with_location_and_strict_stops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = kdd_fixture(d, 400, 3);
    train_model(d, &train, "5");
    let mut content = std::fs::read_to_string(kdd_fixture(d, 20, 4)).unwrap();
    content.push_str("0,tcp,http,SF,notanumber\n");
    content.push_str(&std::fs::read_to_string(kdd_fixture(d, 4, 5)).unwrap());
    std::fs::write(d.join("mixed.txt"), content).unwrap();

    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            "--format",
            "nsl-kdd",
            "mixed.txt",
            "--scores",
            "s.csv",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("mixed.txt:21"),
        "stderr should name file and line: {err}"
    );
    assert!(err.contains("24 flows scored"), "{err}");
    let scores = std::fs::read_to_string(d.join("s.csv")).unwrap();
    assert_eq!(
        scores.lines().count(),
        25,
        "records after the bad one are still scored"
    );

    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            "--format",
            "nsl-kdd",
            "--strict",
            "mixed.txt",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("mixed.txt:21"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn clear_errors_for_unknown_format_missing_input_and_tampered_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("junk.bin"), b"\x00\x01\x02 this is not a flow log\n").unwrap();
    let o = ward(&["parse", "net", "junk.bin"], d);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("zeek") && err.contains("nsl-kdd") && err.contains("pcap"),
        "known formats listed: {err}"
    );

    let o = ward(&["parse", "net", "nope.log"], d);
    assert!(text(&o.stderr).contains("nope.log does not exist"));

    let o = ward(&["parse", "net", "--format", "netflow9", "x"], d);
    assert_eq!(
        o.status.code(),
        Some(2),
        "clap rejects unknown format names"
    );

    let train = kdd_fixture(d, 200, 6);
    train_model(d, &train, "3");
    let mut bytes = std::fs::read(d.join("m.model")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(d.join("m.model"), bytes).unwrap();
    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            train.to_str().unwrap(),
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("cannot load model"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn eval_reports_and_gates_fail_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = kdd_fixture(d, 600, 7);
    let o = ward(
        &[
            "eval",
            "net",
            "--kfold",
            "3",
            data.to_str().unwrap(),
            "--rounds",
            "10",
            "--json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(v["rows_tested"], 600);
    assert!(v["binary"]["accuracy"].as_f64().unwrap() > 0.95);

    let o = ward(
        &[
            "eval",
            "net",
            "--kfold",
            "3",
            data.to_str().unwrap(),
            "--rounds",
            "10",
            "--min",
            "accuracy=1.01",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("FAILED"));

    let o = ward(
        &[
            "eval",
            "net",
            "--novel",
            "2",
            data.to_str().unwrap(),
            "--rounds",
            "10",
            "--json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert!(v["novel_recall"].as_f64().is_some());
}

#[test]
fn config_example_is_valid_and_unknown_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = ward(&["config", "example"], d);
    assert!(o.status.success());
    std::fs::write(d.join("ward.toml"), &o.stdout).unwrap();
    let o = ward(&["config", "check"], d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    std::fs::write(d.join("ward.toml"), "[net.train]\nthreshhold = 0.3\n").unwrap();
    let o = ward(&["config", "check"], d);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("threshhold"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = kdd_fixture(d, 400, 8);
    for out in ["a.model", "b.model"] {
        let o = ward(
            &[
                "train",
                "net",
                data.to_str().unwrap(),
                "--out",
                out,
                "--rounds",
                "10",
            ],
            d,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let a = std::fs::read(d.join("a.model")).unwrap();
    let b = std::fs::read(d.join("b.model")).unwrap();
    assert!(
        a == b,
        "same data, parameters and seed must give the same model file"
    );
    let o = ward(
        &[
            "train",
            "net",
            data.to_str().unwrap(),
            "--out",
            "c.model",
            "--rounds",
            "10",
            "--seed",
            "9",
        ],
        d,
    );
    assert!(o.status.success());
    assert!(
        std::fs::read(d.join("c.model")).unwrap() != a,
        "another seed gives another model"
    );
}

#[test]
fn detect_reads_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = kdd_fixture(d, 400, 10);
    train_model(d, &train, "5");
    let input = std::fs::read(kdd_fixture(d, 40, 11)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "detect", "net", "--model", "m.model", "-", "--scores", "s.csv",
        ])
        .current_dir(d)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("40 flows scored"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("s.csv"))
            .unwrap()
            .lines()
            .count(),
        41
    );
}

// ---------------------------------------------------------------------------------------------
// Administration: `ward audit` (and `ward user`). Owned by the admin/auth work; appended here
// because this crate has one integration-test binary.
// ---------------------------------------------------------------------------------------------

/// A store at `dir/audit.db` with `n` audit entries; entry `i` targets `target-{i:04}`.
fn audit_fixture(dir: &Path, n: u64) -> PathBuf {
    use ward_store::Store;
    let path = dir.join("audit.db");
    let mut s = ward_store::SqliteStore::open(&path).unwrap();
    for i in 1..=n {
        s.append_audit(
            ward_core::Timestamp(1_714_521_600_000_000 + i as i64),
            "alice",
            "alert.acknowledge",
            &format!("target-{i:04}"),
            &serde_json::json!({"comment": "triaged"}),
        )
        .unwrap();
    }
    path
}

#[test]
fn audit_verify_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = audit_fixture(d, 12);
    let o = ward(&["audit", "verify", "--store", "audit.db"], d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("audit trail intact: 12 entries"),
        "{}",
        text(&o.stdout)
    );

    let o = ward(&["audit", "list", "--store", "audit.db", "--limit", "3"], d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(
        out.lines().count(),
        4,
        "a header and the last 3 entries: {out}"
    );
    assert!(
        out.contains("target-0010") && out.contains("target-0012") && !out.contains("target-0009")
    );

    let o = ward(
        &[
            "audit", "list", "--store", "audit.db", "--from", "2", "--limit", "2", "--json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seqs: Vec<u64> = text(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, vec![2, 3]);

    // Edit entry 5 in the file itself, as with a hex editor (SQLite keeps text in clear).
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes
        .windows(11)
        .position(|w| w == b"target-0005")
        .expect("the target is stored in the file");
    bytes[at + 10] = b'6';
    std::fs::write(&db, bytes).unwrap();
    let o = ward(&["audit", "verify", "--store", "audit.db"], d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(
        err.contains("entry 5 was edited") && err.contains("4 entries before it are intact"),
        "{err}"
    );
}

#[test]
fn audit_commands_on_a_missing_or_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = ward(&["audit", "verify", "--store", "nope.db"], d);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no store at nope.db"),
        "{}",
        text(&o.stderr)
    );
    assert!(!d.join("nope.db").exists(), "verify never creates a store");
    audit_fixture(d, 0);
    let o = ward(&["audit", "verify", "--store", "audit.db"], d);
    assert!(
        text(&o.stdout).contains("audit trail intact: 0 entries"),
        "{}",
        text(&o.stdout)
    );
    let o = ward(&["audit", "list", "--store", "audit.db"], d);
    assert!(
        text(&o.stdout).contains("no audit entries"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_model_refuses_input_of_another_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = kdd_fixture(d, 300, 12);
    train_model(d, &train, "5");
    let o = ward(
        &[
            "sim",
            "net",
            "--out",
            "sim",
            "--scale",
            "0.01",
            "--hours",
            "2",
            "--benign-hours",
            "1",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = ward(&["detect", "net", "--model", "m.model", "sim/conn.log"], d);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("trained on nsl-kdd") && err.contains("input is zeek"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "no alerts from a mismatched model");
}

#[test]
fn ecs_output_has_no_fake_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = kdd_fixture(d, 300, 13);
    train_model(d, &train, "5");
    let o = ward(
        &[
            "detect",
            "net",
            "--model",
            "m.model",
            train.to_str().unwrap(),
            "--output",
            "ecs",
        ],
        d,
    );
    assert!(o.status.success());
    let first: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert!(
        first.get("source").is_none(),
        "NSL-KDD records have no addresses: {first}"
    );
}

// ---------------------------------------------------------------------------------------------
// Administration: `ward user`. Owned by the admin/auth work; appended here because this crate
// has one integration-test binary.
// ---------------------------------------------------------------------------------------------

/// Runs ward with `WARD_PASSWORD` set to `password` (or removed), stdin not a terminal.
fn ward_pw(args: &[&str], dir: &Path, password: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.args(args)
        .current_dir(dir)
        .env_remove("WARD_CONFIG")
        .env_remove("WARD_PASSWORD")
        .stdin(std::process::Stdio::null());
    if let Some(p) = password {
        c.env("WARD_PASSWORD", p);
    }
    c.output().expect("ward runs")
}

/// Runs a ward command that must fail with exit status `code`; returns stderr.
fn ward_fails(args: &[&str], dir: &Path, password: Option<&str>, code: i32) -> String {
    let o = ward_pw(args, dir, password);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o.stdout));
    text(&o.stderr)
}

#[test]
fn user_add_passwd_list_token_are_audited_without_secrets() {
    use ward_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (pw1, pw2) = ("first-Sentinel-pass", "second-Sentinel-pass");
    let st = ["--store", "w.db"];
    let with =
        |cmd: &[&'static str]| -> Vec<&str> { cmd.iter().chain(st.iter()).copied().collect() };

    let o = ward_pw(
        &with(&["user", "add", "alice", "--role", "admin"]),
        d,
        Some(pw1),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("added user alice with role admin"));

    // Refusals, each with a clear message (clap usage errors exit 2, ward errors exit 1).
    let cases: &[(&[&str], Option<&str>, i32, &str)] = &[
        (
            &["user", "add", "alice", "--role", "viewer"],
            Some(pw1),
            1,
            "user alice already exists",
        ),
        (
            &["user", "add", "bob", "--role", "root"],
            Some(pw1),
            2,
            "admin, analyst, privacy_officer, auditor, viewer",
        ),
        (
            &["user", "add", "Bob", "--role", "viewer"],
            Some(pw1),
            1,
            "lowercase",
        ),
        (
            &["user", "add", "bob", "--role", "viewer"],
            None,
            1,
            "no password: set WARD_PASSWORD",
        ),
        (
            &["user", "add", "bob", "--role", "viewer"],
            Some("short"),
            1,
            "too short",
        ),
        (
            &["user", "passwd", "bob"],
            Some(pw2),
            1,
            "no user named bob",
        ),
        (&["user", "token", "bob"], None, 1, "no user named bob"),
    ];
    for (cmd, pw, code, want) in cases {
        let err = ward_fails(&with(cmd), d, *pw, *code);
        assert!(err.contains(want), "{cmd:?}: {err}");
        assert!(
            !err.contains("Sentinel"),
            "{cmd:?} echoes the password: {err}"
        );
    }

    let o = ward_pw(&with(&["user", "passwd", "alice"]), d, Some(pw2));
    assert!(o.status.success(), "{}", text(&o.stderr));

    let o = ward_pw(
        &with(&["user", "add", "carol", "--role", "privacy_officer"]),
        d,
        Some(pw1),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = ward(&with(&["user", "list"]), d);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        out.contains("alice")
            && out.contains("admin")
            && out.contains("privacy_officer")
            && out.contains("active"),
        "{out}"
    );
    let o = ward(&with(&["user", "list", "--json"]), d);
    let users: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["name"], "alice");
    assert!(users[0].get("password_hash").is_none(), "{:?}", users[0]);

    let o = ward(&with(&["user", "token", "alice"]), d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let token = text(&o.stdout).trim().to_owned();
    assert!(token.starts_with("ward_") && token.len() == 69, "{token}");
    assert!(text(&o.stderr).contains("shown once"));

    // The store: the new password works, the token finds alice, no secret is in the file.
    let s = ward_store::SqliteStore::open(d.join("w.db")).unwrap();
    let hash = s.password_hash("alice").unwrap().unwrap();
    assert!(ward_store::auth::verify_password(pw2, &hash));
    assert!(!ward_store::auth::verify_password(pw1, &hash));
    let found = s
        .find_user_by_token_hash(&ward_store::auth::token_hash(&token))
        .unwrap();
    assert_eq!(found.map(|(u, _)| u.name), Some("alice".to_owned()));
    drop(s);
    let bytes = std::fs::read(d.join("w.db")).unwrap();
    for secret in [pw1, pw2, token.as_str()] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the store file"
        );
    }

    // Every change is in the audit trail, by `cli`, and the trail holds no secret.
    let o = ward(&with(&["audit", "list", "--json"]), d);
    let log = text(&o.stdout);
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("user.add", "alice"),
            ("user.passwd", "alice"),
            ("user.add", "carol"),
            ("user.list", ""),
            ("user.list", ""),
            ("token.create", "alice"),
        ]
    );
    assert!(entries.iter().all(|e| e["actor"] == "cli"));
    assert_eq!(entries[0]["details"]["role"], "admin");
    assert!(
        !log.contains("Sentinel") && !log.contains(&token[5..]),
        "{log}"
    );
    let o = ward(&with(&["audit", "verify"]), d);
    assert!(
        text(&o.stdout).contains("audit trail intact: 6 entries"),
        "{}",
        text(&o.stdout)
    );
}

/// One HTTP/1.1 GET over a plain socket; returns the whole response (status line, headers, body).
fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = String::new();
    conn.read_to_string(&mut resp).expect("read");
    resp
}

#[test]
fn serve_answers_with_a_token_and_stops_cleanly_on_sigint() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let st = ["--store", "w.db"];
    let missing = ward_fails(&["serve", "--store", "nope.db"], d, None, 1);
    assert!(missing.contains("no store at nope.db"), "{missing}");

    let o = ward_pw(
        &["user", "add", "ana", "--role", "analyst", st[0], st[1]],
        d,
        Some("serve-Sentinel-pass"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = ward(&["user", "token", "ana", st[0], st[1]], d);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let token = out
        .split_whitespace()
        .find(|w| w.starts_with("ward_"))
        .expect("token printed")
        .to_owned();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", st[0], st[1], "--listen", "127.0.0.1:0"])
        .current_dir(d)
        .env_remove("WARD_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ward serve starts");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();

    let health = http_get(&addr, "/api/v1/health", None);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let refused = http_get(&addr, "/api/v1/alerts", None);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let alerts = http_get(&addr, "/api/v1/alerts", Some(&token));
    assert!(alerts.starts_with("HTTP/1.1 200"), "{alerts}");
    assert!(alerts.contains("\"total\":0"), "{alerts}");

    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    assert!(!rest.concat().contains(&token), "token logged");
}

// The dashboard in headless Chromium (tests/it/browser.rs).
#[path = "it/browser.rs"]
mod browser;

#[path = "it/serve_pipeline.rs"]
mod serve_pipeline;

#[path = "it/ehr.rs"]
mod ehr;
#[path = "it/fraud.rs"]
mod fraud;
#[path = "it/respond.rs"]
mod respond;
#[path = "it/sim_claims.rs"]
mod sim_claims;

#[path = "it/deid.rs"]
mod deid;
#[path = "it/phish.rs"]
mod phish;
