//! `/ingest`: passive health from Kong, per route. `POST /ingest/kong` takes the batches of
//! the Vedette Kong plugin (`gateways/kong-plugin`), `POST /ingest/kong-http-log` the payload
//! of Kong's bundled `http-log` plugin (one request's log object, or an array of them when
//! its queue batches). Each entry names a Kong route by id; it is added to every monitor
//! labelled `kong-route-id=<id>` (the Kong discovery source puts that label on the monitors it
//! makes, one per host and path of the route) in [`crate::passive`], shown as
//! `status.passive` of the monitor. An entry whose route no monitor carries is counted and
//! reported, and creates nothing. Bodies are capped at 1 MiB like every API body, a report at
//! [`MAX_ENTRIES`] entries, and all reports together at [`ENTRIES_PER_SECOND`] entries a
//! second (429 beyond). `GET /ingest/kong` shows the totals since start.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::discovery::KONG_ROUTE_ID;

use super::ApiState;
use super::auth::too_many_requests;
use super::extract::JsonBody;
use super::problem::{ApiResult, Problem};
use crate::limits::RetryAfter;
use crate::passive::{BUCKET_COUNT, BUCKETS_MS, ENTRIES_PER_SECOND, IngestTotals, Sample};

/// Most entries (plugin routes or `http-log` requests) one report may hold.
pub const MAX_ENTRIES: usize = 5_000;
/// Longest route id accepted.
const MAX_ROUTE_ID: usize = 128;
/// Most unknown route ids named in one answer.
const MAX_UNKNOWN_SHOWN: usize = 20;

/// A batch of the Vedette Kong plugin: per-route aggregates since its last flush.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongPluginBatch {
    /// `vedette-kong-plugin`.
    pub source: String,
    /// The plugin's version.
    #[serde(default)]
    pub version: Option<String>,
    /// When the batch was taken (seconds since the epoch, Kong's `ngx.now()`).
    #[serde(default)]
    pub at: Option<f64>,
    /// Requests the plugin did not aggregate because it held `max_routes` routes already.
    #[serde(default)]
    pub dropped: u64,
    /// One aggregate per route (at most 5,000).
    pub routes: Vec<KongPluginRoute>,
}

/// One route's aggregate in a plugin batch.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongPluginRoute {
    /// The Kong route's id (`unmatched` for requests no route matched).
    pub route_id: String,
    /// The Kong route's name.
    #[serde(default)]
    pub route_name: Option<String>,
    /// Requests (at least 1).
    pub requests: u64,
    /// Of those, answered with a 5xx status.
    pub errors_5xx: u64,
    /// `errors_5xx / requests`, as the plugin computed it (not used: recomputed).
    #[serde(default)]
    pub error_ratio_5xx: Option<f64>,
    /// Sum of the requests' latencies, in milliseconds.
    pub latency_sum_ms: f64,
    /// Requests per latency bucket: the bounds 5, 10, 25, 50, 100, 250, 500, 1000, 2500,
    /// 5000, 10000 ms, then `+Inf`, in that order.
    pub latency_buckets_ms: Vec<KongPluginBucket>,
}

/// One latency bucket of a plugin aggregate.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongPluginBucket {
    /// The upper bound in milliseconds, or `"+Inf"` for the last.
    pub le: Value,
    /// Requests in the bucket.
    pub count: u64,
}

/// One request as Kong's `http-log` plugin logs it (fields not listed are ignored).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongHttpLogEntry {
    /// The route that matched (absent when none did).
    #[serde(default)]
    pub route: Option<KongHttpLogRoute>,
    /// The answer sent to the client.
    pub response: KongHttpLogResponse,
    /// Time spent, in milliseconds.
    pub latencies: KongHttpLogLatencies,
}

/// `route` of an `http-log` entry.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongHttpLogRoute {
    /// The Kong route's id.
    pub id: String,
}

/// `response` of an `http-log` entry.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongHttpLogResponse {
    /// The status sent.
    pub status: u16,
}

/// `latencies` of an `http-log` entry.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KongHttpLogLatencies {
    /// The whole request, as the client saw it.
    pub request: f64,
}

/// The `http-log` payload: one entry, or an array of them (a batching queue).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum KongHttpLogPayload {
    /// Several requests.
    Batch(Vec<KongHttpLogEntry>),
    /// One request.
    One(Box<KongHttpLogEntry>),
}

