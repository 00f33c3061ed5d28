//! The clinical-safety invariant, tested directly: no disruptive step against a life-sustaining
//! or life-supporting device runs, or may run on expiry, without a clinical role's approval —
//! whatever the playbook says.

use ward_core::alert::{Alert, Evidence, Explanation};
use ward_core::entity::EntityId;
use ward_core::time::Timestamp;
use ward_respond::plan::{Decision, History, NoHistory, PlaybookPlan, Target, plan};
use ward_respond::{DeviceClass, Effect, PlaybookSet, SafetyPolicy};

pub fn alert(detector: &str, score: u8, entity: EntityId) -> Alert {
    let e = Explanation {
        rules: vec!["portscan".to_owned()],
        ..Explanation::default()
    };
    Alert::new(
        Timestamp(1_700_000_000_000_000),
        detector,
        score,
        entity,
        "Port scan from host",
        e,
        Evidence::default(),
    )
}

/// Every kind of step, each trying to dodge the gate: declared `notify`, its own approval by a
/// viewer that proceeds on timeout after a week.
const WRONG: &str = r#"
[[playbook]]
name = "wrong"
dedup_minutes = 0
max_runs_per_hour = 0
[[playbook.step]]
name = "fw"
effect = "notify"
approval = { roles = ["viewer"], timeout_minutes = 10080, on_timeout = "proceed" }
firewall = { file = "/tmp/ward-test.nft" }
[[playbook.step]]
name = "fw-cmd"
firewall = { mode = "command", block_command = ["/sbin/block", "{target.address}"], release_command = ["/sbin/unblock", "{target.address}"] }
[[playbook.step]]
name = "exec"
effect = "notify"
exec = { program = "/usr/local/bin/isolate", args = ["{target.address}"] }
[[playbook.step]]
name = "hook"
approval = { roles = ["viewer"], timeout_minutes = 5, on_timeout = "proceed" }
webhook = { url = "http://127.0.0.1:9/isolate/{target.address}" }
[[playbook.step]]
name = "hook-declared-contain"
effect = "contain"
webhook = { url = "http://127.0.0.1:9/isolate" }
[[playbook.step]]
name = "notify-hook"
effect = "notify"
webhook = { url = "http://127.0.0.1:9/page" }
[[playbook.step]]
name = "mail"
email = { to = ["soc@example.org"] }
[[playbook.step]]
name = "syslog"
syslog = { target = "tcp://127.0.0.1:514" }
[[playbook.step]]
name = "case"
open_case = {}
[[playbook.step]]
name = "quarantine"
quarantine = {}
"#;

#[test]
fn disruptive_steps_against_life_critical_devices_always_wait_for_a_clinical_role() {
    let set = PlaybookSet::from_toml(WRONG).unwrap();
    let policy = SafetyPolicy::default();
    for class in DeviceClass::ALL {
        let a = alert("net.supervised", 99, EntityId::device("10.1.2.3"));
        let target = Target::of(&a, class);
        let plans = plan(&a, &target, &set, &policy, &NoHistory, Timestamp(1));
        let [PlaybookPlan::Started { steps, .. }] = plans.as_slice() else {
            panic!("{plans:?}");
        };
        assert_eq!(steps.len(), 10);
        for s in steps {
            let disruptive = matches!(
                s.step.as_str(),
                "fw" | "fw-cmd" | "exec" | "hook" | "hook-declared-contain"
            );
            assert_eq!(s.effect.is_disruptive(), disruptive, "{}", s.step);
            // stated here, not asked of the code under test
            let life = matches!(
                class,
                DeviceClass::LifeSustaining | DeviceClass::LifeSupporting
            );
            if disruptive && life {
                match &s.decision {
                    Decision::Approve {
                        roles,
                        clinical,
                        proceed_on_timeout,
                        timeout_minutes,
                        ..
                    } => {
                        assert!(*clinical, "{class:?} {}", s.step);
                        assert_eq!(roles, &["clinical_engineer".to_owned()]);
                        assert!(!proceed_on_timeout, "{class:?} {}", s.step);
                        assert!(*timeout_minutes <= 30, "{class:?} {}", s.step);
                    }
                    d => panic!(
                        "{class:?} {}: {d:?} runs without a clinical approval",
                        s.step
                    ),
                }
            } else if s.step == "fw" || s.step == "hook" {
                // the playbook's own approval applies away from life-critical devices
                assert!(
                    matches!(
                        &s.decision,
                        Decision::Approve {
                            clinical: false,
                            proceed_on_timeout: true,
                            ..
                        }
                    ),
                    "{class:?} {}: {:?}",
                    s.step,
                    s.decision
                );
            } else {
                assert_eq!(s.decision, Decision::Run, "{class:?} {}", s.step);
            }
        }
    }
}

