//! The scoring layout: all trees compiled into one flat node array, walked 64 rows at a time.
//!
//! Two layouts share one idea: a leaf loops back to itself, so every row of a block takes the
//! same number of steps (the tree's depth) and the inner loop has no leaf test and no branch on
//! the data; the 64 independent walks of a block overlap in the CPU.
//!
//! * The compact layout (models with at most 127 features and 256 nodes per tree, which covers
//!   the models ward trains) packs a node in 7 bytes addressed by an index below 512 inside a
//!   fixed 512-slot window (a first-child slot below 256 plus one), and transposes each block
//!   of rows into 256 rows of 64 order-preserving integer keys in a buffer that any `u16`
//!   offset plus a lane fits, so no index in the inner loop needs a bounds check or a mask and
//!   each step is an integer compare: six instructions, three loads. NaN costs nothing at scoring time: its key is 0, never greater than a threshold,
//!   so NaN takes a node's first child slot; a split whose NaN goes right is rewritten as a test
//!   on the negated feature (`x <= t` iff `-x > next_down(-t)`) with its children swapped.
//!   Leaves test a row of zero keys (never greater) and keep their value in the threshold bits.
//! * The wide layout handles anything else with 16-byte nodes and `u32` indices.

use super::tree::Tree;

const BLOCK: usize = 64;
const WINDOW: usize = 256;
/// Rows walked together with their node indices in registers.
const LANES: usize = 8;
/// Bits an offset `row * BLOCK` (row < WINDOW) can have.
const OFF_MASK: usize = (WINDOW - 1) * BLOCK;
/// Length of the transposed block: any `u16` offset plus a lane is in range.
const XT_LEN: usize = (1 << 16) + BLOCK;
/// Slots of a tree's view in the batch walk: any first-child slot (`u8`) plus one is in range.
const SPAN: usize = 2 * WINDOW;

/// The compact layout as three parallel arrays (one entry per node slot), padded with `SPAN`
/// spare slots so every tree starts a full window. Split across arrays, a step costs plain
/// loads and no bit twiddling.
#[derive(Debug, Clone, Default)]
struct Compact {
    /// Threshold as an order key ([`key`]); for leaves, the bits of the leaf value.
    keys: Vec<u32>,
    /// Offset of the row to test in the transposed block, `row * BLOCK`, where the row is `f`,
    /// `n_features + f` (the negated feature) or `2 * n_features` (all zero keys, for leaves).
    offs: Vec<u16>,
    /// Slot of the first child (the node itself for leaves); the second child is `left + 1`.
    lefts: Vec<u8>,
}

/// One tree's `N`-slot view of the compact arrays.
type Window<'a, const N: usize> = (&'a [u32; N], &'a [u16; N], &'a [u8; N]);

impl Compact {
    fn push(&mut self, key: u32, row: usize, left: u8) {
        self.keys.push(key);
        self.offs.push((row * BLOCK) as u16);
        self.lefts.push(left);
    }

    fn set(&mut self, slot: usize, key: u32, row: usize, left: u8) {
        if let (Some(k), Some(o), Some(l)) = (
            self.keys.get_mut(slot),
            self.offs.get_mut(slot),
            self.lefts.get_mut(slot),
        ) {
            (*k, *o, *l) = (key, (row * BLOCK) as u16, left);
        }
    }

    fn window<const N: usize>(&self, t: &TreeRef) -> Option<Window<'_, N>> {
        let s = t.start as usize;
        let k = self.keys.get(s..s + N)?.try_into().ok()?;
        let o = self.offs.get(s..s + N)?.try_into().ok()?;
        let l = self.lefts.get(s..s + N)?.try_into().ok()?;
        Some((k, o, l))
    }
}

/// An unsigned integer with the order of the floats, so a step compares integers: NaN maps to
/// 0 (below everything, hence never "greater"), and -0 to the key of +0. Branch-free: signs
/// and NaNs are unpredictable in real data, and a branch here cost more than the conversion.
#[inline]
fn key(v: f32) -> u32 {
    // Flip every bit of a negative value, only the sign bit of a positive one; zero a NaN.
    let b = (v + 0.0).to_bits();
    let k = b ^ (((b as i32) >> 31) as u32 | 0x8000_0000);
    k & u32::from(!v.is_nan()).wrapping_neg()
}

