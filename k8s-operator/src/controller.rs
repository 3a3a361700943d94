//! The `Monitor` controller: mirrors each resource into Vedette through its REST API (id
//! `<namespace>.<name>` or `spec.id`, label `managed-by: operator`, conditional writes with the
//! monitor's ETag), removes the monitor behind a finalizer, restores one changed or deleted
//! behind its back (with an Event), and writes the status. It is woken by Kubernetes watches and
//! by [`crate::follow`] (Vedette's event stream and resync), never by polling each monitor.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};
use vedette_client::{Precondition, SeriesQuery, Upserted};
use vedette_model::decode::Decoder;
use vedette_model::record::labels::MANAGED_BY;
use vedette_model::{Audience, Check, MonitorSpec, Redact};

use crate::crd::{FINALIZER, MANAGER, Monitor, MonitorStatus};
use crate::metrics::Metrics;
use crate::status::{self, NotSynced};

/// Label on a monitor naming the namespace of the resource it mirrors.
pub const NAMESPACE_LABEL: &str = "k8s.vedette.dev/namespace";
/// Label on a monitor naming the resource it mirrors.
pub const NAME_LABEL: &str = "k8s.vedette.dev/name";
/// Longest wait between retries of a failing resource.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a reconcile fails with; retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Vedette's API failed or answered an error.
    #[error("vedette: {0}")]
    Vedette(#[from] vedette_client::Error),
    /// The Kubernetes API failed.
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

/// Which Vedette monitor mirrors which resource, and the version the operator last wrote or saw;
/// shared with [`crate::follow`], which wakes the resource when Vedette reports about its monitor.
#[derive(Debug, Default)]
pub struct Mirrors {
    by_id: Mutex<HashMap<String, Mirror>>,
}

/// One mirrored monitor.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// The resource.
    pub object: ObjectRef<Monitor>,
    /// The monitor version the operator last wrote or read.
    pub version: i64,
}

impl Mirrors {
    fn set(&self, id: &str, object: ObjectRef<Monitor>, version: i64) {
        if let Ok(mut map) = self.by_id.lock() {
            map.insert(id.to_owned(), Mirror { object, version });
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut map) = self.by_id.lock() {
            map.remove(id);
        }
    }

    /// The resource mirrored by monitor `id`.
    pub fn get(&self, id: &str) -> Option<Mirror> {
        self.by_id.lock().ok()?.get(id).cloned()
    }

    /// Every mirrored monitor id with its version.
    pub fn snapshot(&self) -> Vec<(String, Mirror)> {
        self.by_id
            .lock()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

/// What every reconcile shares.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// The Vedette client.
    pub vedette: vedette_client::Client,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Mirrored monitors.
    pub mirrors: Arc<Mirrors>,
    /// Consecutive failures per resource, for backoff.
    failures: Mutex<HashMap<ObjectRef<Monitor>, u32>>,
}

impl Context {
    /// A context over these clients.
    pub fn new(
        kube: kube::Client,
        vedette: vedette_client::Client,
        recorder: Recorder,
        metrics: Arc<Metrics>,
        mirrors: Arc<Mirrors>,
    ) -> Self {
        Self {
            kube,
            vedette,
            recorder,
            metrics,
            mirrors,
            failures: Mutex::default(),
        }
    }
}

/// Runs the controller until `shutdown` resolves, at most `concurrency` reconciles at once;
/// `wake` carries resources to reconcile because Vedette reported about their monitors.
pub async fn run(
    context: Arc<Context>,
    wake: UnboundedReceiver<ObjectRef<Monitor>>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let monitors: Api<Monitor> = Api::all(context.kube.clone());
    Controller::new(monitors, watcher::Config::default().any_semantic())
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .reconcile_on(wake)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile did not run");
            }
        })
        .await;
}

