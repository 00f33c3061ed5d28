//! pcap and pcapng captures assembled into bidirectional flows.
//!
//! Packets (Ethernet, Linux SLL/SLL2, BSD loopback, raw IP; IPv4 and IPv6; TCP, UDP, ICMP, other
//! IP protocols) are keyed by the canonical 5-tuple, so both directions land in one flow whose
//! originator is the sender of its first packet (or its receiver, when that packet is a TCP
//! SYN-ACK: the handshake's SYN was missed). A flow ends when it has been idle for
//! `idle_timeout_secs`, when it has lasted `active_timeout_secs` (the next packet starts a new
//! flow), shortly after a TCP RST or after both sides sent FIN (a one-second grace absorbs the
//! final ACKs), or at the end of the capture. Flows are emitted in the order they end. Time is
//! capture time, never the wall clock.

use crate::error::IngestError;
use crate::input::FullRead;
use crate::source::{Item, Source};
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, Linktype, PcapBlockOwned, PcapError};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Read};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use ward_core::{Flow, Proto, Timestamp};

/// Flow assembly settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PcapOptions {
    /// A flow with no packets for this long ends. Default 120 s.
    pub idle_timeout_secs: f64,
    /// A flow that has lasted this long ends; its next packet starts a new flow. Default 1800 s.
    pub active_timeout_secs: f64,
    /// Bound on concurrently tracked flows; when full, the flow closest to its timeout (the least
    /// recently active) is ended early. Default 1,000,000.
    pub max_flows: usize,
}

impl Default for PcapOptions {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 120.0,
            active_timeout_secs: 1800.0,
            max_flows: 1_000_000,
        }
    }
}

impl PcapOptions {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v > 0.0 && v < 1e9;
        if !ok(self.idle_timeout_secs) {
            return Err(format!(
                "pcap idle timeout must be a positive number of seconds, got {}",
                self.idle_timeout_secs
            ));
        }
        if !ok(self.active_timeout_secs) {
            return Err(format!(
                "pcap active timeout must be a positive number of seconds, got {}",
                self.active_timeout_secs
            ));
        }
        if self.max_flows == 0 {
            return Err("pcap max_flows must be at least 1".into());
        }
        Ok(())
    }
}

/// Names of the [`Flow::extra`] features of pcap flows. Packet sizes are IP packet lengths in
/// bytes, inter-arrival times are in seconds over both directions, standard deviations are
/// population ones (0 with fewer than two values), flag counts are over both directions.
pub const EXTRA: [&str; 15] = [
    "orig_ip_bytes",
    "resp_ip_bytes",
    "orig_pkt_size_mean",
    "orig_pkt_size_std",
    "resp_pkt_size_mean",
    "resp_pkt_size_std",
    "pkt_size_min",
    "pkt_size_max",
    "iat_mean",
    "iat_std",
    "syn_count",
    "fin_count",
    "rst_count",
    "psh_count",
    "ack_count",
];

/// The service usually behind a responder port (clinical protocols included: HL7 MLLP on 2575,
/// DICOM on 104 and 11112; FHIR rides on http/https).
pub fn service_for_port(proto: &Proto, port: u16) -> Option<&'static str> {
    match proto {
        Proto::Tcp => Some(match port {
            20 => "ftp-data",
            21 => "ftp",
            22 => "ssh",
            23 => "telnet",
            25 | 587 => "smtp",
            53 => "dns",
            80 | 8000 | 8080 => "http",
            88 => "kerberos",
            104 | 11112 => "dicom",
            110 => "pop3",
            139 => "netbios-ssn",
            143 => "imap",
            389 => "ldap",
            443 | 8443 => "https",
            445 => "smb",
            465 => "smtps",
            502 => "modbus",
            636 => "ldaps",
            993 => "imaps",
            995 => "pop3s",
            1433 => "mssql",
            1883 => "mqtt",
            2575 => "hl7",
            3306 => "mysql",
            3389 => "rdp",
            5432 => "postgresql",
            5900 => "vnc",
            8883 => "mqtts",
            _ => return None,
        }),
        Proto::Udp => Some(match port {
            53 => "dns",
            67 | 68 => "dhcp",
            69 => "tftp",
            88 => "kerberos",
            123 => "ntp",
            137 => "netbios-ns",
            138 => "netbios-dgm",
            161 | 162 => "snmp",
            443 => "quic",
            514 => "syslog",
            1900 => "ssdp",
            5060 => "sip",
            5353 => "mdns",
            _ => return None,
        }),
        _ => None,
    }
}

