#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_phish::mail::{Limits, Mail};
use ward_phish::{Org, corpus, score};

// Any bytes: split as an mbox, each message parsed within small limits and scored by the
// rules. Never a panic; scores stay in range; the limits hold.
fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_headers: 200,
        max_parts: 100,
        max_text: 4096,
        max_links: 50,
    };
    for raw in corpus::messages(data) {
        if let Ok(m) = Mail::parse(raw, &limits) {
            assert!(m.links.len() <= limits.max_links);
            assert!(m.text.chars().count() <= limits.max_text);
            let s = score(&m, &Org::default(), None);
            assert!(s.score <= 100);
        }
    }
});
