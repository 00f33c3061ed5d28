//! HL7 v2 de-identification in place.

use proptest::prelude::*;
use ward_deid::hl7::{Hl7Options, Hl7Policy, Hl7Report, OnError, deid_hl7};
use ward_deid::{DeidError, Detector, Key, Surrogates};

const ADT: &str = include_str!("../fixtures/adt_a01.hl7");
const ORU: &str = include_str!("../fixtures/oru_r01.hl7");

/// Every PHI value in the two fixtures (structured fields, and free text with cues).
pub const PHI: &[&str] = &[
    "WHITAKER",
    "Whitaker",
    "EVELYN",
    "HAROLD",
    "PRESTON",
    "Preston",
    "OKONKWO",
    "Okonkwo",
    "LINDQVIST",
    "MARTA",
    "CHIDI",
    "Larkspur",
    "Springhaven",
    "02139",
    "445566",
    "998877",
    "5550142",
    "555-0142",
    "555-0199",
    "evelyn.whitaker",
    "mailhost",
    "012-34-5678",
    "S99887766",
    "ACC20240115",
    "V7788990",
    "GRP55443",
    "POL778899",
    "19480312",
    "20240115",
    "20240116",
    "20240120",
    "01/16/2024",
    "ORD1001",
    "FIL2002",
];

fn s() -> Surrogates {
    Surrogates::new(&Key::from_bytes([7; 32]))
}

fn run_with(
    input: &[u8],
    policy: &Hl7Policy,
    on_error: OnError,
) -> Result<(String, Hl7Report), DeidError> {
    let mut out = Vec::new();
    let opts = Hl7Options {
        on_error,
        ..Hl7Options::default()
    };
    let r = deid_hl7(
        "m.hl7",
        input,
        &mut out,
        policy,
        &opts,
        &s(),
        &Detector::new(),
    )?;
    Ok((String::from_utf8(out).unwrap(), r))
}

fn run(input: &str) -> String {
    run_with(input.as_bytes(), &Hl7Policy::default(), OnError::Fail)
        .unwrap()
        .0
}

fn segments(m: &str) -> Vec<Vec<&str>> {
    m.split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').collect())
        .collect()
}

fn field<'a>(m: &'a [Vec<&'a str>], seg: &str, n: usize) -> &'a str {
    let s = m.iter().find(|s| s[0] == seg).unwrap();
    let i = if seg == "MSH" { n - 1 } else { n };
    s[i]
}

#[test]
fn no_fixture_phi_survives() {
    for input in [ADT, ORU] {
        let out = run(input);
        for phi in PHI {
            assert!(!out.contains(phi), "{phi:?} survived in\n{out}");
        }
    }
}

#[test]
fn everything_but_phi_is_byte_for_byte_the_same() {
    for (input, term) in [(ADT, "\r"), (ORU, "\r\n")] {
        let out = run(input);
        assert_eq!(out.matches(term).count(), input.matches(term).count());
        assert!(out.ends_with(term));
        let (a, b) = (segments(input), segments(&out));
        assert_eq!(a.len(), b.len());
        let policy = Hl7Policy::default();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.len(), y.len(), "field count of {}", x[0]);
            assert_eq!(x[0], y[0]);
            for (i, (f, g)) in x.iter().zip(y).enumerate().skip(1) {
                let n = if x[0] == "MSH" { i + 1 } else { i };
                let ruled = policy
                    .rules
                    .keys()
                    .any(|k| k.segment == x[0] && k.field == n);
                if !ruled {
                    assert_eq!(f, g, "{}-{n} changed", x[0]);
                }
                // components and repetitions keep their structure
                assert_eq!(
                    f.matches(['^', '~', '&']).count(),
                    g.matches(['^', '~', '&']).count()
                );
            }
        }
        assert_eq!(field(&b, "MSH", 9), field(&a, "MSH", 9));
    }
    let out = segments(&run(ORU))
        .into_iter()
        .map(|s| s.join("|"))
        .collect::<Vec<_>>();
    assert!(out[3].starts_with("OBX|1|NM|2345-7^Glucose^LN||105|mg/dL|70-99|H|||F|||"));
}

