//! Retention: deleting raw results and rollup rows older than configured ages. Incidents,
//! statuses and events are kept.

use chrono::{DateTime, Duration, Utc};
use sqlx::AssertSqlSafe;

use crate::db::to_ms;
use crate::rollup::Resolution;
use crate::{Store, StoreError};

/// Rows deleted per statement, so a large purge never holds the write lock for long.
const DELETE_CHUNK: i64 = 5_000;

/// How long each kind of data is kept; `None` keeps it forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw results.
    pub raw: Option<Duration>,
    /// Per-minute rollups.
    pub minute: Option<Duration>,
    /// Per-hour rollups.
    pub hour: Option<Duration>,
    /// Per-day rollups.
    pub day: Option<Duration>,
}

impl Default for Retention {
    /// Raw 7 days, minutes 30 days, hours 400 days, days forever.
    fn default() -> Self {
        Self {
            raw: Some(Duration::days(7)),
            minute: Some(Duration::days(30)),
            hour: Some(Duration::days(400)),
            day: None,
        }
    }
}

/// Rows deleted by [`Store::apply_retention`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw results.
    pub results: u64,
    /// Per-minute rollup rows.
    pub minute_rollups: u64,
    /// Per-hour rollup rows.
    pub hour_rollups: u64,
    /// Per-day rollup rows.
    pub day_rollups: u64,
}

impl Store {
    /// Deletes raw results started, and rollup rows starting, before `now` minus their
    /// retention, in chunks of a few thousand rows.
    pub async fn apply_retention(
        &self,
        r: &Retention,
        now: DateTime<Utc>,
    ) -> Result<RetentionReport, StoreError> {
        // A retention reaching before the earliest representable time deletes nothing.
        let cutoff = |keep: Option<Duration>| {
            keep.and_then(|keep| now.checked_sub_signed(keep))
                .map(to_ms)
        };
        let mut report = RetentionReport::default();
        // Raw results are deleted only once they are in the rollups.
        self.fold_rollups().await?;
        if let Some(before) = cutoff(r.raw) {
            report.results = self
                .delete_chunked(
                    "DELETE FROM results WHERE id IN \
                     (SELECT id FROM results WHERE started_at < $1 LIMIT $2)",
                    None,
                    before,
                )
                .await?;
        }
        for (resolution, keep) in [
            (Resolution::Minute, r.minute),
            (Resolution::Hour, r.hour),
            (Resolution::Day, r.day),
        ] {
            let Some(before) = cutoff(keep) else { continue };
            let deleted = self
                .delete_chunked(
                    "DELETE FROM rollups WHERE resolution_ms = $3 AND bucket_start < $1 \
                     AND (monitor_id, bucket_start) IN (SELECT monitor_id, bucket_start \
                     FROM rollups WHERE resolution_ms = $3 AND bucket_start < $1 LIMIT $2)",
                    Some(resolution.millis()),
                    before,
                )
                .await?;
            match resolution {
                Resolution::Minute => report.minute_rollups = deleted,
                Resolution::Hour => report.hour_rollups = deleted,
                Resolution::Day => report.day_rollups = deleted,
            }
        }
        Ok(report)
    }

    /// Runs a chunked delete (`$1` cutoff, `$2` chunk size, `$3` resolution when given) until
    /// nothing is left; the rows deleted.
    async fn delete_chunked(
        &self,
        sql: &'static str,
        resolution: Option<i64>,
        before: i64,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(before)
                .bind(DELETE_CHUNK);
            if let Some(resolution) = resolution {
                query = query.bind(resolution);
            }
            let deleted = query.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            total += deleted;
            if deleted < DELETE_CHUNK as u64 {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreConfig;

    #[tokio::test]
    async fn a_retention_longer_than_the_calendar_deletes_nothing_instead_of_panicking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&StoreConfig::sqlite(dir.path()))
            .await
            .expect("store");
        let forever = Some(Duration::days(4_000_000_000));
        let retention = Retention {
            raw: forever,
            minute: forever,
            hour: forever,
            day: forever,
        };
        let report = store
            .apply_retention(&retention, Utc::now())
            .await
            .expect("retention");
        assert_eq!(report, RetentionReport::default());
    }
}
