//! Rollups: per-minute, per-hour and per-day rows of counts, latency statistics and a
//! histogram for each monitor, so uptime and percentiles over any range come from a few rows.
//!
//! Rollups are folded from raw results in the background ([`Store::fold_rollups`], once a
//! minute), not by every batch write: a monitor checked every 10 s then costs one write of each
//! of its rows a minute instead of six. `rollup_progress` says which results are folded (every
//! one up to `folded_through`) and where the others start (`pending_from`, kept by every batch
//! write in its transaction). Readers add the results not folded yet to the rows in the same
//! statement, so they see every committed result exactly once, whichever process folds; a
//! crash loses nothing, as the next fold starts from the stored progress.
//!
//! `Down` results count as failures; `Degraded` ones count as degraded and as up for uptime.
//! Results recorded while a maintenance window covered the monitor count as `maintenance` and
//! never as failures, and uptime leaves them out. Latency statistics (sum, min, max, histogram) cover the results that are not failures: a
//! refused connection or a timeout says nothing about response time.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vedette_model::{CheckResult, Outcome};

use crate::db::{
    AnyQuery, MAX_BINDS, bind_each, from_count, from_json, from_ms, params_from, to_count, to_ms,
    values_rows,
};
use crate::{Histogram, Store, StoreError};

pub(crate) const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The resolutions rollups are kept at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resolution {
    /// One row per UTC minute.
    Minute,
    /// One row per UTC hour.
    Hour,
    /// One row per UTC day.
    Day,
}

impl Resolution {
    /// Every resolution, finest first.
    pub const ALL: [Resolution; 3] = [Self::Minute, Self::Hour, Self::Day];

    /// Length of one bucket in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Self::Minute => MINUTE_MS,
            Self::Hour => HOUR_MS,
            Self::Day => DAY_MS,
        }
    }
}

/// Aggregated checks over a span starting at `start`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Start of the span (aligned to the step or resolution).
    pub start: DateTime<Utc>,
    /// Checks.
    pub checks: u64,
    /// Checks that were down outside maintenance.
    pub failures: u64,
    /// Checks that were degraded (counted as up for uptime).
    pub degraded: u64,
    /// Checks made while a maintenance window covered the monitor (left out of uptime).
    pub maintenance: u64,
    /// Sum of the latencies of the checks that did not fail.
    pub latency_sum_ms: f64,
    /// Smallest latency of a check that did not fail.
    pub latency_min_ms: Option<f64>,
    /// Largest latency of a check that did not fail.
    pub latency_max_ms: Option<f64>,
    /// Latencies of the checks that did not fail.
    pub histogram: Histogram,
}

impl Bucket {
    /// A bucket with nothing in it.
    pub fn empty(start: DateTime<Utc>) -> Self {
        Self {
            start,
            checks: 0,
            failures: 0,
            degraded: 0,
            maintenance: 0,
            latency_sum_ms: 0.0,
            latency_min_ms: None,
            latency_max_ms: None,
            histogram: Histogram::new(),
        }
    }

    /// Share of the checks outside maintenance that did not fail (`0.0..=1.0`); `None`
    /// without such checks.
    pub fn uptime(&self) -> Option<f64> {
        let counted = self.checks.saturating_sub(self.maintenance);
        (counted > 0).then(|| counted.saturating_sub(self.failures) as f64 / counted as f64)
    }

    /// Share of all checks, maintenance included, that did not fail (`0.0..=1.0`): a check
    /// that was down during maintenance counts as down here; `None` without checks.
    pub fn uptime_all(&self) -> Option<f64> {
        (self.checks > 0).then(|| self.histogram.count() as f64 / self.checks as f64)
    }

