//! Follows Vedette so that a resource is reconciled when something happens to what it mirrors:
//! the event stream (SSE) wakes the `Monitor` whose monitor changed state (`resource.status`,
//! a first verdict included) or opened an incident, so its status stays live without polling
//! each monitor, and, through its
//! `resource.changed` / `resource.deleted` events, the resource of any kind whose mirror was
//! written or deleted by someone else (its own writes come back at the version it wrote and
//! wake nothing). Those events are live only, so a resync per kind lists the operator's
//! resources (one request for up to 1,000) as a safety net and wakes those that differ, and
//! after the stream was down every `Monitor` is woken once, for the states it did not hear.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use vedette_client::{BySelector, ListQuery, StreamedEvent};
use vedette_model::Version;
use vedette_model::record::labels::MANAGED_BY;

use crate::controller::{Mirrored, Mirrors, Stored, Wake};
use crate::crd::{MANAGER, Monitor};
use crate::metrics::Metrics;

/// Longest wait before reconnecting to a failing event stream.
const MAX_RECONNECT: Duration = Duration::from_secs(30);

/// Follows the event stream until the process stops, waking the `Monitor` a state event names
/// and the resource whose mirror of kind `kinds` (by change-feed name) a resource event names;
/// `following` says whether the stream is open.
pub async fn events(
    vedette: vedette_client::Client,
    monitors: Arc<Mirrors<Monitor>>,
    kinds: HashMap<&'static str, Arc<dyn Wake>>,
    metrics: Arc<Metrics>,
    following: Arc<AtomicBool>,
) {
    let resources: Vec<&str> = kinds.keys().copied().collect();
    let mut after = None;
    let mut delay = Duration::from_millis(500);
    let mut was_open = false;
    loop {
        metrics.vedette_calls(1);
        match vedette.event_stream_with(after, &resources).await {
            Ok(mut stream) => {
                delay = Duration::from_millis(500);
                following.store(true, Ordering::Relaxed);
                metrics.set_stream_open(true);
                if was_open {
                    monitors.wake_all();
                }
                was_open = true;
                loop {
                    match stream.next().await {
                        Ok(Some(event)) => {
                            after = event.seq.or(after);
                            wake(&event, &monitors, &kinds);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "event stream failed");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open Vedette's event stream"),
        }
        following.store(false, Ordering::Relaxed);
        metrics.set_stream_open(false);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RECONNECT);
    }
}

/// Wakes what `event` is about: a resource event's mirror, or a state event's monitor.
fn wake(
    event: &StreamedEvent,
    monitors: &Mirrors<Monitor>,
    kinds: &HashMap<&'static str, Arc<dyn Wake>>,
) {
    let field = |name: &str| event.data.get(name);
    if event.event_type == "resource.status" {
        if let Some(id) = field("id").and_then(Value::as_str) {
            monitors.wake_reported(id);
        }
    } else if event.event_type.starts_with("resource.") {
        let kind = field("kind").and_then(Value::as_str).unwrap_or_default();
        let id = field("id").and_then(Value::as_str);
        let version = field("version").and_then(Value::as_i64);
        if let (Some(waker), Some(id)) = (kinds.get(kind), id)
            && waker.wake(id, version)
        {
            tracing::info!(kind, id, "changed or deleted in Vedette by another writer");
        }
    } else if let Some(id) = field("monitor_id").and_then(Value::as_str) {
        monitors.wake_reported(id);
    }
}

/// Every `every`, lists the operator's resources of kind `K` and wakes each custom resource
/// whose mirror is gone or at another version than the operator last wrote.
pub async fn resync<K: Mirrored>(
    vedette: vedette_client::Client,
    mirrors: Arc<Mirrors<K>>,
    metrics: Arc<Metrics>,
    every: Duration,
) {
    let selector = format!("{MANAGED_BY}={MANAGER}");
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let known = mirrors.snapshot();
        if known.is_empty() {
            continue;
        }
        let current = match list::<K>(&vedette, &selector, &metrics).await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!(error = %e, kind = K::NOUN, "resync: cannot list");
                continue;
            }
        };
        for (id, mirror) in known {
            let version = current.get(&id).copied();
            if version != Some(mirror.version) {
                tracing::info!(id = %id, kind = K::NOUN, "resync: changed or deleted in Vedette");
                mirrors.wake(&id, Some(version.unwrap_or_default()));
            }
        }
    }
}

/// The versions of the resources of kind `K` matching `selector`, by id.
async fn list<K: Mirrored>(
    vedette: &vedette_client::Client,
    selector: &str,
    metrics: &Metrics,
) -> Result<HashMap<String, Version>, vedette_client::Error> {
    let remote = vedette.resources::<K::Remote>();
    let mut versions = HashMap::new();
    let mut cursor = None;
    for _ in 0..vedette_client::MAX_PAGES {
        metrics.vedette_calls(1);
        let page = remote
            .list(&ListQuery {
                filter: BySelector {
                    selector: Some(selector.to_owned()),
                },
                limit: Some(1000),
                cursor,
            })
            .await?;
        versions.extend(page.items.iter().map(|r| (r.id().to_owned(), r.version())));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(versions)
}
