//! Medical-device awareness over network flows (detector `net.device`).
//!
//! Three jobs, all pure (flows in, alerts out; no IO, no clock: time is event time):
//!
//! 1. **Protocol recognition** ([`recognise`]): clinical protocols (HL7 v2 over MLLP, DICOM,
//!    FHIR) and the common ones (HTTP, HTTPS, SSH, RDP, SMB, DNS, NTP, syslog), from the sensor's
//!    service name first and the well-known port second. HTTP(S) to a configured FHIR endpoint
//!    counts as FHIR.
//! 2. **Device inventory**: per address (inside the configured networks), first and last seen,
//!    protocols spoken as server and as client, peers, flows and bytes, an inferred role with the
//!    reasons for it, and a clinical criticality (from configuration overrides, else from the
//!    role). Exported as [`DeviceRecord`]s.
//! 3. **Behaviour profiles and detection**: [`DeviceProfiler::train`] learns, per device, its
//!    peers, its (side, port, transport) triples, its protocols and, per port, its bytes per flow
//!    (mean and deviation of `ln(1 + bytes)`, and the maximum) until
//!    [`DeviceProfiler::finish_training`].
//!    Then [`DeviceProfiler::observe`] raises:
//!    - one alert per device and flow listing what is new: a peer, a port, a protocol, or a flow
//!      far larger than any in training (entity `device:<addr>`);
//!    - an alert when a host that is not a known clinical system (not in
//!      [`DeviceConfig::clinical_systems`], and not seen opening that protocol during training)
//!      opens DICOM or HL7 to anything (entity `host:<src>`). Such a flow raises only this alert,
//!      not also the device novelties it implies.
//!
//!    Each (device, novelty) raises at most once per [`DeviceConfig::dedup_period_secs`] of event
//!    time. Scores rise with the device's criticality, most for life-sustaining devices.
//!
//! Memory is bounded: devices, peers and ports per device, learned clinical clients and the
//! de-duplication table all have caps (see [`DeviceConfig`]); a device whose peers or ports hit
//! the cap during training is not alerted on for new peers or ports (it is too busy to tell).
//!
//! State ([`ProfilerState`]) is serde-serialisable: snapshot with [`DeviceProfiler::state`],
//! restore with [`DeviceProfiler::restore`].
//!
//! **Why [`DeviceRecord`] is defined here and again in `ward-store`.** The inventory is built
//! here and persisted by `ward-store`. Detectors are pure and must not depend on the store, the
//! store must not depend on detectors, and `ward-core` (the shared vocabulary) is not ours to
//! extend. So this module and `ward_store::device` each define a `DeviceRecord` with the same
//! JSON shape, and the binary converts between them with `serde_json::to_value` /
//! `from_value`. Both crates test the same JSON fixture; change both together.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use ward_core::{
    Alert, Contribution, EntityId, EventId, Evidence, Explanation, Flow, Proto, Timestamp,
};

/// Detector name on every alert from this module.
pub const DETECTOR: &str = "net.device";

const MICROS_PER_SEC: i64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Protocols

/// An application protocol this module recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// HL7 v2 over MLLP (port 2575, service `hl7` or `mllp`).
    Hl7,
    /// DICOM (ports 104 and 11112, service `dicom`).
    Dicom,
    /// FHIR (service `fhir`, or HTTP(S) to a configured FHIR endpoint).
    Fhir,
    Http,
    Https,
    Ssh,
    Rdp,
    Smb,
    Dns,
    Ntp,
    Syslog,
}

impl Protocol {
    /// Name as stored and serialised (`hl7`, `dicom`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hl7 => "hl7",
            Self::Dicom => "dicom",
            Self::Fhir => "fhir",
            Self::Http => "http",
            Self::Https => "https",
            Self::Ssh => "ssh",
            Self::Rdp => "rdp",
            Self::Smb => "smb",
            Self::Dns => "dns",
            Self::Ntp => "ntp",
            Self::Syslog => "syslog",
        }
    }

    /// Name for people (`HL7`, `DICOM`, `syslog`).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Hl7 => "HL7",
            Self::Dicom => "DICOM",
            Self::Fhir => "FHIR",
            Self::Http => "HTTP",
            Self::Https => "HTTPS",
            Self::Ssh => "SSH",
            Self::Rdp => "RDP",
            Self::Smb => "SMB",
            Self::Dns => "DNS",
            Self::Ntp => "NTP",
            Self::Syslog => "syslog",
        }
    }

    /// HL7, DICOM and FHIR.
    pub fn is_clinical(self) -> bool {
        matches!(self, Self::Hl7 | Self::Dicom | Self::Fhir)
    }

    /// Protocols people use interactively from a workstation (web, remote desktop, shares, shell).
    pub fn is_interactive(self) -> bool {
        matches!(
            self,
            Self::Http | Self::Https | Self::Ssh | Self::Rdp | Self::Smb
        )
    }

    fn from_service(token: &str) -> Option<Self> {
        Some(match token {
            "hl7" | "mllp" => Self::Hl7,
            "dicom" => Self::Dicom,
            "fhir" => Self::Fhir,
            "http" => Self::Http,
            "https" | "ssl" | "tls" => Self::Https,
            "ssh" => Self::Ssh,
            "rdp" => Self::Rdp,
            "smb" | "smb2" | "cifs" => Self::Smb,
            "dns" => Self::Dns,
            "ntp" => Self::Ntp,
            "syslog" => Self::Syslog,
            _ => return None,
        })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

#[derive(Clone, Copy)]
enum Transport {
    Tcp,
    Udp,
    Both,
}

/// Well-known ports, used when the sensor did not name the service.
const PORTS: &[(u16, Transport, Protocol)] = &[
    (2575, Transport::Tcp, Protocol::Hl7),
    (104, Transport::Tcp, Protocol::Dicom),
    (11112, Transport::Tcp, Protocol::Dicom),
    (80, Transport::Tcp, Protocol::Http),
    (8080, Transport::Tcp, Protocol::Http),
    (443, Transport::Tcp, Protocol::Https),
    (8443, Transport::Tcp, Protocol::Https),
    (22, Transport::Tcp, Protocol::Ssh),
    (3389, Transport::Both, Protocol::Rdp),
    (445, Transport::Tcp, Protocol::Smb),
    (139, Transport::Tcp, Protocol::Smb),
    (53, Transport::Both, Protocol::Dns),
    (123, Transport::Udp, Protocol::Ntp),
    (514, Transport::Both, Protocol::Syslog),
    (6514, Transport::Tcp, Protocol::Syslog),
];

/// The application protocol of a flow: the sensor's service name wins (Zeek may list several,
/// comma-separated; clinical names win among them), else the destination port with its
/// transport (an unknown transport matches either). HTTP or HTTPS to a FHIR endpoint is FHIR.
pub fn recognise(flow: &Flow, dst_is_fhir_endpoint: bool) -> Option<Protocol> {
    let from_service = flow.service.as_deref().and_then(|s| {
        s.split(',')
            .filter_map(|t| Protocol::from_service(t.trim().to_ascii_lowercase().as_str()))
            .min()
    });
    let p = from_service.or_else(|| {
        let port = flow.dst_port?;
        PORTS
            .iter()
            .find(|(p, t, _)| {
                *p == port
                    && matches!(
                        (&flow.proto, t),
                        (_, Transport::Both)
                            | (Proto::Unknown, _)
                            | (Proto::Tcp, Transport::Tcp)
                            | (Proto::Udp, Transport::Udp)
                    )
            })
            .map(|(_, _, p)| *p)
    })?;
    Some(match p {
        Protocol::Http | Protocol::Https if dst_is_fhir_endpoint => Protocol::Fhir,
        p => p,
    })
}

// ---------------------------------------------------------------------------------------------
// Roles and criticality

/// What a device is, inferred from its traffic or set in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// Answers DICOM, or sends DICOM without browsing (imaging modality or archive).
    DicomModalityOrPacs,
    /// Answers or sends HL7 v2 (interface engine, lab analyser, monitor gateway).
    Hl7InterfaceEngineOrDevice,
    /// Answers FHIR.
    FhirServer,
    /// Opens clinical sessions (DICOM, HL7, FHIR) and interactive ones (reading workstation).
    ClinicalWorkstation,
    /// Opens interactive sessions and answers none.
    Workstation,
    /// Answers non-clinical services.
    Server,
    /// Not enough traffic to tell.
    Unknown,
    /// A role set in configuration that is none of the above (`infusion_pump`).
    #[serde(untagged)]
    Other(String),
}

