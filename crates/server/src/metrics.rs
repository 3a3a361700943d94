//! Prometheus metrics at `GET /metrics` (text exposition format 0.0.4, no token).
//!
//! Per-monitor series are built at scrape time from the engine's live state, so a deleted
//! monitor's series disappear with it; counters and histograms the engine, the writer and the
//! HTTP layer update live in [`Metrics`]. Label sets stay bounded: monitors are labelled by id,
//! kind and only the monitor labels an operator opts into (`--metrics-labels team,env`); HTTP
//! requests by method, *matched route template* and status.
//!
//! Locking: the engine calls [`Metrics`] holding none of its own locks, and [`render`] works from
//! copies ([`Engine::snapshot`]), never calling the engine while a metrics lock is held, so the
//! two can never wait on each other.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use vedette_model::{CheckResult, MonitorState, Outcome, Phases};

use crate::app::AppState;
use crate::engine::Engine;
use crate::stats::LAG_BUCKETS_MS;

/// Content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the store write and HTTP duration histograms.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Label names a monitor label may not take as is (they are prefixed with `label_`).
const RESERVED_LABELS: [&str; 11] = [
    "monitor", "kind", "state", "phase", "outcome", "le", "method", "route", "status", "job",
    "instance",
];

/// A fixed-bucket histogram.
#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Count per bucket of [`DURATION_BUCKETS`] (not cumulative), the last being +Inf.
    counts: [u64; DURATION_BUCKETS.len() + 1],
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let idx = DURATION_BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(DURATION_BUCKETS.len());
        self.counts[idx] += 1;
        self.sum += seconds;
    }
}

/// What the metrics remember of one monitor between scrapes.
#[derive(Debug, Clone, Default)]
struct MonitorSeries {
    /// Checks per outcome: up, degraded, down.
    checks: [u64; 3],
    /// Phase timings of the last result.
    phases: Option<Phases>,
    /// Certificate expiry seen by the last result that had one.
    cert_not_after: Option<DateTime<Utc>>,
}

/// Method, route template, status.
type HttpKey = (String, String, u16);

/// A monitor label exported as a metric label.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ExportedLabel {
    /// The monitor label's key.
    key: String,
    /// The metric label name it becomes.
    name: String,
}

/// Counters and histograms updated by the engine, the writer and the HTTP layer.
#[derive(Debug, Default)]
pub struct Metrics {
    monitors: Mutex<HashMap<String, MonitorSeries>>,
    store_write: Mutex<Histogram>,
    http: Mutex<HashMap<HttpKey, Histogram>>,
    labels: RwLock<Vec<ExportedLabel>>,
}

impl Metrics {
    /// Counts one recorded check and keeps its timings and certificate expiry.
    pub fn observe_check(&self, result: &CheckResult) {
        let mut monitors = self.monitors.lock().unwrap_or_else(|e| e.into_inner());
        let series = monitors.entry(result.monitor_id.clone()).or_default();
        let idx = match result.outcome {
            Outcome::Up => 0,
            Outcome::Degraded => 1,
            Outcome::Down => 2,
        };
        series.checks[idx] += 1;
        series.phases = Some(result.phases);
        if result.cert_not_after.is_some() {
            series.cert_not_after = result.cert_not_after;
        }
    }

    /// Records how long one batch write to the store took.
    pub fn observe_store_write(&self, took: Duration) {
        self.store_write
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(took.as_secs_f64());
    }

    /// Records one HTTP request.
    fn observe_http(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// Which monitor labels become metric labels. Keys are sanitised into Prometheus label
    /// names (`[a-zA-Z_][a-zA-Z0-9_]*`); names taken by Vedette's own labels, or starting with
    /// `__`, get a `label_` prefix; empty and duplicate ones are dropped.
    pub fn set_monitor_labels(&self, keys: &[String]) {
        let mut exported: Vec<ExportedLabel> = Vec::new();
        for key in keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            let name = label_name(key);
            if !exported.iter().any(|e| e.name == name) {
                exported.push(ExportedLabel {
                    key: key.to_owned(),
                    name,
                });
            }
        }
        *self.labels.write().unwrap_or_else(|e| e.into_inner()) = exported;
    }

    /// The metric label names monitor labels are exported as, in order.
    pub fn monitor_label_names(&self) -> Vec<String> {
        self.labels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|l| l.name.clone())
            .collect()
    }
}

/// A Prometheus label name for monitor label `key`.
fn label_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if RESERVED_LABELS.contains(&name.as_str()) || name.starts_with("__") {
        name.insert_str(0, "label_");
    }
    name
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A float in exposition syntax.
fn num(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if v.is_nan() {
        "NaN".to_owned()
    } else {
        v.to_string()
    }
}

/// The exposition being written.
struct Exposition(String);

