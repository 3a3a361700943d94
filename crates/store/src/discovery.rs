//! Discovery statuses: what the reconciler keeps about a discovery source (its last run,
//! since when each owned monitor's route is missing), stored beside its spec (a versioned
//! resource, [`crate::Stored`]) so the spec's version never moves when a run ends. A run's
//! status and its event are written in one transaction.

use chrono::Utc;
use sqlx::Row;
use vedette_model::Event;
use vedette_model::discovery::DiscoveryStatus;

use crate::db::{from_json, to_ms};
use crate::{Store, StoreError, events};

impl Store {
    /// The stored status of discovery source `id`, if it ever ran.
    pub async fn discovery_status(&self, id: &str) -> Result<Option<DiscoveryStatus>, StoreError> {
        let row = sqlx::query("SELECT status FROM discovery_statuses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let text: String = row.try_get("status")?;
            from_json(&text, &format!("status of discovery source {id}"))
        })
        .transpose()
    }

    /// Saves the status of discovery source `id` after a run, with the run's `event` in the
    /// same transaction.
    pub async fn save_discovery_status(
        &self,
        id: &str,
        status: &DiscoveryStatus,
        event: Option<&Event>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO discovery_statuses (id, status, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(serde_json::to_string(status)?)
        .bind(to_ms(Utc::now()))
        .execute(&mut *tx)
        .await?;
        if let Some(event) = event {
            events::insert(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
