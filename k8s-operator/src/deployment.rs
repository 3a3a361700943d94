//! `Deployment` (`deployments.vedette.dev`): a deployment record mirrored as written, like the
//! kinds in [`crate::kinds`], except that the times the server fills in (`started_at` when
//! absent, `finished_at` when the status leaves `started`) are not drift: a resource that
//! leaves them out is in sync with the record that has them, so the operator does not write
//! again and restart the clock.

use kube::Resource;
use vedette_client::Kind;

use crate::controller::{Context, Error, Mirrored, Spec, decode};
use crate::crd::{Deployment, SyncStatus};
use crate::status::NotSynced;

impl Mirrored for Deployment {
    type Remote = vedette_client::Deployment;
    const NOUN: &'static str = "deployment";
    const FEED_KIND: &'static str = "deployments";

    async fn desired(&self, _: &Context) -> Result<Result<Spec<Self>, NotSynced>, Error> {
        Ok(decode(&self.spec.fields))
    }

    fn in_sync(&self, desired: &mut Spec<Self>, stored: &Self::Remote, _: bool) -> bool {
        fill_server_times(desired, &stored.spec);
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

/// Copies into `desired` the times the server set on `stored` that `desired` leaves out.
fn fill_server_times(
    desired: &mut vedette_model::deployment::DeploymentSpec,
    stored: &vedette_model::deployment::DeploymentSpec,
) {
    if desired.started_at.is_none() {
        desired.started_at = stored.started_at;
    }
    if desired.finished_at.is_none() && desired.status == stored.status {
        desired.finished_at = stored.finished_at;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use vedette_model::deployment::{DeploymentSpec, DeploymentStatus};

    use super::fill_server_times;

    #[test]
    fn server_times_are_not_drift_but_a_new_outcome_is() {
        let mut stored = DeploymentSpec::new("payments", "1.4.2", "prod");
        stored.started_at = Some(Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap());
        let mut desired = DeploymentSpec::new("payments", "1.4.2", "prod");
        fill_server_times(&mut desired, &stored);
        assert_eq!(desired, stored, "started_at filled by the server");

        stored.status = DeploymentStatus::Succeeded;
        stored.finished_at = Some(Utc.with_ymd_and_hms(2026, 11, 28, 10, 5, 0).unwrap());
        let mut finished = DeploymentSpec::new("payments", "1.4.2", "prod");
        finished.status = DeploymentStatus::Succeeded;
        fill_server_times(&mut finished, &stored);
        assert_eq!(finished, stored, "finished_at filled by the server");

        let mut failed = DeploymentSpec::new("payments", "1.4.2", "prod");
        failed.status = DeploymentStatus::Failed;
        fill_server_times(&mut failed, &stored);
        assert_ne!(failed, stored, "a new outcome is written");
        assert_eq!(
            failed.finished_at, None,
            "the server sets its own finish time"
        );
    }
}
