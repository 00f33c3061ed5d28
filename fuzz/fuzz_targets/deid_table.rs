#![no_main]

use libfuzzer_sys::fuzz_target;

use std::sync::OnceLock;
use ward_deid::table::{Policy, TableOptions, deid_table};
use ward_fuzz::deid::{detector, split, surrogates};

const POLICY: &str = r#"
default = "keep"
patient = "mrn"
mode = "tags"
on_bad_value = "error"
[columns]
mrn = "hash"
name = { action = "pseudonym", category = "PTName" }
admitted = "date_shift"
born = { action = "generalise", to = "year" }
zip = "zip3"
age = "age"
weight = { action = "generalise", bucket = 10 }
note = { action = "text", mode = "surrogate" }
ssn = "drop"
"#;

fuzz_target!(|data: &[u8]| {
    static P: OnceLock<Policy> = OnceLock::new();
    let policy = P.get_or_init(|| Policy::parse("fuzz.toml", POLICY).expect("fixed policy parses"));
    // low bits: delimiter; bit 2: unreadable values blank instead of an error; bit 3: tiny limit
    let (bits, input) = split(data);
    let mut p = policy.clone();
    if bits & 4 == 4 {
        p.on_bad = ward_deid::table::OnBad::Blank;
    }
    let opts = TableOptions {
        delimiter: match bits & 3 {
            1 => b'\t',
            2 => b';',
            3 => b'|',
            _ => b',',
        },
        max_record: if bits & 8 == 8 {
            64
        } else {
            ward_deid::table::MAX_RECORD
        },
    };
    let mut out = Vec::new();
    let _ = deid_table(
        "fuzz.csv",
        input,
        &mut out,
        &p,
        &opts,
        surrogates(),
        detector(),
    );
});
