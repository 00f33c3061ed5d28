//! Entities that events and alerts are about.
//!
//! Hosts and devices are named by network address or inventory id. People (users, patients)
//! are only ever named by pseudonymous tokens: turning a token back into a name is an explicit,
//! role-checked, audited call in the privacy layer, never something core can do.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The kind of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// A network host, named by its IP address.
    Host,
    /// A pair of hosts (source, destination), written `a->b`.
    HostPair,
    /// A medical or IoT device from the inventory.
    Device,
    /// A workforce member (EHR user, mail user), by pseudonymous token.
    User,
    /// A patient, by pseudonymous token.
    Patient,
    /// A billing provider (claims).
    Provider,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::HostPair => "host_pair",
            Self::Device => "device",
            Self::User => "user",
            Self::Patient => "patient",
            Self::Provider => "provider",
        }
    }
}

/// An entity id, written `kind:value` in JSON, e.g. `host:10.1.2.3` or `user:u_5f2a9c`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId {
    pub kind: EntityKind,
    pub value: String,
}

impl EntityId {
    pub fn new(kind: EntityKind, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }
    pub fn host(addr: impl Into<String>) -> Self {
        Self::new(EntityKind::Host, addr)
    }
    pub fn host_pair(src: &str, dst: &str) -> Self {
        Self::new(EntityKind::HostPair, format!("{src}->{dst}"))
    }
    pub fn device(id: impl Into<String>) -> Self {
        Self::new(EntityKind::Device, id)
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// Error for a malformed entity id string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid entity id {0:?}: expected kind:value with kind one of host, host_pair, device, user, patient, provider"
)]
pub struct ParseEntityError(pub String);

impl FromStr for EntityId {
    type Err = ParseEntityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, v) = s
            .split_once(':')
            .ok_or_else(|| ParseEntityError(s.to_owned()))?;
        let kind = match k {
            "host" => EntityKind::Host,
            "host_pair" => EntityKind::HostPair,
            "device" => EntityKind::Device,
            "user" => EntityKind::User,
            "patient" => EntityKind::Patient,
            "provider" => EntityKind::Provider,
            _ => return Err(ParseEntityError(s.to_owned())),
        };
        if v.is_empty() {
            return Err(ParseEntityError(s.to_owned()));
        }
        Ok(Self::new(kind, v))
    }
}

impl Serialize for EntityId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EntityId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for s in [
            "host:10.0.0.1",
            "host_pair:10.0.0.1->10.0.0.2",
            "user:u_ab12",
            "device:pump-7",
        ] {
            let e: EntityId = s.parse().unwrap();
            assert_eq!(e.to_string(), s);
            let j = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<EntityId>(&j).unwrap(), e);
        }
        assert!("nobody".parse::<EntityId>().is_err());
        assert!("cat:felix".parse::<EntityId>().is_err());
        assert!("host:".parse::<EntityId>().is_err());
    }
}
