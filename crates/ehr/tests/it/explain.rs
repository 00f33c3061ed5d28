use super::fixture;
use ward_ehr::explain::{ExplainConfig, Link, explain_all, pair_order};

/// Explains a log of `user,patient,time` lines with the fixture hospital.
fn links(log: &[(&str, &str, &str)]) -> Vec<Link> {
    let mut text = String::from("time,user_id,patient_id,action\n");
    for (u, p, t) in log {
        text.push_str(&format!("{t},{u},{p},view\n"));
    }
    let ds = fixture::with_access(&text).unwrap();
    let cfg = ExplainConfig::default();
    explain_all(&ds, &cfg, &pair_order(&ds))
        .iter()
        .map(|e| e.link)
        .collect()
}

#[test]
fn each_explanation_fires_and_stops_at_its_slack() {
    use Link::*;
    // encounter e1: p1 in cardiology 03-01 08:00 to 03-03 12:00, attending u2 (oncology);
    // care team: u1 (cardiology) on p2 from 03-01, open.
    let cases: &[(&str, (&str, &str, &str), Link)] = &[
        (
            "department, during",
            ("u1", "p1", "2024-03-02T10:00:00Z"),
            Department,
        ),
        (
            "department, 23 h before",
            ("u1", "p1", "2024-02-29T09:00:00Z"),
            Department,
        ),
        (
            "department, 25 h before",
            ("u1", "p1", "2024-02-29T07:00:00Z"),
            Unexplained,
        ),
        (
            "department, 2 d 23 h after",
            ("u1", "p1", "2024-03-06T11:00:00Z"),
            Department,
        ),
        (
            "department, 4 d after",
            ("u1", "p1", "2024-03-07T12:00:00Z"),
            Unexplained,
        ),
        (
            "attending, during",
            ("u2", "p1", "2024-03-02T10:00:00Z"),
            Attending,
        ),
        (
            "attending, 13 d after",
            ("u2", "p1", "2024-03-16T12:00:00Z"),
            Attending,
        ),
        (
            "attending, 22 d after: recent",
            ("u2", "p1", "2024-03-25T12:00:00Z"),
            RecentEncounter,
        ),
        (
            "attending, 33 d after",
            ("u2", "p1", "2024-04-05T12:00:00Z"),
            Unexplained,
        ),
        (
            "care team, open spell",
            ("u1", "p2", "2024-06-10T10:00:00Z"),
            CareTeam,
        ),
        (
            "care team, 23 h before",
            ("u1", "p2", "2024-02-29T01:00:00Z"),
            CareTeam,
        ),
        (
            "care team, 2 d before",
            ("u1", "p2", "2024-02-28T00:00:00Z"),
            Unexplained,
        ),
        (
            "other department",
            ("u3", "p1", "2024-03-02T10:00:00Z"),
            Unexplained,
        ),
        (
            "no encounter at all",
            ("u1", "p3", "2024-03-02T10:00:00Z"),
            Unexplained,
        ),
        (
            "unknown user",
            ("u9", "p1", "2024-03-02T10:00:00Z"),
            Unexplained,
        ),
        (
            "unknown patient",
            ("u1", "p9", "2024-03-02T10:00:00Z"),
            Unexplained,
        ),
    ];
    for (name, access, want) in cases {
        assert_eq!(links(&[*access]), [*want], "{name}");
    }
}

#[test]
fn repeat_explains_within_its_window_without_chaining() {
    use Link::*;
    // listed out of time order on purpose: the walk sorts by user, patient and time
    let got = links(&[
        ("u2", "p1", "2024-04-20T12:00:00Z"),
        ("u2", "p1", "2024-03-25T12:00:00Z"),
        ("u2", "p1", "2024-05-30T12:00:00Z"),
        ("u3", "p1", "2024-04-20T12:00:00Z"),
    ]);
    assert_eq!(got, [Repeat, RecentEncounter, Unexplained, Unexplained]);
}

#[test]
fn config_rejects_unknown_fields_and_bad_values() {
    let c: ExplainConfig = serde_json::from_str(r#"{"recent_days": 10}"#).unwrap();
    assert_eq!(c.recent_days, 10.0);
    assert_eq!(c.repeat_days, ExplainConfig::default().repeat_days);
    assert!(serde_json::from_str::<ExplainConfig>(r#"{"recnt_days": 10}"#).is_err());
    let bad = ExplainConfig {
        recent_days: f64::NAN,
        ..ExplainConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("recent_days"));
    assert!(ExplainConfig::default().validate().is_ok());
}

#[test]
fn repeat_also_looks_a_few_days_ahead() {
    use Link::*;
    let got = links(&[
        ("u1", "p1", "2024-02-24T10:00:00Z"), // 7 d before the explained access: repeat
        ("u1", "p1", "2024-02-20T10:00:00Z"), // 11 d before: unexplained
        ("u1", "p1", "2024-03-02T10:00:00Z"), // department
    ]);
    assert_eq!(got, [Repeat, Unexplained, Department]);
}
