//! NSL-KDD and KDD'99 CSV: no header; the 41 KDD features in their standard order, the attack
//! name, and (NSL-KDD only) a difficulty score, which is dropped.
//!
//! `protocol_type`, `service` and `flag` become `proto`, `service` and `state`; `duration`,
//! `src_bytes`, `dst_bytes` their [`Flow`] fields; the other 35 numeric features go to
//! [`Flow::extra`] under their KDD names ([`EXTRA`]).

use crate::fields::{bad, parse_f64, parse_proto, parse_u64, trim, utf8};
use crate::source::{LineError, LineParser, Parsed};
use ward_core::{Flow, FlowLabel};

/// The 41 KDD'99 features in file order.
pub const FEATURES: [&str; 41] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
];

/// Index in [`FEATURES`] of the first feature kept in `extra` (`land`); all from there on are.
const FIRST_EXTRA: usize = 6;

/// Names of the [`Flow::extra`] features: [`FEATURES`] from `land` to the end (35 names).
pub fn extra_names() -> Vec<String> {
    FEATURES
        .iter()
        .skip(FIRST_EXTRA)
        .map(|s| s.to_string())
        .collect()
}

/// The standard attack-name to category mapping of KDD'99 and NSL-KDD (KDDTrain+ and the novel
/// KDDTest+ attacks). Unknown attack names get category `Unknown`.
pub fn category(attack: &str) -> &'static str {
    match attack {
        "normal" => "Normal",
        "back" | "land" | "neptune" | "pod" | "smurf" | "teardrop" | "apache2" | "mailbomb"
        | "processtable" | "udpstorm" => "DoS",
        "ipsweep" | "nmap" | "portsweep" | "satan" | "mscan" | "saint" => "Probe",
        "ftp_write" | "guess_passwd" | "imap" | "multihop" | "phf" | "spy" | "warezclient"
        | "warezmaster" | "named" | "sendmail" | "snmpgetattack" | "snmpguess" | "worm"
        | "xlock" | "xsnoop" | "httptunnel" => "R2L",
        "buffer_overflow" | "loadmodule" | "perl" | "rootkit" | "ps" | "sqlattack" | "xterm" => {
            "U2R"
        }
        _ => "Unknown",
    }
}

/// NSL-KDD line parser.
pub(crate) struct NslKdd;

impl LineParser for NslKdd {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        let n = memchr::memchr_iter(b',', line).count() + 1;
        if n != 42 && n != 43 {
            return Err(LineError::Bad(format!(
                "expected 42 or 43 comma-separated columns, found {n}"
            )));
        }
        let mut flow = Flow {
            extra: Vec::with_capacity(FEATURES.len() - FIRST_EXTRA),
            ..Flow::default()
        };
        let mut label = None;
        for (i, raw) in line.split(|c| *c == b',').enumerate() {
            let v = trim(raw);
            let name = FEATURES.get(i).copied().unwrap_or("attack");
            match i {
                0 => {
                    flow.duration = Some(
                        parse_f64(v)
                            .filter(|d| *d >= 0.0)
                            .ok_or_else(|| bad(name, "invalid duration", v))?,
                    )
                }
                1 => flow.proto = parse_proto(utf8(v, name)?),
                2 => flow.service = Some(utf8(v, name)?.to_owned()),
                3 => flow.state = Some(utf8(v, name)?.to_owned()),
                4 => {
                    flow.src_bytes =
                        Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                5 => {
                    flow.dst_bytes =
                        Some(parse_u64(v).ok_or_else(|| bad(name, "invalid count", v))?)
                }
                6..=40 => flow
                    .extra
                    .push(parse_f64(v).ok_or_else(|| bad(name, "invalid number", v))?),
                41 => label = Some(kdd_label(utf8(v, "attack")?)?),
                _ => {} // difficulty: not a feature
            }
        }
        flow.label = label;
        Ok(Parsed::Flow(flow))
    }
}

fn kdd_label(v: &str) -> Result<FlowLabel, String> {
    let name = v.strip_suffix('.').unwrap_or(v);
    if name.is_empty() {
        return Err("field attack: empty".into());
    }
    let lower = name.to_ascii_lowercase();
    let cat = category(&lower);
    Ok(if cat == "Normal" {
        FlowLabel {
            attack: false,
            category: "Normal".into(),
            name: None,
        }
    } else {
        FlowLabel {
            attack: true,
            category: cat.into(),
            name: Some(lower),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_cover_the_standard_names() {
        let cases = [
            ("neptune", "DoS"),
            ("apache2", "DoS"),
            ("mailbomb", "DoS"),
            ("processtable", "DoS"),
            ("udpstorm", "DoS"),
            ("mscan", "Probe"),
            ("saint", "Probe"),
            ("satan", "Probe"),
            ("httptunnel", "R2L"),
            ("named", "R2L"),
            ("sendmail", "R2L"),
            ("snmpgetattack", "R2L"),
            ("snmpguess", "R2L"),
            ("worm", "R2L"),
            ("xlock", "R2L"),
            ("xsnoop", "R2L"),
            ("warezclient", "R2L"),
            ("ps", "U2R"),
            ("sqlattack", "U2R"),
            ("xterm", "U2R"),
            ("buffer_overflow", "U2R"),
            ("normal", "Normal"),
            ("zeroday", "Unknown"),
        ];
        for (name, cat) in cases {
            assert_eq!(category(name), cat, "{name}");
        }
        assert_eq!(extra_names().len(), 35);
        assert_eq!(extra_names().first().map(String::as_str), Some("land"));
    }

    #[test]
    fn labels() {
        assert_eq!(
            kdd_label("normal.").unwrap(),
            FlowLabel {
                attack: false,
                category: "Normal".into(),
                name: None
            }
        );
        assert_eq!(
            kdd_label("Smurf").unwrap(),
            FlowLabel {
                attack: true,
                category: "DoS".into(),
                name: Some("smurf".into())
            }
        );
        assert!(kdd_label("").is_err());
    }
}
