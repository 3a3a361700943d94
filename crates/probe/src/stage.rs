//! What an attempt was doing when its timeout cut it off, so that the message says it ("timed
//! out after 5s waiting for the response from 10.0.0.7:443") instead of only how long it
//! took. The probes name each step as they enter it; [`Stage::run`] keeps the last name where
//! the timeout can still read it once the probe's future is dropped.

use std::future::Future;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static CURRENT: Arc<Mutex<Option<String>>>;
}

/// The step an attempt is in, readable after the attempt is dropped.
#[derive(Debug, Default)]
pub(crate) struct Stage(Arc<Mutex<Option<String>>>);

impl Stage {
    /// Runs `attempt` with the steps it enters ([`enter`]) recorded here.
    pub(crate) async fn run<F: Future>(&self, attempt: F) -> F::Output {
        CURRENT.scope(Arc::clone(&self.0), attempt).await
    }

    /// The last step entered (`waiting for the response from host:port`), if any.
    pub(crate) fn last(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
}

/// Records that the running attempt enters the step `what`; outside [`Stage::run`] (a probe
/// called on its own) nothing is recorded and `what` is not built.
pub(crate) fn enter(what: impl FnOnce() -> String) {
    let _ = CURRENT.try_with(|current| {
        if let Ok(mut slot) = current.lock() {
            *slot = Some(what());
        }
    });
}
