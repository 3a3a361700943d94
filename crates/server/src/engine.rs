//! The engine: holds the monitors the scheduler runs and the maintenance windows in force,
//! runs their probes, applies the state machine and hands each result, with its state change
//! and events, to the batch writer. What it holds follows the store ([`crate::follow`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use vedette_model::assertion::AssertionSet;
use vedette_model::deployment::DeploymentSpec;
use vedette_model::maintenance::{CompiledWindow, MaintenanceSpec};
use vedette_model::spec::HeartbeatCheck;
use vedette_model::{Check, CheckResult, MonitorSpec, MonitorState, Outcome};
use vedette_probe::heartbeat::{self, Ping};
use vedette_probe::{ProbeContext, Target};
use vedette_store::{CheckRecord, MonitorRecord, MonitorStatus, PingRecord, RuntimePause, Store};

use crate::ServerError;
use crate::deployments::RecentDeployments;
use crate::discovery::file_root::{FileRoot, NO_FILE_ROOT};
use crate::discovery::health::HealthBook;
use crate::metrics::Metrics;
use crate::scheduler::{Runner, SchedulerHandle};
use crate::state_machine::{self, Context};
use crate::states::{StateChange, StateFeed};
use crate::verifications::Verifications;
use crate::writer::{Write, WriterTx};

/// A monitor as the engine runs it: its record plus compiled assertions.
#[derive(Debug)]
pub struct LiveMonitor {
    /// Stored resource.
    pub record: MonitorRecord,
    /// Compiled assertions.
    pub assertions: AssertionSet,
}

impl LiveMonitor {
    /// Display name: `spec.name` or the id.
    pub fn name(&self) -> &str {
        self.record.spec.name.as_deref().unwrap_or(&self.record.id)
    }
}

/// Shared engine state; cheap to clone through `Arc`.
pub struct Engine {
    store: Store,
    probe: ProbeContext,
    scheduler: SchedulerHandle,
    writer: WriterTx,
    monitors: RwLock<BTreeMap<String, Arc<LiveMonitor>>>,
    statuses: Mutex<HashMap<String, MonitorStatus>>,
    pauses: Mutex<HashMap<String, RuntimePause>>,
    /// Maintenance windows by id, parsed once when they arrive.
    maintenance: RwLock<BTreeMap<String, CompiledWindow>>,
    cert_warned: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Recent deployments: their mutes and the incidents that name them.
    deployments: RwLock<RecentDeployments>,
    metrics: Arc<Metrics>,
    /// The verifications following the results of some monitors.
    verifications: Verifications,
    /// The latest upstream health of each discovery source's gateway.
    gateway_health: HealthBook,
    /// State changes, published once committed, for the event stream.
    states: StateFeed,
    /// The folder file discovery sources may read under, set once at start.
    discovery_file_root: OnceLock<FileRoot>,
}

impl Engine {
    /// An engine writing through `writer` and scheduling through `scheduler`; statuses are
    /// restored from the store, first caught up with the results stored after them.
    pub async fn new(
        store: Store,
        probe: ProbeContext,
        scheduler: SchedulerHandle,
        writer: WriterTx,
    ) -> Result<Arc<Self>, ServerError> {
        store.catch_up_statuses().await?;
        let statuses = store
            .monitor_statuses()
            .await?
            .into_iter()
            .map(|s| (s.monitor_id.clone(), s))
            .collect();
        let pauses = store.pauses().await?.into_iter().collect();
        Ok(Arc::new(Self {
            store,
            probe,
            scheduler,
            writer,
            monitors: RwLock::new(BTreeMap::new()),
            statuses: Mutex::new(statuses),
            pauses: Mutex::new(pauses),
            maintenance: RwLock::new(BTreeMap::new()),
            cert_warned: Mutex::new(HashMap::new()),
            deployments: RwLock::new(RecentDeployments::default()),
            metrics: Arc::new(Metrics::default()),
            verifications: Verifications::default(),
            gateway_health: HealthBook::default(),
            states: StateFeed::default(),
            discovery_file_root: OnceLock::new(),
        }))
    }

