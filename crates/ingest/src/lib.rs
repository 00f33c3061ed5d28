//! Network-flow readers: Zeek `conn.log` (TSV and JSON), Suricata EVE, NSL-KDD, UNSW-NB15, any
//! flow CSV through a [`CsvMapping`], and pcap/pcapng captures assembled into flows.
//!
//! Every reader turns its input into [`ward_core::Flow`]s, streaming in constant memory:
//!
//! ```no_run
//! use ward_ingest::{open, ReadOptions};
//! let mut reader = open("conn.log.gz".as_ref(), &ReadOptions::default())?;
//! println!("{} with extras {:?}", reader.format(), reader.schema().extra);
//! for item in &mut reader {
//!     match item {
//!         Ok(rec) => println!("{}:{} {:?}", rec.id.source, rec.id.line, rec.flow.dst),
//!         Err(e) if e.is_fatal() => return Err(e),
//!         Err(e) => eprintln!("skipping: {e}"), // a bad record, already counted
//!     }
//! }
//! println!("{} records, {} bad", reader.stats().records, reader.stats().bad);
//! # Ok::<(), ward_ingest::IngestError>(())
//! ```
//!
//! Error semantics: a record that cannot be parsed is yielded as [`IngestError::Record`] (file,
//! line, and a reason naming the field, never the raw line) and counted in [`IngestStats`];
//! iteration continues. A fatal error (IO failure, truncated gzip or capture, unusable header) is
//! yielded once, then the iterator ends.

mod csvmap;
mod error;
mod fields;
mod format;
mod input;
mod json;
mod kdd;
mod line;
mod pcap;
mod source;
mod unsw;
mod zeek;

pub use csvmap::{Column, CsvMapping, DurationUnit};
pub use error::{IngestError, IngestStats, MAX_KEPT_ERRORS, RecordError};
pub use format::{Format, ParseFormatError};
pub use input::MAX_LINE_BYTES;
pub use line::{DecodeError, Decoded, LineDecoder, detect_json_line};
pub use pcap::{PcapOptions, service_for_port};

/// Names of the [`ward_core::Flow::extra`] features per format, for formats whose names are fixed.
pub mod extras {
    pub use crate::json::EVE_EXTRA as EVE;
    pub use crate::kdd::{
        FEATURES as KDD_FEATURES, category as kdd_category, extra_names as nsl_kdd,
    };
    pub use crate::pcap::EXTRA as PCAP;
    pub use crate::unsw::{
        PARTITION_COLUMNS as UNSW_PARTITION_COLUMNS, RAW_COLUMNS as UNSW_RAW_COLUMNS,
    };
    pub use crate::zeek::{DEFAULT_FIELDS as ZEEK_DEFAULT_FIELDS, EXTRA as ZEEK};
}

use input::{LineReader, PEEK_BYTES};
use source::{Item, LineParser, LineSource, Source};
use std::fmt;
use std::path::Path;
use ward_core::{EventId, Flow, FlowSchema};

/// How to read an input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// The input format; `None` recognises it from the content and file name.
    pub format: Option<Format>,
    /// Column mapping for [`Format::Csv`] (required for it).
    pub csv_mapping: Option<CsvMapping>,
    /// Flow assembly settings for [`Format::Pcap`].
    pub pcap: PcapOptions,
}

/// One parsed flow and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Source name and 1-based line (for pcap: the number of the flow's first packet).
    pub id: EventId,
    pub flow: Flow,
}

/// A stream of flows from one input. Iterate it; check [`FlowReader::stats`] afterwards.
pub struct FlowReader {
    input: String,
    format: Format,
    schema: FlowSchema,
    stats: IngestStats,
    source: Box<dyn Source>,
    done: bool,
}

impl fmt::Debug for FlowReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowReader")
            .field("input", &self.input)
            .field("format", &self.format)
            .field("schema", &self.schema)
            .field("stats", &self.stats)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl FlowReader {
    /// The format being read and the names of the `extra` features its flows carry.
    pub fn schema(&self) -> &FlowSchema {
        &self.schema
    }
    /// The format being read (given or recognised).
    pub fn format(&self) -> Format {
        self.format
    }
    /// Counts so far.
    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }
    /// The source name used in record ids and errors.
    pub fn source_name(&self) -> &str {
        &self.input
    }
}

