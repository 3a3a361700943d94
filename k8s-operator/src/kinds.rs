//! The kinds whose spec is the model's document as written and whose status reports only
//! `Synced`, through the shared reconcile ([`crate::controller`]): `MaintenanceWindow`,
//! `StatusPage`, `DiscoverySource` and `Deployment` (whose server-set times
//! [`crate::deployment`] fills in). A `DiscoverySource`'s credentials are references
//! (`env:` or `file:` on the Vedette server, e.g. a Kubernetes Secret mounted under
//! `/run/secrets/`), never values, so nothing secret passes through the resource or the
//! operator.

use kube::Resource;
use vedette_client::Kind;

use crate::controller::{Context, Error, Mirrored, Spec, decode};
use crate::crd::{Deployment, DiscoverySource, MaintenanceWindow, StatusPage, SyncStatus};
use crate::status::NotSynced;

/// Implements [`Mirrored`] for a kind mirrored as written into the Vedette kind `$remote`;
/// `$fill` (when given) copies into the desired spec what the server sets and the resource
/// leaves out, before the two are compared.
macro_rules! as_written {
    ($kind:ty, $remote:ty, $noun:literal, $feed:literal) => {
        as_written!($kind, $remote, $noun, $feed, |_, _| {});
    };
    ($kind:ty, $remote:ty, $noun:literal, $feed:literal, $fill:expr) => {
        impl Mirrored for $kind {
            type Remote = $remote;
            const NOUN: &'static str = $noun;
            const FEED_KIND: &'static str = $feed;

            async fn desired(&self, _: &Context) -> Result<Result<Spec<Self>, NotSynced>, Error> {
                Ok(decode(self.document()))
            }

            fn in_sync(&self, desired: &mut Spec<Self>, stored: &Self::Remote, _: bool) -> bool {
                let fill: fn(&mut Spec<Self>, &Spec<Self>) = $fill;
                fill(desired, &stored.spec);
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
as_written!(
    Deployment,
    vedette_client::Deployment,
    "deployment",
    "deployments",
    crate::deployment::fill_server_times
);
