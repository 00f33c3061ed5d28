//! Probability calibration of binary scores: Platt scaling and isotonic regression.
//!
//! Fit a [`Calibrator`] on held-out `(score, label)` pairs (never on the rows the model was
//! trained on), then map new scores with [`Calibrator::apply`].

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// Which calibration to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    /// Sigmoid of an affine function of the raw score (for margins / log-odds).
    Platt,
    /// Sigmoid of an affine function of `logit(score)` (for scores that are already
    /// probabilities).
    PlattLogit,
    /// Monotone step-wise fit (pool-adjacent-violators), interpolated linearly between steps.
    Isotonic,
}

/// A fitted score-to-probability map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// Returns scores unchanged (clamped to `[0, 1]`).
    Identity,
    /// `p = 1 / (1 + exp(-(a * s + b)))`, with `s = logit(score)` when `logit_input`.
    Platt {
        /// Slope.
        a: f64,
        /// Offset.
        b: f64,
        /// Whether scores are turned into log-odds first.
        logit_input: bool,
    },
    /// Piecewise-linear non-decreasing map through the points `(x[i], y[i])`, constant beyond
    /// the ends.
    Isotonic {
        /// Score knots, non-decreasing.
        x: Vec<f32>,
        /// Calibrated probability at each knot.
        y: Vec<f32>,
    },
}

