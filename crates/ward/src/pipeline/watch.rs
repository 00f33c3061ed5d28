//! Watched folders: every second, read the new complete lines of the event files in each folder
//! and queue them.
//!
//! Rules:
//! - Files picked up (not recursive, hidden files skipped): `*.json`, `*.ndjson`, `*.jsonl`
//!   (JSON event lines, Zeek `conn` JSON or Suricata EVE recognised per line) and `*.log`
//!   (Zeek `conn.log`: tab-separated when its first line is a `#` header, else JSON lines).
//!   Compressed files (`.gz`) and anything else are ignored: rotate-and-compress tools work on
//!   files already read.
//! - Only complete lines (ending in a newline) are read; a partial last line waits for the
//!   next poll.
//! - Files are followed by identity (device and inode, plus a fingerprint of their first
//!   bytes), so a rotated file (renamed `conn.log`) keeps its offset and the new `conn.log`
//!   starts at 0. A file that shrank, or whose first bytes changed, is read again from 0.
//! - Offsets survive restarts in a small JSON state file next to the store
//!   (`<store>.watch.json`), written after each poll that read something and at shutdown.
//!   After a crash (not a graceful stop) events queued but not yet scored are not read again.

use super::Pipeline;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use ward_ingest::{DecodeError, Format, LineDecoder, MAX_LINE_BYTES};

/// Poll interval.
pub const POLL: Duration = Duration::from_secs(1);
/// Most bytes read from one file per poll.
const CHUNK: u64 = 8 << 20;
/// Bytes fingerprinted at the start of a file.
const FINGERPRINT: usize = 256;

/// What is remembered of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileState {
    path: PathBuf,
    /// Device and inode (0 where the platform has none).
    dev: u64,
    ino: u64,
    /// Bytes read and queued.
    offset: u64,
    /// FNV-1a of the first `fp_len` bytes.
    fp: u64,
    fp_len: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    files: Vec<FileState>,
}

/// A tailed file in memory.
struct Tail {
    state: FileState,
    /// Zeek TSV decoder with the file's header state; `None` for JSON lines.
    decoder: Option<LineDecoder>,
    /// Skipping the rest of an over-long line.
    skipping: bool,
    /// Refused (e.g. a Zeek log of another kind); not read again until it changes identity.
    refused: bool,
}

