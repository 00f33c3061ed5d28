//! A measurement, not a test: insert throughput and filtered-page latency on a large store.
//! Prints figures, asserts only correctness. Run in release:
//!
//! ```text
//! cargo test -p ward-store --release --test it -- --ignored --nocapture measure_large_store
//! WARD_BENCH_ALERTS=200000 cargo test ...   # smaller run
//! WARD_BENCH_ORDER=random cargo test ...     # alert times in random order (worst case)
//! ```
//!
//! By default alerts arrive roughly in time order (as a live detector emits them: increasing
//! time with up to 10 minutes of jitter); `random` spreads them over 30 days in any order,
//! which makes every time-keyed index insert land on a random page.
//!
//! ```text
//! ```

use rusqlite::Connection;
use std::time::{Duration, Instant};
use ward_core::{Alert, EntityId, EventId, Evidence, Explanation, Severity, Timestamp};
use ward_store::{AlertCursor, AlertQuery, AlertSort, AlertStatus, SqliteStore, Store};

const DETECTORS: [&str; 5] = [
    "net.supervised",
    "net.anomaly",
    "net.device",
    "ehr.access",
    "claims.fraud",
];
const WORDS: [&str; 6] = [
    "port scan",
    "DICOM association",
    "after-hours login",
    "HL7 burst",
    "beaconing",
    "new peer",
];
const BASE: i64 = 1_714_521_600_000_000;
const SPAN_SECS: u64 = 30 * 86_400;

