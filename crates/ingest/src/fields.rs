//! Allocation-free parsing of single fields from byte slices, and the error texts for them.
//!
//! Error texts quote at most a short prefix of the offending value, never a whole line.

use std::net::{IpAddr, Ipv4Addr};
use ward_core::{Proto, Timestamp};

/// How many bytes of a bad value an error message quotes.
const SHOW_MAX: usize = 32;

/// A bad value, quoted and shortened for an error message.
pub(crate) fn show(b: &[u8]) -> String {
    let cut = b.len() > SHOW_MAX;
    let s = String::from_utf8_lossy(b.get(..SHOW_MAX).unwrap_or(b));
    if cut {
        format!("{:?}...", s)
    } else {
        format!("{:?}", s)
    }
}

/// `field NAME: PROBLEM "VALUE"`.
pub(crate) fn bad(field: &str, what: &str, value: &[u8]) -> String {
    format!("field {field}: {what} {}", show(value))
}

/// Strips ASCII whitespace at both ends.
pub(crate) fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// An unsigned decimal integer (digits only).
pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// A port number: decimal, or hexadecimal with a `0x` prefix (UNSW-NB15 writes some that way).
pub(crate) fn parse_port(b: &[u8]) -> Option<u16> {
    if let Some(hex) = b.strip_prefix(b"0x").or_else(|| b.strip_prefix(b"0X")) {
        let s = std::str::from_utf8(hex).ok()?;
        return u16::from_str_radix(s, 16).ok();
    }
    parse_u64(b).and_then(|v| u16::try_from(v).ok())
}

/// Exact powers of ten as `f64` (all representable without rounding).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `ddd.ddd` without sign or exponent, when the digits fit in 2^53: one exact division by an
/// exact power of ten, which is correctly rounded (the same value `str::parse` gives).
fn fast_decimal(b: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut frac_digits = None;
    let mut digits = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + u64::from(c - b'0');
                digits += 1;
                if digits > 15 {
                    return None;
                }
            }
            b'.' if frac_digits.is_none() => frac_digits = Some(b.len() - i - 1),
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    Some(mant as f64 / *POW10.get(frac_digits.unwrap_or(0))?)
}

/// A finite floating-point number.
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    if let Some(v) = fast_decimal(b) {
        return Some(v);
    }
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// A non-negative finite duration in seconds.
pub(crate) fn parse_duration(b: &[u8]) -> Option<f64> {
    parse_f64(b).filter(|v| *v >= 0.0)
}

/// Dotted-quad IPv4 (no leading zeros beyond a single `0`, as `Ipv4Addr::from_str` wants).
fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut out = [0u8; 4];
    let mut parts = b.split(|c| *c == b'.');
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.first() == Some(&b'0')) {
            return None;
        }
        *slot = u8::try_from(parse_u64(p)?).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(out))
}

/// An IPv4 or IPv6 address.
pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if b.len() <= 15
        && let Some(v4) = parse_ipv4(b)
    {
        return Some(IpAddr::V4(v4));
    }
    if b.len() > 64 {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Fractional Unix seconds (`1331901000.123456`), exact to the microsecond (further digits are
/// truncated); falls back to RFC 3339 text.
pub(crate) fn parse_epoch(b: &[u8]) -> Option<Timestamp> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let (int, frac) = match memchr::memchr(b'.', digits) {
        Some(i) => (digits.get(..i)?, digits.get(i + 1..)?),
        None => (digits, &b""[..]),
    };
    if let Some(secs) = parse_u64(int).filter(|s| *s <= 9_000_000_000_000)
        && (frac.is_empty() || frac.iter().all(u8::is_ascii_digit))
    {
        let mut micros: i64 = 0;
        let mut scale = 100_000;
        for &c in frac.iter().take(6) {
            micros += i64::from(c - b'0') * scale;
            scale /= 10;
        }
        let v = (secs as i64) * 1_000_000 + micros;
        return Some(Timestamp(if neg { -v } else { v }));
    }
    let s = std::str::from_utf8(b).ok()?;
    if let Ok(v) = s.parse::<f64>() {
        return Timestamp::from_secs_f64(v);
    }
    Timestamp::parse_rfc3339(s)
}

/// A protocol name or number; names are matched case-insensitively.
pub(crate) fn parse_proto(s: &str) -> Proto {
    match Proto::parse(s) {
        Proto::Other(_) if s.bytes().any(|c| c.is_ascii_uppercase()) => {
            Proto::parse(&s.to_ascii_lowercase())
        }
        p => p,
    }
}

/// UTF-8 text of a field, or an error naming the field.
pub(crate) fn utf8<'a>(b: &'a [u8], field: &str) -> Result<&'a str, String> {
    std::str::from_utf8(b).map_err(|_| format!("field {field}: invalid utf-8"))
}

