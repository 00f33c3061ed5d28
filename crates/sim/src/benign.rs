//! Normal hospital traffic: workstations following shifts, clinical device telemetry, HL7 and
//! DICOM workflows, infrastructure chatter, building IoT and nightly backups.
//!
//! Rates are per device per hour at activity level 1.0 (a busy weekday day-shift hour); the
//! [`Profile`] of the activity scales them through the day. Server-side rates also scale with
//! the configuration's `scale`, like the device counts do.

use crate::emit::{Conn, Gen, Profile, St};
use crate::hospital::{self, Hospital, Modality, Unit};
use std::net::IpAddr;

const MB: f64 = 1_000_000.0;
const GB: f64 = 1_000_000_000.0;

/// Per-unit workstation habits: requests per busy hour.
struct Habits {
    profile: Profile,
    ehr: f64,
    web: f64,
    smb: f64,
    print: f64,
    intranet: f64,
}

fn habits(unit: Unit) -> Habits {
    let (profile, ehr, web, smb, print, intranet) = match unit {
        Unit::Icu => (Profile::Clinical, 20.0, 3.0, 3.0, 0.5, 1.5),
        Unit::Ed => (Profile::Clinical, 22.0, 3.0, 2.0, 0.8, 1.0),
        Unit::Ward => (Profile::Clinical, 16.0, 4.0, 3.0, 0.6, 1.5),
        Unit::Rad => (Profile::Clinical, 6.0, 3.0, 2.0, 0.2, 1.0),
        Unit::Lab => (Profile::Clinical, 8.0, 3.0, 3.0, 1.5, 1.0),
        Unit::Admin => (Profile::Business, 6.0, 15.0, 10.0, 2.0, 4.0),
        Unit::It => (Profile::Business, 1.0, 12.0, 3.0, 0.3, 2.0),
    };
    Habits {
        profile,
        ehr,
        web,
        smb,
        print,
        intranet,
    }
}

/// Generates all benign traffic into `g`.
pub(crate) fn run(g: &mut Gen<'_>) {
    workstations(g);
    medical_devices(g);
    imaging(g);
    hl7_and_ehr(g);
    infrastructure(g);
    building(g);
    backups(g);
}

fn pick(g: &mut Gen<'_>, v: &[IpAddr]) -> Option<IpAddr> {
    g.rng.pick(v).copied()
}

/// A random member of one of the hospital's groups.
fn pick_h(g: &mut Gen<'_>, group: fn(&Hospital) -> &Vec<IpAddr>) -> Option<IpAddr> {
    let h = g.hosp;
    g.rng.pick(group(h)).copied()
}

/// A TCP connection with the benign background of odd endings: mostly `SF`, a few aborted,
/// half-open or unanswered (so state alone never gives an attack away).
fn noisy(c: Conn, g: &mut Gen<'_>) -> Conn {
    let r = g.rng.f64();
    let st = match r {
        r if r < 0.955 => St::Sf,
        r if r < 0.975 => St::Rsto,
        r if r < 0.988 => St::Rstr,
        r if r < 0.993 => St::S1,
        r if r < 0.996 => St::Sh,
        r if r < 0.998 => St::Rej,
        _ => St::S0,
    };
    c.state(st)
}

fn dns(g: &mut Gen<'_>, src: IpAddr, t: f64) {
    let Some(dc) = pick_h(g, |h| &h.dc) else {
        return;
    };
    let sport = g.eph(src);
    let ob = g.rng.bytes(38.0, 0.2, 28, 120);
    let rb = if g.rng.chance(0.02) {
        0
    } else {
        g.rng.bytes(110.0, 0.5, 40, 600)
    };
    let dur = g.rng.lognormal(0.002, 1.0);
    g.benign(
        Conn::udp(t, src, sport, dc, 53, Some("dns"))
            .bytes(ob, rb)
            .dur(dur),
    );
    if g.rng.chance(0.35)
        && let Some(ext) = pick_h(g, |h| &h.ext_dns)
    {
        let sport = g.rng.range_u16(49152, 65535);
        let ob = g.rng.bytes(45.0, 0.2, 28, 200);
        let rb = g.rng.bytes(160.0, 0.5, 40, 1200);
        let dur = g.rng.lognormal(0.02, 0.6);
        g.benign(
            Conn::udp(t + 0.0003, dc, sport, ext, 53, Some("dns"))
                .bytes(ob, rb)
                .dur(dur),
        );
    }
}