    /// The `q`-quantile (`0.0..=1.0`) of the latency of checks that did not fail, within the
    /// histogram's relative error and inside `[latency_min_ms, latency_max_ms]`.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        let estimate = self.histogram.quantile(q)?;
        Some(match (self.latency_min_ms, self.latency_max_ms) {
            (Some(min), Some(max)) if min <= max => estimate.clamp(min, max),
            _ => estimate,
        })
    }

    /// Mean latency of checks that did not fail.
    pub fn mean_latency_ms(&self) -> Option<f64> {
        let n = self.histogram.count();
        (n > 0).then(|| self.latency_sum_ms / n as f64)
    }

    /// This bucket's start and counts (checks, failures, degraded, maintenance), its latency
    /// figures and histogram left empty: what [`Bucket::uptime`] needs.
    pub fn counts_only(self) -> Self {
        Self {
            start: self.start,
            checks: self.checks,
            failures: self.failures,
            degraded: self.degraded,
            maintenance: self.maintenance,
            ..Self::empty(self.start)
        }
    }

    /// Adds `other`'s checks to this bucket (the start is kept).
    pub fn merge(&mut self, other: &Bucket) {
        self.checks += other.checks;
        self.failures += other.failures;
        self.degraded += other.degraded;
        self.maintenance += other.maintenance;
        self.latency_sum_ms += other.latency_sum_ms;
        self.latency_min_ms = min_opt(self.latency_min_ms, other.latency_min_ms, f64::min);
        self.latency_max_ms = min_opt(self.latency_max_ms, other.latency_max_ms, f64::max);
        self.histogram.merge(&other.histogram);
    }

    /// Counts one result.
    pub fn record(&mut self, result: &CheckResult) {
        self.count(result.outcome, result.latency_ms(), result.in_maintenance);
    }

    /// Counts one result given by its outcome, latency and whether maintenance covered it.
    fn count(&mut self, outcome: Outcome, ms: f64, in_maintenance: bool) {
        self.checks += 1;
        if in_maintenance {
            self.maintenance += 1;
        }
        match outcome {
            Outcome::Down => {
                if !in_maintenance {
                    self.failures += 1;
                }
                return;
            }
            Outcome::Degraded => self.degraded += 1,
            Outcome::Up => {}
        }
        self.latency_sum_ms += ms;
        self.latency_min_ms = min_opt(self.latency_min_ms, Some(ms), f64::min);
        self.latency_max_ms = min_opt(self.latency_max_ms, Some(ms), f64::max);
        self.histogram.record(ms);
    }
}

/// Combines two optional values with `pick` (min or max), keeping whichever is present.
fn min_opt(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// `t` rounded down to a multiple of `step` (milliseconds since the epoch).
pub(crate) fn floor_to(t: i64, step: i64) -> i64 {
    t.div_euclid(step) * step
}

/// `t` rounded up to a multiple of `step`.
pub(crate) fn ceil_to(t: i64, step: i64) -> i64 {
    -floor_to(-t, step)
}

/// A series step in milliseconds and the coarsest stored resolution that divides it; the step
/// must be a positive whole number of minutes.
pub(crate) fn step_resolution(step: Duration) -> Result<(i64, Resolution), StoreError> {
    let step_ms = step.num_milliseconds();
    if step_ms < MINUTE_MS || step_ms % MINUTE_MS != 0 {
        return Err(StoreError::InvalidArgument(format!(
            "step must be a positive whole number of minutes, got {step_ms} ms"
        )));
    }
    let resolution = Resolution::ALL
        .into_iter()
        .rev()
        .find(|r| step_ms % r.millis() == 0)
        .unwrap_or(Resolution::Minute);
    Ok((step_ms, resolution))
}

/// Adds `part` to `buckets` (ordered by start, each `step_ms` long) in the one holding its
/// start: the last when it is that one, else a new last one.
pub(crate) fn add_in_step(
    buckets: &mut Vec<Bucket>,
    part: Bucket,
    step_ms: i64,
) -> Result<(), StoreError> {
    let start = floor_to(to_ms(part.start), step_ms);
    match buckets.last_mut() {
        Some(last) if to_ms(last.start) == start => last.merge(&part),
        // The first part of a bucket becomes it, as merging it into an empty one would make it
        // (`0.0 +` too: a stored -0.0 sum reads as 0.0), without copying its histogram.
        _ => buckets.push(Bucket {
            start: from_ms(start)?,
            latency_sum_ms: 0.0 + part.latency_sum_ms,
            ..part
        }),
    }
    Ok(())
}

const COLUMNS: &str = "monitor_id, resolution_ms, bucket_start, checks, failures, degraded, \
                       maintenance, latency_sum_ms, latency_min_ms, latency_max_ms, histogram";

/// Row key: monitor, resolution in ms, bucket start in ms.
type Key = (String, i64, i64);

/// How much one fold transaction ([`Store::fold_rollups_page`]) takes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldLimits {
    /// Most raw results read.
    pub results: i64,
    /// Most rollup rows aggregated in memory (three per monitor in the page): at many
    /// monitors a page ends here, before `results`.
    pub rows: usize,
}

