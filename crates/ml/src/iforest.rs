//! Isolation Forest (Liu, Ting and Zhou, ICDM 2008): a batch anomaly-detection baseline.
//!
//! Each tree isolates a random subsample by recursive random splits (a random feature, a
//! uniform threshold between the node's minimum and maximum) down to a depth limit of
//! `ceil(log2(sample_size))`. Anomalies are isolated in fewer splits, so the score
//! `2^(-E[h(x)] / c(ψ))` — with `h` the path length plus the `c(size)` correction at the leaf
//! and `c(n) = 2H(n-1) - 2(n-1)/n` the average path length of an unsuccessful BST search — is
//! in `(0, 1]` and near 1 for anomalies, near 0.5 or below for normal points.
//!
//! Missing values (`NaN`) are treated as a value below all others: a split sends them left,
//! and a node with missing values places them one value-range below its minimum when drawing
//! the threshold, so "missing" can be isolated like any other extreme. Only features that vary
//! within a node are split on, so constant columns are ignored.

use serde::{Deserialize, Serialize};

use crate::matrix::Matrix;

/// Errors from fitting or using an [`IsolationForest`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IForestError {
    /// A configuration value was out of range.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// Fitting needs at least one row and one column.
    #[error("cannot fit on an empty matrix")]
    Empty,
    /// A row had the wrong number of features.
    #[error("expected {expected} features, got {got}")]
    Width {
        /// Features the forest was fitted on.
        expected: usize,
        /// Features supplied.
        got: usize,
    },
    /// Deserialised state was inconsistent.
    #[error("inconsistent forest state: {0}")]
    Corrupt(&'static str),
}

/// Isolation Forest hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IForestConfig {
    /// Number of trees. Default 100.
    pub n_trees: usize,
    /// Rows subsampled (without replacement) per tree, `ψ`. Default 256.
    pub sample_size: usize,
    /// Seed for subsampling and splits. Default 0.
    pub seed: u64,
}

impl Default for IForestConfig {
    fn default() -> Self {
        Self {
            n_trees: 100,
            sample_size: 256,
            seed: 0,
        }
    }
}

/// A tree node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    /// Rows with `x[feature] < threshold` or missing go to `left`.
    Split {
        feature: u32,
        threshold: f32,
        left: u32,
        right: u32,
    },
    /// A leaf holding `size` training rows.
    Leaf { size: u32 },
}

/// `c(n)`: average path length of an unsuccessful search in a binary search tree of `n` keys.
pub fn average_path_length(n: usize) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// A fitted Isolation Forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IForestRepr")]
pub struct IsolationForest {
    config: IForestConfig,
    n_features: usize,
    /// Effective subsample size (`min(sample_size, rows)`).
    psi: usize,
    trees: Vec<Vec<Node>>,
}

#[derive(Deserialize)]
struct IForestRepr {
    config: IForestConfig,
    n_features: usize,
    psi: usize,
    trees: Vec<Vec<Node>>,
}

impl TryFrom<IForestRepr> for IsolationForest {
    type Error = IForestError;
    fn try_from(r: IForestRepr) -> Result<Self, IForestError> {
        if r.psi == 0 || r.trees.is_empty() {
            return Err(IForestError::Corrupt("empty forest"));
        }
        for tree in &r.trees {
            // children always come after their parent, so every walk ends
            for (i, node) in tree.iter().enumerate() {
                if let Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } = node
                {
                    let ok = (*feature as usize) < r.n_features
                        && (*left as usize) > i
                        && (*right as usize) > i
                        && (*left as usize) < tree.len()
                        && (*right as usize) < tree.len();
                    if !ok {
                        return Err(IForestError::Corrupt("tree links"));
                    }
                }
            }
            if tree.is_empty() {
                return Err(IForestError::Corrupt("empty tree"));
            }
        }
        Ok(Self {
            config: r.config,
            n_features: r.n_features,
            psi: r.psi,
            trees: r.trees,
        })
    }
}

