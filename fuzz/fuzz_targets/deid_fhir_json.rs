#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_deid::fhir::{FhirPolicy, deid_json};
use ward_fuzz::deid::{detector, surrogates};

fuzz_target!(|data: &[u8]| {
    let policy = FhirPolicy::default();
    let mut out = Vec::new();
    if deid_json(
        "fuzz.json",
        data,
        &mut out,
        &policy,
        surrogates(),
        detector(),
    )
    .is_ok()
    {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
            "output is not JSON"
        );
    }
});
