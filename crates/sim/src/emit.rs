//! Turning connection specs into Zeek-shaped [`Flow`]s: packet counts, connection states,
//! uids, and the shift clock the traffic models consult.

use crate::hospital::{Hospital, Os};
use crate::rng::Rng;
use crate::{SimConfig, SimFlow};
use std::net::IpAddr;
use ward_core::{Flow, FlowLabel, Proto, Timestamp};

/// Zeek `conn_state` values the simulator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum St {
    /// Normal establishment and termination.
    Sf,
    /// SYN seen, no reply.
    S0,
    /// SYN answered by RST.
    Rej,
    /// Established, originator aborted with RST.
    Rsto,
    /// Established, responder aborted with RST.
    Rstr,
    /// Established, not terminated.
    S1,
    /// Originator sent SYN then FIN, no SYN-ACK.
    Sh,
}

impl St {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sf => "SF",
            Self::S0 => "S0",
            Self::Rej => "REJ",
            Self::Rsto => "RSTO",
            Self::Rstr => "RSTR",
            Self::S1 => "S1",
            Self::Sh => "SH",
        }
    }
}

/// One connection to emit. `t` is seconds since the simulation start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conn {
    pub t: f64,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub udp: bool,
    pub service: Option<&'static str>,
    pub state: St,
    pub dur: f64,
    pub ob: u64,
    pub rb: u64,
}

impl Conn {
    /// A TCP connection with state `SF`.
    pub(crate) fn tcp(
        t: f64,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        service: Option<&'static str>,
    ) -> Self {
        Conn {
            t,
            src,
            sport,
            dst,
            dport,
            udp: false,
            service,
            state: St::Sf,
            dur: 0.01,
            ob: 0,
            rb: 0,
        }
    }

    /// A UDP flow (state follows from whether the responder answered).
    pub(crate) fn udp(
        t: f64,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        service: Option<&'static str>,
    ) -> Self {
        Conn {
            udp: true,
            ..Conn::tcp(t, src, sport, dst, dport, service)
        }
    }

    pub(crate) fn bytes(mut self, ob: u64, rb: u64) -> Self {
        self.ob = ob;
        self.rb = rb;
        self
    }

    pub(crate) fn dur(mut self, d: f64) -> Self {
        self.dur = d;
        self
    }

    pub(crate) fn state(mut self, s: St) -> Self {
        self.state = s;
        self
    }
}

/// Ground-truth tag for an attack flow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag {
    pub id: u32,
    pub category: &'static str,
    pub name: &'static str,
}

/// Diurnal shape of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// 24/7 clinical units: day shift 07-19 busiest, handover peaks at 07 and 19, quiet nights.
    Clinical,
    /// Office hours 08-17 on weekdays.
    Business,
    /// Constant.
    Flat,
}

/// The hospital wall clock (UTC) relative to the simulation start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start_secs: f64,
}

impl Clock {
    /// Hour of day in `[0, 24)` at `t` seconds into the simulation.
    pub(crate) fn hour(self, t: f64) -> f64 {
        (self.start_secs + t).rem_euclid(86_400.0) / 3600.0
    }

    fn weekend(self, t: f64) -> bool {
        let days = ((self.start_secs + t) / 86_400.0).floor() as i64;
        // 1970-01-01 was a Thursday; 0 = Sunday.
        matches!((days + 4).rem_euclid(7), 0 | 6)
    }

    /// Activity level of a profile at `t` (1.0 = a busy weekday day-shift hour).
    pub(crate) fn level(self, p: Profile, t: f64) -> f64 {
        let h = self.hour(t);
        let weekend = self.weekend(t);
        match p {
            Profile::Flat => 1.0,
            Profile::Clinical => {
                let base = match h {
                    h if h < 6.0 => 0.25,
                    h if h < 7.0 => 0.5,
                    h if h < 8.0 => 1.3,
                    h if h < 12.0 => 1.0,
                    h if h < 13.0 => 0.85,
                    h if h < 18.0 => 1.0,
                    h if h < 19.0 => 0.9,
                    h if h < 20.0 => 1.1,
                    h if h < 23.0 => 0.5,
                    _ => 0.3,
                };
                if weekend { base * 0.8 } else { base }
            }
            Profile::Business => {
                let base = match h {
                    h if h < 7.0 => 0.03,
                    h if h < 8.0 => 0.4,
                    h if h < 12.0 => 1.0,
                    h if h < 13.0 => 0.6,
                    h if h < 17.0 => 1.0,
                    h if h < 18.0 => 0.5,
                    h if h < 20.0 => 0.15,
                    _ => 0.03,
                };
                if weekend { base * 0.08 } else { base }
            }
        }
    }
}

