//! Maintenance windows (`/api/v1/maintenance`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{Source, Version};

use crate::{Client, Kind, Resources};

/// A maintenance window as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When it is active and which monitors it covers.
    pub spec: MaintenanceSpec,
    /// Who writes it: `api`, `file` or `demo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Source>,
    /// Optimistic-concurrency version (the `ETag`).
    #[serde(default)]
    pub version: Version,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Kind for MaintenanceWindow {
    const COLLECTION: &'static str = "maintenance";
    type Spec = MaintenanceSpec;
    type Created = MaintenanceWindow;
}

impl Client {
    /// The maintenance windows.
    pub fn maintenance(&self) -> Resources<'_, MaintenanceWindow> {
        self.resources()
    }
}