/// Read buffer for capture records: a record larger than this is a fatal error.
const CAPTURE_BUF: usize = 2 << 20;
/// How long a closed TCP flow (both FINs, or a RST) waits for trailing packets.
const CLOSE_GRACE_MICROS: i64 = 1_000_000;

/// Keeps the last IO error, which the pcap parser reduces to `ReadError`.
struct KeepErr<R> {
    inner: R,
    slot: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for KeepErr<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if let Ok(mut g) = self.slot.lock() {
                *g = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

/// The decoded headers of one packet that matter for flows.
#[derive(Debug, Clone, Copy)]
struct Pkt {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    /// Transport ports, 0 when the protocol has none.
    sport: u16,
    dport: u16,
    /// ICMP type and code.
    icmp: Option<(u8, u8)>,
    tcp: Option<Tcp>,
    /// Transport payload bytes.
    payload: u64,
    /// IP packet length.
    ip_len: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tcp {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    psh: bool,
}

fn from_ip(d: &[u8]) -> Result<Option<LaxSlicedPacket<'_>>, String> {
    match d.first().map(|b| b >> 4) {
        Some(4 | 6) => LaxSlicedPacket::from_ip(d)
            .map(Some)
            .map_err(|e| format!("malformed ip header: {e}")),
        Some(_) => Ok(None),
        None => Err("empty frame".into()),
    }
}

/// A link header of `hdr` bytes with a big-endian EtherType at `at`.
fn ether(d: &[u8], hdr: usize, at: usize) -> Result<Option<LaxSlicedPacket<'_>>, String> {
    let t = d.get(at..at + 2).ok_or("truncated link header")?;
    let rest = d.get(hdr..).ok_or("truncated link header")?;
    let t = u16::from_be_bytes([
        t.first().copied().unwrap_or(0),
        t.get(1).copied().unwrap_or(0),
    ]);
    Ok(Some(LaxSlicedPacket::from_ether_type(EtherType(t), rest)))
}

/// Decodes one frame; `Ok(None)` for frames that carry no flow (non-IP, later IP fragments).
fn decode(link: Linktype, data: &[u8]) -> Result<Option<Pkt>, String> {
    let sliced = match link {
        Linktype::ETHERNET => Some(
            LaxSlicedPacket::from_ethernet(data)
                .map_err(|_| "truncated ethernet header".to_string())?,
        ),
        Linktype::LINUX_SLL => ether(data, 16, 14)?,
        Linktype::LINUX_SLL2 => ether(data, 20, 0)?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => {
            from_ip(data)?
        }
        Linktype::NULL | Linktype::LOOP => {
            from_ip(data.get(4..).ok_or("truncated loopback header")?)?
        }
        other => return Err(format!("unsupported link type {}", other.0)),
    };
    let Some(sliced) = sliced else {
        return Ok(None);
    };
    let Some(net) = &sliced.net else {
        return match &sliced.stop_err {
            Some((_, layer)) => Err(format!("malformed packet: bad {layer}")),
            None => Ok(None),
        };
    };
    let (src, dst, ip_len, l4_len, payload) = match net {
        LaxNetSlice::Ipv4(s) => {
            let h = s.header();
            let p = s.payload();
            let hdr_len = usize::from(h.ihl()) * 4;
            let declared = usize::from(h.total_len());
            let l4 = if p.incomplete {
                declared.saturating_sub(hdr_len)
            } else {
                p.payload.len()
            };
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                declared.max(hdr_len + l4),
                l4,
                p,
            )
        }
        LaxNetSlice::Ipv6(s) => {
            let h = s.header();
            let p = s.payload();
            let declared = usize::from(h.payload_length());
            let l4 = if p.incomplete {
                declared.saturating_sub(s.extensions().slice().len())
            } else {
                p.payload.len()
            };
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                40 + declared.max(l4),
                l4,
                p,
            )
        }
        LaxNetSlice::Arp(_) => return Ok(None),
    };
    let proto = payload.ip_number.0;
    let l4 = l4_len as u64;
    let mut pkt = Pkt {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        icmp: None,
        tcp: None,
        payload: l4,
        ip_len: ip_len as u64,
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            pkt.sport = t.source_port();
            pkt.dport = t.destination_port();
            pkt.payload = l4.saturating_sub(u64::from(t.data_offset()) * 4);
            pkt.tcp = Some(Tcp {
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
                psh: t.psh(),
            });
        }
        Some(TransportSlice::Udp(u)) => {
            pkt.sport = u.source_port();
            pkt.dport = u.destination_port();
            pkt.payload = l4.saturating_sub(8);
        }
        Some(TransportSlice::Icmpv4(i)) => {
            pkt.icmp = Some((i.type_u8(), i.code_u8()));
            pkt.payload = l4.saturating_sub(i.header_len() as u64);
        }
        Some(TransportSlice::Icmpv6(i)) => {
            pkt.icmp = Some((i.type_u8(), i.code_u8()));
            pkt.payload = l4.saturating_sub(i.header_len() as u64);
        }
        Some(TransportSlice::Igmp(_)) => {}
        None => {
            if matches!(proto, 1 | 6 | 17 | 58) {
                if payload.fragmented {
                    return Ok(None);
                }
                return match &sliced.stop_err {
                    Some((_, layer)) => Err(format!("malformed packet: bad {layer}")),
                    None => Err("malformed packet: truncated transport header".into()),
                };
            }
        }
    }
    Ok(Some(pkt))
}

