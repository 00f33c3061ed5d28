//! The scoring layout: all trees compiled into one flat node array, walked 64 rows at a time.
//!
//! Two layouts share one idea: a leaf loops back to itself, so every row of a block takes the
//! same number of steps (the tree's depth) and the inner loop has no leaf test and no branch on
//! the data; the 64 independent walks of a block overlap in the CPU.
//!
//! * The compact layout (models with at most 127 features and 256 nodes per tree, which covers
//!   the models ward trains) uses 8-byte nodes addressed by a `u8` inside a fixed 256-slot
//!   window, and a transposed block of features padded to 256 rows, so no index in the inner
//!   loop needs a bounds check. NaN handling costs nothing at scoring time: a split that sends
//!   NaN right is rewritten as a test on the negated feature (`x <= t` ⟺ `-x > next_down(-t)`)
//!   with its children swapped, so every node is `go to left + (v > t)`, and NaN (never greater)
//!   always takes the first slot. Leaves test a row of `-inf` (never greater) and keep their
//!   value in the threshold field.
//! * The wide layout handles anything else with 16-byte nodes and `u32` indices.

use super::tree::Tree;

const BLOCK: usize = 64;
const WINDOW: usize = 256;
/// Rows walked together with their node indices in registers.
const LANES: usize = 8;

/// A compact node packed in one word so a step needs a single load: bits 0..32 hold the
/// threshold (the value, for leaves), bits 32..40 the row of the transposed block to test
/// (`f`, `n_features + f` for the negated feature, or `2 * n_features`, all `-inf`, for
/// leaves), bits 40..48 the slot of the first child (the node itself for leaves); the second
/// child is at `left + 1`.
#[derive(Debug, Clone, Copy, Default)]
struct CNode(u64);

impl CNode {
    fn new(thr: f32, feat: u8, left: u8) -> Self {
        Self(u64::from(thr.to_bits()) | u64::from(feat) << 32 | u64::from(left) << 40)
    }
    #[inline]
    fn thr(self) -> f32 {
        f32::from_bits(self.0 as u32)
    }
    #[inline]
    fn feat(self) -> usize {
        (self.0 >> 32) as u8 as usize
    }
    #[inline]
    fn left(self) -> u8 {
        (self.0 >> 40) as u8
    }
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
    Compact(Vec<CNode>),
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
            let mut nodes = Vec::new();
            let mut starts = Vec::with_capacity(trees.len());
            for tree in trees {
                starts.push(nodes.len());
                compact_tree(tree, n_features, &mut nodes);
            }
            nodes.extend(std::iter::repeat_n(CNode::default(), WINDOW));
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

    fn window<'a>(nodes: &'a [CNode], t: &TreeRef) -> Option<&'a [CNode; WINDOW]> {
        let s = t.start as usize;
        nodes.get(s..s + WINDOW).and_then(|w| w.try_into().ok())
    }

    fn compact_row(&self, nodes: &[CNode], row: &[f32], acc: &mut [f32]) {
        let nf = self.n_features;
        let mut xr = [f32::NEG_INFINITY; WINDOW];
        for (f, &v) in row.iter().enumerate().take(nf) {
            xr[f] = v;
            xr[nf + f] = -v;
        }
        for t in &self.trees {
            let Some(w) = Self::window(nodes, t) else {
                continue;
            };
            let mut i = 0u8;
            for _ in 0..t.depth {
                let node = w[i as usize];
                i = node
                    .left()
                    .wrapping_add(u8::from(xr[node.feat()] > node.thr()));
            }
            if let Some(a) = acc.get_mut(t.output as usize) {
                *a += w[i as usize].thr();
            }
        }
    }

    fn compact_batch(&self, nodes: &[CNode], data: &[f32], out: &mut [f32], n: usize) {
        let nf = self.n_features;
        let k = self.base.len().max(1);
        let mut xt = vec![[f32::NEG_INFINITY; BLOCK]; WINDOW];
        let mut acc = vec![[0f32; BLOCK]; k];
        let mut start = 0;
        while start < n {
            let b = BLOCK.min(n - start);
            let rows = data.get(start * nf..(start + b) * nf).unwrap_or(&[]);
            for (r, row) in rows.chunks_exact(nf).enumerate() {
                for (f, &v) in row.iter().enumerate() {
                    xt[f][r] = v;
                    xt[nf + f][r] = -v;
                }
            }
            let xt: &[[f32; BLOCK]; WINDOW] = match xt.as_slice().try_into() {
                Ok(x) => x,
                Err(_) => return,
            };
            for a in acc.iter_mut() {
                *a = [0.0; BLOCK];
            }
            for t in &self.trees {
                let Some(w) = Self::window(nodes, t) else {
                    continue;
                };
                let Some(a) = acc.get_mut(t.output as usize) else {
                    continue;
                };
                for (g, ag) in a.chunks_exact_mut(LANES).enumerate() {
                    let mut idx = [0u8; LANES];
                    for _ in 0..t.depth {
                        for (j, i) in idx.iter_mut().enumerate() {
                            let node = w[*i as usize].0;
                            let thr = f32::from_bits(node as u32);
                            let x = xt[(node >> 32) as u8 as usize][(g * LANES + j) % BLOCK];
                            *i = ((node >> 40) as u8).wrapping_add(u8::from(x > thr));
                        }
                    }
                    for (a, &i) in ag.iter_mut().zip(&idx) {
                        *a += w[i as usize].thr();
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
fn compact_tree(tree: &Tree, nf: usize, out: &mut Vec<CNode>) {
    let base = out.len();
    let leaf_feat = (2 * nf) as u8;
    out.push(CNode::default());
    let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
    let mut next = 1usize;
    while let Some((orig, slot)) = queue.pop_front() {
        let Some(node) = tree.nodes.get(orig) else {
            continue;
        };
        let cell = if node.is_leaf() {
            CNode::new(node.value, leaf_feat, slot as u8)
        } else {
            let c = next;
            next += 2;
            out.extend([CNode::default(); 2]);
            let (first, second, feat, thr) = if node.missing_left {
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
            CNode::new(thr, feat as u8, c as u8)
        };
        if let Some(dst) = out.get_mut(base + slot) {
            *dst = cell;
        }
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
