//! `ward bench net`: speed and memory figures for BENCHMARKS.md, measured on one core.
//!
//! Inputs are generated in memory from a fixed seed, so two runs measure the same work:
//! - Zeek `conn.log` parsing (TSV, through the real reader);
//! - supervised scoring: feature encoding plus a full-size boosted-tree model (default
//!   parameters, trained on noisy labels so every tree grows to its leaf limit);
//! - the streaming anomaly path: damped incremental statistics per host, host pair and socket
//!   (AfterImage) plus KitNET scoring, per flow;
//! - memory with 1,000,000 distinct hosts streamed through the bounded statistics.

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::time::Instant;
use ward_core::{Flow, FlowLabel, FlowSchema};
use ward_detect::net::{AnomalyKind, NetModel, NetTrainConfig};
use ward_ingest::{Format, ReadOptions};
use ward_ml::incstat::{ExtractorConfig, FlowFeatureExtractor, FlowObservation};
use ward_ml::kitnet::{KitNet, KitNetConfig};

/// A rate measured two ways: by the wall clock, and by this process's CPU time (which a busy
/// shared machine does not inflate). The work is single-threaded, so CPU time is one core's.
#[derive(Debug, Serialize, Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// User + system CPU seconds of this process so far (from /proc; `None` elsewhere).
pub(crate) fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the command name, which is in parentheses and may contain spaces
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs `work`, returning its result and the rate of `n` items.
fn measure<T>(n: usize, work: impl FnOnce() -> Result<T>) -> Result<(T, Rate)> {
    let c0 = cpu_seconds();
    let t = Instant::now();
    let out = work()?;
    let wall = t.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    Ok((
        out,
        Rate {
            wall: n as f64 / wall,
            cpu: n as f64 / cpu,
        },
    ))
}

#[derive(Debug, Serialize)]
struct Figures {
    rows: usize,
    zeek_lines_per_sec: Rate,
    supervised_flows_per_sec: Rate,
    supervised_trees: usize,
    supervised_nodes: usize,
    supervised_with_context_flows_per_sec: Rate,
    full_detector_flows_per_sec: Rate,
    streaming_flows_per_sec: Rate,
    streaming_features: usize,
    streaming_ward_flows_per_sec: Rate,
    streaming_ward_features: usize,
    hosts_tracked: usize,
    host_capacity: usize,
    stats_memory_bytes: usize,
    peak_rss_bytes: Option<u64>,
}

/// A deterministic conn.log with `n` lines: about 20,000 client hosts (a large hospital) talking
/// to about 1,000 servers, with varied services, states and sizes.
fn conn_log(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::with_capacity(n * 160);
    out.extend_from_slice(
        b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
    );
    let services = ["http", "ssl", "dns", "-", "dicom", "hl7", "smb", "krb"];
    let states = ["SF", "SF", "SF", "S0", "REJ", "RSTO", "OTH"];
    let mut ts = 1_700_000_000.0f64;
    for i in 0..n {
        ts += rng.f64() * 0.01;
        let ob = rng.u64(40..200_000);
        let rb = rng.u64(0..2_000_000);
        let _ = writeln!(
            out,
            "{ts:.6}\tC{i:017}\t10.{}.{}.{}\t{}\t10.9.{}.{}\t{}\t{}\t{}\t{:.6}\t{ob}\t{rb}\t{}\tT\tT\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
            rng.u8(0..4),
            rng.u8(0..20),
            rng.u8(1..251),
            rng.u16(1024..65535),
            rng.u8(0..4),
            rng.u8(1..255),
            [443u16, 80, 53, 104, 2575, 445, 88][rng.usize(0..7)],
            if rng.bool() { "tcp" } else { "udp" },
            services[rng.usize(0..services.len())],
            rng.f64() * 30.0,
            states[rng.usize(0..states.len())],
            rng.u64(1..400),
            ob + 40,
            rng.u64(0..1500),
            rb + 40,
        );
    }
    out
}

