//! Properties: no input makes a parser panic, and Zeek lines round-trip.

use crate::zeek::conn_log;
use proptest::prelude::*;
use std::net::IpAddr;
use ward_core::{Flow, Proto, Timestamp};
use ward_ingest::{CsvMapping, Format, ReadOptions, from_reader};

fn drain(data: Vec<u8>, format: Option<Format>) {
    let csv: CsvMapping =
        toml::from_str("src = 0\ndst_port = 1\nlabel = 2\nextra = [3]\nhas_header = false")
            .unwrap();
    let o = ReadOptions {
        format,
        csv_mapping: Some(csv),
        ..ReadOptions::default()
    };
    if let Ok(r) = from_reader("p", Box::new(std::io::Cursor::new(data)), &o) {
        let mut fatal = 0;
        for item in r {
            if item.as_ref().is_err_and(|e| e.is_fatal()) {
                fatal += 1;
            }
        }
        assert!(fatal <= 1);
    }
}

/// Text that looks a bit like the formats: lines of fields with the separators they use.
fn texty() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec("[-a-z0-9.:#{}\\[\\]\",\t ]{0,40}", 0..20)
        .prop_map(|lines| lines.join("\n").into_bytes())
}

fn any_format() -> impl Strategy<Value = Option<Format>> {
    prop_oneof![
        Just(None),
        prop::sample::select(Format::ALL.to_vec()).prop_map(Some)
    ]
}

/// A pcap header followed by arbitrary bytes.
fn pcap_garbage() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0u32, 1, 101, 113, 228]),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(link, tail)| {
            let mut v = crate::pcap::pcap(link, &[]);
            v.extend(tail);
            v
        })
}

/// A pcap of packets whose frames are random mutations of real ones.
fn pcap_mutated() -> impl Strategy<Value = Vec<u8>> {
    let frame = crate::pcap::tcp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, "SA", b"hello");
    prop::collection::vec((0..frame.len(), any::<u8>(), 0..frame.len() + 4), 1..8).prop_map(
        move |muts| {
            let pkts: Vec<(f64, Vec<u8>)> = muts
                .iter()
                .enumerate()
                .map(|(i, &(at, b, len))| {
                    let mut f = frame.clone();
                    f[at] = b;
                    f.resize(len, 0);
                    (i as f64, f)
                })
                .collect();
            crate::pcap::pcap(1, &pkts)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048), format in any_format()) {
        drain(data, format);
    }

    #[test]
    fn format_like_text_never_panics(data in texty(), format in any_format()) {
        drain(data.clone(), format);
        let mut z = b"#separator \\x09\n#fields\tts\tid.orig_p\tid.orig_h\tduration\n".to_vec();
        z.extend(data);
        drain(z, Some(Format::Zeek));
    }

    #[test]
    fn broken_captures_never_panic(data in pcap_garbage()) {
        drain(data.clone(), Some(Format::Pcap));
        drain(crate::gzip(&data), None);
    }

    #[test]
    fn mutated_packets_never_panic(data in pcap_mutated()) {
        drain(data, None);
    }
}

#[derive(Debug, Clone)]
struct ZeekValues {
    micros: i64,
    uid: String,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    proto: &'static str,
    service: Option<String>,
    duration: Option<f64>,
    counts: [Option<u64>; 4],
    state: &'static str,
    extra: [u64; 3],
}

fn zeek_values() -> impl Strategy<Value = ZeekValues> {
    (
        (
            0i64..4_000_000_000_000_000,
            "[A-Za-z0-9]{1,18}",
            any::<IpAddr>(),
            any::<u16>(),
            any::<IpAddr>(),
            any::<u16>(),
        ),
        (
            prop::sample::select(vec!["tcp", "udp", "icmp"]),
            prop::option::of("[a-z][a-z0-9_,-]{0,12}"),
            prop::option::of(0.0f64..1e7),
            prop::array::uniform4(prop::option::of(any::<u64>())),
            prop::sample::select(vec!["S0", "SF", "REJ", "RSTO", "OTH", "S1"]),
            prop::array::uniform3(any::<u64>()),
        ),
    )
        .prop_map(
            |(
                (micros, uid, src, sport, dst, dport),
                (proto, service, duration, counts, state, extra),
            )| {
                ZeekValues {
                    micros,
                    uid,
                    src,
                    sport,
                    dst,
                    dport,
                    proto,
                    service,
                    duration,
                    counts,
                    state,
                    extra,
                }
            },
        )
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), ToString::to_string)
}

proptest! {
    /// A conn.log line written from valid values reads back as exactly those values.
    #[test]
    fn zeek_lines_round_trip(v in zeek_values()) {
        let duration = v.duration.map(|d| format!("{d:.6}"));
        let [ob, rb, op, rp] = v.counts;
        let line = [
            format!("{}.{:06}", v.micros / 1_000_000, v.micros % 1_000_000),
            v.uid.clone(),
            v.src.to_string(),
            v.sport.to_string(),
            v.dst.to_string(),
            v.dport.to_string(),
            v.proto.to_string(),
            opt(&v.service),
            opt(&duration),
            opt(&ob),
            opt(&rb),
            v.state.to_string(),
            "T".into(),
            "F".into(),
            v.extra[0].to_string(),
            "ShAD".into(),
            opt(&op),
            v.extra[1].to_string(),
            opt(&rp),
            v.extra[2].to_string(),
            "(empty)".into(),
        ]
        .join("\t");
        let want = Flow {
            ts: Some(Timestamp(v.micros)),
            uid: Some(v.uid.clone()),
            src: Some(v.src),
            src_port: Some(v.sport),
            dst: Some(v.dst),
            dst_port: Some(v.dport),
            proto: Proto::parse(v.proto),
            service: v.service.clone(),
            state: Some(v.state.to_string()),
            duration: duration.map(|d| d.parse().unwrap()),
            src_bytes: ob,
            dst_bytes: rb,
            src_pkts: op,
            dst_pkts: rp,
            extra: v.extra.iter().map(|x| *x as f64).collect(),
            label: None,
        };
        let r = crate::run(None, conn_log(&[&line]).as_bytes());
        prop_assert_eq!(r.ok(), vec![want]);
    }
}
