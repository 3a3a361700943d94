//! `GET /status`: how many monitors are in each state, and the open incidents.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value};
use vedette_model::MonitorState;
use vedette_store::{IncidentFilter, IncidentState};

use super::ApiState;
use super::problem::ApiResult;
use super::resource::to_object;

/// The response.
#[derive(Debug, Serialize)]
pub struct StatusSummary {
    monitors: BTreeMap<&'static str, usize>,
    open_incidents: Vec<Map<String, Value>>,
}

/// `GET /status`.
pub async fn get(State(state): State<ApiState>) -> ApiResult<Json<StatusSummary>> {
    let mut monitors: BTreeMap<&'static str, usize> =
        MonitorState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let ids = state.engine.monitor_ids();
    monitors.insert("total", ids.len());
    for id in &ids {
        let monitor_state = match state.engine.status(id) {
            Some(status) => status.state,
            None if state
                .engine
                .monitor(id)
                .is_some_and(|m| m.record.spec.paused)
                || state.engine.runtime_pause(id).is_some() =>
            {
                MonitorState::Paused
            }
            None => MonitorState::Pending,
        };
        *monitors.entry(monitor_state.as_str()).or_default() += 1;
    }
    let incidents = state
        .engine
        .store()
        .list_incidents(&IncidentFilter {
            state: Some(IncidentState::Open),
            ..IncidentFilter::default()
        })
        .await?;
    let mut open_incidents = Vec::with_capacity(incidents.len());
    for incident in &incidents {
        let mut item = to_object(incident)?;
        item.remove("timeline");
        open_incidents.push(item);
    }
    Ok(Json(StatusSummary {
        monitors,
        open_incidents,
    }))
}
