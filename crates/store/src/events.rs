//! The events outbox: every event is written in the same transaction as the state change that
//! caused it, numbered by a sequence that consumers page through.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::{Event, EventType};

use crate::db::{MAX_BINDS, bind_each, from_json, params_from, to_ms, values_rows};
use crate::{Store, StoreError};

/// Most events one call of [`Store::list_events`] returns.
pub const MAX_EVENTS_PAGE: u32 = 10_000;

/// Appends events inside `conn`'s transaction, in order. An event whose id is already stored
/// is skipped, so a retried batch does not duplicate notifications.
pub(crate) async fn insert(conn: &mut AnyConnection, events: &[&Event]) -> Result<(), StoreError> {
    const COLS: usize = 5;
    for chunk in events.chunks(MAX_BINDS / COLS) {
        let sql = format!(
            "INSERT INTO events (id, event_type, monitor_id, occurred_at, body) VALUES {} \
             ON CONFLICT (id) DO NOTHING",
            values_rows(conn, chunk.len(), COLS)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for e in chunk {
            query = query
                .bind(e.id.as_str())
                .bind(e.event_type.as_str())
                .bind(e.monitor_id.as_deref())
                .bind(to_ms(e.occurred_at))
                .bind(serde_json::to_string(e)?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// An outbox row: its sequence number and the event.
fn decode(row: &AnyRow) -> Result<(i64, Event), StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let body: String = row.try_get("body")?;
    Ok((seq, from_json(&body, &format!("event {seq}"))?))
}

impl Store {
    /// Appends events to the outbox on their own, for events that no check caused (a webhook
    /// endpoint disabled, ...). An event whose id is already stored is skipped.
    pub async fn append_events(&self, events: &[Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let refs: Vec<&Event> = events.iter().collect();
        let mut tx = self.begin_write().await?;
        insert(&mut tx, &refs).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events with a sequence number above `after` (all when `None`), ascending, at most
    /// `limit` (1 to [`MAX_EVENTS_PAGE`]). Each comes with its sequence number, the cursor for
    /// the next call. Sequence numbers commit in order, so a consumer never skips one.
    pub async fn list_events(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit.clamp(1, MAX_EVENTS_PAGE)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    /// [`list_events`](Self::list_events) restricted to the given types (all types when
    /// `types` is empty).
    pub async fn list_events_of(
        &self,
        after: Option<i64>,
        limit: u32,
        types: &[EventType],
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        if types.is_empty() {
            return self.list_events(after, limit).await;
        }
        let query = sqlx::query(AssertSqlSafe(format!(
            "SELECT seq, body FROM events WHERE seq > $1 AND event_type IN ({}) \
             ORDER BY seq LIMIT $2",
            params_from(3, types.len())
        )))
        .persistent(false)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit.clamp(1, MAX_EVENTS_PAGE)));
        let query = bind_each(query, types.iter().map(|t| t.as_str()));
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The sequence number of the newest event (0 when there is none), for a consumer that
    /// starts from now.
    pub async fn last_event_seq(&self) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }
}
