//! A typed async client of the Vedette REST API (`/api/v1`, see `docs/api.md`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), vedette_client::Error> {
//! let client = vedette_client::Client::new("http://127.0.0.1:8080", "vdt_...")?;
//! for monitor in client.all_monitors(Some("team=payments")).await? {
//!     println!("{} {:?}", monitor.id, monitor.status.map(|s| s.state));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Error answers (RFC 9457 problem+json) become [`ApiError`]s whose `Display` reads well, e.g.
//! `422 Unprocessable Entity: spec.http.url: expected an absolute http:// or https:// URL`.

mod error;
mod sse;
mod types;
mod webhooks;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vedette_model::CheckResult;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::spec::MonitorSpec;

pub use error::{ApiError, Error, FieldError};
pub use sse::{EventStream, StreamedEvent};
pub use types::{
    Bucket, CreatedToken, EventRecord, Incident, IncidentState, LastResult, MaintenanceWindow,
    Monitor, MonitorSeries, MonitorStatus, NewToken, Page, Precondition, ResultRecord,
    RuntimePause, Scope, Series, StateCounts, Status, TimelineEntry, TokenInfo, Upserted, Write,
};

pub use webhooks::{
    CreatedWebhook, DeliveriesQuery, Delivery, DeliveryAttempt, DeliveryCounts, EventTypeInfo,
    Integration, TestEventSent, Webhook,
};

use types::ListBody;

/// Time a request may take before the client gives up (the server's own limit is 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time to set up a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most pages [`all_pages`] follows before it stops with an error (a server loop guard).
pub const MAX_PAGES: usize = 100_000;

/// `?selector=&limit=&cursor=` of monitor and maintenance lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListQuery {
    /// Label selector, e.g. `team=payments,env!=dev`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Page size (1–1000; the server's default is 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `?from=&to=&limit=&cursor=` of a monitor's results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultsQuery {
    /// RFC 3339 time or relative (`-1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 time or relative (`now`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `?monitor=&state=&from=&to=&limit=&cursor=` of the incident list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentQuery {
    /// Only this monitor's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
    /// Only open or only resolved ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<IncidentState>,
    /// Opened at or after (RFC 3339 or relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Opened before (RFC 3339 or relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `?selector=&ids=&from=&to=&step=&metrics=` of the series endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeriesQuery {
    /// Monitors by label selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Monitors by id, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<String>,
    /// Start (RFC 3339 or relative such as `-30d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End (RFC 3339 or `now`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Bucket width, e.g. `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Comma-separated metrics (`uptime,latency_p95,...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// `?after=&limit=&type=` of the event list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventsQuery {
    /// The last `seq` seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only this event type, e.g. `monitor.down`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