#[test]
fn one_patient_gets_one_pseudonym_and_one_date_shift() {
    let (a, o) = (run(ADT), run(ORU));
    let (a, o) = (segments(&a), segments(&o));
    assert_eq!(
        field(&a, "PID", 3).split('~').next(),
        Some(field(&o, "PID", 3))
    );
    assert_eq!(field(&a, "PID", 7), field(&o, "PID", 7));
    assert_eq!(
        field(&a, "PID", 5).split('^').take(3).collect::<Vec<_>>(),
        field(&o, "PID", 5).split('^').collect::<Vec<_>>()
    );
    let shift = s().date_shift_days("MRN445566");
    let want = ward_deid::date::shift("19480312", shift).unwrap();
    assert_eq!(field(&a, "PID", 7), want);
    // the interval between admission and discharge stays 5 days; times stay
    assert_eq!(
        field(&a, "PV1", 44),
        ward_deid::date::shift("20240115083000", shift).unwrap()
    );
    assert_eq!(
        field(&a, "PV1", 45),
        ward_deid::date::shift("20240120110000", shift).unwrap()
    );
    assert!(field(&a, "MSH", 7).ends_with("083000-0500"));
    // a clinician keeps XCN structure: id, family, given, suffix, prefix
    let dr: Vec<&str> = field(&a, "PV1", 7).split('^').collect();
    assert_eq!(dr.len(), 6);
    assert_eq!(dr[5], "DR");
    assert_eq!(dr[0], s().hash("1234"), "the clinician id is hashed");
    // state and country stay, ZIP keeps 3 digits
    let addr: Vec<&str> = field(&a, "PID", 11).split('^').collect();
    assert_eq!(&addr[3..], ["MA", "02100", "USA", "H"]);
}

#[test]
fn custom_separators_and_escapes_are_honoured() {
    let msg = "MSH#$%!@#APP#FAC#####ADT$A01#1#P#2.5\nPID#1##MRN1$$$X$MR##SMITH$JOHN$$$MR##19800101\nNTE#1##Seen by Dr. Preston!.br!on 01/16/2024!F!ok\n";
    let out = run(msg);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "MSH#$%!@#APP#FAC#####ADT$A01#1#P#2.5");
    let pid: Vec<&str> = lines[1].split('#').collect();
    let name: Vec<&str> = pid[5].split('$').collect();
    assert_eq!(name.len(), 5);
    assert_ne!(name[0], "SMITH");
    assert_eq!(name[4], "MR");
    assert!(pid[3].ends_with("$$$X$MR") && !pid[3].starts_with("MRN1"));
    assert!(lines[2].contains("!.br!") && lines[2].contains("!F!ok"));
    assert!(
        !lines[2].contains("Preston") && !lines[2].contains("01/16/2024"),
        "{}",
        lines[2]
    );
}

#[test]
fn batch_envelopes_pass_and_bad_messages_are_skipped_whole() {
    let bad = "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\rPID|1||X9^^^A||DOE^JANE\rZZ\u{1}|junk\r";
    let input = format!("FHS|^~\\&|F\rBHS|^~\\&|B\r{ADT}{bad}{ADT}BTS|2\rFTS|1\r");
    let e = run_with(input.as_bytes(), &Hl7Policy::default(), OnError::Fail).unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.hl7: message 2 (line 12): not a segment (expected a 3-character segment id)"
    );
    let (out, r) = run_with(input.as_bytes(), &Hl7Policy::default(), OnError::Skip).unwrap();
    assert_eq!((r.messages, r.skipped), (2, 1));
    assert!(r.skipped_reasons[0].contains("message 2 (line 12)"));
    assert!(out.starts_with("FHS|^~\\&|F\rBHS|^~\\&|B\rMSH|"));
    assert!(out.ends_with("BTS|2\rFTS|1\r"));
    assert!(!out.contains("DOE") && !out.contains("junk"));
    assert_eq!(out.matches("MSH|").count(), 2);
}

