//! The Presidio research synthetic format: a JSON array of records, each with `full_text` and
//! `spans` (`entity_type`, `start_position`, `end_position` in characters). Records become
//! [`Note`]s and their spans [`GoldSpan`]s, so the PhysioNet scorer applies unchanged. The
//! record's template plays the patient (template id + 1, or the record number when there is
//! none), so that cross-validation by patient never tests on a template it trained on.

use crate::{DeidError, GoldSpan, Note};
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    full_text: String,
    #[serde(default)]
    template_id: Option<u32>,
    #[serde(default)]
    spans: Vec<RecordSpan>,
}

#[derive(Deserialize)]
struct RecordSpan {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

/// The Presidio entity types that are HIPAA Safe Harbor identifiers, with the ward category
/// each is scored as. Left out: `AGE` (only ages over 89 are identifiers), `ORGANIZATION`,
/// `TITLE` and `NRP` (nationality, religion, politics), which Safe Harbor does not list.
pub const SAFE_HARBOR_TYPES: [(&str, &str); 13] = [
    ("PERSON", "PTName"),
    ("STREET_ADDRESS", "Address"),
    ("GPE", "Location"),
    ("ZIP_CODE", "Address"),
    ("DATE_TIME", "Date"),
    ("PHONE_NUMBER", "Phone"),
    ("EMAIL_ADDRESS", "Email"),
    ("DOMAIN_NAME", "URL"),
    ("IP_ADDRESS", "IPAddress"),
    ("US_SSN", "SSN"),
    ("US_DRIVER_LICENSE", "ID"),
    ("CREDIT_CARD", "ID"),
    ("IBAN_CODE", "ID"),
];

/// The ward category name a Presidio entity type is scored and learned as.
pub fn category_of(entity_type: &str) -> Option<&'static str> {
    SAFE_HARBOR_TYPES
        .iter()
        .find(|(t, _)| *t == entity_type)
        .map(|(_, c)| *c)
}

/// Reads a Presidio synthetic file. With `all_types`, every entity type is kept under its own
/// name; otherwise only [`SAFE_HARBOR_TYPES`], under the Presidio name. Spans outside their
/// text are an error naming the record.
pub fn read(
    file: &str,
    bytes: &[u8],
    all_types: bool,
) -> Result<(Vec<Note>, Vec<GoldSpan>), DeidError> {
    let records: Vec<Record> = serde_json::from_slice(bytes).map_err(|e| DeidError::Malformed {
        file: file.to_string(),
        line: e.line() as u64,
        reason: format!(
            "not a Presidio synthetic JSON array (column {}, {:?} error)",
            e.column(),
            e.classify()
        ),
    })?;
    let (mut notes, mut gold) = (Vec::with_capacity(records.len()), Vec::new());
    let mut per_template: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for (i, r) in records.into_iter().enumerate() {
        let patient = match r.template_id {
            Some(t) => t.saturating_add(1),
            None => u32::try_from(i + 1)
                .unwrap_or(u32::MAX)
                .saturating_add(1 << 30),
        };
        let note = {
            let n = per_template.entry(patient).or_default();
            *n += 1;
            *n
        };
        let chars = r.full_text.chars().count();
        for s in r.spans {
            if s.start_position >= s.end_position || s.end_position > chars {
                return Err(DeidError::Malformed {
                    file: file.to_string(),
                    line: 0,
                    reason: format!(
                        "record {}: a {} span lies outside its text",
                        i + 1,
                        s.entity_type
                    ),
                });
            }
            if !all_types && !SAFE_HARBOR_TYPES.iter().any(|(t, _)| *t == s.entity_type) {
                continue;
            }
            gold.push(GoldSpan {
                patient,
                note,
                start: s.start_position,
                end: s.end_position,
                category: s.entity_type,
            });
        }
        notes.push(Note {
            patient,
            note,
            body: r.full_text,
            line: u64::try_from(i + 1).unwrap_or(u64::MAX),
        });
    }
    Ok((notes, gold))
}