pub(crate) fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn parse_all(buf: &[u8]) -> Result<Vec<Flow>> {
    let opts = ReadOptions {
        format: Some(Format::Zeek),
        ..Default::default()
    };
    let reader =
        ward_ingest::from_reader("bench", Box::new(std::io::Cursor::new(buf.to_vec())), &opts)?;
    let mut flows = Vec::new();
    for r in reader {
        flows.push(r.context("benchmark input failed to parse")?.flow);
    }
    Ok(flows)
}

fn host_key(f: &Flow, dst: bool) -> u64 {
    let a = if dst { f.dst } else { f.src };
    match a {
        Some(std::net::IpAddr::V4(v)) => u64::from(u32::from(v)),
        Some(std::net::IpAddr::V6(v)) => {
            let x = u128::from(v);
            (x as u64) ^ ((x >> 64) as u64)
        }
        None => 0,
    }
}

fn observation(f: &Flow) -> FlowObservation {
    let src = host_key(f, false);
    let dst = host_key(f, true);
    let socket = src.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
        ^ dst
        ^ (u64::from(f.src_port.unwrap_or(0)) << 32)
        ^ u64::from(f.dst_port.unwrap_or(0));
    FlowObservation {
        ts: f.ts.map_or(0.0, |t| t.as_secs_f64()),
        src,
        dst,
        socket,
        bytes: f.src_bytes.unwrap_or(0) as f64,
        response_bytes: f.dst_bytes.map(|b| b as f64),
    }
}

