//! Histogram gradient-boosted decision trees for classification.
//!
//! Like LightGBM or scikit-learn's `HistGradientBoostingClassifier`: features are bucketed into
//! at most 255 quantile bins (plus one for NaN), trees grow best-first on gradient histograms,
//! missing values learn a default direction per split. Binary problems use the logistic loss
//! (one tree per round), multi-class problems the softmax loss (one tree per class per round).
//!
//! Training is single-threaded and deterministic: the same data, parameters and seed give a
//! bit-identical model. Scoring walks a flat array of 16-byte nodes, 64 rows at a time, without
//! allocating per row ([`Gbdt::predict_into`]). [`Gbdt::contributions`] explains one prediction
//! with TreeSHAP values.

mod bin;
mod explain;
mod grow;
mod score;
mod tree;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Matrix;
use crate::error::{MlError, Result, check_labels, check_xy};
use bin::BinMapper;
use grow::{GrowConfig, Grower};
use score::Forest;
use tree::Tree;

/// How rows of each class are weighted in the loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row weighs 1.
    #[default]
    None,
    /// Class `c` weighs `n_rows / (n_classes * n_c)`, so each class carries equal total weight.
    Balanced,
    /// The square root of the balanced weight: a milder correction that lifts rare classes
    /// without drowning the common ones (the better choice for macro-F1 over many classes).
    SqrtBalanced,
    /// One positive weight per class.
    Explicit(Vec<f32>),
}

impl ClassWeight {
    /// Per-class weights for labels `y` over `n_classes` classes.
    pub(crate) fn weights(&self, y: &[u32], n_classes: usize) -> Result<Vec<f64>> {
        match self {
            ClassWeight::None => Ok(vec![1.0; n_classes]),
            ClassWeight::Balanced | ClassWeight::SqrtBalanced => {
                let power = if matches!(self, ClassWeight::Balanced) {
                    1.0
                } else {
                    0.5
                };
                let mut counts = vec![0usize; n_classes];
                for &l in y {
                    if let Some(c) = counts.get_mut(l as usize) {
                        *c += 1;
                    }
                }
                Ok(counts
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            0.0
                        } else {
                            (y.len() as f64 / (n_classes as f64 * c as f64)).powf(power)
                        }
                    })
                    .collect())
            }
            ClassWeight::Explicit(w) => {
                if w.len() != n_classes {
                    return Err(MlError::LengthMismatch {
                        what: "class weights",
                        expected: n_classes,
                        got: w.len(),
                    });
                }
                if w.iter().any(|&v| !v.is_finite() || v <= 0.0) {
                    return Err(MlError::InvalidParam {
                        name: "class_weight",
                        reason: "weights must be finite and positive".into(),
                    });
                }
                Ok(w.iter().map(|&v| f64::from(v)).collect())
            }
        }
    }
}

/// Hyper-parameters of [`Gbdt`]. Every field has a default (shown in brackets); deserializing
/// rejects unknown fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtParams {
    /// Boosting rounds; each adds one tree per output (one for binary, one per class
    /// otherwise). With early stopping this is the maximum. [200]
    pub n_rounds: usize,
    /// Shrinkage applied to every leaf value. [0.1]
    pub learning_rate: f64,
    /// Maximum leaves per tree (trees grow best-first). [31]
    pub max_leaves: usize,
    /// Maximum depth of a leaf (the root is depth 0). Scoring cost grows with it: every row
    /// takes this many steps per tree. [6]
    pub max_depth: usize,
    /// Minimum training rows in a leaf. [20]
    pub min_samples_leaf: usize,
    /// Minimum hessian sum in a leaf. [1e-3]
    pub min_hessian_leaf: f64,
    /// L2 regularisation on leaf values (lambda). [1.0]
    pub l2: f64,
    /// Minimum loss reduction for a split. [0.0]
    pub min_gain: f64,
    /// Value bins per feature, 2..=255 (NaN gets its own extra bin). [255]
    pub max_bins: usize,
    /// Share of rows sampled (without replacement) for each round, in (0, 1]. [1.0]
    pub subsample: f64,
    /// Share of features sampled for each tree, in (0, 1]. [1.0]
    pub colsample: f64,
    /// Hold out this stratified share of the training rows to stop early when its loss stops
    /// improving; `None` trains all rounds on all rows. Ignored when an explicit evaluation set
    /// is given. [None]
    pub validation_fraction: Option<f64>,
    /// Rounds without validation improvement before stopping. [20]
    pub early_stopping_rounds: usize,
    /// Class weighting for imbalanced data. [None]
    pub class_weight: ClassWeight,
    /// Seed for binning samples, validation split, row and column sampling. [0]
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self {
            n_rounds: 200,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: 6,
            min_samples_leaf: 20,
            min_hessian_leaf: 1e-3,
            l2: 1.0,
            min_gain: 0.0,
            max_bins: 255,
            subsample: 1.0,
            colsample: 1.0,
            validation_fraction: None,
            early_stopping_rounds: 20,
            class_weight: ClassWeight::None,
            seed: 0,
        }
    }
}