/// A client of one Vedette server with one token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &"***")
            .finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (`http(s)://host[:port][/prefix]`) sending `token` as
    /// `Authorization: Bearer`.
    pub fn new(base_url: &str, token: &str) -> Result<Self, Error> {
        Self::with_timeout(base_url, token, DEFAULT_TIMEOUT)
    }

    /// Like [`Client::new`], with another per-request timeout.
    pub fn with_timeout(base_url: &str, token: &str, timeout: Duration) -> Result<Self, Error> {
        let base = parse_base(base_url)?;
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another thread installing one is fine: one is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("vedette-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base,
            token: token.to_owned(),
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    // ----- monitors -----

    /// `GET /api/v1/monitors`: one page.
    pub async fn list_monitors(&self, query: &ListQuery) -> Result<Page<Monitor>, Error> {
        self.list(self.api(&["monitors"]), query).await
    }

    /// Every monitor matching `selector`, following cursors.
    pub async fn all_monitors(&self, selector: Option<&str>) -> Result<Vec<Monitor>, Error> {
        all_pages(None, |cursor| async move {
            let query = ListQuery {
                selector: selector.map(str::to_owned),
                limit: Some(1000),
                cursor,
            };
            self.list_monitors(&query).await
        })
        .await
    }

    /// `GET /api/v1/monitors/{id}`.
    pub async fn get_monitor(&self, id: &str) -> Result<Monitor, Error> {
        self.get(self.api(&["monitors", id])).await
    }

    /// `GET /api/v1/monitors/{id}`, with `None` for 404.
    pub async fn find_monitor(&self, id: &str) -> Result<Option<Monitor>, Error> {
        absent_on_404(self.get_monitor(id).await)
    }

    /// `POST /api/v1/monitors`: creates with the body's id, or one the server generates.
    pub async fn create_monitor(&self, body: &Write<MonitorSpec>) -> Result<Monitor, Error> {
        self.send_json(
            Method::POST,
            self.api(&["monitors"]),
            body,
            Precondition::None,
        )
        .await
    }

    /// `PUT /api/v1/monitors/{id}`: creates or replaces.
    pub async fn put_monitor(
        &self,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &MonitorSpec,
        precondition: Precondition,
    ) -> Result<Upserted<Monitor>, Error> {
        self.put(self.api(&["monitors", id]), id, labels, spec, precondition)
            .await
    }

    /// `PATCH /api/v1/monitors/{id}` with a JSON Merge Patch over `{"labels", "spec"}`.
    pub async fn patch_monitor(
        &self,
        id: &str,
        patch: &serde_json::Value,
        precondition: Precondition,
    ) -> Result<Monitor, Error> {
        self.patch(self.api(&["monitors", id]), patch, precondition)
            .await
    }

    /// `DELETE /api/v1/monitors/{id}`.
    pub async fn delete_monitor(&self, id: &str, precondition: Precondition) -> Result<(), Error> {
        self.delete(self.api(&["monitors", id]), precondition).await
    }

    /// `POST /api/v1/monitors/{id}/pause`: a runtime pause beside the spec, with an
    /// optional reason shown in `status.paused`.
    pub async fn pause_monitor(&self, id: &str, reason: Option<&str>) -> Result<Monitor, Error> {
        let url = self.api(&["monitors", id, "pause"]);
        let body = serde_json::json!({ "reason": reason });
        self.execute(self.request(Method::POST, url.clone()).json(&body), &url)
            .await
    }

    /// `POST /api/v1/monitors/{id}/resume`.
    pub async fn resume_monitor(&self, id: &str) -> Result<Monitor, Error> {
        self.post_empty(self.api(&["monitors", id, "resume"])).await
    }

    /// `POST /api/v1/monitors/{id}/run`: checks now, records and returns the result.
    pub async fn run_monitor(&self, id: &str) -> Result<CheckResult, Error> {
        self.post_empty(self.api(&["monitors", id, "run"])).await
    }

    /// `GET /api/v1/monitors/{id}/results`: one page, newest first.
    pub async fn list_results(
        &self,
        id: &str,
        query: &ResultsQuery,
    ) -> Result<Page<ResultRecord>, Error> {
        self.list(self.api(&["monitors", id, "results"]), query)
            .await
    }

    /// The newest `max` results of a monitor (all of them when `None`), following cursors.
    pub async fn recent_results(
        &self,
        id: &str,
        max: Option<usize>,
    ) -> Result<Vec<ResultRecord>, Error> {
        let limit = max.map_or(1000, |m| m.clamp(1, 1000) as u32);
        all_pages(max, |cursor| async move {
            let query = ResultsQuery {
                limit: Some(limit),
                cursor,
                ..ResultsQuery::default()
            };
            self.list_results(id, &query).await
        })
        .await
    }

    // ----- series -----

    /// `GET /api/v1/series`.
    pub async fn series(&self, query: &SeriesQuery) -> Result<Series, Error> {
        let url = self.api(&["series"]);
        self.execute(self.request(Method::GET, url.clone()).query(query), &url)
            .await
    }

    // ----- incidents -----

    /// `GET /api/v1/incidents`: one page, newest first.
    pub async fn list_incidents(&self, query: &IncidentQuery) -> Result<Page<Incident>, Error> {
        self.list(self.api(&["incidents"]), query).await
    }

    /// Incidents matching `query` (its cursor ignored), at most `max`, following cursors.
    pub async fn all_incidents(
        &self,
        query: &IncidentQuery,
        max: Option<usize>,
    ) -> Result<Vec<Incident>, Error> {
        all_pages(max, |cursor| async move {
            let query = IncidentQuery {
                cursor,
                ..query.clone()
            };
            self.list_incidents(&query).await
        })
        .await
    }

    /// `GET /api/v1/incidents/{id}` with its timeline.
    pub async fn get_incident(&self, id: &str) -> Result<Incident, Error> {
        self.get(self.api(&["incidents", id])).await
    }

    // ----- maintenance windows -----

    /// `GET /api/v1/maintenance`: one page.
    pub async fn list_maintenance(
        &self,
        query: &ListQuery,
    ) -> Result<Page<MaintenanceWindow>, Error> {
        self.list(self.api(&["maintenance"]), query).await
    }

    /// Every maintenance window matching `selector`, following cursors.
    pub async fn all_maintenance(
        &self,
        selector: Option<&str>,
    ) -> Result<Vec<MaintenanceWindow>, Error> {
        all_pages(None, |cursor| async move {
            let query = ListQuery {
                selector: selector.map(str::to_owned),
                limit: Some(1000),
                cursor,
            };
            self.list_maintenance(&query).await
        })
        .await
    }

    /// `GET /api/v1/maintenance/{id}`.
    pub async fn get_maintenance(&self, id: &str) -> Result<MaintenanceWindow, Error> {
        self.get(self.api(&["maintenance", id])).await
    }

    /// `GET /api/v1/maintenance/{id}`, with `None` for 404.
    pub async fn find_maintenance(&self, id: &str) -> Result<Option<MaintenanceWindow>, Error> {
        absent_on_404(self.get_maintenance(id).await)
    }

    /// `POST /api/v1/maintenance`.
    pub async fn create_maintenance(
        &self,
        body: &Write<MaintenanceSpec>,
    ) -> Result<MaintenanceWindow, Error> {
        self.send_json(
            Method::POST,
            self.api(&["maintenance"]),
            body,
            Precondition::None,
        )
        .await
    }

    /// `PUT /api/v1/maintenance/{id}`: creates or replaces.
    pub async fn put_maintenance(
        &self,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &MaintenanceSpec,
        precondition: Precondition,
    ) -> Result<Upserted<MaintenanceWindow>, Error> {
        self.put(
            self.api(&["maintenance", id]),
            id,
            labels,
            spec,
            precondition,
        )
        .await
    }

    /// `PATCH /api/v1/maintenance/{id}` with a JSON Merge Patch over `{"labels", "spec"}`.
    pub async fn patch_maintenance(
        &self,
        id: &str,
        patch: &serde_json::Value,
        precondition: Precondition,
    ) -> Result<MaintenanceWindow, Error> {
        self.patch(self.api(&["maintenance", id]), patch, precondition)
            .await
    }

    /// `DELETE /api/v1/maintenance/{id}`.
    pub async fn delete_maintenance(
        &self,
        id: &str,
        precondition: Precondition,
    ) -> Result<(), Error> {
        self.delete(self.api(&["maintenance", id]), precondition)
            .await
    }

    // ----- events -----

    /// `GET /api/v1/events`: outbox events after `query.after`, ascending.
    pub async fn list_events(&self, query: &EventsQuery) -> Result<Page<EventRecord>, Error> {
        self.list(self.api(&["events"]), query).await
    }

    /// `GET /api/v1/events/stream`: Server-Sent Events from after `after` (or from now).
    pub async fn event_stream(&self, after: Option<u64>) -> Result<EventStream, Error> {
        let url = self.api(&["events", "stream"]);
        let mut request = self
            .request(Method::GET, url.clone())
            .header(header::ACCEPT, "text/event-stream")
            // The stream stays open: only the connection set-up is bounded.
            .timeout(Duration::from_secs(365 * 86_400));
        if let Some(after) = after {
            request = request.header("Last-Event-ID", after.to_string());
        }
        let response = self.send(request, &url).await?;
        Ok(EventStream::new(response, url))
    }

    // ----- status and tokens -----

    /// `GET /api/v1/status`: counts by state and open incidents; also a cheap token check.
    pub async fn status(&self) -> Result<Status, Error> {
        self.get(self.api(&["status"])).await
    }

    /// `POST /api/v1/tokens` (admin): the secret is in the answer, and only there.
    pub async fn create_token(&self, token: &NewToken) -> Result<CreatedToken, Error> {
        self.send_json(
            Method::POST,
            self.api(&["tokens"]),
            token,
            Precondition::None,
        )
        .await
    }

    /// `GET /api/v1/tokens` (admin): every token, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        all_pages(None, |cursor| {
            let url = self.api(&["tokens"]);
            async move {
                let query = ListQuery {
                    cursor,
                    ..ListQuery::default()
                };
                self.list(url, &query).await
            }
        })
        .await
    }

    /// `DELETE /api/v1/tokens/{id}` (admin): revokes.
    pub async fn revoke_token(&self, id: &str) -> Result<(), Error> {
        self.delete(self.api(&["tokens", id]), Precondition::None)
            .await
    }

    // ----- unauthenticated endpoints -----

    /// `GET /healthz`: the process answers.
    pub async fn healthz(&self) -> Result<(), Error> {
        self.plain(self.path(&["healthz"])).await.map(drop)
    }

    /// `GET /readyz`: configuration loaded and the database reachable.
    pub async fn readyz(&self) -> Result<(), Error> {
        self.plain(self.path(&["readyz"])).await.map(drop)
    }

    /// `GET /metrics`: Prometheus text.
    pub async fn metrics(&self) -> Result<String, Error> {
        self.plain(self.path(&["metrics"])).await
    }

    /// `GET /api/v1/openapi.json`: the OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get(self.api(&["openapi.json"])).await
    }

    /// `POST /push/{token}`: a heartbeat ping, a failure when `up` is false.
    pub async fn push(&self, token: &str, up: bool, message: Option<&str>) -> Result<(), Error> {
        let url = self.path(&["push", token]);
        let mut query: Vec<(&str, &str)> = Vec::new();
        if !up {
            query.push(("status", "down"));
        }
        if let Some(m) = message {
            query.push(("msg", m));
        }
        let request = self.http.post(url.clone()).query(&query);
        self.send(request, &url).await.map(drop)
    }

    // ----- plumbing -----

    /// `base` + the given path segments, each percent-encoded.
    fn path(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn api(&self, segments: &[&str]) -> Url {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        self.path(&all)
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "application/json")
    }

    /// Sends; maps transport failures and error statuses to [`Error`].
    async fn send(&self, request: RequestBuilder, url: &Url) -> Result<Response, Error> {
        let response = request
            .send()
            .await
            .map_err(|e| Error::transport(url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport(url, &e))?;
        Err(ApiError::from_response(status.as_u16(), content_type.as_deref(), &body).into())
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        url: &Url,
    ) -> Result<T, Error> {
        let response = self.send(request, url).await?;
        decode(response, url).await
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        self.execute(self.request(Method::GET, url.clone()), &url)
            .await
    }

    async fn list<T: DeserializeOwned, Q: Serialize>(
        &self,
        url: Url,
        query: &Q,
    ) -> Result<Page<T>, Error> {
        let body: ListBody<T> = self
            .execute(self.request(Method::GET, url.clone()).query(query), &url)
            .await?;
        Ok(body.into_page())
    }

    async fn post_empty<T: DeserializeOwned>(&self, url: Url) -> Result<T, Error> {
        self.execute(self.request(Method::POST, url.clone()), &url)
            .await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: &B,
        precondition: Precondition,
    ) -> Result<T, Error> {
        let request = with_precondition(self.request(method, url.clone()).json(body), precondition);
        self.execute(request, &url).await
    }

    async fn put<T: DeserializeOwned, S: Serialize>(
        &self,
        url: Url,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &S,
        precondition: Precondition,
    ) -> Result<Upserted<T>, Error> {
        let body = Write {
            id: Some(id.to_owned()),
            labels: labels.clone(),
            spec,
        };
        let request = with_precondition(
            self.request(Method::PUT, url.clone()).json(&body),
            precondition,
        );
        let response = self.send(request, &url).await?;
        let created = response.status() == reqwest::StatusCode::CREATED;
        Ok(Upserted {
            resource: decode(response, &url).await?,
            created,
        })
    }

    async fn patch<T: DeserializeOwned>(
        &self,
        url: Url,
        patch: &serde_json::Value,
        precondition: Precondition,
    ) -> Result<T, Error> {
        let body = serde_json::to_vec(patch).map_err(|e| Error::decode(&url, e))?;
        let request = self
            .request(Method::PATCH, url.clone())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/merge-patch+json"),
            )
            .body(body);
        self.execute(with_precondition(request, precondition), &url)
            .await
    }

    async fn delete(&self, url: Url, precondition: Precondition) -> Result<(), Error> {
        let request = with_precondition(self.request(Method::DELETE, url.clone()), precondition);
        self.send(request, &url).await.map(drop)
    }

    async fn plain(&self, url: Url) -> Result<String, Error> {
        let response = self.send(self.http.get(url.clone()), &url).await?;
        response
            .text()
            .await
            .map_err(|e| Error::transport(&url, &e))
    }
}

