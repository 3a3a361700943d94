//! `/maintenance`: maintenance windows, served by the shared resource handlers
//! ([`super::crud`]); the engine follows them through the change feed ([`crate::follow`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{Audience, Record, Source, Version};

use super::ApiState;
use super::crud::ApiResource;
use super::extract::Params;
use super::problem::ApiResult;
use super::view::record_view;

/// The maintenance window kind of the API.
pub struct Maintenance;

/// A maintenance window as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Maintenance")]
pub struct WindowView {
    /// Stable slug.
    id: String,
    /// Labels for selection and ownership.
    labels: BTreeMap<String, String>,
    /// When and which monitors.
    spec: MaintenanceSpec,
    /// Whether the window is in force now.
    active: bool,
    /// Who wrote it last: `api` or `file` (those are changed only in the files).
    managed_by: Source,
    /// Bumped on every change; sent as the ETag.
    version: Version,
    /// First written.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
}

impl ApiResource for Maintenance {
    type Spec = MaintenanceSpec;
    type View = WindowView;
    const KIND: &'static str = "maintenance window";
    const COLLECTION: &'static str = "maintenance";
    const ID_PREFIX: &'static str = "mw";
    const NAME: &'static str = "Maintenance";
    const NAMES: &'static str = "Maintenance";
    const RESERVED_IDS: &'static [&'static str] = &["occurrences"];

    fn name(spec: &MaintenanceSpec) -> Option<&str> {
        spec.name.as_deref()
    }

    async fn view(
        _state: &ApiState,
        record: Record<MaintenanceSpec>,
        _audience: Audience,
    ) -> ApiResult<WindowView> {
        Ok(record_view!(
            WindowView,
            record {
                active: record.spec.is_active(Utc::now()),
            }
        ))
    }
}

/// Most occurrences one `GET /maintenance/occurrences` answers by default.
const DEFAULT_OCCURRENCES: usize = 1_000;
/// Most occurrences one `GET /maintenance/occurrences` may ask for.
pub const MAX_OCCURRENCES: usize = 10_000;

/// One occurrence of a maintenance window: when it is in force and what it covers, so a
/// graph can draw it (Grafana's maintenance annotations) without computing cron or rrule
/// schedules itself.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MaintenanceOccurrence {
    /// The window's id.
    window_id: String,
    /// The window's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The window's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// When this occurrence starts.
    start: DateTime<Utc>,
    /// When it ends (exclusive).
    end: DateTime<Utc>,
    /// The monitors the window names by id.
    monitors: Vec<String>,
    /// The window's label selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<String>,
}

/// The answer of `GET /maintenance/occurrences`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MaintenanceOccurrences {
    /// The occurrences overlapping the range, by start time (then window id).
    items: Vec<MaintenanceOccurrence>,
    /// Whether some were left out: more than `limit`, or a schedule too dense to follow
    /// over the whole range.
    truncated: bool,
}

/// `GET /maintenance/occurrences?from=&to=&limit=`: the occurrences of every window (one-off,
/// cron or rrule) overlapping the range, including one that started before it.
pub async fn occurrences(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Json<MaintenanceOccurrences>> {
    let now = Utc::now();
    let (from, to) = params.range(now, now - Duration::days(1), now)?;
    let limit = params.limit(DEFAULT_OCCURRENCES, MAX_OCCURRENCES)?;
    let windows = state.engine.store().list::<MaintenanceSpec>().await?;
    let mut truncated = false;
    let mut items = Vec::new();
    for window in windows {
        // Each window may fill the limit; the merge below keeps the earliest.
        let (found, more) = window.spec.occurrences(from, to, limit);
        truncated |= more;
        let spec = &window.spec;
        items.extend(found.into_iter().map(|(start, end)| MaintenanceOccurrence {
            window_id: window.id.clone(),
            name: spec.name.clone(),
            description: spec.description.clone(),
            start,
            end,
            monitors: spec.monitors.clone(),
            selector: spec.selector.clone(),
        }));
    }
    items.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.window_id.cmp(&b.window_id))
    });
    if items.len() > limit {
        items.truncate(limit);
        truncated = true;
    }
    Ok(Json(MaintenanceOccurrences { items, truncated }))
}