/// An HTTPS exchange with log-normal sizes.
#[allow(clippy::too_many_arguments)]
fn https(
    g: &mut Gen<'_>,
    src: IpAddr,
    dst: IpAddr,
    t: f64,
    ob_med: f64,
    rb_med: f64,
    rb_sigma: f64,
    dur_med: f64,
) {
    let sport = g.eph(src);
    let ob = g.rng.bytes(ob_med, 0.9, 300, 50_000_000);
    let rb = g.rng.bytes(rb_med, rb_sigma, 200, 2_000_000_000);
    let dur = g.rng.lognormal(dur_med, 1.1).max(0.005);
    let c = noisy(Conn::tcp(t, src, sport, dst, 443, Some("ssl")), g)
        .bytes(ob, rb)
        .dur(dur);
    g.benign(c);
}

fn fresh_external(g: &mut Gen<'_>) -> Option<IpAddr> {
    for _ in 0..16 {
        let ip = hospital::random_external(&mut g.rng);
        if !g.avoid.contains(&ip) && !g.hosp.is_known(ip) {
            return Some(ip);
        }
    }
    None
}

fn web(g: &mut Gen<'_>, ws: IpAddr, t: f64) {
    dns(g, ws, t);
    let dst = if g.rng.chance(0.05) {
        fresh_external(g)
    } else {
        None
    };
    let Some(dst) = dst.or_else(|| g.rng.pick_skewed(&g.hosp.ext_web).copied()) else {
        return;
    };
    let conns = 1 + g.rng.poisson(1.0);
    for k in 0..conns {
        let tk = t + 0.05 + f64::from(k) * g.rng.uniform(0.0, 2.0);
        if g.rng.chance(0.1) {
            let sport = g.eph(ws);
            let ob = g.rng.bytes(600.0, 0.5, 100, 100_000);
            let rb = g.rng.bytes(20_000.0, 1.5, 100, 50_000_000);
            let dur = g.rng.lognormal(0.4, 1.0);
            let c = noisy(Conn::tcp(tk, ws, sport, dst, 80, Some("http")), g)
                .bytes(ob, rb)
                .dur(dur);
            g.benign(c);
        } else {
            https(g, ws, dst, tk, 1500.0, 30_000.0, 1.8, 1.5);
        }
    }
}

fn ehr(g: &mut Gen<'_>, ws: IpAddr, t: f64) {
    if g.rng.chance(0.3) {
        dns(g, ws, t);
    }
    let Some(app) = pick_h(g, |h| &h.ehr_app) else {
        return;
    };
    let conns = 1 + u32::from(g.rng.chance(0.5));
    for k in 0..conns {
        https(
            g,
            ws,
            app,
            t + 0.01 + f64::from(k) * 0.2,
            3000.0,
            45_000.0,
            1.2,
            6.0,
        );
    }
}

fn smb(g: &mut Gen<'_>, ws: IpAddr, dst: IpAddr, t: f64) {
    let sport = g.eph(ws);
    let ob = g.rng.bytes(8_000.0, 1.5, 200, 50_000_000);
    let rb = g.rng.bytes(60_000.0, 1.8, 200, 500_000_000);
    let dur = g.rng.lognormal(4.0, 1.5);
    let c = noisy(Conn::tcp(t, ws, sport, dst, 445, Some("smb")), g)
        .bytes(ob, rb)
        .dur(dur);
    g.benign(c);
}

fn krb(g: &mut Gen<'_>, ws: IpAddr, t: f64) {
    let Some(dc) = pick_h(g, |h| &h.dc) else {
        return;
    };
    let sport = g.eph(ws);
    let ob = g.rng.bytes(1600.0, 0.2, 200, 20_000);
    let rb = g.rng.bytes(1700.0, 0.3, 100, 20_000);
    let dur = g.rng.lognormal(0.01, 0.8);
    let c = if g.rng.chance(0.6) {
        noisy(Conn::tcp(t, ws, sport, dc, 88, Some("krb_tcp")), g)
    } else {
        Conn::udp(t, ws, sport, dc, 88, Some("krb"))
    };
    g.benign(c.bytes(ob, rb).dur(dur));
}

