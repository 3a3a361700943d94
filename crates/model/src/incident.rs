//! Incidents as the store keeps them, the API serves them and clients read them: a stretch of
//! time a monitor was down, with the timeline of what happened.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentRef;
use crate::{CheckResult, EventType, FailureReason};

/// Whether an incident is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum IncidentState {
    /// Going on.
    Open,
    /// Over.
    Resolved,
}

impl IncidentState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One step in an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The event behind it.
    pub kind: EventType,
    /// What happened, for people.
    pub message: String,
}

/// An incident: a stretch of time a monitor was down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    /// Incident id.
    pub id: String,
    /// Monitor concerned.
    pub monitor_id: String,
    /// Open or resolved.
    pub state: IncidentState,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Failure reason that opened it.
    pub cause: Option<FailureReason>,
    /// Message of the first failing result.
    pub message: String,
    /// The first failing result.
    pub first_failure: Option<CheckResult>,
    /// The deployment of the monitor that started shortly before it opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentRef>,
    /// The monitor's events from opening to resolution, oldest first; left out of lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_incident_has_no_timeline_either_way() {
        let incident: Incident = serde_json::from_value(serde_json::json!({
            "id": "inc_1", "monitor_id": "api", "state": "open",
            "opened_at": "2026-11-26T10:00:00Z", "resolved_at": null, "cause": "timeout",
            "message": "timed out", "first_failure": null,
        }))
        .unwrap();
        assert_eq!(incident.state, IncidentState::Open);
        assert!(incident.timeline.is_empty());
        let shown = serde_json::to_value(&incident).unwrap();
        assert!(shown.get("timeline").is_none(), "{shown}");
        assert!(shown["resolved_at"].is_null(), "{shown}");
        assert_eq!(incident.state.to_string(), "open");
    }
}
