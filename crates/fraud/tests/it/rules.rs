use ward_fraud::load::{self, ClaimReader, Ids, Kind, Mapping};
use ward_fraud::rules::{Engine, Rule, RuleConfig};

const HEAD: &str = "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed,AttendingPhysician,OperatingPhysician,OtherPhysician,AdmissionDt,DischargeDt,DiagnosisGroupCode,ClmDiagnosisCode_1,ClmProcedureCode_1,ClmProcedureCode_2\n";

fn run(inpatient: &str, outpatient: &str) -> (Ids, Vec<ward_fraud::Hit>, Engine) {
    let mut ids = Ids::default();
    let benes = "BeneID,DOB,DOD,State\nB1,1940-01-01,,5\nB2,1940-01-01,2009-06-01,5\nB3,1940-01-01,,5\nB4,1940-01-01,,5\n";
    let mut b = Vec::new();
    load::read_benes(benes.as_bytes(), "b.csv", &Mapping::new(), &mut ids, &mut b).unwrap();
    let leie = "NPI,EXCLTYPE,EXCLDATE,REINDATE\n2222222222,1128a1,20090301,20090601\n";
    let (x, _, _) = load::read_exclusions(leie.as_bytes(), "l.csv").unwrap();
    // PRV1 in California (5), PRV2 in California, PRV3 in New York (33), PRV4 in California
    let dir = "Id,NPI,Kind,Specialty,State\nPRV1,1,organization,internal_medicine,5\nPRV2,2,organization,internal_medicine,5\nPRV3,3,organization,internal_medicine,33\nPRV4,4,organization,internal_medicine,5\nPHYX,2222222222,individual,surgery,5\n";
    let (d, _) = load::read_directory(dir.as_bytes(), "d.csv").unwrap();
    let mut e = Engine::new(RuleConfig::default(), b, &x, &d, &mut ids);
    for (kind, text) in [(Kind::Inpatient, inpatient), (Kind::Outpatient, outpatient)] {
        let full = format!("{HEAD}{text}");
        let mut r = ClaimReader::new(full.as_bytes(), "c.csv", kind, &Mapping::new()).unwrap();
        while let Some(c) = r.next_claim(&mut ids) {
            e.observe(&c.unwrap(), &ids);
        }
    }
    let hits = e.finish(&ids);
    (ids, hits, e)
}

/// An engine with no beneficiaries, exclusions or directory, fed `text` (outpatient claims
/// after [`HEAD`]); the findings made along the way are taken every claim.
fn feed(cfg: RuleConfig, text: &str) -> (Ids, Engine, Vec<ward_fraud::Hit>) {
    let mut ids = Ids::default();
    let mut e = Engine::new(
        cfg,
        Vec::new(),
        &Default::default(),
        &Default::default(),
        &mut ids,
    );
    let mut r =
        ClaimReader::new(text.as_bytes(), "c.csv", Kind::Outpatient, &Mapping::new()).unwrap();
    let mut taken = Vec::new();
    while let Some(c) = r.next_claim(&mut ids) {
        e.observe(&c.unwrap(), &ids);
        taken.extend(e.take_findings());
    }
    (ids, e, taken)
}

fn rules_of(hits: &[ward_fraud::Hit], claim: &str) -> Vec<Rule> {
    hits.iter()
        .filter(|h| h.claim.as_deref() == Some(claim))
        .map(|h| h.rule)
        .collect()
}