struct Builder<'a> {
    m: &'a Matrix,
    rng: fastrand::Rng,
    depth_limit: usize,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    /// Builds the subtree for `rows` and returns its node index.
    fn build(&mut self, rows: &mut [usize], depth: usize) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node::Leaf {
            size: rows.len() as u32,
        });
        if depth >= self.depth_limit || rows.len() <= 1 {
            return id;
        }
        // features that vary within this node, with their (low, high) draw range
        let mut candidates: Vec<(usize, f64, f64)> = Vec::new();
        for f in 0..self.m.n_cols() {
            let (mut lo, mut hi, mut missing) = (f64::INFINITY, f64::NEG_INFINITY, false);
            for &r in rows.iter() {
                let v = self.m.row(r).get(f).copied().unwrap_or(f32::NAN);
                if v.is_nan() {
                    missing = true;
                } else {
                    let v = f64::from(v.clamp(f32::MIN, f32::MAX));
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            if lo > hi {
                continue; // all missing
            }
            if missing {
                // missing sits one range below the minimum
                let span = if hi > lo { hi - lo } else { 1.0 };
                candidates.push((f, lo - span, hi));
            } else if hi > lo {
                candidates.push((f, lo, hi));
            }
        }
        if candidates.is_empty() {
            return id;
        }
        let Some(&(feature, lo, hi)) = candidates.get(self.rng.usize(..candidates.len())) else {
            return id;
        };
        let t = lo + self.rng.f64() * (hi - lo);
        let mut threshold = t as f32;
        let lo32 = lo as f32;
        if threshold <= lo32 {
            threshold = lo32.next_up();
        }
        if f64::from(threshold) > hi {
            threshold = hi as f32;
        }
        // partition: left = missing or below threshold
        let goes_left = |v: f32| v.is_nan() || v < threshold;
        let mut split = 0;
        for i in 0..rows.len() {
            let r = rows.get(i).copied().unwrap_or(0);
            if goes_left(self.m.row(r).get(feature).copied().unwrap_or(f32::NAN)) {
                rows.swap(split, i);
                split += 1;
            }
        }
        let (l_rows, r_rows) = rows.split_at_mut(split);
        let left = self.build(l_rows, depth + 1);
        let right = self.build(r_rows, depth + 1);
        if let Some(n) = self.nodes.get_mut(id as usize) {
            *n = Node::Split {
                feature: feature as u32,
                threshold,
                left,
                right,
            };
        }
        id
    }
}

impl IsolationForest {
    /// Fits a forest on the rows of `m`.
    pub fn fit(m: &Matrix, config: IForestConfig) -> Result<Self, IForestError> {
        if config.n_trees == 0 || config.sample_size < 2 {
            return Err(IForestError::Config(
                "need at least one tree and a sample size of at least 2",
            ));
        }
        if m.n_rows() == 0 || m.n_cols() == 0 {
            return Err(IForestError::Empty);
        }
        if m.n_rows() > u32::MAX as usize || m.n_cols() > u32::MAX as usize {
            return Err(IForestError::Config("matrix too large"));
        }
        let psi = config.sample_size.min(m.n_rows());
        let depth_limit = (psi as f64).log2().ceil().max(1.0) as usize;
        let mut rng = fastrand::Rng::with_seed(config.seed);
        let mut all: Vec<usize> = (0..m.n_rows()).collect();
        let mut trees = Vec::with_capacity(config.n_trees);
        for _ in 0..config.n_trees {
            // partial Fisher–Yates: the first psi entries are a uniform sample
            for i in 0..psi {
                let j = rng.usize(i..all.len());
                all.swap(i, j);
            }
            let mut sample: Vec<usize> = all.iter().take(psi).copied().collect();
            let mut b = Builder {
                m,
                rng: rng.fork(),
                depth_limit,
                nodes: Vec::new(),
            };
            b.build(&mut sample, 0);
            trees.push(b.nodes);
        }
        Ok(Self {
            config,
            n_features: m.n_cols(),
            psi,
            trees,
        })
    }

