//! The prefiltered searches of the hints and the self-checking identifiers find exactly what
//! their patterns find over the whole text.

use ward_deid::{hints, ids};

/// Pieces that the hint and identifier patterns start, end or nearly match on.
const PIECES: &[&str] = &[
    "Dr",
    "dr.",
    "DRS",
    "dr's",
    "doctor",
    "Doctors",
    "NP",
    "np",
    "drive",
    "L.",
    "q.",
    "W.",
    "a.",
    "x",
    "son",
    "SONS",
    "sonogram",
    "daughter",
    "DTR",
    "wife",
    "hcp",
    "proxys",
    "mom",
    "in",
    "IN",
    "from",
    "to",
    "at",
    "near",
    "of",
    "the",
    "THE",
    "into",
    "Towson",
    "Seattle",
    "Sacred",
    "Heart",
    "Memorial",
    "hospital",
    "Regional",
    "medical",
    "center",
    "st",
    "St.",
    "street",
    "ave",
    "avenue",
    "road",
    "rd",
    "Rd.",
    "Square",
    "RRT",
    "RN",
    "MD",
    "M.D.",
    "PA-C",
    "PharmD",
    "LICSW",
    "ROBERT",
    "V.",
    "O'Brien",
    "Jean-Paul",
    "Smith",
    "krissy",
    "4111",
    "1111",
    "4111-1111-1111-1111",
    "4111 1111 1111 1111",
    "4111-111111-11111",
    "GB82",
    "WEST",
    "1234",
    "5698",
    "7654",
    "32",
    "GB82WEST12345698765432",
    "19",
    "123456",
    "1234567",
    "Clover",
    "Lane",
    "APT",
    "#",
    "4B",
    "Suite",
    "MD 21204",
    "21204",
    "21204-1234",
    "zip:",
    "ZIP",
    "zip code",
    "postal code",
    "PA",
    "TX",
    ",",
    ":",
    "-",
    "(",
    "'",
    ".",
    "_",
    "3",
    "x2",
];
const SPACES: &[&str] = &[
    " ", " ", " ", "  ", "\n", "\t", ", ", ". ", "", "-", "\r\n", " \t\n",
];
const WIDE: &[&str] = &["é", "ſon", "\u{212A}", "\u{a0}", "Zoë", "\u{2003}"];

/// A pseudo-random text of `pieces` pieces (deterministic in `seed`), with some non-ASCII
/// characters unless `ascii`.
fn generated(seed: u64, pieces: usize, ascii: bool) -> String {
    let parts = super::generate::Parts {
        pieces: PIECES,
        spaces: SPACES,
        wide: WIDE,
        case: 5,
    };
    super::generate::text(&parts, seed, pieces, ascii)
}

#[test]
fn prefiltered_hints_and_identifiers_equal_the_whole_text_scans() {
    let (mut h, mut f) = (0, 0);
    for seed in 0..600u64 {
        for ascii in [true, false] {
            let text = generated(seed, 10 + (seed as usize % 9) * 30, ascii);
            let fast = hints::find(&text);
            assert_eq!(
                fast,
                hints::find_unfiltered(&text),
                "hints, seed {seed}, ascii {ascii}"
            );
            h += fast.len();
            let fast = ids::find(&text);
            assert_eq!(
                fast,
                ids::find_unfiltered(&text),
                "ids, seed {seed}, ascii {ascii}"
            );
            f += fast.len();
        }
    }
    // the fixture exercises every pattern (not a vacuous comparison)
    assert!(h > 10_000, "{h} hints");
    assert!(f > 300, "{f} identifiers");
    for text in [
        "",
        "dr",
        "in",
        "L.",
        "MD",
        " RN \t",
        "st",
        "12345",
        " 12345",
        "x".repeat(10_000).as_str(),
        "in ".repeat(5_000).as_str(),
        "1 ".repeat(5_000).as_str(),
    ] {
        assert_eq!(
            hints::find(text),
            hints::find_unfiltered(text),
            "{text:.20}"
        );
        assert_eq!(ids::find(text), ids::find_unfiltered(text), "{text:.20}");
    }
}

#[test]
fn the_ascii_tokenizer_and_capitals_count_equal_the_general_ones() {
    use ward_deid::features::{caps_note, tokenize};
    // an em space is whitespace and neither case: appended, it sends the text down the
    // general (non-ASCII) path without changing its tokens or its capitals count
    let general = |t: &str| format!("{t}\u{2003}");
    let every_byte: String = (0u8..128).map(char::from).collect();
    let mut texts = vec![
        String::new(),
        every_byte.clone(),
        every_byte.repeat(3),
        "ABC def\x0B\x0Cx\x1c\x1fY".to_string(),
        "SEEN BY DR SMITH. BP 120/80".to_string(),
    ];
    texts.extend((0..200u64).map(|seed| generated(seed, 60, true)));
    for t in &texts {
        assert!(t.is_ascii());
        assert_eq!(tokenize(t), tokenize(&general(t)), "{t:?}");
        assert_eq!(caps_note(t), caps_note(&general(t)), "{t:?}");
    }
    assert!(caps_note("SEEN BY DR SMITH"));
    assert!(!caps_note("Seen by Dr Smith"));
}
