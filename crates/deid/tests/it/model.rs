//! The learned classifier: it learns names from their context, keeps clinical words, merges
//! the rules' trusted categories, and round-trips through serde.

use ward_deid::model::{Model, TrainOptions};
use ward_deid::{Detector, GoldSpan, Note, features};

/// Invented notes: a clinician's name after "seen by", a relative's after "called", and
/// clinical words (including a disease that is also a surname) that are never PHI.
fn corpus() -> (Vec<Note>, Vec<GoldSpan>) {
    let staff = [
        "Zorvath", "Quillan", "Brannick", "Ostrava", "Pellham", "Varnel",
    ];
    let kin = ["Tamsin", "Orrin", "Liesl", "Caddock", "Wendell", "Ysolde"];
    let (mut notes, mut gold) = (Vec::new(), Vec::new());
    for i in 0..60u32 {
        let s = staff[i as usize % staff.len()];
        let k = kin[(i as usize * 5) % kin.len()];
        let body = format!(
            "Pt resting, Parkinson tremor noted. Seen by {s} this shift. Daughter {k} called, updated.\n\
             Seen by team this shift, plan reviewed. Daughter called back, updated on plan.\n"
        );
        let at = |w: &str| {
            let b = body.find(w).unwrap();
            (
                body[..b].chars().count(),
                body[..b].chars().count() + w.chars().count(),
            )
        };
        for (w, c) in [(s, "HCPName"), (k, "RelativeProxyName")] {
            let (start, end) = at(w);
            gold.push(GoldSpan {
                patient: i / 3 + 1,
                note: i % 3 + 1,
                start,
                end,
                category: c.into(),
            });
        }
        notes.push(Note {
            patient: i / 3 + 1,
            note: i % 3 + 1,
            body,
            line: u64::from(i) * 3 + 1,
        });
    }
    (notes, gold)
}

fn found(d: &Detector, text: &str) -> Vec<(String, &'static str)> {
    d.find(text)
        .iter()
        .map(|f| (text[f.start..f.end].to_string(), f.category.physionet()))
        .collect()
}

#[test]
fn learns_names_from_context_and_keeps_clinical_words() {
    let (notes, gold) = corpus();
    let model = Model::train(&notes, &gold, &TrainOptions::default());
    let d = Detector::with_model(model);
    // names it never saw, in the contexts it learned
    let text = "Pt resting, Parkinson tremor noted. Seen by Harrowgate this shift. Daughter Melisande called, updated.\n";
    let f = found(&d, text);
    assert!(
        f.iter().any(|(w, c)| w == "Harrowgate" && *c == "HCPName"),
        "{f:?}"
    );
    // (a small corpus leaves the model unsure of "Daughter" and "called", which may join the
    // name; a function word never does)
    assert!(f.iter().any(|(w, _)| w.contains("Melisande")), "{f:?}");
    assert!(!f.iter().any(|(w, _)| w.contains("by ")), "{f:?}");
    assert!(
        !f.iter()
            .any(|(w, _)| w.contains("Parkinson") || w.contains("resting")),
        "{f:?}"
    );
    // an initial joins the name it stands before
    let f = found(&d, "Parkinson tremor noted, r. Harrowgate this shift.\n");
    assert!(f.iter().any(|(w, _)| w == "r. Harrowgate"), "{f:?}");
    // without the classifier, the rules alone do not know these names
    let rules = found(&Detector::new(), text);
    assert!(!rules.iter().any(|(w, _)| w == "Harrowgate"), "{rules:?}");
}

#[test]
fn trusted_rule_categories_pass_with_a_model() {
    let (notes, gold) = corpus();
    let d = Detector::with_model(Model::train(&notes, &gold, &TrainOptions::default()));
    let text = "Pt 93 yo, mail jo@example.org, MRN: 12345678.";
    let f = found(&d, text);
    for want in ["93", "jo@example.org", "12345678"] {
        assert!(
            f.iter().any(|(w, _)| w.contains(want)),
            "{want} missing from {f:?}"
        );
    }
}

