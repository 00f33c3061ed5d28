//! The claims simulator: determinism, the file contract, labels against truth, the honest
//! world's constraints (physicians' days, deaths, states, code pairs) and each scheme's shape.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;
use ward_sim::claims::{
    BENEFICIARY_HEADER, ClaimKind, ClaimsSim, ClaimsSimConfig, ClaimsSimError, ClaimsWriters,
    EXCLUSIONS_HEADER, Excluded, INPATIENT_HEADER, LABELS_HEADER, OUTPATIENT_HEADER,
    PROVIDERS_HEADER, Scheme, TRUTH_HEADER, UNBUNDLING_PAIRS, generate, write_all,
};

fn small_cfg() -> ClaimsSimConfig {
    ClaimsSimConfig {
        beneficiaries: 4_000,
        providers: 200,
        ..ClaimsSimConfig::default()
    }
}

fn small() -> &'static ClaimsSim {
    static SIM: OnceLock<ClaimsSim> = OnceLock::new();
    SIM.get_or_init(|| generate(&small_cfg()))
}

/// The seven files as text, in the order of `FILES`.
fn files(sim: &ClaimsSim) -> Vec<String> {
    let mut w = ClaimsWriters {
        inpatient: Vec::new(),
        outpatient: Vec::new(),
        beneficiary: Vec::new(),
        providers: Vec::new(),
        exclusions: Vec::new(),
        labels: Vec::new(),
        truth: Vec::new(),
    };
    write_all(sim, &mut w).unwrap();
    [
        w.inpatient,
        w.outpatient,
        w.beneficiary,
        w.providers,
        w.exclusions,
        w.labels,
        w.truth,
    ]
    .into_iter()
    .map(|b| String::from_utf8(b).unwrap())
    .collect()
}

fn is_honest(sim: &ClaimsSim, c: &ward_sim::claims::Claim) -> bool {
    let _ = sim;
    c.truth.is_none()
}

fn scheme_of(sim: &ClaimsSim, c: &ward_sim::claims::Claim) -> Option<Scheme> {
    c.truth
        .and_then(|t| sim.truth.get(t as usize))
        .map(|t| t.scheme)
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let a = files(small());
    let b = files(&generate(&small_cfg()));
    assert_eq!(a, b);
    let c = files(&generate(&ClaimsSimConfig {
        seed: 7,
        ..small_cfg()
    }));
    assert_ne!(a[1], c[1]);
}

#[test]
fn every_file_has_its_contract_header_and_full_rows() {
    let f = files(small());
    let headers = [
        INPATIENT_HEADER,
        OUTPATIENT_HEADER,
        BENEFICIARY_HEADER,
        PROVIDERS_HEADER,
        EXCLUSIONS_HEADER,
        LABELS_HEADER,
        TRUTH_HEADER,
    ];
    for (text, header) in f.iter().zip(headers) {
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(header));
        let n = header.split(',').count();
        let mut rows = 0;
        for l in lines {
            assert!(!l.contains('"'), "no field needs quoting: {l}");
            assert_eq!(l.split(',').count(), n, "{header}: {l}");
            rows += 1;
        }
        assert!(rows > 0, "{header}");
    }
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/claims-format.md"
    ))
    .unwrap();
    let squash = |s: &str| -> String { s.split_whitespace().collect::<Vec<_>>().join(" ") };
    let docs = squash(&docs);
    for col in [
        "BeneID, ClaimID, ClaimStartDt, ClaimEndDt, Provider, InscClaimAmtReimbursed",
        "Id, NPI, Kind, Specialty, State",
        "Scheme, Provider, BeneID, ClaimID, Detail",
        "EXCLTYPE, EXCLDATE, REINDATE, WAIVERDATE, WVRSTATE",
    ] {
        assert!(docs.contains(col), "{col}");
    }
    // ids and codes look like the Kaggle files
    let out = &f[1];
    let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    assert!(row[0].starts_with("BENE") && row[1].starts_with("CLM") && row[4].starts_with("PRV"));
    assert!(row[6].starts_with("PHY") && row[2].len() == 10);
    for l in f[3].lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        assert_eq!(c[1].len(), 10, "{l}");
        assert!(matches!(c[2], "organization" | "individual"), "{l}");
        let state: u8 = c[4].parse().unwrap();
        assert!(ward_core::geo::state_centroid(state).is_some(), "{l}");
    }
    for l in f[2].lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        assert!(matches!(c[3], "1" | "2") && matches!(c[4], "1" | "2" | "3" | "4" | "5"));
        assert!(matches!(c[5], "0" | "Y"));
        let yob: i32 = c[1][..4].parse().unwrap();
        assert!((1910..=1985).contains(&yob), "{l}");
        assert!(c[10..21].iter().all(|v| matches!(*v, "1" | "2")), "{l}");
    }
}

