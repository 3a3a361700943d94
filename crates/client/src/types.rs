//! The resources of the API as this client reads and writes them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{CheckResult, Event, FailureReason, MonitorSpec, MonitorState, Outcome};

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A monitor as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The spec with every default filled in.
    pub spec: MonitorSpec,
    /// What the monitor is doing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MonitorStatus>,
    /// Who writes it: `api`, `file` or `demo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Optimistic-concurrency version (the `ETag`).
    #[serde(default)]
    pub version: u64,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The `status` block of a monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorStatus {
    /// Current state.
    pub state: MonitorState,
    /// Since when it is in that state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Summary of the newest result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<LastResult>,
    /// Id of the open incident, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_incident: Option<String>,
    /// Where a heartbeat monitor is pinged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_url: Option<String>,
    /// The runtime pause (`vedette pause`), beside the spec's own `paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<RuntimePause>,
}

/// Who paused a monitor at runtime, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimePause {
    /// When.
    pub at: DateTime<Utc>,
    /// Name of the token that paused it.
    pub by: String,
    /// Why, if given.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Summary of a monitor's newest result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastResult {
    /// When the check started.
    pub at: DateTime<Utc>,
    /// Its verdict.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Human summary.
    #[serde(default)]
    pub message: Option<String>,
    /// Latency in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

/// A maintenance window as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When it is active and which monitors it covers.
    pub spec: MaintenanceSpec,
    /// Who writes it: `api`, `file` or `demo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Optimistic-concurrency version (the `ETag`).
    #[serde(default)]
    pub version: u64,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The body of a create or replace: `{"id"?, "labels", "spec"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Write<S> {
    /// The id; on `POST` chosen by the server when absent; on `PUT` it must match the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// The spec.
    pub spec: S,
}

/// The result of a `PUT`: the resource and whether it was created (201) or replaced (200).
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted<T> {
    /// The resource as stored.
    pub resource: T,
    /// True when the `PUT` created it.
    pub created: bool,
}

/// A version precondition on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Write whatever is there.
    #[default]
    None,
    /// `If-Match: "<version>"`: only if the stored version is this one (412 otherwise).
    Version(u64),
    /// `If-Match: *`: only if it exists.
    Exists,
    /// `If-None-Match: *`: only if it does not exist yet (create only).
    Absent,
}

/// A stored check result: the [`CheckResult`] plus its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// The result's id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    /// The result.
    #[serde(flatten)]
    pub result: CheckResult,
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentState {
    /// Going on.
    Open,
    /// Over.
    Resolved,
}

impl IncidentState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incident: a stretch of time a monitor was down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Incident id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Monitor concerned.
    pub monitor_id: String,
    /// Open or resolved.
    pub state: IncidentState,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Failure reason that opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<FailureReason>,
    /// Message of the first failing result.
    #[serde(default)]
    pub message: String,
    /// The first failing result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<CheckResult>,
    /// What happened from opening to resolution, oldest first (only from
    /// [`crate::Client::get_incident`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

/// One step of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The event type behind it, e.g. `monitor.down`.
    #[serde(default)]
    pub kind: String,
    /// What happened, for people.
    #[serde(default)]
    pub message: String,
}

/// `GET /api/v1/status`: counts by state and the open incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Monitors by state.
    pub monitors: StateCounts,
    /// Incidents going on.
    #[serde(default)]
    pub open_incidents: Vec<Incident>,
}

/// Monitors counted by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StateCounts {
    /// All monitors.
    pub total: u64,
    /// Up.
    pub up: u64,
    /// Degraded.
    pub degraded: u64,
    /// Down.
    pub down: u64,
    /// Not judged yet.
    pub pending: u64,
    /// Paused.
    pub paused: u64,
    /// In a maintenance window.
    pub maintenance: u64,
}

impl StateCounts {
    /// The count of one state.
    pub fn get(&self, state: MonitorState) -> u64 {
        match state {
            MonitorState::Pending => self.pending,
            MonitorState::Up => self.up,
            MonitorState::Degraded => self.degraded,
            MonitorState::Down => self.down,
            MonitorState::Paused => self.paused,
            MonitorState::Maintenance => self.maintenance,
        }
    }
}

/// `GET /api/v1/series`: aligned buckets per monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Start of the range.
    pub from: DateTime<Utc>,
    /// End of the range.
    pub to: DateTime<Utc>,
    /// Bucket width, e.g. `1h`.
    pub step: String,
    /// Results inside maintenance windows do not count against uptime.
    #[serde(default)]
    pub maintenance_excluded: bool,
    /// One series per monitor.
    pub series: Vec<MonitorSeries>,
}

/// The buckets of one monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorSeries {
    /// The monitor.
    pub monitor_id: String,
    /// Buckets in time order, empty ones included.
    pub buckets: Vec<Bucket>,
}

/// One time bucket; metrics are `None` when it holds no check or were not asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Fraction of checks up or degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<f64>,
    /// Mean latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_avg: Option<f64>,
    /// Median latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50: Option<f64>,
    /// 95th percentile latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p95: Option<f64>,
    /// 99th percentile latency (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99: Option<f64>,
    /// Checks in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<u64>,
    /// Failed checks in the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
}

/// An outbox event with its sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the outbox; pass as `after` to read on.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// What a token may do; scopes nest: `admin` ⊃ `write` ⊃ `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read everything.
    Read,
    /// Read, and write monitors and windows.
    Write,
    /// Everything, tokens included.
    Admin,
}

