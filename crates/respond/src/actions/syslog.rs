//! Syslog forwarding: RFC 5424 with the alert as structured data, or CEF in an RFC 5424
//! envelope; one UDP datagram, or one octet-counted frame over TCP (RFC 6587).

use super::{Actions, clip};
use crate::action::{ActionContext, ActionError, Outcome};
use crate::playbook::{SyslogFormat, SyslogSpec, Transport, parse_target};
use serde_json::json;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use ward_core::alert::{Alert, Severity};
use ward_core::time::Timestamp;

/// The structured-data id: `ward` under the documentation enterprise number of RFC 5612.
pub const SD_ID: &str = "ward@32473";

/// What a syslog line is made of. Pure data, so the formats can be tested without a network.
#[derive(Debug, Clone, Copy)]
pub struct SyslogMessage<'a> {
    /// Facility number, 0-23 (larger values are clamped).
    pub facility: u8,
    /// The sending host.
    pub hostname: &'a str,
    /// When the message is sent.
    pub time: Timestamp,
    /// The alert.
    pub alert: &'a Alert,
    /// The job's idempotency key (also the MSGID).
    pub idempotency_key: &'a str,
    /// The target's address, added to CEF as `src` when it is an IP address.
    pub target_address: Option<&'a str>,
}

/// Syslog severity of an alert severity: critical 2, high 3, medium 4, low 5, info 6.
fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// CEF severity, 0-10, from the 0-100 score (rounded to the nearest tenth).
pub fn cef_severity(score: u8) -> u8 {
    ((u16::from(score.min(100)) + 5) / 10) as u8
}

/// An RFC 5424 header field: printable ASCII without spaces, at most `max` characters, or the
/// NILVALUE `-`.
fn header_field(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .filter(|c| ('!'..='~').contains(c))
        .take(max)
        .collect();
    if v.is_empty() { "-".to_owned() } else { v }
}

/// `<PRI>1 TIMESTAMP HOSTNAME ward - MSGID`.
fn envelope(m: &SyslogMessage<'_>) -> String {
    let pri = u16::from(m.facility.min(23)) * 8 + u16::from(syslog_severity(m.alert.severity));
    // RFC 5424 timestamps have four-digit years.
    let ts = if (0..253_402_300_800_000_000).contains(&m.time.0) {
        m.time.to_string()
    } else {
        "-".to_owned()
    };
    format!(
        "<{pri}>1 {ts} {} ward - {}",
        header_field(m.hostname, 255),
        header_field(m.idempotency_key, 32)
    )
}

/// Control characters become spaces; at most `max` characters.
fn flat(s: &str, max: usize) -> String {
    clip(s, max)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 section 6.3.3).
