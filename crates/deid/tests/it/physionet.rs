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

/// An endless input: `head` once, then `unit` again and again; counts the bytes handed out.
struct Endless {
    head: Vec<u8>,
    unit: Vec<u8>,
    pos: usize,
    served: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Endless {
    fn new(head: &[u8], unit: &[u8]) -> (Self, std::rc::Rc<std::cell::Cell<usize>>) {
        let served = std::rc::Rc::new(std::cell::Cell::new(0));
        let e = Self {
            head: head.to_vec(),
            unit: unit.to_vec(),
            pos: 0,
            served: served.clone(),
        };
        (e, served)
    }
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        for b in buf.iter_mut() {
            let at = self.pos;
            *b = match self.head.get(at) {
                Some(&h) => h,
                None => self.unit[(at - self.head.len()) % self.unit.len()],
            };
            self.pos += 1;
            n += 1;
        }
        self.served.set(self.served.get() + n);
        Ok(n)
    }
}

#[test]
fn the_note_iterator_reads_lazily_and_bounds_what_it_holds() {
    // endless records: the first three notes come after reading little of the input
    let (r, served) = Endless::new(
        b"",
        b"START_OF_RECORD=7||||1||||\nPt seen by Dr. Healy on 7/22.\n||||END_OF_RECORD\n",
    );
    let first: Vec<_> = ward_deid::physionet::notes("endless.text", std::io::BufReader::new(r))
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[2].line, 7);
    assert_eq!(first[0].body, "Pt seen by Dr. Healy on 7/22.\n");
    assert!(served.get() <= 64 << 10, "{} bytes read", served.get());
    // an endless line is an error after reading about one line's limit, not the whole input
    let (r, served) = Endless::new(b"START_OF_RECORD=1||||1||||\nok\n", b"a");
    let mut it = ward_deid::physionet::notes("long.text", std::io::BufReader::new(r));
    let e = it.next().unwrap().unwrap_err();
    assert!(matches!(e, DeidError::Malformed { line: 3, .. }), "{e}");
    assert!(
        e.to_string().starts_with("long.text:3: line longer than"),
        "{e}"
    );
    assert!(it.next().is_none(), "the iterator ends after an error");
    let max = ward_deid::physionet::MAX_LINE;
    assert!(
        served.get() <= max + (64 << 10),
        "{} bytes read",
        served.get()
    );
}

#[test]
fn the_note_iterator_gives_the_good_notes_then_the_error_with_its_line() {
    let max = ward_deid::physionet::MAX_LINE;
    let good = "START_OF_RECORD=1||||1||||\r\nbody\r\n||||END_OF_RECORD\n\n";
    let at_limit = format!(
        "START_OF_RECORD=1||||2||||\n{}\n||||END_OF_RECORD\n",
        "b".repeat(max)
    );
    let over = format!(
        "START_OF_RECORD=1||||3||||\n{}\n||||END_OF_RECORD\n",
        "b".repeat(max + 1)
    );
    // (input after the good notes, line of the error, what it says)
    let cases: Vec<(Vec<u8>, u64, &str)> = vec![
        (
            b"START_OF_RECORD=2||||1||||\nno end\n".to_vec(),
            8,
            "record without",
        ),
        (
            b"START_OF_RECORD=x||||1||||\n".to_vec(),
            8,
            "the record header",
        ),
        (b"garbage\n".to_vec(), 8, "expected START_OF_RECORD"),
        (
            b"START_OF_RECORD=2||||1||||\n\xff\xfe\n".to_vec(),
            9,
            "not UTF-8",
        ),
        (over.into_bytes(), 9, "line longer than"),
    ];
    for (tail, line, want) in cases {
        let mut input = format!("{good}{at_limit}").into_bytes();
        input.extend_from_slice(&tail);
        let mut it = ward_deid::physionet::notes("n.text", &input[..]);
        let a = it.next().unwrap().unwrap();
        assert_eq!(
            (a.patient, a.note, a.body.as_str(), a.line),
            (1, 1, "body\r\n", 1)
        );
        let b = it.next().unwrap().unwrap();
        assert_eq!((b.note, b.body.len(), b.line), (2, max + 1, 5));
        let e = it.next().unwrap().unwrap_err();
        match &e {
            DeidError::Malformed {
                file,
                line: l,
                reason,
            } => {
                assert_eq!((file.as_str(), *l), ("n.text", line), "{want}: {e}");
                assert!(reason.contains(want), "{e}");
            }
            other => panic!("{want}: {other}"),
        }
        assert!(it.next().is_none());
        // the whole-file reader gives the same error
        let whole = read_notes("n.text", &input[..]).unwrap_err().to_string();
        assert_eq!(whole, e.to_string());
        // and the text never appears in it
        assert!(
            !whole.contains("body") && !whole.contains("garbage"),
            "{whole}"
        );
    }
}

proptest::proptest! {
    #[test]
    fn readers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let streamed: Result<Vec<_>, _> = ward_deid::physionet::notes("f", &bytes[..]).collect();
        proptest::prop_assert_eq!(
            streamed.map_err(|e| e.to_string()),
            read_notes("f", &bytes[..]).map_err(|e| e.to_string())
        );
        let _ = read_notes("f", &bytes[..]);
        let _ = read_phrases("f", &bytes[..]);
    }
}
