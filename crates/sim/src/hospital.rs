//! The hospital's inventory: address plan, names, roles, criticality and open ports.

use crate::rng::Rng;
use crate::{Criticality, DeviceRole, SimDevice};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

/// Clinical or business unit a workstation belongs to; decides its shift profile and habits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Icu,
    Ed,
    Ward,
    Rad,
    Lab,
    Admin,
    It,
}

impl Unit {
    fn tag(self) -> &'static str {
        match self {
            Self::Icu => "icu",
            Self::Ed => "ed",
            Self::Ward => "ward",
            Self::Rad => "rad",
            Self::Lab => "lab",
            Self::Admin => "admin",
            Self::It => "it",
        }
    }
}

/// Operating system family, for ephemeral port ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    Windows,
    Linux,
    Embedded,
}

/// Imaging modality type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modality {
    Ct,
    Mr,
    Us,
    Xr,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ws {
    pub ip: IpAddr,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Dev {
    pub ip: IpAddr,
    pub unit: Unit,
}

/// The hospital: devices plus the groups the traffic models draw from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hospital {
    pub devices: Vec<SimDevice>,
    pub ws: Vec<Ws>,
    pub dc: Vec<IpAddr>,
    pub fs: Vec<IpAddr>,
    pub print: Vec<IpAddr>,
    pub backup: Vec<IpAddr>,
    pub nms: Vec<IpAddr>,
    pub ehr_app: Vec<IpAddr>,
    pub ehr_db: Vec<IpAddr>,
    pub hl7: Vec<IpAddr>,
    pub lis: Vec<IpAddr>,
    pub pacs: Vec<IpAddr>,
    pub ris: Vec<IpAddr>,
    pub bms: Vec<IpAddr>,
    pub acs: Vec<IpAddr>,
    pub pump_srv: Vec<IpAddr>,
    pub central: Vec<IpAddr>,
    pub app: Vec<IpAddr>,
    pub sftp: Vec<IpAddr>,
    pub rds: Vec<IpAddr>,
    pub pumps: Vec<Dev>,
    pub monitors: Vec<Dev>,
    pub modalities: Vec<(IpAddr, Modality)>,
    pub hvac: Vec<IpAddr>,
    pub badge: Vec<IpAddr>,
    pub sensors: Vec<IpAddr>,
    pub printers: Vec<IpAddr>,
    pub ext_web: Vec<IpAddr>,
    pub ext_update: Vec<IpAddr>,
    pub ext_dns: Vec<IpAddr>,
    pub ext_vendor: Vec<IpAddr>,
    pub ext_offsite: Vec<IpAddr>,
    /// Unused addresses inside the server subnet (a scanner's probes there go unanswered).
    pub dark: Vec<IpAddr>,
    os: BTreeMap<IpAddr, Os>,
    open: BTreeMap<IpAddr, &'static [u16]>,
}

/// Hosts per /22 group the address plan hands out.
const GROUP_MAX: usize = 800;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// Address of host `i` in the /22 group starting at `10.a.base.0`: 200 hosts per /24, from .20.
fn host(a: u8, base: u8, i: usize) -> IpAddr {
    let third = base.saturating_add(u8::try_from(i / 200).unwrap_or(u8::MAX));
    let fourth = 20 + u8::try_from(i % 200).unwrap_or(0);
    v4(10, a, third, fourth)
}

fn count(base: f64, scale: f64) -> usize {
    ((base * scale).round() as usize).clamp(1, GROUP_MAX)
}

