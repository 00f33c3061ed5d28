//! Growing one tree on binned data: gradient histograms, best-first (leaf-wise) splitting,
//! the histogram subtraction trick.

use super::bin::{BinMapper, Binned, MISSING_BIN};
use super::tree::Node;

/// Tree-shape settings taken from the parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowConfig {
    pub(crate) max_leaves: usize,
    pub(crate) max_depth: usize,
    pub(crate) min_samples_leaf: usize,
    pub(crate) min_hessian_leaf: f64,
    pub(crate) l2: f64,
    pub(crate) min_gain: f64,
    pub(crate) learning_rate: f64,
    /// Most leaf histograms cached at once; 0 derives it from a 256 MiB budget.
    pub(crate) hist_cache: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    g: f64,
    h: f64,
    n: u32,
}

impl Sums {
    fn add(self, o: Sums) -> Sums {
        Sums {
            g: self.g + o.g,
            h: self.h + o.h,
            n: self.n + o.n,
        }
    }
    fn sub(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n.saturating_sub(o.n),
        }
    }
}

type Hist = Vec<[Sums; 256]>;

#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
    missing_left: bool,
    left: Sums,
    right: Sums,
}

#[derive(Debug)]
struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    /// Kept only while the leaf may still split and the cache has room.
    hist: Option<Hist>,
    split: Option<Split>,
}

/// Memory allowed for cached leaf histograms while growing one tree.
const HIST_BUDGET_BYTES: usize = 256 << 20;

/// A grown tree plus what the booster needs to update its scores.
#[derive(Debug)]
pub(crate) struct Grown {
    pub(crate) nodes: Vec<Node>,
    /// Split bin of each inner node (for scoring binned rows).
    pub(crate) bins: Vec<u8>,
    /// `(node, start, end)`: the rows (positions in the row buffer) of each leaf.
    pub(crate) leaves: Vec<(usize, usize, usize)>,
}

impl Grown {
    /// The leaf value reached by binned row `i`.
    #[inline]
    pub(crate) fn value_binned(&self, binned: &Binned, i: usize) -> f32 {
        let mut n = 0usize;
        loop {
            let Some(node) = self.nodes.get(n) else {
                return 0.0;
            };
            if node.is_leaf() {
                return node.value;
            }
            let b = binned
                .col(node.feature as usize)
                .get(i)
                .copied()
                .unwrap_or(MISSING_BIN);
            let split = self.bins.get(n).copied().unwrap_or(0);
            let left = if b == MISSING_BIN {
                node.missing_left
            } else {
                b <= split
            };
            n = if left { node.left } else { node.right } as usize;
        }
    }
}

/// Reusable buffers for growing trees on one binned data set.
#[derive(Debug)]
pub(crate) struct Grower<'a> {
    binned: &'a Binned,
    mapper: &'a BinMapper,
    cfg: GrowConfig,
    pool: Vec<Hist>,
    scratch: Vec<u32>,
    ordered: Vec<(f32, f32)>,
}

impl<'a> Grower<'a> {
    pub(crate) fn new(binned: &'a Binned, mapper: &'a BinMapper, cfg: GrowConfig) -> Self {
        Self {
            binned,
            mapper,
            cfg,
            pool: Vec::new(),
            scratch: Vec::new(),
            ordered: Vec::new(),
        }
    }

    fn take_hist(&mut self) -> Hist {
        self.pool
            .pop()
            .unwrap_or_else(|| vec![[Sums::default(); 256]; self.mapper.n_features()])
    }

    /// Caches a leaf's histogram if it may split and there is room; otherwise recycles it.
    fn keep(&mut self, hist: Hist, splittable: bool, live: &mut usize, cap: usize) -> Option<Hist> {
        if splittable && *live < cap {
            *live += 1;
            Some(hist)
        } else {
            self.give_back(hist, cap);
            None
        }
    }

    fn give_back(&mut self, hist: Hist, cap: usize) {
        if self.pool.len() < cap {
            self.pool.push(hist);
        }
    }

    fn leaf_value(&self, s: Sums) -> f32 {
        let v = -s.g / (s.h + self.cfg.l2) * self.cfg.learning_rate;
        if v.is_finite() { v as f32 } else { 0.0 }
    }