fn bad(name: &'static str, reason: impl Into<String>) -> MlError {
    MlError::InvalidParam {
        name,
        reason: reason.into(),
    }
}

impl GbdtParams {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        if self.n_rounds == 0 || self.n_rounds > 1_000_000 {
            return Err(bad(
                "n_rounds",
                format!("{} not in 1..=1000000", self.n_rounds),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return Err(bad(
                "learning_rate",
                format!("{} not in (0, 10]", self.learning_rate),
            ));
        }
        if !(2..=1 << 16).contains(&self.max_leaves) {
            return Err(bad(
                "max_leaves",
                format!("{} not in 2..=65536", self.max_leaves),
            ));
        }
        if !(1..=tree::MAX_TREE_DEPTH).contains(&self.max_depth) {
            return Err(bad(
                "max_depth",
                format!("{} not in 1..={}", self.max_depth, tree::MAX_TREE_DEPTH),
            ));
        }
        if self.min_samples_leaf == 0 {
            return Err(bad("min_samples_leaf", "must be at least 1"));
        }
        for (name, v) in [
            ("min_hessian_leaf", self.min_hessian_leaf),
            ("l2", self.l2),
            ("min_gain", self.min_gain),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(name, format!("{v} must be finite and non-negative")));
            }
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(bad("max_bins", format!("{} not in 2..=255", self.max_bins)));
        }
        for (name, v) in [("subsample", self.subsample), ("colsample", self.colsample)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(bad(name, format!("{v} not in (0, 1]")));
            }
        }
        if let Some(v) = self.validation_fraction
            && !(v > 0.0 && v < 1.0)
        {
            return Err(bad("validation_fraction", format!("{v} not in (0, 1)")));
        }
        if self.early_stopping_rounds == 0 {
            return Err(bad("early_stopping_rounds", "must be at least 1"));
        }
        Ok(())
    }
}

/// What happened during [`Gbdt::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FitSummary {
    /// Rows trained on (after any validation hold-out).
    pub n_train: usize,
    /// Rows used for early stopping (0 without).
    pub n_valid: usize,
    /// Rounds run before stopping.
    pub rounds_run: usize,
    /// Rounds kept in the model.
    pub rounds_kept: usize,
    /// Weighted training loss of the kept model.
    pub train_loss: f64,
    /// Weighted validation loss of the kept model, when validating.
    pub valid_loss: Option<f64>,
    /// Trees in the model.
    pub n_trees: usize,
    /// Nodes in all trees.
    pub n_nodes: usize,
}

/// A trained gradient-boosted tree classifier.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "GbdtRepr")]
pub struct Gbdt {
    n_features: usize,
    n_classes: usize,
    base_score: Vec<f32>,
    trees: Vec<Tree>,
    params: GbdtParams,
    summary: FitSummary,
    #[serde(skip)]
    forest: Forest,
}

/// The serialized form, checked and compiled into a [`Gbdt`] on load.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GbdtRepr {
    n_features: usize,
    n_classes: usize,
    base_score: Vec<f32>,
    trees: Vec<Tree>,
    params: GbdtParams,
    summary: FitSummary,
}

impl TryFrom<GbdtRepr> for Gbdt {
    type Error = MlError;
    fn try_from(r: GbdtRepr) -> Result<Self> {
        Gbdt::assemble(
            r.n_features,
            r.n_classes,
            r.base_score,
            r.trees,
            r.params,
            r.summary,
        )
    }
}

