//! The privacy officer's view of EHR-snooping cases: roles, names only for privacy_officer,
//! one audit entry per names view (committed before the answer), paging and errors.

use super::{T0, error_message, get, pw_hash};
use axum::Router;
use axum::http::StatusCode;
use serde_json::Value;
use std::path::Path;
use ward_core::{Alert, EntityId, EntityKind, Evidence, Explanation, Timestamp};
use ward_server::{AppState, app};
use ward_store::auth::new_token;
use ward_store::{
    AuditRecord, EhrAccessRecord, EhrCaseRecord, EhrImport, EhrPerson, EhrReason, PersonKind, Role,
    SqliteStore, Store,
};

const HOUR: i64 = 3_600_000_000;
/// Every name in the fixture: none may appear in an answer to anyone but privacy_officer,
/// nor in any audit entry.
const NAMES: [&str; 4] = ["Ann Lee", "Bo Lee", "Cy Ng", "Cardiology Ward"];

/// Case of `user` at `hour` over `patients`; returns nothing, adds to `run`.
fn case(run: &mut EhrImport, user: &str, hour: i64, score: f64, patients: &[&str]) {
    let alert = Alert::new(
        Timestamp(T0 + hour * HOUR),
        "ehr.access",
        50,
        EntityId::new(EntityKind::User, user.to_owned()),
        format!("possible inappropriate record access by user {user}"),
        Explanation::default(),
        Evidence::default(),
    );
    let id = alert.id.clone();
    run.alerts.push(alert);
    for (k, p) in patients.iter().enumerate() {
        run.accesses.push(EhrAccessRecord {
            case: id.clone(),
            row: (hour * 10) as u64 + k as u64,
            time: Timestamp(T0 + hour * HOUR + k as i64 * 60_000_000),
            user_id: user.into(),
            patient_id: (*p).into(),
            action: "view".into(),
            score,
            link: "unexplained".into(),
            reasons: vec![EhrReason {
                code: "family_name".into(),
                text: format!("user {user} shares a last name with patient {p}."),
                weight: 2.0,
            }],
        });
    }
    run.cases.push(EhrCaseRecord {
        id,
        user_id: user.into(),
        day: Timestamp(T0),
        first: Timestamp(T0 + hour * HOUR),
        last: Timestamp(T0 + hour * HOUR + (patients.len() as i64 - 1) * 60_000_000),
        score,
        patients: patients.len() as u32,
        signals: vec!["family_name".into()],
        summary: format!("user {user} opened {} records", patients.len()),
    });
}

fn run() -> EhrImport {
    let mut r = EhrImport::default();
    case(&mut r, "e100", 1, 4.0, &["p1", "p2"]);
    case(&mut r, "e200", 3, 2.0, &["p3"]);
    case(&mut r, "e100", 5, 1.0, &["p2"]);
    case(&mut r, "e300", 7, 3.0, &["p9"]);
    let person = |kind, id: &str, name: &str| EhrPerson {
        kind,
        id: id.into(),
        name: name.into(),
        role: (kind == PersonKind::User).then(|| "nurse".into()),
        department: (kind == PersonKind::User).then(|| "Cardiology Ward".into()),
    };
    r.people = vec![
        person(PersonKind::User, "e100", "Ann Lee"),
        person(PersonKind::Patient, "p1", "Bo Lee"),
        person(PersonKind::Patient, "p2", "Cy Ng"),
    ];
    r
}

/// Users of every role with a token each, and the sample run imported.
fn fill(store: &mut dyn Store) -> Vec<(Role, String)> {
    let t = Timestamp(T0);
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = format!("u_{}", role.as_str());
        store.add_user(&name, role, pw_hash(), t).expect("user");
        let (token, hash) = new_token().expect("token");
        store.add_token(&name, &hash, t).expect("token");
        tokens.push((role, format!("Bearer {token}")));
    }
    let audit = AuditRecord::new(t, "cli", "ehr.import", "access.csv", serde_json::json!({}));
    store.import_ehr(&run(), &audit).expect("import");
    tokens
}

struct Fx {
    app: Router,
    state: AppState,
    tokens: Vec<(Role, String)>,
}

impl Fx {
    fn auth(&self, role: Role) -> &str {
        &self
            .tokens
            .iter()
            .find(|(r, _)| *r == role)
            .expect("role")
            .1
    }
    async fn get(&self, role: Role, uri: &str) -> (StatusCode, Value) {
        get(&self.app, uri, Some(self.auth(role))).await
    }
    async fn audit_len(&self) -> u64 {
        self.state
            .read(|s| s.audit_head())
            .await
            .expect("head")
            .map_or(0, |e| e.seq)
    }
}