fn ldap(g: &mut Gen<'_>, ws: IpAddr, t: f64) {
    let Some(dc) = pick_h(g, |h| &h.dc) else {
        return;
    };
    let sport = g.eph(ws);
    let ob = g.rng.bytes(900.0, 0.8, 100, 200_000);
    let rb = g.rng.bytes(3000.0, 1.0, 100, 2_000_000);
    let dur = g.rng.lognormal(0.05, 1.0);
    let c = noisy(Conn::tcp(t, ws, sport, dc, 389, Some("ldap")), g)
        .bytes(ob, rb)
        .dur(dur);
    g.benign(c);
}

fn print(g: &mut Gen<'_>, ws: IpAddr, printer: Option<IpAddr>, t: f64) {
    let Some(srv) = pick_h(g, |h| &h.print) else {
        return;
    };
    let sport = g.eph(ws);
    let job = g.rng.bytes(300_000.0, 1.2, 5_000, 200_000_000);
    let dur = job as f64 / g.rng.lognormal(20.0 * MB, 0.5) + g.rng.lognormal(0.5, 0.5);
    let rb = g.rng.bytes(4_000.0, 0.5, 200, 100_000);
    g.benign(
        Conn::tcp(t, ws, sport, srv, 445, Some("smb"))
            .bytes(job, rb)
            .dur(dur),
    );
    let Some(prn) = printer else { return };
    let t2 = t + dur + g.rng.uniform(0.5, 3.0);
    let sport = g.eph(srv);
    if g.rng.chance(0.03) {
        // Printer asleep or off: the first attempt goes unanswered, the spooler retries.
        g.benign(Conn::tcp(t2, srv, sport, prn, 9100, None).state(St::S0));
        let sport = g.eph(srv);
        let d = job as f64 / g.rng.lognormal(2.0 * MB, 0.4);
        g.benign(
            Conn::tcp(t2 + 30.0, srv, sport, prn, 9100, None)
                .bytes(job, 0)
                .dur(d),
        );
    } else {
        let d = job as f64 / g.rng.lognormal(2.0 * MB, 0.4);
        g.benign(
            Conn::tcp(t2, srv, sport, prn, 9100, None)
                .bytes(job, 0)
                .dur(d),
        );
    }
}

