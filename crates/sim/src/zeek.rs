//! Output: Zeek `conn.log` (TSV, as Zeek's ASCII writer produces it), the ground-truth CSV,
//! the attack list as JSON and the device inventory as JSON lines.

use crate::hospital::is_local;
use crate::{AttackTruth, SimDevice, SimFlow};
use std::fmt::Write as _;
use std::io::{self, Write};
use ward_core::{Flow, Proto, Timestamp};

const FIELDS: [&str; 21] = [
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

const TYPES: [&str; 21] = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
];

/// Flush the row buffer to the writer at this size.
const CHUNK: usize = 1 << 16;

/// Writes `flows` as a Zeek `conn.log` in Zeek's TSV format: the `#separator`, `#set_separator`,
/// `#empty_field`, `#unset_field`, `#path`, `#open`, `#fields` and `#types` header, one row per
/// flow, and `#close`. `#open` and `#close` are the first flow start and the last flow end (no
/// clock is read). Absent values are written as `-`; `history`, the IP-level byte counts and
/// `local_orig`/`local_resp` (RFC 1918 and ULA addresses count as local) are derived from the
/// flow. Labels are not written.
pub fn write_zeek_conn(w: &mut dyn Write, flows: &[SimFlow]) -> io::Result<()> {
    let open = flows
        .iter()
        .filter_map(|f| f.flow.ts)
        .min()
        .unwrap_or_default();
    let close = flows
        .iter()
        .filter_map(|f| {
            let ts = f.flow.ts?;
            let d = f
                .flow
                .duration
                .filter(|d| d.is_finite() && *d >= 0.0)
                .unwrap_or(0.0);
            Some(Timestamp(ts.0.saturating_add((d * 1e6) as i64)))
        })
        .max()
        .unwrap_or_default();
    let mut buf = String::with_capacity(CHUNK + 1024);
    buf.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
    let _ = writeln!(buf, "#open\t{}", zeek_date(open));
    let _ = writeln!(buf, "#fields\t{}", FIELDS.join("\t"));
    let _ = writeln!(buf, "#types\t{}", TYPES.join("\t"));
    for f in flows {
        row(&mut buf, &f.flow);
        if buf.len() >= CHUNK {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    let _ = writeln!(buf, "#close\t{}", zeek_date(close));
    w.write_all(buf.as_bytes())?;
    w.flush()
}

/// `2024-05-06-00-00-00`, the date format of Zeek's `#open` and `#close` lines.
fn zeek_date(t: Timestamp) -> String {
    let s = t.to_string();
    let whole = s.split('.').next().unwrap_or(&s);
    whole.replace(['T', ':'], "-")
}

fn row(buf: &mut String, f: &Flow) {
    match f.ts {
        Some(ts) => {
            let sign = if ts.0 < 0 { "-" } else { "" };
            let us = ts.0.unsigned_abs();
            let _ = write!(buf, "{sign}{}.{:06}", us / 1_000_000, us % 1_000_000);
        }
        None => buf.push('-'),
    }
    buf.push('\t');
    string_field(buf, f.uid.as_deref());
    buf.push('\t');
    opt(buf, f.src);
    buf.push('\t');
    opt(buf, f.src_port);
    buf.push('\t');
    opt(buf, f.dst);
    buf.push('\t');
    opt(buf, f.dst_port);
    buf.push('\t');
    match &f.proto {
        Proto::Unknown => buf.push_str("unknown_transport"),
        p => string_field(buf, Some(p.as_str())),
    }
    buf.push('\t');
    string_field(buf, f.service.as_deref());
    buf.push('\t');
    match f.duration.filter(|d| d.is_finite()) {
        Some(d) => {
            let _ = write!(buf, "{d:.6}");
        }
        None => buf.push('-'),
    }
    buf.push('\t');
    opt(buf, f.src_bytes);
    buf.push('\t');
    opt(buf, f.dst_bytes);
    buf.push('\t');
    string_field(buf, f.state.as_deref());
    buf.push('\t');
    local(buf, f.src.map(is_local));
    buf.push('\t');
    local(buf, f.dst.map(is_local));
    buf.push_str("\t0\t");
    string_field(buf, history(f).as_deref());
    buf.push('\t');
    let hdr: u64 = if f.proto == Proto::Udp { 28 } else { 52 };
    let ip_bytes = |bytes: Option<u64>, pkts: Option<u64>| {
        pkts.map(|p| bytes.unwrap_or(0).saturating_add(p.saturating_mul(hdr)))
    };
    opt(buf, f.src_pkts);
    buf.push('\t');
    opt(buf, ip_bytes(f.src_bytes, f.src_pkts));
    buf.push('\t');
    opt(buf, f.dst_pkts);
    buf.push('\t');
    opt(buf, ip_bytes(f.dst_bytes, f.dst_pkts));
    buf.push_str("\t-\n");
}

fn opt<T: std::fmt::Display>(buf: &mut String, v: Option<T>) {
    match v {
        Some(v) => {
            let _ = write!(buf, "{v}");
        }
        None => buf.push('-'),
    }
}

fn local(buf: &mut String, v: Option<bool>) {
    buf.push(match v {
        Some(true) => 'T',
        Some(false) => 'F',
        None => '-',
    });
}

/// A string field escaped the way Zeek's ASCII writer does: unset is `-`, empty is `(empty)`,
/// a literal `-` or `(empty)` and any separator, backslash or non-printable byte is `\xNN`.
fn string_field(buf: &mut String, s: Option<&str>) {
    let Some(s) = s else {
        buf.push('-');
        return;
    };
    if s.is_empty() {
        buf.push_str("(empty)");
        return;
    }
    if let Some(rest) = s.strip_prefix('-').filter(|r| r.is_empty()) {
        buf.push_str("\\x2d");
        buf.push_str(rest);
        return;
    }
    if let Some(rest) = s.strip_prefix('(').filter(|r| *r == "empty)") {
        buf.push_str("\\x28");
        buf.push_str(rest);
        return;
    }
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            buf.push(char::from(b));
        } else {
            let _ = write!(buf, "\\x{b:02x}");
        }
    }
}

