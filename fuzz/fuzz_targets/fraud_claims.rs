#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_fraud::load::{self, ClaimReader, Ids, Kind, Mapping};
use ward_fraud::{Engine, RuleConfig};

// Any bytes as a claims file, then as a beneficiary file: claims or errors naming the file and
// line, never a panic; every claim read goes through the rules.
fuzz_target!(|data: &[u8]| {
    let mut ids = Ids::default();
    let mut benes = Vec::new();
    let _ = load::read_benes(data, "b.csv", &Mapping::new(), &mut ids, &mut benes);
    let mut e = Engine::new(RuleConfig::default(), benes, &Default::default(), &Default::default(), &mut ids);
    for kind in [Kind::Inpatient, Kind::Outpatient] {
        let Ok(mut r) = ClaimReader::new(data, "c.csv", kind, &Mapping::new()) else {
            continue;
        };
        while let Some(c) = r.next_claim(&mut ids) {
            match c {
                Ok(c) => e.observe(&c, &ids),
                Err(err) => assert!(err.to_string().starts_with("c.csv: line ")),
            }
        }
    }
    let _ = e.finish(&ids);
});