/// Which files are read, and how: `None` to ignore the file.
fn kind(name: &str) -> Option<bool> {
    if name.starts_with('.') {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if [".json", ".ndjson", ".jsonl"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        Some(false)
    } else if lower.ends_with(".log") {
        Some(true)
    } else {
        None
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

fn read_prefix(f: &mut File, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    f.seek(SeekFrom::Start(0))?;
    f.by_ref().take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The folder watcher.
struct Watcher {
    dirs: Vec<PathBuf>,
    state_path: PathBuf,
    tails: HashMap<(u64, u64, PathBuf), Tail>,
    pipeline: Arc<Pipeline>,
    saved: Vec<FileState>,
}

impl Watcher {
    fn key(st: &FileState) -> (u64, u64, PathBuf) {
        // with an inode, the path is not part of the identity (rotation renames)
        if st.ino != 0 {
            (st.dev, st.ino, PathBuf::new())
        } else {
            (0, 0, st.path.clone())
        }
    }

    fn load(&mut self) {
        let Ok(text) = std::fs::read_to_string(&self.state_path) else {
            return;
        };
        match serde_json::from_str::<StateFile>(&text) {
            Ok(s) => self.saved = s.files,
            Err(e) => tracing::warn!(error = %e, "watch state file unreadable; starting from 0"),
        }
    }

    fn save(&self) {
        let mut files: Vec<FileState> = self.tails.values().map(|t| t.state.clone()).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let body = match serde_json::to_vec_pretty(&StateFile { version: 1, files }) {
            Ok(b) => b,
            Err(_) => return,
        };
        let tmp = self.state_path.with_extension("json.tmp");
        let ok = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, &self.state_path));
        if let Err(e) = ok {
            tracing::warn!(error = %e, "cannot write the watch state file");
        }
    }

    /// One poll of every folder; returns whether anything was read. `Err` once the pipeline is
    /// closed.
    fn poll(&mut self) -> Result<bool, ()> {
        let mut seen = Vec::new();
        let mut read_any = false;
        for dir in self.dirs.clone() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<(PathBuf, bool)> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| {
                    let name = e.file_name();
                    kind(&name.to_string_lossy()).map(|tsv| (e.path(), tsv))
                })
                .collect();
            paths.sort();
            for (path, maybe_tsv) in paths {
                // a backlog is read in chunks, up to 32 of them (256 MiB) per file and poll
                for _ in 0..32 {
                    match self.poll_file(&path, maybe_tsv) {
                        Ok(Some((key, n))) => {
                            read_any |= n > 0;
                            let more = n >= CHUNK / 2;
                            if !seen.contains(&key) {
                                seen.push(key);
                            }
                            if !more {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(()) => return Err(()),
                    }
                }
            }
        }
        // forget files that are gone
        self.tails.retain(|k, _| seen.contains(k));
        Ok(read_any)
    }

    /// Reads the new complete lines of one file; returns its key and the bytes consumed.
    #[allow(clippy::type_complexity)]
    fn poll_file(
        &mut self,
        path: &Path,
        maybe_tsv: bool,
    ) -> Result<Option<((u64, u64, PathBuf), u64)>, ()> {
        let Ok(mut file) = File::open(path) else {
            return Ok(None);
        };
        let Ok(meta) = file.metadata() else {
            return Ok(None);
        };
        let (dev, ino) = identity(&meta);
        let len = meta.len();
        let prefix = read_prefix(&mut file, FINGERPRINT).unwrap_or_default();
        let fresh = FileState {
            path: path.to_path_buf(),
            dev,
            ino,
            offset: 0,
            fp: fnv(&prefix),
            fp_len: prefix.len() as u64,
        };
        let key = Self::key(&fresh);
        let same_start = |st: &FileState| {
            let n = usize::try_from(st.fp_len).unwrap_or(usize::MAX);
            prefix.len() >= n && fnv(prefix.get(..n).unwrap_or_default()) == st.fp
        };
        if let Some(t) = self.tails.get(&key)
            && (len < t.state.offset || !same_start(&t.state))
        {
            tracing::info!(file = %path.display(), "watched file truncated or replaced; reading from the start");
            self.tails.remove(&key);
        }
        if !self.tails.contains_key(&key) {
            // a file remembered from the last run continues where it was
            let restored = self
                .saved
                .iter()
                .position(|s| Self::key(s) == key && s.offset <= len && same_start(s))
                .map(|i| self.saved.swap_remove(i));
            let mut state = restored.unwrap_or(fresh.clone());
            state.path = path.to_path_buf();
            let first_line = prefix.split(|b| *b == b'\n').next().unwrap_or_default();
            let tsv = maybe_tsv && first_line.first() == Some(&b'#');
            let mut tail = Tail {
                state,
                decoder: None,
                skipping: false,
                refused: false,
            };
            if tsv {
                // the header lines at the top of the file set the decoder's columns
                let mut d = LineDecoder::new(Format::Zeek).ok_or(())?;
                let head = read_prefix(&mut file, 64 * 1024).unwrap_or_default();
                for line in head
                    .split(|b| *b == b'\n')
                    .take_while(|l| l.first() == Some(&b'#'))
                {
                    if let Err(DecodeError::Fatal(m)) = d.decode(line) {
                        tracing::warn!(file = %path.display(), reason = %m, "watched file refused");
                        tail.refused = true;
                        break;
                    }
                }
                tail.decoder = Some(d);
            }
            self.tails.insert(key.clone(), tail);
        }
        let Some(tail) = self.tails.get_mut(&key) else {
            return Ok(None);
        };
        tail.state.fp = fresh.fp;
        tail.state.fp_len = fresh.fp_len;
        tail.state.path = path.to_path_buf();
        if tail.refused || len <= tail.state.offset {
            return Ok(Some((key, 0)));
        }
        let want = (len - tail.state.offset).min(CHUNK);
        let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        let read = file
            .seek(SeekFrom::Start(tail.state.offset))
            .and_then(|_| file.by_ref().take(want).read_to_end(&mut buf));
        if let Err(e) = read {
            tracing::warn!(file = %path.display(), error = %e, "cannot read watched file");
            return Ok(Some((key, 0)));
        }
        let mut start = 0usize;
        if tail.skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    tail.skipping = false;
                    start = i + 1;
                }
                None => {
                    tail.state.offset += buf.len() as u64;
                    return Ok(Some((key, buf.len() as u64)));
                }
            }
        }
        let body = buf.get(start..).unwrap_or_default();
        let end = match memchr::memrchr(b'\n', body) {
            Some(i) => i + 1,
            None if body.len() > MAX_LINE_BYTES => {
                self.pipeline.count_rejected(1);
                tracing::info!(file = %path.display(), "line longer than {MAX_LINE_BYTES} bytes skipped");
                tail.skipping = true;
                tail.state.offset += buf.len() as u64;
                return Ok(Some((key, buf.len() as u64)));
            }
            None => {
                tail.state.offset += start as u64;
                return Ok(Some((key, start as u64)));
            }
        };
        let complete = body.get(..end.saturating_sub(1)).unwrap_or_default();
        let lines: Vec<&[u8]> = complete.split(|b| *b == b'\n').collect();
        let source = path
            .file_name()
            .map_or_else(|| "watch".to_owned(), |n| n.to_string_lossy().into_owned());
        match self
            .pipeline
            .submit_lines_blocking(&source, &lines, tail.decoder.as_mut())
        {
            Ok(_) => {
                let consumed = (start + end) as u64;
                tail.state.offset += consumed;
                Ok(Some((key, consumed)))
            }
            Err(_) => Err(()),
        }
    }
}

/// A running folder watcher.
#[derive(Debug)]
pub struct WatchHandle {
    handle: JoinHandle<()>,
}

