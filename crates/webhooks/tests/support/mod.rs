//! Harness pieces the dispatcher tests (`delivery`, `smtp`) share.

use std::time::Duration;

use vedette_model::Record;
use vedette_model::webhook::EndpointSpec;
use vedette_store::{Store, StoreConfig};
use vedette_webhooks::{DispatcherConfig, RetryPolicy};

/// A SQLite store in a fresh temporary directory, which lives as long as the returned guard.
pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&StoreConfig::sqlite(dir.path().join("data")))
        .await
        .expect("open SQLite store");
    (store, dir)
}

/// A fast schedule for tests: `n` attempts `step` apart, no jitter.
pub fn fast_retry(n: usize, step: Duration) -> RetryPolicy {
    let mut schedule = vec![Duration::ZERO];
    schedule.extend(std::iter::repeat_n(step, n.saturating_sub(1)));
    RetryPolicy {
        schedule,
        jitter: 0.0,
        max_retry_after: Duration::from_secs(5),
    }
}

/// A dispatcher configuration for tests: `retry`, no SSRF guard, quick polling from the
/// first event on.
pub fn config(retry: RetryPolicy) -> DispatcherConfig {
    DispatcherConfig {
        retry,
        ssrf_guard: false,
        poll_interval: Duration::from_millis(20),
        from_beginning: true,
        ..DispatcherConfig::default()
    }
}

/// Stores `spec` as endpoint `id`, without labels or a revision check.
pub async fn put_endpoint(store: &Store, id: &str, spec: &EndpointSpec) {
    store
        .put(&Record::new(id, spec.clone()), None)
        .await
        .expect("put endpoint");
}
