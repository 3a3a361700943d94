//! The webhook delivery log: one row per attempt, with the request sent and the response got
//! (secrets redacted and bodies truncated by the dispatcher before they get here).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{MAX_WEBHOOK_PAGE, count, small};
use crate::db::{bind_each, from_json, from_ms, params_from, to_ms};
use crate::{Store, StoreError};

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

const ATTEMPT_COLUMNS: &str = "id, message_id, endpoint_id, attempt, started_at, duration_ms, \
     outcome, request, response_status, response, error";

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
            let sql = format!(
                "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE message_id IN ({}) \
                 ORDER BY id",
                params_from(1, chunk.len())
            );
            let query = bind_each(
                sqlx::query(AssertSqlSafe(sql)).persistent(false),
                chunk.iter().map(String::as_str),
            );
            for row in query.fetch_all(&self.pool).await? {
                let attempt = decode_attempt(&row)?;
                out.entry(attempt.message_id.clone())
                    .or_default()
                    .push(attempt);
            }
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

/// Appends `attempt` to the log inside `conn`'s transaction (its `id` is assigned here).
pub(super) async fn insert_attempt(
    conn: &mut sqlx::AnyConnection,
    attempt: &WebhookAttempt,
) -> Result<(), StoreError> {
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}
