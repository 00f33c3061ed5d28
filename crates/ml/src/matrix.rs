//! A dense, row-major feature matrix of `f32`. Missing values are `NaN`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Matrix {
    data: Vec<f32>,
    n_rows: usize,
    n_cols: usize,
}

impl Matrix {
    /// An empty matrix with `n_cols` columns.
    pub fn with_cols(n_cols: usize) -> Self {
        Self {
            data: Vec::new(),
            n_rows: 0,
            n_cols,
        }
    }

    /// From row-major data. Panics never: returns `None` if `data.len()` is not a multiple of `n_cols`.
    pub fn from_vec(data: Vec<f32>, n_cols: usize) -> Option<Self> {
        if n_cols == 0 {
            return data.is_empty().then_some(Self {
                data,
                n_rows: 0,
                n_cols,
            });
        }
        if !data.len().is_multiple_of(n_cols) {
            return None;
        }
        let n_rows = data.len() / n_cols;
        Some(Self {
            data,
            n_rows,
            n_cols,
        })
    }

    /// Appends one row. Returns `false` (and appends nothing) if its length is wrong.
    pub fn push_row(&mut self, row: &[f32]) -> bool {
        if row.len() != self.n_cols {
            return false;
        }
        self.data.extend_from_slice(row);
        self.n_rows += 1;
        true
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }
    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.n_cols + j]
    }
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        (0..self.n_rows).map(move |i| self.row(i))
    }
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }
    /// The row-major data, giving the buffer back for reuse.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// A new matrix holding the given rows, in the given order.
    pub fn select_rows(&self, idx: &[usize]) -> Self {
        let mut data = Vec::with_capacity(idx.len() * self.n_cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Self {
            data,
            n_rows: idx.len(),
            n_cols: self.n_cols,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_selects() {
        let mut m = Matrix::with_cols(2);
        assert!(m.push_row(&[1.0, 2.0]));
        assert!(m.push_row(&[3.0, 4.0]));
        assert!(!m.push_row(&[5.0]));
        assert_eq!(m.n_rows(), 2);
        assert_eq!(m.select_rows(&[1, 0]).row(0), &[3.0, 4.0]);
        assert!(Matrix::from_vec(vec![1.0; 3], 2).is_none());
    }
}
