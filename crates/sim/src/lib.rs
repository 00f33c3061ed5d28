//! A seeded, reproducible simulated hospital network with labelled attacks.
//!
//! [`generate`] builds a hospital (workstations per clinical unit, domain controllers, file and
//! print servers, EHR application and database servers, an HL7 interface engine, PACS and RIS,
//! infusion pumps, patient monitors, DICOM imaging modalities, building IoT, printers and the
//! internet beyond the firewall), then simulates its connections for [`SimConfig::hours`]: normal
//! traffic that follows shifts and clinical workflows, and, after an attack-free training window,
//! a campaign of labelled attacks. The result is written out with [`write_zeek_conn`] (a real Zeek
//! `conn.log`), [`write_truth`] (per-flow ground truth CSV), [`write_attacks_json`] and
//! [`write_devices`].
//!
//! Pure: no IO except the `write_*` functions writing to the writer they are given, no clock.
//! The same configuration always gives the same flows, uids and bytes, so the same seed gives a
//! byte-identical `conn.log`. See `crates/sim/README.md` for the hospital and the attacks.

mod attack;
mod benign;
pub mod claims;
pub mod ehr;
mod emit;
mod hospital;
mod rng;
mod zeek;

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use ward_core::{Flow, Timestamp};

pub use zeek::{write_attacks_json, write_devices, write_truth, write_zeek_conn};

/// Largest accepted [`SimConfig::hours`]: 31 days.
pub const MAX_HOURS: f64 = 24.0 * 31.0;
/// Smallest accepted [`SimConfig::scale`].
pub const MIN_SCALE: f64 = 0.01;
/// Largest accepted [`SimConfig::scale`].
pub const MAX_SCALE: f64 = 10.0;
/// Largest accepted `hours * scale`: about 1.6 million flows, a few hundred MB in memory.
pub const MAX_SCALE_HOURS: f64 = 24.0 * 8.0;

/// What to simulate. Every field has a default, so `{}` is a valid configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Random seed: the same seed gives the same hospital, traffic and attacks. Default 42.
    pub seed: u64,
    /// Simulation start. The hospital keeps UTC as its wall clock, so shifts follow the UTC hour.
    /// Default 2024-05-06T00:00:00Z (a Monday at midnight).
    pub start: Timestamp,
    /// Simulated duration in hours, in `(0, MAX_HOURS]`. Default 24.
    pub hours: f64,
    /// Multiplies device counts and server traffic, in `[MIN_SCALE, MAX_SCALE]`. Default 1.0
    /// (about 380 devices and 200k-250k flows a day); 0.05 gives a small, fast hospital.
    pub scale: f64,
    /// Attack-free window at the start, in hours, for training detectors. Default 8.
    pub benign_hours: f64,
    /// Whether to inject attacks after the benign window. Default true.
    pub attacks: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            start: Timestamp(1_714_953_600_000_000),
            hours: 24.0,
            scale: 1.0,
            benign_hours: 8.0,
            attacks: true,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("hours must be a finite number in (0, {MAX_HOURS}], got {0}")]
    Hours(f64),
    #[error("scale must be a finite number in [{MIN_SCALE}, {MAX_SCALE}], got {0}")]
    Scale(f64),
    #[error("benign_hours must be a finite number >= 0, got {0}")]
    BenignHours(f64),
    #[error("hours * scale must be at most {MAX_SCALE_HOURS}, got {0}")]
    TooLarge(f64),
}

