//! `vedette get monitors|incidents|results|maintenance|status-pages`: lists and single resources as tables,
//! JSON or YAML.

use std::process::ExitCode;

use chrono::Utc;
use vedette_client::{
    Client, Incident, IncidentFilter, IncidentState, Kind, ListQuery, MaintenanceWindow, Monitor,
    Resources, ResultRecord, StatusPage,
};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{Check, MonitorSpec, MonitorState};

use crate::context::{self, Connection};
use crate::output::{self, Cell, Format, Paint, Table, print_data};
use crate::watch::{Watched, watch};

/// What `vedette get` lists.
#[derive(Debug, clap::Subcommand)]
pub enum Resource {
    /// Monitors, or one monitor.
    #[command(visible_aliases = ["monitor", "mon"])]
    Monitors {
        /// One monitor's id.
        id: Option<String>,
        /// Only monitors whose labels match, e.g. `team=payments,env!=dev`.
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
        /// Keep watching: print monitors again whenever their state, labels or spec change
        /// (polls every 2 s; JSON output is one object per line). Stop with Ctrl-C.
        #[arg(short, long)]
        watch: bool,
    },
    /// Incidents (newest first), or one incident with its timeline.
    #[command(visible_aliases = ["incident", "inc"])]
    Incidents {
        /// One incident's id.
        id: Option<String>,
        /// Only this monitor's.
        #[arg(long)]
        monitor: Option<String>,
        /// Only open or only resolved ones.
        #[arg(long, value_parser = ["open", "resolved"])]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
        /// Keep watching: print incidents again whenever they change, new ones as they open
        /// (polls every 2 s; JSON output is one object per line). Stop with Ctrl-C.
        #[arg(short, long)]
        watch: bool,
    },
    /// A monitor's newest results.
    #[command(visible_alias = "result")]
    Results {
        /// The monitor's id.
        id: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
        /// Keep watching: print new results as they are recorded (polls every 2 s; JSON
        /// output is one object per line). Stop with Ctrl-C.
        #[arg(short, long)]
        watch: bool,
    },
    /// Maintenance windows, or one window.
    #[command(visible_aliases = ["maintenance-windows", "mw"])]
    Maintenance {
        /// One window's id.
        id: Option<String>,
        /// Only windows whose labels match.
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
        /// Keep watching: print windows again whenever they change (polls every 2 s; JSON
        /// output is one object per line). Stop with Ctrl-C.
        #[arg(short, long)]
        watch: bool,
    },
    /// Status pages, or one page.
    #[command(visible_aliases = ["status-page", "sp"])]
    StatusPages {
        /// One page's id.
        id: Option<String>,
        /// Only pages whose labels match.
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
}

/// `http GET https://...`, `tcp db:5432`, `dns A example.com`, `tls example.com:443`,
/// `heartbeat`.
pub fn target(spec: &MonitorSpec) -> String {
    match &spec.check {
        Check::Http(h) => format!("{} {}", h.method.as_str(), h.url),
        Check::Tcp(t) => format!("{}:{}", t.host, t.port),
        Check::Dns(d) => {
            let record = serde_json::to_value(d.record_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{record} {}", d.name)
        }
        Check::Tls(t) => format!("{}:{}", t.host, t.port),
        Check::Heartbeat(h) => match &h.schedule {
            Some(s) => format!("push, {s} + {}", h.grace),
            None => format!("push, grace {}", h.grace),
        },
    }
}

/// The monitor's kind as text.
pub fn kind(spec: &MonitorSpec) -> &'static str {
    spec.kind().as_str()
}

/// The state as the table shows it; a paused monitor says what pauses it: `paused (spec)`,
/// `paused (runtime)` or `paused (spec, runtime)`.
pub fn state_label(m: &Monitor) -> String {
    let Some(status) = &m.status else {
        return "-".to_owned();
    };
    if status.state != MonitorState::Paused {
        return status.state.as_str().to_owned();
    }
    let by: Vec<&str> = [
        m.spec.paused.then_some("spec"),
        status.paused.is_some().then_some("runtime"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if by.is_empty() {
        "paused".to_owned()
    } else {
        format!("paused ({})", by.join(", "))
    }
}

/// The monitors table.
pub fn monitors_table(monitors: &[Monitor]) -> Table {
    let now = Utc::now();
    let mut table = Table::new(&[
        "id",
        "state",
        "since",
        "kind",
        "target",
        "interval",
        "last check",
    ]);
    for m in monitors {
        let status = m.status.as_ref();
        let state = status.map(|s| s.state);
        table.row(vec![
            m.id.as_str().into(),
            Cell::painted(state_label(m), state.and_then(Paint::state)),
            output::ago(status.and_then(|s| s.since), now).into(),
            kind(&m.spec).into(),
            target(&m.spec).into(),
            m.spec.interval.to_string().into(),
            status
                .and_then(|s| s.last_result.as_ref())
                .and_then(|r| r.message.clone())
                .unwrap_or_default()
                .into(),
        ]);
    }
    table
}

/// The incidents table.
pub fn incidents_table(incidents: &[Incident]) -> Table {
    let now = Utc::now();
    let mut table = Table::new(&[
        "id", "monitor", "state", "opened", "duration", "cause", "message",
    ]);
    for i in incidents {
        let end = i.resolved_at.unwrap_or(now);
        let secs = (end - i.opened_at).num_seconds().max(0).unsigned_abs();
        table.row(vec![
            i.id.as_str().into(),
            i.monitor_id.as_str().into(),
            Cell::painted(
                i.state.as_str(),
                Some(match i.state {
                    IncidentState::Open => Paint::Red,
                    IncidentState::Resolved => Paint::Green,
                }),
            ),
            output::ago(Some(i.opened_at), now).into(),
            output::human_span(secs).into(),
            i.cause.map_or("-", |c| c.as_str()).into(),
            i.message.as_str().into(),
        ]);
    }
    table
}

/// An incident's timeline, oldest first, as `Timeline:` and one line per step.
pub fn timeline(incident: &Incident) -> String {
    let mut out = String::from("\nTimeline:\n");
    if incident.timeline.is_empty() {
        out.push_str("  none\n");
    }
    for step in &incident.timeline {
        out.push_str(&format!(
            "  {}  {:<20} {}\n",
            output::time(Some(step.at)),
            step.kind.as_str(),
            step.message
        ));
    }
    out
}

/// The results table.
pub fn results_table(results: &[ResultRecord]) -> Table {
    let mut table = Table::new(&[
        "started", "outcome", "latency", "status", "attempts", "message",
    ]);
    for r in results {
        let r = &r.result;
        table.row(vec![
            output::time(Some(r.started_at)).into(),
            Cell::painted(r.outcome.as_str(), Some(Paint::outcome(r.outcome))),
            output::millis(r.latency_ms()).into(),
            r.status_code
                .map_or("-".to_owned(), |s| s.to_string())
                .into(),
            r.attempts.to_string().into(),
            r.message.as_str().into(),
        ]);
    }
    table
}

/// `one-off 2026-11-26T10:00:00Z → ...`, `cron 0 2 * * 0 for 2h`, `rrule ... for 1h`.
pub fn schedule(spec: &MaintenanceSpec) -> String {
    if let Some(cron) = &spec.cron {
        return format!(
            "cron {cron} for {}",
            spec.duration.map_or("-".to_owned(), |d| d.to_string())
        );
    }
    if let Some(rule) = &spec.rrule {
        return format!(
            "rrule {rule} for {}",
            spec.duration.map_or("-".to_owned(), |d| d.to_string())
        );
    }
    format!("{} → {}", output::time(spec.start), output::time(spec.end))
}

fn maintenance_table(windows: &[MaintenanceWindow]) -> Table {
    let mut table = Table::new(&["id", "name", "schedule", "monitors", "selector"]);
    for w in windows {
        table.row(vec![
            w.id.as_str().into(),
            w.spec.name.clone().unwrap_or_default().into(),
            schedule(&w.spec).into(),
            w.spec.monitors.join(",").into(),
            w.spec.selector.clone().unwrap_or_default().into(),
        ]);
    }
    table
}

fn pages_table(pages: &[StatusPage]) -> Table {
    let mut table = Table::new(&["id", "title", "path", "groups", "custom domain"]);
    for p in pages {
        table.row(vec![
            p.id.as_str().into(),
            p.spec.title.as_str().into(),
            format!("/status/{}", p.spec.slug).into(),
            p.spec.groups.len().to_string().into(),
            p.spec.custom_domain.clone().unwrap_or_default().into(),
        ]);
    }
    table
}

async fn incidents(
    client: &Client,
    monitor: Option<&str>,
    state: Option<&str>,
    limit: usize,
) -> anyhow::Result<Vec<Incident>> {
    let query = ListQuery {
        filter: IncidentFilter {
            monitor: monitor.map(str::to_owned),
            state: state.map(|s| {
                if s == "open" {
                    IncidentState::Open
                } else {
                    IncidentState::Resolved
                }
            }),
            ..IncidentFilter::default()
        },
        limit: Some(limit.clamp(1, 1000) as u32),
        cursor: None,
    };
    Ok(client.all_incidents(&query, Some(limit)).await?)
}

/// Prints a list, or a single item when one was asked for.
fn show<T: serde::Serialize>(
    format: Format,
    items: Vec<T>,
    single: bool,
    table: impl FnOnce(&[T]) -> Table,
    empty: &str,
) -> anyhow::Result<()> {
    let printed = match (single, items.first()) {
        (true, Some(one)) => print_data(format, one)?,
        _ => print_data(format, &items)?,
    };
    if !printed {
        let table = table(&items);
        if table.is_empty() {
            eprintln!("{empty}");
        } else {
            table.print();
        }
    }
    Ok(())
}

impl Watched for Monitor {
    const KIND: &'static str = "monitor";
    const GONE: Option<&'static str> = Some("deleted");
    fn id(&self) -> &str {
        &self.id
    }
    /// Its state, labels and spec, not the time of its last check (which changes every
    /// interval).
    fn key(&self) -> String {
        let state = self.status.as_ref().map(|s| (s.state.as_str(), s.since));
        serde_json::json!([state, self.labels, self.spec, self.version]).to_string()
    }
    fn table(items: &[Self]) -> Table {
        monitors_table(items)
    }
}

impl Watched for MaintenanceWindow {
    const KIND: &'static str = "maintenance";
    const GONE: Option<&'static str> = Some("deleted");
    fn id(&self) -> &str {
        &self.id
    }
    fn table(items: &[Self]) -> Table {
        maintenance_table(items)
    }
}

impl Watched for Incident {
    const KIND: &'static str = "incident";
    // Resolved (under --state open) or pushed out by newer ones (past --limit).
    const GONE: Option<&'static str> = Some("no longer listed");
    fn id(&self) -> &str {
        &self.id
    }
    fn table(items: &[Self]) -> Table {
        incidents_table(items)
    }
}

impl Watched for ResultRecord {
    const KIND: &'static str = "result";
    const GONE: Option<&'static str> = None;
    fn id(&self) -> &str {
        &self.id
    }
    fn table(items: &[Self]) -> Table {
        results_table(items)
    }
}

/// The resource `id`, or every one `selector` matches (all without one).
async fn one_or_all<K: Kind>(
    resources: &Resources<'_, K>,
    id: &Option<String>,
    selector: &Option<String>,
) -> anyhow::Result<Vec<K>> {
    Ok(match id {
        Some(id) => vec![resources.get(id).await?],
        None => resources.all(selector.as_deref()).await?,
    })
}

/// Runs `vedette get`.
pub async fn run(resource: &Resource, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    match resource {
        Resource::Monitors {
            id,
            selector,
            output,
            watch: true,
        } => {
            let monitors = client.monitors();
            return watch(*output, || one_or_all(&monitors, id, selector)).await;
        }
        Resource::Monitors {
            id,
            selector,
            output,
            watch: false,
        } => {
            let monitors = one_or_all(&client.monitors(), id, selector).await?;
            show(
                *output,
                monitors,
                id.is_some(),
                monitors_table,
                "no monitors",
            )?;
        }
        Resource::Incidents {
            id,
            monitor,
            state,
            limit,
            output,
            watch: true,
        } => {
            return watch(*output, || async {
                Ok(match id {
                    Some(id) => vec![client.get_incident(id).await?],
                    None => {
                        incidents(&client, monitor.as_deref(), state.as_deref(), *limit).await?
                    }
                })
            })
            .await;
        }
        Resource::Incidents {
            id,
            monitor,
            state,
            limit,
            output,
            watch: false,
        } => {
            if let Some(id) = id {
                let incident = client.get_incident(id).await?;
                if !print_data(*output, &incident)? {
                    incidents_table(std::slice::from_ref(&incident)).print();
                    print!("{}", timeline(&incident));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let list = incidents(&client, monitor.as_deref(), state.as_deref(), *limit).await?;
            show(*output, list, false, incidents_table, "no incidents")?;
        }
        Resource::Results {
            id,
            limit,
            output,
            watch: true,
        } => {
            return watch(*output, || async {
                Ok(client.monitors().recent_results(id, Some(*limit)).await?)
            })
            .await;
        }
        Resource::Results {
            id,
            limit,
            output,
            watch: false,
        } => {
            let results = client.monitors().recent_results(id, Some(*limit)).await?;
            show(*output, results, false, results_table, "no results yet")?;
        }
        Resource::Maintenance {
            id,
            selector,
            output,
            watch: true,
        } => {
            let maintenance = client.maintenance();
            return watch(*output, || one_or_all(&maintenance, id, selector)).await;
        }
        Resource::Maintenance {
            id,
            selector,
            output,
            watch: false,
        } => {
            let windows = one_or_all(&client.maintenance(), id, selector).await?;
            show(
                *output,
                windows,
                id.is_some(),
                maintenance_table,
                "no maintenance windows",
            )?;
        }
        Resource::StatusPages {
            id,
            selector,
            output,
        } => {
            let pages = one_or_all(&client.status_pages(), id, selector).await?;
            show(*output, pages, id.is_some(), pages_table, "no status pages")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Style;

    #[test]
    fn targets_read_like_the_check() {
        assert_eq!(target(&MonitorSpec::http("https://a/h")), "GET https://a/h");
        let spec: MonitorSpec = serde_json::from_value(
            serde_json::json!({"dns": {"name": "example.com", "record_type": "MX"}}),
        )
        .unwrap();
        assert_eq!(target(&spec), "MX example.com");
        let spec: MonitorSpec =
            serde_json::from_value(serde_json::json!({"tcp": {"host": "db", "port": 5432}}))
                .unwrap();
        assert_eq!(target(&spec), "db:5432");
        assert_eq!(kind(&spec), "tcp");
    }

    #[test]
    fn monitors_table_shows_state_and_last_check() {
        let m: Monitor = serde_json::from_value(serde_json::json!({
            "id": "api", "version": 1, "spec": {"http": {"url": "http://a/"}, "interval": "30s"},
            "status": {"state": "down", "last_result": {"at": "2026-01-01T00:00:00Z",
                "outcome": "down", "message": "connection refused", "latency_ms": 1.0}}
        }))
        .unwrap();
        let text = monitors_table(&[m]).render(&Style::plain());
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "ID   STATE  SINCE  KIND  TARGET         INTERVAL  LAST CHECK"
        );
        assert_eq!(
            lines.next().unwrap(),
            "api  down   -      http  GET http://a/  30s       connection refused"
        );
    }

    #[test]
    fn monitors_table_says_what_pauses_a_monitor() {
        let paused = |spec_paused: bool, runtime: bool| -> Monitor {
            let mut status = serde_json::json!({"state": "paused"});
            if runtime {
                status["paused"] =
                    serde_json::json!({"at": "2026-01-01T00:00:00Z", "by": "ops", "reason": null});
            }
            serde_json::from_value(serde_json::json!({
                "id": "api", "version": 1,
                "spec": {"http": {"url": "http://a/"}, "paused": spec_paused},
                "status": status,
            }))
            .unwrap()
        };
        assert_eq!(state_label(&paused(true, false)), "paused (spec)");
        assert_eq!(state_label(&paused(false, true)), "paused (runtime)");
        assert_eq!(state_label(&paused(true, true)), "paused (spec, runtime)");
        let text = monitors_table(&[paused(false, true)]).render(&Style::plain());
        assert!(text.contains("api  paused (runtime)  "), "{text}");
    }
}
