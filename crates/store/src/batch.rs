//! The scheduler's write path: a batch of check outcomes in one transaction.

use vedette_model::{CheckResult, Event};

use crate::incidents::{self, IncidentChange};
use crate::status::{self, MonitorStatus};
use crate::{Store, StoreError, events, results, rollup};

/// One check and everything it caused.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    /// The result to store.
    pub result: CheckResult,
    /// The monitor's status after the result.
    pub status: MonitorStatus,
    /// An incident the result opened or resolved.
    pub incident: Option<IncidentChange>,
    /// Events the result caused, for the outbox.
    pub events: Vec<Event>,
}

impl Store {
    /// Writes a batch in one transaction: raw results, rollups (minute, hour, day), each
    /// monitor's latest status, incident openings and resolutions in batch order, and the
    /// events in batch order. Either all of it is stored or none.
    pub async fn write_batch(&self, batch: &[CheckRecord]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let checks: Vec<&CheckResult> = batch.iter().map(|r| &r.result).collect();
        let statuses: Vec<&MonitorStatus> = batch.iter().map(|r| &r.status).collect();
        let outbox: Vec<&Event> = batch.iter().flat_map(|r| &r.events).collect();

        let mut tx = self.begin_write().await?;
        results::insert(&mut tx, &checks).await?;
        rollup::apply(&mut tx, &checks).await?;
        status::upsert(&mut tx, &statuses).await?;
        for change in batch.iter().filter_map(|r| r.incident.as_ref()) {
            incidents::apply(&mut tx, change).await?;
        }
        events::insert(&mut tx, &outbox).await?;
        tx.commit().await?;
        Ok(())
    }
}
