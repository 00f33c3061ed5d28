//! EHR-snooping detection for ward.
//!
//! Data flows one way: the loaders ([`load`]) read the input contract into a [`Dataset`] of
//! dense indexes and CSR arrays; [`explain`] finds the clinical reason for each access;
//! [`signals`] computes the case signals; [`score`] weighs them with likelihood ratios learned
//! from the hospital's own log, groups flagged accesses into cases and applies the daily
//! budget. The crate does no IO outside [`load`] and reads no clock.

pub mod error;
pub mod load;
pub mod model;
pub mod normalise;

pub use error::EhrError;
pub use load::{InputFiles, Loader, load_dir, load_files};
pub use model::{Access, Action, Dataset, LoadReport};
pub mod explain;
pub mod signals;
