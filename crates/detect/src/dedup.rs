//! Alert de-duplication: one alert per (detector, entity, kind) per window of event time.
//!
//! The kind is the alert's MITRE technique list (for network detectors, that is the attack
//! family; the anomaly detector has none, so one anomaly alert per host per window), except for
//! `net.device` alerts, whose headline names the device and the novelty.
//!
//! A port scan is thousands of flows; the analyst needs one alert that says so, not thousands.
//! The first alert of a key passes; later ones within `window_secs` of the last one that passed
//! are suppressed and counted. Memory is bounded: when the table is full, keys idle for longer
//! than the window are dropped, and if none are, the oldest.

use std::collections::BTreeMap;
use ward_core::Alert;

#[derive(Debug)]
pub struct Deduper {
    window_micros: i64,
    capacity: usize,
    last: BTreeMap<(String, String, String), i64>,
    suppressed: u64,
}

impl Deduper {
    /// `window_secs` 0 disables de-duplication.
    pub fn new(window_secs: u64, capacity: usize) -> Self {
        Self {
            window_micros: i64::try_from(window_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX),
            capacity: capacity.max(1),
            last: BTreeMap::new(),
            suppressed: 0,
        }
    }

    /// Whether the alert should be emitted.
    pub fn admit(&mut self, a: &Alert) -> bool {
        if self.window_micros == 0 {
            return true;
        }
        let t = a.time.micros();
        let kind = if a.detector == "net.device" {
            a.title.clone()
        } else {
            a.mitre.join(",")
        };
        let key = (a.detector.clone(), a.entity.to_string(), kind);
        if let Some(prev) = self.last.get(&key)
            && t.saturating_sub(*prev).saturating_abs() < self.window_micros
        {
            self.suppressed += 1;
            return false;
        }
        if self.last.len() >= self.capacity && !self.last.contains_key(&key) {
            let horizon = t - self.window_micros;
            self.last.retain(|_, v| *v >= horizon);
            if self.last.len() >= self.capacity
                && let Some(oldest) = self
                    .last
                    .iter()
                    .min_by_key(|(_, v)| **v)
                    .map(|(k, _)| k.clone())
            {
                self.last.remove(&oldest);
            }
        }
        self.last.insert(key, t);
        true
    }

    /// Alerts suppressed so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{EntityId, Evidence, Explanation, Timestamp};

    fn alert(secs: i64, host: &str) -> Alert {
        Alert::new(
            Timestamp(secs * 1_000_000),
            "net.supervised",
            80,
            EntityId::host(host),
            format!("likely Probe from {host} to 10.0.0.{}:80", secs % 200),
            Explanation::default(),
            Evidence::default(),
        )
        .with_mitre(&["T1046"])
    }

    #[test]
    fn suppresses_repeats_within_the_window_only() {
        let mut d = Deduper::new(300, 100);
        let cases = [
            (0, "a", true),
            (10, "a", false),
            (10, "b", true),
            (299, "a", false),
            (300, "a", true),
            (301, "a", false),
        ];
        for (t, h, want) in cases {
            assert_eq!(d.admit(&alert(t, h)), want, "t={t} host={h}");
        }
        assert_eq!(d.suppressed(), 3);
        let mut off = Deduper::new(0, 1);
        assert!(off.admit(&alert(0, "a")) && off.admit(&alert(0, "a")));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut d = Deduper::new(60, 50);
        for i in 0..10_000 {
            assert!(d.admit(&alert(i, &format!("h{i}"))));
        }
        assert!(d.last.len() <= 50);
    }
}
