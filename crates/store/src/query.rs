//! Alert queries: filters, sort order and paging, shared by every backend.

use crate::StoreError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use ward_core::{Alert, Severity, Timestamp};

/// Page size when [`AlertQuery::limit`] is not set.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest accepted page size.
pub const MAX_LIMIT: u32 = 10_000;
/// Longest accepted search text (and entity/detector filter), in bytes.
pub const MAX_TEXT_LEN: usize = 1_024;

/// Result order. Ties are always broken by alert id so that paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertSort {
    /// Newest first (default): `time DESC, id DESC`.
    #[default]
    TimeDesc,
    /// Oldest first: `time ASC, id ASC`.
    TimeAsc,
    /// Highest score first, newest first within a score: `score DESC, time DESC, id DESC`.
    ScoreDesc,
}

/// Position after the last alert of a page, for keyset paging: pass it as
/// [`AlertQuery::after`] to get the next page. It holds every sort key, so it works with any
/// [`AlertSort`] as long as the same sort is used for the whole walk.
///
/// Text form (for APIs): `<time micros>.<score>.<id>`, e.g. `1700000000000000.87.al_00ff`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlertCursor {
    pub time: Timestamp,
    pub score: u8,
    pub id: String,
}

impl AlertCursor {
    /// The cursor just after `alert`.
    pub fn after(alert: &Alert) -> Self {
        Self {
            time: alert.time,
            score: alert.score,
            id: alert.id.clone(),
        }
    }
}

impl From<&Alert> for AlertCursor {
    fn from(alert: &Alert) -> Self {
        Self::after(alert)
    }
}

impl fmt::Display for AlertCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.time.0, self.score, self.id)
    }
}

impl FromStr for AlertCursor {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidQuery(format!("malformed cursor {:?}", truncate(s, 80)));
        let mut it = s.splitn(3, '.');
        let time = it
            .next()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(bad)?;
        let score = it
            .next()
            .and_then(|t| t.parse::<u8>().ok())
            .ok_or_else(bad)?;
        let id = it
            .next()
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .ok_or_else(bad)?;
        Ok(Self {
            time: Timestamp(time),
            score,
            id: id.to_owned(),
        })
    }
}

impl Serialize for AlertCursor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AlertCursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Which alerts to return and how. All filters are optional and combine with AND; every
/// value is passed to the backend as a bound parameter, never spliced into SQL.
///
/// ```
/// use ward_store::{AlertQuery, AlertSort};
/// use ward_core::Severity;
/// let q = AlertQuery::new().min_severity(Severity::High).detector("net.device").sort(AlertSort::ScoreDesc).limit(50);
/// assert_eq!(q.effective_limit().unwrap(), 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertQuery {
    /// Earliest alert time, inclusive. Default: no bound.
    pub from: Option<Timestamp>,
    /// Latest alert time, exclusive. Default: no bound.
    pub to: Option<Timestamp>,
    /// Only alerts at this severity or above. Default: all.
    pub min_severity: Option<Severity>,
    /// Exact entity, in its text form `kind:value` (`host:10.0.0.5`). Default: all.
    pub entity: Option<String>,
    /// Exact detector name (`net.device`). Default: all.
    pub detector: Option<String>,
    /// Case-insensitive (ASCII) substring of the title; no wildcards (`%`, `_` are literal). Default: none.
    pub text: Option<String>,
    /// Only alerts in this workflow status. Default: all.
    pub status: Option<crate::AlertStatus>,
    /// Result order. Default [`AlertSort::TimeDesc`].
    pub sort: AlertSort,
    /// Page size, 1 to [`MAX_LIMIT`]. Default [`DEFAULT_LIMIT`].
    pub limit: Option<u32>,
    /// Rows to skip (after the cursor, if any). Default 0. Prefer `after` for deep paging.
    pub offset: u64,
    /// Keyset cursor: start just after this position in the sort order. Default: the start.
    pub after: Option<AlertCursor>,
}

