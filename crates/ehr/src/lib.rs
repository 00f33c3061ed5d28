//! EHR-snooping detection for ward.
//!
//! Data flows one way: the loaders ([`load`]) read the input contract into a [`Dataset`] of
//! dense indexes and CSR arrays; [`explain`] finds the clinical reason for each access;
//! [`signals`] computes the case signals; [`score`] weighs them with likelihood ratios learned
//! from the hospital's own log; [`detect`] groups flagged accesses into cases per user and day
//! and applies the daily budget. The crate does no IO outside [`load`] and reads no clock.

pub mod bench;
pub mod detect;
pub mod error;
pub mod explain;
pub mod load;
pub mod model;
pub mod names;
pub mod normalise;
pub mod score;
pub mod signals;

pub use detect::{
    Case, CaseId, DetectReport, Detection, Detector, EhrConfig, FlaggedAccess, Reason,
};
pub use error::EhrError;
pub use load::{InputFiles, Loader, load_dir, load_files};
pub use model::{Access, Action, Dataset, LoadReport};
