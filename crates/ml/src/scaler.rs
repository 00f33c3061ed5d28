//! Small preprocessing helpers: online min-max normalisation, a standard scaler fitted on a
//! [`Matrix`], signed `log1p` for heavy-tailed counts, frequency and one-hot encoders for
//! categorical columns, and exact-value rarity counts.
//!
//! Conventions shared by every helper here:
//! - missing values are `NaN` (as in [`Matrix`]) and stay `NaN` through [`StandardScaler`] and
//!   [`signed_log1p`]; fitting ignores them;
//! - fitting never fails on odd data: a constant or all-missing column gets a unit scale, so
//!   transforms never divide by zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::matrix::Matrix;

/// Errors from the scaling helpers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScalerError {
    /// A row or matrix had a different number of columns than the scaler was fitted on.
    #[error("expected {expected} columns, got {got}")]
    Width {
        /// Columns the scaler was fitted on.
        expected: usize,
        /// Columns supplied.
        got: usize,
    },
    /// A column index was out of range.
    #[error("column {col} is out of range for a matrix with {n_cols} columns")]
    Column {
        /// The offending index.
        col: usize,
        /// Columns in the matrix.
        n_cols: usize,
    },
}

/// Added to a min-max range before dividing, as in Kitsune's KitNET, so a feature that was
/// constant while fitting maps any other value far outside `0..=1` instead of dividing by zero.
pub const MIN_MAX_EPSILON: f64 = 1e-16;

/// Running per-feature minimum and maximum, updated one observation at a time.
///
/// Non-finite values are ignored by [`update`](Self::update). Before a feature has seen any
/// finite value its range is empty and it normalises to `x - 0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineMinMax {
    min: Vec<f64>,
    max: Vec<f64>,
    seen: Vec<bool>,
}

impl OnlineMinMax {
    /// A normaliser for `n` features that has seen nothing yet.
    pub fn new(n: usize) -> Self {
        Self {
            min: vec![0.0; n],
            max: vec![0.0; n],
            seen: vec![false; n],
        }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.min.len()
    }

    /// Whether this normaliser has zero features.
    pub fn is_empty(&self) -> bool {
        self.min.is_empty()
    }

    /// Widens the ranges to include `x`. Extra or missing trailing values are ignored.
    pub fn update(&mut self, x: &[f64]) {
        for (((lo, hi), seen), &v) in self
            .min
            .iter_mut()
            .zip(self.max.iter_mut())
            .zip(self.seen.iter_mut())
            .zip(x)
        {
            if !v.is_finite() {
                continue;
            }
            if *seen {
                *lo = lo.min(v);
                *hi = hi.max(v);
            } else {
                *lo = v;
                *hi = v;
                *seen = true;
            }
        }
    }

    /// Writes `(x - min) / (max - min + MIN_MAX_EPSILON)` into `out` (up to the shorter of the
    /// three lengths). Non-finite inputs give `NaN`.
    pub fn normalize_into(&self, x: &[f64], out: &mut [f64]) {
        for (((o, &v), &lo), &hi) in out.iter_mut().zip(x).zip(&self.min).zip(&self.max) {
            *o = if v.is_finite() {
                (v - lo) / (hi - lo + MIN_MAX_EPSILON)
            } else {
                f64::NAN
            };
        }
    }

    /// Per-feature minimum seen so far (0 for a feature that has seen nothing).
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// Per-feature maximum seen so far (0 for a feature that has seen nothing).
    pub fn max(&self) -> &[f64] {
        &self.max
    }
}

