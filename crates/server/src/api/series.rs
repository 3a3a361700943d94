//! `GET /series`: aligned buckets per monitor, computed from rollups, empty buckets included.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::selector;
use vedette_store::Bucket;

use super::ApiState;
use super::extract::Params;
use super::problem::{ApiResult, Problem};

/// Most points (buckets × monitors) one response holds.
pub const MAX_POINTS: i64 = 10_000;
/// Default step.
const DEFAULT_STEP: &str = "1h";

/// The metrics a bucket can carry, in response order.
const METRICS: [&str; 9] = [
    "uptime",
    "uptime_all",
    "latency_avg",
    "latency_p50",
    "latency_p90",
    "latency_p95",
    "latency_p99",
    "checks",
    "failures",
];

/// The answer of `GET /series`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesResponse {
    /// Start of the first bucket: `from` rounded down to a multiple of `step`.
    from: DateTime<Utc>,
    /// End of the range.
    to: DateTime<Utc>,
    /// Length of each bucket.
    #[schemars(example = &"1h")]
    step: String,
    /// Always true: checks made during maintenance do not count against uptime.
    maintenance_excluded: bool,
    /// One series per monitor, by id.
    series: Vec<Series>,
}

/// The buckets of one monitor.
#[derive(Debug, Serialize, JsonSchema)]
struct Series {
    /// The monitor.
    monitor_id: String,
    /// Every bucket of the range, empty ones included, oldest first.
    buckets: Vec<SeriesBucket>,
}

/// One bucket with the metrics asked for (`?metrics=`, every one by default); a metric
/// not asked for is absent, one without checks to compute it from is null.
#[derive(Debug, Serialize, JsonSchema)]
struct SeriesBucket {
    /// Start of the bucket, which lasts one step.
    start: DateTime<Utc>,
    /// Share of the checks outside maintenance that were up or degraded, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime: Option<Option<f64>>,
    /// Share of all checks, maintenance included, that did not fail, 0 to 1: a check down
    /// during maintenance counts as down here.
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime_all: Option<Option<f64>>,
    /// Mean latency of the checks that did not fail, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_avg: Option<Option<f64>>,
    /// Median latency of the checks that did not fail, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_p50: Option<Option<f64>>,
    /// 90th percentile of that latency, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_p90: Option<Option<f64>>,
    /// 95th percentile of that latency, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_p95: Option<Option<f64>>,
    /// 99th percentile of that latency, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_p99: Option<Option<f64>>,
    /// Checks made.
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<u64>,
    /// Checks that were down outside maintenance.
    #[serde(skip_serializing_if = "Option::is_none")]
    failures: Option<u64>,
}

impl SeriesBucket {
    /// The `metrics` of `bucket`.
    fn new(bucket: &Bucket, metrics: &[&str]) -> Self {
        let wanted = |name: &str| metrics.contains(&name);
        let float = |name: &str, value: Option<f64>| wanted(name).then_some(value);
        Self {
            start: bucket.start,
            uptime: float("uptime", bucket.uptime()),
            uptime_all: float("uptime_all", bucket.uptime_all()),
            latency_avg: float("latency_avg", bucket.mean_latency_ms()),
            latency_p50: float("latency_p50", bucket.percentile(0.50)),
            latency_p90: float("latency_p90", bucket.percentile(0.90)),
            latency_p95: float("latency_p95", bucket.percentile(0.95)),
            latency_p99: float("latency_p99", bucket.percentile(0.99)),
            checks: wanted("checks").then_some(bucket.checks),
            failures: wanted("failures").then_some(bucket.failures),
        }
    }
}

/// `?step=` (or `default`): a whole number of minutes, as text and as a duration.
pub(super) fn parse_step(params: &Params, default: &str) -> ApiResult<(String, Duration)> {
    let text = params.get("step").unwrap_or(default);
    let invalid = || {
        Problem::invalid(
            "step",
            "expected a whole number of minutes of at least 1m, such as 5m, 1h or 1d",
        )
    };
    let step: vedette_model::Duration = text.parse().map_err(|_| invalid())?;
    let ms = i64::try_from(step.as_millis()).map_err(|_| invalid())?;
    if ms < 60_000 || ms % 60_000 != 0 {
        return Err(invalid());
    }
    Ok((step.to_string(), Duration::milliseconds(ms)))
}

