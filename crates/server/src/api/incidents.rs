//! `/incidents`: newest first in cursor pages with filters, and one with its timeline.

use std::borrow::Cow;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::Value;
use vedette_store::{Incident, IncidentFilter, IncidentState, MAX_INCIDENTS_PAGE};

use super::ApiState;
use super::extract::{Params, PathId};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};

const CURSOR: &str = "incidents";

/// The description of [`IncidentSummary`]'s schema.
const SUMMARY_DESCRIPTION: &str = "An incident as lists and the status summary show it: \
     without its timeline (see\n`GET /api/v1/incidents/{id}`).";

/// An incident as lists and the status summary show it: the model's [`Incident`] with its
/// timeline left out, so its schema is [`Incident`]'s without `timeline`.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct IncidentSummary(Incident);

impl From<Incident> for IncidentSummary {
    fn from(mut incident: Incident) -> Self {
        incident.timeline.clear();
        Self(incident)
    }
}

impl JsonSchema for IncidentSummary {
    fn schema_name() -> Cow<'static, str> {
        "IncidentSummary".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Incident::json_schema(generator);
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.remove("timeline");
        }
        schema.insert("description".to_owned(), SUMMARY_DESCRIPTION.into());
        schema
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
