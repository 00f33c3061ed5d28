//! The behaviour every [`Store`] backend must have, as one reusable test suite.
//!
//! Call [`run`] from a backend's tests with a factory that returns a fresh, empty store each
//! time. Query results are checked against a small in-memory reference model, so a new filter
//! or sort needs one new case in [`QUERY_CASES`]-style tables, not new plumbing. This module
//! panics on failure (it is test code); it does no IO itself.

use crate::audit::{GENESIS_HASH, MAX_AUDIT_PAGE, MAX_DETAILS_LEN};
use crate::{
    AlertCursor, AlertQuery, AlertSort, AlertState, AlertStatus, DeviceRecord, MAX_LIMIT, Store,
    StoreError,
};
use std::collections::{BTreeMap, HashSet};

mod ehr;
mod respond;
use ward_core::{
    Alert, Contribution, EntityId, EventId, Evidence, Explanation, Severity, Timestamp,
};

/// Base event time of the generated alerts (2024-05-01T00:00:00Z).
const BASE: i64 = 1_714_521_600_000_000;
const DETECTORS: [&str; 3] = ["net.device", "net.anomaly", "ehr.access"];
const TOPICS: [&str; 3] = ["port scan", "DICOM", "login"];

/// One named check of the suite.
type Check = (&'static str, fn(&mut dyn Store));

/// Runs every check, each on a fresh store from `make`.
pub fn run(make: impl Fn() -> Box<dyn Store>) {
    let checks: &[Check] = &[
        ("empty store", empty_store),
        ("round trip", round_trip),
        ("idempotent inserts", idempotent_inserts),
        ("bad batch is all or nothing", bad_batch_is_atomic),
        ("filters and sorts match the reference", filters_and_sorts),
        ("pagination with cursor and offset", pagination),
        (
            "cursor pages are stable under inserts",
            cursor_stable_under_inserts,
        ),
        ("limits", limits),
        ("hostile filter values", hostile_filters),
        ("batch of 10,000", big_batch),
        ("alert workflow state", workflow_state),
        ("devices", devices),
        ("audit trail", audit_trail),
        ("audit input limits", audit_limits),
        ("users", users),
        ("api tokens", tokens),
        ("audited alert state", audited_state),
        ("sessions", sessions),
        ("cases", cases),
        ("alert statistics", stats),
        ("raw pages and generations", raw_pages),
        ("ehr cases, timelines and names", ehr::cases),
        ("ehr input limits", ehr::limits),
        ("response queue", respond::queue),
        ("response approvals", respond::approvals),
        ("response input limits", respond::limits),
        ("following new alerts", respond::follow),
    ];
    for (name, check) in checks {
        let mut store = make();
        // Name the failing check in the panic output.
        eprintln!("conformance: {name}");
        check(store.as_mut());
    }
}

/// A deterministic alert `i` of a generated data set: times repeat (ties break by id), scores,
/// detectors, entities and titles vary.
pub fn sample_alert(i: u64) -> Alert {
    let time = Timestamp(BASE + ((i * 7_919) % 50) as i64 * 1_000_000);
    let score = ((i * 37) % 101) as u8;
    let idx = (i % 3) as usize;
    let detector = DETECTORS.get(idx).copied().unwrap_or("net.device");
    let topic = TOPICS.get(idx).copied().unwrap_or("scan");
    Alert::new(
        time,
        detector,
        score,
        EntityId::host(format!("10.0.0.{}", i % 5)),
        format!("alert {i} about {topic}"),
        Explanation {
            summary: format!("Generated alert number {i}."),
            contributions: vec![Contribution {
                feature: "i".into(),
                value: i.to_string(),
                weight: i as f64 / 7.0,
            }],
            rules: vec![],
        },
        Evidence {
            events: vec![EventId {
                source: "conformance".into(),
                line: i,
            }],
            uids: vec![format!("C{i}")],
        },
    )
    .with_mitre(&["T1046"])
}

fn dataset(n: u64) -> Vec<Alert> {
    let mut v: Vec<Alert> = (0..n).map(sample_alert).collect();
    // A detector-set severity above its score band, and wildcard characters in a title.
    let mut odd = sample_alert(n);
    odd.severity = Severity::High;
    odd.score = 5;
    odd.title = "100%_done \\ odd one, ünïcödé ✓".into();
    v.push(odd);
    v
}

fn ok<T>(r: Result<T, StoreError>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error: {e}"),
    }
}

fn ids(v: &[Alert]) -> Vec<&str> {
    v.iter().map(|a| a.id.as_str()).collect()
}

/// The reference model: what a query must return, computed in memory.
fn reference(
    all: &[Alert],
    states: &BTreeMap<String, AlertStatus>,
    q: &AlertQuery,
    paged: bool,
) -> Vec<Alert> {
    let lower = |s: &str| s.to_ascii_lowercase();
    let mut v: Vec<Alert> = all
        .iter()
        .filter(|a| q.from.is_none_or(|t| a.time >= t))
        .filter(|a| q.to.is_none_or(|t| a.time < t))
        .filter(|a| q.min_severity.is_none_or(|s| a.severity >= s))
        .filter(|a| q.entity.as_ref().is_none_or(|e| a.entity.to_string() == *e))
        .filter(|a| q.detector.as_ref().is_none_or(|d| a.detector == *d))
        .filter(|a| {
            q.text
                .as_ref()
                .is_none_or(|t| lower(&a.title).contains(&lower(t)))
        })
        .filter(|a| {
            q.status
                .is_none_or(|s| states.get(&a.id).copied().unwrap_or_default() == s)
        })
        .cloned()
        .collect();
    let key = |a: &Alert| (a.score, a.time, a.id.clone());
    match q.sort {
        AlertSort::TimeDesc => v.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id))),
        AlertSort::TimeAsc => v.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id))),
        AlertSort::ScoreDesc => v.sort_by_key(|a| std::cmp::Reverse(key(a))),
    }
    if !paged {
        return v;
    }
    if let Some(c) = &q.after {
        v.retain(|a| match q.sort {
            AlertSort::TimeDesc => (a.time, a.id.as_str()) < (c.time, c.id.as_str()),
            AlertSort::TimeAsc => (a.time, a.id.as_str()) > (c.time, c.id.as_str()),
            AlertSort::ScoreDesc => {
                (a.score, a.time, a.id.as_str()) < (c.score, c.time, c.id.as_str())
            }
        });
    }
    let limit = q.limit.unwrap_or(crate::DEFAULT_LIMIT) as usize;
    v.into_iter().skip(q.offset as usize).take(limit).collect()
}

