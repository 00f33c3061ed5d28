//! `ward bench respond`: alerts stored at a steady rate, one playbook with a webhook step, a
//! real HTTP receiver on loopback. Measures the time from an alert's commit to its webhook
//! arriving (p50, p99, max), the sustained rate, and loss.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ward_core::alert::{Alert, Evidence, Explanation};
use ward_core::entity::EntityId;
use ward_store::{SqliteStore, Store};

/// `ward bench respond`.
#[derive(Debug, Args)]
pub struct RespondBenchArgs {
    /// Alerts stored per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Seconds of load.
    #[arg(long, default_value_t = 60)]
    pub secs: u32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

type Seen = Arc<Mutex<HashMap<String, Instant>>>;

/// A loopback HTTP/1.1 receiver with keep-alive: answers 200 at once and records when each
/// alert id (from the JSON body) first arrived, and how many requests came.
fn receiver() -> Result<(String, Seen, Arc<Mutex<u64>>)> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind the receiver")?;
    let url = format!("http://{}/hook", l.local_addr()?);
    let seen: Seen = Arc::new(Mutex::new(HashMap::new()));
    let requests = Arc::new(Mutex::new(0u64));
    let (s2, r2) = (Arc::clone(&seen), Arc::clone(&requests));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(c) = conn else { continue };
            let (seen, requests) = (Arc::clone(&s2), Arc::clone(&r2));
            std::thread::spawn(move || serve_conn(c, &seen, &requests));
        }
    });
    Ok((url, seen, requests))
}

fn serve_conn(mut c: std::net::TcpStream, seen: &Seen, requests: &Mutex<u64>) {
    let Ok(clone) = c.try_clone() else { return };
    let mut r = BufReader::new(clone);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len.min(1 << 20)];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let now = Instant::now();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Some(id) = v["alert"]["id"].as_str()
            && let Ok(mut m) = seen.lock()
        {
            m.entry(id.to_owned()).or_insert(now);
        }
        if let Ok(mut n) = requests.lock() {
            *n += 1;
        }
        if c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

/// Runs the benchmark.
pub fn run(a: &RespondBenchArgs, cfg: &Config) -> Result<()> {
    if a.rate == 0 || a.secs == 0 {
        bail!("--rate and --secs must be at least 1");
    }
    let dir = tempfile::tempdir().context("cannot make a temporary folder")?;
    let db = dir.path().join("bench.db");
    SqliteStore::open(&db).context("cannot create the store")?;
    let (url, seen, requests) = receiver()?;
    let set = ward_respond::PlaybookSet::from_toml(&format!(
        "[[playbook]]\nname = \"bench\"\ndedup_minutes = 0\nmax_runs_per_hour = 0\n\
         [[playbook.step]]\nname = \"hook\"\neffect = \"notify\"\nretries = 5\n\
         webhook = {{ url = \"{url}\" }}\n"
    ))?;
    let actions = cfg.respond.actions()?;
    let stop = Arc::new(AtomicBool::new(false));
    // the worker: its own store connection, as in `ward respond run`
    let worker = {
        let (db, stop, rcfg) = (db.clone(), Arc::clone(&stop), cfg.respond.clone());
        std::thread::spawn(move || -> Result<crate::respond::WorkerTotals> {
            let mut s = SqliteStore::open(&db)?;
            crate::respond::run_worker(
                &mut s,
                &rcfg,
                &set,
                &actions,
                crate::respond::WorkerSettings {
                    idle: Duration::from_millis(1),
                    batch: 256,
                    dry_run: false,
                    once: false,
                },
                &stop,
            )
        })
    };
    // the producer: a batch every 10 ms
    let mut store = SqliteStore::open(&db)?;
    let mut stored: HashMap<String, Instant> = HashMap::new();
    let per_tick = f64::from(a.rate) / 100.0;
    let total = u64::from(a.rate) * u64::from(a.secs);
    let t0 = Instant::now();
    let mut made = 0u64;
    let mut tick = 0u64;
    let now = ward_server::now();
    while made < total {
        tick += 1;
        let due = ((tick as f64 * per_tick).round() as u64).min(total);
        let batch: Vec<Alert> = (made..due)
            .map(|i| {
                Alert::new(
                    now,
                    "net.anomaly",
                    80,
                    EntityId::host(format!(
                        "10.{}.{}.{}",
                        (i >> 16) & 255,
                        (i >> 8) & 255,
                        i & 255
                    )),
                    format!("bench alert {i}"),
                    Explanation::default(),
                    Evidence::default(),
                )
            })
            .collect();
        store.insert_alerts(&batch)?;
        let at = Instant::now();
        for x in &batch {
            stored.insert(x.id.clone(), at);
        }
        made = due;
        let next = t0 + Duration::from_millis(10 * tick);
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let produced = t0.elapsed();
    // drain: wait up to 60 s for the rest
    let drain0 = Instant::now();
    while seen.lock().map(|m| m.len()).unwrap_or(0) < stored.len()
        && drain0.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::SeqCst);
    let totals = worker
        .join()
        .map_err(|_| anyhow::anyhow!("the worker panicked"))??;
    let seen = seen.lock().map(|m| m.clone()).unwrap_or_default();
    let requests = requests.lock().map(|n| *n).unwrap_or(0);
    let mut lat: Vec<f64> = stored
        .iter()
        .filter_map(|(id, t)| {
            seen.get(id)
                .map(|r| r.saturating_duration_since(*t).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let last = seen.values().max().copied().unwrap_or(t0);
    let span = last.saturating_duration_since(t0).as_secs_f64().max(1e-9);
    let lost = stored.len() - lat.len();
    let fig = serde_json::json!({
        "alerts": stored.len(),
        "delivered": lat.len(),
        "lost": lost,
        "requests": requests,
        "offered_rate": a.rate,
        "load_secs": produced.as_secs_f64(),
        "delivered_per_sec": lat.len() as f64 / span,
        "latency_ms_p50": q(0.5),
        "latency_ms_p99": q(0.99),
        "latency_ms_max": q(1.0),
        "jobs_retried": totals.retried,
        "jobs_failed": totals.failed,
    });
    if a.json {
        println!("{fig}");
    } else {
        println!(
            "{} alerts stored at {}/s for {:.1} s; {} webhooks delivered ({} requests), {} lost",
            stored.len(),
            a.rate,
            produced.as_secs_f64(),
            lat.len(),
            requests,
            lost
        );
        println!(
            "alert stored -> webhook received: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            q(0.5),
            q(0.99),
            q(1.0)
        );
        println!(
            "sustained {:.0} alerts/s through the playbook; {} retried, {} failed",
            lat.len() as f64 / span,
            totals.retried,
            totals.failed
        );
    }
    if lost > 0 {
        bail!("{lost} alerts never reached the receiver");
    }
    Ok(())
}
