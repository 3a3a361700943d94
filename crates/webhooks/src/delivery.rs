//! The delivery engine: fans events from the outbox out to matching endpoints as durable
//! messages, and delivers them with retries.
//!
//! - **Fan-out**: events after the dispatcher's cursor are matched against every endpoint
//!   (type filter, label selector, integration support); the messages and the cursor move are
//!   written in one transaction, so each event is queued once per endpoint.
//! - **Delivery**: each endpoint with due messages gets its own drain task that claims a batch
//!   and sends up to `concurrency_per_endpoint` at once, within the endpoint's rate limit. A
//!   slow receiver only occupies its own task.
//! - **Claims**: a claim carries the dispatcher's owner id (random per dispatcher) and a lease.
//!   A dispatcher that stops attempts nothing more and releases its own claims at once, so its
//!   successor delivers them without waiting; one that dies leaves them to its lease. Claims of
//!   other owners are never touched, so replicas sharing a database cannot steal live claims.
//! - **Transport**: each message goes through its endpoint's channel (an HTTP request, signed
//!   with the endpoint's active secrets under `webhook-id`, the message id stable across
//!   retries; or an email through SMTP), which reports whether it was delivered, should be
//!   retried (perhaps after a delay the receiver asked for) or the endpoint is gone.
//! - **Outcome**: anything not delivered is retried on the [`RetryPolicy`]; a gone endpoint is
//!   disabled, as is one failing without a success for `disable_after`. Every attempt is logged
//!   with secrets redacted and bodies truncated.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use vedette_model::event::{EVENT_VERSION, WebhookEndpointDisabled};
use vedette_model::{Event, EventType};
use vedette_store::{
    MessageAfterAttempt, NewWebhookMessage, Store, StoreError, WebhookAttempt, WebhookMessage,
};

use crate::catalog::{Catalog, CatalogError};
pub use crate::channel::http::{RenderError, render_request, render_request_blocking};
use crate::channel::{ChannelSettings, Channels, Delivery, Verdict};
use crate::endpoint::EndpointRules;
use crate::retry::RetryPolicy;
use crate::samples;
use crate::templates::{Engine, TemplateLimits};
use vedette_model::webhook::EndpointSpec;

/// How the dispatcher behaves.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// When attempts are made.
    pub retry: RetryPolicy,
    /// An endpoint failing without a success for this long is disabled (default 5 days).
    pub disable_after: Duration,
    /// Refuse private, loopback and link-local destinations (default on).
    pub ssrf_guard: bool,
    /// How often the outbox and the queue are polled.
    pub poll_interval: Duration,
    /// Events read from the outbox per fan-out step.
    pub fan_out_batch: u32,
    /// Messages claimed per endpoint per step.
    pub claim_batch: u32,
    /// Requests in flight per endpoint.
    pub concurrency_per_endpoint: usize,
    /// Longest request or response body kept in the delivery log, in bytes.
    pub max_logged_body: usize,
    /// `User-Agent` of deliveries.
    pub user_agent: String,
    /// Name of the outbox cursor row (one per dispatcher group).
    pub cursor_name: String,
    /// A new cursor starts at the beginning of the outbox instead of at its end.
    pub from_beginning: bool,
    /// Integrations; the built-in catalog when `None`.
    pub catalog: Option<Arc<Catalog>>,
    /// Template sandbox limits.
    pub template_limits: TemplateLimits,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            disable_after: Duration::from_secs(5 * 86_400),
            ssrf_guard: true,
            poll_interval: Duration::from_millis(250),
            fan_out_batch: 500,
            claim_batch: 100,
            concurrency_per_endpoint: 8,
            max_logged_body: 16 * 1024,
            user_agent: concat!("Vedette-Webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
            cursor_name: "webhooks".to_owned(),
            from_beginning: false,
            catalog: None,
            template_limits: TemplateLimits::default(),
        }
    }
}

/// The dispatcher disabled an endpoint. The `webhook.endpoint.disabled` event is written to the
/// outbox in the same transaction as the disablement; this notice is for in-process listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDisabled {
    /// Endpoint id.
    pub endpoint_id: String,
    /// Why (`410 Gone`, `failing since ...`).
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What can stop the dispatcher or a call on it.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The catalog could not be loaded.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// No such endpoint.
    #[error("no webhook endpoint {0:?}")]
    UnknownEndpoint(String),
}

