//! What a public status page shows, taken from the engine and the store in one go: the
//! monitors its groups list (display names and states; figures only as the page chooses),
//! their 90 days, incidents and maintenance. This type is the whole public surface: nothing
//! about a monitor the page does not list, and no check target, label or error text of one
//! it does (incident messages only when the page opts in), is ever put in it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::status_page::{MAX_PAGE_MONITORS, ShowFigures, StatusPageSpec};
use vedette_model::{IncidentState, MonitorState};
use vedette_store::{Bucket, StoreError};

use crate::engine::{Engine, LiveMonitor};

/// Days of history each monitor's bar shows.
pub const DAYS: usize = 90;
/// Incidents a page lists (current and past together).
pub const MAX_INCIDENTS: u32 = 50;
/// How far ahead scheduled maintenance is shown.
pub const MAINTENANCE_AHEAD_DAYS: i64 = 30;

/// A public status page as its JSON shows it (`/status/<slug>.json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "PublicStatusPage")]
pub struct PublicPage {
    /// The page's heading.
    pub title: String,
    /// Its address: `/status/<slug>`.
    pub slug: String,
    /// A paragraph under the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A logo shown beside the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// A notice at the top of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub announcement: Option<String>,
    /// The state of the page as a whole.
    pub state: PageState,
    /// When this snapshot was taken.
    pub updated_at: DateTime<Utc>,
    /// Which figures the page shows.
    pub show: ShowFigures,
    /// The groups, in the page's order.
    pub groups: Vec<PublicGroup>,
    /// Incidents going on now, newest first (empty unless the page shows incidents).
    pub current_incidents: Vec<PublicIncident>,
    /// Resolved incidents of the last 90 days, newest first (empty unless the page shows
    /// incidents).
    pub incident_history: Vec<PublicIncident>,
    /// Maintenance in force now or starting within 30 days (empty unless the page shows
    /// maintenance).
    pub maintenance: Vec<PublicMaintenance>,
}

/// The state of a page or group, from the states of its monitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageState {
    /// Every monitor is up.
    Operational,
    /// Some monitor is slow, none down.
    Degraded,
    /// Some monitors are down.
    PartialOutage,
    /// Every monitor that has a state is down.
    MajorOutage,
    /// Some monitor is in maintenance, none down or slow.
    Maintenance,
    /// No monitor has been checked yet.
    Unknown,
}

impl PageState {
    /// Of the monitors in `states`.
    pub fn of(states: impl IntoIterator<Item = MonitorState>) -> Self {
        let (mut known, mut down, mut degraded, mut maintenance) = (0, 0, 0, 0);
        for state in states {
            match state {
                MonitorState::Up => known += 1,
                MonitorState::Down => {
                    known += 1;
                    down += 1;
                }
                MonitorState::Degraded => {
                    known += 1;
                    degraded += 1;
                }
                MonitorState::Maintenance => {
                    known += 1;
                    maintenance += 1;
                }
                MonitorState::Pending | MonitorState::Paused => {}
            }
        }
        match () {
            _ if known == 0 => Self::Unknown,
            _ if down == known => Self::MajorOutage,
            _ if down > 0 => Self::PartialOutage,
            _ if degraded > 0 => Self::Degraded,
            _ if maintenance > 0 => Self::Maintenance,
            _ => Self::Operational,
        }
    }

    /// For people: `All systems operational`, ...
    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "All systems operational",
            Self::Degraded => "Degraded performance",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
            Self::Maintenance => "Under maintenance",
            Self::Unknown => "No data yet",
        }
    }

    /// The wire name, also a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::Degraded => "degraded",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::Maintenance => "maintenance",
            Self::Unknown => "unknown",
        }
    }
}

/// A group of monitors on a page.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PublicGroup {
    /// The group's heading.
    pub name: String,
    /// The state of its monitors together.
    pub state: PageState,
    /// Its monitors, in the page's order.
    pub monitors: Vec<PublicMonitor>,
}