fn parse_metrics(params: &Params) -> ApiResult<Vec<&'static str>> {
    let wanted = params.list("metrics");
    if wanted.is_empty() {
        return Ok(METRICS.to_vec());
    }
    for name in &wanted {
        if !METRICS.contains(name) {
            return Err(Problem::invalid(
                "metrics",
                format!(
                    "unknown metric {name:?}, expected some of {}",
                    METRICS.join(", ")
                ),
            ));
        }
    }
    Ok(METRICS.into_iter().filter(|m| wanted.contains(m)).collect())
}

/// The ids of the monitors `?ids=` and `?selector=` pick together (every monitor when both
/// are absent), in id order; an unknown id is a 422 on `ids`.
pub(super) fn select_monitors(state: &ApiState, params: &Params) -> ApiResult<Vec<String>> {
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    let ids: BTreeSet<&str> = params.list("ids").into_iter().collect();
    for id in &ids {
        if state.engine.monitor(id).is_none() {
            return Err(Problem::invalid("ids", format!("no monitor {id:?}")));
        }
    }
    Ok(state
        .engine
        .monitors_page(None, usize::MAX, |m| {
            (ids.is_empty() || ids.contains(m.record.id.as_str()))
                && selector.matches(&m.record.labels)
        })
        .iter()
        .map(|m| m.record.id.clone())
        .collect())
}

/// The start of the first bucket of `step` at or before `from` and how many buckets reach
/// `to`; a 422 on `step` when `monitors` series of them exceed [`MAX_POINTS`].
pub(super) fn buckets(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
    monitors: usize,
) -> ApiResult<(DateTime<Utc>, i64)> {
    let step_ms = step.num_milliseconds();
    let start_ms = from.timestamp_millis().div_euclid(step_ms) * step_ms;
    let span = to.timestamp_millis() - start_ms;
    let buckets = if span <= 0 {
        0
    } else {
        (span + step_ms - 1) / step_ms
    };
    let points = buckets.saturating_mul(i64::try_from(monitors).unwrap_or(i64::MAX));
    if points > MAX_POINTS {
        return Err(Problem::invalid(
            "step",
            format!(
                "{buckets} buckets × {monitors} monitors is {points} points; at most \
                 {MAX_POINTS} per request: use a larger step, a shorter range or fewer monitors"
            ),
        ));
    }
    let start = DateTime::from_timestamp_millis(start_ms)
        .ok_or_else(|| Problem::bad_param("from", "out of range"))?;
    Ok((start, buckets))
}

/// `GET /series?selector=&ids=&from=&to=&step=&metrics=`.
pub async fn get(State(state): State<ApiState>, params: Params) -> ApiResult<Json<SeriesResponse>> {
    let now = Utc::now();
    let (step_text, step) = parse_step(&params, DEFAULT_STEP)?;
    let metrics = parse_metrics(&params)?;
    let (from, to) = params.range(now, now - Duration::days(1), now)?;
    let monitors = select_monitors(&state, &params)?;
    let (start, buckets) = buckets(from, to, step, monitors.len())?;

    let mut series = Vec::with_capacity(monitors.len());
    for monitor_id in monitors {
        let stored = state
            .engine
            .store()
            .series(&monitor_id, from, to, step)
            .await?;
        let mut stored = stored.into_iter().peekable();
        let mut out = Vec::with_capacity(usize::try_from(buckets).unwrap_or(0));
        for i in 0..buckets {
            let at = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            let bucket = match stored.peek() {
                Some(b) if b.start == at => stored.next().unwrap_or_else(|| Bucket::empty(at)),
                _ => Bucket::empty(at),
            };
            out.push(SeriesBucket::new(&bucket, &metrics));
        }
        series.push(Series {
            monitor_id,
            buckets: out,
        });
    }
    Ok(Json(SeriesResponse {
        from: start,
        to,
        step: step_text,
        maintenance_excluded: true,
        series,
    }))
}