impl Iterator for FlowReader {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.source.next_item() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Item::Flow { line, flow }) => {
                    self.stats.records += 1;
                    return Some(Ok(Record {
                        id: EventId {
                            source: self.input.clone(),
                            line,
                        },
                        flow,
                    }));
                }
                Some(Item::Skipped) => self.stats.skipped += 1,
                Some(Item::Bad { line, reason }) => {
                    let e = RecordError {
                        source: self.input.clone(),
                        line,
                        reason,
                    };
                    self.stats.push_error(&e);
                    return Some(Err(IngestError::Record(e)));
                }
                Some(Item::Fatal(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl std::iter::FusedIterator for FlowReader {}

/// Opens a file (`-` for standard input). Gzip-compressed input is read transparently.
pub fn open(path: &Path, opts: &ReadOptions) -> Result<FlowReader, IngestError> {
    if path.as_os_str() == "-" {
        return from_reader("stdin", Box::new(std::io::stdin()), opts);
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|err| IngestError::Open {
        input: name.clone(),
        err,
    })?;
    from_reader(&name, Box::new(file), opts)
}

/// Reads from any byte stream; `source_name` names it in record ids and errors, and its
/// extension helps recognise the format (`x.pcap`).
pub fn from_reader(
    source_name: &str,
    r: Box<dyn std::io::Read + Send>,
    opts: &ReadOptions,
) -> Result<FlowReader, IngestError> {
    let input = source_name.to_string();
    opts.pcap
        .validate()
        .map_err(|reason| IngestError::Options { reason })?;
    if opts.format == Some(Format::Csv) && opts.csv_mapping.is_none() {
        return Err(IngestError::Options {
            reason: "the csv format needs a column mapping".into(),
        });
    }
    let prepared = input::prepare(r).map_err(|(err, gzip)| {
        if gzip {
            IngestError::Gzip {
                input: input.clone(),
                line: 0,
                err,
            }
        } else {
            IngestError::Io {
                input: input.clone(),
                line: 0,
                err,
            }
        }
    })?;
    let format = match opts.format {
        Some(f) => f,
        None => {
            if prepared.prefix.is_empty() {
                return Err(IngestError::Empty { input });
            }
            format::detect(&prepared.prefix, source_name, opts.csv_mapping.is_some()).ok_or_else(
                || IngestError::UnknownFormat {
                    input: input.clone(),
                    known: Format::known_names(),
                },
            )?
        }
    };
    let gzip = prepared.gzip;
    let header_err = |reason: String| IngestError::Header {
        input: input.clone(),
        line: 1,
        reason,
    };
    let first_line = || -> Result<Option<Vec<u8>>, IngestError> {
        let p = &prepared.prefix;
        let line = match memchr::memchr(b'\n', p) {
            Some(i) => p.get(..i).unwrap_or_default(),
            None if p.len() >= PEEK_BYTES => {
                return Err(header_err(format!(
                    "first line is longer than {PEEK_BYTES} bytes"
                )));
            }
            None => p.as_slice(),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok((!line.trim_ascii().is_empty()).then(|| line.to_vec()))
    };
    let (source, extra): (Box<dyn Source>, Vec<String>) = match format {
        Format::Zeek => (
            lines(&input, prepared, zeek::ZeekTsv::new()),
            names(&zeek::EXTRA),
        ),
        Format::ZeekJson => (lines(&input, prepared, json::ZeekJson), names(&zeek::EXTRA)),
        Format::Eve => (lines(&input, prepared, json::Eve), names(&json::EVE_EXTRA)),
        Format::NslKdd => (lines(&input, prepared, kdd::NslKdd), kdd::extra_names()),
        Format::Unsw => {
            let p = unsw::Unsw::new(first_line()?.as_deref()).map_err(header_err)?;
            let extra = p.extra_names();
            (lines(&input, prepared, p), extra)
        }
        Format::Csv => {
            let mapping = opts
                .csv_mapping
                .as_ref()
                .ok_or_else(|| IngestError::Options {
                    reason: "the csv format needs a column mapping".into(),
                })?;
            let first = first_line()?;
            let p = match csvmap::CsvFlows::new(mapping, first.as_deref()) {
                Ok(p) => p,
                // An empty input has no header to resolve names against: it yields nothing.
                Err(_) if first.is_none() && prepared.prefix.trim_ascii().is_empty() => {
                    csvmap::CsvFlows::new(
                        &CsvMapping {
                            has_header: false,
                            ..CsvMapping::default()
                        },
                        None,
                    )
                    .map_err(header_err)?
                }
                Err(reason) => return Err(header_err(reason)),
            };
            let extra = if first.is_none() {
                mapping_extra_names(mapping)
            } else {
                p.extra_names()
            };
            (lines(&input, prepared, p), extra)
        }
        Format::Pcap => {
            let magic = format::is_pcap_magic(&prepared.prefix);
            let r = prepared.into_reader();
            (
                Box::new(pcap::PcapSource::new(
                    input.clone(),
                    r,
                    gzip,
                    magic,
                    &opts.pcap,
                )?),
                names(&pcap::EXTRA),
            )
        }
    };
    Ok(FlowReader {
        schema: FlowSchema {
            format: format.name().to_string(),
            extra,
        },
        input,
        format,
        stats: IngestStats::default(),
        source,
        done: false,
    })
}

fn mapping_extra_names(m: &CsvMapping) -> Vec<String> {
    m.extra
        .iter()
        .map(|c| match c {
            Column::Name(n) => n.clone(),
            Column::Index(i) => format!("column {i}"),
        })
        .collect()
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn lines<P: LineParser + 'static>(input: &str, p: input::Prepared, parser: P) -> Box<dyn Source> {
    let gzip = p.gzip;
    Box::new(LineSource::new(
        input.to_string(),
        LineReader::new(p.into_reader()),
        parser,
        gzip,
    ))
}