/// Standardises columns to zero mean and unit variance: `(x - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl StandardScaler {
    /// Fits means and (population) standard deviations column by column, ignoring `NaN` and
    /// infinite values. A constant or all-missing column gets `std = 1`.
    pub fn fit(m: &Matrix) -> Self {
        let d = m.n_cols();
        let mut n = vec![0.0f64; d];
        let mut mean = vec![0.0f64; d];
        let mut m2 = vec![0.0f64; d];
        for row in m.rows() {
            for (((&v, n), mean), m2) in row.iter().zip(&mut n).zip(&mut mean).zip(&mut m2) {
                if !v.is_finite() {
                    continue;
                }
                let v = f64::from(v);
                *n += 1.0;
                let delta = v - *mean;
                *mean += delta / *n;
                *m2 += delta * (v - *mean);
            }
        }
        let std = n
            .iter()
            .zip(&m2)
            .map(|(&n, &m2)| {
                let s = if n > 0.0 { (m2 / n).sqrt() } else { 0.0 };
                if s.is_finite() && s > 1e-12 { s } else { 1.0 }
            })
            .collect();
        Self { mean, std }
    }

    /// Number of columns the scaler was fitted on.
    pub fn n_cols(&self) -> usize {
        self.mean.len()
    }

    /// Per-column means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-column standard deviations (1 for constant columns).
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Standardises one row in place. `NaN` stays `NaN`.
    pub fn transform_row(&self, row: &mut [f32]) -> Result<(), ScalerError> {
        if row.len() != self.mean.len() {
            return Err(ScalerError::Width {
                expected: self.mean.len(),
                got: row.len(),
            });
        }
        for ((v, &mean), &std) in row.iter_mut().zip(&self.mean).zip(&self.std) {
            *v = ((f64::from(*v) - mean) / std) as f32;
        }
        Ok(())
    }

    /// Returns a standardised copy of `m`.
    pub fn transform(&self, m: &Matrix) -> Result<Matrix, ScalerError> {
        if m.n_cols() != self.mean.len() {
            return Err(ScalerError::Width {
                expected: self.mean.len(),
                got: m.n_cols(),
            });
        }
        let mut data = m.as_slice().to_vec();
        if !self.mean.is_empty() {
            for row in data.chunks_exact_mut(self.mean.len()) {
                self.transform_row(row)?;
            }
        }
        Matrix::from_vec(data, m.n_cols()).ok_or(ScalerError::Width {
            expected: self.mean.len(),
            got: m.n_cols(),
        })
    }
}

/// `sign(x) * ln(1 + |x|)`: compresses heavy-tailed counts (bytes, packets, rates) while keeping
/// order and sign. `NaN` stays `NaN`; infinities stay infinite.
pub fn signed_log1p(x: f32) -> f32 {
    x.signum() * x.abs().ln_1p()
}

/// Returns a copy of `m` with [`signed_log1p`] applied to the listed columns.
pub fn log1p_columns(m: &Matrix, cols: &[usize]) -> Result<Matrix, ScalerError> {
    let d = m.n_cols();
    if let Some(&col) = cols.iter().find(|&&c| c >= d) {
        return Err(ScalerError::Column { col, n_cols: d });
    }
    let mut data = m.as_slice().to_vec();
    if d > 0 {
        for row in data.chunks_exact_mut(d) {
            for &c in cols {
                if let Some(v) = row.get_mut(c) {
                    *v = signed_log1p(*v);
                }
            }
        }
    }
    Matrix::from_vec(data, d).ok_or(ScalerError::Width {
        expected: d,
        got: d,
    })
}

/// Maps category labels to their relative frequency in the fitting data (a label seen in 30% of
/// rows encodes as `0.3`); unseen labels encode as `0`. One column instead of a one-hot block,
/// which keeps rare categories (often the interesting ones) distinguishable from common ones.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrequencyEncoder {
    freq: BTreeMap<String, f64>,
}

impl FrequencyEncoder {
    /// Counts the labels.
    pub fn fit<'a, I: IntoIterator<Item = &'a str>>(labels: I) -> Self {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0u64;
        for l in labels {
            *counts.entry(l.to_owned()).or_default() += 1;
            total += 1;
        }
        let total = total.max(1) as f64;
        Self {
            freq: counts
                .into_iter()
                .map(|(k, c)| (k, c as f64 / total))
                .collect(),
        }
    }

    /// The label's relative frequency, `0` if it was never seen.
    pub fn encode(&self, label: &str) -> f64 {
        self.freq.get(label).copied().unwrap_or(0.0)
    }

    /// Number of distinct labels seen while fitting.
    pub fn n_labels(&self) -> usize {
        self.freq.len()
    }
}

/// One-hot encoding over the labels seen while fitting (at least `min_count` times), plus one
/// final "unseen" column for everything else, so a category never seen in benign training
/// data lights up its own input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OneHotEncoder {
    vocab: Vec<String>,
}

