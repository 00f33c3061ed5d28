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

fn extend(path: &mut Vec<PathElem>, zero: f64, one: f64, feature: usize) {
    let l = path.len();
    path.push(PathElem {
        feature,
        zero,
        one,
        weight: if l == 0 { 1.0 } else { 0.0 },
    });
    let denom = (l + 1) as f64;
    for i in (0..l).rev() {
        let w = path[i].weight;
        path[i + 1].weight += one * w * (i + 1) as f64 / denom;
        path[i].weight = zero * w * (l - i) as f64 / denom;
    }
}

fn unwind(path: &mut Vec<PathElem>, i: usize) {
    let len = path.len();
    if i >= len || len == 0 {
        return;
    }
    let (one, zero) = (path[i].one, path[i].zero);
    let lf = len as f64;
    let mut n = path[len - 1].weight;
    for j in (0..len - 1).rev() {
        if one != 0.0 {
            let t = path[j].weight;
            path[j].weight = n * lf / ((j + 1) as f64 * one);
            n = t - path[j].weight * zero * (len - j - 1) as f64 / lf;
        } else {
            path[j].weight = path[j].weight * lf / (zero * (len - j - 1) as f64);
        }
    }
    for j in i..len - 1 {
        path[j].feature = path[j + 1].feature;
        path[j].zero = path[j + 1].zero;
        path[j].one = path[j + 1].one;
    }
    path.pop();
}

fn unwound_sum(path: &[PathElem], i: usize) -> f64 {
    let mut p = path.to_vec();
    unwind(&mut p, i);
    p.iter().map(|e| e.weight).sum()
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    row: &[f32],
    phi: &mut [f64],
    j: usize,
    parent_path: &[PathElem],
    zero: f64,
    one: f64,
    feature: usize,
) {
    let Some(node) = tree.nodes.get(j) else {
        return;
    };
    let mut path = parent_path.to_vec();
    extend(&mut path, zero, one, feature);
    if node.is_leaf() {
        for i in 1..path.len() {
            let w = unwound_sum(&path, i);
            let e = path[i];
            if let Some(p) = phi.get_mut(e.feature) {
                *p += w * (e.one - e.zero) * f64::from(node.value);
            }
        }
        return;
    }
    let f = node.feature as usize;
    let x = row.get(f).copied().unwrap_or(f32::NAN);
    let hot = node.child(x) as usize;
    let cold = if hot == node.left as usize {
        node.right
    } else {
        node.left
    } as usize;
    let (mut iz, mut io) = (1.0, 1.0);
    if let Some(k) = path.iter().position(|e| e.feature == f) {
        iz = path[k].zero;
        io = path[k].one;
        unwind(&mut path, k);
    }
    let cover = f64::from(node.cover);
    let share = |c: usize| {
        let cc = tree.nodes.get(c).map_or(0.0, |n| f64::from(n.cover));
        if cover > 0.0 { cc / cover } else { 0.5 }
    };
    recurse(tree, row, phi, hot, &path, iz * share(hot), io, f);
    recurse(tree, row, phi, cold, &path, iz * share(cold), 0.0, f);
}

/// Adds the tree's SHAP values for `row` to `phi` (one per feature) and returns the tree's
/// expected value (cover-weighted mean leaf value), so `sum(phi) + expected == output`.
pub(crate) fn tree_shap(tree: &Tree, row: &[f32], phi: &mut [f64]) -> f64 {
    recurse(tree, row, phi, 0, &[], 1.0, 1.0, NO_FEATURE);
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
