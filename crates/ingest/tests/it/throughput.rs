//! Rough parse throughput, printed, never asserted. Run with
//! `cargo test -p ward-ingest --release --test it -- --ignored --nocapture throughput`.

use std::time::Instant;
use ward_ingest::{Format, ReadOptions, from_reader};

/// `n` varied conn.log lines after a standard header.
fn conn_log(n: usize) -> Vec<u8> {
    let mut s = crate::zeek::HEADER.to_string();
    for i in 0..n {
        let (proto, service, state) = match i % 4 {
            0 => ("tcp", "http", "SF"),
            1 => ("udp", "dns", "SF"),
            2 => ("tcp", "-", "S0"),
            _ => ("tcp", "ssl", "RSTO"),
        };
        s.push_str(&format!(
            "{}.{:06}\tC{:x}Ab3xYz\t10.{}.{}.{}\t{}\t192.168.{}.{}\t{}\t{proto}\t{service}\t{}.{:06}\t{}\t{}\t{state}\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t(empty)\n",
            1_714_564_800 + i / 100,
            (i * 7919) % 1_000_000,
            i * 2_654_435_761 % 0xffff_ffff,
            i % 256,
            (i / 256) % 256,
            (i * 7) % 256,
            1024 + i % 60000,
            i % 16,
            (i * 3) % 256,
            [80, 53, 22, 443][i % 4],
            i % 30,
            (i * 13) % 1_000_000,
            (i * 31) % 100_000,
            (i * 17) % 1_000_000,
            i % 50,
            (i * 31) % 100_000 + 40 * (i % 50),
            i % 40,
            (i * 17) % 1_000_000 + 40 * (i % 40),
        ));
    }
    s.push_str("#close\t2024-05-01-13-00-00\n");
    s.into_bytes()
}

/// CPU time of this thread in seconds (Linux), so a busy machine does not skew the figure.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn measure(name: &str, format: Format, data: Vec<u8>) {
    let bytes = data.len();
    let o = ReadOptions {
        format: Some(format),
        ..ReadOptions::default()
    };
    let cpu = cpu_secs();
    let start = Instant::now();
    let r = from_reader(name, Box::new(std::io::Cursor::new(data)), &o).unwrap();
    let mut n = 0u64;
    for item in r {
        item.unwrap();
        n += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    let secs = match (cpu, cpu_secs()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    println!(
        "{name}: {n} records in {secs:.3} s CPU ({wall:.3} s wall) = {:.0} records/s, {:.0} MB/s",
        n as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

#[test]
#[ignore = "prints throughput; run in release mode"]
fn throughput() {
    let data = conn_log(1_000_000);
    for _ in 0..3 {
        measure("zeek", Format::Zeek, data.clone());
    }
    let gz = crate::gzip(&data);
    measure("zeek (gzip)", Format::Zeek, gz);
    let eve: String = (0..300_000)
        .map(|i| {
            format!(
                r#"{{"timestamp":"2024-05-01T12:00:10.000000+0000","flow_id":{i},"event_type":"flow","src_ip":"10.1.{}.{}","src_port":{},"dest_ip":"10.2.2.9","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":{},"bytes_toclient":90000,"start":"2024-05-01T12:00:00.000000+0000","end":"2024-05-01T12:00:02.250000+0000","age":2,"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1b","syn":true,"fin":true,"ack":true}}}}"#,
                i % 256,
                (i / 256) % 256,
                1024 + i % 60000,
                i % 5000
            ) + "\n"
        })
        .collect();
    measure("eve", Format::Eve, eve.into_bytes());
    let pkts: Vec<(f64, Vec<u8>)> = (0..300_000u32)
        .map(|i| {
            let client = [10, 0, (i / 256 % 256) as u8, (i % 256) as u8];
            let port = 1024 + (i % 50_000) as u16;
            (
                i as f64 * 0.001,
                crate::pcap::tcp(client, port, [10, 9, 9, 9], 443, "PA", &[0; 100]),
            )
        })
        .collect();
    measure(
        "pcap (packets, 1 per flow)",
        Format::Pcap,
        crate::pcap::pcap(1, &pkts),
    );
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/network");
    for (name, file, format) in [
        ("nsl-kdd", "nsl-kdd/KDDTrain+_20Percent.txt", Format::NslKdd),
        ("unsw-nb15", "unsw-nb15/unsw-nb15-dev.csv", Format::Unsw),
    ] {
        if let Ok(data) = std::fs::read(root.join(file)) {
            measure(name, format, data);
        }
    }
}
