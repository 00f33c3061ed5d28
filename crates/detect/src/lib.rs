//! Detectors: events in, alerts out.
//!
//! Pure: no IO, no clock. Detector state can be snapshotted (serde) and restored.

pub mod features;
pub mod device;
pub mod mitre;
pub mod net;
pub mod dedup;