    fn score(&self, s: Sums) -> f64 {
        s.g * s.g / (s.h + self.cfg.l2)
    }

    /// Fills `hist` (for `features`) from `rows`.
    fn build_hist(
        &mut self,
        hist: &mut Hist,
        rows: &[u32],
        grad: &[f32],
        hess: &[f32],
        features: &[usize],
    ) {
        self.ordered.clear();
        self.ordered.extend(rows.iter().map(|&r| {
            let r = r as usize;
            (
                grad.get(r).copied().unwrap_or(0.0),
                hess.get(r).copied().unwrap_or(0.0),
            )
        }));
        for &f in features {
            let Some(h) = hist.get_mut(f) else { continue };
            *h = [Sums::default(); 256];
            let col = self.binned.col(f);
            for (&r, &(g, hs)) in rows.iter().zip(&self.ordered) {
                let b = col.get(r as usize).copied().unwrap_or(MISSING_BIN);
                let e = &mut h[b as usize];
                e.g += f64::from(g);
                e.h += f64::from(hs);
                e.n += 1;
            }
        }
    }

    fn best_split(&self, hist: &Hist, total: Sums, features: &[usize]) -> Option<Split> {
        let cfg = &self.cfg;
        let parent = self.score(total);
        let mut best: Option<Split> = None;
        let mut consider =
            |left: Sums, right: Sums, feature: usize, bin: u8, missing_left: bool| {
                if (left.n as usize) < cfg.min_samples_leaf
                    || (right.n as usize) < cfg.min_samples_leaf
                    || left.h < cfg.min_hessian_leaf
                    || right.h < cfg.min_hessian_leaf
                {
                    return;
                }
                let gain = 0.5 * (self.score(left) + self.score(right) - parent);
                if gain > cfg.min_gain && gain.is_finite() && best.is_none_or(|b| gain > b.gain) {
                    best = Some(Split {
                        gain,
                        feature,
                        bin,
                        missing_left,
                        left,
                        right,
                    });
                }
            };
        for &f in features {
            let Some(h) = hist.get(f) else { continue };
            let nb = self.mapper.n_bins(f).min(255);
            let miss = h[MISSING_BIN as usize];
            let mut acc = Sums::default();
            for (b, bin) in h.iter().enumerate().take(nb) {
                acc = acc.add(*bin);
                let rest = total.sub(acc);
                if miss.n == 0 {
                    if b + 1 < nb {
                        let right = rest;
                        consider(acc, right, f, b as u8, acc.n >= right.n);
                    }
                } else {
                    // NaN right: values <= b left, values > b and NaN right.
                    consider(acc, rest, f, b as u8, false);
                    if b + 1 < nb {
                        consider(acc.add(miss), rest.sub(miss), f, b as u8, true);
                    }
                }
            }
        }
        best
    }