/// Running mean and variance (Welford).
#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Stat {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

/// One direction of a flow.
#[derive(Debug, Clone, Copy, Default)]
struct Dir {
    pkts: u64,
    bytes: u64,
    ip_bytes: u64,
    size: Stat,
    syn: bool,
    synack: bool,
    fin: bool,
    rst: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    proto: u8,
    a: (IpAddr, u16),
    b: (IpAddr, u16),
}

impl Key {
    fn of(p: &Pkt) -> Self {
        let (s, d) = ((p.src, p.sport), (p.dst, p.dport));
        if s <= d {
            Key {
                proto: p.proto,
                a: s,
                b: d,
            }
        } else {
            Key {
                proto: p.proto,
                a: d,
                b: s,
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Conn {
    seq: u64,
    first_packet: u64,
    orig: (IpAddr, u16),
    resp: (IpAddr, u16),
    proto: u8,
    icmp: Option<(u8, u8)>,
    start: i64,
    last: i64,
    deadline: i64,
    closing: bool,
    o: Dir,
    r: Dir,
    iat: Stat,
    size_min: u64,
    size_max: u64,
    flags: [u64; 5],
    /// Who reset first: true = originator.
    first_rst: Option<bool>,
}

impl Conn {
    fn proto(&self) -> Proto {
        match self.proto {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 | 58 => Proto::Icmp,
            n => Proto::Other(n.to_string()),
        }
    }

    /// A Zeek-like connection state.
    fn state(&self) -> &'static str {
        let (o, r) = (&self.o, &self.r);
        if self.proto != 6 {
            return if r.pkts > 0 { "SF" } else { "S0" };
        }
        if o.syn && !r.synack {
            if r.rst {
                "REJ"
            } else if o.rst {
                "RSTOS0"
            } else if o.fin {
                "SH"
            } else {
                "S0"
            }
        } else if o.syn {
            match self.first_rst {
                Some(true) => "RSTO",
                Some(false) => "RSTR",
                None if o.fin && r.fin => "SF",
                None if o.fin => "S2",
                None if r.fin => "S3",
                None => "S1",
            }
        } else if r.synack {
            if r.rst {
                "RSTRH"
            } else if r.fin {
                "SHR"
            } else {
                "OTH"
            }
        } else {
            "OTH"
        }
    }

    fn into_flow(self) -> (u64, Flow) {
        let proto = self.proto();
        let (src_port, dst_port) = match (&proto, self.icmp) {
            (Proto::Tcp | Proto::Udp, _) => (Some(self.orig.1), Some(self.resp.1)),
            (Proto::Icmp, Some((t, c))) => (Some(u16::from(t)), Some(u16::from(c))),
            _ => (None, None),
        };
        let service = match proto {
            Proto::Tcp | Proto::Udp => service_for_port(&proto, self.resp.1).map(str::to_string),
            _ => None,
        };
        let (o, r) = (&self.o, &self.r);
        let extra = vec![
            o.ip_bytes as f64,
            r.ip_bytes as f64,
            o.size.mean,
            o.size.std(),
            r.size.mean,
            r.size.std(),
            self.size_min as f64,
            self.size_max as f64,
            self.iat.mean,
            self.iat.std(),
            self.flags[0] as f64,
            self.flags[1] as f64,
            self.flags[2] as f64,
            self.flags[3] as f64,
            self.flags[4] as f64,
        ];
        let flow = Flow {
            ts: Some(Timestamp(self.start)),
            uid: None,
            src: Some(self.orig.0),
            src_port,
            dst: Some(self.resp.0),
            dst_port,
            service,
            state: Some(self.state().to_string()),
            duration: Some(self.last.saturating_sub(self.start).max(0) as f64 / 1e6),
            src_bytes: Some(o.bytes),
            dst_bytes: Some(r.bytes),
            src_pkts: Some(o.pkts),
            dst_pkts: Some(r.pkts),
            extra,
            label: None,
            proto,
        };
        (self.first_packet, flow)
    }
}

/// The table of open flows, ordered by deadline for expiry and eviction.
struct FlowTable {
    conns: HashMap<Key, Conn>,
    order: BTreeMap<(i64, u64), Key>,
    next_seq: u64,
    idle: i64,
    active: i64,
    max: usize,
}

fn secs_to_micros(s: f64) -> i64 {
    (s * 1e6).round() as i64
}

impl FlowTable {
    fn new(o: &PcapOptions) -> Self {
        Self {
            conns: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            idle: secs_to_micros(o.idle_timeout_secs),
            active: secs_to_micros(o.active_timeout_secs),
            max: o.max_flows,
        }
    }

    fn end(&mut self, k: &Key, out: &mut VecDeque<(u64, Flow)>) {
        if let Some(c) = self.conns.remove(k) {
            self.order.remove(&(c.deadline, c.seq));
            out.push_back(c.into_flow());
        }
    }

    /// Ends every flow whose deadline is before `now`.
    fn expire(&mut self, now: i64, out: &mut VecDeque<(u64, Flow)>) {
        while let Some((&(dl, _), &k)) = self.order.first_key_value() {
            if dl >= now {
                break;
            }
            self.end(&k, out);
        }
    }

    /// Ends everything, in deadline order.
    fn flush(&mut self, out: &mut VecDeque<(u64, Flow)>) {
        while let Some((_, k)) = self.order.pop_first() {
            if let Some(c) = self.conns.remove(&k) {
                out.push_back(c.into_flow());
            }
        }
    }

    fn add(&mut self, p: &Pkt, ts: i64, packet_no: u64, out: &mut VecDeque<(u64, Flow)>) {
        self.expire(ts, out);
        let k = Key::of(p);
        let tcp = p.tcp.unwrap_or_default();
        if let Some(c) = self.conns.get(&k) {
            let new_syn = tcp.syn && !tcp.ack && p.tcp.is_some();
            if ts.saturating_sub(c.start) > self.active || (c.closing && new_syn) {
                self.end(&k, out);
            }
        }
        if !self.conns.contains_key(&k) {
            if self.conns.len() >= self.max
                && let Some((_, old)) = self.order.first_key_value().map(|(a, b)| (*a, *b))
            {
                self.end(&old, out);
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            // The originator is the first packet's sender, except that a SYN-ACK comes from
            // the responder of a handshake whose SYN was not captured.
            let (orig, resp) = if tcp.syn && tcp.ack {
                ((p.dst, p.dport), (p.src, p.sport))
            } else {
                ((p.src, p.sport), (p.dst, p.dport))
            };
            let c = Conn {
                seq,
                first_packet: packet_no,
                orig,
                resp,
                proto: p.proto,
                icmp: p.icmp,
                start: ts,
                last: ts,
                deadline: ts,
                closing: false,
                o: Dir::default(),
                r: Dir::default(),
                iat: Stat::default(),
                size_min: u64::MAX,
                size_max: 0,
                flags: [0; 5],
                first_rst: None,
            };
            self.order.insert((ts, seq), k);
            self.conns.insert(k, c);
        }
        let Some(c) = self.conns.get_mut(&k) else {
            return;
        };
        self.order.remove(&(c.deadline, c.seq));
        let from_orig = (p.src, p.sport) == c.orig;
        if c.o.pkts + c.r.pkts > 0 {
            c.iat.push(ts.saturating_sub(c.last).max(0) as f64 / 1e6);
        }
        c.last = c.last.max(ts);
        c.size_min = c.size_min.min(p.ip_len);
        c.size_max = c.size_max.max(p.ip_len);
        let d = if from_orig { &mut c.o } else { &mut c.r };
        d.pkts += 1;
        d.bytes = d.bytes.saturating_add(p.payload);
        d.ip_bytes = d.ip_bytes.saturating_add(p.ip_len);
        d.size.push(p.ip_len as f64);
        if p.tcp.is_some() {
            d.syn |= tcp.syn && !tcp.ack;
            d.synack |= tcp.syn && tcp.ack;
            d.fin |= tcp.fin;
            d.rst |= tcp.rst;
            for (n, f) in c
                .flags
                .iter_mut()
                .zip([tcp.syn, tcp.fin, tcp.rst, tcp.psh, tcp.ack])
            {
                *n += u64::from(f);
            }
            if tcp.rst && c.first_rst.is_none() {
                c.first_rst = Some(from_orig);
            }
            c.closing = (c.o.fin && c.r.fin) || c.o.rst || c.r.rst;
        }
        c.deadline = c.last.saturating_add(if c.closing {
            CLOSE_GRACE_MICROS.min(self.idle)
        } else {
            self.idle
        });
        self.order.insert((c.deadline, c.seq), k);
    }
}

/// Per-interface capture parameters.
#[derive(Debug, Clone, Copy)]
struct Iface {
    link: Linktype,
    /// Timestamp units per second.
    res: u64,
    offset: i64,
}

/// Everything but the reader, so a block borrowed from the reader can be handled.
struct State {
    ifaces: Vec<Iface>,
    packet_no: u64,
    last_ts: i64,
    table: FlowTable,
    out: VecDeque<(u64, Flow)>,
    pending: VecDeque<Item>,
}

fn is_supported(link: Linktype) -> bool {
    matches!(
        link,
        Linktype::ETHERNET
            | Linktype::LINUX_SLL
            | Linktype::LINUX_SLL2
            | Linktype::RAW
            | Linktype::IPV4
            | Linktype::IPV6
            | Linktype::NULL
            | Linktype::LOOP
            | Linktype(12)
            | Linktype(14)
    )
}

impl State {
    /// Handles one block; `Err` is a fatal reason.
    fn handle(&mut self, block: PcapBlockOwned<'_>) -> Result<(), String> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                if !is_supported(h.network) {
                    return Err(format!("unsupported link type {}", h.network.0));
                }
                let res = if h.is_nanosecond_precision() {
                    1_000_000_000
                } else {
                    1_000_000
                };
                self.ifaces = vec![Iface {
                    link: h.network,
                    res,
                    offset: 0,
                }];
            }
            PcapBlockOwned::Legacy(b) => {
                self.packet_no += 1;
                let iface = self.ifaces.first().copied().unwrap_or(Iface {
                    link: Linktype::ETHERNET,
                    res: 1_000_000,
                    offset: 0,
                });
                let frac = i64::from(b.ts_usec) * 1_000_000 / iface.res as i64;
                let ts = i64::from(b.ts_sec) * 1_000_000 + frac;
                self.packet(iface.link, b.data, ts);
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => self.ifaces.clear(),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.ifaces.push(Iface {
                    link: idb.linktype,
                    res: idb.ts_resolution().filter(|r| *r > 0).unwrap_or(1_000_000),
                    offset: idb.ts_offset(),
                });
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.packet_no += 1;
                let Some(iface) = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| self.ifaces.get(i))
                    .copied()
                else {
                    self.pending.push_back(Item::Bad {
                        line: self.packet_no,
                        reason: format!(
                            "packet names interface {} which was not described",
                            epb.if_id
                        ),
                    });
                    return Ok(());
                };
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let micros = i128::from(raw / iface.res) * 1_000_000
                    + i128::from(raw % iface.res) * 1_000_000 / i128::from(iface.res)
                    + i128::from(iface.offset) * 1_000_000;
                let ts = i64::try_from(micros).unwrap_or(i64::MAX);
                self.packet(iface.link, epb.data, ts);
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.packet_no += 1;
                let link = self.ifaces.first().map_or(Linktype::ETHERNET, |i| i.link);
                self.packet(link, spb.data, self.last_ts);
            }
            PcapBlockOwned::NG(_) => {}
        }
        Ok(())
    }

