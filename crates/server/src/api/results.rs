//! `GET /monitors/{id}/results` and `GET /results?ids=`: raw check results, newest first, in
//! cursor pages.

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

/// The cursor kind of the several-monitor results table.
const MANY_CURSOR: &str = "results-of";
/// Most monitors one `GET /results` names.
const MAX_IDS: usize = 1_000;

/// `GET /results?ids=&from=&to=&limit=&cursor=`: the results of several monitors in one table,
/// newest first (what the Grafana data source's results table reads in one call instead of
/// one per monitor); an id naming no monitor adds nothing.
pub async fn list_many(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Page<StoredResult>> {
    let ids: Vec<String> = params.list("ids").into_iter().map(str::to_owned).collect();
    if ids.is_empty() {
        return Err(Problem::bad_param(
            "ids",
            "expected one or more monitor ids, comma-separated",
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(Problem::bad_param(
            "ids",
            format!("at most {MAX_IDS} monitor ids, got {}", ids.len()),
        ));
    }
    let now = Utc::now();
    let (from, to) = params.range(now, DateTime::UNIX_EPOCH, now)?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let older_than = params.get("cursor").map(parse_cursor).transpose()?;
    let (items, more) = state
        .engine
        .store()
        .list_results_of(
            &ids,
            from,
            to,
            u32::try_from(limit).unwrap_or(1),
            older_than,
        )
        .await?;
    let next_cursor = if more {
        items.last().map(|r| {
            pagination::encode(
                MANY_CURSOR,
                &format!("{}:{}", r.result.started_at.timestamp_millis(), r.id),
            )
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

fn parse_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, i64)> {
    let text = pagination::decode(MANY_CURSOR, cursor)?;
    text.split_once(':')
        .and_then(|(ms, id)| {
            let at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
            Some((at, id.parse().ok()?))
        })
        .ok_or_else(|| Problem::bad_param("cursor", "not a cursor of this list"))
}