#[test]
fn labels_match_the_truth_and_the_fraud_share() {
    let sim = small();
    let f = files(sim);
    let labels: BTreeMap<&str, &str> = f[5]
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap())
        .collect();
    let with_claims: BTreeSet<String> = sim
        .claims
        .iter()
        .map(|c| sim.provider_id(c.provider))
        .collect();
    assert_eq!(
        labels
            .keys()
            .map(|k| k.to_string())
            .collect::<BTreeSet<_>>(),
        with_claims
    );
    let in_truth: BTreeSet<&str> = f[6]
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    let yes: BTreeSet<&str> = labels
        .iter()
        .filter(|(_, v)| **v == "Yes")
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(in_truth, yes, "labelled Yes exactly when in the truth");
    let share = yes.len() as f64 / labels.len() as f64;
    assert!((0.07..=0.14).contains(&share), "{share}");
    // every scheme is present, and most of a fraudulent provider's claims look honest
    let schemes: BTreeSet<&str> = f[6]
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(schemes.len(), Scheme::ALL.len(), "{schemes:?}");
    let mut per: HashMap<u32, (usize, usize)> = HashMap::new();
    for c in &sim.claims {
        let e = per.entry(c.provider).or_default();
        e.0 += 1;
        e.1 += usize::from(c.truth.is_some());
    }
    let (all, bad) = sim
        .providers
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.schemes.is_empty())
        .filter_map(|(i, _)| per.get(&(i as u32)))
        .fold((0, 0), |(a, b), &(x, y)| (a + x, b + y));
    assert!(
        bad * 3 < all,
        "{bad} of {all} claims of fraudulent providers are fraudulent"
    );
}

