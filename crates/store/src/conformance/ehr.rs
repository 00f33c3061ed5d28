//! Conformance checks of the EHR-snooping case tables (see [`crate::ehr`]).

use super::{audit_len, ok, rec};
use crate::ehr::{
    EhrAccessRecord, EhrCaseRecord, EhrImport, EhrPerson, EhrReason, EhrUserQuery, PersonKind,
};
use crate::{Store, StoreError};
use ward_core::{Alert, EntityId, Evidence, Explanation, Timestamp};

/// 2024-05-01T00:00:00Z.
const DAY0: i64 = 1_714_521_600_000_000;
const HOUR: i64 = 3_600_000_000;

fn alert(user: &str, hour: i64, score: u8) -> Alert {
    Alert::new(
        Timestamp(DAY0 + hour * HOUR),
        "ehr.access",
        score,
        EntityId::new(ward_core::EntityKind::User, user.to_owned()),
        format!("possible inappropriate record access by user {user}"),
        Explanation::default(),
        Evidence::default(),
    )
}

fn reason(code: &str) -> EhrReason {
    EhrReason {
        code: code.to_owned(),
        text: format!("reason {code} about patient ids only."),
        weight: 1.5,
    }
}

/// A case of `user` starting at `hour` with one access per patient, an hour apart.
fn case(
    run: &mut EhrImport,
    user: &str,
    hour: i64,
    score: f64,
    patients: &[&str],
    signals: &[&str],
) {
    let a = alert(user, hour, (score * 10.0) as u8);
    let id = a.id.clone();
    run.alerts.push(a);
    for (k, p) in patients.iter().enumerate() {
        run.accesses.push(EhrAccessRecord {
            case: id.clone(),
            row: (hour as u64) * 100 + k as u64,
            time: Timestamp(DAY0 + (hour + k as i64) * HOUR),
            user_id: user.to_owned(),
            patient_id: (*p).to_owned(),
            action: "view".into(),
            score: score - k as f64,
            link: "unexplained".into(),
            reasons: signals.iter().map(|s| reason(s)).collect(),
        });
    }
    run.cases.push(EhrCaseRecord {
        id,
        user_id: user.to_owned(),
        day: Timestamp(DAY0 + (hour / 24) * 24 * HOUR),
        first: Timestamp(DAY0 + hour * HOUR),
        last: Timestamp(DAY0 + (hour + patients.len() as i64 - 1) * HOUR),
        score,
        patients: patients.len() as u32,
        signals: signals.iter().map(|s| (*s).to_owned()).collect(),
        summary: format!("user {user} opened {} records", patients.len()),
    });
}

fn person(kind: PersonKind, id: &str, name: &str) -> EhrPerson {
    EhrPerson {
        kind,
        id: id.to_owned(),
        name: name.to_owned(),
        role: (kind == PersonKind::User).then(|| "nurse".to_owned()),
        department: (kind == PersonKind::User).then(|| "cardiology".to_owned()),
    }
}

/// Three users: u2 has two cases (scores 2 and 5), u1 one case (score 3), u3 one (score 1).
fn sample_run() -> EhrImport {
    let mut run = EhrImport::default();
    case(&mut run, "u2", 2, 2.0, &["p1", "p2"], &["vip"]);
    case(&mut run, "u1", 5, 3.0, &["p3"], &["family_name"]);
    case(
        &mut run,
        "u2",
        30,
        5.0,
        &["p2", "p4", "p5"],
        &["same_address", "vip"],
    );
    case(&mut run, "u3", 50, 1.0, &["p6"], &["off_hours"]);
    run.people = vec![
        person(PersonKind::User, "u2", "Ann Lee"),
        person(PersonKind::Patient, "p2", "Bo Lee"),
        person(PersonKind::Patient, "p4", "Cy Ng"),
    ];
    run
}

fn users(s: &dyn Store, q: &EhrUserQuery) -> Vec<String> {
    ok(s.ehr_users(q), "ehr users")
        .into_iter()
        .map(|u| u.user_id)
        .collect()
}

fn import_audit() -> crate::AuditRecord {
    rec(1, "cli", "ehr.import", "access.csv")
}

