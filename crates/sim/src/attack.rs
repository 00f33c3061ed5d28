//! The attack campaign: who attacks, when, and the flows each technique leaves in `conn.log`.
//!
//! A phished administration workstation ("patient zero") scans the server subnet, moves
//! laterally over SMB and RDP and finally runs ransomware across the file shares. Meanwhile an
//! internet host guesses passwords on the exposed remote-access hosts, a second workstation
//! bulk-pulls studies from PACS, a third injects HL7 into bedside monitors, and a fourth uploads
//! a large archive to a never-seen external address at night.

use crate::emit::{Clock, Conn, Gen, St, Tag};
use crate::hospital::{self, Hospital, Os, Unit};
use crate::rng::Rng;
use crate::{AttackKind, AttackTruth, SimConfig};
use std::net::IpAddr;

const KB: f64 = 1_000.0;
const MB: f64 = 1_000_000.0;

/// One scheduled attack: kind, start (seconds into the run) and nominal length.
#[derive(Debug, Clone, Copy)]
struct Slot {
    kind: AttackKind,
    t0: f64,
    len: f64,
}

/// Actors and schedule, decided before any traffic is generated.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Patient zero: scan, lateral movement, ransomware.
    zero: IpAddr,
    /// Pulls DICOM studies (never speaks DICOM otherwise).
    puller: IpAddr,
    /// Injects HL7 into monitors.
    injector: IpAddr,
    /// Uploads the stolen archive.
    exfiltrator: IpAddr,
    /// Internet host guessing passwords.
    brute: IpAddr,
    /// Internet drop site for the exfiltration.
    drop: IpAddr,
    slots: Vec<Slot>,
}

impl Plan {
    /// Attacker-controlled internet addresses (benign traffic must never touch them).
    pub(crate) fn external_addrs(&self) -> Vec<IpAddr> {
        vec![self.brute, self.drop]
    }
}

/// Nominal length of each technique in seconds (shortened when the attack window is short).
fn nominal(kind: AttackKind) -> f64 {
    match kind {
        AttackKind::PortScan => 240.0,
        AttackKind::BruteForce => 1800.0,
        AttackKind::LateralMovement => 2400.0,
        AttackKind::DicomPull => 1800.0,
        AttackKind::Hl7Injection => 900.0,
        AttackKind::Exfiltration => 3600.0,
        AttackKind::Ransomware => 720.0,
    }
}

/// Where in the attack window (as fractions) each technique may run.
fn window_share(kind: AttackKind) -> (f64, f64) {
    match kind {
        AttackKind::PortScan => (0.0, 0.12),
        AttackKind::BruteForce => (0.12, 0.27),
        AttackKind::LateralMovement => (0.27, 0.45),
        AttackKind::DicomPull => (0.45, 0.60),
        AttackKind::Hl7Injection => (0.60, 0.72),
        AttackKind::Exfiltration => (0.72, 0.90),
        AttackKind::Ransomware => (0.90, 1.0),
    }
}

fn pick_excluding(rng: &mut Rng, pool: &[IpAddr], not: &[IpAddr]) -> Option<IpAddr> {
    let free: Vec<IpAddr> = pool
        .iter()
        .copied()
        .filter(|ip| !not.contains(ip))
        .collect();
    rng.pick(&free).or_else(|| rng.pick(pool)).copied()
}

fn fresh_external(rng: &mut Rng, hosp: &Hospital, not: &[IpAddr]) -> IpAddr {
    let mut ip = hospital::random_external(rng);
    // About 90% of the documentation ranges are unused, so this ends after a few draws.
    for _ in 0..10_000 {
        if !hosp.is_known(ip) && !not.contains(&ip) {
            break;
        }
        ip = hospital::random_external(rng);
    }
    ip
}

