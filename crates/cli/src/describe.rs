//! `vedette describe monitor ID`: state, spec summary, the last results with each assertion's
//! actual value, and open and recent incidents.

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;
use vedette_client::{Incident, IncidentQuery, Monitor, ResultRecord};
use vedette_model::AssertionResult;

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

/// Runs `vedette describe`.
pub async fn run(resource: &Resource, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let Resource::Monitor { id, output } = resource;
    let monitor = client.monitors().get(id).await?;
    let results = client.monitors().recent_results(id, Some(RESULTS)).await?;
    let query = IncidentQuery {
        monitor: Some(id.clone()),
        limit: Some(INCIDENTS as u32),
        ..IncidentQuery::default()
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
}