#[test]
fn the_model_file_holds_a_vocabulary_of_hashes_and_no_word_of_the_notes() {
    let (notes, gold) = corpus();
    let json =
        serde_json::to_string(&Model::train(&notes, &gold, &TrainOptions::default())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // every clinical word of the corpus is in all 20 patients' notes; no name is counted
    let vocab = v["vocab"].as_array().unwrap();
    assert!(vocab.len() >= 10, "{}", vocab.len());
    let parkinson = u64::from(features::word_key("Parkinson"));
    let zorvath = u64::from(features::word_key("Zorvath"));
    let count = |k: u64| {
        vocab
            .iter()
            .find(|e| e[0].as_u64() == Some(k))
            .and_then(|e| e[1].as_u64())
    };
    assert_eq!(count(parkinson), Some(20));
    assert_eq!(count(zorvath), None);
    for word in ["Parkinson", "resting", "Zorvath", "Tamsin", "Daughter"] {
        assert!(!json.contains(word), "{word} is in the model file");
    }
}

#[test]
fn serde_round_trip_keeps_behaviour_and_check_rejects_bad_files() {
    let (notes, gold) = corpus();
    let m = Model::train(&notes, &gold, &TrainOptions::default());
    let json = serde_json::to_string(&m).unwrap();
    let back: Model = serde_json::from_str(&json).unwrap();
    assert!(back.check().is_ok());
    assert_eq!(back.rows(), m.rows());
    let text = &notes[0].body;
    assert_eq!(
        Detector::with_model(back).find(text),
        Detector::with_model(m).find(text)
    );
    let bad = json.replacen("\"threshold\":", "\"threshold\":7.0,\"x\":", 1);
    let bad: Result<Model, _> = serde_json::from_str(&bad);
    // an unknown field or an out-of-range threshold never loads as a usable model
    assert!(bad.is_err() || bad.unwrap().check().is_err());
}

#[test]
fn training_on_nothing_and_finding_in_hostile_text_do_not_panic() {
    let m = Model::train(&[], &[], &TrainOptions::default());
    let d = Detector::with_model(m);
    for text in [
        "",
        "\u{0}",
        "é",
        "a\u{301}b",
        &"x".repeat(100_000),
        "Dr.\n\n\n-'.",
    ] {
        for f in d.find(text) {
            assert!(f.start < f.end && f.end <= text.len());
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
    }
    // gold spans beyond the note are ignored, not a panic
    let (notes, _) = corpus();
    let wild = vec![GoldSpan {
        patient: notes[0].patient,
        note: notes[0].note,
        start: 10_000,
        end: 20_000,
        category: "HCPName".into(),
    }];
    let _ = Model::train(&notes[..1], &wild, &TrainOptions::default());
}

#[test]
fn tokens_cover_words_and_punctuation() {
    let t = "Dr. O'Neil, 7/22\u{a0}é";
    let toks: Vec<&str> = features::tokenize(t)
        .iter()
        .map(|k| &t[k.start..k.end])
        .collect();
    assert_eq!(
        toks,
        ["Dr", ".", "O", "'", "Neil", ",", "7", "/", "22", "é"]
    );
    assert_eq!(features::shape("McDonald-22"), "XxXxx-dd");
}

#[test]
fn hints_compile_and_mark_signatures_titles_and_kin() {
    assert_eq!(ward_deid::hints::compiled(), 6);
    let text =
        "Seen by Dr.Lipper and Drs Ferullo.\n ROBERT V. DEGIORGIO, RRT\nDAUGHTER-KRISSY called";
    let h = ward_deid::hints::find(text);
    let named = |w: &str| {
        let at = text.find(w).unwrap();
        h.iter()
            .filter(|x| x.start <= at && at < x.end)
            .map(|x| x.name)
            .collect::<Vec<_>>()
    };
    assert!(named("Lipper").contains(&"title"), "{h:?}");
    assert!(named("Ferullo").contains(&"title"), "{h:?}");
    assert!(named("DEGIORGIO").contains(&"signature"), "{h:?}");
    assert!(named("KRISSY").contains(&"kin"), "{h:?}");
}

#[test]
fn number_chunks_have_their_own_shape_feature() {
    let text = "CO/CI 5.8/2.71/497 on 7/22/97 and 8/2";
    let toks = features::tokenize(text);
    let f = features::chunk_features(text, &toks);
    let at = |w: &str| {
        let b = text.find(w).unwrap();
        f[toks.iter().position(|t| t.start == b).unwrap()]
    };
    // each chunk's tokens share one feature; different shapes differ; a lone word has none
    assert!(at("5.8").is_some());
    assert_ne!(at("5.8"), at("7/22"));
    assert_ne!(at("7/22"), at("8/2"));
    assert_eq!(at("on"), None);
}

#[test]
fn self_checking_identifiers_pass_their_checks_only() {
    use ward_deid::ids;
    assert_eq!(ids::compiled(), 4);
    // a Luhn-valid test card number and one with its last digit changed
    assert!(ids::luhn("4111 1111 1111 1111"));
    assert!(!ids::luhn("4111 1111 1111 1112"));
    // the ISO 13616 example IBAN, and a corrupted copy
    assert!(ids::iban("GB82 WEST 1234 5698 7654 32"));
    assert!(!ids::iban("GB82 WEST 1234 5698 7654 33"));
    let text = "Card 4111-1111-1111-1111, not 4111-1111-1111-1112. Lives at 19 Clover St. in Towson, MD 21204. 3 WAY FOLEY IN PLACE, HR 120 ST, 4 MG SQ.";
    let found: Vec<&str> = ids::find(text)
        .iter()
        .map(|f| &text[f.start..f.end])
        .collect();
    assert_eq!(found, ["4111-1111-1111-1111", "19 Clover St", "MD 21204"]);
}
