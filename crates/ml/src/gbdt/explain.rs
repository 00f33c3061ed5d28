//! Per-feature attributions of one prediction: path-dependent TreeSHAP (Lundberg et al.,
//! "Consistent individualized feature attribution for tree ensembles", algorithm 2) and the
//! cheaper Saabas path attribution.

use super::tree::Tree;

const NO_FEATURE: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
struct PathElem {
    feature: usize,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Appends a path element and updates the permutation weights (`EXTEND` in the paper).
fn extend(path: &mut Vec<PathElem>, start: usize, zero: f64, one: f64, feature: usize) {
    let l = path.len() - start;
    path.push(PathElem {
        feature,
        zero,
        one,
        weight: if l == 0 { 1.0 } else { 0.0 },
    });
    let p = &mut path[start..];
    let denom = (l + 1) as f64;
    for i in (0..l).rev() {
        let w = p[i].weight;
        p[i + 1].weight += one * w * (i + 1) as f64 / denom;
        p[i].weight = zero * w * (l - i) as f64 / denom;
    }
}

/// Removes element `i` from the path, undoing its weight updates (`UNWIND`).
fn unwind(path: &mut Vec<PathElem>, start: usize, i: usize) {
    let p = &mut path[start..];
    let len = p.len();
    if i >= len {
        return;
    }
    let (one, zero) = (p[i].one, p[i].zero);
    let lf = len as f64;
    let mut n = p[len - 1].weight;
    for j in (0..len - 1).rev() {
        if one != 0.0 {
            let t = p[j].weight;
            p[j].weight = n * lf / ((j + 1) as f64 * one);
            n = t - p[j].weight * zero * (len - j - 1) as f64 / lf;
        } else {
            p[j].weight = p[j].weight * lf / (zero * (len - j - 1) as f64);
        }
    }
    for j in i..len - 1 {
        p[j].feature = p[j + 1].feature;
        p[j].zero = p[j + 1].zero;
        p[j].one = p[j + 1].one;
    }
    path.pop();
}

/// The total weight the path would have with element `i` unwound, without changing it.
fn unwound_sum(p: &[PathElem], i: usize) -> f64 {
    let Some(last) = p.last() else { return 0.0 };
    let (one, zero) = (p[i].one, p[i].zero);
    let len = p.len();
    let lf = len as f64;
    let mut next = last.weight;
    let mut total = 0.0;
    for j in (0..len - 1).rev() {
        if one != 0.0 {
            let t = next * lf / ((j + 1) as f64 * one);
            total += t;
            next = p[j].weight - t * zero * (len - j - 1) as f64 / lf;
        } else if zero != 0.0 {
            total += p[j].weight * lf / (zero * (len - j - 1) as f64);
        }
    }
    total
}

/// Recursion state shared by every node of one tree walk.
struct Walk<'a> {
    tree: &'a Tree,
    row: &'a [f32],
    phi: &'a mut [f64],
    /// Paths of all open recursion levels, one after another.
    stack: Vec<PathElem>,
}

impl Walk<'_> {
    /// Visits node `j` with a copy of the parent path `stack[parent.0..parent.0 + parent.1]`.
    fn recurse(&mut self, j: usize, parent: (usize, usize), zero: f64, one: f64, feature: usize) {
        let Some(&node) = self.tree.nodes.get(j) else {
            return;
        };
        let start = self.stack.len();
        self.stack.extend_from_within(parent.0..parent.0 + parent.1);
        extend(&mut self.stack, start, zero, one, feature);
        if node.is_leaf() {
            let path = &self.stack[start..];
            for i in 1..path.len() {
                let w = unwound_sum(path, i);
                let e = path[i];
                if let Some(p) = self.phi.get_mut(e.feature) {
                    *p += w * (e.one - e.zero) * f64::from(node.value);
                }
            }
        } else {
            let f = node.feature as usize;
            let x = self.row.get(f).copied().unwrap_or(f32::NAN);
            let hot = node.child(x) as usize;
            let cold = if hot == node.left as usize {
                node.right
            } else {
                node.left
            } as usize;
            let (mut iz, mut io) = (1.0, 1.0);
            if let Some(k) = self.stack[start..].iter().position(|e| e.feature == f) {
                iz = self.stack[start + k].zero;
                io = self.stack[start + k].one;
                unwind(&mut self.stack, start, k);
            }
            let cover = f64::from(node.cover);
            let share = |c: usize| {
                let cc = self.tree.nodes.get(c).map_or(0.0, |n| f64::from(n.cover));
                if cover > 0.0 { cc / cover } else { 0.5 }
            };
            let (sh, sc) = (share(hot), share(cold));
            let here = (start, self.stack.len() - start);
            self.recurse(hot, here, iz * sh, io, f);
            self.recurse(cold, here, iz * sc, 0.0, f);
        }
        self.stack.truncate(start);
    }
}

/// Adds the tree's SHAP values for `row` to `phi` (one per feature) and returns the tree's
/// expected value (cover-weighted mean leaf value), so `sum(phi) + expected == output`.
pub(crate) fn tree_shap(tree: &Tree, row: &[f32], phi: &mut [f64]) -> f64 {
    let mut walk = Walk {
        tree,
        row,
        phi,
        stack: Vec::with_capacity(256),
    };
    walk.recurse(0, (0, 0), 1.0, 1.0, NO_FEATURE);
    expected_value(tree)
}

/// Cover-weighted mean of the leaf values.
pub(crate) fn expected_value(tree: &Tree) -> f64 {
    let root = tree.nodes.first().map_or(0.0, |n| f64::from(n.cover));
    if root <= 0.0 {
        return tree.nodes.first().map_or(0.0, |n| f64::from(n.value));
    }
    tree.nodes
        .iter()
        .filter(|n| n.is_leaf())
        .map(|n| f64::from(n.value) * f64::from(n.cover) / root)
        .sum()
}

/// Saabas attribution: each split on the path credits its feature with the change in node value.
/// Returns the root value (the bias), so `sum(phi) + bias == output`.
pub(crate) fn saabas(tree: &Tree, row: &[f32], phi: &mut [f64]) -> f64 {
    let Some(root) = tree.nodes.first() else {
        return 0.0;
    };
    let mut node = *root;
    while !node.is_leaf() {
        let f = node.feature as usize;
        let x = row.get(f).copied().unwrap_or(f32::NAN);
        let Some(&child) = tree.nodes.get(node.child(x) as usize) else {
            break;
        };
        if let Some(p) = phi.get_mut(f) {
            *p += f64::from(child.value) - f64::from(node.value);
        }
        node = child;
    }
    f64::from(root.value)
}
