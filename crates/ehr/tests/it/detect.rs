use super::hospital;
use ward_ehr::explain::Link;
use ward_ehr::score::ScoreConfig;
use ward_ehr::{Detector, EhrConfig};

fn snoops() -> Vec<String> {
    [
        "2024-03-05T10:00:00Z,s1,ps,view",         // self, VIP, deceased
        "2024-03-06T10:00:00Z,g1,pl,view",         // family + address
        "2024-03-07T02:00:00Z,n01,pn,break_glass", // break glass, no encounter, off hours
        "2024-03-08T10:00:00Z,n04,pco,view",       // coworker, unexplained
        "2024-03-09T10:00:00Z,n06,pn,view",        // repeat across days
        "2024-03-11T10:00:00Z,n06,pn,print",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[test]
fn snooping_is_flagged_with_reasons_and_routine_is_not() {
    let ds = hospital::with_extra(&snoops());
    let det = Detector::new(EhrConfig::default()).unwrap().detect(&ds);
    let routine = hospital::routine().len() as u64;
    let flagged: Vec<u64> = det.flagged.iter().map(|f| f.row).collect();
    for r in routine..routine + 6 {
        assert!(
            flagged.contains(&r),
            "snoop row {r} not flagged: {flagged:?}"
        );
    }
    assert!(
        flagged.iter().all(|r| *r >= routine),
        "routine access flagged: {flagged:?}"
    );
    for f in &det.flagged {
        assert!(!f.reasons.is_empty(), "row {} has no reason", f.row);
        assert!(f.reasons.iter().all(|r| r.text.ends_with('.')));
    }
    let self_access = det.flagged.iter().find(|f| f.row == routine).unwrap();
    assert_eq!(
        (
            self_access.user_id.as_str(),
            self_access.patient_id.as_str()
        ),
        ("s1", "ps")
    );
    assert!(self_access.reasons.iter().any(|r| r.code == "self_access"));
    assert_eq!(
        self_access.reasons.last().map(|r| r.code),
        Some("unexplained")
    );
    assert_eq!(self_access.link, Link::Unexplained);
    // one case per user and day; ranks are dense and ordered by score
    assert_eq!(det.cases.len(), 6);
    for (i, c) in det.cases.iter().enumerate() {
        assert_eq!(c.id.0 as usize, i);
        assert!(!c.summary.is_empty() && !c.rows.is_empty());
        if let Some(next) = det.cases.get(i + 1) {
            assert!(c.score >= next.score);
        }
    }
    assert_eq!(det.report.flagged, det.flagged.len() as u64);
    assert_eq!(det.report.accesses, routine + 6);
    let strong = det.report.weights.of(ward_ehr::signals::Signal::SelfAccess);
    assert!(strong >= 3.0, "{strong}");
}

#[test]
fn the_daily_budget_caps_flags_and_keeps_the_best_cases() {
    // 12 unexplained accesses by 12 users-days... all on one day: a budget of 2 per day
    let mut extra = snoops();
    extra.extend((1..=10).map(|k| format!("2024-03-05T12:00:00Z,n{k:02},q{k:02},view")));
    let ds = hospital::with_extra(&extra);
    let cfg = EhrConfig {
        score: ScoreConfig {
            daily_budget_share: 0.0,
            daily_min_accesses: 2,
            ..ScoreConfig::default()
        },
        ..EhrConfig::default()
    };
    let det = Detector::new(cfg).unwrap().detect(&ds);
    let on_day5 = det
        .flagged
        .iter()
        .filter(|f| f.time.to_string().starts_with("2024-03-05"))
        .count();
    assert_eq!(on_day5, 2);
    // the self-access case outranks plain unexplained ones
    assert!(det.flagged.iter().any(|f| f.user_id == "s1"));
    assert!(det.report.over_budget > 0);
}

#[test]
fn bad_config_is_refused() {
    let cfg = EhrConfig {
        score: ScoreConfig {
            daily_budget_share: 1.5,
            ..ScoreConfig::default()
        },
        ..EhrConfig::default()
    };
    let e = Detector::new(cfg).unwrap_err().to_string();
    assert!(e.contains("daily_budget_share"), "{e}");
    let parsed: Result<EhrConfig, _> = serde_json::from_str(r#"{"score":{"budget":1}}"#);
    assert!(parsed.is_err());
}

#[test]
fn empty_log_gives_an_empty_detection() {
    let ds = ward_ehr::Loader::new().finish();
    let det = Detector::default().detect(&ds);
    assert!(det.flagged.is_empty() && det.cases.is_empty());
    assert_eq!(det.report.accesses, 0);
}

#[test]
fn cases_become_core_alerts_with_file_and_line_evidence() {
    let ds = hospital::with_extra(&snoops());
    let det = Detector::default().detect(&ds);
    let alerts = det.to_alerts();
    assert_eq!(alerts.len(), det.cases.len());
    let routine = hospital::routine().len() as u64;
    let a = alerts
        .iter()
        .find(|a| a.entity.to_string() == "user:s1")
        .unwrap();
    assert_eq!(a.detector, "ehr.access");
    assert_eq!(a.evidence.events[0].source, "access.csv");
    // row r is file line r + 2 (header, 1-based)
    assert_eq!(a.evidence.events[0].line, routine + 2);
    assert!(a.explanation.rules.iter().any(|r| r == "self_access"));
    assert!(
        a.explanation
            .contributions
            .iter()
            .any(|c| c.feature == "self_access")
    );
    assert!(a.explanation.summary.contains("User s1"));
    assert!(!a.title.contains("Smith"));
    assert!(a.score > 0);
    let v = serde_json::to_value(&det).unwrap();
    assert_eq!(
        v["flagged"][0]["reasons"][0]["text"]
            .as_str()
            .map(|t| t.ends_with('.')),
        Some(true)
    );
}

#[test]
fn graded_weights_grow_with_rarer_repetition_and_volume() {
    use ward_ehr::explain::{Explained, Link};
    use ward_ehr::score::{Grade, ScoreConfig, learn};
    use ward_ehr::signals::Signal;
    // 100 unexplained accesses: 40 repeats on 2 days, 5 on 6 days; 30 high volume at ratio
    // 1.2, 3 at ratio 4; the rest plain
    let (rep, vol) = (Signal::RepeatPatient.bit(), Signal::HighVolume.bit());
    let bits: Vec<u32> = (0..100)
        .map(|i| {
            if i < 45 {
                rep
            } else if i < 78 {
                vol
            } else {
                0
            }
        })
        .collect();
    let expl = vec![
        Explained {
            link: Link::Unexplained,
            reference: u32::MAX
        };
        100
    ];
    let grade = |i: usize| Grade {
        repeat_days: match i {
            0..40 => 2,
            40..45 => 6,
            _ => 0,
        },
        volume_ratio: match i {
            45..75 => 1.2,
            75..78 => 4.0,
            _ => 0.0,
        },
        hour_share: 1.0,
    };
    let w = learn(&bits, &expl, grade, &ScoreConfig::default());
    let rep_at = |d: u32| {
        w.of_access(
            Signal::RepeatPatient,
            Grade {
                repeat_days: d,
                ..Grade::default()
            },
        )
    };
    let vol_at = |r: f64| {
        w.of_access(
            Signal::HighVolume,
            Grade {
                volume_ratio: r,
                ..Grade::default()
            },
        )
    };
    assert!(rep_at(6) > rep_at(2) + 1.0, "{} {}", rep_at(2), rep_at(6));
    assert_eq!(rep_at(9), rep_at(6));
    assert_eq!(rep_at(3), rep_at(2));
    assert!(
        vol_at(4.0) > vol_at(1.2) + 1.0,
        "{} {}",
        vol_at(1.2),
        vol_at(4.0)
    );
    assert!(vol_at(1.2) >= w.of(Signal::HighVolume));
    assert!(vol_at(100.0) <= ScoreConfig::default().max_weight);
    // off hours: 10 unexplained accesses at hours with share 0.009, one at share 0
    let off = Signal::OffHours.bit();
    let bits: Vec<u32> = (0..100).map(|i| if i < 11 { off } else { 0 }).collect();
    let grade = |i: usize| Grade {
        hour_share: match i {
            0 => 0.0,
            1..11 => 0.009,
            _ => 1.0,
        },
        ..Grade::default()
    };
    let w = learn(&bits, &expl, grade, &ScoreConfig::default());
    let at = |h: f64| {
        w.of_access(
            Signal::OffHours,
            Grade {
                hour_share: h,
                ..Grade::default()
            },
        )
    };
    assert!(at(0.0) > at(0.009) + 1.0, "{} {}", at(0.0), at(0.009));
}

#[test]
fn a_longer_budget_window_shares_one_budget() {
    let ds = hospital::with_extra(&snoops());
    let flagged = |days: u32| {
        let cfg = EhrConfig {
            score: ScoreConfig {
                daily_budget_share: 0.0,
                daily_min_accesses: 2,
                budget_days: days,
                ..ScoreConfig::default()
            },
            ..EhrConfig::default()
        };
        Detector::new(cfg).unwrap().detect(&ds).flagged.len()
    };
    // six snooping days, two flags each; one 30-day window: two in all
    assert_eq!(flagged(1), 6);
    assert_eq!(flagged(30), 2);
    let bad = EhrConfig {
        score: ScoreConfig {
            budget_days: 0,
            ..ScoreConfig::default()
        },
        ..EhrConfig::default()
    };
    assert!(Detector::new(bad).is_err());
}
