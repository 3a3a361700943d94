//! Series of many monitors at once ([`Store::series_of`]), for `GET /series` over hundreds of
//! monitors. The database folds each monitor's rollup rows into one line-per-row text
//! (`group_concat` in SQLite, `string_agg` in PostgreSQL), so a 30-day hourly read of 500
//! monitors moves 500 rows through the driver instead of 360,000: the driver's cost per row,
//! not the database's, is what made [`Store::series`] per monitor slow at that size.
//!
//! A caller that needs only the counts ([`Parts::Counts`]: uptime, checks, failures) gets
//! rows without their latency figures and histogram: formatting those floats exactly and
//! decoding the histograms was most of a month-long read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, Row};

use crate::db::{Backend, MAX_BINDS, bind_each, from_ms, params_from, to_count, to_ms};
use crate::rollup::{
    Bucket, IN_RANGE, add_in_step, ceil_to, chunk_in_range, decode, floor_to, pending,
    step_resolution,
};
use crate::{Store, StoreError};

/// Which parts of each bucket [`Store::series_of`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// The counts only (checks, failures, degraded, maintenance), enough for
    /// [`Bucket::uptime`]: the latency figures and the histogram are left empty
    /// ([`Bucket::counts_only`]).
    Counts,
    /// Every part of every bucket.
    All,
}

/// One rollup row as text, its fields in this order, separated by `;`: bucket start, checks,
/// failures, degraded, maintenance and, for [`Parts::All`], latency sum, min and max (empty
/// when NULL) and histogram. Floats are written exactly (17 significant digits in SQLite,
/// whose `!` lifts its 16-digit cap; PostgreSQL's shortest exact form), so a row reads back
/// as [`Store::series`] reads it.
fn row_text(backend: Backend, parts: Parts) -> String {
    let float = |column: &str| match backend {
        Backend::Sqlite => {
            format!("CASE WHEN {column} IS NULL THEN '' ELSE printf('%!.17g', {column}) END")
        }
        Backend::Postgres => format!("COALESCE(CAST({column} AS TEXT), '')"),
    };
    let int = |column: &str| format!("CAST({column} AS TEXT)");
    let mut fields = vec![
        int("bucket_start"),
        int("checks"),
        int("failures"),
        int("degraded"),
        int("maintenance"),
    ];
    if parts == Parts::All {
        fields.extend([
            float("latency_sum_ms"),
            float("latency_min_ms"),
            float("latency_max_ms"),
            "histogram".to_owned(),
        ]);
    }
    fields.join(" || ';' || ")
}

/// The aggregate joining a monitor's row texts with newlines.
fn lines_of(backend: Backend, text: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({text}, char(10))"),
        Backend::Postgres => format!("string_agg({text}, chr(10))"),
    }
}

/// Parses one line of [`row_text`] with `parts` into its bucket.
fn parse_line(monitor_id: &str, line: &str, parts: Parts) -> Result<Bucket, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("rollup row of {monitor_id}: {line:?}"));
    let mut fields = line.splitn(9, ';');
    let mut next = || fields.next().ok_or_else(corrupt);
    let int = |text: &str| text.parse::<i64>().map_err(|_| corrupt());
    let float = |text: &str| text.parse::<f64>().map_err(|_| corrupt());
    let opt = |text: &str| {
        if text.is_empty() {
            Ok(None)
        } else {
            float(text).map(Some)
        }
    };
    let start = int(next()?)?;
    let mut bucket = Bucket::empty(from_ms(start)?);
    bucket.checks = to_count(int(next()?)?, "rollup checks")?;
    bucket.failures = to_count(int(next()?)?, "rollup failures")?;
    bucket.degraded = to_count(int(next()?)?, "rollup degraded")?;
    bucket.maintenance = to_count(int(next()?)?, "rollup maintenance")?;
    if parts == Parts::All {
        bucket.latency_sum_ms = float(next()?)?;
        bucket.latency_min_ms = opt(next()?)?;
        bucket.latency_max_ms = opt(next()?)?;
        // Named only on failure: formatting the name for each of 360,000 rows showed up.
        bucket.histogram = serde_json::from_str(next()?).map_err(|e| {
            StoreError::Corrupt(format!("histogram of {monitor_id} at {start}: {e}"))
        })?;
    }
    if fields.next().is_some() {
        return Err(corrupt());
    }
    Ok(bucket)
}

impl Store {
    /// [`Store::series`] for each of `monitor_ids` (every one in the answer, with no buckets
    /// when it has no checks in the range): the same buckets, with only their counts for
    /// [`Parts::Counts`], read with one statement per [`MAX_BINDS`] monitors for the rollups
    /// and one for the results not folded yet.
    pub async fn series_of(
        &self,
        monitor_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: Duration,
        parts: Parts,
    ) -> Result<BTreeMap<String, Vec<Bucket>>, StoreError> {
        let (step_ms, resolution) = step_resolution(step)?;
        let start = floor_to(to_ms(from), step_ms);
        let end = to_ms(to);
        let backend = self.backend();
        let aggregate = lines_of(backend, &row_text(backend, parts));
        // Rows of one monitor in any order: sorted by start below.
        let mut rows: BTreeMap<String, Vec<Bucket>> = monitor_ids
            .iter()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for chunk in monitor_ids.chunks(MAX_BINDS - 3) {
            let query = chunk_in_range(
                |which| {
                    format!(
                        "SELECT monitor_id, {aggregate} AS lines FROM rollups \
                         WHERE {IN_RANGE} AND {which} GROUP BY monitor_id"
                    )
                },
                resolution.millis(),
                (start, end),
                chunk,
            );
            for row in query.fetch_all(&self.pool).await? {
                let monitor_id: String = row.try_get("monitor_id")?;
                let lines: String = row.try_get("lines")?;
                let out = rows.entry(monitor_id.clone()).or_default();
                for line in lines.split('\n') {
                    out.push(parse_line(&monitor_id, line, parts)?);
                }
            }
            // The results not folded yet, in the rows that start before `to`.
            let query = sqlx::query(AssertSqlSafe(pending(
                &format!("monitor_id IN ({})", params_from(3, chunk.len())),
                1,
                2,
            )))
            .persistent(false)
            .bind(start)
            .bind(ceil_to(end, resolution.millis()));
            let query = bind_each(query, chunk.iter().map(String::as_str));
            for row in query.fetch_all(&self.pool).await? {
                let ((monitor_id, _, _), bucket) = decode(&row)?;
                let bucket = match parts {
                    Parts::Counts => bucket.counts_only(),
                    Parts::All => bucket,
                };
                rows.entry(monitor_id).or_default().push(bucket);
            }
        }
        let mut out = BTreeMap::new();
        for (monitor_id, mut stored) in rows {
            stored.sort_by_key(|b| b.start);
            let mut buckets: Vec<Bucket> = Vec::new();
            for part in stored {
                add_in_step(&mut buckets, part, step_ms)?;
            }
            out.insert(monitor_id, buckets);
        }
        Ok(out)
    }
}