/// A monitor as a public page shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PublicMonitor {
    /// The monitor's id (badges are addressed by it).
    pub id: String,
    /// Its name on the page.
    pub name: String,
    /// Its state now.
    pub state: MonitorState,
    /// Uptime over windows (when the page shows uptime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<Uptime>,
    /// Mean response time over the last 24 hours, in milliseconds (when the page shows
    /// latency; absent without successful checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The last 90 UTC days, oldest first (when the page shows uptime).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Day>,
}

/// Uptime percentages (`0..=100`) over windows; absent where nothing was checked outside
/// maintenance. The 24-hour figure is to the minute, the others over whole UTC days.
#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct Uptime {
    /// The last 24 hours.
    #[serde(rename = "24h", skip_serializing_if = "Option::is_none")]
    pub h24: Option<f64>,
    /// The last 7 days.
    #[serde(rename = "7d", skip_serializing_if = "Option::is_none")]
    pub d7: Option<f64>,
    /// The last 30 days.
    #[serde(rename = "30d", skip_serializing_if = "Option::is_none")]
    pub d30: Option<f64>,
    /// The last 90 days.
    #[serde(rename = "90d", skip_serializing_if = "Option::is_none")]
    pub d90: Option<f64>,
}

impl Uptime {
    /// The figure for a badge window (`24h`, `7d`, `30d`, `90d`); `None` for another window.
    pub fn window(&self, window: &str) -> Option<Option<f64>> {
        match window {
            "24h" => Some(self.h24),
            "7d" => Some(self.d7),
            "30d" => Some(self.d30),
            "90d" => Some(self.d90),
            _ => None,
        }
    }
}

/// One UTC day of a monitor's bar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Day {
    /// The day.
    pub date: NaiveDate,
    /// How the day went, also its colour.
    pub status: DayStatus,
    /// Uptime percentage of the checks outside maintenance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<f64>,
}

/// How a day went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    /// No checks that day.
    NoData,
    /// A maintenance window covered some of its checks.
    Maintenance,
    /// Uptime of 99.9 % or more.
    Up,
    /// Uptime of 99 % to 99.9 %.
    Minor,
    /// Uptime of 95 % to 99 %.
    Major,
    /// Uptime under 95 %.
    Outage,
}

impl DayStatus {
    fn of(bucket: Option<&Bucket>) -> (Self, Option<f64>) {
        let Some(bucket) = bucket.filter(|b| b.checks > 0) else {
            return (Self::NoData, None);
        };
        let uptime = bucket.uptime().map(|u| u * 100.0);
        let status = match uptime {
            _ if bucket.maintenance > 0 => Self::Maintenance,
            None => Self::NoData,
            Some(u) if u >= 99.9 => Self::Up,
            Some(u) if u >= 99.0 => Self::Minor,
            Some(u) if u >= 95.0 => Self::Major,
            Some(_) => Self::Outage,
        };
        (status, uptime)
    }

    /// The wire name, also a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoData => "no_data",
            Self::Maintenance => "maintenance",
            Self::Up => "up",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Outage => "outage",
        }
    }
}