#[test]
fn malformed_messages_name_message_and_line() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "message 1 (line 1): no HL7 message"),
        (
            b"PID|1||X\r",
            "message 1 (line 1): no MSH segment before this line",
        ),
        (
            b"MSH|^~|A\r",
            "message 1 (line 1): MSH-2 must hold 4 or 5 encoding characters, not 2",
        ),
        (
            b"MSHa^~\\&|A\r",
            "MSH-1 field separator must be ASCII punctuation",
        ),
        (b"MSH|^^\\&|A\r", "distinct ASCII punctuation"),
        (b"MSH|^~\\&|A|B\r", "MSH is truncated"),
        (
            b"MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\nPID|1||\xff\xfe\n",
            "message 1 (line 2): not UTF-8",
        ),
        (
            b"MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\nPIDX|1\n",
            "(line 2): segment PID is not followed",
        ),
    ];
    for (input, want) in cases {
        let e = run_with(input, &Hl7Policy::default(), OnError::Fail).unwrap_err();
        assert!(e.to_string().contains(want), "{e} (want {want})");
    }
    let long = format!(
        "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\rNTE|1||{}\r",
        "x".repeat(5000)
    );
    let mut out = Vec::new();
    let opts = Hl7Options {
        max_segment: 1000,
        ..Hl7Options::default()
    };
    let e = deid_hl7(
        "m.hl7",
        long.as_bytes(),
        &mut out,
        &Hl7Policy::default(),
        &opts,
        &s(),
        &Detector::new(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("line 2): segment longer than 1000 bytes"),
        "{e}"
    );
}

