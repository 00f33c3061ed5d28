//! The live pipeline of `ward serve`: sources (HTTP, watched folders, syslog) parse event lines
//! into flows and queue them; one detector thread scores them in batches with the loaded
//! [`NetModel`] (supervised, anomaly, device profiler, repeat folding) and writes alerts and the
//! device inventory to the store through its own SQLite connection.
//!
//! **Queue.** Bounded in events (not messages): a submission either queues all of its good
//! lines or none ([`SinkError::QueueFull`]), so a client told 202 knows every accepted line will
//! be scored. [`Pipeline::close`] stops new submissions and lets the detector thread drain what
//! is queued before it returns, so a graceful shutdown loses nothing that was accepted.

pub mod bench;
pub mod syslog;
pub mod watch;

use anyhow::{Context, Result};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use ward_core::{Alert, EventId, Flow, FlowSchema, Timestamp};
use ward_detect::net::{NetModel, Verdict};
use ward_ingest::{DecodeError, Decoded, Format, LineDecoder, Record, detect_json_line};
use ward_server::{
    EventSink, LineError, MAX_LISTED_ERRORS, PipelineStats, SinkError, SubmitReport,
};
use ward_store::{SqliteStore, Store};

/// Default queue capacity, in events.
pub const DEFAULT_QUEUE: usize = 65_536;
/// Most flows scored per batch.
pub const MAX_BATCH: usize = 4096;
/// How often the device inventory is written to the store while running.
const DEVICE_FLUSH: Duration = Duration::from_secs(10);

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Queue capacity, in events (at least 1).
    pub queue: usize,
    /// Repeat-folding window in seconds of event time (0 keeps every alert).
    pub dedup_secs: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            queue: DEFAULT_QUEUE,
            dedup_secs: 300,
        }
    }
}

/// Counters shared by the sources and the detector thread.
#[derive(Debug, Default)]
struct Counters {
    running: AtomicBool,
    accepted: AtomicU64,
    rejected: AtomicU64,
    alerts: AtomicU64,
    /// Events queued and not yet scored.
    queued: AtomicU64,
    /// Wall-clock micros of the last accepted event; 0 = none yet.
    last_event: AtomicI64,
}

/// What the detector thread did, for the summary line.
#[derive(Debug, Default, Clone)]
pub struct PipelineSummary {
    pub events: u64,
    pub rejected: u64,
    pub alerts: u64,
    pub devices: usize,
    pub store_errors: u64,
}

/// The running pipeline: the queue's sending side, the counters and the detector thread.
pub struct Pipeline {
    tx: RwLock<Option<Sender<Vec<Record>>>>,
    counters: Arc<Counters>,
    capacity: u64,
    /// The formats of line accepted, with the schema each is checked as.
    model_schema: FlowSchema,
    /// [`Pipeline::check_format`] of Zeek JSON and EVE lines, worked out once.
    json_formats: [Result<(), String>; 2],
    worker: std::sync::Mutex<Option<std::thread::JoinHandle<PipelineSummary>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("capacity", &self.capacity)
            .field("model", &self.model_schema.format)
            .finish_non_exhaustive()
    }
}

/// Wall-clock now (the binary may read the clock).
pub(crate) fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// How the lines of one submission are read.
pub enum LineMode<'a> {
    /// JSON event lines; each line's format (Zeek `conn` JSON or Suricata EVE) is recognised
    /// on its own.
    Json,
    /// Lines of one stateful format (a tailed Zeek TSV `conn.log`).
    Decoder(&'a mut LineDecoder),
}

impl std::fmt::Debug for LineMode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Json => f.write_str("Json"),
            Self::Decoder(d) => write!(f, "Decoder({})", d.format()),
        }
    }
}