impl SimConfig {
    /// Checks every field is in range. [`generate`] clamps instead of failing, so call this first
    /// to reject a bad configuration with a clear message.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(self.hours.is_finite() && self.hours > 0.0 && self.hours <= MAX_HOURS) {
            return Err(SimError::Hours(self.hours));
        }
        if !(self.scale.is_finite() && (MIN_SCALE..=MAX_SCALE).contains(&self.scale)) {
            return Err(SimError::Scale(self.scale));
        }
        if !(self.benign_hours.is_finite() && self.benign_hours >= 0.0) {
            return Err(SimError::BenignHours(self.benign_hours));
        }
        if self.hours * self.scale > MAX_SCALE_HOURS {
            return Err(SimError::TooLarge(self.hours * self.scale));
        }
        Ok(())
    }

    /// The configuration [`generate`] actually runs: non-finite values replaced by defaults,
    /// the rest clamped into range (hours shortened when `hours * scale` is too large).
    pub fn clamped(&self) -> SimConfig {
        let d = SimConfig::default();
        let finite_or = |v: f64, dflt: f64| if v.is_finite() { v } else { dflt };
        let scale = finite_or(self.scale, d.scale).clamp(MIN_SCALE, MAX_SCALE);
        let hours = finite_or(self.hours, d.hours)
            .clamp(1.0 / 60.0, MAX_HOURS)
            .min(MAX_SCALE_HOURS / scale);
        let benign_hours = finite_or(self.benign_hours, d.benign_hours).max(0.0);
        SimConfig {
            scale,
            hours,
            benign_hours,
            ..self.clone()
        }
    }

    /// End of the simulated period.
    pub fn end(&self) -> Timestamp {
        offset(self.start, self.hours * 3600.0)
    }

    /// End of the attack-free window (never after [`SimConfig::end`]).
    pub fn benign_end(&self) -> Timestamp {
        offset(self.start, self.benign_hours.min(self.hours) * 3600.0)
    }
}

fn offset(t: Timestamp, secs: f64) -> Timestamp {
    let us = if secs.is_finite() {
        (secs * 1e6).round() as i64
    } else {
        0
    };
    Timestamp(t.0.saturating_add(us))
}

/// What a device does in the hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// A Windows desktop in a clinical unit, radiology, the lab, administration or IT.
    Workstation,
    /// A general server: print, backup, monitoring, RIS, LIS, BMS, pump server, intranet apps.
    Server,
    /// EHR application or database server.
    EhrServer,
    /// Picture archiving and communication system (DICOM store and query).
    PacsServer,
    /// HL7 v2 interface engine (MLLP on port 2575).
    Hl7Engine,
    /// Networked infusion pump.
    InfusionPump,
    /// Bedside patient monitor.
    PatientMonitor,
    /// Imaging modality speaking DICOM: CT, MR, ultrasound, X-ray.
    Modality,
    /// Building IoT: HVAC controllers, badge readers, environment sensors.
    BuildingIot,
    /// Active Directory domain controller (DNS, Kerberos, LDAP, NTP).
    DomainController,
    /// SMB file server.
    FileServer,
    /// Network printer.
    Printer,
    /// A host on the internet.
    Internet,
}

impl DeviceRole {
    /// Every role, in declaration order.
    pub const ALL: [DeviceRole; 13] = [
        Self::Workstation,
        Self::Server,
        Self::EhrServer,
        Self::PacsServer,
        Self::Hl7Engine,
        Self::InfusionPump,
        Self::PatientMonitor,
        Self::Modality,
        Self::BuildingIot,
        Self::DomainController,
        Self::FileServer,
        Self::Printer,
        Self::Internet,
    ];
}

/// How much patient safety depends on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// Life-sustaining or life-supporting: no automated response without human approval.
    LifeSustaining,
    /// Needed for care: EHR, PACS, HL7, modalities, clinical workstations.
    Clinical,
    /// Everything else.
    Business,
}

/// One device of the simulated hospital (or a known internet host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimDevice {
    pub addr: IpAddr,
    /// Host name such as `pump-icu-07` or `ws-ed-03`; never a person's name.
    pub name: String,
    pub role: DeviceRole,
    pub criticality: Criticality,
    /// The subnet the device sits in, as CIDR (`10.30.0.0/22`), or `internet`.
    pub subnet: String,
}

/// The attack scenarios the simulator injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// TCP connect scan of servers and devices from a compromised workstation.
    PortScan,
    /// Password guessing against exposed RDP and SSH from the internet.
    BruteForce,
    /// SMB tool transfer, remote service execution and RDP from a compromised workstation.
    LateralMovement,
    /// One workstation reads and rewrites large SMB volumes on many shares within minutes.
    Ransomware,
    /// Long, large HTTPS upload to an external address never seen before, at night.
    Exfiltration,
    /// Bulk DICOM C-FIND/C-GET against PACS from a workstation that never speaks DICOM.
    DicomPull,
    /// A host that is not the HL7 engine sends HL7 over MLLP to patient monitors.
    Hl7Injection,
}

