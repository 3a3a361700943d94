//! Follows Vedette so that a resource is reconciled when something happens to its monitor:
//! the event stream (SSE) wakes the resource whose monitor changed state or opened an incident,
//! so its status stays live without polling each monitor; a resync lists the operator's
//! monitors (one request for up to 1,000) and wakes the resources whose monitor was deleted or
//! changed behind the operator's back, which the event stream does not report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::ObjectRef;
use vedette_client::{ListQuery, Monitor as VedetteMonitor};
use vedette_model::record::labels::MANAGED_BY;

use crate::controller::Mirrors;
use crate::crd::{MANAGER, Monitor};
use crate::metrics::Metrics;

/// Longest wait before reconnecting to a failing event stream.
const MAX_RECONNECT: Duration = Duration::from_secs(30);

/// Follows the event stream until the process stops, waking resources through `wake`.
pub async fn events(
    vedette: vedette_client::Client,
    mirrors: Arc<Mirrors>,
    metrics: Arc<Metrics>,
    wake: UnboundedSender<ObjectRef<Monitor>>,
) {
    let mut after = None;
    let mut delay = Duration::from_millis(500);
    loop {
        metrics.vedette_calls(1);
        match vedette.event_stream(after).await {
            Ok(mut stream) => {
                delay = Duration::from_millis(500);
                loop {
                    match stream.next().await {
                        Ok(Some(event)) => {
                            after = event.seq.or(after);
                            let id = event.data.get("monitor_id").and_then(|v| v.as_str());
                            if let Some(mirror) = id.and_then(|id| mirrors.get(id)) {
                                let _ = wake.unbounded_send(mirror.object);
                            }
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
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RECONNECT);
    }
}

/// Every `every`, lists the operator's monitors and wakes each resource whose monitor is gone
/// or at another version than the operator last wrote.
pub async fn resync(
    vedette: vedette_client::Client,
    mirrors: Arc<Mirrors>,
    metrics: Arc<Metrics>,
    wake: UnboundedSender<ObjectRef<Monitor>>,
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
        let current = match list(&vedette, &selector, &metrics).await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!(error = %e, "resync: cannot list monitors");
                continue;
            }
        };
        for (id, mirror) in known {
            if current.get(&id) != Some(&mirror.version) {
                tracing::info!(monitor = %id, "resync: monitor changed or deleted in Vedette");
                let _ = wake.unbounded_send(mirror.object);
            }
        }
    }
}

/// The versions of the monitors matching `selector`, by id.
async fn list(
    vedette: &vedette_client::Client,
    selector: &str,
    metrics: &Metrics,
) -> Result<HashMap<String, i64>, vedette_client::Error> {
    let monitors = vedette.resources::<VedetteMonitor>();
    let mut versions = HashMap::new();
    let mut cursor = None;
    for _ in 0..vedette_client::MAX_PAGES {
        metrics.vedette_calls(1);
        let page = monitors
            .list(&ListQuery {
                selector: Some(selector.to_owned()),
                limit: Some(1000),
                cursor,
            })
            .await?;
        versions.extend(page.items.into_iter().map(|m| (m.id, m.version)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(versions)
}
