//! `ward bench serve`: the two server figures of BENCHMARKS.md, measured in-process on loopback.
//!
//! - **ingest**: a model trained on a simulated hospital day, the live pipeline writing to a
//!   temporary SQLite store, and client tasks posting NDJSON batches of simulated Zeek `conn`
//!   JSON events to `POST /api/v1/events` until a fixed count has been accepted; timed until the
//!   detectors have scored and stored all of them.
//! - **query**: a temporary store filled with synthetic alerts, then concurrent clients (one
//!   keep-alive connection each) issuing a fixed number of `GET /api/v1/alerts` requests with a
//!   mix of filters; latency percentiles and requests per second.
//!
//! The HTTP client is a minimal HTTP/1.1 keep-alive client over tokio (responses must carry
//! `Content-Length`, which every ward response does): no extra dependency.

use super::{Pipeline, PipelineConfig};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use ward_core::{Alert, EntityId, EventId, Evidence, Explanation, Timestamp};
use ward_server::EventSink;
use ward_store::{Role, SqliteStore, Store};

/// `ward bench serve`
#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// Events posted in the ingest benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Lines per POST in the ingest benchmark.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent posting clients in the ingest benchmark.
    #[arg(long, default_value_t = 4)]
    pub ingest_clients: usize,
    /// Alerts in the store of the query benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub alerts: usize,
    /// Concurrent clients in the query benchmark.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Requests per client in the query benchmark.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Leave the title search (`q=`) out of the query mix.
    #[arg(long)]
    pub no_search: bool,
    /// Run only `ingest` or `query` (default both).
    #[arg(long, value_name = "WHICH")]
    pub only: Option<String>,
}

/// Runs the benchmarks asked for and prints their figures.
pub fn run(args: &BenchServeArgs, cfg: &crate::config::Config) -> Result<()> {
    let which = args.only.as_deref().unwrap_or("both");
    if !matches!(which, "both" | "ingest" | "query") {
        bail!("--only must be ingest or query");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if which != "query" {
        ingest(args, cfg, &runtime)?;
    }
    if which != "ingest" {
        query(args, &runtime)?;
    }
    Ok(())
}

/// A store with one admin and a bearer token for it.
fn store_with_token(path: &Path) -> Result<(SqliteStore, String)> {
    let mut store = SqliteStore::open(path)?;
    let now = ward_server::now();
    let hash = ward_store::auth::hash_password("bench-password-not-used")?;
    store.add_user("bench", Role::Admin, &hash, now)?;
    let (token, token_hash) = ward_store::auth::new_token()?;
    store.add_token("bench", &token_hash, now)?;
    Ok((store, token))
}

/// Serves `state` on a loopback port; returns the address and a stopper.
async fn start_server(
    state: ward_server::AppState,
) -> Result<(
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(ward_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    Ok((addr, tx, handle))
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    conn: BufReader<TcpStream>,
    token: String,
    line: String,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr, token: &str) -> Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self {
            conn: BufReader::new(s),
            token: token.to_owned(),
            line: String::new(),
        })
    }

    /// Sends one request and reads the whole response: (status, body).
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\n",
            self.token
        );
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        let s = self.conn.get_mut();
        s.write_all(head.as_bytes()).await?;
        if let Some(b) = body {
            s.write_all(b).await?;
        }
        self.line.clear();
        self.conn.read_line(&mut self.line).await?;
        let status: u16 = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("malformed status line")?;
        let mut len: Option<usize> = None;
        loop {
            self.line.clear();
            if self.conn.read_line(&mut self.line).await? == 0 {
                bail!("connection closed in the headers");
            }
            let l = self.line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().ok();
            }
        }
        let len = len.context("response without Content-Length")?;
        let mut body = vec![0u8; len];
        self.conn.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// Zeek TSV `conn.log` text as Zeek JSON lines, with `ts` shifted by `shift` seconds.