const DC_PORTS: &[u16] = &[53, 88, 135, 139, 389, 445, 464, 636, 3268, 3389];
const FS_PORTS: &[u16] = &[135, 139, 445, 3389];
const WIN_APP_PORTS: &[u16] = &[80, 135, 443, 445, 3389];
const EHR_APP_PORTS: &[u16] = &[443, 2575, 3389];
const EHR_DB_PORTS: &[u16] = &[22, 1972];
const HL7_PORTS: &[u16] = &[22, 443, 2575];
const PACS_PORTS: &[u16] = &[104, 135, 443, 445, 3389, 11112];
const RIS_PORTS: &[u16] = &[104, 443, 2575];
const LINUX_WEB_PORTS: &[u16] = &[22, 443];
const BMS_PORTS: &[u16] = &[22, 443, 8883];
const ACS_PORTS: &[u16] = &[443, 4050];
const PRINT_SRV_PORTS: &[u16] = &[135, 139, 445, 631];
const BACKUP_PORTS: &[u16] = &[22, 443, 2500];
const NMS_PORTS: &[u16] = &[22, 443];
const CENTRAL_PORTS: &[u16] = &[443, 24105];
const SFTP_PORTS: &[u16] = &[22];
const RDS_PORTS: &[u16] = &[443, 3389];
const MONITOR_PORTS: &[u16] = &[2575];
const PUMP_PORTS: &[u16] = &[];
const MODALITY_PORTS: &[u16] = &[104];
const PRINTER_PORTS: &[u16] = &[80, 443, 631, 9100];
const IOT_PORTS: &[u16] = &[80];
const WS_PORTS: &[u16] = &[135, 139, 445];

struct Builder<'a> {
    h: &'a mut Hospital,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        ip: IpAddr,
        name: String,
        role: DeviceRole,
        criticality: Criticality,
        subnet: &str,
        os: Os,
        open: &'static [u16],
    ) -> IpAddr {
        self.h.devices.push(SimDevice {
            addr: ip,
            name,
            role,
            criticality,
            subnet: subnet.to_string(),
        });
        self.h.os.insert(ip, os);
        self.h.open.insert(ip, open);
        ip
    }
}

struct Server {
    last: u8,
    name: &'static str,
    role: DeviceRole,
    crit: Criticality,
    os: Os,
    open: &'static [u16],
}

const fn srv(
    last: u8,
    name: &'static str,
    role: DeviceRole,
    crit: Criticality,
    os: Os,
    open: &'static [u16],
) -> Server {
    Server {
        last,
        name,
        role,
        crit,
        os,
        open,
    }
}

