//! Verification statuses: what the server computed for a verification (state, progress per
//! monitor), stored beside its spec (a versioned resource, [`crate::Stored`]) so the spec's
//! version never moves while it runs. The terminal status is written once, with its event in
//! the same transaction; a later attempt (another server, a resumed one) finds it taken.

use chrono::Utc;
use sqlx::Row;
use vedette_model::Event;
use vedette_model::verification::{VerificationSpec, VerificationStatus};

use crate::changes::ChangeBatch;
use crate::db::{from_json, to_ms};
use crate::{Store, StoreError, events, resource};

/// The states a status may still leave, as SQL.
const OPEN: &str = "('pending', 'running')";

impl Store {
    /// The stored status of verification `id`, if it started.
    pub async fn verification_status(
        &self,
        id: &str,
    ) -> Result<Option<VerificationStatus>, StoreError> {
        let row = sqlx::query("SELECT status FROM verification_statuses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let text: String = row.try_get("status")?;
            from_json(&text, &format!("status of verification {id}"))
        })
        .transpose()
    }

    /// Records the start of verification `id` with `status` (and `event` when it ended at
    /// once, e.g. no monitor matched), unless it started before: then the status stored
    /// first, which the caller adopts. Whether this call started it, and the status in force.
    pub async fn start_verification(
        &self,
        id: &str,
        status: &VerificationStatus,
        event: Option<&Event>,
    ) -> Result<(bool, VerificationStatus), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO verification_statuses (id, state, status, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(status.state.as_str())
        .bind(serde_json::to_string(status)?)
        .bind(to_ms(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            tx.rollback().await?;
            let stored = self.verification_status(id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("status of verification {id} vanished"))
            })?;
            return Ok((false, stored));
        }
        if let Some(event) = event {
            events::insert(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        Ok((true, status.clone()))
    }

    /// Saves the progress of a running verification; nothing when it already ended.
    pub async fn save_verification_progress(
        &self,
        id: &str,
        status: &VerificationStatus,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE verification_statuses SET status = $1, updated_at = $2 \
             WHERE id = $3 AND state IN {OPEN}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(serde_json::to_string(status)?)
            .bind(to_ms(Utc::now()))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes the terminal `status` of verification `id` and its `event` in one transaction,
    /// unless it already ended (or was deleted); whether this call ended it.
    pub async fn finish_verification(
        &self,
        id: &str,
        status: &VerificationStatus,
        event: &Event,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE verification_statuses SET state = $1, status = $2, updated_at = $3 \
             WHERE id = $4 AND state IN {OPEN}"
        );
        let ended = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.state.as_str())
            .bind(serde_json::to_string(status)?)
            .bind(to_ms(Utc::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !ended {
            tx.rollback().await?;
            return Ok(false);
        }
        events::insert(&mut tx, &[event]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes verification `id` and its status in one transaction (with its change in the
    /// feed); whether it existed.
    pub async fn delete_verification(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_resource_write().await?;
        sqlx::query("DELETE FROM verification_statuses WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut changes = ChangeBatch::new(self.backend());
        let change = resource::delete_in::<VerificationSpec>(&mut tx, &mut changes, id).await?;
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        if let Some(seq) = change {
            self.publish::<VerificationSpec>(seq, id, None);
        }
        Ok(change.is_some())
    }
}
