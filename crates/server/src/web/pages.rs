//! The dashboard pages beside the overview: a monitor (spec, charts, uptime, results,
//! incidents, actions), incidents, maintenance windows, webhook endpoints with their
//! deliveries, tokens (admin) and the live event log; and the actions a write token may take.

use askama::Template;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use vedette_model::document::{self, Resource};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::record::{Audience, Redact};
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, selector};
use vedette_store::{IncidentFilter, MessageFilter, RuntimePause, Store, StoreError};

use super::overview::state_of;
use super::session::Viewer;
use super::view::{self, Frame, state_name};
use super::{WebState, html, not_allowed};

/// Recent results shown on a monitor's page.
const RESULTS_SHOWN: u32 = 20;
/// Results the phase chart is drawn from.
const PHASE_RESULTS: u32 = 300;
/// Rows on the list pages.
const LIST_ROWS: u32 = 100;

/// 500 page for a store that failed.
fn store_failed(e: &StoreError) -> Response {
    tracing::error!(error = %e, "dashboard: reading the store failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the store could not be read; retry\n",
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("{what} not found\n")).into_response()
}

/// Uptime of a monitor over one range.
struct Uptime {
    range: &'static str,
    uptime: String,
    checks: u64,
    failures: u64,
    maintenance: u64,
    p95: String,
}

/// One result row.
struct ResultRow {
    at: String,
    outcome: &'static str,
    message: String,
    latency: String,
    assertions: Vec<(bool, String, String)>,
    /// What the monitor's gateway said of the upstream at the check: healthy, and its words.
    gateway: Option<(bool, String)>,
}

/// One incident with its timeline.
struct IncidentRow {
    id: String,
    monitor_id: String,
    open: bool,
    opened: String,
    resolved: String,
    message: String,
    timeline: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard/monitor.html")]
struct MonitorPage {
    frame: Frame,
    id: String,
    name: String,
    kind: &'static str,
    state: &'static str,
    since: String,
    managed_by: &'static str,
    labels: Vec<String>,
    paused: Option<String>,
    /// The latest upstream health the monitor's gateway reported (discovered monitors).
    gateway: Option<String>,
    last_message: String,
    yaml: String,
    terraform: String,
    uptime: Vec<Uptime>,
    windows: Vec<String>,
    results: Vec<ResultRow>,
    incidents: Vec<IncidentRow>,
}

async fn uptime_over(
    store: &Store,
    id: &str,
    range: &'static str,
    days: i64,
) -> Result<Uptime, StoreError> {
    let now = Utc::now();
    let bucket = store.summary(id, now - Duration::days(days), now).await?;
    Ok(Uptime {
        range,
        uptime: view::percent(bucket.uptime()),
        checks: bucket.checks,
        failures: bucket.failures,
        maintenance: bucket.maintenance,
        p95: view::millis(bucket.percentile(0.95)),
    })
}

async fn incident_rows(
    store: &Store,
    filter: IncidentFilter,
) -> Result<Vec<IncidentRow>, StoreError> {
    let incidents = store.list_incidents(&filter).await?;
    let mut rows = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let timeline = match store.get_incident(&incident.id).await? {
            Some(full) => full
                .timeline
                .iter()
                .map(|t| (view::when(&t.at), t.message.clone()))
                .collect(),
            None => Vec::new(),
        };
        rows.push(IncidentRow {
            open: incident.resolved_at.is_none(),
            opened: view::when(&incident.opened_at),
            resolved: view::when_opt(incident.resolved_at.as_ref()),
            id: incident.id,
            monitor_id: incident.monitor_id,
            message: incident.message,
            timeline,
        });
    }
    Ok(rows)
}

