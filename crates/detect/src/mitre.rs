//! MITRE ATT&CK technique ids for attack families that network datasets and ward's simulator
//! name. Enterprise ids unless noted; ICS ids start with T08.

/// Technique ids for an attack family (case-insensitive); empty when none applies.
pub fn techniques(category: &str) -> &'static [&'static str] {
    match category.to_ascii_lowercase().as_str() {
        // NSL-KDD families
        "dos" => &["T1498", "T1499"],
        "probe" | "reconnaissance" | "analysis" | "portscan" | "scan" => &["T1046", "T1595"],
        "r2l" => &["T1110", "T1190"],
        "u2r" => &["T1068"],
        // UNSW-NB15 families
        "exploits" => &["T1190", "T1203"],
        "fuzzers" => &["T1595.002"],
        "backdoor" | "backdoors" => &["T1505", "T1071"],
        "shellcode" => &["T1059"],
        "worms" => &["T1210"],
        "generic" => &["T1499"],
        // ward's simulated hospital
        "bruteforce" | "brute_force" => &["T1110"],
        "lateralmovement" | "lateral_movement" => &["T1021.001", "T1021.002"],
        "ransomware" => &["T1486", "T1021.002"],
        "exfiltration" => &["T1048"],
        "dicompull" | "dicom_pull" => &["T1005", "T0882"],
        "hl7injection" | "hl7_injection" => &["T0830", "T0836"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_families_map_and_unknown_is_empty() {
        assert_eq!(super::techniques("Probe"), ["T1046", "T1595"]);
        assert_eq!(super::techniques("DoS"), ["T1498", "T1499"]);
        assert!(super::techniques("Normal").is_empty());
    }
}