impl Hospital {
    /// Builds the inventory for a scale factor (device counts scale, each group keeps at least
    /// one device; the core servers are always there).
    pub(crate) fn build(rng: &mut Rng, scale: f64) -> Hospital {
        use Criticality::{Business, Clinical, LifeSustaining};
        use DeviceRole as R;
        let mut h = Hospital::default();
        let mut b = Builder { h: &mut h };

        let core = "10.1.0.0/24";
        let servers = [
            srv(
                10,
                "dc-01",
                R::DomainController,
                Business,
                Os::Windows,
                DC_PORTS,
            ),
            srv(
                11,
                "dc-02",
                R::DomainController,
                Business,
                Os::Windows,
                DC_PORTS,
            ),
            srv(20, "fs-01", R::FileServer, Business, Os::Windows, FS_PORTS),
            srv(21, "fs-02", R::FileServer, Business, Os::Windows, FS_PORTS),
            srv(
                30,
                "print-01",
                R::Server,
                Business,
                Os::Windows,
                PRINT_SRV_PORTS,
            ),
            srv(
                40,
                "backup-01",
                R::Server,
                Business,
                Os::Linux,
                BACKUP_PORTS,
            ),
            srv(50, "nms-01", R::Server, Business, Os::Linux, NMS_PORTS),
            srv(
                60,
                "ehr-app-01",
                R::EhrServer,
                Clinical,
                Os::Windows,
                EHR_APP_PORTS,
            ),
            srv(
                61,
                "ehr-app-02",
                R::EhrServer,
                Clinical,
                Os::Windows,
                EHR_APP_PORTS,
            ),
            srv(
                62,
                "ehr-db-01",
                R::EhrServer,
                Clinical,
                Os::Linux,
                EHR_DB_PORTS,
            ),
            srv(
                70,
                "hl7-engine-01",
                R::Hl7Engine,
                Clinical,
                Os::Linux,
                HL7_PORTS,
            ),
            srv(
                71,
                "lis-01",
                R::Server,
                Clinical,
                Os::Linux,
                LINUX_WEB_PORTS,
            ),
            srv(
                80,
                "pacs-01",
                R::PacsServer,
                Clinical,
                Os::Windows,
                PACS_PORTS,
            ),
            srv(81, "ris-01", R::Server, Clinical, Os::Linux, RIS_PORTS),
            srv(90, "bms-01", R::Server, Business, Os::Linux, BMS_PORTS),
            srv(91, "acs-01", R::Server, Business, Os::Windows, ACS_PORTS),
            srv(
                100,
                "pump-srv-01",
                R::Server,
                Clinical,
                Os::Linux,
                LINUX_WEB_PORTS,
            ),
            srv(
                101,
                "central-station-01",
                R::Server,
                Clinical,
                Os::Linux,
                CENTRAL_PORTS,
            ),
        ];
        for s in &servers {
            let ip = b.add(
                v4(10, 1, 0, s.last),
                s.name.to_string(),
                s.role,
                s.crit,
                core,
                s.os,
                s.open,
            );
            let group = match s.name {
                n if n.starts_with("dc-") => &mut b.h.dc,
                n if n.starts_with("fs-") => &mut b.h.fs,
                "print-01" => &mut b.h.print,
                "backup-01" => &mut b.h.backup,
                "nms-01" => &mut b.h.nms,
                "ehr-db-01" => &mut b.h.ehr_db,
                n if n.starts_with("ehr-app") => &mut b.h.ehr_app,
                "hl7-engine-01" => &mut b.h.hl7,
                "lis-01" => &mut b.h.lis,
                "pacs-01" => &mut b.h.pacs,
                "ris-01" => &mut b.h.ris,
                "bms-01" => &mut b.h.bms,
                "acs-01" => &mut b.h.acs,
                "pump-srv-01" => &mut b.h.pump_srv,
                _ => &mut b.h.central,
            };
            group.push(ip);
        }
        for i in 0..count(4.0, scale).min(90) {
            let last = 150 + u8::try_from(i).unwrap_or(0);
            let ip = b.add(
                v4(10, 1, 0, last),
                format!("app-{:02}", i + 1),
                R::Server,
                Business,
                core,
                Os::Windows,
                WIN_APP_PORTS,
            );
            b.h.app.push(ip);
        }
        let dmz = "10.2.0.0/24";
        let ip = b.add(
            v4(10, 2, 0, 10),
            "rds-01".into(),
            R::Server,
            Business,
            dmz,
            Os::Windows,
            RDS_PORTS,
        );
        b.h.rds.push(ip);
        let ip = b.add(
            v4(10, 2, 0, 11),
            "sftp-01".into(),
            R::Server,
            Business,
            dmz,
            Os::Linux,
            SFTP_PORTS,
        );
        b.h.sftp.push(ip);
        let used: BTreeSet<u8> = servers.iter().map(|s| s.last).collect();
        b.h.dark = (12..150u8)
            .filter(|l| !used.contains(l))
            .map(|l| v4(10, 1, 0, l))
            .collect();

        let ws_units = [
            (Unit::Icu, 20.0, Clinical),
            (Unit::Ed, 16.0, Clinical),
            (Unit::Ward, 40.0, Clinical),
            (Unit::Rad, 12.0, Clinical),
            (Unit::Lab, 10.0, Clinical),
            (Unit::Admin, 30.0, Business),
            (Unit::It, 4.0, Business),
        ];
        for (k, (unit, base, crit)) in ws_units.into_iter().enumerate() {
            let third = u8::try_from(k * 4).unwrap_or(0);
            let subnet = format!("10.20.{third}.0/22");
            for i in 0..count(base, scale) {
                let ip = host(20, third, i);
                let name = format!("ws-{}-{:02}", unit.tag(), i + 1);
                b.add(
                    ip,
                    name,
                    R::Workstation,
                    crit,
                    &subnet,
                    Os::Windows,
                    WS_PORTS,
                );
                b.h.ws.push(Ws { ip, unit });
            }
        }

        let dev_units = [
            (Unit::Icu, 30.0, 20.0),
            (Unit::Ed, 10.0, 12.0),
            (Unit::Ward, 30.0, 10.0),
        ];
        for (k, (unit, pumps, monitors)) in dev_units.into_iter().enumerate() {
            let third = u8::try_from(k * 4).unwrap_or(0);
            let subnet = format!("10.30.{third}.0/22");
            for i in 0..count(pumps, scale) {
                let ip = host(30, third, i);
                let name = format!("pump-{}-{:02}", unit.tag(), i + 1);
                b.add(
                    ip,
                    name,
                    R::InfusionPump,
                    LifeSustaining,
                    &subnet,
                    Os::Embedded,
                    PUMP_PORTS,
                );
                b.h.pumps.push(Dev { ip, unit });
            }
            let subnet = format!("10.31.{third}.0/22");
            let crit = if unit == Unit::Ward {
                Clinical
            } else {
                LifeSustaining
            };
            for i in 0..count(monitors, scale) {
                let ip = host(31, third, i);
                let name = format!("mon-{}-{:02}", unit.tag(), i + 1);
                b.add(
                    ip,
                    name,
                    R::PatientMonitor,
                    crit,
                    &subnet,
                    Os::Embedded,
                    MONITOR_PORTS,
                );
                b.h.monitors.push(Dev { ip, unit });
            }
        }

        let subnet = "10.40.0.0/22";
        let mut i = 0;
        for (m, tag, base) in [
            (Modality::Ct, "ct", 2.0),
            (Modality::Mr, "mr", 1.0),
            (Modality::Us, "us", 4.0),
            (Modality::Xr, "xr", 3.0),
        ] {
            for j in 0..count(base, scale) {
                let ip = host(40, 0, i);
                i += 1;
                let name = format!("{tag}-{:02}", j + 1);
                b.add(
                    ip,
                    name,
                    R::Modality,
                    Clinical,
                    subnet,
                    Os::Windows,
                    MODALITY_PORTS,
                );
                b.h.modalities.push((ip, m));
            }
        }

        let subnet = "10.50.0.0/22";
        let mut i = 0;
        for (tag, base) in [("hvac", 16.0), ("badge", 16.0), ("envsensor", 12.0)] {
            for j in 0..count(base, scale) {
                let ip = host(50, 0, i);
                i += 1;
                let name = format!("{tag}-{:02}", j + 1);
                b.add(
                    ip,
                    name,
                    R::BuildingIot,
                    Business,
                    subnet,
                    Os::Embedded,
                    IOT_PORTS,
                );
                match tag {
                    "hvac" => b.h.hvac.push(ip),
                    "badge" => b.h.badge.push(ip),
                    _ => b.h.sensors.push(ip),
                }
            }
        }

        let subnet = "10.60.0.0/22";
        for i in 0..count(12.0, scale) {
            let ip = host(60, 0, i);
            let name = format!("prn-{:02}", i + 1);
            b.add(
                ip,
                name,
                R::Printer,
                Business,
                subnet,
                Os::Embedded,
                PRINTER_PORTS,
            );
            b.h.printers.push(ip);
        }

        // Internet hosts the hospital talks to, from the three documentation ranges.
        let mut taken = BTreeSet::new();
        for (tag, n) in [
            ("web", 60),
            ("update", 4),
            ("dns", 2),
            ("vendor", 2),
            ("offsite", 1),
        ] {
            for j in 0..n {
                let ip = loop {
                    let ip = random_external(rng);
                    if taken.insert(ip) {
                        break ip;
                    }
                };
                let name = format!("ext-{tag}-{:02}", j + 1);
                b.add(
                    ip,
                    name,
                    R::Internet,
                    Business,
                    "internet",
                    Os::Linux,
                    &[443],
                );
                let group = match tag {
                    "web" => &mut b.h.ext_web,
                    "update" => &mut b.h.ext_update,
                    "dns" => &mut b.h.ext_dns,
                    "vendor" => &mut b.h.ext_vendor,
                    _ => &mut b.h.ext_offsite,
                };
                group.push(ip);
            }
        }
        h
    }

