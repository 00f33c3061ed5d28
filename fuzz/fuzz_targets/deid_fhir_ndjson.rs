#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_deid::fhir::{FhirOptions, FhirPolicy, deid_ndjson};
use ward_deid::hl7::OnError;
use ward_fuzz::deid::{detector, split, surrogates};

fuzz_target!(|data: &[u8]| {
    // bit 0: skip bad lines; bit 1: a tiny line limit
    let (bits, input) = split(data);
    let mut opts = FhirOptions {
        on_error: if bits & 1 == 1 {
            OnError::Skip
        } else {
            OnError::Fail
        },
        ..FhirOptions::default()
    };
    if bits & 2 == 2 {
        opts.max_line = 128;
    }
    let policy = FhirPolicy::default();
    let mut out = Vec::new();
    if let Ok(report) = deid_ndjson(
        "fuzz.ndjson",
        input,
        &mut out,
        &policy,
        &opts,
        surrogates(),
        detector(),
    ) {
        assert!(report.skipped_reasons.len() as u64 <= report.skipped);
        for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            assert!(
                serde_json::from_slice::<serde_json::Value>(line).is_ok(),
                "an output line is not JSON"
            );
        }
    }
});
