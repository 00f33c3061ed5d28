//! Input formats, their command-line names, and recognition from content and file name.

use std::fmt;
use std::str::FromStr;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Zeek `conn.log`, tab-separated with `#` headers.
    Zeek,
    /// Zeek `conn.log` as JSON lines.
    ZeekJson,
    /// Suricata EVE JSON lines (`flow` and `alert` events).
    Eve,
    /// NSL-KDD / KDD'99 CSV (no header; 41 features, attack name, optional difficulty).
    NslKdd,
    /// UNSW-NB15 CSV: the training/testing partition layout with a header, or the raw
    /// `UNSW-NB15_1..4.csv` layout without one.
    Unsw,
    /// Any flow CSV, read through a [`crate::CsvMapping`].
    Csv,
    /// pcap or pcapng packet capture, assembled into flows.
    Pcap,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 7] = [
        Self::Zeek,
        Self::ZeekJson,
        Self::Eve,
        Self::NslKdd,
        Self::Unsw,
        Self::Csv,
        Self::Pcap,
    ];

    /// The command-line name (`zeek`, `zeek-json`, `eve`, `nsl-kdd`, `unsw-nb15`, `csv`, `pcap`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Zeek => "zeek",
            Self::ZeekJson => "zeek-json",
            Self::Eve => "eve",
            Self::NslKdd => "nsl-kdd",
            Self::Unsw => "unsw-nb15",
            Self::Csv => "csv",
            Self::Pcap => "pcap",
        }
    }

    /// The known names, comma separated, for error messages.
    pub fn known_names() -> String {
        Self::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}; known formats: {known}")]
pub struct ParseFormatError {
    pub name: String,
    pub known: String,
}

impl FromStr for Format {
    type Err = ParseFormatError;

    /// Accepts the command-line names plus a few aliases (`suricata`, `kdd`, `unsw`, `pcapng`,
    /// `zeek-tsv`, `zeek-ndjson`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "zeek" | "zeek-tsv" | "conn" => Self::Zeek,
            "zeek-json" | "zeek-ndjson" => Self::ZeekJson,
            "eve" | "suricata" | "eve-json" => Self::Eve,
            "nsl-kdd" | "kdd" | "nslkdd" | "kdd99" => Self::NslKdd,
            "unsw-nb15" | "unsw" | "unswnb15" => Self::Unsw,
            "csv" => Self::Csv,
            "pcap" | "pcapng" => Self::Pcap,
            _ => {
                return Err(ParseFormatError {
                    name: s.to_string(),
                    known: Format::known_names(),
                });
            }
        })
    }
}

/// True when `b` starts with a pcap or pcapng magic number.
pub(crate) fn is_pcap_magic(b: &[u8]) -> bool {
    matches!(
        b.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Recognises a format from the first line of content (`prefix`), then from the file name.
/// `csv_mapping` makes `csv` the fallback for unrecognised text.
pub(crate) fn detect(prefix: &[u8], name: &str, csv_mapping: bool) -> Option<Format> {
    if is_pcap_magic(prefix) {
        return Some(Format::Pcap);
    }
    let first = match memchr::memchr(b'\n', prefix) {
        Some(i) => prefix.get(..i).unwrap_or_default(),
        None => prefix,
    };
    let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    if first.starts_with(b"#separator") || first.starts_with(b"#fields\t") {
        return Some(Format::Zeek);
    }
    if first.trim_ascii_start().starts_with(b"{") {
        if contains(first, b"\"event_type\"") {
            return Some(Format::Eve);
        }
        if contains(first, b"\"id.orig_h\"") {
            return Some(Format::ZeekJson);
        }
    }
    if first.starts_with(b"id,dur,proto") || contains(first, b"attack_cat") {
        return Some(Format::Unsw);
    }
    let cols = first.split(|c| *c == b',').count();
    if cols == 42 || cols == 43 {
        let proto = first.split(|c| *c == b',').nth(1).unwrap_or_default();
        if matches!(proto, b"tcp" | b"udp" | b"icmp") {
            return Some(Format::NslKdd);
        }
    }
    if cols == crate::unsw::RAW_COLUMNS.len()
        && first
            .split(|c| *c == b',')
            .next()
            .and_then(crate::fields::parse_ip)
            .is_some()
    {
        return Some(Format::Unsw);
    }
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if base.ends_with(".pcap") || base.ends_with(".pcapng") || base.ends_with(".cap") {
        return Some(Format::Pcap);
    }
    if csv_mapping && !first.is_empty() {
        return Some(Format::Csv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("Suricata".parse::<Format>(), Ok(Format::Eve));
        let e = "netflow".parse::<Format>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown format \"netflow\"; known formats: zeek, zeek-json, eve, nsl-kdd, unsw-nb15, csv, pcap"
        );
    }

    #[test]
    fn detects_from_content_and_name() {
        let kdd = b"0,tcp,http,SF,1,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1,0,0,1,1,1,0,0,0,0,0,0,0,normal,21\n";
        let cases: &[(&[u8], &str, bool, Option<Format>)] = &[
            (b"#separator \\x09\n", "x", false, Some(Format::Zeek)),
            (
                b"{\"timestamp\":\"x\",\"event_type\":\"flow\"}\n",
                "x",
                false,
                Some(Format::Eve),
            ),
            (
                b"{\"ts\":1.0,\"id.orig_h\":\"1.2.3.4\"}\n",
                "x",
                false,
                Some(Format::ZeekJson),
            ),
            (b"{\"ts\":1.0}\n", "x.json", false, None),
            (kdd, "x", false, Some(Format::NslKdd)),
            (b"id,dur,proto,service\n", "x", false, Some(Format::Unsw)),
            (b"a,b,attack_cat,label\n", "x", false, Some(Format::Unsw)),
            (b"\xd4\xc3\xb2\xa1\x02\x00", "x", false, Some(Format::Pcap)),
            (b"\x0a\x0d\x0d\x0a", "x", false, Some(Format::Pcap)),
            (b"", "cap.pcapng", false, Some(Format::Pcap)),
            (b"a,b\n", "x.csv", true, Some(Format::Csv)),
            (b"a,b\n", "x.csv", false, None),
            (b"\x00\x01garbage", "x", false, None),
        ];
        for (prefix, name, csv, want) in cases {
            assert_eq!(
                detect(prefix, name, *csv),
                *want,
                "{}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}