impl Exposition {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: f64) {
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {}", num(value));
        } else {
            let _ = writeln!(self.0, "{name}{{{labels}}} {}", num(value));
        }
    }

    /// `_bucket`, `_sum` and `_count` samples of a histogram; `counts` per bucket (not
    /// cumulative) with bounds `bounds` and a last +Inf bucket.
    fn histogram(&mut self, name: &str, labels: &str, bounds: &[f64], counts: &[u64], sum: f64) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, count) in counts.iter().enumerate() {
            cumulative += count;
            let le = bounds.get(i).copied().unwrap_or(f64::INFINITY);
            self.sample(
                &format!("{name}_bucket"),
                &format!("{labels}{sep}le=\"{}\"", num(le)),
                cumulative as f64,
            );
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, cumulative as f64);
    }
}

/// Monitors rendered per chunk of the `/metrics` body (tens of kilobytes of text).
const ROWS_PER_CHUNK: usize = 256;

/// One monitor's part of a scrape: its label set, state and remembered series.
struct Row {
    labels: String,
    state: Option<MonitorState>,
    series: MonitorSeries,
}

/// A metric with samples per monitor: its header, and what it writes for one monitor.
struct PerMonitor {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: fn(&mut Exposition, &'static str, &Row),
}

/// The metrics with samples per monitor, in the order a scrape shows them.
static PER_MONITOR: [PerMonitor; 5] = [
    PerMonitor {
        name: "vedette_monitor_up",
        kind: "gauge",
        help: "Whether the monitor is up (1 when up or degraded, 0 otherwise).",
        samples: up_samples,
    },
    PerMonitor {
        name: "vedette_monitor_state",
        kind: "gauge",
        help: "The monitor's current state: 1 for the state it is in, 0 for the others.",
        samples: state_samples,
    },
    PerMonitor {
        name: "vedette_monitor_latency_seconds",
        kind: "gauge",
        help: "Phase timings of the monitor's last check.",
        samples: latency_samples,
    },
    PerMonitor {
        name: "vedette_checks_total",
        kind: "counter",
        help: "Checks recorded since the server started, by outcome.",
        samples: checks_samples,
    },
    PerMonitor {
        name: "vedette_certificate_expiry_timestamp_seconds",
        kind: "gauge",
        help: "When the certificate the monitor last saw expires (unix seconds).",
        samples: certificate_samples,
    },
];

fn up_samples(out: &mut Exposition, name: &str, row: &Row) {
    let up = matches!(row.state, Some(MonitorState::Up | MonitorState::Degraded));
    out.sample(name, &row.labels, if up { 1.0 } else { 0.0 });
}

fn state_samples(out: &mut Exposition, name: &str, row: &Row) {
    for s in MonitorState::ALL {
        let v = if row.state == Some(s) { 1.0 } else { 0.0 };
        out.sample(name, &format!("{},state=\"{s}\"", row.labels), v);
    }
}

fn latency_samples(out: &mut Exposition, name: &str, row: &Row) {
    let Some(p) = row.series.phases else { return };
    let phases = [
        ("dns", p.dns_ms),
        ("connect", p.connect_ms),
        ("tls", p.tls_ms),
        ("first_byte", p.first_byte_ms),
        ("total", Some(p.total_ms)),
    ];
    for (phase, ms) in phases {
        if let Some(ms) = ms {
            out.sample(
                name,
                &format!("{},phase=\"{phase}\"", row.labels),
                ms / 1000.0,
            );
        }
    }
}

fn checks_samples(out: &mut Exposition, name: &str, row: &Row) {
    for (outcome, count) in ["up", "degraded", "down"].iter().zip(row.series.checks) {
        out.sample(
            name,
            &format!("{},outcome=\"{outcome}\"", row.labels),
            count as f64,
        );
    }
}

fn certificate_samples(out: &mut Exposition, name: &str, row: &Row) {
    if let Some(t) = row.series.cert_not_after {
        out.sample(name, &row.labels, t.timestamp() as f64);
    }
}

/// Every metric in the Prometheus text format, as chunks rendered one at a time while the
/// body is sent: a scrape of many monitors (about 900 bytes each) never holds its whole text.
/// The monitors' rows are gathered on a blocking thread (at 100,000 monitors that takes
/// hundreds of milliseconds, which would hold up the checks on a runtime worker).
pub async fn render(engine: Arc<Engine>) -> impl Iterator<Item = String> + Send + 'static {
    let rows = {
        let engine = engine.clone();
        tokio::task::spawn_blocking(move || monitor_rows(&engine))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "gathering the monitors' metrics failed");
                Vec::new()
            })
    };
    let rows = Arc::new(rows);
    let server = render_server(&engine);
    PER_MONITOR
        .iter()
        .flat_map(move |metric| {
            let rows = rows.clone();
            let chunks = rows.len().div_ceil(ROWS_PER_CHUNK).max(1);
            (0..chunks).map(move |chunk| {
                let mut out = Exposition(String::new());
                if chunk == 0 {
                    out.header(metric.name, metric.kind, metric.help);
                }
                let part = rows.chunks(ROWS_PER_CHUNK).nth(chunk).unwrap_or_default();
                for row in part {
                    (metric.samples)(&mut out, metric.name, row);
                }
                out.0
            })
        })
        .chain(std::iter::once(server))
}