#[test]
fn fraudulent_providers_tend_to_be_larger() {
    let sim = small();
    let mut n = vec![0usize; sim.providers.len()];
    for c in sim.claims.iter().filter(|c| c.truth.is_none()) {
        n[c.provider as usize] += 1;
    }
    let median = |fraud: bool| {
        let mut v: Vec<usize> = (0..n.len())
            .filter(|&i| sim.is_fraudulent(i as u32) == fraud && n[i] > 0)
            .map(|i| n[i])
            .collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    assert!(
        median(true) > 2 * median(false),
        "{} vs {}",
        median(true),
        median(false)
    );
    // and yet the largest providers include honest hospitals
    let mut by_size: Vec<usize> = (0..n.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(n[i]));
    assert!(
        by_size
            .iter()
            .take(10)
            .any(|&i| !sim.is_fraudulent(i as u32) && sim.providers[i].hospital)
    );
}

/// Minutes per (physician, day) under the detector's default assumption.
fn physician_days(sim: &ClaimsSim) -> HashMap<(u32, i32), u32> {
    let mut m: HashMap<(u32, i32), u32> = HashMap::new();
    for c in &sim.claims {
        *m.entry((c.attending, c.start)).or_default() += c.minutes();
    }
    m
}

#[test]
fn honest_physicians_stay_under_24_hours_and_impossible_days_exceed_it() {
    let sim = small();
    let days = physician_days(sim);
    let mut impossible: BTreeSet<(u32, i32)> = BTreeSet::new();
    let mut touched: BTreeSet<u32> = BTreeSet::new();
    for c in &sim.claims {
        match scheme_of(sim, c) {
            Some(Scheme::ImpossibleDay) => {
                impossible.insert((c.attending, c.start));
            }
            Some(_) => {
                touched.insert(c.attending);
            }
            None => {}
        }
    }
    assert!(!impossible.is_empty());
    for k in &impossible {
        assert!(days[k] > 24 * 60, "{k:?}: {} min", days[k]);
    }
    let mut busiest_honest = 0;
    for (k, &m) in &days {
        if impossible.contains(k) {
            continue;
        }
        assert!(
            m < 24 * 60,
            "{k:?}: {m} min without an impossible_day claim"
        );
        if !touched.contains(&k.0) {
            assert!(m <= 12 * 60, "{k:?}: {m} min");
            busiest_honest = busiest_honest.max(m);
        }
    }
    // busy physicians exist: a detector cannot flag every long day
    assert!(busiest_honest >= 3 * 60, "{busiest_honest}");
}

#[test]
fn the_dead_have_no_honest_claims_and_after_death_claims_follow_death() {
    let sim = small();
    let mut after = 0;
    for c in &sim.claims {
        let b = &sim.beneficiaries[c.bene as usize];
        let Some(dod) = b.dod else { continue };
        if is_honest(sim, c) {
            assert!(c.start <= dod && c.end <= dod, "{}", sim.bene_id(c.bene));
        } else if scheme_of(sim, c) == Some(Scheme::AfterDeath) {
            assert!(c.start > dod);
            after += 1;
        }
    }
    assert!(after > 0);
    let dead = sim.beneficiaries.iter().filter(|b| b.dod.is_some()).count();
    let share = dead as f64 / sim.beneficiaries.len() as f64;
    assert!((0.01..0.04).contains(&share), "{share}");
}

#[test]
fn honest_beneficiaries_are_in_one_state_a_day_but_snowbirds_travel() {
    let sim = small();
    let mut states: HashMap<(u32, i32), BTreeSet<u8>> = HashMap::new();
    let mut seen_in: HashMap<u32, BTreeSet<u8>> = HashMap::new();
    for c in sim.claims.iter().filter(|c| c.truth.is_none()) {
        let st = sim.providers[c.provider as usize].state;
        states.entry((c.bene, c.start)).or_default().insert(st);
        seen_in.entry(c.bene).or_default().insert(st);
    }
    assert!(states.values().all(|s| s.len() == 1));
    // patients are mostly seen in their own state (or where they winter)
    let honest: Vec<_> = sim.claims.iter().filter(|c| c.truth.is_none()).collect();
    let at_home = honest
        .iter()
        .filter(|c| {
            let b = &sim.beneficiaries[c.bene as usize];
            let st = sim.providers[c.provider as usize].state;
            st == b.state || b.winter_state == Some(st)
        })
        .count();
    assert!(
        at_home * 100 > honest.len() * 85,
        "{at_home} of {}",
        honest.len()
    );
    let snowbirds = seen_in
        .iter()
        .filter(|(b, s)| {
            sim.beneficiaries[**b as usize]
                .winter_state
                .is_some_and(|w| s.contains(&w))
        })
        .count();
    assert!(snowbirds > 10, "{snowbirds}");
    // identity theft puts one beneficiary far apart on the same day
    for t in sim
        .truth
        .iter()
        .filter(|t| t.scheme == Scheme::IdentityDistance)
    {
        let c = &sim.claims[t.claim.unwrap() as usize];
        let o = &sim.claims[t.related.unwrap() as usize];
        assert_eq!((c.bene, c.start), (o.bene, o.start));
        let d = ward_core::geo::state_distance_km(
            sim.providers[c.provider as usize].state,
            sim.providers[o.provider as usize].state,
        )
        .unwrap();
        assert!(d >= 1500.0, "{d}");
    }
}

#[test]
fn honest_stays_never_overlap_but_transfers_touch() {
    let sim = small();
    let mut stays: HashMap<u32, Vec<(i32, i32, u32)>> = HashMap::new();
    for c in sim
        .claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Inpatient && c.truth.is_none())
    {
        assert!(c.end >= c.start && !sim.drg_code(c).is_empty());
        stays
            .entry(c.bene)
            .or_default()
            .push((c.start, c.end, c.provider));
    }
    let mut transfers = 0;
    for v in stays.values_mut() {
        v.sort_unstable();
        for w in v.windows(2) {
            assert!(w[1].0 >= w[0].1, "{w:?}");
            if w[1].0 == w[0].1 && w[1].2 != w[0].2 {
                transfers += 1;
            }
        }
    }
    assert!(transfers > 0);
    let overlaps = sim
        .truth
        .iter()
        .filter(|t| t.scheme == Scheme::OverlappingStay)
        .count();
    assert!(overlaps > 0);
    for t in sim
        .truth
        .iter()
        .filter(|t| t.scheme == Scheme::OverlappingStay)
    {
        let c = &sim.claims[t.claim.unwrap() as usize];
        let o = &sim.claims[t.related.unwrap() as usize];
        assert!(c.start > o.start && c.start < o.end && c.provider != o.provider);
    }
}

