//! `GET /status`: how many monitors are in each state, and the open incidents.

use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::MonitorState;
use vedette_store::{IncidentFilter, IncidentState};

use super::ApiState;
use super::incidents::IncidentSummary;
use super::problem::ApiResult;

/// The answer of `GET /status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusSummary {
    /// How many monitors there are, and how many are in each state.
    monitors: MonitorCounts,
    /// The incidents going on, newest first.
    open_incidents: Vec<IncidentSummary>,
}

/// Monitors per state.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct MonitorCounts {
    /// Every monitor.
    total: usize,
    /// Not checked yet, or not enough checks to cross a threshold.
    pending: usize,
    /// Healthy.
    up: usize,
    /// Healthy but slow.
    degraded: usize,
    /// Failing past its threshold.
    down: usize,
    /// Paused, by its spec or at runtime.
    paused: usize,
    /// Inside a maintenance window.
    maintenance: usize,
}

impl MonitorCounts {
    /// Counts one monitor in `state`.
    fn add(&mut self, state: MonitorState) {
        self.total += 1;
        *match state {
            MonitorState::Pending => &mut self.pending,
            MonitorState::Up => &mut self.up,
            MonitorState::Degraded => &mut self.degraded,
            MonitorState::Down => &mut self.down,
            MonitorState::Paused => &mut self.paused,
            MonitorState::Maintenance => &mut self.maintenance,
        } += 1;
    }
}

/// `GET /status`.
pub async fn get(State(state): State<ApiState>) -> ApiResult<Json<StatusSummary>> {
    // One pass under each of the engine's locks: at 100,000 monitors a lookup per monitor
    // took tens of milliseconds of a runtime worker.
    let mut monitors = MonitorCounts::default();
    for (live, known) in state.engine.snapshot() {
        let monitor_state = match known {
            Some(known) => known,
            None if live.record.spec.paused
                || state.engine.runtime_pause(&live.record.id).is_some() =>
            {
                MonitorState::Paused
            }
            None => MonitorState::Pending,
        };
        monitors.add(monitor_state);
    }
    let incidents = state
        .engine
        .store()
        .list_incidents(&IncidentFilter {
            state: Some(IncidentState::Open),
            ..IncidentFilter::default()
        })
        .await?;
    Ok(Json(StatusSummary {
        monitors,
        open_incidents: incidents.into_iter().map(IncidentSummary::from).collect(),
    }))
}
