//! The engine over a real SQLite store: submit, work the queue, retry, approvals, crashes.

use super::gate::alert;
use std::sync::Mutex;
use ward_core::entity::EntityId;
use ward_core::time::Timestamp;
use ward_respond::action::{ActionContext, ActionError, Executor, Outcome};
use ward_respond::engine::{WorkerOptions, run_once, submit};
use ward_respond::plan::Target;
use ward_respond::{ActionSpec, DeviceClass, PlaybookSet, SafetyPolicy};
use ward_store::{Decided, JobQuery, JobState, SqliteStore, Store, Verdict};

/// Records every call; the first attempt of each webhook fails as if the receiver were down.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(String, String, u32, bool)>>,
}

impl Executor for Recorder {
    fn execute(&self, a: &ActionSpec, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        self.calls.lock().unwrap().push((
            a.kind().to_owned(),
            ctx.step.to_owned(),
            ctx.attempt,
            ctx.dry_run,
        ));
        if matches!(a, ActionSpec::Webhook(_)) && ctx.attempt == 1 {
            return Err(ActionError::Retryable("connection refused".to_owned()));
        }
        Ok(Outcome {
            summary: format!("{} done", a.kind()),
            detail: serde_json::json!({}),
        })
    }
}

fn playbooks() -> PlaybookSet {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/playbooks.toml"
    ))
    .unwrap();
    PlaybookSet::from_toml(&text).unwrap()
}

const T: i64 = 1_700_000_000_000_000;
const S: i64 = 1_000_000;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("ward.db")).unwrap();
    (dir, s)
}

