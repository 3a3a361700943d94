//! The scheduler's write path: a batch of check outcomes in one transaction.

use std::collections::BTreeSet;

use vedette_model::{CheckResult, Event, MonitorSpec};

use crate::incidents::{self, IncidentChange};
use crate::status::{self, MonitorStatus};
use crate::{Store, StoreError, events, resource, results, rollup};

/// One check and everything it caused.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    /// The result to store.
    pub result: CheckResult,
    /// The monitor's status after the result.
    pub status: MonitorStatus,
    /// The status differs from the one before only in the last check
    /// ([`MonitorStatus::only_last_check_differs`]): it is not written with this batch, and
    /// [`Store::catch_up_statuses`] restores it from the results.
    pub last_check_only: bool,
    /// An incident the result opened or resolved.
    pub incident: Option<IncidentChange>,
    /// Events the result caused, for the outbox.
    pub events: Vec<Event>,
}

impl Store {
    /// Writes a batch in one transaction: raw results (noted as pending for the rollups, which
    /// [`Store::fold_rollups`] updates later), each monitor's latest status that changed more
    /// than the last check ([`CheckRecord::last_check_only`]), incident openings
    /// and resolutions in batch order, and the events in batch order. Either all of it is
    /// stored or none.
    ///
    /// A check of a monitor deleted while it ran (its delete committed first) is kept as
    /// history, like the results a delete keeps, but brings back no status and opens, resolves
    /// or announces nothing: write transactions are serialised, so the delete cannot slip in
    /// between this look and the commit.
    pub async fn write_batch(&self, batch: &[CheckRecord]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let checks: Vec<&CheckResult> = batch.iter().map(|r| &r.result).collect();

        let mut tx = self.begin_write().await?;
        let ids: BTreeSet<&str> = checks.iter().map(|c| c.monitor_id.as_str()).collect();
        let existing = resource::existing_in::<MonitorSpec>(&mut tx, &ids).await?;
        let current: Vec<&CheckRecord> = batch
            .iter()
            .filter(|r| existing.contains(r.result.monitor_id.as_str()))
            .collect();
        let statuses: Vec<&MonitorStatus> = current
            .iter()
            .filter(|r| !r.last_check_only)
            .map(|r| &r.status)
            .collect();
        let outbox: Vec<&Event> = current.iter().flat_map(|r| &r.events).collect();
        results::insert(&mut tx, &checks).await?;
        rollup::note_pending(&mut tx, &checks).await?;
        status::upsert(&mut tx, &statuses).await?;
        for change in current.iter().filter_map(|r| r.incident.as_ref()) {
            incidents::apply(&mut tx, change).await?;
        }
        events::insert(&mut tx, &outbox).await?;
        tx.commit().await?;
        Ok(())
    }
}