fn sd_value(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in flat(s, max).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The RFC 5424 form: the alert as structured data, its title as the message.
///
/// `<PRI>1 TIMESTAMP HOST ward - KEY [ward@32473 id=".." detector=".." severity=".."
/// score=".." entity=".." key=".."] title`
pub fn format_rfc5424(m: &SyslogMessage<'_>) -> String {
    let a = m.alert;
    let params = [
        ("id", sd_value(&a.id, 100)),
        ("detector", sd_value(&a.detector, 100)),
        ("severity", a.severity.as_str().to_owned()),
        ("score", a.score.to_string()),
        ("entity", sd_value(&a.entity.to_string(), 300)),
        ("key", sd_value(m.idempotency_key, 100)),
    ];
    let mut sd = format!("[{SD_ID}");
    for (k, v) in params {
        sd.push_str(&format!(" {k}=\"{v}\""));
    }
    sd.push(']');
    format!("{} {sd} {}", envelope(m), flat(&a.title, 512))
}

/// A CEF header field: `\` and `|` escaped, control characters as spaces.
fn cef_header(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in flat(s, max).chars() {
        if matches!(c, '\\' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A CEF extension value: `\` and `=` escaped, line breaks as `\n` and `\r`, other control
/// characters as spaces.
fn cef_value(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clip(s, max).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The CEF form inside an RFC 5424 envelope (no structured data):
///
/// `<PRI>1 TIMESTAMP HOST ward - KEY - CEF:0|ward|ward|VERSION|detector|title|severity|ext`
///
/// with extensions `rt` (alert time, ms), `externalId` (alert id), `cat` (detector), `cn1`
/// (score), `cs1` (entity), `cs2` (idempotency key), `src` (target address, when it is one)
/// and `msg` (explanation).
pub fn format_cef(m: &SyslogMessage<'_>) -> String {
    let a = m.alert;
    let header = format!(
        "CEF:0|ward|ward|{}|{}|{}|{}|",
        cef_header(env!("CARGO_PKG_VERSION"), 32),
        cef_header(&a.detector, 100),
        cef_header(&a.title, 512),
        cef_severity(a.score)
    );
    let mut ext: Vec<(&str, String)> = vec![
        ("rt", a.time.0.div_euclid(1000).to_string()),
        ("externalId", cef_value(&a.id, 100)),
        ("cat", cef_value(&a.detector, 100)),
        ("cn1Label", "score".to_owned()),
        ("cn1", a.score.to_string()),
        ("cs1Label", "entity".to_owned()),
        ("cs1", cef_value(&a.entity.to_string(), 300)),
        ("cs2Label", "idempotencyKey".to_owned()),
        ("cs2", cef_value(m.idempotency_key, 100)),
    ];
    if let Some(ip) = m.target_address.and_then(|t| t.parse::<IpAddr>().ok()) {
        ext.push(("src", ip.to_string()));
    }
    let summary = a.explanation.summary.trim();
    if !summary.is_empty() {
        ext.push(("msg", cef_value(summary, 1000)));
    }
    let ext: Vec<String> = ext.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} - {header}{}", envelope(m), ext.join(" "))
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// Sends the alert to `spec.target` once.
pub(super) fn run(
    actions: &Actions,
    spec: &SyslogSpec,
    ctx: &ActionContext<'_>,
) -> Result<Outcome, ActionError> {
    let (transport, hostport) = parse_target(&spec.target).map_err(ActionError::Permanent)?;
    let m = SyslogMessage {
        facility: actions.config.syslog_facility,
        hostname: &actions.hostname,
        time: now(),
        alert: ctx.alert,
        idempotency_key: ctx.idempotency_key,
        target_address: ctx.target_address,
    };
    let (text, format) = match spec.format {
        SyslogFormat::Rfc5424 => (format_rfc5424(&m), "RFC 5424"),
        SyslogFormat::Cef => (format_cef(&m), "CEF"),
    };
    let (proto, frame) = match transport {
        Transport::Udp => ("udp", text.clone().into_bytes()),
        Transport::Tcp => ("tcp", format!("{} {text}", text.len()).into_bytes()),
    };
    let target = format!("{proto}://{hostport}");
    if ctx.dry_run {
        return Ok(Outcome {
            summary: format!(
                "dry run: syslog would send a {}-byte {format} message to {target}",
                text.len()
            ),
            detail: json!({ "dry_run": true, "target": target, "format": format, "message": text }),
        });
    }
    let timeout = actions.timeout(ctx);
    let fail = |what: &str, e: std::io::Error| {
        ActionError::Retryable(format!("syslog to {target}: {what}: {e}"))
    };
    let addrs: Vec<SocketAddr> = hostport
        .to_socket_addrs()
        .map_err(|e| fail("cannot resolve", e))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(ActionError::Retryable(format!(
            "syslog to {target}: the name has no address"
        )));
    };
    match transport {
        Transport::Udp => {
            let local: SocketAddr = if first.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let sock = UdpSocket::bind(local).map_err(|e| fail("bind", e))?;
            sock.set_write_timeout(Some(timeout))
                .map_err(|e| fail("socket", e))?;
            let sent = sock.send_to(&frame, first).map_err(|e| fail("send", e))?;
            if sent != frame.len() {
                return Err(ActionError::Retryable(format!(
                    "syslog to {target}: datagram cut short"
                )));
            }
        }
        Transport::Tcp => {
            let mut last = None;
            let mut stream = None;
            for a in &addrs {
                match TcpStream::connect_timeout(a, timeout) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let Some(mut s) = stream else {
                return Err(fail(
                    "connect",
                    last.unwrap_or_else(|| std::io::Error::other("no address")),
                ));
            };
            s.set_write_timeout(Some(timeout))
                .map_err(|e| fail("socket", e))?;
            s.write_all(&frame).map_err(|e| fail("write", e))?;
            s.flush().map_err(|e| fail("write", e))?;
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
    }
    Ok(Outcome {
        summary: format!(
            "syslog: sent a {}-byte {format} message to {target}",
            text.len()
        ),
        detail: json!({ "target": target, "format": format, "bytes": text.len() }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::alert::{Evidence, Explanation};
    use ward_core::entity::EntityId;

    fn alert(title: &str, detector: &str, entity: &str) -> Alert {
        Alert::new(
            Timestamp(1_700_000_000_123_456),
            detector,
            87,
            EntityId::host(entity),
            title,
            Explanation {
                summary: "many ports\nin a minute; a=b \\ c".to_owned(),
                ..Explanation::default()
            },
            Evidence::default(),
        )
    }

    fn msg<'a>(a: &'a Alert, time: Timestamp) -> SyslogMessage<'a> {
        SyslogMessage {
            facility: 16,
            hostname: "sensor 1",
            time,
            alert: a,
            idempotency_key: "0123456789abcdef0123456789abcdef",
            target_address: Some("10.1.2.3"),
        }
    }

    #[test]
    fn rfc5424_escapes_structured_data_and_flattens_the_title() {
        let a = alert(
            "evil\"] [x y=\"z\"]\\\n<13>1 forged",
            "net.\"det]",
            "10.1.2.3",
        );
        let line = format_rfc5424(&msg(&a, Timestamp(1_700_000_001_000_000)));
        let expected_head = "<130>1 2023-11-14T22:13:21.000000Z sensor1 ward - 0123456789abcdef0123456789abcdef [ward@32473 ";
        assert!(line.starts_with(expected_head), "{line}");
        assert!(line.contains(r#"detector="net.\"det\]""#), "{line}");
        assert!(line.contains(r#"severity="critical" score="87" entity="host:10.1.2.3""#));
        assert!(
            line.ends_with(r#"] evil"] [x y="z"]\ <13>1 forged"#),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn cef_escapes_header_and_extension() {
        let a = alert("a|b\\c=d", "det|x", "10.1.2.3");
        let line = format_cef(&msg(&a, Timestamp(1_700_000_001_000_000)));
        let (env, cef) = line.split_once(" - CEF:").unwrap();
        assert!(env.starts_with("<130>1 "), "{env}");
        let cef = format!("CEF:{cef}");
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            cef.starts_with(&format!(
                r"CEF:0|ward|ward|{version}|det\|x|a\|b\\c=d|9|rt=1700000000123 "
            )),
            "{cef}"
        );
        assert!(cef.contains(r"cat=det|x "), "{cef}");
        assert!(cef.contains("src=10.1.2.3"), "{cef}");
        assert!(
            cef.ends_with(r"msg=many ports\nin a minute; a\=b \\ c"),
            "{cef}"
        );
        assert!(!cef.contains('\n'));
    }

    #[test]
    fn huge_and_odd_input_stays_bounded_and_well_formed() {
        let title = "x".repeat(100_000);
        let a = alert(&title, &"d".repeat(10_000), "10.1.2.3");
        for t in [Timestamp(i64::MIN), Timestamp(i64::MAX), Timestamp(0)] {
            let m = msg(&a, t);
            assert!(format_rfc5424(&m).len() < 2_000);
            assert!(format_cef(&m).len() < 3_000);
        }
        assert!(format_rfc5424(&msg(&a, Timestamp(-1))).contains(" - sensor1 ward"));
        let m = SyslogMessage {
            facility: 200,
            hostname: "",
            idempotency_key: "",
            target_address: Some("not-an-ip"),
            ..msg(&a, Timestamp(0))
        };
        let line = format_cef(&m);
        assert!(line.starts_with("<186>1 1970-01-01T00:00:00.000000Z - ward - - - CEF:0|"));
        assert!(!line.contains("src="));
    }

    #[test]
    fn cef_severity_rounds_the_score() {
        let got: Vec<u8> = [0, 4, 5, 49, 50, 95, 100, 255].map(cef_severity).to_vec();
        assert_eq!(got, [0, 0, 1, 5, 5, 10, 10, 10]);
    }
}