impl fmt::Debug for Gbdt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gbdt")
            .field("n_features", &self.n_features)
            .field("n_classes", &self.n_classes)
            .field("n_trees", &self.trees.len())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Turns scores into probabilities in place (softmax, shifted by the largest score so no
/// exponential overflows).
pub fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
}

/// Weighted mean loss of raw scores `f` (row-major, `k` outputs) against labels.
fn mean_loss(f: &[f32], y: &[u32], class_w: &[f64], k: usize) -> f64 {
    let mut total = 0.0;
    let mut wsum = 0.0;
    let mut buf = vec![0f32; k];
    for (i, &label) in y.iter().enumerate() {
        let w = class_w.get(label as usize).copied().unwrap_or(1.0);
        let row = f.get(i * k..(i + 1) * k).unwrap_or(&[]);
        let l = if k == 1 {
            let z = f64::from(row.first().copied().unwrap_or(0.0));
            // log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, computed stably.
            let s = if label == 1 { -z } else { z };
            s.max(0.0) + (-s.abs()).exp().ln_1p()
        } else {
            buf.copy_from_slice(row);
            softmax_in_place(&mut buf);
            -f64::from(buf.get(label as usize).copied().unwrap_or(0.0))
                .max(1e-15)
                .ln()
        };
        total += w * l;
        wsum += w;
    }
    if wsum > 0.0 { total / wsum } else { 0.0 }
}

impl Gbdt {
    /// Trains on rows `x` with class labels `y` in `0..n_classes` (`n_classes >= 2`; binary
    /// when 2). Every class must have at least one row.
    pub fn fit(x: &Matrix, y: &[u32], n_classes: usize, params: &GbdtParams) -> Result<Self> {
        Self::train(x, y, n_classes, params, None, 0)
    }

    /// Trains on `(x, y)` and stops early on the loss of the given evaluation set (which then
    /// replaces `params.validation_fraction`).
    pub fn fit_with_eval(
        x: &Matrix,
        y: &[u32],
        n_classes: usize,
        params: &GbdtParams,
        eval_x: &Matrix,
        eval_y: &[u32],
    ) -> Result<Self> {
        Self::train(x, y, n_classes, params, Some((eval_x, eval_y)), 0)
    }

