//! Detectors: events in, alerts out.
//!
//! Pure: no IO, no clock. Detector state can be snapshotted (serde) and restored.

pub mod context;
pub mod dedup;
pub mod device;
pub mod features;
pub mod mitre;
pub mod net;
