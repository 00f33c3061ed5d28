//! Decoding one line at a time, for live sources (an HTTP request body, a syslog message, a
//! file being tailed) where there is no whole stream to hand to [`crate::from_reader`].

use crate::format::Format;
use crate::input::MAX_LINE_BYTES;
use crate::source::{LineError, LineParser, Parsed};
use crate::{json, kdd, zeek};
use ward_core::{Flow, FlowSchema};

/// What one line held.
// Flows are the common case: boxing them would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A flow.
    Flow(Flow),
    /// A header or comment line (Zeek `#fields`, blank lines): not a record.
    Meta,
    /// A well-formed record that is not a flow (a Zeek JSON line of another log, an EVE `dns`
    /// event): count it as skipped.
    Skipped,
}

/// Why a line could not be decoded. Messages name the field and the problem, never the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// This record is bad; the next line may be fine.
    #[error("{0}")]
    Bad(String),
    /// The stream cannot be read further with this decoder (e.g. a Zeek header of another log).
    #[error("{0}")]
    Fatal(String),
}

/// Decodes single lines of one line-oriented format: Zeek `conn.log` (TSV, keeping the header
/// state of `#fields` lines it is fed), Zeek JSON, Suricata EVE, NSL-KDD.
pub struct LineDecoder {
    format: Format,
    parser: Box<dyn LineParser>,
}

impl std::fmt::Debug for LineDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineDecoder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl LineDecoder {
    /// A decoder for `format`; `None` for formats that need more than one line at a time
    /// (UNSW-NB15 and mapped CSV need their header, pcap is binary).
    pub fn new(format: Format) -> Option<Self> {
        let parser: Box<dyn LineParser> = match format {
            Format::Zeek => Box::new(zeek::ZeekTsv::new()),
            Format::ZeekJson => Box::new(json::ZeekJson),
            Format::Eve => Box::new(json::Eve),
            Format::NslKdd => Box::new(kdd::NslKdd),
            Format::Unsw | Format::Csv | Format::Pcap => return None,
        };
        Some(Self { format, parser })
    }

    /// The format decoded.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The schema of the flows this decoder yields (the same as a [`crate::FlowReader`] of the
    /// format reports).
    pub fn schema(&self) -> FlowSchema {
        let extra: &[&str] = match self.format {
            Format::Zeek | Format::ZeekJson => &zeek::EXTRA,
            Format::Eve => &json::EVE_EXTRA,
            _ => &[],
        };
        let extra = if self.format == Format::NslKdd {
            kdd::extra_names()
        } else {
            extra.iter().map(|s| s.to_string()).collect()
        };
        FlowSchema {
            format: self.format.name().to_string(),
            extra,
        }
    }

    /// Decodes one line (a trailing `\r` or `\n` is ignored). Lines longer than
    /// [`MAX_LINE_BYTES`] are bad; blank lines are [`Decoded::Meta`].
    pub fn decode(&mut self, line: &[u8]) -> Result<Decoded, DecodeError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(DecodeError::Bad(format!(
                "line longer than {MAX_LINE_BYTES} bytes"
            )));
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            return Ok(Decoded::Meta);
        }
        match self.parser.parse(line) {
            Ok(Parsed::Flow(f)) => Ok(Decoded::Flow(f)),
            Ok(Parsed::Meta) => Ok(Decoded::Meta),
            Ok(Parsed::Skipped) => Ok(Decoded::Skipped),
            Err(LineError::Bad(m)) => Err(DecodeError::Bad(m)),
            Err(LineError::Fatal(m)) => Err(DecodeError::Fatal(m)),
        }
    }
}

/// Recognises the format of one JSON event line: [`Format::Eve`] when it has an `event_type`
/// member, [`Format::ZeekJson`] when it has `id.orig_h`; `None` for anything else (including
/// lines that are not JSON objects).
pub fn detect_json_line(line: &[u8]) -> Option<Format> {
    if !line.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // built once: a searcher's setup costs more than searching one short line
    static EVE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"event_type\""));
    static ZEEK: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"id.orig_h\""));
    if EVE.find(line).is_some() {
        Some(Format::Eve)
    } else if ZEEK.find(line).is_some() {
        Some(Format::ZeekJson)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_lines_and_keeps_zeek_header_state() {
        let mut z = LineDecoder::new(Format::ZeekJson).unwrap();
        let ok = br#"{"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1234,"id.resp_h":"10.0.0.2","id.resp_p":443,"proto":"tcp","orig_bytes":10}"#;
        let Ok(Decoded::Flow(f)) = z.decode(ok) else {
            panic!("not a flow")
        };
        assert_eq!(f.dst_port, Some(443));
        assert_eq!(f.extra.len(), 3);
        assert_eq!(z.decode(b"  \r\n"), Ok(Decoded::Meta));
        assert!(matches!(z.decode(b"not json"), Err(DecodeError::Bad(_))));
        assert!(matches!(
            z.decode(br#"{"id.orig_h":"999.1.1.1"}"#),
            Err(DecodeError::Bad(m)) if m.contains("id.orig_h")
        ));
        assert_eq!(z.decode(br#"{"_path":"dns"}"#), Ok(Decoded::Skipped));
        let huge = vec![b'{'; MAX_LINE_BYTES + 1];
        assert!(matches!(z.decode(&huge), Err(DecodeError::Bad(_))));

        let mut t = LineDecoder::new(Format::Zeek).unwrap();
        assert_eq!(
            t.decode(b"#fields\tts\tid.orig_h\tid.resp_h\n"),
            Ok(Decoded::Meta)
        );
        assert!(matches!(
            t.decode(b"1.0\t10.0.0.1\t10.0.0.2\n"),
            Ok(Decoded::Flow(_))
        ));
        assert!(matches!(
            t.decode(b"1.0\t10.0.0.1"),
            Err(DecodeError::Bad(_))
        ));
        assert!(matches!(
            t.decode(b"#path\tdns"),
            Err(DecodeError::Fatal(_))
        ));
        assert!(LineDecoder::new(Format::Pcap).is_none());
        assert_eq!(
            LineDecoder::new(Format::Eve).unwrap().schema().extra,
            ["alert_signature_id", "alert_severity"]
        );
    }

    #[test]
    fn detects_json_line_formats() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (br#"{"event_type":"flow"}"#, Some(Format::Eve)),
            (br#" {"id.orig_h":"1.2.3.4"}"#, Some(Format::ZeekJson)),
            (br#"{"ts":1}"#, None),
            (b"\"event_type\"", None),
            (b"", None),
            (b"\xff\xfe{", None),
        ];
        for (line, want) in cases {
            assert_eq!(
                detect_json_line(line),
                *want,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
