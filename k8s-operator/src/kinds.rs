//! The kinds whose spec is the model's document as written and whose status reports only
//! `Synced`, through the shared reconcile ([`crate::controller`]): `MaintenanceWindow`,
//! `StatusPage` and `DiscoverySource`. A `DiscoverySource`'s credentials are references
//! (`env:` or `file:` on the Vedette server, e.g. a Kubernetes Secret mounted under
//! `/run/secrets/`), never values, so nothing secret passes through the resource or the
//! operator.

use kube::Resource;
use vedette_client::Kind;

use crate::controller::{Context, Error, Mirrored, Spec, decode};
use crate::crd::{DiscoverySource, MaintenanceWindow, StatusPage, SyncStatus};
use crate::status::NotSynced;

/// Implements [`Mirrored`] for a kind mirrored as written into the Vedette kind `$remote`.
macro_rules! as_written {
    ($kind:ty, $remote:ty, $noun:literal, $feed:literal) => {
        impl Mirrored for $kind {
            type Remote = $remote;
            const NOUN: &'static str = $noun;
            const FEED_KIND: &'static str = $feed;

            async fn desired(&self, _: &Context) -> Result<Result<Spec<Self>, NotSynced>, Error> {
                Ok(decode(&self.spec.fields))
            }

            fn in_sync(&self, desired: &mut Spec<Self>, stored: &Self::Remote, _: bool) -> bool {
                stored.spec == *desired
            }

            fn created(created: <Self::Remote as Kind>::Created) -> Self::Remote {
                created
            }

            async fn report(
                &self,
                id: &str,
                outcome: Result<&Self::Remote, &NotSynced>,
                _: Option<&Spec<Self>>,
                _: &Context,
            ) -> SyncStatus {
                SyncStatus::report(
                    self.meta().generation,
                    self.status.as_ref(),
                    Self::NOUN,
                    id,
                    outcome.map(|_| ()),
                )
            }
        }
    };
}

as_written!(
    MaintenanceWindow,
    vedette_client::MaintenanceWindow,
    "maintenance window",
    "maintenance_windows"
);
as_written!(
    StatusPage,
    vedette_client::StatusPage,
    "status page",
    "status_pages"
);
as_written!(
    DiscoverySource,
    vedette_client::DiscoverySource,
    "discovery source",
    "discovery_sources"
);