/// Follows `next_cursor` from the first page until the last, or until `max` items are collected.
/// `fetch` gets the cursor to ask for (`None` for the first page).
pub async fn all_pages<T, F, Fut>(max: Option<usize>, mut fetch: F) -> Result<Vec<T>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.clone()).await?;
        items.extend(page.items);
        if let Some(max) = max
            && items.len() >= max
        {
            items.truncate(max);
            return Ok(items);
        }
        match page.next_cursor {
            Some(next) if !next.is_empty() && Some(&next) != cursor.as_ref() => {
                cursor = Some(next);
            }
            _ => return Ok(items),
        }
    }
    Err(Error::Decode {
        url: String::new(),
        message: format!("a list did not end after {MAX_PAGES} pages"),
    })
}

fn parse_base(base_url: &str) -> Result<Url, Error> {
    let invalid = |message: &str| Error::InvalidUrl {
        url: base_url.to_owned(),
        message: message.to_owned(),
    };
    if !base_url.contains("://") {
        return Err(invalid(
            "expected an absolute URL with a scheme, e.g. http://127.0.0.1:8080",
        ));
    }
    let url = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("expected an http:// or https:// URL"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(invalid("expected a URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("expected no query or fragment"));
    }
    Ok(url)
}

fn with_precondition(request: RequestBuilder, precondition: Precondition) -> RequestBuilder {
    match precondition {
        Precondition::None => request,
        Precondition::Version(v) => request.header(header::IF_MATCH, format!("\"{v}\"")),
        Precondition::Exists => request.header(header::IF_MATCH, "*"),
        Precondition::Absent => request.header(header::IF_NONE_MATCH, "*"),
    }
}

async fn decode<T: DeserializeOwned>(response: Response, url: &Url) -> Result<T, Error> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(url, &e))?;
    // An empty success body (204) reads as JSON null, for callers that expect `()`.
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
    serde_json::from_slice(bytes).map_err(|e| Error::decode(url, e))
}

