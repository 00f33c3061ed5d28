//! Zeek `conn.log`, tab-separated: `#` header lines, then one connection per line.
//!
//! Columns are mapped by name from `#fields` (missing optional columns are simply absent from
//! the flow); without a header the default `conn.log` column order is assumed. Fields are split
//! on the separator byte without allocating; only the strings a [`Flow`] keeps are allocated.

use crate::fields::{
    bad, parse_duration, parse_epoch, parse_ip, parse_port, parse_proto, parse_u64, show, utf8,
};
use crate::source::{LineError, LineParser, Parsed};
use ward_core::Flow;

/// Names of the [`Flow::extra`] features of Zeek flows (both TSV and JSON). An unset value is 0.
pub const EXTRA: [&str; 3] = ["missed_bytes", "orig_ip_bytes", "resp_ip_bytes"];

/// The `conn.log` columns in Zeek's default order, assumed when a file has no `#fields` line.
pub const DEFAULT_FIELDS: [&str; 21] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
];

/// What a column feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Ts,
    Uid,
    OrigH,
    OrigP,
    RespH,
    RespP,
    Proto,
    Service,
    Duration,
    OrigBytes,
    RespBytes,
    ConnState,
    OrigPkts,
    RespPkts,
    Extra(usize),
    Ignore,
}

pub(crate) fn col_for(name: &str) -> Col {
    match name {
        "ts" => Col::Ts,
        "uid" => Col::Uid,
        "id.orig_h" => Col::OrigH,
        "id.orig_p" => Col::OrigP,
        "id.resp_h" => Col::RespH,
        "id.resp_p" => Col::RespP,
        "proto" => Col::Proto,
        "service" => Col::Service,
        "duration" => Col::Duration,
        "orig_bytes" => Col::OrigBytes,
        "resp_bytes" => Col::RespBytes,
        "conn_state" => Col::ConnState,
        "orig_pkts" => Col::OrigPkts,
        "resp_pkts" => Col::RespPkts,
        other => EXTRA
            .iter()
            .position(|e| *e == other)
            .map_or(Col::Ignore, Col::Extra),
    }
}

/// Zeek TSV parser state: the current header.
pub(crate) struct ZeekTsv {
    sep: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    cols: Vec<Col>,
    names: Vec<String>,
    /// False until a `#fields` line: then lines may have extra trailing columns.
    header: bool,
    /// Scratch: end offset of each field of the current line.
    ends: Vec<usize>,
}

impl ZeekTsv {
    pub fn new() -> Self {
        Self {
            sep: b'\t',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
            cols: DEFAULT_FIELDS.iter().map(|n| col_for(n)).collect(),
            names: DEFAULT_FIELDS.iter().map(|n| n.to_string()).collect(),
            header: false,
            ends: Vec::with_capacity(32),
        }
    }

    /// A `#` line: a header directive or a comment.
    fn directive(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        if let Some(v) = line.strip_prefix(b"#separator ") {
            self.sep = unescape_byte(v).ok_or_else(|| {
                LineError::Fatal(format!("zeek header: invalid #separator {}", show(v)))
            })?;
            return Ok(Parsed::Meta);
        }
        let mut parts = line.split(|c| *c == self.sep);
        let key = parts.next().unwrap_or_default();
        let value = || line.get(key.len() + 1..).unwrap_or_default();
        match key {
            b"#fields" => {
                let mut cols = Vec::new();
                let mut names = Vec::new();
                for name in parts {
                    let name = String::from_utf8_lossy(name).into_owned();
                    cols.push(col_for(&name));
                    names.push(name);
                }
                if cols.iter().all(|c| *c == Col::Ignore) {
                    return Err(LineError::Fatal(
                        "zeek header: #fields has none of the conn.log columns".into(),
                    ));
                }
                self.cols = cols;
                self.names = names;
                self.header = true;
            }
            b"#path" => {
                let v = value();
                if v != b"conn" {
                    return Err(LineError::Fatal(format!(
                        "zeek header: #path is {}, expected a conn log",
                        show(v)
                    )));
                }
            }
            b"#unset_field" => self.unset = value().to_vec(),
            b"#empty_field" => self.empty = value().to_vec(),
            _ => {}
        }
        Ok(Parsed::Meta)
    }
}

