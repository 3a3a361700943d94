//! The event outbox (`/api/v1/events`): pages after a sequence number, or a live stream.

use std::time::Duration;

use reqwest::Method;
use reqwest::header;
use serde::{Deserialize, Serialize};
use vedette_model::Event;

use crate::{Client, Error, EventStream, Page};

/// An outbox event with its sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the outbox; pass as `after` to read on.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
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

impl Client {
    /// `GET /api/v1/events`: outbox events after `query.after`, ascending.
    pub async fn list_events(&self, query: &EventsQuery) -> Result<Page<EventRecord>, Error> {
        self.list(self.api(&["events"]), query).await
    }

    /// `GET /api/v1/events/stream`: Server-Sent Events from after `after` (or from now).
    pub async fn event_stream(&self, after: Option<u64>) -> Result<EventStream, Error> {
        self.event_stream_with(after, &[]).await
    }

    /// [`Client::event_stream`], with the live `resource.changed` / `resource.deleted` events
    /// of the resource kinds `resources` (change-feed names such as `monitors`, or `*`) too,
    /// and for `monitors` their `resource.status` events (a monitor's state changed).
    pub async fn event_stream_with(
        &self,
        after: Option<u64>,
        resources: &[&str],
    ) -> Result<EventStream, Error> {
        let mut url = self.api(&["events", "stream"]);
        if !resources.is_empty() {
            url.query_pairs_mut()
                .append_pair("resources", &resources.join(","));
        }
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
}
