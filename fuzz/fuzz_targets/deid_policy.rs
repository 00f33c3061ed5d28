#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_deid::fhir::FhirPolicy;
use ward_deid::hl7::Hl7Policy;
use ward_deid::table::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Policy::parse("fuzz.toml", text).map(|p| p.needs_key());
    let _ = Hl7Policy::parse("fuzz.toml", text);
    let _ = FhirPolicy::parse("fuzz.toml", text);
});
