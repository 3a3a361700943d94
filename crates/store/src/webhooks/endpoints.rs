//! Webhook endpoints beside their specs: the endpoints themselves are versioned resources
//! ([`crate::resource`], table `webhook_endpoints`, spec type the model's [`EndpointSpec`]), and
//! this module keeps the health the dispatcher records beside them (the failure run, a
//! disablement), which is not part of the spec and bumps no version.

use chrono::{DateTime, Utc};
use sqlx::Row;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, Record};

use crate::changes::ChangeBatch;
use crate::db::{from_opt_ms, to_ms};
use crate::resource::{self, Stored};
use crate::{Store, StoreError};

/// Columns of `webhook_endpoints` kept beside the spec: the delivery health. Writing a spec that
/// is enabled resets them ([`Stored::resets`]).
const HEALTH_COLUMNS: &[&str] = &["failing_since", "disabled_at", "disabled_reason"];

/// Endpoints are versioned resources, stored with their delivery health beside them.
impl Stored for EndpointSpec {
    const TABLE: &'static str = "webhook_endpoints";
    const KIND: &'static str = "webhook endpoint";
    /// Its delivery log and its messages go with an endpoint.
    const OWNED: &'static [(&'static str, &'static str)] = &[
        ("webhook_attempts", "endpoint_id"),
        ("webhook_messages", "endpoint_id"),
    ];

    /// Enabling an endpoint (again) clears its failure run and a disablement.
    fn resets(&self) -> &'static [&'static str] {
        if self.enabled { HEALTH_COLUMNS } else { &[] }
    }
}

/// An endpoint's delivery health, as the dispatcher records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHealth {
    /// Start of the current run of failed attempts; `None` while healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the dispatcher disabled the endpoint (410 Gone, failing too long).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
}

impl Store {
    /// The delivery health of endpoint `id`; `None` when there is no such endpoint.
    pub async fn webhook_endpoint_health(
        &self,
        id: &str,
    ) -> Result<Option<EndpointHealth>, StoreError> {
        let row = sqlx::query(
            "SELECT failing_since, disabled_at, disabled_reason FROM webhook_endpoints \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(EndpointHealth {
                failing_since: from_opt_ms(row.try_get("failing_since")?)?,
                disabled_at: from_opt_ms(row.try_get("disabled_at")?)?,
                disabled_reason: row.try_get("disabled_reason")?,
            })
        })
        .transpose()
    }

    /// Disables an endpoint: its spec stops taking deliveries (a new version, on the change
    /// feed), the reason and time are recorded, its pending messages fail and `event` (the
    /// `webhook.endpoint.disabled` event), when given, is appended to the outbox, all in one
    /// transaction. Returns the record, or `None` when the endpoint does not exist, was
    /// already disabled or was written meanwhile (then nothing is written).
    pub async fn disable_webhook_endpoint(
        &self,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
        event: Option<&Event>,
    ) -> Result<Option<Record<EndpointSpec>>, StoreError> {
        // The outbox is written in event order: take the same lock as every event writer.
        let mut tx = self.begin_write().await?;
        let Some(current) = resource::get_in::<EndpointSpec>(&mut tx, id).await? else {
            return Ok(None);
        };
        if !current.spec.enabled {
            return Ok(None);
        }
        let expected = Some(current.version);
        let wanted = Record {
            spec: EndpointSpec {
                enabled: false,
                ..current.spec
            },
            ..current
        };
        let mut changes = ChangeBatch::new(self.backend());
        let written = match resource::put_once(&mut tx, &mut changes, &wanted, expected).await {
            Err(StoreError::VersionConflict { .. }) => return Ok(None),
            written => written?,
        };
        sqlx::query(
            "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2 WHERE id = $3",
        )
        .bind(to_ms(at))
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
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
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(self.published(written)))
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