impl DeviceRole {
    /// The role's name as serialised.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DicomModalityOrPacs => "dicom_modality_or_pacs",
            Self::Hl7InterfaceEngineOrDevice => "hl7_interface_engine_or_device",
            Self::FhirServer => "fhir_server",
            Self::ClinicalWorkstation => "clinical_workstation",
            Self::Workstation => "workstation",
            Self::Server => "server",
            Self::Unknown => "unknown",
            Self::Other(s) => s,
        }
    }

    /// Parses a role name; names that are not built in become [`DeviceRole::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "dicom_modality_or_pacs" => Self::DicomModalityOrPacs,
            "hl7_interface_engine_or_device" => Self::Hl7InterfaceEngineOrDevice,
            "fhir_server" => Self::FhirServer,
            "clinical_workstation" => Self::ClinicalWorkstation,
            "workstation" => Self::Workstation,
            "server" => Self::Server,
            "unknown" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }

    /// How a sentence names a device of this role: "DICOM modality or PACS".
    fn describe(&self) -> String {
        match self {
            Self::DicomModalityOrPacs => "DICOM modality or PACS".into(),
            Self::Hl7InterfaceEngineOrDevice => "HL7 interface engine or device".into(),
            Self::FhirServer => "FHIR server".into(),
            Self::ClinicalWorkstation => "clinical workstation".into(),
            Self::Workstation => "workstation".into(),
            Self::Server => "server".into(),
            Self::Unknown => "device".into(),
            Self::Other(s) => s.replace('_', " "),
        }
    }

    /// Criticality when configuration says nothing: clinical roles are `clinical`,
    /// workstations and servers `business`, the rest `unknown`.
    pub fn default_criticality(&self) -> Criticality {
        match self {
            Self::DicomModalityOrPacs
            | Self::Hl7InterfaceEngineOrDevice
            | Self::FhirServer
            | Self::ClinicalWorkstation => Criticality::Clinical,
            Self::Workstation | Self::Server => Criticality::Business,
            Self::Unknown | Self::Other(_) => Criticality::Unknown,
        }
    }
}

impl fmt::Display for DeviceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much patient safety depends on a device.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// Not known (default).
    #[default]
    Unknown,
    /// Business systems: failure hurts operations, not patients directly.
    Business,
    /// Clinical systems: imaging, lab, records.
    Clinical,
    /// Life-sustaining or life-supporting (infusion pumps, ventilators): responses need a human.
    LifeSustaining,
}

