//! Dates as days since 1970-01-01: `YYYY-MM-DD`, `M/D/YYYY` and `YYYYMMDD`.

use ward_core::time::{civil_from_days, days_from_civil};

/// A calendar day: days since 1970-01-01.
pub type Day = i32;

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn day(y: i64, m: i64, d: i64) -> Option<Day> {
    let days_in = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if !(1800..=2200).contains(&y) || d < 1 || d > days_in {
        return None;
    }
    Day::try_from(days_from_civil(y, m, d)).ok()
}

/// Parses `YYYY-MM-DD`, `M/D/YYYY` (one or two digits for month and day) or `YYYYMMDD`.
/// `None` for anything else, including impossible dates.
pub fn parse(s: &str) -> Option<Day> {
    let s = s.trim();
    if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        return day(num(y)?, num(m)?, num(d)?);
    }
    if let Some((m, rest)) = s.split_once('/') {
        let (d, y) = rest.split_once('/')?;
        return day(num(y)?, num(m)?, num(d)?);
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return day(n / 10_000, n / 100 % 100, n % 100);
    }
    None
}

/// `YYYY-MM-DD` of a day.
pub fn format(d: Day) -> String {
    let (y, m, dd) = civil_from_days(i64::from(d));
    format!("{y:04}-{m:02}-{dd:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_layouts_agree() {
        let a = parse("2009-09-16").unwrap();
        assert_eq!(parse("9/16/2009"), Some(a));
        assert_eq!(parse("09/16/2009"), Some(a));
        assert_eq!(parse("20090916"), Some(a));
        assert_eq!(format(a), "2009-09-16");
        for bad in [
            "",
            "2009-02-30",
            "13/1/2009",
            "2009-9",
            "abc",
            "00000000",
            "2009-01-01x",
            "1/1/20099",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            parse("2/29/2008").map(format).as_deref(),
            Some("2008-02-29")
        );
    }
}