    /// Ephemeral port range family of a host (unknown hosts count as Linux).
    pub(crate) fn os(&self, ip: IpAddr) -> Os {
        self.os.get(&ip).copied().unwrap_or(Os::Linux)
    }

    /// TCP ports a host listens on (empty for unknown hosts).
    pub(crate) fn open_ports(&self, ip: IpAddr) -> &'static [u16] {
        self.open.get(&ip).copied().unwrap_or(&[])
    }

    /// Whether the address belongs to a known device or internet host.
    pub(crate) fn is_known(&self, ip: IpAddr) -> bool {
        self.os.contains_key(&ip)
    }

    /// Servers that expose SMB shares (targets for lateral movement and ransomware).
    pub(crate) fn smb_servers(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = Vec::new();
        v.extend(&self.fs);
        v.extend(&self.app);
        v.extend(&self.print);
        v.extend(&self.pacs);
        v
    }

    /// Every server in the core subnet and the DMZ.
    pub(crate) fn servers(&self) -> Vec<IpAddr> {
        self.devices
            .iter()
            .filter(|d| d.subnet == "10.1.0.0/24" || d.subnet == "10.2.0.0/24")
            .map(|d| d.addr)
            .collect()
    }

    /// Workstations of the given units.
    pub(crate) fn ws_in(&self, units: &[Unit]) -> Vec<IpAddr> {
        self.ws
            .iter()
            .filter(|w| units.contains(&w.unit))
            .map(|w| w.ip)
            .collect()
    }
}

