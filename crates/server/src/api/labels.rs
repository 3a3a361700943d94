//! `GET /labels` and `GET /labels/{key}/values`: the label keys and values of the monitors a
//! selector picks, for editors that complete selectors (the Grafana data source's builder).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::selector;

use super::ApiState;
use super::extract::{Params, PathId};
use super::problem::{ApiResult, Problem};

/// The answer of `GET /labels`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LabelKeys {
    /// Every label key some picked monitor has, sorted.
    keys: Vec<String>,
}

/// The answer of `GET /labels/{key}/values`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LabelValues {
    /// The key asked about.
    key: String,
    /// Every value the picked monitors give that key, sorted.
    values: Vec<String>,
}

/// The labels of the monitors `?selector=` picks (every monitor without one).
fn picked_labels(
    state: &ApiState,
    params: &Params,
) -> ApiResult<Vec<std::collections::BTreeMap<String, String>>> {
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    Ok(state
        .engine
        .monitors_page(None, usize::MAX, |m| selector.matches(&m.record.labels))
        .iter()
        .map(|m| m.record.labels.clone())
        .collect())
}

/// `GET /labels?selector=`.
pub async fn keys(State(state): State<ApiState>, params: Params) -> ApiResult<Json<LabelKeys>> {
    let keys: BTreeSet<String> = picked_labels(&state, &params)?
        .into_iter()
        .flat_map(|labels| labels.into_keys())
        .collect();
    Ok(Json(LabelKeys {
        keys: keys.into_iter().collect(),
    }))
}

/// `GET /labels/{key}/values?selector=`: 404 for a key no monitor has; an empty list when
/// only the monitors the selector leaves out have it.
pub async fn values(
    State(state): State<ApiState>,
    PathId(key): PathId,
    params: Params,
) -> ApiResult<Json<LabelValues>> {
    let known = !state
        .engine
        .monitors_page(None, 1, |m| m.record.labels.contains_key(&key))
        .is_empty();
    if !known {
        return Err(Problem::not_found(format!(
            "no monitor has the label key {key:?}"
        )));
    }
    let values: BTreeSet<String> = picked_labels(&state, &params)?
        .into_iter()
        .filter_map(|mut labels| labels.remove(&key))
        .collect();
    Ok(Json(LabelValues {
        key,
        values: values.into_iter().collect(),
    }))
}
