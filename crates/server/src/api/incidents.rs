//! `/incidents`: newest first in cursor pages with filters, and one with its timeline.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::deployment::DeploymentRef;
use vedette_model::{CheckResult, FailureReason};
use vedette_store::{Incident, IncidentFilter, IncidentState, MAX_INCIDENTS_PAGE};

use super::ApiState;
use super::extract::{Params, PathId};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};

const CURSOR: &str = "incidents";

/// An incident as lists and the status summary show it: without its timeline (see
/// `GET /api/v1/incidents/{id}`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentSummary {
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
}

impl From<Incident> for IncidentSummary {
    fn from(incident: Incident) -> Self {
        Self {
            id: incident.id,
            monitor_id: incident.monitor_id,
            state: incident.state,
            opened_at: incident.opened_at,
            resolved_at: incident.resolved_at,
            cause: incident.cause,
            message: incident.message,
            first_failure: incident.first_failure,
            deployment: incident.deployment,
        }
    }
}

fn parse_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, String)> {
    let text = pagination::decode(CURSOR, cursor)?;
    text.split_once(':')
        .and_then(|(ms, id)| {
            let at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
            Some((at, id.to_owned()))
        })
        .ok_or_else(|| Problem::bad_param("cursor", "not a cursor of this list"))
}

/// A time parameter when given.
fn optional_time(
    params: &Params,
    name: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<DateTime<Utc>>> {
    params
        .get(name)
        .map(|_| params.time(name, now, now))
        .transpose()
}

/// `GET /incidents?monitor=&state=&from=&to=&overlaps_from=&overlaps_to=&limit=&cursor=`:
/// without timelines. `from`/`to` bound when an incident opened; `overlaps_from`/`overlaps_to`
/// pick those in progress at some time of the range, including one opened before it.
pub async fn list(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Page<IncidentSummary>> {
    let now = Utc::now();
    let incident_state = match params.get("state") {
        None => None,
        Some("open") => Some(IncidentState::Open),
        Some("resolved") => Some(IncidentState::Resolved),
        Some(_) => return Err(Problem::bad_param("state", "expected open or resolved")),
    };
    let opened_after = optional_time(&params, "from", now)?;
    let to = optional_time(&params, "to", now)?;
    let overlaps_to = optional_time(&params, "overlaps_to", now)?;
    let opened_before = match (to, overlaps_to) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let active_after = optional_time(&params, "overlaps_from", now)?;
    if let (Some(start), Some(end)) = (active_after, overlaps_to)
        && start > end
    {
        return Err(Problem::bad_param(
            "overlaps_from",
            "must not be after overlaps_to",
        ));
    }
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let older_than = params.get("cursor").map(parse_cursor).transpose()?;
    let fetch = u32::try_from(limit + 1)
        .unwrap_or(MAX_INCIDENTS_PAGE)
        .min(MAX_INCIDENTS_PAGE);
    let mut incidents = state
        .engine
        .store()
        .list_incidents(&IncidentFilter {
            monitor_id: params.get("monitor").map(str::to_owned),
            state: incident_state,
            opened_after,
            opened_before,
            active_after,
            limit: fetch,
            older_than,
        })
        .await?;
    // A page as large as the store allows may have a successor.
    let more = incidents.len() > limit || (fetch as usize == limit && incidents.len() == limit);
    incidents.truncate(limit);
    let next_cursor = if more {
        incidents.last().map(|i| {
            pagination::encode(
                CURSOR,
                &format!("{}:{}", i.opened_at.timestamp_millis(), i.id),
            )
        })
    } else {
        None
    };
    let items = incidents.into_iter().map(IncidentSummary::from).collect();
    Ok(Page { items, next_cursor })
}

/// `GET /incidents/{id}`: with its `timeline`.
pub async fn get(State(state): State<ApiState>, PathId(id): PathId) -> ApiResult<Json<Incident>> {
    let incident = state
        .engine
        .store()
        .get_incident(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no incident {id:?}")))?;
    Ok(Json(incident))
}

#[cfg(test)]
mod tests {
    use schemars::schema_for;

    use super::*;

    /// The properties of a schema, by name.
    fn properties(schema: &schemars::Schema) -> Vec<String> {
        let properties = schema.get("properties").and_then(|p| p.as_object());
        properties.map_or_else(Vec::new, |p| p.keys().cloned().collect())
    }

    #[test]
    fn a_summary_is_an_incident_without_its_timeline() {
        let mut incident = properties(&schema_for!(Incident));
        incident.retain(|name| name != "timeline");
        assert_eq!(properties(&schema_for!(IncidentSummary)), incident);
    }
}
