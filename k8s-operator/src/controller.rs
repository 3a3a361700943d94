//! The reconcile every mirrored kind shares, written once over [`Mirrored`]: the finalizer, the
//! conditional create or update through Vedette's REST API (as `Vedette-Manager: operator`),
//! drift correction with a Kubernetes Event, removal behind the finalizer, exponential backoff
//! with jitter on errors, and a status patch only when the status says something new. A kind
//! says only what differs: how its document becomes the spec Vedette takes, when a stored spec
//! is in sync, and what its status holds.
//!
//! A resource is woken by a change of its generation, finalizers or deletion (not by the
//! operator's own status writes), and by [`crate::follow`] when Vedette reports a change of
//! what it mirrors.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Patch, PatchParams};
use kube::core::object::{HasSpec, HasStatus};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, predicates, watcher};
use kube::{Api, Resource, ResourceExt};
use rand::RngExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use vedette_client::{Kind, Precondition, Upserted};
use vedette_model::decode::{Checked, Decoder};
use vedette_model::record::labels::MANAGED_BY;
use vedette_model::{Source, Version};

use crate::crd::{Conditioned, FINALIZER, MANAGER, Written};
use crate::metrics::Metrics;
use crate::status::NotSynced;

/// Longest wait between retries of a failing resource.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The first retry's wait.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

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

/// What every reconcile of every kind shares.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// The Vedette client (acting as the operator).
    pub vedette: vedette_client::Client,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Whether Vedette's event stream is open ([`crate::follow::events`] keeps it): while it
    /// is, the stream wakes what changes and nothing is looked at again on a timer.
    pub following: Arc<AtomicBool>,
}

/// A resource as Vedette returns it: what the shared reconcile reads of every kind.
pub trait Stored {
    /// Its id.
    fn id(&self) -> &str;
    /// Its labels.
    fn labels(&self) -> &BTreeMap<String, String>;
    /// Its version (the ETag).
    fn version(&self) -> Version;
    /// Who writes it when not the API (files, the demo).
    fn managed_by(&self) -> Option<Source>;
}

impl<S, T> Stored for vedette_client::Item<S, T> {
    fn id(&self) -> &str {
        &self.id
    }
    fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }
    fn version(&self) -> Version {
        self.version
    }
    fn managed_by(&self) -> Option<Source> {
        self.managed_by
    }
}

/// The spec Vedette takes for the kind `K` mirrors.
pub type Spec<K> = <<K as Mirrored>::Remote as Kind>::Spec;

/// A custom resource kind mirrored into one Vedette resource kind.
pub trait Mirrored:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasSpec<Spec: Written>
    + HasStatus<Status: Conditioned + Serialize + Send + Sync>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    /// The kind as Vedette returns it.
    type Remote: Kind<Spec: Send, Created: Send> + Stored + Clone + Send + Sync + 'static;
    /// The kind's name for people: `maintenance window`.
    const NOUN: &'static str;
    /// The kind's name in Vedette's resource events (`resource.changed`): `maintenance_windows`.
    const FEED_KIND: &'static str;

    /// The resource's `spec` as written.
    fn document(&self) -> &Map<String, Value> {
        self.spec().fields()
    }

    /// The conditions of its current status; none without one.
    fn conditions(&self) -> &[Condition] {
        HasStatus::status(self)
            .map(Conditioned::conditions)
            .unwrap_or_default()
    }

    /// The spec to write to Vedette, or why there is none (an edit of the resource must fix it).
    fn desired(
        &self,
        ctx: &Context,
    ) -> impl Future<Output = Result<Result<Spec<Self>, NotSynced>, Error>> + Send;

    /// The labels the operator writes on the Vedette resource.
    fn remote_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(MANAGED_BY.to_owned(), MANAGER.to_owned())])
    }

    /// Whether `stored` already says what `desired` says; may first copy into `desired` what
    /// the server generated and the resource leaves out. `synced` says the resource was in
    /// sync at this generation (credentials shown redacted cannot be compared otherwise).
    fn in_sync(&self, desired: &mut Spec<Self>, stored: &Self::Remote, synced: bool) -> bool;

    /// When to look again though nothing woke the resource, while the event stream is down
    /// (a monitor still pending, whose first verdict the stream would announce); `None`: only
    /// when woken.
    fn look_again(_status: &Self::Status) -> Option<Duration> {
        None
    }

    /// The resource from the answer to a create.
    fn created(created: <Self::Remote as Kind>::Created) -> Self::Remote;

    /// The status to report after a reconcile: `Ok` with what Vedette holds, or why not.
    fn report(
        &self,
        id: &str,
        outcome: Result<&Self::Remote, &NotSynced>,
        desired: Option<&Spec<Self>>,
        ctx: &Context,
    ) -> impl Future<Output = Self::Status> + Send;
}

