//! FHIR R4 JSON and NDJSON de-identification.

use proptest::prelude::*;
use serde_json::Value;
use ward_deid::fhir::{FhirOptions, FhirPolicy, FhirReport, deid_json, deid_ndjson};
use ward_deid::hl7::OnError;
use ward_deid::{DeidError, Detector, Key, Surrogates};

const BUNDLE: &str = include_str!("../fixtures/bundle.json");
const NDJSON: &str = include_str!("../fixtures/resources.ndjson");

/// Every PHI value in the fixtures.
const PHI: &[&str] = &[
    "Whitaker",
    "Evelyn",
    "Harold",
    "Preston",
    "Alan",
    "MRN445566",
    "445566",
    "012-34-5678",
    "555-0142",
    "555-0199",
    "evelyn.whitaker",
    "mailhost",
    "Larkspur",
    "Springhaven",
    "02139",
    "1948-03-12",
    "2024-01-15",
    "2024-01-16",
    "2024-01-20",
    "01/16/2024",
    "01/15/2024",
    "V7788990",
    "enc-77",
    "dr-1234",
    "6a3f1c2e",
];

fn s() -> Surrogates {
    Surrogates::new(&Key::from_bytes([7; 32]))
}

fn json(input: &str, policy: &FhirPolicy) -> Result<(Value, FhirReport), DeidError> {
    let mut out = Vec::new();
    let r = deid_json(
        "b.json",
        input.as_bytes(),
        &mut out,
        policy,
        &s(),
        &Detector::new(),
    )?;
    Ok((serde_json::from_slice(&out).unwrap(), r))
}

fn ndjson(input: &str, on_error: OnError) -> Result<(String, FhirReport), DeidError> {
    let mut out = Vec::new();
    let opts = FhirOptions {
        on_error,
        ..FhirOptions::default()
    };
    let r = deid_ndjson(
        "r.ndjson",
        input.as_bytes(),
        &mut out,
        &FhirPolicy::default(),
        &opts,
        &s(),
        &Detector::new(),
    )?;
    Ok((String::from_utf8(out).unwrap(), r))
}

