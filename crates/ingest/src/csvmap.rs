//! Any flow CSV (CICFlowMeter exports, NetFlow dumps, home-grown tables), read through a
//! [`CsvMapping`] that says which column is which.
//!
//! Quoted fields (`"a,b"`, `""` for a quote) are understood within one line; a quoted field that
//! spans lines is not supported and reads as a bad record.

use crate::fields::{
    bad, csv_field, parse_duration, parse_epoch, parse_f64, parse_ip, parse_port, parse_proto,
    parse_u64, split_csv, trim, utf8,
};
use crate::source::{LineError, LineParser, Parsed};
use serde::{Deserialize, Serialize};
use ward_core::{Flow, FlowLabel};

/// A column reference: a header name (`"Src IP"`), or a 0-based index (`3`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

/// Unit of the duration column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    /// Seconds (default).
    #[default]
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds (CICFlowMeter's `Flow Duration`).
    Us,
}

/// Which CSV column feeds which [`Flow`] field. Every column is optional; unmapped fields stay
/// unset. In `ward.toml`:
///
/// ```toml
/// [ingest.csv]
/// src = "Src IP"
/// dst_port = "Dst Port"
/// duration = "Flow Duration"
/// duration_unit = "us"
/// label = "Label"
/// benign_values = ["BENIGN"]
/// extra = ["Fwd Packet Length Mean", "Flow IAT Std"]
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// Field delimiter, one ASCII character. Default `,`.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Whether the first line names the columns. Default `true`; when `false`, columns must be
    /// given by 0-based index.
    #[serde(default = "default_true")]
    pub has_header: bool,
    /// Flow start: Unix seconds (fractional allowed) or RFC 3339.
    #[serde(default)]
    pub ts: Option<Column>,
    /// Connection id.
    #[serde(default)]
    pub uid: Option<Column>,
    #[serde(default)]
    pub src: Option<Column>,
    #[serde(default)]
    pub src_port: Option<Column>,
    #[serde(default)]
    pub dst: Option<Column>,
    #[serde(default)]
    pub dst_port: Option<Column>,
    /// Protocol name or number (`tcp`, `6`).
    #[serde(default)]
    pub proto: Option<Column>,
    #[serde(default)]
    pub service: Option<Column>,
    #[serde(default)]
    pub state: Option<Column>,
    #[serde(default)]
    pub duration: Option<Column>,
    /// Unit of `duration`. Default seconds.
    #[serde(default)]
    pub duration_unit: DurationUnit,
    #[serde(default)]
    pub src_bytes: Option<Column>,
    #[serde(default)]
    pub dst_bytes: Option<Column>,
    #[serde(default)]
    pub src_pkts: Option<Column>,
    #[serde(default)]
    pub dst_pkts: Option<Column>,
    /// Ground-truth column. How it reads: with `attack_values` set, a record is an attack iff its
    /// label is one of them; otherwise it is an attack iff its label is not in `benign_values`
    /// (both compared trimmed and case-insensitively).
    #[serde(default)]
    pub label: Option<Column>,
    /// Label values meaning "attack". Default empty (use `benign_values`).
    #[serde(default)]
    pub attack_values: Vec<String>,
    /// Label values meaning "benign". Default `["0", "normal", "benign", "false"]`.
    #[serde(default = "default_benign")]
    pub benign_values: Vec<String>,
    /// Attack-category column. Without it an attack's category is its label value when that is
    /// not a number, else `Attack`.
    #[serde(default)]
    pub category: Option<Column>,
    /// Numeric columns for [`Flow::extra`], in order. Blank or `-` cells read as 0.
    #[serde(default)]
    pub extra: Vec<Column>,
}

