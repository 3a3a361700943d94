//! `/`: every monitor at a glance — state, uptime over 24 h / 7 d / 30 d, p95 latency over
//! 24 h and a strip of its last 90 UTC days — with counts by state, a search, a label selector
//! and a state filter. Filtering runs over the engine's in-memory monitors; figures are read
//! from the store only for the page shown ([`PAGE_SIZE`] rows), in two queries (the three
//! summaries of every row, then their day rows), so 10,000 monitors cost what one page does.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use vedette_model::{MonitorState, selector};
use vedette_store::{Bucket, Store, StoreError};

use super::session::Viewer;
use super::view::{self, Frame, STATES, state_name};
use super::{WebState, html};
use crate::engine::LiveMonitor;
use crate::status_page::snapshot::{DAYS, Day, DayStatus, bars};

/// Rows per page.
pub const PAGE_SIZE: usize = 50;
/// Width of one day in the strip's SVG units.
const CELL: usize = 4;

/// The filters of the overview (all optional).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Text searched in ids and names (case-insensitive).
    #[serde(default)]
    pub q: String,
    /// A label selector, e.g. `team=payments,env!=dev`.
    #[serde(default)]
    pub selector: String,
    /// Only monitors in this state.
    #[serde(default)]
    pub state: String,
    /// Page number, from 1.
    pub page: Option<usize>,
}

