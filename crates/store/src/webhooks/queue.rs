//! The webhook message queue: the fan-out cursor over the events outbox, messages (one event for
//! one endpoint), their claims and leases, and what becomes of a message after an attempt.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use vedette_model::Event;

use super::log::insert_attempt;
use super::{MAX_WEBHOOK_PAGE, WebhookAttempt, count, small};
use crate::db::{from_json, from_ms, from_opt_ms, to_ms};
use crate::{Backend, Store, StoreError};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// A 2xx answer was received.
    Succeeded,
    /// Attempts are exhausted, or the endpoint was disabled.
    Failed,
}

impl MessageStatus {
    /// Lowercase name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored (lowercase) name.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!(
                "webhook message status {other:?}"
            ))),
        }
    }
}

/// A message to queue: one event for one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookMessage {
    /// Message id, sent as `webhook-id` on every attempt.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event.
    pub event: Event,
    /// First attempt not before this instant.
    pub first_attempt_at: DateTime<Utc>,
}

/// A queued message.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookMessage {
    /// Message id (`webhook-id`).
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event delivered.
    pub event: Event,
    /// Where it stands.
    pub status: MessageStatus,
    /// Attempts made since it was queued (or last replayed).
    pub attempts: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The dispatcher whose claim the message is under (while being attempted), see
    /// [`Store::claim_webhook_messages`].
    pub claimed_by: Option<String>,
    /// HTTP status of the last attempt, when one answered.
    pub last_status: Option<u16>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
}

/// What becomes of a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAfterAttempt {
    /// Delivered.
    Succeeded,
    /// Try again at this instant.
    RetryAt(DateTime<Utc>),
    /// Give up.
    Failed,
}

/// Filter for listing messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    /// Only this endpoint's.
    pub endpoint_id: Option<String>,
    /// Only in this status.
    pub status: Option<MessageStatus>,
    /// Only of this event type.
    pub event_type: Option<String>,
    /// Only queued at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only queued before this instant (for paging back).
    pub before: Option<DateTime<Utc>>,
    /// With `before`: also those queued at exactly `before` whose id sorts below this one, so
    /// `(before, before_id)` is the position after the last message of a page.
    pub before_id: Option<String>,
    /// At most this many (1 to [`MAX_WEBHOOK_PAGE`]), newest first.
    pub limit: u32,
}

const MESSAGE_COLUMNS: &str = "id, endpoint_id, event, status, attempts, next_attempt_at, \
     created_at, updated_at, claimed_by, last_status, last_error";

fn decode_message(row: &AnyRow) -> Result<WebhookMessage, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(WebhookMessage {
        endpoint_id: row.try_get("endpoint_id")?,
        event: from_json(
            &row.try_get::<String, _>("event")?,
            &format!("event of message {id}"),
        )?,
        status: MessageStatus::parse(&row.try_get::<String, _>("status")?)?,
        attempts: count(row.try_get("attempts")?, "attempts")?,
        next_attempt_at: from_opt_ms(row.try_get("next_attempt_at")?)?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
        claimed_by: row.try_get("claimed_by")?,
        last_status: small(row.try_get("last_status")?, "last_status")?,
        last_error: row.try_get("last_error")?,
        id,
    })
}