fn workstations(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let linux_servers: Vec<IpAddr> = [&hosp.sftp, &hosp.ehr_db, &hosp.hl7, &hosp.backup, &hosp.nms]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let servers = hosp.servers();
    for (i, w) in hosp.ws.iter().enumerate() {
        let ws = w.ip;
        let h = habits(w.unit);
        let printer = hosp.printers.get(i % hosp.printers.len().max(1)).copied();
        g.poisson_events(h.ehr, h.profile, |g, t| ehr(g, ws, t));
        g.poisson_events(h.web, h.profile, |g, t| web(g, ws, t));
        g.poisson_events(h.smb, h.profile, |g, t| {
            if let Some(fs) = pick_h(g, |h| &h.fs) {
                smb(g, ws, fs, t);
            }
        });
        g.poisson_events(h.print, h.profile, |g, t| print(g, ws, printer, t));
        g.poisson_events(h.intranet, h.profile, |g, t| {
            if let Some(app) = pick_h(g, |h| &h.app) {
                https(g, ws, app, t, 1200.0, 25_000.0, 1.2, 1.0);
            }
        });
        g.poisson_events(8.0, h.profile, |g, t| dns(g, ws, t));
        g.poisson_events(3.0, h.profile, |g, t| krb(g, ws, t));
        g.poisson_events(2.0, h.profile, |g, t| ldap(g, ws, t));
        // Always-on background: clock sync, OS updates and telemetry, idle name lookups.
        g.poisson_events(0.25, Profile::Flat, |g, t| {
            if let Some(dc) = pick_h(g, |h| &h.dc) {
                let sport = g.eph(ws);
                g.benign(
                    Conn::udp(t, ws, sport, dc, 123, Some("ntp"))
                        .bytes(48, 48)
                        .dur(0.0008),
                );
            }
        });
        g.poisson_events(0.5, Profile::Flat, |g, t| {
            let Some(upd) = pick_h(g, |h| &h.ext_update) else {
                return;
            };
            let rb = if g.rng.chance(0.02) {
                80.0 * MB
            } else {
                20_000.0
            };
            https(g, ws, upd, t, 2000.0, rb, 1.2, 2.0);
        });
        g.poisson_events(2.0, Profile::Flat, |g, t| dns(g, ws, t));
        // Network discovery poking a neighbour's closed or firewalled SMB port.
        g.poisson_events(0.05, Profile::Flat, |g, t| {
            let Some(other) = g.rng.pick(&g.hosp.ws).map(|o| o.ip) else {
                return;
            };
            if other != ws {
                let sport = g.eph(ws);
                let st = if g.rng.chance(0.5) { St::S0 } else { St::Rej };
                g.benign(
                    Conn::tcp(t, ws, sport, other, 445, Some("smb"))
                        .state(st)
                        .dur(0.001),
                );
            }
        });
        match w.unit {
            Unit::Rad => {
                g.poisson_events(6.0, h.profile, |g, t| dicom_read(g, ws, t));
                g.poisson_events(4.0, h.profile, |g, t| {
                    if let Some(ris) = pick_h(g, |h| &h.ris) {
                        https(g, ws, ris, t, 2000.0, 30_000.0, 1.0, 2.0);
                    }
                });
            }
            Unit::It => {
                let srv = servers.clone();
                g.poisson_events(1.2, h.profile, move |g, t| {
                    let Some(dst) = pick(g, &srv) else { return };
                    if g.hosp.open_ports(dst).contains(&3389) {
                        let sport = g.eph(ws);
                        let dur = g.rng.lognormal(600.0, 1.0);
                        let ob = g.rng.bytes(300_000.0, 1.0, 5_000, 100_000_000);
                        let rb = g.rng.bytes(5_000_000.0, 1.2, 20_000, 2_000_000_000);
                        let c = noisy(Conn::tcp(t, ws, sport, dst, 3389, Some("rdp")), g);
                        g.benign(c.bytes(ob, rb).dur(dur));
                    } else {
                        smb(g, ws, dst, t);
                    }
                });
                let lin = linux_servers.clone();
                g.poisson_events(1.0, h.profile, move |g, t| {
                    let Some(dst) = pick(g, &lin) else { return };
                    let sport = g.eph(ws);
                    let dur = g.rng.lognormal(300.0, 1.2);
                    let ob = g.rng.bytes(20_000.0, 1.2, 2_000, 50_000_000);
                    let rb = g.rng.bytes(60_000.0, 1.4, 2_000, 200_000_000);
                    let c = noisy(Conn::tcp(t, ws, sport, dst, 22, Some("ssh")), g);
                    g.benign(c.bytes(ob, rb).dur(dur));
                });
                let srv = servers.clone();
                g.poisson_events(1.0, h.profile, move |g, t| {
                    if let Some(dst) = pick(g, &srv)
                        && g.hosp.open_ports(dst).contains(&445)
                    {
                        smb(g, ws, dst, t);
                    }
                });
            }
            _ => {}
        }
    }
}

/// A radiologist opens a study: query, move request, and PACS pushing the images back.
fn dicom_read(g: &mut Gen<'_>, ws: IpAddr, t: f64) {
    let Some(pacs) = pick_h(g, |h| &h.pacs) else {
        return;
    };
    let sport = g.eph(ws);
    let ob = g.rng.bytes(1200.0, 0.3, 300, 10_000);
    let rb = g.rng.bytes(8000.0, 1.0, 300, 2_000_000);
    let dur = g.rng.lognormal(0.3, 0.8);
    g.benign(
        Conn::tcp(t, ws, sport, pacs, 11112, Some("dicom"))
            .bytes(ob, rb)
            .dur(dur),
    );
    let images = g.rng.bytes(60.0 * MB, 1.0, 500_000, 3_000_000_000);
    let xfer = images as f64 / g.rng.lognormal(40.0 * MB, 0.4);
    let t2 = t + dur + g.rng.uniform(0.5, 5.0);
    let sport = g.eph(ws);
    let ob = g.rng.bytes(900.0, 0.2, 300, 5_000);
    let rb = g.rng.bytes(1500.0, 0.3, 300, 10_000);
    g.benign(
        Conn::tcp(t2, ws, sport, pacs, 11112, Some("dicom"))
            .bytes(ob, rb)
            .dur(xfer + 0.6),
    );
    let sport = g.eph(pacs);
    let acks = g.rng.bytes(4000.0, 0.5, 300, 1_000_000);
    g.benign(
        Conn::tcp(t2 + 0.3, pacs, sport, ws, 104, Some("dicom"))
            .bytes(images, acks)
            .dur(xfer),
    );
}

