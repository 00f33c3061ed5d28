//! JSON-lines formats: Zeek `conn.log` as JSON and Suricata EVE.
//!
//! Values are read as loosely typed [`Scalar`]s and checked by hand, so an error names the field
//! and the problem (`field id.orig_p: invalid port 7000000`) instead of echoing input.

use crate::fields::{parse_epoch, parse_ip, parse_proto, show};
use crate::source::{LineError, LineParser, Parsed};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use ward_core::{Flow, Timestamp};

/// Any JSON value, with strings borrowed where possible and containers skipped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    /// An object or array (contents skipped).
    Nested,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor(std::marker::PhantomData))
    }
}

struct ScalarVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Scalar::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }
}

type Field<'a> = Option<Scalar<'a>>;

impl Scalar<'_> {
    /// The value for an error message: numbers as written, strings quoted and shortened.
    fn show(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Bool(b) => b.to_string(),
            Self::U64(v) => v.to_string(),
            Self::I64(v) => v.to_string(),
            Self::F64(v) => v.to_string(),
            Self::Str(s) => show(s.as_bytes()),
            Self::Nested => "(object or array)".into(),
        }
    }
}

fn err(field: &str, what: &str, v: &Scalar<'_>) -> String {
    format!("field {field}: {what} {}", v.show())
}

/// A non-negative integer (a JSON number, or a string of digits).
fn count(v: &Field<'_>, field: &str) -> Result<Option<u64>, String> {
    match v {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::U64(n)) => Ok(Some(*n)),
        Some(Scalar::F64(f)) if *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19 => Ok(Some(*f as u64)),
        Some(Scalar::Str(s)) if crate::fields::parse_u64(s.as_bytes()).is_some() => {
            Ok(crate::fields::parse_u64(s.as_bytes()))
        }
        Some(other) => Err(err(field, "invalid count", other)),
    }
}

fn port(v: &Field<'_>, field: &str) -> Result<Option<u16>, String> {
    match count(v, field) {
        Ok(Some(n)) => u16::try_from(n)
            .map(Some)
            .map_err(|_| format!("field {field}: invalid port {n}")),
        Ok(None) => Ok(None),
        Err(_) => Err(err(
            field,
            "invalid port",
            v.as_ref().unwrap_or(&Scalar::Null),
        )),
    }
}

fn float(v: &Field<'_>, field: &str) -> Result<Option<f64>, String> {
    let f = match v {
        None | Some(Scalar::Null) => return Ok(None),
        Some(Scalar::U64(n)) => *n as f64,
        Some(Scalar::I64(n)) => *n as f64,
        Some(Scalar::F64(f)) => *f,
        Some(Scalar::Str(s)) => match s.parse::<f64>() {
            Ok(f) => f,
            Err(_) => {
                return Err(err(
                    field,
                    "invalid number",
                    v.as_ref().unwrap_or(&Scalar::Null),
                ));
            }
        },
        Some(other) => return Err(err(field, "invalid number", other)),
    };
    if f.is_finite() {
        Ok(Some(f))
    } else {
        Err(format!("field {field}: not a finite number"))
    }
}