pub fn run(base: &NetTrainConfig, rows: usize, json: bool) -> Result<()> {
    let rows = rows.max(10_000);
    // 0. Memory, first, so the peak RSS is the statistics' own: 1,000,000 distinct source hosts through the bounded statistics.
    let ecfg = ExtractorConfig::default();
    let mut mem_extractor = FlowFeatureExtractor::new(&ecfg)?;
    let mut xm = vec![0f64; mem_extractor.n_features()];
    for i in 0..1_000_000u64 {
        let obs = FlowObservation {
            ts: i as f64 * 0.001,
            src: i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            dst: i % 977,
            socket: i.wrapping_mul(31),
            bytes: (i % 1500) as f64,
            response_bytes: Some((i % 700) as f64),
        };
        mem_extractor.update(&obs, &mut xm)?;
    }
    let (hosts_tracked, stats_memory_bytes, peak_rss_bytes) = (
        mem_extractor.hosts().len(),
        mem_extractor.memory_bytes(),
        peak_rss(),
    );
    drop(mem_extractor);
    eprintln!("1,000,000 hosts: {hosts_tracked} tracked, peak RSS {peak_rss_bytes:?}");

    eprintln!("generating {rows} conn.log lines");
    let buf = conn_log(rows, 7);

    // 1. Parsing.
    let (flows, zeek_lines_per_sec) = measure(rows, || parse_all(&buf))?;
    eprintln!(
        "zeek parse: {:.0} lines/s (CPU time)",
        zeek_lines_per_sec.cpu
    );

    // 2. Supervised scoring with a full-size model (default parameters, noisy labels so every
    //    tree grows to its leaf limit), on record features only, then with traffic context.
    let mut rng = fastrand::Rng::with_seed(11);
    let n_train = 50_000.min(flows.len());
    let train: Vec<Flow> = flows[..n_train]
        .iter()
        .map(|f| {
            let signal = f.state.as_deref() != Some("SF") && f.src_bytes.unwrap_or(0) < 60_000;
            let attack = signal ^ (rng.f64() < 0.1);
            let mut f = f.clone();
            f.label = Some(FlowLabel {
                attack,
                category: if attack { "Probe" } else { "Normal" }.into(),
                name: None,
            });
            f
        })
        .collect();
    let schema = FlowSchema {
        format: "zeek".into(),
        extra: ward_ingest::extras::ZEEK
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    let mut cfg = NetTrainConfig {
        families: false,
        anomaly: AnomalyKind::None,
        devices: false,
        ..base.clone()
    };
    cfg.context.min_share = 2.0; // never: record features only
    eprintln!("training the benchmark models on {n_train} flows");
    let (model, _) = NetModel::train(&schema, &train, &cfg)?;
    let (trees, nodes) = model
        .supervised
        .as_ref()
        .map_or((0, 0), |g| (g.n_trees(), g.n_nodes()));
    let refs: Vec<&Flow> = flows.iter().collect();
    let score_all = |model: &NetModel| -> Result<usize> {
        let mut scorer = model.scorer();
        let mut verdicts = Vec::with_capacity(4096);
        let mut attacks = 0usize;
        for chunk in refs.chunks(4096) {
            scorer.score_batch(chunk, &mut verdicts);
            attacks += verdicts.iter().filter(|v| v.attack).count();
        }
        Ok(attacks)
    };
    let (attacks, supervised_flows_per_sec) = measure(refs.len(), || score_all(&model))?;
    eprintln!(
        "supervised scoring: {:.0} flows/s CPU ({attacks} flagged)",
        supervised_flows_per_sec.cpu
    );
    cfg.context.min_share = 0.9;
    let (cmodel, _) = NetModel::train(&schema, &train, &cfg)?;
    let (_, supervised_with_context_flows_per_sec) = measure(refs.len(), || score_all(&cmodel))?;
    eprintln!(
        "supervised + context: {:.0} flows/s CPU",
        supervised_with_context_flows_per_sec.cpu
    );
    // the whole default detector: attack and family models, anomaly ensemble, context
    let full_cfg = NetTrainConfig {
        devices: false,
        ..base.clone()
    };
    eprintln!("training the full default detector");
    let (fmodel, _) = NetModel::train(&schema, &train, &full_cfg)?;
    let (_, full_detector_flows_per_sec) = measure(refs.len(), || score_all(&fmodel))?;
    eprintln!(
        "full detector: {:.0} flows/s CPU",
        full_detector_flows_per_sec.cpu
    );

    // 3. Streaming: AfterImage statistics + KitNET, per flow.
    let mut extractor = FlowFeatureExtractor::new(&ExtractorConfig::default())?;
    let width = extractor.n_features();
    let mut x = vec![0f64; width];
    let kcfg = KitNetConfig {
        fm_grace: 5_000,
        ad_grace: 20_000,
        ..KitNetConfig::default()
    };
    let mut net = KitNet::new(width, kcfg)?;
    let warm = 25_000.min(flows.len() / 2);
    for f in &flows[..warm] {
        extractor.update(&observation(f), &mut x)?;
        net.process(&x)?;
    }
    let (acc, streaming_flows_per_sec) = measure(flows.len() - warm, || {
        let mut acc = 0.0;
        for f in &flows[warm..] {
            extractor.update(&observation(f), &mut x)?;
            acc += net.process(&x)?;
        }
        Ok(acc)
    })?;
    eprintln!(
        "streaming anomaly: {:.0} flows/s CPU (mean score {:.3})",
        streaming_flows_per_sec.cpu,
        acc / (flows.len() - warm) as f64
    );

    // 3b. The same path as ward runs it: its context windows and KitNET settings.
    let ward_cfg = NetTrainConfig::default();
    let mut ctx = ward_detect::context::Context::new(&ward_cfg.context, 0)?;
    let ward_width = ctx.width();
    let mut row = vec![0f32; ward_width];
    let mut xw = vec![0f64; ward_width];
    let kcfg = KitNetConfig {
        fm_grace: 5_000,
        ad_grace: 20_000,
        ..ward_cfg.kitnet.clone()
    };
    let mut net = KitNet::new(ward_width, kcfg)?;
    for f in &flows[..warm] {
        ctx.update(f, &mut row);
        for (a, b) in xw.iter_mut().zip(&row) {
            *a = f64::from(*b);
        }
        net.process(&xw)?;
    }
    let (_, streaming_ward_flows_per_sec) = measure(flows.len() - warm, || {
        let mut acc = 0.0;
        for f in &flows[warm..] {
            ctx.update(f, &mut row);
            for (a, b) in xw.iter_mut().zip(&row) {
                *a = f64::from(*b);
            }
            acc += net.process(&xw)?;
        }
        Ok(acc)
    })?;
    eprintln!(
        "streaming, ward's settings: {:.0} flows/s CPU",
        streaming_ward_flows_per_sec.cpu
    );

    let figures = Figures {
        rows: flows.len(),
        zeek_lines_per_sec,
        supervised_flows_per_sec,
        supervised_trees: trees,
        supervised_nodes: nodes,
        supervised_with_context_flows_per_sec,
        full_detector_flows_per_sec,
        streaming_flows_per_sec,
        streaming_features: width,
        streaming_ward_flows_per_sec,
        streaming_ward_features: ward_width,
        hosts_tracked,
        host_capacity: ecfg.host_capacity,
        stats_memory_bytes,
        peak_rss_bytes,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        let r = |x: Rate| format!("{:>10.0} ({:>8.0})", x.cpu, x.wall);
        println!(
            "{} rows per measurement; rates per second of one core's CPU time (wall clock in brackets)",
            figures.rows
        );
        println!(
            "zeek conn.log parsing          {} lines/s",
            r(figures.zeek_lines_per_sec)
        );
        println!(
            "supervised scoring             {} flows/s ({} trees, {} nodes, incl. feature encoding)",
            r(figures.supervised_flows_per_sec),
            figures.supervised_trees,
            figures.supervised_nodes
        );
        println!(
            "supervised + traffic context   {} flows/s",
            r(figures.supervised_with_context_flows_per_sec)
        );
        println!(
            "full default detector          {} flows/s (attack + family models, KitNET + Isolation Forest, context)",
            r(figures.full_detector_flows_per_sec)
        );
        println!(
            "streaming AfterImage + KitNET  {} flows/s ({} features: Kitsune's 5 windows, hidden ratio 0.75)",
            r(figures.streaming_flows_per_sec),
            figures.streaming_features
        );
        println!(
            "  the same with ward's settings {} flows/s ({} features: 4 windows, KitNET hidden ratio 0.5)",
            r(figures.streaming_ward_flows_per_sec),
            figures.streaming_ward_features
        );
        println!(
            "1,000,000 distinct hosts: {} tracked (capacity {}), statistics {:.1} MiB; peak RSS {}",
            figures.hosts_tracked,
            figures.host_capacity,
            figures.stats_memory_bytes as f64 / (1 << 20) as f64,
            figures.peak_rss_bytes.map_or("n/a".into(), |b| format!(
                "{:.0} MiB",
                b as f64 / (1 << 20) as f64
            ))
        );
    }
    Ok(())
}

/// Scoring speed of the default supervised model on the records of a labelled file.
pub fn run_on_file(
    path: &std::path::Path,
    opts: &ReadOptions,
    base: &NetTrainConfig,
    rows: usize,
    json: bool,
) -> Result<()> {
    let (schema, flows, _, summary) = crate::inputs::read_all(&[path.to_path_buf()], opts, false)?;
    summary.report();
    let mut cfg = NetTrainConfig {
        families: false,
        anomaly: AnomalyKind::None,
        devices: false,
        ..base.clone()
    };
    cfg.context.min_share = 2.0;
    eprintln!(
        "training the configured supervised model on {} records",
        flows.len()
    );
    let (model, _) = NetModel::train(&schema, &flows, &cfg)?;
    let refs: Vec<&Flow> = flows.iter().cycle().take(rows.max(flows.len())).collect();
    let (attacks, rate) = measure(refs.len(), || {
        let mut scorer = model.scorer();
        let mut verdicts = Vec::with_capacity(4096);
        let mut attacks = 0usize;
        for chunk in refs.chunks(4096) {
            scorer.score_batch(chunk, &mut verdicts);
            attacks += verdicts.iter().filter(|v| v.attack).count();
        }
        Ok(attacks)
    })?;
    let (trees, nodes) = model
        .supervised
        .as_ref()
        .map_or((0, 0), |g| (g.n_trees(), g.n_nodes()));
    if json {
        println!(
            "{}",
            serde_json::json!({"records": refs.len(), "format": schema.format, "trees": trees, "nodes": nodes,
                "flows_per_sec_cpu": rate.cpu, "flows_per_sec_wall": rate.wall, "flagged": attacks})
        );
    } else {
        println!(
            "supervised scoring on {} ({} records scored, {} trees, {} nodes): {:.0} flows/s CPU ({:.0} wall)",
            schema.format,
            refs.len(),
            trees,
            nodes,
            rate.cpu,
            rate.wall
        );
    }
    Ok(())
}
