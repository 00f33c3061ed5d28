//! The learned risk score, cases and the daily alert budget.
//!
//! Without labels, the weights come from the hospital's own log. Snooping is rare even among
//! the accesses that have no clinical reason, so a signal's rate among *unexplained* accesses
//! estimates how often it shows up on legitimate-but-unexplained work (missing data, consults,
//! coverage). Assuming a snooping access shows each of its signals with probability `c`
//! (`snoop_signal_rate`, default 0.5) and that signals are independent (naive Bayes), each
//! signal's log-likelihood ratio is `ln(c / p_u(s))`, with `p_u` Laplace-smoothed; weights are
//! clipped to `0..=max_weight`. Rare signals among unexplained accesses (self-access, shared
//! address, break-the-glass) weigh most; a signal that fires on almost every unexplained access
//! (e.g. outside the user's community in a hospital with sparse records) weighs almost nothing.
//! Strong signals (self-access, deceased, break-the-glass without an encounter) weigh at least
//! `strong_min_weight`.
//!
//! An unexplained access scores the sum of its signals' weights. An explained access is a
//! candidate only when a strong signal fires, and scores the sum of its strong signals'
//! weights minus `explained_discount`.

use crate::explain::Explained;
use crate::signals::Signal;
use serde::{Deserialize, Serialize};

/// Scoring and budget settings. Every field has a default; unknown fields are an error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreConfig {
    /// Laplace pseudo-count added to each signal's count among unexplained accesses.
    /// Default 1.
    pub laplace: f64,
    /// Assumed probability that a snooping access shows a given signal. Default 0.5.
    pub snoop_signal_rate: f64,
    /// Subtracted from the score of an explained access with a strong signal. Default 2.
    pub explained_discount: f64,
    /// Largest weight of one signal, in log-odds. Default 8.
    pub max_weight: f64,
    /// Smallest weight of a strong signal, in log-odds. Default 3.
    pub strong_min_weight: f64,
    /// Share of each budget window's accesses that may be flagged (rounded down). Default
    /// 0.005 (0.5 %).
    pub daily_budget_share: f64,
    /// Length of the budget window in days (1 = a daily budget; a larger window lets a busy
    /// day borrow from quiet ones). Default 1.
    pub budget_days: u32,
    /// Accesses that may be flagged on any day with candidates, whatever the share.
    /// Default 5.
    pub daily_min_accesses: u32,
    /// Most cases per day; 0 = no limit. Default 0.
    pub max_cases_per_day: u32,
    /// Candidates scoring below this log-odds are never flagged. Default -20 (effectively
    /// none: the budget decides).
    pub min_score: f64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            laplace: 1.0,
            snoop_signal_rate: 0.5,
            explained_discount: 2.0,
            max_weight: 8.0,
            strong_min_weight: 3.0,
            daily_budget_share: 0.005,
            budget_days: 1,
            daily_min_accesses: 5,
            max_cases_per_day: 0,
            min_score: -20.0,
        }
    }
}

impl ScoreConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.laplace.is_finite() && self.laplace > 0.0 && self.laplace <= 1e6) {
            return Err("score.laplace must be above 0".to_owned());
        }
        for (name, v) in [
            ("max_weight", self.max_weight),
            ("strong_min_weight", self.strong_min_weight),
        ] {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(format!("score.{name} must be between 0 and 100"));
            }
        }
        if !(self.snoop_signal_rate > 0.0 && self.snoop_signal_rate <= 1.0) {
            return Err("score.snoop_signal_rate must be above 0 and at most 1".to_owned());
        }
        if !self.explained_discount.is_finite() || !(0.0..=100.0).contains(&self.explained_discount)
        {
            return Err("score.explained_discount must be between 0 and 100".to_owned());
        }
        if !(0.0..=1.0).contains(&self.daily_budget_share) {
            return Err("score.daily_budget_share must be between 0 and 1".to_owned());
        }
        if !(1..=3660).contains(&self.budget_days) {
            return Err("score.budget_days must be between 1 and 3660".to_owned());
        }
        if !self.min_score.is_finite() {
            return Err("score.min_score must be finite".to_owned());
        }
        Ok(())
    }
}

