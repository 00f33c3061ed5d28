//! Sampling helpers over the seeded [`fastrand::Rng`]: the distributions the traffic models use.

/// A seeded random source with the few distributions the simulator needs.
#[derive(Debug, Clone)]
pub(crate) struct Rng(fastrand::Rng);

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(fastrand::Rng::with_seed(seed))
    }

    /// An independent stream derived from this one (for sub-generators whose draws should not
    /// shift when another part of the model changes).
    pub(crate) fn fork(&mut self) -> Self {
        Self(fastrand::Rng::with_seed(self.0.u64(..)))
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn f64(&mut self) -> f64 {
        self.0.f64()
    }

    /// Uniform in `[lo, hi)`; `lo` when the range is empty.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            lo
        } else {
            lo + (hi - lo) * self.0.f64()
        }
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.f64() < p
    }

    /// Uniform integer in `[lo, hi]` (inclusive); `lo` when `hi < lo`.
    pub(crate) fn range_u16(&mut self, lo: u16, hi: u16) -> u16 {
        if hi <= lo { lo } else { self.0.u16(lo..=hi) }
    }

    /// Uniform index below `n`; 0 when `n` is 0 (callers check emptiness first).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.0.usize(..n) }
    }

    /// A uniformly chosen element, `None` for an empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.0.usize(..items.len()))
        }
    }

    /// An element chosen with a Zipf-like skew (rank `r` has weight `1/(r+1)`): a few popular
    /// items and a long tail, like web destinations.
    pub(crate) fn pick_skewed<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let n = items.len();
        if n == 0 {
            return None;
        }
        // Inverse-CDF of the continuous 1/x density on [1, n+1).
        let x = ((n as f64 + 1.0).ln() * self.0.f64()).exp() - 1.0;
        items.get((x as usize).min(n - 1))
    }

    /// Standard normal (Box-Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.0.f64(); // (0, 1]
        let u2 = self.0.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-space standard deviation.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Log-normal byte count, clamped to `[min, max]`.
    pub(crate) fn bytes(&mut self, median: f64, sigma: f64, min: u64, max: u64) -> u64 {
        let v = self.lognormal(median, sigma);
        // Float-to-int casts saturate, so hostile parameters cannot panic here.
        (v as u64).clamp(min, max.max(min))
    }

    /// Poisson count with mean `lambda` (Knuth below 30, normal approximation above).
    pub(crate) fn poisson(&mut self, lambda: f64) -> u32 {
        if !lambda.is_finite() || lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let l = (-lambda).exp();
            let mut k = 0u32;
            let mut p = 1.0;
            loop {
                p *= self.0.f64();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
        let v = lambda + lambda.sqrt() * self.normal();
        v.round().max(0.0) as u32
    }

    /// A Zeek-style connection uid: `C` followed by 17 base62 characters.
    pub(crate) fn uid(&mut self) -> String {
        let mut s = String::with_capacity(18);
        s.push('C');
        for _ in 0..17 {
            let i = self.0.usize(..BASE62.len());
            s.push(char::from(BASE62.get(i).copied().unwrap_or(b'0')));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_mean_is_close() {
        for lambda in [0.3, 4.0, 80.0] {
            let mut r = Rng::new(7);
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| u64::from(r.poisson(lambda))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < lambda * 0.05 + 0.02,
                "{lambda}: {mean}"
            );
        }
        assert_eq!(Rng::new(1).poisson(f64::NAN), 0);
        assert_eq!(Rng::new(1).poisson(-3.0), 0);
    }

    #[test]
    fn lognormal_median_is_close() {
        let mut r = Rng::new(9);
        let mut v: Vec<f64> = (0..10_001).map(|_| r.lognormal(1000.0, 1.0)).collect();
        v.sort_by(f64::total_cmp);
        let median = v[5000];
        assert!((900.0..1100.0).contains(&median), "{median}");
    }

    #[test]
    fn uid_shape() {
        let mut r = Rng::new(3);
        let u = r.uid();
        assert_eq!(u.len(), 18);
        assert!(u.starts_with('C'));
        assert!(u[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn skewed_pick_prefers_head() {
        let mut r = Rng::new(5);
        let items: Vec<usize> = (0..50).collect();
        let mut counts = [0u32; 50];
        for _ in 0..10_000 {
            if let Some(&i) = r.pick_skewed(&items) {
                counts[i] += 1;
            }
        }
        assert!(counts[0] > counts[10] && counts[10] > counts[49]);
        assert!(r.pick_skewed::<u8>(&[]).is_none());
    }
}
