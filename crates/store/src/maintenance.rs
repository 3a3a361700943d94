//! Maintenance windows as stored: the spec as JSON (its type lives in the model crate), with
//! labels, source, version and timestamps.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::resource::{self, Resource, Table};
use crate::{Store, StoreError};

/// A maintenance window resource as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceRecord {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// The window's spec (schedule, selector, ...), as JSON.
    pub spec: serde_json::Value,
    /// Who wrote it last: `api` or `file`.
    pub source: String,
    /// Bumped on every change of labels, spec or source; the ETag. Ignored on write.
    pub version: i64,
    /// First written. Ignored on write.
    pub created_at: DateTime<Utc>,
    /// Last changed. Ignored on write.
    pub updated_at: DateTime<Utc>,
}

impl MaintenanceRecord {
    /// A record to write: no labels, source `api`; version and timestamps are set by the store.
    pub fn new(id: impl Into<String>, spec: serde_json::Value) -> Self {
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
}

impl From<Resource> for MaintenanceRecord {
    fn from(r: Resource) -> Self {
        Self {
            id: r.id,
            labels: r.labels,
            spec: r.spec,
            source: r.source,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Store {
    /// Creates or updates a maintenance window, with the same version rules as monitors.
    pub async fn put_maintenance(
        &self,
        w: &MaintenanceRecord,
    ) -> Result<MaintenanceRecord, StoreError> {
        self.put_maintenance_if(w, None).await
    }

    /// [`put_maintenance`](Self::put_maintenance) that writes only while the current version
    /// is `if_version` (0: must not exist yet); otherwise [`StoreError::VersionConflict`].
    pub async fn put_maintenance_if(
        &self,
        w: &MaintenanceRecord,
        if_version: Option<i64>,
    ) -> Result<MaintenanceRecord, StoreError> {
        self.put_resource(
            Table::Maintenance,
            &w.id,
            &w.labels,
            w.spec.clone(),
            &w.source,
            if_version,
        )
        .await
        .map(MaintenanceRecord::from)
    }

    /// One maintenance window.
    pub async fn get_maintenance(&self, id: &str) -> Result<Option<MaintenanceRecord>, StoreError> {
        Ok(self
            .get_resource(Table::Maintenance, id)
            .await?
            .map(MaintenanceRecord::from))
    }

    /// Every maintenance window, by id.
    pub async fn list_maintenance(&self) -> Result<Vec<MaintenanceRecord>, StoreError> {
        Ok(self
            .list_resources(Table::Maintenance)
            .await?
            .into_iter()
            .map(MaintenanceRecord::from)
            .collect())
    }

    /// Deletes a maintenance window; whether it existed.
    pub async fn delete_maintenance(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        resource::delete(&mut conn, Table::Maintenance, id).await
    }
}
