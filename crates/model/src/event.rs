//! Typed, versioned events written to the outbox with the state change that caused them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::deployment::DeploymentRef;
use crate::{FailureReason, MonitorState};

/// The version of every payload below; bumped when a payload changes incompatibly.
pub const EVENT_VERSION: u32 = 1;

/// The kinds of event Vedette emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum EventType {
    /// A monitor went down.
    #[serde(rename = "monitor.down")]
    MonitorDown,
    /// A monitor came (back) up.
    #[serde(rename = "monitor.up")]
    MonitorUp,
    /// A monitor became degraded.
    #[serde(rename = "monitor.degraded")]
    MonitorDegraded,
    /// An incident opened.
    #[serde(rename = "incident.opened")]
    IncidentOpened,
    /// An incident resolved.
    #[serde(rename = "incident.resolved")]
    IncidentResolved,
    /// A certificate expires within its warning span.
    #[serde(rename = "certificate.expiring")]
    CertificateExpiring,
    /// The webhook dispatcher disabled an endpoint (410 Gone, or failing for too long).
    #[serde(rename = "webhook.endpoint.disabled")]
    WebhookEndpointDisabled,
    /// A pipeline recorded a deployment's start.
    #[serde(rename = "deployment.started")]
    DeploymentStarted,
    /// A deployment finished: succeeded, failed or rolled back.
    #[serde(rename = "deployment.finished")]
    DeploymentFinished,
    /// A verification (deployment gate) passed.
    #[serde(rename = "deployment.verification.passed")]
    VerificationPassed,
    /// A verification failed, timed out or matched no monitor.
    #[serde(rename = "deployment.verification.failed")]
    VerificationFailed,
    /// A discovery source listed its gateway and reconciled its monitors.
    #[serde(rename = "discovery.completed")]
    DiscoveryCompleted,
    /// A discovery source could not list its gateway; its monitors were left as they were.
    #[serde(rename = "discovery.failed")]
    DiscoveryFailed,
}

impl EventType {
    /// Every event type, for catalogs.
    pub const ALL: [EventType; 13] = [
        Self::MonitorDown,
        Self::MonitorUp,
        Self::MonitorDegraded,
        Self::IncidentOpened,
        Self::IncidentResolved,
        Self::CertificateExpiring,
        Self::WebhookEndpointDisabled,
        Self::DeploymentStarted,
        Self::DeploymentFinished,
        Self::VerificationPassed,
        Self::VerificationFailed,
        Self::DiscoveryCompleted,
        Self::DiscoveryFailed,
    ];

    /// The dotted name, e.g. `monitor.down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MonitorDown => "monitor.down",
            Self::MonitorUp => "monitor.up",
            Self::MonitorDegraded => "monitor.degraded",
            Self::IncidentOpened => "incident.opened",
            Self::IncidentResolved => "incident.resolved",
            Self::CertificateExpiring => "certificate.expiring",
            Self::WebhookEndpointDisabled => "webhook.endpoint.disabled",
            Self::DeploymentStarted => "deployment.started",
            Self::DeploymentFinished => "deployment.finished",
            Self::VerificationPassed => "deployment.verification.passed",
            Self::VerificationFailed => "deployment.verification.failed",
            Self::DiscoveryCompleted => "discovery.completed",
            Self::DiscoveryFailed => "discovery.failed",
        }
    }

    /// One sentence on when the event is emitted, for event catalogs.
    pub fn description(self) -> &'static str {
        match self {
            Self::MonitorDown => "A monitor went down: its failures reached `failure_threshold`.",
            Self::MonitorUp => {
                "A monitor came back up after being down or degraded (not on its first start)."
            }
            Self::MonitorDegraded => {
                "A monitor became degraded: it answers, but slower than `degraded_after`."
            }
            Self::IncidentOpened => "An incident opened because a monitor went down.",
            Self::IncidentResolved => {
                "An incident resolved because its monitor recovered or was deleted (`reason`)."
            }
            Self::CertificateExpiring => {
                "A monitored TLS certificate expires within the monitor's warning span."
            }
            Self::WebhookEndpointDisabled => {
                "The webhook dispatcher disabled an endpoint: it answered 410 Gone, or no \
                 delivery to it succeeded for the configured period."
            }
            Self::DeploymentStarted => "A pipeline recorded the start of a deployment.",
            Self::DeploymentFinished => {
                "A deployment finished (`status`: succeeded, failed or rolled_back)."
            }
            Self::VerificationPassed => {
                "A verification passed: every selected monitor had its run of successful checks."
            }
            Self::VerificationFailed => {
                "A verification did not pass (`outcome`: failed, timed_out or no_monitors)."
            }
            Self::DiscoveryCompleted => {
                "A discovery source listed its gateway and created, updated or deleted the \
                 monitors it owns (or planned to, in dry run)."
            }
            Self::DiscoveryFailed => {
                "A discovery source could not list its gateway (`error`); every monitor it owns \
                 was kept as it was."
            }
        }
    }

    /// The JSON Schema of this type's `data`.
    pub fn data_schema(self) -> serde_json::Value {
        let schema = match self {
            Self::MonitorDown | Self::MonitorUp | Self::MonitorDegraded => {
                schemars::schema_for!(MonitorStateChanged)
            }
            Self::IncidentOpened | Self::IncidentResolved => schemars::schema_for!(IncidentEvent),
            Self::CertificateExpiring => schemars::schema_for!(CertificateExpiring),
            Self::WebhookEndpointDisabled => schemars::schema_for!(WebhookEndpointDisabled),
            Self::DeploymentStarted | Self::DeploymentFinished => {
                schemars::schema_for!(DeploymentEvent)
            }
            Self::VerificationPassed | Self::VerificationFailed => {
                schemars::schema_for!(VerificationEvent)
            }
            Self::DiscoveryCompleted | Self::DiscoveryFailed => {
                schemars::schema_for!(DiscoveryEvent)
            }
        };
        serde_json::to_value(schema).unwrap_or_default()
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown event type {s:?}"))
    }
}