    /// The monitors' state changes, each published once committed.
    pub fn states(&self) -> &StateFeed {
        &self.states
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The scheduler handle (lag, in-flight counts).
    pub fn scheduler(&self) -> &SchedulerHandle {
        &self.scheduler
    }

    /// The verifications this server follows.
    pub fn verifications(&self) -> &Verifications {
        &self.verifications
    }

    /// The latest upstream health discovery sources reported, read by checks of discovered
    /// monitors (`gateway.healthy`) and shown in their status.
    pub fn gateway_health(&self) -> &HealthBook {
        &self.gateway_health
    }

    /// Lets file discovery sources read under `root` (`--discovery-file-root`); only the first
    /// call counts, so the folder cannot change while the server runs.
    pub fn set_discovery_file_root(&self, root: FileRoot) {
        let _ = self.discovery_file_root.set(root);
    }

    /// The folder file discovery sources may read under (none: they read nothing).
    pub fn discovery_file_root(&self) -> &FileRoot {
        self.discovery_file_root.get().unwrap_or(&NO_FILE_ROOT)
    }

    /// Counters and histograms exported at `/metrics`.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Starts running `record` (or applies its changes) at once. A record older than the
    /// running one (a lower version, from a writer that lost a race) is ignored. Once the
    /// scheduler runs, a new monitor or a changed check is checked at once, then at its phase.
    pub async fn upsert(&self, record: MonitorRecord) -> Result<(), ServerError> {
        if self
            .monitor(&record.id)
            .is_some_and(|live| live.record.version > record.version)
        {
            return Ok(());
        }
        let assertions = AssertionSet::compile(&record.spec.assertions).map_err(|(i, e)| {
            ServerError::Invalid(format!("monitor {}: spec.assertions[{i}]: {e}", record.id))
        })?;
        if let Check::Heartbeat(heartbeat) = &record.spec.check {
            self.ensure_push_token(&record.id, heartbeat).await?;
        }
        // A new monitor, or a changed check (pausing and resuming aside), is checked at once.
        let check_changed = self.monitor(&record.id).is_none_or(|live| {
            let mut before = live.record.spec.clone();
            before.paused = record.spec.paused;
            before != record.spec
        });
        let id = record.id.clone();
        let interval = record.spec.interval.std();
        // Paused by its spec (declared) or at runtime (an operation beside the spec).
        let paused = record.spec.paused || self.runtime_pause(&id).is_some();
        let live = Arc::new(LiveMonitor { record, assertions });
        self.monitors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), live);
        let now = Utc::now();
        {
            let mut statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = state_machine::initial_status(&id, now, paused);
            let prev = statuses.get(&id);
            let statuses_had = prev.is_some();
            let changed = match prev {
                None => Some(fresh),
                Some(s) if paused && s.state != MonitorState::Paused => Some(MonitorStatus {
                    state: MonitorState::Paused,
                    since: now,
                    ..s.clone()
                }),
                Some(s) if !paused && s.state == MonitorState::Paused => Some(MonitorStatus {
                    last_result_at: s.last_result_at,
                    last_outcome: s.last_outcome,
                    last_message: s.last_message.clone(),
                    last_latency_ms: s.last_latency_ms,
                    open_incident: s.open_incident.clone(),
                    ..fresh
                }),
                Some(_) => None,
            };
            if let Some(status) = changed {
                statuses.insert(id.clone(), status.clone());
                // A pause or resume is known at once (the API answers from memory); a new
                // monitor is pending, which its creator already knows.
                if statuses_had {
                    self.states.publish(StateChange {
                        monitor_id: id.clone(),
                        state: status.state,
                        since: status.since,
                    });
                }
                // Sent under the lock so it is ordered with the results `record` sends.
                let _ = self.writer.send(Write::Status(status));
            }
        }
        if paused {
            self.scheduler.remove(&id);
        } else {
            self.scheduler.upsert(&id, interval);
        }
        if check_changed && !paused {
            self.scheduler.check_now(&id);
        }
        Ok(())
    }

    /// The runtime pause of `id`, if someone paused it through the API.
    pub fn runtime_pause(&self, id: &str) -> Option<RuntimePause> {
        self.pauses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Pauses `id` at runtime (`Some`) or ends its runtime pause (`None`): stored first, so it
    /// survives restarts and config reloads, then applied to the running monitor. The monitor
    /// runs again only when its spec does not pause it either.
    pub async fn set_runtime_pause(
        &self,
        id: &str,
        pause: Option<RuntimePause>,
    ) -> Result<(), ServerError> {
        match &pause {
            Some(p) => self.store.put_pause(id, p).await?,
            None => {
                self.store.delete_pause(id).await?;
            }
        }
        {
            let mut pauses = self.pauses.lock().unwrap_or_else(|e| e.into_inner());
            match pause {
                Some(p) => pauses.insert(id.to_owned(), p),
                None => pauses.remove(id),
            };
        }
        if let Some(live) = self.monitor(id) {
            self.upsert(live.record.clone()).await?;
        }
        Ok(())
    }

    /// Stops running `id` and forgets its in-memory state.
    pub fn remove(&self, id: &str) {
        self.pauses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.scheduler.remove(id);
        self.monitors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Up to `limit` running monitors with ids after `after` (from the first when `None`),
    /// in id order, keeping only those `keep` accepts.
    pub fn monitors_page(
        &self,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&LiveMonitor) -> bool,
    ) -> Vec<Arc<LiveMonitor>> {
        use std::ops::Bound;
        let start = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.to_owned()));
        self.monitors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .range((start, Bound::Unbounded))
            .map(|(_, m)| m)
            .filter(|m| keep(m))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Ids of the monitors running now, in id order.
    pub fn monitor_ids(&self) -> Vec<String> {
        self.monitors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The live monitor `id`.
    pub fn monitor(&self, id: &str) -> Option<Arc<LiveMonitor>> {
        self.monitors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Every running monitor with its current state, in id order: a copy taken under one lock
    /// at a time, so a reader (the metrics scrape) holds no engine lock while it works.
    pub fn snapshot(&self) -> Vec<(Arc<LiveMonitor>, Option<MonitorState>)> {
        let monitors: Vec<Arc<LiveMonitor>> = self
            .monitors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        let states: Vec<Option<MonitorState>> = monitors
            .iter()
            .map(|m| statuses.get(&m.record.id).map(|s| s.state))
            .collect();
        drop(statuses);
        monitors.into_iter().zip(states).collect()
    }

    /// The in-memory status of `id`.
    pub fn status(&self, id: &str) -> Option<MonitorStatus> {
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Adds or replaces the maintenance window `id`.
    pub fn upsert_maintenance(&self, id: &str, spec: &MaintenanceSpec) {
        let compiled = spec.compile();
        self.maintenance
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), compiled);
    }

    /// Drops every maintenance window whose id is not in `kept`.
    pub fn retain_maintenance(&self, kept: &HashSet<String>) {
        self.maintenance
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| kept.contains(id));
    }

    /// Drops the maintenance window `id`.
    pub fn remove_maintenance(&self, id: &str) {
        self.maintenance
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Sets how long after a deployment started an incident on one of its monitors names it.
    pub fn set_deployment_window(&self, window: vedette_model::Duration) {
        self.deployments_mut().set_window(window);
    }

    /// Adds or replaces deployment `id`.
    pub fn upsert_deployment(&self, id: &str, spec: &DeploymentSpec) {
        self.deployments_mut().upsert(id, spec, Utc::now());
    }

    /// Forgets deployment `id`.
    pub fn remove_deployment(&self, id: &str) {
        self.deployments_mut().remove(id);
    }

    /// Forgets every deployment whose id is not in `kept`.
    pub fn retain_deployments(&self, kept: &HashSet<String>) {
        self.deployments_mut().retain(kept);
    }

    fn deployments_mut(&self) -> std::sync::RwLockWriteGuard<'_, RecentDeployments> {
        self.deployments.write().unwrap_or_else(|e| e.into_inner())
    }

    fn recent_deployments(&self) -> std::sync::RwLockReadGuard<'_, RecentDeployments> {
        self.deployments.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a maintenance window, or a deployment's mute (a window of its own), covers the
    /// monitor at `at`.
    fn in_maintenance(
        &self,
        id: &str,
        labels: &BTreeMap<String, String>,
        at: DateTime<Utc>,
    ) -> bool {
        self.maintenance
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|w| w.applies_to(id, labels) && w.is_active(at))
            || self.recent_deployments().muted(labels, at)
    }

    /// Runs the check of `id` now, records it like a scheduled one and returns it (a paused
    /// monitor's check runs and is returned, but is not recorded).
    pub async fn run_now(&self, id: &str) -> Option<CheckResult> {
        let monitor = self.monitor(id)?;
        let mut result = self.check(&monitor, Utc::now()).await?;
        result.in_maintenance = self.in_maintenance(id, &monitor.record.labels, result.started_at);
        self.record_durably(&monitor, result.clone()).await;
        Some(result)
    }

    /// Runs the probe, or judges a heartbeat; `None` when a heartbeat has nothing due yet.
    async fn check(&self, monitor: &LiveMonitor, now: DateTime<Utc>) -> Option<CheckResult> {
        let spec = &monitor.record.spec;
        match Target::of(&spec.check) {
            Ok(target) => {
                let gateway = self
                    .gateway_health
                    .reading(&monitor.record.id, &monitor.record.labels);
                Some(
                    vedette_probe::run_check(
                        &monitor.record.id,
                        target,
                        spec,
                        &monitor.assertions,
                        gateway.as_ref(),
                        &self.probe,
                    )
                    .await,
                )
            }
            Err(check) => {
                let last = self
                    .store
                    .last_ping(&monitor.record.id)
                    .await
                    .ok()
                    .flatten();
                let ping = last.map(|p| Ping {
                    at: p.at,
                    status: if p.up {
                        vedette_model::Outcome::Up
                    } else {
                        vedette_model::Outcome::Down
                    },
                    message: p.message,
                });
                heartbeat::evaluate(
                    &monitor.record.id,
                    check,
                    spec.interval,
                    monitor.record.created_at,
                    ping.as_ref(),
                    now,
                )
                .result
            }
        }
    }

    /// Applies the state machine to `result` and queues it, with its consequences, for writing.
    pub fn record(&self, monitor: &LiveMonitor, result: CheckResult) {
        self.enqueue(monitor, result, None);
    }

    /// [`Engine::record`], returning once the result and its consequences are committed (for
    /// callers that answer someone: run-now, pushes), so an acknowledged result survives a crash.
    pub async fn record_durably(&self, monitor: &LiveMonitor, result: CheckResult) {
        let (tx, rx) = oneshot::channel();
        self.enqueue(monitor, result, Some(tx));
        // An error means the writer has stopped (shutdown) or the result was not queued (paused).
        let _ = rx.await;
    }

    fn enqueue(
        &self,
        monitor: &LiveMonitor,
        mut result: CheckResult,
        written: Option<oneshot::Sender<()>>,
    ) {
        let id = &monitor.record.id;
        if self
            .status(id)
            .is_some_and(|s| s.state == MonitorState::Paused)
        {
            return;
        }
        let in_maintenance = self.in_maintenance(id, &monitor.record.labels, result.started_at);
        result.in_maintenance = in_maintenance;
        let cert_event = self.cert_event(&result, &monitor.record.spec);
        let deployment = (result.outcome == Outcome::Down)
            .then(|| {
                self.recent_deployments()
                    .latest_before(&monitor.record.labels, result.started_at)
            })
            .flatten();
        self.metrics.observe_check(&result);
        // Verifications see the result after the status lock is released; a copy is kept only
        // for a monitor one follows.
        let followed = self.verifications.follows(id).then(|| result.clone());
        // Lock rule: `statuses` is held only to read the previous status, apply the pure state
        // machine and queue the write (which orders the results of one monitor); nothing else
        // is called while it is held.
        let mut statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        // A monitor removed while its check ran (deleted) gets no status back in memory; its
        // result is not queued (the store refuses the status of a deleted monitor as well).
        if !self
            .monitors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
        {
            return;
        }
        let prev = statuses
            .entry(id.clone())
            .or_insert_with(|| state_machine::initial_status(id, result.started_at, false))
            .clone();
        if prev.state == MonitorState::Paused {
            return;
        }
        let mut transition = state_machine::apply(
            &prev,
            &result,
            Context {
                id,
                name: monitor.name(),
                spec: &monitor.record.spec,
                in_maintenance,
                deployment: deployment.as_ref(),
            },
        );
        transition.events.extend(cert_event);
        statuses.insert(id.clone(), transition.status.clone());
        let last_check_only = transition.status.only_last_check_differs(&prev);
        let (state, failing) = (transition.status.state, transition.failing);
        let logged =
            (!transition.events.is_empty() || transition.status.state != prev.state).then(|| {
                let types: Vec<String> = transition
                    .events
                    .iter()
                    .map(|e| e.event_type.to_string())
                    .collect();
                (types, result.message.clone(), transition.status.state)
            });
        let written = if state == prev.state {
            written
        } else {
            self.announce_when_written(
                StateChange {
                    monitor_id: id.clone(),
                    state,
                    since: transition.status.since,
                },
                written,
            )
        };
        // An unbounded channel send: it never blocks and takes no lock of ours.
        let _ = self.writer.send(Write::Check {
            record: Box::new(CheckRecord {
                result,
                status: transition.status,
                last_check_only,
                incident: transition.incident,
                events: transition.events,
            }),
            written,
        });
        drop(statuses);
        if let Some(result) = followed {
            self.verifications.observe(&result, state, failing);
        }
        if let Some((types, message, state)) = logged {
            for event in types {
                tracing::info!(monitor = %id, event = %event, message = %message, "event");
            }
            if state != prev.state {
                tracing::info!(monitor = %id, from = %prev.state, to = %state, "state changed");
            }
        }
    }

    /// The acknowledgement to queue with a result that changed its monitor's state: once the
    /// writer commits it, `change` is published, then `written` (the caller's) is told.
    fn announce_when_written(
        &self,
        change: StateChange,
        written: Option<oneshot::Sender<()>>,
    ) -> Option<oneshot::Sender<()>> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.states.publish(change);
            return written;
        };
        let (ack, committed) = oneshot::channel();
        let states = self.states.clone();
        runtime.spawn(async move {
            if committed.await.is_ok() {
                states.publish(change);
                if let Some(written) = written {
                    let _ = written.send(());
                }
            }
        });
        Some(ack)
    }

    fn cert_event(&self, result: &CheckResult, spec: &MonitorSpec) -> Option<vedette_model::Event> {
        let mut warned = self.cert_warned.lock().unwrap_or_else(|e| e.into_inner());
        let Check::Tls(tls) = &spec.check else {
            return None;
        };
        let event = state_machine::certificate_warning(
            result,
            tls,
            warned.get(&result.monitor_id).copied(),
        )?;
        if let Some(not_after) = result.cert_not_after {
            warned.insert(result.monitor_id.clone(), not_after);
        }
        Some(event)
    }

    async fn ensure_push_token(
        &self,
        id: &str,
        heartbeat: &HeartbeatCheck,
    ) -> Result<(), ServerError> {
        let wanted = heartbeat.token.as_ref().map(|t| t.expose().to_owned());
        let current = self.store.heartbeat_token(id).await?;
        match (wanted, current) {
            (Some(w), Some(c)) if w == c => Ok(()),
            (Some(w), _) => Ok(self.store.set_heartbeat_token(id, &w).await?),
            (None, Some(_)) => Ok(()),
            (None, None) => Ok(self.store.set_heartbeat_token(id, &new_token()).await?),
        }
    }

    /// Records a ping from a heartbeat job and judges the monitor at once. `false` when the
    /// token matches no running monitor.
    pub async fn ping(
        &self,
        token: &str,
        up: bool,
        message: Option<String>,
    ) -> Result<bool, ServerError> {
        let Some(id) = self.store.monitor_for_token(token).await? else {
            return Ok(false);
        };
        let Some(monitor) = self.monitor(&id) else {
            return Ok(false);
        };
        let now = Utc::now();
        self.store
            .record_ping(
                &id,
                &PingRecord {
                    at: now,
                    up,
                    message: message.clone(),
                },
            )
            .await?;
        if let Some(result) = self.check(&monitor, now).await {
            self.record_durably(&monitor, result).await;
        }
        Ok(true)
    }
}

impl Runner for Engine {
    async fn run(&self, id: Arc<str>, due: DateTime<Utc>) {
        let Some(monitor) = self.monitor(&id) else {
            return;
        };
        tracing::trace!(monitor = %id, %due, "check due");
        if let Some(result) = self.check(&monitor, Utc::now()).await {
            self.record(&monitor, result);
        }
    }
}

/// A random push token: 32 URL-safe characters.
pub fn new_token() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
