//! Webhook endpoints, their delivery log, and the event-type and integration catalogs
//! (`/api/v1/webhooks`, `/api/v1/messages`, `/api/v1/event-types`, `/api/v1/integrations`).
//!
//! Endpoint specs are the model's [`EndpointSpec`]: the server validates them (answering 422
//! with field paths) and redacts their secrets as `********`, which a write may send back
//! unchanged.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, Version};

use crate::{BySelector, Client, Error, Kind, ListQuery, Page, Precondition, Resources};

/// Messages of an endpoint per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    /// Waiting for an attempt.
    pub pending: u64,
    /// Delivered.
    pub succeeded: u64,
    /// Given up on.
    pub failed: u64,
}

/// A webhook endpoint as the server returns it, secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Stable slug.
    pub id: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The endpoint spec (`url`, `event_types`, `integration`, ...), secrets as `********`.
    pub spec: EndpointSpec,
    /// Version (the ETag).
    pub version: Version,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Start of the current run of failed attempts.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When the dispatcher disabled it.
    #[serde(default)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// Messages per status (single-endpoint answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<DeliveryCounts>,
}

impl Webhook {
    /// Where it delivers: its URL, or `integration:<name>`.
    pub fn target(&self) -> String {
        match (&self.spec.url, &self.spec.integration, &self.spec.email) {
            (Some(url), _, _) => url.clone(),
            (None, Some(integration), _) => format!("integration:{}", integration.name),
            (None, None, Some(email)) => format!("email:{}", email.to.join(",")),
            (None, None, None) => String::new(),
        }
    }

    /// Whether deliveries are made.
    pub fn enabled(&self) -> bool {
        self.spec.enabled
    }
}

/// A webhook endpoint just created (or its secret just rotated), with the signing secret the
/// server shows only this once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_...` or `whsk_...`).
    pub signing_secret: String,
    /// The Ed25519 public key (`whpk_...`) of a `whsk_` secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .field("signing_secret", &"***")
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// One delivery attempt as logged (request secrets redacted, bodies truncated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// 1-based attempt number.
    pub attempt: u32,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// Until the response or error, in milliseconds.
    pub duration_ms: u64,
    /// `success` or `failure`.
    pub outcome: String,
    /// `method`, `url`, `headers`, `body`.
    pub request: Value,
    /// Response status.
    #[serde(default)]
    pub response_status: Option<u16>,
    /// `headers` and `body` of the response.
    #[serde(default)]
    pub response: Option<Value>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// One message (an event for an endpoint) with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Message id, the `webhook-id` of every attempt.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event.
    pub event: Event,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts since it was queued or replayed.
    pub attempt_count: u32,
    /// When the next attempt is due.
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Status of the last attempt.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// Error of the last attempt.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The attempts, oldest first.
    #[serde(default)]
    pub attempts: Vec<DeliveryAttempt>,
}

/// Answer of `POST /api/v1/webhooks/{id}/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEventSent {
    /// The queued message.
    pub message_id: String,
    /// The event type sent.
    pub event_type: String,
}

/// `?status=&event_type=&since=` of the delivery log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryFilter {
    /// `pending`, `succeeded` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only this event type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Only queued since: RFC 3339 or relative (`-1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// An event type of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTypeInfo {
    /// Dotted name.
    pub name: String,
    /// When it is emitted.
    pub description: String,
    /// Payload version.
    pub version: u32,
    /// JSON Schema of `data`.
    pub schema: Value,
    /// A sample event.
    pub example: Value,
}

/// An integration of the catalog (templates left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    /// Name, for an endpoint's `integration.name`.
    pub name: String,
    /// Display name.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// `chat`, `paging`, `push`, `automation` or `generic`.
    pub category: String,
    /// Event types it handles.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// JSON Schema of its parameters.
    pub parameters: Value,
    /// Example parameters.
    #[serde(default)]
    pub example: Value,
    /// Markdown documentation.
    #[serde(default)]
    pub docs: String,
}

#[derive(Deserialize)]
struct Recovered {
    recovered: u64,
}

impl Kind for Webhook {
    const COLLECTION: &'static str = "webhooks";
    /// Carried as JSON: the server validates it and keeps secrets sent back as `********`.
    type Spec = Value;
    type Created = CreatedWebhook;
}