async fn reconcile(monitor: Arc<Monitor>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = monitor.namespace().unwrap_or_default();
    let api: Api<Monitor> = Api::namespaced(ctx.kube.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, monitor, |event| async {
        match event {
            finalizer::Event::Apply(m) => apply(&m, &ctx).await,
            finalizer::Event::Cleanup(m) => cleanup(&m, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    ctx.metrics.reconciled(started.elapsed(), result.is_err());
    result
}

fn error_policy(monitor: Arc<Monitor>, error: &Error, ctx: Arc<Context>) -> Action {
    let object = ObjectRef::from_obj(&*monitor);
    let failures = ctx
        .failures
        .lock()
        .map(|mut map| {
            let n = map.entry(object.clone()).or_default();
            *n = n.saturating_add(1);
            *n
        })
        .unwrap_or(1);
    let wait = Duration::from_secs(1u64 << failures.min(9)).min(MAX_BACKOFF);
    tracing::warn!(monitor = %object, error = %error, retry_in_s = wait.as_secs(), "reconcile failed");
    Action::requeue(wait)
}

/// The Vedette id of a resource: `spec.id`, else `<namespace>.<name>`.
pub fn monitor_id(monitor: &Monitor) -> String {
    match monitor.spec.fields.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!(
            "{}.{}",
            monitor.namespace().unwrap_or_default(),
            monitor.name_any()
        ),
    }
}

/// The labels the operator writes on a monitor.
fn labels(monitor: &Monitor) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([(MANAGED_BY.to_owned(), MANAGER.to_owned())]);
    // Label values hold at most 63 characters; a longer name is still found through the id.
    for (key, value) in [
        (NAMESPACE_LABEL, monitor.namespace().unwrap_or_default()),
        (NAME_LABEL, monitor.name_any()),
    ] {
        if value.len() <= 63 {
            labels.insert(key.to_owned(), value);
        }
    }
    labels
}

/// The model's spec from the resource's document, or every problem with its field path.
fn desired_spec(monitor: &Monitor) -> Result<MonitorSpec, NotSynced> {
    let mut fields = monitor.spec.fields.clone();
    fields.remove("id");
    let mut decoder = Decoder::new();
    let spec = decoder.decode_checked::<MonitorSpec>(Value::Object(fields), "spec");
    let problems = decoder.finish();
    match spec {
        Some(spec) if problems.is_empty() => Ok(spec),
        _ => Err(NotSynced {
            reason: "InvalidSpec",
            message: problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

async fn apply(monitor: &Monitor, ctx: &Context) -> Result<Action, Error> {
    let id = monitor_id(monitor);
    let object = ObjectRef::from_obj(monitor);
    let outcome = match desired_spec(monitor) {
        Ok(spec) => write(monitor, &id, &spec, ctx).await?,
        Err(not_synced) => Err(not_synced),
    };
    let uptime = match &outcome {
        Ok(_) => uptime(ctx, &id).await,
        Err(_) => None,
    };
    let status = status::build(
        monitor.meta().generation,
        &id,
        outcome.as_ref(),
        uptime,
        monitor.status.as_ref(),
    );
    write_status(monitor, status, ctx).await?;
    if let Ok(mut failures) = ctx.failures.lock() {
        failures.remove(&object);
    }
    Ok(Action::await_change())
}

/// Creates or updates monitor `id` to `spec`; `Err` when Vedette refuses it for a reason an edit
/// of the resource must fix (a conflict of ownership, an invalid spec).
async fn write(
    monitor: &Monitor,
    id: &str,
    spec: &MonitorSpec,
    ctx: &Context,
) -> Result<Result<vedette_client::Monitor, NotSynced>, Error> {
    let object = ObjectRef::from_obj(monitor);
    let labels = labels(monitor);
    let monitors = ctx.vedette.monitors();
    ctx.metrics.vedette_calls(1);
    let existing = monitors.find(id).await?;
    // The resource was in sync at this generation: any difference now was made in Vedette.
    let was_synced = monitor.status.as_ref().is_some_and(|s| {
        s.observed_generation == monitor.meta().generation
            && s.monitor_id.as_deref() == Some(id)
            && s.conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.status == "True")
    });
    let mut spec = spec.clone();
    let precondition = match &existing {
        None => Precondition::Absent,
        Some(current) => {
            if let Some(refused) = foreign(current) {
                return Ok(Err(refused));
            }
            keep_generated(&mut spec, &current.spec);
            if in_sync(&spec, &current.spec, was_synced) && current.labels == labels {
                ctx.mirrors.set(id, object, current.version);
                return Ok(Ok(current.clone()));
            }
            Precondition::Version(current.version)
        }
    };
    ctx.metrics.vedette_calls(1);
    let written = match monitors.put(id, &labels, &spec, precondition).await {
        Ok(Upserted::Created(m) | Upserted::Replaced(m)) => m,
        Err(vedette_client::Error::Api(e)) if e.status == 422 || e.status == 409 => {
            return Ok(Err(NotSynced {
                reason: if e.status == 422 {
                    "InvalidSpec"
                } else {
                    "Conflict"
                },
                message: e.to_string(),
            }));
        }
        Err(e) => return Err(e.into()),
    };
    if was_synced {
        let (reason, note) = match existing {
            None => (
                "MonitorRecreated",
                format!(
                    "monitor {id} was deleted in Vedette behind the operator's back; recreated"
                ),
            ),
            Some(_) => (
                "DriftCorrected",
                format!("monitor {id} was changed in Vedette behind the operator's back; restored"),
            ),
        };
        ctx.metrics.drift_corrected();
        publish(ctx, monitor, EventType::Warning, reason, note).await;
    }
    ctx.mirrors.set(id, object, written.version);
    Ok(Ok(written))
}

/// Keeps what the server generated and the resource leaves out: a heartbeat's push token.
fn keep_generated(desired: &mut MonitorSpec, current: &MonitorSpec) {
    if let (Check::Heartbeat(want), Check::Heartbeat(have)) = (&mut desired.check, &current.check)
        && want.token.is_none()
    {
        want.token.clone_from(&have.token);
    }
}

/// Whether the stored spec (its credentials shown as `********`) is the desired one. Credentials
/// cannot be compared: a spec holding some is in sync only if the resource was synced at this
/// generation (an edit of the resource writes them again).
fn in_sync(desired: &MonitorSpec, stored: &MonitorSpec, synced_this_generation: bool) -> bool {
    let redacted = desired.clone().redacted(Audience::Writer);
    redacted == *stored && (redacted == *desired || synced_this_generation)
}

/// Why the operator must not write `current`: another writer owns it.
fn foreign(current: &vedette_client::Monitor) -> Option<NotSynced> {
    if let Some(source) = current
        .managed_by
        .filter(|s| *s != vedette_client::Source::Api)
    {
        return Some(NotSynced {
            reason: "Conflict",
            message: format!(
                "monitor {} is managed by {source}, not by the operator",
                current.id
            ),
        });
    }
    match current.labels.get(MANAGED_BY) {
        Some(owner) if owner == MANAGER => None,
        owner => Some(NotSynced {
            reason: "Conflict",
            message: format!(
                "monitor {} exists and is managed by {}; the operator takes over only monitors labelled {MANAGED_BY}={MANAGER}",
                current.id,
                owner.map(String::as_str).unwrap_or("another API client"),
            ),
        }),
    }
}

/// Uptime of monitor `id` over the last 24 hours, when Vedette has results for it.
async fn uptime(ctx: &Context, id: &str) -> Option<f64> {
    let query = SeriesQuery {
        ids: Some(id.to_owned()),
        from: Some("-24h".to_owned()),
        step: Some("1h".to_owned()),
        metrics: Some("uptime".to_owned()),
        ..SeriesQuery::default()
    };
    ctx.metrics.vedette_calls(1);
    match ctx.vedette.series(&query).await {
        Ok(series) => series
            .series
            .iter()
            .find(|s| s.monitor_id == id)
            .and_then(|s| status::uptime(&s.buckets)),
        Err(e) => {
            tracing::debug!(monitor = id, error = %e, "no uptime");
            None
        }
    }
}

async fn write_status(
    monitor: &Monitor,
    status: MonitorStatus,
    ctx: &Context,
) -> Result<(), Error> {
    if monitor
        .status
        .as_ref()
        .is_some_and(|current| status::same(current, &status))
    {
        return Ok(());
    }
    let api: Api<Monitor> =
        Api::namespaced(ctx.kube.clone(), &monitor.namespace().unwrap_or_default());
    ctx.metrics.kube_write();
    api.patch_status(
        &monitor.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}

async fn cleanup(monitor: &Monitor, ctx: &Context) -> Result<Action, Error> {
    let id = monitor_id(monitor);
    let monitors = ctx.vedette.monitors();
    ctx.metrics.vedette_calls(1);
    if let Some(current) = monitors.find(&id).await?
        && foreign(&current).is_none()
    {
        ctx.metrics.vedette_calls(1);
        match monitors
            .delete(&id, Precondition::Version(current.version))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    ctx.mirrors.remove(&id);
    publish(
        ctx,
        monitor,
        EventType::Normal,
        "MonitorDeleted",
        format!("monitor {id} removed from Vedette"),
    )
    .await;
    Ok(Action::await_change())
}

/// Publishes an Event about `monitor`; a failure to publish is logged, not fatal.
async fn publish(ctx: &Context, monitor: &Monitor, type_: EventType, reason: &str, note: String) {
    ctx.metrics.kube_write();
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &monitor.object_ref(&())).await {
        tracing::warn!(error = %e, reason, "could not publish an event");
    }
}

#[cfg(test)]
mod tests {
    use vedette_model::spec::{HttpAuth, HttpCheck, Secret};

    use super::*;

    fn with_password(password: &str) -> MonitorSpec {
        let mut http = HttpCheck::get("https://example.com/");
        http.auth = Some(HttpAuth::Bearer {
            token: Secret(password.to_owned()),
        });
        MonitorSpec::new(http)
    }

    #[test]
    fn credentials_shown_redacted_are_in_sync_only_at_a_synced_generation() {
        let desired = with_password("s3cret");
        let stored = with_password(vedette_model::REDACTED);
        assert!(in_sync(&desired, &stored, true));
        assert!(!in_sync(&desired, &stored, false));
        let plain = MonitorSpec::http("https://example.com/");
        assert!(in_sync(&plain, &plain, false));
        assert!(!in_sync(
            &plain,
            &MonitorSpec::http("https://example.com/x"),
            true
        ));
    }

    #[test]
    fn a_generated_push_token_is_kept() {
        let mut desired = MonitorSpec::new(vedette_model::spec::HeartbeatCheck {
            schedule: None,
            grace: vedette_model::Duration::from_secs(60),
            token: None,
        });
        let mut stored = desired.clone();
        if let Check::Heartbeat(h) = &mut stored.check {
            h.token = Some(Secret("generated".into()));
        }
        keep_generated(&mut desired, &stored);
        assert_eq!(desired, stored);
    }
}
