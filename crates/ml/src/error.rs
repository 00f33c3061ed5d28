//! The one error type of the supervised toolkit.

use std::path::PathBuf;

/// Everything that can go wrong while fitting, scoring, evaluating or loading a model.
///
/// Invalid input is always reported through this type; no function in the toolkit panics on
/// data it is given.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// A required input had no rows (or no elements).
    #[error("empty input: {0}")]
    Empty(&'static str),
    /// A matrix had zero columns.
    #[error("input has zero feature columns")]
    NoColumns,
    /// Two inputs that must agree in length did not.
    #[error("length mismatch for {what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// Which input was wrong.
        what: &'static str,
        /// The length it should have had.
        expected: usize,
        /// The length it had.
        got: usize,
    },
    /// A class label was not below the number of classes.
    #[error("label {label} at row {row} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// The offending label.
        label: u64,
        /// Its row.
        row: usize,
        /// The number of classes in use.
        n_classes: usize,
    },
    /// A label or target value was NaN, infinite or not a whole class number.
    #[error("invalid label at row {row}")]
    InvalidLabel {
        /// The offending row.
        row: usize,
    },
    /// A score given to a metric or calibrator was NaN.
    #[error("non-finite score at row {row}")]
    NonFiniteScore {
        /// The offending row.
        row: usize,
    },
    /// A class that must be present had no rows.
    #[error("class {class} has no rows")]
    EmptyClass {
        /// The missing class.
        class: usize,
    },
    /// A hyper-parameter or argument was outside its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A model was asked to score rows with a different number of features than it was trained on.
    #[error("feature count mismatch: model has {expected}, input has {got}")]
    FeatureMismatch {
        /// Features the model expects.
        expected: usize,
        /// Features the input has.
        got: usize,
    },
    /// A deserialized model was structurally invalid.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// Reading or writing a model file failed.
    #[error("io error on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model or manifest file could not be encoded or decoded.
    #[error("malformed {what} file {path}: {reason}")]
    Format {
        /// "model" or "manifest".
        what: &'static str,
        /// The file involved.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The model file's SHA-256 did not match its manifest (tampered or truncated).
    #[error("checksum mismatch for {path}: manifest says {expected}, file hashes to {actual}")]
    Checksum {
        /// The model file.
        path: PathBuf,
        /// Hash recorded in the manifest.
        expected: String,
        /// Hash of the file as read.
        actual: String,
    },
    /// The file was written by an incompatible format version.
    #[error("unsupported model format version {found} (this build reads {supported})")]
    UnsupportedVersion {
        /// Version found in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The file holds a different kind of model than requested.
    #[error("model kind mismatch: expected {expected}, found {found}")]
    KindMismatch {
        /// Kind requested by the caller.
        expected: String,
        /// Kind recorded in the file.
        found: String,
    },
    /// An optimiser failed to produce finite parameters.
    #[error("fit diverged: {0}")]
    Diverged(&'static str),
}

/// The most classes any model or metric accepts (bounds memory on hostile input).
pub const MAX_CLASSES: usize = 1024;

/// Checks a class count against `2..=MAX_CLASSES` (`min` is 1 for metrics).
pub(crate) fn check_n_classes(n_classes: usize, min: usize) -> Result<()> {
    if n_classes < min || n_classes > MAX_CLASSES {
        return Err(MlError::InvalidParam {
            name: "n_classes",
            reason: format!("{n_classes} not in {min}..={MAX_CLASSES}"),
        });
    }
    Ok(())
}

/// Result alias for the toolkit.
pub type Result<T> = std::result::Result<T, MlError>;

/// Validates a classification label vector: non-empty, every label `< n_classes`.
pub(crate) fn check_labels(y: &[u32], n_classes: usize) -> Result<()> {
    if y.is_empty() {
        return Err(MlError::Empty("labels"));
    }
    for (row, &label) in y.iter().enumerate() {
        if label as usize >= n_classes {
            return Err(MlError::LabelOutOfRange {
                label: u64::from(label),
                row,
                n_classes,
            });
        }
    }
    Ok(())
}

/// Validates a feature matrix against its labels: rows present, columns present, lengths agree.
pub(crate) fn check_xy(x: &crate::Matrix, n_labels: usize) -> Result<()> {
    if x.n_cols() == 0 {
        return Err(MlError::NoColumns);
    }
    if x.n_rows() == 0 {
        return Err(MlError::Empty("feature matrix"));
    }
    if x.n_rows() != n_labels {
        return Err(MlError::LengthMismatch {
            what: "labels",
            expected: x.n_rows(),
            got: n_labels,
        });
    }
    Ok(())
}

/// Converts float labels (as read from a CSV, say) into class indices.
///
/// Every value must be a finite, non-negative whole number below `n_classes`; NaN or fractional
/// labels are rejected with [`MlError::InvalidLabel`].
pub fn labels_from_f32(values: &[f32], n_classes: usize) -> Result<Vec<u32>> {
    let mut out = Vec::with_capacity(values.len());
    for (row, &v) in values.iter().enumerate() {
        if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f32 {
            return Err(MlError::InvalidLabel { row });
        }
        let label = v as u32;
        if label as usize >= n_classes {
            return Err(MlError::LabelOutOfRange {
                label: u64::from(label),
                row,
                n_classes,
            });
        }
        out.push(label);
    }
    Ok(out)
}