#[test]
fn code_pairs_appear_together_only_when_unbundled() {
    let sim = small();
    let mut unbundled = 0;
    for c in &sim.claims {
        let codes: Vec<&str> = c.procs.iter().map(|&p| sim.code(p)).collect();
        let paired = UNBUNDLING_PAIRS
            .iter()
            .any(|(a, b)| codes.contains(a) && codes.contains(b));
        if scheme_of(sim, c) == Some(Scheme::Unbundling) {
            assert!(paired, "{codes:?}");
            unbundled += 1;
        } else {
            assert!(!paired, "{codes:?}");
        }
    }
    assert!(unbundled > 0);
    // the comprehensive codes are billed honestly too
    let honest_comprehensive = sim
        .claims
        .iter()
        .filter(|c| c.truth.is_none())
        .filter(|c| {
            c.procs
                .iter()
                .any(|&p| UNBUNDLING_PAIRS.iter().any(|(a, _)| *a == sim.code(p)))
        })
        .count();
    assert!(honest_comprehensive > 20, "{honest_comprehensive}");
}

#[test]
fn duplicates_copy_a_claim_and_honest_repeats_fall_on_other_days() {
    let sim = small();
    let key = |c: &ward_sim::claims::Claim| {
        (
            c.bene,
            c.provider,
            c.attending,
            c.amount,
            c.dx,
            c.procs,
            c.end - c.start,
        )
    };
    for t in sim
        .truth
        .iter()
        .filter(|t| t.scheme == Scheme::DuplicateClaim)
    {
        let c = &sim.claims[t.claim.unwrap() as usize];
        let o = &sim.claims[t.related.unwrap() as usize];
        assert_eq!((key(c), c.start), (key(o), o.start));
        assert!(o.truth.is_none());
    }
    let mut same: HashMap<_, BTreeSet<i32>> = HashMap::new();
    let mut same_day_twins = 0;
    for c in sim
        .claims
        .iter()
        .filter(|c| c.truth.is_none() && c.kind == ClaimKind::Outpatient)
    {
        if !same.entry(key(c)).or_default().insert(c.start) {
            same_day_twins += 1;
        }
    }
    assert_eq!(
        same_day_twins, 0,
        "honest claims are never exact same-day copies"
    );
    let repeats = same.values().filter(|d| d.len() > 1).count();
    assert!(repeats > 50, "{repeats}");
}

