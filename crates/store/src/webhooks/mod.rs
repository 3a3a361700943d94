//! Durable webhook state: endpoints, the fan-out cursor over the events outbox, the message
//! queue and the delivery log.
//!
//! The dispatcher (crate `vedette-webhooks`) reads events after its cursor, and in one
//! transaction inserts one message per matching endpoint and advances the cursor, so an event
//! is fanned out exactly once even across a crash or several replicas (the cursor moves by
//! compare-and-set and `(endpoint_id, event_id)` is unique). Messages are claimed with a lease
//! (their `next_attempt_at` moves past the attempt's deadline) under the claiming dispatcher's
//! owner id: a dispatcher that stops releases its own claims at once, and one that dies
//! mid-attempt leaves them to be retried after the lease. Delivery is at least once, always
//! under the same message id.
//!
//! One module each: `endpoints` (the health kept beside the endpoints, which are versioned
//! resources), `queue` (the fan-out cursor, messages, claims and leases) and `log` (the
//! delivery log, one row per attempt).

mod endpoints;
mod log;
mod queue;

pub use endpoints::EndpointHealth;
pub use log::WebhookAttempt;
pub use queue::{
    MessageAfterAttempt, MessageFilter, MessageStatus, NewWebhookMessage, WebhookMessage,
};

use crate::StoreError;

/// Most rows one page of messages or attempts returns.
pub const MAX_WEBHOOK_PAGE: u32 = 1000;

/// A stored status code as `u16`.
fn small(v: Option<i64>, what: &str) -> Result<Option<u16>, StoreError> {
    v.map(|n| u16::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}"))))
        .transpose()
}

/// A stored count as `u32`.
fn count(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}
