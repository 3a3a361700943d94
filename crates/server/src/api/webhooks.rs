//! `/webhooks` and `/messages`: webhook endpoints, served by the shared resource handlers
//! ([`super::crud`]) with secrets redacted in every answer (the signing secret is shown once,
//! on create and on rotation); and beside them previews, test events, secret rotation and the
//! delivery log with replay and recovery.
//!
//! Deliveries themselves are made by the dispatcher `serve` runs; these routes only write the
//! endpoints and queue messages.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::webhook::{EndpointSpec, IntegrationRef, Secret, SigningSecret, TemplateSpec};
use vedette_model::{Audience, Event, EventType, FieldError, REDACTED, Record};
use vedette_store::{MessageFilter, MessageStatus, WebhookAttempt, WebhookMessage};
use vedette_webhooks::catalog::Catalog;
use vedette_webhooks::delivery::{self, RenderError};
use vedette_webhooks::templates::{Admission, TemplateErrorKind};
use vedette_webhooks::{EndpointRules, Engine, TemplateLimits, samples, signing};

use super::ApiState;
use super::body::{self, Envelope, Spec};
use super::crud::{self, ApiResource};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::{self, Destination};
use super::time::parse_time;
use crate::app::AppState;

const DELIVERY_CURSOR: &str = "deliveries";
/// Fields of a webhook answer that a write ignores, besides those every resource has.
const READ_ONLY: [&str; 5] = [
    "failing_since",
    "disabled_at",
    "disabled_reason",
    "deliveries",
    "signing_secret",
];
/// How long the previous secret keeps signing after a rotation, by default.
pub const DEFAULT_OVERLAP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Longest rotation overlap accepted.
pub const MAX_OVERLAP: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// What the webhook routes share with the dispatcher: the integration catalog (built-in plus
/// `--webhook-catalog-dir`) and the sandboxed template engine.
#[derive(Debug)]
pub struct WebhookServices {
    catalog: Arc<Catalog>,
    templates: Engine,
}

impl WebhookServices {
    /// Services over `catalog`, rendering with `limits`.
    pub fn new(catalog: Arc<Catalog>, limits: TemplateLimits) -> Self {
        Self {
            catalog,
            templates: Engine::new(limits),
        }
    }

    /// The integration catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The template engine.
    pub fn templates(&self) -> &Engine {
        &self.templates
    }
}

/// Messages of an endpoint per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryCounts {
    /// Waiting for an attempt (or being attempted).
    pub pending: u64,
    /// Delivered (a 2xx answer).
    pub succeeded: u64,
    /// Given up on (attempts exhausted, or the endpoint was disabled).
    pub failed: u64,
}

impl DeliveryCounts {
    /// The counts of endpoint `id`.
    async fn of(state: &ApiState, id: &str) -> ApiResult<Self> {
        let counts = state.engine.store().count_webhook_messages(id).await?;
        let count = |s: MessageStatus| counts.get(&s).copied().unwrap_or(0);
        Ok(Self {
            pending: count(MessageStatus::Pending),
            succeeded: count(MessageStatus::Succeeded),
            failed: count(MessageStatus::Failed),
        })
    }
}

/// A webhook endpoint as the API shows it: every secret replaced by `********`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Webhook")]
pub struct WebhookView {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// The endpoint, secrets redacted.
    pub spec: EndpointSpec,
    /// Bumped on every change; sent as the ETag.
    pub version: i64,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Start of the current run of failed attempts; `null` while healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the dispatcher disabled the endpoint; writing it with `enabled: true` clears this.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled (`the receiver answered 410 Gone`, ...).
    pub disabled_reason: Option<String>,
    /// Messages per status (in `GET /webhooks/{id}` answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<DeliveryCounts>,
}

/// A webhook endpoint with its newest signing secret, shown only when it is created or its
/// secret rotated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "CreatedWebhook")]
pub struct CreatedWebhookView {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The secret that signs from now on (`whsec_...`, or `whsk_...` for Ed25519). Store it:
    /// it is not shown again.
    pub signing_secret: String,
    /// For an Ed25519 secret, the public key (`whpk_...`) receivers verify with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// Checked against the catalog and template engine once secrets are restored, in
/// [`Webhooks::prepare`].
impl Spec for EndpointSpec {}

/// The webhook endpoint kind of the API: served by the shared handlers ([`super::crud`]), with
/// its signing secret made on create and shown only then, secrets sent back as `********`
/// kept while the destination stays, and the delivery health beside the spec.
pub struct Webhooks;

impl ApiResource for Webhooks {
    type Spec = EndpointSpec;
    type View = WebhookView;
    const KIND: &'static str = "webhook endpoint";
    const COLLECTION: &'static str = "webhooks";
    const ID_PREFIX: &'static str = "wh";
    const NAME: &'static str = "Webhook";
    const NAMES: &'static str = "Webhooks";
    const CREATED: &'static str = "CreatedWebhook";
    const RESERVED_IDS: &'static [&'static str] = &["preview"];