    /// Number of features the forest was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The configuration used for fitting.
    pub fn config(&self) -> &IForestConfig {
        &self.config
    }

    fn path_length(tree: &[Node], x: &[f32]) -> f64 {
        let mut i = 0usize;
        let mut depth = 0.0;
        // links only point forward (checked on load), so this walk is bounded by tree.len()
        while let Some(node) = tree.get(i) {
            match node {
                Node::Leaf { size } => return depth + average_path_length(*size as usize),
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let v = x.get(*feature as usize).copied().unwrap_or(f32::NAN);
                    i = if v.is_nan() || v < *threshold {
                        *left as usize
                    } else {
                        *right as usize
                    };
                    depth += 1.0;
                }
            }
        }
        depth
    }

    /// Anomaly score of one row, in `(0, 1]`; higher is more anomalous.
    pub fn score(&self, x: &[f32]) -> Result<f64, IForestError> {
        if x.len() != self.n_features {
            return Err(IForestError::Width {
                expected: self.n_features,
                got: x.len(),
            });
        }
        let mean: f64 = self
            .trees
            .iter()
            .map(|t| Self::path_length(t, x))
            .sum::<f64>()
            / self.trees.len() as f64;
        let c = average_path_length(self.psi);
        if c <= 0.0 {
            return Ok(0.5);
        }
        Ok((-mean / c).exp2())
    }

    /// Scores every row of `m`.
    pub fn score_matrix(&self, m: &Matrix) -> Result<Vec<f64>, IForestError> {
        if m.n_cols() != self.n_features {
            return Err(IForestError::Width {
                expected: self.n_features,
                got: m.n_cols(),
            });
        }
        m.rows().map(|r| self.score(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn gaussianish(rng: &mut fastrand::Rng, n: usize, d: usize, centre: f32) -> Matrix {
        let mut m = Matrix::with_cols(d);
        for _ in 0..n {
            let row: Vec<f32> = (0..d)
                .map(|_| centre + (0..4).map(|_| rng.f32() - 0.5).sum::<f32>())
                .collect();
            m.push_row(&row);
        }
        m
    }

    #[test]
    fn average_path_length_values() {
        for (n, want) in [(0, 0.0), (1, 0.0), (2, 1.0), (256, 10.244_770_920_116_851)] {
            assert!((average_path_length(n) - want).abs() < 1e-9, "{n}");
        }
    }

    #[test]
    fn anomalies_score_higher_and_scores_are_bounded() {
        let mut rng = fastrand::Rng::with_seed(1);
        let train = gaussianish(&mut rng, 2000, 4, 0.0);
        let f = IsolationForest::fit(&train, IForestConfig::default()).unwrap();
        let normal = f.score_matrix(&gaussianish(&mut rng, 200, 4, 0.0)).unwrap();
        let outliers = f.score_matrix(&gaussianish(&mut rng, 200, 4, 6.0)).unwrap();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&outliers) > mean(&normal) + 0.15,
            "{} {}",
            mean(&outliers),
            mean(&normal)
        );
        let min_out = outliers.iter().copied().fold(f64::INFINITY, f64::min);
        let max_norm = normal.iter().copied().fold(0.0, f64::max);
        assert!(min_out > max_norm, "{min_out} {max_norm}");
        assert!(
            normal
                .iter()
                .chain(&outliers)
                .all(|s| *s > 0.0 && *s <= 1.0)
        );
    }

    #[test]
    fn deterministic_and_serde_round_trip() {
        let mut rng = fastrand::Rng::with_seed(2);
        let train = gaussianish(&mut rng, 500, 3, 0.0);
        let cfg = IForestConfig {
            n_trees: 20,
            sample_size: 64,
            seed: 7,
        };
        let a = IsolationForest::fit(&train, cfg.clone()).unwrap();
        let b = IsolationForest::fit(&train, cfg).unwrap();
        assert_eq!(a, b);
        let c = IsolationForest::fit(
            &train,
            IForestConfig {
                n_trees: 20,
                sample_size: 64,
                seed: 8,
            },
        )
        .unwrap();
        assert_ne!(a, c);
        let back: IsolationForest =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(
            a.score_matrix(&train).unwrap(),
            back.score_matrix(&train).unwrap()
        );
    }

    #[test]
    fn missing_values_and_constant_columns() {
        // column 0 constant, column 1 normal, column 2 sometimes missing in training
        let mut m = Matrix::with_cols(3);
        let mut rng = fastrand::Rng::with_seed(3);
        for i in 0..400 {
            let miss = if i % 10 == 0 { f32::NAN } else { rng.f32() };
            m.push_row(&[5.0, rng.f32(), miss]);
        }
        let f = IsolationForest::fit(&m, IForestConfig::default()).unwrap();
        let typical = f.score(&[5.0, 0.5, 0.5]).unwrap();
        // a different value in the constant column cannot be isolated by it, so it scores
        // like the typical row
        let off_constant = f.score(&[100.0, 0.5, 0.5]).unwrap();
        assert!((typical - off_constant).abs() < 1e-12);
        // missing is "below all": scored like an extreme low value, more anomalous than typical
        let missing = f.score(&[5.0, f32::NAN, 0.5]).unwrap();
        assert!(missing > typical + 0.05, "{missing} {typical}");
        // all-constant data: no splits, every row scores the same
        let mut c = Matrix::with_cols(2);
        for _ in 0..50 {
            c.push_row(&[1.0, 2.0]);
        }
        let f = IsolationForest::fit(&c, IForestConfig::default()).unwrap();
        assert_eq!(
            f.score(&[1.0, 2.0]).unwrap(),
            f.score(&[9.0, -9.0]).unwrap()
        );
    }

    #[test]
    fn errors() {
        let m = Matrix::with_cols(2);
        assert_eq!(
            IsolationForest::fit(&m, IForestConfig::default()),
            Err(IForestError::Empty)
        );
        let mut one = Matrix::with_cols(2);
        one.push_row(&[1.0, 2.0]);
        assert!(
            IsolationForest::fit(
                &one,
                IForestConfig {
                    n_trees: 0,
                    ..IForestConfig::default()
                }
            )
            .is_err()
        );
        let f = IsolationForest::fit(&one, IForestConfig::default()).unwrap();
        assert_eq!(f.score(&[1.0, 2.0]).unwrap(), 0.5);
        assert_eq!(
            f.score(&[1.0]),
            Err(IForestError::Width {
                expected: 2,
                got: 1
            })
        );
        // corrupted trees: a backwards link would loop forever, a bad feature index
        let json = serde_json::to_string(
            &IsolationForest::fit(
                &gaussianish(&mut fastrand::Rng::with_seed(0), 50, 2, 0.0),
                IForestConfig::default(),
            )
            .unwrap(),
        )
        .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["trees"][0][0]["Split"]["left"] = 0.into();
        assert!(serde_json::from_value::<IsolationForest>(v).is_err());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["trees"][0][0]["Split"]["feature"] = 9.into();
        assert!(serde_json::from_value::<IsolationForest>(v).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn scores_in_unit_interval(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![proptest::num::f32::ANY, -1e30f32..1e30, Just(f32::NAN)], 3),
                2..40),
            probe in proptest::collection::vec(proptest::num::f32::ANY, 3),
        ) {
            let mut m = Matrix::with_cols(3);
            for r in &rows {
                m.push_row(r);
            }
            let f = IsolationForest::fit(&m, IForestConfig { n_trees: 10, sample_size: 16, seed: 1 }).unwrap();
            for r in rows.iter().chain([&probe]) {
                let s = f.score(r).unwrap();
                prop_assert!(s > 0.0 && s <= 1.0, "{}", s);
            }
        }
    }
}