fn text(v: &Field<'_>, field: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s.clone().into_owned())),
        Some(Scalar::U64(n)) => Ok(Some(n.to_string())),
        Some(Scalar::I64(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(err(field, "expected a string, found", other)),
    }
}

fn ip(v: &Field<'_>, field: &str) -> Result<Option<IpAddr>, String> {
    match v {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => parse_ip(s.as_bytes()).map(Some).ok_or_else(|| {
            err(
                field,
                "invalid address",
                v.as_ref().unwrap_or(&Scalar::Null),
            )
        }),
        Some(other) => Err(err(field, "invalid address", other)),
    }
}

/// Unix seconds as a number, or a timestamp string (Unix seconds or RFC 3339).
fn time(v: &Field<'_>, field: &str) -> Result<Option<Timestamp>, String> {
    let t = match v {
        None | Some(Scalar::Null) => return Ok(None),
        Some(Scalar::U64(n)) => Timestamp::from_secs_f64(*n as f64),
        Some(Scalar::I64(n)) => Timestamp::from_secs_f64(*n as f64),
        Some(Scalar::F64(f)) => Timestamp::from_secs_f64(*f),
        Some(Scalar::Str(s)) => parse_epoch(s.as_bytes()),
        Some(_) => None,
    };
    t.map(Some).ok_or_else(|| {
        err(
            field,
            "invalid timestamp",
            v.as_ref().unwrap_or(&Scalar::Null),
        )
    })
}

fn as_str<'b>(v: &'b Field<'_>) -> Option<&'b str> {
    match v {
        Some(Scalar::Str(s)) => Some(s),
        _ => None,
    }
}

/// A serde_json error as a record error reason, without quoting input.
fn json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => {
            format!("invalid record: {}", shorten_quoted(&e.to_string()))
        }
        _ => format!("invalid json: {e}"),
    }
}

/// Shortens every quoted value in a message (serde quotes offending strings whole) to 32
/// characters.
fn shorten_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(160));
    let mut inside = false;
    let mut kept = 0;
    let mut escaped = false;
    for c in msg.chars() {
        if inside {
            let closing = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            if closing {
                if kept > 32 {
                    out.push_str("...");
                }
                inside = false;
                out.push(c);
            } else {
                kept += 1;
                if kept <= 32 {
                    out.push(c);
                }
            }
        } else {
            inside = c == '"';
            kept = 0;
            escaped = false;
            out.push(c);
        }
    }
    out
}

/// Only a JSON object can be a record.
fn check_object(line: &[u8]) -> Result<(), LineError> {
    match line.trim_ascii_start().first() {
        Some(b'{') => Ok(()),
        _ => Err(LineError::Bad("invalid json: expected an object".into())),
    }
}

#[derive(Deserialize)]
struct ZeekRec<'a> {
    #[serde(borrow, default, rename = "_path")]
    path: Field<'a>,
    #[serde(borrow, default)]
    ts: Field<'a>,
    #[serde(borrow, default)]
    uid: Field<'a>,
    #[serde(borrow, default, rename = "id.orig_h")]
    orig_h: Field<'a>,
    #[serde(borrow, default, rename = "id.orig_p")]
    orig_p: Field<'a>,
    #[serde(borrow, default, rename = "id.resp_h")]
    resp_h: Field<'a>,
    #[serde(borrow, default, rename = "id.resp_p")]
    resp_p: Field<'a>,
    #[serde(borrow, default)]
    proto: Field<'a>,
    #[serde(borrow, default)]
    service: Field<'a>,
    #[serde(borrow, default)]
    duration: Field<'a>,
    #[serde(borrow, default)]
    orig_bytes: Field<'a>,
    #[serde(borrow, default)]
    resp_bytes: Field<'a>,
    #[serde(borrow, default)]
    conn_state: Field<'a>,
    #[serde(borrow, default)]
    missed_bytes: Field<'a>,
    #[serde(borrow, default)]
    orig_pkts: Field<'a>,
    #[serde(borrow, default)]
    orig_ip_bytes: Field<'a>,
    #[serde(borrow, default)]
    resp_pkts: Field<'a>,
    #[serde(borrow, default)]
    resp_ip_bytes: Field<'a>,
}

/// Zeek `conn.log` JSON lines (same field names as the TSV form). Lines whose `_path` is another
/// log are skipped.
pub(crate) struct ZeekJson;