/// `GET /monitors/{id}`.
pub async fn monitor(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let engine = &state.app.engine;
    let Some(live) = engine.monitor(&id) else {
        return not_found(&format!("monitor {id:?}"));
    };
    let status = engine.status(&id);
    let shown = state_of(&state, &live, status.as_ref().map(|s| s.state));
    let audience = if viewer.can_write() {
        Audience::Writer
    } else {
        Audience::Reader
    };
    let spec = live.record.spec.clone().redacted(audience);
    let mut labels = live.record.labels.clone();
    labels.remove(vedette_model::record::labels::MANAGED_BY);
    let yaml = document::to_documents(&[Resource::Monitor {
        id: id.clone(),
        labels: labels.clone(),
        spec: spec.clone(),
    }]);
    let terraform = vedette_model::terraform::render(
        &[serde_json::json!({
            "id": id,
            "labels": labels,
            "spec": spec,
            "managed_by": live.record.source.as_str(),
        })],
        &[],
    );
    let store = engine.store();
    let now = Utc::now();
    let figures = futures::try_join!(
        uptime_over(store, &id, "24 hours", 1),
        uptime_over(store, &id, "7 days", 7),
        uptime_over(store, &id, "30 days", 30),
        uptime_over(store, &id, "90 days", 90),
        store.list_results(&id, now - Duration::days(90), now, RESULTS_SHOWN, None),
        incident_rows(
            store,
            IncidentFilter {
                monitor_id: Some(id.clone()),
                limit: 10,
                ..IncidentFilter::default()
            }
        ),
        store.list::<MaintenanceSpec>(),
    );
    let (day, week, month, quarter, (results, _), incidents, windows) = match figures {
        Ok(f) => f,
        Err(e) => return store_failed(&e),
    };
    let windows = windows
        .into_iter()
        .filter(|w| {
            w.spec.monitors.contains(&id)
                || w.spec.selector.as_deref().is_some_and(|s| {
                    selector::parse(s).is_ok_and(|s| s.matches(&live.record.labels))
                })
        })
        .map(|w| {
            let name = w.spec.name.clone().unwrap_or_else(|| w.id.clone());
            match (&w.spec.start, &w.spec.end, &w.spec.cron, &w.spec.rrule) {
                (Some(s), Some(e), _, _) => {
                    format!("{name}: {} to {}", view::when(s), view::when(e))
                }
                (_, _, Some(cron), _) => format!("{name}: cron {cron}"),
                (_, _, _, Some(rrule)) => format!("{name}: {rrule}"),
                _ => name,
            }
        })
        .collect();
    let results = results
        .into_iter()
        .map(|r| ResultRow {
            at: view::when(&r.result.started_at),
            outcome: r.result.outcome.as_str(),
            message: r.result.message.clone(),
            latency: view::millis(Some(r.result.latency_ms())),
            assertions: r
                .result
                .assertions
                .iter()
                .map(|a| {
                    (
                        a.passed,
                        a.expression.clone(),
                        a.error.clone().unwrap_or_else(|| a.actual.clone()),
                    )
                })
                .collect(),
            gateway: r
                .result
                .gateway
                .as_ref()
                .map(|g| (g.healthy, g.detail.clone())),
        })
        .collect();
    let page = MonitorPage {
        frame: Frame::new(&viewer, live.name().to_owned(), "overview"),
        name: live.name().to_owned(),
        kind: live.record.spec.kind().as_str(),
        state: state_name(shown),
        since: view::when_opt(status.as_ref().map(|s| &s.since)),
        managed_by: live.record.source.as_str(),
        labels: labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        paused: engine.runtime_pause(&id).map(|p| {
            format!(
                "Paused by {} at {}{}",
                p.by,
                view::when(&p.at),
                p.reason.map(|r| format!(": {r}")).unwrap_or_default()
            )
        }),
        gateway: engine
            .gateway_health()
            .reading(&id, &live.record.labels)
            .map(|g| {
                let health = match g.healthy {
                    Some(true) => "healthy",
                    Some(false) => "unhealthy",
                    None => "unknown",
                };
                format!(
                    "Gateway: {health} ({} source {}: {}{})",
                    g.gateway,
                    g.source,
                    g.detail,
                    g.observed_at
                        .map(|at| format!(", seen {}", view::when(&at)))
                        .unwrap_or_default()
                )
            }),
        last_message: status
            .as_ref()
            .and_then(|s| s.last_message.clone())
            .unwrap_or_default(),
        yaml,
        terraform,
        uptime: vec![day, week, month, quarter],
        windows,
        results,
        incidents,
        id,
    };
    html(&page)
}