#[test]
fn excluded_physicians_bill_after_their_exclusion_and_others_do_not() {
    let sim = small();
    let mut excl: HashMap<u32, (i32, Option<i32>)> = HashMap::new();
    for r in &sim.exclusions {
        if let Excluded::Physician(p) = r.who {
            excl.insert(p, (r.excl_day, r.rein_day));
        }
    }
    let mut flagged = 0;
    let mut reinstated_billing = 0;
    for c in &sim.claims {
        let Some(&(from, until)) = excl.get(&c.attending) else {
            continue;
        };
        let in_force = c.start >= from && until.is_none_or(|u| c.start < u);
        if scheme_of(sim, c) == Some(Scheme::ExcludedProvider) {
            assert!(in_force);
            flagged += 1;
        } else if c.truth.is_none() {
            assert!(!in_force, "honest claim of an excluded physician");
            reinstated_billing += 1;
        }
    }
    assert!(
        flagged > 0 && reinstated_billing > 0,
        "{flagged} {reinstated_billing}"
    );
    assert!(sim.exclusions.len() > small_cfg().excluded_others as usize);
    assert!(sim.exclusions.iter().any(|r| r.rein_day.is_some()));
}

#[test]
fn each_scheme_looks_like_its_typology() {
    let sim = small();
    let by: BTreeMap<Scheme, Vec<&ward_sim::claims::Truth>> =
        sim.truth.iter().fold(BTreeMap::new(), |mut m, t| {
            m.entry(t.scheme).or_insert_with(Vec::new).push(t);
            m
        });
    // upcoding bills a more severe DRG than the honest stays of the same family
    for t in &by[&Scheme::Upcoding] {
        let c = &sim.claims[t.claim.unwrap() as usize];
        assert!(c.kind == ClaimKind::Inpatient && t.detail.contains(sim.drg_code(c)));
    }
    // identity bursts: several providers new to the beneficiary within two weeks
    let mut bursts: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for t in &by[&Scheme::IdentityBurst] {
        bursts.entry(t.bene).or_default().insert(t.provider);
    }
    assert!(bursts.values().any(|p| p.len() >= 4), "{bursts:?}");
    // patient sharing: ring members bill the same beneficiaries
    let mut shared: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for t in &by[&Scheme::PatientSharing] {
        shared.entry(t.bene).or_default().insert(t.provider);
    }
    assert!(shared.values().filter(|p| p.len() >= 2).count() >= 5);
    // overbilling: several times the same provider's honest amount for the DRG or codes
    for t in &by[&Scheme::Overbilling] {
        assert!(t.detail.contains("times the usual amount"));
    }
    // phantom billing adds claims at fraudulent providers only
    assert!(
        by[&Scheme::PhantomBilling]
            .iter()
            .all(|t| sim.is_fraudulent(t.provider))
    );
    // every truth row but none of the honest claims names its claim
    assert!(sim.truth.iter().all(|t| t.claim.is_some()));
    assert_eq!(
        sim.claims.iter().filter(|c| c.truth.is_some()).count(),
        sim.truth.len()
    );
}

