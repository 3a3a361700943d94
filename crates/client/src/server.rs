//! The server as a whole: status counts, health, readiness, metrics and the OpenAPI document.

use serde::{Deserialize, Serialize};
use vedette_model::{Incident, MonitorState};

use crate::{Client, Error};

/// `GET /api/v1/status`: counts by state and the open incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Monitors by state.
    pub monitors: StateCounts,
    /// Incidents going on.
    #[serde(default)]
    pub open_incidents: Vec<Incident>,
}

/// Monitors counted by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StateCounts {
    /// All monitors.
    pub total: u64,
    /// Up.
    pub up: u64,
    /// Degraded.
    pub degraded: u64,
    /// Down.
    pub down: u64,
    /// Not judged yet.
    pub pending: u64,
    /// Paused.
    pub paused: u64,
    /// In a maintenance window.
    pub maintenance: u64,
}

impl StateCounts {
    /// The count of one state.
    pub fn get(&self, state: MonitorState) -> u64 {
        match state {
            MonitorState::Pending => self.pending,
            MonitorState::Up => self.up,
            MonitorState::Degraded => self.degraded,
            MonitorState::Down => self.down,
            MonitorState::Paused => self.paused,
            MonitorState::Maintenance => self.maintenance,
        }
    }
}

impl Client {
    /// `GET /api/v1/status`: counts by state and open incidents; also a cheap token check.
    pub async fn status(&self) -> Result<Status, Error> {
        self.get(self.api(&["status"])).await
    }

    /// `GET /healthz`: the process answers.
    pub async fn healthz(&self) -> Result<(), Error> {
        self.plain(self.path(&["healthz"])).await.map(drop)
    }

    /// `GET /readyz`: configuration loaded and the database reachable.
    pub async fn readyz(&self) -> Result<(), Error> {
        self.plain(self.path(&["readyz"])).await.map(drop)
    }

    /// `GET /metrics`: Prometheus text.
    pub async fn metrics(&self) -> Result<String, Error> {
        self.plain(self.path(&["metrics"])).await
    }

    /// `GET /api/v1/openapi.json`: the OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get(self.api(&["openapi.json"])).await
    }
}
