//! The Presidio synthetic reader and token-level scoring.

use ward_deid::{DeidError, Span, presidio, score, token_score};

const JSON: &str = r#"[
 {"full_text": "Call Ana Lima at 555-123-4567 in Curitiba.", "template_id": 4,
  "spans": [
   {"entity_type": "PERSON", "entity_value": "Ana Lima", "start_position": 5, "end_position": 13},
   {"entity_type": "PHONE_NUMBER", "entity_value": "555-123-4567", "start_position": 17, "end_position": 29},
   {"entity_type": "GPE", "entity_value": "Curitiba", "start_position": 33, "end_position": 41}]},
 {"full_text": "Zoë works at Acme as CFO.", "template_id": 4,
  "spans": [
   {"entity_type": "PERSON", "entity_value": "Zoë", "start_position": 0, "end_position": 3},
   {"entity_type": "ORGANIZATION", "entity_value": "Acme", "start_position": 13, "end_position": 17},
   {"entity_type": "TITLE", "entity_value": "CFO", "start_position": 21, "end_position": 24}]}
]"#;

#[test]
fn records_become_notes_grouped_by_template_with_safe_harbor_types_only() {
    let (notes, gold) = presidio::read("synth.json", JSON.as_bytes(), false).unwrap();
    assert_eq!(notes.len(), 2);
    // one template: one "patient", two notes
    assert_eq!((notes[0].patient, notes[0].note), (5, 1));
    assert_eq!((notes[1].patient, notes[1].note), (5, 2));
    let types: Vec<&str> = gold.iter().map(|g| g.category.as_str()).collect();
    assert_eq!(types, ["PERSON", "PHONE_NUMBER", "GPE", "PERSON"]);
    // character offsets: "Zoë" is 3 characters, 4 bytes
    let g = &gold[3];
    let body: String = notes[1]
        .body
        .chars()
        .skip(g.start)
        .take(g.end - g.start)
        .collect();
    assert_eq!(body, "Zoë");
    let (_, all) = presidio::read("synth.json", JSON.as_bytes(), true).unwrap();
    assert_eq!(all.len(), 6);
}

#[test]
fn span_and_token_scores_agree_on_a_partial_find() {
    let (notes, gold) = presidio::read("synth.json", JSON.as_bytes(), false).unwrap();
    let sp = |patient, note, start, end| Span {
        patient,
        note,
        start,
        end,
    };
    // "Ana" of "Ana Lima", the phone, and "Acme" (not an identifier)
    let found = vec![sp(5, 1, 5, 8), sp(5, 1, 17, 29), sp(5, 2, 13, 17)];
    let s = score(&gold, &found);
    assert_eq!((s.found_gold, s.gold, s.correct, s.found), (2, 4, 2, 3));
    let t = token_score(&notes, &gold, &found);
    // gold tokens: Ana, Lima, 555, 123, 4567, Curitiba, Zoë = 7; found: Ana, 555, 123, 4567, Acme
    assert_eq!((t.gold, t.found, t.both), (7, 5, 4));
}

#[test]
fn bad_files_name_the_problem_without_the_text() {
    for (bad, want) in [
        ("", "Eof"),
        ("{\"full_text\": 1}", "Data"),
        (
            "[{\"full_text\": \"abc\", \"spans\": [{\"entity_type\": \"PERSON\", \"start_position\": 2, \"end_position\": 9}]}]",
            "record 1",
        ),
    ] {
        match presidio::read("x.json", bad.as_bytes(), false) {
            Err(DeidError::Malformed { reason, .. }) => {
                assert!(reason.contains(want), "{reason}");
                assert!(!reason.contains("abc"));
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}