#[test]
fn the_policy_can_treat_unclassed_devices_as_life_supporting_and_inventory_names_map() {
    let set = PlaybookSet::from_toml(WRONG).unwrap();
    let policy = SafetyPolicy {
        unknown_as: DeviceClass::LifeSupporting,
        clinical_roles: vec!["biomed".to_owned()],
        ..SafetyPolicy::default()
    };
    let a = alert("net.anomaly", 80, EntityId::host("10.9.9.9"));
    let plans = plan(
        &a,
        &Target::of(&a, DeviceClass::Unknown),
        &set,
        &policy,
        &NoHistory,
        Timestamp(1),
    );
    let [PlaybookPlan::Started { steps, .. }] = plans.as_slice() else {
        panic!()
    };
    let fw = steps.iter().find(|s| s.step == "fw").unwrap();
    assert!(
        matches!(&fw.decision, Decision::Approve { clinical: true, roles, .. } if roles == &["biomed".to_owned()])
    );
    for (name, class) in [
        ("life_sustaining", DeviceClass::LifeSustaining),
        ("Life-Supporting", DeviceClass::LifeSupporting),
        ("clinical", DeviceClass::ClinicalSupport),
        ("business", DeviceClass::NonClinical),
        ("diagnostic", DeviceClass::Diagnostic),
        ("", DeviceClass::Unknown),
        ("pump?", DeviceClass::Unknown),
    ] {
        assert_eq!(DeviceClass::from_inventory(name), class, "{name}");
    }
    assert!(Effect::Release.is_disruptive());
}

struct Seen {
    last: Option<Timestamp>,
    runs: u32,
}

impl History for Seen {
    fn last_run(&self, _: &str, _: &str) -> Option<Timestamp> {
        self.last
    }
    fn runs_since(&self, _: &str, _: Timestamp) -> u32 {
        self.runs
    }
}

#[test]
fn plans_deduplicate_rate_limit_render_and_key_each_step() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/playbooks.toml"
    ))
    .unwrap();
    let set = PlaybookSet::from_toml(&text).unwrap();
    let policy = SafetyPolicy::default();
    let a = alert("net.supervised", 95, EntityId::host("10.0.0.7"));
    let t = Target::of(&a, DeviceClass::NonClinical);
    let now = Timestamp(1_700_000_000_000_000);
    let plans = plan(&a, &t, &set, &policy, &NoHistory, now);
    let [PlaybookPlan::Started { steps, .. }] = plans.as_slice() else {
        panic!("{plans:?}")
    };
    let by = |n: &str| steps.iter().find(|s| s.step == n).unwrap();
    // rendered parameters
    let ward_respond::ActionSpec::Webhook(w) = &by("page-on-call").action else {
        panic!()
    };
    assert!(w.url.ends_with(&format!("?alert={}", a.id)), "{}", w.url);
    assert_eq!(
        by("page-on-call").decision,
        Decision::Run,
        "declared notify"
    );
    assert!(matches!(
        by("block-host").decision,
        Decision::Approve {
            clinical: false,
            ..
        }
    ));
    assert!(by("block-host").rollback.is_some());
    assert!(
        matches!(&by("quarantine-medical-device").decision, Decision::Skip { reason } if reason.contains("when"))
    );
    // same alert, same keys; another alert, other keys
    let again = plan(&a, &t, &set, &policy, &NoHistory, now);
    assert_eq!(plans, again);
    let b = alert("net.supervised", 95, EntityId::host("10.0.0.8"));
    let other = plan(
        &b,
        &Target::of(&b, DeviceClass::NonClinical),
        &set,
        &policy,
        &NoHistory,
        now,
    );
    let [PlaybookPlan::Started { steps: s2, .. }] = other.as_slice() else {
        panic!()
    };
    for (x, y) in steps.iter().zip(s2) {
        assert_ne!(x.idempotency_key, y.idempotency_key);
        assert_eq!(x.idempotency_key.len(), 32);
    }
    // deduplicated within the window, started after it; rate limited at the limit
    let recent = Seen {
        last: Some(Timestamp(now.micros() - 59 * 60_000_000)),
        runs: 0,
    };
    assert!(matches!(
        plan(&a, &t, &set, &policy, &recent, now).as_slice(),
        [PlaybookPlan::Deduplicated { .. }]
    ));
    let old = Seen {
        last: Some(Timestamp(now.micros() - 61 * 60_000_000)),
        runs: 30,
    };
    assert!(matches!(
        plan(&a, &t, &set, &policy, &old, now).as_slice(),
        [PlaybookPlan::RateLimited {
            runs_last_hour: 30,
            ..
        }]
    ));
    // an EHR alert starts only the account playbook; its command gets a plain token
    let mut e = alert(
        "ehr.access",
        97,
        EntityId::new(ward_core::entity::EntityKind::User, "U0042"),
    );
    e.explanation.rules = vec!["vip".to_owned()];
    let plans = plan(
        &e,
        &Target::of(&e, DeviceClass::Unknown),
        &set,
        &policy,
        &NoHistory,
        now,
    );
    let [PlaybookPlan::Started { playbook, steps }] = plans.as_slice() else {
        panic!("{plans:?}")
    };
    assert_eq!(playbook, "disable-snooping-account");
    assert!(
        matches!(&steps[0].decision, Decision::Approve { roles, .. } if roles == &["privacy_officer".to_owned()])
    );
    // a hostile user id cannot become an option or a second argument
    let mut h = e.clone();
    h.entity.value = "--all; rm".to_owned();
    let plans = plan(
        &h,
        &Target::of(&h, DeviceClass::Unknown),
        &set,
        &policy,
        &NoHistory,
        now,
    );
    let [PlaybookPlan::Started { steps, .. }] = plans.as_slice() else {
        panic!()
    };
    assert!(
        matches!(&steps[0].decision, Decision::Skip { reason } if reason.contains("plain token"))
    );
}