/// One event as stored in the outbox and delivered to consumers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Unique, time-ordered id.
    pub id: String,
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Payload version.
    pub version: u32,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The monitor concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<String>,
    /// Type-specific payload.
    pub data: serde_json::Value,
}

/// Payload of `monitor.down`, `monitor.up` and `monitor.degraded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MonitorStateChanged {
    /// Monitor id.
    pub monitor_id: String,
    /// Monitor display name.
    pub monitor_name: String,
    /// Previous state.
    pub from: MonitorState,
    /// New state.
    pub to: MonitorState,
    /// Failure reason of the result that caused the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// Message of the result that caused the change.
    pub message: String,
    /// Notifications for this change are suppressed by a maintenance window.
    pub in_maintenance: bool,
    /// On `monitor.down`: the deployment of the monitor that started shortly before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentRef>,
}

/// Payload of `incident.opened` and `incident.resolved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentEvent {
    /// Incident id.
    pub incident_id: String,
    /// Monitor id.
    pub monitor_id: String,
    /// Monitor display name.
    pub monitor_name: String,
    /// Failure reason that opened the incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<FailureReason>,
    /// Message of the first failing result.
    pub message: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Notifications are suppressed by a maintenance window.
    pub in_maintenance: bool,
    /// Why an incident resolved other than by recovery (`monitor deleted`); absent on
    /// recovery and on `incident.opened`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On `incident.opened`: the deployment of the monitor that started shortly before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentRef>,
}

/// Payload of `certificate.expiring`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CertificateExpiring {
    /// Monitor id.
    pub monitor_id: String,
    /// Leaf certificate subject.
    pub subject: String,
    /// Leaf `notAfter`.
    pub not_after: DateTime<Utc>,
    /// Whole days left.
    pub days_left: i64,
}

/// Payload of `webhook.endpoint.disabled`. The endpoint's URL is left out: it may carry a
/// token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookEndpointDisabled {
    /// Id of the endpoint disabled.
    pub endpoint_id: String,
    /// Why: `the receiver answered 410 Gone`, `no successful delivery since ...`.
    pub reason: String,
    /// When it was disabled.
    pub disabled_at: DateTime<Utc>,
}

/// Payload of `deployment.started` and `deployment.finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentEvent {
    /// Deployment id.
    pub deployment_id: String,
    /// The service deployed.
    pub service: String,
    /// The version deployed.
    pub version: String,
    /// Where it was deployed (`prod`).
    pub environment: String,
    /// `started`, `succeeded`, `failed` or `rolled_back`.
    pub status: String,
    /// The pipeline that recorded it: `github`, `gitlab`, `jenkins`, `azure-devops`, `cli`, `api`.
    pub source: String,
    /// The pipeline run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The commit deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished; absent on `deployment.started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// Payload of `deployment.verification.passed` and `deployment.verification.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerificationEvent {
    /// Verification id.
    pub verification_id: String,
    /// The deployment it gates, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The commit that deployment deployed (for commit statuses), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `passed`, `failed`, `timed_out` or `no_monitors`.
    pub outcome: String,
    /// Why it did not pass (`payments-api is down: status (503) == 200`); absent on a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Monitors the verification selected.
    pub monitors: u32,
    /// Of those, how many passed.
    pub passed: u32,
}

/// Payload of `discovery.completed` and `discovery.failed`. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiscoveryEvent {
    /// Discovery source id.
    pub source_id: String,
    /// The gateway type (`envoy`, `kong`, ...).
    pub gateway: String,
    /// Routes the gateway listed (0 on a failure).
    pub routes_seen: u32,
    /// Monitors the source owns after the run.
    pub monitors_owned: u32,
    /// Monitors created.
    pub created: u32,
    /// Monitors updated.
    pub updated: u32,
    /// Monitors deleted (their routes missing for longer than the grace period).
    pub deleted: u32,
    /// Whether the run only planned (dry run).
    pub dry_run: bool,
    /// Why the run failed; absent on `discovery.completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