/// What one report did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IngestReport {
    /// Entries in the report.
    pub entries: u64,
    /// Entries whose route matched at least one monitor.
    pub matched: u64,
    /// Monitors whose passive health changed.
    pub monitors: u64,
    /// Entries whose route no monitor carries (no monitor is created).
    pub unknown: u64,
    /// Up to 20 of their distinct route ids (`(none)` for requests no route matched).
    pub unknown_route_ids: Vec<String>,
}

/// `serde` typing of `value` with the path of the first problem in its message, as a 422
/// naming `field` and that path.
fn typed<T: DeserializeOwned>(value: Value, field: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = match (field.is_empty(), path.as_str()) {
            (true, ".") => String::new(),
            (true, p) => p.to_owned(),
            (false, ".") => field.to_owned(),
            (false, p) => format!("{field}.{p}"),
        };
        Problem::invalid(at.trim_start_matches('.'), e.into_inner().to_string())
    })
}

fn check_route_id(field: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > MAX_ROUTE_ID {
        return Err(Problem::invalid(
            field,
            format!("expected a Kong route id of 1 to {MAX_ROUTE_ID} bytes"),
        ));
    }
    Ok(())
}

fn check_entries(count: usize, field: &str) -> ApiResult<()> {
    if count > MAX_ENTRIES {
        return Err(Problem::invalid(
            field,
            format!("at most {MAX_ENTRIES} entries in one report; send smaller batches"),
        ));
    }
    Ok(())
}

/// The plugin route's figures as a sample, checked: `field` names it in errors.
fn plugin_sample(route: &KongPluginRoute, field: &str) -> ApiResult<Sample> {
    check_route_id(&format!("{field}.route_id"), &route.route_id)?;
    if route.requests == 0 || route.requests > 1_000_000_000 {
        return Err(Problem::invalid(
            &format!("{field}.requests"),
            "expected 1 to 1000000000 requests",
        ));
    }
    if route.errors_5xx > route.requests {
        return Err(Problem::invalid(
            &format!("{field}.errors_5xx"),
            "expected at most `requests`",
        ));
    }
    if !route.latency_sum_ms.is_finite() || route.latency_sum_ms < 0.0 {
        return Err(Problem::invalid(
            &format!("{field}.latency_sum_ms"),
            "expected a finite number of milliseconds, at least 0",
        ));
    }
    let at = format!("{field}.latency_buckets_ms");
    if route.latency_buckets_ms.len() != BUCKET_COUNT {
        return Err(Problem::invalid(
            &at,
            format!(
                "expected {BUCKET_COUNT} buckets: le {BUCKETS_MS:?} then \"+Inf\", in that order"
            ),
        ));
    }
    let mut sample = Sample {
        requests: route.requests,
        errors_5xx: route.errors_5xx,
        latency_sum_ms: route.latency_sum_ms,
        buckets: [0; BUCKET_COUNT],
    };
    let mut total: u64 = 0;
    for (i, bucket) in route.latency_buckets_ms.iter().enumerate() {
        let expected_le = match BUCKETS_MS.get(i) {
            Some(bound) => bucket.le.as_f64() == Some(*bound),
            None => bucket.le.as_str() == Some("+Inf"),
        };
        if !expected_le {
            let want = BUCKETS_MS
                .get(i)
                .map_or_else(|| "\"+Inf\"".to_owned(), ToString::to_string);
            return Err(Problem::invalid(
                &format!("{at}[{i}].le"),
                format!("expected {want}"),
            ));
        }
        sample.buckets[i] = bucket.count;
        total = total.saturating_add(bucket.count);
    }
    if total != route.requests {
        return Err(Problem::invalid(
            &at,
            format!(
                "the buckets hold {total} requests, `requests` says {}",
                route.requests
            ),
        ));
    }
    Ok(sample)
}

/// Monitor ids by the Kong route id of their `kong-route-id` label.
fn monitors_by_route(state: &ApiState) -> HashMap<String, Vec<String>> {
    let mut by_route: HashMap<String, Vec<String>> = HashMap::new();
    for m in state.engine.monitors_page(None, usize::MAX, |m| {
        m.record.labels.contains_key(KONG_ROUTE_ID)
    }) {
        if let Some(route) = m.record.labels.get(KONG_ROUTE_ID) {
            by_route
                .entry(route.clone())
                .or_default()
                .push(m.record.id.clone());
        }
    }
    by_route
}

/// Takes `entries` from the ingest rate: the 429 answer when they come too fast.
fn refused(state: &ApiState, entries: usize) -> Option<Response> {
    let wait = state.passive.admit(entries, Instant::now()).err()?;
    Some(too_many_requests(
        &format!("passive health reports are limited to {ENTRIES_PER_SECOND} entries a second"),
        RetryAfter(wait),
    ))
}