#[test]
fn configuration_is_checked_with_clear_errors() {
    assert!(ClaimsSimConfig::default().validate().is_ok());
    let parsed: ClaimsSimConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(parsed, ClaimsSimConfig::default());
    let err = serde_json::from_str::<ClaimsSimConfig>(r#"{"unknown_knob": 1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown_knob"), "{err}");
    let bad = |f: fn(&mut ClaimsSimConfig)| {
        let mut c = ClaimsSimConfig::default();
        f(&mut c);
        c.validate().unwrap_err()
    };
    assert!(matches!(bad(|c| c.days = 0), ClaimsSimError::Days(0)));
    assert!(matches!(
        bad(|c| c.beneficiaries = 5),
        ClaimsSimError::Beneficiaries(5)
    ));
    assert!(matches!(
        bad(|c| c.providers = 30_000),
        ClaimsSimError::Providers { .. }
    ));
    assert!(matches!(
        bad(|c| c.start = "2009-02-30".into()),
        ClaimsSimError::Start(_)
    ));
    assert!(matches!(
        bad(|c| c.start = "01/01/2009".into()),
        ClaimsSimError::Start(_)
    ));
    let e = bad(|c| c.fraud_share = 0.9);
    assert!(e.to_string().contains("fraud_share"), "{e}");
    let e = bad(|c| c.fraud_intensity = f64::NAN);
    assert!(e.to_string().contains("fraud_intensity"), "{e}");
    let e = bad(|c| c.scheme_weights.upcoding = -1.0);
    assert!(e.to_string().contains("scheme_weights.upcoding"), "{e}");
    let e = bad(|c| {
        c.scheme_weights = ward_sim::claims::SchemeWeights {
            phantom_billing: 0.0,
            upcoding: 0.0,
            unbundling: 0.0,
            excluded_provider: 0.0,
            after_death: 0.0,
            overlapping_stay: 0.0,
            duplicate_claim: 0.0,
            impossible_day: 0.0,
            overbilling: 0.0,
            identity_distance: 0.0,
            identity_burst: 0.0,
            patient_sharing: 0.0,
        };
    });
    assert_eq!(e, ClaimsSimError::NoSchemeWeight);
    let e = bad(|c| {
        c.beneficiaries = 2_000_000;
        c.outpatient_per_year = 40.0;
    });
    assert!(matches!(e, ClaimsSimError::TooLarge(_)), "{e}");
    // generate clamps what validate refuses instead of panicking
    let sim = generate(&ClaimsSimConfig {
        beneficiaries: 1,
        providers: 0,
        days: 0,
        fraud_share: f64::INFINITY,
        start: "garbage".into(),
        ..ClaimsSimConfig::default()
    });
    assert_eq!(sim.beneficiaries.len(), 100);
    assert_eq!(sim.days, 1);
}

#[test]
fn no_fraud_means_no_truth_and_all_labels_no() {
    let sim = generate(&ClaimsSimConfig {
        fraud_share: 0.0,
        beneficiaries: 1_000,
        providers: 50,
        ..ClaimsSimConfig::default()
    });
    assert!(sim.truth.is_empty());
    let f = files(&sim);
    assert!(f[5].lines().skip(1).all(|l| l.ends_with(",No")));
    assert_eq!(f[6].lines().count(), 1);
}

#[test]
fn varied_payers_are_valid_seeded_and_spread_over_their_ranges() {
    let a = ClaimsSimConfig::varied(1000);
    assert_eq!(a, ClaimsSimConfig::varied(1000));
    let payers: Vec<ClaimsSimConfig> = (0..40).map(ClaimsSimConfig::varied).collect();
    for p in &payers {
        p.validate().unwrap();
        assert_eq!((p.beneficiaries, p.providers, p.days), (20_000, 1_000, 365));
    }
    // every varied field moves, and stays in its range
    type Field = (&'static str, fn(&ClaimsSimConfig) -> f64);
    let fields: [Field; 12] = [
        ("hospital_share", |c| c.hospital_share),
        ("physicians_per_provider", |c| c.physicians_per_provider),
        ("outpatient_per_year", |c| c.outpatient_per_year),
        ("inpatient_per_year", |c| c.inpatient_per_year),
        ("repeat_visit_share", |c| c.repeat_visit_share),
        ("transfer_share", |c| c.transfer_share),
        ("snowbird_share", |c| c.snowbird_share),
        ("out_of_state_share", |c| c.out_of_state_share),
        ("deceased_share", |c| c.deceased_share),
        ("outlier_share", |c| c.outlier_share),
        ("fraud_share", |c| c.fraud_share),
        ("fraud_intensity", |c| c.fraud_intensity),
    ];
    for ((name, get), (range_name, lo, hi)) in fields.iter().zip(ward_sim::claims::VARIED_RANGES) {
        assert_eq!(*name, range_name);
        let v: Vec<f64> = payers.iter().map(get).collect();
        let (min, max) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(
            min >= lo && max <= hi,
            "{name}: {min}..{max} outside {lo}..{hi}"
        );
        assert!(
            max - min > (hi - lo) / 2.0,
            "{name}: {min}..{max} barely moves"
        );
    }
    let starts: BTreeSet<&str> = payers.iter().map(|p| p.start.as_str()).collect();
    assert!(starts.len() > 10, "{starts:?}");
}
