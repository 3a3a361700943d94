//! The state-machine status of each monitor, written with a batch when a result changes more
//! than the last check (see [`MonitorStatus::only_last_check_differs`]), caught up from the
//! stored results otherwise, and read back at start.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::{MonitorSpec, MonitorState, Outcome};

use crate::db::{
    MAX_BINDS, fetch_by_key, from_json, from_ms, from_opt_ms, parse_name, to_ms, values_rows,
};
use crate::{Store, StoreError, resource};

/// Where a monitor's state machine stands.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorStatus {
    /// Monitor.
    pub monitor_id: String,
    /// Current state.
    pub state: MonitorState,
    /// When the monitor entered `state`.
    pub since: DateTime<Utc>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Successes in a row.
    pub consecutive_successes: u32,
    /// Start of the last check.
    pub last_result_at: Option<DateTime<Utc>>,
    /// Verdict of the last check.
    pub last_outcome: Option<Outcome>,
    /// Message of the last check.
    pub last_message: Option<String>,
    /// Latency of the last check.
    pub last_latency_ms: Option<f64>,
    /// The incident open for this monitor.
    pub open_incident: Option<String>,
}

impl MonitorStatus {
    /// A monitor that has not been checked yet.
    pub fn pending(monitor_id: impl Into<String>, since: DateTime<Utc>) -> Self {
        Self {
            monitor_id: monitor_id.into(),
            state: MonitorState::Pending,
            since,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_result_at: None,
            last_outcome: None,
            last_message: None,
            last_latency_ms: None,
            open_incident: None,
        }
    }

    /// Whether `self`, the status after one result, differs from `prev` only in what
    /// [`Store::catch_up_statuses`] restores from the stored results: the last check's time,
    /// latency and message, and a success streak one longer (same state, same non-down
    /// outcome, no failure, same incident). Such a status need not be written with its result.
    pub fn only_last_check_differs(&self, prev: &MonitorStatus) -> bool {
        prev.last_result_at.is_some()
            && self.last_result_at.is_some()
            && self.monitor_id == prev.monitor_id
            && self.state == prev.state
            && self.since == prev.since
            && self.consecutive_failures == 0
            && prev.consecutive_failures == 0
            && self.consecutive_successes == prev.consecutive_successes.saturating_add(1)
            && self.last_outcome == prev.last_outcome
            && self.last_outcome.is_some_and(|o| o != Outcome::Down)
            && self.open_incident == prev.open_incident
    }
}

const COLUMNS: &str = "monitor_id, state, since, consecutive_failures, consecutive_successes, \
                       last_result_at, last_outcome, last_message, last_latency_ms, open_incident";

fn decode(row: &AnyRow) -> Result<MonitorStatus, StoreError> {
    let monitor_id: String = row.try_get("monitor_id")?;
    let streak = |column: &str| -> Result<u32, StoreError> {
        let v: i64 = row.try_get(column)?;
        u32::try_from(v)
            .map_err(|_| StoreError::Corrupt(format!("{column} of {monitor_id} is {v}")))
    };
    Ok(MonitorStatus {
        state: parse_name(&row.try_get::<String, _>("state")?, "monitor state")?,
        since: from_ms(row.try_get("since")?)?,
        consecutive_failures: streak("consecutive_failures")?,
        consecutive_successes: streak("consecutive_successes")?,
        last_result_at: from_opt_ms(row.try_get("last_result_at")?)?,
        last_outcome: row
            .try_get::<Option<String>, _>("last_outcome")?
            .map(|o| parse_name(&o, "outcome"))
            .transpose()?,
        last_message: row.try_get("last_message")?,
        last_latency_ms: row.try_get("last_latency_ms")?,
        open_incident: row.try_get("open_incident")?,
        monitor_id,
    })
}