/// The rows of the engine's monitors, by id.
fn monitor_rows(engine: &Engine) -> Vec<Row> {
    let metrics = engine.metrics();
    let exported = metrics
        .labels
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();

    // Copies of the engine's monitors and of the remembered series, each taken under its own
    // lock and released before the next: no lock is held while calling another component.
    // Every recorded check takes the series' lock, so it is held for the lookups alone.
    let monitors = engine.snapshot();
    let series: Vec<MonitorSeries> = {
        let mut remembered = metrics.monitors.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() > monitors.len() {
            // Series of monitors gone since.
            remembered.retain(|id, _| {
                monitors
                    .binary_search_by(|(m, _)| m.record.id.as_str().cmp(id))
                    .is_ok()
            });
        }
        monitors
            .iter()
            .map(|(m, _)| remembered.get(&m.record.id).cloned().unwrap_or_default())
            .collect()
    };
    let mut rows = Vec::with_capacity(monitors.len());
    for ((live, state), series) in monitors.iter().zip(series) {
        let id = &live.record.id;
        let kind = live.record.spec.kind().as_str();
        let mut labels = format!("monitor=\"{}\",kind=\"{kind}\"", escape(id));
        for label in &exported {
            let value = live
                .record
                .labels
                .get(&label.key)
                .map(String::as_str)
                .unwrap_or("");
            let _ = write!(labels, ",{}=\"{}\"", label.name, escape(value));
        }
        rows.push(Row {
            labels,
            state: *state,
            series,
        });
    }
    rows
}

/// The server's own metrics: scheduler, store and HTTP.
fn render_server(engine: &Engine) -> String {
    let metrics = engine.metrics();
    let mut out = Exposition(String::new());
    let lag = engine.scheduler().lag();
    let lag_bounds: Vec<f64> = LAG_BUCKETS_MS.iter().map(|ms| ms / 1000.0).collect();
    out.header(
        "vedette_scheduler_lag_seconds",
        "histogram",
        "Delay between when a check was due and when it started.",
    );
    out.histogram(
        "vedette_scheduler_lag_seconds",
        "",
        &lag_bounds,
        &lag.counts(),
        lag.sum_seconds(),
    );
    out.header("vedette_checks_in_flight", "gauge", "Checks running now.");
    out.sample(
        "vedette_checks_in_flight",
        "",
        engine.scheduler().in_flight() as f64,
    );
    let store_write = metrics
        .store_write
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    out.header(
        "vedette_store_write_seconds",
        "histogram",
        "Time to write one batch of results to the store.",
    );
    out.histogram(
        "vedette_store_write_seconds",
        "",
        &DURATION_BUCKETS,
        &store_write.counts,
        store_write.sum,
    );
    let http: BTreeMap<HttpKey, Histogram> = metrics
        .http
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.header(
        "vedette_http_request_duration_seconds",
        "histogram",
        "HTTP requests served, by method, matched route template and status.",
    );
    for ((method, route, status), h) in &http {
        out.histogram(
            "vedette_http_request_duration_seconds",
            &format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            ),
            &DURATION_BUCKETS,
            &h.counts,
            h.sum,
        );
    }
    out.0
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let chunks = render(state.engine.clone()).await.map(Ok::<_, Infallible>);
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

/// Middleware timing every request into `vedette_http_request_duration_seconds`, labelled by
/// the matched route template (`/api/v1/monitors/{id}`), or `unmatched` when no route matched.
/// Add it with `Router::layer` after every route, so it sees the matched path.
pub async fn track_http(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    metrics.observe_http(method, &route, response.status().as_u16(), start.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_sanitised() {
        assert_eq!(label_name("team"), "team");
        assert_eq!(
            label_name("app.kubernetes.io/name"),
            "app_kubernetes_io_name"
        );
        assert_eq!(label_name("9lives"), "_9lives");
        assert_eq!(label_name("kind"), "label_kind");
        assert_eq!(label_name("__meta"), "label___meta");
    }

    #[test]
    fn duplicate_and_empty_labels_are_dropped() {
        let m = Metrics::default();
        m.set_monitor_labels(&["team".into(), " ".into(), "team".into(), "env".into()]);
        assert_eq!(m.monitor_label_names(), ["team", "env"]);
    }

    #[test]
    fn values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn histogram_exposition_is_cumulative() {
        let mut out = Exposition(String::new());
        out.histogram("h", "", &[1.0, 2.0], &[1, 2, 3], 9.5);
        assert_eq!(
            out.0,
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 3\nh_bucket{le=\"+Inf\"} 6\nh_sum 9.5\nh_count 6\n"
        );
    }
}