impl Default for FoldLimits {
    /// 50,000 results or 60,000 rows (20,000 monitors), about 15 MB of rows.
    fn default() -> Self {
        Self {
            results: 50_000,
            rows: 60_000,
        }
    }
}

/// Decodes a row of [`COLUMNS`]: a rollup row, or a raw result not folded yet in the shape
/// [`PENDING`] gives it (resolution 0, its outcome in `histogram`, its latency in
/// `latency_sum_ms`).
pub(crate) fn decode(row: &AnyRow) -> Result<(Key, Bucket), StoreError> {
    let monitor_id: String = row.try_get("monitor_id")?;
    let resolution: i64 = row.try_get("resolution_ms")?;
    let start: i64 = row.try_get("bucket_start")?;
    if resolution == 0 {
        let mut bucket = Bucket::empty(from_ms(start)?);
        bucket.count(
            outcome(&row.try_get::<String, _>("histogram")?)?,
            row.try_get("latency_sum_ms")?,
            row.try_get::<i64, _>("maintenance")? != 0,
        );
        return Ok(((monitor_id, resolution, start), bucket));
    }
    let bucket = Bucket {
        start: from_ms(start)?,
        checks: to_count(row.try_get("checks")?, "rollup checks")?,
        failures: to_count(row.try_get("failures")?, "rollup failures")?,
        degraded: to_count(row.try_get("degraded")?, "rollup degraded")?,
        maintenance: to_count(row.try_get("maintenance")?, "rollup maintenance")?,
        latency_sum_ms: row.try_get("latency_sum_ms")?,
        latency_min_ms: row.try_get("latency_min_ms")?,
        latency_max_ms: row.try_get("latency_max_ms")?,
        histogram: from_json(
            &row.try_get::<String, _>("histogram")?,
            &format!("histogram of {monitor_id} at {start}"),
        )?,
    };
    Ok(((monitor_id, resolution, start), bucket))
}

/// A stored outcome name.
fn outcome(name: &str) -> Result<Outcome, StoreError> {
    [Outcome::Up, Outcome::Degraded, Outcome::Down]
        .into_iter()
        .find(|o| o.as_str() == name)
        .ok_or_else(|| StoreError::Corrupt(format!("outcome {name:?}")))
}

/// The raw results of the monitors `which` selects (`monitor_id = $1`) started in
/// `[$from, $to)` that are not folded yet, as rows of [`COLUMNS`] (see [`decode`]). Its range
/// starts at `pending_from` at the earliest (no row when nothing is pending), so it reads about
/// a minute of each monitor's results.
pub(crate) fn pending(which: &str, from: usize, to: usize) -> String {
    format!(
        "SELECT monitor_id, 0 AS resolution_ms, started_at AS bucket_start, 1 AS checks, \
         0 AS failures, 0 AS degraded, in_maintenance AS maintenance, \
         latency_ms AS latency_sum_ms, NULL AS latency_min_ms, NULL AS latency_max_ms, \
         outcome AS histogram FROM results \
         WHERE {which} AND started_at < ${to} \
         AND started_at >= (SELECT CASE WHEN COALESCE(pending_from, {NONE}) > ${from} \
           THEN COALESCE(pending_from, {NONE}) ELSE ${from} END \
           FROM rollup_progress WHERE id = 1) \
         AND id > (SELECT folded_through FROM rollup_progress WHERE id = 1)"
    )
}