impl OneHotEncoder {
    /// Learns the vocabulary (sorted, so the column order is deterministic).
    pub fn fit<'a, I: IntoIterator<Item = &'a str>>(labels: I, min_count: usize) -> Self {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for l in labels {
            *counts.entry(l).or_default() += 1;
        }
        let mut vocab: Vec<String> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count.max(1))
            .map(|(l, _)| l.to_owned())
            .collect();
        vocab.sort();
        Self { vocab }
    }

    /// Output columns: one per known label plus the "unseen" column.
    pub fn width(&self) -> usize {
        self.vocab.len() + 1
    }

    /// The known labels, in column order (the unseen column comes last).
    pub fn labels(&self) -> &[String] {
        &self.vocab
    }

    /// Writes the encoding of `label` into `out` (which must have length
    /// [`width`](Self::width)).
    pub fn encode_into(&self, label: &str, out: &mut [f32]) -> Result<(), ScalerError> {
        if out.len() != self.width() {
            return Err(ScalerError::Width {
                expected: self.width(),
                got: out.len(),
            });
        }
        out.iter_mut().for_each(|v| *v = 0.0);
        let col = self
            .vocab
            .binary_search_by(|v| v.as_str().cmp(label))
            .unwrap_or(self.vocab.len());
        if let Some(v) = out.get_mut(col) {
            *v = 1.0;
        }
        Ok(())
    }
}

/// Rarity of exact values: how many fitting rows had exactly this value, as `ln(1 + count)`.
///
/// Machine-generated traffic repeats exact sizes (a protocol's request is always 534 bytes),
/// so a size never seen in benign data is a useful anomaly cue even when it lies inside the
/// benign range. When encoding the fitting rows themselves use
/// [`encode_excluding_self`](Self::encode_excluding_self) (leave-one-out), so that a value seen
/// once in training encodes as 0 like an unseen value would at test time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValueCounts {
    /// `f64::to_bits` of the value → count, ordered so the serialised form is deterministic. `-0.0` is folded into `0.0`; `NaN` is not counted.
    counts: BTreeMap<u64, u32>,
}

impl ValueCounts {
    fn key(v: f64) -> Option<u64> {
        if v.is_nan() {
            None
        } else if v == 0.0 {
            Some(0.0f64.to_bits())
        } else {
            Some(v.to_bits())
        }
    }

    /// Counts the values (`NaN` is skipped).
    pub fn fit<I: IntoIterator<Item = f64>>(values: I) -> Self {
        let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
        for v in values {
            if let Some(k) = Self::key(v) {
                let c = counts.entry(k).or_default();
                *c = c.saturating_add(1);
            }
        }
        Self { counts }
    }

    /// Times `v` was seen while fitting.
    pub fn count(&self, v: f64) -> u32 {
        Self::key(v)
            .and_then(|k| self.counts.get(&k).copied())
            .unwrap_or(0)
    }

    /// `ln(1 + count(v))`.
    pub fn encode(&self, v: f64) -> f64 {
        f64::from(self.count(v)).ln_1p()
    }

    /// `ln(1 + count(v) - 1)`: the encoding of a row that was itself part of the fitting data.
    pub fn encode_excluding_self(&self, v: f64) -> f64 {
        f64::from(self.count(v).saturating_sub(1)).ln_1p()
    }