fn states(s: &SqliteStore) -> Vec<(String, JobState)> {
    let mut v: Vec<(String, JobState)> = s
        .list_jobs(&JobQuery {
            limit: 100,
            ..JobQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|j| (j.step, j.state))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn an_alert_becomes_jobs_that_run_retry_wait_for_approval_and_happen_once() {
    let (_d, mut s) = store();
    let set = playbooks();
    let policy = SafetyPolicy::default();
    let a = alert("net.supervised", 95, EntityId::host("10.0.0.7"));
    s.insert_alerts(std::slice::from_ref(&a)).unwrap();
    let t = Target::of(&a, DeviceClass::NonClinical);
    let sub = submit(&mut s, &a, &t, &set, &policy, Timestamp(T)).unwrap();
    assert_eq!((sub.enqueued, sub.already), (6, 0));
    // submitting the same alert again adds nothing (dedup window, and the keys)
    let again = submit(&mut s, &a, &t, &set, &policy, Timestamp(T + S)).unwrap();
    assert_eq!(again.enqueued, 0);

    let ex = Recorder::default();
    let opts = WorkerOptions::default();
    let r = run_once(&mut s, &ex, &|| Timestamp(T + 2 * S), &opts).unwrap();
    assert_eq!((r.claimed, r.succeeded, r.retried), (4, 3, 1), "{r:?}");
    assert_eq!(
        states(&s),
        [
            ("block-host".to_owned(), JobState::AwaitingApproval),
            ("forward-to-siem".to_owned(), JobState::Succeeded),
            ("mail-soc".to_owned(), JobState::Succeeded),
            ("open-case".to_owned(), JobState::Succeeded),
            ("page-on-call".to_owned(), JobState::Pending),
            ("quarantine-medical-device".to_owned(), JobState::Skipped),
        ]
    );
    assert_eq!(s.list_cases(None).unwrap().len(), 1);
    // the retry waits for its backoff (1 s), then succeeds
    assert_eq!(
        run_once(&mut s, &ex, &|| Timestamp(T + 2 * S + S / 2), &opts)
            .unwrap()
            .claimed,
        0
    );
    let r = run_once(&mut s, &ex, &|| Timestamp(T + 4 * S), &opts).unwrap();
    assert_eq!(r.succeeded, 1);
    // an analyst approves the block
    let block = s
        .list_jobs(&JobQuery {
            states: vec![JobState::AwaitingApproval],
            limit: 10,
            ..JobQuery::default()
        })
        .unwrap()
        .remove(0);
    let d = s
        .decide_job(
            block.id,
            Verdict::Approve,
            &serde_json::json!({"by": "alice", "role": "analyst"}),
            &ward_store::AuditRecord::new(
                Timestamp(T + 5 * S),
                "alice",
                "respond.approve",
                "",
                serde_json::json!({}),
            ),
        )
        .unwrap();
    assert!(matches!(d, Decided::Done(_)));
    run_once(&mut s, &ex, &|| Timestamp(T + 6 * S), &opts).unwrap();
    let calls = ex.calls.lock().unwrap().clone();
    let steps: Vec<&str> = calls.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(steps.iter().filter(|x| **x == "block-host").count(), 1);
    assert_eq!(
        steps.iter().filter(|x| **x == "page-on-call").count(),
        2,
        "one failure, one success"
    );
    assert!(
        !steps.contains(&"open-case"),
        "cases are the engine's, not the executor's"
    );
    assert!(s.verify_audit().unwrap().problem.is_none());
}

#[test]
fn a_pump_is_never_blocked_without_a_clinical_approval_and_expiry_leaves_it_untouched() {
    let (_d, mut s) = store();
    let set = PlaybookSet::from_toml(
        r#"
[[playbook]]
name = "block-everything"
[[playbook.step]]
name = "block"
effect = "notify"
approval = { roles = ["viewer"], timeout_minutes = 5, on_timeout = "proceed" }
firewall = { file = "/tmp/never-written.nft" }
"#,
    )
    .unwrap();
    let a = alert("net.device", 99, EntityId::device("10.3.0.5"));
    s.insert_alerts(std::slice::from_ref(&a)).unwrap();
    let t = Target::of(&a, DeviceClass::from_inventory("life_sustaining"));
    submit(&mut s, &a, &t, &set, &SafetyPolicy::default(), Timestamp(T)).unwrap();
    let ex = Recorder::default();
    let opts = WorkerOptions::default();
    // before and after the five minutes, and long after the clinical timeout: nothing runs
    for secs in [1, 301, 1801, 86_400] {
        run_once(&mut s, &ex, &|| Timestamp(T + secs * S), &opts).unwrap();
    }
    assert!(ex.calls.lock().unwrap().is_empty());
    assert_eq!(states(&s), [("block".to_owned(), JobState::Expired)]);
    let trail = s.list_audit(1, 100).unwrap();
    assert!(trail.iter().any(
        |e| e.action == "respond.approval_expired" && e.details["result"] == "nothing was done"
    ));
}

#[test]
fn a_worker_that_dies_mid_job_is_replaced_and_the_case_is_opened_once() {
    let (_d, mut s) = store();
    let set = PlaybookSet::from_toml(
        "[[playbook]]\nname = \"case\"\n[[playbook.step]]\nname = \"open\"\nopen_case = {}\n",
    )
    .unwrap();
    let a = alert("net.anomaly", 70, EntityId::host("10.0.0.9"));
    s.insert_alerts(std::slice::from_ref(&a)).unwrap();
    submit(
        &mut s,
        &a,
        &Target::of(&a, DeviceClass::Unknown),
        &set,
        &SafetyPolicy::default(),
        Timestamp(T),
    )
    .unwrap();
    // a worker claims the job, opens the case and dies before recording it
    let claimed = s.claim_jobs(Timestamp(T + S), 30 * S, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    let key = claimed[0].key.clone();
    s.create_case(
        &a.title,
        &ward_respond::engine::case_marker("case", &key),
        std::slice::from_ref(&a.id),
        &ward_store::AuditRecord::new(
            Timestamp(T + S),
            "ward-respond",
            "case.create",
            "",
            serde_json::json!({}),
        ),
    )
    .unwrap();
    // while its lease holds, nobody else takes the job; after it lapses, another worker does
    let ex = Recorder::default();
    let opts = WorkerOptions::default();
    assert_eq!(
        run_once(&mut s, &ex, &|| Timestamp(T + 10 * S), &opts)
            .unwrap()
            .claimed,
        0
    );
    let r = run_once(&mut s, &ex, &|| Timestamp(T + 45 * S), &opts).unwrap();
    assert_eq!((r.claimed, r.succeeded), (1, 1));
    assert_eq!(
        s.list_cases(None).unwrap().len(),
        1,
        "the case is not opened twice"
    );
    let job = s
        .list_jobs(&JobQuery {
            limit: 1,
            ..JobQuery::default()
        })
        .unwrap()
        .remove(0);
    assert_eq!((job.state, job.attempts), (JobState::Succeeded, 2));
    // a second alert with the same key cannot be enqueued: keys are unique
    let sub = submit(
        &mut s,
        &a,
        &Target::of(&a, DeviceClass::Unknown),
        &set,
        &SafetyPolicy::default(),
        Timestamp(T + 7200 * S),
    )
    .unwrap();
    assert_eq!((sub.enqueued, sub.already), (0, 1));
    assert_eq!(s.list_cases(None).unwrap().len(), 1);
    // dry run: says what it would do and opens nothing
    let b = alert("net.anomaly", 71, EntityId::host("10.0.0.10"));
    s.insert_alerts(std::slice::from_ref(&b)).unwrap();
    submit(
        &mut s,
        &b,
        &Target::of(&b, DeviceClass::Unknown),
        &set,
        &SafetyPolicy::default(),
        Timestamp(T),
    )
    .unwrap();
    let dry = WorkerOptions {
        dry_run: true,
        ..WorkerOptions::default()
    };
    run_once(&mut s, &ex, &|| Timestamp(T + S), &dry).unwrap();
    assert_eq!(s.list_cases(None).unwrap().len(), 1);
}

#[test]
fn a_block_is_released_by_its_rollback_which_passes_the_clinical_gate_too() {
    use ward_respond::engine::{Rollback, rollback};
    use ward_respond::plan::Decision;
    let (_d, mut s) = store();
    let set = PlaybookSet::from_toml(
        "[[playbook]]\nname = \"block\"\n[[playbook.step]]\nname = \"fw\"\n\
         firewall = { file = \"/tmp/ward-test-never.nft\" }\n[[playbook.step]]\nname = \"case\"\nopen_case = {}\n",
    )
    .unwrap();
    let policy = SafetyPolicy::default();
    let ex = Recorder::default();
    let opts = WorkerOptions::default();
    for (host, class) in [
        ("10.0.0.1", DeviceClass::NonClinical),
        ("10.0.0.2", DeviceClass::LifeSupporting),
    ] {
        let a = alert("net.supervised", 95, EntityId::host(host));
        s.insert_alerts(std::slice::from_ref(&a)).unwrap();
        let t = Target::of(&a, class);
        submit(&mut s, &a, &t, &set, &policy, Timestamp(T)).unwrap();
        let jobs = s
            .list_jobs(&JobQuery {
                alert_id: Some(a.id.clone()),
                limit: 10,
                ..JobQuery::default()
            })
            .unwrap();
        let fw = jobs.iter().find(|j| j.step == "fw").unwrap().clone();
        let case = jobs.iter().find(|j| j.step == "case").unwrap().clone();
        // not yet succeeded: nothing to undo
        assert!(matches!(
            rollback(&mut s, fw.id, &t, &policy, "ana", Timestamp(T)).unwrap(),
            Rollback::Refused(r) if r.contains("nothing to undo")
        ));
        if class.is_life_critical() {
            s.decide_job(
                fw.id,
                Verdict::Approve,
                &serde_json::json!({"by": "bio"}),
                &ward_store::AuditRecord::new(
                    Timestamp(T + S),
                    "bio",
                    "respond.approve",
                    "",
                    serde_json::json!({}),
                ),
            )
            .unwrap();
        }
        run_once(&mut s, &ex, &|| Timestamp(T + 2 * S), &opts).unwrap();
        assert_eq!(
            s.get_job(fw.id).unwrap().unwrap().state,
            JobState::Succeeded
        );
        let r = rollback(&mut s, fw.id, &t, &policy, "ana", Timestamp(T + 3 * S)).unwrap();
        let Rollback::Enqueued { job, new, decision } = r else {
            panic!("{r:?}")
        };
        assert!(new);
        let undo = s.get_job(job).unwrap().unwrap();
        assert_eq!(undo.rollback_of, Some(fw.id));
        assert_eq!(undo.effect, "release");
        assert_eq!(undo.action["firewall"]["release"], true);
        if class.is_life_critical() {
            assert!(matches!(decision, Decision::Approve { clinical: true, .. }));
            assert_eq!(undo.state, JobState::AwaitingApproval);
        } else {
            assert_eq!(decision, Decision::Run);
            run_once(&mut s, &ex, &|| Timestamp(T + 4 * S), &opts).unwrap();
            assert_eq!(s.get_job(job).unwrap().unwrap().state, JobState::Succeeded);
            assert!(matches!(
                rollback(&mut s, job, &t, &policy, "ana", Timestamp(T + 5 * S)).unwrap(),
                Rollback::Refused(r) if r.contains("not rolled back")
            ));
        }
        // asking twice gives the same job
        let again = rollback(&mut s, fw.id, &t, &policy, "ana", Timestamp(T + 6 * S)).unwrap();
        assert!(matches!(again, Rollback::Enqueued { job: j, new: false, .. } if j == job));
        assert!(matches!(
            rollback(&mut s, case.id, &t, &policy, "ana", Timestamp(T + 6 * S)).unwrap(),
            Rollback::Refused(r) if r.contains("no rollback")
        ));
    }
    assert!(s.verify_audit().unwrap().problem.is_none());
}
