//! Deployments as a stored resource kind; a write that starts or finishes one puts its
//! `deployment.started` / `deployment.finished` event in the outbox in the same transaction.

use chrono::Utc;
use vedette_model::deployment::{DeploymentSpec, DeploymentStatus};
use vedette_model::event::{DeploymentEvent, EVENT_VERSION};
use vedette_model::{Event, EventType, Record};

use crate::Stored;

impl Stored for DeploymentSpec {
    const TABLE: &'static str = "deployments";
    const KIND: &'static str = "deployment";

    fn events(before: Option<&Record<Self>>, after: &Record<Self>) -> Vec<Event> {
        let was_started = before.map(|b| b.spec.status == DeploymentStatus::Started);
        let mut events = Vec::new();
        if before.is_none() {
            events.push(event(EventType::DeploymentStarted, after));
        }
        if after.spec.status != DeploymentStatus::Started && was_started.unwrap_or(true) {
            events.push(event(EventType::DeploymentFinished, after));
        }
        events
    }
}

/// The event of `kind` about `record`, with a new time-ordered id.
fn event(kind: EventType, record: &Record<DeploymentSpec>) -> Event {
    let spec = &record.spec;
    let data = DeploymentEvent {
        deployment_id: record.id.clone(),
        service: spec.service.clone(),
        version: spec.version.clone(),
        environment: spec.environment.clone(),
        status: spec.status.as_str().to_owned(),
        source: spec.source.as_str().to_owned(),
        url: spec.url.clone(),
        commit: spec.commit.clone(),
        started_at: spec.started_at.unwrap_or_else(Utc::now),
        finished_at: spec.finished_at,
    };
    Event {
        id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        event_type: kind,
        version: EVENT_VERSION,
        occurred_at: match kind {
            EventType::DeploymentFinished => spec.finished_at,
            _ => spec.started_at,
        }
        .unwrap_or_else(Utc::now),
        monitor_id: None,
        data: serde_json::to_value(data).unwrap_or_default(),
    }
}