/// splitmix64: deterministic, dependency-free.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn alert(i: u64, n: u64, random_order: bool) -> Alert {
    let r = mix(i);
    // Skewed scores: most alerts are low, few are critical.
    let score = ((r % 10_000) as f64 / 10_000.0).powi(3) * 100.0;
    let det = DETECTORS[(r >> 20) as usize % DETECTORS.len()];
    let word = WORDS[(r >> 24) as usize % WORDS.len()];
    let host = (r >> 32) % 10_000;
    let secs = if random_order {
        (r >> 8) % SPAN_SECS
    } else {
        (i * SPAN_SECS / n.max(1) + (r >> 8) % 600).min(SPAN_SECS)
    };
    let time = Timestamp(BASE + secs as i64 * 1_000_000 + (i % 1_000_000) as i64);
    Alert::new(
        time,
        det,
        score as u8,
        EntityId::host(format!(
            "10.{}.{}.{}",
            host / 65_536,
            (host / 256) % 256,
            host % 256
        )),
        format!("{word} from host {host}"),
        Explanation {
            summary: format!("Synthetic alert {i} for measurement; {word} was seen."),
            ..Default::default()
        },
        Evidence {
            events: vec![EventId {
                source: "bench".into(),
                line: i,
            }],
            uids: vec![format!("C{i:x}")],
        },
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn measure_large_store() {
    let random_order = std::env::var("WARD_BENCH_ORDER").is_ok_and(|v| v == "random");
    let n: u64 = std::env::var("WARD_BENCH_ALERTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let batch = 10_000u64;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let mut s = SqliteStore::open(&path).unwrap();

    let t0 = Instant::now();
    let mut build = Duration::ZERO;
    let mut i = 0;
    while i < n {
        let tb = Instant::now();
        let alerts: Vec<Alert> = (i..(i + batch).min(n))
            .map(|j| alert(j, n, random_order))
            .collect();
        build += tb.elapsed();
        assert_eq!(s.insert_alerts(&alerts).unwrap(), alerts.len());
        i += batch;
    }
    let total = t0.elapsed();
    let store_time = total.saturating_sub(build);
    println!(
        "insert ({}): {n} alerts in batches of {batch}: {:.1} s store time ({:.0} alerts/s), {:.1} s generating",
        if random_order {
            "random time order"
        } else {
            "time order"
        },
        store_time.as_secs_f64(),
        n as f64 / store_time.as_secs_f64(),
        build.as_secs_f64()
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "size: {:.0} MB ({:.0} bytes/alert)",
        size as f64 / 1e6,
        size as f64 / n as f64
    );
    drop(s);
    let t_open = Instant::now();
    let mut s = SqliteStore::open(&path).unwrap();
    println!(
        "reopen (runs PRAGMA optimize): {:.1} ms",
        t_open.elapsed().as_secs_f64() * 1e3
    );
    // Some workflow state so the status filter has something to find.
    let some = s.query_alerts(&AlertQuery::new().limit(1000)).unwrap();
    for a in some.iter().step_by(3) {
        s.set_alert_state(
            &a.id,
            &ward_store::AlertState {
                status: AlertStatus::Closed,
                assignee: None,
            },
        )
        .unwrap();
    }

    let t = |secs: i64| Timestamp(BASE + secs * 1_000_000);
    let cases: Vec<(&str, AlertQuery)> = vec![
        ("newest 100", AlertQuery::new()),
        (
            "severity >= high, newest",
            AlertQuery::new().min_severity(Severity::High),
        ),
        (
            "severity critical, by score",
            AlertQuery::new()
                .min_severity(Severity::Critical)
                .sort(AlertSort::ScoreDesc),
        ),
        ("top scores", AlertQuery::new().sort(AlertSort::ScoreDesc)),
        ("one entity", AlertQuery::new().entity("host:10.0.1.44")),
        (
            "one detector + severity >= medium",
            AlertQuery::new()
                .detector("net.device")
                .min_severity(Severity::Medium),
        ),
        (
            "one day, oldest first",
            AlertQuery::new()
                .from(t(86_400 * 10))
                .to(t(86_400 * 11))
                .sort(AlertSort::TimeAsc),
        ),
        (
            "one day + detector + high",
            AlertQuery::new()
                .from(t(86_400 * 10))
                .to(t(86_400 * 11))
                .detector("ehr.access")
                .min_severity(Severity::High),
        ),
        ("text 'HL7' (common)", AlertQuery::new().text("hl7")),
        (
            "text 'host 4242' (rare)",
            AlertQuery::new().text("host 4242"),
        ),
        (
            "status closed",
            AlertQuery::new().status(AlertStatus::Closed),
        ),
        ("deep offset 100000", AlertQuery::new().offset(100_000)),
    ];
    println!(
        "{:<40} {:>6} {:>10} {:>12}",
        "query (page of 100)", "rows", "median ms", "count ms"
    );
    for (name, q) in &cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..11 {
            let t = Instant::now();
            rows = s.query_alerts(q).unwrap().len();
            times.push(t.elapsed());
        }
        let tc = Instant::now();
        let _ = s.count_alerts(q).unwrap();
        println!(
            "{name:<40} {rows:>6} {:>10.2} {:>12.1}",
            median(times).as_secs_f64() * 1e3,
            tc.elapsed().as_secs_f64() * 1e3
        );
    }
    // Deep keyset paging: page 1000 of the newest-first walk, by cursor.
    let page999 = s.query_alerts(&AlertQuery::new().offset(99_900)).unwrap();
    let c = page999.last().map(AlertCursor::after).unwrap();
    let tc = Instant::now();
    let next = s.query_alerts(&AlertQuery::new().after(c)).unwrap();
    println!(
        "{:<40} {:>6} {:>10.2}",
        "cursor page after 100000",
        next.len(),
        tc.elapsed().as_secs_f64() * 1e3
    );

    // Query plans, to see which index each filter uses.
    let raw = Connection::open(&path).unwrap();
    for (name, sql) in [
        (
            "severity",
            "SELECT id, body FROM alerts LEFT JOIN alert_bodies USING (seq) WHERE severity >= 3 ORDER BY time DESC, id DESC LIMIT 100",
        ),
        (
            "entity",
            "SELECT id, body FROM alerts LEFT JOIN alert_bodies USING (seq) WHERE entity = 'x' ORDER BY time DESC, id DESC LIMIT 100",
        ),
        (
            "cursor",
            "SELECT id, body FROM alerts LEFT JOIN alert_bodies USING (seq) WHERE (time, id) < (1, 'x') ORDER BY time DESC, id DESC LIMIT 100",
        ),
        (
            "score cursor",
            "SELECT id, body FROM alerts LEFT JOIN alert_bodies USING (seq) WHERE severity >= 4 AND (score, time, id) < (90, 1, 'x') ORDER BY score DESC, time DESC, id DESC LIMIT 100",
        ),
    ] {
        let mut st = raw.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        println!("plan {name}: {}", plan.join(" | "));
    }
}
