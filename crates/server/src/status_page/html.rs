//! The HTML of a public status page: one askama template (`templates/status/page.html`,
//! compiled in) with its CSS inlined, readable without JavaScript, refreshing itself unless
//! the reader turned that off (`?refresh=off`, the switch readers without JavaScript have).

use std::sync::LazyLock;

use askama::Template;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::snapshot::{PublicIncident, PublicPage};

/// Seconds between the page's own refreshes.
pub const REFRESH_SECS: u32 = 60;

/// The page's only script: reloads it every [`REFRESH_SECS`] (the checkbox's `data-secs`) unless the reader unticks "refresh
/// automatically" (remembered in the browser), so the refresh can be turned off (WCAG 2.2.1).
/// Without JavaScript a `<noscript>` meta refresh does the reloading instead, beside a link to
/// the page rendered without it ([`render`] with `refresh` false).
const REFRESH_SCRIPT: &str = "(function(){var box=document.getElementById('auto');\
if(!box)return;var key='vedette-status-refresh',timer;box.parentNode.hidden=false;\
try{box.checked=localStorage.getItem(key)!=='off'}catch(e){box.checked=true}\
function arm(){clearTimeout(timer);if(box.checked)timer=setTimeout(function(){location.reload()},(+box.dataset.secs||60)*1000)}\
box.addEventListener('change',function(){try{localStorage.setItem(key,box.checked?'on':'off')}catch(e){}arm()});\
arm()})();";

/// The `Content-Security-Policy` source allowing [`REFRESH_SCRIPT`] and no other script.
pub static SCRIPT_SOURCE: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(REFRESH_SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

#[derive(Template)]
#[template(path = "status/page.html")]
struct PageTemplate<'a> {
    page: &'a PublicPage,
    base: String,
    /// Whether the page refreshes itself; false renders it still, with a link to turn the
    /// refresh back on.
    refresh: bool,
    refresh_secs: u32,
    script: &'static str,
    updated: String,
    updated_iso: String,
    groups: Vec<GroupView>,
    incidents_now: Vec<IncidentView>,
    incidents_past: Vec<IncidentView>,
    maintenance: Vec<MaintenanceView>,
}

struct GroupView {
    name: String,
    state: &'static str,
    monitors: Vec<MonitorView>,
}

struct MonitorView {
    name: String,
    state: &'static str,
    state_class: &'static str,
    figures: Option<String>,
    bar_label: String,
    days: Vec<DayView>,
}

struct DayView {
    class: &'static str,
    title: String,
}

struct IncidentView {
    monitor: String,
    opened: String,
    opened_iso: String,
    lasted: String,
    message: Option<String>,
}

struct MaintenanceView {
    name: String,
    description: Option<String>,
    active: bool,
    start: String,
    start_iso: String,
    end: Option<String>,
    monitors: String,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn lasted(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} days", s / 86_400),
    }
}

fn incident(i: &PublicIncident, now: DateTime<Utc>) -> IncidentView {
    IncidentView {
        monitor: i.monitor.clone(),
        opened: when(i.opened_at),
        opened_iso: i.opened_at.to_rfc3339(),
        lasted: lasted(i.opened_at, i.resolved_at.unwrap_or(now)),
        message: i.message.clone(),
    }
}

fn state_label(state: vedette_model::MonitorState) -> &'static str {
    use vedette_model::MonitorState::*;
    match state {
        Up => "Operational",
        Degraded => "Degraded",
        Down => "Down",
        Maintenance => "Maintenance",
        Paused => "Paused",
        Pending => "No data yet",
    }
}

fn figures(m: &super::snapshot::PublicMonitor) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(u) = &m.uptime {
        for (window, value) in [("24 h", u.h24), ("30 days", u.d30), ("90 days", u.d90)] {
            if let Some(v) = value {
                parts.push(format!("{v:.2} % over {window}"));
            }
        }
    }
    if let Some(ms) = m.latency_ms {
        parts.push(format!("{ms:.0} ms mean response (24 h)"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn bar_label(m: &super::snapshot::PublicMonitor) -> String {
    use super::snapshot::DayStatus;
    let count = |s: DayStatus| m.days.iter().filter(|d| d.status == s).count();
    let mut label = format!("{}: uptime over the last 90 days", m.name);
    if let Some(v) = m.uptime.and_then(|u| u.d90) {
        label.push_str(&format!(" {v:.2} %"));
    }
    let bad = count(DayStatus::Minor) + count(DayStatus::Major) + count(DayStatus::Outage);
    label.push_str(&format!(
        "; {bad} days with failures, {} with maintenance, {} without data",
        count(DayStatus::Maintenance),
        count(DayStatus::NoData)
    ));
    label
}

/// The page as HTML: refreshing itself (script or, without JavaScript, meta refresh) when
/// `refresh` is true, else still, with a link to turn the refresh back on.
pub fn render(page: &PublicPage, refresh: bool) -> String {
    let now = page.updated_at;
    let groups = page
        .groups
        .iter()
        .map(|g| GroupView {
            name: g.name.clone(),
            state: g.state.label(),
            monitors: g
                .monitors
                .iter()
                .map(|m| MonitorView {
                    name: m.name.clone(),
                    state: state_label(m.state),
                    state_class: m.state.as_str(),
                    figures: figures(m),
                    bar_label: bar_label(m),
                    days: m
                        .days
                        .iter()
                        .map(|d| DayView {
                            class: d.status.as_str(),
                            title: match (d.status, d.uptime) {
                                (super::snapshot::DayStatus::NoData, _) => {
                                    format!("{}: no data", d.date)
                                }
                                (super::snapshot::DayStatus::Maintenance, Some(u)) => {
                                    format!("{}: maintenance, {u:.2} % up", d.date)
                                }
                                (super::snapshot::DayStatus::Maintenance, None) => {
                                    format!("{}: maintenance", d.date)
                                }
                                (_, u) => format!("{}: {:.2} % up", d.date, u.unwrap_or(0.0)),
                            },
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let template = PageTemplate {
        page,
        base: format!("/status/{}", page.slug),
        refresh,
        refresh_secs: REFRESH_SECS,
        script: REFRESH_SCRIPT,
        updated: when(now),
        updated_iso: now.to_rfc3339(),
        groups,
        incidents_now: page
            .current_incidents
            .iter()
            .map(|i| incident(i, now))
            .collect(),
        incidents_past: page
            .incident_history
            .iter()
            .map(|i| incident(i, now))
            .collect(),
        maintenance: page
            .maintenance
            .iter()
            .map(|m| MaintenanceView {
                name: m.name.clone(),
                description: m.description.clone(),
                active: m.active,
                start: when(m.starts_at),
                start_iso: m.starts_at.to_rfc3339(),
                end: m.ends_at.map(when),
                monitors: m.monitors.join(", "),
            })
            .collect(),
    };
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering a status page failed");
        String::from("<!doctype html><title>Status</title><p>This page could not be rendered.")
    })
}
