//! The state a monitor is in, as the state machine decides it.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A monitor's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum MonitorState {
    /// Not checked yet, or not enough checks to cross a threshold.
    Pending,
    /// Healthy.
    Up,
    /// Healthy but slow.
    Degraded,
    /// Failing past its threshold.
    Down,
    /// Paused by a user.
    Paused,
    /// Inside a maintenance window.
    Maintenance,
}

impl MonitorState {
    /// Every state, for metrics that export one series per state.
    pub const ALL: [MonitorState; 6] = [
        Self::Pending,
        Self::Up,
        Self::Degraded,
        Self::Down,
        Self::Paused,
        Self::Maintenance,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for MonitorState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown monitor state {s:?}"))
    }
}
