//! Cross-validation folds and train/validation splits, seeded and deterministic.
//!
//! Every function returns row indices (sorted ascending within each part), so callers can
//! select rows with [`Matrix::select_rows`](crate::Matrix::select_rows).

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// One cross-validation fold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows held out.
    pub test: Vec<usize>,
}

fn check_k(k: usize, n: usize) -> Result<()> {
    if k < 2 {
        return Err(MlError::InvalidParam {
            name: "k",
            reason: format!("{k} folds; need at least 2"),
        });
    }
    if n < k {
        return Err(MlError::InvalidParam {
            name: "k",
            reason: format!("{k} folds for only {n} rows"),
        });
    }
    Ok(())
}

fn folds_from_assignment(assign: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..assign.len()).partition(|&i| assign[i] == f);
            Fold { train, test }
        })
        .collect()
}

/// Plain k-fold over `n` rows, shuffled with `seed`. Fold sizes differ by at most one.
pub fn kfold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>> {
    check_k(k, n)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut assign = vec![0usize; n];
    for (pos, &row) in order.iter().enumerate() {
        assign[row] = pos % k;
    }
    Ok(folds_from_assignment(&assign, k))
}

/// Groups row indices by class (in label order), each group shuffled with `rng`.
fn shuffled_classes(labels: &[u32], rng: &mut fastrand::Rng) -> Vec<Vec<usize>> {
    let mut by_class: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, &l) in labels.iter().enumerate() {
        by_class.entry(l).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = by_class.into_values().collect();
    for rows in &mut groups {
        rng.shuffle(rows);
    }
    groups
}

/// Stratified k-fold: each fold holds (to within one row per class) the same share of every
/// class. Rows of each class are shuffled with `seed` and dealt round-robin, continuing the deal
/// across classes so fold sizes stay balanced.
pub fn stratified_kfold(labels: &[u32], k: usize, seed: u64) -> Result<Vec<Fold>> {
    if labels.is_empty() {
        return Err(MlError::Empty("labels"));
    }
    check_k(k, labels.len())?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut assign = vec![0usize; labels.len()];
    let mut next = 0usize;
    for rows in shuffled_classes(labels, &mut rng) {
        for row in rows {
            assign[row] = next % k;
            next += 1;
        }
    }
    Ok(folds_from_assignment(&assign, k))
}

fn check_fraction(f: f64) -> Result<()> {
    if !(f > 0.0 && f < 1.0) {
        return Err(MlError::InvalidParam {
            name: "test_fraction",
            reason: format!("{f} not in (0, 1)"),
        });
    }
    Ok(())
}

/// Random split of `n` rows into `(train, test)` with `round(n * test_fraction)` test rows
/// (at least one, and at least one training row).
pub fn train_test_split(
    n: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_fraction(test_fraction)?;
    if n < 2 {
        return Err(MlError::InvalidParam {
            name: "n",
            reason: format!("cannot split {n} rows"),
        });
    }
    let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut test = order[..n_test].to_vec();
    let mut train = order[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok((train, test))
}

/// Stratified split into `(train, test)`: each class contributes `round(n_c * test_fraction)`
/// rows to the test part, but never all of its rows (a class with one row stays in training).
pub fn stratified_split(
    labels: &[u32],
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_fraction(test_fraction)?;
    if labels.len() < 2 {
        return Err(MlError::InvalidParam {
            name: "labels",
            reason: format!("cannot split {} rows", labels.len()),
        });
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for rows in shuffled_classes(labels, &mut rng) {
        let n_c = rows.len();
        let n_test = ((n_c as f64 * test_fraction).round() as usize).min(n_c.saturating_sub(1));
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    if test.is_empty() {
        return Err(MlError::InvalidParam {
            name: "test_fraction",
            reason: "too small to hold out any row".into(),
        });
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}
