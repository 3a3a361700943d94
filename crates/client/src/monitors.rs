//! Monitors (`/api/v1/monitors`): the resource with its status, the calls only monitors have
//! (pause, resume, run, results), and heartbeat pings.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use vedette_model::{CheckResult, MonitorSpec, MonitorState, Outcome};

use crate::ids::string_or_number;
use crate::{Client, Error, Item, Kind, ListQuery, Page, Precondition, Resources, all_pages};

/// A monitor as the server returns it.
pub type Monitor = Item<MonitorSpec, Option<MonitorStatus>>;

impl Kind for Monitor {
    const COLLECTION: &'static str = "monitors";
    type Spec = MonitorSpec;
    type Created = Monitor;
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
    /// For a discovered monitor, the latest upstream health its gateway reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<vedette_model::discovery::GatewayReading>,
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

/// `?from=&to=` of a monitor's results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultsFilter {
    /// RFC 3339 time or relative (`-1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 time or relative (`now`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl Client {
    /// The monitors.
    pub fn monitors(&self) -> Resources<'_, Monitor> {
        self.resources()
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
        let request = self.anonymous(Method::POST, url.clone()).query(&query);
        self.send(request, &url).await.map(drop)
    }
}

impl Resources<'_, Monitor> {
    /// `POST /api/v1/monitors/{id}/pause`: a runtime pause beside the spec, with an optional
    /// reason shown in `status.paused`.
    pub async fn pause(&self, id: &str, reason: Option<&str>) -> Result<Monitor, Error> {
        let body = serde_json::json!({ "reason": reason });
        self.client
            .send_json(
                Method::POST,
                self.url(&[id, "pause"]),
                &body,
                Precondition::None,
            )
            .await
    }

    /// `POST /api/v1/monitors/{id}/resume`.
    pub async fn resume(&self, id: &str) -> Result<Monitor, Error> {
        self.client.post_empty(self.url(&[id, "resume"])).await
    }

    /// `POST /api/v1/monitors/{id}/run`: checks now, records and returns the result.
    pub async fn run(&self, id: &str) -> Result<CheckResult, Error> {
        self.client.post_empty(self.url(&[id, "run"])).await
    }

    /// `GET /api/v1/monitors/{id}/results`: one page, newest first.
    pub async fn results(
        &self,
        id: &str,
        query: &ListQuery<ResultsFilter>,
    ) -> Result<Page<ResultRecord>, Error> {
        self.client.list(self.url(&[id, "results"]), query).await
    }

    /// The newest `max` results of a monitor (all of them when `None`), following cursors.
    pub async fn recent_results(
        &self,
        id: &str,
        max: Option<usize>,
    ) -> Result<Vec<ResultRecord>, Error> {
        let limit = max.map_or(1000, |m| m.clamp(1, 1000) as u32);
        all_pages(max, |cursor| async move {
            let query = ListQuery {
                filter: ResultsFilter::default(),
                limit: Some(limit),
                cursor,
            };
            self.results(id, &query).await
        })
        .await
    }
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
        assert_eq!(m.managed_by, Some(vedette_model::Source::Api));
        let status = m.status.unwrap();
        assert_eq!(status.state, MonitorState::Up);
        assert_eq!(status.last_result.unwrap().latency_ms, Some(12.3));
        assert_eq!(m.spec.interval.to_string(), "30s");
    }
}