/// One monitor row.
pub struct Row {
    /// Monitor id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Check kind.
    pub kind: &'static str,
    /// Labels as `k=v`.
    pub labels: Vec<String>,
    /// State name (also its CSS class).
    pub state: &'static str,
    /// Uptime over 24 h, 7 d and 30 d.
    pub uptime: [String; 3],
    /// 95th percentile latency over 24 h.
    pub p95: String,
    /// The history strip as SVG paths: (state class, path data).
    pub strip: Vec<(&'static str, String)>,
    /// What the strip shows, for screen readers.
    pub strip_label: String,
}

/// A state with how many monitors are in it.
pub struct Count {
    /// State name.
    pub state: &'static str,
    /// Monitors in it.
    pub count: usize,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    frame: Frame,
    filters: Filters,
    error: Option<String>,
    total: usize,
    matching: usize,
    counts: Vec<Count>,
    rows: Vec<Row>,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    after_seq: i64,
}

/// The state a monitor is shown in: the engine's, else paused or pending.
pub fn state_of(
    state: &WebState,
    monitor: &LiveMonitor,
    known: Option<MonitorState>,
) -> MonitorState {
    known.unwrap_or_else(|| {
        if monitor.record.spec.paused
            || state.app.engine.runtime_pause(&monitor.record.id).is_some()
        {
            MonitorState::Paused
        } else {
            MonitorState::Pending
        }
    })
}

/// The strip of `days` (oldest first) as runs of one class (a [`DayStatus`] name).
fn strip(days: &[Day]) -> Vec<(&'static str, String)> {
    let mut runs: Vec<(&'static str, usize, usize)> = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let class = day.status.as_str();
        match runs.last_mut() {
            Some((c, _, n)) if *c == class => *n += 1,
            _ => runs.push((class, i, 1)),
        }
    }
    runs.into_iter()
        .map(|(class, start, n)| (class, format!("M{} 8h{}", start * CELL, n * CELL)))
        .collect()
}

fn strip_label(days: &[Day]) -> String {
    let count = |f: fn(DayStatus) -> bool| days.iter().filter(|d| f(d.status)).count();
    format!(
        "last {} days: {} at 99.9 % or more, {} below, {} with maintenance, {} without checks",
        days.len(),
        count(|s| s == DayStatus::Up),
        count(|s| matches!(s, DayStatus::Minor | DayStatus::Major | DayStatus::Outage)),
        count(|s| s == DayStatus::Maintenance),
        count(|s| s == DayStatus::NoData),
    )
}

/// The figures of the rows shown: three summaries of each from one query, then the day rows
/// of all of them from another.
async fn rows(
    store: &Store,
    shown: &[(std::sync::Arc<LiveMonitor>, MonitorState)],
    now: DateTime<Utc>,
) -> Result<Vec<Row>, StoreError> {
    let ids: Vec<String> = shown.iter().map(|(m, _)| m.record.id.clone()).collect();
    let ranges = [1, 7, 30].map(|days| (now - Duration::days(days), now));
    let today = now.date_naive();
    let first_day: NaiveDate = today - chrono::Days::new(DAYS as u64 - 1);
    let from = first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let (summaries, daily) =
        futures::try_join!(store.summaries(&ids, &ranges), store.daily(&ids, from, now))?;
    let empty = Bucket::empty(now);
    Ok(shown
        .iter()
        .map(|(monitor, state)| {
            let id = monitor.record.id.as_str();
            let figures = summaries.get(id);
            let range = |i: usize| figures.and_then(|f| f.get(i)).unwrap_or(&empty);
            let days = bars(
                daily.get(id).map(Vec::as_slice).unwrap_or_default(),
                first_day,
            );
            Row {
                id: id.to_owned(),
                name: monitor.name().to_owned(),
                kind: monitor.record.spec.kind().as_str(),
                labels: monitor
                    .record
                    .labels
                    .iter()
                    .filter(|(k, _)| !k.contains('/') && k.as_str() != "managed-by")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                state: state_name(*state),
                uptime: [
                    view::percent(range(0).uptime()),
                    view::percent(range(1).uptime()),
                    view::percent(range(2).uptime()),
                ],
                p95: view::millis(range(0).percentile(0.95)),
                strip: strip(&days),
                strip_label: strip_label(&days),
            }
        })
        .collect())
}

fn link(filters: &Filters, page: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", filters.q.as_str()),
        ("selector", filters.selector.as_str()),
        ("state", filters.state.as_str()),
    ] {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    query.append_pair("page", &page.to_string());
    format!("/?{}", query.finish())
}

/// `GET /?q=&selector=&state=&page=`.
pub async fn page(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(filters): Query<Filters>,
) -> Response {
    let mut error = None;
    let selector = match selector::parse(filters.selector.trim()) {
        Ok(s) => Some(s),
        Err(e) => {
            error = Some(format!("The label selector is not valid: {e}"));
            None
        }
    };
    let wanted_state = STATES.into_iter().find(|s| state_name(*s) == filters.state);
    if !filters.state.is_empty() && wanted_state.is_none() {
        error = Some(format!("There is no state {:?}.", filters.state));
    }
    let needle = filters.q.trim().to_lowercase();
    let snapshot = state.app.engine.snapshot();
    let total = snapshot.len();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut shown: Vec<(std::sync::Arc<LiveMonitor>, MonitorState)> = Vec::new();
    for (monitor, known) in snapshot {
        if !needle.is_empty()
            && !monitor.record.id.to_lowercase().contains(&needle)
            && !monitor.name().to_lowercase().contains(&needle)
        {
            continue;
        }
        if selector
            .as_ref()
            .is_some_and(|s| !s.matches(&monitor.record.labels))
        {
            continue;
        }
        let s = state_of(&state, &monitor, known);
        *counts.entry(state_name(s)).or_default() += 1;
        if wanted_state.is_none_or(|w| w == s) {
            shown.push((monitor, s));
        }
    }
    let matching = shown.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = filters.page.unwrap_or(1).clamp(1, pages);
    let store = state.app.engine.store();
    let from = ((page - 1) * PAGE_SIZE).min(shown.len());
    let window = &shown[from..(from + PAGE_SIZE).min(shown.len())];
    let rows = match rows(store, window, Utc::now()).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "overview: reading figures failed");
            error = Some("Figures could not be read from the store; retry.".to_owned());
            Vec::new()
        }
    };
    let after_seq = store.last_event_seq().await.unwrap_or(0);
    let counts = STATES
        .iter()
        .map(|s| Count {
            state: state_name(*s),
            count: counts.get(state_name(*s)).copied().unwrap_or(0),
        })
        .collect();
    let template = OverviewPage {
        frame: Frame::new(&viewer, "Overview", "overview"),
        error,
        total,
        matching,
        counts,
        rows,
        page,
        pages,
        prev_link: (page > 1).then(|| link(&filters, page - 1)),
        next_link: (page < pages).then(|| link(&filters, page + 1)),
        filters,
        after_seq,
    };
    html(&template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(status: DayStatus) -> Day {
        Day {
            date: NaiveDate::default(),
            status,
            uptime: None,
        }
    }

    #[test]
    fn the_strip_merges_runs_of_days() {
        let days = [
            day(DayStatus::NoData),
            day(DayStatus::Up),
            day(DayStatus::Up),
            day(DayStatus::Maintenance),
            day(DayStatus::Outage),
        ];
        assert_eq!(
            strip(&days),
            vec![
                ("no_data", "M0 8h4".to_owned()),
                ("up", "M4 8h8".to_owned()),
                ("maintenance", "M12 8h4".to_owned()),
                ("outage", "M16 8h4".to_owned()),
            ]
        );
        assert_eq!(
            strip_label(&days),
            "last 5 days: 2 at 99.9 % or more, 1 below, 1 with maintenance, 1 without checks"
        );
    }
}
