//! Live monitor state changes: the engine publishes each one once it is committed (a pause or
//! resume at once), and the event stream sends them as `resource.status` events, so a follower
//! (the Kubernetes operator) learns a monitor's first verdict — which raises no outbox event —
//! without polling. Not stored and not replayed: a follower reloads what it follows after a
//! reconnect. One server runs the checks of a database, so its feed holds every change.

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use vedette_model::MonitorState;

/// Changes a slow stream may fall behind by before it skips some (it logs how many).
pub const CAPACITY: usize = 4096;

/// A monitor's state changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The monitor.
    pub monitor_id: String,
    /// Its new state.
    pub state: MonitorState,
    /// When it entered that state.
    pub since: DateTime<Utc>,
}

/// Where state changes are published and followed; clones share the feed.
#[derive(Debug, Clone)]
pub struct StateFeed(broadcast::Sender<StateChange>);

impl Default for StateFeed {
    fn default() -> Self {
        Self(broadcast::channel(CAPACITY).0)
    }
}

impl StateFeed {
    /// Sends `change` to every current follower (none: dropped).
    pub fn publish(&self, change: StateChange) {
        let _ = self.0.send(change);
    }

    /// Follows the changes published from now on.
    pub fn follow(&self) -> broadcast::Receiver<StateChange> {
        self.0.subscribe()
    }
}
