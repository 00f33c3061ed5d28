//! ward's learning toolkit, shared by detectors and audits.
//!
//! Everything here is deterministic for a given seed and does no IO except through the
//! explicit `save`/`load` functions in [`model`], which take paths from the caller.

pub mod matrix;
pub use matrix::Matrix;

pub mod calibrate;
pub mod cv;
pub mod error;
pub mod gbdt;
pub use gbdt::softmax_in_place;
pub mod logreg;
pub mod metrics;
pub mod model;
pub use error::{MlError, Result};

pub mod iforest;
pub mod incstat;
pub mod kitnet;
pub mod scaler;
