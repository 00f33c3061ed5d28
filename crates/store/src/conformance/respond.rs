//! Conformance checks of the response queue (see [`crate::respond`]).

use super::{audit_len, ok};
use crate::respond::{Attempt, Decided, JobQuery, JobState, NewJob, Verdict};
use crate::{AuditRecord, Store};
use serde_json::json;
use ward_core::Timestamp;

const T0: i64 = 1_714_521_600_000_000;
const SEC: i64 = 1_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp(T0 + s * SEC)
}

fn job(key: &str, state: JobState, approval: serde_json::Value) -> NewJob {
    NewJob {
        key: key.to_owned(),
        alert_id: format!("alert-{key}"),
        playbook: "pb".to_owned(),
        step: format!("step-{key}"),
        entity: "host:10.0.0.5".to_owned(),
        kind: "webhook".to_owned(),
        action: json!({"webhook": {"url": "http://127.0.0.1:9/"}}),
        effect: "contain".to_owned(),
        state,
        expires_at: (state == JobState::AwaitingApproval).then(|| at(600)),
        approval,
        max_attempts: 3,
        timeout_secs: 5,
        result: serde_json::Value::Null,
        rollback_of: None,
    }
}

fn rec(s: i64, actor: &str, action: &str) -> AuditRecord {
    AuditRecord::new(at(s), actor, action, "", json!({}))
}

/// Enqueue is idempotent on the key and audited; claims lease and count attempts; a lapsed
/// lease is claimed again; retries wait for their time; results are final.
pub(super) fn queue(s: &mut dyn Store) {
    let a0 = audit_len(s);
    let ids = ok(
        s.enqueue_jobs(
            &[
                job("k1", JobState::Pending, serde_json::Value::Null),
                job("k2", JobState::Pending, serde_json::Value::Null),
                job("k1", JobState::Pending, serde_json::Value::Null),
            ],
            at(0),
            "ward",
        ),
        "enqueue",
    );
    assert_eq!(
        ids.iter().filter(|x| x.1).count(),
        2,
        "the repeated key is skipped"
    );
    assert_eq!(ids[0].0, ids[2].0, "the repeat names the stored job");
    assert_eq!(audit_len(s), a0 + 2, "one audit entry per new job");
    let again = ok(
        s.enqueue_jobs(
            &[job("k2", JobState::Pending, serde_json::Value::Null)],
            at(1),
            "ward",
        ),
        "enqueue again",
    );
    assert!(!again[0].1);

    let claimed = ok(s.claim_jobs(at(1), 30 * SEC, 10), "claim");
    assert_eq!(claimed.len(), 2);
    assert!(
        claimed
            .iter()
            .all(|j| j.state == JobState::Running && j.attempts == 1)
    );
    assert!(ok(s.claim_jobs(at(2), 30 * SEC, 10), "claim while leased").is_empty());
    // the worker of k1 dies; after the lease, k1 is claimed again
    let k2 = claimed.iter().find(|j| j.key == "k2").unwrap().id;
    let k1 = claimed.iter().find(|j| j.key == "k1").unwrap().id;
    let done = ok(
        s.finish_job(
            k2,
            &Attempt::Succeeded(json!({"status": 200})),
            &rec(3, "ward", "respond.succeeded"),
        ),
        "finish",
    )
    .unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert!(
        ok(
            s.finish_job(k2, &Attempt::Failed(json!({})), &rec(4, "ward", "x")),
            "refinish"
        )
        .is_none()
    );
    let re = ok(s.claim_jobs(at(40), 30 * SEC, 10), "reclaim");
    assert_eq!(re.len(), 1);
    assert_eq!((re[0].id, re[0].attempts), (k1, 2));
    // a retry waits for its time
    ok(
        s.finish_job(
            k1,
            &Attempt::Retry(at(100), json!({"error": "503"})),
            &rec(41, "ward", "respond.retry"),
        ),
        "retry",
    );
    assert!(ok(s.claim_jobs(at(99), 30 * SEC, 10), "early").is_empty());
    let third = ok(s.claim_jobs(at(100), 30 * SEC, 10), "due");
    assert_eq!(third[0].attempts, 3);
    ok(
        s.finish_job(
            k1,
            &Attempt::Failed(json!({"error": "gave up"})),
            &rec(101, "ward", "respond.failed"),
        ),
        "fail",
    );
    let j = ok(s.get_job(k1), "get").unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.result, json!({"error": "gave up"}));
    // history for dedup and rate limits
    assert_eq!(
        ok(s.last_response("pb", "host:10.0.0.5"), "last"),
        Some(at(0))
    );
    assert_eq!(
        ok(s.last_response("pb", "host:10.0.0.6"), "last other"),
        None
    );
    assert_eq!(ok(s.responses_since("pb", at(0)), "runs"), 2);
    assert_eq!(ok(s.responses_since("pb", at(1)), "runs later"), 0);
    // listing
    let all = ok(
        s.list_jobs(&JobQuery {
            limit: 10,
            ..JobQuery::default()
        }),
        "list",
    );
    assert_eq!(all.len(), 2);
    assert!(all[0].id > all[1].id, "newest first");
    let failed = ok(
        s.list_jobs(&JobQuery {
            states: vec![JobState::Failed],
            limit: 10,
            ..JobQuery::default()
        }),
        "list failed",
    );
    assert_eq!(failed.len(), 1);
    assert!(
        s.list_jobs(&JobQuery {
            limit: 0,
            ..JobQuery::default()
        })
        .is_err()
    );
    assert!(ok(s.verify_audit(), "verify").problem.is_none());
}