/// Queues a test delivery of the sample event of `event_type` to an endpoint (the API's "send
/// test event"); returns the message id. It goes through the normal queue, signing and log.
pub async fn enqueue_test_event(
    store: &Store,
    endpoint_id: &str,
    event_type: EventType,
) -> Result<String, DeliveryError> {
    if store.get::<EndpointSpec>(endpoint_id).await?.is_none() {
        return Err(DeliveryError::UnknownEndpoint(endpoint_id.to_owned()));
    }
    let mut event = samples::sample_event(event_type);
    event.id = format!("evt_test_{}", uuid::Uuid::now_v7().simple());
    event.occurred_at = Utc::now();
    let id = new_message_id();
    store
        .enqueue_webhook_message(&NewWebhookMessage {
            id: id.clone(),
            endpoint_id: endpoint_id.to_owned(),
            event,
            first_attempt_at: Utc::now(),
        })
        .await?;
    Ok(id)
}

/// The `webhook.endpoint.disabled` event of an endpoint disabled at `at` for `reason`.
pub fn disabled_event(endpoint_id: &str, reason: &str, at: DateTime<Utc>) -> Event {
    let data = WebhookEndpointDisabled {
        endpoint_id: endpoint_id.to_owned(),
        reason: reason.to_owned(),
        disabled_at: at,
    };
    Event {
        id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        event_type: EventType::WebhookEndpointDisabled,
        version: EVENT_VERSION,
        occurred_at: at,
        monitor_id: None,
        data: serde_json::to_value(data).unwrap_or_default(),
    }
}

/// A fresh, time-ordered message id (`msg_...`), the `webhook-id` of every attempt.
pub fn new_message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// A fresh owner id (`dsp_...`) for a dispatcher's claims: random, so no two dispatchers, nor
/// two runs of one process, share one.
pub fn new_owner_id() -> String {
    format!("dsp_{}", uuid::Uuid::new_v4().simple())
}