/// An HL7 v2 message over MLLP: one connection, the message and its ACK.
fn hl7_msg(g: &mut Gen<'_>, src: IpAddr, dst: IpAddr, t: f64) {
    let sport = g.eph(src);
    let ob = g.rng.bytes(1500.0, 0.6, 200, 64_000);
    let rb = g.rng.bytes(180.0, 0.15, 80, 1_000);
    let dur = g.rng.lognormal(0.05, 0.6);
    let c = noisy(Conn::tcp(t, src, sport, dst, 2575, Some("hl7")), g)
        .bytes(ob, rb)
        .dur(dur);
    g.benign(c);
}

/// An inbound result (ORU) the engine routes on to the EHR.
fn oru_to_ehr(g: &mut Gen<'_>, src: IpAddr, t: f64) {
    let (Some(engine), Some(ehr)) = (pick_h(g, |h| &h.hl7), pick_h(g, |h| &h.ehr_app)) else {
        return;
    };
    hl7_msg(g, src, engine, t);
    let t2 = t + g.rng.uniform(0.05, 0.5);
    hl7_msg(g, engine, ehr, t2);
}

fn medical_devices(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    for p in &hosp.pumps {
        let pump = p.ip;
        let Some(srv) = hosp.pump_srv.first().copied() else {
            break;
        };
        g.periodic(300.0, 0.05, |g, t| {
            let sport = g.eph(pump);
            let ob = g.rng.bytes(1800.0, 0.25, 300, 20_000);
            let rb = g.rng.bytes(700.0, 0.25, 100, 10_000);
            let dur = g.rng.lognormal(0.35, 0.4);
            let st = match g.rng.f64() {
                r if r < 0.01 => St::S0, // roaming between access points
                r if r < 0.015 => St::Rstr,
                _ => St::Sf,
            };
            g.benign(
                Conn::tcp(t, pump, sport, srv, 443, Some("ssl"))
                    .state(st)
                    .bytes(ob, rb)
                    .dur(dur),
            );
        });
        // Event-log uploads and drug-library checks.
        g.poisson_events(0.15, Profile::Flat, |g, t| {
            https(g, pump, srv, t, 150_000.0, 5_000.0, 0.8, 3.0);
        });
    }
    for m in &hosp.monitors {
        let mon = m.ip;
        let (Some(cs), true) = (hosp.central.first().copied(), !hosp.hl7.is_empty()) else {
            break;
        };
        // Vendor telemetry session to the central station, re-established every 10 minutes.
        g.periodic(600.0, 0.01, |g, t| {
            let sport = g.eph(mon);
            let dur = g.rng.uniform(595.0, 600.0);
            let ob = (dur * g.rng.lognormal(420.0, 0.15)) as u64;
            let rb = (dur * g.rng.lognormal(25.0, 0.2)) as u64;
            let st = if g.rng.chance(0.01) { St::Rsto } else { St::Sf };
            g.benign(
                Conn::tcp(t, mon, sport, cs, 24105, None)
                    .state(st)
                    .bytes(ob, rb)
                    .dur(dur),
            );
        });
        // Vitals charted into the EHR through the HL7 engine.
        g.periodic(300.0, 0.02, |g, t| oru_to_ehr(g, mon, t));
    }
    // Infusion documentation from the pump server.
    let rate = 15.0 * g.scale;
    if let Some(srv) = hosp.pump_srv.first().copied() {
        g.poisson_events(rate, Profile::Clinical, |g, t| oru_to_ehr(g, srv, t));
    }
}