impl Pipeline {
    /// Starts the detector thread over `model`, writing to the store at `store_path` through a
    /// connection of its own.
    pub fn start(model: NetModel, store_path: &Path, cfg: &PipelineConfig) -> Result<Arc<Self>> {
        let store = SqliteStore::open(store_path)
            .with_context(|| format!("cannot open store {}", store_path.display()))?;
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Record>>();
        let counters = Arc::new(Counters::default());
        counters.running.store(true, Ordering::SeqCst);
        let model_schema = FlowSchema {
            format: model.spec.format.clone(),
            extra: model.spec.extra.clone(),
        };
        let c = Arc::clone(&counters);
        let dedup = cfg.dedup_secs;
        let worker = std::thread::Builder::new()
            .name("ward-detect".into())
            .spawn(move || detector_loop(Arc::new(model), store, rx, c, dedup))
            .context("cannot start the detector thread")?;
        let mut p = Self {
            tx: RwLock::new(Some(tx)),
            counters,
            capacity: cfg.queue.max(1) as u64,
            model_schema,
            json_formats: [Ok(()), Ok(())],
            worker: std::sync::Mutex::new(Some(worker)),
        };
        p.json_formats = [
            p.check_format(Format::ZeekJson),
            p.check_format(Format::Eve),
        ];
        Ok(Arc::new(p))
    }

    /// Whether lines of `format` can be scored by the model; the reason when not. Zeek JSON
    /// lines are accepted by a model trained on Zeek TSV and the other way round: both readers
    /// fill the same flow fields and extras.
    pub fn check_format(&self, format: Format) -> Result<(), String> {
        let Some(dec) = LineDecoder::new(format) else {
            return Err(format!(
                "{format} records cannot be read one line at a time"
            ));
        };
        let mut schema = dec.schema();
        let zeek = |f: &str| f == Format::Zeek.name() || f == Format::ZeekJson.name();
        if zeek(&schema.format) && zeek(&self.model_schema.format) {
            schema.format.clone_from(&self.model_schema.format);
        }
        if schema == self.model_schema {
            Ok(())
        } else {
            Err(format!(
                "the event is {} but the model was trained on {} records",
                format, self.model_schema.format
            ))
        }
    }

