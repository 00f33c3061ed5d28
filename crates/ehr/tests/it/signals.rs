use super::hospital;
use ward_ehr::explain::{ExplainConfig, explain_all, pair_order};
use ward_ehr::signals::{Signal, SignalConfig, compute, describe};

/// An access line on 2024-03-05 at `hh:mm` UTC.
fn at(hhmm: &str, user: &str, patient: &str, action: &str) -> String {
    format!("2024-03-05T{hhmm}:00Z,{user},{patient},{action}")
}

/// Signals of the last extra access, and every reason sentence of it.
fn last_signals(extra: &[String]) -> (Vec<Signal>, Vec<String>) {
    let ds = hospital::with_extra(extra);
    let order = pair_order(&ds);
    let expl = explain_all(&ds, &ExplainConfig::default(), &order);
    let cfg = SignalConfig::default();
    let sig = compute(&ds, &cfg, &expl, &order);
    let i = ds.accesses.len() - 1;
    let mask = sig.bits[i];
    let on: Vec<Signal> = Signal::ALL.into_iter().filter(|s| s.is_in(mask)).collect();
    let text = on
        .iter()
        .map(|s| describe(&ds, &sig, &cfg, i, *s))
        .collect();
    (on, text)
}

#[test]
fn every_signal_fires_and_stays_quiet() {
    use Signal::*;
    let day = |d: u32, user: &str, patient: &str| {
        format!("2024-03-{d:02}T10:00:00Z,{user},{patient},view")
    };
    let day_at =
        |d: u32, hhmm: &str, user: &str| format!("2024-03-{d:02}T{hhmm}:00Z,{user},c01,view");
    let burst: Vec<String> = (1..=15)
        .map(|k| at("10:00", "n03", &format!("c{k:02}"), "view"))
        .collect();
    // w1 opens twelve patients on each of four days: busy for a nurse, usual for w1
    let busy_daily: Vec<String> = (2..=5)
        .flat_map(|d| {
            (1..=12).map(move |k| format!("2024-03-{d:02}T10:{k:02}:00Z,w1,c{k:02},view"))
        })
        .collect();
    let six: Vec<String> = (1..=6)
        .map(|k| at(&format!("10:{k:02}"), "n05", &format!("q{k:02}"), "view"))
        .collect();
    type Case<'a> = (&'a str, Vec<String>, &'a [Signal], &'a [Signal]);
    let cases: Vec<Case> = vec![
        (
            "self",
            vec![at("10:00", "s1", "ps", "view")],
            &[SelfAccess],
            &[FamilyName, Coworker, CoworkerSameDepartment],
        ),
        (
            "family and address",
            vec![at("10:00", "g1", "pl", "view")],
            &[FamilyName, SameAddress, OutsideCommunity],
            &[SameStreet, SelfAccess],
        ),
        (
            "same street",
            vec![at("10:00", "w1", "pst", "view")],
            &[SameStreet],
            &[SameAddress, FamilyName],
        ),
        (
            "coworker, same department",
            vec![at("10:00", "n01", "pco", "view")],
            &[CoworkerSameDepartment],
            &[Coworker],
        ),
        (
            "coworker, other department",
            vec![at("10:00", "g1", "pco", "view")],
            &[Coworker],
            &[CoworkerSameDepartment],
        ),
        (
            "vip, deceased",
            vec![at("10:00", "n01", "ps", "view")],
            &[Vip, Deceased, Coworker],
            &[SelfAccess],
        ),
        (
            "deceased, within grace",
            vec!["2024-01-01T20:00:00Z,n01,ps,view".into()],
            &[Vip],
            &[Deceased],
        ),
        (
            "break glass, no encounter",
            vec![at("10:00", "n01", "pn", "break_glass")],
            &[BreakGlassNoEncounter, OutsideCommunity],
            &[],
        ),
        (
            "break glass, encounter active",
            vec![at("10:00", "g1", "c01", "break_glass")],
            &[],
            &[BreakGlassNoEncounter, NoEncounter],
        ),
        (
            "no encounter anywhere around it",
            vec![at("10:00", "g1", "pn", "view")],
            &[NoEncounter, OutsideCommunity],
            &[],
        ),
        (
            "plain explained access",
            vec![at("11:00", "n01", "c01", "view")],
            &[],
            &Signal::ALL,
        ),
        (
            "off hours",
            vec![at("03:00", "n01", "c01", "view")],
            &[OffHours],
            &[OutsideCommunity],
        ),
        (
            "a second night is still off hours",
            vec![day_at(2, "03:00", "n06"), day_at(5, "03:10", "n06")],
            &[OffHours],
            &[],
        ),
        (
            "nights on several days become usual hours",
            vec![
                day_at(2, "03:00", "n06"),
                day_at(3, "02:30", "n06"),
                day_at(4, "04:00", "n06"),
                day_at(6, "03:20", "n06"),
                day_at(5, "03:10", "n06"),
            ],
            &[],
            &[OffHours],
        ),
        (
            "too few active days for usual hours",
            vec![day_at(3, "10:00", "w1"), day_at(5, "03:00", "w1")],
            &[],
            &[OffHours],
        ),
        (
            "unknown user",
            vec![at("10:00", "zz", "c01", "view")],
            &[UnknownUser],
            &[UnknownPatient],
        ),
        (
            "unknown patient",
            vec![at("10:00", "n01", "qq", "view")],
            &[UnknownPatient],
            &[UnknownUser],
        ),
        (
            "repeat across days",
            vec![day(5, "n01", "pn"), day(7, "n01", "pn")],
            &[RepeatPatient],
            &[],
        ),
        (
            "once is not a repeat",
            vec![day(5, "n01", "pn"), day(5, "n01", "pn")],
            &[],
            &[RepeatPatient],
        ),
        ("high volume", burst, &[HighVolume], &[]),
        (
            "busy every day is not high volume",
            busy_daily,
            &[],
            &[HighVolume],
        ),
        (
            "normal volume",
            vec![at("10:00", "n04", "c01", "view")],
            &[],
            &[HighVolume],
        ),
        (
            "many unexplained",
            six,
            &[ManyUnexplained, OutsideCommunity],
            &[],
        ),
        (
            "one unexplained",
            vec![at("10:00", "n05", "q01", "view")],
            &[OutsideCommunity],
            &[ManyUnexplained],
        ),
        (
            "inside community, outside time",
            vec!["2024-05-01T10:00:00Z,n01,c01,view".into()],
            &[NoEncounter],
            &[OutsideCommunity],
        ),
    ];
    for (name, extra, want, not) in cases {
        let (on, text) = last_signals(&extra);
        for s in want {
            assert!(on.contains(s), "{name}: {s:?} missing from {on:?}");
        }
        for s in not {
            assert!(!on.contains(s), "{name}: {s:?} fired: {on:?}");
        }
        for t in &text {
            assert!(!t.is_empty() && t.ends_with('.'), "{name}: {t:?}");
            for secret in ["Smith", "Lopez", "García", "Main", "Birch", "Cedar", "Oak"] {
                assert!(!t.contains(secret), "{name}: reason names PHI: {t}");
            }
        }
    }
}