/// The webhook dispatcher; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: DispatcherConfig,
    catalog: Arc<Catalog>,
    channels: Channels,
    owner: String,
    disabled: broadcast::Sender<EndpointDisabled>,
    draining: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("owner", &self.inner.owner)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher over `store`, with a fresh owner id for its claims.
    pub fn new(store: Store, config: DispatcherConfig) -> Result<Self, DeliveryError> {
        let catalog = match &config.catalog {
            Some(c) => Arc::clone(c),
            None => Arc::new(Catalog::builtin()?),
        };
        let settings = ChannelSettings {
            engine: Engine::new(config.template_limits),
            catalog: Arc::clone(&catalog),
            ssrf_guard: config.ssrf_guard,
            max_logged_body: config.max_logged_body,
        };
        let channels =
            Channels::new(settings, &config.user_agent).map_err(DeliveryError::Client)?;
        let (disabled, _) = broadcast::channel(64);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                catalog,
                channels,
                owner: new_owner_id(),
                disabled,
                draining: Mutex::new(HashSet::new()),
                config,
            }),
        })
    }

    /// Endpoints the dispatcher disables from now on.
    pub fn subscribe_disabled(&self) -> broadcast::Receiver<EndpointDisabled> {
        self.inner.disabled.subscribe()
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.inner.catalog
    }

    /// The owner id this dispatcher's claims carry.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Makes the messages this dispatcher claimed but has not attempted due at once; returns
    /// how many. [`Dispatcher::run`] does this when it stops; call it after cutting a run
    /// short (an attempt cut off mid-way is then simply made again).
    pub async fn release_claims(&self) -> Result<u64, DeliveryError> {
        Ok(self
            .inner
            .store
            .release_webhook_claims(&self.inner.owner, Utc::now())
            .await?)
    }

    /// Runs until `stop` is cancelled: fans out new events and drains due messages. Once
    /// stopped it starts no attempt; those in flight finish, and then the messages it claimed
    /// but did not attempt are released (see [`Dispatcher::release_claims`]).
    pub async fn run(self, stop: CancellationToken) -> Result<(), DeliveryError> {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if let Err(e) = self.fan_out().await {
                tracing::warn!(error = %e, "webhook fan-out failed; retrying");
            }
            match self.inner.store.webhook_endpoints_due(Utc::now()).await {
                Ok(due) => {
                    for endpoint_id in due {
                        let fresh = self
                            .inner
                            .draining
                            .lock()
                            .map(|mut set| set.insert(endpoint_id.clone()))
                            .unwrap_or(false);
                        if fresh {
                            let this = self.clone();
                            let stop = stop.clone();
                            tasks.spawn(async move { this.drain(endpoint_id, stop).await });
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook queue poll failed; retrying"),
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.inner.config.poll_interval) => {}
            }
        }
        while tasks.join_next().await.is_some() {}
        match self.release_claims().await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released unattempted webhook claims"),
            Err(e) => tracing::warn!(
                error = %e,
                "cannot release webhook claims; they come due when their lease ends"
            ),
        }
        Ok(())
    }

    /// Moves events after the cursor into the queue.
    async fn fan_out(&self) -> Result<(), DeliveryError> {
        let store = &self.inner.store;
        let name = &self.inner.config.cursor_name;
        let mut from = match store.webhook_cursor(name).await? {
            Some(seq) => seq,
            None => {
                let start = if self.inner.config.from_beginning {
                    0
                } else {
                    store.last_event_seq().await?
                };
                store
                    .fan_out_webhook_messages(name, None, start, &[])
                    .await?;
                return Ok(());
            }
        };
        loop {
            let events = store
                .list_events(Some(from), self.inner.config.fan_out_batch)
                .await?;
            let Some(to) = events.last().map(|(seq, _)| *seq) else {
                return Ok(());
            };
            let endpoints = self.load_endpoints().await?;
            let mut labels: HashMap<String, Option<BTreeMap<String, String>>> = HashMap::new();
            let mut messages = Vec::new();
            let first_attempt_at = Utc::now()
                + chrono::Duration::from_std(self.inner.config.retry.first_delay())
                    .unwrap_or_default();
            for (_, event) in &events {
                let monitor_labels = match &event.monitor_id {
                    Some(id) => {
                        if !labels.contains_key(id) {
                            let found = store.get_monitor(id).await?.map(|m| m.labels);
                            labels.insert(id.clone(), found);
                        }
                        labels.get(id).and_then(Option::as_ref)
                    }
                    None => None,
                };
                for (endpoint_id, spec) in &endpoints {
                    if spec.matches(event, monitor_labels, &self.inner.catalog) {
                        messages.push(NewWebhookMessage {
                            id: new_message_id(),
                            endpoint_id: endpoint_id.clone(),
                            event: event.clone(),
                            first_attempt_at,
                        });
                    }
                }
            }
            let full = events.len()
                >= usize::try_from(self.inner.config.fan_out_batch).unwrap_or(usize::MAX);
            if store
                .fan_out_webhook_messages(name, Some(from), to, &messages)
                .await?
            {
                from = to;
            } else {
                // Another dispatcher advanced the cursor; continue from where it is now.
                match store.webhook_cursor(name).await? {
                    Some(seq) => from = seq,
                    None => return Ok(()),
                }
                continue;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Every enabled endpoint.
    async fn load_endpoints(&self) -> Result<Vec<(String, EndpointSpec)>, DeliveryError> {
        Ok(self
            .inner
            .store
            .list::<EndpointSpec>()
            .await?
            .into_iter()
            .filter(|record| record.spec.enabled)
            .map(|record| (record.id, record.spec))
            .collect())
    }

    /// Delivers an endpoint's due messages until none is left.
    async fn drain(&self, endpoint_id: String, stop: CancellationToken) {
        if let Err(e) = self.drain_inner(&endpoint_id, &stop).await {
            tracing::warn!(endpoint = %endpoint_id, error = %e, "webhook delivery step failed");
        }
        if let Ok(mut set) = self.inner.draining.lock() {
            set.remove(&endpoint_id);
        }
    }

    async fn drain_inner(
        &self,
        endpoint_id: &str,
        stop: &CancellationToken,
    ) -> Result<(), DeliveryError> {
        let store = &self.inner.store;
        let next_slot = tokio::sync::Mutex::new(Instant::now());
        while !stop.is_cancelled() {
            let Some(record) = store.get::<EndpointSpec>(endpoint_id).await? else {
                return Ok(());
            };
            let spec = record.spec;
            if !spec.enabled {
                return Ok(());
            }
            let timeout = Duration::from_millis(spec.timeout.as_millis());
            let now = Utc::now();
            let lease = now
                + chrono::Duration::from_std(timeout + Duration::from_secs(30)).unwrap_or_default();
            let messages = store
                .claim_webhook_messages(
                    endpoint_id,
                    &self.inner.owner,
                    now,
                    lease,
                    self.inner.config.claim_batch,
                )
                .await?;
            if messages.is_empty() {
                return Ok(());
            }
            let gone = std::sync::atomic::AtomicBool::new(false);
            let interval = spec
                .rate_limit
                .map(|r| Duration::from_secs_f64(1.0 / f64::from(r.max(1))));
            futures::stream::iter(messages)
                .for_each_concurrent(self.inner.config.concurrency_per_endpoint.max(1), |m| {
                    let spec = &spec;
                    let gone = &gone;
                    let next_slot = &next_slot;
                    async move {
                        if gone.load(std::sync::atomic::Ordering::Relaxed) || stop.is_cancelled() {
                            return;
                        }
                        if let Some(interval) = interval {
                            let wait_until = {
                                let mut slot = next_slot.lock().await;
                                let at = (*slot).max(Instant::now());
                                *slot = at + interval;
                                at
                            };
                            tokio::select! {
                                () = stop.cancelled() => return,
                                () = tokio::time::sleep_until(wait_until.into()) => {}
                            }
                        }
                        match self.attempt(spec, &m).await {
                            Ok(disabled) => {
                                if disabled {
                                    gone.store(true, std::sync::atomic::Ordering::Relaxed);
                                }
                            }
                            Err(e) => tracing::warn!(
                                endpoint = %m.endpoint_id, message = %m.id, error = %e,
                                "recording a webhook attempt failed; it will be retried"
                            ),
                        }
                    }
                })
                .await;
            if gone.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Makes one attempt and records it; answers whether the endpoint got disabled.
    async fn attempt(
        &self,
        spec: &EndpointSpec,
        m: &WebhookMessage,
    ) -> Result<bool, DeliveryError> {
        let started_at = Utc::now();
        let clock = Instant::now();
        let secrets = spec.secret_values(&self.inner.catalog);
        let delivery = Delivery {
            spec,
            message_id: &m.id,
            event: &m.event,
            secrets: &secrets,
        };
        let result = self.inner.channels.for_endpoint(spec).send(&delivery).await;
        let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
        let now = Utc::now();
        let attempt_no = m.attempts + 1;
        let success = result.verdict == Verdict::Delivered;
        let store = &self.inner.store;
        let mut disable_reason = None;
        let after = match result.verdict {
            Verdict::Delivered => MessageAfterAttempt::Succeeded,
            Verdict::Gone { reason } => {
                disable_reason = Some(reason);
                MessageAfterAttempt::Failed
            }
            Verdict::Retry { after } => {
                match self.inner.config.retry.next_attempt(attempt_no, now, after) {
                    Some(at) => MessageAfterAttempt::RetryAt(at),
                    None => MessageAfterAttempt::Failed,
                }
            }
        };
        store
            .complete_webhook_attempt(
                &WebhookAttempt {
                    id: 0,
                    message_id: m.id.clone(),
                    endpoint_id: m.endpoint_id.clone(),
                    attempt: attempt_no,
                    started_at,
                    duration_ms,
                    outcome: if success { "success" } else { "failure" }.to_owned(),
                    request: result.request,
                    response_status: result.status,
                    response: result.response,
                    error: result.error,
                },
                after,
            )
            .await?;
        let failing_since = store
            .record_webhook_endpoint_health(&m.endpoint_id, success, now)
            .await?;
        if disable_reason.is_none()
            && let Some(since) = failing_since
            && (now - since).to_std().unwrap_or_default() >= self.inner.config.disable_after
        {
            disable_reason = Some(format!(
                "no successful delivery since {}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        if let Some(reason) = disable_reason {
            let event = disabled_event(&m.endpoint_id, &reason, now);
            if store
                .disable_webhook_endpoint(&m.endpoint_id, &reason, now, Some(&event))
                .await?
                .is_some()
            {
                tracing::warn!(endpoint = %m.endpoint_id, %reason, "webhook endpoint disabled");
                // Nobody listening is fine.
                let _ = self.inner.disabled.send(EndpointDisabled {
                    endpoint_id: m.endpoint_id.clone(),
                    reason,
                    at: now,
                });
            }
            return Ok(true);
        }
        Ok(false)
    }
}
