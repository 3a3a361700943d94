//! Webhook endpoints as stored: their specs (JSON; this crate only reads the `enabled` flag),
//! versions, and the health the dispatcher records (the failure run, a disablement).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use vedette_model::Event;

use crate::db::{from_json, from_ms, from_opt_ms, to_ms};
use crate::{Backend, Store, StoreError};

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

const ENDPOINT_COLUMNS: &str = "id, labels, spec, version, created_at, updated_at, \
     failing_since, disabled_at, disabled_reason";

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
             claimed_by = NULL, updated_at = $1, last_error = $2 \
             WHERE endpoint_id = $3 AND status = 'pending'",
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
}