impl LineParser for ZeekJson {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        check_object(line)?;
        let r: ZeekRec<'_> =
            serde_json::from_slice(line).map_err(|e| LineError::Bad(json_error(&e)))?;
        if matches!(&r.path, Some(Scalar::Str(p)) if p != "conn") {
            return Ok(Parsed::Skipped);
        }
        let extra = [
            count(&r.missed_bytes, "missed_bytes")?,
            count(&r.orig_ip_bytes, "orig_ip_bytes")?,
            count(&r.resp_ip_bytes, "resp_ip_bytes")?,
        ];
        let duration = float(&r.duration, "duration")?;
        if duration.is_some_and(|d| d < 0.0) {
            return Err(LineError::Bad("field duration: negative".into()));
        }
        Ok(Parsed::Flow(Flow {
            ts: time(&r.ts, "ts")?,
            uid: text(&r.uid, "uid")?,
            src: ip(&r.orig_h, "id.orig_h")?,
            src_port: port(&r.orig_p, "id.orig_p")?,
            dst: ip(&r.resp_h, "id.resp_h")?,
            dst_port: port(&r.resp_p, "id.resp_p")?,
            proto: text(&r.proto, "proto")?
                .map(|p| parse_proto(&p))
                .unwrap_or_default(),
            service: text(&r.service, "service")?,
            state: text(&r.conn_state, "conn_state")?,
            duration,
            src_bytes: count(&r.orig_bytes, "orig_bytes")?,
            dst_bytes: count(&r.resp_bytes, "resp_bytes")?,
            src_pkts: count(&r.orig_pkts, "orig_pkts")?,
            dst_pkts: count(&r.resp_pkts, "resp_pkts")?,
            extra: extra.iter().map(|v| v.unwrap_or(0) as f64).collect(),
            label: None,
        }))
    }
}

/// Names of the [`Flow::extra`] features of EVE flows: 0 for `flow` events.
pub const EVE_EXTRA: [&str; 2] = ["alert_signature_id", "alert_severity"];

#[derive(Deserialize)]
struct EveRec<'a> {
    #[serde(borrow, default)]
    timestamp: Field<'a>,
    #[serde(borrow, default)]
    flow_id: Field<'a>,
    #[serde(borrow, default)]
    event_type: Field<'a>,
    #[serde(borrow, default)]
    src_ip: Field<'a>,
    #[serde(borrow, default)]
    src_port: Field<'a>,
    #[serde(borrow, default)]
    dest_ip: Field<'a>,
    #[serde(borrow, default)]
    dest_port: Field<'a>,
    #[serde(borrow, default)]
    proto: Field<'a>,
    #[serde(borrow, default)]
    app_proto: Field<'a>,
    #[serde(borrow, default)]
    flow: Option<EveFlow<'a>>,
    #[serde(borrow, default)]
    alert: Option<EveAlert<'a>>,
}

#[derive(Deserialize)]
struct EveFlow<'a> {
    #[serde(borrow, default)]
    pkts_toserver: Field<'a>,
    #[serde(borrow, default)]
    pkts_toclient: Field<'a>,
    #[serde(borrow, default)]
    bytes_toserver: Field<'a>,
    #[serde(borrow, default)]
    bytes_toclient: Field<'a>,
    #[serde(borrow, default)]
    start: Field<'a>,
    #[serde(borrow, default)]
    end: Field<'a>,
    #[serde(borrow, default)]
    state: Field<'a>,
    /// Suricata 7 alerts carry the flow's own direction here.
    #[serde(borrow, default)]
    src_ip: Field<'a>,
    #[serde(borrow, default)]
    src_port: Field<'a>,
    #[serde(borrow, default)]
    dest_ip: Field<'a>,
    #[serde(borrow, default)]
    dest_port: Field<'a>,
}

#[derive(Deserialize)]
struct EveAlert<'a> {
    #[serde(borrow, default)]
    signature_id: Field<'a>,
    #[serde(borrow, default)]
    severity: Field<'a>,
}

/// Suricata EVE: `flow` and `alert` events become flows; other event types are skipped.
pub(crate) struct Eve;