pub(super) fn cases(s: &mut dyn Store) {
    assert!(ok(s.ehr_timeline("u1", 10), "empty timeline").is_none());
    assert_eq!(ok(s.count_ehr_users(&EhrUserQuery::default()), "count"), 0);
    let run = sample_run();
    let before = audit_len(s);
    let n = ok(s.import_ehr(&run, &import_audit()), "import");
    assert_eq!((n.alerts, n.cases, n.accesses, n.people), (4, 4, 7, 3));
    assert_eq!(audit_len(s), before + 1, "one audit entry per import");
    let head = ok(s.audit_head(), "head").expect("an entry");
    assert_eq!(head.action, "ehr.import");
    for a in &run.alerts {
        assert!(
            ok(s.get_alert(&a.id), "alert").is_some(),
            "alerts stored too"
        );
    }

    // Ranked by the highest case score, with totals over all of a user's cases.
    let all = EhrUserQuery::default();
    assert_eq!(users(s, &all), ["u2", "u1", "u3"]);
    assert_eq!(ok(s.count_ehr_users(&all), "count"), 3);
    let page = ok(s.ehr_users(&all), "users");
    let u2 = page.first().expect("u2");
    assert_eq!((u2.cases, u2.accesses, u2.patients), (2, 5, 4));
    assert_eq!(u2.max_score, 5.0);
    assert_eq!(u2.last, Timestamp(DAY0 + 32 * HOUR));
    assert_eq!(u2.signals, ["same_address", "vip"]);
    let q = |since: Option<i64>, limit: u32, offset: u64| EhrUserQuery {
        since: since.map(|h| Timestamp(DAY0 + h * HOUR)),
        limit,
        offset,
    };
    assert_eq!(users(s, &q(None, 1, 1)), ["u1"]);
    assert_eq!(users(s, &q(None, 2, 2)), ["u3"]);
    assert!(users(s, &q(None, 5, 3)).is_empty());
    // `since` keeps cases whose last access is at or after it, and sums over those only.
    let later = q(Some(6), 100, 0);
    assert_eq!(users(s, &later), ["u2", "u3"]);
    assert_eq!(ok(s.count_ehr_users(&later), "count"), 2);
    let u2 = ok(s.ehr_users(&later), "later")
        .into_iter()
        .next()
        .expect("u2");
    assert_eq!((u2.cases, u2.accesses, u2.patients), (1, 3, 3));

    // The timeline: every case, every access in time order with reasons and its case.
    let t = ok(s.ehr_timeline("u2", 100), "timeline").expect("u2 has cases");
    assert_eq!(t.user_id, "u2");
    assert_eq!(t.cases.len(), 2);
    assert!(
        t.cases.first().is_some_and(|c| c.score == 2.0),
        "oldest first"
    );
    let times: Vec<i64> = t.accesses.iter().map(|a| a.time.0).collect();
    assert_eq!(times.len(), 5);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
    assert!(!t.truncated);
    let stored = &run.accesses;
    for a in &t.accesses {
        let want = stored
            .iter()
            .find(|x| x.case == a.case && x.row == a.row)
            .expect("an access of the run");
        assert_eq!(a, want, "round trip");
    }
    assert_eq!(
        t.cases.last().map(|c| c.signals.clone()),
        Some(vec!["same_address".to_owned(), "vip".to_owned()])
    );
    let cut = ok(s.ehr_timeline("u2", 2), "cut").expect("u2");
    assert_eq!(cut.accesses.len(), 2);
    assert!(cut.truncated);
    for hostile in ["", "' OR 1=1 --", "u2%", "U2", "u2\0"] {
        assert!(
            ok(s.ehr_timeline(hostile, 10), "hostile").is_none(),
            "{hostile:?}"
        );
    }

    // Names: only the stored ones, each once.
    let ids = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let p = ok(
        s.ehr_people(PersonKind::Patient, &ids(&["p2", "p9", "p4", "p2", "u2"])),
        "patients",
    );
    let names: Vec<&str> = p.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["Bo Lee", "Cy Ng"]);
    let u = ok(s.ehr_people(PersonKind::User, &ids(&["u2", "p2"])), "users");
    assert_eq!(u.len(), 1);
    assert_eq!(u.first().and_then(|x| x.role.as_deref()), Some("nurse"));

    // A second import of the same run writes nothing new but is audited; names are replaced.
    let mut again = sample_run();
    if let Some(p) = again.people.first_mut() {
        p.name = "Ann Lee-Ng".into();
    }
    let n = ok(s.import_ehr(&again, &import_audit()), "re-import");
    assert_eq!((n.alerts, n.cases, n.accesses), (0, 0, 0));
    assert_eq!(audit_len(s), before + 2);
    let u = ok(s.ehr_people(PersonKind::User, &ids(&["u2"])), "renamed");
    assert_eq!(u.first().map(|x| x.name.as_str()), Some("Ann Lee-Ng"));
    assert_eq!(users(s, &all), ["u2", "u1", "u3"]);
    match s.verify_audit() {
        Ok(v) => assert!(v.problem.is_none(), "{v:?}"),
        Err(e) => panic!("verify: {e}"),
    }
}

