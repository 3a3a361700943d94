//! Vedette's storage: monitors, raw results, rollups, statuses, incidents, the events outbox,
//! heartbeats, maintenance windows, webhook endpoints and their queue, and the change feed of versioned resources, over SQLite
//! (WAL, embedded, the default) or PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver (`$n` placeholders, integers,
//! floats and text only): timestamps are unix milliseconds (so times read back are truncated to
//! the millisecond), JSON is text. Only the schema migrations differ per backend.

mod batch;
mod changes;
mod db;
mod deployments;
mod discovery;
mod error;
mod events;
mod heartbeat;
mod histogram;
mod incidents;
mod lock;
mod migrate;
mod monitors;
mod pauses;
mod resource;
mod results;
mod retention;
mod rollup;
mod series;
mod status;
mod tokens;
mod verifications;
pub mod webhooks;

pub use batch::CheckRecord;
pub use changes::{
    Change, ChangePage, ChangeSignals, LOCAL_CHANGES_KEPT, LocalChange, MAX_CHANGES_PAGE, Wake,
};
pub use db::{Backend, SQLITE_FILE, Store, StoreConfig};
pub use error::StoreError;
pub use events::MAX_EVENTS_PAGE;
pub use heartbeat::PingRecord;
pub use histogram::{HISTOGRAM_MIN_MS, HISTOGRAM_RELATIVE_ERROR, Histogram, nearest_rank};
pub use incidents::{
    Incident, IncidentChange, IncidentFilter, IncidentState, MAX_INCIDENTS_PAGE, TimelineEntry,
};
pub use lock::{ADVISORY_LOCK_KEY, InstanceLock, LOCK_FILE};
pub use migrate::SCHEMA_VERSION;
pub use monitors::MonitorRecord;
pub use pauses::{MAX_PAUSE_REASON_CHARS, RuntimePause};
pub use resource::{MaintenanceRecord, Stored};
pub use results::{MAX_RESULTS_PAGE, StoredResult};
pub use retention::{Retention, RetentionReport};
pub use rollup::{Bucket, FoldLimits, Folded, Resolution};
pub use series::Parts;
pub use status::{CATCH_UP_PAGE, CaughtUp, MonitorStatus};
pub use tokens::{NewToken, Revocation, Scope, TokenRecord, token_sha256};
pub use webhooks::{
    EndpointHealth, MessageAfterAttempt, MessageFilter, MessageStatus, NewWebhookMessage,
    WebhookAttempt, WebhookMessage,
};
