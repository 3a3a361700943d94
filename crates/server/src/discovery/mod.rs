//! Gateway discovery: each discovery source lists its gateway on its interval, the routes its
//! filters select become monitors made from its template, and the reconciler creates, updates
//! and deletes the monitors it owns (labelled `discovered-by=<source>`), never others.
//!
//! A run: connect ([`source::Gateway`], credentials read now), list ([`sources::list`], one
//! file per gateway behind [`source::GatewaySource`]), render, plan ([`reconcile::plan`], a
//! pure function), write (unless `dry_run`), then save the status and its event
//! (`discovery.completed` / `discovery.failed`) in one transaction. A listing that fails in
//! any way (an error status, a timeout, garbage, a truncated or oversized body, too many
//! routes) writes no monitor: the run fails, the status says why, every owned monitor stays.

pub mod file_root;
pub mod health;
pub mod reconcile;
pub mod sigv4;
pub mod source;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use vedette_model::discovery::{DiscoverySourceSpec, DiscoveryStatus, GatewayHealth, RunState};
use vedette_model::event::DiscoveryEvent;
use vedette_model::{Event, EventType, Record, Source};
use vedette_store::{Store, StoreError};

use self::file_root::FileRoot;
use self::reconcile::{Desired, Plan, monitor_id, owned_by};
use self::source::ListError;
use crate::engine::Engine;

/// How often the runner looks for sources that are due.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Most runs of different sources the background runner makes at once; a source whose
/// gateway is slow holds one slot, never the others' runs.
pub const MAX_PARALLEL_RUNS: usize = 4;

/// Monitor writes of a run committed together: one commit per batch instead of one per
/// monitor (on PostgreSQL each commit is a flush), while the write lock, which the results
/// writer also needs, is never held for more than a batch.
const WRITE_BATCH: usize = 250;

/// One lock per source, held by every run that writes (the background runner's and
/// `POST .../run`), so two runs never plan over the same source's monitors at once while
/// runs of different sources go on side by side (each owns only its own monitors).
static RUNS: LazyLock<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

/// The lock of source `id` (locks no run holds are dropped on the way).
fn source_lock(id: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    locks.retain(|_, lock| Arc::strong_count(lock) > 1);
    locks.entry(id.to_owned()).or_default().clone()
}

/// What one run found and did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunReport {
    /// Routes the gateway listed.
    pub routes_seen: u32,
    /// Of those, the routes the filters and opt-in/opt-out selected.
    pub routes_selected: u32,
    /// The writes planned (made, unless dry run).
    pub plan: Plan,
    /// Whether the plan was only computed.
    pub dry_run: bool,
    /// Writes that failed (a monitor changed meanwhile); they are retried next run.
    pub write_errors: Vec<String>,
    /// Upstream health the gateway reported, by monitor id, for the selected routes.
    pub health: BTreeMap<String, GatewayHealth>,
}