    /// Number of distinct values seen.
    pub fn n_values(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[f32]]) -> Matrix {
        let d = rows.first().map_or(0, |r| r.len());
        let mut m = Matrix::with_cols(d);
        for r in rows {
            assert!(m.push_row(r));
        }
        m
    }

    #[test]
    fn online_min_max_tracks_ranges_and_ignores_non_finite() {
        let mut mm = OnlineMinMax::new(2);
        mm.update(&[1.0, f64::NAN]);
        mm.update(&[3.0, 5.0]);
        mm.update(&[f64::INFINITY, -1.0]);
        assert_eq!(mm.min(), &[1.0, -1.0]);
        assert_eq!(mm.max(), &[3.0, 5.0]);
        let mut out = [0.0; 2];
        mm.normalize_into(&[2.0, 2.0], &mut out);
        assert!((out[0] - 0.5).abs() < 1e-12 && (out[1] - 0.5).abs() < 1e-12);
        mm.normalize_into(&[f64::NAN, 11.0], &mut out);
        assert!(out[0].is_nan());
        assert!((out[1] - 2.0).abs() < 1e-12);
        // short input: no panic, untouched tail
        mm.update(&[]);
        mm.normalize_into(&[], &mut out);
    }

    #[test]
    fn standard_scaler_check_cases() {
        // (rows, expected mean, expected std)
        let check = |rows: &[&[f32]], mean: &[f64], std: &[f64]| {
            let s = StandardScaler::fit(&matrix(rows));
            for (a, b) in s.mean().iter().zip(mean) {
                assert!((a - b).abs() < 1e-9, "mean {a} != {b}");
            }
            for (a, b) in s.std().iter().zip(std) {
                assert!((a - b).abs() < 1e-9, "std {a} != {b}");
            }
        };
        check(&[&[1.0, 5.0], &[3.0, 5.0]], &[2.0, 5.0], &[1.0, 1.0]);
        check(
            &[&[f32::NAN, 0.0], &[4.0, 2.0], &[6.0, f32::NAN]],
            &[5.0, 1.0],
            &[1.0, 1.0],
        );
        check(&[&[f32::NAN], &[f32::NAN]], &[0.0], &[1.0]);
        check(&[&[f32::INFINITY], &[2.0]], &[2.0], &[1.0]);
    }

    #[test]
    fn standard_scaler_transforms_and_rejects_wrong_width() {
        let m = matrix(&[&[1.0, 10.0], &[3.0, 30.0], &[f32::NAN, 20.0]]);
        let s = StandardScaler::fit(&m);
        let t = s.transform(&m).unwrap();
        assert_eq!(t.row(0), &[-1.0, -(1.5f32).sqrt()]);
        assert!(t.get(2, 0).is_nan());
        assert_eq!(
            s.transform(&Matrix::with_cols(3)),
            Err(ScalerError::Width {
                expected: 2,
                got: 3
            })
        );
        let mut short = [1.0f32];
        assert!(s.transform_row(&mut short).is_err());
    }

    #[test]
    fn signed_log1p_cases() {
        for (x, want) in [
            (0.0f32, 0.0f32),
            (1.0, 2f32.ln()),
            (-1.0, -(2f32.ln())),
            (1e30, 1e30f32.ln_1p()),
        ] {
            assert!((signed_log1p(x) - want).abs() < 1e-5, "{x}");
        }
        assert!(signed_log1p(f32::NAN).is_nan());
        assert_eq!(signed_log1p(f32::INFINITY), f32::INFINITY);
        let m = matrix(&[&[1.0, 1.0]]);
        let t = log1p_columns(&m, &[1]).unwrap();
        assert_eq!(t.row(0), &[1.0, 2f32.ln()]);
        assert_eq!(
            log1p_columns(&m, &[2]),
            Err(ScalerError::Column { col: 2, n_cols: 2 })
        );
    }

    #[test]
    fn frequency_encoder_counts_labels() {
        let e = FrequencyEncoder::fit(["tcp", "udp", "tcp", "tcp"]);
        assert_eq!(e.encode("tcp"), 0.75);
        assert_eq!(e.encode("udp"), 0.25);
        assert_eq!(e.encode("sctp"), 0.0);
        assert_eq!(e.n_labels(), 2);
        assert_eq!(FrequencyEncoder::fit([]).encode("x"), 0.0);
    }

    #[test]
    fn one_hot_has_an_unseen_column() {
        let e = OneHotEncoder::fit(["udp", "tcp", "tcp", "icmp"], 1);
        assert_eq!(e.labels(), &["icmp", "tcp", "udp"]);
        let check = |label: &str, want: &[f32]| {
            let mut out = vec![9.0; e.width()];
            e.encode_into(label, &mut out).unwrap();
            assert_eq!(out, want, "{label}");
        };
        check("tcp", &[0.0, 1.0, 0.0, 0.0]);
        check("icmp", &[1.0, 0.0, 0.0, 0.0]);
        check("sctp", &[0.0, 0.0, 0.0, 1.0]);
        check("", &[0.0, 0.0, 0.0, 1.0]);
        assert!(e.encode_into("tcp", &mut [0.0; 3]).is_err());
        // rare labels fall into the unseen column
        let e = OneHotEncoder::fit(["a", "a", "b"], 2);
        assert_eq!(e.labels(), &["a"]);
        assert_eq!(OneHotEncoder::fit([], 1).width(), 1);
    }

    #[test]
    fn value_counts_cases() {
        let c = ValueCounts::fit([534.0, 534.0, 1064.0, 0.0, -0.0, f64::NAN]);
        for (v, count) in [
            (534.0, 2),
            (1064.0, 1),
            (564.0, 0),
            (0.0, 2),
            (-0.0, 2),
            (f64::NAN, 0),
        ] {
            assert_eq!(c.count(v), count, "{v}");
        }
        assert!((c.encode(534.0) - 3f64.ln()).abs() < 1e-12);
        assert_eq!(c.encode_excluding_self(1064.0), 0.0);
        assert_eq!(c.encode(564.0), 0.0);
        assert_eq!(c.encode_excluding_self(564.0), 0.0);
        assert_eq!(c.n_values(), 3);
        let back: ValueCounts = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