/// One signal's learned weight and the counts it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SignalWeight {
    /// The signal.
    pub signal: Signal,
    /// `ln(snoop_signal_rate / p_u)`, clipped.
    pub weight: f64,
    /// Unexplained accesses with the signal.
    pub unexplained: u64,
    /// Explained accesses with the signal.
    pub explained: u64,
}

/// The learned model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weights {
    /// Log-odds that an access is unexplained (reported, not part of the score).
    pub prior: f64,
    /// Subtracted from explained candidates.
    pub explained_discount: f64,
    /// Per signal, in [`Signal::ALL`] order.
    pub signals: Vec<SignalWeight>,
    /// Graded weight of `repeat_patient` by the pair's number of distinct days with
    /// unexplained access: `(days, weight)` ascending; an access whose pair has `k` days uses
    /// the last entry with `days <= k`. The rarer the repetition among unexplained accesses,
    /// the higher the weight (same rule as the other signals, on the tail share).
    pub repeat_by_days: Vec<(u32, f64)>,
    /// Sorted distinct/limit ratios of the unexplained high-volume accesses: `high_volume` is
    /// graded by the share of them at or above an access's ratio.
    #[serde(skip)]
    pub volume_ratios: Vec<f64>,
    /// Sorted hour shares of the unexplained off-hours accesses: `off_hours` is graded by the
    /// share of them at or below an access's share.
    #[serde(skip)]
    pub hour_shares: Vec<f64>,
    /// Unexplained accesses, the smoothing, the snooping rate and the largest weight the
    /// grades use.
    #[serde(skip)]
    grade_base: (f64, f64, f64, f64),
}

/// How strongly a graded signal fired on one access.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grade {
    /// Distinct days of unexplained access of the (user, patient) pair (0: not a repeat).
    pub repeat_days: u32,
    /// The user-day's distinct patients over its peer limit (0: not high volume).
    pub volume_ratio: f64,
    /// The share of the user's other active days with access around that hour (1: not off
    /// hours).
    pub hour_share: f64,
}

impl Default for Grade {
    fn default() -> Self {
        Self {
            repeat_days: 0,
            volume_ratio: 0.0,
            hour_share: 1.0,
        }
    }
}

impl Weights {
    /// The weight of `s` (for `repeat_patient`, at its lowest grade).
    pub fn of(&self, s: Signal) -> f64 {
        self.signals
            .iter()
            .find(|w| w.signal == s)
            .map_or(0.0, |w| w.weight)
    }

    /// The weight of `s` on an access whose (user, patient) pair has `repeat_days` distinct
    /// days of unexplained access.
    pub fn of_access(&self, s: Signal, grade: Grade) -> f64 {
        if s == Signal::RepeatPatient
            && let Some(&(_, w)) = self
                .repeat_by_days
                .iter()
                .take_while(|(d, _)| *d <= grade.repeat_days)
                .last()
        {
            return w.max(self.of(s));
        }
        if s == Signal::OffHours && !self.hour_shares.is_empty() {
            let (u, a, c, max) = self.grade_base;
            let tail = self.hour_shares.partition_point(|x| *x <= grade.hour_share) as f64;
            let w = (c / ((tail + a) / (u + 2.0 * a))).ln().clamp(0.0, max);
            return w.max(self.of(s));
        }
        if s == Signal::HighVolume && !self.volume_ratios.is_empty() {
            let (u, a, c, max) = self.grade_base;
            let n = self.volume_ratios.len();
            let tail = (n - self
                .volume_ratios
                .partition_point(|r| *r < grade.volume_ratio)) as f64;
            let w = (c / ((tail + a) / (u + 2.0 * a))).ln().clamp(0.0, max);
            return w.max(self.of(s));
        }
        self.of(s)
    }
}

