//! Feature binning: per-feature quantile edges, learnt once from the training rows.

use serde::{Deserialize, Serialize};

use crate::Matrix;

/// The bin index reserved for missing (NaN) values.
pub(crate) const MISSING_BIN: u8 = 255;
/// Rows sampled to learn bin edges.
const BIN_SAMPLE_ROWS: usize = 200_000;

/// Per-feature bin edges. A value `v` falls in bin `#{e in edges : e < v}`, so `v <= edges[b]`
/// exactly when its bin is `<= b`; tree thresholds are edges, which keeps training (on bins) and
/// scoring (on raw `f32`) consistent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BinMapper {
    edges: Vec<Vec<f32>>,
}

/// An edge `e` with `a <= e < b` (for `a < b`), finite so it survives JSON.
fn edge_between(a: f32, b: f32) -> f32 {
    if a == f32::NEG_INFINITY {
        return b.next_down().max(-f32::MAX);
    }
    let mid = ((f64::from(a) + f64::from(b)) / 2.0) as f32;
    if !mid.is_finite() || mid >= b || mid < a {
        a
    } else {
        mid
    }
}

impl BinMapper {
    /// Learns edges with at most `max_bins` (≤ 255) value bins per feature from `rows` of `x`.
    pub(crate) fn fit(
        x: &Matrix,
        rows: &[usize],
        max_bins: usize,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let max_bins = max_bins.clamp(2, 255);
        let sample: Vec<usize> = if rows.len() > BIN_SAMPLE_ROWS {
            let mut s = rows.to_vec();
            rng.shuffle(&mut s);
            s.truncate(BIN_SAMPLE_ROWS);
            s.sort_unstable();
            s
        } else {
            rows.to_vec()
        };
        let mut values = Vec::with_capacity(sample.len());
        let edges = (0..x.n_cols())
            .map(|f| {
                values.clear();
                values.extend(sample.iter().map(|&i| x.get(i, f)).filter(|v| !v.is_nan()));
                values.sort_unstable_by(f32::total_cmp);
                Self::feature_edges(&values, max_bins)
            })
            .collect();
        Self { edges }
    }

    fn feature_edges(sorted: &[f32], max_bins: usize) -> Vec<f32> {
        // Distinct values and their counts (-0.0 and 0.0 are one value).
        let mut distinct: Vec<(f32, usize)> = Vec::new();
        for &v in sorted {
            match distinct.last_mut() {
                Some((last, count)) if *last == v => *count += 1,
                _ => distinct.push((v, 1)),
            }
        }
        if distinct.len() <= 1 {
            return Vec::new();
        }
        if distinct.len() <= max_bins {
            return distinct
                .windows(2)
                .map(|w| edge_between(w[0].0, w[1].0))
                .collect();
        }
        // Quantile cuts on counts; a heavy value keeps a bin to itself.
        let mut edges = Vec::with_capacity(max_bins - 1);
        let total = sorted.len();
        let mut seen = 0usize;
        let mut next_cut = total as f64 / max_bins as f64;
        for i in 0..distinct.len() - 1 {
            seen += distinct[i].1;
            if seen as f64 >= next_cut {
                edges.push(edge_between(distinct[i].0, distinct[i + 1].0));
                if edges.len() == max_bins - 1 {
                    break;
                }
                let bins_left = (max_bins - edges.len()) as f64;
                next_cut = seen as f64 + (total - seen) as f64 / bins_left;
            }
        }
        edges
    }

    /// Number of features.
    pub(crate) fn n_features(&self) -> usize {
        self.edges.len()
    }

    /// Number of value bins of feature `f` (the missing bin not counted).
    pub(crate) fn n_bins(&self, f: usize) -> usize {
        self.edges.get(f).map_or(1, |e| e.len() + 1)
    }

    /// The threshold that sends bins `<= b` left.
    pub(crate) fn threshold(&self, f: usize, b: u8) -> f32 {
        self.edges
            .get(f)
            .and_then(|e| e.get(b as usize))
            .copied()
            .unwrap_or(f32::MAX)
    }

    /// The bin of value `v` of feature `f`.
    #[inline]
    pub(crate) fn bin(&self, f: usize, v: f32) -> u8 {
        if v.is_nan() {
            return MISSING_BIN;
        }
        let e = self.edges.get(f).map_or(&[][..], Vec::as_slice);
        e.partition_point(|&edge| edge < v) as u8
    }

    /// Bins every row of `x` into a column-major table.
    pub(crate) fn transform(&self, x: &Matrix) -> Binned {
        let n = x.n_rows();
        let mut cols = vec![0u8; n * self.edges.len()];
        for (i, row) in x.rows().enumerate() {
            for (f, &v) in row.iter().enumerate() {
                cols[f * n + i] = self.bin(f, v);
            }
        }
        Binned { n_rows: n, cols }
    }
}

/// Column-major binned features (`cols[f * n_rows + i]`).
#[derive(Debug, Clone)]
pub(crate) struct Binned {
    pub(crate) n_rows: usize,
    cols: Vec<u8>,
}

impl Binned {
    /// The bins of feature `f` for every row.
    #[inline]
    pub(crate) fn col(&self, f: usize) -> &[u8] {
        self.cols
            .get(f * self.n_rows..(f + 1) * self.n_rows)
            .unwrap_or(&[])
    }
}