/// A random address in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24 (hosts .1 to .254).
pub(crate) fn random_external(rng: &mut Rng) -> IpAddr {
    let last = u8::try_from(rng.range_u16(1, 254)).unwrap_or(1);
    match rng.index(3) {
        0 => v4(192, 0, 2, last),
        1 => v4(198, 51, 100, last),
        _ => v4(203, 0, 113, last),
    }
}

/// Whether an address is inside the hospital (RFC 1918).
pub(crate) fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private(),
        IpAddr::V6(v) => v.is_unique_local(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_at_every_scale() {
        for scale in [0.01, 0.05, 1.0, 10.0] {
            let h = Hospital::build(&mut Rng::new(1), scale);
            let set: BTreeSet<IpAddr> = h.devices.iter().map(|d| d.addr).collect();
            assert_eq!(set.len(), h.devices.len(), "scale {scale}");
            let names: BTreeSet<&str> = h.devices.iter().map(|d| d.name.as_str()).collect();
            assert_eq!(names.len(), h.devices.len(), "scale {scale}");
            assert!(h.dark.iter().all(|d| !set.contains(d)));
        }
    }

    #[test]
    fn scale_one_is_a_mid_sized_hospital() {
        let h = Hospital::build(&mut Rng::new(1), 1.0);
        assert_eq!(h.ws.len(), 132);
        assert_eq!(h.pumps.len(), 70);
        assert_eq!(h.monitors.len(), 42);
        assert_eq!(
            h.devices
                .iter()
                .find(|d| d.name == "pump-icu-07")
                .map(|d| d.criticality),
            Some(Criticality::LifeSustaining)
        );
    }

    #[test]
    fn locality() {
        assert!(is_local(v4(10, 1, 0, 10)));
        assert!(!is_local(v4(203, 0, 113, 9)));
    }
}