    fn packet(&mut self, link: Linktype, data: &[u8], ts: i64) {
        self.last_ts = ts;
        match decode(link, data) {
            Ok(Some(p)) => self.table.add(&p, ts, self.packet_no, &mut self.out),
            Ok(None) => self.pending.push_back(Item::Skipped),
            Err(reason) => self.pending.push_back(Item::Bad {
                line: self.packet_no,
                reason,
            }),
        }
    }
}

/// What one read of the capture did.
enum Step {
    Block(usize, Result<(), String>),
    Eof,
    Incomplete,
    Truncated,
    TooBig,
    ReadError,
    Malformed(String),
}

/// A capture as a [`Source`] of flows.
pub(crate) struct PcapSource {
    input: String,
    reader: Box<dyn PcapReaderIterator + Send>,
    state: State,
    err_slot: Arc<Mutex<Option<io::Error>>>,
    gzip: bool,
    stalls: u32,
    finished: bool,
    fatal: Option<IngestError>,
}

impl PcapSource {
    /// Reads the capture header. Errors here are fatal and returned from `open`.
    /// `magic`: the input starts with a pcap or pcapng magic number.
    pub fn new(
        input: String,
        r: Box<dyn Read + Send>,
        gzip: bool,
        magic: bool,
        opts: &PcapOptions,
    ) -> Result<Self, IngestError> {
        let err_slot = Arc::new(Mutex::new(None));
        let r = KeepErr {
            inner: FullRead(r),
            slot: err_slot.clone(),
        };
        let reader = pcap_parser::create_reader(CAPTURE_BUF, r).map_err(|e| {
            let reason = match e {
                PcapError::Eof => "empty input: no pcap or pcapng header".to_string(),
                PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                    "truncated capture header".into()
                }
                PcapError::ReadError => {
                    take_err(&err_slot).map_or("read error".into(), |e| format!("read error: {e}"))
                }
                _ if magic => "malformed capture header".into(),
                _ => "not a pcap or pcapng capture".into(),
            };
            IngestError::Header {
                input: input.clone(),
                line: 0,
                reason,
            }
        })?;
        Ok(Self {
            input,
            reader,
            state: State {
                ifaces: Vec::new(),
                packet_no: 0,
                last_ts: 0,
                table: FlowTable::new(opts),
                out: VecDeque::new(),
                pending: VecDeque::new(),
            },
            err_slot,
            gzip,
            stalls: 0,
            finished: false,
            fatal: None,
        })
    }

    /// Stops reading: flows still open are ended as at end of capture, then `fatal` (if any)
    /// is reported after them.
    fn finish(&mut self, fatal: Option<String>) {
        self.state.table.flush(&mut self.state.out);
        self.finished = true;
        self.fatal = fatal.map(|reason| IngestError::Capture {
            input: self.input.clone(),
            packet: self.state.packet_no + 1,
            reason,
        });
    }

    fn step(&mut self) {
        let step = match self.reader.next() {
            Ok((off, block)) => Step::Block(off, self.state.handle(block)),
            Err(PcapError::Eof) => Step::Eof,
            Err(PcapError::Incomplete(_)) => Step::Incomplete,
            Err(PcapError::UnexpectedEof) => Step::Truncated,
            Err(PcapError::BufferTooSmall) => Step::TooBig,
            Err(PcapError::ReadError) => Step::ReadError,
            Err(PcapError::HeaderNotRecognized) => Step::Malformed("unrecognised block".into()),
            Err(PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k)) => {
                Step::Malformed(format!("malformed capture record ({})", k.description()))
            }
        };
        match step {
            Step::Block(off, res) => {
                self.stalls = 0;
                self.reader.consume(off);
                if let Err(reason) = res {
                    self.finish(Some(reason));
                }
            }
            Step::Eof => self.finish(None),
            Step::Incomplete => {
                self.stalls += 1;
                if self.stalls > 3 {
                    self.finish(Some("capture reader made no progress".into()));
                } else if self.reader.refill().is_err() {
                    self.read_error();
                }
            }
            Step::Truncated => self.finish(Some("truncated capture: the record ends early".into())),
            Step::TooBig => self.finish(Some(format!(
                "capture record larger than {} bytes",
                CAPTURE_BUF
            ))),
            Step::ReadError => self.read_error(),
            Step::Malformed(m) => self.finish(Some(m)),
        }
    }

    fn read_error(&mut self) {
        let err = take_err(&self.err_slot).unwrap_or_else(|| io::Error::other("read error"));
        self.finish(None);
        let (input, line) = (self.input.clone(), self.state.packet_no);
        self.fatal = Some(if self.gzip {
            IngestError::Gzip { input, line, err }
        } else {
            IngestError::Io { input, line, err }
        });
    }
}

