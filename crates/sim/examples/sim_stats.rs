//! Prints a summary of one simulation: flow counts by state, service and hour, and the attacks.
//!
//! `cargo run --release -p ward-sim --example sim_stats -- [seed] [scale] [hours] [out-dir]`
//!
//! With `out-dir`, also writes `conn.log`, `truth.csv`, `attacks.json` and `devices.jsonl` there.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;
use ward_sim::{
    SimConfig, generate, write_attacks_json, write_devices, write_truth, write_zeek_conn,
};

/// Writes one output file.
type Writer<'a> = dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).and_then(|s| s.parse::<f64>().ok());
    let cfg = SimConfig {
        seed: arg(0).map_or(42, |v| v as u64),
        scale: arg(1).unwrap_or(1.0),
        hours: arg(2).unwrap_or(24.0),
        ..SimConfig::default()
    };
    let mut report = String::new();
    let t = Instant::now();
    let out = generate(&cfg);
    let gen_time = t.elapsed();
    let t = Instant::now();
    let mut log = Vec::new();
    let _ = write_zeek_conn(&mut log, &out.flows);
    let write_time = t.elapsed();
    let _ = writeln!(
        report,
        "devices {} flows {} attack flows {} conn.log {} bytes; generate {:?}, write {:?}",
        out.devices.len(),
        out.flows.len(),
        out.attack_flow_count(),
        log.len(),
        gen_time,
        write_time
    );
    let mut states: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut services: BTreeMap<String, usize> = BTreeMap::new();
    let mut hours: BTreeMap<i64, usize> = BTreeMap::new();
    for f in &out.flows {
        let s = states
            .entry(f.flow.state.clone().unwrap_or_default())
            .or_default();
        if f.attack.is_some() {
            s.1 += 1
        } else {
            s.0 += 1
        }
        *services
            .entry(f.flow.service.clone().unwrap_or_else(|| "-".into()))
            .or_default() += 1;
        if let Some(ts) = f.flow.ts {
            *hours
                .entry((ts.0 - cfg.start.0) / 3_600_000_000)
                .or_default() += 1;
        }
    }
    let _ = writeln!(report, "states (benign, attack): {states:?}");
    let _ = writeln!(report, "services: {services:?}");
    let _ = writeln!(report, "per hour: {hours:?}");
    for a in &out.attacks {
        let n = out.flows.iter().filter(|f| f.attack == Some(a.id)).count();
        let _ = writeln!(
            report,
            "#{} {:?} {} -> {} targets, {} flows, {} .. {} {:?}",
            a.id,
            a.kind,
            a.attacker,
            a.targets.len(),
            n,
            a.start,
            a.end,
            a.mitre
        );
    }
    // Ignore a closed pipe (`| head`) instead of panicking like println! does.
    let _ = std::io::stdout().write_all(report.as_bytes());
    if let Some(dir) = args.get(3) {
        let dir = std::path::Path::new(dir);
        let files: [(&str, &Writer); 4] = [
            ("conn.log", &|w| w.write_all(&log)),
            ("truth.csv", &|w| write_truth(w, &out)),
            ("attacks.json", &|w| write_attacks_json(w, &out.attacks)),
            ("devices.jsonl", &|w| write_devices(w, &out.devices)),
        ];
        for (name, write) in files {
            let res = std::fs::File::create(dir.join(name)).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                write(&mut w)
            });
            if let Err(e) = res {
                eprintln!("cannot write {name}: {e}");
                std::process::exit(1);
            }
        }
    }
}
