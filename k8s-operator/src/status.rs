//! The `status` the operator writes on a `Monitor`: what Vedette reports about the monitor, and
//! the `Ready`, `Synced` and `Degraded` conditions in the `metav1.Condition` shape.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use vedette_client::Monitor as VedetteMonitor;
use vedette_model::MonitorState;

use crate::crd::{Conditioned, LastResult, MonitorStatus, SyncStatus};

/// Why a monitor is not in sync with its resource.
#[derive(Debug, Clone, PartialEq)]
pub struct NotSynced {
    /// `PascalCase` reason, e.g. `InvalidSpec`.
    pub reason: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

/// The status of a resource at `generation` whose monitor `id` Vedette holds as `monitor`
/// (`Ok`), or that could not be written (`Err`); `uptime` is the 24 h uptime fraction.
pub fn build(
    generation: Option<i64>,
    id: &str,
    outcome: Result<&VedetteMonitor, &NotSynced>,
    uptime: Option<f64>,
    previous: Option<&MonitorStatus>,
) -> MonitorStatus {
    let previous_conditions = previous
        .map(|p| p.conditions.as_slice())
        .unwrap_or_default();
    let mut status = MonitorStatus {
        observed_generation: generation,
        monitor_id: Some(id.to_owned()),
        ..MonitorStatus::default()
    };
    let (synced, ready, degraded) = match outcome {
        Err(not_synced) => {
            // What Vedette last reported stays visible while the resource cannot be written.
            if let Some(previous) = previous {
                status.state = previous.state.clone();
                status.since = previous.since.clone();
                status.last_result = previous.last_result.clone();
                status.open_incident = previous.open_incident.clone();
                status.uptime24h = previous.uptime24h.clone();
            }
            let synced = (false, not_synced.reason, not_synced.message.clone());
            let ready = (
                false,
                not_synced.reason,
                "the monitor is not in sync".to_owned(),
            );
            (synced, ready, degraded_condition(status.state.as_deref()))
        }
        Ok(monitor) => {
            let state = monitor.status.as_ref().map(|s| s.state);
            if let Some(s) = &monitor.status {
                status.state = Some(s.state.as_str().to_owned());
                status.since = s.since.map(|t| t.to_rfc3339());
                status.open_incident = s.open_incident.clone();
                status.last_result = s.last_result.as_ref().map(|r| LastResult {
                    at: r.at.to_rfc3339(),
                    outcome: r.outcome.map(|o| o.as_str().to_owned()),
                    message: r.message.clone(),
                    latency_ms: r.latency_ms,
                });
            }
            status.uptime24h = uptime.map(|u| format!("{:.2}%", u * 100.0));
            let synced = (
                true,
                "Synced",
                format!("monitor {id} is up to date in Vedette"),
            );
            let ready = match state {
                None | Some(MonitorState::Pending) => (
                    false,
                    "Pending",
                    "waiting for the monitor's first verdict".to_owned(),
                ),
                Some(s) => (true, "Observed", format!("the monitor is {}", s.as_str())),
            };
            (synced, ready, degraded_condition(status.state.as_deref()))
        }
    };
    status.conditions = vec![
        condition("Ready", ready, generation, previous_conditions),
        condition("Synced", synced, generation, previous_conditions),
        condition("Degraded", degraded, generation, previous_conditions),
    ];
    status
}

fn degraded_condition(state: Option<&str>) -> (bool, &'static str, String) {
    match state {
        Some(s @ ("down" | "degraded")) => (true, "MonitorFailing", format!("the monitor is {s}")),
        _ => (
            false,
            "MonitorHealthy",
            "the monitor is not failing".to_owned(),
        ),
    }
}

/// A condition, keeping the previous `lastTransitionTime` when its status did not change.
pub fn condition(
    type_: &str,
    (value, reason, message): (bool, &str, String),
    generation: Option<i64>,
    previous: &[Condition],
) -> Condition {
    let status = if value { "True" } else { "False" };
    let since = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| Time(k8s_openapi::jiff::Timestamp::now()));
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message,
        observed_generation: generation,
        last_transition_time: since,
    }
}

/// The uptime fraction over a series' buckets, weighted by their checks.
pub fn uptime(buckets: &[vedette_client::Bucket]) -> Option<f64> {
    let (mut up, mut total) = (0.0, 0u64);
    for bucket in buckets {
        if let (Some(u), Some(n)) = (bucket.uptime, bucket.checks) {
            up += u * n as f64;
            total += n;
        }
    }
    (total > 0).then(|| up / total as f64)
}

impl SyncStatus {
    /// The status of a resource at `generation` mirrored as `noun` `id`: written (`Ok`) or why
    /// not, keeping when `Synced` last changed from `previous`.
    pub fn report(
        generation: Option<i64>,
        previous: Option<&Self>,
        noun: &str,
        id: &str,
        outcome: Result<(), &NotSynced>,
    ) -> Self {
        let synced = match outcome {
            Ok(()) => (
                true,
                "Synced",
                format!("{noun} {id} is up to date in Vedette"),
            ),
            Err(e) => (false, e.reason, e.message.clone()),
        };
        Self {
            observed_generation: generation,
            conditions: vec![condition(
                "Synced",
                synced,
                generation,
                previous.map(Conditioned::conditions).unwrap_or_default(),
            )],
            vedette_id: Some(id.to_owned()),
        }
    }
}
