//! `/integrations`: the integration catalog (built-in manifests plus `--webhook-catalog-dir`),
//! each with its parameters' JSON Schema, example parameters and documentation. Templates stay
//! on the server; `POST /webhooks/preview` shows what they render.

use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use vedette_webhooks::Manifest;

use super::extract::{Params, PathId};
use super::pagination::Page;
use super::problem::{ApiResult, Problem};
use crate::app::AppState;

/// An integration as the API shows it: its manifest without templates.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Integration {
    /// Slug, for an endpoint's `integration.name`.
    pub name: String,
    /// Display name.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// `chat`, `paging`, `push`, `automation` or `generic`.
    pub category: String,
    /// Event types it handles (patterns); others are not delivered to its endpoints.
    pub event_types: Vec<String>,
    /// JSON Schema of an endpoint's `integration.params`; `x-secret: true` marks parameters
    /// redacted in answers and delivery logs.
    pub parameters: Value,
    /// Example parameters.
    pub example: Value,
    /// Markdown documentation: where to get the parameters, what arrives.
    pub docs: String,
}

impl From<&Manifest> for Integration {
    fn from(m: &Manifest) -> Self {
        Self {
            name: m.name.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            category: m.category.clone(),
            event_types: m.event_types.clone(),
            parameters: m.parameters.clone(),
            example: m.example.clone(),
            docs: m.docs.clone(),
        }
    }
}

/// `GET /integrations?category=`: every integration, by name, in one page.
pub async fn list(State(state): State<AppState>, params: Params) -> Page<Integration> {
    let category = params.get("category");
    let mut items: Vec<Integration> = state
        .webhooks
        .catalog()
        .iter()
        .filter(|m| category.is_none_or(|c| m.category == c))
        .map(Integration::from)
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Page {
        items,
        next_cursor: None,
    }
}

/// `GET /integrations/{name}`.
pub async fn get_one(
    State(state): State<AppState>,
    PathId(name): PathId,
) -> ApiResult<Json<Integration>> {
    state
        .webhooks
        .catalog()
        .get(&name)
        .map(|m| Json(Integration::from(m)))
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no integration {name:?}; GET /api/v1/integrations lists them"
            ))
        })
}
