//! The device inventory record as the store keeps it.
//!
//! **Why a mirror type.** The inventory is built by `ward_detect::device` (from flows), and
//! stored here. `ward-store` must not depend on `ward-detect` (storage does not know about
//! detectors) and `ward-detect` must not depend on `ward-store` (detectors are pure: no IO), and
//! `ward-core` is the shared vocabulary that neither of those crates owns. So both crates define a
//! `DeviceRecord` with **the same JSON shape**, and the binary converts one into the other
//! through `serde_json::to_value` / `from_value`. Here `role` and `criticality` are plain
//! strings (the store does not interpret them), and fields this build does not know are kept in
//! [`DeviceRecord::extra`] and written back unchanged, so a newer detector's fields survive a
//! round trip through an older store. If the shape changes, change both files and the shared
//! fixture in both crates' tests.
//!
//! JSON shape (fields with defaults may be omitted):
//!
//! ```json
//! {"address":"10.3.0.5","role":"dicom_modality_or_pacs","role_reasons":["serves DICOM"],
//!  "criticality":"clinical","label":"CT scanner","first_seen":"2024-05-01T00:00:00.000000Z",
//!  "last_seen":"2024-05-08T00:00:00.000000Z","server_protocols":["dicom"],
//!  "client_protocols":["dns"],"peers":3,"flows":120,"bytes":123456,"profiled":true}
//! ```

use serde::{Deserialize, Serialize};
use ward_core::Timestamp;

/// One device in the inventory, keyed by `address`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Network address, the inventory key (`10.3.0.5`, `fe80::1`).
    pub address: String,
    /// Inferred or configured role (`dicom_modality_or_pacs`, `hl7_interface_engine_or_device`,
    /// `fhir_server`, `workstation`, `server`, `unknown`, ...).
    pub role: String,
    /// Why the role was inferred, in plain sentences. Default empty.
    #[serde(default)]
    pub role_reasons: Vec<String>,
    /// Clinical criticality (`life_sustaining`, `clinical`, `business`, `unknown`).
    pub criticality: String,
    /// Human label from configuration (`infusion pumps, ward 3`). Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Event time the device was first seen.
    pub first_seen: Timestamp,
    /// Event time the device was last seen.
    pub last_seen: Timestamp,
    /// Protocols the device answered as a server. Default empty.
    #[serde(default)]
    pub server_protocols: Vec<String>,
    /// Protocols the device spoke as a client. Default empty.
    #[serde(default)]
    pub client_protocols: Vec<String>,
    /// Distinct peers seen (capped by the profiler's memory bound). Default 0.
    #[serde(default)]
    pub peers: u64,
    /// Flows seen. Default 0.
    #[serde(default)]
    pub flows: u64,
    /// Payload bytes seen, both directions. Default 0.
    #[serde(default)]
    pub bytes: u64,
    /// Whether a behaviour profile was learned for it. Default false.
    #[serde(default)]
    pub profiled: bool,
    /// Fields this build does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl DeviceRecord {
    /// A record with the given address, role and criticality, seen once at `at`.
    pub fn new(
        address: impl Into<String>,
        role: impl Into<String>,
        criticality: impl Into<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            address: address.into(),
            role: role.into(),
            role_reasons: Vec::new(),
            criticality: criticality.into(),
            label: None,
            first_seen: at,
            last_seen: at,
            server_protocols: Vec::new(),
            client_protocols: Vec::new(),
            peers: 0,
            flows: 0,
            bytes: 0,
            profiled: false,
            extra: serde_json::Map::new(),
        }
    }

    /// Every protocol spoken, as server or client, sorted and without duplicates.
    pub fn protocols(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .server_protocols
            .iter()
            .chain(&self.client_protocols)
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same fixture is in `crates/detect/tests/it/device.rs`: both types must accept it and
    /// write it back unchanged.
    const SHARED_FIXTURE: &str = r#"{"address":"10.3.0.5","role":"dicom_modality_or_pacs","role_reasons":["serves DICOM on port 104"],"criticality":"clinical","label":"CT scanner","first_seen":"2024-05-01T00:00:00.000000Z","last_seen":"2024-05-08T00:00:00.000000Z","server_protocols":["dicom"],"client_protocols":["dns"],"peers":3,"flows":120,"bytes":123456,"profiled":true}"#;

    #[test]
    fn shared_fixture_round_trips() {
        let r: DeviceRecord = serde_json::from_str(SHARED_FIXTURE).unwrap();
        assert_eq!(r.role, "dicom_modality_or_pacs");
        assert_eq!(r.protocols(), vec!["dicom".to_string(), "dns".to_string()]);
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::from_str::<serde_json::Value>(SHARED_FIXTURE).unwrap()
        );
    }

    #[test]
    fn unknown_fields_survive_and_defaults_apply() {
        let r: DeviceRecord = serde_json::from_str(
            r#"{"address":"10.0.0.1","role":"unknown","criticality":"unknown","first_seen":"2024-05-01T00:00:00Z","last_seen":"2024-05-01T00:00:00Z","future":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(r.peers, 0);
        assert!(!r.profiled);
        assert_eq!(r.extra["future"]["x"], 1);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["future"]["x"], 1);
    }
}