    /// Read-only fields of a webhook answer are ignored too, and type errors of signing
    /// secrets do not quote the value.
    fn parse(body: Value) -> ApiResult<Envelope<EndpointSpec>> {
        let body = match body {
            Value::Object(mut map) => {
                for key in READ_ONLY {
                    map.remove(key);
                }
                Value::Object(map)
            }
            other => other,
        };
        body::parse::<EndpointSpec>(body).map_err(hide_secret_values)
    }

    fn name(spec: &EndpointSpec) -> Option<&str> {
        spec.integration.as_ref().map(|i| i.name.as_str())
    }

    async fn view(
        state: &ApiState,
        record: Record<EndpointSpec>,
        audience: Audience,
    ) -> ApiResult<WebhookView> {
        let store = state.engine.store();
        let health = store.webhook_endpoint_health(&record.id).await?;
        let health = health.unwrap_or_default();
        let mut spec = record.spec.redacted(state.webhooks.catalog());
        if audience == Audience::Reader {
            spec.url = spec.url.as_deref().map(hide_query);
        }
        Ok(WebhookView {
            id: record.id,
            labels: record.labels,
            spec,
            version: record.version,
            created_at: record.created_at,
            updated_at: record.updated_at,
            failing_since: health.failing_since,
            disabled_at: health.disabled_at,
            disabled_reason: health.disabled_reason,
            deliveries: None,
        })
    }

    /// With the endpoint's message counts.
    async fn detail(
        state: &ApiState,
        record: Record<EndpointSpec>,
        audience: Audience,
    ) -> ApiResult<WebhookView> {
        let deliveries = DeliveryCounts::of(state, &record.id).await?;
        Ok(WebhookView {
            deliveries: Some(deliveries),
            ..Self::view(state, record, audience).await?
        })
    }

    /// With the signing secret, shown only here; not to be cached.
    async fn created(state: &ApiState, record: Record<EndpointSpec>) -> ApiResult<Response> {
        tracing::info!(webhook = %record.id, "webhook endpoint created");
        let location = crud::location::<Self>(&record.id);
        let version = record.version;
        let body = with_secret(state, record).await?;
        Ok(no_store(resource::created(location, version, body)))
    }

    fn shown(state: &ApiState, spec: &EndpointSpec) -> EndpointSpec {
        spec.redacted(state.webhooks.catalog())
    }

    /// On a create a signing secret is made when none is given. On a replace, secrets sent
    /// back as `********` (and a URL query a read token saw as `?********`) are restored from
    /// the stored spec while the destination stays the same, and an absent `secrets` list
    /// keeps the stored one. Then the spec is checked against the catalog, the template
    /// engine and the URL rules.
    fn prepare(
        state: &ApiState,
        wanted: &mut Record<EndpointSpec>,
        stored: Option<&Record<EndpointSpec>>,
    ) -> ApiResult<()> {
        let services = &state.webhooks;
        let spec = &mut wanted.spec;
        let mut kept = Vec::new();
        match stored {
            Some(stored) => {
                let previous = &stored.spec;
                let before = serde_json::to_value(&*spec).map_err(|e| Problem::internal(&e))?;
                if spec.secrets.is_empty() {
                    spec.secrets.clone_from(&previous.secrets);
                } else {
                    spec.restore_redacted(previous);
                }
                if let Some(field) = restore_url_query(spec, previous)? {
                    kept.push(field);
                }
                let after = serde_json::to_value(&*spec).map_err(|e| Problem::internal(&e))?;
                restored_paths(&before, &after, "spec", &mut kept);
            }
            None => spec.ensure_secret(),
        }
        spec.validate(services.catalog(), services.templates())
            .map_err(|errors| {
                Problem::validation(
                    errors
                        .into_iter()
                        .map(|e| FieldError::new(format!("spec.{}", e.field), e.message))
                        .collect(),
                )
            })?;
        if let Some(stored) = stored {
            resource::ensure_kept_secrets_stay(
                &kept,
                destination(services, &stored.spec).as_ref(),
                destination(services, spec).as_ref(),
            )?;
        }
        Ok(())
    }