/// The Vedette id of a resource: `spec.id`, else `<namespace>.<name>`.
pub fn vedette_id<K: Mirrored>(resource: &K) -> String {
    match resource.document().get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!(
            "{}.{}",
            resource.namespace().unwrap_or_default(),
            resource.name_any()
        ),
    }
}

/// The model's spec `S` from a resource's document (without `id`), or every problem with its
/// field path.
pub fn decode<S: Checked>(document: &Map<String, Value>) -> Result<S, NotSynced> {
    let mut fields = document.clone();
    fields.remove("id");
    let mut decoder = Decoder::new();
    let spec = decoder.decode_checked::<S>(Value::Object(fields), "spec");
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

/// Which Vedette resource of kind `K` mirrors which custom resource, and the version the
/// operator last wrote or saw; [`crate::follow`] wakes a resource when Vedette reports a
/// change of its mirror.
#[derive(Debug)]
pub struct Mirrors<K: Mirrored> {
    by_id: Mutex<HashMap<String, Mirror<K>>>,
    /// Ids woken by a report about them before their mirror was known, and when: a new
    /// resource's first verdict can arrive before the create that made it returns.
    unclaimed: Mutex<HashMap<String, Instant>>,
    wake: UnboundedSender<ObjectRef<K>>,
}

/// How long a report about an id not (yet) mirrored is kept for a create in flight.
const UNCLAIMED_FOR: Duration = Duration::from_secs(30);
/// Most reports about ids not mirrored kept at once (reports about resources the operator
/// does not manage are among them).
const MAX_UNCLAIMED: usize = 4096;

/// One mirrored resource.
#[derive(Debug, Clone)]
pub struct Mirror<K: Mirrored> {
    /// The custom resource.
    pub object: ObjectRef<K>,
    /// The version the operator last wrote or read.
    pub version: Version,
}

impl<K: Mirrored> Mirrors<K> {
    /// An empty map, and the receiver of the resources it wakes (for [`run`]).
    pub fn new() -> (Arc<Self>, UnboundedReceiver<ObjectRef<K>>) {
        let (wake, woken) = futures::channel::mpsc::unbounded();
        let mirrors = Self {
            by_id: Mutex::default(),
            unclaimed: Mutex::default(),
            wake,
        };
        (Arc::new(mirrors), woken)
    }

    /// Records `id`'s mirror; wakes it at once when a report about `id` came before.
    fn set(&self, id: &str, object: ObjectRef<K>, version: Version) {
        let reported = self
            .unclaimed
            .lock()
            .ok()
            .and_then(|mut unclaimed| unclaimed.remove(id))
            .is_some_and(|at| at.elapsed() < UNCLAIMED_FOR);
        if let Ok(mut map) = self.by_id.lock() {
            map.insert(id.to_owned(), Mirror { object, version });
            if reported {
                // Sent after the reconcile that called this has its mirror: it runs again
                // once that one ends, and reads what the report was about.
                let _ = self.wake.unbounded_send(map[id].object.clone());
            }
        }
    }

    /// Wakes the resource mirrored by `id` because Vedette reported about it (a state, an
    /// incident); when `id` is not mirrored yet, the report is kept for a while so the create
    /// in flight that will mirror it is woken once it is.
    pub fn wake_reported(&self, id: &str) {
        if self.wake(id, None) {
            return;
        }
        if let Ok(mut unclaimed) = self.unclaimed.lock() {
            if unclaimed.len() >= MAX_UNCLAIMED {
                unclaimed.retain(|_, at| at.elapsed() < UNCLAIMED_FOR);
                if unclaimed.len() >= MAX_UNCLAIMED {
                    unclaimed.clear();
                }
            }
            unclaimed.insert(id.to_owned(), Instant::now());
        }
    }

    /// Wakes every mirrored resource (after the event stream was down: what it missed).
    pub fn wake_all(&self) {
        for (id, _) in self.snapshot() {
            self.wake(&id, None);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut map) = self.by_id.lock() {
            map.remove(id);
        }
    }

    /// Every mirrored id with its mirror.
    pub fn snapshot(&self) -> Vec<(String, Mirror<K>)> {
        self.by_id
            .lock()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Wakes the resource mirrored by `id`, unless `version` is the one the operator last
    /// wrote or saw (its own write coming back); whether one was woken.
    pub fn wake(&self, id: &str, version: Option<Version>) -> bool {
        let mirror = self.by_id.lock().ok().and_then(|map| map.get(id).cloned());
        match mirror {
            Some(mirror) if version != Some(mirror.version) => {
                self.wake.unbounded_send(mirror.object).is_ok()
            }
            _ => false,
        }
    }
}

/// Wakes the custom resource mirroring a Vedette resource of one kind; [`crate::follow`]
/// holds one per kind.
pub trait Wake: Send + Sync {
    /// Wakes the resource mirroring `id`, unless `version` is its mirror's; whether one was.
    fn wake(&self, id: &str, version: Option<Version>) -> bool;
}

impl<K: Mirrored> Wake for Mirrors<K> {
    fn wake(&self, id: &str, version: Option<Version>) -> bool {
        Mirrors::wake(self, id, version)
    }
}

/// What the reconciles of one kind share.
struct KindContext<K: Mirrored> {
    shared: Arc<Context>,
    mirrors: Arc<Mirrors<K>>,
    /// Consecutive failures per resource, for backoff.
    failures: Mutex<HashMap<ObjectRef<K>, u32>>,
}

/// A hash of what should wake a resource: its generation (a spec edit), finalizers and
/// deletion — not its status, so the operator's own status write does not wake it again.
fn wakes<K: Resource>(resource: &K) -> Option<u64> {
    let meta = resource.meta();
    let mut hasher = DefaultHasher::new();
    predicates::generation(resource).hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// Runs the controller of kind `K` until `shutdown` resolves, at most `concurrency` reconciles
/// at once; `woken` carries resources [`crate::follow`] wakes; `with` adds watches (a kind's
/// Secrets).
pub async fn run<K: Mirrored>(
    shared: Arc<Context>,
    mirrors: Arc<Mirrors<K>>,
    woken: UnboundedReceiver<ObjectRef<K>>,
    concurrency: u16,
    with: impl FnOnce(Controller<K>) -> Controller<K>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<K> = Api::all(shared.kube.clone());
    let (reader, writer) = reflector::store();
    let trigger = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(wakes, Default::default());
    let context = Arc::new(KindContext {
        shared,
        mirrors,
        failures: Mutex::default(),
    });
    with(Controller::for_stream(trigger, reader))
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .reconcile_on(woken)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile did not run");
            }
        })
        .await;
}

