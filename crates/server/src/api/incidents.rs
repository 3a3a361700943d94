//! `/incidents`: newest first in cursor pages with filters, and one with its timeline.

use axum::Json;
use axum::extract::State;
use chrono::DateTime;
use serde_json::{Map, Value};
use vedette_store::{IncidentFilter, IncidentState, MAX_INCIDENTS_PAGE};

use super::ApiState;
use super::extract::{Params, PathId};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::to_object;

const CURSOR: &str = "incidents";

fn parse_cursor(cursor: &str) -> ApiResult<(DateTime<chrono::Utc>, String)> {
    let text = pagination::decode(CURSOR, cursor)?;
    text.split_once(':')
        .and_then(|(ms, id)| {
            let at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
            Some((at, id.to_owned()))
        })
        .ok_or_else(|| Problem::bad_param("cursor", "not a cursor of this list"))
}

/// `GET /incidents?monitor=&state=&from=&to=&limit=&cursor=`: without timelines.
pub async fn list(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Page<Map<String, Value>>> {
    let now = chrono::Utc::now();
    let incident_state = match params.get("state") {
        None => None,
        Some("open") => Some(IncidentState::Open),
        Some("resolved") => Some(IncidentState::Resolved),
        Some(_) => return Err(Problem::bad_param("state", "expected open or resolved")),
    };
    let opened_after = params
        .get("from")
        .map(|_| params.time("from", now, now))
        .transpose()?;
    let opened_before = params
        .get("to")
        .map(|_| params.time("to", now, now))
        .transpose()?;
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
    let mut items = Vec::with_capacity(incidents.len());
    for incident in &incidents {
        let mut item = to_object(incident)?;
        item.remove("timeline");
        items.push(item);
    }
    Ok(Page { items, next_cursor })
}

/// `GET /incidents/{id}`: with its `timeline`.
pub async fn get(State(state): State<ApiState>, PathId(id): PathId) -> ApiResult<Json<Value>> {
    let incident = state
        .engine
        .store()
        .get_incident(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no incident {id:?}")))?;
    Ok(Json(Value::Object(to_object(&incident)?)))
}
