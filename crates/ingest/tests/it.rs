//! Integration tests for ward-ingest: every format on fixtures written here, every bad-input
//! case, and properties.

#[path = "it/csv.rs"]
mod csv;
#[path = "it/errors.rs"]
mod errors;
#[path = "it/json.rs"]
mod json;
#[path = "it/kdd.rs"]
mod kdd;
#[path = "it/pcap.rs"]
mod pcap;
#[path = "it/props.rs"]
mod props;
#[path = "it/throughput.rs"]
mod throughput;
#[path = "it/unsw.rs"]
mod unsw;
#[path = "it/zeek.rs"]
mod zeek;

use std::io::Write;
use ward_core::{Flow, FlowSchema};
use ward_ingest::{Format, IngestError, IngestStats, ReadOptions, Record, from_reader};

/// Everything a reader produced.
#[allow(missing_debug_implementations)]
pub struct Run {
    pub items: Vec<Result<Record, IngestError>>,
    pub stats: IngestStats,
    pub schema: FlowSchema,
    pub format: Format,
}

impl Run {
    pub fn flows(&self) -> Vec<Flow> {
        self.items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|r| r.flow.clone())
            .collect()
    }
    pub fn lines(&self) -> Vec<u64> {
        self.items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|r| r.id.line)
            .collect()
    }
    /// Error texts, in order.
    pub fn errors(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .map(|e| e.to_string())
            .collect()
    }
    /// The flows, asserting that nothing went wrong.
    pub fn ok(&self) -> Vec<Flow> {
        assert_eq!(self.errors(), Vec::<String>::new());
        self.flows()
    }
}

pub fn opts(format: Option<Format>) -> ReadOptions {
    ReadOptions {
        format,
        ..ReadOptions::default()
    }
}

/// Reads `data` named `name` to the end (or the first fatal error).
pub fn run_with(name: &str, data: &[u8], o: &ReadOptions) -> Result<Run, IngestError> {
    let mut r = from_reader(name, Box::new(std::io::Cursor::new(data.to_vec())), o)?;
    let items: Vec<_> = (&mut r).collect();
    Ok(Run {
        items,
        stats: r.stats().clone(),
        schema: r.schema().clone(),
        format: r.format(),
    })
}

pub fn run(format: Option<Format>, data: &[u8]) -> Run {
    match run_with("test", data, &opts(format)) {
        Ok(r) => r,
        Err(e) => panic!("open failed: {e}"),
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}