/// `?range=` of the chart data.
#[derive(Debug, Deserialize)]
pub struct ChartRange {
    range: Option<String>,
}

/// Chart data: percentiles per bucket and the phases of recent results, as uPlot columns
/// (times in seconds since the epoch, values in milliseconds, `null` for gaps).
#[derive(Debug, Serialize)]
pub struct ChartData {
    /// The range drawn.
    range: &'static str,
    /// Start of the range, seconds since the epoch (the x axis spans it even when sparse).
    from: i64,
    /// End of the range.
    to: i64,
    /// Bucket starts.
    t: Vec<i64>,
    /// Median latency per bucket.
    p50: Vec<Option<f64>>,
    /// 95th percentile per bucket.
    p95: Vec<Option<f64>>,
    /// 99th percentile per bucket.
    p99: Vec<Option<f64>>,
    /// Uptime per bucket, 0 to 1.
    uptime: Vec<Option<f64>>,
    /// Length of a bucket in seconds.
    step: i64,
    /// Starts of the buckets holding checks made during maintenance (drawn as a band).
    maintenance: Vec<i64>,
    /// Start of each recent result in the range.
    phase_t: Vec<i64>,
    /// Name resolution.
    dns: Vec<Option<f64>>,
    /// TCP connect.
    connect: Vec<Option<f64>>,
    /// TLS handshake.
    tls: Vec<Option<f64>>,
    /// Time to first byte.
    first_byte: Vec<Option<f64>>,
    /// Whole check.
    total: Vec<Option<f64>>,
}

/// `GET /monitors/{id}/chart?range=1h|24h|7d|30d`: the chart's data as JSON.
pub async fn chart(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Query(query): Query<ChartRange>,
) -> Response {
    if state.app.engine.monitor(&id).is_none() {
        return not_found(&format!("monitor {id:?}"));
    }
    let (range, span, step) = match query.range.as_deref().unwrap_or("24h") {
        "1h" => ("1h", Duration::hours(1), Duration::minutes(1)),
        "7d" => ("7d", Duration::days(7), Duration::hours(2)),
        "30d" => ("30d", Duration::days(30), Duration::hours(12)),
        "24h" => ("24h", Duration::days(1), Duration::minutes(15)),
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("range: expected 1h, 24h, 7d or 30d, got {other:?}\n"),
            )
                .into_response();
        }
    };
    let now = Utc::now();
    let from = now - span;
    let store = state.app.engine.store();
    let (buckets, (results, _)) = match futures::try_join!(
        store.series(&id, from, now, step),
        store.list_results(&id, from, now, PHASE_RESULTS, None),
    ) {
        Ok(data) => data,
        Err(e) => return store_failed(&e),
    };
    let mut data = ChartData {
        range,
        from: from.timestamp(),
        to: now.timestamp(),
        t: Vec::new(),
        p50: Vec::new(),
        p95: Vec::new(),
        p99: Vec::new(),
        uptime: Vec::new(),
        step: step.num_seconds(),
        maintenance: Vec::new(),
        phase_t: Vec::new(),
        dns: Vec::new(),
        connect: Vec::new(),
        tls: Vec::new(),
        first_byte: Vec::new(),
        total: Vec::new(),
    };
    for b in &buckets {
        data.t.push(b.start.timestamp());
        data.p50.push(b.percentile(0.50));
        data.p95.push(b.percentile(0.95));
        data.p99.push(b.percentile(0.99));
        data.uptime.push(b.uptime());
        if b.maintenance > 0 {
            data.maintenance.push(b.start.timestamp());
        }
    }
    for r in results.iter().rev() {
        let p = &r.result.phases;
        data.phase_t.push(r.result.started_at.timestamp());
        data.dns.push(p.dns_ms);
        data.connect.push(p.connect_ms);
        data.tls.push(p.tls_ms);
        data.first_byte.push(p.first_byte_ms);
        data.total.push(Some(p.total_ms));
    }
    Json(data).into_response()
}