fn logit(p: f32) -> f64 {
    let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

fn check(scores: &[f32], labels: &[u32]) -> Result<()> {
    if scores.is_empty() {
        return Err(MlError::Empty("scores"));
    }
    if scores.len() != labels.len() {
        return Err(MlError::LengthMismatch {
            what: "labels",
            expected: scores.len(),
            got: labels.len(),
        });
    }
    for (row, (&s, &l)) in scores.iter().zip(labels).enumerate() {
        if !s.is_finite() {
            return Err(MlError::NonFiniteScore { row });
        }
        if l > 1 {
            return Err(MlError::LabelOutOfRange {
                label: u64::from(l),
                row,
                n_classes: 2,
            });
        }
    }
    if !labels.contains(&1) {
        return Err(MlError::EmptyClass { class: 1 });
    }
    if !labels.contains(&0) {
        return Err(MlError::EmptyClass { class: 0 });
    }
    Ok(())
}

impl Calibrator {
    /// Fits `method` on scores and 0/1 labels (both classes required, scores finite).
    pub fn fit(method: CalibrationMethod, scores: &[f32], labels: &[u32]) -> Result<Self> {
        check(scores, labels)?;
        match method {
            CalibrationMethod::Platt => Ok(Self::platt(scores, labels, false)),
            CalibrationMethod::PlattLogit => Ok(Self::platt(scores, labels, true)),
            CalibrationMethod::Isotonic => Ok(Self::isotonic(scores, labels)),
        }
    }

    /// Platt's method: Newton iterations on the log-loss against smoothed targets
    /// `(N+ + 1) / (N+ + 2)` and `1 / (N- + 2)`, which keeps the fit finite on separable data.
    fn platt(scores: &[f32], labels: &[u32], logit_input: bool) -> Self {
        let s: Vec<f64> = scores
            .iter()
            .map(|&v| if logit_input { logit(v) } else { f64::from(v) })
            .collect();
        let n_pos = labels.iter().filter(|&&l| l == 1).count() as f64;
        let n_neg = labels.len() as f64 - n_pos;
        let hi = (n_pos + 1.0) / (n_pos + 2.0);
        let lo = 1.0 / (n_neg + 2.0);
        let t: Vec<f64> = labels
            .iter()
            .map(|&l| if l == 1 { hi } else { lo })
            .collect();
        let loss = |a: f64, b: f64| -> f64 {
            s.iter()
                .zip(&t)
                .map(|(&x, &ti)| {
                    let m = a * x + b;
                    // -(t log p + (1 - t) log(1 - p)) with p = sigmoid(m), stable.
                    m.max(0.0) + (-m.abs()).exp().ln_1p() - ti * m
                })
                .sum()
        };
        let (mut a, mut b) = (0.0f64, ((n_pos + 1.0) / (n_neg + 1.0)).ln());
        let mut f = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
            for (&x, &ti) in s.iter().zip(&t) {
                let p = 1.0 / (1.0 + (-(a * x + b)).exp());
                let d = p - ti;
                let w = (p * (1.0 - p)).max(1e-12);
                ga += d * x;
                gb += d;
                haa += w * x * x;
                hab += w * x;
                hbb += w;
            }
            if ga.abs() < 1e-10 && gb.abs() < 1e-10 {
                break;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-300 {
                break;
            }
            let da = -(hbb * ga - hab * gb) / det;
            let db = -(haa * gb - hab * ga) / det;
            let mut step = 1.0;
            let mut improved = false;
            while step > 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = loss(na, nb);
                if nf.is_finite() && nf < f + 1e-4 * step * (ga * da + gb * db) {
                    (a, b, f) = (na, nb, nf);
                    improved = true;
                    break;
                }
                step /= 2.0;
            }
            if !improved {
                break;
            }
        }
        Calibrator::Platt { a, b, logit_input }
    }

    /// Pool-adjacent-violators over scores sorted ascending (tied scores pooled first).
    fn isotonic(scores: &[f32], labels: &[u32]) -> Self {
        let mut idx: Vec<usize> = (0..scores.len()).collect();
        idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        // Blocks: (x_lo, x_hi, label sum, weight).
        let mut blocks: Vec<(f32, f32, f64, f64)> = Vec::new();
        for &i in &idx {
            let (x, y) = (scores[i], f64::from(labels[i]));
            match blocks.last_mut() {
                Some(last) if last.1 == x => {
                    last.2 += y;
                    last.3 += 1.0;
                }
                _ => blocks.push((x, x, y, 1.0)),
            }
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (prev, cur) = (blocks[n - 2], blocks[n - 1]);
                if prev.2 / prev.3 >= cur.2 / cur.3 {
                    blocks.pop();
                    if let Some(p) = blocks.last_mut() {
                        *p = (prev.0, cur.1, prev.2 + cur.2, prev.3 + cur.3);
                    }
                } else {
                    break;
                }
            }
        }
        let mut x = Vec::with_capacity(blocks.len() * 2);
        let mut y = Vec::with_capacity(blocks.len() * 2);
        for (lo, hi, sum, w) in blocks {
            let v = (sum / w) as f32;
            x.push(lo);
            y.push(v);
            if hi > lo {
                x.push(hi);
                y.push(v);
            }
        }
        Calibrator::Isotonic { x, y }
    }

    /// The calibrated probability of `score`. NaN stays NaN.
    pub fn apply(&self, score: f32) -> f32 {
        if score.is_nan() {
            return f32::NAN;
        }
        match self {
            Calibrator::Identity => score.clamp(0.0, 1.0),
            Calibrator::Platt { a, b, logit_input } => {
                let s = if *logit_input {
                    logit(score)
                } else {
                    f64::from(score)
                };
                (1.0 / (1.0 + (-(a * s + b)).exp())) as f32
            }
            Calibrator::Isotonic { x, y } => {
                let n = x.len().min(y.len());
                if n == 0 {
                    return score.clamp(0.0, 1.0);
                }
                let (x, y) = (&x[..n], &y[..n]);
                let i = x.partition_point(|&k| k <= score);
                if i == 0 {
                    return y[0];
                }
                if i == n {
                    return y[n - 1];
                }
                let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
                if x1 <= x0 {
                    return y1;
                }
                let t = (score - x0) / (x1 - x0);
                y0 + t * (y1 - y0)
            }
        }
    }

    /// Applies [`Calibrator::apply`] to every score in place.
    pub fn apply_in_place(&self, scores: &mut [f32]) {
        for s in scores {
            *s = self.apply(*s);
        }
    }
}
