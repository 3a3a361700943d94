//! Incidents: opened and resolved by the state machine inside batch writes, with a timeline
//! drawn from the monitor's events between opening and resolution.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::deployment::DeploymentRef;
use vedette_model::{CheckResult, Event, FailureReason};

use crate::db::{
    MAX_BINDS, bind_each, fetch_by_key, from_json, from_ms, from_opt_ms, params_from, parse_name,
    to_ms,
};
use crate::{Store, StoreError};

/// Incidents live in the model, shared with the API's clients.
pub use vedette_model::incident::{Incident, IncidentState, TimelineEntry};

/// Default and largest number of incidents one [`Store::list_incidents`] returns.
pub const MAX_INCIDENTS_PAGE: u32 = 1_000;

/// An incident opening or resolving, written with the batch that caused it.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "lives inside a CheckRecord next to a CheckResult of the same size; boxing buys nothing"
)]
pub enum IncidentChange {
    /// A new incident.
    Open {
        /// Incident id (unique, chosen by the state machine).
        id: String,
        /// Monitor concerned.
        monitor_id: String,
        /// When it opened.
        opened_at: DateTime<Utc>,
        /// Failure reason that opened it.
        cause: Option<FailureReason>,
        /// Message of the first failing result.
        message: String,
        /// The first failing result.
        first_failure: CheckResult,
        /// The deployment of the monitor that started shortly before.
        deployment: Option<DeploymentRef>,
    },
    /// An open incident is over.
    Resolve {
        /// Incident id.
        id: String,
        /// When it resolved.
        resolved_at: DateTime<Utc>,
    },
}

/// Which incidents [`Store::list_incidents`] returns, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentFilter {
    /// Only this monitor's.
    pub monitor_id: Option<String>,
    /// Only open or only resolved ones.
    pub state: Option<IncidentState>,
    /// Only those opened at or after this.
    pub opened_after: Option<DateTime<Utc>>,
    /// Only those opened before this.
    pub opened_before: Option<DateTime<Utc>>,
    /// Only those still in progress after this: open, or resolved after it. With
    /// `opened_before` it picks the incidents overlapping a time range, including one opened
    /// before the range.
    pub active_after: Option<DateTime<Utc>>,
    /// At most this many ([`MAX_INCIDENTS_PAGE`] when 0 or above it).
    pub limit: u32,
    /// Only those after this `(opened_at, id)` in list order (older, or as old with a smaller
    /// id): the last incident of the previous page, for paging.
    pub older_than: Option<(DateTime<Utc>, String)>,
}

const COLUMNS: &str =
    "id, monitor_id, state, opened_at, resolved_at, cause, message, first_failure, deployment";

fn decode(row: &AnyRow) -> Result<Incident, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(Incident {
        monitor_id: row.try_get("monitor_id")?,
        state: parse_name(&row.try_get::<String, _>("state")?, "incident state")?,
        opened_at: from_ms(row.try_get("opened_at")?)?,
        resolved_at: from_opt_ms(row.try_get("resolved_at")?)?,
        cause: row
            .try_get::<Option<String>, _>("cause")?
            .map(|c| parse_name(&c, "failure reason"))
            .transpose()?,
        message: row.try_get("message")?,
        first_failure: row
            .try_get::<Option<String>, _>("first_failure")?
            .map(|f| from_json(&f, &format!("first failure of incident {id}")))
            .transpose()?,
        deployment: row
            .try_get::<Option<String>, _>("deployment")?
            .map(|d| from_json(&d, &format!("deployment of incident {id}")))
            .transpose()?,
        timeline: Vec::new(),
        id,
    })
}