/// Why a run did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The gateway could not be listed or its routes rendered; nothing was written.
    #[error("{0}")]
    Listing(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ListError> for RunError {
    fn from(e: ListError) -> Self {
        Self::Listing(e.to_string())
    }
}

/// Lists the gateway of source `id` (a file source reading only under `files`) and plans the
/// writes; writes them unless `write` is false or the spec is in dry run. Saves nothing of
/// its own (see [`run_and_record`]).
pub async fn run(
    store: &Store,
    id: &str,
    spec: &DiscoverySourceSpec,
    files: &FileRoot,
    missing_since: &BTreeMap<String, DateTime<Utc>>,
    write: bool,
) -> Result<RunReport, RunError> {
    let gateway = source::Gateway::connect(spec)?.confined_to(files);
    let routes = sources::list(spec.gateway, &gateway).await?;
    if routes.len() > spec.max_routes as usize {
        return Err(ListError::TooManyRoutes(spec.max_routes).into());
    }
    let routes_seen = routes.len() as u32;
    let mut desired = Vec::new();
    for route in routes.iter().filter(|r| spec.selects(r)) {
        let (labels, monitor) = spec
            .render(id, route)
            .map_err(|e| RunError::Listing(e.to_string()))?;
        desired.push(Desired {
            id: monitor_id(id, route),
            route: route.key.clone(),
            labels,
            spec: monitor,
            health: route.health.clone(),
        });
    }
    let routes_selected = desired.len() as u32;
    let health = desired
        .iter()
        .filter_map(|d| Some((d.id.clone(), d.health.clone()?)))
        .collect();
    let monitors = store.list_monitors().await?;
    let (owned, others): (Vec<_>, Vec<_>) = monitors
        .into_iter()
        .partition(|m| owned_by(m, id) && m.source == Source::Api);
    let taken: BTreeSet<String> = others.into_iter().map(|m| m.id).collect();
    let grace = chrono::Duration::from_std(spec.grace_period.std()).unwrap_or_default();
    let plan = reconcile::plan(desired, &owned, &taken, missing_since, Utc::now(), grace);
    let dry_run = spec.dry_run || !write;
    let mut write_errors = Vec::new();
    if !dry_run {
        let versions: HashMap<&str, i64> =
            owned.iter().map(|m| (m.id.as_str(), m.version)).collect();
        let writes: Vec<_> = plan
            .create
            .iter()
            .map(|d| (d, 0))
            .chain(plan.update.iter().map(|d| (d, versions[d.id.as_str()])))
            .map(|(d, expected)| {
                let record =
                    Record::new(d.id.clone(), d.spec.clone()).with_labels(d.labels.clone());
                (record, expected)
            })
            .collect();
        for batch in writes.chunks(WRITE_BATCH) {
            let outcomes = store.put_monitors_if(batch).await?;
            for ((record, _), outcome) in batch.iter().zip(outcomes) {
                if let Err(e) = outcome {
                    write_errors.push(format!("monitor {}: {e}", record.id));
                }
            }
        }
        for id in &plan.delete {
            store
                .delete_monitor(id, |incident| {
                    crate::state_machine::resolved_by_deletion(incident, id)
                })
                .await?;
        }
    }
    Ok(RunReport {
        routes_seen,
        routes_selected,
        plan,
        dry_run,
        write_errors,
        health,
    })
}

/// Runs source `id` and saves its status, with a `discovery.completed` event when the run
/// changed something or ended a failure, or `discovery.failed` when it failed anew (or
/// failed differently). A file source reads only under `files`.
pub async fn run_and_record(
    store: &Store,
    id: &str,
    spec: &DiscoverySourceSpec,
    files: &FileRoot,
) -> Result<DiscoveryStatus, StoreError> {
    let lock = source_lock(id);
    let _one_at_a_time = lock.lock().await;
    let mut status = store.discovery_status(id).await?.unwrap_or_default();
    let started = Instant::now();
    let outcome = run(store, id, spec, files, &status.missing_since, true).await;
    let now = Utc::now();
    let previous = (status.state, status.error.clone());
    status.last_run = Some(now);
    status.duration_ms = started.elapsed().as_millis() as u64;
    let event_type = match outcome {
        Ok(report) => {
            status.state = RunState::Succeeded;
            status.last_success = Some(now);
            status.routes_seen = report.routes_seen;
            status.routes_selected = report.routes_selected;
            let plan = &report.plan;
            status.created = plan.create.len() as u32;
            status.updated = plan.update.len() as u32;
            status.deleted = plan.delete.len() as u32;
            status.error = (!report.write_errors.is_empty()).then(|| {
                format!(
                    "{} writes failed (retried next run): {}",
                    report.write_errors.len(),
                    report.write_errors[0]
                )
            });
            if !report.dry_run {
                status.missing_since = plan.missing_since.clone();
            }
            status.conflicts = plan.conflicts.clone();
            status.health = report.health;
            let changed = !plan.is_empty() || previous.0 == RunState::Failed;
            changed.then_some(EventType::DiscoveryCompleted)
        }
        Err(RunError::Store(e)) => return Err(e),
        Err(RunError::Listing(error)) => {
            status.state = RunState::Failed;
            status.error = Some(error);
            status.created = 0;
            status.updated = 0;
            status.deleted = 0;
            let anew = previous.0 != RunState::Failed || previous.1 != status.error;
            anew.then_some(EventType::DiscoveryFailed)
        }
    };
    status.monitors_owned = store
        .list_monitors()
        .await?
        .iter()
        .filter(|m| owned_by(m, id))
        .count() as u32;
    let event = event_type.map(|t| Event {
        id: crate::state_machine::new_id("evt"),
        event_type: t,
        version: vedette_model::event::EVENT_VERSION,
        occurred_at: now,
        monitor_id: None,
        data: serde_json::to_value(DiscoveryEvent {
            source_id: id.to_owned(),
            gateway: spec.gateway.as_str().to_owned(),
            routes_seen: status.routes_seen,
            monitors_owned: status.monitors_owned,
            created: status.created,
            updated: status.updated,
            deleted: status.deleted,
            dry_run: spec.dry_run,
            error: status
                .error
                .clone()
                .filter(|_| t == EventType::DiscoveryFailed),
        })
        .unwrap_or_default(),
    });
    store
        .save_discovery_status(id, &status, event.as_ref())
        .await?;
    match &status.error {
        Some(error) => tracing::warn!(source = id, %error, "discovery run failed"),
        None => tracing::debug!(
            source = id,
            created = status.created,
            updated = status.updated,
            deleted = status.deleted,
            "discovery run done"
        ),
    }
    Ok(status)
}

/// Runs source `id` ([`run_and_record`]) and hands the health it reported to the engine.
pub async fn run_for_engine(
    engine: &Engine,
    id: &str,
    spec: &DiscoverySourceSpec,
) -> Result<DiscoveryStatus, StoreError> {
    let status = run_and_record(engine.store(), id, spec, engine.discovery_file_root()).await?;
    engine.gateway_health().record(id, spec.gateway, &status);
    Ok(status)
}

/// Runs every discovery source on its interval until `stop`: each is listed once at start,
/// then `interval` after its previous run ended. Sources are read from the store at every
/// tick, so a new, changed or deleted source takes effect within a second. Runs of different
/// sources go on at once (at most [`MAX_PARALLEL_RUNS`]), so a slow gateway delays no other.
pub async fn run_sources(engine: Arc<Engine>, stop: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_PARALLEL_RUNS));
    let mut runs = tokio::task::JoinSet::new();
    // Source id by the task running it, and (version, next run) by source id.
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut next: HashMap<String, (i64, Instant)> = HashMap::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                runs.shutdown().await;
                return;
            }
            Some(done) = runs.join_next_with_id() => {
                let task = match &done {
                    Ok((task, _)) => *task,
                    Err(e) => e.id(),
                };
                let id = running.remove(&task);
                match (done, id) {
                    (Ok((_, (version, interval))), Some(id)) => {
                        next.insert(id, (version, Instant::now() + interval));
                    }
                    (Err(e), Some(id)) => {
                        tracing::warn!(source = %id, error = %e, "discovery run ended abnormally");
                        next.remove(&id);
                    }
                    (_, None) => {}
                }
                continue;
            }
            () = tokio::time::sleep(TICK) => {}
        }
        let store = engine.store();
        let sources = match store.list::<DiscoverySourceSpec>().await {
            Ok(sources) => sources,
            Err(e) => {
                tracing::warn!(error = %e, "discovery sources could not be read");
                continue;
            }
        };
        next.retain(|id, _| sources.iter().any(|s| &s.id == id));
        engine
            .gateway_health()
            .retain(|id| sources.iter().any(|s| s.id == id));
        for source in sources {
            if !engine.gateway_health().knows(&source.id) {
                match store.discovery_status(&source.id).await {
                    Ok(status) => engine.gateway_health().record(
                        &source.id,
                        source.spec.gateway,
                        &status.unwrap_or_default(),
                    ),
                    Err(e) => {
                        tracing::warn!(source = %source.id, error = %e, "discovery status could not be read");
                    }
                }
            }
            let busy = running.values().any(|id| id == &source.id);
            let due = next
                .get(&source.id)
                .is_none_or(|(version, at)| *version != source.version || *at <= Instant::now());
            if busy || !due {
                continue;
            }
            let engine = engine.clone();
            let slots = slots.clone();
            let id = source.id.clone();
            let task = runs.spawn(async move {
                // The semaphore is never closed, so a permit always comes.
                let _slot = slots.acquire_owned().await;
                if let Err(e) = run_for_engine(&engine, &source.id, &source.spec).await {
                    tracing::warn!(source = %source.id, error = %e, "discovery status could not be saved");
                }
                (source.version, source.spec.interval.std())
            });
            running.insert(task.id(), id);
        }
    }
}