fn empty_store(s: &mut dyn Store) {
    assert!(ok(s.query_alerts(&AlertQuery::new()), "query").is_empty());
    assert_eq!(ok(s.count_alerts(&AlertQuery::new()), "count"), 0);
    assert!(ok(s.get_alert("al_missing"), "get").is_none());
    assert!(ok(s.alert_state("al_missing"), "state").is_none());
    assert!(!ok(
        s.set_alert_state("al_missing", &AlertState::default()),
        "set state"
    ));
    assert!(ok(s.list_devices(), "devices").is_empty());
    assert!(ok(s.get_device("10.0.0.1"), "device").is_none());
    assert_eq!(ok(s.insert_alerts(&[]), "empty insert"), 0);
    assert_eq!(ok(s.upsert_devices(&[]), "empty upsert"), 0);
}

fn round_trip(s: &mut dyn Store) {
    let all = dataset(20);
    assert_eq!(ok(s.insert_alerts(&all), "insert"), all.len());
    for a in &all {
        let got = ok(s.get_alert(&a.id), "get");
        assert_eq!(
            got.as_ref(),
            Some(a),
            "alert {} must come back unchanged",
            a.id
        );
        assert_eq!(
            ok(s.alert_state(&a.id), "state"),
            Some(AlertState::default()),
            "new alerts are open"
        );
    }
}

fn idempotent_inserts(s: &mut dyn Store) {
    let all = dataset(30);
    assert_eq!(ok(s.insert_alerts(&all), "first insert"), all.len());
    assert_eq!(
        ok(s.insert_alerts(&all), "second insert"),
        0,
        "re-inserting the same ids stores nothing"
    );
    // A changed alert with a known id keeps the first content; duplicates inside one batch count once.
    let mut changed = all.clone();
    if let Some(first) = changed.first_mut() {
        first.title = "changed".into();
    }
    let fresh = sample_alert(10_000);
    changed.push(fresh.clone());
    changed.push(fresh.clone());
    assert_eq!(ok(s.insert_alerts(&changed), "third insert"), 1);
    assert_eq!(
        ok(s.count_alerts(&AlertQuery::new()), "count"),
        all.len() as u64 + 1
    );
    if let Some(first) = all.first() {
        assert_eq!(
            ok(s.get_alert(&first.id), "get").map(|a| a.title),
            Some(first.title.clone())
        );
        // Workflow state survives a re-insert.
        let st = AlertState {
            status: AlertStatus::Closed,
            assignee: Some("team-a".into()),
        };
        assert!(ok(s.set_alert_state(&first.id, &st), "set"));
        ok(s.insert_alerts(std::slice::from_ref(first)), "re-insert");
        assert_eq!(ok(s.alert_state(&first.id), "state"), Some(st));
    }
}

fn bad_batch_is_atomic(s: &mut dyn Store) {
    let mut batch = dataset(5);
    let mut bad = sample_alert(99);
    bad.id = String::new();
    batch.push(bad);
    match s.insert_alerts(&batch) {
        Err(StoreError::InvalidInput(msg)) => assert!(msg.contains("id"), "{msg}"),
        other => panic!("empty id must be rejected as invalid input, got {other:?}"),
    }
    assert_eq!(
        ok(s.count_alerts(&AlertQuery::new()), "count"),
        0,
        "nothing from a rejected batch is stored"
    );
    let mut long = sample_alert(1);
    long.id = "x".repeat(10_000);
    assert!(matches!(
        s.insert_alerts(&[long]),
        Err(StoreError::InvalidInput(_))
    ));
}

/// Filter cases, each run with every sort order.
fn filter_cases() -> Vec<(&'static str, AlertQuery)> {
    let t = |secs: i64| Timestamp(BASE + secs * 1_000_000);
    vec![
        ("everything", AlertQuery::new().limit(MAX_LIMIT)),
        ("default page", AlertQuery::new()),
        (
            "time range",
            AlertQuery::new().from(t(10)).to(t(20)).limit(1000),
        ),
        (
            "from only, inclusive",
            AlertQuery::new().from(t(49)).limit(1000),
        ),
        ("to only, exclusive", AlertQuery::new().to(t(1)).limit(1000)),
        (
            "empty range",
            AlertQuery::new().from(t(20)).to(t(20)).limit(1000),
        ),
        (
            "min severity high",
            AlertQuery::new().min_severity(Severity::High).limit(1000),
        ),
        (
            "min severity info",
            AlertQuery::new().min_severity(Severity::Info).limit(1000),
        ),
        (
            "entity",
            AlertQuery::new().entity("host:10.0.0.3").limit(1000),
        ),
        (
            "unknown entity",
            AlertQuery::new().entity("host:10.9.9.9").limit(1000),
        ),
        (
            "detector",
            AlertQuery::new().detector("net.device").limit(1000),
        ),
        (
            "text, any case",
            AlertQuery::new().text("dicom").limit(1000),
        ),
        (
            "text prefix-like",
            AlertQuery::new().text("alert 1").limit(1000),
        ),
        (
            "text unicode",
            AlertQuery::new().text("ünïcödé ✓").limit(1000),
        ),
        (
            "text percent is literal",
            AlertQuery::new().text("%").limit(1000),
        ),
        (
            "text underscore is literal",
            AlertQuery::new().text("_").limit(1000),
        ),
        (
            "text backslash is literal",
            AlertQuery::new().text("\\").limit(1000),
        ),
        (
            "empty text matches all",
            AlertQuery::new().text("").limit(1000),
        ),
        (
            "combined",
            AlertQuery::new()
                .detector("net.anomaly")
                .min_severity(Severity::Medium)
                .from(t(5))
                .to(t(45))
                .text("alert")
                .limit(1000),
        ),
        (
            "status open",
            AlertQuery::new().status(AlertStatus::Open).limit(1000),
        ),
        (
            "status closed",
            AlertQuery::new().status(AlertStatus::Closed).limit(1000),
        ),
        (
            "status acknowledged + entity",
            AlertQuery::new()
                .status(AlertStatus::Acknowledged)
                .entity("host:10.0.0.1")
                .limit(1000),
        ),
        ("offset", AlertQuery::new().offset(17).limit(9)),
        ("offset past the end", AlertQuery::new().offset(100_000)),
    ]
}

fn filters_and_sorts(s: &mut dyn Store) {
    let all = dataset(300);
    ok(s.insert_alerts(&all), "insert");
    let mut states = BTreeMap::new();
    for (i, a) in all.iter().enumerate() {
        let status = match i % 4 {
            0 => AlertStatus::Closed,
            1 => AlertStatus::Acknowledged,
            _ => continue,
        };
        assert!(ok(
            s.set_alert_state(
                &a.id,
                &AlertState {
                    status,
                    assignee: None
                }
            ),
            "set state"
        ));
        states.insert(a.id.clone(), status);
    }
    for (name, q) in filter_cases() {
        for sort in [
            AlertSort::TimeDesc,
            AlertSort::TimeAsc,
            AlertSort::ScoreDesc,
        ] {
            let q = q.clone().sort(sort);
            let want = reference(&all, &states, &q, true);
            let got = ok(s.query_alerts(&q), name);
            assert_eq!(ids(&got), ids(&want), "query {name:?} sorted {sort:?}");
            let count = ok(s.count_alerts(&q), name);
            assert_eq!(
                count,
                reference(&all, &states, &q, false).len() as u64,
                "count for {name:?}"
            );
        }
    }
    // Sanity checks on the reference itself, so the suite cannot pass vacuously.
    let n = |q: AlertQuery| reference(&all, &states, &q, false).len();
    assert_eq!(n(AlertQuery::new().text("%")), 1);
    assert!(n(AlertQuery::new().text("dicom")) > 50);
    assert!(n(AlertQuery::new().min_severity(Severity::High)) > 50);
}