fn fx() -> Fx {
    let mut store = SqliteStore::open_in_memory().expect("store");
    let tokens = fill(&mut store);
    let state = AppState::new(Box::new(store));
    Fx {
        app: app(state.clone()),
        state,
        tokens,
    }
}

fn has_any_name(v: &Value) -> Option<&'static str> {
    let text = v.to_string();
    NAMES.into_iter().find(|n| text.contains(n))
}

#[tokio::test]
async fn roles_names_and_one_audit_entry_per_names_view() {
    let f = fx();
    // (role, may read, sees names)
    let table = [
        (Role::Admin, true, false),
        (Role::Analyst, false, false),
        (Role::PrivacyOfficer, true, true),
        (Role::Auditor, true, false),
        (Role::Viewer, false, false),
    ];
    for (role, read, names) in table {
        for uri in ["/api/v1/privacy/users", "/api/v1/privacy/users/e100"] {
            let before = f.audit_len().await;
            let (s, v) = f.get(role, uri).await;
            let after = f.audit_len().await;
            if !read {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {uri}: {v}");
                error_message(&v, "forbidden");
                assert_eq!(after, before, "{role} {uri}: a refusal is not a view");
                continue;
            }
            assert_eq!(s, StatusCode::OK, "{role} {uri}: {v}");
            assert_eq!(v["names"], names, "{role} {uri}");
            if names {
                assert_eq!(after, before + 1, "{role} {uri}: exactly one audit entry");
                let e = f
                    .state
                    .read(|s| s.audit_head())
                    .await
                    .expect("head")
                    .expect("entry");
                assert_eq!(
                    (e.actor.as_str(), e.action.as_str()),
                    ("u_privacy_officer", "privacy.view_names")
                );
                assert_eq!(has_any_name(&serde_json::to_value(&e).expect("json")), None);
            } else {
                assert_eq!(after, before, "{role} {uri}: no names, no audit entry");
                assert_eq!(has_any_name(&v), None, "{role} {uri}: {v}");
                for key in ["\"name\"", "\"patient_name\"", "\"role\"", "\"department\""] {
                    assert!(!v.to_string().contains(key), "{role} {uri}: {key} present");
                }
            }
        }
    }
    // What the privacy officer sees.
    let (_, v) = f.get(Role::PrivacyOfficer, "/api/v1/privacy/users").await;
    let first = &v["users"][0];
    assert_eq!(first["user_id"], "e100");
    assert_eq!(
        (&first["name"], &first["role"], &first["department"]),
        (
            &Value::from("Ann Lee"),
            &Value::from("nurse"),
            &Value::from("Cardiology Ward")
        )
    );
    assert_eq!(
        v["users"][1]["name"],
        Value::Null,
        "no stored name: null, not absent"
    );
    let (_, t) = f
        .get(Role::PrivacyOfficer, "/api/v1/privacy/users/e100")
        .await;
    assert_eq!(t["user"]["name"], "Ann Lee");
    let patients: Vec<(&str, &Value)> = t["accesses"]
        .as_array()
        .expect("accesses")
        .iter()
        .map(|a| (a["patient_id"].as_str().expect("id"), &a["patient_name"]))
        .collect();
    assert_eq!(
        patients,
        [
            ("p1", &Value::from("Bo Lee")),
            ("p2", &Value::from("Cy Ng")),
            ("p2", &Value::from("Cy Ng"))
        ]
    );
    let head = f
        .state
        .read(|s| s.audit_head())
        .await
        .expect("head")
        .expect("entry");
    assert_eq!(head.target, "user:e100");
    assert_eq!(head.details["patient_names"], 2);
    let v = f.state.read(|s| s.verify_audit()).await.expect("verify");
    assert!(v.problem.is_none(), "{v:?}");
}

