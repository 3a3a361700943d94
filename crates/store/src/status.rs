//! The state-machine status of each monitor, written with every batch and read back at start.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::{MonitorSpec, MonitorState, Outcome};

use crate::db::{MAX_BINDS, fetch_by_key, from_ms, from_opt_ms, parse_name, to_ms, values_rows};
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
            values_rows(chunk.len(), COLS, 1)
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
}