fn walk(s: &dyn Store, base: &AlertQuery, page: u32, by_cursor: bool) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for _ in 0..10_000 {
        let mut q = base.clone().limit(page);
        if by_cursor {
            q.after = out.last().map(AlertCursor::after);
        } else {
            q.offset = out.len() as u64;
        }
        let got = ok(s.query_alerts(&q), "page");
        let done = got.len() < page as usize;
        out.extend(got);
        if done {
            return out;
        }
    }
    panic!("pagination did not terminate");
}

fn pagination(s: &mut dyn Store) {
    let all = dataset(250);
    ok(s.insert_alerts(&all), "insert");
    let states = BTreeMap::new();
    for base in [
        AlertQuery::new(),
        AlertQuery::new().min_severity(Severity::Medium),
        AlertQuery::new().text("login"),
    ] {
        for sort in [
            AlertSort::TimeDesc,
            AlertSort::TimeAsc,
            AlertSort::ScoreDesc,
        ] {
            let base = base.clone().sort(sort);
            let want = reference(&all, &states, &base.clone().limit(MAX_LIMIT), true);
            for page in [1, 7, 100, 1000] {
                for by_cursor in [true, false] {
                    let got = walk(s, &base, page, by_cursor);
                    assert_eq!(
                        ids(&got),
                        ids(&want),
                        "{sort:?} page {page} cursor {by_cursor}"
                    );
                    let unique: HashSet<&str> = ids(&got).into_iter().collect();
                    assert_eq!(unique.len(), got.len(), "no alert appears twice");
                }
            }
        }
    }
    // The cursor's text form works as well as the struct.
    let first = ok(s.query_alerts(&AlertQuery::new().limit(3)), "page 1");
    if let Some(last) = first.last() {
        let c: AlertCursor = match AlertCursor::after(last).to_string().parse() {
            Ok(c) => c,
            Err(e) => panic!("cursor text: {e}"),
        };
        let next = ok(
            s.query_alerts(&AlertQuery::new().limit(3).after(c)),
            "page 2",
        );
        let want = ok(
            s.query_alerts(&AlertQuery::new().limit(3).offset(3)),
            "offset page 2",
        );
        assert_eq!(ids(&next), ids(&want));
    }
}

fn cursor_stable_under_inserts(s: &mut dyn Store) {
    let all = dataset(100);
    ok(s.insert_alerts(&all), "insert");
    let q = AlertQuery::new().limit(10);
    let page1 = ok(s.query_alerts(&q), "page 1");
    let full = ok(s.query_alerts(&AlertQuery::new().limit(MAX_LIMIT)), "all");
    // New alerts newer than everything arrive between page requests.
    let newer: Vec<Alert> = (1000..1020)
        .map(|i| {
            let mut a = sample_alert(i);
            a.time = Timestamp(BASE + 3_600_000_000);
            a
        })
        .collect();
    ok(s.insert_alerts(&newer), "insert newer");
    let mut rest = Vec::new();
    let mut cursor = page1.last().map(AlertCursor::after);
    while let Some(c) = cursor {
        let page = ok(s.query_alerts(&q.clone().after(c)), "next page");
        cursor = page.last().map(AlertCursor::after);
        rest.extend(page);
    }
    let walked: Vec<&str> = ids(&page1).into_iter().chain(ids(&rest)).collect();
    assert_eq!(
        walked,
        ids(&full),
        "a cursor walk sees exactly the alerts that existed when it started, in order"
    );
}

