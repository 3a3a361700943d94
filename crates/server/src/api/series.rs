//! `GET /series`: aligned buckets per monitor, computed from rollups, empty buckets included;
//! `GET /series/columns`: the same figures as one array per metric, for clients that read many
//! monitors over long ranges (the Grafana data source), about a tenth of the size.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::selector;
use vedette_store::{Bucket, Parts};

use super::ApiState;
use super::extract::Params;
use super::problem::{ApiResult, Problem};

/// Most points (buckets × monitors) one response holds.
pub const MAX_POINTS: i64 = 10_000;
/// Most points one `/series/columns` response holds: a point there is a number, not an
/// object, so five times as many make a smaller answer than [`MAX_POINTS`] buckets.
pub const MAX_COLUMN_POINTS: i64 = 50_000;
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
        let float = |name: &str| metrics.contains(&name).then(|| float_metric(bucket, name));
        let count = |name: &str| metrics.contains(&name).then(|| count_metric(bucket, name));
        Self {
            start: bucket.start,
            uptime: float("uptime"),
            uptime_all: float("uptime_all"),
            latency_avg: float("latency_avg"),
            latency_p50: float("latency_p50"),
            latency_p90: float("latency_p90"),
            latency_p95: float("latency_p95"),
            latency_p99: float("latency_p99"),
            checks: count("checks"),
            failures: count("failures"),
        }
    }
}

/// Whether `metric` is a count (`checks`, `failures`: a number in every bucket, 0 when
/// empty) rather than a figure that is null without checks.
fn is_count(metric: &str) -> bool {
    matches!(metric, "checks" | "failures")
}

/// The value of the figure `metric` (one of [`METRICS`] that is not a count) in `bucket`.
fn float_metric(bucket: &Bucket, metric: &str) -> Option<f64> {
    match metric {
        "uptime" => bucket.uptime(),
        "uptime_all" => bucket.uptime_all(),
        "latency_avg" => bucket.mean_latency_ms(),
        "latency_p50" => bucket.percentile(0.50),
        "latency_p90" => bucket.percentile(0.90),
        "latency_p95" => bucket.percentile(0.95),
        "latency_p99" => bucket.percentile(0.99),
        _ => None,
    }
}

/// The parts of a bucket `metrics` are computed from: the counts alone for `uptime`,
/// `checks` and `failures` (see [`float_metric`] and [`count_metric`]).
fn parts_for(metrics: &[&str]) -> Parts {
    if metrics
        .iter()
        .all(|m| matches!(*m, "uptime" | "checks" | "failures"))
    {
        Parts::Counts
    } else {
        Parts::All
    }
}

/// The value of the count `metric` in `bucket`.
fn count_metric(bucket: &Bucket, metric: &str) -> u64 {
    match metric {
        "checks" => bucket.checks,
        "failures" => bucket.failures,
        _ => 0,
    }
}

/// The answer of `GET /series/columns`: bucket `i` of every series starts at `from + i ×
/// step`, so the starts are not repeated.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesColumns {
    /// Start of the first bucket: `from` rounded down to a multiple of `step`.
    from: DateTime<Utc>,
    /// End of the range.
    to: DateTime<Utc>,
    /// Length of each bucket.
    #[schemars(example = &"1h")]
    step: String,
    /// Always true: checks made during maintenance do not count against uptime.
    maintenance_excluded: bool,
    /// How many buckets each array holds.
    buckets: i64,
    /// One entry per monitor, by id.
    series: Vec<ColumnSeries>,
}

/// The columns of one monitor.
#[derive(Debug, Serialize, JsonSchema)]
struct ColumnSeries {
    /// The monitor.
    monitor_id: String,
    /// One array per metric asked for (`?metrics=`, every one by default), `buckets` long,
    /// oldest first; a figure is null in a bucket without checks to compute it from, a count
    /// (`checks`, `failures`) is 0 there.
    values: BTreeMap<&'static str, Column>,
}

