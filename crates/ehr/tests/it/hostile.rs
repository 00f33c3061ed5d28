//! Arbitrary input never panics: every loader returns a value or an error.

use proptest::prelude::*;
use ward_ehr::normalise::{address, name_parts, zip5};
use ward_ehr::{Detector, Loader};

fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just(&b"time,user_id,patient_id,action,module,workstation\n"[..]),
        Just(&b"patient_id,first_name,last_name,birth_date,address,zip,vip,deceased_date,employee_user_id\n"[..]),
        Just(&b"patient_id,department,start,end,attending_user_id\n"[..]),
        Just(&b""[..]),
    ];
    (header, proptest::collection::vec(any::<u8>(), 0..400))
        .prop_map(|(h, body)| [h, &body[..]].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn loaders_never_panic(text in csv_like()) {
        let mut l = Loader::new();
        let _ = l.access_csv("access.csv", &text[..]);
        let _ = l.patients("patients.csv", &text[..]);
        let _ = l.encounters("encounters.csv", &text[..]);
        let _ = l.users("users.csv", &text[..]);
        let _ = l.care_team("care_team.csv", &text[..]);
        let _ = l.access_fhir("access.ndjson", &text[..]);
        let ds = l.finish();
        let det = Detector::default().detect(&ds);
        for f in &det.flagged {
            prop_assert!(!f.reasons.is_empty());
        }
    }

    #[test]
    fn rows_of_valid_shape_with_random_values(rows in proptest::collection::vec(
        ("[0-9T:Z-]{0,25}", "[a-z0-9]{0,4}", "[a-z0-9]{0,4}", "(view|print|break_glass|x)"), 0..40)
    ) {
        let mut text = String::from("time,user_id,patient_id,action\n");
        for (t, u, p, a) in &rows {
            text.push_str(&format!("{t},{u},{p},{a}\n"));
        }
        let mut l = Loader::new();
        if l.access_csv("access.csv", text.as_bytes()).is_ok() {
            let ds = l.finish();
            prop_assert_eq!(ds.report.accesses as usize, rows.len());
            let det = Detector::default().detect(&ds);
            prop_assert!(det.flagged.iter().all(|f| !f.reasons.is_empty()));
        }
    }

    #[test]
    fn normalisers_never_panic(s in "\\PC{0,60}", b in proptest::collection::vec(any::<u8>(), 0..20)) {
        let _ = name_parts(&s);
        if let Some(a) = address(&s) {
            let _ = a.key();
        }
        let _ = zip5(&b);
    }
}
