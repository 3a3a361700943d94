//! The delivery engine: fans events from the outbox out to matching endpoints as durable
//! messages, and delivers them with retries.
//!
//! - **Fan-out**: events after the dispatcher's cursor are matched against every endpoint
//!   (type filter, label selector, integration support); the messages and the cursor move are
//!   written in one transaction, so each event is queued once per endpoint.
//! - **Delivery**: each endpoint with due messages gets its own drain task that claims a batch
//!   (with a lease, so a crash leaves them to be retried) and sends up to
//!   `concurrency_per_endpoint` at once, within the endpoint's rate limit. A slow receiver
//!   only occupies its own task.
//! - **Outcome**: only 2xx is success. Anything else is retried on the [`RetryPolicy`]
//!   (honouring `Retry-After`); `410 Gone` disables the endpoint, as does failing without a
//!   success for `disable_after`. Redirects are not followed. Every attempt is logged with
//!   secrets redacted and bodies truncated.
//! - **Signing**: each attempt carries `webhook-id` (the message id, stable across retries),
//!   `webhook-timestamp` and `webhook-signature` from the endpoint's active secrets.
//! - **Email**: endpoints with `email` set are sent through SMTP instead ([`crate::smtp`]); a
//!   2xx reply is success, everything else is retried the same way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use vedette_model::event::{EVENT_VERSION, WebhookEndpointDisabled};
use vedette_model::{Event, EventType};
use vedette_store::{
    MessageAfterAttempt, NewWebhookMessage, Store, StoreError, WebhookAttempt, WebhookMessage,
};

use crate::catalog::{Catalog, CatalogError, RenderedRequest};
use crate::endpoint::{Auth, EndpointSpec, HeaderValueSpec};
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::signing::Signer;
use crate::templates::{Admission, Engine, TemplateError, TemplateLimits};
use crate::{samples, ssrf};

/// Shown in the delivery log in place of a secret.
const REDACTED_LOG: &str = "[redacted]";

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
    /// The stored endpoint spec cannot be read.
    #[error("webhook endpoint {id:?} has an unreadable spec: {message}")]
    BadSpec {
        /// Endpoint id.
        id: String,
        /// Why.
        message: String,
    },
}

/// Why a request could not be built for an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template failed.
    #[error("template: {0}")]
    Template(#[from] TemplateError),
    /// The endpoint names an integration the catalog does not have.
    #[error("unknown integration {0:?}")]
    UnknownIntegration(String),
    /// Neither the endpoint nor its integration gives a URL.
    #[error("the endpoint has no URL")]
    MissingUrl,
}

/// The request an endpoint gets for `event` (before auth and signature headers): through its
/// integration, its template, or the event as JSON.
pub fn render_request(
    spec: &EndpointSpec,
    catalog: &Catalog,
    engine: &Engine,
    event: &Event,
) -> Result<RenderedRequest, RenderError> {
    if let Some(integration) = &spec.integration {
        let manifest = catalog
            .get(&integration.name)
            .ok_or_else(|| RenderError::UnknownIntegration(integration.name.clone()))?;
        return Ok(manifest.render(engine, event, &integration.params)?);
    }
    let url = spec.url.clone().ok_or(RenderError::MissingUrl)?;
    let (content_type, body) = match &spec.template {
        Some(t) => {
            let ctx = crate::templates::context(event, &json!({}));
            let json_like = t.content_type.contains("json");
            let body = if json_like {
                engine.render_json(&t.body, &ctx)?.to_string()
            } else {
                engine.render(&t.body, &ctx)?
            };
            (t.content_type.clone(), body)
        }
        None => (
            "application/json".to_owned(),
            serde_json::to_string(event).unwrap_or_default(),
        ),
    };
    Ok(RenderedRequest {
        method: "POST".to_owned(),
        url,
        headers: Vec::new(),
        content_type,
        body,
    })
}

/// [`render_request`] off the async runtime, on the engine's bounded blocking pool (see
/// [`Engine::run`]): deliveries wait for a render slot, request handlers pass
/// [`Admission::FailFast`] and get [`crate::templates::TemplateErrorKind::Busy`] when saturated.
pub async fn render_request_blocking(
    spec: &EndpointSpec,
    catalog: &Arc<Catalog>,
    engine: &Engine,
    event: &Event,
    admission: Admission,
) -> Result<RenderedRequest, RenderError> {
    let (spec, catalog, event) = (spec.clone(), Arc::clone(catalog), event.clone());
    engine
        .run(admission, move |engine| {
            render_request(&spec, &catalog, engine, &event)
        })
        .await?
}