fn limits(s: &mut dyn Store) {
    ok(s.insert_alerts(&dataset(3)), "insert");
    for bad in [0, MAX_LIMIT + 1, u32::MAX] {
        match s.query_alerts(&AlertQuery::new().limit(bad)) {
            Err(StoreError::InvalidQuery(msg)) => assert!(msg.contains("limit"), "{msg}"),
            other => panic!("limit {bad} must be rejected, got {other:?}"),
        }
    }
    assert_eq!(
        ok(s.query_alerts(&AlertQuery::new().limit(MAX_LIMIT)), "max").len(),
        4
    );
    let long = "a".repeat(crate::MAX_TEXT_LEN + 1);
    assert!(matches!(
        s.query_alerts(&AlertQuery::new().text(long.clone())),
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        s.count_alerts(&AlertQuery::new().entity(long)),
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(matches!(
        s.query_alerts(&AlertQuery::new().offset(u64::MAX)),
        Err(StoreError::InvalidQuery(_))
    ));
}

/// Strings that would do harm if spliced into SQL.
pub const HOSTILE: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1 --",
    "\" OR \"\"=\"",
    "'; DROP TABLE alerts; --",
    "x'); DELETE FROM alerts; --",
    "%' OR title LIKE '%",
    "host:10.0.0.1' --",
    "\0",
    "' UNION SELECT id, body FROM alerts --",
    "*/ OR /*",
    "🙂' OR ''='",
];

fn hostile_filters(s: &mut dyn Store) {
    let all = dataset(50);
    ok(s.insert_alerts(&all), "insert");
    ok(
        s.upsert_devices(&[DeviceRecord::new(
            "10.0.0.1",
            "unknown",
            "unknown",
            Timestamp(BASE),
        )]),
        "device",
    );
    for h in HOSTILE {
        for q in [
            AlertQuery::new().text(*h),
            AlertQuery::new().entity(*h),
            AlertQuery::new().detector(*h),
            AlertQuery::new().entity(format!("host:{h}")),
        ] {
            assert!(
                ok(s.query_alerts(&q), h).is_empty(),
                "{h:?} must match nothing"
            );
            assert_eq!(ok(s.count_alerts(&q), h), 0, "{h:?} must count nothing");
        }
        assert!(ok(s.get_alert(h), h).is_none());
        assert!(ok(s.get_device(h), h).is_none());
        assert!(!ok(s.set_alert_state(h, &AlertState::default()), h));
    }
    assert_eq!(
        ok(s.count_alerts(&AlertQuery::new()), "count"),
        all.len() as u64,
        "no alert was harmed"
    );
    assert_eq!(
        ok(s.list_devices(), "devices").len(),
        1,
        "no device was harmed"
    );
    // Hostile text stored as data comes back as data.
    let mut a = sample_alert(777);
    a.title = HOSTILE.join(" | ");
    a.id = "al_'; DROP TABLE alerts; --".into();
    ok(s.insert_alerts(std::slice::from_ref(&a)), "insert hostile");
    assert_eq!(ok(s.get_alert(&a.id), "get hostile"), Some(a.clone()));
    let found = ok(
        s.query_alerts(&AlertQuery::new().text("DROP TABLE")),
        "search hostile",
    );
    assert_eq!(ids(&found), vec![a.id.as_str()]);
}

fn big_batch(s: &mut dyn Store) {
    let all: Vec<Alert> = (0..10_000).map(sample_alert).collect();
    assert_eq!(ok(s.insert_alerts(&all), "insert"), 10_000);
    assert_eq!(ok(s.count_alerts(&AlertQuery::new()), "count"), 10_000);
    let got = ok(
        s.query_alerts(&AlertQuery::new().sort(AlertSort::TimeAsc).limit(MAX_LIMIT)),
        "query",
    );
    assert_eq!(got.len(), 10_000);
    assert!(got.windows(2).all(|w| match w {
        [a, b] => (a.time, &a.id) < (b.time, &b.id),
        _ => true,
    }));
    assert_eq!(ok(s.insert_alerts(&all), "re-insert"), 0);
}

fn workflow_state(s: &mut dyn Store) {
    let all = dataset(4);
    ok(s.insert_alerts(&all), "insert");
    let Some(a) = all.first() else { return };
    let st = AlertState {
        status: AlertStatus::Acknowledged,
        assignee: Some("soc-oncall".into()),
    };
    assert!(ok(s.set_alert_state(&a.id, &st), "set"));
    assert_eq!(ok(s.alert_state(&a.id), "get"), Some(st));
    let closed = AlertState {
        status: AlertStatus::Closed,
        assignee: None,
    };
    assert!(ok(s.set_alert_state(&a.id, &closed), "close"));
    assert_eq!(ok(s.alert_state(&a.id), "get"), Some(closed));
    assert_eq!(
        ok(
            s.count_alerts(&AlertQuery::new().status(AlertStatus::Closed)),
            "closed"
        ),
        1
    );
    assert_eq!(
        ok(
            s.count_alerts(&AlertQuery::new().status(AlertStatus::Open)),
            "open"
        ),
        all.len() as u64 - 1
    );
    let long = AlertState {
        status: AlertStatus::Open,
        assignee: Some("x".repeat(crate::MAX_ASSIGNEE_LEN + 1)),
    };
    assert!(matches!(
        s.set_alert_state(&a.id, &long),
        Err(StoreError::InvalidInput(_))
    ));
    // The alert itself is immutable.
    assert_eq!(ok(s.get_alert(&a.id), "alert"), Some(a.clone()));
}

fn devices(s: &mut dyn Store) {
    let t = |secs: i64| Timestamp(BASE + secs * 1_000_000);
    let mut ct = DeviceRecord::new("10.3.0.5", "dicom_modality_or_pacs", "clinical", t(100));
    ct.role_reasons = vec!["serves DICOM on port 104".into()];
    ct.server_protocols = vec!["dicom".into()];
    ct.peers = 3;
    ct.extra
        .insert("future_field".into(), serde_json::json!({"kept": true}));
    let pump = DeviceRecord::new("10.20.0.9", "infusion_pump", "life_sustaining", t(50));
    let v6 = DeviceRecord::new("fe80::1", "unknown", "unknown", t(1));
    assert_eq!(
        ok(
            s.upsert_devices(&[ct.clone(), pump.clone(), v6.clone()]),
            "upsert"
        ),
        3
    );
    let listed = ok(s.list_devices(), "list");
    let addrs: Vec<&str> = listed.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(
        addrs,
        vec!["10.20.0.9", "10.3.0.5", "fe80::1"],
        "ordered by address text"
    );
    assert_eq!(
        ok(s.get_device("10.3.0.5"), "get"),
        Some(ct.clone()),
        "unknown fields survive"
    );

    // A later snapshot replaces the record but keeps the earliest first_seen.
    let mut later = ct.clone();
    later.first_seen = t(500);
    later.last_seen = t(900);
    later.peers = 7;
    ok(s.upsert_devices(&[later.clone()]), "upsert later");
    let got = ok(s.get_device("10.3.0.5"), "get later");
    let mut want = later.clone();
    want.first_seen = t(100);
    assert_eq!(got, Some(want));
    // An earlier first_seen wins.
    let mut earlier = later.clone();
    earlier.first_seen = t(10);
    ok(s.upsert_devices(&[earlier.clone()]), "upsert earlier");
    assert_eq!(
        ok(s.get_device("10.3.0.5"), "get earlier").map(|d| d.first_seen),
        Some(t(10))
    );
    assert_eq!(ok(s.list_devices(), "list").len(), 3);

    let bad = DeviceRecord::new("", "unknown", "unknown", t(1));
    assert!(matches!(
        s.upsert_devices(&[pump, bad]),
        Err(StoreError::InvalidInput(_))
    ));
}

/// A deterministic audit action `i`: actors, actions, targets and details vary; details keys
/// are written out of order to check that the hash does not depend on key order.
fn audit_input(
    i: u64,
) -> (
    Timestamp,
    &'static str,
    &'static str,
    String,
    serde_json::Value,
) {
    let actors = ["alice", "system", "cli", "bob"];
    let actions = ["alert.acknowledge", "signin.ok", "user.add", "export"];
    let idx = (i % 4) as usize;
    (
        Timestamp(BASE + i as i64 * 1_000),
        actors.get(idx).copied().unwrap_or("system"),
        actions.get(idx).copied().unwrap_or("export"),
        if i.is_multiple_of(5) {
            String::new()
        } else {
            format!("al_{i}")
        },
        serde_json::json!({"z": i, "a": {"y": [1.5, null, "ünï ✓"], "b": i.is_multiple_of(2)}}),
    )
}

fn audit_trail(s: &mut dyn Store) {
    assert!(ok(s.list_audit(1, 100), "list empty").is_empty());
    assert!(ok(s.audit_head(), "head empty").is_none());
    let empty = ok(s.verify_audit(), "verify empty");
    assert!(
        empty.is_intact() && empty.entries == 0 && empty.head.is_none(),
        "{empty:?}"
    );

    let mut appended = Vec::new();
    for i in 0..300 {
        let (time, actor, action, target, details) = audit_input(i);
        let e = ok(
            s.append_audit(time, actor, action, &target, &details),
            "append",
        );
        assert_eq!(e.seq, i + 1, "seq counts from 1 without gaps");
        let prev = appended
            .last()
            .map_or(GENESIS_HASH, |p: &crate::AuditEntry| p.hash.as_str());
        assert_eq!(e.prev_hash, prev, "entry {} links to the one before", e.seq);
        assert_eq!(e.computed_hash().ok().as_ref(), Some(&e.hash));
        assert_eq!(
            (e.time, e.actor.as_str(), e.target.as_str()),
            (time, actor, target.as_str())
        );
        assert_eq!(e.details, details);
        appended.push(e);
    }
    let mut listed = Vec::new();
    let mut from = 1;
    loop {
        let page = ok(s.list_audit(from, 64), "list page");
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        assert!(page.len() <= 64);
        listed.extend(page);
    }
    assert_eq!(
        listed, appended,
        "entries come back unchanged, in seq order"
    );
    let mid = ok(s.list_audit(101, 10), "list from 101");
    assert_eq!(
        mid.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (101..=110).collect::<Vec<_>>()
    );
    assert!(ok(s.list_audit(301, 10), "past the end").is_empty());
    assert!(ok(s.list_audit(u64::MAX, 10), "far past the end").is_empty());
    assert_eq!(ok(s.audit_head(), "head").as_ref(), appended.last());

    let v = ok(s.verify_audit(), "verify");
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.entries, 300);
    assert_eq!(v.head.as_ref(), appended.last().map(|e| &e.hash));

    // Audit entries and alerts live side by side.
    ok(s.insert_alerts(&dataset(3)), "insert alerts");
    let e = ok(
        s.append_audit(
            Timestamp(BASE),
            "alice",
            "alert.close",
            "x",
            &serde_json::Value::Null,
        ),
        "append after alerts",
    );
    assert_eq!(e.seq, 301);
    assert_eq!(ok(s.verify_audit(), "verify again").entries, 301);
}

