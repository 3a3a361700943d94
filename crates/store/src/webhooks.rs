//! Durable webhook state: endpoints, the fan-out cursor over the events outbox, the message
//! queue and the delivery log.
//!
//! The dispatcher (crate `vedette-webhooks`) reads events after its cursor, and in one
//! transaction inserts one message per matching endpoint and advances the cursor, so an event
//! is fanned out exactly once even across a crash or several replicas (the cursor moves by
//! compare-and-set and `(endpoint_id, event_id)` is unique). Messages are claimed with a lease
//! (their `next_attempt_at` moves past the attempt's deadline), so a dispatcher that dies
//! mid-attempt leaves them to be retried: delivery is at least once, always under the same
//! message id.
//!
//! Endpoint specs are stored as JSON; this crate only reads their `enabled` flag.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use vedette_model::Event;

use crate::db::{from_json, from_ms, from_opt_ms, to_ms};
use crate::{Backend, Store, StoreError};

/// Most rows one page of messages or attempts returns.
pub const MAX_WEBHOOK_PAGE: u32 = 1000;

/// A webhook endpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpointRecord {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// The endpoint spec as JSON (the webhooks crate's `EndpointSpec`).
    pub spec: serde_json::Value,
    /// Bumped on every change; the ETag.
    pub version: i64,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Start of the current run of failed attempts; `None` while healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the dispatcher disabled the endpoint (410 Gone, failing too long).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
}

impl WebhookEndpointRecord {
    /// Whether deliveries are made: the spec's `enabled` flag (true when absent).
    pub fn enabled(&self) -> bool {
        self.spec
            .get("enabled")
            .and_then(serde_json::Value::as_bool)
            != Some(false)
    }
}

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
    /// HTTP status of the last attempt, when one answered.
    pub last_status: Option<u16>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
}

/// One delivery attempt, for the delivery log. Request and response are JSON documents
/// written by the dispatcher (headers with secrets redacted, bodies truncated).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    /// Sequence number (assigned by the store; ignored on write).
    pub id: i64,
    /// Message.
    pub message_id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// 1-based attempt number.
    pub attempt: u32,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// How long until the response (or the error).
    pub duration_ms: u64,
    /// `success` or `failure`.
    pub outcome: String,
    /// The request sent: method, URL, headers, body.
    pub request: serde_json::Value,
    /// Response status, when one came.
    pub response_status: Option<u16>,
    /// The response: headers and body.
    pub response: Option<serde_json::Value>,
    /// Why the attempt failed (connect error, timeout, non-2xx, ...).
    pub error: Option<String>,
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

const ENDPOINT_COLUMNS: &str = "id, labels, spec, version, created_at, updated_at, \
     failing_since, disabled_at, disabled_reason";
const MESSAGE_COLUMNS: &str = "id, endpoint_id, event, status, attempts, next_attempt_at, \
     created_at, updated_at, last_status, last_error";
const ATTEMPT_COLUMNS: &str = "id, message_id, endpoint_id, attempt, started_at, duration_ms, \
     outcome, request, response_status, response, error";

fn decode_endpoint(row: &AnyRow) -> Result<WebhookEndpointRecord, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(WebhookEndpointRecord {
        labels: from_json(
            &row.try_get::<String, _>("labels")?,
            &format!("labels of webhook {id}"),
        )?,
        spec: from_json(
            &row.try_get::<String, _>("spec")?,
            &format!("spec of webhook {id}"),
        )?,
        version: row.try_get("version")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
        failing_since: from_opt_ms(row.try_get("failing_since")?)?,
        disabled_at: from_opt_ms(row.try_get("disabled_at")?)?,
        disabled_reason: row.try_get("disabled_reason")?,
        id,
    })
}

fn small(v: Option<i64>, what: &str) -> Result<Option<u16>, StoreError> {
    v.map(|n| u16::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}"))))
        .transpose()
}

fn count(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}

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
        last_status: small(row.try_get("last_status")?, "last_status")?,
        last_error: row.try_get("last_error")?,
        id,
    })
}