    fn train(
        x: &Matrix,
        y: &[u32],
        n_classes: usize,
        params: &GbdtParams,
        eval: Option<Labeled<'_>>,
        hist_cache: usize,
    ) -> Result<Self> {
        params.validate()?;
        crate::error::check_n_classes(n_classes, 2)?;
        check_xy(x, y.len())?;
        check_labels(y, n_classes)?;
        if x.n_rows() > u32::MAX as usize || x.n_cols() >= 1 << 31 {
            return Err(bad("x", "too many rows or columns"));
        }
        let mut counts = vec![0usize; n_classes];
        for &l in y {
            counts[l as usize] += 1;
        }
        if let Some(class) = counts.iter().position(|&c| c == 0) {
            return Err(MlError::EmptyClass { class });
        }
        let class_w = params.class_weight.weights(y, n_classes)?;
        let mut rng = fastrand::Rng::with_seed(params.seed);

        // Training and validation parts.
        let split;
        let (tx, ty, valid): (&Matrix, &[u32], Option<Labeled<'_>>) =
            match (eval, params.validation_fraction) {
                (Some((vx, vy)), _) => {
                    check_xy(vx, vy.len())?;
                    check_labels(vy, n_classes)?;
                    if vx.n_cols() != x.n_cols() {
                        return Err(MlError::FeatureMismatch {
                            expected: x.n_cols(),
                            got: vx.n_cols(),
                        });
                    }
                    (x, y, Some((vx, vy)))
                }
                (None, Some(frac)) => {
                    let (tr, va) = crate::cv::stratified_split(y, frac, rng.u64(..))?;
                    let pick = |idx: &[usize]| idx.iter().map(|&i| y[i]).collect::<Vec<u32>>();
                    split = (x.select_rows(&tr), pick(&tr), x.select_rows(&va), pick(&va));
                    (&split.0, &split.1[..], Some((&split.2, &split.3[..])))
                }
                (None, None) => (x, y, None),
            };

        let n = tx.n_rows();
        let nf = tx.n_cols();
        let k = if n_classes == 2 { 1 } else { n_classes };
        let all: Vec<usize> = (0..n).collect();
        let mapper = BinMapper::fit(tx, &all, params.max_bins, &mut rng);
        let binned = mapper.transform(tx);
        let vbinned = valid.map(|(vx, _)| mapper.transform(vx));

        // Base score: weighted class log-odds / log-priors.
        let mut prior = vec![0f64; n_classes];
        for &l in ty {
            prior[l as usize] += class_w[l as usize];
        }
        let ptotal: f64 = prior.iter().sum();
        let p = |c: usize| (prior[c] / ptotal).clamp(1e-6, 1.0 - 1e-6);
        let base: Vec<f32> = if k == 1 {
            vec![(p(1) / p(0)).ln() as f32]
        } else {
            (0..k).map(|c| p(c).ln() as f32).collect()
        };

        let mut f: Vec<f32> = base.iter().copied().cycle().take(n * k).collect();
        let nv = valid.map_or(0, |(vx, _)| vx.n_rows());
        let mut fv: Vec<f32> = base.iter().copied().cycle().take(nv * k).collect();
        let mut grad = vec![0f32; n * k];
        let mut hess = vec![0f32; n * k];
        let cfg = GrowConfig {
            max_leaves: params.max_leaves,
            max_depth: params.max_depth,
            min_samples_leaf: params.min_samples_leaf,
            min_hessian_leaf: params.min_hessian_leaf,
            l2: params.l2,
            min_gain: params.min_gain,
            learning_rate: params.learning_rate,
            hist_cache,
        };
        let mut grower = Grower::new(&binned, &mapper, cfg);
        let all_rows: Vec<u32> = (0..n as u32).collect();
        let n_sample = ((n as f64 * params.subsample).round() as usize).clamp(1, n);
        let n_cols = ((nf as f64 * params.colsample).round() as usize).clamp(1, nf);
        let mut trees: Vec<Tree> = Vec::new();
        let mut best: Option<(f64, usize, f64)> = None; // (valid loss, round, train loss)
        let mut rounds_run = 0;
        let mut probs = vec![0f32; k];
        let mut rows: Vec<u32> = Vec::with_capacity(n);
        let mut shuffled = all_rows.clone();
        let mut feats: Vec<usize> = (0..nf).collect();

        for round in 0..params.n_rounds {
            rounds_run = round + 1;
            // Gradients and hessians of the loss at the current scores.
            for (i, &label) in ty.iter().enumerate() {
                let w = class_w[label as usize] as f32;
                if k == 1 {
                    let p = sigmoid(f[i]);
                    let t = if label == 1 { 1.0 } else { 0.0 };
                    grad[i] = (p - t) * w;
                    hess[i] = (p * (1.0 - p)).max(1e-16) * w;
                } else {
                    probs.copy_from_slice(&f[i * k..(i + 1) * k]);
                    softmax_in_place(&mut probs);
                    for (c, &p) in probs.iter().enumerate() {
                        let t = if label as usize == c { 1.0 } else { 0.0 };
                        grad[c * n + i] = (p - t) * w;
                        hess[c * n + i] = (p * (1.0 - p)).max(1e-16) * w;
                    }
                }
            }
            let sample: &[u32] = if n_sample < n {
                rng.shuffle(&mut shuffled);
                rows.clear();
                rows.extend_from_slice(&shuffled[..n_sample]);
                rows.sort_unstable();
                &rows
            } else {
                &all_rows
            };
            let sample = sample.to_vec();
            for c in 0..k {
                let features: Vec<usize> = if n_cols < nf {
                    rng.shuffle(&mut feats);
                    let mut s = feats[..n_cols].to_vec();
                    s.sort_unstable();
                    s
                } else {
                    feats.clone()
                };
                let mut tree_rows = sample.clone();
                let gc = &grad[c * n..(c + 1) * n];
                let hc = &hess[c * n..(c + 1) * n];
                let grown = grower.grow(&mut tree_rows, gc, hc, &features);
                if n_sample < n {
                    for i in 0..n {
                        f[i * k + c] += grown.value_binned(&binned, i);
                    }
                } else {
                    for &(node, start, end) in &grown.leaves {
                        let v = grown.nodes.get(node).map_or(0.0, |nd| nd.value);
                        for &r in tree_rows.get(start..end).unwrap_or(&[]) {
                            f[r as usize * k + c] += v;
                        }
                    }
                }
                if let Some(vb) = &vbinned {
                    for i in 0..nv {
                        fv[i * k + c] += grown.value_binned(vb, i);
                    }
                }
                trees.push(Tree { nodes: grown.nodes });
            }
            if let Some((_, vy)) = valid {
                let vloss = mean_loss(&fv, vy, &class_w, k);
                match best {
                    Some((b, _, _)) if vloss >= b - 1e-12 => {}
                    _ => best = Some((vloss, round, mean_loss(&f, ty, &class_w, k))),
                }
                if best.is_some_and(|(_, r, _)| round - r >= params.early_stopping_rounds) {
                    break;
                }
            }
        }
        let (rounds_kept, train_loss, valid_loss) = match best {
            Some((vloss, r, tloss)) => {
                trees.truncate((r + 1) * k);
                (r + 1, tloss, Some(vloss))
            }
            None => (rounds_run, mean_loss(&f, ty, &class_w, k), None),
        };
        let summary = FitSummary {
            n_train: n,
            n_valid: nv,
            rounds_run,
            rounds_kept,
            train_loss,
            valid_loss,
            n_trees: trees.len(),
            n_nodes: trees.iter().map(|t| t.nodes.len()).sum(),
        };
        Self::assemble(nf, n_classes, base, trees, params.clone(), summary)
    }

    /// Validates the parts of a model and compiles its scoring layout.
    fn assemble(
        n_features: usize,
        n_classes: usize,
        base_score: Vec<f32>,
        trees: Vec<Tree>,
        params: GbdtParams,
        summary: FitSummary,
    ) -> Result<Self> {
        let invalid = |m: String| MlError::InvalidModel(m);
        if n_features == 0 || n_features >= 1 << 31 {
            return Err(invalid(format!("feature count {n_features}")));
        }
        if !(2..=crate::error::MAX_CLASSES).contains(&n_classes) {
            return Err(invalid(format!("class count {n_classes}")));
        }
        let k = if n_classes == 2 { 1 } else { n_classes };
        if base_score.len() != k || base_score.iter().any(|v| !v.is_finite()) {
            return Err(invalid("base score does not match the class count".into()));
        }
        if !trees.len().is_multiple_of(k) {
            return Err(invalid(format!("{} trees for {k} outputs", trees.len())));
        }
        let mut depths = Vec::with_capacity(trees.len());
        for (t, tree) in trees.iter().enumerate() {
            depths.push(
                tree.validate(n_features)
                    .map_err(|e| invalid(format!("tree {t}: {e}")))?,
            );
        }
        let forest = Forest::build(&trees, &depths, n_features, &base_score);
        Ok(Self {
            n_features,
            n_classes,
            base_score,
            trees,
            params,
            summary,
            forest,
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
    /// Raw outputs per row: 1 for binary models, `n_classes` otherwise.
    pub fn n_outputs(&self) -> usize {
        self.base_score.len()
    }
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }
    /// Number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.nodes.len()).sum()
    }
    /// The parameters the model was trained with.
    pub fn params(&self) -> &GbdtParams {
        &self.params
    }
    /// The training summary.
    pub fn summary(&self) -> &FitSummary {
        &self.summary
    }

    fn check_matrix(&self, x: &Matrix, out_len: usize, per_row: usize) -> Result<()> {
        if x.n_cols() != self.n_features {
            return Err(MlError::FeatureMismatch {
                expected: self.n_features,
                got: x.n_cols(),
            });
        }
        let want = x.n_rows() * per_row;
        if out_len != want {
            return Err(MlError::LengthMismatch {
                what: "output buffer",
                expected: want,
                got: out_len,
            });
        }
        Ok(())
    }

    fn check_row(&self, row: &[f32]) -> Result<()> {
        if row.len() != self.n_features {
            return Err(MlError::FeatureMismatch {
                expected: self.n_features,
                got: row.len(),
            });
        }
        Ok(())
    }

    /// Raw margins (log-odds for binary, softmax logits otherwise), `n_outputs()` per row.
    pub fn predict_raw_into(&self, x: &Matrix, out: &mut [f32]) -> Result<()> {
        self.check_matrix(x, out.len(), self.n_outputs())?;
        self.forest.raw_into(x.as_slice(), out);
        Ok(())
    }

    /// One score per row in `[0, 1]`: the probability of class 1 for binary models, and
    /// `1 - P(class 0)` for multi-class ones (the probability of "anything but class 0",
    /// useful when class 0 is benign). Allocates one fixed scratch block per call (256 KiB),
    /// nothing per row.
    pub fn predict_into(&self, x: &Matrix, out: &mut [f32]) -> Result<()> {
        self.check_matrix(x, out.len(), 1)?;
        let k = self.n_outputs();
        if k == 1 {
            self.forest.raw_into(x.as_slice(), out);
            for v in out.iter_mut() {
                *v = sigmoid(*v);
            }
            return Ok(());
        }
        let nf = self.n_features;
        let mut buf = vec![0f32; CHUNK * k];
        for (xs, o) in x.as_slice().chunks(CHUNK * nf).zip(out.chunks_mut(CHUNK)) {
            let b = xs.len() / nf;
            let raw = &mut buf[..b * k];
            self.forest.raw_into(xs, raw);
            for (z, v) in raw.chunks_mut(k).zip(o.iter_mut()) {
                softmax_in_place(z);
                *v = 1.0 - z.first().copied().unwrap_or(0.0);
            }
        }
        Ok(())
    }

    /// [`Gbdt::predict_into`] into a new vector.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f32>> {
        let mut out = vec![0f32; x.n_rows()];
        self.predict_into(x, &mut out)?;
        Ok(out)
    }

    /// Class probabilities, `n_classes()` per row, each row summing to 1.
    pub fn predict_proba_into(&self, x: &Matrix, out: &mut [f32]) -> Result<()> {
        self.check_matrix(x, out.len(), self.n_classes)?;
        let k = self.n_outputs();
        let nf = self.n_features;
        let mut buf = vec![0f32; CHUNK * k];
        for (xs, o) in x
            .as_slice()
            .chunks(CHUNK * nf)
            .zip(out.chunks_mut(CHUNK * self.n_classes))
        {
            let b = xs.len() / nf;
            let raw = &mut buf[..b * k];
            self.forest.raw_into(xs, raw);
            if k == 1 {
                for (z, pair) in raw.iter().zip(o.chunks_mut(2)) {
                    let p = sigmoid(*z);
                    pair.copy_from_slice(&[1.0 - p, p]);
                }
            } else {
                for (z, probs) in raw.chunks_mut(k).zip(o.chunks_mut(k)) {
                    softmax_in_place(z);
                    probs.copy_from_slice(z);
                }
            }
        }
        Ok(())
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
        let k = self.n_outputs();
        if k == 1 {
            let mut z = [0f32];
            self.forest.raw_into(row, &mut z);
            let p = sigmoid(z[0]);
            out.copy_from_slice(&[1.0 - p, p]);
        } else {
            self.forest.raw_into(row, out);
            softmax_in_place(out);
        }
        Ok(())
    }

    /// Class probabilities of one row.
    pub fn predict_proba(&self, row: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.n_classes];
        self.predict_proba_row_into(row, &mut out)?;
        Ok(out)
    }