/// The rollup rows of one resolution (`$1`) in a range (`[$2, $3)`), for a `WHERE` clause.
pub(crate) const IN_RANGE: &str = "resolution_ms = $1 AND bucket_start >= $2 AND bucket_start < $3";

/// The statement `sql(which)` over the monitors of `chunk`, `which` selecting them
/// (`monitor_id IN ($4, ..)`), with `$1` bound to `resolution_ms` and `$2`, `$3` to `range`'s
/// start and end (for [`IN_RANGE`]).
pub(crate) fn chunk_in_range<'q>(
    sql: impl FnOnce(&str) -> String,
    resolution_ms: i64,
    range: (i64, i64),
    chunk: &[String],
) -> AnyQuery<'q> {
    let which = format!("monitor_id IN ({})", params_from(4, chunk.len()));
    let query = sqlx::query(AssertSqlSafe(sql(&which)))
        .persistent(false)
        .bind(resolution_ms)
        .bind(range.0)
        .bind(range.1);
    bind_each(query, chunk.iter().map(String::as_str))
}

/// A start no result has: `pending_from` when nothing is pending.
const NONE: i64 = i64::MAX;

/// Notes in `conn`'s transaction that `results` (just inserted) are not folded yet:
/// `pending_from` becomes their earliest start if that is earlier.
pub(crate) async fn note_pending(
    conn: &mut AnyConnection,
    results: &[&CheckResult],
) -> Result<(), StoreError> {
    let Some(earliest) = results.iter().map(|r| to_ms(r.started_at)).min() else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE rollup_progress SET pending_from = CASE \
         WHEN pending_from IS NULL OR pending_from > $1 THEN $1 ELSE pending_from END \
         WHERE id = 1",
    )
    .bind(earliest)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `rows` (aggregated in memory) to the stored rollup rows inside `conn`'s transaction:
/// per bucket (resolution and start), reads the rows that exist and writes them back merged,
/// so only one bucket's stored rows are held at a time.
async fn merge(conn: &mut AnyConnection, rows: BTreeMap<Key, Bucket>) -> Result<(), StoreError> {
    // Rows per (resolution, bucket start): a fold touches few distinct buckets, many monitors.
    let mut by_bucket: BTreeMap<(i64, i64), Vec<(String, Bucket)>> = BTreeMap::new();
    for ((monitor_id, resolution, start), bucket) in rows {
        by_bucket
            .entry((resolution, start))
            .or_default()
            .push((monitor_id, bucket));
    }
    for ((resolution, start), group) in by_bucket {
        let mut existing: BTreeMap<String, Bucket> = BTreeMap::new();
        for chunk in group.chunks(MAX_BINDS - 2) {
            let query = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM rollups WHERE resolution_ms = $1 AND bucket_start = $2 \
                 AND monitor_id IN ({})",
                params_from(3, chunk.len())
            )))
            .persistent(false)
            .bind(resolution)
            .bind(start);
            let query = bind_each(query, chunk.iter().map(|(id, _)| id.as_str()));
            for row in query.fetch_all(&mut *conn).await? {
                let ((monitor_id, _, _), bucket) = decode(&row)?;
                existing.insert(monitor_id, bucket);
            }
        }
        write(conn, resolution, start, group, existing).await?;
    }
    Ok(())
}

