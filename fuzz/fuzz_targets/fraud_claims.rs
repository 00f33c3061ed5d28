#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_fraud::load::{self, ClaimReader, Ids, Kind, Mapping, MergedClaims};
use ward_fraud::{Engine, RuleConfig};

// Any bytes as a beneficiary file, then as an inpatient and an outpatient claims file read side
// by side: claims or errors naming the file and line, never a panic; every claim read goes
// through the rules (with a short day horizon, so that days close and claims come late).
fuzz_target!(|data: &[u8]| {
    let mut ids = Ids::default();
    let mut benes = Vec::new();
    let _ = load::read_benes(data, "b.csv", &Mapping::new(), &mut ids, &mut benes);
    let cfg = RuleConfig {
        day_horizon: 3,
        bene_memory: 4,
        ..RuleConfig::default()
    };
    let mut e = Engine::new(cfg, benes, &Default::default(), &Default::default(), &mut ids);
    let readers: Vec<_> = [Kind::Inpatient, Kind::Outpatient]
        .into_iter()
        .filter_map(|kind| ClaimReader::new(data, "c.csv", kind, &Mapping::new()).ok())
        .collect();
    let mut m = MergedClaims::new(readers);
    let mut seen = 0u64;
    while let Some(c) = m.next_claim(&mut ids) {
        match c {
            Ok(c) => {
                e.observe(&c, &ids);
                seen += 1;
            }
            Err(err) => assert!(err.to_string().starts_with("c.csv: line ")),
        }
        let _ = e.take_findings();
    }
    assert_eq!(seen, m.counts.iter().sum::<u64>());
    assert_eq!(seen, e.claims);
    let _ = e.finish(&ids);
    let _ = e.footprint();
});
