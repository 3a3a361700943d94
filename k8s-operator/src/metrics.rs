//! The operator's Prometheus metrics: reconciles by outcome, their durations, and the calls it
//! makes to Vedette and to Kubernetes — counters rendered as text on `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the reconcile duration histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Counters shared by the controller, the Vedette follower and the HTTP server.
#[derive(Debug, Default)]
pub struct Metrics {
    reconciles: AtomicU64,
    failures: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    duration_micros: AtomicU64,
    vedette_calls: AtomicU64,
    kube_writes: AtomicU64,
    drift: AtomicU64,
    leader: AtomicU64,
    stream_open: AtomicU64,
    timed_lookups: AtomicU64,
}

impl Metrics {
    /// One reconcile that took `took`, failed or not.
    pub fn reconciled(&self, took: Duration, failed: bool) {
        self.reconciles.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// `n` requests sent to Vedette's API.
    pub fn vedette_calls(&self, n: u64) {
        self.vedette_calls.fetch_add(n, Ordering::Relaxed);
    }

    /// One write (create, patch, delete) sent to the Kubernetes API.
    pub fn kube_write(&self) {
        self.kube_writes.fetch_add(1, Ordering::Relaxed);
    }

    /// One monitor restored after it was changed or deleted behind the operator's back.
    pub fn drift_corrected(&self) {
        self.drift.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether Vedette's event stream is open.
    pub fn set_stream_open(&self, open: bool) {
        self.stream_open.store(u64::from(open), Ordering::Relaxed);
    }

    /// One resource looked at again on a timer, the event stream being down.
    pub fn timed_lookup(&self) {
        self.timed_lookups.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether this process holds the leader lease.
    pub fn set_leader(&self, leader: bool) {
        self.leader.store(u64::from(leader), Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let reconciles = get(&self.reconciles);
        let _ = writeln!(
            out,
            "# HELP vedette_operator_reconciles_total Reconciles run.\n\
             # TYPE vedette_operator_reconciles_total counter\n\
             vedette_operator_reconciles_total {reconciles}\n\
             # HELP vedette_operator_reconcile_errors_total Reconciles that failed.\n\
             # TYPE vedette_operator_reconcile_errors_total counter\n\
             vedette_operator_reconcile_errors_total {}\n\
             # HELP vedette_operator_reconcile_duration_seconds Time one reconcile took.\n\
             # TYPE vedette_operator_reconcile_duration_seconds histogram",
            get(&self.failures)
        );
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "vedette_operator_reconcile_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(count)
            );
        }
        let _ = writeln!(
            out,
            "vedette_operator_reconcile_duration_seconds_bucket{{le=\"+Inf\"}} {reconciles}\n\
             vedette_operator_reconcile_duration_seconds_sum {}\n\
             vedette_operator_reconcile_duration_seconds_count {reconciles}\n\
             # HELP vedette_operator_vedette_requests_total Requests sent to Vedette's API.\n\
             # TYPE vedette_operator_vedette_requests_total counter\n\
             vedette_operator_vedette_requests_total {}\n\
             # HELP vedette_operator_kube_writes_total Writes sent to the Kubernetes API.\n\
             # TYPE vedette_operator_kube_writes_total counter\n\
             vedette_operator_kube_writes_total {}\n\
             # HELP vedette_operator_drift_corrections_total Monitors restored after a change behind the operator's back.\n\
             # TYPE vedette_operator_drift_corrections_total counter\n\
             vedette_operator_drift_corrections_total {}\n\
             # HELP vedette_operator_leader Whether this process holds the leader lease.\n\
             # TYPE vedette_operator_leader gauge\n\
             vedette_operator_leader {}\n\
             # HELP vedette_operator_event_stream_open Whether Vedette's event stream is open.\n\
             # TYPE vedette_operator_event_stream_open gauge\n\
             vedette_operator_event_stream_open {}\n\
             # HELP vedette_operator_timed_lookups_total Resources looked at again on a timer while the event stream was down.\n\
             # TYPE vedette_operator_timed_lookups_total counter\n\
             vedette_operator_timed_lookups_total {}",
            get(&self.duration_micros) as f64 / 1e6,
            get(&self.vedette_calls),
            get(&self.kube_writes),
            get(&self.drift),
            get(&self.leader),
            get(&self.stream_open),
            get(&self.timed_lookups),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.reconciled(Duration::from_millis(20), false);
        m.reconciled(Duration::from_secs(3), true);
        let text = m.render();
        assert!(
            text.contains("vedette_operator_reconciles_total 2\n"),
            "{text}"
        );
        assert!(text.contains("vedette_operator_reconcile_errors_total 1\n"));
        assert!(text.contains("_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("_bucket{le=\"+Inf\"} 2\n"));
    }
}