/// Chooses actors and times. With attacks off or no room after the benign window the schedule
/// is empty (the actors are still chosen so benign traffic is the same either way).
pub(crate) fn plan(cfg: &SimConfig, rng: &mut Rng, hosp: &Hospital, clock: Clock) -> Plan {
    let any: Vec<IpAddr> = hosp.ws.iter().map(|w| w.ip).collect();
    let non_rad = hosp.ws_in(&[Unit::Admin, Unit::Ward, Unit::Icu, Unit::Ed, Unit::Lab]);
    let non_rad = if non_rad.is_empty() {
        any.clone()
    } else {
        non_rad
    };
    let admin = hosp.ws_in(&[Unit::Admin]);
    let fallback: IpAddr = [10, 20, 0, 20].into();
    let zero = rng
        .pick(if admin.is_empty() { &non_rad } else { &admin })
        .copied()
        .unwrap_or(fallback);
    let puller = pick_excluding(rng, &non_rad, &[zero]).unwrap_or(zero);
    let injector = pick_excluding(rng, &non_rad, &[zero, puller]).unwrap_or(zero);
    let exfiltrator = pick_excluding(rng, &non_rad, &[zero, puller, injector]).unwrap_or(zero);
    let brute = fresh_external(rng, hosp, &[]);
    let drop = fresh_external(rng, hosp, &[brute]);

    let begin = cfg.benign_hours.min(cfg.hours) * 3600.0;
    let end = cfg.hours * 3600.0;
    let width = end - begin;
    let mut slots = Vec::new();
    if cfg.attacks && width >= 60.0 {
        for kind in AttackKind::ALL {
            let (f0, f1) = window_share(kind);
            let (lo, hi) = (begin + width * f0, begin + width * f1);
            let len = nominal(kind).min((hi - lo) * 0.9);
            let mut t0 = rng.uniform(lo, hi - len);
            if kind == AttackKind::Exfiltration {
                // Prefer the small hours, when the upload has the network to itself.
                let len_n = nominal(kind).min(width * 0.5);
                let mut night = Vec::new();
                let mut t = begin;
                while t + len_n <= end {
                    let h = clock.hour(t);
                    if !(5.0..22.0).contains(&h) {
                        night.push(t);
                    }
                    t += 300.0;
                }
                if let Some(&t) = rng.pick(&night) {
                    slots.push(Slot {
                        kind,
                        t0: t + rng.uniform(0.0, 299.0).min(end - t - len_n),
                        len: len_n,
                    });
                    continue;
                }
                t0 = t0.max(begin);
            }
            slots.push(Slot { kind, t0, len });
        }
    }
    Plan {
        zero,
        puller,
        injector,
        exfiltrator,
        brute,
        drop,
        slots,
    }
}

/// What an attack function records while it runs.
struct Rec {
    tag_id: u32,
    category: &'static str,
    targets: Vec<IpAddr>,
    first: f64,
    last: f64,
}

impl Rec {
    fn emit(&mut self, g: &mut Gen<'_>, name: &'static str, c: Conn) {
        if let Some((s, e)) = g.attack(
            c,
            Tag {
                id: self.tag_id,
                category: self.category,
                name,
            },
        ) {
            if !self.targets.contains(&c.dst) {
                self.targets.push(c.dst);
            }
            self.first = self.first.min(s);
            self.last = self.last.max(e);
        }
    }
}

/// Injects the planned attacks into `g`; returns their ground truth (attacks that produced no
/// flow inside the run are left out).
pub(crate) fn run(g: &mut Gen<'_>, plan: &Plan) -> Vec<AttackTruth> {
    let mut out = Vec::new();
    for s in &plan.slots {
        let id = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
        let attacker = match s.kind {
            AttackKind::PortScan | AttackKind::LateralMovement | AttackKind::Ransomware => {
                plan.zero
            }
            AttackKind::BruteForce => plan.brute,
            AttackKind::DicomPull => plan.puller,
            AttackKind::Hl7Injection => plan.injector,
            AttackKind::Exfiltration => plan.exfiltrator,
        };
        let mut r = Rec {
            tag_id: id,
            category: s.kind.category(),
            targets: Vec::new(),
            first: f64::MAX,
            last: f64::MIN,
        };
        let k = g.scale.sqrt().clamp(0.35, 2.0);
        match s.kind {
            AttackKind::PortScan => port_scan(g, &mut r, attacker, s, k),
            AttackKind::BruteForce => brute_force(g, &mut r, attacker, s, k),
            AttackKind::LateralMovement => lateral(g, &mut r, attacker, s),
            AttackKind::Ransomware => ransomware(g, &mut r, attacker, s, k),
            AttackKind::Exfiltration => exfiltration(g, &mut r, attacker, plan.drop, s),
            AttackKind::DicomPull => dicom_pull(g, &mut r, attacker, s, k),
            AttackKind::Hl7Injection => hl7_injection(g, &mut r, attacker, s),
        }
        if r.first <= r.last {
            out.push(AttackTruth {
                id,
                kind: s.kind,
                category: s.kind.category().to_string(),
                attacker,
                targets: r.targets,
                start: g.at(r.first),
                end: g.at(r.last),
                mitre: s.kind.mitre().iter().map(|m| (*m).to_string()).collect(),
            });
        }
    }
    out
}

