//! The envelope every versioned resource comes back in, written once: a kind is an alias of
//! [`Item`] with its spec and, where the server computes one, its status.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vedette_model::{Source, Version};

/// A resource as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, T: Serialize + ItemStatus",
    deserialize = "S: Deserialize<'de>, T: Deserialize<'de> + ItemStatus"
))]
pub struct Item<S, T = NoStatus> {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What the resource is, with every default filled in.
    pub spec: S,
    /// What the server computed about it (kinds without one: [`NoStatus`]).
    #[serde(default, skip_serializing_if = "ItemStatus::is_absent")]
    pub status: T,
    /// Who writes it: `api`, `file` or `demo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Source>,
    /// Optimistic-concurrency version (the `ETag`).
    #[serde(default)]
    pub version: Version,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The `status` of an [`Item`]: left out when written back if absent.
pub trait ItemStatus: Default {
    /// Whether there is nothing to show.
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T> ItemStatus for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// A verification's status is always shown.
impl ItemStatus for vedette_model::verification::VerificationStatus {}

impl ItemStatus for vedette_model::discovery::DiscoveryStatus {}

/// The status of kinds the server computes none for; whatever a server sends is ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoStatus;

impl ItemStatus for NoStatus {
    fn is_absent(&self) -> bool {
        true
    }
}

impl Serialize for NoStatus {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for NoStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NoStatus)
    }
}