fn imaging(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let (Some(pacs), Some(ris)) = (hosp.pacs.first().copied(), hosp.ris.first().copied()) else {
        return;
    };
    for &(m, kind) in &hosp.modalities {
        // (studies per busy hour, exam minutes, median study bytes, sigma, associations)
        let (rate, exam, size, sigma, assoc) = match kind {
            Modality::Ct => (3.0, 10.0, 200.0 * MB, 0.6, 3),
            Modality::Mr => (1.2, 40.0, 80.0 * MB, 0.6, 4),
            Modality::Us => (2.0, 20.0, 20.0 * MB, 0.8, 1),
            Modality::Xr => (4.0, 5.0, 25.0 * MB, 0.5, 1),
        };
        g.poisson_events(rate, Profile::Clinical, |g, t| {
            let small = |g: &mut Gen<'_>, t: f64, dst: IpAddr| {
                let sport = g.eph(m);
                let ob = g.rng.bytes(1000.0, 0.3, 200, 10_000);
                let rb = g.rng.bytes(1500.0, 0.6, 100, 100_000);
                let dur = g.rng.lognormal(0.2, 0.6);
                g.benign(
                    Conn::tcp(t, m, sport, dst, 104, Some("dicom"))
                        .bytes(ob, rb)
                        .dur(dur),
                );
            };
            small(g, t, ris); // modality worklist C-FIND
            small(g, t + 60.0, ris); // MPPS in progress
            let done = t + exam * 60.0 * g.rng.uniform(0.6, 1.4);
            let mut tt = done;
            let series = 1 + g.rng.index(assoc);
            for _ in 0..series {
                let ob = g
                    .rng
                    .bytes(size / series as f64, sigma, 200_000, 10_000_000_000);
                let dur = ob as f64 / g.rng.lognormal(30.0 * MB, 0.4);
                let sport = g.eph(m);
                let rb = (ob / 1000).max(200);
                g.benign(
                    Conn::tcp(tt, m, sport, pacs, 104, Some("dicom"))
                        .bytes(ob, rb)
                        .dur(dur),
                );
                tt += dur + g.rng.uniform(0.2, 5.0);
            }
            small(g, tt, ris); // MPPS completed
            small(g, tt + 2.0, pacs); // storage commitment
            let report = tt + g.rng.uniform(60.0, 900.0);
            oru_to_ehr(g, ris, report);
        });
    }
}

fn hl7_and_ehr(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let Some(engine) = hosp.hl7.first().copied() else {
        return;
    };
    let s = g.scale;
    // ADT and orders from the EHR, fanned out by the engine to the departmental systems.
    let downstream: Vec<IpAddr> = [&hosp.lis, &hosp.ris, &hosp.pacs]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    g.poisson_events(40.0 * s, Profile::Clinical, |g, t| {
        let Some(ehr) = pick_h(g, |h| &h.ehr_app) else {
            return;
        };
        hl7_msg(g, ehr, engine, t);
        let mut tt = t;
        for &d in &downstream {
            tt += g.rng.uniform(0.05, 0.4);
            hl7_msg(g, engine, d, tt);
        }
    });
    // Admissions, transfers and demographic updates pushed to each bedside monitor.
    for m in &hosp.monitors {
        let mon = m.ip;
        g.poisson_events(0.4, Profile::Clinical, |g, t| hl7_msg(g, engine, mon, t));
    }
    // Lab results.
    if let Some(lis) = hosp.lis.first().copied() {
        g.poisson_events(60.0 * s, Profile::Clinical, |g, t| oru_to_ehr(g, lis, t));
    }
    // EHR application tier to its database.
    let Some(db) = hosp.ehr_db.first().copied() else {
        return;
    };
    g.poisson_events(300.0 * s, Profile::Clinical, |g, t| {
        let Some(app) = pick_h(g, |h| &h.ehr_app) else {
            return;
        };
        let sport = g.eph(app);
        let ob = g.rng.bytes(4_000.0, 1.2, 100, 50_000_000);
        let rb = g.rng.bytes(30_000.0, 1.5, 100, 500_000_000);
        let dur = g.rng.lognormal(0.5, 1.0);
        let c = noisy(Conn::tcp(t, app, sport, db, 1972, None), g)
            .bytes(ob, rb)
            .dur(dur);
        g.benign(c);
    });
}

