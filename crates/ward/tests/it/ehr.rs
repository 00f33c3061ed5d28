//! `ward sim ehr`, `ward ehr detect` and `ward eval ehr` as a user runs them.

use super::ward;
use std::path::Path;

fn sim(dir: &Path) {
    let out = ward(
        &[
            "sim",
            "ehr",
            "--out",
            "ehr",
            "--patients",
            "2000",
            "--users",
            "200",
            "--days",
            "4",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn detect_names_the_row_time_user_and_patient_of_every_flagged_access() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let out = ward(
        &[
            "ehr",
            "detect",
            "ehr",
            "--flagged",
            "flagged.csv",
            "--cases",
            "cases.jsonl",
            "--alerts",
            "alerts.jsonl",
            "--store",
            "ward.db",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let access: Vec<csv::StringRecord> = csv::Reader::from_path(dir.path().join("ehr/access.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    let mut flagged = csv::Reader::from_path(dir.path().join("flagged.csv")).unwrap();
    assert_eq!(
        flagged.headers().unwrap(),
        vec![
            "row",
            "time",
            "user_id",
            "patient_id",
            "score",
            "case",
            "reasons"
        ]
    );
    let mut n = 0;
    for r in flagged.records() {
        let r = r.unwrap();
        let row: usize = r[0].parse().unwrap();
        let a = &access[row];
        // Same instant (the output writes microseconds), same user, same patient.
        let t_out = ward_core::Timestamp::parse_rfc3339(&r[1]).unwrap();
        let t_in = ward_core::Timestamp::parse_rfc3339(&a[0]).unwrap();
        assert_eq!((t_out, &r[2], &r[3]), (t_in, &a[1], &a[2]), "row {row}");
        assert!(!r[6].trim().is_empty(), "row {row} has no reason");
        n += 1;
    }
    assert!(n > 0, "nothing flagged");
    let alerts = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    assert_eq!(first["detector"], "ehr.access");
    let cases = std::fs::read_to_string(dir.path().join("cases.jsonl")).unwrap();
    assert_eq!(cases.lines().count(), alerts.lines().count());
}

#[test]
fn eval_reports_recall_precision_and_share_and_applies_gates() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let out = ward(&["eval", "ehr", "ehr", "--json"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["recall", "precision", "flagged_share"] {
        let x = v[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{k} {x}");
    }
    assert!(v["truth"].as_u64().unwrap() > 0);
    assert!(v["per_type"]["self"].is_array(), "{v}");
    // An impossible gate fails with exit status 2; an unknown metric is an error.
    let out = ward(&["eval", "ehr", "ehr", "--min", "recall=1.01"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = ward(&["eval", "ehr", "ehr", "--min", "nonsense=1"], dir.path());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let users = dir.path().join("ehr/users.csv");
    let text = std::fs::read_to_string(&users).unwrap();
    let without_role: String = text
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            let mut keep: Vec<&str> = cols[..3].to_vec();
            keep.extend_from_slice(&cols[4..]);
            keep.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&users, without_role).unwrap();
    let out = ward(&["ehr", "detect", "ehr"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("role") && err.contains("users.csv"), "{err}");
    let out = ward(&["ehr", "detect", "missing-folder"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-folder"));
}

#[test]
fn bench_reports_load_detect_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let out = ward(&["bench", "ehr", "ehr", "--json"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["accesses"].as_u64().unwrap() > 0);
    for k in [
        "load_secs",
        "detect_secs",
        "detect_per_sec",
        "end_to_end_per_sec",
    ] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {v}");
    }
}

#[test]
fn the_daily_budget_comes_from_ward_toml() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let flagged = |dir: &Path| -> u64 {
        let out = ward(&["eval", "ehr", "ehr", "--json"], dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["flagged"].as_u64().unwrap()
    };
    let default = flagged(dir.path());
    std::fs::write(
        dir.path().join("ward.toml"),
        "[ehr.score]\ndaily_budget_share = 0.0005\ndaily_min_accesses = 1\n",
    )
    .unwrap();
    let tight = flagged(dir.path());
    assert!(tight < default, "{tight} !< {default}");
    std::fs::write(dir.path().join("ward.toml"), "[ehr.score]\nbudget = 1\n").unwrap();
    let out = ward(&["eval", "ehr", "ehr"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ward.toml"));
}

#[test]
fn sim_parameters_come_from_a_file_and_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "patients = 1500\nusers = 150\ndays = 3\nvip_share = 0.01\n[case_weights]\nvolume = 0.0\n",
    )
    .unwrap();
    let out = ward(
        &[
            "sim", "ehr", "--params", "p.toml", "--days", "2", "--out", "p",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("150 users on 1500 patients"), "{said}");
    let truth = std::fs::read_to_string(dir.path().join("p/truth.csv")).unwrap();
    // volume weighs nothing, so only the minimum incidents of it are injected
    let volume = truth.lines().filter(|l| l.ends_with(",volume")).count();
    let all = truth.lines().count() - 1;
    assert!(all > 0 && volume < all / 2, "{volume} of {all}");
    let access = std::fs::read_to_string(dir.path().join("p/access.csv")).unwrap();
    let days: std::collections::BTreeSet<&str> = access.lines().skip(1).map(|l| &l[..10]).collect();
    assert_eq!(days.len(), 2, "--days overrides the file");

    for (text, want) in [
        ("patients = \"many\"\n", "p.toml"),
        ("unknown_knob = 1\n", "unknown_knob"),
        ("snoop_rate = 0.9\n", "snoop_rate"),
    ] {
        std::fs::write(dir.path().join("p.toml"), text).unwrap();
        let out = ward(
            &["sim", "ehr", "--params", "p.toml", "--out", "q"],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{text}: {err}");
    }
}

/// The body of an HTTP answer from `http_get`, as JSON.
fn json_body(resp: &str) -> serde_json::Value {
    let body = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {resp}"))
}

#[test]
fn detect_store_fills_the_privacy_view_with_names_for_the_privacy_officer_only() {
    use ward_store::{EhrUserQuery, PersonKind, Role, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path());
    let run = |dir: &Path| {
        let out = ward(
            &[
                "ehr",
                "detect",
                "ehr",
                "--flagged",
                "flagged.csv",
                "--store",
                "ward.db",
            ],
            dir,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(dir.path());
    let db = dir.path().join("ward.db");
    let flagged = csv::Reader::from_path(dir.path().join("flagged.csv"))
        .unwrap()
        .records()
        .count() as u64;
    let store = SqliteStore::open(&db).unwrap();
    let users = store.ehr_users(&EhrUserQuery::default()).unwrap();
    assert!(!users.is_empty());
    let all = EhrUserQuery {
        limit: 1000,
        ..EhrUserQuery::default()
    };
    let stored: u64 = store
        .ehr_users(&all)
        .unwrap()
        .iter()
        .map(|u| u.accesses)
        .sum();
    assert_eq!(stored, flagged, "every flagged access is stored");
    let head = store.audit_head().unwrap().unwrap();
    assert_eq!(
        (head.action.as_str(), head.target.as_str()),
        ("ehr.import", "access.csv")
    );
    assert_eq!(head.details["accesses"], flagged);

    // The stored names are the input's, for the people in cases only.
    let mut roster = csv::Reader::from_path(dir.path().join("ehr/users.csv")).unwrap();
    let h = roster.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (id, first, last) = (col("user_id"), col("first_name"), col("last_name"));
    let mut names = std::collections::HashMap::new();
    for r in roster.records() {
        let r = r.unwrap();
        names.insert(r[id].to_owned(), format!("{} {}", &r[first], &r[last]));
    }
    let every_user: Vec<String> = names.keys().cloned().collect();
    let stored_people = store.ehr_people(PersonKind::User, &every_user).unwrap();
    for p in &stored_people {
        assert!(
            store.ehr_timeline(&p.id, 1).unwrap().is_some(),
            "{} has no case",
            p.id
        );
        assert_eq!(Some(&p.name), names.get(&p.id));
    }
    let in_cases = stored_people.len();
    assert!(in_cases > 0 && in_cases < every_user.len(), "{in_cases}");
    // The highest-ranked user who is in the roster.
    let top = store
        .ehr_users(&all)
        .unwrap()
        .into_iter()
        .map(|u| u.user_id)
        .find(|u| names.contains_key(u))
        .unwrap();
    let top_name = names[&top].clone();

    // Running again stores nothing twice.
    let before = store.count_ehr_users(&EhrUserQuery::default()).unwrap();
    drop(store);
    run(dir.path());
    let mut store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        store.count_ehr_users(&EhrUserQuery::default()).unwrap(),
        before
    );

    // The API shows them: names to the privacy officer (audited), ids to the auditor.
    let t = ward_core::Timestamp(0);
    let mut tokens = Vec::new();
    for (name, role) in [("po", Role::PrivacyOfficer), ("au", Role::Auditor)] {
        let hash = ward_store::auth::hash_password("correct horse battery").unwrap();
        store.add_user(name, role, &hash, t).unwrap();
        let (token, th) = ward_store::auth::new_token().unwrap();
        store.add_token(name, &th, t).unwrap();
        tokens.push(token);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = ward_server::AppState::new(Box::new(store));
    let server = rt.spawn(ward_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let path = format!("/api/v1/privacy/users/{top}");
    let po = json_body(&super::http_get(&addr, &path, Some(&tokens[0])));
    assert_eq!(po["user"]["name"], top_name.as_str(), "{po}");
    assert!(!po["accesses"].as_array().unwrap().is_empty());
    let reasons = &po["accesses"][0]["reasons"];
    assert!(!reasons.as_array().unwrap().is_empty(), "{po}");
    let au = super::http_get(&addr, &path, Some(&tokens[1]));
    assert!(au.starts_with("HTTP/1.1 200"), "{au}");
    assert!(!au.contains(&top_name), "the auditor sees ids only");
    let list = json_body(&super::http_get(
        &addr,
        "/api/v1/privacy/users",
        Some(&tokens[1]),
    ));
    assert_eq!(list["users"][0]["user_id"], users[0].user_id.as_str());
    stop.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();

    let store = SqliteStore::open(&db).unwrap();
    let head = store.audit_head().unwrap().unwrap();
    assert_eq!(head.action, "privacy.view_names");
    assert_eq!(head.actor, "po");
    assert!(!head.details.to_string().contains(&top_name));
    let v = super::ward(&["audit", "verify", "--store", "ward.db"], dir.path());
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
