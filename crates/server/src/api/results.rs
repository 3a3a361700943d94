//! `GET /monitors/{id}/results`: raw check results, newest first, in cursor pages.

use axum::extract::State;
use chrono::{DateTime, Utc};
use vedette_store::StoredResult;

use super::ApiState;
use super::extract::{Params, PathId};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};

const CURSOR: &str = "results";

/// `GET /monitors/{id}/results?from=&to=&limit=&cursor=`: items are `CheckResult` plus `id`.
pub async fn list(
    State(state): State<ApiState>,
    PathId(id): PathId,
    params: Params,
) -> ApiResult<Page<StoredResult>> {
    let store = state.engine.store();
    if state.engine.monitor(&id).is_none() && store.get_monitor(&id).await?.is_none() {
        return Err(Problem::not_found(format!("no monitor {id:?}")));
    }
    let now = Utc::now();
    let (from, to) = params.range(now, DateTime::UNIX_EPOCH, now)?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = params
        .get("cursor")
        .map(|c| pagination::decode_number(CURSOR, c))
        .transpose()?;
    let (items, next) = store
        .list_results(&id, from, to, u32::try_from(limit).unwrap_or(1), cursor)
        .await?;
    Ok(Page {
        items,
        next_cursor: next.map(|n| pagination::encode(CURSOR, &n.to_string())),
    })
}
