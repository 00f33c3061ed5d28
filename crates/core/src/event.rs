//! The typed event every source is parsed into. Network flows first; EHR access, claims and
//! mail join as further variants.

use crate::net::Flow;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an event came from: the source name (file path or listener) and its 1-based line or
/// record number there. Used as alert evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventId {
    pub source: String,
    pub line: u64,
}

/// One parsed event, tagged by domain: `{"kind":"flow", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Flow(Flow),
}

impl Event {
    pub fn time(&self) -> Option<Timestamp> {
        match self {
            Self::Flow(f) => f.ts,
        }
    }
}