impl Criticality {
    /// Name as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Business => "business",
            Self::Clinical => "clinical",
            Self::LifeSustaining => "life_sustaining",
        }
    }

    /// Points added to an alert's score for a device of this criticality.
    pub fn score_bonus(self) -> u8 {
        match self {
            Self::Unknown | Self::Business => 0,
            Self::Clinical => 10,
            Self::LifeSustaining => 25,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// An IPv4 or IPv6 network (`10.20.0.0/16`) or a single address (`10.3.0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix` or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix {p:?} is not a number from 0 to {max}")),
            },
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is inside this network (IPv4 never matches an IPv6 network and vice versa).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    /// Prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Role, criticality and label for an address or network, set by people who know the devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceOverride {
    /// Address or CIDR this applies to. The most specific (longest prefix) match wins.
    pub net: String,
    /// Role name (built-in or your own, lowercase `a-z`, `0-9`, `_`, e.g. `infusion_pump`).
    /// Default: inferred from traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Criticality. Default: from the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Label used in explanations (`CT scanner`, `infusion pumps, ward 3`); no patient data.
    /// Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Configuration of the device profiler (`[detect.device]` in `ward.toml`). Every field has a
/// default; unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// Networks whose addresses are inventoried and profiled (CIDRs or addresses). Other
    /// addresses still count as peers. Default: the private ranges `10.0.0.0/8`,
    /// `172.16.0.0/12`, `192.168.0.0/16` and `fc00::/7`.
    pub networks: Vec<String>,
    /// FHIR endpoints (CIDRs or addresses): HTTP or HTTPS to them counts as FHIR. Default: none.
    pub fhir_endpoints: Vec<String>,
    /// Known clinical systems (PACS, modalities, reading workstations, interface engines),
    /// allowed to open DICOM and HL7 to devices. Hosts seen opening DICOM or HL7 during
    /// training are added automatically. Default: none.
    pub clinical_systems: Vec<String>,
    /// Role, criticality and label per address or network. Default: none.
    pub overrides: Vec<DeviceOverride>,
    /// Most devices kept in the inventory; further addresses are counted, not kept.
    /// Default 10000.
    pub max_devices: usize,
    /// Most peers remembered per device. Default 256.
    pub max_peers_per_device: usize,
    /// Most (side, port, transport) triples remembered per device. Default 64.
    pub max_ports_per_device: usize,
    /// Most hosts remembered as clinical clients learned in training. Default 10000.
    pub max_clinical_clients: usize,
    /// Most (device, novelty) entries remembered for de-duplication. Default 100000.
    pub max_dedup_entries: usize,
    /// The same (device, novelty) raises at most once per this many seconds of event time.
    /// Default 86400 (one day).
    pub dedup_period_secs: u64,
    /// A flow is "far above" a device's volume profile when `ln(1 + bytes)` is this many
    /// standard deviations above the training mean (and larger than any training flow).
    /// Default 6.0.
    pub volume_sigma: f64,
    /// Training flows a device needs on a port before volume alerts apply there. Default 20.
    pub volume_min_samples: u64,
    /// Flows smaller than this never raise a volume alert. Default 10000000 (10 MB).
    pub volume_min_bytes: u64,
    /// Also raise new-peer, new-port and new-protocol alerts for general-purpose hosts
    /// (workstations, general servers, unknown roles) at business criticality. Their peers
    /// change every day, so this is noisy; by default only clinical devices and systems
    /// (DICOM, HL7, FHIR roles, configured roles, clinical or life-sustaining criticality) are
    /// watched for novelty. Volume alerts apply to every profiled device. Default false.
    pub novelty_for_general_hosts: bool,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            networks: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
                .map(String::from)
                .to_vec(),
            fhir_endpoints: Vec::new(),
            clinical_systems: Vec::new(),
            overrides: Vec::new(),
            max_devices: 10_000,
            max_peers_per_device: 256,
            max_ports_per_device: 64,
            max_clinical_clients: 10_000,
            max_dedup_entries: 100_000,
            dedup_period_secs: 86_400,
            volume_sigma: 6.0,
            volume_min_samples: 20,
            volume_min_bytes: 10_000_000,
            novelty_for_general_hosts: false,
        }
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceConfigError {
    /// An address or CIDR did not parse.
    #[error("detect.device.{field}: {value:?} is not an address or CIDR: {reason}")]
    Cidr {
        field: &'static str,
        value: String,
        reason: String,
    },
    /// A value is out of range.
    #[error("detect.device.{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// The parsed form of the configuration.
#[derive(Debug, Clone, Default)]
struct Compiled {
    networks: Vec<Cidr>,
    fhir: Vec<Cidr>,
    clinical: Vec<Cidr>,
    /// Most specific first.
    overrides: Vec<(Cidr, DeviceOverride)>,
    dedup_period_micros: i64,
}

fn parse_nets(field: &'static str, values: &[String]) -> Result<Vec<Cidr>, DeviceConfigError> {
    values
        .iter()
        .map(|v| {
            Cidr::parse(v).map_err(|reason| DeviceConfigError::Cidr {
                field,
                value: v.clone(),
                reason,
            })
        })
        .collect()
}

impl DeviceConfig {
    fn compile(&self) -> Result<Compiled, DeviceConfigError> {
        let invalid = |field, reason: String| DeviceConfigError::Invalid { field, reason };
        for (field, v) in [
            ("max_devices", self.max_devices),
            ("max_peers_per_device", self.max_peers_per_device),
            ("max_ports_per_device", self.max_ports_per_device),
            ("max_clinical_clients", self.max_clinical_clients),
            ("max_dedup_entries", self.max_dedup_entries),
        ] {
            if v == 0 || v > 100_000_000 {
                return Err(invalid(
                    field,
                    format!("must be between 1 and 100000000, got {v}"),
                ));
            }
        }
        if !(self.volume_sigma.is_finite() && self.volume_sigma > 0.0) {
            return Err(invalid(
                "volume_sigma",
                format!("must be a positive number, got {}", self.volume_sigma),
            ));
        }
        let dedup_period_micros = i64::try_from(self.dedup_period_secs)
            .ok()
            .and_then(|s| s.checked_mul(MICROS_PER_SEC))
            .filter(|_| self.dedup_period_secs <= 10 * 366 * 86_400)
            .ok_or_else(|| {
                invalid(
                    "dedup_period_secs",
                    format!("must be at most ten years, got {}", self.dedup_period_secs),
                )
            })?;
        let mut overrides = Vec::with_capacity(self.overrides.len());
        for o in &self.overrides {
            let net = Cidr::parse(&o.net).map_err(|reason| DeviceConfigError::Cidr {
                field: "overrides.net",
                value: o.net.clone(),
                reason,
            })?;
            if let Some(r) = &o.role
                && (r.is_empty()
                    || r.len() > 64
                    || !r
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
            {
                return Err(invalid(
                    "overrides.role",
                    format!("{r:?} must be 1 to 64 characters of a-z, 0-9 and _"),
                ));
            }
            if let Some(l) = &o.label
                && (l.is_empty() || l.chars().count() > 80 || l.chars().any(char::is_control))
            {
                return Err(invalid(
                    "overrides.label",
                    format!("{l:?} must be 1 to 80 printable characters"),
                ));
            }
            overrides.push((net, o.clone()));
        }
        overrides.sort_by_key(|(c, _)| std::cmp::Reverse(c.prefix));
        Ok(Compiled {
            networks: parse_nets("networks", &self.networks)?,
            fhir: parse_nets("fhir_endpoints", &self.fhir_endpoints)?,
            clinical: parse_nets("clinical_systems", &self.clinical_systems)?,
            overrides,
            dedup_period_micros,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Inventory record (mirrored in ward_store::device)

/// One device in the inventory. Same JSON shape as `ward_store::DeviceRecord` (see the module
/// docs for why there are two).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub address: IpAddr,
    pub role: DeviceRole,
    /// Why the role was inferred (or that it was configured), in plain sentences.
    #[serde(default)]
    pub role_reasons: Vec<String>,
    pub criticality: Criticality,
    /// Label from configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    #[serde(default)]
    pub server_protocols: Vec<Protocol>,
    #[serde(default)]
    pub client_protocols: Vec<Protocol>,
    /// Distinct peers seen, up to [`DeviceConfig::max_peers_per_device`].
    #[serde(default)]
    pub peers: u64,
    #[serde(default)]
    pub flows: u64,
    /// Payload bytes, both directions.
    #[serde(default)]
    pub bytes: u64,
    /// Whether a behaviour profile was learned in training.
    #[serde(default)]
    pub profiled: bool,
}

// ---------------------------------------------------------------------------------------------
// State

/// Which end of a flow a device was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The responder (destination).
    Server,
    /// The originator (source).
    Client,
}

/// A port a device served (as server) or connected to (as client), with its transport.
/// Serialised as text, `server:tcp/104`, so that it can key a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortKey {
    pub side: Side,
    pub port: u16,
    pub transport: String,
}

impl PortKey {
    fn text(&self) -> String {
        let side = match self.side {
            Side::Server => "server",
            Side::Client => "client",
        };
        format!("{side}:{}/{}", self.transport, self.port)
    }

    fn parse(s: &str) -> Option<Self> {
        let (side, rest) = s.split_once(':')?;
        let side = match side {
            "server" => Side::Server,
            "client" => Side::Client,
            _ => return None,
        };
        let (transport, port) = rest.rsplit_once('/')?;
        Some(Self {
            side,
            port: port.parse().ok()?,
            transport: transport.to_owned(),
        })
    }
}

impl fmt::Display for PortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.transport, self.port)
    }
}