    /// Grows one tree over `rows` (positions are permuted in place; ascending on entry).
    pub(crate) fn grow(
        &mut self,
        rows: &mut [u32],
        grad: &[f32],
        hess: &[f32],
        features: &[usize],
    ) -> Grown {
        let cfg = self.cfg;
        let mut total = Sums::default();
        for &r in rows.iter() {
            let r = r as usize;
            total.g += f64::from(grad.get(r).copied().unwrap_or(0.0));
            total.h += f64::from(hess.get(r).copied().unwrap_or(0.0));
            total.n += 1;
        }
        let mut nodes = vec![Node::leaf(self.leaf_value(total), total.n as f32)];
        let mut bins = vec![0u8];
        let hist_bytes = self.mapper.n_features().max(1) * std::mem::size_of::<[Sums; 256]>();
        let cache_cap = match cfg.hist_cache {
            0 => (HIST_BUDGET_BYTES / hist_bytes).max(2),
            c => c,
        };
        let mut root_hist = self.take_hist();
        self.build_hist(&mut root_hist, rows, grad, hess, features);
        let can_split = |depth: usize, s: Sums| {
            depth < cfg.max_depth && s.n as usize >= 2 * cfg.min_samples_leaf.max(1)
        };
        let split = if can_split(0, total) {
            self.best_split(&root_hist, total, features)
        } else {
            None
        };
        let mut live = 0usize;
        let root_hist = self.keep(root_hist, split.is_some(), &mut live, cache_cap);
        let mut leaves = vec![Leaf {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            hist: root_hist,
            split,
        }];
        let mut n_leaves = 1;
        while n_leaves < cfg.max_leaves {
            let mut pick: Option<(usize, f64)> = None;
            for (i, l) in leaves.iter().enumerate() {
                if let Some(s) = l.split
                    && pick.is_none_or(|(_, g)| s.gain > g)
                {
                    pick = Some((i, s.gain));
                }
            }
            let Some((i, _)) = pick else { break };
            let leaf = leaves.remove(i);
            let Some(split) = leaf.split else { break };
            let mid = self.partition(&mut rows[leaf.start..leaf.end], split) + leaf.start;
            let (li, ri) = (nodes.len(), nodes.len() + 1);
            nodes.push(Node::leaf(self.leaf_value(split.left), split.left.n as f32));
            nodes.push(Node::leaf(
                self.leaf_value(split.right),
                split.right.n as f32,
            ));
            bins.extend([0, 0]);
            if let Some(parent) = nodes.get_mut(leaf.node) {
                parent.feature = split.feature as u32;
                parent.threshold = self.mapper.threshold(split.feature, split.bin);
                parent.left = li as u32;
                parent.right = ri as u32;
                parent.missing_left = split.missing_left;
                parent.gain = split.gain as f32;
            }
            if let Some(b) = bins.get_mut(leaf.node) {
                *b = split.bin;
            }
            // Build the smaller child's histogram; the larger one is parent minus smaller.
            let left_small = mid - leaf.start <= leaf.end - mid;
            let small_range = if left_small {
                (leaf.start, mid)
            } else {
                (mid, leaf.end)
            };
            let large_range = if left_small {
                (mid, leaf.end)
            } else {
                (leaf.start, mid)
            };
            let mut small = self.take_hist();
            self.build_hist(
                &mut small,
                &rows[small_range.0..small_range.1],
                grad,
                hess,
                features,
            );
            let large = match leaf.hist {
                Some(mut large) => {
                    live -= 1;
                    for &f in features {
                        if let (Some(l), Some(s)) = (large.get_mut(f), small.get(f)) {
                            for (a, b) in l.iter_mut().zip(s.iter()) {
                                *a = a.sub(*b);
                            }
                        }
                    }
                    large
                }
                None => {
                    // The parent's histogram was not cached: build this one directly too.
                    let mut large = self.take_hist();
                    let part = &rows[large_range.0..large_range.1];
                    self.build_hist(&mut large, part, grad, hess, features);
                    large
                }
            };
            let (lh, rh) = if left_small {
                (small, large)
            } else {
                (large, small)
            };
            let depth = leaf.depth + 1;
            let children = [
                (li, leaf.start, mid, lh, split.left),
                (ri, mid, leaf.end, rh, split.right),
            ];
            for (node, start, end, hist, sums) in children {
                let split = if can_split(depth, sums) {
                    self.best_split(&hist, sums, features)
                } else {
                    None
                };
                let hist = self.keep(hist, split.is_some(), &mut live, cache_cap);
                leaves.push(Leaf {
                    node,
                    start,
                    end,
                    depth,
                    hist,
                    split,
                });
            }
            n_leaves += 1;
        }
        let mut out = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            out.push((leaf.node, leaf.start, leaf.end));
            if let Some(h) = leaf.hist {
                self.give_back(h, cache_cap);
            }
        }
        out.sort_unstable();
        Grown {
            nodes,
            bins,
            leaves: out,
        }
    }

    /// Stable partition of `rows` by `split`; returns the number sent left.
    fn partition(&mut self, rows: &mut [u32], split: Split) -> usize {
        let col = self.binned.col(split.feature);
        self.scratch.clear();
        let mut n_left = 0;
        for k in 0..rows.len() {
            let r = rows[k];
            let b = col.get(r as usize).copied().unwrap_or(MISSING_BIN);
            let left = if b == MISSING_BIN {
                split.missing_left
            } else {
                b <= split.bin
            };
            if left {
                rows[n_left] = r;
                n_left += 1;
            } else {
                self.scratch.push(r);
            }
        }
        rows[n_left..].copy_from_slice(&self.scratch);
        n_left
    }
}