#[test]
fn each_claim_rule_fires_with_a_reason_and_honest_look_alikes_do_not() {
    let inpatient = "\
B1,I1,2009-01-10,2009-01-15,PRV1,8000,PHY1,,,2009-01-10,2009-01-15,291,4280,,\n\
B1,I2,2009-01-15,2009-01-20,PRV2,8000,PHY2,,,2009-01-15,2009-01-20,291,4280,,\n\
B3,I3,2009-02-01,2009-02-10,PRV1,8000,PHY1,,,2009-02-01,2009-02-10,291,4280,,\n\
B3,I4,2009-02-05,2009-02-08,PRV2,8000,PHY2,,,2009-02-05,2009-02-08,291,4280,,\n";
    let outpatient = "\
B1,O1,2009-03-01,2009-03-01,PRV1,100,PHY1,,,,,,4019,,\n\
B1,O2,2009-03-01,2009-03-01,PRV1,100,PHY1,,,,,,4019,,\n\
B1,O3,2009-03-08,2009-03-08,PRV1,100,PHY1,,,,,,4019,,\n\
B2,O4,2009-07-01,2009-07-01,PRV2,100,PHY2,,,,,,4019,,\n\
B2,O5,2009-05-01,2009-05-01,PRV2,100,PHY2,,,,,,4019,,\n\
B3,O6,2009-04-01,2009-04-01,PRV2,900,PHY2,,,,,,715,8154,8026\n\
B3,O7,2009-04-02,2009-04-02,PRV2,900,PHYX,,,,,,715,,\n\
B3,O8,2009-07-02,2009-07-02,PRV2,900,PHYX,,,,,,715,,\n";
    let (_, hits, _) = run(inpatient, outpatient);
    // a transfer on the discharge day is not an overlap; a stay inside another is
    assert!(rules_of(&hits, "I2").is_empty(), "{hits:#?}");
    assert_eq!(rules_of(&hits, "I4"), [Rule::OverlappingStay]);
    // the same visit twice is a duplicate; the same visit a week later is not
    assert_eq!(rules_of(&hits, "O2"), [Rule::DuplicateClaim]);
    assert!(rules_of(&hits, "O3").is_empty());
    // after death, not before
    assert_eq!(rules_of(&hits, "O4"), [Rule::AfterDeath]);
    assert!(rules_of(&hits, "O5").is_empty());
    assert_eq!(rules_of(&hits, "O6"), [Rule::Unbundling]);
    // an excluded physician, inside the exclusion only
    assert_eq!(rules_of(&hits, "O7"), [Rule::ExcludedProvider]);
    assert!(rules_of(&hits, "O8").is_empty());
    for h in &hits {
        assert!(!h.reason.is_empty());
    }
    let why = hits
        .iter()
        .find(|h| h.rule == Rule::ExcludedProvider)
        .unwrap();
    assert!(
        why.reason.contains("PHYX") && why.reason.contains("1128a1"),
        "{}",
        why.reason
    );
}

#[test]
fn impossible_days_overbilling_and_identity_signals_need_every_claim() {
    let mut out = String::new();
    // PHY9 bills 100 visits with one procedure each on one day: 75 hours
    for i in 0..100 {
        out.push_str(&format!(
            "B{},V{i},2009-05-05,2009-05-05,PRV4,80,PHY9,,,,,,4019,8659,\n",
            1 + i % 4
        ));
    }
    // peers bill diagnosis 7802 at about $100; PRV3 at $1,000
    for i in 0..40 {
        out.push_str(&format!(
            "B1,P{i},2009-06-{:02},2009-06-{:02},PRV1,{},PHY1,,,,,,7802,,\n",
            1 + i % 28,
            1 + i % 28,
            90 + i % 20
        ));
    }
    for i in 0..4 {
        out.push_str(&format!(
            "B3,Q{i},2009-08-{:02},2009-08-{:02},PRV3,1000,PHY3,,,,,,7802,,\n",
            1 + i,
            1 + i
        ));
    }
    // B4: seen in California and New York on one day
    out.push_str("B4,D1,2009-09-09,2009-09-09,PRV1,60,PHY1,,,,,,4019,,\nB4,D2,2009-09-09,2009-09-09,PRV3,60,PHY3,,,,,,4019,,\n");
    // B2 (alive until June): five new providers in ten days
    for (i, p) in ["PRV1", "PRV2", "PRV3", "PRV4", "PRV5"].iter().enumerate() {
        out.push_str(&format!(
            "B2,U{i},2009-01-{:02},2009-01-{:02},{p},50,PHY1,,,,,,4019,,\n",
            10 + 2 * i,
            10 + 2 * i
        ));
    }
    let (ids, hits, e) = run("", &out);
    let of = |r: Rule| hits.iter().filter(|h| h.rule == r).collect::<Vec<_>>();
    let day = of(Rule::ImpossibleDay);
    assert_eq!(day.len(), 1, "{day:#?}");
    assert!(
        day[0].reason.contains("PHY9") && day[0].reason.contains("75.0 hours"),
        "{}",
        day[0].reason
    );
    let over = of(Rule::Overbilling);
    assert_eq!(over.len(), 1, "{over:#?}");
    assert_eq!(ids.providers.name(over[0].provider), "PRV3");
    let far = of(Rule::IdentityDistance);
    assert_eq!(far.len(), 2, "{far:#?}");
    assert!(far[0].reason.contains("km apart"));
    let burst = of(Rule::IdentityBurst);
    assert_eq!(burst.len(), 5, "{burst:#?}");
    // counts reach the providers
    let p3 = ids.providers.get("PRV3").unwrap() as usize;
    assert_eq!(e.providers[p3].hits[Rule::Overbilling.index()], 1);
    // and the provider table has one row per provider with claims
    let t = ward_fraud::provider::table(&e, &ids);
    assert_eq!(t.x.n_rows(), 5);
    assert_eq!(t.x.n_cols(), ward_fraud::provider::FEATURES.len());
    let s = ward_fraud::score(&t, None, 0.5).unwrap();
    assert!(s.iter().all(|s| (0.0..=1.0).contains(&s.score)));
}