impl Serialize for PortKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for PortKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid port key {s:?}: expected side:transport/port"
            ))
        })
    }
}

/// Running mean and variance (Welford) of `ln(1 + bytes)` per flow, and the largest flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Volume {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub max_bytes: u64,
    /// Sum of bytes, for the arithmetic mean shown to people.
    pub sum_bytes: u64,
}

impl Volume {
    fn add(&mut self, bytes: u64) {
        let x = (bytes as f64).ln_1p();
        self.n = self.n.saturating_add(1);
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.max_bytes = self.max_bytes.max(bytes);
        self.sum_bytes = self.sum_bytes.saturating_add(bytes);
    }

    /// Standard deviation of `ln(1 + bytes)`, floored at 0.5 (a factor of about 1.6) so that
    /// a device whose flows were all alike is not alerted on for small changes.
    fn std(&self) -> f64 {
        let var = if self.n > 1 {
            self.m2 / (self.n - 1) as f64
        } else {
            0.0
        };
        var.max(0.0).sqrt().max(0.5)
    }

    fn z(&self, bytes: u64) -> f64 {
        ((bytes as f64).ln_1p() - self.mean) / self.std()
    }
}

/// What a device did during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Profile {
    pub peers: BTreeSet<IpAddr>,
    /// The peer cap was hit: new-peer detection is off for this device.
    pub peers_saturated: bool,
    /// Ports used, each with the bytes-per-flow profile of its flows.
    pub ports: BTreeMap<PortKey, Volume>,
    /// The port cap was hit: new-port detection is off for this device.
    pub ports_saturated: bool,
    pub protocols: BTreeSet<(Side, Protocol)>,
}

/// Inventory entry and (after training) profile of one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub flows: u64,
    pub bytes: u64,
    pub server_flows: u64,
    pub client_flows: u64,
    pub server_protocols: BTreeSet<Protocol>,
    pub client_protocols: BTreeSet<Protocol>,
    pub peers: BTreeSet<IpAddr>,
    pub peers_capped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

impl DeviceState {
    fn new(t: Timestamp) -> Self {
        Self {
            first_seen: t,
            last_seen: t,
            flows: 0,
            bytes: 0,
            server_flows: 0,
            client_flows: 0,
            server_protocols: BTreeSet::new(),
            client_protocols: BTreeSet::new(),
            peers: BTreeSet::new(),
            peers_capped: false,
            profile: None,
        }
    }
}

/// Counters, for the "nothing is lost silently" report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProfilerStats {
    pub flows_trained: u64,
    pub flows_observed: u64,
    /// Flows without a source or destination address (nothing to attribute them to).
    pub flows_skipped: u64,
    /// Flow endpoints not inventoried because [`DeviceConfig::max_devices`] was reached.
    pub endpoints_over_capacity: u64,
    pub alerts_raised: u64,
    /// Findings not raised again within the de-duplication period.
    pub alerts_suppressed: u64,
}

/// Whether the profiler is still learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Training,
    Detecting,
}

/// Everything the profiler has learned: serialise it to snapshot, pass it to
/// [`DeviceProfiler::restore`] to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProfilerState {
    pub phase: Phase,
    /// Latest event time seen; stands in for flows without a timestamp.
    pub clock: Option<Timestamp>,
    pub training_start: Option<Timestamp>,
    pub training_end: Option<Timestamp>,
    pub devices: BTreeMap<IpAddr, DeviceState>,
    /// Hosts seen opening DICOM during training.
    pub dicom_clients: BTreeSet<IpAddr>,
    /// Hosts seen opening HL7 during training.
    pub hl7_clients: BTreeSet<IpAddr>,
    /// Last time each (device, novelty) key raised an alert.
    pub dedup: BTreeMap<String, Timestamp>,
    pub stats: ProfilerStats,
}

// ---------------------------------------------------------------------------------------------
// The profiler

/// Builds the device inventory, learns behaviour profiles, and raises `net.device` alerts.
#[derive(Debug, Clone)]
pub struct DeviceProfiler {
    config: DeviceConfig,
    compiled: Compiled,
    state: ProfilerState,
}

/// One thing a device did that it never did in training.
#[derive(Debug, Clone, PartialEq)]
enum Novelty {
    Peer(IpAddr),
    Port(PortKey),
    Protocol(Side, Protocol),
    Volume { key: PortKey, bytes: u64, z: f64 },
}

impl Novelty {
    fn base_score(&self) -> u8 {
        match self {
            Self::Peer(_) => 40,
            Self::Port(_) => 35,
            Self::Protocol(..) => 50,
            Self::Volume { .. } => 55,
        }
    }
}

impl DeviceProfiler {
    /// A profiler in the training phase.
    pub fn new(config: DeviceConfig) -> Result<Self, DeviceConfigError> {
        Self::restore(config, ProfilerState::default())
    }

    /// A profiler resuming from a snapshot, under a (possibly changed) configuration.
    pub fn restore(config: DeviceConfig, state: ProfilerState) -> Result<Self, DeviceConfigError> {
        let compiled = config.compile()?;
        Ok(Self {
            config,
            compiled,
            state,
        })
    }

    /// The learned state, for snapshots.
    pub fn state(&self) -> &ProfilerState {
        &self.state
    }