/// Writes the rows of one bucket, each merged with its stored row from `existing` if any.
async fn write(
    conn: &mut AnyConnection,
    resolution: i64,
    start: i64,
    group: Vec<(String, Bucket)>,
    mut existing: BTreeMap<String, Bucket>,
) -> Result<(), StoreError> {
    const COLS: usize = 11;
    for chunk in group.chunks(MAX_BINDS / COLS) {
        let sql = format!(
            "INSERT INTO rollups ({COLUMNS}) VALUES {} \
             ON CONFLICT (monitor_id, resolution_ms, bucket_start) DO UPDATE SET \
             checks = excluded.checks, failures = excluded.failures, \
             degraded = excluded.degraded, maintenance = excluded.maintenance, \
             latency_sum_ms = excluded.latency_sum_ms, \
             latency_min_ms = excluded.latency_min_ms, latency_max_ms = excluded.latency_max_ms, \
             histogram = excluded.histogram",
            values_rows(conn, chunk.len(), COLS)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for (monitor_id, fresh) in chunk {
            let merged = match existing.remove(monitor_id) {
                Some(mut old) => {
                    old.merge(fresh);
                    old
                }
                None => fresh.clone(),
            };
            query = query
                .bind(monitor_id.as_str())
                .bind(resolution)
                .bind(start)
                .bind(from_count(merged.checks))
                .bind(from_count(merged.failures))
                .bind(from_count(merged.degraded))
                .bind(from_count(merged.maintenance))
                .bind(merged.latency_sum_ms)
                .bind(merged.latency_min_ms)
                .bind(merged.latency_max_ms)
                .bind(serde_json::to_string(&merged.histogram)?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// What one page of [`Store::fold_rollups_page`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// Results folded.
    pub results: u64,
    /// Whether results are left for another page.
    pub more: bool,
}

impl Store {
    /// Folds the results not in the rollups yet into their minute, hour and day rows, page by
    /// page ([`Store::fold_rollups_page`]); returns how many were folded. Readers see the same
    /// figures before and after (they add pending results themselves): this only makes later
    /// reads and writes cheaper. Safe to call from any process at any time.
    pub async fn fold_rollups(&self) -> Result<u64, StoreError> {
        let mut folded = 0;
        loop {
            let page = self.fold_rollups_page(FoldLimits::default()).await?;
            folded += page.results;
            if !page.more {
                return Ok(folded);
            }
        }
    }

    /// Folds the oldest results not in the rollups yet, as many as `limits` allow, and moves
    /// `rollup_progress` past them in the same transaction, so a caller can write between
    /// pages and a page's rows are all that is held in memory.
    pub async fn fold_rollups_page(&self, limits: FoldLimits) -> Result<Folded, StoreError> {
        // At least one result a page, so that paging always moves on.
        let (max_results, max_rows) = (
            limits.results.max(1),
            limits.rows.max(Resolution::ALL.len()),
        );
        let mut tx = self.begin_write().await?;
        let progress =
            sqlx::query("SELECT folded_through, pending_from FROM rollup_progress WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let through: i64 = progress.try_get("folded_through")?;
        if progress
            .try_get::<Option<i64>, _>("pending_from")?
            .is_none()
        {
            tx.rollback().await?;
            return Ok(Folded {
                results: 0,
                more: false,
            });
        }
        // Streamed: a page of results is aggregated as it is read, never held at once.
        let mut rows: BTreeMap<Key, Bucket> = BTreeMap::new();
        let (mut last, mut read, mut full) = (through, 0_i64, false);
        let mut results = sqlx::query(
            "SELECT id, monitor_id, started_at, outcome, latency_ms, in_maintenance \
             FROM results WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(through)
        .bind(max_results)
        .fetch(&mut *tx);
        while let Some(result) = results.try_next().await? {
            // Rows arrive ready one after another: let the runtime's other tasks in.
            tokio::task::consume_budget().await;
            if rows.len() + Resolution::ALL.len() > max_rows {
                full = true;
                break;
            }
            read += 1;
            last = result.try_get("id")?;
            let monitor_id: String = result.try_get("monitor_id")?;
            let at: i64 = result.try_get("started_at")?;
            let outcome = outcome(&result.try_get::<String, _>("outcome")?)?;
            let ms: f64 = result.try_get("latency_ms")?;
            let in_maintenance = result.try_get::<i64, _>("in_maintenance")? != 0;
            for resolution in Resolution::ALL {
                let start = floor_to(at, resolution.millis());
                let key = (monitor_id.clone(), resolution.millis(), start);
                let bucket = match rows.entry(key) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => entry.insert(Bucket::empty(from_ms(start)?)),
                };
                bucket.count(outcome, ms, in_maintenance);
            }
        }
        drop(results);
        merge(&mut tx, rows).await?;
        // A full page leaves results behind: `pending_from` stays a bound for them.
        let more = full || read == max_results;
        sqlx::query(
            "UPDATE rollup_progress SET folded_through = $1, \
             pending_from = CASE WHEN $2 = 1 THEN pending_from ELSE NULL END WHERE id = 1",
        )
        .bind(last)
        .bind(i64::from(more))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Folded {
            results: read as u64,
            more,
        })
    }
}

impl Store {
    /// Buckets of `step` (whole minutes) starting at multiples of `step` since the epoch, for
    /// the buckets that overlap `[from, to)` and hold checks, oldest first. Built from the
    /// coarsest rollup whose resolution divides the step (a 1-day step reads day rows, a
    /// 15-minute step minute rows), so at most `(to - from) / resolution` rows are read, and
    /// from the results not folded yet.
    /// Ranges older than a resolution's retention come back empty at that resolution.
    pub async fn series(
        &self,
        monitor_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<Bucket>, StoreError> {
        let (step_ms, resolution) = step_resolution(step)?;
        let start = floor_to(to_ms(from), step_ms);
        let end = to_ms(to);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rollups WHERE {IN_RANGE} AND monitor_id = $4 \
             UNION ALL {} ORDER BY bucket_start",
            pending("monitor_id = $4", 2, 5)
        )))
        .bind(resolution.millis())
        .bind(start)
        .bind(end)
        .bind(monitor_id)
        // The results in the rows that start before `to`.
        .bind(ceil_to(end, resolution.millis()))
        .fetch_all(&self.pool)
        .await?;
        let mut buckets: Vec<Bucket> = Vec::new();
        for row in &rows {
            add_in_step(&mut buckets, decode(row)?.1, step_ms)?;
        }
        Ok(buckets)
    }

    /// Everything in `[from, to)` merged into one bucket (at minute precision: the minutes
    /// that overlap the range), read from day rows for whole UTC days, hour rows for whole
    /// hours at the edges and minute rows for the rest: a 30-day summary reads about 30 + 46 +
    /// 118 rows at most, and the results not folded yet. The bucket starts at `from` rounded
    /// down to the minute.
    pub async fn summary(
        &self,
        monitor_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Bucket, StoreError> {
        let start = floor_to(to_ms(from), MINUTE_MS);
        let end = ceil_to(to_ms(to), MINUTE_MS);
        let mut total = Bucket::empty(from_ms(start)?);
        let ranges = cover(start, end);
        if ranges.is_empty() {
            return Ok(total);
        }
        // One indexed range scan per part (an OR of ranges makes SQLite scan the monitor).
        let parts = (0..ranges.len())
            .map(|i| {
                let p = i * 3 + 2;
                format!(
                    "SELECT {COLUMNS} FROM rollups WHERE monitor_id = $1 AND resolution_ms = ${} \
                     AND bucket_start >= ${} AND bucket_start < ${}",
                    p,
                    p + 1,
                    p + 2
                )
            })
            .chain([pending(
                "monitor_id = $1",
                ranges.len() * 3 + 2,
                ranges.len() * 3 + 3,
            )])
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut query = sqlx::query(AssertSqlSafe(parts))
            .persistent(false)
            .bind(monitor_id);
        for (resolution, range_start, range_end) in &ranges {
            query = query
                .bind(resolution.millis())
                .bind(*range_start)
                .bind(*range_end);
        }
        query = query.bind(start).bind(end);
        for row in query.fetch_all(&self.pool).await? {
            total.merge(&decode(&row)?.1);
        }
        Ok(total)
    }
}

impl Store {
    /// Day buckets of each of `monitor_ids` for the UTC days overlapping `[from, to)`, oldest
    /// first (days without checks are absent), with the results not folded yet: the 90-day
    /// bars of a status page, read in one query per [`MAX_BINDS`] monitors.
    pub async fn daily(
        &self,
        monitor_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<Bucket>>, StoreError> {
        let mut days: BTreeMap<String, Vec<Bucket>> = BTreeMap::new();
        // Whole days: the pending results of the last day are read up to its end too.
        let (start, end) = (floor_to(to_ms(from), DAY_MS), ceil_to(to_ms(to), DAY_MS));
        for chunk in monitor_ids.chunks(MAX_BINDS - 3) {
            let query = chunk_in_range(
                |which| {
                    format!(
                        "SELECT {COLUMNS} FROM rollups WHERE {IN_RANGE} AND {which} UNION ALL {} \
                         ORDER BY monitor_id, bucket_start",
                        pending(which, 2, 3)
                    )
                },
                DAY_MS,
                (start, end),
                chunk,
            );
            for row in query.fetch_all(&self.pool).await? {
                let ((monitor_id, _, _), part) = decode(&row)?;
                add_in_step(days.entry(monitor_id).or_default(), part, DAY_MS)?;
            }
        }
        Ok(days)
    }
}

impl Store {
    /// [`Store::summary`] (results not folded yet included) of each of `ranges` for each of
    /// `monitor_ids` in one query per [`MAX_BINDS`] monitors (not one per monitor and range):
    /// the overview's 24 h / 7 d / 30 d figures for a page of rows. The answer holds, for every monitor asked, one bucket per
    /// range in the order of `ranges` (empty buckets for monitors without checks).
    pub async fn summaries(
        &self,
        monitor_ids: &[String],
        ranges: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> Result<BTreeMap<String, Vec<Bucket>>, StoreError> {
        let mut covers = Vec::with_capacity(ranges.len());
        let mut empty = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            let start = floor_to(to_ms(*from), MINUTE_MS);
            let end = ceil_to(to_ms(*to), MINUTE_MS);
            covers.push(cover(start, end));
            empty.push(Bucket::empty(from_ms(start)?));
        }
        let parts = union_of(covers.iter().flatten().copied());
        let mut out: BTreeMap<String, Vec<Bucket>> = monitor_ids
            .iter()
            .map(|id| (id.clone(), empty.clone()))
            .collect();
        if parts.is_empty() || monitor_ids.is_empty() {
            return Ok(out);
        }
        // The results not folded yet, from the earliest start to the latest end asked.
        let (lo, hi) = covers
            .iter()
            .flatten()
            .fold((i64::MAX, i64::MIN), |(lo, hi), (_, a, b)| {
                (lo.min(*a), hi.max(*b))
            });
        let part_binds = parts.len() * 3 + 2;
        for chunk in monitor_ids.chunks(MAX_BINDS.saturating_sub(part_binds).max(1)) {
            let ids = params_from(1, chunk.len());
            // One indexed range scan per part, as in `summary`.
            let sql = (0..parts.len())
                .map(|i| {
                    let p = chunk.len() + i * 3 + 1;
                    format!(
                        "SELECT {COLUMNS} FROM rollups WHERE monitor_id IN ({ids}) \
                         AND resolution_ms = ${} AND bucket_start >= ${} AND bucket_start < ${}",
                        p,
                        p + 1,
                        p + 2
                    )
                })
                .chain([pending(
                    &format!("monitor_id IN ({ids})"),
                    chunk.len() + parts.len() * 3 + 1,
                    chunk.len() + parts.len() * 3 + 2,
                )])
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let mut query = bind_each(
                sqlx::query(AssertSqlSafe(sql)).persistent(false),
                chunk.iter().map(String::as_str),
            );
            for (resolution, start, end) in &parts {
                query = query.bind(resolution.millis()).bind(*start).bind(*end);
            }
            query = query.bind(lo).bind(hi);
            for row in query.fetch_all(&self.pool).await? {
                let ((monitor_id, resolution, start), bucket) = decode(&row)?;
                let Some(totals) = out.get_mut(&monitor_id) else {
                    continue;
                };
                for (total, cover) in totals.iter_mut().zip(&covers) {
                    // A pending result (resolution 0) counts in every range holding its start.
                    if cover.iter().any(|(r, a, b)| {
                        (resolution == 0 || r.millis() == resolution) && (*a..*b).contains(&start)
                    }) {
                        total.merge(&bucket);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The parts of several covers merged so that no rollup row is in two of them: overlapping
/// or touching ranges of one resolution become one range.
fn union_of(parts: impl Iterator<Item = (Resolution, i64, i64)>) -> Vec<(Resolution, i64, i64)> {
    let mut parts: Vec<_> = parts.collect();
    parts.sort_by_key(|(r, a, _)| (*r, *a));
    let mut merged: Vec<(Resolution, i64, i64)> = Vec::new();
    for (r, a, b) in parts {
        match merged.last_mut() {
            Some((lr, _, lb)) if *lr == r && a <= *lb => *lb = (*lb).max(b),
            _ => merged.push((r, a, b)),
        }
    }
    merged
}

/// Splits `[start, end)` (whole minutes) into the fewest rollup ranges: whole days in the
/// middle, whole hours beside them, minutes at the edges. Empty ranges are left out.
fn cover(start: i64, end: i64) -> Vec<(Resolution, i64, i64)> {
    let mut ranges = Vec::new();
    let (d0, d1) = (ceil_to(start, DAY_MS), floor_to(end, DAY_MS));
    if d0 < d1 {
        cover_hours(start, d0, &mut ranges);
        ranges.push((Resolution::Day, d0, d1));
        cover_hours(d1, end, &mut ranges);
    } else {
        cover_hours(start, end, &mut ranges);
    }
    ranges
}

/// Splits `[start, end)` into whole hours and edge minutes.
fn cover_hours(start: i64, end: i64, ranges: &mut Vec<(Resolution, i64, i64)>) {
    let (h0, h1) = (ceil_to(start, HOUR_MS), floor_to(end, HOUR_MS));
    let mut push = |resolution, a: i64, b: i64| {
        if a < b {
            ranges.push((resolution, a, b));
        }
    };
    if h0 < h1 {
        push(Resolution::Minute, start, h0);
        push(Resolution::Hour, h0, h1);
        push(Resolution::Minute, h1, end);
    } else {
        push(Resolution::Minute, start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_tiles_the_range_without_gaps_or_overlap() {
        let base = 1_700_000_000_000 / MINUTE_MS * MINUTE_MS;
        for (start, end) in [
            (base, base + 30 * DAY_MS + 7 * MINUTE_MS),
            (base + 13 * MINUTE_MS, base + 2 * HOUR_MS),
            (base, base + MINUTE_MS),
            (floor_to(base, DAY_MS), floor_to(base, DAY_MS) + 3 * DAY_MS),
        ] {
            let mut ranges = cover(start, end);
            ranges.sort_by_key(|r| r.1);
            let mut at = start;
            for (resolution, a, b) in &ranges {
                assert_eq!(*a, at);
                assert_eq!(a % resolution.millis(), 0);
                assert_eq!(b % resolution.millis(), 0);
                at = *b;
            }
            assert_eq!(at, end);
            assert!(ranges.len() <= 7);
        }
        assert!(cover(base, base).is_empty());
    }

    #[test]
    fn rounding_is_euclidean() {
        assert_eq!(floor_to(-1, MINUTE_MS), -MINUTE_MS);
        assert_eq!(ceil_to(1, MINUTE_MS), MINUTE_MS);
        assert_eq!(ceil_to(MINUTE_MS, MINUTE_MS), MINUTE_MS);
    }
}