impl AlertQuery {
    /// All alerts, newest first, first page of [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the inclusive lower time bound.
    pub fn from(mut self, t: Timestamp) -> Self {
        self.from = Some(t);
        self
    }
    /// Sets the exclusive upper time bound.
    pub fn to(mut self, t: Timestamp) -> Self {
        self.to = Some(t);
        self
    }
    /// Sets the minimum severity.
    pub fn min_severity(mut self, s: Severity) -> Self {
        self.min_severity = Some(s);
        self
    }
    /// Sets the entity filter (`kind:value`).
    pub fn entity(mut self, e: impl Into<String>) -> Self {
        self.entity = Some(e.into());
        self
    }
    /// Sets the detector filter.
    pub fn detector(mut self, d: impl Into<String>) -> Self {
        self.detector = Some(d.into());
        self
    }
    /// Sets the title search text.
    pub fn text(mut self, t: impl Into<String>) -> Self {
        self.text = Some(t.into());
        self
    }
    /// Sets the status filter.
    pub fn status(mut self, s: crate::AlertStatus) -> Self {
        self.status = Some(s);
        self
    }
    /// Sets the sort order.
    pub fn sort(mut self, s: AlertSort) -> Self {
        self.sort = s;
        self
    }
    /// Sets the page size.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }
    /// Sets the offset.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }
    /// Sets the keyset cursor.
    pub fn after(mut self, c: AlertCursor) -> Self {
        self.after = Some(c);
        self
    }

    /// The page size to use, or an error when `limit` is 0 or above [`MAX_LIMIT`].
    pub fn effective_limit(&self) -> Result<u32, StoreError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(StoreError::InvalidQuery(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {n}"
            ))),
        }
    }

    /// Checks the query; backends call this before running it.
    pub fn validate(&self) -> Result<(), StoreError> {
        self.effective_limit()?;
        for (name, v) in [
            ("text", &self.text),
            ("entity", &self.entity),
            ("detector", &self.detector),
        ] {
            if let Some(v) = v
                && v.len() > MAX_TEXT_LEN
            {
                return Err(StoreError::InvalidQuery(format!(
                    "{name} filter is {} bytes long, at most {MAX_TEXT_LEN} allowed",
                    v.len()
                )));
            }
        }
        if self.offset > i64::MAX as u64 {
            return Err(StoreError::InvalidQuery(format!(
                "offset {} is too large",
                self.offset
            )));
        }
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_text_round_trip_and_rejects_garbage() {
        let c = AlertCursor {
            time: Timestamp(-5),
            score: 87,
            id: "al_x.y".into(),
        };
        assert_eq!(c.to_string().parse::<AlertCursor>().unwrap(), c);
        for bad in ["", "1", "1.2", "1.2.", "x.2.id", "1.300.id", "1.-1.id"] {
            assert!(bad.parse::<AlertCursor>().is_err(), "{bad}");
        }
        let long = format!("1.2.{}", "a".repeat(300));
        assert!(long.parse::<AlertCursor>().is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(AlertQuery::new().effective_limit().unwrap(), DEFAULT_LIMIT);
        assert!(AlertQuery::new().limit(0).validate().is_err());
        assert!(AlertQuery::new().limit(MAX_LIMIT + 1).validate().is_err());
        assert!(AlertQuery::new().limit(MAX_LIMIT).validate().is_ok());
        assert!(
            AlertQuery::new()
                .text("x".repeat(MAX_TEXT_LEN + 1))
                .validate()
                .is_err()
        );
        assert!(AlertQuery::new().offset(u64::MAX).validate().is_err());
    }

    proptest::proptest! {
        #[test]
        fn cursor_parse_never_panics(s in ".{0,300}") {
            let _ = s.parse::<AlertCursor>();
        }

        #[test]
        fn cursor_round_trips(t in proptest::num::i64::ANY, score in 0u8..=100, id in "[ -~]{1,64}") {
            let c = AlertCursor { time: Timestamp(t), score, id };
            proptest::prop_assert_eq!(c.to_string().parse::<AlertCursor>().unwrap(), c);
        }
    }

    #[test]
    fn query_json_rejects_unknown_fields() {
        let q: AlertQuery =
            serde_json::from_str(r#"{"min_severity":"high","sort":"score_desc","limit":5}"#)
                .unwrap();
        assert_eq!(
            q,
            AlertQuery::new()
                .min_severity(Severity::High)
                .sort(AlertSort::ScoreDesc)
                .limit(5)
        );
        assert!(serde_json::from_str::<AlertQuery>(r#"{"limt":5}"#).is_err());
    }
}
