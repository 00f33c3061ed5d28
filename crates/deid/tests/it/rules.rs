use ward_deid::rules::{Category, RULE_COUNT, compiled_rules, find};

fn cats(text: &str) -> Vec<(String, &'static str)> {
    find(text)
        .into_iter()
        .map(|f| (text[f.start..f.end].to_owned(), f.category.as_str()))
        .collect()
}

#[test]
fn every_rule_compiles() {
    assert_eq!(compiled_rules(), RULE_COUNT);
}

#[test]
fn finds_what_safe_harbor_names_and_leaves_clinical_text() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            "SEEN BY DR. HEALY ON 7/22.",
            &[("HEALY", "HCPName"), ("7/22", "Date")],
        ),
        (
            "per dr jones and np smith",
            &[("jones", "HCPName"), ("smith", "HCPName")],
        ),
        (
            "Son John called at 617-555-0199.",
            &[("John", "RelativeProxyName"), ("617-555-0199", "Phone")],
        ),
        ("pager 54321", &[("54321", "Phone")]),
        ("92 yo woman", &[("92", "Age")]),
        ("78 yo woman", &[]),
        ("transferred from Mercy Hospital", &[("Mercy", "Location")]),
        ("Admitted January 5, 2004.", &[("January 5, 2004", "Date")]),
        ("s/p CABG 1998", &[("1998", "DateYear")]),
        (
            "mail jo@example.org or www.example.org",
            &[("jo@example.org", "Email"), ("www.example.org", "URL")],
        ),
        ("MRN: 12345678", &[("12345678", "ID")]),
        ("Mrs. Nicholson resting", &[("Nicholson", "PTName")]),
        (
            "transferred to Glenwood Memorial today",
            &[("Glenwood Memorial", "Location")],
        ),
        (
            "lives in Springfield with wife",
            &[("Springfield", "Location")],
        ),
        (
            "PMH: MI 92, CABG in '95",
            &[("92", "DateYear"), ("95", "DateYear")],
        ),
        // not PHI
        (
            "transferred to the floor, admitted to MICU, sent to CT",
            &[],
        ),
        ("BP 120/80, HR 88, Parkinson disease, Foley draining", &[]),
        ("Dr. called back, son is aware", &[]),
        ("the patient's daughter called", &[]),
    ];
    for (text, want) in cases {
        let got = cats(text);
        let want: Vec<(String, &str)> = want.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect();
        assert_eq!(got, want, "{text}");
    }
    assert_eq!(Category::HcpName.as_str(), "HCPName");
}

proptest::proptest! {
    #[test]
    fn spans_are_in_bounds_sorted_and_disjoint(text in "\\PC{0,300}") {
        let f = find(&text);
        for w in f.windows(2) {
            proptest::prop_assert!(w[0].end <= w[1].start);
        }
        for s in &f {
            proptest::prop_assert!(s.start < s.end && s.end <= text.len());
            proptest::prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
    }
}