    /// The configuration in use.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> &ProfilerStats {
        &self.state.stats
    }

    /// Whether [`Self::finish_training`] has not been called yet.
    pub fn is_training(&self) -> bool {
        self.state.phase == Phase::Training
    }

    /// The protocol of `flow` under this configuration (FHIR endpoints applied).
    pub fn protocol_of(&self, flow: &Flow) -> Option<Protocol> {
        let fhir = flow
            .dst
            .is_some_and(|d| self.compiled.fhir.iter().any(|c| c.contains(d)));
        recognise(flow, fhir)
    }

    /// Learns from one training flow: inventory, per-device profile, and clinical clients.
    /// After [`Self::finish_training`] it only updates the inventory (profiles stay frozen so
    /// that an attacker cannot train them after the fact).
    pub fn train(&mut self, flow: &Flow) {
        let Some((src, dst, t)) = self.endpoints(flow) else {
            return;
        };
        let learning = self.is_training();
        if learning {
            self.state.stats.flows_trained += 1;
            if let Some(ts) = flow.ts {
                self.state.training_start =
                    Some(self.state.training_start.map_or(ts, |s| s.min(ts)));
                self.state.training_end = Some(self.state.training_end.map_or(ts, |e| e.max(ts)));
            }
        }
        let proto = self.protocol_of(flow);
        self.update_inventory(src, dst, Side::Client, proto, flow, t, learning);
        self.update_inventory(dst, src, Side::Server, proto, flow, t, learning);
        if learning {
            let cap = self.config.max_clinical_clients;
            let set = match proto {
                Some(Protocol::Dicom) => Some(&mut self.state.dicom_clients),
                Some(Protocol::Hl7) => Some(&mut self.state.hl7_clients),
                _ => None,
            };
            if let Some(set) = set
                && set.len() < cap
            {
                set.insert(src);
            }
        }
    }

    /// Ends training: from now on [`Self::observe`] raises alerts against the learned profiles.
    pub fn finish_training(&mut self) {
        self.state.phase = Phase::Detecting;
    }

    /// Checks one flow against the profiles and updates the inventory. Returns the alerts it
    /// raises. While still training, the flow is used for training and raises nothing. `event` is the flow's source and line, kept as
    /// evidence with the flow's uid.
    pub fn observe(&mut self, flow: &Flow, event: &EventId) -> Vec<Alert> {
        let Some((src, dst, t)) = self.endpoints(flow) else {
            return Vec::new();
        };
        if self.is_training() {
            self.train(flow);
            return Vec::new();
        }
        self.state.stats.flows_observed += 1;
        let proto = self.protocol_of(flow);
        let evidence = Evidence {
            events: vec![event.clone()],
            uids: flow.uid.iter().cloned().collect(),
        };
        let mut alerts = Vec::new();
        let mut explained = false;
        if let Some(p @ (Protocol::Dicom | Protocol::Hl7)) = proto
            && src != dst
            && !self.is_known_clinical(src, p)
        {
            explained = true;
            let key = format!("access|{src}|{dst}|{}", p.as_str());
            if self.fresh(&key, t) {
                alerts.push(self.access_alert(src, dst, p, flow, t, evidence.clone()));
            }
        }
        if !explained && src != dst {
            for (dev, peer, side) in [(src, dst, Side::Client), (dst, src, Side::Server)] {
                let found = self.novelties(dev, peer, side, proto, flow);
                let fresh: Vec<Novelty> = found
                    .into_iter()
                    .filter(|n| self.fresh(&novelty_key(dev, n), t))
                    .collect();
                if !fresh.is_empty() {
                    alerts.push(self.novelty_alert(
                        dev,
                        peer,
                        side,
                        &fresh,
                        flow,
                        t,
                        evidence.clone(),
                    ));
                }
            }
        }
        self.update_inventory(src, dst, Side::Client, proto, flow, t, false);
        self.update_inventory(dst, src, Side::Server, proto, flow, t, false);
        self.state.stats.alerts_raised += alerts.len() as u64;
        alerts
    }

    /// The inventory, ordered by address.
    pub fn devices(&self) -> Vec<DeviceRecord> {
        self.state
            .devices
            .iter()
            .map(|(a, d)| self.record(*a, d))
            .collect()
    }

    /// One device from the inventory.
    pub fn device(&self, addr: IpAddr) -> Option<DeviceRecord> {
        self.state.devices.get(&addr).map(|d| self.record(addr, d))
    }

    // -- internals ------------------------------------------------------------------------

    /// Source, destination and event time of a flow; counts and skips flows without both
    /// addresses. Advances the event clock.
    fn endpoints(&mut self, flow: &Flow) -> Option<(IpAddr, IpAddr, Timestamp)> {
        let (Some(src), Some(dst)) = (flow.src, flow.dst) else {
            self.state.stats.flows_skipped += 1;
            return None;
        };
        if let Some(ts) = flow.ts {
            self.state.clock = Some(self.state.clock.map_or(ts, |c| c.max(ts)));
        }
        let t = flow.ts.or(self.state.clock).unwrap_or_default();
        Some((src, dst, t))
    }

    fn tracked(&self, addr: IpAddr) -> bool {
        self.compiled.networks.iter().any(|c| c.contains(addr))
    }

    #[allow(clippy::too_many_arguments)]
    fn update_inventory(
        &mut self,
        dev: IpAddr,
        peer: IpAddr,
        side: Side,
        proto: Option<Protocol>,
        flow: &Flow,
        t: Timestamp,
        learn: bool,
    ) {
        if !self.tracked(dev) {
            return;
        }
        if !self.state.devices.contains_key(&dev)
            && self.state.devices.len() >= self.config.max_devices
        {
            self.state.stats.endpoints_over_capacity += 1;
            return;
        }
        let (max_peers, max_ports) = (
            self.config.max_peers_per_device,
            self.config.max_ports_per_device,
        );
        let d = self
            .state
            .devices
            .entry(dev)
            .or_insert_with(|| DeviceState::new(t));
        d.first_seen = d.first_seen.min(t);
        d.last_seen = d.last_seen.max(t);
        d.flows = d.flows.saturating_add(1);
        let bytes = flow.total_bytes();
        d.bytes = d.bytes.saturating_add(bytes.unwrap_or(0));
        match side {
            Side::Server => d.server_flows = d.server_flows.saturating_add(1),
            Side::Client => d.client_flows = d.client_flows.saturating_add(1),
        }
        if let Some(p) = proto {
            match side {
                Side::Server => d.server_protocols.insert(p),
                Side::Client => d.client_protocols.insert(p),
            };
        }
        if d.peers.len() < max_peers {
            d.peers.insert(peer);
        } else if !d.peers.contains(&peer) {
            d.peers_capped = true;
        }
        if !learn {
            return;
        }
        let prof = d.profile.get_or_insert_with(Profile::default);
        if prof.peers.len() < max_peers {
            prof.peers.insert(peer);
        } else if !prof.peers.contains(&peer) {
            prof.peers_saturated = true;
        }
        if let Some(key) = port_key(flow, side) {
            let full = prof.ports.len() >= max_ports;
            match prof.ports.get_mut(&key) {
                Some(v) => {
                    if let Some(b) = bytes {
                        v.add(b);
                    }
                }
                None if full => prof.ports_saturated = true,
                None => {
                    let mut v = Volume::default();
                    if let Some(b) = bytes {
                        v.add(b);
                    }
                    prof.ports.insert(key, v);
                }
            }
        }
        if let Some(p) = proto {
            prof.protocols.insert((side, p));
        }
    }

    fn is_known_clinical(&self, src: IpAddr, p: Protocol) -> bool {
        self.compiled.clinical.iter().any(|c| c.contains(src))
            || match p {
                Protocol::Dicom => self.state.dicom_clients.contains(&src),
                Protocol::Hl7 => self.state.hl7_clients.contains(&src),
                _ => false,
            }
    }

    fn novelties(
        &self,
        dev: IpAddr,
        peer: IpAddr,
        side: Side,
        proto: Option<Protocol>,
        flow: &Flow,
    ) -> Vec<Novelty> {
        let Some(prof) = self
            .state
            .devices
            .get(&dev)
            .and_then(|d| d.profile.as_ref())
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let watched = self.config.novelty_for_general_hosts || self.watched_for_novelty(dev);
        if watched && !prof.peers_saturated && !prof.peers.contains(&peer) {
            out.push(Novelty::Peer(peer));
        }
        let key = port_key(flow, side);
        let learned = key.as_ref().and_then(|k| prof.ports.get(k));
        if let Some(k) = &key
            && watched
            && learned.is_none()
            && !prof.ports_saturated
        {
            out.push(Novelty::Port(k.clone()));
        }
        if let Some(p) = proto.filter(|p| watched && !prof.protocols.contains(&(side, *p))) {
            out.push(Novelty::Protocol(side, p));
        }
        if let (Some(k), Some(v), Some(bytes)) = (key, learned, flow.total_bytes())
            && v.n >= self.config.volume_min_samples
            && bytes >= self.config.volume_min_bytes
            && bytes > v.max_bytes
        {
            let z = v.z(bytes);
            if z >= self.config.volume_sigma {
                out.push(Novelty::Volume { key: k, bytes, z });
            }
        }
        out
    }

    /// Whether `key` may raise at `t`; records it if so. Keeps the table within its cap.
    fn fresh(&mut self, key: &str, t: Timestamp) -> bool {
        let period = self.compiled.dedup_period_micros;
        let last = self.state.dedup.get(key).copied();
        if let Some(last) = last
            && t.0.saturating_sub(last.0).saturating_abs() < period
        {
            // Within the period either way (flows may arrive slightly out of order).
            self.state.stats.alerts_suppressed += 1;
            return false;
        }
        if self.state.dedup.len() >= self.config.max_dedup_entries
            && !self.state.dedup.contains_key(key)
        {
            let horizon = t.0.saturating_sub(period);
            self.state.dedup.retain(|_, last| last.0 > horizon);
            if self.state.dedup.len() >= self.config.max_dedup_entries {
                // Still full of recent keys: forget the older half.
                let mut times: Vec<i64> = self.state.dedup.values().map(|t| t.0).collect();
                times.sort_unstable();
                let cut = times.get(times.len() / 2).copied().unwrap_or(i64::MAX);
                self.state.dedup.retain(|_, last| last.0 > cut);
            }
        }
        self.state
            .dedup
            .insert(key.to_owned(), last.map_or(t, |l| l.max(t)));
        true
    }

    /// Whether a device's novelties are alerted on without `novelty_for_general_hosts`.
    fn watched_for_novelty(&self, addr: IpAddr) -> bool {
        let Some(d) = self.state.devices.get(&addr) else {
            return false;
        };
        let (role, _, crit, _) = self.role_and_reasons(addr, d);
        let general = matches!(
            role,
            DeviceRole::Workstation
                | DeviceRole::Server
                | DeviceRole::Unknown
                | DeviceRole::ClinicalWorkstation
        );
        // a general host is watched only when configuration raised its criticality
        !general
            || (crit != role.default_criticality()
                && matches!(crit, Criticality::Clinical | Criticality::LifeSustaining))
    }

    fn role_and_reasons(
        &self,
        addr: IpAddr,
        d: &DeviceState,
    ) -> (DeviceRole, Vec<String>, Criticality, Option<String>) {
        let ov = self
            .compiled
            .overrides
            .iter()
            .find(|(c, _)| c.contains(addr));
        let (role, reasons) = match ov.and_then(|(c, o)| o.role.as_ref().map(|r| (c, r))) {
            Some((c, r)) => (
                DeviceRole::parse(r),
                vec![format!("configured as {r} for {c}")],
            ),
            None => infer_role(d),
        };
        let crit = ov
            .and_then(|(_, o)| o.criticality)
            .unwrap_or_else(|| role.default_criticality());
        let label = ov.and_then(|(_, o)| o.label.clone());
        (role, reasons, crit, label)
    }

    fn record(&self, addr: IpAddr, d: &DeviceState) -> DeviceRecord {
        let (role, role_reasons, criticality, label) = self.role_and_reasons(addr, d);
        DeviceRecord {
            address: addr,
            role,
            role_reasons,
            criticality,
            label,
            first_seen: d.first_seen,
            last_seen: d.last_seen,
            server_protocols: d.server_protocols.iter().copied().collect(),
            client_protocols: d.client_protocols.iter().copied().collect(),
            peers: d.peers.len() as u64,
            flows: d.flows,
            bytes: d.bytes,
            profiled: d.profile.is_some(),
        }
    }

    /// Role, criticality and a noun phrase for a device ("the CT scanner 10.3.0.5").
    fn describe(&self, addr: IpAddr) -> (DeviceRole, Criticality, String) {
        let empty = DeviceState::new(Timestamp::default());
        let d = self.state.devices.get(&addr).unwrap_or(&empty);
        let (role, _, crit, label) = self.role_and_reasons(addr, d);
        let noun = label.unwrap_or_else(|| role.describe());
        (role, crit, format!("the {noun} {addr}"))
    }

    fn window_phrase(&self) -> String {
        let span = match (self.state.training_start, self.state.training_end) {
            (Some(s), Some(e)) => e.0.saturating_sub(s.0),
            _ => return "the training window".into(),
        };
        let secs = span / MICROS_PER_SEC;
        let phrase = if secs >= 86_400 {
            format!("{}-day", (secs + 43_200) / 86_400)
        } else if secs >= 3_600 {
            format!("{}-hour", (secs + 1_800) / 3_600)
        } else {
            format!("{}-minute", ((secs + 30) / 60).max(1))
        };
        format!("the {phrase} training window")
    }

    fn access_alert(
        &self,
        src: IpAddr,
        dst: IpAddr,
        p: Protocol,
        flow: &Flow,
        t: Timestamp,
        ev: Evidence,
    ) -> Alert {
        let (role, crit, dev) = self.describe(dst);
        let window = self.window_phrase();
        let known = match p {
            Protocol::Hl7 => "a known interface engine or HL7 device",
            _ => "a known PACS, modality or workstation",
        };
        let mut summary =
            format!("{src} has never opened {p} to {dev} during {window}; it is not {known}.");
        if let Some(st) = flow
            .state
            .as_deref()
            .filter(|s| matches!(*s, "REJ" | "S0" | "RSTO" | "RSTR" | "RSTOS0" | "SH"))
        {
            summary.push_str(&format!(
                " The connection did not complete normally (state {st})."
            ));
        }
        if crit == Criticality::LifeSustaining {
            summary.push_str(" The device is classed life-sustaining.");
        }
        let base: u8 = if p == Protocol::Hl7 { 70 } else { 65 };
        let score = base.saturating_add(crit.score_bonus()).min(100);
        let mut contributions = vec![
            Contribution {
                feature: "known_clinical_system".into(),
                value: "no".into(),
                weight: f64::from(base),
            },
            Contribution {
                feature: "protocol".into(),
                value: p.as_str().into(),
                weight: 0.0,
            },
            Contribution {
                feature: "device_criticality".into(),
                value: crit.as_str().into(),
                weight: f64::from(crit.score_bonus()),
            },
            Contribution {
                feature: "device_role".into(),
                value: role.as_str().into(),
                weight: 0.0,
            },
        ];
        if let Some(port) = flow.dst_port {
            contributions.push(Contribution {
                feature: "dst_port".into(),
                value: port.to_string(),
                weight: 0.0,
            });
        }
        let mitre: &[&str] = match p {
            // Unknown HL7 senders can inject or alter orders and results.
            Protocol::Hl7 => &["T0836", "T0830"],
            // Unknown DICOM clients probe for and pull studies.
            _ => &["T0846", "T0882"],
        };
        Alert::new(
            t,
            DETECTOR,
            score,
            EntityId::host(src.to_string()),
            format!("unknown host {src} opened {p} to {dst}"),
            Explanation {
                summary,
                contributions,
                rules: vec![format!("{DETECTOR}.unknown_clinical_client")],
            },
            ev,
        )
        .with_mitre(mitre)
    }

    #[allow(clippy::too_many_arguments)]
    fn novelty_alert(
        &self,
        dev: IpAddr,
        peer: IpAddr,
        side: Side,
        found: &[Novelty],
        flow: &Flow,
        t: Timestamp,
        ev: Evidence,
    ) -> Alert {
        let (role, crit, name) = self.describe(dev);
        let window = self.window_phrase();
        let prof = self
            .state
            .devices
            .get(&dev)
            .and_then(|d| d.profile.as_ref());
        let mut sentences = Vec::new();
        let mut contributions = Vec::new();
        let mut headline = Vec::new();
        let mut mitre: BTreeSet<&str> = BTreeSet::new();
        for n in found {
            let w = f64::from(n.base_score());
            match n {
                Novelty::Peer(p) => {
                    let count = prof.map_or(0, |p| p.peers.len());
                    sentences.push(match side {
                        Side::Server => format!(
                            "{p} connected to {dev}; it was not among the {} seen in training.",
                            plural(count, "peer")
                        ),
                        Side::Client => format!(
                            "{dev} connected to {p}; it was not among the {} seen in training.",
                            plural(count, "peer")
                        ),
                    });
                    contributions.push(Contribution {
                        feature: "new_peer".into(),
                        value: p.to_string(),
                        weight: w,
                    });
                    headline.push(format!("new peer {p}"));
                    mitre.insert("T1021");
                }
                Novelty::Port(k) => {
                    let known: Vec<String> = prof
                        .map(|p| {
                            p.ports
                                .keys()
                                .filter(|q| q.side == k.side)
                                .take(5)
                                .map(ToString::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let before = if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    };
                    sentences.push(match k.side {
                        Side::Server => format!(
                            "{dev} accepted a connection on {k}, a port it did not serve during training (it served {before})."
                        ),
                        Side::Client => format!(
                            "{dev} connected to {k} on {peer}, a port it did not use during training (it used {before})."
                        ),
                    });
                    contributions.push(Contribution {
                        feature: "new_port".into(),
                        value: k.to_string(),
                        weight: w,
                    });
                    headline.push(format!("new port {k}"));
                    mitre.insert(if k.side == Side::Client {
                        "T0846"
                    } else {
                        "T1021"
                    });
                }
                Novelty::Protocol(s, p) => {
                    let known: Vec<&str> = prof
                        .map(|pr| {
                            pr.protocols
                                .iter()
                                .filter(|(q, _)| q == s)
                                .map(|(_, x)| x.display_name())
                                .collect()
                        })
                        .unwrap_or_default();
                    let role_word = if *s == Side::Server {
                        "server"
                    } else {
                        "client"
                    };
                    let before = if known.is_empty() {
                        format!("no recognised protocol as a {role_word}")
                    } else {
                        known.join(", ")
                    };
                    sentences.push(format!(
                        "{dev} spoke {p} as a {role_word} for the first time; during training it spoke {before}."
                    ));
                    contributions.push(Contribution {
                        feature: format!("new_protocol_{role_word}"),
                        value: p.as_str().into(),
                        weight: w,
                    });
                    headline.push(format!("new protocol {p}"));
                    mitre.insert(match (s, p) {
                        (Side::Client, Protocol::Rdp) => "T1021.001",
                        (Side::Client, Protocol::Smb) => "T1021.002",
                        (Side::Client, Protocol::Ssh) => "T1021.004",
                        (Side::Client, _) => "T0846",
                        (Side::Server, _) => "T1021",
                    });
                }
                Novelty::Volume { key, bytes, z } => {
                    let v = prof
                        .and_then(|p| p.ports.get(key))
                        .cloned()
                        .unwrap_or_default();
                    let mean = v.sum_bytes.checked_div(v.n).unwrap_or(0);
                    sentences.push(format!(
                        "{dev} moved {} in one flow on {key}; during training its {} flows there averaged {} and the largest was {}.",
                        human_bytes(*bytes),
                        v.n,
                        human_bytes(mean),
                        human_bytes(v.max_bytes)
                    ));
                    contributions.push(Contribution {
                        feature: "flow_bytes".into(),
                        value: bytes.to_string(),
                        weight: w,
                    });
                    contributions.push(Contribution {
                        feature: "volume_z".into(),
                        value: format!("{z:.1}"),
                        weight: 0.0,
                    });
                    headline.push("unusual volume".to_owned());
                    mitre.insert("T0882");
                }
            }
        }
        let mut summary = format!(
            "{} behaved in a way not seen during {window}. ",
            capitalise(&name)
        );
        summary.push_str(&sentences.join(" "));
        match crit {
            Criticality::LifeSustaining => {
                summary.push_str(" The device is classed life-sustaining.")
            }
            Criticality::Clinical => summary.push_str(" The device is classed clinical."),
            _ => {}
        }
        contributions.push(Contribution {
            feature: "device_criticality".into(),
            value: crit.as_str().into(),
            weight: f64::from(crit.score_bonus()),
        });
        contributions.push(Contribution {
            feature: "device_role".into(),
            value: role.as_str().into(),
            weight: 0.0,
        });
        if let Some(p) = self.protocol_of(flow) {
            contributions.push(Contribution {
                feature: "protocol".into(),
                value: p.as_str().into(),
                weight: 0.0,
            });
        }
        contributions.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let top = found.iter().map(Novelty::base_score).max().unwrap_or(0);
        let extra = (found.len().saturating_sub(1) as u8).saturating_mul(5);
        let score = top
            .saturating_add(extra)
            .saturating_add(crit.score_bonus())
            .min(100);
        let mitre: Vec<&str> = mitre.into_iter().collect();
        Alert::new(
            t,
            DETECTOR,
            score,
            EntityId::device(dev.to_string()),
            format!("device {dev} ({role}): {}", headline.join(", ")),
            Explanation {
                summary,
                contributions,
                rules: vec![format!("{DETECTOR}.novelty")],
            },
            ev,
        )
        .with_mitre(&mitre)
    }
}

fn novelty_key(dev: IpAddr, n: &Novelty) -> String {
    match n {
        Novelty::Peer(p) => format!("{dev}|peer|{p}"),
        Novelty::Port(k) => format!("{dev}|port|{}", k.text()),
        Novelty::Protocol(s, p) => format!("{dev}|proto|{s:?}|{}", p.as_str()),
        Novelty::Volume { key, .. } => format!("{dev}|volume|{}", key.text()),
    }
}

fn port_key(flow: &Flow, side: Side) -> Option<PortKey> {
    let port = flow.dst_port?;
    Some(PortKey {
        side,
        port,
        // Transport names come from input; keep state small whatever they are.
        transport: flow.proto.as_str().chars().take(16).collect(),
    })
}

fn names(ps: &BTreeSet<Protocol>, pred: impl Fn(Protocol) -> bool) -> Vec<&'static str> {
    ps.iter()
        .copied()
        .filter(|p| pred(*p))
        .map(Protocol::display_name)
        .collect()
}

