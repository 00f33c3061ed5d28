//! ward-detect integration tests, one module per detector.

#[path = "it/device.rs"]
mod device;
