//! MEASURING TOOL, not part of the library: throughput and memory of the streaming anomaly
//! pipeline (AfterImage feature extraction + KitNET) on synthetic flows.
//!
//! ```text
//! cargo run --release -p ward-ml --example unsup_bench -- speed [FLOWS]
//! /usr/bin/time -v cargo run --release -p ward-ml --example unsup_bench -- memory HOSTS CAPACITY
//! ```
//!
//! `speed` trains KitNET with its default grace periods on synthetic benign flows, then times
//! FLOWS further flows (default 1 000 000) through the extractor alone and through extractor +
//! scoring. `memory` feeds HOSTS flows between distinct hosts (so every host, channel and
//! socket key is new) through an extractor whose four databases each hold CAPACITY keys, and
//! prints the databases' own accounting; run it under `/usr/bin/time -v` for peak RSS.

use std::time::Instant;

use ward_ml::incstat::{ExtractorConfig, FlowFeatureExtractor, FlowObservation, combine_keys};
use ward_ml::kitnet::{KitNet, KitNetConfig};

/// CPU time of this thread in seconds (Linux `schedstat`), so rates are not skewed by other
/// processes on a shared machine; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Flows per second by wall clock and, where available, by CPU time.
fn rates(n: usize, wall: f64, cpu: Option<f64>) -> String {
    match cpu {
        Some(c) => format!(
            "{:>10.0} flows/s wall, {:>10.0} flows/s CPU",
            n as f64 / wall,
            n as f64 / c
        ),
        None => format!("{:>10.0} flows/s wall", n as f64 / wall),
    }
}

fn synthetic_flow(rng: &mut fastrand::Rng, ts: &mut f64) -> FlowObservation {
    *ts += -rng.f64().max(1e-12).ln() / 20_000.0; // ~20k flows/s
    let src = rng.u64(0..2_000);
    let dst = 10_000 + rng.u64(0..200);
    let port = rng.u64(0..8);
    let bytes = (6.0 + rng.f64() * 2.0).exp();
    FlowObservation {
        ts: *ts,
        src,
        dst,
        socket: combine_keys(combine_keys(src, dst), port),
        bytes,
        response_bytes: Some(bytes * (1.0 + rng.f64() * 20.0)),
    }
}

fn speed(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = fastrand::Rng::with_seed(1);
    let mut ts = 0.0;
    let mut fx = FlowFeatureExtractor::new(&ExtractorConfig::default())?;
    let mut x = vec![0.0; fx.n_features()];
    let cfg = KitNetConfig::default();
    let grace = (cfg.fm_grace + cfg.ad_grace) as usize;
    let mut k = KitNet::new(fx.n_features(), cfg)?;
    let t = Instant::now();
    for _ in 0..grace {
        fx.update(&synthetic_flow(&mut rng, &mut ts), &mut x)?;
        k.process(&x)?;
    }
    let train_s = t.elapsed().as_secs_f64();
    println!(
        "features {}, ensemble members {}, grace {} flows trained in {:.2} s ({:.0} flows/s)",
        fx.n_features(),
        k.feature_map().map_or(0, <[Vec<usize>]>::len),
        grace,
        train_s,
        grace as f64 / train_s
    );
    let flows: Vec<FlowObservation> = (0..n).map(|_| synthetic_flow(&mut rng, &mut ts)).collect();

    let mut fx_only = fx.clone();
    let c0 = cpu_seconds();
    let t = Instant::now();
    let mut sink = 0.0;
    for f in &flows {
        fx_only.update(f, &mut x)?;
        sink += x[0];
    }
    let fx_s = t.elapsed().as_secs_f64();
    let fx_cpu = cpu_seconds().zip(c0).map(|(b, a)| b - a);

    let c0 = cpu_seconds();
    let t = Instant::now();
    let mut max_score = 0.0f64;
    for f in &flows {
        fx.update(f, &mut x)?;
        max_score = max_score.max(k.score(&x)?);
    }
    let all_s = t.elapsed().as_secs_f64();
    let all_cpu = cpu_seconds().zip(c0).map(|(b, a)| b - a);
    println!("extractor only:     {}", rates(n, fx_s, fx_cpu));
    println!("extractor + KitNET: {}", rates(n, all_s, all_cpu));
    println!("(sink {sink:.1}, max score {max_score:.3})");
    Ok(())
}

fn memory(hosts: u64, capacity: usize) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = ExtractorConfig {
        host_capacity: capacity,
        channel_capacity: capacity,
        socket_capacity: capacity,
        ..ExtractorConfig::default()
    };
    let mut fx = FlowFeatureExtractor::new(&cfg)?;
    let mut x = vec![0.0; fx.n_features()];
    let t = Instant::now();
    for i in 0..hosts {
        let flow = FlowObservation {
            ts: i as f64 * 1e-4,
            src: i,
            dst: i + (1 << 40),
            socket: combine_keys(i, 7),
            bytes: 100.0 + (i % 1000) as f64,
            response_bytes: Some(500.0),
        };
        fx.update(&flow, &mut x)?;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{hosts} distinct hosts in {secs:.2} s ({:.0} flows/s), capacity {capacity} per database",
        hosts as f64 / secs
    );
    println!(
        "hosts:    tracked {:>8}, evicted {:>8}, {:>6.1} bytes/key when full",
        fx.hosts().len(),
        fx.hosts().evictions(),
        fx.hosts().bytes_per_entry()
    );
    println!(
        "channels: tracked {:>8}, evicted {:>8}, {:>6.1} bytes/key when full",
        fx.channels().len(),
        fx.channels().evictions(),
        fx.channels().bytes_per_entry()
    );
    println!(
        "sockets:  tracked {:>8}, evicted {:>8}, {:>6.1} bytes/key when full",
        fx.sockets().len(),
        fx.sockets().evictions(),
        fx.sockets().bytes_per_entry()
    );
    println!(
        "jitter:   tracked {:>8}, evicted {:>8}, {:>6.1} bytes/key when full",
        fx.jitter().len(),
        fx.jitter().evictions(),
        fx.jitter().bytes_per_entry()
    );
    println!(
        "extractor heap: {:.1} MiB",
        fx.memory_bytes() as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| -> Result<u64, std::num::ParseIntError> {
        args.get(i)
            .map_or(Ok(default), |s| s.replace('_', "").parse())
    };
    match args.first().map(String::as_str) {
        Some("memory") => memory(arg(1, 1_000_000)?, arg(2, 100_000)? as usize),
        _ => speed(arg(1, 1_000_000)? as usize),
    }
}