fn infrastructure(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let servers = hosp.servers();
    if let Some(nms) = hosp.nms.first().copied() {
        let snmp = |g: &mut Gen<'_>, dst: IpAddr, t: f64| {
            let sport = g.eph(nms);
            let ob = g.rng.bytes(100.0, 0.2, 40, 1_000);
            let rb = if g.rng.chance(0.01) {
                0
            } else {
                g.rng.bytes(400.0, 0.8, 60, 8_000)
            };
            let dur = g.rng.lognormal(0.005, 0.6);
            g.benign(
                Conn::udp(t, nms, sport, dst, 161, Some("snmp"))
                    .bytes(ob, rb)
                    .dur(dur),
            );
        };
        for &s in servers.iter().filter(|&&s| s != nms) {
            g.periodic(300.0, 0.01, |g, t| snmp(g, s, t));
        }
        for &p in &hosp.printers {
            g.periodic(600.0, 0.01, |g, t| snmp(g, p, t));
        }
    }
    // Domain controller replication.
    if let [a, b, ..] = hosp.dc[..] {
        for (src, dst) in [(a, b), (b, a)] {
            g.periodic(900.0, 0.05, |g, t| {
                let sport = g.eph(src);
                g.benign(
                    Conn::tcp(t, src, sport, dst, 135, Some("dce_rpc"))
                        .bytes(220, 180)
                        .dur(0.004),
                );
                let sport = g.eph(src);
                let ob = g.rng.bytes(20_000.0, 1.0, 500, 5_000_000);
                let rb = g.rng.bytes(40_000.0, 1.0, 500, 10_000_000);
                let dur = g.rng.lognormal(0.3, 0.8);
                g.benign(
                    Conn::tcp(t + 0.01, src, sport, dst, 49668, Some("dce_rpc"))
                        .bytes(ob, rb)
                        .dur(dur),
                );
            });
        }
    }
    // Servers fetching updates and licences.
    for &s in &servers {
        g.poisson_events(0.3, Profile::Flat, |g, t| {
            if let Some(upd) = pick_h(g, |h| &h.ext_update) {
                https(g, s, upd, t, 2000.0, 40_000.0, 1.5, 2.0);
            }
        });
    }
    // Vendor remote support: RDP to the remote desktop host and file drops over SFTP.
    if let Some(rds) = hosp.rds.first().copied() {
        g.poisson_events(0.15, Profile::Business, |g, t| {
            let Some(v) = pick_h(g, |h| &h.ext_vendor) else {
                return;
            };
            let sport = g.rng.range_u16(49152, 65535);
            let dur = g.rng.lognormal(1800.0, 0.6);
            let ob = g.rng.bytes(2.0 * MB, 0.8, 10_000, 500_000_000);
            let rb = g.rng.bytes(30.0 * MB, 0.8, 50_000, 5_000_000_000);
            let c = noisy(Conn::tcp(t, v, sport, rds, 3389, Some("rdp")), g);
            g.benign(c.bytes(ob, rb).dur(dur));
        });
    }
    if let Some(sftp) = hosp.sftp.first().copied() {
        g.poisson_events(0.3, Profile::Business, |g, t| {
            let Some(v) = pick_h(g, |h| &h.ext_vendor) else {
                return;
            };
            let sport = g.rng.range_u16(32768, 60999);
            let ob = g.rng.bytes(5.0 * MB, 1.2, 3_000, 2_000_000_000);
            let rb = g.rng.bytes(30_000.0, 0.8, 2_000, 10_000_000);
            let dur = 2.0 + ob as f64 / g.rng.lognormal(5.0 * MB, 0.5);
            let c = noisy(Conn::tcp(t, v, sport, sftp, 22, Some("ssh")), g);
            g.benign(c.bytes(ob, rb).dur(dur));
        });
    }
}