/// The role a device's traffic suggests, with the reasons, first rule that matches.
fn infer_role(d: &DeviceState) -> (DeviceRole, Vec<String>) {
    let serves = |p| d.server_protocols.contains(&p);
    let opens = |p| d.client_protocols.contains(&p);
    if serves(Protocol::Dicom) {
        return (
            DeviceRole::DicomModalityOrPacs,
            vec!["answers DICOM, as a PACS or an imaging modality does".into()],
        );
    }
    if serves(Protocol::Hl7) {
        return (
            DeviceRole::Hl7InterfaceEngineOrDevice,
            vec!["answers HL7 over MLLP, as an interface engine does".into()],
        );
    }
    if serves(Protocol::Fhir) {
        return (DeviceRole::FhirServer, vec!["answers FHIR requests".into()]);
    }
    let interactive = names(&d.client_protocols, Protocol::is_interactive);
    let clinical = names(&d.client_protocols, Protocol::is_clinical);
    if opens(Protocol::Hl7) && interactive.is_empty() {
        return (
            DeviceRole::Hl7InterfaceEngineOrDevice,
            vec!["sends HL7 messages and opens no interactive sessions, as a clinical device or interface engine does".into()],
        );
    }
    if opens(Protocol::Dicom) && interactive.is_empty() {
        return (
            DeviceRole::DicomModalityOrPacs,
            vec!["opens DICOM associations and no interactive sessions, as a modality sending studies does".into()],
        );
    }
    if !clinical.is_empty() && !interactive.is_empty() {
        return (
            DeviceRole::ClinicalWorkstation,
            vec![format!(
                "opens clinical sessions ({}) and interactive ones ({})",
                clinical.join(", "),
                interactive.join(", ")
            )],
        );
    }
    if d.server_flows > 0 && (!d.server_protocols.is_empty() || d.server_flows >= 3) {
        let what = if d.server_protocols.is_empty() {
            format!("accepts connections ({} flows)", d.server_flows)
        } else {
            format!(
                "answers {}",
                names(&d.server_protocols, |_| true).join(", ")
            )
        };
        return (DeviceRole::Server, vec![what]);
    }
    if !interactive.is_empty() {
        return (
            DeviceRole::Workstation,
            vec![format!(
                "opens interactive sessions ({}) and answers none",
                interactive.join(", ")
            )],
        );
    }
    (
        DeviceRole::Unknown,
        vec!["not enough recognised traffic to infer a role".into()],
    )
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    let unit = UNITS.get(u).copied().unwrap_or("B");
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {unit}")
    }
}