fn audit_limits(s: &mut dyn Store) {
    let t = Timestamp(BASE);
    let null = serde_json::Value::Null;
    let secret = "Jane Roe MRN 12345";
    let bad: Vec<(&str, String, String, String, serde_json::Value)> = vec![
        (
            "empty actor",
            String::new(),
            "a".into(),
            String::new(),
            null.clone(),
        ),
        (
            "empty action",
            "cli".into(),
            String::new(),
            String::new(),
            null.clone(),
        ),
        (
            "long actor",
            "x".repeat(10_000),
            "a".into(),
            String::new(),
            null.clone(),
        ),
        (
            "long target",
            "cli".into(),
            "a".into(),
            "t".repeat(10_000),
            null.clone(),
        ),
        (
            "huge details",
            "cli".into(),
            "export".into(),
            String::new(),
            serde_json::json!({"note": secret.repeat(MAX_DETAILS_LEN / secret.len() + 1)}),
        ),
        (
            "deep details",
            "cli".into(),
            "export".into(),
            String::new(),
            (0..100).fold(serde_json::json!(secret), |v, _| serde_json::json!([v])),
        ),
    ];
    for (what, actor, action, target, details) in &bad {
        match s.append_audit(t, actor, action, target, details) {
            Err(StoreError::InvalidInput(msg)) => {
                assert!(
                    !msg.contains("Jane"),
                    "{what}: the message echoes the details: {msg}"
                );
                assert!(msg.contains("audit"), "{what}: {msg}");
            }
            other => panic!("{what}: expected invalid input, got {other:?}"),
        }
    }
    assert!(
        ok(s.audit_head(), "head").is_none(),
        "nothing rejected was stored"
    );
    for limit in [0, MAX_AUDIT_PAGE + 1, u32::MAX] {
        assert!(
            matches!(s.list_audit(1, limit), Err(StoreError::InvalidQuery(_))),
            "limit {limit}"
        );
    }
    // Just under the limit is fine, and comes back intact.
    let big = serde_json::json!("x".repeat(MAX_DETAILS_LEN - 100));
    let e = ok(
        s.append_audit(t, "cli", "export", "", &big),
        "large details",
    );
    assert_eq!(ok(s.list_audit(1, 1), "list"), vec![e]);
    assert!(ok(s.verify_audit(), "verify").is_intact());
}

