//! `/event-types`: the typed event catalog — each type with its description, payload version,
//! the JSON Schema of its `data` and a sample event (the one previews and test deliveries use).

use std::str::FromStr;

use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use vedette_model::event::EVENT_VERSION;
use vedette_model::{Event, EventType};
use vedette_webhooks::samples;

use super::extract::PathId;
use super::pagination::Page;
use super::problem::{ApiResult, Problem};

/// One event type.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventTypeInfo {
    /// Dotted name, e.g. `monitor.down`; what endpoints subscribe to (`monitor.*` matches
    /// every `monitor.` type).
    pub name: EventType,
    /// When it is emitted.
    pub description: String,
    /// Payload version carried in every event's `version`.
    pub version: u32,
    /// JSON Schema (2020-12) of the event's `data`.
    pub schema: Value,
    /// A sample event of this type.
    pub example: Event,
}

fn info(t: EventType) -> EventTypeInfo {
    EventTypeInfo {
        name: t,
        description: t.description().to_owned(),
        version: EVENT_VERSION,
        schema: t.data_schema(),
        example: samples::sample_event(t),
    }
}

/// `GET /event-types`: every type, in one page.
pub async fn list() -> Page<EventTypeInfo> {
    Page {
        items: EventType::ALL.into_iter().map(info).collect(),
        next_cursor: None,
    }
}

/// `GET /event-types/{name}`.
pub async fn get_one(PathId(name): PathId) -> ApiResult<Json<EventTypeInfo>> {
    EventType::from_str(&name)
        .map(|t| Json(info(t)))
        .map_err(Problem::not_found)
}