    /// The most probable class of every row (ties go to the lower class).
    pub fn predict_classes(&self, x: &Matrix) -> Result<Vec<u32>> {
        let mut probs = vec![0f32; x.n_rows() * self.n_classes];
        self.predict_proba_into(x, &mut probs)?;
        Ok(probs.chunks(self.n_classes.max(1)).map(argmax).collect())
    }

    /// TreeSHAP feature contributions of one row, in raw-margin units: `n_outputs()` blocks of
    /// `n_features() + 1` values; the last value of each block is the bias (the model's
    /// expected margin), and each block sums to that output's raw margin.
    pub fn contributions(&self, row: &[f32]) -> Result<Vec<f32>> {
        self.attribute(row, explain::tree_shap)
    }

    /// Like [`Gbdt::contributions`] but with Saabas path attribution: cheaper (one path per
    /// tree), less faithful when features interact.
    pub fn contributions_saabas(&self, row: &[f32]) -> Result<Vec<f32>> {
        self.attribute(row, explain::saabas)
    }

    fn attribute(
        &self,
        row: &[f32],
        per_tree: fn(&Tree, &[f32], &mut [f64]) -> f64,
    ) -> Result<Vec<f32>> {
        self.check_row(row)?;
        let k = self.n_outputs();
        let width = self.n_features + 1;
        let mut phi = vec![0f64; k * width];
        for (o, &b) in self.base_score.iter().enumerate() {
            phi[o * width + self.n_features] = f64::from(b);
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let o = t % k;
            let block = &mut phi[o * width..(o + 1) * width];
            let (features, bias) = block.split_at_mut(self.n_features);
            let expected = per_tree(tree, row, features);
            if let Some(b) = bias.first_mut() {
                *b += expected;
            }
        }
        Ok(phi.into_iter().map(|v| v as f32).collect())
    }