fn decode_attempt(row: &AnyRow) -> Result<WebhookAttempt, StoreError> {
    let id: i64 = row.try_get("id")?;
    let response: Option<String> = row.try_get("response")?;
    Ok(WebhookAttempt {
        message_id: row.try_get("message_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        attempt: count(row.try_get("attempt")?, "attempt")?,
        started_at: from_ms(row.try_get("started_at")?)?,
        duration_ms: u64::try_from(row.try_get::<i64, _>("duration_ms")?).unwrap_or(0),
        outcome: row.try_get("outcome")?,
        request: from_json(
            &row.try_get::<String, _>("request")?,
            &format!("request of attempt {id}"),
        )?,
        response_status: small(row.try_get("response_status")?, "response_status")?,
        response: response
            .map(|r| from_json(&r, &format!("response of attempt {id}")))
            .transpose()?,
        error: row.try_get("error")?,
        id,
    })
}

impl Store {
    /// Creates or updates a webhook endpoint; the version is bumped when labels or spec change.
    /// Writing a spec whose `enabled` is not `false` clears a disablement and the failure run.
    /// With `if_version`, writes only while the current version is that one (0: must not
    /// exist), otherwise [`StoreError::VersionConflict`].
    pub async fn put_webhook_endpoint(
        &self,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &serde_json::Value,
        if_version: Option<i64>,
    ) -> Result<WebhookEndpointRecord, StoreError> {
        let labels_json = serde_json::to_string(labels)?;
        let spec_json = serde_json::to_string(spec)?;
        let enabled = spec.get("enabled").and_then(serde_json::Value::as_bool) != Some(false);
        let now = to_ms(Utc::now());
        // On SQLite take the write lock up front: this transaction reads, then writes.
        let mut tx = match self.backend() {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        let current = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(decode_endpoint)
        .transpose()?;
        if let Some(expected) = if_version {
            let found = current.as_ref().map(|c| c.version);
            if found.unwrap_or(0) != expected {
                return Err(StoreError::VersionConflict {
                    id: id.to_owned(),
                    expected,
                    found,
                });
            }
        }
        let written = match &current {
            None => sqlx::query(
                "INSERT INTO webhook_endpoints (id, labels, spec, version, created_at, \
                     updated_at) VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(&labels_json)
            .bind(&spec_json)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(c)
                if c.labels == *labels
                    && c.spec == *spec
                    && !(enabled && c.disabled_at.is_some()) =>
            {
                tx.rollback().await?;
                return Ok(c.clone());
            }
            Some(c) => sqlx::query(
                "UPDATE webhook_endpoints SET labels = $1, spec = $2, version = version + 1, \
                     updated_at = $3, \
                     failing_since = CASE WHEN $4 = 1 THEN NULL ELSE failing_since END, \
                     disabled_at = CASE WHEN $4 = 1 THEN NULL ELSE disabled_at END, \
                     disabled_reason = CASE WHEN $4 = 1 THEN NULL ELSE disabled_reason END \
                     WHERE id = $5 AND version = $6",
            )
            .bind(&labels_json)
            .bind(&spec_json)
            .bind(now.max(to_ms(c.updated_at)))
            .bind(i64::from(enabled))
            .bind(id)
            .bind(c.version)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if written != 1 {
            return Err(StoreError::Contention(id.to_owned()));
        }
        tx.commit().await?;
        self.get_webhook_endpoint(id)
            .await?
            .ok_or_else(|| StoreError::Contention(id.to_owned()))
    }

    /// One endpoint by id.
    pub async fn get_webhook_endpoint(
        &self,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(decode_endpoint)
        .transpose()
    }

    /// Every endpoint, by id.
    pub async fn list_webhook_endpoints(&self) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_endpoint)
        .collect()
    }

    /// Deletes an endpoint with its messages and delivery log; `false` when it did not exist.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_attempts WHERE endpoint_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM webhook_messages WHERE endpoint_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone == 1)
    }

    /// Disables an endpoint: its spec's `enabled` becomes `false` (version bumped), the reason
    /// and time are recorded, its pending messages fail and `event` (the
    /// `webhook.endpoint.disabled` event), when given, is appended to the outbox, all in one
    /// transaction. Returns the record, or `None` when the endpoint does not exist or was
    /// already disabled (then nothing is written).
    pub async fn disable_webhook_endpoint(
        &self,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
        event: Option<&Event>,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        let Some(current) = self.get_webhook_endpoint(id).await? else {
            return Ok(None);
        };
        if !current.enabled() {
            return Ok(None);
        }
        let mut spec = current.spec.clone();
        if let Some(map) = spec.as_object_mut() {
            map.insert("enabled".to_owned(), serde_json::Value::Bool(false));
        }
        // The outbox is written in event order: take the same lock as every event writer.
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE webhook_endpoints SET spec = $1, version = version + 1, updated_at = $2, \
             disabled_at = $2, disabled_reason = $3 WHERE id = $4 AND version = $5",
        )
        .bind(serde_json::to_string(&spec)?)
        .bind(to_ms(at))
        .bind(reason)
        .bind(id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE webhook_messages SET status = 'failed', next_attempt_at = NULL, \
             updated_at = $1, last_error = $2 WHERE endpoint_id = $3 AND status = 'pending'",
        )
        .bind(to_ms(at))
        .bind(format!("endpoint disabled: {reason}"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(event) = event {
            crate::events::insert(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        self.get_webhook_endpoint(id).await
    }

    /// Records an attempt's health for the endpoint: a success ends the failure run, a failure
    /// starts one when none is running. Returns the start of the current failure run.
    pub async fn record_webhook_endpoint_health(
        &self,
        id: &str,
        success: bool,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        if success {
            sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL \
                 WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(id)
            .execute(&self.pool)
            .await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = $1 \
             WHERE id = $2 AND failing_since IS NULL",
        )
        .bind(to_ms(at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        let since: Option<Option<i64>> =
            sqlx::query_scalar("SELECT failing_since FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        from_opt_ms(since.flatten())
    }

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

    /// Claims up to `limit` of an endpoint's messages due at `now`, oldest due first, by
    /// moving their `next_attempt_at` to `lease_until`: another claimer skips them, and if
    /// this one dies they come due again after the lease.
    pub async fn claim_webhook_messages(
        &self,
        endpoint_id: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookMessage>, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE webhook_messages SET next_attempt_at = $1, updated_at = $2 \
             WHERE id IN (SELECT id FROM webhook_messages WHERE endpoint_id = $3 \
               AND status = 'pending' AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at, created_at LIMIT $4{lock}) \
             AND status = 'pending' AND next_attempt_at <= $2 \
             RETURNING {MESSAGE_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(to_ms(lease_until))
            .bind(to_ms(now))
            .bind(endpoint_id)
            .bind(i64::from(limit.clamp(1, MAX_WEBHOOK_PAGE)))
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows
            .iter()
            .map(decode_message)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Logs an attempt and moves its message on, in one transaction.
    pub async fn complete_webhook_attempt(
        &self,
        attempt: &WebhookAttempt,
        after: MessageAfterAttempt,
    ) -> Result<(), StoreError> {
        let now = to_ms(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, started_at, \
             duration_ms, outcome, request, response_status, response, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&attempt.message_id)
        .bind(&attempt.endpoint_id)
        .bind(i64::from(attempt.attempt))
        .bind(to_ms(attempt.started_at))
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .bind(&attempt.outcome)
        .bind(serde_json::to_string(&attempt.request)?)
        .bind(attempt.response_status.map(i64::from))
        .bind(
            attempt
                .response
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        )
        .bind(attempt.error.as_deref())
        .execute(&mut *tx)
        .await?;
        let (status, next) = match after {
            MessageAfterAttempt::Succeeded => (MessageStatus::Succeeded, None),
            MessageAfterAttempt::RetryAt(t) => (MessageStatus::Pending, Some(to_ms(t))),
            MessageAfterAttempt::Failed => (MessageStatus::Failed, None),
        };
        sqlx::query(
            "UPDATE webhook_messages SET status = $1, attempts = $2, next_attempt_at = $3, \
             updated_at = $4, last_status = $5, last_error = $6 WHERE id = $7",
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

    /// A message's attempts, oldest first.
    pub async fn list_webhook_attempts(
        &self,
        message_id: &str,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE message_id = $1 ORDER BY id"
        )))
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_attempt)
        .collect()
    }

    /// The attempts of each of `message_ids`, oldest first per message (one query per few
    /// hundred ids, for listing a page of messages with their delivery log).
    pub async fn list_attempts_of_messages(
        &self,
        message_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<WebhookAttempt>>, StoreError> {
        let mut out: BTreeMap<String, Vec<WebhookAttempt>> = BTreeMap::new();
        for chunk in message_ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE message_id IN ({}) \
                 ORDER BY id",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for id in chunk {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                let attempt = decode_attempt(&row)?;
                out.entry(attempt.message_id.clone())
                    .or_default()
                    .push(attempt);
            }
        }
        Ok(out)
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

    /// An endpoint's most recent attempts, newest first (at most `limit`).
    pub async fn list_endpoint_attempts(
        &self,
        endpoint_id: &str,
        limit: u32,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE endpoint_id = $1 \
             ORDER BY id DESC LIMIT $2"
        )))
        .bind(endpoint_id)
        .bind(i64::from(limit.clamp(1, MAX_WEBHOOK_PAGE)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_attempt)
        .collect()
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
             next_attempt_at = $1, updated_at = $1 WHERE id = $2",
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
             next_attempt_at = $1, updated_at = $1 \
             WHERE endpoint_id = $2 AND status = 'failed' AND created_at >= $3",
        )
        .bind(to_ms(at))
        .bind(endpoint_id)
        .bind(to_ms(since))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Appends events to the outbox on their own, for events that no check caused (a webhook
    /// endpoint disabled, ...). An event whose id is already stored is skipped.
    pub async fn append_events(&self, events: &[Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let refs: Vec<&Event> = events.iter().collect();
        let mut tx = self.begin_write().await?;
        crate::events::insert(&mut tx, &refs).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes delivery-log rows and finished messages older than `before`; returns how many
    /// rows went.
    pub async fn prune_webhook_log(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let attempts = sqlx::query("DELETE FROM webhook_attempts WHERE started_at < $1")
            .bind(to_ms(before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let messages = sqlx::query(
            "DELETE FROM webhook_messages WHERE status <> 'pending' AND updated_at < $1",
        )
        .bind(to_ms(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(attempts + messages)
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
