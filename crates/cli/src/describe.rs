//! `vedette describe monitor ID`: state, spec summary, the last results with each assertion's
//! actual value, and open and recent incidents. `vedette describe status-page ID`: the page's
//! public address, what it shows, and each group's monitors with their current state.

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;
use vedette_client::{
    Client, Incident, IncidentFilter, ListQuery, Monitor, ResultRecord, StatusPage,
};
use vedette_model::{AssertionResult, MonitorState};

use crate::context::{self, Connection};
use crate::get;
use crate::output::{self, Format, Paint, Style, print_data};

/// Results shown.
const RESULTS: usize = 10;
/// Incidents shown.
const INCIDENTS: usize = 5;

/// What `vedette describe` describes.
#[derive(Debug, clap::Subcommand)]
pub enum Resource {
    /// One monitor in detail.
    #[command(visible_aliases = ["monitors", "mon"])]
    Monitor {
        /// The monitor's id.
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// One status page: its address, what it shows and the monitors it lists.
    #[command(name = "status-page", visible_aliases = ["status-pages", "sp"])]
    StatusPage {
        /// The status page's id.
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
}

/// Everything `describe status-page` shows, for `-o json|yaml`.
#[derive(Debug, Serialize)]
pub struct PageDescription {
    /// The status page.
    pub page: StatusPage,
    /// Where the public page is served.
    pub url: String,
    /// Its groups with the monitors each lists now.
    pub groups: Vec<GroupDescription>,
}

/// A group of a status page and what it lists now.
#[derive(Debug, Serialize)]
pub struct GroupDescription {
    /// The group's name.
    pub name: String,
    /// Its label selector, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Its monitors: those named, then those the selector matches.
    pub monitors: Vec<ListedMonitor>,
}

/// A monitor a status page lists.
#[derive(Debug, Serialize)]
pub struct ListedMonitor {
    /// The monitor's id.
    pub id: String,
    /// The name the page shows (the page's, else the monitor's own).
    pub name: String,
    /// Its current state; `None` when it has none yet or does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<MonitorState>,
    /// Whether the monitor exists (a page may name one that does not, yet).
    pub exists: bool,
}

/// Everything `describe monitor` shows, for `-o json|yaml`.
#[derive(Debug, Serialize)]
pub struct Description {
    /// The monitor.
    pub monitor: Monitor,
    /// Its newest results.
    pub results: Vec<ResultRecord>,
    /// Its newest incidents.
    pub incidents: Vec<Incident>,
}

/// `✓ status (200) == 200` or `✗ ...: error`.
pub fn assertion_line(a: &AssertionResult, style: &Style) -> String {
    let (mark, paint) = if a.passed {
        ("✓", Paint::Green)
    } else {
        ("✗", Paint::Red)
    };
    let mut line = format!("{} {}", style.paint(mark, Some(paint)), a.actual);
    if a.actual.is_empty() {
        line.push_str(&a.expression);
    }
    if let Some(e) = &a.error {
        let _ = write!(line, " ({e})");
    }
    line
}

/// The text form.
pub fn render(d: &Description, now: DateTime<Utc>, style: &Style) -> String {
    let m = &d.monitor;
    let spec = &m.spec;
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "{:<13}{value}", format!("{name}:"));
    };
    field("Monitor", m.id.clone());
    if let Some(name) = &spec.name {
        field("Name", name.clone());
    }
    if let Some(description) = &spec.description {
        field("Description", description.clone());
    }
    field(
        "Labels",
        if m.labels.is_empty() {
            "-".to_owned()
        } else {
            output::labels(&m.labels)
        },
    );
    if let Some(by) = m.managed_by {
        field("Managed by", by.to_string());
    }
    match &m.status {
        Some(status) => {
            field(
                "State",
                format!(
                    "{} since {} ({})",
                    style.paint(status.state.as_str(), Paint::state(status.state)),
                    output::time(status.since),
                    output::ago(status.since, now)
                ),
            );
            if let Some(incident) = &status.open_incident {
                field("Incident", style.paint(incident, Some(Paint::Red)));
            }
            if let Some(push) = &status.push_url {
                field("Push URL", push.clone());
            }
            if let Some(g) = &status.gateway {
                let (word, paint) = match g.healthy {
                    Some(true) => ("healthy", Paint::Green),
                    Some(false) => ("unhealthy", Paint::Red),
                    None => ("unknown", Paint::Yellow),
                };
                let seen = g.observed_at.map_or_else(String::new, |at| {
                    format!(", seen {}", output::ago(Some(at), now))
                });
                field(
                    "Gateway",
                    format!(
                        "{} ({} source {}: {}{seen})",
                        style.paint(word, Some(paint)),
                        g.gateway,
                        g.source,
                        g.detail
                    ),
                );
            }
        }
        None => field("State", "-".to_owned()),
    }
    field(
        "Check",
        format!("{} {}", get::kind(spec), get::target(spec)),
    );
    let mut timing = match spec.check.as_heartbeat() {
        // A heartbeat is not checked: pings are expected on its schedule, with grace.
        Some(hb) => format!(
            "pings expected {}, grace {}",
            hb.schedule.as_ref().map_or_else(
                || format!("every {}", spec.interval),
                |cron| format!("on cron {cron:?} (UTC)")
            ),
            hb.grace
        ),
        None => format!(
            "every {}, timeout {}, retries {}",
            spec.interval, spec.timeout, spec.retries
        ),
    };
    if let Some(slow) = spec.degraded_after {
        let _ = write!(timing, ", degraded after {slow}");
    }
    field("Schedule", timing);
    field(
        "Thresholds",
        format!(
            "down after {} failure(s), up after {} success(es)",
            spec.failure_threshold, spec.success_threshold
        ),
    );
    if spec.paused {
        field("Paused", "by its spec (spec.paused: true)".to_owned());
    }
    if let Some(p) = m.status.as_ref().and_then(|s| s.paused.as_ref()) {
        field(
            "Paused",
            format!(
                "at runtime by {} at {} ({}){}",
                p.by,
                output::time(Some(p.at)),
                output::ago(Some(p.at), now),
                p.reason
                    .as_deref()
                    .map_or_else(String::new, |r| format!(": {r}"))
            ),
        );
    }
    if spec.assertions.is_empty() {
        field("Assertions", "-".to_owned());
    } else {
        field("Assertions", spec.assertions.join("; "));
    }
    let _ = writeln!(out, "\nLast {} results:", d.results.len().min(RESULTS));
    if d.results.is_empty() {
        out.push_str("  none yet\n");
    }
    for r in d.results.iter().take(RESULTS) {
        let r = &r.result;
        let _ = writeln!(
            out,
            "  {}  {}  {:>8}  {}",
            output::time(Some(r.started_at)),
            style.paint(
                &format!("{:<8}", r.outcome.as_str()),
                Some(Paint::outcome(r.outcome))
            ),
            output::millis(r.latency_ms()),
            r.message
        );
        for a in &r.assertions {
            let _ = writeln!(out, "      {}", assertion_line(a, style));
        }
    }
    out.push_str("\nIncidents:\n");
    if d.incidents.is_empty() {
        out.push_str("  none\n");
    } else {
        for line in get::incidents_table(&d.incidents).render(style).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// The text form of a status page.
pub fn render_page(d: &PageDescription, style: &Style) -> String {
    let spec = &d.page.spec;
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "{:<14}{value}", format!("{name}:"));
    };
    field("Status page", d.page.id.clone());
    field("Title", spec.title.clone());
    field("URL", d.url.clone());
    if let Some(description) = &spec.description {
        field("Description", description.clone());
    }
    if let Some(announcement) = &spec.announcement {
        field("Announcement", announcement.clone());
    }
    if let Some(logo) = &spec.logo_url {
        field("Logo", logo.clone());
    }
    let show = &spec.show;
    let shown: Vec<&str> = [
        ("uptime", show.uptime),
        ("latency", show.latency),
        ("incidents", show.incidents),
        ("maintenance", show.maintenance),
        ("messages", show.messages),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    field(
        "Shows",
        if shown.is_empty() {
            "states only".to_owned()
        } else {
            shown.join(", ")
        },
    );
    if let Some(by) = d.page.managed_by {
        field("Managed by", by.to_string());
    }
    out.push_str("\nGroups:\n");
    for group in &d.groups {
        let _ = match &group.selector {
            Some(selector) => writeln!(out, "  {} (selector {selector})", group.name),
            None => writeln!(out, "  {}", group.name),
        };
        if group.monitors.is_empty() {
            out.push_str("    no monitors\n");
        }
        for m in &group.monitors {
            let state = match (m.exists, m.state) {
                (false, _) => style.paint("missing", Some(Paint::Red)),
                (true, Some(state)) => style.paint(state.as_str(), Paint::state(state)),
                (true, None) => "-".to_owned(),
            };
            let _ = writeln!(out, "    {:<24} {:<30} {state}", m.id, m.name);
        }
    }
    out
}

/// The monitors of each group of `page`, with their states.
async fn page_groups(client: &Client, page: &StatusPage) -> anyhow::Result<Vec<GroupDescription>> {
    let mut groups = Vec::with_capacity(page.spec.groups.len());
    for group in &page.spec.groups {
        let mut monitors = Vec::new();
        for named in &group.monitors {
            let found = client.monitors().find(&named.id).await?;
            monitors.push(ListedMonitor {
                id: named.id.clone(),
                name: named
                    .name
                    .clone()
                    .or_else(|| found.as_ref().and_then(|m| m.spec.name.clone()))
                    .unwrap_or_else(|| named.id.clone()),
                state: found
                    .as_ref()
                    .and_then(|m| m.status.as_ref())
                    .map(|s| s.state),
                exists: found.is_some(),
            });
        }
        if let Some(selector) = &group.selector {
            for m in client.monitors().all(Some(selector.as_str())).await? {
                if monitors.iter().any(|l| l.id == m.id) {
                    continue;
                }
                monitors.push(ListedMonitor {
                    name: m.spec.name.clone().unwrap_or_else(|| m.id.clone()),
                    state: m.status.as_ref().map(|s| s.state),
                    id: m.id,
                    exists: true,
                });
            }
        }
        groups.push(GroupDescription {
            name: group.name.clone(),
            selector: group.selector.clone(),
            monitors,
        });
    }
    Ok(groups)
}

/// Runs `vedette describe`.
pub async fn run(resource: &Resource, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let (id, output) = match resource {
        Resource::Monitor { id, output } => (id, output),
        Resource::StatusPage { id, output } => {
            let page = client.status_pages().get(id).await?;
            let url = match &page.spec.custom_domain {
                Some(domain) => format!("https://{domain}/"),
                None => format!("{}/status/{}", client.base_url(), page.spec.slug),
            };
            let groups = page_groups(&client, &page).await?;
            let description = PageDescription { page, url, groups };
            if !print_data(*output, &description)? {
                print!("{}", render_page(&description, &Style::stdout()));
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let monitor = client.monitors().get(id).await?;
    let results = client.monitors().recent_results(id, Some(RESULTS)).await?;
    let query = ListQuery {
        filter: IncidentFilter {
            monitor: Some(id.clone()),
            ..IncidentFilter::default()
        },
        limit: Some(INCIDENTS as u32),
        cursor: None,
    };
    let incidents = client.all_incidents(&query, Some(INCIDENTS)).await?;
    let description = Description {
        monitor,
        results,
        incidents,
    };
    if !print_data(*output, &description)? {
        print!("{}", render(&description, Utc::now(), &Style::stdout()));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_shows_state_spec_results_and_assertions() {
        let monitor: Monitor = serde_json::from_value(serde_json::json!({
            "id": "api", "version": 2, "labels": {"team": "a"}, "managed_by": "api",
            "spec": {"http": {"url": "http://a/"}, "interval": "30s",
                     "assertions": ["status == 200"]},
            "status": {"state": "down", "since": "2026-11-26T09:55:00Z", "open_incident": "inc_1",
                       "gateway": {"source": "edge", "gateway": "envoy", "healthy": false,
                                   "detail": "cluster backend: 0/1 healthy",
                                   "observed_at": "2026-11-26T09:58:00Z"}}
        }))
        .unwrap();
        let result: ResultRecord = serde_json::from_value(serde_json::json!({
            "id": 7, "monitor_id": "api", "started_at": "2026-11-26T09:59:00Z",
            "outcome": "down", "reason": "assertion", "message": "HTTP 503 in 3 ms",
            "phases": {"total_ms": 3.0}, "status_code": 503, "attempts": 1,
            "assertions": [{"expression": "status == 200", "passed": false,
                            "actual": "status (503) == 200"}]
        }))
        .unwrap();
        let d = Description {
            monitor,
            results: vec![result],
            incidents: Vec::new(),
        };
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = render(&d, now, &Style::plain());
        assert!(text.contains("Monitor:     api\n"), "{text}");
        assert!(text.contains("Labels:      team=a\n"), "{text}");
        assert!(
            text.contains("State:       down since 2026-11-26T09:55:00Z (5m ago)\n"),
            "{text}"
        );
        assert!(text.contains("Incident:    inc_1\n"), "{text}");
        assert!(
            text.contains(
                "Gateway:     unhealthy (envoy source edge: cluster backend: 0/1 healthy, seen 2m ago)\n"
            ),
            "{text}"
        );
        assert!(text.contains("Check:       http GET http://a/\n"), "{text}");
        assert!(text.contains("every 30s, timeout 10s, retries 0"), "{text}");
        assert!(text.contains("HTTP 503 in 3 ms"), "{text}");
        assert!(text.contains("      ✗ status (503) == 200\n"), "{text}");
        assert!(text.contains("Incidents:\n  none\n"), "{text}");
    }

    #[test]
    fn a_page_description_shows_its_address_and_groups() {
        let page: StatusPage = serde_json::from_value(serde_json::json!({
            "id": "acme", "version": 1,
            "spec": {"title": "Acme status", "slug": "acme",
                     "groups": [{"name": "API", "monitors": [{"id": "api", "name": "Payments"}],
                                 "selector": "tier=public"}]}
        }))
        .unwrap();
        let d = PageDescription {
            page,
            url: "http://h/status/acme".to_owned(),
            groups: vec![GroupDescription {
                name: "API".to_owned(),
                selector: Some("tier=public".to_owned()),
                monitors: vec![
                    ListedMonitor {
                        id: "api".to_owned(),
                        name: "Payments".to_owned(),
                        state: Some(MonitorState::Up),
                        exists: true,
                    },
                    ListedMonitor {
                        id: "gone".to_owned(),
                        name: "gone".to_owned(),
                        state: None,
                        exists: false,
                    },
                ],
            }],
        };
        let text = render_page(&d, &Style::plain());
        assert!(text.contains("Status page:  acme\n"), "{text}");
        assert!(
            text.contains("URL:          http://h/status/acme\n"),
            "{text}"
        );
        assert!(
            text.contains("Shows:        uptime, incidents, maintenance\n"),
            "{text}"
        );
        assert!(text.contains("  API (selector tier=public)\n"), "{text}");
        assert!(
            text.contains("    api ") && text.contains("Payments"),
            "{text}"
        );
        assert!(
            text.contains(" up\n") && text.contains(" missing\n"),
            "{text}"
        );
    }
}