/// Approvals: approve makes a job due, reject and expiry end it with nothing done, a clinical
/// approval never proceeds on expiry, decisions after the fact are refused.
pub(super) fn approvals(s: &mut dyn Store) {
    let clinical =
        json!({"roles": ["clinical_engineer"], "clinical": true, "proceed_on_timeout": true});
    let plain = json!({"roles": ["analyst"], "clinical": false, "proceed_on_timeout": false});
    let lenient = json!({"roles": ["analyst"], "clinical": false, "proceed_on_timeout": true});
    let ids: Vec<u64> = ok(
        s.enqueue_jobs(
            &[
                job("a", JobState::AwaitingApproval, plain.clone()),
                job("r", JobState::AwaitingApproval, plain.clone()),
                job("c", JobState::AwaitingApproval, clinical),
                job("l", JobState::AwaitingApproval, lenient),
                job("x", JobState::AwaitingApproval, plain),
                job("s", JobState::Skipped, serde_json::Value::Null),
            ],
            at(0),
            "ward",
        ),
        "enqueue",
    )
    .into_iter()
    .map(|x| x.0)
    .collect();
    assert!(ok(s.claim_jobs(at(1), SEC, 10), "nothing due").is_empty());
    let who = json!({"by": "alice", "role": "analyst", "comment": "ok"});
    match ok(
        s.decide_job(
            ids[0],
            Verdict::Approve,
            &who,
            &rec(5, "alice", "respond.approve"),
        ),
        "approve",
    ) {
        Decided::Done(j) => {
            assert_eq!(j.state, JobState::Pending);
            assert_eq!(j.approval["decision"]["by"], "alice");
        }
        d => panic!("{d:?}"),
    }
    match ok(
        s.decide_job(
            ids[1],
            Verdict::Reject,
            &who,
            &rec(6, "alice", "respond.reject"),
        ),
        "reject",
    ) {
        Decided::Done(j) => assert_eq!(j.state, JobState::Rejected),
        d => panic!("{d:?}"),
    }
    assert_eq!(
        ok(
            s.decide_job(
                ids[1],
                Verdict::Approve,
                &who,
                &rec(7, "alice", "respond.approve")
            ),
            "twice"
        ),
        Decided::NotAwaiting(JobState::Rejected)
    );
    assert_eq!(
        ok(
            s.decide_job(9999, Verdict::Approve, &who, &rec(7, "alice", "x")),
            "unknown"
        ),
        Decided::NotFound
    );
    let due = ok(s.claim_jobs(at(8), SEC, 10), "approved is due");
    assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), vec![ids[0]]);
    // time runs out for c, l and x
    let expired = ok(s.expire_approvals(at(600), "ward"), "expire");
    let state = |id: u64| expired.iter().find(|j| j.id == id).map(|j| j.state);
    assert_eq!(
        state(ids[2]),
        Some(JobState::Expired),
        "clinical never proceeds"
    );
    assert_eq!(
        state(ids[3]),
        Some(JobState::Pending),
        "the playbook said proceed"
    );
    assert_eq!(state(ids[4]), Some(JobState::Expired));
    assert!(ok(s.expire_approvals(at(700), "ward"), "again").is_empty());
    let late = ok(
        s.decide_job(
            ids[2],
            Verdict::Approve,
            &who,
            &rec(800, "bob", "respond.approve"),
        ),
        "late",
    );
    assert_eq!(late, Decided::NotAwaiting(JobState::Expired));
    assert_eq!(
        ok(s.get_job(ids[5]), "skipped").unwrap().state,
        JobState::Skipped
    );
    assert!(ok(s.verify_audit(), "verify").problem.is_none());
}