fn users(s: &mut dyn Store) {
    use crate::auth::{Role, hash_password, verify_password};
    let t = Timestamp(BASE);
    assert!(ok(s.list_users(), "list empty").is_empty());
    assert!(ok(s.get_user("alice"), "get missing").is_none());
    assert!(ok(s.password_hash("alice"), "hash missing").is_none());
    let h1 = ok(
        hash_password("first password").map_err(|e| StoreError::InvalidInput(e.to_string())),
        "hash",
    );
    let h2 = ok(
        hash_password("second password").map_err(|e| StoreError::InvalidInput(e.to_string())),
        "hash",
    );
    assert!(!ok(s.set_password("alice", &h1), "set missing"));
    assert!(!ok(s.set_user_disabled("alice", true), "disable missing"));

    for (i, role) in Role::ALL.into_iter().enumerate() {
        let name = format!("user{i}.{role}");
        let u = ok(s.add_user(&name, role, &h1, t), "add");
        assert_eq!(
            (u.name.as_str(), u.role, u.created, u.disabled),
            (name.as_str(), role, t, false)
        );
        assert_eq!(ok(s.get_user(&name), "get"), Some(u));
    }
    let alice = ok(s.add_user("alice", Role::Analyst, &h1, t), "add alice");
    match s.add_user("alice", Role::Admin, &h2, t) {
        Err(e @ StoreError::AlreadyExists(_)) => {
            assert_eq!(e.to_string(), "user alice already exists")
        }
        other => panic!("a duplicate user must be refused, got {other:?}"),
    }
    assert_eq!(ok(s.get_user("alice"), "unchanged"), Some(alice.clone()));
    let names: Vec<String> = ok(s.list_users(), "list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by name");
    assert_eq!(names.len(), Role::ALL.len() + 1);

    let stored = ok(s.password_hash("alice"), "hash").unwrap_or_default();
    assert!(verify_password("first password", &stored));
    assert!(ok(s.set_password("alice", &h2), "set"));
    let stored = ok(s.password_hash("alice"), "hash").unwrap_or_default();
    assert!(
        verify_password("second password", &stored) && !verify_password("first password", &stored)
    );

    assert!(ok(s.set_user_disabled("alice", true), "disable"));
    assert_eq!(
        ok(s.get_user("alice"), "get").map(|u| u.disabled),
        Some(true)
    );
    assert!(ok(s.set_user_disabled("alice", false), "enable"));
    assert_eq!(
        ok(s.get_user("alice"), "get").map(|u| u.disabled),
        Some(false)
    );

    // Refused input, with messages that never echo a password.
    let long_name = "a".repeat(1000);
    let bad: Vec<(&str, &str, String)> = vec![
        ("empty name", "", h1.clone()),
        ("upper case", "Alice", h1.clone()),
        ("injection", "x' OR '1'='1", h1.clone()),
        ("long name", long_name.as_str(), h1.clone()),
        ("plaintext password", "carol", "hunter2hunter2".into()),
        (
            "other algorithm",
            "carol",
            "$2b$12$abcdefghijklmnopqrstuv".into(),
        ),
    ];
    for (what, name, hash) in &bad {
        match s.add_user(name, Role::Viewer, hash, t) {
            Err(StoreError::InvalidInput(msg)) => {
                assert!(!msg.contains("hunter2"), "{what}: {msg}")
            }
            other => panic!("{what}: expected invalid input, got {other:?}"),
        }
    }
    assert!(matches!(
        s.set_password("alice", "hunter2hunter2"),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(ok(s.get_user("carol"), "get").is_none());
}

fn tokens(s: &mut dyn Store) {
    use crate::auth::{Role, hash_password, new_token, token_hash};
    let t = Timestamp(BASE);
    let h = ok(
        hash_password("a password").map_err(|e| StoreError::InvalidInput(e.to_string())),
        "hash",
    );
    let mk = || {
        ok(
            new_token().map_err(|e| StoreError::InvalidInput(e.to_string())),
            "token",
        )
    };
    assert!(
        ok(
            s.find_user_by_token_hash(&token_hash("ward_nothing")),
            "find"
        )
        .is_none()
    );
    assert!(!ok(s.revoke_token(1), "revoke missing"));
    assert!(!ok(s.revoke_token(u64::MAX), "revoke huge"));
    assert!(!ok(s.touch_token(1, t), "touch missing"));
    assert!(ok(s.list_tokens("alice"), "list").is_empty());

    let (_, orphan) = mk();
    match s.add_token("nobody", &orphan, t) {
        Err(e @ StoreError::NotFound(_)) => assert_eq!(e.to_string(), "user nobody does not exist"),
        other => panic!("a token for an unknown user must be refused, got {other:?}"),
    }
    let alice = ok(s.add_user("alice", Role::Analyst, &h, t), "add alice");
    ok(s.add_user("bob", Role::Viewer, &h, t), "add bob");
    let (tok1, hash1) = mk();
    let (_, hash2) = mk();
    let (_, hash3) = mk();
    assert!(
        matches!(s.add_token("alice", &tok1, t), Err(StoreError::InvalidInput(m)) if !m.contains(&tok1))
    );
    let a1 = ok(s.add_token("alice", &hash1, t), "add token 1");
    let a2 = ok(s.add_token("alice", &hash2, t), "add token 2");
    let b3 = ok(s.add_token("bob", &hash3, t), "add token 3");
    assert!(a1.id != a2.id && a2.id != b3.id);
    assert_eq!(
        (a1.user.as_str(), a1.created, a1.last_used, a1.revoked),
        ("alice", t, None, false)
    );
    assert!(matches!(
        s.add_token("bob", &hash1, t),
        Err(StoreError::AlreadyExists(_))
    ));

    assert_eq!(
        ok(s.find_user_by_token_hash(&token_hash(&tok1)), "find"),
        Some((alice.clone(), a1.clone()))
    );
    assert_eq!(
        ok(s.find_user_by_token_hash(&hash3), "find bob").map(|(u, _)| u.name),
        Some("bob".into())
    );
    assert!(
        ok(
            s.find_user_by_token_hash(&tok1),
            "the raw token is not a key"
        )
        .is_none()
    );

    let later = Timestamp(BASE + 5_000_000);
    assert!(ok(s.touch_token(a1.id, later), "touch"));
    let listed = ok(s.list_tokens("alice"), "list");
    assert_eq!(
        listed.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![a1.id, a2.id]
    );
    assert_eq!(listed.first().and_then(|k| k.last_used), Some(later));

    assert!(ok(s.revoke_token(a1.id), "revoke"));
    assert!(ok(s.find_user_by_token_hash(&hash1), "revoked").is_none());
    assert!(ok(s.find_user_by_token_hash(&hash2), "other token still works").is_some());
    assert_eq!(
        ok(s.list_tokens("alice"), "list")
            .first()
            .map(|k| k.revoked),
        Some(true)
    );

    assert!(ok(s.set_user_disabled("alice", true), "disable"));
    assert!(ok(s.find_user_by_token_hash(&hash2), "disabled user").is_none());
    assert!(ok(s.set_user_disabled("alice", false), "enable"));
    assert!(ok(s.find_user_by_token_hash(&hash2), "enabled again").is_some());
    assert!(ok(s.find_user_by_token_hash(&hash1), "revoked for good").is_none());
}

fn rec(secs: i64, actor: &str, action: &str, target: &str) -> crate::AuditRecord {
    crate::AuditRecord::new(
        Timestamp(BASE + secs * 1_000_000),
        actor,
        action,
        target,
        serde_json::json!({ "comment": "checked" }),
    )
}

fn audit_len(s: &dyn Store) -> u64 {
    ok(s.audit_head(), "head").map_or(0, |e| e.seq)
}

fn audited_state(s: &mut dyn Store) {
    let all = dataset(3);
    ok(s.insert_alerts(&all), "insert");
    let (Some(a), Some(b)) = (all.first(), all.get(1)) else {
        return;
    };
    let st = AlertState {
        status: AlertStatus::Acknowledged,
        assignee: Some("alice".into()),
    };
    let r = rec(1, "alice", "alert.acknowledge", &a.id);
    assert!(ok(s.update_alert_state(&a.id, &st, &r), "update"));
    assert_eq!(ok(s.alert_state(&a.id), "state"), Some(st.clone()));
    // Unknown alert: nothing changes, nothing is audited.
    assert!(!ok(s.update_alert_state("al_nope", &st, &r), "unknown"));
    assert_eq!(audit_len(s), 1);
    // A bad audit record rolls the state change back.
    let bad = crate::AuditRecord::new(
        Timestamp(BASE),
        "",
        "alert.close",
        &b.id,
        serde_json::Value::Null,
    );
    let closed = AlertState {
        status: AlertStatus::Closed,
        assignee: None,
    };
    assert!(matches!(
        s.update_alert_state(&b.id, &closed, &bad),
        Err(StoreError::InvalidInput(_))
    ));
    assert_eq!(
        ok(s.alert_state(&b.id), "b state"),
        Some(AlertState::default())
    );
    assert_eq!(audit_len(s), 1);
    ok(
        s.append_audit(
            Timestamp(BASE),
            "bob",
            "other",
            "x",
            &serde_json::Value::Null,
        ),
        "other",
    );
    let r2 = rec(2, "alice", "alert.close", &a.id);
    assert!(ok(s.update_alert_state(&a.id, &closed, &r2), "close"));
    let hist = ok(s.audit_for_target(&a.id, 100), "history");
    let actions: Vec<&str> = hist.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["alert.acknowledge", "alert.close"]);
    let last = ok(s.audit_for_target(&a.id, 1), "last");
    assert_eq!(last.len(), 1);
    assert_eq!(last.first().map(|e| e.action.as_str()), Some("alert.close"));
    assert!(matches!(
        s.audit_for_target(&a.id, 0),
        Err(StoreError::InvalidQuery(_))
    ));
    assert!(ok(s.audit_for_target("nothing", 10), "none").is_empty());
    assert!(ok(s.verify_audit(), "verify").problem.is_none());
}

fn sessions(s: &mut dyn Store) {
    use crate::auth::{Role, hash_password, token_hash};
    let t = |secs: i64| Timestamp(BASE + secs * 1_000_000);
    let h = ok(
        hash_password("a password").map_err(|e| StoreError::InvalidInput(e.to_string())),
        "hash",
    );
    ok(s.add_user("alice", Role::Analyst, &h, t(0)), "alice");
    ok(s.add_user("bob", Role::Viewer, &h, t(0)), "bob");
    let session = |user: &str, secret: &str, at: i64| crate::Session {
        hash: token_hash(secret),
        user: user.into(),
        csrf: format!("csrf-{secret}"),
        created: t(at),
        last_seen: t(at),
    };
    let a1 = session("alice", "s1", 10);
    ok(
        s.create_session(&a1, &rec(10, "alice", "signin.ok", "alice")),
        "create",
    );
    assert!(matches!(
        s.create_session(&a1, &rec(10, "alice", "signin.ok", "alice")),
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.create_session(
            &session("carol", "s9", 1),
            &rec(1, "carol", "signin.ok", "carol")
        ),
        Err(StoreError::NotFound(_))
    ));
    let mut raw = session("alice", "s8", 1);
    raw.hash = "s8".into();
    assert!(matches!(
        s.create_session(&raw, &rec(1, "alice", "signin.ok", "alice")),
        Err(StoreError::InvalidInput(_))
    ));
    assert_eq!(audit_len(s), 1, "failed creations are not audited");
    let (u, found) = ok(s.find_session(&a1.hash), "find").unwrap_or_else(|| panic!("no session"));
    assert_eq!((u.name.as_str(), &found), ("alice", &a1));
    assert!(ok(s.find_session(&token_hash("other")), "unknown").is_none());
    assert!(ok(s.touch_session(&a1.hash, t(50)), "touch"));
    assert!(ok(s.touch_session(&a1.hash, t(20)), "touch back"));
    let seen = ok(s.find_session(&a1.hash), "find").map(|(_, x)| x.last_seen);
    assert_eq!(seen, Some(t(50)), "last_seen never moves back");
    assert!(!ok(
        s.touch_session(&token_hash("other"), t(50)),
        "touch unknown"
    ));

    // Disabling a user ends their sessions; so does a new password.
    let b1 = session("bob", "s2", 10);
    ok(
        s.create_session(&b1, &rec(10, "bob", "signin.ok", "bob")),
        "bob",
    );
    assert!(ok(s.set_user_disabled("bob", true), "disable"));
    assert!(ok(s.find_session(&b1.hash), "disabled").is_none());
    assert!(ok(s.set_user_disabled("bob", false), "enable"));
    assert!(ok(s.find_session(&b1.hash), "still ended").is_none());
    let a2 = session("alice", "s3", 60);
    ok(
        s.create_session(&a2, &rec(60, "alice", "signin.ok", "alice")),
        "a2",
    );
    assert!(ok(s.set_password("alice", &h), "passwd"));
    assert!(ok(s.find_session(&a1.hash), "a1 after passwd").is_none());
    assert!(ok(s.find_session(&a2.hash), "a2 after passwd").is_none());

    // Sign-out is audited; expiry is not.
    let a3 = session("alice", "s4", 100);
    let a4 = session("alice", "s5", 200);
    ok(
        s.create_session(&a3, &rec(100, "alice", "signin.ok", "alice")),
        "a3",
    );
    ok(
        s.create_session(&a4, &rec(200, "alice", "signin.ok", "alice")),
        "a4",
    );
    let before = audit_len(s);
    assert!(ok(
        s.end_session(&a3.hash, Some(&rec(150, "alice", "signout", "alice"))),
        "end"
    ));
    assert!(!ok(s.end_session(&a3.hash, None), "end twice"));
    assert_eq!(audit_len(s), before + 1);
    let a5 = session("alice", "s6", 300);
    ok(
        s.create_session(&a5, &rec(300, "alice", "signin.ok", "alice")),
        "a5",
    );
    assert_eq!(ok(s.purge_sessions(t(250), t(0)), "purge idle"), 1);
    assert!(ok(s.find_session(&a4.hash), "a4 purged").is_none());
    assert!(ok(s.find_session(&a5.hash), "a5 kept").is_some());
    assert_eq!(ok(s.purge_sessions(t(0), t(301)), "purge old"), 1);
    assert!(ok(s.find_session(&a5.hash), "a5 purged").is_none());
    assert!(ok(s.verify_audit(), "verify").problem.is_none());
}

fn cases(s: &mut dyn Store) {
    use crate::CaseStatus;
    let all = dataset(6);
    ok(s.insert_alerts(&all), "insert");
    let id = |i: usize| all.get(i).map(|a| a.id.clone()).unwrap_or_default();
    assert!(ok(s.list_cases(None), "empty").is_empty());
    let c = ok(
        s.create_case(
            "Scan from 10.0.0.1",
            "",
            &[id(0), id(1), id(0)],
            &rec(1, "alice", "case.create", ""),
        ),
        "create",
    );
    assert_eq!(c.id, "case-1");
    assert_eq!((c.alert_count, c.status), (2, CaseStatus::Open));
    let want_max = [all.first(), all.get(1)]
        .into_iter()
        .flatten()
        .map(|a| a.severity)
        .max();
    assert_eq!(c.max_severity, want_max);
    assert_eq!(c.created_by, "alice");
    let head = ok(s.audit_head(), "head").unwrap_or_else(|| panic!("no audit entry"));
    assert_eq!(
        (head.action.as_str(), head.target.as_str()),
        ("case.create", "case-1")
    );
    // An unknown alert id: an error naming its position, nothing written.
    let before = audit_len(s);
    match s.create_case(
        "x",
        "",
        &[id(2), "al_missing".into()],
        &rec(2, "alice", "case.create", ""),
    ) {
        Err(StoreError::NotFound(m)) => assert!(m.contains("alert_ids[1]"), "{m}"),
        other => panic!("unknown alert: {other:?}"),
    }
    assert_eq!(ok(s.list_cases(None), "one case").len(), 1);
    assert_eq!(audit_len(s), before);
    assert!(matches!(
        s.create_case(" ", "", &[], &rec(2, "alice", "case.create", "")),
        Err(StoreError::InvalidInput(_))
    ));
    let empty = ok(
        s.create_case("Empty", "notes", &[], &rec(3, "bob", "case.create", "")),
        "empty",
    );
    assert_eq!((empty.alert_count, empty.max_severity), (0, None));

    let added = ok(
        s.add_case_alerts(
            &c.id,
            &[id(1), id(2)],
            &rec(4, "alice", "case.add_alerts", &c.id),
        ),
        "add",
    );
    assert_eq!(added.map(|c| c.alert_count), Some(3));
    assert_eq!(
        ok(
            s.add_case_alerts(
                "case-99",
                &[id(1)],
                &rec(4, "a", "case.add_alerts", "case-99")
            ),
            "unknown"
        ),
        None
    );
    assert_eq!(
        ok(
            s.add_case_alerts("nonsense", &[id(1)], &rec(4, "a", "case.add_alerts", "x")),
            "junk id"
        ),
        None
    );
    let mut in_case: Vec<String> = ok(s.case_alerts(&c.id), "alerts")
        .into_iter()
        .map(|a| a.id)
        .collect();
    in_case.sort();
    let mut want = vec![id(0), id(1), id(2)];
    want.sort();
    assert_eq!(in_case, want);
    assert_eq!(ok(s.cases_of_alert(&id(1)), "of alert"), vec![c.id.clone()]);
    assert!(ok(s.cases_of_alert(&id(5)), "none").is_empty());
    let closed = ok(
        s.set_case_status(
            &c.id,
            CaseStatus::Closed,
            &rec(5, "alice", "case.close", &c.id),
        ),
        "close",
    );
    assert_eq!(closed.as_ref().map(|c| c.status), Some(CaseStatus::Closed));
    assert_eq!(closed.map(|c| c.updated), Some(Timestamp(BASE + 5_000_000)));
    assert_eq!(ok(s.list_cases(Some(CaseStatus::Open)), "open").len(), 1);
    assert_eq!(
        ok(s.list_cases(Some(CaseStatus::Closed)), "closed").len(),
        1
    );
    assert_eq!(ok(s.get_case(&empty.id), "get"), Some(empty));
    assert_eq!(ok(s.get_case("case-0"), "get junk"), None);
    let too_many: Vec<String> = (0..=crate::workflow::MAX_CASE_ALERTS_PER_CALL)
        .map(|_| id(0))
        .collect();
    assert!(matches!(
        s.add_case_alerts(&c.id, &too_many, &rec(6, "a", "case.add_alerts", &c.id)),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(ok(s.verify_audit(), "verify").problem.is_none());
}

fn stats(s: &mut dyn Store) {
    assert_eq!(ok(s.latest_alert_time(), "empty latest"), None);
    let all = dataset(60);
    ok(s.insert_alerts(&all), "insert");
    let latest = all.iter().map(|a| a.time).max();
    assert_eq!(ok(s.latest_alert_time(), "latest"), latest);
    if let Some(a) = all.first() {
        let st = AlertState {
            status: AlertStatus::Closed,
            assignee: None,
        };
        ok(s.set_alert_state(&a.id, &st), "close one");
    }
    let bucket = 10_000_000; // 10 s; the generated times span 50 s
    let (from, to) = (Timestamp(BASE), Timestamp(BASE + 60_000_000));
    let got = ok(s.alert_stats(from, to, bucket), "stats");
    assert_eq!(got.series.len(), 6);
    assert_eq!(got.total, all.len() as u64);
    // Reference counts, bucket by bucket and severity by severity.
    let mut want = vec![crate::SeverityCounts::default(); 6];
    for a in &all {
        let b = ((a.time.0 - BASE) / bucket) as usize;
        if let Some(slot) = want.get_mut(b) {
            slot.add(a.severity, 1);
        }
    }
    let counts: Vec<crate::SeverityCounts> = got.series.iter().map(|b| b.counts).collect();
    assert_eq!(counts, want);
    assert_eq!(
        got.series.get(1).map(|b| b.start),
        Some(Timestamp(BASE + bucket))
    );
    assert_eq!(
        (
            got.by_status.open,
            got.by_status.acknowledged,
            got.by_status.closed
        ),
        (all.len() as u64 - 1, 0, 1)
    );
    let mut per_det: BTreeMap<&str, u64> = BTreeMap::new();
    for a in &all {
        *per_det.entry(a.detector.as_str()).or_default() += 1;
    }
    for d in &got.by_detector {
        assert_eq!(
            per_det.get(d.detector.as_str()),
            Some(&d.count),
            "{}",
            d.detector
        );
        let last = all
            .iter()
            .filter(|a| a.detector == d.detector)
            .map(|a| a.time)
            .max();
        assert_eq!(Some(d.last), last);
    }
    assert_eq!(got.by_detector.len(), per_det.len());
    assert!(
        got.top_entities
            .windows(2)
            .all(|w| w.first().map(|a| a.count) >= w.get(1).map(|b| b.count))
    );
    let top_sum: u64 = got.top_entities.iter().map(|e| e.count).sum();
    assert_eq!(top_sum, all.len() as u64, "five entities, all listed");
    for e in &got.top_entities {
        let max = all
            .iter()
            .filter(|a| a.entity.to_string() == e.entity)
            .map(|a| a.severity)
            .max();
        assert_eq!(Some(e.max_severity), max, "{}", e.entity);
    }
    // A window that excludes everything, and windows the store must refuse.
    let none = ok(
        s.alert_stats(Timestamp(0), Timestamp(bucket), bucket),
        "empty window",
    );
    assert_eq!((none.total, none.series.len()), (0, 1));
    for (f, t, b) in [
        (to, from, bucket),
        (from, to, 0),
        (from, Timestamp(BASE + bucket * 5_000), bucket),
    ] {
        assert!(
            matches!(s.alert_stats(f, t, b), Err(StoreError::InvalidQuery(_))),
            "{f:?} {t:?} {b}"
        );
    }
}

fn raw_pages(s: &mut dyn Store) {
    let g0 = ok(s.alerts_generation(), "generation");
    assert_eq!(g0, (0, 0));
    let all = dataset(30);
    ok(s.insert_alerts(&all), "insert");
    let g1 = ok(s.alerts_generation(), "generation");
    assert!(g1.0 > g0.0, "{g1:?}");
    if let Some(a) = all.get(3) {
        let st = AlertState {
            status: AlertStatus::Acknowledged,
            assignee: Some("bob".into()),
        };
        ok(
            s.update_alert_state(&a.id, &st, &rec(1, "bob", "alert.acknowledge", &a.id)),
            "ack",
        );
    }
    let g2 = ok(s.alerts_generation(), "generation");
    assert!(
        g2.1 > g1.1,
        "an audited change moves the generation: {g2:?}"
    );
    for (name, q) in filter_cases() {
        let decoded = ok(s.query_alerts(&q), name);
        let raw = ok(s.query_alerts_raw(&q), name);
        assert_eq!(raw.len(), decoded.len(), "{name}");
        for (r, a) in raw.iter().zip(&decoded) {
            assert_eq!(r.id, a.id, "{name}");
            let back: Alert =
                serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&back, a, "{name}");
            assert_eq!(
                Some(r.state.clone()),
                ok(s.alert_state(&a.id), name),
                "{name}"
            );
        }
    }
}