    /// With its messages and delivery log.
    async fn remove(state: &ApiState, existing: &Record<EndpointSpec>) -> ApiResult<()> {
        state
            .engine
            .store()
            .delete::<EndpointSpec>(&existing.id)
            .await?;
        tracing::info!(webhook = %existing.id, "webhook endpoint deleted");
        Ok(())
    }
}

/// `record` as a writer sees it, with its newest signing secret (and an Ed25519 secret's
/// public key): the answer of a create or a rotation.
async fn with_secret(
    state: &ApiState,
    record: Record<EndpointSpec>,
) -> ApiResult<CreatedWebhookView> {
    let signing_secret = newest_secret(&record.spec);
    let public_key = public_key(&record.spec);
    Ok(CreatedWebhookView {
        webhook: Webhooks::view(state, record, Audience::Writer).await?,
        signing_secret,
        public_key,
    })
}

/// Where an endpoint's requests (and so its secrets) go: the SMTP server of an email endpoint,
/// the URL an integration renders for a sample event, or `spec.url`.
fn destination(services: &WebhookServices, spec: &EndpointSpec) -> Option<Destination> {
    if let Some(email) = &spec.email {
        return Some(Destination::smtp(&email.smtp.host, email.smtp.port()));
    }
    if let Some(integration) = &spec.integration {
        let manifest = services.catalog().get(&integration.name)?;
        let event = samples::sample_event(EventType::MonitorDown);
        let rendered = manifest
            .render(services.templates(), &event, &integration.params)
            .ok()?;
        return Destination::of_url(&rendered.url);
    }
    Destination::of_url(spec.url.as_deref()?)
}