impl AttackKind {
    /// Every kind, in the order the campaign runs them (exfiltration waits for the night).
    pub const ALL: [AttackKind; 7] = [
        Self::PortScan,
        Self::BruteForce,
        Self::LateralMovement,
        Self::DicomPull,
        Self::Hl7Injection,
        Self::Exfiltration,
        Self::Ransomware,
    ];

    /// The label category written to ground truth.
    pub fn category(self) -> &'static str {
        match self {
            Self::PortScan => "Probe",
            Self::BruteForce => "BruteForce",
            Self::LateralMovement => "LateralMovement",
            Self::Ransomware => "Ransomware",
            Self::Exfiltration => "Exfiltration",
            Self::DicomPull => "DicomPull",
            Self::Hl7Injection => "Hl7Injection",
        }
    }

    /// MITRE ATT&CK technique ids (Enterprise, or ICS for the `T08xx` ones).
    pub fn mitre(self) -> &'static [&'static str] {
        match self {
            Self::PortScan => &["T1046"],
            Self::BruteForce => &["T1110.001", "T1133"],
            Self::LateralMovement => &["T1021.002", "T1021.001", "T1570", "T1569.002"],
            Self::Ransomware => &["T1486", "T1021.002"],
            Self::Exfiltration => &["T1048.002", "T1030"],
            Self::DicomPull => &["T1213", "T1119"],
            Self::Hl7Injection => &["T0830", "T0836", "T0856"],
        }
    }
}

/// Ground truth for one injected attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackTruth {
    /// 1-based id, referenced by [`SimFlow::attack`] and the truth CSV.
    pub id: u32,
    pub kind: AttackKind,
    /// Label category (`Probe`, `BruteForce`, `LateralMovement`, `Ransomware`, `Exfiltration`,
    /// `DicomPull`, `Hl7Injection`).
    pub category: String,
    pub attacker: IpAddr,
    /// Hosts the attack touched, in first-contact order.
    pub targets: Vec<IpAddr>,
    /// Start of the first attack flow.
    pub start: Timestamp,
    /// End of the last attack flow (its start plus duration).
    pub end: Timestamp,
    /// MITRE ATT&CK technique ids.
    pub mitre: Vec<String>,
}

/// One simulated connection with its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimFlow {
    /// The connection as Zeek would log it. `label` is always set: `Normal` for benign flows,
    /// the attack category and a finer name (`rdp_brute_force`) for attack flows.
    pub flow: Flow,
    /// The [`AttackTruth::id`] this flow belongs to, if any.
    pub attack: Option<u32>,
}

/// Everything one simulation produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOutput {
    /// The hospital's devices and the known internet hosts (attackers are not listed).
    pub devices: Vec<SimDevice>,
    /// Every connection, sorted by start time (ties by uid).
    pub flows: Vec<SimFlow>,
    /// The injected attacks, by id.
    pub attacks: Vec<AttackTruth>,
}

impl SimOutput {
    /// The device with this address, if it is one of the hospital's.
    pub fn device(&self, addr: IpAddr) -> Option<&SimDevice> {
        self.devices.iter().find(|d| d.addr == addr)
    }

    /// Number of flows that belong to an attack.
    pub fn attack_flow_count(&self) -> usize {
        self.flows.iter().filter(|f| f.attack.is_some()).count()
    }
}

/// Simulates the hospital for `cfg` (after [`SimConfig::clamped`]). Deterministic for a given
/// configuration: no clock, no IO, no global state.
pub fn generate(cfg: &SimConfig) -> SimOutput {
    let cfg = cfg.clamped();
    let mut rng = rng::Rng::new(cfg.seed);
    let hosp = hospital::Hospital::build(&mut rng.fork(), cfg.scale);
    let mut g = emit::Gen::new(&cfg, rng.fork(), &hosp);
    // Attackers' internet addresses are chosen first so benign long-tail browsing avoids them.
    let plan = attack::plan(&cfg, &mut rng.fork(), &hosp, g.clock);
    g.avoid = plan.external_addrs();
    benign::run(&mut g);
    let attacks = if cfg.attacks {
        attack::run(&mut g, &plan)
    } else {
        Vec::new()
    };
    let mut flows = g.into_flows();
    flows.sort_unstable_by(|a, b| {
        a.flow
            .ts
            .cmp(&b.flow.ts)
            .then_with(|| a.flow.uid.cmp(&b.flow.uid))
    });
    SimOutput {
        devices: hosp.devices.clone(),
        flows,
        attacks,
    }
}
