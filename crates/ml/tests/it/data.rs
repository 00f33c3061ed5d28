//! Seeded synthetic data sets.

use ward_ml::Matrix;

fn uniform(rng: &mut fastrand::Rng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.f32()
}

fn normal(rng: &mut fastrand::Rng) -> f32 {
    // Box–Muller.
    let u1 = rng.f32().max(1e-7);
    let u2 = rng.f32();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

/// XOR of the signs of two features, plus `noise` irrelevant features. No linear model can fit it.
pub fn xor(n: usize, noise: usize, seed: u64) -> (Matrix, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut x = Matrix::with_cols(2 + noise);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0f32; 2 + noise];
    for _ in 0..n {
        for v in row.iter_mut() {
            *v = uniform(&mut rng, -1.0, 1.0);
        }
        y.push(u32::from((row[0] > 0.0) ^ (row[1] > 0.0)));
        assert!(x.push_row(&row));
    }
    (x, y)
}

/// Linearly separable with a margin: label = sign(w . x), rows within `margin` of the plane dropped.
pub fn separable(n: usize, nf: usize, margin: f32, seed: u64) -> (Matrix, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let w: Vec<f32> = (0..nf).map(|_| normal(&mut rng)).collect();
    let norm = w.iter().map(|v| v * v).sum::<f32>().sqrt();
    let mut x = Matrix::with_cols(nf);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0f32; nf];
    while y.len() < n {
        for v in row.iter_mut() {
            *v = normal(&mut rng);
        }
        let s = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() / norm;
        if s.abs() < margin {
            continue;
        }
        y.push(u32::from(s > 0.0));
        assert!(x.push_row(&row));
    }
    (x, y)
}

/// Imbalanced, overlapping classes: positives (share `pos_rate`) are shifted by `shift` in the
/// first two features.
pub fn imbalanced(n: usize, pos_rate: f32, shift: f32, seed: u64) -> (Matrix, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let nf = 5;
    let mut x = Matrix::with_cols(nf);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0f32; nf];
    for _ in 0..n {
        let pos = rng.f32() < pos_rate;
        for (j, v) in row.iter_mut().enumerate() {
            *v = normal(&mut rng) + if pos && j < 2 { shift } else { 0.0 };
        }
        y.push(u32::from(pos));
        assert!(x.push_row(&row));
    }
    (x, y)
}

/// `k` Gaussian blobs in `nf` dimensions, centres spread by `spread`.
pub fn blobs(n: usize, k: usize, nf: usize, spread: f32, seed: u64) -> (Matrix, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let centres: Vec<Vec<f32>> = (0..k)
        .map(|_| (0..nf).map(|_| spread * normal(&mut rng)).collect())
        .collect();
    let mut x = Matrix::with_cols(nf);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0f32; nf];
    for i in 0..n {
        let c = i % k;
        for (v, m) in row.iter_mut().zip(&centres[c]) {
            *v = m + normal(&mut rng);
        }
        y.push(c as u32);
        assert!(x.push_row(&row));
    }
    (x, y)
}

/// Flow-like data for benchmarks: `nf` features, heavy-tailed counts, categorical codes, a few
/// NaNs, and an attack label that depends non-linearly on several of them (~30% positives,
/// ~3% label noise).
pub fn flows(n: usize, nf: usize, seed: u64) -> (Matrix, Vec<u32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut x = Matrix::with_cols(nf);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0f32; nf];
    for _ in 0..n {
        for (j, v) in row.iter_mut().enumerate() {
            *v = match j % 4 {
                0 => (normal(&mut rng) * 2.0).exp(), // bytes-like, heavy tail
                1 => rng.u32(0..12) as f32,          // categorical code
                2 => normal(&mut rng),               // rate-like
                _ => rng.u32(0..256) as f32,         // ttl-like
            };
            if rng.f32() < 0.01 {
                *v = f32::NAN;
            }
        }
        let at = |j: usize| row.get(j % nf).copied().unwrap_or(0.0);
        let score = (at(0).max(1e-3).ln() > 1.0) as u8 as f32 * 1.5
            + if at(1) == 3.0 || at(1) == 7.0 {
                1.2
            } else {
                0.0
            }
            + at(2) * at(6).signum()
            + if at(3) > 200.0 { 1.0 } else { -0.5 }
            + if at(9).is_nan() { 2.0 } else { 0.0 };
        let noisy = rng.f32() < 0.03;
        y.push(u32::from((score > 1.6) ^ noisy));
        assert!(x.push_row(&row));
    }
    (x, y)
}

/// Splits `(x, y)` at row `at` into a training and a test part.
pub fn split(x: &Matrix, y: &[u32], at: usize) -> ((Matrix, Vec<u32>), (Matrix, Vec<u32>)) {
    let a: Vec<usize> = (0..at).collect();
    let b: Vec<usize> = (at..y.len()).collect();
    (
        (x.select_rows(&a), y[..at].to_vec()),
        (x.select_rows(&b), y[at..].to_vec()),
    )
}