/// Slot length for Poisson event placement, seconds.
const SLOT: f64 = 300.0;

/// The flow sink shared by the benign and attack models.
#[derive(Debug)]
pub(crate) struct Gen<'a> {
    pub rng: Rng,
    pub hosp: &'a Hospital,
    pub clock: Clock,
    /// Simulated length in seconds.
    pub horizon: f64,
    /// Scale factor from the configuration.
    pub scale: f64,
    /// Internet addresses benign traffic must not use (the attackers').
    pub avoid: Vec<IpAddr>,
    start_us: i64,
    flows: Vec<SimFlow>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(cfg: &SimConfig, rng: Rng, hosp: &'a Hospital) -> Self {
        Gen {
            rng,
            hosp,
            clock: Clock {
                start_secs: cfg.start.as_secs_f64(),
            },
            horizon: cfg.hours * 3600.0,
            scale: cfg.scale,
            avoid: Vec::new(),
            start_us: cfg.start.0,
            flows: Vec::with_capacity((cfg.hours * cfg.scale * 10_000.0).clamp(0.0, 4.0e6) as usize),
        }
    }

    pub(crate) fn into_flows(self) -> Vec<SimFlow> {
        self.flows
    }

    /// Absolute time of `t` seconds into the simulation.
    pub(crate) fn at(&self, t: f64) -> Timestamp {
        Timestamp(self.start_us.saturating_add((t * 1e6).round() as i64))
    }

    /// An ephemeral source port for a host.
    pub(crate) fn eph(&mut self, ip: IpAddr) -> u16 {
        match self.hosp.os(ip) {
            Os::Windows => self.rng.range_u16(49152, 65535),
            Os::Linux => self.rng.range_u16(32768, 60999),
            Os::Embedded => self.rng.range_u16(1024, 5000),
        }
    }

    /// Calls `f` at Poisson event times with `rate_per_hour * level(profile)` over the whole run.
    pub(crate) fn poisson_events(
        &mut self,
        rate_per_hour: f64,
        profile: Profile,
        mut f: impl FnMut(&mut Self, f64),
    ) {
        if rate_per_hour.is_nan() || rate_per_hour <= 0.0 {
            return;
        }
        let mut slot = 0.0;
        while slot < self.horizon {
            let lambda =
                rate_per_hour * self.clock.level(profile, slot + SLOT / 2.0) * SLOT / 3600.0;
            let n = self.rng.poisson(lambda);
            for _ in 0..n {
                let t = slot + self.rng.f64() * SLOT;
                if t < self.horizon {
                    f(self, t);
                }
            }
            slot += SLOT;
        }
    }

    /// Calls `f` every `period` seconds (random phase, +-`jitter` fraction) over the whole run.
    pub(crate) fn periodic(&mut self, period: f64, jitter: f64, mut f: impl FnMut(&mut Self, f64)) {
        if period.is_nan() || period <= 1.0 {
            return;
        }
        let mut t = self.rng.f64() * period;
        while t < self.horizon {
            f(self, t);
            t += period * (1.0 + jitter * (2.0 * self.rng.f64() - 1.0));
        }
    }

    /// Emits a benign flow (dropped when outside the simulated period).
    pub(crate) fn benign(&mut self, c: Conn) {
        self.push(c, None);
    }

    /// Emits an attack flow; returns its start and end in seconds.
    pub(crate) fn attack(&mut self, c: Conn, tag: Tag) -> Option<(f64, f64)> {
        self.push(c, Some(tag))
    }

    fn push(&mut self, c: Conn, tag: Option<Tag>) -> Option<(f64, f64)> {
        if !(c.t >= 0.0 && c.t < self.horizon) {
            return None;
        }
        let (op, rp, dur) = shape(&mut self.rng, &c);
        let state = if c.udp {
            if rp > 0 { "SF" } else { "S0" }
        } else {
            c.state.as_str()
        };
        // Zeek sets duration and both byte counts only when the duration is positive.
        let (duration, ob, rb) = match dur {
            Some(d) => {
                let (ob, rb) = if c.udp || matches!(c.state, St::Sf | St::Rsto | St::Rstr | St::S1)
                {
                    (c.ob, c.rb)
                } else {
                    (0, 0)
                };
                (Some(d), Some(ob), Some(rb))
            }
            None => (None, None, None),
        };
        let label = match tag {
            None => FlowLabel {
                attack: false,
                category: "Normal".into(),
                name: None,
            },
            Some(t) => FlowLabel {
                attack: true,
                category: t.category.into(),
                name: Some(t.name.into()),
            },
        };
        let flow = Flow {
            ts: Some(self.at(c.t)),
            uid: Some(self.rng.uid()),
            src: Some(c.src),
            src_port: Some(c.sport),
            dst: Some(c.dst),
            dst_port: Some(c.dport),
            proto: if c.udp { Proto::Udp } else { Proto::Tcp },
            service: c.service.map(str::to_string),
            state: Some(state.to_string()),
            duration,
            src_bytes: ob,
            dst_bytes: rb,
            src_pkts: Some(op),
            dst_pkts: Some(rp),
            extra: Vec::new(),
            label: Some(label),
        };
        self.flows.push(SimFlow {
            flow,
            attack: tag.map(|t| t.id),
        });
        Some((c.t, c.t + dur.unwrap_or(0.0)))
    }
}