#[test]
fn reasons_quote_ids_and_figures() {
    let burst: Vec<String> = (1..=15)
        .map(|k| at("10:00", "n03", &format!("c{k:02}"), "view"))
        .collect();
    let (_, text) = last_signals(&burst);
    assert!(
        text.iter()
            .any(|t| t.contains("User n03 opened 15 distinct patients")
                && t.contains("median of 3 and their own usual 3 on other days")),
        "{text:?}"
    );
    let (_, text) = last_signals(&[at("10:00", "g1", "pl", "view")]);
    assert!(
        text.iter()
            .any(|t| t == "User g1 shares the last name of patient pl."),
        "{text:?}"
    );
    let (_, text) = last_signals(&[at("03:00", "n01", "c01", "view")]);
    assert!(
        text.iter().any(|t| t
            == "User n01 accessed the record at 03:00 UTC; on none of their 19 other active days in the log did they access any record within an hour of that time."),
        "{text:?}"
    );
}

#[test]
fn config_defaults_and_validation() {
    let c: SignalConfig = serde_json::from_str(r#"{"volume_z": 5}"#).unwrap();
    assert_eq!(c.volume_z, 5.0);
    assert_eq!(c.repeat_min_days, 2);
    assert!(serde_json::from_str::<SignalConfig>(r#"{"volume": 5}"#).is_err());
    let bad = SignalConfig {
        off_hours_max_share: 2.0,
        ..SignalConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn break_glass_session_and_common_surnames() {
    use Signal::*;
    // the views after a break-the-glass on the same patient that day belong to its session
    let (on, _) = last_signals(&[
        at("10:00", "n01", "pn", "break_glass"),
        at("10:05", "n01", "pn", "view"),
    ]);
    assert!(on.contains(&BreakGlassNoEncounter), "{on:?}");
    let (on, _) = last_signals(&[
        at("10:00", "n01", "pn", "break_glass"),
        "2024-03-06T10:05:00Z,n01,pn,view".to_owned(),
    ]);
    assert!(!on.contains(&BreakGlassNoEncounter), "next day: {on:?}");
    // a surname carried by many patients is not a family link on its own
    let cfg = SignalConfig {
        family_common_share: 0.0,
        family_common_min: 0,
        ..SignalConfig::default()
    };
    let ds = hospital::with_extra(&[at("10:00", "g1", "pl", "view")]);
    let order = pair_order(&ds);
    let expl = explain_all(&ds, &ExplainConfig::default(), &order);
    let sig = compute(&ds, &cfg, &expl, &order);
    let last = *sig.bits.last().unwrap();
    assert!(!FamilyName.is_in(last) && SameAddress.is_in(last));
}