async fn reconcile<K: Mirrored>(
    resource: Arc<K>,
    ctx: Arc<KindContext<K>>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let api: Api<K> = Api::namespaced(
        ctx.shared.kube.clone(),
        &resource.namespace().unwrap_or_default(),
    );
    let result = finalizer(&api, FINALIZER, resource, |event| async {
        match event {
            finalizer::Event::Apply(r) => apply(&*r, &ctx).await,
            finalizer::Event::Cleanup(r) => cleanup(&*r, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    ctx.shared
        .metrics
        .reconciled(started.elapsed(), result.is_err());
    result
}

/// The wait before retry `failures` (1, 2, ...): doubling from [`FIRST_BACKOFF`] up to
/// [`MAX_BACKOFF`], each drawn at random from its upper half so that resources failing
/// together do not retry together.
pub fn backoff(failures: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let half = ceiling / 2;
    half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
}

fn error_policy<K: Mirrored>(resource: Arc<K>, error: &Error, ctx: Arc<KindContext<K>>) -> Action {
    let object = ObjectRef::from_obj(&*resource);
    let failures = ctx
        .failures
        .lock()
        .map(|mut map| {
            let n = map.entry(object.clone()).or_default();
            *n = n.saturating_add(1);
            *n
        })
        .unwrap_or(1);
    let wait = backoff(failures);
    tracing::warn!(
        resource = %object,
        error = %error,
        retry_in_ms = wait.as_millis() as u64,
        "reconcile failed"
    );
    Action::requeue(wait)
}

/// Whether the resource was in sync at its current generation: any difference now was made in
/// Vedette.
fn synced_this_generation<K: Mirrored>(resource: &K) -> bool {
    let generation = resource.meta().generation;
    resource
        .conditions()
        .iter()
        .any(|c| c.type_ == "Synced" && c.status == "True" && c.observed_generation == generation)
}

async fn apply<K: Mirrored>(resource: &K, ctx: &KindContext<K>) -> Result<Action, Error> {
    let id = vedette_id(resource);
    let desired = resource.desired(&ctx.shared).await?;
    let (outcome, desired) = match desired {
        Ok(mut spec) => (write(resource, &id, &mut spec, ctx).await?, Some(spec)),
        Err(not_synced) => (Err(not_synced), None),
    };
    let status = resource
        .report(&id, outcome.as_ref(), desired.as_ref(), &ctx.shared)
        .await;
    write_status(resource, &status, &ctx.shared).await?;
    if let Ok(mut failures) = ctx.failures.lock() {
        failures.remove(&ObjectRef::from_obj(resource));
    }
    let following = ctx.shared.following.load(Ordering::Relaxed);
    match K::look_again(&status).filter(|_| !following) {
        Some(wait) => {
            ctx.shared.metrics.timed_lookup();
            Ok(Action::requeue(wait))
        }
        None => Ok(Action::await_change()),
    }
}

/// Why the operator must not write `current`: another writer owns it.
fn foreign<K: Mirrored>(current: &K::Remote) -> Option<NotSynced> {
    if let Some(source) = current.managed_by().filter(|s| *s != Source::Api) {
        return Some(NotSynced {
            reason: "Conflict",
            message: format!(
                "{} {} is managed by {source}, not by the operator",
                K::NOUN,
                current.id()
            ),
        });
    }
    match current.labels().get(MANAGED_BY) {
        Some(owner) if owner == MANAGER => None,
        owner => Some(NotSynced {
            reason: "Conflict",
            message: format!(
                "{} {} exists and is managed by {}; the operator takes over only those labelled {MANAGED_BY}={MANAGER}",
                K::NOUN,
                current.id(),
                owner.map(String::as_str).unwrap_or("another API client"),
            ),
        }),
    }
}

/// Creates or updates `id` to `spec`; `Err` when Vedette refuses it for a reason an edit of
/// the resource must fix (a conflict of ownership, an invalid spec).
async fn write<K: Mirrored>(
    resource: &K,
    id: &str,
    spec: &mut Spec<K>,
    ctx: &KindContext<K>,
) -> Result<Result<K::Remote, NotSynced>, Error> {
    let object = ObjectRef::from_obj(resource);
    let labels = resource.remote_labels();
    let remote = ctx.shared.vedette.resources::<K::Remote>();
    ctx.shared.metrics.vedette_calls(1);
    let existing = remote.find(id).await?;
    let was_synced = synced_this_generation(resource);
    let precondition = match &existing {
        None => Precondition::Absent,
        Some(current) => {
            if let Some(refused) = foreign::<K>(current) {
                return Ok(Err(refused));
            }
            if resource.in_sync(spec, current, was_synced) && *current.labels() == labels {
                ctx.mirrors.set(id, object, current.version());
                return Ok(Ok(current.clone()));
            }
            Precondition::Version(current.version())
        }
    };
    ctx.shared.metrics.vedette_calls(1);
    let written = match remote.put(id, &labels, spec, precondition).await {
        Ok(Upserted::Created(created)) => K::created(created),
        Ok(Upserted::Replaced(replaced)) => replaced,
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
        let kind = K::kind(&());
        let (reason, note) = match existing {
            None => (
                format!("{kind}Recreated"),
                format!(
                    "{} {id} was deleted in Vedette behind the operator's back; recreated",
                    K::NOUN
                ),
            ),
            Some(_) => (
                "DriftCorrected".to_owned(),
                format!(
                    "{} {id} was changed in Vedette behind the operator's back; restored",
                    K::NOUN
                ),
            ),
        };
        ctx.shared.metrics.drift_corrected();
        publish(&ctx.shared, resource, EventType::Warning, reason, note).await;
    }
    ctx.mirrors.set(id, object, written.version());
    Ok(Ok(written))
}

/// Patches the status when it says something new (when conditions last changed aside).
async fn write_status<K: Mirrored>(
    resource: &K,
    status: &K::Status,
    ctx: &Context,
) -> Result<(), Error> {
    let new = serde_json::to_value(status).unwrap_or_default();
    let current = serde_json::to_value(resource)
        .ok()
        .and_then(|mut v| v.get_mut("status").map(Value::take))
        .unwrap_or_default();
    if without_transition_times(current) == without_transition_times(new.clone()) {
        return Ok(());
    }
    let api: Api<K> = Api::namespaced(ctx.kube.clone(), &resource.namespace().unwrap_or_default());
    ctx.metrics.kube_write();
    api.patch_status(
        &resource.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": new })),
    )
    .await?;
    Ok(())
}

/// A status with every condition's `lastTransitionTime` removed, to compare what it says.
fn without_transition_times(mut status: Value) -> Value {
    if let Some(conditions) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        for condition in conditions {
            if let Some(c) = condition.as_object_mut() {
                c.remove("lastTransitionTime");
            }
        }
    }
    status
}

async fn cleanup<K: Mirrored>(resource: &K, ctx: &KindContext<K>) -> Result<Action, Error> {
    let id = vedette_id(resource);
    let remote = ctx.shared.vedette.resources::<K::Remote>();
    ctx.shared.metrics.vedette_calls(1);
    if let Some(current) = remote.find(&id).await?
        && foreign::<K>(&current).is_none()
    {
        ctx.shared.metrics.vedette_calls(1);
        match remote
            .delete(&id, Precondition::Version(current.version()))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    ctx.mirrors.remove(&id);
    publish(
        &ctx.shared,
        resource,
        EventType::Normal,
        format!("{}Deleted", K::kind(&())),
        format!("{} {id} removed from Vedette", K::NOUN),
    )
    .await;
    Ok(Action::await_change())
}

/// Publishes an Event about `resource`; a failure to publish is logged, not fatal.
async fn publish<K: Mirrored>(
    ctx: &Context,
    resource: &K,
    type_: EventType,
    reason: String,
    note: String,
) {
    ctx.metrics.kube_write();
    let event = Event {
        type_,
        reason,
        note: Some(note),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx
        .recorder
        .publish(&event, &resource.object_ref(&()))
        .await
    {
        tracing::warn!(error = %e, "could not publish an event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_ceiling() {
        for failures in 1..40 {
            let ceiling = Duration::from_secs(1 << (failures - 1).min(16)).min(MAX_BACKOFF);
            let wait = backoff(failures);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "{failures}: {wait:?}"
            );
        }
        let draws: std::collections::HashSet<_> = (0..20).map(|_| backoff(5)).collect();
        assert!(draws.len() > 1, "no jitter");
    }

    #[test]
    fn transition_times_do_not_count_as_a_change() {
        let a = json!({"conditions": [{"type": "Synced", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]});
        let b = json!({"conditions": [{"type": "Synced", "status": "True", "lastTransitionTime": "2026-02-01T00:00:00Z"}]});
        let c = json!({"conditions": [{"type": "Synced", "status": "False", "lastTransitionTime": "2026-02-01T00:00:00Z"}]});
        assert_eq!(
            without_transition_times(a.clone()),
            without_transition_times(b)
        );
        assert_ne!(without_transition_times(a), without_transition_times(c));
    }
}
