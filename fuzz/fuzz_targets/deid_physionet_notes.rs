#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(notes) = ward_deid::read_notes("fuzz.text", data) {
        for n in &notes {
            assert!(n.line >= 1);
        }
    }
});
