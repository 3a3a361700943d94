//! Runtime pauses (`POST /monitors/{id}/pause`): an operational state kept beside the spec, so
//! that applying an unchanged file or Terraform plan never resumes a monitor someone paused.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{from_ms, to_ms};
use crate::{Store, StoreError};

/// The longest reason a runtime pause keeps, in characters.
pub const MAX_PAUSE_REASON_CHARS: usize = 500;

/// Who paused a monitor at runtime, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimePause {
    /// When it was paused.
    pub at: DateTime<Utc>,
    /// Name of the token that paused it.
    pub by: String,
    /// Why, as the pauser said.
    pub reason: Option<String>,
}

fn decode(row: &AnyRow) -> Result<(String, RuntimePause), StoreError> {
    Ok((
        row.try_get("monitor_id")?,
        RuntimePause {
            at: from_ms(row.try_get("paused_at")?)?,
            by: row.try_get("paused_by")?,
            reason: row.try_get("reason")?,
        },
    ))
}

impl Store {
    /// Pauses `id` at runtime, replacing an earlier runtime pause of it.
    pub async fn put_pause(&self, id: &str, pause: &RuntimePause) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO monitor_pauses (monitor_id, paused_at, paused_by, reason) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (monitor_id) DO UPDATE SET \
             paused_at = excluded.paused_at, paused_by = excluded.paused_by, \
             reason = excluded.reason",
        )
        .bind(id)
        .bind(to_ms(pause.at))
        .bind(pause.by.as_str())
        .bind(pause.reason.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the runtime pause of `id`; whether there was one.
    pub async fn delete_pause(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM monitor_pauses WHERE monitor_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every runtime pause of an existing monitor, by monitor id; read at start.
    pub async fn pauses(&self) -> Result<Vec<(String, RuntimePause)>, StoreError> {
        sqlx::query(
            "SELECT monitor_id, paused_at, paused_by, reason FROM monitor_pauses \
             WHERE monitor_id IN (SELECT id FROM monitors) ORDER BY monitor_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode)
        .collect()
    }
}
