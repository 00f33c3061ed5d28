#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(spans) = ward_deid::read_phrases("fuzz.phi.phrase", data) {
        for g in &spans {
            assert!(g.start <= g.end, "span {}..{}", g.start, g.end);
        }
    }
});