/// One metric's values over the buckets.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
enum Column {
    /// A figure per bucket, null without checks.
    Figures(Vec<Option<f64>>),
    /// A count per bucket.
    Counts(Vec<u64>),
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
/// `to`; a 422 on `step` when `monitors` series of them exceed `max_points`.
pub(super) fn buckets(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: Duration,
    monitors: usize,
    max_points: i64,
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
    if points > max_points {
        return Err(Problem::invalid(
            "step",
            format!(
                "{buckets} buckets × {monitors} monitors is {points} points; at most \
                 {max_points} per request: use a larger step, a shorter range or fewer monitors"
            ),
        ));
    }
    let start = DateTime::from_timestamp_millis(start_ms)
        .ok_or_else(|| Problem::bad_param("from", "out of range"))?;
    Ok((start, buckets))
}

/// What both layouts read: the step, the metrics, the range and every picked monitor's
/// stored buckets, checked against `max_points`.
struct Read {
    step_text: String,
    step: Duration,
    metrics: Vec<&'static str>,
    start: DateTime<Utc>,
    to: DateTime<Utc>,
    buckets: i64,
    stored: BTreeMap<String, Vec<Bucket>>,
}

impl Read {
    async fn new(state: &ApiState, params: &Params, max_points: i64) -> ApiResult<Self> {
        let now = Utc::now();
        let (step_text, step) = parse_step(params, DEFAULT_STEP)?;
        let metrics = parse_metrics(params)?;
        let (from, to) = params.range(now, now - Duration::days(1), now)?;
        let monitors = select_monitors(state, params)?;
        let (start, buckets) = buckets(from, to, step, monitors.len(), max_points)?;
        let stored = state
            .engine
            .store()
            .series_of(&monitors, from, to, step, parts_for(&metrics))
            .await?;
        Ok(Self {
            step_text,
            step,
            metrics,
            start,
            to,
            buckets,
            stored,
        })
    }

    /// Every bucket of one monitor's range, empty ones included, oldest first.
    fn every_bucket(&self, stored: Vec<Bucket>) -> impl Iterator<Item = Bucket> + '_ {
        let mut stored = stored.into_iter().peekable();
        (0..self.buckets).map(move |i| {
            let at = self.start + self.step * i32::try_from(i).unwrap_or(i32::MAX);
            match stored.peek() {
                Some(b) if b.start == at => stored.next().unwrap_or_else(|| Bucket::empty(at)),
                _ => Bucket::empty(at),
            }
        })
    }
}

/// `GET /series?selector=&ids=&from=&to=&step=&metrics=`.
pub async fn get(State(state): State<ApiState>, params: Params) -> ApiResult<Json<SeriesResponse>> {
    let mut read = Read::new(&state, &params, MAX_POINTS).await?;
    let stored = std::mem::take(&mut read.stored);
    let series = stored
        .into_iter()
        .map(|(monitor_id, stored)| Series {
            monitor_id,
            buckets: read
                .every_bucket(stored)
                .map(|b| SeriesBucket::new(&b, &read.metrics))
                .collect(),
        })
        .collect();
    Ok(Json(SeriesResponse {
        from: read.start,
        to: read.to,
        step: read.step_text,
        maintenance_excluded: true,
        series,
    }))
}

/// `GET /series/columns?selector=&ids=&from=&to=&step=&metrics=`: `/series` as one array
/// per metric and monitor.
pub async fn columns(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Json<SeriesColumns>> {
    let mut read = Read::new(&state, &params, MAX_COLUMN_POINTS).await?;
    let stored = std::mem::take(&mut read.stored);
    let len = usize::try_from(read.buckets).unwrap_or(0);
    let series = stored
        .into_iter()
        .map(|(monitor_id, stored)| {
            let mut values: BTreeMap<&'static str, Column> = read
                .metrics
                .iter()
                .map(|&m| {
                    let column = if is_count(m) {
                        Column::Counts(Vec::with_capacity(len))
                    } else {
                        Column::Figures(Vec::with_capacity(len))
                    };
                    (m, column)
                })
                .collect();
            for bucket in read.every_bucket(stored) {
                for (metric, column) in &mut values {
                    match column {
                        Column::Figures(v) => v.push(float_metric(&bucket, metric)),
                        Column::Counts(v) => v.push(count_metric(&bucket, metric)),
                    }
                }
            }
            ColumnSeries { monitor_id, values }
        })
        .collect();
    Ok(Json(SeriesColumns {
        from: read.start,
        to: read.to,
        step: read.step_text,
        maintenance_excluded: true,
        buckets: read.buckets,
        series,
    }))
}
