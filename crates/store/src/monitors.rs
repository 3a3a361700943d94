//! Monitors as stored: the spec as JSON with labels, source, version and timestamps.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use vedette_model::{Event, MonitorSpec};

use crate::heartbeat;
use crate::incidents::{self, Incident};
use crate::resource::{self, Resource, Table};
use crate::{Store, StoreError};

/// A monitor resource as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRecord {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership (`managed-by`).
    pub labels: BTreeMap<String, String>,
    /// What to check.
    pub spec: MonitorSpec,
    /// Who wrote it last: `api` or `file`.
    pub source: String,
    /// Bumped on every change of labels, spec or source; the ETag. Ignored on write.
    pub version: i64,
    /// First written. Ignored on write.
    pub created_at: DateTime<Utc>,
    /// Last changed. Ignored on write.
    pub updated_at: DateTime<Utc>,
}

impl MonitorRecord {
    /// A record to write: no labels, source `api`; version and timestamps are set by the store.
    pub fn new(id: impl Into<String>, spec: MonitorSpec) -> Self {
        let now = Utc::now();
        Self {
            id: id.into(),
            labels: BTreeMap::new(),
            spec,
            source: "api".to_owned(),
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    fn from_resource(r: Resource) -> Result<Self, StoreError> {
        let spec = serde_json::from_value(r.spec)
            .map_err(|e| StoreError::Corrupt(format!("spec of monitor {}: {e}", r.id)))?;
        Ok(Self {
            id: r.id,
            labels: r.labels,
            spec,
            source: r.source,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Store {
    /// Creates or updates a monitor; the version is bumped only when labels, spec or source
    /// change, and `created_at` is kept. Returns the record as stored.
    pub async fn put_monitor(&self, m: &MonitorRecord) -> Result<MonitorRecord, StoreError> {
        self.put_monitor_if(m, None).await
    }

    /// [`put_monitor`](Self::put_monitor) that writes only while the current version is
    /// `if_version` (0: the monitor must not exist yet); otherwise
    /// [`StoreError::VersionConflict`]. For `If-Match`.
    pub async fn put_monitor_if(
        &self,
        m: &MonitorRecord,
        if_version: Option<i64>,
    ) -> Result<MonitorRecord, StoreError> {
        let spec = serde_json::to_value(&m.spec)?;
        if let Some(token) = m.spec.heartbeat.as_ref().and_then(|h| h.token.as_ref()) {
            return self
                .put_monitor_claiming(m, &spec, token.expose(), if_version)
                .await;
        }
        let stored = self
            .put_resource(
                Table::Monitors,
                &m.id,
                &m.labels,
                spec,
                &m.source,
                if_version,
            )
            .await?;
        MonitorRecord::from_resource(stored)
    }

    /// Writes a monitor whose spec sets its push token, checking that no other monitor holds
    /// the token and recording it in the same serialised transaction: of concurrent writers
    /// of one token, one wins and the others store nothing
    /// ([`StoreError::HeartbeatTokenTaken`]).
    async fn put_monitor_claiming(
        &self,
        m: &MonitorRecord,
        spec: &serde_json::Value,
        token: &str,
        if_version: Option<i64>,
    ) -> Result<MonitorRecord, StoreError> {
        let mut tx = self.begin_serialized("heartbeat_tokens").await?;
        if let Some(owner) = heartbeat::owner_in(&mut tx, token).await?
            && owner != m.id
        {
            return Err(StoreError::HeartbeatTokenTaken);
        }
        let stored = resource::put_once(
            &mut tx,
            Table::Monitors,
            &m.id,
            &m.labels,
            spec,
            &m.source,
            if_version,
        )
        .await?
        .ok_or_else(|| StoreError::Contention(m.id.clone()))?;
        heartbeat::set_in(&mut tx, &m.id, token).await?;
        tx.commit().await?;
        MonitorRecord::from_resource(stored)
    }

    /// One monitor.
    pub async fn get_monitor(&self, id: &str) -> Result<Option<MonitorRecord>, StoreError> {
        self.get_resource(Table::Monitors, id)
            .await?
            .map(MonitorRecord::from_resource)
            .transpose()
    }

    /// Every monitor, by id.
    pub async fn list_monitors(&self) -> Result<Vec<MonitorRecord>, StoreError> {
        self.list_resources(Table::Monitors)
            .await?
            .into_iter()
            .map(MonitorRecord::from_resource)
            .collect()
    }

    /// Deletes a monitor with its status, runtime pause, heartbeat token and last ping; its results, rollups,
    /// incidents and events stay as history. Its open incidents are resolved now, each with
    /// the `incident.resolved` event `resolved` makes of it (the incident already marked
    /// resolved), in the same transaction, so the outbox never keeps an incident open for a
    /// monitor that is gone. Whether it existed.
    pub async fn delete_monitor(
        &self,
        id: &str,
        resolved: impl Fn(&Incident) -> Event + Send + Sync,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The push token first: a writer claiming a token locks `heartbeat_tokens` before the
        // monitor row, so taking them in the same order cannot deadlock with it.
        for sql in [
            "DELETE FROM heartbeat_tokens WHERE monitor_id = $1",
            "DELETE FROM monitor_status WHERE monitor_id = $1",
            "DELETE FROM monitor_pauses WHERE monitor_id = $1",
            "DELETE FROM heartbeat_pings WHERE monitor_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let existed = resource::delete(&mut tx, Table::Monitors, id).await?;
        if existed {
            incidents::resolve_all_in(&mut tx, id, Utc::now(), &resolved).await?;
        }
        tx.commit().await?;
        Ok(existed)
    }
}