#[test]
fn memory_per_beneficiary_is_bounded() {
    let cfg = RuleConfig {
        bene_memory: 4,
        ..RuleConfig::default()
    };
    let mut text = String::from(HEAD);
    for i in 0..200 {
        text.push_str(&format!(
            "B1,C{i},2009-01-01,2009-01-01,PRV1,{i},PHY1,,,,,,4019,,\n"
        ));
    }
    let (ids, mut e, taken) = feed(cfg, &text);
    assert_eq!(e.claims, 200);
    assert!(
        taken
            .iter()
            .chain(&e.finish(&ids))
            .all(|h| h.rule != Rule::DuplicateClaim)
    );
}

/// `years` of date-ordered outpatient claims: 40 beneficiaries, 8 providers, 16 physicians,
/// 24 claims a day.
fn steady_claims(years: u32) -> String {
    let mut text = String::from(HEAD);
    let start = ward_fraud::date::parse("2009-01-01").unwrap();
    let mut n = 0u32;
    for d in 0..(365 * years) as i32 {
        let day = ward_fraud::date::format(start + d);
        for k in 0..24u32 {
            let v = n.wrapping_mul(2_654_435_761);
            n += 1;
            text.push_str(&format!(
                "B{},C{n},{day},{day},PRV{},{},PHY{},,,,,,{},,\n",
                v % 40,
                (v >> 8) % 8,
                60 + (v >> 12) % 90,
                (k + d as u32) % 16,
                4000 + (v >> 16) % 30
            ));
        }
    }
    text
}

fn run_steady(years: u32) -> (u64, usize) {
    let (ids, mut e, _) = feed(RuleConfig::default(), &steady_claims(years));
    let state = e.footprint().total();
    e.finish(&ids);
    assert_eq!(e.late, 0);
    (e.claims, state)
}

#[test]
fn state_grows_with_people_not_with_claims() {
    let (c1, s1) = run_steady(1);
    let (c4, s4) = run_steady(4);
    assert_eq!(c4, 4 * c1);
    // four times the claims over the same people: the state barely moves (the open days fill
    // up to the horizon, the rest is per beneficiary and per provider)
    assert!(
        (s4 as f64) < 1.3 * s1 as f64,
        "state {s1} bytes after {c1} claims, {s4} after {c4}"
    );
}

#[test]
fn days_close_behind_the_horizon_and_late_claims_are_counted() {
    let cfg = RuleConfig {
        day_horizon: 10,
        ..RuleConfig::default()
    };
    let mut text = String::from(HEAD);
    // PHY1 bills 100 visits with a procedure on May 5th: 75 hours
    for i in 0..100 {
        text.push_str(&format!(
            "B{i},V{i},2009-05-05,2009-05-05,PRV1,80,PHY1,,,,,,4019,8659,\n"
        ));
    }
    // claims a week and two weeks later close May 5th; then one for May 5th comes too late
    text.push_str("B1,W1,2009-05-12,2009-05-12,PRV1,80,PHY2,,,,,,4019,,\n");
    text.push_str("B1,W3,2009-05-20,2009-05-20,PRV1,80,PHY2,,,,,,4019,,\n");
    text.push_str("B2,W2,2009-05-05,2009-05-05,PRV1,80,PHY1,,,,,,4019,,\n");
    let (ids, mut e, before_finish) = feed(cfg, &text);
    let day: Vec<_> = before_finish
        .iter()
        .filter(|h| h.rule == Rule::ImpossibleDay)
        .collect();
    assert_eq!(day.len(), 1, "{before_finish:#?}");
    assert!(day[0].reason.contains("75.0 hours"), "{}", day[0].reason);
    assert_eq!(e.late, 1);
    let rest = e.finish(&ids);
    assert!(
        rest.iter().all(|h| h.rule != Rule::ImpossibleDay),
        "{rest:#?}"
    );
    // the provider's days: May 5th (100 claims), 12th and 20th
    let p = ids.providers.get("PRV1").unwrap() as usize;
    assert_eq!((e.providers[p].days, e.providers[p].busiest), (3, 100));
    assert_eq!(
        Some(e.providers[p].last_finding),
        ward_fraud::date::parse("2009-05-05")
    );
    assert_eq!(e.findings, 1);
}

