//! `GET /series`: aligned buckets per monitor, computed from rollups, empty buckets included.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
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
const METRICS: [&str; 7] = [
    "uptime",
    "latency_avg",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "checks",
    "failures",
];

/// The response.
#[derive(Debug, Serialize)]
pub struct SeriesResponse {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: String,
    maintenance_excluded: bool,
    series: Vec<Series>,
}

#[derive(Debug, Serialize)]
struct Series {
    monitor_id: String,
    buckets: Vec<Map<String, Value>>,
}

fn metric(bucket: &Bucket, name: &str) -> Value {
    let float = |v: Option<f64>| v.map_or(Value::Null, Value::from);
    match name {
        "uptime" => float(bucket.uptime()),
        "latency_avg" => float(bucket.mean_latency_ms()),
        "latency_p50" => float(bucket.percentile(0.50)),
        "latency_p95" => float(bucket.percentile(0.95)),
        "latency_p99" => float(bucket.percentile(0.99)),
        "checks" => Value::from(bucket.checks),
        "failures" => Value::from(bucket.failures),
        _ => Value::Null,
    }
}

fn parse_step(params: &Params) -> ApiResult<(String, Duration)> {
    let text = params.get("step").unwrap_or(DEFAULT_STEP);
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

/// `GET /series?selector=&ids=&from=&to=&step=&metrics=`.
pub async fn get(State(state): State<ApiState>, params: Params) -> ApiResult<Json<SeriesResponse>> {
    let now = Utc::now();
    let (step_text, step) = parse_step(&params)?;
    let metrics = parse_metrics(&params)?;
    let (from, to) = params.range(now, now - Duration::days(1), now)?;
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    let ids: BTreeSet<&str> = params.list("ids").into_iter().collect();
    for id in &ids {
        if state.engine.monitor(id).is_none() {
            return Err(Problem::invalid("ids", format!("no monitor {id:?}")));
        }
    }
    let monitors: Vec<String> = state
        .engine
        .monitors_page(None, usize::MAX, |m| {
            (ids.is_empty() || ids.contains(m.record.id.as_str()))
                && selector.matches(&m.record.labels)
        })
        .iter()
        .map(|m| m.record.id.clone())
        .collect();

    let step_ms = step.num_milliseconds();
    let start_ms = from.timestamp_millis().div_euclid(step_ms) * step_ms;
    let span = to.timestamp_millis() - start_ms;
    let buckets = if span <= 0 {
        0
    } else {
        (span + step_ms - 1) / step_ms
    };
    let points = buckets.saturating_mul(i64::try_from(monitors.len()).unwrap_or(i64::MAX));
    if points > MAX_POINTS {
        return Err(Problem::invalid(
            "step",
            format!(
                "{buckets} buckets × {} monitors is {points} points; at most {MAX_POINTS} per \
                 request: use a larger step, a shorter range or fewer monitors",
                monitors.len()
            ),
        ));
    }
    let start = DateTime::from_timestamp_millis(start_ms)
        .ok_or_else(|| Problem::bad_param("from", "out of range"))?;

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
            let mut item = Map::new();
            item.insert(
                "start".to_owned(),
                Value::from(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            );
            for name in &metrics {
                item.insert((*name).to_owned(), metric(&bucket, name));
            }
            out.push(item);
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