impl Resources<'_, Webhook> {
    /// `POST /api/v1/webhooks` with a body as written by hand (`{"id"?, "labels"?, "spec"}`,
    /// e.g. read from a file): the server checks every field of it.
    pub async fn create_from(&self, body: &Value) -> Result<CreatedWebhook, Error> {
        self.client
            .send_json(Method::POST, self.url(&[]), body, Precondition::None)
            .await
    }

    /// `POST /api/v1/webhooks/{id}/rotate-secret`: `overlap` such as `24h` (the server's
    /// default when `None`).
    pub async fn rotate_secret(
        &self,
        id: &str,
        overlap: Option<&str>,
    ) -> Result<CreatedWebhook, Error> {
        let query: Vec<(&str, &str)> = overlap.map(|o| ("overlap", o)).into_iter().collect();
        self.post_query(&[id, "rotate-secret"], &query).await
    }

    /// `POST /api/v1/webhooks/{id}/test`: queues the sample of `event_type` (the server's
    /// default, `monitor.down`, when `None`).
    pub async fn test(&self, id: &str, event_type: Option<&str>) -> Result<TestEventSent, Error> {
        let query: Vec<(&str, &str)> = event_type.map(|t| ("event_type", t)).into_iter().collect();
        self.post_query(&[id, "test"], &query).await
    }

    /// `GET /api/v1/webhooks/{id}/deliveries`: one page of the delivery log, newest first.
    pub async fn deliveries(
        &self,
        id: &str,
        query: &ListQuery<DeliveryFilter>,
    ) -> Result<Page<Delivery>, Error> {
        self.client.list(self.url(&[id, "deliveries"]), query).await
    }

    /// `POST /api/v1/webhooks/{id}/recover?since=`: queues failed messages again; how many.
    pub async fn recover(&self, id: &str, since: &str) -> Result<u64, Error> {
        let body: Recovered = self
            .post_query(&[id, "recover"], &[("since", since)])
            .await?;
        Ok(body.recovered)
    }

    /// `POST` to a path under the collection with a query and no body.
    async fn post_query<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = self.url(segments);
        let request = self.client.request(Method::POST, url.clone()).query(query);
        self.client.execute(request, &url).await
    }
}

impl Client {
    /// The webhook endpoints.
    pub fn webhooks(&self) -> Resources<'_, Webhook> {
        self.resources()
    }

    /// `GET /api/v1/messages/{id}`.
    pub async fn get_webhook_message(&self, id: &str) -> Result<Delivery, Error> {
        self.get(self.api(&["messages", id])).await
    }

    /// `POST /api/v1/messages/{id}/replay`: delivers the message again (same `webhook-id`).
    pub async fn replay_webhook_message(&self, id: &str) -> Result<Delivery, Error> {
        self.post_empty(self.api(&["messages", id, "replay"])).await
    }

    /// `GET /api/v1/event-types`.
    pub async fn event_types(&self) -> Result<Vec<EventTypeInfo>, Error> {
        let page: Page<EventTypeInfo> = self
            .list(
                self.api(&["event-types"]),
                &ListQuery::<BySelector>::default(),
            )
            .await?;
        Ok(page.items)
    }

    /// `GET /api/v1/integrations`.
    pub async fn integrations(&self) -> Result<Vec<Integration>, Error> {
        let page: Page<Integration> = self
            .list(
                self.api(&["integrations"]),
                &ListQuery::<BySelector>::default(),
            )
            .await?;
        Ok(page.items)
    }

    /// `GET /api/v1/integrations/{name}`.
    pub async fn get_integration(&self, name: &str) -> Result<Integration, Error> {
        self.get(self.api(&["integrations", name])).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_webhooks_hide_the_secret_in_debug() {
        let created: CreatedWebhook = serde_json::from_value(serde_json::json!({
            "id": "ops", "spec": {"url": "https://x.example"}, "version": 1,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "signing_secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
        }))
        .unwrap();
        assert_eq!(created.webhook.target(), "https://x.example");
        assert!(created.webhook.enabled());
        assert!(!format!("{created:?}").contains("whsec_"));
    }
}
