//! placeholder
pub mod features;
pub mod device;
