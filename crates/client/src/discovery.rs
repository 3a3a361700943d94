//! Discovery sources (`/api/v1/discovery-sources`): gateways whose routes become monitors.

use vedette_model::discovery::{DiscoverySourceSpec, DiscoveryStatus};

use crate::{Client, Item, Kind, Resources};

/// A discovery source as the server returns it, with what its last run found and did.
pub type DiscoverySource = Item<DiscoverySourceSpec, DiscoveryStatus>;

impl Kind for DiscoverySource {
    const COLLECTION: &'static str = "discovery-sources";
    type Spec = DiscoverySourceSpec;
    type Created = DiscoverySource;
}

impl Client {
    /// The discovery sources.
    pub fn discovery_sources(&self) -> Resources<'_, DiscoverySource> {
        self.resources()
    }
}
