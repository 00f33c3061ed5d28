//! L2-regularised logistic regression (binary and multinomial), fitted with L-BFGS on
//! standardised features.
//!
//! Features are standardised inside the model (mean 0, unit variance over the training rows);
//! NaN becomes the mean (0 after standardising). Coefficients are per standardised unit, so a
//! feature's contribution to a prediction is `coef * z` ([`LogReg::contributions`]).
//! Fitting is full-batch and deterministic.

use serde::{Deserialize, Serialize};

use crate::Matrix;
use crate::error::{MlError, Result, check_labels, check_xy};
use crate::gbdt::ClassWeight;

/// Hyper-parameters of [`LogReg`] (defaults in brackets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogRegParams {
    /// L2 penalty `l2 / 2 * |coef|^2` added to the mean log-loss; intercepts are not
    /// penalised. [1e-4]
    pub l2: f64,
    /// Maximum L-BFGS iterations. [500]
    pub max_iter: usize,
    /// Stop when the largest gradient component falls below this. [1e-6]
    pub tol: f64,
    /// L-BFGS history length. [10]
    pub memory: usize,
    /// Class weighting. [None]
    pub class_weight: ClassWeight,
}

impl Default for LogRegParams {
    fn default() -> Self {
        Self {
            l2: 1e-4,
            max_iter: 500,
            tol: 1e-6,
            memory: 10,
            class_weight: ClassWeight::None,
        }
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogReg {
    n_features: usize,
    n_classes: usize,
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// `n_outputs * n_features`, row per output.
    coef: Vec<f64>,
    intercept: Vec<f64>,
    params: LogRegParams,
    iterations: usize,
    converged: bool,
}

/// Minimises `f` (which returns the value and writes the gradient) from `x` with L-BFGS and an
/// Armijo backtracking line search. Returns (iterations, converged).
fn lbfgs(
    x: &mut [f64],
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    max_iter: usize,
    tol: f64,
    memory: usize,
) -> Result<(usize, bool)> {
    let d = x.len();
    let mut g = vec![0.0; d];
    let mut fx = f(x, &mut g);
    if !fx.is_finite() {
        return Err(MlError::Diverged("non-finite initial loss"));
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut dir = vec![0.0; d];
    let mut x_new = vec![0.0; d];
    let mut g_new = vec![0.0; d];
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    for iter in 0..max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < tol {
            return Ok((iter, true));
        }
        // Two-loop recursion: dir = -H g.
        dir.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
        let mut alpha = vec![0.0; s_hist.len()];
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &dir);
            dir.iter_mut()
                .zip(&y_hist[i])
                .for_each(|(di, yi)| *di -= alpha[i] * yi);
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / dot(&g, &g).sqrt().max(1.0),
        };
        dir.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..s_hist.len() {
            let beta = rho[i] * dot(&y_hist[i], &dir);
            dir.iter_mut()
                .zip(&s_hist[i])
                .for_each(|(di, si)| *di += (alpha[i] - beta) * si);
        }
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            dir.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
            slope = dot(&g, &dir);
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..50 {
            x_new
                .iter_mut()
                .zip(x.iter().zip(&dir))
                .for_each(|(n, (xi, di))| *n = xi + step * di);
            let f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                let improvement = fx - f_new;
                x.copy_from_slice(&x_new);
                g.copy_from_slice(&g_new);
                fx = f_new;
                if sy > 1e-12 {
                    if s_hist.len() == memory.max(1) {
                        s_hist.remove(0);
                        y_hist.remove(0);
                        rho.remove(0);
                    }
                    s_hist.push(s);
                    y_hist.push(y);
                    rho.push(1.0 / sy);
                }
                accepted = true;
                if improvement <= 1e-14 * fx.abs().max(1.0) {
                    return Ok((iter + 1, true));
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            // No decrease possible at machine precision: at a minimum for practical purposes.
            return Ok((
                iter,
                g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < tol.sqrt(),
            ));
        }
    }
    Ok((max_iter, false))
}

impl LogReg {
    /// Fits on `x` with labels `y` in `0..n_classes` (`n_classes >= 2`; sigmoid model when 2,
    /// softmax otherwise). Every class needs at least one row.
    pub fn fit(x: &Matrix, y: &[u32], n_classes: usize, params: &LogRegParams) -> Result<Self> {
        if !(params.l2.is_finite() && params.l2 >= 0.0) {
            return Err(MlError::InvalidParam {
                name: "l2",
                reason: format!("{} must be finite and >= 0", params.l2),
            });
        }
        if !(params.tol.is_finite() && params.tol > 0.0) {
            return Err(MlError::InvalidParam {
                name: "tol",
                reason: format!("{} must be positive", params.tol),
            });
        }
        if params.max_iter == 0 {
            return Err(MlError::InvalidParam {
                name: "max_iter",
                reason: "must be at least 1".into(),
            });
        }
        crate::error::check_n_classes(n_classes, 2)?;
        check_xy(x, y.len())?;
        check_labels(y, n_classes)?;
        let mut counts = vec![0usize; n_classes];
        for &l in y {
            counts[l as usize] += 1;
        }
        if let Some(class) = counts.iter().position(|&c| c == 0) {
            return Err(MlError::EmptyClass { class });
        }
        let class_w = params.class_weight.weights(y, n_classes)?;
        let (n, nf) = (x.n_rows(), x.n_cols());
        let k = if n_classes == 2 { 1 } else { n_classes };

        // Standardisation.
        let mut mean = vec![0.0f64; nf];
        let mut seen = vec![0usize; nf];
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_finite() {
                    mean[j] += f64::from(v);
                    seen[j] += 1;
                }
            }
        }
        for (m, &c) in mean.iter_mut().zip(&seen) {
            *m = if c > 0 { *m / c as f64 } else { 0.0 };
        }
        let mut var = vec![0.0f64; nf];
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_finite() {
                    var[j] += (f64::from(v) - mean[j]).powi(2);
                }
            }
        }
        let scale: Vec<f64> = var
            .iter()
            .zip(&seen)
            .map(|(&v, &c)| {
                let sd = if c > 0 { (v / c as f64).sqrt() } else { 0.0 };
                if sd > 1e-12 && sd.is_finite() {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        let mut z = vec![0.0f64; n * nf];
        for (i, row) in x.rows().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                z[i * nf + j] = standardize(v, mean[j], scale[j]);
            }
        }
        let w: Vec<f64> = y.iter().map(|&l| class_w[l as usize]).collect();
        let wsum: f64 = w.iter().sum();
        let l2 = params.l2;

        // Parameters: k rows of [coef (nf) | intercept].
        let width = nf + 1;
        let mut theta = vec![0.0f64; k * width];
        let mut margins = vec![0.0f64; k];
        let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let mut loss = 0.0;
            for i in 0..n {
                let zi = &z[i * nf..(i + 1) * nf];
                for (c, m) in margins.iter_mut().enumerate() {
                    let t = &theta[c * width..(c + 1) * width];
                    *m = t[nf] + zi.iter().zip(&t[..nf]).map(|(a, b)| a * b).sum::<f64>();
                }
                let wi = w[i] / wsum;
                let label = y[i] as usize;
                if k == 1 {
                    let m = margins[0];
                    let s = if label == 1 { -m } else { m };
                    loss += wi * (s.max(0.0) + (-s.abs()).exp().ln_1p());
                    let p = 1.0 / (1.0 + (-m).exp());
                    let r = wi * (p - if label == 1 { 1.0 } else { 0.0 });
                    let gr = &mut grad[..width];
                    gr.iter_mut().zip(zi).for_each(|(g, a)| *g += r * a);
                    gr[nf] += r;
                } else {
                    let mx = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let lse = mx + margins.iter().map(|m| (m - mx).exp()).sum::<f64>().ln();
                    loss += wi * (lse - margins[label]);
                    for c in 0..k {
                        let p = (margins[c] - lse).exp();
                        let r = wi * (p - if c == label { 1.0 } else { 0.0 });
                        let gr = &mut grad[c * width..(c + 1) * width];
                        gr.iter_mut().zip(zi).for_each(|(g, a)| *g += r * a);
                        gr[nf] += r;
                    }
                }
            }
            for c in 0..k {
                for j in 0..nf {
                    let t = theta[c * width + j];
                    loss += 0.5 * l2 * t * t;
                    grad[c * width + j] += l2 * t;
                }
            }
            loss
        };
        let (iterations, converged) = lbfgs(
            &mut theta,
            objective,
            params.max_iter,
            params.tol,
            params.memory,
        )?;
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(MlError::Diverged("non-finite coefficients"));
        }
        let mut coef = Vec::with_capacity(k * nf);
        let mut intercept = Vec::with_capacity(k);
        for c in 0..k {
            coef.extend_from_slice(&theta[c * width..c * width + nf]);
            intercept.push(theta[c * width + nf]);
        }
        Ok(Self {
            n_features: nf,
            n_classes,
            mean,
            scale,
            coef,
            intercept,
            params: params.clone(),
            iterations,
            converged,
        })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// Outputs (1 for binary, `n_classes` otherwise).
    pub fn n_outputs(&self) -> usize {
        self.intercept.len()
    }
    /// Coefficients per standardised feature, `n_outputs()` rows of `n_features()`.
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }
    /// One intercept per output.
    pub fn intercepts(&self) -> &[f64] {
        &self.intercept
    }
    /// Training means and standard deviations used to standardise each feature.
    pub fn standardization(&self) -> (&[f64], &[f64]) {
        (&self.mean, &self.scale)
    }
    /// L-BFGS iterations used, and whether the gradient tolerance was met.
    pub fn convergence(&self) -> (usize, bool) {
        (self.iterations, self.converged)
    }
    /// The parameters used.
    pub fn params(&self) -> &LogRegParams {
        &self.params
    }

    fn check_row(&self, row: &[f32]) -> Result<()> {
        if row.len() != self.n_features {
            return Err(MlError::FeatureMismatch {
                expected: self.n_features,
                got: row.len(),
            });
        }
        if self.mean.len() != self.n_features
            || self.scale.len() != self.n_features
            || self.coef.len() != self.n_features * self.n_outputs()
            || self.n_outputs()
                != if self.n_classes == 2 {
                    1
                } else {
                    self.n_classes
                }
        {
            return Err(MlError::InvalidModel(
                "logistic regression shapes disagree".into(),
            ));
        }
        Ok(())
    }

    fn margins(&self, row: &[f32], out: &mut [f64]) {
        for (c, m) in out.iter_mut().enumerate() {
            let coef = self
                .coef
                .get(c * self.n_features..(c + 1) * self.n_features)
                .unwrap_or(&[]);
            let mut s = self.intercept.get(c).copied().unwrap_or(0.0);
            for (j, (&v, &b)) in row.iter().zip(coef).enumerate() {
                s += b * standardize(v, self.mean[j], self.scale[j]);
            }
            *m = s;
        }
    }

    /// Class probabilities of one row into `out` (`n_classes()` long).
    pub fn predict_proba_row_into(&self, row: &[f32], out: &mut [f32]) -> Result<()> {
        self.check_row(row)?;
        if out.len() != self.n_classes {
            return Err(MlError::LengthMismatch {
                what: "output buffer",
                expected: self.n_classes,
                got: out.len(),
            });
        }
        let mut m = [0.0f64; 1];
        if self.n_outputs() == 1 {
            self.margins(row, &mut m);
            let p = (1.0 / (1.0 + (-m[0]).exp())) as f32;
            out.copy_from_slice(&[1.0 - p, p]);
        } else {
            let mut ms = vec![0.0f64; self.n_outputs()];
            self.margins(row, &mut ms);
            let mx = ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = ms.iter().map(|v| (v - mx).exp()).sum();
            for (o, v) in out.iter_mut().zip(&ms) {
                *o = ((v - mx).exp() / s) as f32;
            }
        }
        Ok(())
    }

    /// Class probabilities of one row.
    pub fn predict_proba(&self, row: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.n_classes];
        self.predict_proba_row_into(row, &mut out)?;
        Ok(out)
    }

    /// One score per row: P(class 1) for binary models, `1 - P(class 0)` otherwise.
    pub fn predict_into(&self, x: &Matrix, out: &mut [f32]) -> Result<()> {
        if out.len() != x.n_rows() {
            return Err(MlError::LengthMismatch {
                what: "output buffer",
                expected: x.n_rows(),
                got: out.len(),
            });
        }
        let mut probs = vec![0f32; self.n_classes];
        for (row, o) in x.rows().zip(out.iter_mut()) {
            self.predict_proba_row_into(row, &mut probs)?;
            *o = if self.n_classes == 2 {
                probs[1]
            } else {
                1.0 - probs[0]
            };
        }
        Ok(())
    }

    /// [`LogReg::predict_into`] into a new vector.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f32>> {
        let mut out = vec![0f32; x.n_rows()];
        self.predict_into(x, &mut out)?;
        Ok(out)
    }

    /// The most probable class of each row.
    pub fn predict_classes(&self, x: &Matrix) -> Result<Vec<u32>> {
        let mut probs = vec![0f32; self.n_classes];
        let mut out = Vec::with_capacity(x.n_rows());
        for row in x.rows() {
            self.predict_proba_row_into(row, &mut probs)?;
            let mut best = 0;
            for (c, &p) in probs.iter().enumerate() {
                if p > probs[best] {
                    best = c;
                }
            }
            out.push(best as u32);
        }
        Ok(out)
    }

    /// Per-feature contributions `coef * z` to each output's margin: `n_outputs()` blocks of
    /// `n_features() + 1`, the last entry of a block being the intercept. Each block sums to
    /// the margin.
    pub fn contributions(&self, row: &[f32]) -> Result<Vec<f32>> {
        self.check_row(row)?;
        let width = self.n_features + 1;
        let mut out = vec![0f32; self.n_outputs() * width];
        for (c, block) in out.chunks_mut(width).enumerate() {
            let coef = self
                .coef
                .get(c * self.n_features..(c + 1) * self.n_features)
                .unwrap_or(&[]);
            for (j, ((o, &v), &b)) in block.iter_mut().zip(row).zip(coef).enumerate() {
                *o = (b * standardize(v, self.mean[j], self.scale[j])) as f32;
            }
            if let Some(last) = block.last_mut() {
                *last = self.intercept.get(c).copied().unwrap_or(0.0) as f32;
            }
        }
        Ok(out)
    }
}

fn standardize(v: f32, mean: f64, scale: f64) -> f64 {
    if v.is_finite() {
        (f64::from(v) - mean) / scale
    } else {
        0.0
    }
}