/// Payload per full TCP segment.
const MSS: u64 = 1448;

/// Packet counts and duration (None when only one packet was seen) for a connection spec.
fn shape(rng: &mut Rng, c: &Conn) -> (u64, u64, Option<f64>) {
    let micro = |d: f64| -> f64 {
        let d = if d.is_finite() {
            d.clamp(1e-6, 86_400.0)
        } else {
            1e-6
        };
        ((d * 1e6).round() / 1e6).max(1e-6)
    };
    if c.udp {
        let op = c.ob.div_ceil(1472).max(1);
        let rp = if c.rb > 0 {
            c.rb.div_ceil(1472).max(1)
        } else {
            0
        };
        let dur = if op + rp > 1 {
            Some(micro(c.dur))
        } else {
            None
        };
        return (op, rp, dur);
    }
    let so = c.ob.div_ceil(MSS);
    let sr = c.rb.div_ceil(MSS);
    match c.state {
        St::S0 => {
            // SYN retransmissions after 1 s and 3 s.
            let op = if rng.chance(0.6) {
                1
            } else {
                2 + u64::from(rng.chance(0.5))
            };
            let dur = match op {
                1 => None,
                2 => Some(micro(1.0 + rng.uniform(0.0, 0.01))),
                _ => Some(micro(3.0 + rng.uniform(0.0, 0.01))),
            };
            (op, 0, dur)
        }
        St::Rej => (1, 1, Some(micro(c.dur.min(rng.uniform(0.0002, 0.003))))),
        St::Sh => (2, 0, Some(micro(c.dur.min(0.5)))),
        St::Sf => (
            3 + so + sr.div_ceil(2),
            2 + sr + so.div_ceil(2),
            Some(micro(c.dur)),
        ),
        St::Rsto => (
            3 + so + sr.div_ceil(2),
            1 + sr + so.div_ceil(2),
            Some(micro(c.dur)),
        ),
        St::Rstr => (
            2 + so + sr.div_ceil(2),
            2 + sr + so.div_ceil(2),
            Some(micro(c.dur)),
        ),
        St::S1 => (
            2 + so + sr.div_ceil(2),
            1 + sr + so.div_ceil(2),
            Some(micro(c.dur)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinical_day_busier_than_night_and_business_sleeps() {
        let c = Clock {
            start_secs: 1_714_953_600.0,
        }; // Monday 00:00 UTC
        assert!(
            c.level(Profile::Clinical, 10.0 * 3600.0)
                > 2.0 * c.level(Profile::Clinical, 3.0 * 3600.0)
        );
        assert!(
            c.level(Profile::Business, 10.0 * 3600.0)
                > 10.0 * c.level(Profile::Business, 2.0 * 3600.0)
        );
        // Saturday
        assert!(c.level(Profile::Business, 5.0 * 86_400.0 + 10.0 * 3600.0) < 0.1);
        assert!((c.hour(25.5 * 3600.0) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn single_packet_flows_have_no_duration() {
        let mut rng = Rng::new(1);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let c = Conn::udp(0.0, ip, 1, ip, 2, None).bytes(40, 0);
        assert_eq!(shape(&mut rng, &c), (1, 0, None));
        let c = Conn::tcp(0.0, ip, 1, ip, 2, None)
            .bytes(3000, 100_000)
            .dur(2.5);
        let (op, rp, d) = shape(&mut rng, &c);
        assert!(rp > op && rp >= 70);
        assert_eq!(d, Some(2.5));
    }
}
