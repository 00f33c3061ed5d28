//! The scoring layout: all trees compiled into one flat node array, walked 64 rows at a time.
//!
//! Two layouts share one idea: a leaf loops back to itself, so every row of a block takes the
//! same number of steps (the tree's depth) and the inner loop has no leaf test and no branch on
//! the data; the 64 independent walks of a block overlap in the CPU.
//!
//! * The compact layout (models with at most 127 features and 256 nodes per tree, which covers
//!   the models ward trains) packs a node in 8 bytes addressed by a `u8` inside a fixed 256-slot
//!   window, and transposes each block of rows into 256 rows of 64 order-preserving integer
//!   keys, so no index in the inner loop needs a bounds check and each step is an integer
//!   compare. NaN costs nothing at scoring time: its key is 0, never greater than a threshold,
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

/// The compact layout as three parallel arrays (one entry per node slot), padded with
/// `WINDOW` spare slots so every tree starts a full 256-slot window. Split across arrays, a
/// step costs four plain loads and no bit twiddling.
#[derive(Debug, Clone, Default)]
struct Compact {
    /// Threshold as an order key ([`key`]); for leaves, the bits of the leaf value.
    keys: Vec<u32>,
    /// Offset of the row to test in the transposed block, `row * BLOCK`, where the row is `f`,
    /// `n_features + f` (the negated feature) or `2 * n_features` (all zero keys, for leaves).
    offs: Vec<u16>,
    /// Slot of the first child (the node itself for leaves); the second child is `left + 1`.
    lefts: Vec<u8>,
    /// `keys` and `offs` packed: key in the low 32 bits, offset in the top 16.
    packed: Vec<u64>,
}

/// One tree's 256-slot view of the compact arrays.
type Window<'a> = (&'a [u32; WINDOW], &'a [u16; WINDOW], &'a [u8; WINDOW]);

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

    fn pack(&mut self) {
        self.packed = self
            .keys
            .iter()
            .zip(&self.offs)
            .map(|(&k, &o)| u64::from(k) | (u64::from(o) << 48))
            .collect();
    }

    fn packed_window(&self, t: &TreeRef) -> Option<&[u64; WINDOW]> {
        let s = t.start as usize;
        self.packed.get(s..s + WINDOW)?.try_into().ok()
    }

    fn window(&self, t: &TreeRef) -> Option<Window<'_>> {
        let s = t.start as usize;
        let k = self.keys.get(s..s + WINDOW)?.try_into().ok()?;
        let o = self.offs.get(s..s + WINDOW)?.try_into().ok()?;
        let l = self.lefts.get(s..s + WINDOW)?.try_into().ok()?;
        Some((k, o, l))
    }
}

/// An unsigned integer with the order of the floats, so a step compares integers: NaN maps to
/// 0 (below everything, hence never "greater"), and -0 to the key of +0.
#[inline]
fn key(v: f32) -> u32 {
    if v.is_nan() {
        return 0;
    }
    let b = (v + 0.0).to_bits();
    if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
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
            for _ in 0..WINDOW {
                nodes.push(0, 2 * n_features, 0);
            }
            nodes.pack();
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
            let mut wins: [Option<Window<'_>>; LANES] = [None; LANES];
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
        let mut xt = vec![0u32; BLOCK * WINDOW];
        let mut acc = vec![[0f32; BLOCK]; k];
        let mut start = 0;
        while start < n {
            let b = BLOCK.min(n - start);
            let rows = data.get(start * nf..(start + b) * nf).unwrap_or(&[]);
            for (r, row) in rows.chunks_exact(nf).enumerate() {
                for (f, &v) in row.iter().enumerate() {
                    xt[f * BLOCK + r] = key(v);
                    xt[(nf + f) * BLOCK + r] = key(-v);
                }
            }
            let xt: &[u32; BLOCK * WINDOW] = match xt.as_slice().try_into() {
                Ok(x) => x,
                Err(_) => return,
            };
            for a in acc.iter_mut() {
                *a = [0.0; BLOCK];
            }
            for t in &self.trees {
                let Some((kw, ow, lw)) = nodes.window(t) else {
                    continue;
                };
                let Some(pw) = nodes.packed_window(t) else {
                    continue;
                };
                let Some(a) = acc.get_mut(t.output as usize) else {
                    continue;
                };
                for (g, ag) in a.chunks_exact_mut(LANES).enumerate() {
                    let mut idx = [0u8; LANES];
                    for _ in 0..t.depth {
                        for (j, i) in idx.iter_mut().enumerate() {
                            let n = *i as usize;
                            let nd = pw[n];
                            let x = xt[((nd >> 48) as usize & OFF_MASK) | ((g * LANES + j) % BLOCK)];
                            *i = lw[n].wrapping_add(u8::from(x > nd as u32));
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