    /// Total split gain per feature, normalised to sum to 1 (all zeros for a model without splits).
    pub fn feature_importance(&self) -> Vec<f64> {
        let mut gain = vec![0f64; self.n_features];
        for node in self.trees.iter().flat_map(|t| &t.nodes) {
            if !node.is_leaf()
                && let Some(g) = gain.get_mut(node.feature as usize)
            {
                *g += f64::from(node.gain);
            }
        }
        let total: f64 = gain.iter().sum();
        if total > 0.0 {
            for g in &mut gain {
                *g /= total;
            }
        }
        gain
    }
}

/// Rows with their class labels.
type Labeled<'a> = (&'a Matrix, &'a [u32]);

/// Rows per chunk in the multi-output batch paths.
const CHUNK: usize = 256;

fn argmax(p: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best as u32
}

/// The `k` features with the largest absolute contribution for output `output`, from a vector
/// returned by [`Gbdt::contributions`]; sorted by decreasing magnitude, ties by feature index.
pub fn top_contributions(
    contributions: &[f32],
    n_features: usize,
    output: usize,
    k: usize,
) -> Vec<(usize, f32)> {
    let width = n_features + 1;
    let Some(block) = contributions.get(output * width..output * width + n_features) else {
        return Vec::new();
    };
    let mut v: Vec<(usize, f32)> = block.iter().copied().enumerate().collect();
    v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores rows the slow way: walk every serialized tree node by node.
    fn reference_raw(m: &Gbdt, row: &[f32]) -> Vec<f32> {
        let k = m.n_outputs();
        let mut out = m.base_score.clone();
        for (t, tree) in m.trees.iter().enumerate() {
            out[t % k] += tree.nodes[tree.leaf_of(row)].value;
        }
        out
    }

    fn data(n: usize, nf: usize, seed: u64) -> (Matrix, Vec<u32>) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut x = Matrix::with_cols(nf);
        let mut y = Vec::new();
        let specials = [
            f32::NAN,
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-40,
            f32::MAX,
            f32::NEG_INFINITY,
        ];
        for _ in 0..n {
            let row: Vec<f32> = (0..nf)
                .map(|_| {
                    if rng.f32() < 0.1 {
                        specials[rng.usize(..specials.len())]
                    } else {
                        (rng.f32() - 0.5) * 4.0
                    }
                })
                .collect();
            let s = row[0].clamp(-2.0, 2.0)
                + if row[1].is_nan() {
                    1.0
                } else {
                    row[1].signum()
                };
            y.push(u32::from(s > 0.3) + u32::from(s > 1.5));
            x.push_row(&row);
        }
        (x, y)
    }

    #[test]
    fn compiled_layouts_match_a_node_by_node_walk() {
        // (features, classes, max_leaves): compact layout, wide layout (features), wide (tree size).
        for (nf, k, leaves) in [(6, 2, 31), (6, 3, 31), (130, 2, 15), (4, 2, 300)] {
            let (x, y) = data(2500, nf, nf as u64);
            let y: Vec<u32> = if k == 2 {
                y.iter().map(|&v| v.min(1)).collect()
            } else {
                y
            };
            let p = GbdtParams {
                n_rounds: 12,
                max_leaves: leaves,
                max_depth: 16,
                min_samples_leaf: 1,
                ..Default::default()
            };
            let m = Gbdt::fit(&x, &y, k, &p).unwrap();
            let ko = m.n_outputs();
            let mut batch = vec![0f32; x.n_rows() * ko];
            m.predict_raw_into(&x, &mut batch).unwrap();
            for (i, row) in x.rows().enumerate() {
                let want = reference_raw(&m, row);
                for (o, w) in want.iter().enumerate() {
                    let got = batch[i * ko + o];
                    assert!(
                        (got - w).abs() <= 1e-5 * w.abs().max(1.0),
                        "nf {nf} row {i} output {o}: {got} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn negated_threshold_rewrite_is_exact_on_edge_values() {
        // x <= t  <=>  -x > next_down(-t), for every pair of these (t finite).
        let vals = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            3.5,
        ];
        for &t in &vals {
            for &x in vals.iter().chain(&[f32::INFINITY, f32::NEG_INFINITY]) {
                assert_eq!(x <= t, -x > (-t).next_down(), "x {x} t {t}");
            }
        }
    }

    /// `E[f(x) | x_S]` under the tree's own cover distribution (what path-dependent TreeSHAP
    /// explains): follow `x` on splits over features in `S`, average children by cover otherwise.
    fn cond_expectation(tree: &Tree, j: usize, row: &[f32], s: u32) -> f64 {
        let n = &tree.nodes[j];
        if n.is_leaf() {
            return f64::from(n.value);
        }
        if s & (1 << n.feature) != 0 {
            return cond_expectation(tree, n.child(row[n.feature as usize]) as usize, row, s);
        }
        let (l, r) = (&tree.nodes[n.left as usize], &tree.nodes[n.right as usize]);
        let (cl, cr) = (f64::from(l.cover), f64::from(r.cover));
        (cl * cond_expectation(tree, n.left as usize, row, s)
            + cr * cond_expectation(tree, n.right as usize, row, s))
            / (cl + cr)
    }

    #[test]
    fn tree_shap_equals_brute_force_shapley_values() {
        let m_feat = 4usize;
        let (x, y) = data(1500, m_feat, 77);
        let y: Vec<u32> = y.iter().map(|&v| v.min(1)).collect();
        let p = GbdtParams {
            n_rounds: 4,
            max_leaves: 12,
            min_samples_leaf: 3,
            ..Default::default()
        };
        let m = Gbdt::fit(&x, &y, 2, &p).unwrap();
        let fact = |k: usize| (1..=k).product::<usize>() as f64;
        for row in x.rows().take(25) {
            for tree in &m.trees {
                let mut phi = vec![0f64; m_feat];
                let expected = explain::tree_shap(tree, row, &mut phi);
                assert!((expected - cond_expectation(tree, 0, row, 0)).abs() < 1e-6);
                for (i, &got) in phi.iter().enumerate() {
                    let mut want = 0.0;
                    for s in 0u32..(1 << m_feat) {
                        if s & (1 << i) != 0 {
                            continue;
                        }
                        let size = s.count_ones() as usize;
                        let w = fact(size) * fact(m_feat - size - 1) / fact(m_feat);
                        want += w
                            * (cond_expectation(tree, 0, row, s | (1 << i))
                                - cond_expectation(tree, 0, row, s));
                    }
                    assert!(
                        (got - want).abs() < 1e-6,
                        "feature {i}: treeshap {got} vs exact {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn growing_without_cached_histograms_gives_the_same_model() {
        let (x, y) = data(3000, 5, 3);
        let y: Vec<u32> = y.iter().map(|&v| v.min(1)).collect();
        let p = GbdtParams {
            n_rounds: 10,
            max_leaves: 40,
            max_depth: 10,
            ..Default::default()
        };
        let cached = Gbdt::train(&x, &y, 2, &p, None, 0).unwrap();
        let uncached = Gbdt::train(&x, &y, 2, &p, None, 2).unwrap();
        assert_eq!(cached.n_nodes(), uncached.n_nodes());
        let (a, b) = (cached.predict(&x).unwrap(), uncached.predict(&x).unwrap());
        assert!(a.iter().zip(&b).all(|(u, v)| (u - v).abs() < 1e-4));
    }
}
