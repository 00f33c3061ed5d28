//! ward's vocabulary: the typed events every source is parsed into, the entities they
//! concern, and the alerts detectors raise about them.
//!
//! This crate is pure: no IO, no clock, no async. Everything here serialises to stable,
//! documented JSON (see `docs/alert-format.md` at the repository root).

pub mod alert;
pub mod entity;
pub mod event;
pub mod geo;
pub mod net;
pub mod time;

pub use alert::{Alert, Contribution, Evidence, Explanation, Severity};
pub use entity::{EntityId, EntityKind};
pub use event::{Event, EventId};
pub use net::{Flow, FlowLabel, FlowSchema, Proto};
pub use time::Timestamp;