fn building(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let (Some(bms), Some(acs)) = (hosp.bms.first().copied(), hosp.acs.first().copied()) else {
        return;
    };
    for &h in &hosp.hvac {
        // The BMS polls each controller over BACnet/IP.
        g.periodic(300.0, 0.01, |g, t| {
            let sport = 47808;
            let ob = g.rng.bytes(40.0, 0.2, 20, 500);
            let rb = if g.rng.chance(0.01) {
                0
            } else {
                g.rng.bytes(200.0, 0.5, 20, 1_400)
            };
            let dur = g.rng.lognormal(0.02, 0.5);
            g.benign(
                Conn::udp(t, bms, sport, h, 47808, Some("bacnet"))
                    .bytes(ob, rb)
                    .dur(dur),
            );
        });
        // Unconfirmed change-of-value notifications: one datagram, no reply.
        g.poisson_events(2.0, Profile::Flat, |g, t| {
            let ob = g.rng.bytes(60.0, 0.3, 20, 500);
            g.benign(Conn::udp(t, h, 47808, bms, 47808, Some("bacnet")).bytes(ob, 0));
        });
    }
    for &b in &hosp.badge {
        g.periodic(600.0, 0.02, |g, t| {
            let sport = g.eph(b);
            let ob = g.rng.bytes(80.0, 0.15, 40, 400);
            let rb = g.rng.bytes(50.0, 0.15, 20, 400);
            g.benign(
                Conn::tcp(t, b, sport, acs, 4050, None)
                    .bytes(ob, rb)
                    .dur(0.02),
            );
        });
        g.poisson_events(12.0, Profile::Clinical, |g, t| {
            let sport = g.eph(b);
            let ob = g.rng.bytes(250.0, 0.15, 100, 1_000);
            let rb = g.rng.bytes(150.0, 0.15, 50, 1_000);
            let dur = g.rng.lognormal(0.05, 0.5);
            g.benign(
                Conn::tcp(t, b, sport, acs, 4050, None)
                    .bytes(ob, rb)
                    .dur(dur),
            );
        });
    }
    for &s in &hosp.sensors {
        g.periodic(300.0, 0.02, |g, t| {
            let sport = g.eph(s);
            let ob = g.rng.bytes(350.0, 0.2, 100, 5_000);
            let rb = g.rng.bytes(80.0, 0.2, 20, 2_000);
            let dur = g.rng.lognormal(0.15, 0.4);
            let st = if g.rng.chance(0.005) { St::Rej } else { St::Sf };
            g.benign(
                Conn::tcp(t, s, sport, bms, 8883, Some("ssl"))
                    .state(st)
                    .bytes(ob, rb)
                    .dur(dur),
            );
        });
    }
}

/// Nightly backups from 01:00 and the offsite copy from about 03:30.
fn backups(g: &mut Gen<'_>) {
    let hosp = g.hosp;
    let Some(backup) = hosp.backup.first().copied() else {
        return;
    };
    let big: Vec<IpAddr> = [&hosp.fs, &hosp.ehr_db, &hosp.pacs]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let sources: Vec<IpAddr> = hosp
        .servers()
        .into_iter()
        .filter(|&s| s != backup)
        .collect();
    let mut t = (1.0 - g.clock.hour(0.0)).rem_euclid(24.0) * 3600.0;
    while t < g.horizon {
        for &s in &sources {
            let tt = t + g.rng.uniform(0.0, 7200.0);
            let ob = if big.contains(&s) {
                g.rng.bytes(40.0 * GB, 0.4, 1_000_000, 2_000_000_000_000)
            } else {
                g.rng.bytes(3.0 * GB, 0.6, 1_000_000, 2_000_000_000_000)
            };
            let dur = ob as f64 / g.rng.lognormal(110.0 * MB, 0.25);
            let rb = (ob / 2000).max(500);
            let sport = g.eph(s);
            g.benign(
                Conn::tcp(tt, s, sport, backup, 2500, None)
                    .bytes(ob, rb)
                    .dur(dur),
            );
        }
        if let Some(off) = hosp.ext_offsite.first().copied() {
            for k in 0..2 {
                let tt = t + 2.5 * 3600.0 + f64::from(k) * 1800.0 + g.rng.uniform(0.0, 600.0);
                let sport = g.eph(backup);
                let ob = g.rng.bytes(30.0 * GB, 0.3, 1_000_000, 2_000_000_000_000);
                let rb = g.rng.bytes(2.0 * MB, 0.5, 10_000, 1_000_000_000);
                let dur = ob as f64 / g.rng.lognormal(40.0 * MB, 0.2);
                g.benign(
                    Conn::tcp(tt, backup, sport, off, 443, Some("ssl"))
                        .bytes(ob, rb)
                        .dur(dur),
                );
            }
        }
        t += 86_400.0;
    }
}