fn take_err(slot: &Arc<Mutex<Option<io::Error>>>) -> Option<io::Error> {
    slot.lock().ok().and_then(|mut g| g.take())
}

impl Source for PcapSource {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(it) = self.state.pending.pop_front() {
                return Some(it);
            }
            if let Some((line, flow)) = self.state.out.pop_front() {
                return Some(Item::Flow { line, flow });
            }
            if self.finished {
                return self.fatal.take().map(Item::Fatal);
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_matches_textbook() {
        let mut s = Stat::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(x);
        }
        assert!((s.mean - 5.0).abs() < 1e-12);
        assert!((s.std() - 2.0).abs() < 1e-12);
        assert_eq!(Stat::default().std(), 0.0);
    }

    #[test]
    fn services() {
        assert_eq!(service_for_port(&Proto::Tcp, 2575), Some("hl7"));
        assert_eq!(service_for_port(&Proto::Tcp, 104), Some("dicom"));
        assert_eq!(service_for_port(&Proto::Tcp, 11112), Some("dicom"));
        assert_eq!(service_for_port(&Proto::Tcp, 443), Some("https"));
        assert_eq!(service_for_port(&Proto::Udp, 53), Some("dns"));
        assert_eq!(service_for_port(&Proto::Tcp, 40000), None);
        assert_eq!(service_for_port(&Proto::Icmp, 80), None);
    }

    #[test]
    fn options_are_validated() {
        assert!(PcapOptions::default().validate().is_ok());
        for bad in [
            PcapOptions {
                idle_timeout_secs: 0.0,
                ..Default::default()
            },
            PcapOptions {
                active_timeout_secs: f64::NAN,
                ..Default::default()
            },
            PcapOptions {
                max_flows: 0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
