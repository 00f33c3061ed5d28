//! Trees: the serialized node form, and the flat layout used for fast scoring.

use serde::{Deserialize, Serialize};

/// Deepest tree a model file may contain (guards the scorer against hostile files).
pub(crate) const MAX_TREE_DEPTH: usize = 64;

/// One node of a tree as stored in a model file. Node 0 is the root; a node with `left == 0` is
/// a leaf. Internal nodes send `x[feature] <= threshold` left, larger values right, and NaN to
/// the left when `missing_left`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    #[serde(rename = "f")]
    pub(crate) feature: u32,
    #[serde(rename = "t")]
    pub(crate) threshold: f32,
    #[serde(rename = "l")]
    pub(crate) left: u32,
    #[serde(rename = "r")]
    pub(crate) right: u32,
    #[serde(rename = "m")]
    pub(crate) missing_left: bool,
    /// Output if scoring stopped here (leaf value, or the shrunken Newton step at an inner node).
    #[serde(rename = "v")]
    pub(crate) value: f32,
    /// Training rows that reached the node.
    #[serde(rename = "c")]
    pub(crate) cover: f32,
    /// Loss reduction of the split (0 for leaves).
    #[serde(rename = "g")]
    pub(crate) gain: f32,
}

impl Node {
    pub(crate) fn leaf(value: f32, cover: f32) -> Self {
        Self {
            feature: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            missing_left: false,
            value,
            cover,
            gain: 0.0,
        }
    }
    pub(crate) fn is_leaf(&self) -> bool {
        self.left == 0
    }
    /// The child `x` goes to.
    #[inline]
    pub(crate) fn child(&self, x: f32) -> u32 {
        let left = if x.is_nan() {
            self.missing_left
        } else {
            x <= self.threshold
        };
        if left { self.left } else { self.right }
    }
}

/// One regression tree contributing to one output (class) of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
}

impl Tree {
    /// Checks structure: children in range, each node reached once from a lower index, features
    /// in range, finite numbers, bounded depth. Returns the depth.
    pub(crate) fn validate(&self, n_features: usize) -> Result<usize, String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err("empty tree".into());
        }
        let mut parent_seen = vec![false; n];
        let mut depth = vec![0usize; n];
        let mut max_depth = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.value.is_finite() || !node.cover.is_finite() || node.gain.is_nan() {
                return Err(format!("node {i} has a non-finite value"));
            }
            if node.cover <= 0.0 {
                return Err(format!("node {i} has no cover"));
            }
            if i > 0 && !parent_seen[i] {
                return Err(format!("node {i} is unreachable"));
            }
            if node.is_leaf() {
                continue;
            }
            if node.feature as usize >= n_features {
                return Err(format!(
                    "node {i} splits on feature {} of {n_features}",
                    node.feature
                ));
            }
            if !node.threshold.is_finite() {
                return Err(format!("node {i} has a non-finite threshold"));
            }
            for c in [node.left as usize, node.right as usize] {
                if c <= i || c >= n || parent_seen[c] || node.left == node.right {
                    return Err(format!("node {i} has an invalid child {c}"));
                }
                parent_seen[c] = true;
                depth[c] = depth[i] + 1;
                max_depth = max_depth.max(depth[c]);
            }
        }
        if max_depth > MAX_TREE_DEPTH {
            return Err(format!("tree depth {max_depth} exceeds {MAX_TREE_DEPTH}"));
        }
        Ok(max_depth)
    }

    /// The leaf `row` reaches (row length already checked); the slow reference path for tests.
    #[cfg(test)]
    pub(crate) fn leaf_of(&self, row: &[f32]) -> usize {
        let mut i = 0usize;
        loop {
            let Some(node) = self.nodes.get(i) else {
                return 0;
            };
            if node.is_leaf() {
                return i;
            }
            let x = row.get(node.feature as usize).copied().unwrap_or(f32::NAN);
            i = node.child(x) as usize;
        }
    }
}
