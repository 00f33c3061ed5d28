use ward_deid::{DeidError, GoldSpan, Span, read_notes, read_phrases, score};

const TEXT: &str = "START_OF_RECORD=1||||1||||\nO: SEEN BY DR SMITH ON 7/22.\nPLAN: HOME.\n||||END_OF_RECORD\n\nSTART_OF_RECORD=1||||2||||\nNO PHI HERE\n||||END_OF_RECORD\n";
const PHRASES: &str = "1 1 14 19 HCPName SMITH\n1 1 23 27 Date 7/22\n";

#[test]
fn notes_and_gold_spans_line_up() {
    let notes = read_notes("dev.text", TEXT.as_bytes()).unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!((notes[0].patient, notes[0].note, notes[0].line), (1, 1, 1));
    let gold = read_phrases("dev.phi.phrase", PHRASES.as_bytes()).unwrap();
    for g in &gold {
        let body: Vec<char> = notes[0].body.chars().collect();
        let text: String = body[g.start..g.end].iter().collect();
        assert!(["SMITH", "7/22"].contains(&text.as_str()), "{text}");
    }
    assert_eq!(notes[1].body, "NO PHI HERE\n");
}

#[test]
fn the_physionet_convention_any_overlap_counts() {
    let gold = read_phrases("g", PHRASES.as_bytes()).unwrap();
    let sp = |start, end| Span {
        patient: 1,
        note: 1,
        start,
        end,
    };
    // part of SMITH, nothing of the date, and one false positive in another note
    let found = vec![
        sp(15, 17),
        Span {
            patient: 1,
            note: 2,
            start: 0,
            end: 2,
        },
    ];
    let s = score(&gold, &found);
    assert_eq!((s.gold, s.found_gold, s.found, s.correct), (2, 1, 2, 1));
    assert_eq!(s.recall(), 0.5);
    assert_eq!(s.precision(), 0.5);
    assert_eq!(s.by_category["Date"], (1, 0));
    assert_eq!(s.missed, vec![1]);
    let empty = score(&[] as &[GoldSpan], &[]);
    assert_eq!((empty.recall(), empty.precision()), (1.0, 1.0));
}

#[test]
fn bad_files_name_the_line() {
    let cases: [(&str, &str); 5] = [
        ("garbage\n", ":1: expected START_OF_RECORD"),
        ("START_OF_RECORD=x||||1||||\n", ":1: the record header"),
        ("START_OF_RECORD=1||||1||||\nbody\n", ":1: record without"),
        (
            "\n\nSTART_OF_RECORD=1||||1||||\n\u{0}\n",
            ":3: record without",
        ),
        ("START_OF_RECORD=1||||1||||\n", "truncated"),
    ];
    for (text, want) in cases {
        let e = read_notes("n.text", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{text:?}: {e}");
    }
    let e = read_notes("n.text", &b"START_OF_RECORD=1||||1||||\n\xff\xfe\n"[..]).unwrap_err();
    assert!(matches!(e, DeidError::Malformed { line: 2, .. }), "{e}");
    for (text, want) in [
        ("1 1 x 4 Date 7/2\n", "bad start"),
        ("1 1 5 4 Date x\n", "start < end"),
        ("1 1 1 4\n", "category"),
    ] {
        let e = read_phrases("p", text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(want) && e.starts_with("p:1:"), "{text:?}: {e}");
    }
}

proptest::proptest! {
    #[test]
    fn readers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = read_notes("f", &bytes[..]);
        let _ = read_phrases("f", &bytes[..]);
    }
}