/// `POST /monitors/{id}/pause`: pauses the monitor at runtime (write scope).
pub async fn pause(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    set_pause(&state, &viewer, &id, true).await
}

/// `POST /monitors/{id}/resume`: ends the runtime pause (write scope).
pub async fn resume(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    set_pause(&state, &viewer, &id, false).await
}

async fn set_pause(state: &WebState, viewer: &Viewer, id: &str, pause: bool) -> Response {
    if !viewer.can_write() {
        return not_allowed(viewer, "write");
    }
    let engine = &state.app.engine;
    if engine.monitor(id).is_none() {
        return not_found(&format!("monitor {id:?}"));
    }
    let value = pause.then(|| RuntimePause {
        at: Utc::now(),
        by: viewer.name.clone(),
        reason: Some("paused from the dashboard".to_owned()),
    });
    if let Err(e) = engine.set_runtime_pause(id, value).await {
        tracing::error!(error = %e, monitor = %id, "dashboard: pausing failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the pause could not be stored\n",
        )
            .into_response();
    }
    tracing::info!(monitor = %id, by = %viewer.name, pause, "runtime pause changed from the dashboard");
    Redirect::to(&format!("/monitors/{id}")).into_response()
}

/// `POST /monitors/{id}/run`: runs the check now and shows the monitor (write scope).
pub async fn run(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    if !viewer.can_write() {
        return not_allowed(&viewer, "write");
    }
    let engine = &state.app.engine;
    if engine.monitor(&id).is_none() {
        return not_found(&format!("monitor {id:?}"));
    }
    if engine.run_now(&id).await.is_none() {
        return (
            StatusCode::CONFLICT,
            "a heartbeat monitor is judged from its pings and cannot be run\n",
        )
            .into_response();
    }
    Redirect::to(&format!("/monitors/{id}")).into_response()
}

#[derive(Template)]
#[template(path = "dashboard/incidents.html")]
struct IncidentsPage {
    frame: Frame,
    incidents: Vec<IncidentRow>,
}

/// `GET /incidents`: the newest incidents with their timelines.
pub async fn incidents(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let filter = IncidentFilter {
        limit: 50,
        ..IncidentFilter::default()
    };
    match incident_rows(state.app.engine.store(), filter).await {
        Ok(incidents) => html(&IncidentsPage {
            frame: Frame::new(&viewer, "Incidents", "incidents"),
            incidents,
        }),
        Err(e) => store_failed(&e),
    }
}