/// Upserts statuses inside `conn`'s transaction; for a monitor listed twice the last one wins.
pub(crate) async fn upsert(
    conn: &mut AnyConnection,
    statuses: &[&MonitorStatus],
) -> Result<(), StoreError> {
    let latest: BTreeMap<&str, &MonitorStatus> = statuses
        .iter()
        .map(|s| (s.monitor_id.as_str(), *s))
        .collect();
    let latest: Vec<&MonitorStatus> = latest.into_values().collect();
    const COLS: usize = 10;
    for chunk in latest.chunks(MAX_BINDS / COLS) {
        let sql = format!(
            "INSERT INTO monitor_status ({COLUMNS}) VALUES {} \
             ON CONFLICT (monitor_id) DO UPDATE SET state = excluded.state, \
             since = excluded.since, consecutive_failures = excluded.consecutive_failures, \
             consecutive_successes = excluded.consecutive_successes, \
             last_result_at = excluded.last_result_at, last_outcome = excluded.last_outcome, \
             last_message = excluded.last_message, last_latency_ms = excluded.last_latency_ms, \
             open_incident = excluded.open_incident",
            values_rows(conn, chunk.len(), COLS)
        );
        // Not cached, like every multi-row statement: see `MAX_BINDS`.
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for s in chunk {
            query = query
                .bind(s.monitor_id.as_str())
                .bind(s.state.as_str())
                .bind(to_ms(s.since))
                .bind(i64::from(s.consecutive_failures))
                .bind(i64::from(s.consecutive_successes))
                .bind(s.last_result_at.map(to_ms))
                .bind(s.last_outcome.map(|o| o.as_str()))
                .bind(s.last_message.as_deref())
                .bind(s.last_latency_ms)
                .bind(s.open_incident.as_deref());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// The status of every existing monitor, by monitor id; for restoring the state machine
    /// at start.
    pub async fn monitor_statuses(&self) -> Result<Vec<MonitorStatus>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM monitor_status \
             WHERE monitor_id IN (SELECT id FROM monitors) ORDER BY monitor_id"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode)
        .collect()
    }

    /// The status of one monitor.
    pub async fn monitor_status(&self, id: &str) -> Result<Option<MonitorStatus>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM monitor_status WHERE monitor_id = $1");
        fetch_by_key(&self.pool, sql, id, decode).await
    }

    /// Writes a status that no check result caused (pause, resume, a new monitor); nothing
    /// for a monitor deleted meanwhile (see [`Store::write_batch`]).
    pub async fn put_status(&self, status: &MonitorStatus) -> Result<(), StoreError> {
        self.put_statuses(std::slice::from_ref(status)).await
    }

    /// [`Store::put_status`] for many statuses in one transaction (the pending statuses of
    /// thousands of monitors loaded at start); for a monitor listed twice the last one wins.
    pub async fn put_statuses(&self, statuses: &[MonitorStatus]) -> Result<(), StoreError> {
        if statuses.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let ids: BTreeSet<&str> = statuses.iter().map(|s| s.monitor_id.as_str()).collect();
        let existing = resource::existing_in::<MonitorSpec>(&mut tx, &ids).await?;
        let current: Vec<&MonitorStatus> = statuses
            .iter()
            .filter(|s| existing.contains(s.monitor_id.as_str()))
            .collect();
        upsert(&mut tx, &current).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings every stored status up to the results stored after it: results whose status
    /// was not written ([`MonitorStatus::only_last_check_differs`]) each lengthen the success
    /// streak by one, and the newest gives the last check's time, latency and message. Run at
    /// start (after a crash the statuses lag their results) and periodically by the writer, so
    /// the results to count stay few. Returns how many statuses changed.
    ///
    /// Exact as long as a monitor's results are stored in the order of their start times; a
    /// result that started before the stored last check (a run-now overtaken by a scheduled
    /// check) is not counted in the streak.
    pub async fn catch_up_statuses(&self) -> Result<usize, StoreError> {
        let (mut changed, mut after) = (0, String::new());
        loop {
            let page = self.catch_up_statuses_after(&after, CATCH_UP_PAGE).await?;
            changed += page.changed;
            match page.next {
                Some(next) => after = next,
                None => return Ok(changed),
            }
        }
    }

    /// One page of [`Store::catch_up_statuses`]: the statuses of the `limit` monitors after
    /// `after` in id order, in one transaction, so a caller can write between pages and only
    /// a page is held in memory.
    pub async fn catch_up_statuses_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<CaughtUp, StoreError> {
        let limit = limit.max(1);
        let mut tx = self.begin_write().await?;
        // Per status two seeks in `results_monitor_time`: the count of newer results and
        // the newest one's id.
        let columns = COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {columns}, c.newer, r.started_at AS newest_at, r.latency_ms AS newest_latency, \
             CASE WHEN c.newer > 0 THEN r.body END AS newest_body FROM ( \
               SELECT s.*, \
                 (SELECT COUNT(*) FROM results n \
                  WHERE n.monitor_id = s.monitor_id AND n.started_at > s.last_result_at) \
                   AS newer, \
                 (SELECT n.id FROM results n WHERE n.monitor_id = s.monitor_id \
                  ORDER BY n.started_at DESC, n.id DESC LIMIT 1) AS newest_id \
               FROM monitor_status s \
               WHERE s.monitor_id > $1 AND s.last_result_at IS NOT NULL \
                 AND s.monitor_id IN (SELECT id FROM monitors) \
               ORDER BY s.monitor_id LIMIT $2 \
             ) c LEFT JOIN results r ON r.id = c.newest_id ORDER BY c.monitor_id"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        // A full page may leave monitors behind: the next page starts after its last one.
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit => Some(last.try_get("monitor_id")?),
            _ => None,
        };
        let mut caught_up = Vec::new();
        for row in &rows {
            // Up to one row a monitor: let the runtime's other tasks in between.
            tokio::task::consume_budget().await;
            // The newest result's body comes only when there are newer results.
            let Some(body) = row.try_get::<Option<String>, _>("newest_body")? else {
                continue;
            };
            let mut status = decode(row)?;
            let newer: i64 = row.try_get("newer")?;
            let newest: NewestResult =
                from_json(&body, &format!("newest result of {}", status.monitor_id))?;
            status.consecutive_successes =
                u32::try_from(i64::from(status.consecutive_successes).saturating_add(newer))
                    .unwrap_or(u32::MAX);
            status.last_result_at = Some(from_ms(row.try_get("newest_at")?)?);
            status.last_latency_ms = Some(row.try_get("newest_latency")?);
            status.last_message = Some(newest.message);
            caught_up.push(status);
        }
        upsert(&mut tx, &caught_up.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(CaughtUp {
            changed: caught_up.len(),
            next,
        })
    }
}

/// Statuses per page of [`Store::catch_up_statuses`].
pub const CATCH_UP_PAGE: i64 = 1_000;

/// What one page of [`Store::catch_up_statuses_after`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtUp {
    /// Statuses changed.
    pub changed: usize,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

/// The part of a stored result's body a caught-up status takes.
#[derive(serde::Deserialize)]
struct NewestResult {
    message: String,
}