/// Queues a test delivery of the sample event of `event_type` to an endpoint (the API's "send
/// test event"); returns the message id. It goes through the normal queue, signing and log.
pub async fn enqueue_test_event(
    store: &Store,
    endpoint_id: &str,
    event_type: EventType,
) -> Result<String, DeliveryError> {
    if store.get_webhook_endpoint(endpoint_id).await?.is_none() {
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

/// The webhook dispatcher; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: DispatcherConfig,
    catalog: Arc<Catalog>,
    engine: Engine,
    client: reqwest::Client,
    disabled: broadcast::Sender<EndpointDisabled>,
    draining: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// What one attempt produced.
struct AttemptResult {
    request: serde_json::Value,
    status: Option<u16>,
    response: Option<serde_json::Value>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

impl Dispatcher {
    /// A dispatcher over `store`.
    pub fn new(store: Store, config: DispatcherConfig) -> Result<Self, DeliveryError> {
        let catalog = match &config.catalog {
            Some(c) => Arc::clone(c),
            None => Arc::new(Catalog::builtin()?),
        };
        let client = build_client(&config)?;
        let (disabled, _) = broadcast::channel(64);
        Ok(Self {
            inner: Arc::new(Inner {
                engine: Engine::new(config.template_limits),
                store,
                catalog,
                client,
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

    /// Runs until `stop` is cancelled: fans out new events and drains due messages. In-flight
    /// attempts finish before it returns; messages claimed but not attempted come due again
    /// when their lease ends.
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

    /// Every enabled endpoint whose spec reads back.
    async fn load_endpoints(&self) -> Result<Vec<(String, EndpointSpec)>, DeliveryError> {
        let mut out = Vec::new();
        for record in self.inner.store.list_webhook_endpoints().await? {
            if !record.enabled() {
                continue;
            }
            match serde_json::from_value::<EndpointSpec>(record.spec) {
                Ok(spec) => out.push((record.id, spec)),
                Err(e) => {
                    tracing::warn!(endpoint = %record.id, error = %e, "skipping webhook endpoint with an unreadable spec");
                }
            }
        }
        Ok(out)
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
            let Some(record) = store.get_webhook_endpoint(endpoint_id).await? else {
                return Ok(());
            };
            if !record.enabled() {
                return Ok(());
            }
            let spec: EndpointSpec =
                serde_json::from_value(record.spec).map_err(|e| DeliveryError::BadSpec {
                    id: endpoint_id.to_owned(),
                    message: e.to_string(),
                })?;
            let timeout = Duration::from_millis(spec.timeout.as_millis());
            let now = Utc::now();
            let lease = now
                + chrono::Duration::from_std(timeout + Duration::from_secs(30)).unwrap_or_default();
            let messages = store
                .claim_webhook_messages(endpoint_id, now, lease, self.inner.config.claim_batch)
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
                        if gone.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        if let Some(interval) = interval {
                            let wait_until = {
                                let mut slot = next_slot.lock().await;
                                let at = (*slot).max(Instant::now());
                                *slot = at + interval;
                                at
                            };
                            tokio::time::sleep_until(wait_until.into()).await;
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
        let result = self.send(spec, m).await;
        let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
        let now = Utc::now();
        let attempt_no = m.attempts + 1;
        let success = result.status.is_some_and(|s| (200..300).contains(&s));
        let store = &self.inner.store;
        let mut disable_reason = None;
        let after = if success {
            MessageAfterAttempt::Succeeded
        } else if result.status == Some(410) && spec.email.is_none() {
            disable_reason = Some("the receiver answered 410 Gone".to_owned());
            MessageAfterAttempt::Failed
        } else {
            match self
                .inner
                .config
                .retry
                .next_attempt(attempt_no, now, result.retry_after)
            {
                Some(at) => MessageAfterAttempt::RetryAt(at),
                None => MessageAfterAttempt::Failed,
            }
        };
        let error = match (&result.error, result.status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(s)) if !success => Some(format!("receiver answered {s}")),
            _ => None,
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
                    error,
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

    /// Builds, signs and sends one request; never fails (failures are part of the result).
    async fn send(&self, spec: &EndpointSpec, m: &WebhookMessage) -> AttemptResult {
        let secrets = spec.secret_values(&self.inner.catalog);
        if let Some(email) = &spec.email {
            let opts = crate::smtp::SendOptions {
                engine: &self.inner.engine,
                ssrf_guard: self.inner.config.ssrf_guard,
                max_logged_body: self.inner.config.max_logged_body,
                secrets: &secrets,
            };
            let r = crate::smtp::deliver(spec, email, &m.id, &m.event, &opts).await;
            return AttemptResult {
                request: r.request,
                status: r.code,
                response: r.response,
                error: r.error,
                retry_after: None,
            };
        }
        let redact = |text: &str| redact_secrets(text, &secrets);
        let fail = |request: serde_json::Value, error: String| AttemptResult {
            request,
            status: None,
            response: None,
            error: Some(redact(&error)),
            retry_after: None,
        };
        let rendered = match render_request_blocking(
            spec,
            &self.inner.catalog,
            &self.inner.engine,
            &m.event,
            Admission::Wait,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return fail(json!({}), e.to_string()),
        };
        let url = match crate::endpoint::check_url(&rendered.url) {
            Ok(u) => u,
            Err(e) => {
                return fail(
                    json!({"url": redact(&rendered.url)}),
                    format!("invalid URL: {e}"),
                );
            }
        };
        let method = match http::Method::from_bytes(rendered.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return fail(json!({}), format!("invalid method {:?}", rendered.method)),
        };
        // Headers: content type, integration/template headers, custom headers, auth, signature.
        let mut headers: Vec<(String, String, bool)> = vec![(
            "content-type".to_owned(),
            rendered.content_type.clone(),
            false,
        )];
        for (k, v) in &rendered.headers {
            let sensitive = k.eq_ignore_ascii_case("authorization");
            headers.push((k.clone(), v.clone(), sensitive));
        }
        for (k, v) in &spec.headers {
            let sensitive = matches!(v, HeaderValueSpec::Secret { .. });
            headers.push((k.clone(), v.expose().to_owned(), sensitive));
        }
        match &spec.auth {
            Some(Auth::Basic { username, password }) => {
                use base64::Engine as _;
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                headers.push(("authorization".to_owned(), format!("Basic {token}"), true));
            }
            Some(Auth::Bearer { token }) => headers.push((
                "authorization".to_owned(),
                format!("Bearer {}", token.expose()),
                true,
            )),
            Some(Auth::ApiKey { header, value }) => {
                headers.push((header.clone(), value.expose().to_owned(), true));
            }
            None => {}
        }
        let timestamp = Utc::now().timestamp();
        let signer = match Signer::from_secrets(spec.active_secrets(Utc::now())) {
            Ok(s) => s,
            Err(e) => return fail(json!({}), format!("signing secret: {e}")),
        };
        for (k, v) in signer.headers(&m.id, timestamp, rendered.body.as_bytes()) {
            headers.push((k.to_owned(), v, false));
        }
        let request_log = json!({
            "method": rendered.method,
            "url": redact(url.as_str()),
            "headers": headers.iter().map(|(k, v, sensitive)| {
                let shown = if *sensitive { REDACTED_LOG.to_owned() } else { redact(v) };
                (k.clone(), serde_json::Value::String(shown))
            }).collect::<serde_json::Map<_, _>>(),
            "body": truncate(&redact(&rendered.body), self.inner.config.max_logged_body),
        });
        if self.inner.config.ssrf_guard
            && let Err(e) = ssrf::check_literal_host(&url)
        {
            return fail(request_log, e);
        }
        let mut req = self
            .inner
            .client
            .request(method, url)
            .timeout(Duration::from_millis(spec.timeout.as_millis()))
            .body(rendered.body);
        for (k, v, _) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return fail(request_log, describe(e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let response_headers: serde_json::Map<String, serde_json::Value> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                )
            })
            .collect();
        let limit = self.inner.config.max_logged_body;
        let mut body = Vec::new();
        let mut body_error = None;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= limit {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    body_error = Some(describe(e));
                    break;
                }
            }
        }
        AttemptResult {
            request: request_log,
            status: Some(status),
            response: Some(json!({
                "headers": response_headers,
                "body": truncate(&String::from_utf8_lossy(&body), limit),
            })),
            error: body_error.map(|e| redact(&e)),
            retry_after,
        }
    }
}

fn build_client(config: &DispatcherConfig) -> Result<reqwest::Client, DeliveryError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DeliveryError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(config.user_agent.clone())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60));
    if config.ssrf_guard {
        builder = builder.dns_resolver(Arc::new(ssrf::GuardedResolver));
    }
    builder
        .build()
        .map_err(|e| DeliveryError::Client(describe(e)))
}

/// An HTTP error without its URL (which may carry a token), with its causes.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let e = e.without_url();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `text` with every secret value replaced by `[redacted]`.
pub(crate) fn redact_secrets(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED_LOG);
        }
    }
    out
}

/// At most `limit` bytes of `text` (cut at a character boundary), marked when cut.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes]", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_truncation() {
        let secrets = vec!["s3cr3t-token".to_owned(), "ab".to_owned()];
        assert_eq!(
            redact_secrets("https://x/s3cr3t-token?ab", &secrets),
            "https://x/[redacted]?ab"
        );
        assert_eq!(truncate("héllo", 2), "h… [truncated, 6 bytes]");
        assert_eq!(truncate("hi", 2), "hi");
    }
}