/// Ports a scanner tries (nmap-style top ports plus the clinical ones).
const SCAN_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 81, 88, 104, 110, 111, 135, 139, 143, 389, 443, 445, 465, 514, 515,
    548, 554, 587, 631, 636, 873, 990, 993, 995, 1025, 1026, 1027, 1433, 1521, 1720, 1723, 1900,
    1972, 2000, 2049, 2121, 2575, 2717, 3000, 3128, 3268, 3306, 3389, 3986, 4050, 4899, 5000, 5009,
    5060, 5101, 5190, 5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008, 8009,
    8080, 8081, 8443, 8883, 8888, 9100, 9999, 10000, 11112, 24105, 32768, 49152, 49153, 49154,
    49155, 49156, 49157,
];

fn shuffled<T: Copy>(rng: &mut Rng, v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    for i in (1..v.len()).rev() {
        let j = rng.index(i + 1);
        v.swap(i, j);
    }
    v
}

/// TCP connect scan (T1046): refused and unanswered probes, brief handshakes on open ports.
fn port_scan(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot, k: f64) {
    let hosp = g.hosp;
    let mut targets = hosp.servers();
    targets.extend(shuffled(&mut g.rng, &hosp.dark).into_iter().take(8));
    let devices: Vec<IpAddr> = hosp
        .monitors
        .iter()
        .chain(&hosp.pumps)
        .map(|d| d.ip)
        .collect();
    targets.extend(shuffled(&mut g.rng, &devices).into_iter().take(6));
    targets.retain(|&t| t != a);
    let nports = ((SCAN_PORTS.len() as f64) * k)
        .round()
        .clamp(30.0, SCAN_PORTS.len() as f64) as usize;
    let mut probes = Vec::new();
    for &t in &targets {
        for p in shuffled(&mut g.rng, SCAN_PORTS).into_iter().take(nports) {
            probes.push((t, p));
        }
    }
    let gap = s.len / probes.len().max(1) as f64;
    for (i, (dst, port)) in probes.into_iter().enumerate() {
        let t = s.t0 + i as f64 * gap + g.rng.uniform(0.0, gap * 0.5);
        let sport = g.eph(a);
        let c = Conn::tcp(t, a, sport, dst, port, None);
        let c = if !hosp.is_known(dst) {
            c.state(St::S0)
        } else if hosp.open_ports(dst).contains(&port) {
            c.dur(g.rng.uniform(0.0003, 0.002))
        } else if hosp.os(dst) == Os::Windows && g.rng.chance(0.7) {
            c.state(St::S0)
        } else {
            c.state(St::Rej).dur(g.rng.uniform(0.0002, 0.001))
        };
        r.emit(g, "tcp_connect_scan", c);
    }
}

/// Password guessing (T1110.001) on exposed RDP and SSH (T1133), ending in one RDP login.
fn brute_force(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot, k: f64) {
    let hosp = g.hosp;
    let n = (250.0 * k).round().max(40.0) as usize;
    let half = s.len / 2.0;
    if let Some(rds) = hosp.rds.first().copied() {
        let gap = half / n as f64;
        for i in 0..n {
            let t = s.t0 + i as f64 * gap + g.rng.uniform(0.0, gap * 0.3);
            let sport = g.rng.range_u16(49152, 65535);
            let last = i + 1 == n;
            let c = Conn::tcp(t, a, sport, rds, 3389, Some("rdp"));
            let c = if last {
                let ob = g.rng.bytes(300.0 * KB, 0.3, 10_000, 100_000_000);
                let rb = g.rng.bytes(5.0 * MB, 0.3, 10_000, 1_000_000_000);
                c.bytes(ob, rb).dur(g.rng.lognormal(400.0, 0.3))
            } else {
                let ob = g.rng.bytes(2200.0, 0.1, 500, 10_000);
                let rb = g.rng.bytes(3800.0, 0.1, 500, 10_000);
                let st = if g.rng.chance(0.1) { St::Rsto } else { St::Sf };
                c.bytes(ob, rb).dur(g.rng.lognormal(1.2, 0.2)).state(st)
            };
            r.emit(g, "rdp_brute_force", c);
        }
    }
    if let Some(sftp) = hosp.sftp.first().copied() {
        let gap = half / n as f64;
        for i in 0..n {
            let t = s.t0 + half + i as f64 * gap + g.rng.uniform(0.0, gap * 0.3);
            let sport = g.rng.range_u16(32768, 60999);
            let ob = g.rng.bytes(1900.0, 0.1, 500, 10_000);
            let rb = g.rng.bytes(2900.0, 0.1, 500, 10_000);
            let dur = g.rng.lognormal(2.5, 0.2);
            r.emit(
                g,
                "ssh_brute_force",
                Conn::tcp(t, a, sport, sftp, 22, Some("ssh"))
                    .bytes(ob, rb)
                    .dur(dur),
            );
        }
    }
}