fn absent_on_404<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_paths_encoded() {
        let c = Client::new("http://127.0.0.1:8080", "t").unwrap();
        assert_eq!(
            c.api(&["monitors", "a b/c"]).as_str(),
            "http://127.0.0.1:8080/api/v1/monitors/a%20b%2Fc"
        );
        let c = Client::new("https://example.test/vedette/", "t").unwrap();
        assert_eq!(c.base_url(), "https://example.test/vedette");
        assert_eq!(
            c.api(&["status"]).as_str(),
            "https://example.test/vedette/api/v1/status"
        );
        for bad in ["ftp://x", "not a url", "http://x/?a=1", "mailto:a@b"] {
            assert!(
                matches!(Client::new(bad, "t"), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
        let err = Client::new("127.0.0.1:8080", "t").unwrap_err().to_string();
        assert!(err.contains("e.g. http://127.0.0.1:8080"), "{err}");
        assert!(!err.contains("relative URL"), "{err}");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new("http://127.0.0.1:1", "vdt_secret").unwrap();
        assert!(!format!("{c:?}").contains("vdt_secret"));
    }

    #[tokio::test]
    async fn pages_are_followed_until_the_last_or_the_maximum() {
        let pages = |cursor: Option<String>| async move {
            let n: u32 = cursor.as_deref().map_or(0, |c| c.parse().unwrap());
            Ok(Page {
                items: vec![n * 2, n * 2 + 1],
                next_cursor: (n < 2).then(|| (n + 1).to_string()),
            })
        };
        assert_eq!(
            all_pages(None, pages).await.unwrap(),
            vec![0, 1, 2, 3, 4, 5]
        );
        assert_eq!(all_pages(Some(3), pages).await.unwrap(), vec![0, 1, 2]);
        let stuck = |_c: Option<String>| async move {
            Ok(Page {
                items: vec![1],
                next_cursor: Some("same".to_owned()),
            })
        };
        assert_eq!(all_pages(None, stuck).await.unwrap(), vec![1, 1]);
    }

    #[tokio::test]
    async fn connection_errors_name_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c = Client::new(&format!("http://127.0.0.1:{port}"), "t").unwrap();
        let err = c.status().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot reach http://127.0.0.1:{port}/api/v1/status: "
            )),
            "{text}"
        );
    }
}