#[derive(Debug, Clone, Copy)]
struct TreeRef {
    start: u32,
    depth: u32,
    output: u32,
}

#[derive(Debug, Clone, Copy)]
struct WNode {
    thr: f32,
    /// Feature index; bit 31 set when NaN goes right.
    feat: u32,
    left: u32,
    value: f32,
}

const NAN_RIGHT: u32 = 1 << 31;

#[derive(Debug, Clone)]
enum Layout {
    /// Nodes padded with `WINDOW` spare slots at the end so every tree has a full window.
    Compact(Compact),
    Wide(Vec<WNode>),
}

/// The compiled ensemble.
#[derive(Debug, Clone)]
pub(crate) struct Forest {
    layout: Layout,
    trees: Vec<TreeRef>,
    n_features: usize,
    base: Vec<f32>,
}

impl Default for Forest {
    fn default() -> Self {
        Self {
            layout: Layout::Wide(Vec::new()),
            trees: Vec::new(),
            n_features: 1,
            base: vec![0.0],
        }
    }
}

impl Forest {
    /// Compiles validated trees (`depths[t]` from [`Tree::validate`]). Tree `t` adds to output
    /// `t % base.len()`.
    pub(crate) fn build(trees: &[Tree], depths: &[usize], n_features: usize, base: &[f32]) -> Self {
        let k = base.len().max(1);
        let refs = |starts: &[usize]| -> Vec<TreeRef> {
            starts
                .iter()
                .enumerate()
                .map(|(t, &s)| TreeRef {
                    start: s as u32,
                    depth: depths.get(t).copied().unwrap_or(0) as u32,
                    output: (t % k) as u32,
                })
                .collect()
        };
        let fits = 2 * n_features < WINDOW && trees.iter().all(|t| t.nodes.len() <= WINDOW);
        if fits {
            let mut nodes = Compact::default();
            let mut starts = Vec::with_capacity(trees.len());
            for tree in trees {
                starts.push(nodes.keys.len());
                compact_tree(tree, n_features, &mut nodes);
            }
            for _ in 0..SPAN {
                nodes.push(0, 2 * n_features, 0);
            }
            Self {
                layout: Layout::Compact(nodes),
                trees: refs(&starts),
                n_features,
                base: base.to_vec(),
            }
        } else {
            let mut nodes = Vec::new();
            let mut starts = Vec::with_capacity(trees.len());
            for tree in trees {
                starts.push(nodes.len());
                wide_tree(tree, &mut nodes);
            }
            Self {
                layout: Layout::Wide(nodes),
                trees: refs(&starts),
                n_features,
                base: base.to_vec(),
            }
        }
    }

    /// Raw margins for row-major `data` into `out` (`base.len()` per row). The caller checks
    /// that `data` holds whole rows and `out` has room for them.
    pub(crate) fn raw_into(&self, data: &[f32], out: &mut [f32]) {
        let nf = self.n_features.max(1);
        let k = self.base.len().max(1);
        let n = (data.len() / nf).min(out.len() / k);
        for (acc, _) in out.chunks_mut(k).zip(0..n) {
            acc.copy_from_slice(&self.base);
        }
        match &self.layout {
            Layout::Compact(nodes) if n >= BLOCK / 2 => self.compact_batch(nodes, data, out, n),
            Layout::Compact(nodes) => {
                for (row, acc) in data.chunks_exact(nf).zip(out.chunks_mut(k)).take(n) {
                    self.compact_row(nodes, row, acc);
                }
            }
            Layout::Wide(nodes) => self.wide_batch(nodes, data, out, n),
        }
    }