fn default_delimiter() -> char {
    ','
}
fn default_true() -> bool {
    true
}
fn default_benign() -> Vec<String> {
    ["0", "normal", "benign", "false"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl Default for CsvMapping {
    fn default() -> Self {
        Self {
            delimiter: default_delimiter(),
            has_header: true,
            ts: None,
            uid: None,
            src: None,
            src_port: None,
            dst: None,
            dst_port: None,
            proto: None,
            service: None,
            state: None,
            duration: None,
            duration_unit: DurationUnit::S,
            src_bytes: None,
            dst_bytes: None,
            src_pkts: None,
            dst_pkts: None,
            label: None,
            attack_values: Vec::new(),
            benign_values: default_benign(),
            category: None,
            extra: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Ts,
    Uid,
    Src,
    SrcPort,
    Dst,
    DstPort,
    Proto,
    Service,
    State,
    Duration,
    SrcBytes,
    DstBytes,
    SrcPkts,
    DstPkts,
    Label,
    Category,
    Extra(usize),
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Ts => "ts",
            Role::Uid => "uid",
            Role::Src => "src",
            Role::SrcPort => "src_port",
            Role::Dst => "dst",
            Role::DstPort => "dst_port",
            Role::Proto => "proto",
            Role::Service => "service",
            Role::State => "state",
            Role::Duration => "duration",
            Role::SrcBytes => "src_bytes",
            Role::DstBytes => "dst_bytes",
            Role::SrcPkts => "src_pkts",
            Role::DstPkts => "dst_pkts",
            Role::Label => "label",
            Role::Category => "category",
            Role::Extra(_) => "extra",
        }
    }
}

/// The generic CSV parser, with the mapping resolved to column indices.
pub(crate) struct CsvFlows {
    delim: u8,
    /// (column index, role), sorted by column.
    cols: Vec<(usize, Role)>,
    /// Column names for error messages (header names, or `column N`).
    col_names: Vec<String>,
    extra_names: Vec<String>,
    n_extra: usize,
    /// Exact column count (with a header), or the minimum (without).
    ncols: usize,
    exact: bool,
    scale: f64,
    attack_values: Vec<String>,
    benign_values: Vec<String>,
    skip_first: bool,
    seen_first: bool,
    ranges: Vec<(bool, usize, usize)>,
    scratch: Vec<u8>,
}

impl CsvFlows {
    /// Resolves `m` against the header line `first` (when `m.has_header`).
    pub fn new(m: &CsvMapping, first: Option<&[u8]>) -> Result<Self, String> {
        let delim = u8::try_from(m.delimiter)
            .ok()
            .filter(|d| d.is_ascii() && *d != b'"' && *d != b'\n' && *d != b'\r')
            .ok_or_else(|| {
                format!(
                    "csv mapping: delimiter {:?} is not a plain ASCII character",
                    m.delimiter
                )
            })?;
        let header: Option<Vec<String>> = match (m.has_header, first) {
            (true, Some(line)) => {
                let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
                let (mut ranges, mut scratch) = (Vec::new(), Vec::new());
                split_csv(line, delim, &mut ranges, &mut scratch)
                    .map_err(|e| format!("csv header: {e}"))?;
                let names = ranges
                    .iter()
                    .map(|r| {
                        String::from_utf8_lossy(trim(csv_field(line, &scratch, *r))).into_owned()
                    })
                    .collect();
                Some(names)
            }
            _ => None,
        };
        let mut cols = Vec::new();
        let singles = [
            (&m.ts, Role::Ts),
            (&m.uid, Role::Uid),
            (&m.src, Role::Src),
            (&m.src_port, Role::SrcPort),
            (&m.dst, Role::Dst),
            (&m.dst_port, Role::DstPort),
            (&m.proto, Role::Proto),
            (&m.service, Role::Service),
            (&m.state, Role::State),
            (&m.duration, Role::Duration),
            (&m.src_bytes, Role::SrcBytes),
            (&m.dst_bytes, Role::DstBytes),
            (&m.src_pkts, Role::SrcPkts),
            (&m.dst_pkts, Role::DstPkts),
            (&m.label, Role::Label),
            (&m.category, Role::Category),
        ];
        let resolve = |c: &Column, role: Role| -> Result<usize, String> {
            match (c, &header) {
                (Column::Index(i), Some(h)) if *i >= h.len() => Err(format!(
                    "csv mapping: column {i} (for {}) is past the header's {} columns",
                    role.name(),
                    h.len()
                )),
                (Column::Index(i), _) => Ok(*i),
                (Column::Name(n), Some(h)) => h
                    .iter()
                    .position(|x| x == n.trim())
                    .or_else(|| h.iter().position(|x| x.eq_ignore_ascii_case(n.trim())))
                    .ok_or_else(|| {
                        format!(
                            "csv mapping: column {n:?} (for {}) is not in the header",
                            role.name()
                        )
                    }),
                (Column::Name(n), None) if m.has_header => Err(format!(
                    "csv mapping: column {n:?} (for {}) cannot be found: the input has no header line",
                    role.name()
                )),
                (Column::Name(n), None) => Err(format!(
                    "csv mapping: has_header is false, so column {n:?} (for {}) must be a 0-based index",
                    role.name()
                )),
            }
        };
        for (c, role) in singles {
            if let Some(c) = c {
                cols.push((resolve(c, role)?, role));
            }
        }
        let mut extra_names = Vec::new();
        for (k, c) in m.extra.iter().enumerate() {
            let i = resolve(c, Role::Extra(k))?;
            cols.push((i, Role::Extra(k)));
            extra_names.push(match (c, &header) {
                (Column::Name(n), _) => n.clone(),
                (Column::Index(i), Some(h)) => {
                    h.get(*i).cloned().unwrap_or_else(|| format!("column {i}"))
                }
                (Column::Index(i), None) => format!("column {i}"),
            });
        }
        cols.sort_by_key(|(i, _)| *i);
        let max = cols.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
        let (ncols, exact) = match &header {
            Some(h) => (h.len(), true),
            None => (max, false),
        };
        let col_names = (0..ncols.max(max))
            .map(|i| {
                header
                    .as_ref()
                    .and_then(|h| h.get(i).cloned())
                    .unwrap_or_else(|| format!("column {i}"))
            })
            .collect();
        let lower = |v: &[String]| v.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        Ok(Self {
            delim,
            cols,
            col_names,
            n_extra: extra_names.len(),
            extra_names,
            ncols,
            exact,
            scale: match m.duration_unit {
                DurationUnit::S => 1.0,
                DurationUnit::Ms => 1e-3,
                DurationUnit::Us => 1e-6,
            },
            attack_values: lower(&m.attack_values),
            benign_values: lower(&m.benign_values),
            skip_first: m.has_header,
            seen_first: false,
            ranges: Vec::new(),
            scratch: Vec::new(),
        })
    }

    pub fn extra_names(&self) -> Vec<String> {
        self.extra_names.clone()
    }

    fn label(&self, v: &str, cat: Option<&str>) -> FlowLabel {
        let t = v.trim();
        let lower = t.to_ascii_lowercase();
        let attack = if self.attack_values.is_empty() {
            !self.benign_values.contains(&lower)
        } else {
            self.attack_values.contains(&lower)
        };
        let wordy =
            parse_f64(t.as_bytes()).is_none() && !matches!(lower.as_str(), "true" | "false");
        if !attack {
            return FlowLabel {
                attack: false,
                category: "Normal".into(),
                name: None,
            };
        }
        let category = match cat.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => c.to_string(),
            None if wordy => t.to_string(),
            None => "Attack".into(),
        };
        FlowLabel {
            attack: true,
            category,
            name: wordy.then(|| t.to_string()),
        }
    }
}

impl LineParser for CsvFlows {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        if !self.seen_first {
            self.seen_first = true;
            if self.skip_first {
                return Ok(Parsed::Meta);
            }
        }
        let mut ranges = std::mem::take(&mut self.ranges);
        let mut scratch = std::mem::take(&mut self.scratch);
        let res = split_csv(line, self.delim, &mut ranges, &mut scratch)
            .map_err(LineError::Bad)
            .and_then(|()| self.record(line, &ranges, &scratch));
        self.ranges = ranges;
        self.scratch = scratch;
        res
    }
}