/// Splits one CSV line on `delim`, honouring double quotes (`"a,b"`, `"say ""hi"""`) within the
/// line. Fields are appended to `out` as byte ranges into `line`, or into `scratch` for quoted
/// fields that needed unescaping (marked by the bool).
pub(crate) fn split_csv(
    line: &[u8],
    delim: u8,
    out: &mut Vec<(bool, usize, usize)>,
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    scratch.clear();
    let mut i = 0;
    loop {
        if line.get(i) == Some(&b'"') {
            let start = scratch.len();
            i += 1;
            loop {
                match line.get(i) {
                    None => return Err(format!("unterminated quoted field {}", out.len() + 1)),
                    Some(b'"') if line.get(i + 1) == Some(&b'"') => {
                        scratch.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        scratch.push(c);
                        i += 1;
                    }
                }
            }
            out.push((true, start, scratch.len()));
            match line.get(i) {
                None => return Ok(()),
                Some(&c) if c == delim => i += 1,
                Some(_) => {
                    return Err(format!("field {}: text after closing quote", out.len()));
                }
            }
        } else {
            let rest = line.get(i..).unwrap_or_default();
            match memchr::memchr(delim, rest) {
                Some(n) => {
                    out.push((false, i, i + n));
                    i += n + 1;
                }
                None => {
                    out.push((false, i, line.len()));
                    return Ok(());
                }
            }
        }
    }
}

/// Resolves a range produced by [`split_csv`].
pub(crate) fn csv_field<'a>(
    line: &'a [u8],
    scratch: &'a [u8],
    r: (bool, usize, usize),
) -> &'a [u8] {
    let src = if r.0 { scratch } else { line };
    src.get(r.1..r.2).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_ports() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1.0"), None);
        assert_eq!(parse_port(b"65535"), Some(65535));
        assert_eq!(parse_port(b"65536"), None);
        assert_eq!(parse_port(b"0x000b"), Some(11));
        assert_eq!(parse_port(b"0x"), None);
    }

    #[test]
    fn epochs_are_exact() {
        assert_eq!(
            parse_epoch(b"1331901000.123456"),
            Some(Timestamp(1_331_901_000_123_456))
        );
        assert_eq!(
            parse_epoch(b"1331901000.1234567"),
            Some(Timestamp(1_331_901_000_123_456))
        );
        assert_eq!(
            parse_epoch(b"1331901000"),
            Some(Timestamp(1_331_901_000_000_000))
        );
        assert_eq!(parse_epoch(b"-1.5"), Some(Timestamp(-1_500_000)));
        assert_eq!(parse_epoch(b"1e3"), Some(Timestamp(1_000_000_000)));
        assert_eq!(
            parse_epoch(b"2024-05-01T12:00:00Z"),
            Timestamp::parse_rfc3339("2024-05-01T12:00:00Z")
        );
        for bad in [&b""[..], b".", b"1.2.3", b"abc", b"nan", b"inf"] {
            assert_eq!(parse_epoch(bad), None, "{}", show(bad));
        }
    }

    #[test]
    fn decimals_match_std() {
        for t in [
            "0",
            "1.5",
            "0.000001",
            "123456.789012",
            "1.",
            ".5",
            "999999999999999",
            "0.1",
            "2.675",
        ] {
            assert_eq!(parse_f64(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
        for t in ["1e3", "-2.5", "1234567890123456789.5"] {
            assert_eq!(parse_f64(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
        for bad in ["", ".", "1.2.3", "nan", "inf", "--1", "1,5"] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn ipv4_fast_path_matches_std() {
        for t in [
            "0.0.0.0",
            "10.0.0.5",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..3.4",
            "1.2.3.",
            "::1",
            "fe80::1%eth0",
            "::ffff:1.2.3.4",
        ] {
            assert_eq!(parse_ip(t.as_bytes()), t.parse::<IpAddr>().ok(), "{t}");
        }
    }

    #[test]
    fn show_shortens() {
        assert_eq!(show(b"abc"), "\"abc\"");
        let long = [b'x'; 100];
        assert_eq!(show(&long), format!("\"{}\"...", "x".repeat(32)));
    }

    #[test]
    fn csv_split_handles_quotes() {
        let check = |line: &str, want: Result<Vec<&str>, ()>| {
            let (mut out, mut scratch) = (Vec::new(), Vec::new());
            let got = split_csv(line.as_bytes(), b',', &mut out, &mut scratch).map(|()| {
                out.iter()
                    .map(|r| {
                        String::from_utf8_lossy(csv_field(line.as_bytes(), &scratch, *r))
                            .into_owned()
                    })
                    .collect::<Vec<_>>()
            });
            match want {
                Ok(w) => assert_eq!(
                    got.ok(),
                    Some(w.iter().map(|s| s.to_string()).collect()),
                    "{line}"
                ),
                Err(()) => assert!(got.is_err(), "{line}"),
            }
        };
        check("a,b,c", Ok(vec!["a", "b", "c"]));
        check("", Ok(vec![""]));
        check("a,,", Ok(vec!["a", "", ""]));
        check("\"a,b\",c", Ok(vec!["a,b", "c"]));
        check("\"say \"\"hi\"\"\",x", Ok(vec!["say \"hi\"", "x"]));
        check("\"\"", Ok(vec![""]));
        check("\"open", Err(()));
        check("\"a\"b,c", Err(()));
    }
}