/// "1 peer", "3 peers".
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parses_and_matches() {
        let cases = [
            ("10.0.0.0/8", "10.200.1.1", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.3.0.5", "10.3.0.5", true),
            ("10.3.0.5", "10.3.0.6", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("fc00::/7", "fd00::1", true),
            ("fc00::/7", "10.0.0.1", false),
            ("::/0", "::1", true),
        ];
        for (net, ip, want) in cases {
            let c = Cidr::parse(net).unwrap();
            assert_eq!(c.contains(ip.parse().unwrap()), want, "{net} {ip}");
        }
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0/8",
            "x",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_bytes_reads_well() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(2_100_000_000), "2.1 GB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
    }

    #[test]
    fn port_key_text_round_trips() {
        for (side, transport) in [
            (Side::Server, "tcp"),
            (Side::Client, "weird:/name"),
            (Side::Client, ""),
        ] {
            let k = PortKey {
                side,
                port: 104,
                transport: transport.into(),
            };
            assert_eq!(PortKey::parse(&k.text()), Some(k.clone()));
            let j = serde_json::to_string(&k).unwrap();
            assert_eq!(serde_json::from_str::<PortKey>(&j).unwrap(), k);
        }
        for bad in [
            "",
            "tcp/104",
            "server:tcp",
            "server:tcp/99999",
            "host:tcp/1",
        ] {
            assert_eq!(PortKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn volume_z_is_finite() {
        let mut v = Volume::default();
        for _ in 0..10 {
            v.add(1000);
        }
        assert!(v.z(u64::MAX).is_finite());
        assert!(v.z(0) < 0.0);
    }
}