#[test]
fn examples_are_bounded_and_counts_exact() {
    let mut out = String::new();
    // 30 visits billed twice each
    for i in 0..30 {
        let line = format!(
            "B1,X{i},2009-03-{:02},2009-03-{:02},PRV1,100,PHY1,,,,,,4019,,\n",
            1 + i % 28,
            1 + i % 28
        );
        out.push_str(&line);
        out.push_str(&line.replacen(&format!("X{i},"), &format!("Y{i},"), 1));
    }
    let (ids, hits, e) = run("", &out);
    let p = ids.providers.get("PRV1").unwrap();
    let dups = hits
        .iter()
        .filter(|h| h.rule == Rule::DuplicateClaim)
        .count();
    assert_eq!(
        e.providers[p as usize].hits[Rule::DuplicateClaim.index()] as usize,
        dups
    );
    assert!(dups >= 28, "{dups}");
    let ex = e.examples(p);
    assert_eq!(ex.len(), RuleConfig::default().examples);
    assert!(ex.iter().all(|h| h.rule == Rule::DuplicateClaim));
}

#[test]
fn one_mistyped_date_does_not_close_the_open_days() {
    let mut text = String::from(HEAD);
    // PHY1 bills 100 visits with a procedure on May 5th, 2009: 75 hours
    for i in 0..100 {
        text.push_str(&format!(
            "B{i},V{i},2009-05-05,2009-05-05,PRV1,80,PHY1,,,,,,4019,8659,\n"
        ));
    }
    // one claim a century ahead, then a visit billed twice the next day
    text.push_str("B1,T1,2109-05-05,2109-05-05,PRV2,80,PHY2,,,,,,4019,,\n");
    text.push_str("B7,D1,2009-05-06,2009-05-06,PRV2,80,PHY2,,,,,,4019,,\n");
    text.push_str("B7,D2,2009-05-06,2009-05-06,PRV2,80,PHY2,,,,,,4019,,\n");
    let (ids, mut e, mut found) = feed(RuleConfig::default(), &text);
    found.extend(e.finish(&ids));
    let rules: Vec<Rule> = found.iter().map(|h| h.rule).collect();
    assert!(rules.contains(&Rule::ImpossibleDay), "{found:#?}");
    assert!(rules.contains(&Rule::DuplicateClaim), "{found:#?}");
    assert_eq!(e.late, 1);
    // a second finish makes nothing twice
    assert!(e.finish(&ids).is_empty());
    assert_eq!(e.findings as usize, found.len());
}

#[test]
fn a_mistyped_first_date_gives_way_to_the_claims_that_follow() {
    let mut text = String::from(HEAD);
    text.push_str("B1,T1,2109-05-05,2109-05-05,PRV2,80,PHY2,,,,,,4019,,\n");
    for i in 0..100 {
        text.push_str(&format!(
            "B{i},V{i},2009-05-05,2009-05-05,PRV1,80,PHY1,,,,,,4019,8659,\n"
        ));
    }
    let (ids, mut e, mut found) = feed(RuleConfig::default(), &text);
    found.extend(e.finish(&ids));
    // the first claims wait for CONFIRM in a row; the rest are counted (69 x 45 min)
    assert_eq!(e.late, u64::from(ward_fraud::rules::CONFIRM) - 1);
    let day: Vec<_> = found
        .iter()
        .filter(|h| h.rule == Rule::ImpossibleDay)
        .collect();
    assert_eq!(day.len(), 1, "{found:#?}");
    assert!(day[0].reason.contains("51.8 hours"), "{}", day[0].reason);
}
