//! Replacing found spans: tags, masks, surrogates, and hostile spans.

use proptest::prelude::*;
use ward_deid::{Category, Found, Key, Mode, Surrogates, replace};

fn span(start: usize, end: usize, category: Category) -> Found {
    Found {
        start,
        end,
        category,
    }
}

fn s() -> Surrogates {
    Surrogates::new(&Key::from_bytes([9; 32]))
}

const NOTE: &str = "Seen by Dr. Smith on 3/15/2012, pt 93 yo, call 617-732-1234.";

fn found() -> Vec<Found> {
    let at = |w: &str| NOTE.find(w).unwrap();
    vec![
        span(at("Smith"), at("Smith") + 5, Category::HcpName),
        span(at("3/15"), at("3/15") + 9, Category::Date),
        span(at("93"), at("93") + 2, Category::Age),
        span(at("617"), at("617") + 12, Category::Phone),
    ]
}

#[test]
fn tags_masks_and_surrogates() {
    let s = s();
    let (t, c) = replace(NOTE, &found(), Mode::Tags, "p", &s);
    assert_eq!(
        t,
        "Seen by Dr. [HCP_NAME] on [DATE], pt [AGE] yo, call [PHONE]."
    );
    assert_eq!(c.total(), 4);
    assert_eq!(c.0.get("Date"), Some(&1));
    let (m, _) = replace(NOTE, &found(), Mode::Mask, "p", &s);
    assert_eq!(m.len(), NOTE.len());
    assert!(m.contains("Dr. ***** on *********,"), "{m}");
    let (x, _) = replace(NOTE, &found(), Mode::Surrogate, "p", &s);
    assert!(
        x.contains(" 90+ yo") && !x.contains("Smith") && !x.contains("732"),
        "{x}"
    );
    let shifted = s.shift_date("p", "3/15/2012").unwrap();
    assert!(x.contains(&shifted), "{x}");
    // a date that cannot be read falls back to its tag
    let (y, _) = replace(
        "on 2/30/2012",
        &[span(3, 12, Category::Date)],
        Mode::Surrogate,
        "p",
        &s,
    );
    assert_eq!(y, "on [DATE]");
    // mask keeps whitespace and counts characters, not bytes
    let (z, _) = replace(
        "Éva Kiss\nok",
        &[span(0, 9, Category::PtName)],
        Mode::Mask,
        "p",
        &s,
    );
    assert_eq!(z, "*** ****\nok");
}

#[test]
fn same_value_same_surrogate_across_notes() {
    let s = s();
    let a = "Wife Mary Jones called.";
    let b = "MARY JONES visited; her phone 617-732-1234.";
    let (x, _) = replace(
        a,
        &[span(5, 15, Category::RelativeProxyName)],
        Mode::Surrogate,
        "1",
        &s,
    );
    let (y, _) = replace(
        b,
        &[span(0, 10, Category::RelativeProxyName)],
        Mode::Surrogate,
        "2",
        &s,
    );
    let sub = &x[5..x.len() - " called.".len()];
    assert!(y.starts_with(&sub.to_uppercase()), "{x} / {y}");
}

#[test]
fn modes_parse() {
    for (t, m) in [
        ("tags", Mode::Tags),
        ("MASK", Mode::Mask),
        ("surrogate", Mode::Surrogate),
    ] {
        assert_eq!(t.parse::<Mode>().unwrap(), m);
    }
    assert!(
        "blur"
            .parse::<Mode>()
            .unwrap_err()
            .contains("tags, mask or surrogate")
    );
}

fn category() -> impl Strategy<Value = Category> {
    (0..Category::ALL.len()).prop_map(|i| Category::ALL[i])
}

proptest! {
    #[test]
    fn replace_never_panics(
        text in "\\PC{0,80}",
        spans in proptest::collection::vec((0usize..120, 0usize..120, category()), 0..8),
        mode in 0..3usize,
    ) {
        let s = s();
        let mode = [Mode::Tags, Mode::Mask, Mode::Surrogate][mode];
        let found: Vec<Found> = spans.into_iter().map(|(a, b, c)| span(a, b, c)).collect();
        let (out, counts) = replace(&text, &found, mode, "p", &s);
        prop_assert!(counts.total() as usize <= found.len());
        if found.is_empty() {
            prop_assert_eq!(out, text);
        }
    }

    #[test]
    fn surrogates_never_panic(value in "\\PC{0,40}", c in category()) {
        let s = s();
        let _ = s.pseudonym(c, &value);
        let _ = ward_deid::date::shift(&value, -400);
        let _ = ward_deid::surrogate::zip3(&value);
    }
}