pub(super) fn limits(s: &mut dyn Store) {
    let invalid = |s: &mut dyn Store, run: &EhrImport, what: &str| {
        let before = audit_len(s);
        match s.import_ehr(run, &import_audit()) {
            Err(StoreError::InvalidInput(m)) => {
                assert!(!m.contains("Ann"), "{what}: message echoes a name: {m}");
            }
            other => panic!("{what}: expected invalid input, got {other:?}"),
        }
        assert_eq!(audit_len(s), before, "{what}: nothing audited");
        assert_eq!(
            ok(s.count_ehr_users(&EhrUserQuery::default()), "count"),
            0,
            "{what}: nothing written"
        );
        assert!(
            ok(s.query_alerts(&crate::AlertQuery::new()), "alerts").is_empty(),
            "{what}: no alert written"
        );
    };
    let mut run = sample_run();
    run.alerts.pop();
    invalid(s, &run, "case without its alert");
    let mut run = sample_run();
    if let Some(a) = run.accesses.last_mut() {
        a.case = "no-such-case".into();
    }
    invalid(s, &run, "access of an unknown case");
    let mut run = sample_run();
    if let Some(c) = run.cases.first_mut() {
        c.score = f64::NAN;
    }
    invalid(s, &run, "NaN score");
    let mut run = sample_run();
    if let Some(a) = run.accesses.first_mut() {
        a.patient_id = "p".repeat(10_000);
    }
    invalid(s, &run, "overlong patient id");
    let mut run = sample_run();
    if let Some(a) = run.accesses.first_mut() {
        a.reasons = (0..1000).map(|_| reason("vip")).collect();
    }
    invalid(s, &run, "too many reasons");
    let mut run = sample_run();
    if let Some(p) = run.people.first_mut() {
        p.name = "Ann ".repeat(5_000);
    }
    invalid(s, &run, "overlong name");

    for (limit, offset) in [(0, 0), (1_001, 0), (10, u64::MAX)] {
        let q = EhrUserQuery {
            since: None,
            limit,
            offset,
        };
        assert!(
            matches!(s.ehr_users(&q), Err(StoreError::InvalidQuery(_))),
            "limit {limit} offset {offset}"
        );
    }
    for limit in [0, crate::ehr::MAX_EHR_TIMELINE + 1] {
        assert!(matches!(
            s.ehr_timeline("u1", limit),
            Err(StoreError::InvalidQuery(_))
        ));
    }
    let many: Vec<String> = (0..=crate::ehr::MAX_EHR_LOOKUP)
        .map(|i| i.to_string())
        .collect();
    assert!(matches!(
        s.ehr_people(PersonKind::User, &many),
        Err(StoreError::InvalidQuery(_))
    ));
    // An empty run is fine and still audited.
    let before = audit_len(s);
    let n = ok(
        s.import_ehr(&EhrImport::default(), &import_audit()),
        "empty",
    );
    assert_eq!(n, crate::ehr::EhrImportCounts::default());
    assert_eq!(audit_len(s), before + 1);
}