/// Every string in `v`, decoded attachments included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            out.push(s.clone());
            if let Some(b) = ward_deid::fhir::base64_decode(s) {
                out.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn no_fixture_phi_survives_in_json_or_ndjson() {
    let (v, r) = json(BUNDLE, &FhirPolicy::default()).unwrap();
    assert_eq!(r.resources, 5);
    let (nd, r) = ndjson(NDJSON, OnError::Fail).unwrap();
    assert_eq!(r.resources, 4);
    let mut all = Vec::new();
    strings(&v, &mut all);
    for line in nd.lines() {
        strings(&serde_json::from_str(line).unwrap(), &mut all);
    }
    for phi in PHI {
        for s in &all {
            assert!(!s.contains(phi), "{phi:?} survived in {s:?}");
        }
    }
}

#[test]
fn codes_units_and_structure_stay() {
    let (v, _) = json(BUNDLE, &FhirPolicy::default()).unwrap();
    let input: Value = serde_json::from_str(BUNDLE).unwrap();
    let e = |v: &Value, i: usize| v["entry"][i]["resource"].clone();
    assert_eq!(e(&v, 2)["code"], e(&input, 2)["code"]);
    assert_eq!(e(&v, 2)["valueQuantity"], e(&input, 2)["valueQuantity"]);
    assert_eq!(e(&v, 0)["gender"], "female");
    assert_eq!(e(&v, 0)["address"][0]["state"], "MA");
    assert_eq!(e(&v, 0)["address"][0]["postalCode"], "02100");
    assert_eq!(e(&v, 0)["name"][0]["prefix"][0], "Mrs.");
    assert_eq!(
        e(&v, 0)["identifier"][0]["type"],
        e(&input, 0)["identifier"][0]["type"]
    );
    // the narrative keeps its markup and entities
    let div = e(&v, 0)["text"]["div"].as_str().unwrap().to_owned();
    assert!(
        div.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Mrs. ")
            && div.contains(" &amp; discharged.</p></div>"),
        "{div}"
    );
    // text attachments are de-identified, others removed
    let att = &e(&v, 3)["content"];
    let text = String::from_utf8(
        ward_deid::fhir::base64_decode(att[0]["attachment"]["data"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(
        text.starts_with("Discharge summary for Mrs. ") && !text.contains("Whitaker"),
        "{text}"
    );
    assert_eq!(
        att[1]["attachment"],
        serde_json::json!({"contentType": "application/pdf"})
    );
}

#[test]
fn references_ids_and_date_shifts_agree_within_a_patient() {
    let (v, _) = json(BUNDLE, &FhirPolicy::default()).unwrap();
    let e = |i: usize| v["entry"][i]["resource"].clone();
    let pid = e(0)["id"].as_str().unwrap().to_owned();
    assert_ne!(pid, "MRN445566");
    assert_eq!(
        e(0)["identifier"][0]["value"],
        pid.as_str(),
        "id and MR identifier share a pseudonym"
    );
    assert_eq!(e(1)["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(e(3)["subject"]["reference"], format!("Patient/{pid}"));
    // a urn:uuid subject resolves through the Bundle's fullUrl
    assert_eq!(e(2)["subject"]["reference"], v["entry"][0]["fullUrl"]);
    assert_eq!(
        e(2)["encounter"]["reference"],
        format!("Encounter/{}", e(1)["id"].as_str().unwrap())
    );
    assert!(
        v["entry"][1]["fullUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Encounter/{}", e(1)["id"].as_str().unwrap()))
    );
    let shift = s().date_shift_days("MRN445566");
    let d = |x: &str| ward_deid::date::shift(x, shift).unwrap();
    assert_eq!(e(0)["birthDate"], d("1948-03-12").as_str());
    assert_eq!(
        e(1)["period"]["start"],
        d("2024-01-15T08:30:00-05:00").as_str()
    );
    assert_eq!(
        e(1)["period"]["end"],
        d("2024-01-20T11:00:00-05:00").as_str()
    );
    assert_eq!(
        e(2)["effectiveDateTime"],
        d("2024-01-16T07:30:00-05:00").as_str()
    );
    assert_eq!(e(2)["issued"], d("2024-01-16T09:00:00.000-05:00").as_str());
    // precision stays: a year stays, a month stays a month
    let p =
        r#"{"resourceType":"Patient","id":"p1","birthDate":"1948","deceasedDateTime":"2020-07"}"#;
    let (v, _) = json(p, &FhirPolicy::default()).unwrap();
    assert_eq!(v["birthDate"], "1948");
    assert_eq!(v["deceasedDateTime"].as_str().unwrap().len(), 7);
}

#[test]
fn ndjson_lines_agree_with_the_bundle_and_bad_lines_are_located() {
    let (v, _) = json(BUNDLE, &FhirPolicy::default()).unwrap();
    let (nd, _) = ndjson(NDJSON, OnError::Fail).unwrap();
    let first: Value = serde_json::from_str(nd.lines().next().unwrap()).unwrap();
    assert_eq!(first, v["entry"][0]["resource"]);
    let bad = format!(
        "{}\n{{\"resourceType\": \"Patient\", \"id\": \n\n[1]\n{}",
        NDJSON.lines().next().unwrap(),
        NDJSON.lines().nth(1).unwrap()
    );
    let e = ndjson(&bad, OnError::Fail).unwrap_err();
    assert_eq!(e.to_string(), "r.ndjson: line 2: truncated JSON");
    let (out, r) = ndjson(&bad, OnError::Skip).unwrap();
    assert_eq!((r.resources, r.skipped), (2, 2));
    assert_eq!(out.lines().count(), 2);
    assert!(
        r.skipped_reasons[1].contains("line 4: resource: not a JSON object"),
        "{:?}",
        r.skipped_reasons
    );
    let e = json(
        "{\n  \"resourceType\": \"Patient\",\n  \"name\": [,]\n}",
        &FhirPolicy::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.json: line 3, column 12 (byte 42): invalid JSON"
    );
    assert!(
        ndjson("", OnError::Fail)
            .unwrap_err()
            .to_string()
            .contains("no resource")
    );
    assert!(ndjson("\u{feff}{}", OnError::Fail).is_err());
}

#[test]
fn a_policy_file_overrides_paths() {
    let p = FhirPolicy::parse(
        "p.toml",
        "mode = \"tags\"\n[paths]\n\"Patient.name.family\" = \"keep\"\n\"*.text.div\" = \"drop\"\n\"Patient.gender\" = \"hash\"\n\"Observation.note\" = \"drop\"\n",
    )
    .unwrap();
    let (v, _) = json(BUNDLE, &p).unwrap();
    let e = |i: usize| v["entry"][i]["resource"].clone();
    assert_eq!(e(0)["name"][0]["family"], "Whitaker");
    assert_eq!(e(0)["name"][0]["given"][0], "[NAME]");
    assert_eq!(e(0)["text"], serde_json::json!({"status": "generated"}));
    assert_eq!(e(0)["gender"].as_str().unwrap().len(), 16);
    assert!(e(2).get("note").is_none());
    for (text, want) in [
        (
            "[paths]\n\"Patient..name\" = \"keep\"",
            "not an element path",
        ),
        ("[paths]\n\"Patient.name\" = \"blur\"", "unknown action"),
        (
            "[paths]\n\"Observation.valueString\" = \"obx_value\"",
            "HL7 only",
        ),
        ("mode = \"loud\"", "unknown replacement mode"),
    ] {
        let e = FhirPolicy::parse("p.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("policy p.toml: ") && e.contains(want), "{e}");
    }
}

#[test]
fn unknown_resources_keep_codes_and_clean_free_text_and_extensions() {
    let r = r#"{"resourceType":"FancyThing","id":"x1","status":"active","code":{"text":"Call Dr. Preston at 617-555-0199"},
      "extension":[{"url":"http://example.org/ext","valueString":"Seen 01/16/2024 by Dr. Preston"}],"count":3,"flag":true}"#;
    let (v, _) = json(r, &FhirPolicy::default()).unwrap();
    assert_eq!(v["status"], "active");
    assert_eq!(v["count"], 3);
    assert_eq!(v["extension"][0]["url"], "http://example.org/ext");
    let all = v.to_string();
    for phi in ["Preston", "555-0199", "01/16/2024"] {
        assert!(!all.contains(phi), "{phi} in {all}");
    }
}

#[test]
fn binary_resources_are_attachments() {
    let pdf = ward_deid::fhir::base64_encode(b"%PDF Whitaker");
    let txt = ward_deid::fhir::base64_encode(b"Seen by Dr. Preston on 01/16/2024.");
    for (ct, data, kept) in [("application/pdf", &pdf, false), ("text/plain", &txt, true)] {
        let r = format!(
            r#"{{"resourceType":"Binary","id":"b1","contentType":"{ct}","data":"{data}"}}"#
        );
        let (v, _) = json(&r, &FhirPolicy::default()).unwrap();
        assert_eq!(v.get("data").is_some(), kept, "{v}");
        if kept {
            let t = String::from_utf8(
                ward_deid::fhir::base64_decode(v["data"].as_str().unwrap()).unwrap(),
            )
            .unwrap();
            assert!(
                t.starts_with("Seen by Dr. ")
                    && !t.contains("Preston")
                    && !t.contains("01/16/2024"),
                "{t}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn json_ish_input_never_panics(s in "[{}\\[\\]\":,a-zA-Z0-9 .\\-/<>&;T\n]{0,300}") {
        let _ = json(&s, &FhirPolicy::default());
        let _ = ndjson(&s, OnError::Skip);
        let wrapped = format!("{{\"resourceType\":\"Patient\",\"id\":\"a\",\"x\":{s}}}");
        let _ = json(&wrapped, &FhirPolicy::default());
    }

    #[test]
    fn any_strings_in_resources_never_panic(v in "\\PC{0,40}", k in "[a-zA-Z]{1,12}") {
        let r = serde_json::json!({"resourceType": "Observation", "subject": {"reference": v}, k: v, "text": {"div": v}, "content": [{"attachment": {"contentType": "text/plain", "data": v}}]});
        let _ = json(&r.to_string(), &FhirPolicy::default());
    }
}

#[test]
fn tags_name_patients_relatives_and_clinicians_apart() {
    let p = FhirPolicy {
        mode: ward_deid::Mode::Tags,
        ..FhirPolicy::default()
    };
    let (v, _) = json(BUNDLE, &p).unwrap();
    let e = |i: usize| v["entry"][i]["resource"].clone();
    assert_eq!(e(0)["name"][0]["family"], "[NAME]");
    assert_eq!(e(0)["contact"][0]["name"]["family"], "[RELATIVE_NAME]");
    assert_eq!(
        e(1)["participant"][0]["individual"]["display"],
        "[HCP_NAME]"
    );
    assert_eq!(e(1)["subject"]["display"], "[NAME]");
    assert_eq!(e(0)["identifier"][0]["value"], "[ID]");
    // ids and references stay pseudonyms, dates still shift
    assert_eq!(
        e(1)["subject"]["reference"],
        format!("Patient/{}", e(0)["id"].as_str().unwrap())
    );
    assert_ne!(e(0)["birthDate"], "1948-03-12");
}

#[test]
fn values_that_are_not_resources_name_their_path() {
    for (input, want) in [
        ("[1, 2]", "b.json: resource: not a JSON object"),
        (
            "{\"id\": \"x\"}",
            "b.json: resource: not a FHIR resource (no valid resourceType)",
        ),
        (
            "{\"resourceType\": \"Bundle\", \"entry\": [{\"resource\": {\"resourceType\": 7}}]}",
            "b.json: Bundle.entry.resource: not a FHIR resource (no valid resourceType)",
        ),
    ] {
        assert_eq!(
            json(input, &FhirPolicy::default()).unwrap_err().to_string(),
            want
        );
    }
    let p = FhirPolicy::parse(
        "p.toml",
        "on_bad_value = \"error\"\n[paths]\n\"Patient.birthDate\" = \"date_shift\"\n",
    )
    .unwrap();
    let e = json(
        "{\"resourceType\": \"Patient\", \"birthDate\": \"soon\"}",
        &p,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.json: Patient.birthDate: cannot read this value (set on_bad_value = \"blank\" to remove it)"
    );
    let (v, r) = json(
        "{\"resourceType\": \"Patient\", \"birthDate\": \"soon\"}",
        &FhirPolicy::parse(
            "p.toml",
            "[paths]\n\"Patient.birthDate\" = \"date_shift\"\n",
        )
        .unwrap(),
    )
    .unwrap();
    assert!(v.get("birthDate").is_none());
    assert_eq!(r.counts.0.get("blanked"), Some(&1));
}