/// One maintenance window row.
struct WindowRow {
    id: String,
    name: String,
    when: String,
    covers: String,
    /// In force now (`Some`), with until when when that is known.
    now: Option<String>,
    /// When a recurring window next starts.
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/maintenance.html")]
struct MaintenancePage {
    frame: Frame,
    windows: Vec<WindowRow>,
}

/// `GET /maintenance`: every window, which is in force now (one-off, cron or rrule) and until
/// when, and when a recurring one next starts.
pub async fn maintenance(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let windows = match state.app.engine.store().list::<MaintenanceSpec>().await {
        Ok(w) => w,
        Err(e) => return store_failed(&e),
    };
    let now = Utc::now();
    let windows = windows
        .into_iter()
        .map(|w| {
            let s = &w.spec;
            let when = match (&s.start, &s.end, &s.cron, &s.rrule, &s.duration) {
                (Some(a), Some(b), None, None, _) => {
                    format!("{} to {}", view::when(a), view::when(b))
                }
                (_, _, Some(cron), _, d) => format!(
                    "cron {cron}{}",
                    d.map(|d| format!(" for {d}")).unwrap_or_default()
                ),
                (_, _, _, Some(rrule), d) => format!(
                    "{rrule}{}",
                    d.map(|d| format!(" for {d}")).unwrap_or_default()
                ),
                _ => "—".to_owned(),
            };
            let mut covers = s.monitors.join(", ");
            if let Some(sel) = &s.selector {
                if !covers.is_empty() {
                    covers.push_str("; ");
                }
                covers.push_str(&format!("selector {sel}"));
            }
            WindowRow {
                now: match s.active_until(now) {
                    Some(until) => Some(format!("until {}", view::when(&until))),
                    None if s.is_active(now) => Some(String::new()),
                    None => None,
                },
                next: s
                    .next_start_after(now)
                    .filter(|_| s.cron.is_some() || s.rrule.is_some())
                    .map(|at| view::when(&at)),
                name: s.name.clone().unwrap_or_else(|| w.id.clone()),
                id: w.id,
                when,
                covers,
            }
        })
        .collect();
    html(&MaintenancePage {
        frame: Frame::new(&viewer, "Maintenance", "maintenance"),
        windows,
    })
}

/// One webhook message row.
struct MessageRow {
    id: String,
    event: String,
    status: String,
    attempts: u32,
    last: String,
    at: String,
}

/// One endpoint with its newest messages.
struct EndpointRow {
    id: String,
    name: String,
    url: String,
    messages: Vec<MessageRow>,
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct WebhooksPage {
    frame: Frame,
    endpoints: Vec<EndpointRow>,
}

/// A URL without its query (which may hold a secret) for people.
fn without_query(url: &str) -> String {
    url.split_once('?')
        .map_or_else(|| url.to_owned(), |(base, _)| format!("{base}?…"))
}

/// `GET /webhooks`: endpoints with their newest deliveries, a replay button on each and a
/// recover form per endpoint.
pub async fn webhooks(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let store = state.app.engine.store();
    let endpoints = match store.list::<EndpointSpec>().await {
        Ok(e) => e,
        Err(e) => return store_failed(&e),
    };
    let mut rows = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let messages = match store
            .list_webhook_messages(&MessageFilter {
                endpoint_id: Some(endpoint.id.clone()),
                status: None,
                event_type: None,
                since: None,
                before: None,
                before_id: None,
                limit: 20,
            })
            .await
        {
            Ok(m) => m,
            Err(e) => return store_failed(&e),
        };
        rows.push(EndpointRow {
            name: if endpoint.spec.description.is_empty() {
                endpoint.id.clone()
            } else {
                endpoint.spec.description.clone()
            },
            url: match (&endpoint.spec.url, &endpoint.spec.email) {
                (Some(url), _) => without_query(url),
                (None, Some(email)) => format!("email to {}", email.to.join(", ")),
                (None, None) => String::new(),
            },
            id: endpoint.id,
            messages: messages
                .into_iter()
                .map(|m| MessageRow {
                    event: m.event.event_type.to_string(),
                    status: m.status.as_str().to_owned(),
                    attempts: m.attempts,
                    last: match (m.last_status, m.last_error) {
                        (Some(code), _) => format!("HTTP {code}"),
                        (None, Some(err)) => err,
                        (None, None) => "—".to_owned(),
                    },
                    at: view::when(&m.created_at),
                    id: m.id,
                })
                .collect(),
        });
    }
    html(&WebhooksPage {
        frame: Frame::new(&viewer, "Webhooks", "webhooks"),
        endpoints: rows,
    })
}

/// `POST /messages/{id}/replay`: delivers a message again (write scope).
pub async fn replay(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    if !viewer.can_write() {
        return not_allowed(&viewer, "write");
    }
    match state
        .app
        .engine
        .store()
        .replay_webhook_message(&id, Utc::now())
        .await
    {
        Ok(true) => {
            tracing::info!(message = %id, by = %viewer.name, "webhook message replayed from the dashboard");
            Redirect::to("/webhooks").into_response()
        }
        Ok(false) => not_found(&format!("webhook message {id:?}")),
        Err(e) => store_failed(&e),
    }
}

/// The recover form: failed deliveries queued within `since` (`1h`, `24h` or `7d`) ago.
#[derive(Debug, Deserialize)]
pub struct RecoverForm {
    since: String,
}

/// `POST /webhooks/{id}/recover`: queues again every failed delivery of an enabled endpoint
/// queued within the chosen span, as the API's `recover` does (write scope).
pub async fn recover(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<RecoverForm>,
) -> Response {
    if !viewer.can_write() {
        return not_allowed(&viewer, "write");
    }
    let span = match form.since.as_str() {
        "1h" => Duration::hours(1),
        "24h" => Duration::days(1),
        "7d" => Duration::days(7),
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("since: expected 1h, 24h or 7d, got {other:?}\n"),
            )
                .into_response();
        }
    };
    let store = state.app.engine.store();
    match store.get::<EndpointSpec>(&id).await {
        Ok(Some(endpoint)) if endpoint.spec.enabled => {}
        Ok(Some(_)) => {
            return (
                StatusCode::CONFLICT,
                format!("webhook endpoint {id:?} is disabled; enable it first\n"),
            )
                .into_response();
        }
        Ok(None) => return not_found(&format!("webhook endpoint {id:?}")),
        Err(e) => return store_failed(&e),
    }
    let now = Utc::now();
    match store.recover_webhook_messages(&id, now - span, now).await {
        Ok(recovered) => {
            tracing::info!(webhook = %id, recovered, by = %viewer.name, "failed webhook messages queued again from the dashboard");
            Redirect::to("/webhooks").into_response()
        }
        Err(e) => store_failed(&e),
    }
}