    /// One row: walks `LANES` trees side by side so their steps overlap.
    fn compact_row(&self, nodes: &Compact, row: &[f32], acc: &mut [f32]) {
        let nf = self.n_features;
        let mut xr = [0u32; WINDOW];
        for (f, &v) in row.iter().enumerate().take(nf) {
            xr[f] = key(v);
            xr[nf + f] = key(-v);
        }
        for group in self.trees.chunks(LANES) {
            let mut wins: [Option<Window<'_, WINDOW>>; LANES] = [None; LANES];
            let mut depth = 0;
            for (w, t) in wins.iter_mut().zip(group) {
                *w = nodes.window(t);
                depth = depth.max(t.depth);
            }
            let mut idx = [0u8; LANES];
            for _ in 0..depth {
                for (i, w) in idx.iter_mut().zip(&wins) {
                    if let Some((kw, ow, lw)) = w {
                        let n = *i as usize;
                        let x = xr[(ow[n] as usize / BLOCK) as u8 as usize];
                        *i = lw[n].wrapping_add(u8::from(x > kw[n]));
                    }
                }
            }
            for ((t, w), &i) in group.iter().zip(&wins).zip(&idx) {
                if let (Some((kw, _, _)), Some(a)) = (w, acc.get_mut(t.output as usize)) {
                    *a += f32::from_bits(kw[i as usize]);
                }
            }
        }
    }

    fn compact_batch(&self, nodes: &Compact, data: &[f32], out: &mut [f32], n: usize) {
        let nf = self.n_features;
        let k = self.base.len().max(1);
        let mut xt = vec![0u32; XT_LEN];
        let mut acc = vec![[0f32; BLOCK]; k];
        let mut start = 0;
        while start < n {
            let b = BLOCK.min(n - start);
            let rows = data.get(start * nf..(start + b) * nf).unwrap_or(&[]);
            let Ok(xt) = <&mut [u32; XT_LEN]>::try_from(xt.as_mut_slice()) else {
                return;
            };
            for (r, row) in rows.chunks_exact(nf).enumerate() {
                let r = r % BLOCK;
                for (f, &v) in row.iter().enumerate() {
                    // Masks prove the indices in range (`2 * nf < WINDOW`).
                    xt[((f * BLOCK) & OFF_MASK) | r] = key(v);
                    xt[(((nf + f) * BLOCK) & OFF_MASK) | r] = key(-v);
                }
            }
            let xt = &*xt;
            for a in acc.iter_mut() {
                *a = [0.0; BLOCK];
            }
            for t in &self.trees {
                let Some((kw, ow, lw)) = nodes.window::<SPAN>(t) else {
                    continue;
                };
                let Some(a) = acc.get_mut(t.output as usize) else {
                    continue;
                };
                for (g, ag) in a.chunks_exact_mut(LANES).enumerate() {
                    // Slots stay below `SPAN` (a `u8` plus a bool), and `xt` holds any `u16`
                    // offset plus a lane: the compiler sees both, so the loop has no checks.
                    let mut idx = [0u32; LANES];
                    for _ in 0..t.depth {
                        for (j, i) in idx.iter_mut().enumerate() {
                            let n = *i as usize;
                            let x = xt[usize::from(ow[n]) + (g * LANES + j) % BLOCK];
                            *i = u32::from(lw[n]) + u32::from(x > kw[n]);
                        }
                    }
                    for (a, &i) in ag.iter_mut().zip(&idx) {
                        *a += f32::from_bits(kw[i as usize]);
                    }
                }
            }
            let dst = out.get_mut(start * k..(start + b) * k).unwrap_or(&mut []);
            for (r, o) in dst.chunks_mut(k).enumerate() {
                for (c, v) in o.iter_mut().enumerate() {
                    *v += acc[c][r];
                }
            }
            start += b;
        }
    }

    fn wide_batch(&self, nodes: &[WNode], data: &[f32], out: &mut [f32], n: usize) {
        let nf = self.n_features.max(1);
        let k = self.base.len().max(1);
        let mut idx = [0u32; BLOCK];
        for (xs, acc) in data
            .chunks(BLOCK * nf)
            .zip(out.chunks_mut(BLOCK * k))
            .take(n.div_ceil(BLOCK))
        {
            let b = (xs.len() / nf).min(acc.len() / k);
            let idx = &mut idx[..b];
            for t in &self.trees {
                idx.fill(t.start);
                for _ in 0..t.depth {
                    for (r, i) in idx.iter_mut().enumerate() {
                        let Some(node) = nodes.get(*i as usize) else {
                            continue;
                        };
                        let x = xs
                            .get(r * nf + (node.feat & !NAN_RIGHT) as usize)
                            .copied()
                            .unwrap_or(f32::NAN);
                        let right =
                            u32::from(x > node.thr) | (u32::from(x.is_nan()) & (node.feat >> 31));
                        *i = node.left + right;
                    }
                }
                let o = t.output as usize;
                for (r, &i) in idx.iter().enumerate() {
                    if let (Some(a), Some(node)) = (acc.get_mut(r * k + o), nodes.get(i as usize)) {
                        *a += node.value;
                    }
                }
            }
        }
    }
}

/// Lays out one tree (≤ 256 nodes) breadth-first in compact form.
fn compact_tree(tree: &Tree, nf: usize, out: &mut Compact) {
    let base = out.keys.len();
    let leaf_row = 2 * nf;
    out.push(0, leaf_row, 0);
    let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
    let mut next = 1usize;
    while let Some((orig, slot)) = queue.pop_front() {
        let Some(node) = tree.nodes.get(orig) else {
            continue;
        };
        if node.is_leaf() {
            out.set(base + slot, node.value.to_bits(), leaf_row, slot as u8);
            continue;
        }
        let c = next;
        next += 2;
        out.push(0, leaf_row, 0);
        out.push(0, leaf_row, 0);
        let (first, second, row, thr) = if node.missing_left {
            (node.left, node.right, node.feature as usize, node.threshold)
        } else {
            // NaN right: test -x > next_down(-t), i.e. x <= t, which is false for NaN.
            (
                node.right,
                node.left,
                nf + node.feature as usize,
                (-node.threshold).next_down(),
            )
        };
        queue.push_back((first as usize, c));
        queue.push_back((second as usize, c + 1));
        out.set(base + slot, key(thr), row, c as u8);
    }
}

/// Lays out one tree breadth-first in wide form (absolute indices).
fn wide_tree(tree: &Tree, out: &mut Vec<WNode>) {
    let root = out.len();
    let blank = WNode {
        thr: f32::INFINITY,
        feat: 0,
        left: 0,
        value: 0.0,
    };
    out.push(blank);
    let mut queue = std::collections::VecDeque::from([(0usize, root)]);
    while let Some((orig, slot)) = queue.pop_front() {
        let Some(node) = tree.nodes.get(orig) else {
            continue;
        };
        let cell = if node.is_leaf() {
            WNode {
                thr: f32::INFINITY,
                feat: 0,
                left: slot as u32,
                value: node.value,
            }
        } else {
            let c = out.len();
            out.extend([blank; 2]);
            queue.push_back((node.left as usize, c));
            queue.push_back((node.right as usize, c + 1));
            WNode {
                thr: node.threshold,
                feat: node.feature | if node.missing_left { 0 } else { NAN_RIGHT },
                left: c as u32,
                value: node.value,
            }
        };
        if let Some(dst) = out.get_mut(slot) {
            *dst = cell;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::{Node, Tree};
    use super::*;
    use proptest::prelude::*;

    /// Thresholds, leaf values and inputs are drawn around these edge values.
    const EDGES: [f32; 12] = [
        0.0,
        -0.0,
        1e-40,
        -1e-40,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1.0,
        -1.0,
        0.5,
        f32::MAX,
        f32::MIN,
        1e30,
    ];

    fn value(rng: &mut fastrand::Rng) -> f32 {
        match rng.u8(..4) {
            0 => EDGES[rng.usize(..EDGES.len())],
            _ => (rng.f32() - 0.5) * 4.0,
        }
    }

    /// An input near the thresholds: an edge value, a neighbour of one, NaN or an infinity.
    fn input(rng: &mut fastrand::Rng) -> f32 {
        let v = value(rng);
        match rng.u8(..10) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => v.next_up(),
            4 => v.next_down(),
            _ => v,
        }
    }

    /// A random valid tree of depth at most `max_depth`, grown breadth-first (children after
    /// parents, as `Tree::validate` wants), splitting a node with probability `p_split`.
    fn tree(rng: &mut fastrand::Rng, nf: usize, max_depth: usize, p_split: f32) -> Tree {
        let mut nodes = vec![Node::leaf(0.0, 1.0)];
        let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
        while let Some((i, d)) = queue.pop_front() {
            if d < max_depth && rng.f32() < p_split {
                let c = nodes.len();
                nodes.push(Node::leaf(0.0, 1.0));
                nodes.push(Node::leaf(0.0, 1.0));
                nodes[i] = Node {
                    feature: rng.u32(..nf as u32),
                    threshold: value(rng),
                    left: c as u32,
                    right: c as u32 + 1,
                    missing_left: rng.bool(),
                    value: 0.0,
                    cover: 2.0,
                    gain: 1.0,
                };
                queue.push_back((c, d + 1));
                queue.push_back((c + 1, d + 1));
            } else {
                nodes[i].value = value(rng);
            }
        }
        Tree { nodes }
    }

    /// The margins by a node-by-node walk, summed in the order each path of `raw_into` uses: a
    /// compact batch adds a row's trees from zero and then the base; other paths add to the
    /// base one tree at a time.
    fn reference(trees: &[Tree], base: &[f32], data: &[f32], nf: usize, compact: bool) -> Vec<f32> {
        let k = base.len();
        let n = data.len() / nf;
        let from_zero = compact && n >= BLOCK / 2;
        let mut out = Vec::with_capacity(n * k);
        for row in data.chunks_exact(nf) {
            for (c, &b) in base.iter().enumerate() {
                let mut acc = if from_zero { 0.0 } else { b };
                for t in trees.iter().skip(c).step_by(k) {
                    acc += t.nodes[t.leaf_of(row)].value;
                }
                out.push(if from_zero { b + acc } else { acc });
            }
        }
        out
    }

    /// Builds a forest of `n_trees` random trees and checks `raw_into` bit for bit on `n` rows.
    fn check(seed: u64, nf: usize, k: usize, n_trees: usize, max_depth: usize, n: usize) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut trees: Vec<Tree> = (0..n_trees)
            .map(|t| match t % 5 {
                0 => tree(&mut rng, nf, 0, 1.0),
                1 => tree(&mut rng, nf, max_depth, 1.0),
                _ => tree(&mut rng, nf, max_depth, 0.6),
            })
            .collect();
        trees.truncate(n_trees - n_trees % k);
        let depths: Vec<usize> = trees.iter().map(|t| t.validate(nf).unwrap()).collect();
        let base: Vec<f32> = (0..k).map(|_| value(&mut rng)).collect();
        let forest = Forest::build(&trees, &depths, nf, &base);
        let compact = matches!(forest.layout, Layout::Compact(_));
        assert_eq!(
            compact,
            2 * nf < WINDOW && trees.iter().all(|t| t.nodes.len() <= WINDOW)
        );
        let data: Vec<f32> = (0..n * nf).map(|_| input(&mut rng)).collect();
        let mut got = vec![f32::NAN; n * k];
        forest.raw_into(&data, &mut got);
        let want = reference(&trees, &base, &data, nf, compact);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g.to_bits(),
                w.to_bits(),
                "seed {seed} nf {nf} k {k} depth {max_depth} n {n}: output {i}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn raw_scores_match_a_node_by_node_walk_bit_for_bit() {
        // (features, outputs, trees, max depth, rows): compact batches with partial blocks and
        // single rows, depth 8 (the attack model), multiclass, the widest compact feature count,
        // and the wide layout by feature count and by tree size.
        let cases = [
            (45, 1, 40, 8, 200),
            (12, 1, 30, 8, 64),
            (45, 1, 20, 8, 31),
            (45, 1, 20, 8, 1),
            (3, 3, 30, 6, 97),
            (127, 2, 20, 8, 70),
            (1, 1, 10, 3, 40),
            (130, 1, 10, 6, 70),
            (5, 1, 4, 9, 70),
        ];
        for (seed, &(nf, k, trees, depth, n)) in cases.iter().enumerate() {
            check(seed as u64, nf, k, trees, depth, n);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn random_forests_score_exactly(
            seed in any::<u64>(),
            nf in 1usize..60,
            k in 1usize..4,
            trees in 1usize..24,
            depth in 0usize..10,
            n in 0usize..200,
        ) {
            check(seed, nf, k, trees.max(k), depth, n);
        }
    }

    #[test]
    fn order_keys_sort_like_the_floats() {
        let mut vals: Vec<f32> = EDGES.to_vec();
        vals.extend([f32::INFINITY, f32::NEG_INFINITY, 1e-45, -1e-45]);
        for &a in &vals {
            assert_eq!(key(f32::NAN), 0);
            assert!(key(a) > 0, "{a}");
            for &b in &vals {
                assert_eq!(key(a) > key(b), a > b, "{a} vs {b}");
            }
        }
    }
}