fn tsv_to_json(log: &str, shift: f64, out: &mut Vec<String>) {
    let mut fields: Vec<&str> = Vec::new();
    for line in log.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut obj = serde_json::Map::new();
        for (k, v) in fields.iter().zip(line.split('\t')) {
            if v == "-"
                || matches!(
                    *k,
                    "local_orig" | "local_resp" | "history" | "tunnel_parents"
                )
            {
                continue;
            }
            let value = match *k {
                "ts" => serde_json::json!(v.parse::<f64>().unwrap_or(0.0) + shift),
                "duration" => serde_json::json!(v.parse::<f64>().unwrap_or(0.0)),
                "id.orig_p" | "id.resp_p" | "orig_bytes" | "resp_bytes" | "missed_bytes"
                | "orig_pkts" | "orig_ip_bytes" | "resp_pkts" | "resp_ip_bytes" => {
                    serde_json::json!(v.parse::<u64>().unwrap_or(0))
                }
                _ => serde_json::json!(v),
            };
            obj.insert((*k).to_owned(), value);
        }
        out.push(serde_json::Value::Object(obj).to_string());
    }
}

fn ingest(
    args: &BenchServeArgs,
    cfg: &crate::config::Config,
    rt: &tokio::runtime::Runtime,
) -> Result<()> {
    let dir = tempfile_dir()?;
    let t = Instant::now();
    // Train on yesterday (labelled incidents joined by uid, read back through the Zeek reader
    // as `ward demo` does); post today.
    let sim = |seed: u64| ward_sim::SimConfig {
        seed,
        hours: 24.0,
        scale: 0.5,
        ..ward_sim::SimConfig::default()
    };
    let history = ward_sim::generate(&sim(43));
    let mut tsv = Vec::new();
    ward_sim::write_zeek_conn(&mut tsv, &history.flows)?;
    let labels: HashMap<&str, &ward_core::FlowLabel> = history
        .flows
        .iter()
        .filter_map(|f| Some((f.flow.uid.as_deref()?, f.flow.label.as_ref()?)))
        .collect();
    let opts = ward_ingest::ReadOptions {
        format: Some(ward_ingest::Format::Zeek),
        ..ward_ingest::ReadOptions::default()
    };
    let reader = ward_ingest::from_reader("history", Box::new(Cursor::new(tsv)), &opts)?;
    let schema = reader.schema().clone();
    let mut flows = Vec::with_capacity(history.flows.len());
    for r in reader {
        let mut f = r?.flow;
        f.label = f
            .uid
            .as_deref()
            .and_then(|u| labels.get(u))
            .map(|l| (*l).clone());
        flows.push(f);
    }
    let (model, _) = ward_detect::net::NetModel::train(&schema, &flows, &cfg.net.train)?;
    drop(flows);
    let today = ward_sim::generate(&sim(42));
    let mut tsv = Vec::new();
    ward_sim::write_zeek_conn(&mut tsv, &today.flows)?;
    let tsv = String::from_utf8(tsv)?;
    let mut lines = Vec::with_capacity(args.events);
    let mut day = 0.0;
    while lines.len() < args.events {
        tsv_to_json(&tsv, day * 86_400.0, &mut lines);
        day += 1.0;
    }
    lines.truncate(args.events);
    let batch = args.batch.max(1);
    let clients = args.ingest_clients.max(1);
    // One time-ordered stream per client, split by source address, as sensors in front of
    // different parts of a network would post: each host's flows arrive in order (the traffic
    // context is per source), the streams interleave.
    let mut streams: Vec<Vec<&str>> = vec![Vec::new(); clients];
    for l in &lines {
        let src = serde_json::from_str::<serde_json::Value>(l)
            .ok()
            .and_then(|v| {
                v.get("id.orig_h")
                    .and_then(|h| h.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let h = src.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        if let Some(s) = streams.get_mut((h % clients as u64) as usize) {
            s.push(l);
        }
    }
    let bodies: Vec<Vec<Vec<u8>>> = streams
        .iter()
        .map(|stream| {
            stream
                .chunks(batch)
                .map(|c| {
                    let mut b = c.join("\n").into_bytes();
                    b.push(b'\n');
                    b
                })
                .collect()
        })
        .collect();
    let bytes: usize = bodies.iter().flatten().map(Vec::len).sum();
    let n_bodies: usize = bodies.iter().map(Vec::len).sum();
    drop(lines);
    eprintln!(
        "ingest: model trained on {} flows, {} events in {} bodies ({:.0} MB) prepared in {:.1} s",
        history.flows.len(),
        args.events,
        n_bodies,
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let db = dir.path().join("bench.db");
    let (store, token) = store_with_token(&db)?;
    let pipeline = Pipeline::start(model, &db, &PipelineConfig::default())?;
    let state = crate::serve::app_state(store, &db, ward_server::ServerOptions::default())?
        .with_sink(Arc::clone(&pipeline) as Arc<dyn EventSink>);
    let total = args.events as u64;
    let (elapsed, retries, cpu) = rt.block_on(async {
        let (addr, stop, server) = start_server(state).await?;
        let bodies = Arc::new(bodies);
        let cpu0 = crate::bench::cpu_seconds();
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let bodies = Arc::clone(&bodies);
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let mut cl = Client::connect(addr, &token).await?;
                let mut retries = 0u64;
                for b in bodies.get(c).into_iter().flatten() {
                    // bounded: a full queue is retried at most 10,000 times per body
                    let mut tries = 0;
                    loop {
                        let (status, resp) = cl.request("POST", "/api/v1/events", Some(b)).await?;
                        match status {
                            202 => break,
                            503 if tries < 10_000 => {
                                retries += 1;
                                tries += 1;
                                tokio::time::sleep(Duration::from_millis(2)).await;
                            }
                            s => bail!(
                                "POST /events answered {s}: {}",
                                String::from_utf8_lossy(&resp)
                            ),
                        }
                    }
                }
                anyhow::Ok(retries)
            }));
        }
        let mut retries = 0;
        for t in tasks {
            retries += t.await??;
        }
        // until the detectors have scored and stored everything accepted (bounded: 1 hour)
        for _ in 0..360_000 {
            let s = pipeline.stats();
            if s.events_accepted >= total && s.queue == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = t0.elapsed();
        let cpu = cpu0.zip(crate::bench::cpu_seconds()).map(|(a, b)| b - a);
        let _ = stop.send(());
        server.await??;
        anyhow::Ok((elapsed, retries, cpu))
    })?;
    let stats = pipeline.stats();
    let summary = pipeline.close().unwrap_or_default();
    let check = SqliteStore::open_reader(&db)?;
    let mut by = Vec::new();
    for d in ["net.supervised", "net.anomaly", "net.device"] {
        let n = check.count_alerts(&ward_store::AlertQuery::new().detector(d))?;
        by.push(format!("{d} {n}"));
    }
    eprintln!("alerts by detector: {}", by.join(", "));
    let secs = elapsed.as_secs_f64();
    println!(
        "ingest: {} events via POST /api/v1/events ({} clients, {} lines per request) scored and stored in {:.2} s: {:.0} events/s sustained; {} alerts stored, {} rejected, {} retries on a full queue",
        stats.events_accepted,
        clients,
        batch,
        secs,
        stats.events_accepted as f64 / secs,
        summary.alerts,
        stats.events_rejected,
        retries
    );
    if let Some(cpu) = cpu {
        println!(
            "ingest: {cpu:.1} s of CPU time (server, detectors and the posting clients together): {:.0} events per CPU-second",
            stats.events_accepted as f64 / cpu
        );
    }
    Ok(())
}

/// A temporary folder (the binary has no tempfile dependency: a folder under the system temp).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir> {
    let p = std::env::temp_dir().join(format!(
        "ward-bench-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
    Ok(TempDir(p))
}

const TITLES: [&str; 8] = [
    "Port scan from a workstation",
    "RDP brute force against the EHR server",
    "DICOM modality talks to the internet",
    "Unusual volume from an infusion pump",
    "New protocol on a patient monitor",
    "HL7 feed from an unknown host",
    "SMB lateral movement",
    "Data exfiltration over HTTPS",
];

/// `n` synthetic alerts over 30 days, written in batches.
fn fill_alerts(store: &mut SqliteStore, n: usize) -> Result<()> {
    let start = Timestamp::parse_rfc3339("2026-10-24T00:00:00Z").unwrap_or(Timestamp(0));
    let span = 30 * 86_400_000_000i64;
    let mut rng = fastrand::Rng::with_seed(7);
    let detectors = ["net.supervised", "net.anomaly", "net.device"];
    let mut done = 0;
    while done < n {
        let k = (n - done).min(50_000);
        let batch: Vec<Alert> = (0..k)
            .map(|i| {
                let j = done + i;
                let t = Timestamp(start.0 + (j as i64) * (span / n.max(1) as i64));
                let host = format!(
                    "10.{}.{}.{}",
                    rng.u8(1..20),
                    rng.u8(0..=255),
                    rng.u8(1..255)
                );
                Alert::new(
                    t,
                    detectors[rng.usize(..detectors.len())],
                    rng.u8(5..=100),
                    EntityId::host(&host),
                    TITLES[rng.usize(..TITLES.len())],
                    Explanation {
                        summary: "synthetic alert for the query benchmark".into(),
                        ..Explanation::default()
                    },
                    Evidence {
                        events: vec![EventId {
                            source: "bench".into(),
                            line: j as u64,
                        }],
                        uids: Vec::new(),
                    },
                )
            })
            .collect();
        store.insert_alerts(&batch)?;
        done += k;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn query(args: &BenchServeArgs, rt: &tokio::runtime::Runtime) -> Result<()> {
    let dir = tempfile_dir()?;
    let db = dir.path().join("bench.db");
    let (mut store, token) = store_with_token(&db)?;
    let t = Instant::now();
    fill_alerts(&mut store, args.alerts)?;
    eprintln!(
        "query: {} alerts stored in {:.1} s",
        args.alerts,
        t.elapsed().as_secs_f64()
    );
    let state = crate::serve::app_state(store, &db, ward_server::ServerOptions::default())?;
    let clients = args.clients.max(1);
    let per = args.requests.max(1);
    let no_search = args.no_search;
    let (mut lat, elapsed, by_kind) = rt.block_on(async {
        let (addr, stop, server) = start_server(state).await?;
        // a cursor for the "next page" requests, taken from the first page
        let mut c = Client::connect(addr, &token).await?;
        let (s, body) = c.request("GET", "/api/v1/alerts", None).await?;
        if s != 200 {
            bail!("GET /alerts answered {s}");
        }
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let cursor = v["next_cursor"].as_str().unwrap_or_default().to_owned();
        let mut mix: Vec<(&'static str, String)> = vec![
            ("first page", "/api/v1/alerts".to_owned()),
            ("severity=high", "/api/v1/alerts?severity=high".to_owned()),
            (
                "detector=net.anomaly",
                "/api/v1/alerts?detector=net.anomaly".to_owned(),
            ),
            ("next page", format!("/api/v1/alerts?cursor={cursor}")),
            ("q=brute", "/api/v1/alerts?q=brute".to_owned()),
        ];
        if no_search {
            mix.pop();
        }
        let mix = Arc::new(mix);
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for id in 0..clients {
            let token = token.clone();
            let mix = Arc::clone(&mix);
            tasks.push(tokio::spawn(async move {
                let mut cl = Client::connect(addr, &token).await?;
                let mut out = Vec::with_capacity(per);
                for r in 0..per {
                    let k = (id + r) % mix.len();
                    let (_, path) = mix.get(k).context("mix")?;
                    let t = Instant::now();
                    let (s, _) = cl.request("GET", path, None).await?;
                    let d = t.elapsed();
                    if s != 200 {
                        bail!("GET {path} answered {s}");
                    }
                    out.push((k, d));
                }
                anyhow::Ok(out)
            }));
        }
        let mut all = Vec::with_capacity(clients * per);
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = t0.elapsed();
        let _ = stop.send(());
        server.await??;
        let mut by_kind: Vec<(&str, Vec<Duration>)> =
            mix.iter().map(|(n, _)| (*n, Vec::new())).collect();
        for (k, d) in &all {
            if let Some((_, v)) = by_kind.get_mut(*k) {
                v.push(*d);
            }
        }
        let lat: Vec<Duration> = all.into_iter().map(|(_, d)| d).collect();
        anyhow::Ok((lat, elapsed, by_kind))
    })?;
    lat.sort();
    let n = lat.len();
    println!(
        "query{}: {} x GET /api/v1/alerts by {} clients on {} alerts: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} requests/s",
        if no_search { " (no title search)" } else { "" },
        n,
        clients,
        args.alerts,
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        n as f64 / elapsed.as_secs_f64()
    );
    for (name, mut v) in by_kind {
        v.sort();
        println!(
            "  {name:<22} p50 {:.1} ms, p99 {:.1} ms",
            ms(percentile(&v, 0.50)),
            ms(percentile(&v, 0.99))
        );
    }
    Ok(())
}