/// An incident of a listed monitor.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PublicIncident {
    /// The incident's id.
    pub id: String,
    /// The monitor's name on the page.
    pub monitor: String,
    /// Open or resolved.
    pub state: IncidentState,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The failure message (only when the page shows messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Maintenance covering listed monitors.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PublicMaintenance {
    /// The window's name.
    pub name: String,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is in force now.
    pub active: bool,
    /// When it (next) starts; for one in force, when it started or now.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// The listed monitors it covers, by their names on the page.
    pub monitors: Vec<String>,
}

/// A monitor a page lists and the name it shows it under.
struct Listed {
    monitor: Arc<LiveMonitor>,
    name: String,
}

/// The monitors of each group, each group in the page's order: those named (when running),
/// then those its selector matches by id; at most [`MAX_PAGE_MONITORS`] on the page.
fn listed(spec: &StatusPageSpec, engine: &Engine) -> Vec<Vec<Listed>> {
    let running = engine.snapshot();
    let by_id: HashMap<&str, &Arc<LiveMonitor>> = running
        .iter()
        .map(|(m, _)| (m.record.id.as_str(), m))
        .collect();
    let mut left = MAX_PAGE_MONITORS;
    let mut groups = Vec::with_capacity(spec.groups.len());
    for group in &spec.groups {
        let mut seen = HashSet::new();
        let mut monitors = Vec::new();
        for named in &group.monitors {
            if let Some(m) = by_id.get(named.id.as_str())
                && seen.insert(named.id.as_str())
            {
                monitors.push(Listed {
                    monitor: (*m).clone(),
                    name: named.name.clone().unwrap_or_else(|| m.name().to_owned()),
                });
            }
        }
        if let Some(selector) = group
            .selector
            .as_deref()
            .and_then(|s| vedette_model::selector::parse(s).ok())
        {
            for (m, _) in &running {
                if selector.matches(&m.record.labels) && seen.insert(m.record.id.as_str()) {
                    monitors.push(Listed {
                        monitor: m.clone(),
                        name: m.name().to_owned(),
                    });
                }
            }
        }
        monitors.truncate(left);
        left -= monitors.len();
        groups.push(monitors);
    }
    groups
}

/// The page `spec` as of `now`.
pub async fn build(
    engine: &Engine,
    spec: &StatusPageSpec,
    now: DateTime<Utc>,
) -> Result<PublicPage, StoreError> {
    let store = engine.store();
    let groups = listed(spec, engine);
    let ids: Vec<String> = {
        let mut ids: Vec<String> = groups
            .iter()
            .flatten()
            .map(|l| l.monitor.record.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let names: HashMap<&str, &str> = groups
        .iter()
        .flatten()
        .map(|l| (l.monitor.record.id.as_str(), l.name.as_str()))
        .collect();
    let today = now.date_naive();
    let first_day = today - chrono::Days::new(DAYS as u64 - 1);
    let from = first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let daily = if spec.show.uptime {
        store.daily(&ids, from, now).await?
    } else {
        BTreeMap::new()
    };
    let mut last_day: HashMap<&str, Bucket> = HashMap::new();
    if spec.show.uptime || spec.show.latency {
        for id in &ids {
            last_day.insert(
                id.as_str(),
                store.summary(id, now - Duration::hours(24), now).await?,
            );
        }
    }
    let mut public_groups = Vec::with_capacity(groups.len());
    for group in groups.iter().zip(&spec.groups) {
        let (listed, group_spec) = group;
        let monitors: Vec<PublicMonitor> = listed
            .iter()
            .map(|l| {
                let id = l.monitor.record.id.as_str();
                let state = engine.status(id).map_or(MonitorState::Pending, |s| s.state);
                let summary = last_day.get(id);
                let (uptime, days) = if spec.show.uptime {
                    let days = daily.get(id).map(Vec::as_slice).unwrap_or_default();
                    (Some(uptimes(summary, days, today)), bars(days, first_day))
                } else {
                    (None, Vec::new())
                };
                PublicMonitor {
                    id: id.to_owned(),
                    name: l.name.clone(),
                    state,
                    uptime,
                    latency_ms: summary
                        .filter(|_| spec.show.latency)
                        .and_then(Bucket::mean_latency_ms)
                        .map(|ms| (ms * 10.0).round() / 10.0),
                    days,
                }
            })
            .collect();
        public_groups.push(PublicGroup {
            name: group_spec.name.clone(),
            state: PageState::of(monitors.iter().map(|m| m.state)),
            monitors,
        });
    }
    let (current_incidents, incident_history) = if spec.show.incidents {
        incidents(engine, &ids, &names, spec.show.messages, from).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let maintenance = if spec.show.maintenance {
        maintenance(engine, &groups, now).await?
    } else {
        Vec::new()
    };
    Ok(PublicPage {
        title: spec.title.clone(),
        slug: spec.slug.clone(),
        description: spec.description.clone(),
        logo_url: spec.logo_url.clone(),
        announcement: spec.announcement.clone(),
        state: PageState::of(
            public_groups
                .iter()
                .flat_map(|g| g.monitors.iter().map(|m| m.state)),
        ),
        updated_at: now,
        show: spec.show,
        groups: public_groups,
        current_incidents,
        incident_history,
        maintenance,
    })
}

fn percent(bucket: &Bucket) -> Option<f64> {
    bucket.uptime().map(|u| (u * 100_000.0).round() / 1000.0)
}

/// Uptime over 24 hours (from `summary`) and over the last 7, 30 and 90 UTC days.
fn uptimes(summary: Option<&Bucket>, days: &[Bucket], today: NaiveDate) -> Uptime {
    let over = |n: u64| {
        let first = today - chrono::Days::new(n - 1);
        let mut total = Bucket::empty(DateTime::<Utc>::default());
        for day in days.iter().filter(|d| d.start.date_naive() >= first) {
            total.merge(day);
        }
        percent(&total)
    };
    Uptime {
        h24: summary.and_then(percent),
        d7: over(7),
        d30: over(30),
        d90: over(90),
    }
}

/// One [`Day`] for each of the [`DAYS`] days from `first_day`, from the day rows `days`
/// (days without a row have no data).
pub fn bars(days: &[Bucket], first_day: NaiveDate) -> Vec<Day> {
    let by_date: HashMap<NaiveDate, &Bucket> =
        days.iter().map(|d| (d.start.date_naive(), d)).collect();
    first_day
        .iter_days()
        .take(DAYS)
        .map(|date| {
            let (status, uptime) = DayStatus::of(by_date.get(&date).copied());
            Day {
                date,
                status,
                uptime: uptime.map(|u| (u * 1000.0).round() / 1000.0),
            }
        })
        .collect()
}

async fn incidents(
    engine: &Engine,
    ids: &[String],
    names: &HashMap<&str, &str>,
    messages: bool,
    since: DateTime<Utc>,
) -> Result<(Vec<PublicIncident>, Vec<PublicIncident>), StoreError> {
    let found = engine
        .store()
        .incidents_of(ids, since, MAX_INCIDENTS)
        .await?;
    let (current, history): (Vec<_>, Vec<_>) = found
        .into_iter()
        .filter_map(|i| {
            let monitor = (*names.get(i.monitor_id.as_str())?).to_owned();
            Some(PublicIncident {
                id: i.id,
                monitor,
                state: i.state,
                opened_at: i.opened_at,
                resolved_at: i.resolved_at,
                message: messages.then_some(i.message),
            })
        })
        .partition(|i| i.state == IncidentState::Open);
    Ok((current, history))
}

async fn maintenance(
    engine: &Engine,
    groups: &[Vec<Listed>],
    now: DateTime<Utc>,
) -> Result<Vec<PublicMaintenance>, StoreError> {
    let horizon = now + Duration::days(MAINTENANCE_AHEAD_DAYS);
    let mut shown = Vec::new();
    for window in engine.store().list::<MaintenanceSpec>().await? {
        let spec = &window.spec;
        let mut covered: Vec<String> = Vec::new();
        for l in groups.iter().flatten() {
            if spec.applies_to(&l.monitor.record.id, &l.monitor.record.labels)
                && !covered.contains(&l.name)
            {
                covered.push(l.name.clone());
            }
        }
        if covered.is_empty() {
            continue;
        }
        let (active, starts_at, ends_at) = if spec.is_active(now) {
            (
                true,
                spec.start.filter(|s| *s <= now).unwrap_or(now),
                spec.active_until(now),
            )
        } else {
            match spec.next_start_after(now).filter(|s| *s <= horizon) {
                Some(start) => (false, start, spec.active_until(start)),
                None => continue,
            }
        };
        shown.push(PublicMaintenance {
            name: spec
                .name
                .clone()
                .unwrap_or_else(|| "Scheduled maintenance".to_owned()),
            description: spec.description.clone(),
            active,
            starts_at,
            ends_at,
            monitors: covered,
        });
    }
    shown.sort_by_key(|m| (!m.active, m.starts_at));
    Ok(shown)
}