/// Paths (below `path`) where `before` held [`REDACTED`] and `after` a restored secret; the
/// signing secrets are left out (they never leave the server).
fn restored_paths(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::String(b), Value::String(a)) if b == REDACTED && a != REDACTED => {
            out.push(path.to_owned());
        }
        (Value::Object(b), Value::Object(a)) => {
            for (key, value) in b {
                if path == "spec" && key == "secrets" {
                    continue;
                }
                if let Some(restored) = a.get(key) {
                    restored_paths(value, restored, &format!("{path}.{key}"), out);
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            for (i, (value, restored)) in b.iter().zip(a).enumerate() {
                restored_paths(value, restored, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// A URL whose query a read token saw as `?********`: put the stored query back (a GET body
/// sent back as is); the field name when it was restored, 422 when nothing is stored.
fn restore_url_query(
    spec: &mut EndpointSpec,
    previous: &EndpointSpec,
) -> ApiResult<Option<String>> {
    let Some(base) = spec
        .url
        .as_deref()
        .and_then(|u| u.strip_suffix(REDACTED))
        .and_then(|u| u.strip_suffix('?'))
    else {
        return Ok(None);
    };
    let stored_query = previous
        .url
        .as_deref()
        .and_then(|u| u.split_once('?'))
        .map(|(_, query)| query);
    match stored_query {
        Some(query) => {
            spec.url = Some(format!("{base}?{query}"));
            Ok(Some("spec.url".to_owned()))
        }
        None => Err(Problem::invalid(
            "spec.url",
            format!(
                "{REDACTED:?} as the query keeps the stored query, but there is none; send the \
                 real URL"
            ),
        )),
    }
}

/// `url` with its query string, which often carries a token, shown as `?********`.
fn hide_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?{REDACTED}"),
        None => url.to_owned(),
    }
}

/// Type errors of signing secrets would quote the value; say only what was expected.
fn hide_secret_values(mut problem: Problem) -> Problem {
    problem.errors = vedette_model::decode::hide_secret_values(std::mem::take(&mut problem.errors));
    if problem.errors.len() == 1 {
        problem.detail = problem.errors[0].to_string();
    }
    problem
}

/// The newest signing secret of a spec, to show once.
fn newest_secret(spec: &EndpointSpec) -> String {
    spec.secrets
        .first()
        .map(|s| s.secret.expose().to_owned())
        .unwrap_or_default()
}

/// The `whpk_` public key of an Ed25519 newest secret.
fn public_key(spec: &EndpointSpec) -> Option<String> {
    let newest = spec.secrets.first()?.secret.expose();
    newest
        .starts_with(signing::SECRET_KEY_PREFIX)
        .then(|| signing::public_key_of(newest).ok())
        .flatten()
}

/// A JSON answer that must not be cached (it carries a secret).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /webhooks/{id}/rotate-secret?overlap=24h`: a new signing secret (Ed25519 when the
/// newest one is); the current ones keep signing for `overlap`. 200 with the new secret,
/// shown only here.
pub async fn rotate_secret(
    State(state): State<AppState>,
    PathId(id): PathId,
    pre: Preconditions,
    params: Params,
) -> ApiResult<Response> {
    let overlap = match params.get("overlap") {
        None => DEFAULT_OVERLAP,
        Some(text) => {
            let d = vedette_model::Duration::from_str(text)
                .map_err(|e| Problem::bad_param("overlap", e.to_string()))?
                .std();
            if d > MAX_OVERLAP {
                return Err(Problem::bad_param(
                    "overlap",
                    format!("at most {} days", MAX_OVERLAP.as_secs() / 86_400),
                ));
            }
            d
        }
    };
    let stored = crud::modified::<Webhooks>(&state, &id, &pre, |existing| {
        let mut rotated = existing.clone();
        let ed25519 = rotated
            .spec
            .secrets
            .first()
            .is_some_and(|s| s.secret.expose().starts_with(signing::SECRET_KEY_PREFIX));
        let secret = if ed25519 {
            signing::generate_keypair().0
        } else {
            signing::generate_secret()
        };
        rotated
            .spec
            .rotate_secret(Secret::new(secret), overlap, Utc::now());
        Ok(rotated)
    })
    .await?;
    tracing::info!(webhook = %id, overlap_secs = overlap.as_secs(), "webhook signing secret rotated");
    let version = stored.version;
    let body = with_secret(&state, stored).await?;
    Ok(no_store(resource::with_etag(StatusCode::OK, version, body)))
}

/// Body of `POST /webhooks/preview`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Event type whose sample is rendered (default `monitor.down`).
    #[serde(default = "default_event_type")]
    pub event_type: EventType,
    /// A custom template to render.
    #[serde(default)]
    pub template: Option<TemplateSpec>,
    /// An integration to render, with its parameters.
    #[serde(default)]
    pub integration: Option<IntegrationRef>,
    /// The URL of a template or plain endpoint (a placeholder when absent).
    #[serde(default)]
    pub url: Option<String>,
}

fn default_event_type() -> EventType {
    EventType::MonitorDown
}

/// The request an endpoint would send (before auth and signature headers).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PreviewResponse {
    /// The event rendered (the sample of its type).
    pub event: Event,
    /// HTTP method.
    pub method: String,
    /// Target URL.
    pub url: String,
    /// Headers from the template or integration, as `[name, value]` pairs.
    pub headers: Vec<(String, String)>,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// The rendered body.
    pub body: String,
}

/// Placeholder URL of a preview without one.
const PREVIEW_URL: &str = "https://receiver.example/webhook";

/// `POST /webhooks/preview`: renders a template or integration for the sample of an event
/// type; 422 naming the field (and the line and column of a template error).
pub async fn preview(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<PreviewResponse>> {
    let mut errors = Vec::new();
    let request = body::typed::<PreviewRequest>(body, "", &mut errors);
    let Some(request) = request else {
        for e in &mut errors {
            e.field = e.field.trim_start_matches('.').to_owned();
        }
        return Err(Problem::validation(errors));
    };
    let services = &state.webhooks;
    let mut spec = EndpointSpec::new(PREVIEW_URL);
    spec.url = match (&request.integration, request.url) {
        (Some(_), None) => None,
        (_, url) => Some(url.unwrap_or_else(|| PREVIEW_URL.to_owned())),
    };
    spec.template = request.template;
    spec.integration = request.integration;
    spec.secrets = vec![SigningSecret {
        secret: Secret::new(signing::generate_secret()),
        expires_at: None,
    }];
    spec.validate(services.catalog(), services.templates())
        .map_err(Problem::validation)?;
    let event = samples::sample_event(request.event_type);
    // Rendered off the async runtime, at most a few at once; 503 when every slot is busy.
    let rendered = delivery::render_request_blocking(
        &spec,
        &services.catalog,
        services.templates(),
        &event,
        Admission::FailFast,
    )
    .await
    .map_err(|e| {
        let field = if spec.integration.is_some() {
            "integration"
        } else {
            "template.body"
        };
        match e {
            RenderError::Template(t) if t.kind == TemplateErrorKind::Busy => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy", t.message)
            }
            RenderError::Template(t) => Problem::invalid(field, t.to_string()),
            other => Problem::invalid(field, other.to_string()),
        }
    })?;
    Ok(Json(PreviewResponse {
        event,
        method: rendered.method,
        url: rendered.url,
        headers: rendered.headers,
        content_type: rendered.content_type,
        body: rendered.body,
    }))
}

/// Answer of `POST /webhooks/{id}/test`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestEventSent {
    /// The queued message (its `webhook-id`); follow it at `/api/v1/messages/{id}`.
    pub message_id: String,
    /// The event type sent.
    pub event_type: EventType,
}