/// Applies one change inside `conn`'s transaction. Opening an id that exists and resolving
/// one that is not open do nothing, so a retried batch is harmless.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    change: &IncidentChange,
) -> Result<(), StoreError> {
    match change {
        IncidentChange::Open {
            id,
            monitor_id,
            opened_at,
            cause,
            message,
            first_failure,
            deployment,
        } => {
            sqlx::query(
                "INSERT INTO incidents (id, monitor_id, state, opened_at, resolved_at, cause, \
                 message, first_failure, deployment) \
                 VALUES ($1, $2, 'open', $3, NULL, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(monitor_id.as_str())
            .bind(to_ms(*opened_at))
            .bind(cause.map(FailureReason::as_str))
            .bind(message.as_str())
            .bind(serde_json::to_string(first_failure)?)
            .bind(deployment.as_ref().map(serde_json::to_string).transpose()?)
            .execute(conn)
            .await?;
        }
        IncidentChange::Resolve { id, resolved_at } => {
            sqlx::query(
                "UPDATE incidents SET state = 'resolved', resolved_at = $1 \
                 WHERE id = $2 AND state = 'open'",
            )
            .bind(to_ms(*resolved_at))
            .bind(id.as_str())
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Resolves every open incident of `monitor_id` at `at` inside `conn`'s transaction and
/// writes, for each one this call resolved, the event `resolved` makes of it.
pub(crate) async fn resolve_all_in(
    conn: &mut AnyConnection,
    monitor_id: &str,
    at: DateTime<Utc>,
    resolved: &(impl Fn(&Incident) -> Event + Send + Sync),
) -> Result<(), StoreError> {
    let open = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incidents WHERE monitor_id = $1 AND state = 'open' \
         ORDER BY opened_at, id"
    )))
    .bind(monitor_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in &open {
        let mut incident = decode(row)?;
        let updated = sqlx::query(
            "UPDATE incidents SET state = 'resolved', resolved_at = $1 \
             WHERE id = $2 AND state = 'open'",
        )
        .bind(to_ms(at))
        .bind(incident.id.as_str())
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() == 0 {
            continue;
        }
        incident.state = IncidentState::Resolved;
        incident.resolved_at = Some(at);
        let event = resolved(&incident);
        crate::events::insert(&mut *conn, &[&event]).await?;
    }
    Ok(())
}

/// A line for people from an event's payload.
fn describe(event: &Event) -> String {
    let field = |name: &str| event.data.get(name).and_then(|v| v.as_str());
    let text = match (field("from"), field("to"), field("message")) {
        (Some(from), Some(to), Some(message)) => format!("{from} → {to}: {message}"),
        (_, _, Some(message)) => format!("{}: {message}", event.event_type),
        _ => event.event_type.to_string(),
    };
    let deployment = event
        .data
        .get("deployment")
        .and_then(|d| serde_json::from_value::<DeploymentRef>(d.clone()).ok());
    match deployment {
        Some(d) => format!("{text} ({})", d.describe(event.occurred_at)),
        None => text,
    }
}

impl Store {
    /// Incidents matching `filter`, newest first, without timelines.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, StoreError> {
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if filter.monitor_id.is_some() {
            conditions.push(format!("monitor_id = ${}", next()));
        }
        if filter.state.is_some() {
            conditions.push(format!("state = ${}", next()));
        }
        if filter.opened_after.is_some() {
            conditions.push(format!("opened_at >= ${}", next()));
        }
        if filter.opened_before.is_some() {
            conditions.push(format!("opened_at < ${}", next()));
        }
        if filter.active_after.is_some() {
            conditions.push(format!(
                "(resolved_at IS NULL OR resolved_at > ${})",
                next()
            ));
        }
        if filter.older_than.is_some() {
            let (at, id) = (next(), next());
            conditions.push(format!(
                "(opened_at < ${at} OR (opened_at = ${at} AND id < ${id}))"
            ));
        }
        let limit_param = next();
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM incidents {where_clause} \
             ORDER BY opened_at DESC, id DESC LIMIT ${limit_param}"
        )));
        if let Some(monitor_id) = &filter.monitor_id {
            query = query.bind(monitor_id.as_str());
        }
        if let Some(state) = filter.state {
            query = query.bind(state.as_str());
        }
        if let Some(after) = filter.opened_after {
            query = query.bind(to_ms(after));
        }
        if let Some(before) = filter.opened_before {
            query = query.bind(to_ms(before));
        }
        if let Some(after) = filter.active_after {
            query = query.bind(to_ms(after));
        }
        if let Some((at, id)) = &filter.older_than {
            query = query.bind(to_ms(*at)).bind(id.as_str());
        }
        let limit = match filter.limit {
            0 => MAX_INCIDENTS_PAGE,
            l => l.min(MAX_INCIDENTS_PAGE),
        };
        query = query.bind(i64::from(limit));
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The incidents of `monitor_ids` still open or opened at or after `since`, newest first,
    /// at most `limit` (capped at [`MAX_INCIDENTS_PAGE`]), without timelines: a status page's
    /// current incidents and history, in one query per [`MAX_BINDS`] monitors.
    pub async fn incidents_of(
        &self,
        monitor_ids: &[String],
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Incident>, StoreError> {
        let limit = limit.clamp(1, MAX_INCIDENTS_PAGE);
        let mut found = Vec::new();
        for chunk in monitor_ids.chunks(MAX_BINDS - 3) {
            let query = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM incidents WHERE (state = $1 OR opened_at >= $2) \
                 AND monitor_id IN ({}) ORDER BY opened_at DESC, id DESC LIMIT $3",
                params_from(4, chunk.len())
            )))
            .persistent(false)
            .bind(IncidentState::Open.as_str())
            .bind(to_ms(since))
            .bind(i64::from(limit));
            let query = bind_each(query, chunk.iter().map(String::as_str));
            for row in query.fetch_all(&self.pool).await? {
                found.push(decode(&row)?);
            }
        }
        found.sort_by(|a: &Incident, b: &Incident| (b.opened_at, &b.id).cmp(&(a.opened_at, &a.id)));
        found.truncate(limit as usize);
        Ok(found)
    }

    /// One incident with its timeline.
    pub async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = $1");
        match fetch_by_key(&self.pool, sql, id, decode).await? {
            Some(incident) => Ok(Some(self.with_timeline(incident).await?)),
            None => Ok(None),
        }
    }

    /// The incident open for a monitor, with its timeline.
    pub async fn open_incident(&self, monitor_id: &str) -> Result<Option<Incident>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM incidents WHERE monitor_id = $1 AND state = 'open' \
             ORDER BY opened_at DESC LIMIT 1"
        );
        match fetch_by_key(&self.pool, sql, monitor_id, decode).await? {
            Some(incident) => Ok(Some(self.with_timeline(incident).await?)),
            None => Ok(None),
        }
    }

    /// Fills the timeline from the monitor's events between opening and resolution.
    async fn with_timeline(&self, mut incident: Incident) -> Result<Incident, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, body FROM events WHERE monitor_id = $1 \
             AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at, seq",
        )
        .bind(incident.monitor_id.as_str())
        .bind(to_ms(incident.opened_at))
        .bind(incident.resolved_at.map_or(i64::MAX, to_ms))
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let event: Event =
                from_json(&row.try_get::<String, _>("body")?, &format!("event {seq}"))?;
            incident.timeline.push(TimelineEntry {
                at: event.occurred_at,
                kind: event.event_type,
                message: describe(&event),
            });
        }
        Ok(incident)
    }
}