/// `\x09` -> 0x09; a single literal byte stands for itself.
fn unescape_byte(v: &[u8]) -> Option<u8> {
    match v {
        [b'\\', b'x', h, l] => {
            let s = [*h, *l];
            u8::from_str_radix(std::str::from_utf8(&s).ok()?, 16).ok()
        }
        [c] => Some(*c),
        _ => None,
    }
}

impl LineParser for ZeekTsv {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        if line.first() == Some(&b'#') {
            return self.directive(line);
        }
        self.ends.clear();
        self.ends.extend(memchr::memchr_iter(self.sep, line));
        self.ends.push(line.len());
        let n = self.ends.len();
        let want = self.cols.len();
        if (self.header && n != want) || (!self.header && n + 1 < want) {
            return Err(LineError::Bad(format!("expected {want} fields, found {n}")));
        }
        let mut flow = Flow {
            extra: vec![0.0; EXTRA.len()],
            ..Flow::default()
        };
        let mut start = 0;
        for (i, (col, &end)) in self.cols.iter().zip(&self.ends).enumerate() {
            let v = line.get(start..end).unwrap_or_default();
            start = end + 1;
            if *col == Col::Ignore || v == self.unset.as_slice() || v == self.empty.as_slice() {
                continue;
            }
            let name = || self.names.get(i).map_or("?", String::as_str);
            set_field(&mut flow, *col, v, name)?;
        }
        Ok(Parsed::Flow(flow))
    }
}

/// Parses one field value into its place in `flow`.
pub(crate) fn set_field<'n>(
    flow: &mut Flow,
    col: Col,
    v: &[u8],
    name: impl Fn() -> &'n str,
) -> Result<(), String> {
    let count = |v: &[u8]| parse_u64(v).ok_or_else(|| bad(name(), "invalid count", v));
    match col {
        Col::Ts => {
            flow.ts = Some(parse_epoch(v).ok_or_else(|| bad(name(), "invalid timestamp", v))?)
        }
        Col::Uid => flow.uid = Some(utf8(v, name())?.to_owned()),
        Col::OrigH => {
            flow.src = Some(parse_ip(v).ok_or_else(|| bad(name(), "invalid address", v))?)
        }
        Col::RespH => {
            flow.dst = Some(parse_ip(v).ok_or_else(|| bad(name(), "invalid address", v))?)
        }
        Col::OrigP => {
            flow.src_port = Some(parse_port(v).ok_or_else(|| bad(name(), "invalid port", v))?)
        }
        Col::RespP => {
            flow.dst_port = Some(parse_port(v).ok_or_else(|| bad(name(), "invalid port", v))?)
        }
        Col::Proto => flow.proto = parse_proto(utf8(v, name())?),
        Col::Service => flow.service = Some(utf8(v, name())?.to_owned()),
        Col::ConnState => flow.state = Some(utf8(v, name())?.to_owned()),
        Col::Duration => {
            flow.duration =
                Some(parse_duration(v).ok_or_else(|| bad(name(), "invalid duration", v))?)
        }
        Col::OrigBytes => flow.src_bytes = Some(count(v)?),
        Col::RespBytes => flow.dst_bytes = Some(count(v)?),
        Col::OrigPkts => flow.src_pkts = Some(count(v)?),
        Col::RespPkts => flow.dst_pkts = Some(count(v)?),
        Col::Extra(k) => {
            if let Some(slot) = flow.extra.get_mut(k) {
                *slot = count(v)? as f64;
            }
        }
        Col::Ignore => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_escapes() {
        assert_eq!(unescape_byte(b"\\x09"), Some(9));
        assert_eq!(unescape_byte(b"\\x2c"), Some(b','));
        assert_eq!(unescape_byte(b","), Some(b','));
        assert_eq!(unescape_byte(b"\\xzz"), None);
        assert_eq!(unescape_byte(b""), None);
    }

    #[test]
    fn default_fields_map_every_flow_column() {
        let cols: Vec<Col> = DEFAULT_FIELDS.iter().map(|n| col_for(n)).collect();
        for c in [
            Col::Ts,
            Col::OrigH,
            Col::RespP,
            Col::OrigPkts,
            Col::Extra(0),
            Col::Extra(2),
        ] {
            assert!(cols.contains(&c), "{c:?}");
        }
    }
}