impl WatchHandle {
    /// Waits for the watcher to finish its last poll after `stop` is set.
    pub fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the folder watcher panicked");
        }
    }
}

/// Starts polling `dirs` every second until `stop` is set; offsets are kept in `state_path`.
pub fn start(
    dirs: Vec<PathBuf>,
    state_path: PathBuf,
    pipeline: Arc<Pipeline>,
    stop: Arc<AtomicBool>,
) -> Result<WatchHandle> {
    for d in &dirs {
        if !d.is_dir() {
            anyhow::bail!("--watch {}: not a folder", d.display());
        }
    }
    let mut w = Watcher {
        dirs,
        state_path,
        tails: HashMap::new(),
        pipeline,
        saved: Vec::new(),
    };
    w.load();
    let handle = std::thread::Builder::new()
        .name("ward-watch".into())
        .spawn(move || {
            loop {
                let stopping = stop.load(Ordering::SeqCst);
                match w.poll() {
                    Ok(true) => w.save(),
                    Ok(false) => {}
                    Err(()) => break,
                }
                if stopping {
                    break;
                }
                // sleep in small steps so a stop is seen quickly
                for _ in 0..10 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(POLL / 10);
                }
            }
            w.save();
        })
        .context("cannot start the folder watcher")?;
    Ok(WatchHandle { handle })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kinds() {
        let cases = [
            ("conn.log", Some(true)),
            ("eve.json", Some(false)),
            ("x.NDJSON", Some(false)),
            ("a.jsonl", Some(false)),
            ("conn.log.gz", None),
            (".conn.log.swp", None),
            (".hidden.json", None),
            ("notes.txt", None),
        ];
        for (name, want) in cases {
            assert_eq!(kind(name), want, "{name}");
        }
    }

    #[test]
    fn tails_appends_rotation_truncation_and_restarts() {
        use crate::pipeline::tests::{model_and_store, zeek_line};
        use crate::pipeline::{Pipeline, PipelineConfig};
        use ward_server::EventSink;
        let dir = std::env::temp_dir().join(format!("ward-watch-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let watched = dir.join("in");
        std::fs::create_dir_all(&watched).unwrap();
        let (model, db) = model_and_store(&dir);
        let p = Pipeline::start(model, &db, &PipelineConfig::default()).unwrap();
        let state = dir.join("w.watch.json");
        let watcher = |p: &Arc<Pipeline>| {
            let mut w = Watcher {
                dirs: vec![watched.clone()],
                state_path: state.clone(),
                tails: HashMap::new(),
                pipeline: Arc::clone(p),
                saved: Vec::new(),
            };
            w.load();
            w
        };
        let lines =
            |r: std::ops::Range<u32>| -> String { r.map(|i| zeek_line(i, false) + "\n").collect() };
        let accepted = |p: &Pipeline| p.stats().events_accepted;
        let conn = watched.join("conn.json");
        let mut w = watcher(&p);

        // three complete lines and half of a fourth; ignored files are not read
        let partial = zeek_line(3, false);
        let (head, tail) = partial.split_at(40);
        std::fs::write(&conn, lines(0..3) + head).unwrap();
        std::fs::write(watched.join("old.json.gz"), lines(0..5)).unwrap();
        std::fs::write(watched.join(".tmp.json"), lines(0..5)).unwrap();
        assert_eq!(w.poll(), Ok(true));
        assert_eq!(accepted(&p), 3);
        assert_eq!(w.poll(), Ok(false), "nothing new");
        // the fourth line completes
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&conn)
            .unwrap();
        std::io::Write::write_all(&mut f, format!("{tail}\n").as_bytes()).unwrap();
        drop(f);
        w.poll().unwrap();
        assert_eq!(accepted(&p), 4);
        // rotation: the old file keeps its offset, the new one starts at 0
        std::fs::rename(&conn, watched.join("conn.1.json")).unwrap();
        std::fs::write(&conn, lines(10..12)).unwrap();
        w.poll().unwrap();
        assert_eq!(accepted(&p), 6);
        // truncation: read again from the start
        std::fs::write(&conn, lines(20..21)).unwrap();
        w.poll().unwrap();
        assert_eq!(accepted(&p), 7);
        w.save();

        // a restart goes on where the last run stopped
        let mut w2 = watcher(&p);
        assert_eq!(w2.poll(), Ok(false));
        assert_eq!(accepted(&p), 7);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&conn)
            .unwrap();
        std::io::Write::write_all(&mut f, lines(21..23).as_bytes()).unwrap();
        drop(f);
        w2.poll().unwrap();
        assert_eq!(accepted(&p), 9);
        // a garbled state file is ignored (everything is read again), never a panic
        std::fs::write(&state, b"{not json").unwrap();
        let mut w3 = watcher(&p);
        w3.poll().unwrap();
        assert_eq!(accepted(&p), 9 + 4 + 3, "conn.1.json and conn.json from 0");

        assert_eq!(p.close().map(|s| s.events), Some(16));
        std::fs::write(watched.join("late.json"), lines(30..31)).unwrap();
        assert_eq!(w3.poll(), Err(()), "a closed pipeline stops the watcher");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