#[tokio::test]
async fn ranking_paging_and_the_timeline() {
    let f = fx();
    let (s, v) = f.get(Role::Auditor, "/api/v1/privacy/users").await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["user_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["e100", "e300", "e200"], "by highest case score");
    assert_eq!(
        (v["total"].as_u64(), v["next_offset"].as_u64()),
        (Some(3), None)
    );
    let e100 = &v["users"][0];
    assert_eq!(
        (
            e100["cases"].as_u64(),
            e100["accesses"].as_u64(),
            e100["patients"].as_u64()
        ),
        (Some(2), Some(3), Some(2))
    );
    assert_eq!(e100["signals"], serde_json::json!(["family_name"]));
    let (_, v) = f
        .get(Role::Auditor, "/api/v1/privacy/users?limit=1&offset=1")
        .await;
    assert_eq!(v["users"][0]["user_id"], "e300");
    assert_eq!(v["next_offset"], 2);
    let (_, v) = f
        .get(Role::Auditor, "/api/v1/privacy/users?offset=10")
        .await;
    assert_eq!(v["users"], serde_json::json!([]));
    assert_eq!(v["next_offset"], Value::Null);
    let (_, v) = f
        .get(
            Role::Auditor,
            "/api/v1/privacy/users?since=2026-01-01T04:00:00Z",
        )
        .await;
    assert_eq!(v["total"], 2, "e200's only case ended before: {v}");

    let (s, t) = f.get(Role::Admin, "/api/v1/privacy/users/e100").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["user"], serde_json::json!({ "user_id": "e100" }));
    assert_eq!(t["cases"].as_array().map(Vec::len), Some(2));
    let acc = t["accesses"].as_array().expect("accesses");
    assert_eq!(acc.len(), 3);
    let times: Vec<&str> = acc.iter().map(|a| a["time"].as_str().expect("t")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(acc[0]["case"], t["cases"][0]["id"]);
    assert_eq!(acc[2]["case"], t["cases"][1]["id"]);
    assert!(
        acc[0]["reasons"][0]["text"]
            .as_str()
            .expect("text")
            .contains("p1")
    );
    assert_eq!(t["truncated"], false);
    let (_, t) = f
        .get(Role::Admin, "/api/v1/privacy/users/e100?limit=1")
        .await;
    assert_eq!(
        (t["accesses"].as_array().map(Vec::len), &t["truncated"]),
        (Some(1), &Value::Bool(true))
    );
}

#[tokio::test]
async fn unknown_users_and_bad_parameters_are_json_errors() {
    let f = fx();
    let long = format!("/api/v1/privacy/users/{}", "x".repeat(300));
    for uri in [
        "/api/v1/privacy/users/nobody",
        "/api/v1/privacy/users/%27%20OR%201%3D1%20--",
        "/api/v1/privacy/users/E100",
        long.as_str(),
    ] {
        let before = f.audit_len().await;
        let (s, v) = f.get(Role::PrivacyOfficer, uri).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {v}");
        assert_eq!(error_message(&v, "not_found"), "user not found");
        assert_eq!(f.audit_len().await, before, "{uri}: no names, no entry");
    }
    for (uri, param) in [
        ("/api/v1/privacy/users?limit=0", "limit"),
        ("/api/v1/privacy/users?limit=1001", "limit"),
        ("/api/v1/privacy/users?limit=ten", "limit"),
        ("/api/v1/privacy/users?offset=-1", "offset"),
        ("/api/v1/privacy/users?offset=99999999999", "offset"),
        ("/api/v1/privacy/users?since=yesterday", "since"),
        ("/api/v1/privacy/users?limit=1&limit=2", "limit"),
        ("/api/v1/privacy/users?sort=name", "unknown parameter sort"),
        ("/api/v1/privacy/users/e100?limit=0", "limit"),
        ("/api/v1/privacy/users/e100?limit=10001", "limit"),
        (
            "/api/v1/privacy/users/e100?offset=1",
            "unknown parameter offset",
        ),
    ] {
        let (s, v) = f.get(Role::PrivacyOfficer, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        let m = error_message(&v, "bad_request");
        assert!(m.contains(param), "{uri}: {m}");
        assert!(
            !m.contains("yesterday") && !m.contains("ten"),
            "{uri} echoes: {m}"
        );
    }
}

/// Opens the store at `path` read-write, or read-only (every write fails).
fn state_at(path: &Path, writable: bool) -> AppState {
    let store = if writable {
        SqliteStore::open(path)
    } else {
        SqliteStore::open_reader(path)
    };
    AppState::new(Box::new(store.expect("store")))
}

#[tokio::test]
async fn when_the_audit_entry_cannot_be_written_no_name_is_sent() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("w.db");
    let tokens = fill(&mut SqliteStore::open(&path).expect("store"));
    let auth = |role| {
        tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
    };
    // First requests on a writable store record the tokens' use, so the read-only store
    // below does not need to write for authentication.
    let rw = app(state_at(&path, true));
    for role in [Role::PrivacyOfficer, Role::Auditor] {
        let (s, _) = get(&rw, "/api/v1/privacy/users/e100", auth(role)).await;
        assert_eq!(s, StatusCode::OK);
    }
    let ro = app(state_at(&path, false));
    for uri in ["/api/v1/privacy/users/e100", "/api/v1/privacy/users"] {
        let (s, v) = get(&ro, uri, auth(Role::PrivacyOfficer)).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{uri}: {v}");
        error_message(&v, "internal");
        assert_eq!(has_any_name(&v), None, "{uri}: {v}");
        // Without names nothing needs writing: the auditor still reads ids.
        let (s, _) = get(&ro, uri, auth(Role::Auditor)).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
}