/// 409 unless endpoint `id` exists (else 404) and takes deliveries now.
async fn ensure_enabled(state: &AppState, id: &str) -> ApiResult<()> {
    if crud::current::<Webhooks>(state, id).await?.spec.enabled {
        return Ok(());
    }
    let health = state.engine.store().webhook_endpoint_health(id).await?;
    let why = health
        .and_then(|h| h.disabled_reason)
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    Err(Problem::conflict(format!(
        "webhook endpoint {id:?} is disabled{why}; set spec.enabled to true first"
    )))
}

/// `POST /webhooks/{id}/test?event_type=monitor.down`: queues the sample event of a type as a
/// real delivery (signed, retried, logged); 202 with its message id.
pub async fn send_test(
    State(state): State<AppState>,
    PathId(id): PathId,
    params: Params,
) -> ApiResult<Response> {
    let event_type = params
        .get("event_type")
        .map(|t| EventType::from_str(t).map_err(|m| Problem::bad_param("event_type", m)))
        .transpose()?
        .unwrap_or(EventType::MonitorDown);
    ensure_enabled(&state, &id).await?;
    let message_id = delivery::enqueue_test_event(state.engine.store(), &id, event_type)
        .await
        .map_err(|e| match e {
            delivery::DeliveryError::UnknownEndpoint(_) => crud::not_found::<Webhooks>(&id),
            other => Problem::internal(&other),
        })?;
    let location = format!("/api/v1/messages/{message_id}");
    let mut response = (
        StatusCode::ACCEPTED,
        Json(TestEventSent {
            message_id,
            event_type,
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// A 2xx answer was received.
    Succeeded,
    /// Attempts are exhausted, or the endpoint was disabled.
    Failed,
}

impl From<MessageStatus> for DeliveryStatus {
    fn from(s: MessageStatus) -> Self {
        match s {
            MessageStatus::Pending => Self::Pending,
            MessageStatus::Succeeded => Self::Succeeded,
            MessageStatus::Failed => Self::Failed,
        }
    }
}

/// One delivery attempt as logged: request headers with secrets redacted, bodies truncated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttemptView {
    /// 1-based attempt number (counted again from 1 after a replay).
    pub attempt: u32,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// Until the response (or the error), in milliseconds.
    pub duration_ms: u64,
    /// `success` or `failure`.
    pub outcome: String,
    /// The request sent: `method`, `url`, `headers`, `body`.
    pub request: Value,
    /// Response status, when one came.
    pub response_status: Option<u16>,
    /// The response: `headers` and `body`.
    pub response: Option<Value>,
    /// Why the attempt failed.
    pub error: Option<String>,
}

impl From<WebhookAttempt> for AttemptView {
    fn from(a: WebhookAttempt) -> Self {
        Self {
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            outcome: a.outcome,
            request: a.request,
            response_status: a.response_status,
            response: a.response,
            error: a.error,
        }
    }
}

/// One message (one event for one endpoint) with its attempts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Delivery")]
pub struct DeliveryView {
    /// Message id, sent as `webhook-id` on every attempt.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event delivered.
    pub event: Event,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made since it was queued (or last replayed).
    pub attempt_count: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// HTTP status of the last attempt.
    pub last_status: Option<u16>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
}

fn delivery_view(m: WebhookMessage, attempts: Vec<WebhookAttempt>) -> DeliveryView {
    DeliveryView {
        id: m.id,
        endpoint_id: m.endpoint_id,
        event: m.event,
        status: m.status.into(),
        attempt_count: m.attempts,
        next_attempt_at: m.next_attempt_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_status: m.last_status,
        last_error: m.last_error,
        attempts: attempts.into_iter().map(AttemptView::from).collect(),
    }
}

/// `GET /webhooks/{id}/deliveries?status=&event_type=&since=&limit=&cursor=`: messages,
/// newest first, each with its attempts.
pub async fn deliveries(
    State(state): State<AppState>,
    PathId(id): PathId,
    params: Params,
) -> ApiResult<Page<DeliveryView>> {
    let status = params
        .get("status")
        .map(|s| {
            MessageStatus::parse(s)
                .map_err(|_| Problem::bad_param("status", "expected pending, succeeded or failed"))
        })
        .transpose()?;
    let event_type = params
        .get("event_type")
        .map(|t| EventType::from_str(t).map_err(|m| Problem::bad_param("event_type", m)))
        .transpose()?;
    let now = Utc::now();
    let since = params
        .get("since")
        .map(|t| parse_time(t, now).map_err(|m| Problem::bad_param("since", m)))
        .transpose()?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let position = params
        .get("cursor")
        .map(|c| decode_position(&pagination::decode(DELIVERY_CURSOR, c)?))
        .transpose()?;
    let store = state.engine.store();
    crud::current::<Webhooks>(&state, &id).await?;
    let (before, before_id) = position.unzip();
    let mut messages = store
        .list_webhook_messages(&MessageFilter {
            endpoint_id: Some(id.clone()),
            status,
            event_type: event_type.map(|t| t.as_str().to_owned()),
            since,
            before,
            before_id,
            limit: u32::try_from(limit + 1).unwrap_or(u32::MAX),
        })
        .await?;
    let next_cursor = if messages.len() > limit {
        messages.truncate(limit);
        messages.last().map(|m| {
            pagination::encode(
                DELIVERY_CURSOR,
                &format!("{}:{}", m.created_at.timestamp_millis(), m.id),
            )
        })
    } else {
        None
    };
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let mut attempts = store.list_attempts_of_messages(&ids).await?;
    let items = messages
        .into_iter()
        .map(|m| {
            let log = attempts.remove(&m.id).unwrap_or_default();
            delivery_view(m, log)
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// `<unix ms>:<message id>` of a deliveries cursor.
fn decode_position(text: &str) -> ApiResult<(DateTime<Utc>, String)> {
    let invalid = || Problem::bad_param("cursor", "not a cursor of this list");
    let (ms, id) = text.split_once(':').ok_or_else(invalid)?;
    let at = ms
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(invalid)?;
    Ok((at, id.to_owned()))
}

async fn find_message(state: &AppState, id: &str) -> ApiResult<WebhookMessage> {
    state
        .engine
        .store()
        .get_webhook_message(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no webhook message {id:?}")))
}

/// `GET /messages/{id}`: one message with its attempts.
pub async fn get_message(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> ApiResult<Json<DeliveryView>> {
    let message = find_message(&state, &id).await?;
    let attempts = state.engine.store().list_webhook_attempts(&id).await?;
    Ok(Json(delivery_view(message, attempts)))
}

/// `POST /messages/{id}/replay`: queues the message again now, with a fresh retry schedule
/// and the same `webhook-id`; 202 with the message.
pub async fn replay(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    let message = find_message(&state, &id).await?;
    ensure_enabled(&state, &message.endpoint_id).await?;
    let store = state.engine.store();
    if !store.replay_webhook_message(&id, Utc::now()).await? {
        return Err(Problem::not_found(format!("no webhook message {id:?}")));
    }
    tracing::info!(message = %id, webhook = %message.endpoint_id, "webhook message replayed");
    let message = find_message(&state, &id).await?;
    let attempts = store.list_webhook_attempts(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(message, attempts))).into_response())
}

/// Answer of `POST /webhooks/{id}/recover`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct Recovered {
    /// How many failed messages were queued again.
    pub recovered: u64,
}

/// `POST /webhooks/{id}/recover?since=-24h`: queues again every failed message of the
/// endpoint queued since then; 202 with how many.
pub async fn recover(
    State(state): State<AppState>,
    PathId(id): PathId,
    params: Params,
) -> ApiResult<Response> {
    let now = Utc::now();
    let since = params.get("since").ok_or_else(|| {
        Problem::bad_param(
            "since",
            "required: an RFC 3339 time or a span ago such as -24h",
        )
    })?;
    let since = parse_time(since, now).map_err(|m| Problem::bad_param("since", m))?;
    ensure_enabled(&state, &id).await?;
    let recovered = state
        .engine
        .store()
        .recover_webhook_messages(&id, since, now)
        .await?;
    tracing::info!(webhook = %id, recovered, "failed webhook messages queued again");
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })).into_response())
}