/// Bad jobs are refused whole, naming the job, and nothing is written.
pub(super) fn limits(s: &mut dyn Store) {
    let a0 = audit_len(s);
    let mut bad = job("b", JobState::Running, serde_json::Value::Null);
    let good = job("g", JobState::Pending, serde_json::Value::Null);
    let e = s
        .enqueue_jobs(&[good.clone(), bad.clone()], at(0), "ward")
        .unwrap_err()
        .to_string();
    assert!(e.contains("job 1"), "{e}");
    bad.state = JobState::Pending;
    bad.key = "k".repeat(300);
    assert!(s.enqueue_jobs(&[bad.clone()], at(0), "ward").is_err());
    bad.key = "b".to_owned();
    bad.action = json!({"x": "y".repeat(70_000)});
    assert!(s.enqueue_jobs(&[bad.clone()], at(0), "ward").is_err());
    let mut no_expiry = job("n", JobState::AwaitingApproval, json!({}));
    no_expiry.expires_at = None;
    assert!(s.enqueue_jobs(&[no_expiry], at(0), "ward").is_err());
    assert_eq!(audit_len(s), a0, "nothing written");
    assert!(
        ok(
            s.list_jobs(&JobQuery {
                limit: 5,
                ..JobQuery::default()
            }),
            "list"
        )
        .is_empty()
    );
    let hostile = JobQuery {
        alert_id: Some("' OR 1=1 --".to_owned()),
        limit: 5,
        ..JobQuery::default()
    };
    assert!(ok(s.list_jobs(&hostile), "hostile").is_empty());
    let _ = good;
}

/// New alerts are followed by insertion number; a cursor survives.
pub(super) fn follow(s: &mut dyn Store) {
    assert!(ok(s.alerts_after(0, 10), "empty").is_empty());
    let alerts: Vec<ward_core::Alert> = (0..5).map(super::sample_alert).collect();
    ok(s.insert_alerts(&alerts), "insert");
    let page = ok(s.alerts_after(0, 3), "first page");
    assert_eq!(page.len(), 3);
    assert!(page.windows(2).all(|w| w[0].0 < w[1].0));
    let rest = ok(s.alerts_after(page[2].0, 10), "rest");
    assert_eq!(rest.len(), 2);
    let mut ids: Vec<String> = page.iter().chain(&rest).map(|x| x.1.id.clone()).collect();
    ids.sort();
    let mut want: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(s.alerts_after(0, 0).is_err());
    assert_eq!(ok(s.cursor("respond"), "cursor"), 0);
    ok(s.set_cursor("respond", 42), "set");
    ok(s.set_cursor("respond", 43), "set again");
    assert_eq!(ok(s.cursor("respond"), "cursor"), 43);
    assert!(s.set_cursor("", 1).is_err());
}