/// PsExec-style lateral movement (T1021.002, T1570, T1569.002) and RDP hops (T1021.001).
fn lateral(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot) {
    let hosp = g.hosp;
    let mut pool = hosp.smb_servers();
    pool.extend(&hosp.dc);
    pool.extend(&hosp.ehr_app);
    let pool = shuffled(&mut g.rng, &pool);
    let n = (4 + g.rng.index(4)).min(pool.len());
    let mut rdp_left = 2 + g.rng.index(2);
    let step = s.len / n.max(1) as f64;
    for (i, &dst) in pool.iter().take(n).enumerate() {
        let t = s.t0 + i as f64 * step + g.rng.uniform(0.0, step * 0.2);
        let open = hosp.open_ports(dst);
        if open.contains(&445) {
            let sport = g.eph(a);
            let ob = g.rng.bytes(450.0 * KB, 0.3, 50_000, 50_000_000);
            let rb = g.rng.bytes(15.0 * KB, 0.4, 1_000, 1_000_000);
            let d = g.rng.lognormal(3.0, 0.4);
            r.emit(
                g,
                "smb_tool_transfer",
                Conn::tcp(t, a, sport, dst, 445, Some("smb"))
                    .bytes(ob, rb)
                    .dur(d),
            );
            let sport = g.eph(a);
            let c = Conn::tcp(t + d + 0.2, a, sport, dst, 135, Some("dce_rpc"))
                .bytes(216, 184)
                .dur(0.006);
            r.emit(g, "rpc_service_exec", c);
            let sport = g.eph(a);
            let dport = g.rng.range_u16(49664, 49720);
            let ob = g.rng.bytes(2500.0, 0.3, 500, 100_000);
            let rb = g.rng.bytes(1200.0, 0.3, 200, 100_000);
            let d2 = g.rng.lognormal(0.2, 0.5);
            let c = Conn::tcp(t + d + 0.3, a, sport, dst, dport, Some("dce_rpc"))
                .bytes(ob, rb)
                .dur(d2);
            r.emit(g, "rpc_service_exec", c);
            let sport = g.eph(a);
            let rb = g.rng.bytes(6.0 * KB, 0.8, 200, 10_000_000);
            let t3 = t + d + g.rng.uniform(20.0, 60.0);
            r.emit(
                g,
                "smb_tool_transfer",
                Conn::tcp(t3, a, sport, dst, 445, Some("smb"))
                    .bytes(800, rb)
                    .dur(0.8),
            );
        }
        if rdp_left > 0 && open.contains(&3389) {
            rdp_left -= 1;
            let sport = g.eph(a);
            let d = g.rng.lognormal(600.0, 0.4).min(step * 2.0);
            let ob = g.rng.bytes(500.0 * KB, 0.5, 20_000, 100_000_000);
            let rb = g.rng.bytes(8.0 * MB, 0.5, 100_000, 2_000_000_000);
            let c = Conn::tcp(t + step * 0.3, a, sport, dst, 3389, Some("rdp"))
                .bytes(ob, rb)
                .dur(d);
            r.emit(g, "rdp_lateral", c);
        }
    }
}

/// Ransomware fan-out (T1486): read, encrypt and rewrite files on every reachable share.
fn ransomware(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot, k: f64) {
    let hosp = g.hosp;
    let mut targets = hosp.smb_servers();
    let others: Vec<IpAddr> = hosp.ws.iter().map(|w| w.ip).filter(|&w| w != a).collect();
    let nws = (6.0 * k).round() as usize;
    targets.extend(shuffled(&mut g.rng, &others).into_iter().take(nws));
    for dst in targets {
        let m = ((10 + g.rng.index(20)) as f64 * k).round().max(4.0) as usize;
        for _ in 0..m {
            let t = s.t0 + g.rng.uniform(0.0, s.len);
            let sport = g.eph(a);
            let ob = g.rng.bytes(25.0 * MB, 0.7, 100_000, 5_000_000_000);
            let rb = g.rng.bytes(25.0 * MB, 0.7, 100_000, 5_000_000_000);
            let d = (ob + rb) as f64 / g.rng.lognormal(60.0 * MB, 0.3);
            let st = if g.rng.chance(0.05) { St::Rsto } else { St::Sf };
            r.emit(
                g,
                "smb_encrypt",
                Conn::tcp(t, a, sport, dst, 445, Some("smb"))
                    .bytes(ob, rb)
                    .dur(d)
                    .state(st),
            );
        }
    }
}

