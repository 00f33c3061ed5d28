//! Folds and splits.

use ward_ml::cv::*;

fn labels(counts: &[usize]) -> Vec<u32> {
    // Interleaved so classes are not contiguous.
    let mut y = Vec::new();
    let mut left = counts.to_vec();
    while left.iter().any(|&c| c > 0) {
        for (c, l) in left.iter_mut().enumerate() {
            if *l > 0 {
                y.push(c as u32);
                *l -= 1;
            }
        }
    }
    y
}

#[test]
fn stratified_folds_partition_rows_and_keep_class_shares() {
    let counts = [500, 120, 31, 7];
    let y = labels(&counts);
    let k = 5;
    let folds = stratified_kfold(&y, k, 42).unwrap();
    assert_eq!(folds.len(), k);
    let mut seen = vec![0usize; y.len()];
    for f in &folds {
        assert_eq!(f.train.len() + f.test.len(), y.len());
        assert!(f.test.windows(2).all(|w| w[0] < w[1]) && f.train.windows(2).all(|w| w[0] < w[1]));
        for &i in &f.test {
            seen[i] += 1;
        }
        for (c, &n_c) in counts.iter().enumerate() {
            let in_test = f.test.iter().filter(|&&i| y[i] == c as u32).count();
            let lo = n_c / k;
            assert!(
                in_test == lo || in_test == lo + 1,
                "class {c}: {in_test} rows in a test fold"
            );
        }
    }
    assert!(
        seen.iter().all(|&s| s == 1),
        "every row is tested exactly once"
    );
    let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "{sizes:?}"
    );
    assert_eq!(
        folds,
        stratified_kfold(&y, k, 42).unwrap(),
        "same seed, same folds"
    );
    assert_ne!(
        folds,
        stratified_kfold(&y, k, 43).unwrap(),
        "another seed shuffles"
    );
}

#[test]
fn plain_kfold_and_splits() {
    let folds = kfold(103, 4, 1).unwrap();
    let total: usize = folds.iter().map(|f| f.test.len()).sum();
    assert_eq!(total, 103);
    let (train, test) = train_test_split(100, 0.25, 3).unwrap();
    assert_eq!((train.len(), test.len()), (75, 25));
    assert!(train.iter().all(|i| !test.contains(i)));

    let y = labels(&[90, 10, 1]);
    let (train, test) = stratified_split(&y, 0.2, 9).unwrap();
    assert_eq!(train.len() + test.len(), y.len());
    let count = |idx: &[usize], c: u32| idx.iter().filter(|&&i| y[i] == c).count();
    assert_eq!(
        (count(&test, 0), count(&test, 1), count(&test, 2)),
        (18, 2, 0)
    );
    assert_eq!(count(&train, 2), 1, "a single-row class stays in training");
}

#[test]
fn invalid_fold_requests_are_errors() {
    let y = labels(&[3, 3]);
    assert!(stratified_kfold(&y, 1, 0).is_err());
    assert!(stratified_kfold(&y, 7, 0).is_err());
    assert!(stratified_kfold(&[], 2, 0).is_err());
    assert!(kfold(3, 4, 0).is_err());
    for f in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(train_test_split(10, f, 0).is_err(), "fraction {f}");
        assert!(stratified_split(&y, f, 0).is_err(), "fraction {f}");
    }
    assert!(train_test_split(1, 0.5, 0).is_err());
    assert!(stratified_split(&[0], 0.5, 0).is_err());
    assert!(
        stratified_split(&y, 0.01, 0).is_err(),
        "nothing would be held out"
    );
}