impl Scope {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewToken {
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it stops working; never when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Token id (for revoking).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just created, with its secret, which the server shows only this once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Everything but the secret.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The secret (`vdt_...`) to send as `Authorization: Bearer`.
    pub token: String,
}

impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("info", &self.info)
            .field("token", &"***")
            .finish()
    }
}

/// A list that is either a page (`{"items": ...}`) or a bare array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ListBody<T> {
    Page(Page<T>),
    Bare(Vec<T>),
}

impl<T> ListBody<T> {
    pub(crate) fn into_page(self) -> Page<T> {
        match self {
            Self::Page(page) => page,
            Self::Bare(items) => Page {
                items,
                next_cursor: None,
            },
        }
    }
}

/// Ids are strings in the contract; numbers are accepted too and kept as their decimal text.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monitor_of_the_contract_decodes() {
        let body = serde_json::json!({
            "id": "payments-api",
            "labels": {"team": "payments"},
            "spec": {"http": {"url": "https://payments.internal/healthz"}, "interval": "30s"},
            "status": {
                "state": "up",
                "since": "2026-11-26T10:00:00Z",
                "last_result": {"at": "2026-11-26T10:00:00Z", "outcome": "up",
                    "message": "HTTP 200 in 12 ms", "latency_ms": 12.3},
                "open_incident": null,
                "push_url": null
            },
            "managed_by": "api",
            "version": 3,
            "created_at": "2026-11-26T10:00:00Z",
            "updated_at": "2026-11-26T10:00:00Z"
        });
        let m: Monitor = serde_json::from_value(body).unwrap();
        assert_eq!(m.version, 3);
        let status = m.status.unwrap();
        assert_eq!(status.state, MonitorState::Up);
        assert_eq!(status.last_result.unwrap().latency_ms, Some(12.3));
        assert_eq!(m.spec.interval.to_string(), "30s");
    }

    #[test]
    fn ids_may_be_numbers_and_lists_may_be_bare() {
        let page: ListBody<TokenInfo> =
            serde_json::from_str(r#"[{"id": 7, "name": "ci", "scopes": ["read"]}]"#).unwrap();
        let page = page.into_page();
        assert_eq!(page.items[0].id, "7");
        assert_eq!(page.next_cursor, None);
        let page: ListBody<TokenInfo> = serde_json::from_str(
            r#"{"items": [{"id": "tok_1", "name": "ci", "scopes": ["admin"]}], "next_cursor": "x"}"#,
        )
        .unwrap();
        assert_eq!(page.into_page().next_cursor.as_deref(), Some("x"));
    }

    #[test]
    fn created_token_debug_hides_the_secret() {
        let t: CreatedToken = serde_json::from_str(
            r#"{"id": "t1", "name": "ci", "scopes": ["write"], "token": "vdt_secret"}"#,
        )
        .unwrap();
        assert!(!format!("{t:?}").contains("vdt_secret"));
        assert_eq!(t.token, "vdt_secret");
    }
}
