#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_phish::mail::Limits;
use ward_phish::{Org, corpus, score};

// Any bytes as a nazario-layout CSV: rows or an error naming the row, never a panic.
fuzz_target!(|data: &[u8]| {
    match corpus::read_nazario(data, "fuzz.csv", &Limits::default()) {
        Ok(rows) => {
            for r in rows {
                assert!(score(&r.mail, &Org::default(), None).score <= 100);
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.csv: row ")),
    }
});
