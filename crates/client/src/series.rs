//! Uptime and latency series (`/api/v1/series`): aligned time buckets per monitor.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::{Client, Error};

/// `?selector=&ids=&from=&to=&step=&metrics=` of the series endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeriesQuery {
    /// Monitors by label selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Monitors by id, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<String>,
    /// Start (RFC 3339 or relative such as `-30d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End (RFC 3339 or `now`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Bucket width, e.g. `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Comma-separated metrics (`uptime,latency_p95,...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// `GET /api/v1/series`: aligned buckets per monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Start of the range.
    pub from: DateTime<Utc>,
    /// End of the range.
    pub to: DateTime<Utc>,
    /// Bucket width, e.g. `1h`.
    pub step: String,
    /// Results inside maintenance windows do not count against uptime.
    #[serde(default)]
    pub maintenance_excluded: bool,
    /// One series per monitor.
    pub series: Vec<MonitorSeries>,
}

/// The buckets of one monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorSeries {
    /// The monitor.
    pub monitor_id: String,
    /// Buckets in time order, empty ones included.
    pub buckets: Vec<Bucket>,
}

/// One time bucket; metrics are `None` when it holds no check or were not asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Fraction of checks up or degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<f64>,
    /// Mean latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_avg: Option<f64>,
    /// Median latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50: Option<f64>,
    /// 95th percentile latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p95: Option<f64>,
    /// 99th percentile latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99: Option<f64>,
    /// Checks in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<u64>,
    /// Failed checks in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
}

impl Client {
    /// `GET /api/v1/series`.
    pub async fn series(&self, query: &SeriesQuery) -> Result<Series, Error> {
        let url = self.api(&["series"]);
        self.execute(self.request(Method::GET, url.clone()).query(query), &url)
            .await
    }
}