impl LineParser for Eve {
    fn parse(&mut self, line: &[u8]) -> Result<Parsed, LineError> {
        check_object(line)?;
        let r: EveRec<'_> =
            serde_json::from_slice(line).map_err(|e| LineError::Bad(json_error(&e)))?;
        let is_alert = match as_str(&r.event_type) {
            Some("flow") => false,
            Some("alert") => true,
            Some(_) => return Ok(Parsed::Skipped),
            None => {
                return Err(LineError::Bad(
                    "field event_type: missing or not a string".into(),
                ));
            }
        };
        let f = r.flow.as_ref();
        let start = match f {
            Some(f) => time(&f.start, "flow.start")?,
            None => None,
        };
        let end = match f {
            Some(f) => time(&f.end, "flow.end")?,
            None => None,
        };
        let ts = match start {
            Some(t) => Some(t),
            None => time(&r.timestamp, "timestamp")?,
        };
        let duration = match (start, end) {
            (Some(s), Some(e)) if e >= s => Some((e.micros() - s.micros()) as f64 / 1e6),
            _ => None,
        };
        // An alert's own addresses follow the packet that fired it; the flow object, when it has
        // addresses, keeps the originator's direction.
        let flow_dir = f.filter(|f| f.src_ip.is_some() && f.dest_ip.is_some());
        let (src, src_port, dst, dst_port) = match flow_dir {
            Some(f) => (
                ip(&f.src_ip, "flow.src_ip")?,
                port(&f.src_port, "flow.src_port")?,
                ip(&f.dest_ip, "flow.dest_ip")?,
                port(&f.dest_port, "flow.dest_port")?,
            ),
            None => (
                ip(&r.src_ip, "src_ip")?,
                port(&r.src_port, "src_port")?,
                ip(&r.dest_ip, "dest_ip")?,
                port(&r.dest_port, "dest_port")?,
            ),
        };
        let extra = match (&r.alert, is_alert) {
            (Some(a), true) => vec![
                count(&a.signature_id, "alert.signature_id")?.unwrap_or(0) as f64,
                count(&a.severity, "alert.severity")?.unwrap_or(0) as f64,
            ],
            _ => vec![0.0; EVE_EXTRA.len()],
        };
        let counter =
            |pick: fn(&EveFlow<'_>) -> Result<Option<u64>, String>| -> Result<Option<u64>, String> {
                f.map(pick).transpose().map(Option::flatten)
            };
        Ok(Parsed::Flow(Flow {
            ts,
            uid: text(&r.flow_id, "flow_id")?,
            src,
            src_port,
            dst,
            dst_port,
            proto: text(&r.proto, "proto")?
                .map(|p| parse_proto(&p))
                .unwrap_or_default(),
            service: text(&r.app_proto, "app_proto")?,
            state: match f {
                Some(f) => text(&f.state, "flow.state")?,
                None => None,
            },
            duration,
            src_bytes: counter(|f| count(&f.bytes_toserver, "flow.bytes_toserver"))?,
            dst_bytes: counter(|f| count(&f.bytes_toclient, "flow.bytes_toclient"))?,
            src_pkts: counter(|f| count(&f.pkts_toserver, "flow.pkts_toserver"))?,
            dst_pkts: counter(|f| count(&f.pkts_toclient, "flow.pkts_toclient"))?,
            extra,
            label: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_shortened() {
        let long = "x".repeat(100);
        let msg =
            format!("invalid type: string \"{long}\", expected struct EveFlow at line 1 column 9");
        assert_eq!(
            shorten_quoted(&msg),
            format!(
                "invalid type: string \"{}...\", expected struct EveFlow at line 1 column 9",
                "x".repeat(32)
            )
        );
        assert_eq!(shorten_quoted("a \"b\\\"c\" d"), "a \"b\\\"c\" d");
        assert_eq!(shorten_quoted("no quotes"), "no quotes");
    }
}
