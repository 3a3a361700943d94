//! Lock-free counters the engine exports: scheduling lag as a fixed-bucket histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (milliseconds) of the lag histogram buckets; the last bucket is unbounded.
pub const LAG_BUCKETS_MS: [f64; 14] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0,
];

/// Histogram of scheduling lag (start − due).
#[derive(Debug, Default)]
pub struct LagHistogram {
    buckets: [AtomicU64; LAG_BUCKETS_MS.len() + 1],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl LagHistogram {
    /// Records one lag.
    pub fn record(&self, lag: Duration) {
        let ms = lag.as_secs_f64() * 1000.0;
        let idx = LAG_BUCKETS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(LAG_BUCKETS_MS.len());
        self.buckets[idx].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(
            lag.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Lags recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of lags in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// Count per bucket (not cumulative), the last being +Inf.
    pub fn counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    /// The upper bound (ms) of the bucket holding quantile `q` (0..=1).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return LAG_BUCKETS_MS.get(i).copied().unwrap_or(f64::INFINITY);
            }
        }
        f64::INFINITY
    }
}

impl LagHistogram {
    /// Replaces the counts (used to compute quantiles over a window from two snapshots).
    pub fn load_counts(&self, counts: &[u64]) {
        for (bucket, count) in self.buckets.iter().zip(counts) {
            bucket.store(*count, Ordering::Relaxed);
        }
        self.count.store(counts.iter().sum(), Ordering::Relaxed);
    }
}