/// Learns the weights from the signal masks and explanations of the whole log.
/// `grade_of` gives each access's [`Grade`].
pub fn learn(
    bits: &[u32],
    expl: &[Explained],
    grade_of: impl Fn(usize) -> Grade,
    cfg: &ScoreConfig,
) -> Weights {
    let mut counts = [(0u64, 0u64); Signal::ALL.len()];
    let (mut unexpl, mut expd) = (0u64, 0u64);
    for (m, e) in bits.iter().zip(expl) {
        let explained = e.is_explained();
        if explained {
            expd += 1;
        } else {
            unexpl += 1;
        }
        for (c, s) in counts.iter_mut().zip(Signal::ALL) {
            if s.is_in(*m) {
                if explained {
                    c.1 += 1;
                } else {
                    c.0 += 1;
                }
            }
        }
    }
    let a = cfg.laplace;
    let (u, e) = (unexpl as f64, expd as f64);
    let prior = ((u + a) / (e + a)).ln();
    let signals = Signal::ALL
        .iter()
        .zip(counts)
        .map(|(&signal, (cu, ce))| {
            let p_u = (cu as f64 + a) / (u + 2.0 * a);
            let mut weight = (cfg.snoop_signal_rate / p_u)
                .ln()
                .clamp(0.0, cfg.max_weight);
            if signal.is_strong() {
                weight = weight.max(cfg.strong_min_weight);
            }
            SignalWeight {
                signal,
                weight,
                unexplained: cu,
                explained: ce,
            }
        })
        .collect();
    // tail shares of repeat days among unexplained accesses
    let mut by_days: Vec<u32> = bits
        .iter()
        .zip(expl)
        .enumerate()
        .filter(|(_, (m, e))| !e.is_explained() && Signal::RepeatPatient.is_in(**m))
        .map(|(i, _)| grade_of(i).repeat_days)
        .collect();
    by_days.sort_unstable();
    let mut repeat_by_days = Vec::new();
    let n_rep = by_days.len();
    let mut i = 0;
    while i < n_rep {
        let d = by_days.get(i).copied().unwrap_or(0);
        let tail = (n_rep - i) as f64;
        let w = (cfg.snoop_signal_rate / ((tail + a) / (u + 2.0 * a)))
            .ln()
            .clamp(0.0, cfg.max_weight);
        repeat_by_days.push((d, w));
        while i < n_rep && by_days.get(i).copied() == Some(d) {
            i += 1;
        }
    }
    let mut volume_ratios: Vec<f64> = bits
        .iter()
        .zip(expl)
        .enumerate()
        .filter(|(_, (m, e))| !e.is_explained() && Signal::HighVolume.is_in(**m))
        .map(|(i, _)| grade_of(i).volume_ratio)
        .collect();
    volume_ratios.sort_unstable_by(f64::total_cmp);
    let mut hour_shares: Vec<f64> = bits
        .iter()
        .zip(expl)
        .enumerate()
        .filter(|(_, (m, e))| !e.is_explained() && Signal::OffHours.is_in(**m))
        .map(|(i, _)| grade_of(i).hour_share)
        .collect();
    hour_shares.sort_unstable_by(f64::total_cmp);
    Weights {
        prior,
        explained_discount: cfg.explained_discount,
        signals,
        repeat_by_days,
        volume_ratios,
        hour_shares,
        grade_base: (u, a, cfg.snoop_signal_rate, cfg.max_weight),
    }
}

/// The score of one access, or `None` when it is not a candidate.
/// `grade` says how strongly the graded signals fired.
pub fn score(w: &Weights, mask: u32, explained: bool, grade: Grade) -> Option<f64> {
    let strong = Signal::ALL
        .iter()
        .filter(|s| s.is_strong())
        .fold(0u32, |m, s| m | s.bit());
    if explained && mask & strong == 0 {
        return None;
    }
    let used = if explained { mask & strong } else { mask };
    let sum: f64 = w
        .signals
        .iter()
        .filter(|s| s.signal.is_in(used))
        .map(|s| w.of_access(s.signal, grade))
        .sum();
    Some(if explained {
        sum - w.explained_discount
    } else {
        sum
    })
}

/// Logistic function: log-odds to probability.
pub fn probability(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds).exp())
}