/// Zeek's `history` string for a flow, derived from its state, protocol and counts.
fn history(f: &Flow) -> Option<String> {
    let ob = f.src_bytes.unwrap_or(0);
    let rb = f.dst_bytes.unwrap_or(0);
    let rp = f.dst_pkts.unwrap_or(0);
    let data = match (ob > 0, rb > 0) {
        (true, true) => "ADad",
        (true, false) => "ADa",
        (false, true) => "Ada",
        (false, false) => "A",
    };
    let h = match (&f.proto, f.state.as_deref()?) {
        (Proto::Udp, _) => {
            if rp > 0 {
                "Dd".to_string()
            } else {
                "D".to_string()
            }
        }
        (_, "SF") => format!("Sh{data}Ff"),
        (_, "S0") => "S".to_string(),
        (_, "REJ") => "Sr".to_string(),
        (_, "RSTO") => format!("Sh{data}R"),
        (_, "RSTR") => format!("Sh{data}r"),
        (_, "S1") => format!("Sh{data}"),
        (_, "SH") => "SF".to_string(),
        (_, "RSTOS0") => "SR".to_string(),
        _ => return None,
    };
    Some(h)
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Writes the ground truth as CSV with header `uid,attack_id,category,name`: one row per attack
/// flow (flows without a uid are skipped). Benign flows are every uid not listed.
pub fn write_truth(w: &mut dyn Write, out: &crate::SimOutput) -> io::Result<()> {
    let mut buf = String::with_capacity(CHUNK + 256);
    buf.push_str("uid,attack_id,category,name\n");
    for f in &out.flows {
        let (Some(id), Some(uid)) = (f.attack, f.flow.uid.as_deref()) else {
            continue;
        };
        let (category, name) = match &f.flow.label {
            Some(l) => (l.category.as_str(), l.name.as_deref().unwrap_or("")),
            None => ("", ""),
        };
        csv_field(&mut buf, uid);
        let _ = write!(buf, ",{id},");
        csv_field(&mut buf, category);
        buf.push(',');
        csv_field(&mut buf, name);
        buf.push('\n');
        if buf.len() >= CHUNK {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    w.write_all(buf.as_bytes())?;
    w.flush()
}

/// Writes the attack list as a pretty-printed JSON array followed by a newline.
pub fn write_attacks_json(w: &mut dyn Write, attacks: &[AttackTruth]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, attacks).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// Writes the device inventory as JSON lines, one device per line.
pub fn write_devices(w: &mut dyn Write, devices: &[SimDevice]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(128 * devices.len().min(100_000));
    for d in devices {
        serde_json::to_writer(&mut buf, d).map_err(io::Error::from)?;
        buf.push(b'\n');
    }
    w.write_all(&buf)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: Option<&str>) -> String {
        let mut b = String::new();
        string_field(&mut b, s);
        b
    }

    #[test]
    fn strings_are_escaped_like_zeek() {
        for (input, expect) in [
            (None, "-"),
            (Some(""), "(empty)"),
            (Some("-"), "\\x2d"),
            (Some("(empty)"), "\\x28empty)"),
            (Some("dns"), "dns"),
            (Some("a\tb\nc"), "a\\x09b\\x0ac"),
            (Some("dns,http"), "dns,http"),
            (Some("é"), "\\xc3\\xa9"),
        ] {
            assert_eq!(esc(input), expect, "{input:?}");
        }
    }

    #[test]
    fn date_format() {
        assert_eq!(
            zeek_date(Timestamp(1_714_953_600_000_000)),
            "2024-05-06-00-00-00"
        );
    }

    #[test]
    fn negative_and_absent_timestamps_do_not_panic() {
        let mut b = String::new();
        row(
            &mut b,
            &Flow {
                ts: Some(Timestamp(-1)),
                ..Default::default()
            },
        );
        assert!(b.starts_with("-0.000001\t-\t"), "{b}");
        let mut b = String::new();
        row(&mut b, &Flow::default());
        assert_eq!(b.matches('\t').count(), 20);
        assert!(b.contains("\tunknown_transport\t"));
    }
}
