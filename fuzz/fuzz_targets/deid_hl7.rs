#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_deid::hl7::{Hl7Options, Hl7Policy, OnError, deid_hl7};
use ward_fuzz::deid::{detector, split, surrogates};

fuzz_target!(|data: &[u8]| {
    // bit 0: skip bad messages; bit 1: tiny limits
    let (bits, input) = split(data);
    let mut opts = Hl7Options {
        on_error: if bits & 1 == 1 {
            OnError::Skip
        } else {
            OnError::Fail
        },
        ..Hl7Options::default()
    };
    if bits & 2 == 2 {
        opts.max_segment = 64;
        opts.max_message = 256;
    }
    let policy = Hl7Policy::default();
    let mut out = Vec::new();
    if let Ok(report) = deid_hl7(
        "fuzz.hl7",
        input,
        &mut out,
        &policy,
        &opts,
        surrogates(),
        detector(),
    ) {
        assert!(report.skipped_reasons.len() as u64 <= report.skipped);
        if opts.on_error == OnError::Fail {
            assert_eq!(report.skipped, 0);
        }
    }
});