    /// Parses `lines` (numbered from 1) and queues the flows, all or none. `source` names the
    /// source in the alerts' evidence. Rejected lines are counted; their reasons are listed
    /// in the report (at most [`MAX_LISTED_ERRORS`]) and never carry the line's content.
    pub fn submit_lines<'l>(
        &self,
        source: &str,
        lines: impl IntoIterator<Item = &'l [u8]>,
        mut mode: LineMode<'_>,
    ) -> Result<SubmitReport, SinkError> {
        if self.tx.read().map(|t| t.is_none()).unwrap_or(true) {
            return Err(SinkError::Closed);
        }
        let mut report = SubmitReport::default();
        let mut records = Vec::new();
        let mut json: [Option<LineDecoder>; 2] = [None, None];
        let reject = |report: &mut SubmitReport, line: u64, message: String| {
            report.rejected += 1;
            if report.errors.len() < MAX_LISTED_ERRORS {
                report.errors.push(LineError { line, message });
            }
        };
        for (i, line) in lines.into_iter().enumerate() {
            let n = i as u64 + 1;
            let decoded = match &mut mode {
                LineMode::Decoder(d) => d.decode(line),
                LineMode::Json => {
                    if line.trim_ascii().is_empty() {
                        continue;
                    }
                    let Some(format) = detect_json_line(line) else {
                        reject(
                            &mut report,
                            n,
                            "not a Zeek conn JSON or Suricata EVE event (no id.orig_h or event_type member)".into(),
                        );
                        continue;
                    };
                    let slot = usize::from(format == Format::Eve);
                    if let Some(Err(m)) = self.json_formats.get(slot) {
                        reject(&mut report, n, m.clone());
                        continue;
                    }
                    match json.get_mut(slot) {
                        Some(Some(d)) => d.decode(line),
                        Some(s @ None) => match LineDecoder::new(format) {
                            Some(d) => s.insert(d).decode(line),
                            None => continue,
                        },
                        None => continue,
                    }
                }
            };
            match decoded {
                Ok(Decoded::Flow(flow)) => records.push(Record {
                    id: EventId {
                        source: source.to_owned(),
                        line: n,
                    },
                    flow,
                }),
                Ok(Decoded::Meta | Decoded::Skipped) => {}
                Err(DecodeError::Bad(m) | DecodeError::Fatal(m)) => {
                    reject(&mut report, n, redact(&m));
                }
            }
        }
        report.accepted = records.len() as u64;
        self.enqueue(records)?;
        // counted once the submission is taken: a refused one is retried and counted then
        self.counters
            .rejected
            .fetch_add(report.rejected, Ordering::Relaxed);
        if !report.errors.is_empty() {
            tracing::info!(
                source,
                rejected = report.rejected,
                first = %report.errors.first().map_or("", |e| e.message.as_str()),
                "event lines rejected"
            );
        }
        Ok(report)
    }

    /// Queues records, all or none.
    fn enqueue(&self, records: Vec<Record>) -> Result<(), SinkError> {
        let n = records.len() as u64;
        if n == 0 {
            return Ok(());
        }
        let guard = self.tx.read().map_err(|_| SinkError::Closed)?;
        let tx = guard.as_ref().ok_or(SinkError::Closed)?;
        let before = self.counters.queued.fetch_add(n, Ordering::SeqCst);
        if before + n > self.capacity && before > 0 {
            self.counters.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(SinkError::QueueFull);
        }
        if tx.send(records).is_err() {
            self.counters.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(SinkError::Closed);
        }
        self.counters.accepted.fetch_add(n, Ordering::Relaxed);
        self.counters.last_event.store(now().0, Ordering::Relaxed);
        Ok(())
    }

    /// Like [`Pipeline::submit_lines`], but waits while the queue is full (back-pressure for
    /// files and syslog streams); fails only once the pipeline is closed.
    pub fn submit_lines_blocking(
        &self,
        source: &str,
        lines: &[&[u8]],
        mut decoder: Option<&mut LineDecoder>,
    ) -> Result<SubmitReport, SinkError> {
        loop {
            let mode = match decoder.as_deref_mut() {
                Some(d) => LineMode::Decoder(d),
                None => LineMode::Json,
            };
            match self.submit_lines(source, lines.iter().copied(), mode) {
                Err(SinkError::QueueFull) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// Counts input rejected before it reached a line parser (a bad syslog header, a frame
    /// too long).
    pub fn count_rejected(&self, n: u64) {
        self.counters.rejected.fetch_add(n, Ordering::Relaxed);
    }

    /// Stops accepting, waits for the detector thread to score everything queued and write
    /// it to the store, and returns what it did. Calling it again returns `None`.
    pub fn close(&self) -> Option<PipelineSummary> {
        if let Ok(mut tx) = self.tx.write() {
            tx.take();
        }
        let handle = self.worker.lock().ok()?.take()?;
        let summary = match handle.join() {
            Ok(s) => s,
            Err(_) => {
                tracing::error!("the detector thread panicked");
                PipelineSummary::default()
            }
        };
        self.counters.running.store(false, Ordering::SeqCst);
        Some(PipelineSummary {
            rejected: self.counters.rejected.load(Ordering::Relaxed),
            ..summary
        })
    }
}

impl EventSink for Pipeline {
    fn submit(&self, body: &[u8]) -> Result<SubmitReport, SinkError> {
        // blank lines (the final newline's empty tail included) are skipped
        let lines = body.split(|b| *b == b'\n');
        self.submit_lines("api", lines, LineMode::Json)
    }

    fn stats(&self) -> PipelineStats {
        let c = &self.counters;
        let last = c.last_event.load(Ordering::Relaxed);
        PipelineStats {
            running: c.running.load(Ordering::SeqCst),
            events_accepted: c.accepted.load(Ordering::Relaxed),
            events_rejected: c.rejected.load(Ordering::Relaxed),
            alerts_raised: c.alerts.load(Ordering::Relaxed),
            queue: c.queued.load(Ordering::SeqCst),
            last_event: (last != 0).then_some(Timestamp(last)),
        }
    }
}

/// An alert on its way to the store: built already (device alerts) or still to be explained
/// (the costly part of a model alert, done by the writer thread).
enum Pending {
    Ready(Alert),
    Explain {
        rec: Record,
        verdict: Verdict,
        ctx: Vec<f32>,
    },
}

/// One batch's work for the writer thread.
struct Work {
    alerts: Vec<Pending>,
    /// Events of the batch: the queue counter drops by this once its alerts are stored.
    events: u64,
    /// The device inventory to write, when due.
    devices: Option<Vec<ward_store::DeviceRecord>>,
}

/// Scores batches; the per-batch logic of `ward detect net` without files.
struct Detector<'m> {
    model: &'m NetModel,
    scorer: ward_detect::net::Scorer<'m>,
    profiler: Option<ward_detect::device::DeviceProfiler>,
    dedup: ward_detect::dedup::Deduper,
    verdicts: Vec<Verdict>,
}

impl<'m> Detector<'m> {
    fn new(model: &'m NetModel, dedup_secs: u64) -> Self {
        Self {
            model,
            scorer: model.scorer(),
            profiler: model.devices.as_ref().and_then(|d| d.profiler()),
            dedup: ward_detect::dedup::Deduper::new(dedup_secs, 100_000),
            verdicts: Vec::new(),
        }
    }

    /// Scores `batch`, appending the alerts that pass repeat folding to `out`. Repeats are
    /// folded before the explanation is computed: the tree explanation costs more than
    /// scoring, and most flows of a scan or flood are repeats.
    fn score(&mut self, batch: Vec<Record>, out: &mut Vec<Pending>) {
        let refs: Vec<&Flow> = batch.iter().map(|r| &r.flow).collect();
        self.scorer.score_batch(&refs, &mut self.verdicts);
        drop(refs);
        for (i, (rec, v)) in batch.into_iter().zip(self.verdicts.iter()).enumerate() {
            let windowed = rec.flow.ts.is_some();
            let mut devices = match self.profiler.as_mut() {
                Some(p) => p.observe(&rec.flow, &rec.id),
                None => Vec::new(),
            };
            if let Some(brief) = self.model.alert_brief(&rec.flow, &rec.id, v)
                && (!windowed || self.dedup.admit(&brief))
            {
                out.push(Pending::Explain {
                    rec,
                    verdict: *v,
                    ctx: self.scorer.context_row(i).to_vec(),
                });
            }
            devices.retain(|a| !windowed || self.dedup.admit(a));
            out.extend(devices.into_iter().map(Pending::Ready));
        }
    }

    /// The device inventory in the store's shape.
    fn devices(&self) -> Vec<ward_store::DeviceRecord> {
        let Some(p) = self.profiler.as_ref() else {
            return Vec::new();
        };
        p.devices()
            .into_iter()
            .filter_map(|d| {
                serde_json::to_value(d)
                    .and_then(serde_json::from_value)
                    .map_err(|e| tracing::error!(error = %e, "device record shapes differ"))
                    .ok()
            })
            .collect()
    }
}

/// Writes `alerts`, retrying a busy database a few times; returns false when it gave up.
fn store_alerts(store: &mut SqliteStore, alerts: &[Alert]) -> bool {
    for attempt in 0..5 {
        match store.insert_alerts(alerts) {
            Ok(_) => return true,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "cannot store alerts, retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    tracing::error!(count = alerts.len(), "alerts not stored");
    false
}

/// The writer thread: explains the model alerts, writes alerts and devices, and only then
/// counts the batch's events as done.
fn writer_loop(
    model: &NetModel,
    mut store: SqliteStore,
    rx: Receiver<Work>,
    counters: &Counters,
) -> PipelineSummary {
    let mut summary = PipelineSummary::default();
    let mut alerts: Vec<Alert> = Vec::new();
    while let Ok(work) = rx.recv() {
        for p in work.alerts {
            match p {
                Pending::Ready(a) => alerts.push(a),
                Pending::Explain { rec, verdict, ctx } => {
                    alerts.extend(model.alert(&rec.flow, &rec.id, &verdict, &ctx));
                }
            }
        }
        if !alerts.is_empty() {
            if store_alerts(&mut store, &alerts) {
                summary.alerts += alerts.len() as u64;
                counters
                    .alerts
                    .fetch_add(alerts.len() as u64, Ordering::Relaxed);
            } else {
                summary.store_errors += 1;
            }
            alerts.clear();
        }
        if let Some(devices) = work.devices {
            summary.devices = devices.len();
            if let Err(e) = store.upsert_devices(&devices) {
                tracing::error!(error = %e, "cannot store the device inventory");
                summary.store_errors += 1;
            }
        }
        summary.events += work.events;
        counters.queued.fetch_sub(work.events, Ordering::SeqCst);
    }
    summary
}

/// The detector thread: batches what is queued (up to [`MAX_BATCH`] flows) and scores it; a
/// writer thread explains and stores the alerts, so scoring goes on while SQLite writes. Runs
/// until every sender is gone and the queue is empty, then waits for the writer.
fn detector_loop(
    model: Arc<NetModel>,
    store: SqliteStore,
    rx: Receiver<Vec<Record>>,
    counters: Arc<Counters>,
    dedup_secs: u64,
) -> PipelineSummary {
    let (wtx, wrx) = std::sync::mpsc::sync_channel::<Work>(4);
    let (wm, wc) = (Arc::clone(&model), Arc::clone(&counters));
    let writer = match std::thread::Builder::new()
        .name("ward-alerts".into())
        .spawn(move || writer_loop(&wm, store, wrx, &wc))
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the alert writer thread");
            return PipelineSummary::default();
        }
    };
    let mut det = Detector::new(&model, dedup_secs);
    let mut batch: Vec<Record> = Vec::with_capacity(MAX_BATCH);
    let mut last_devices = Instant::now();
    let mut devices_dirty = false;
    let mut open = true;
    let mut writer_gone = false;
    while open {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(first) => {
                batch.extend(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => open = false,
        }
        let events = batch.len() as u64;
        let mut alerts = Vec::new();
        if events > 0 {
            det.score(std::mem::take(&mut batch), &mut alerts);
            devices_dirty = true;
        }
        let devices = (devices_dirty && (last_devices.elapsed() >= DEVICE_FLUSH || !open))
            .then(|| {
                last_devices = Instant::now();
                devices_dirty = false;
                det.devices()
            })
            .filter(|d| !d.is_empty());
        if (events > 0 || devices.is_some())
            && !writer_gone
            && wtx
                .send(Work {
                    alerts,
                    events,
                    devices,
                })
                .is_err()
        {
            tracing::error!("the alert writer stopped; alerts are no longer stored");
            writer_gone = true;
        }
        if writer_gone {
            counters.queued.fetch_sub(events, Ordering::SeqCst);
        }
    }
    drop(wtx);
    match writer.join() {
        Ok(s) => s,
        Err(_) => {
            tracing::error!("the alert writer panicked");
            PipelineSummary::default()
        }
    }
}

/// A reader's reason without the values it quotes, so nothing of an event reaches a client or
/// the log: `field id.orig_h: invalid address "10.0.0.999"` becomes
/// `field id.orig_h: invalid address`. Words are kept up to the first one that is not plain
/// letters (numbers only as a line, column or field count).
pub(crate) fn redact(msg: &str) -> String {
    let (mut out, rest) = match msg.split_once(": ") {
        Some((head, rest)) if head.len() <= 80 && !head.contains('"') => {
            (format!("{head}: "), rest)
        }
        _ => (String::new(), msg),
    };
    let mut prev = "";
    for (words, w) in rest.split(' ').enumerate() {
        let core = w.trim_end_matches([',', ':']);
        let letters = !core.is_empty()
            && core
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_' || c == '.');
        let count = !core.is_empty()
            && core.chars().all(|c| c.is_ascii_digit())
            && matches!(prev, "line" | "column" | "expected" | "found");
        if !(letters || count) || words >= 16 {
            break;
        }
        if words > 0 {
            out.push(' ');
        }
        out.push_str(w);
        prev = core;
    }
    let trimmed = out.trim_end_matches([' ', ',', ':']).to_owned();
    if trimmed.is_empty() {
        "unreadable record".to_owned()
    } else {
        trimmed
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn zeek_line(i: u32, odd: bool) -> String {
        let (port, bytes) = if odd {
            (4444, 90_000_000)
        } else {
            (443, 500 + i % 300)
        };
        format!(
            r#"{{"ts":{}.5,"uid":"C{i}","id.orig_h":"10.0.{}.{}","id.orig_p":{},"id.resp_h":"10.1.0.5","id.resp_p":{port},"proto":"tcp","service":"ssl","duration":0.5,"orig_bytes":{bytes},"resp_bytes":4000,"conn_state":"SF","orig_pkts":8,"resp_pkts":9}}"#,
            1_714_953_600 + i,
            i % 4,
            1 + i % 50,
            40_000 + i % 1000
        )
    }

    /// A small anomaly-only model on Zeek flows, and a store file for it.
    pub(crate) fn model_and_store(dir: &Path) -> (NetModel, std::path::PathBuf) {
        let mut d = LineDecoder::new(Format::ZeekJson).unwrap();
        let flows: Vec<Flow> = (0..400)
            .filter_map(|i| match d.decode(zeek_line(i, false).as_bytes()) {
                Ok(Decoded::Flow(f)) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(flows.len(), 400);
        let schema = LineDecoder::new(Format::Zeek).unwrap().schema();
        let (model, _) = NetModel::train(
            &schema,
            &flows,
            &ward_detect::net::NetTrainConfig::default(),
        )
        .unwrap();
        let db = dir.join("p.db");
        SqliteStore::open(&db).unwrap();
        (model, db)
    }

    #[test]
    fn submissions_are_checked_counted_scored_and_drained() {
        let dir = std::env::temp_dir().join(format!("ward-pipeline-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (model, db) = model_and_store(&dir);
        let p = Pipeline::start(model, &db, &PipelineConfig::default()).unwrap();
        assert_eq!(p.check_format(Format::ZeekJson), Ok(()));
        assert_eq!(p.check_format(Format::Zeek), Ok(()));
        assert!(
            p.check_format(Format::Eve)
                .unwrap_err()
                .contains("trained on zeek")
        );
        assert!(p.check_format(Format::Pcap).is_err());

        let mut body = String::new();
        for i in 0..200 {
            body.push_str(&zeek_line(i, i % 50 == 0));
            body.push('\n');
        }
        let mut body = body.into_bytes();
        body.extend_from_slice(
            b"\n\xff\n{\"event_type\":\"flow\"}\n{\"id.orig_h\":\"Jane Doe\"}\n",
        );
        let r = p.submit(&body).unwrap();
        assert_eq!((r.accepted, r.rejected), (200, 3), "{r:?}");
        assert_eq!(
            r.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            [202, 203, 204]
        );
        assert!(
            r.errors.iter().all(|e| !e.message.contains("Jane")),
            "{r:?}"
        );
        let huge = vec![b'{'; 2 << 20];
        let r = p.submit(&huge).unwrap();
        assert_eq!((r.accepted, r.rejected), (0, 1));
        let s = p.stats();
        assert!(
            s.running && s.events_accepted == 200 && s.events_rejected == 4,
            "{s:?}"
        );

        let summary = p.close().unwrap();
        assert_eq!(summary.events, 200, "everything accepted was scored");
        assert!(p.close().is_none());
        assert_eq!(p.submit(b"{}"), Err(SinkError::Closed));
        let s = p.stats();
        assert!(!s.running && s.queue == 0, "{s:?}");
        let stored = SqliteStore::open(&db)
            .unwrap()
            .count_alerts(&ward_store::AlertQuery::new())
            .unwrap();
        assert_eq!(stored, summary.alerts);
        assert_eq!(s.alerts_raised, summary.alerts);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reasons_lose_their_values() {
        let cases = [
            (
                "field id.orig_h: invalid address \"10.0.0.999\"",
                "field id.orig_h: invalid address",
            ),
            (
                "field id.orig_p: invalid port 7000000",
                "field id.orig_p: invalid port",
            ),
            ("field duration: negative", "field duration: negative"),
            ("expected 21 fields, found 3", "expected 21 fields, found 3"),
            (
                "invalid json: expected value at line 1 column 1",
                "invalid json: expected value at line 1 column 1",
            ),
            (
                "invalid record: invalid type: string \"Jane Doe MRN 12\", expected u64 at line 1 column 9",
                "invalid record: invalid type: string",
            ),
            ("\"Jane\": x", "unreadable record"),
            ("", "unreadable record"),
            ("field ts: invalid time `123abc`", "field ts: invalid time"),
        ];
        for (msg, want) in cases {
            assert_eq!(redact(msg), want, "{msg}");
        }
    }
}