#[test]
fn a_policy_file_overrides_the_defaults() {
    let p = Hl7Policy::parse(
        "p.toml",
        "mode = \"tags\"\non_bad_value = \"error\"\n[fields]\n\"PID-5\" = \"keep\"\n\"PID-11.5\" = \"keep\"\n\"PID-8\" = \"drop\"\n\"ZPI-2\" = { action = \"pseudonym\", category = \"PTName\" }\n",
    )
    .unwrap();
    let msg = "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\rPID|1||X9||DOE^JANE||19800101|F|||1 Main St^^Boston^MA^02139\rZPI|1|Jane Doe\rOBX|1|TX|x||Dr. Preston called\r";
    let (out, _) = run_with(msg.as_bytes(), &p, OnError::Fail).unwrap();
    assert!(out.contains("|DOE^JANE|"), "{out}");
    // PID-8 dropped, PID-11.5 kept, the rest of the address in tags
    assert!(
        out.contains("||||[LOCATION]^^[LOCATION]^MA^02139\r"),
        "{out}"
    );
    assert!(out.contains("ZPI|1|[NAME]\r"), "{out}");
    assert!(out.contains("|Dr. [HCP_NAME] called\r"), "{out}");
    let bad_date = "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\rPID|1||X9||||notadate\r";
    let e = run_with(bad_date.as_bytes(), &p, OnError::Fail).unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.hl7: message 1 (line 2): PID-7.1: cannot read this value (set on_bad_value = \"blank\" to empty it)"
    );
    let (out, r) = run_with(bad_date.as_bytes(), &Hl7Policy::default(), OnError::Fail).unwrap();
    assert!(
        out.ends_with("||||\r") && !out.contains("notadate"),
        "{out}"
    );
    assert_eq!(r.counts.0.get("blanked"), Some(&1));
    for (text, want) in [
        ("[fields]\n\"PID5\" = \"keep\"", "is not SEG-N"),
        ("[fields]\n\"PID-5\" = \"scramble\"", "unknown action"),
        ("[fields]\n\"MSH-2\" = \"drop\"", "separators"),
        ("color = 1", "unknown field"),
    ] {
        let e = Hl7Policy::parse("p.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("policy p.toml: ") && e.contains(want), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = run_with(&bytes, &Hl7Policy::default(), OnError::Skip);
        let _ = run_with(&bytes, &Hl7Policy::default(), OnError::Fail);
    }

    #[test]
    fn arbitrary_segments_after_a_good_header_never_panic(body in "[A-Z0-9|^~\\\\&\r\n a-z.!]{0,300}") {
        let msg = format!("MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\r{body}");
        if let Ok((out, _)) = run_with(msg.as_bytes(), &Hl7Policy::default(), OnError::Skip) {
            // whatever was written kept its segment terminators
            prop_assert!(out.matches(['\r', '\n']).count() <= msg.matches(['\r', '\n']).count());
        }
    }
}

#[test]
fn obx_values_follow_their_type_and_documents_are_emptied() {
    let msg = "MSH|^~\\&|A|B|||20240101||ORU^R01|2|P|2.5\rPID|1||P1\rOBX|1|ED|x||^application^pdf^Base64^JVBERi0xLjQgV2hpdGFrZXI=||||||F\rOBX|2|DT|x||20240115||||||F\rOBX|3|XPN|x||WHITAKER^EVELYN||||||F\rOBX|4|CWE|x||N^Normal^HL70078||||||F\r";
    let out = run(msg);
    let obx: Vec<&str> = out.split('\r').filter(|l| l.starts_with("OBX")).collect();
    assert_eq!(obx[0], "OBX|1|ED|x||^^^^||||||F");
    let shifted = ward_deid::date::shift("20240115", s().date_shift_days("P1")).unwrap();
    assert_eq!(obx[1], format!("OBX|2|DT|x||{shifted}||||||F"));
    assert!(!obx[2].contains("WHITAKER") && !obx[2].contains("EVELYN"));
    assert_eq!(obx[3], "OBX|4|CWE|x||N^Normal^HL70078||||||F");
}

#[test]
fn each_pid_selects_the_date_shift_of_the_segments_after_it() {
    let msg = "MSH|^~\\&|A|B|||20240101120000||ORU^R01|2|P|2.5\rPID|1||P1\rOBX|1|DT|x||20240115\rPID|2||P2^^^H\rOBX|1|DT|x||20240115\r";
    let out = run(msg);
    let lines: Vec<&str> = out.split('\r').collect();
    let sh = |p: &str, d: &str| ward_deid::date::shift(d, s().date_shift_days(p)).unwrap();
    assert_eq!(
        lines[0],
        format!(
            "MSH|^~\\&|A|B|||{}||ORU^R01|2|P|2.5",
            sh("P1", "20240101120000")
        )
    );
    assert_eq!(lines[2], format!("OBX|1|DT|x||{}", sh("P1", "20240115")));
    assert_eq!(lines[4], format!("OBX|1|DT|x||{}", sh("P2", "20240115")));
    assert_ne!(s().date_shift_days("P1"), s().date_shift_days("P2"));
}

#[test]
fn name_parts_are_surnames_and_first_names_like_in_free_text() {
    let msg = "MSH|^~\\&|A|B|||20240101||ADT^A01|2|P|2.5\rPID|1||P1||MARY-JONES^ANN^B||\r";
    let out = run(msg);
    let pid = out.split('\r').nth(1).unwrap();
    let name: Vec<&str> = pid.split('|').nth(5).unwrap().split('^').collect();
    assert_eq!(name[0], s().family_name("MARY-JONES"));
    assert_eq!(name[1], s().given_name("ANN"));
    // the surname matches the one a full name in a note or table gets
    let full = s().name("Ann Mary-Jones");
    assert!(
        full.to_uppercase().ends_with(&name[0].to_string()),
        "{full} / {}",
        name[0]
    );
}