impl CsvFlows {
    fn record(
        &self,
        line: &[u8],
        ranges: &[(bool, usize, usize)],
        scratch: &[u8],
    ) -> Result<Parsed, LineError> {
        let n = ranges.len();
        if (self.exact && n != self.ncols) || n < self.ncols {
            return Err(LineError::Bad(format!(
                "expected {} columns, found {n}",
                self.ncols
            )));
        }
        let mut flow = Flow {
            extra: vec![0.0; self.n_extra],
            ..Flow::default()
        };
        let (mut label, mut cat) = (None, None);
        for &(i, role) in &self.cols {
            let Some(r) = ranges.get(i) else { continue };
            let v = trim(csv_field(line, scratch, *r));
            let name = self.col_names.get(i).map_or("?", String::as_str);
            if v.is_empty() || v == b"-" {
                continue;
            }
            let count = || parse_u64(v).ok_or_else(|| bad(name, "invalid count", v));
            match role {
                Role::Ts => {
                    flow.ts = Some(parse_epoch(v).ok_or_else(|| bad(name, "invalid timestamp", v))?)
                }
                Role::Uid => flow.uid = Some(utf8(v, name)?.to_owned()),
                Role::Src => {
                    flow.src = Some(parse_ip(v).ok_or_else(|| bad(name, "invalid address", v))?)
                }
                Role::Dst => {
                    flow.dst = Some(parse_ip(v).ok_or_else(|| bad(name, "invalid address", v))?)
                }
                Role::SrcPort => {
                    flow.src_port = Some(parse_port(v).ok_or_else(|| bad(name, "invalid port", v))?)
                }
                Role::DstPort => {
                    flow.dst_port = Some(parse_port(v).ok_or_else(|| bad(name, "invalid port", v))?)
                }
                Role::Proto => flow.proto = parse_proto(utf8(v, name)?),
                Role::Service => flow.service = Some(utf8(v, name)?.to_owned()),
                Role::State => flow.state = Some(utf8(v, name)?.to_owned()),
                Role::Duration => {
                    flow.duration = Some(
                        parse_duration(v).ok_or_else(|| bad(name, "invalid duration", v))?
                            * self.scale,
                    )
                }
                Role::SrcBytes => flow.src_bytes = Some(count()?),
                Role::DstBytes => flow.dst_bytes = Some(count()?),
                Role::SrcPkts => flow.src_pkts = Some(count()?),
                Role::DstPkts => flow.dst_pkts = Some(count()?),
                Role::Label => label = Some(utf8(v, name)?),
                Role::Category => cat = Some(utf8(v, name)?),
                Role::Extra(k) => {
                    if let Some(slot) = flow.extra.get_mut(k) {
                        *slot = parse_f64(v).ok_or_else(|| bad(name, "invalid number", v))?;
                    }
                }
            }
        }
        if self.cols.iter().any(|(_, r)| *r == Role::Label) {
            let Some(l) = label else {
                return Err(LineError::Bad("field label: empty".into()));
            };
            flow.label = Some(self.label(l, cat));
        }
        Ok(Parsed::Flow(flow))
    }
}