/// Exfiltration over HTTPS (T1048.002) in a few long, large uploads (T1030).
fn exfiltration(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, drop: IpAddr, s: &Slot) {
    let n = 3 + g.rng.index(3);
    let each = s.len / n as f64;
    let mut t = s.t0;
    for _ in 0..n {
        let d = each * g.rng.uniform(0.8, 0.95);
        let ob = (d * g.rng.lognormal(700.0 * KB, 0.2)) as u64;
        let rb = g.rng.bytes(80.0 * KB, 0.5, 5_000, 10_000_000);
        let sport = g.eph(a);
        r.emit(
            g,
            "https_upload",
            Conn::tcp(t, a, sport, drop, 443, Some("ssl"))
                .bytes(ob, rb)
                .dur(d),
        );
        t += each;
    }
}

/// Bulk study harvesting from PACS (T1213, T1119): echo, many queries, then C-GETs.
fn dicom_pull(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot, k: f64) {
    let Some(pacs) = g.hosp.pacs.first().copied() else {
        return;
    };
    let sport = g.eph(a);
    r.emit(
        g,
        "dicom_c_echo",
        Conn::tcp(s.t0, a, sport, pacs, 11112, Some("dicom"))
            .bytes(206, 190)
            .dur(0.04),
    );
    let finds = (150.0 * k).round().max(30.0) as usize;
    let span = s.len * 0.4;
    for i in 0..finds {
        let t = s.t0 + 1.0 + span * i as f64 / finds as f64;
        let sport = g.eph(a);
        let ob = g.rng.bytes(1100.0, 0.2, 300, 10_000);
        let rb = g.rng.bytes(12.0 * KB, 0.8, 300, 5_000_000);
        let d = g.rng.lognormal(0.4, 0.5);
        r.emit(
            g,
            "dicom_c_find",
            Conn::tcp(t, a, sport, pacs, 11112, Some("dicom"))
                .bytes(ob, rb)
                .dur(d),
        );
    }
    let gets = (40.0 * k).round().max(10.0) as usize;
    let step = (s.len - span - 1.0) / gets as f64;
    for i in 0..gets {
        let t = s.t0 + span + 1.0 + step * i as f64;
        let sport = g.eph(a);
        let rb = g.rng.bytes(50.0 * MB, 0.8, 1_000_000, 4_000_000_000);
        let d = (rb as f64 / g.rng.lognormal(40.0 * MB, 0.3)).min(step * 0.95);
        let ob = g.rng.bytes(3.0 * KB, 0.5, 300, 1_000_000);
        r.emit(
            g,
            "dicom_c_get",
            Conn::tcp(t, a, sport, pacs, 11112, Some("dicom"))
                .bytes(ob, rb)
                .dur(d),
        );
    }
}

/// HL7 spoofing and data injection into bedside monitors (T0830, T0836, T0856).
fn hl7_injection(g: &mut Gen<'_>, r: &mut Rec, a: IpAddr, s: &Slot) {
    let hosp = g.hosp;
    let icu: Vec<IpAddr> = hosp
        .monitors
        .iter()
        .filter(|m| m.unit == Unit::Icu)
        .map(|m| m.ip)
        .collect();
    let pool = if icu.is_empty() {
        hosp.monitors.iter().map(|m| m.ip).collect()
    } else {
        icu
    };
    let n = (1 + g.rng.index(3)).min(pool.len());
    let targets: Vec<IpAddr> = shuffled(&mut g.rng, &pool).into_iter().take(n).collect();
    for (j, &mon) in targets.iter().enumerate() {
        let m = 15 + g.rng.index(15);
        let t_first = s.t0 + s.len * j as f64 / (n as f64 * 2.0);
        let sport = g.eph(a);
        r.emit(
            g,
            "hl7_mllp_inject",
            Conn::tcp(t_first, a, sport, mon, 2575, Some("hl7")).dur(0.003),
        );
        for i in 0..m {
            let t = t_first + 1.0 + (s.t0 + s.len - t_first - 1.0) * i as f64 / m as f64;
            let sport = g.eph(a);
            let ob = g.rng.bytes(900.0, 0.4, 200, 20_000);
            let rb = g.rng.bytes(160.0, 0.1, 80, 1_000);
            let d = g.rng.lognormal(0.08, 0.5);
            r.emit(
                g,
                "hl7_mllp_inject",
                Conn::tcp(t, a, sport, mon, 2575, Some("hl7"))
                    .bytes(ob, rb)
                    .dur(d),
            );
        }
    }
}
