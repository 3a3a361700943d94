//! `/maintenance`: maintenance windows with the monitors' conventions (ids, labels, versions
//! and preconditions, file-managed ones refused); the engine reloads them after every write.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::selector;
use vedette_store::{MaintenanceRecord, StoreError};

use super::ApiState;
use super::body::{self, Envelope};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::{self, WRITE_ATTEMPTS, ensure_api_managed};
use crate::files;

const KIND: &str = "maintenance window";
const CURSOR: &str = "maintenance";

/// A maintenance window as the API shows it.
#[derive(Debug, Serialize)]
pub struct WindowView {
    id: String,
    labels: BTreeMap<String, String>,
    spec: Value,
    /// Whether the window is in force now.
    active: bool,
    managed_by: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn view(record: MaintenanceRecord, now: DateTime<Utc>) -> WindowView {
    let active = serde_json::from_value::<MaintenanceSpec>(record.spec.clone())
        .is_ok_and(|spec| spec.is_active(now));
    WindowView {
        id: record.id,
        labels: record.labels,
        spec: record.spec,
        active,
        managed_by: record.source,
        version: record.version,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("no maintenance window {id:?}"))
}

/// `GET /maintenance?selector=&limit=&cursor=`, by id.
pub async fn list(State(state): State<ApiState>, params: Params) -> ApiResult<Page<WindowView>> {
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params
        .get("cursor")
        .map(|c| pagination::decode(CURSOR, c))
        .transpose()?;
    let mut windows: Vec<MaintenanceRecord> = state
        .engine
        .store()
        .list_maintenance()
        .await?
        .into_iter()
        .filter(|w| after.as_ref().is_none_or(|a| w.id.as_str() > a.as_str()))
        .filter(|w| selector.matches(&w.labels))
        .take(limit + 1)
        .collect();
    let next_cursor = if windows.len() > limit {
        windows.truncate(limit);
        windows.last().map(|w| pagination::encode(CURSOR, &w.id))
    } else {
        None
    };
    let now = Utc::now();
    Ok(Page {
        items: windows.into_iter().map(|w| view(w, now)).collect(),
        next_cursor,
    })
}

/// `GET /maintenance/{id}`.
pub async fn get(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<Response> {
    let record = state
        .engine
        .store()
        .get_maintenance(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if pre.not_modified(record.version) {
        return Ok(resource::not_modified(record.version));
    }
    Ok(resource::with_etag(
        StatusCode::OK,
        record.version,
        view(record, Utc::now()),
    ))
}

fn record(id: &str, envelope: Envelope<MaintenanceSpec>) -> ApiResult<MaintenanceRecord> {
    let spec = serde_json::to_value(&envelope.spec).map_err(|e| Problem::internal(&e))?;
    let mut record = MaintenanceRecord::new(id, spec);
    record.labels = envelope.labels;
    Ok(record)
}

/// Writes `record` if the stored version is still `expected` (0: absent) and reloads the
/// engine's windows; `None` when another writer got in first.
async fn commit(
    state: &ApiState,
    record: &MaintenanceRecord,
    expected: i64,
) -> ApiResult<Option<MaintenanceRecord>> {
    match state
        .engine
        .store()
        .put_maintenance_if(record, Some(expected))
        .await
    {
        Ok(stored) => {
            files::reload_maintenance(&state.engine).await?;
            Ok(Some(stored))
        }
        Err(StoreError::VersionConflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn respond(record: MaintenanceRecord, created: bool) -> Response {
    let version = record.version;
    let location = format!("/api/v1/maintenance/{}", record.id);
    let body = view(record, Utc::now());
    if created {
        resource::created(location, version, body)
    } else {
        resource::with_etag(StatusCode::OK, version, body)
    }
}

fn contention(id: &str) -> Problem {
    Problem::conflict(format!(
        "maintenance window {id:?} kept changing while it was written; retry"
    ))
}

/// `PUT /maintenance/{id}`: create-or-replace; 201 created, 200 replaced.
pub async fn put(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = body::parse::<MaintenanceSpec>(body)?;
    resource::check_ids(&id, envelope.id.as_deref())?;
    let wanted = record(&id, envelope)?;
    let what = format!("{KIND} {id:?}");
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state.engine.store().get_maintenance(&id).await?;
        if let Some(existing) = &existing {
            ensure_api_managed(KIND, &id, &existing.source)?;
        }
        let version = existing.as_ref().map(|w| w.version);
        pre.check_write(&what, version)?;
        if let Some(stored) = commit(&state, &wanted, version.unwrap_or(0)).await? {
            return Ok(respond(stored, existing.is_none()));
        }
    }
    Err(contention(&id))
}

/// `POST /maintenance`: creates with the body's id or one generated from `spec.name`.
pub async fn create(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = body::parse::<MaintenanceSpec>(body)?;
    let candidates = match &envelope.id {
        Some(id) => vec![id.clone()],
        None => resource::id_candidates(envelope.spec.name.as_deref(), "mw"),
    };
    for id in &candidates {
        let wanted = record(id, envelope.clone())?;
        if let Some(stored) = commit(&state, &wanted, 0).await? {
            return Ok(respond(stored, true));
        }
    }
    Err(Problem::conflict(format!(
        "maintenance window {:?} already exists; PUT /api/v1/maintenance/{{id}} replaces it",
        candidates.first().map(String::as_str).unwrap_or_default()
    )))
}

/// `PATCH /maintenance/{id}`: JSON Merge Patch over `{"labels", "spec"}`, then validated.
pub async fn patch(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(patch): JsonBody,
) -> ApiResult<Response> {
    if !patch.is_object() {
        return Err(Problem::invalid(
            "",
            "expected a JSON merge patch object over labels and spec",
        ));
    }
    let what = format!("{KIND} {id:?}");
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state
            .engine
            .store()
            .get_maintenance(&id)
            .await?
            .ok_or_else(|| not_found(&id))?;
        ensure_api_managed(KIND, &id, &existing.source)?;
        pre.check_write(&what, Some(existing.version))?;
        let mut document = body::document(&existing.labels, &existing.spec)?;
        body::merge_patch(&mut document, &patch);
        let envelope = body::parse::<MaintenanceSpec>(document)?;
        resource::check_ids(&id, envelope.id.as_deref())?;
        let wanted = record(&id, envelope)?;
        if let Some(stored) = commit(&state, &wanted, existing.version).await? {
            return Ok(respond(stored, false));
        }
    }
    Err(contention(&id))
}

/// `DELETE /maintenance/{id}`: 204.
pub async fn delete(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<StatusCode> {
    let store = state.engine.store();
    let existing = store
        .get_maintenance(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    ensure_api_managed(KIND, &id, &existing.source)?;
    pre.check_write(&format!("{KIND} {id:?}"), Some(existing.version))?;
    store.delete_maintenance(&id).await?;
    files::reload_maintenance(&state.engine).await?;
    Ok(StatusCode::NO_CONTENT)
}
