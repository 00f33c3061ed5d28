//! Network flows: the event every network source (Zeek, Suricata, flow CSVs, pcap) is parsed into.
//!
//! A [`Flow`] has the fields most sources share (addresses, ports, protocol, service, state,
//! duration, byte and packet counts), each optional because not every source has it, plus
//! `extra`: the numeric features only one source has (NSL-KDD's 41 features, UNSW-NB15's 39),
//! named by the reader's [`FlowSchema`]. Categorical source fields map onto `proto`, `service`
//! and `state`.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Transport protocol. Unknown names are kept verbatim (lower-cased) in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    #[default]
    Unknown,
    #[serde(untagged)]
    Other(String),
}

impl Proto {
    pub fn parse(s: &str) -> Self {
        match s {
            "tcp" | "TCP" | "6" => Self::Tcp,
            "udp" | "UDP" | "17" => Self::Udp,
            "icmp" | "ICMP" | "1" | "icmp6" | "ipv6-icmp" | "58" => Self::Icmp,
            "" | "-" | "unknown_transport" => Self::Unknown,
            other => Self::Other(other.to_ascii_lowercase()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
            Self::Unknown => "unknown",
            Self::Other(s) => s,
        }
    }
}

/// Ground truth carried by labelled datasets (NSL-KDD, UNSW-NB15, the simulator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLabel {
    /// True for an attack record.
    pub attack: bool,
    /// Attack family (`DoS`, `Probe`, `R2L`, `U2R`, `Exploits`, ...); `Normal` for benign records.
    pub category: String,
    /// The dataset's own attack name where it has one finer than the category (`neptune`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What a reader produces: the source format and the names of the `extra` features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FlowSchema {
    /// Format name as used on the command line (`zeek`, `eve`, `nsl-kdd`, `unsw-nb15`, `csv`, `pcap`).
    pub format: String,
    /// Names of the numeric features in [`Flow::extra`], in order.
    pub extra: Vec<String>,
}

/// One network connection (bidirectional flow) as seen by a sensor or dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Flow {
    /// Flow start time; absent in datasets that strip time (NSL-KDD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    /// Sensor-assigned connection id (Zeek `uid`, Suricata `flow_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    #[serde(default)]
    pub proto: Proto,
    /// Application protocol as the sensor named it (`http`, `dicom`, `hl7`, `ftp_data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Connection state (Zeek `conn_state` such as `SF`, `S0`, `REJ`; UNSW `FIN`, `INT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Payload bytes sent by the originator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_bytes: Option<u64>,
    /// Payload bytes sent by the responder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_pkts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_pkts: Option<u64>,
    /// Source-specific numeric features, named by the reader's [`FlowSchema::extra`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<f64>,
    /// Ground truth, for labelled datasets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<FlowLabel>,
}

impl Flow {
    /// Total bytes in both directions, when known.
    pub fn total_bytes(&self) -> Option<u64> {
        match (self.src_bytes, self.dst_bytes) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_parses_names_and_numbers() {
        assert_eq!(Proto::parse("tcp"), Proto::Tcp);
        assert_eq!(Proto::parse("17"), Proto::Udp);
        assert_eq!(Proto::parse("-"), Proto::Unknown);
        assert_eq!(Proto::parse("SCTP"), Proto::Other("sctp".into()));
        assert_eq!(
            serde_json::to_string(&Proto::Other("sctp".into())).unwrap(),
            "\"sctp\""
        );
        assert_eq!(serde_json::to_string(&Proto::Tcp).unwrap(), "\"tcp\"");
    }

    #[test]
    fn flow_json_omits_absent_fields() {
        let f = Flow {
            proto: Proto::Udp,
            src_bytes: Some(10),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"proto":"udp","src_bytes":10}"#
        );
        assert_eq!(f.total_bytes(), Some(10));
    }
}