/// Adds per-route samples to their monitors and counts the report.
fn apply(
    state: &ApiState,
    samples: Vec<(Option<String>, Sample)>,
    reported_by: &'static str,
    dropped: u64,
) -> IngestReport {
    let now = Instant::now();
    let by_route = monitors_by_route(state);
    let entries = samples.len() as u64;
    let mut merged: HashMap<String, Sample> = HashMap::new();
    let mut matched = 0;
    let mut unknown = Vec::new();
    for (route, sample) in samples {
        match route.as_ref().and_then(|r| by_route.get(r)) {
            Some(monitors) => {
                matched += 1;
                for id in monitors {
                    merged.entry(id.clone()).or_default().add(&sample);
                }
            }
            None => unknown.push(route.unwrap_or_else(|| "(none)".to_owned())),
        }
    }
    for (id, sample) in &merged {
        state.passive.record(id, sample, reported_by, now);
    }
    state.passive.count(entries, matched, &unknown, dropped);
    let mut shown: Vec<String> = Vec::new();
    for id in &unknown {
        if shown.len() >= MAX_UNKNOWN_SHOWN {
            break;
        }
        if !shown.contains(id) {
            shown.push(id.clone());
        }
    }
    IngestReport {
        entries,
        matched,
        monitors: merged.len() as u64,
        unknown: unknown.len() as u64,
        unknown_route_ids: shown,
    }
}

/// `POST /ingest/kong`: a batch of the Vedette Kong plugin. 422 naming the field when the
/// batch is not one (`routes[2].errors_5xx`), 429 beyond the entry rate.
pub async fn kong_plugin(
    State(state): State<ApiState>,
    JsonBody(mut body): JsonBody,
) -> ApiResult<Response> {
    // Lua's cjson writes an empty table as an object: an empty batch's routes are `{}`.
    if let Some(routes) = body.get_mut("routes")
        && routes.as_object().is_some_and(serde_json::Map::is_empty)
    {
        *routes = Value::Array(Vec::new());
    }
    if let Some(routes) = body.get("routes").and_then(Value::as_array) {
        check_entries(routes.len(), "routes")?;
    }
    let batch: KongPluginBatch = typed(body, "")?;
    if batch.source != "vedette-kong-plugin" {
        return Err(Problem::invalid(
            "source",
            "expected \"vedette-kong-plugin\" (Kong's http-log payload goes to /api/v1/ingest/kong-http-log)",
        ));
    }
    let mut samples = Vec::with_capacity(batch.routes.len());
    for (i, route) in batch.routes.iter().enumerate() {
        let sample = plugin_sample(route, &format!("routes[{i}]"))?;
        samples.push((Some(route.route_id.clone()), sample));
    }
    if let Some(answer) = refused(&state, samples.len()) {
        return Ok(answer);
    }
    Ok(Json(apply(&state, samples, "kong-plugin", batch.dropped)).into_response())
}

/// `POST /ingest/kong-http-log`: Kong's `http-log` payload, one entry or an array. 422
/// naming the field of an entry that is not one (`[3].response.status`), 429 beyond the
/// entry rate.
pub async fn kong_http_log(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let entries: Vec<KongHttpLogEntry> = match body {
        Value::Array(items) => {
            check_entries(items.len(), "body")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(typed(item, &format!("[{i}]"))?);
            }
            out
        }
        Value::Object(_) => vec![typed(body, "")?],
        _ => {
            return Err(Problem::invalid(
                "body",
                "expected Kong's http-log payload: an object, or an array of them",
            ));
        }
    };
    let mut samples = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let latency = entry.latencies.request;
        if !latency.is_finite() || latency < 0.0 {
            return Err(Problem::invalid(
                &format!("[{i}].latencies.request"),
                "expected a finite number of milliseconds, at least 0",
            ));
        }
        let route = match entry.route {
            Some(route) => {
                check_route_id(&format!("[{i}].route.id"), &route.id)?;
                Some(route.id)
            }
            None => None,
        };
        samples.push((route, Sample::one(entry.response.status, latency)));
    }
    if let Some(answer) = refused(&state, samples.len()) {
        return Ok(answer);
    }
    Ok(Json(apply(&state, samples, "kong-http-log", 0)).into_response())
}

/// `GET /ingest/kong`: what the ingest endpoints counted since the server started, unknown
/// route ids among it.
pub async fn totals(State(state): State<ApiState>) -> Json<IngestTotals> {
    Json(state.passive.totals())
}