impl Store {
    /// The outbox sequence number a cursor has consumed up to; `None` for a new cursor.
    pub async fn webhook_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM webhook_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// In one transaction: queues `messages` (a message whose endpoint already has the same
    /// event is skipped) and moves cursor `name` from `from` (`None`: the cursor must not exist
    /// yet) to `to`. Returns `false`, writing nothing, when the cursor was not at `from`
    /// (another dispatcher got there first).
    pub async fn fan_out_webhook_messages(
        &self,
        name: &str,
        from: Option<i64>,
        to: i64,
        messages: &[NewWebhookMessage],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let moved = match from {
            None => sqlx::query(
                "INSERT INTO webhook_cursors (name, seq) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(from) => {
                sqlx::query("UPDATE webhook_cursors SET seq = $1 WHERE name = $2 AND seq = $3")
                    .bind(to)
                    .bind(name)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            }
        };
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for m in messages {
            insert_message(&mut tx, m).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Queues one message outside the outbox flow (a test event); `false` when the endpoint
    /// already has a message for that event.
    pub async fn enqueue_webhook_message(&self, m: &NewWebhookMessage) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_message(&mut conn, m).await
    }

    /// Endpoints that have a pending message due at `now`.
    pub async fn webhook_endpoints_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT endpoint_id FROM webhook_messages \
             WHERE status = 'pending' AND next_attempt_at <= $1",
        )
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims up to `limit` of an endpoint's messages due at `now` for `owner`, oldest due
    /// first, by moving their `next_attempt_at` to `lease_until`: another claimer skips them.
    /// The owner releases what it did not attempt with [`Store::release_webhook_claims`] when
    /// it stops; if it dies instead they come due again after the lease.
    pub async fn claim_webhook_messages(
        &self,
        endpoint_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookMessage>, StoreError> {
        // On PostgreSQL the pick is materialized: as a subquery it could be run again for each
        // row, and with SKIP LOCKED each run passes over the rows just claimed and picks more.
        let (pick, lock) = match self.backend() {
            Backend::Sqlite => ("", ""),
            Backend::Postgres => (" MATERIALIZED", " FOR UPDATE SKIP LOCKED"),
        };
        let sql = format!(
            "WITH picked AS{pick} (SELECT id FROM webhook_messages WHERE endpoint_id = $3 \
               AND status = 'pending' AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at, created_at LIMIT $4{lock}) \
             UPDATE webhook_messages SET next_attempt_at = $1, updated_at = $2, claimed_by = $5 \
             WHERE id IN (SELECT id FROM picked) AND status = 'pending' AND next_attempt_at <= $2 \
             RETURNING {MESSAGE_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(to_ms(lease_until))
            .bind(to_ms(now))
            .bind(endpoint_id)
            .bind(i64::from(limit.clamp(1, MAX_WEBHOOK_PAGE)))
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows
            .iter()
            .map(decode_message)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Makes the pending messages `owner` claimed due at `at` again, and returns how many: for
    /// a dispatcher that stops with claims it did not attempt, or for one that knows `owner`
    /// is dead. Other owners' claims are left alone, so a replica never releases those of
    /// another that is still attempting them.
    pub async fn release_webhook_claims(
        &self,
        owner: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE webhook_messages SET next_attempt_at = $1, updated_at = $1, \
             claimed_by = NULL WHERE claimed_by = $2 AND status = 'pending'",
        )
        .bind(to_ms(at))
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Logs an attempt and moves its message on (ending its claim), in one transaction.
    pub async fn complete_webhook_attempt(
        &self,
        attempt: &WebhookAttempt,
        after: MessageAfterAttempt,
    ) -> Result<(), StoreError> {
        let now = to_ms(Utc::now());
        let mut tx = self.pool.begin().await?;
        insert_attempt(&mut tx, attempt).await?;
        let (status, next) = match after {
            MessageAfterAttempt::Succeeded => (MessageStatus::Succeeded, None),
            MessageAfterAttempt::RetryAt(t) => (MessageStatus::Pending, Some(to_ms(t))),
            MessageAfterAttempt::Failed => (MessageStatus::Failed, None),
        };
        sqlx::query(
            "UPDATE webhook_messages SET status = $1, attempts = $2, next_attempt_at = $3, \
             updated_at = $4, last_status = $5, last_error = $6, claimed_by = NULL WHERE id = $7",
        )
        .bind(status.as_str())
        .bind(i64::from(attempt.attempt))
        .bind(next)
        .bind(now)
        .bind(attempt.response_status.map(i64::from))
        .bind(attempt.error.as_deref())
        .bind(&attempt.message_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One message by id.
    pub async fn get_webhook_message(
        &self,
        id: &str,
    ) -> Result<Option<WebhookMessage>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(decode_message)
        .transpose()
    }

    /// Messages matching `filter`, newest first.
    pub async fn list_webhook_messages(
        &self,
        filter: &MessageFilter,
    ) -> Result<Vec<WebhookMessage>, StoreError> {
        let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE 1 = 1");
        let mut n = 0;
        let mut next = |sql: &mut String, clause: &str| {
            n += 1;
            sql.push_str(&clause.replace('?', &format!("${n}")));
        };
        if filter.endpoint_id.is_some() {
            next(&mut sql, " AND endpoint_id = ?");
        }
        if filter.status.is_some() {
            next(&mut sql, " AND status = ?");
        }
        if filter.event_type.is_some() {
            next(&mut sql, " AND event_type = ?");
        }
        if filter.since.is_some() {
            next(&mut sql, " AND created_at >= ?");
        }
        match (filter.before, &filter.before_id) {
            (Some(_), Some(_)) => {
                // Both `?` of the first clause are the same parameter.
                next(&mut sql, " AND (created_at < ? OR (created_at = ?");
                next(&mut sql, " AND id < ?))");
            }
            (Some(_), None) => next(&mut sql, " AND created_at < ?"),
            (None, _) => {}
        }
        next(&mut sql, " ORDER BY created_at DESC, id DESC LIMIT ?");
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        if let Some(e) = &filter.endpoint_id {
            query = query.bind(e.clone());
        }
        if let Some(s) = filter.status {
            query = query.bind(s.as_str());
        }
        if let Some(t) = &filter.event_type {
            query = query.bind(t.clone());
        }
        if let Some(t) = filter.since {
            query = query.bind(to_ms(t));
        }
        if let Some(t) = filter.before {
            query = query.bind(to_ms(t));
            if let Some(id) = &filter.before_id {
                query = query.bind(id.clone());
            }
        }
        query = query.bind(i64::from(filter.limit.clamp(1, MAX_WEBHOOK_PAGE)));
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode_message)
            .collect()
    }

    /// How many of an endpoint's messages are in each status (statuses without one left out).
    pub async fn count_webhook_messages(
        &self,
        endpoint_id: &str,
    ) -> Result<BTreeMap<MessageStatus, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM webhook_messages WHERE endpoint_id = $1 \
             GROUP BY status",
        )
        .bind(endpoint_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for row in rows {
            let status = MessageStatus::parse(&row.try_get::<String, _>("status")?)?;
            let n: i64 = row.try_get("n")?;
            out.insert(status, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Queues a message again for an attempt at `at`, with a fresh retry schedule (its id, and
    /// so its `webhook-id`, stays). `false` when there is no such message.
    pub async fn replay_webhook_message(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE webhook_messages SET status = 'pending', attempts = 0, \
             next_attempt_at = $1, updated_at = $1, claimed_by = NULL WHERE id = $2",
        )
        .bind(to_ms(at))
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Queues again every failed message of an endpoint queued at or after `since`; returns
    /// how many.
    pub async fn recover_webhook_messages(
        &self,
        endpoint_id: &str,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE webhook_messages SET status = 'pending', attempts = 0, \
             next_attempt_at = $1, updated_at = $1, claimed_by = NULL \
             WHERE endpoint_id = $2 AND status = 'failed' AND created_at >= $3",
        )
        .bind(to_ms(at))
        .bind(endpoint_id)
        .bind(to_ms(since))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

async fn insert_message(
    conn: &mut sqlx::AnyConnection,
    m: &NewWebhookMessage,
) -> Result<bool, StoreError> {
    let now = to_ms(Utc::now());
    Ok(sqlx::query(
        "INSERT INTO webhook_messages (id, endpoint_id, event_id, event_type, event, status, \
         attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7) \
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(&m.id)
    .bind(&m.endpoint_id)
    .bind(&m.event.id)
    .bind(m.event.event_type.as_str())
    .bind(serde_json::to_string(&m.event)?)
    .bind(to_ms(m.first_attempt_at))
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}
