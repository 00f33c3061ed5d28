//! placeholder
pub mod features;
