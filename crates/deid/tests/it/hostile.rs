//! Hostile inputs: regression cases found by the fuzz targets in `fuzz/` (`deid_*`), one
//! list for every parser. Each must end in a value or an error, never a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use ward_deid::fhir::{FhirOptions, FhirPolicy, deid_json, deid_ndjson};
use ward_deid::hl7::{Hl7Options, Hl7Policy, OnError, deid_hl7};
use ward_deid::table::{Policy, TableOptions, deid_table};
use ward_deid::{Detector, Key, Mode, Surrogates, presidio, read_notes, read_phrases, replace};

/// The parser a case is fed to.
#[derive(Debug, Clone, Copy)]
enum Parser {
    Notes,
    Phrases,
    Presidio,
    Hl7,
    FhirJson,
    FhirNdjson,
    Table,
    Policy,
    Text,
}

/// (name, parser, input): inputs the fuzzers found, minimised.
const CASES: &[(&str, Parser, &[u8])] = &[
    ("empty notes", Parser::Notes, b""),
    ("empty phrases", Parser::Phrases, b""),
    ("empty presidio", Parser::Presidio, b""),
    ("empty hl7", Parser::Hl7, b""),
    ("empty fhir json", Parser::FhirJson, b""),
    ("empty fhir ndjson", Parser::FhirNdjson, b""),
    ("empty table", Parser::Table, b""),
    ("empty policy", Parser::Policy, b""),
    ("empty text", Parser::Text, b""),
    // hand-written edge cases
    ("note never ended", Parser::Notes, b"START_OF_RECORD=1||||1||||\nabc"),
    ("huge offsets", Parser::Phrases, b"1 1 0 99999999999999999999999 Date x\n"),
    (
        "span inside a character",
        Parser::Presidio,
        br#"[{"full_text":"Zo\u00eb","template_id":1,"spans":[{"entity_type":"PERSON","entity_value":"x","start_position":3,"end_position":4}]}]"#,
    ),
    ("bare MSH", Parser::Hl7, b"MSH"),
    ("MSH with one delimiter", Parser::Hl7, b"MSH|"),
    ("MSH with repeated delimiters", Parser::Hl7, b"MSH|||||\rPID|1||x^^^^^\r"),
    ("MSH with a multi-byte delimiter", Parser::Hl7, "MSH\u{e9}^~\\&\rPID\u{e9}1".as_bytes()),
    ("nested arrays", Parser::FhirJson, &[b'['; 4096]),
    ("NUL line", Parser::FhirNdjson, b"\0\n{\"resourceType\":1}\n"),
    ("header only", Parser::Table, b"mrn,name\n"),
    ("ragged rows", Parser::Table, b"mrn,name\n1\n1,2,3\n"),
    ("policy of the wrong shape", Parser::Policy, b"[columns]\nmrn = [1, {a = 2}]\n"),
    ("combining marks and digits", Parser::Text, "Dr. A\u{301}\u{301} 12/3\u{0663}/2012 617\u{200b}555".as_bytes()),
];

const TABLE_POLICY: &str = "default = \"keep\"\npatient = \"mrn\"\nmode = \"tags\"\n\
    on_bad_value = \"error\"\n[columns]\nmrn = \"hash\"\n\
    name = { action = \"pseudonym\", category = \"PTName\" }\nadmitted = \"date_shift\"\n\
    born = { action = \"generalise\", to = \"year\" }\nzip = \"zip3\"\nage = \"age\"\n\
    weight = { action = \"generalise\", bucket = 10 }\n\
    note = { action = \"text\", mode = \"surrogate\" }\nssn = \"drop\"\n";

/// Feeds `input` to `parser` the way its fuzz target does (every option the target varies).
fn feed(parser: Parser, input: &[u8], s: &Surrogates, d: &Detector) {
    let mut out = Vec::new();
    match parser {
        Parser::Notes => drop(read_notes("f.text", input)),
        Parser::Phrases => drop(read_phrases("f.phrase", input)),
        Parser::Presidio => {
            for all in [false, true] {
                drop(presidio::read("f.json", input, all));
            }
        }
        Parser::Hl7 => {
            for (on_error, small) in [
                (OnError::Fail, false),
                (OnError::Skip, false),
                (OnError::Fail, true),
                (OnError::Skip, true),
            ] {
                let mut opts = Hl7Options {
                    on_error,
                    ..Hl7Options::default()
                };
                if small {
                    opts.max_segment = 64;
                    opts.max_message = 256;
                }
                out.clear();
                let p = Hl7Policy::default();
                drop(deid_hl7("f.hl7", input, &mut out, &p, &opts, s, d));
            }
        }
        Parser::FhirJson => {
            drop(deid_json(
                "f.json",
                input,
                &mut out,
                &FhirPolicy::default(),
                s,
                d,
            ));
        }
        Parser::FhirNdjson => {
            for (on_error, max_line) in [(OnError::Fail, 64 << 20), (OnError::Skip, 128)] {
                let opts = FhirOptions { on_error, max_line };
                out.clear();
                let p = FhirPolicy::default();
                drop(deid_ndjson("f.ndjson", input, &mut out, &p, &opts, s, d));
            }
        }
        Parser::Table => {
            let p = Policy::parse("p.toml", TABLE_POLICY).unwrap();
            for delimiter in [b',', b'\t', b';', b'|'] {
                let opts = TableOptions {
                    delimiter,
                    ..TableOptions::default()
                };
                out.clear();
                drop(deid_table("f.csv", input, &mut out, &p, &opts, s, d));
            }
        }
        Parser::Policy => {
            let text = String::from_utf8_lossy(input);
            drop(Policy::parse("p.toml", &text));
            drop(Hl7Policy::parse("p.toml", &text));
            drop(FhirPolicy::parse("p.toml", &text));
        }
        Parser::Text => {
            let text = String::from_utf8_lossy(input);
            let found = d.find(&text);
            let mut last = 0;
            for f in &found {
                assert!(last <= f.start && f.start < f.end && f.end <= text.len());
                assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                last = f.end;
            }
            for mode in [Mode::Tags, Mode::Mask, Mode::Surrogate] {
                let (_, counts) = replace(&text, &found, mode, "p1", s);
                assert_eq!(counts.total(), found.len() as u64);
            }
        }
    }
}

#[test]
fn fuzz_regressions_never_panic() {
    let s = Surrogates::new(&Key::from_bytes([7; 32]));
    let d = Detector::new();
    let failed: Vec<&str> = CASES
        .iter()
        .filter(|(_, parser, input)| {
            catch_unwind(AssertUnwindSafe(|| feed(*parser, input, &s, &d))).is_err()
        })
        .map(|(name, _, _)| *name)
        .collect();
    assert!(failed.is_empty(), "panicked: {failed:?}");
}
