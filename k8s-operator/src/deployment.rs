//! `Deployment` (`deployments.vedette.dev`): a deployment record mirrored as written with the
//! kinds in [`crate::kinds`], except that the times the server fills in (`started_at` when
//! absent, `finished_at` when the status leaves `started`) are not drift: a resource that
//! leaves them out is in sync with the record that has them, so the operator does not write
//! again and restart the clock.

/// Copies into `desired` the times the server set on `stored` that `desired` leaves out.
pub(crate) fn fill_server_times(
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
