//! pcap and pcapng flow assembly, on captures built packet by packet here.

use crate::{gzip, opts, run, run_with};
use etherparse::{LinuxSllPacketType, PacketBuilder};
use std::net::IpAddr;
use ward_core::{Flow, Proto, Timestamp};
use ward_ingest::{Format, PcapOptions, ReadOptions, extras};

const CLIENT: [u8; 4] = [10, 0, 0, 5];
const SERVER: [u8; 4] = [10, 0, 0, 9];

/// An Ethernet/IPv4/TCP frame. `flags` letters: S, A, F, R, P.
pub fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: &str,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 1024);
    for c in flags.chars() {
        b = match c {
            'S' => b.syn(),
            'A' => b.ack(1),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => panic!("flag {c}"),
        };
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

/// A classic pcap file (microsecond timestamps, little-endian).
pub fn pcap(link: u32, packets: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for (ts, data) in packets {
        let micros = (ts * 1e6).round() as u64;
        out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// A pcapng file: one section, one interface (default microsecond resolution).
pub fn pcapng(link: u16, packets: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let u32le = |v: u32| v.to_le_bytes();
    // Section header block.
    out.extend_from_slice(&u32le(0x0A0D_0D0A));
    out.extend_from_slice(&u32le(28));
    out.extend_from_slice(&u32le(0x1A2B_3C4D));
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(-1i64).to_le_bytes());
    out.extend_from_slice(&u32le(28));
    // Interface description block.
    out.extend_from_slice(&u32le(1));
    out.extend_from_slice(&u32le(20));
    out.extend_from_slice(&link.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&u32le(65535));
    out.extend_from_slice(&u32le(20));
    for (ts, data) in packets {
        let micros = (ts * 1e6).round() as u64;
        let padded = data.len().div_ceil(4) * 4;
        let len = (32 + padded) as u32;
        out.extend_from_slice(&u32le(6));
        out.extend_from_slice(&u32le(len));
        out.extend_from_slice(&u32le(0));
        out.extend_from_slice(&u32le((micros >> 32) as u32));
        out.extend_from_slice(&u32le(micros as u32));
        out.extend_from_slice(&u32le(data.len() as u32));
        out.extend_from_slice(&u32le(data.len() as u32));
        out.extend_from_slice(data);
        out.resize(out.len() + padded - data.len(), 0);
        out.extend_from_slice(&u32le(len));
    }
    out
}

/// A complete HL7 (MLLP, port 2575) TCP session, 8 packets 10 ms apart.
fn hl7_session() -> Vec<(f64, Vec<u8>)> {
    let c2s = |f: &str, p: &[u8]| tcp(CLIENT, 40000, SERVER, 2575, f, p);
    let s2c = |f: &str, p: &[u8]| tcp(SERVER, 2575, CLIENT, 40000, f, p);
    vec![
        (100.00, c2s("S", b"")),
        (100.01, s2c("SA", b"")),
        (100.02, c2s("A", b"")),
        (100.03, c2s("PA", &[b'x'; 100])),
        (100.04, s2c("PA", &[b'y'; 20])),
        (100.05, c2s("FA", b"")),
        (100.06, s2c("FA", b"")),
        (100.07, c2s("A", b"")),
    ]
}

fn ip(a: [u8; 4]) -> Option<IpAddr> {
    Some(IpAddr::from(a))
}

fn extra(f: &Flow, name: &str) -> f64 {
    let i = extras::PCAP.iter().position(|n| *n == name).unwrap();
    f.extra[i]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn assembles_a_tcp_session() {
    let r = run(None, &pcap(1, &hl7_session()));
    assert_eq!(r.format, Format::Pcap);
    assert_eq!(r.schema.extra, extras::PCAP.to_vec());
    let f = r.ok();
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(r.lines(), vec![1]);
    assert_eq!(f.ts, Some(Timestamp(100_000_000)));
    assert_eq!(
        (f.src, f.src_port, f.dst, f.dst_port),
        (ip(CLIENT), Some(40000), ip(SERVER), Some(2575))
    );
    assert_eq!(f.proto, Proto::Tcp);
    assert_eq!(f.service.as_deref(), Some("hl7"));
    assert_eq!(f.state.as_deref(), Some("SF"));
    assert!(close(f.duration.unwrap(), 0.07));
    assert_eq!(
        (f.src_bytes, f.dst_bytes, f.src_pkts, f.dst_pkts),
        (Some(100), Some(20), Some(5), Some(3))
    );
    assert_eq!(extra(f, "orig_ip_bytes"), 40.0 * 4.0 + 140.0);
    assert_eq!(extra(f, "resp_ip_bytes"), 40.0 * 2.0 + 60.0);
    assert!(close(extra(f, "orig_pkt_size_mean"), 60.0));
    assert!(close(extra(f, "orig_pkt_size_std"), 40.0));
    assert!(close(extra(f, "resp_pkt_size_mean"), 140.0 / 3.0));
    assert_eq!(
        (extra(f, "pkt_size_min"), extra(f, "pkt_size_max")),
        (40.0, 140.0)
    );
    assert!(close(extra(f, "iat_mean"), 0.01));
    assert!(extra(f, "iat_std") < 1e-9);
    let flags: Vec<f64> = [
        "syn_count",
        "fin_count",
        "rst_count",
        "psh_count",
        "ack_count",
    ]
    .iter()
    .map(|n| extra(f, n))
    .collect();
    assert_eq!(flags, vec![2.0, 2.0, 0.0, 2.0, 7.0]);
}

#[test]
fn pcapng_gzip_and_nanosecond_pcap_give_the_same_flows() {
    let want = run(None, &pcap(1, &hl7_session())).ok();
    assert_eq!(run(None, &pcapng(1, &hl7_session())).ok(), want);
    assert_eq!(run(None, &gzip(&pcap(1, &hl7_session()))).ok(), want);
    let mut ns = pcap(1, &hl7_session());
    ns[..4].copy_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    // Rewrite each record's fractional field from micro- to nanoseconds.
    let mut at = 24;
    while at < ns.len() {
        let frac = u32::from_le_bytes(ns[at + 4..at + 8].try_into().unwrap());
        ns[at + 4..at + 8].copy_from_slice(&(frac * 1000).to_le_bytes());
        let caplen = u32::from_le_bytes(ns[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    assert_eq!(run(Some(Format::Pcap), &ns).ok(), want);
}

/// Connection states, each from its own little capture.
#[test]
fn connection_states() {
    let c = |f: &str| tcp(CLIENT, 40001, SERVER, 22, f, b"");
    let s = |f: &str| tcp(SERVER, 22, CLIENT, 40001, f, b"");
    let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
        (vec![c("S")], "S0"),
        (vec![c("S"), s("RA")], "REJ"),
        (vec![c("S"), c("R")], "RSTOS0"),
        (vec![c("S"), c("F")], "SH"),
        (vec![c("S"), s("SA"), c("A")], "S1"),
        (vec![c("S"), s("SA"), c("A"), c("FA")], "S2"),
        (vec![c("S"), s("SA"), c("A"), s("FA")], "S3"),
        (vec![c("S"), s("SA"), c("A"), c("RA")], "RSTO"),
        (vec![c("S"), s("SA"), c("A"), s("RA")], "RSTR"),
        (vec![s("SA"), s("R")], "RSTRH"),
        (vec![s("SA"), s("FA")], "SHR"),
        (vec![c("PA"), s("A")], "OTH"),
    ];
    for (pkts, want) in cases {
        let pkts: Vec<(f64, Vec<u8>)> = pkts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (i as f64 * 0.1, p))
            .collect();
        let f = run(None, &pcap(1, &pkts)).ok();
        assert_eq!(f.len(), 1, "{want}");
        assert_eq!(f[0].state.as_deref(), Some(want));
        assert_eq!(f[0].service.as_deref(), Some("ssh"));
    }
}

#[test]
fn udp_icmp_and_ipv6() {
    let q = udp(CLIENT, 5353, [10, 0, 0, 53], 53, &[0; 30]);
    let a = udp([10, 0, 0, 53], 53, CLIENT, 5353, &[0; 60]);
    let mut ping = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(CLIENT, SERVER, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut ping, &[0; 56])
        .unwrap();
    let mut pong = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(SERVER, CLIENT, 64)
        .icmpv4_echo_reply(1, 1)
        .write(&mut pong, &[0; 56])
        .unwrap();
    let v6 = |src: u8, dst: u8, sp: u16, dp: u16| {
        let mut a = [0u8; 16];
        a[0] = 0xfd;
        let mut b = a;
        a[15] = src;
        b[15] = dst;
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv6(a, b, 64)
            .tcp(sp, dp, 1, 100)
            .syn()
            .write(&mut out, &[])
            .unwrap();
        out
    };
    let pkts = vec![
        (1.0, q),
        (1.5, a),
        (2.0, ping),
        (2.1, pong),
        (3.0, v6(1, 2, 5000, 443)),
    ];
    let f = run(None, &pcap(1, &pkts)).ok();
    assert_eq!(f.len(), 3);
    let dns = &f[0];
    assert_eq!(
        (
            dns.proto.clone(),
            dns.service.as_deref(),
            dns.state.as_deref()
        ),
        (Proto::Udp, Some("dns"), Some("SF"))
    );
    assert_eq!((dns.src_bytes, dns.dst_bytes), (Some(30), Some(60)));
    let icmp = &f[1];
    assert_eq!(icmp.proto, Proto::Icmp);
    assert_eq!((icmp.src_port, icmp.dst_port), (Some(8), Some(0)));
    assert_eq!(
        (icmp.src_pkts, icmp.dst_pkts, icmp.src_bytes),
        (Some(1), Some(1), Some(56))
    );
    let v6f = &f[2];
    assert_eq!(v6f.src, Some("fd00::1".parse().unwrap()));
    assert_eq!(v6f.service.as_deref(), Some("https"));
    assert_eq!(v6f.state.as_deref(), Some("S0"));
    assert_eq!(extra(v6f, "orig_ip_bytes"), 60.0);
}

#[test]
fn other_link_types() {
    let mut sll = Vec::new();
    PacketBuilder::linux_sll(LinuxSllPacketType::OUTGOING, 6, [0; 8])
        .ipv4(CLIENT, SERVER, 64)
        .udp(1000, 104)
        .write(&mut sll, &[1; 10])
        .unwrap();
    let mut raw = Vec::new();
    PacketBuilder::ipv4(CLIENT, SERVER, 64)
        .udp(1000, 104)
        .write(&mut raw, &[1; 10])
        .unwrap();
    for (link, frame) in [(113u32, sll), (101, raw.clone()), (228, raw.clone())] {
        let f = run(None, &pcap(link, &[(1.0, frame)])).ok();
        assert_eq!(f.len(), 1, "link {link}");
        assert_eq!(
            (f[0].src, f[0].dst_port, f[0].src_bytes),
            (ip(CLIENT), Some(104), Some(10))
        );
    }
    let mut vlan = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(etherparse::VlanId::try_new(42).unwrap())
        .ipv4(CLIENT, SERVER, 64)
        .udp(1000, 104)
        .write(&mut vlan, &[1; 10])
        .unwrap();
    let f = run(None, &pcap(1, &[(1.0, vlan)])).ok();
    assert_eq!(
        (f[0].src, f[0].service.as_deref(), f[0].src_bytes),
        (ip(CLIENT), None, Some(10))
    );
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&raw);
    assert_eq!(run(None, &pcap(0, &[(1.0, null)])).ok().len(), 1);
    let e = run_with("x.pcap", &pcap(105, &[(1.0, raw)]), &opts(None)).unwrap();
    assert_eq!(
        e.errors(),
        vec!["x.pcap: packet 1: unsupported link type 105"]
    );
}

#[test]
fn flows_end_on_idle_and_active_timeouts_in_end_order() {
    let p = |t: f64, sport: u16| (t, udp(CLIENT, sport, SERVER, 53, b"q"));
    // Idle: 200 s of silence splits one 5-tuple into two flows.
    let f = run(None, &pcap(1, &[p(0.0, 1), p(200.0, 1)])).ok();
    assert_eq!(
        f.iter()
            .map(|f| f.ts.unwrap().as_secs_f64())
            .collect::<Vec<_>>(),
        vec![0.0, 200.0]
    );
    // Active: a steady flow is cut every 10 s.
    let o = ReadOptions {
        pcap: PcapOptions {
            active_timeout_secs: 10.0,
            ..PcapOptions::default()
        },
        ..opts(None)
    };
    let pkts: Vec<_> = (0..7).map(|i| p(i as f64 * 5.0, 1)).collect();
    let f = run_with("t", &pcap(1, &pkts), &o).unwrap().ok();
    assert_eq!(
        f.iter().map(|f| f.src_pkts.unwrap()).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    // End order: the closed TCP session ends (1 s grace) before a UDP flow that started
    // earlier but idles out later; the rest end with the capture, in deadline order.
    let mut pkts = vec![p(99.0, 7)];
    pkts.extend(hl7_session());
    pkts.push(p(150.0, 8));
    let r = run(None, &pcap(1, &pkts));
    let order: Vec<_> = r
        .ok()
        .iter()
        .map(|f| (f.proto.clone(), f.src_port))
        .collect();
    assert_eq!(
        order,
        vec![
            (Proto::Tcp, Some(40000)),
            (Proto::Udp, Some(7)),
            (Proto::Udp, Some(8))
        ]
    );
    assert_eq!(r.lines(), vec![2, 1, 10]);
}

#[test]
fn a_full_flow_table_evicts_the_oldest() {
    let o = ReadOptions {
        pcap: PcapOptions {
            max_flows: 1,
            ..PcapOptions::default()
        },
        ..opts(None)
    };
    let a = udp(CLIENT, 1, SERVER, 53, b"a");
    let b = udp(CLIENT, 2, SERVER, 53, b"b");
    let f = run_with("t", &pcap(1, &[(0.0, a.clone()), (1.0, b), (2.0, a)]), &o)
        .unwrap()
        .ok();
    assert_eq!(
        f.iter().map(|f| f.src_port.unwrap()).collect::<Vec<_>>(),
        vec![1, 2, 1]
    );
    let bad = ReadOptions {
        pcap: PcapOptions {
            idle_timeout_secs: -1.0,
            ..PcapOptions::default()
        },
        ..opts(None)
    };
    let e = run_with("t", &pcap(1, &[]), &bad).err().unwrap();
    assert_eq!(
        e.to_string(),
        "invalid read options: pcap idle timeout must be a positive number of seconds, got -1"
    );
}

#[test]
fn truncated_capture_emits_flows_then_a_fatal_error() {
    let mut pkts = vec![(1.0, udp(CLIENT, 9, SERVER, 53, b"done"))];
    pkts.extend(hl7_session());
    let mut data = pcap(1, &pkts);
    data.truncate(data.len() - 10);
    let r = run_with("cap.pcap", &data, &opts(None)).unwrap();
    assert_eq!(r.items.len(), 3);
    let flows = r.flows();
    assert_eq!(flows.len(), 2);
    // Flushed in deadline order: the closed session (1 s grace) before the idle UDP flow.
    assert_eq!(
        flows[0].src_pkts,
        Some(4),
        "the session's last packet was cut"
    );
    assert_eq!(flows[1].proto, Proto::Udp);
    let last = r.items.last().unwrap().as_ref().unwrap_err();
    assert!(last.is_fatal());
    assert_eq!(
        last.to_string(),
        "cap.pcap: packet 9: truncated capture: the record ends early"
    );
    // Same for pcapng, and for a cut inside the record header.
    let mut ng = pcapng(1, &pkts);
    ng.truncate(ng.len() - 3);
    let r = run_with("cap.pcapng", &ng, &opts(None)).unwrap();
    assert_eq!(r.flows().len(), 2);
    assert_eq!(
        r.errors(),
        vec!["cap.pcapng: packet 9: truncated capture: the record ends early"]
    );
    let mut cut = pcap(1, &pkts);
    let full = cut.len();
    cut.truncate(full - pkts[8].1.len() - 8);
    assert_eq!(
        run_with("c", &cut, &opts(None)).unwrap().errors(),
        vec!["c: packet 9: truncated capture: the record ends early"]
    );
}

#[test]
fn snaplen_cut_packets_count_their_real_payload() {
    let mut big = tcp(CLIENT, 40000, SERVER, 80, "PA", &[7; 1000]);
    big.truncate(14 + 20 + 20 + 8);
    let f = run(None, &pcap(1, &[(1.0, big)])).ok();
    assert_eq!(f[0].src_bytes, Some(1000));
    assert_eq!(extra(&f[0], "orig_ip_bytes"), 1040.0);
}

#[test]
fn non_ip_and_malformed_packets() {
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[2; 6]);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut bad_ip = vec![0xff; 12];
    bad_ip.extend_from_slice(&[0x08, 0x00, 0x45, 0x00, 0x00]);
    let mut bad_tcp = tcp(CLIENT, 1, SERVER, 2, "S", b"");
    bad_tcp.truncate(14 + 20 + 6);
    let good = udp(CLIENT, 5, SERVER, 6, b"x");
    let pkts = vec![
        (1.0, arp),
        (1.1, bad_ip),
        (1.2, bad_tcp),
        (1.3, vec![1, 2, 3]),
        (1.4, good),
    ];
    let r = run_with("p", &pcap(1, &pkts), &opts(None)).unwrap();
    assert_eq!(r.flows().len(), 1);
    assert_eq!(r.lines(), vec![5]);
    assert_eq!(r.stats.skipped, 1);
    assert_eq!(r.stats.bad, 3);
    let errs = r.errors();
    assert_eq!(errs.len(), 3);
    assert!(
        errs[0].starts_with("p:2: malformed packet: bad"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].starts_with("p:3: malformed packet: bad"),
        "{}",
        errs[1]
    );
    assert_eq!(errs[2], "p:4: truncated ethernet header");
}

#[test]
fn broken_capture_headers() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "x: input is empty, cannot detect its format"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "x: truncated capture header"),
        (
            b"\x0a\x0d\x0d\x0a\xff\xff\xff\xff",
            "x: malformed capture header",
        ),
    ];
    for (data, want) in cases {
        let e = run_with("x", data, &opts(None))
            .err()
            .map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some(*want));
    }
    let e = run_with("x", b"", &opts(Some(Format::Pcap))).err().unwrap();
    assert_eq!(e.to_string(), "x: empty input: no pcap or pcapng header");
    let e = run_with(
        "x",
        b"hello world, not a capture",
        &opts(Some(Format::Pcap)),
    )
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "x: not a pcap or pcapng capture");
}
