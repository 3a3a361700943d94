//! Raw check results: one row per check, the whole `CheckResult` as JSON beside the columns
//! that queries filter on.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::CheckResult;

use crate::db::{MAX_BINDS, bind_each, from_json, params_from, to_ms, values_rows};
use crate::{Store, StoreError};

/// Most results one page of [`Store::list_results`] returns.
pub const MAX_RESULTS_PAGE: u32 = 10_000;

/// A stored result with its row id (the paging cursor), as the API lists it: the
/// `CheckResult` with an `id`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StoredResult {
    /// Row id, increasing with insertion.
    pub id: i64,
    /// The result.
    #[serde(flatten)]
    pub result: CheckResult,
}

/// Inserts results inside `conn`'s transaction.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    results: &[&CheckResult],
) -> Result<(), StoreError> {
    const COLS: usize = 6;
    for chunk in results.chunks(MAX_BINDS / COLS) {
        let sql = format!(
            "INSERT INTO results (monitor_id, started_at, outcome, latency_ms, in_maintenance, \
             body) VALUES {}",
            values_rows(conn, chunk.len(), COLS)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for r in chunk {
            query = query
                .bind(r.monitor_id.as_str())
                .bind(to_ms(r.started_at))
                .bind(r.outcome.as_str())
                .bind(r.latency_ms())
                .bind(i64::from(r.in_maintenance))
                .bind(serde_json::to_string(r)?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// Results of a monitor started in `[from, to)`, newest first, at most `limit` (1 to
    /// [`MAX_RESULTS_PAGE`]) per page. Pass the returned cursor to get the next page; `None`
    /// means there is no more.
    pub async fn list_results(
        &self,
        monitor_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
        cursor: Option<i64>,
    ) -> Result<(Vec<StoredResult>, Option<i64>), StoreError> {
        let limit = limit.clamp(1, MAX_RESULTS_PAGE);
        let after_cursor = if cursor.is_some() {
            "AND (started_at < (SELECT started_at FROM results WHERE id = $5) \
               OR (started_at = (SELECT started_at FROM results WHERE id = $5) AND id < $5))"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, body FROM results \
             WHERE monitor_id = $1 AND started_at >= $2 AND started_at < $3 {after_cursor} \
             ORDER BY started_at DESC, id DESC LIMIT $4"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(monitor_id)
            .bind(to_ms(from))
            .bind(to_ms(to))
            .bind(i64::from(limit) + 1);
        if let Some(cursor) = cursor {
            query = query.bind(cursor);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            page.push(StoredResult {
                id,
                result: from_json(&body, &format!("result {id}"))?,
            });
        }
        let next = if page.len() > limit as usize {
            page.truncate(limit as usize);
            page.last().map(|r| r.id)
        } else {
            None
        };
        Ok((page, next))
    }

    /// Results of several monitors started in `[from, to)`, newest first (then by id,
    /// descending), at most `limit` (1 to [`MAX_RESULTS_PAGE`]), after `older_than` (the
    /// `(started_at, id)` of the last result of the previous page) when given: one table over
    /// many monitors, read in one query per [`MAX_BINDS`] monitors. The flag tells whether
    /// more follow.
    pub async fn list_results_of(
        &self,
        monitor_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
        older_than: Option<(DateTime<Utc>, i64)>,
    ) -> Result<(Vec<StoredResult>, bool), StoreError> {
        let limit = limit.clamp(1, MAX_RESULTS_PAGE);
        let after = if older_than.is_some() {
            "AND (started_at < $4 OR (started_at = $4 AND id < $5))"
        } else {
            ""
        };
        let first_id = if older_than.is_some() { 6 } else { 4 };
        let mut found: Vec<(i64, StoredResult)> = Vec::new();
        for chunk in monitor_ids.chunks(MAX_BINDS - 5) {
            let ids = params_from(first_id, chunk.len());
            let sql = format!(
                "SELECT id, started_at, body FROM results \
                 WHERE started_at >= $1 AND started_at < $2 {after} AND monitor_id IN ({ids}) \
                 ORDER BY started_at DESC, id DESC LIMIT $3"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .persistent(false)
                .bind(to_ms(from))
                .bind(to_ms(to))
                .bind(i64::from(limit) + 1);
            if let Some((at, id)) = older_than {
                query = query.bind(to_ms(at)).bind(id);
            }
            let query = bind_each(query, chunk.iter().map(String::as_str));
            for row in &query.fetch_all(&self.pool).await? {
                let id: i64 = row.try_get("id")?;
                let started_at: i64 = row.try_get("started_at")?;
                let body: String = row.try_get("body")?;
                found.push((
                    started_at,
                    StoredResult {
                        id,
                        result: from_json(&body, &format!("result {id}"))?,
                    },
                ));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        Ok((found.into_iter().map(|(_, r)| r).collect(), more))
    }
}
