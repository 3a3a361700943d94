//! `/maintenance`: maintenance windows, served by the shared resource handlers
//! ([`super::crud`]); the engine follows them through the change feed ([`crate::follow`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{Audience, Record, Source, Version};

use super::ApiState;
use super::crud::ApiResource;
use super::problem::ApiResult;

/// The maintenance window kind of the API.
pub struct Maintenance;

/// A maintenance window as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Maintenance")]
pub struct WindowView {
    /// Stable slug.
    id: String,
    /// Labels for selection and ownership.
    labels: BTreeMap<String, String>,
    /// When and which monitors.
    spec: MaintenanceSpec,
    /// Whether the window is in force now.
    active: bool,
    /// Who wrote it last: `api` or `file` (those are changed only in the files).
    managed_by: Source,
    /// Bumped on every change; sent as the ETag.
    version: Version,
    /// First written.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
}

impl ApiResource for Maintenance {
    type Spec = MaintenanceSpec;
    type View = WindowView;
    const KIND: &'static str = "maintenance window";
    const COLLECTION: &'static str = "maintenance";
    const ID_PREFIX: &'static str = "mw";
    const NAME: &'static str = "Maintenance";
    const NAMES: &'static str = "Maintenance";

    fn name(spec: &MaintenanceSpec) -> Option<&str> {
        spec.name.as_deref()
    }

    async fn view(
        _state: &ApiState,
        record: Record<MaintenanceSpec>,
        _audience: Audience,
    ) -> ApiResult<WindowView> {
        Ok(WindowView {
            active: record.spec.is_active(Utc::now()),
            id: record.id,
            labels: record.labels,
            spec: record.spec,
            managed_by: record.source,
            version: record.version,
            created_at: record.created_at,
            updated_at: record.updated_at,
        })
    }
}