/// One token row (never its secret).
struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "dashboard/tokens.html")]
struct TokensPage {
    frame: Frame,
    tokens: Vec<TokenRow>,
}

/// `GET /tokens`: active tokens, for admin tokens only (403 otherwise).
pub async fn tokens(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    if !viewer.is_admin() {
        return not_allowed(&viewer, "admin");
    }
    let tokens = match state.app.engine.store().list_tokens().await {
        Ok(t) => t,
        Err(e) => return store_failed(&e),
    };
    let tokens = tokens
        .into_iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| TokenRow {
            scopes: t
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: view::when(&t.created_at),
            expires: view::when_opt(t.expires_at.as_ref()),
            last_used: view::when_opt(t.last_used_at.as_ref()),
            id: t.id,
            name: t.name,
        })
        .collect();
    html(&TokensPage {
        frame: Frame::new(&viewer, "Tokens", "tokens"),
        tokens,
    })
}

/// One event row.
struct EventRow {
    seq: i64,
    at: String,
    kind: String,
    monitor: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "dashboard/events.html")]
struct EventsPage {
    frame: Frame,
    events: Vec<EventRow>,
    after_seq: i64,
}

/// A line for people about an event.
pub fn summary(event: &Event) -> String {
    let field = |name: &str| event.data.get(name).and_then(|v| v.as_str());
    match (field("from"), field("to"), field("message")) {
        (Some(from), Some(to), _) => format!("{from} → {to}"),
        (_, _, Some(message)) => message.to_owned(),
        _ => String::new(),
    }
}

/// `GET /events`: the newest events, then new ones live from `/ui/events`.
pub async fn events(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let store = state.app.engine.store();
    let last = match store.last_event_seq().await {
        Ok(l) => l,
        Err(e) => return store_failed(&e),
    };
    let after = (last - i64::from(LIST_ROWS)).max(0);
    let events = match store.list_events_of(Some(after), LIST_ROWS, &[]).await {
        Ok(e) => e,
        Err(e) => return store_failed(&e),
    };
    let after_seq = events.last().map_or(last, |(seq, _)| *seq);
    let events = events
        .into_iter()
        .rev()
        .map(|(seq, e)| EventRow {
            seq,
            at: view::when(&e.occurred_at),
            kind: e.event_type.to_string(),
            monitor: e.monitor_id.clone().unwrap_or_default(),
            summary: summary(&e),
        })
        .collect();
    html(&EventsPage {
        frame: Frame::new(&viewer, "Events", "events"),
        events,
        after_seq,
    })
}
