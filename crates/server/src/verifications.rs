//! The verification gate, computed from the results the engine produces. A started
//! verification is indexed by the monitors it selected, so the engine hands it each result of
//! those monitors as it records it ([`Verifications::observe`]: one map lookup for any other
//! monitor, no polling). Progress is saved every [`SAVE_EVERY`] and the terminal status at
//! once, with its event, in one transaction; a server that starts resumes the verifications
//! still running from their saved progress, or times them out when their deadline passed
//! while it was down.
//!
//! A verification is started by the server that follows its creation in the change feed
//! ([`crate::subscriptions::EngineVerifications`]); one server runs per database (the instance
//! lock), and the terminal status is written only while the stored one is still open, so a
//! second writer could never end a verification twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vedette_model::deployment::DeploymentSpec;
use vedette_model::event::{EVENT_VERSION, VerificationEvent};
use vedette_model::verification::{
    LastResult, MAX_MONITORS, MonitorProgress, VerificationSpec, VerificationState,
    VerificationStatus,
};
use vedette_model::{CheckResult, Event, EventType, MonitorState, Record, selector};
use vedette_store::Store;

use crate::engine::Engine;
use crate::state_machine::new_id;

/// How often the progress of running verifications is saved (and deadlines are checked
/// every second regardless).
pub const SAVE_EVERY: Duration = Duration::from_secs(5);
/// How often deadlines are checked.
const TICK: Duration = Duration::from_secs(1);

/// A verification being followed.
struct Active {
    spec: VerificationSpec,
    status: VerificationStatus,
    /// Progress changed since it was last saved.
    dirty: bool,
}

#[derive(Default)]
struct Tracker {
    /// Started verifications by id: running ones, and ended ones until their end is written.
    active: HashMap<String, Active>,
    /// Monitor id → (verification id, index of the monitor in its progress), running only.
    by_monitor: HashMap<String, Vec<(String, usize)>>,
}

impl Tracker {
    fn unindex(&mut self, id: &str) {
        self.by_monitor.retain(|_, watchers| {
            watchers.retain(|(v, _)| v != id);
            !watchers.is_empty()
        });
    }

    fn index(&mut self, id: &str, status: &VerificationStatus) {
        for (i, m) in status.monitors.iter().enumerate() {
            self.by_monitor
                .entry(m.id.clone())
                .or_default()
                .push((id.to_owned(), i));
        }
    }
}

/// What [`Verifications::to_write`] hands the store.
struct ToWrite {
    /// Verifications that ended, by id.
    ended: Vec<(String, Active)>,
    /// Progress of running ones, by id.
    changed: Vec<(String, VerificationStatus)>,
}

/// The verifications a server follows; held by the [`Engine`].
#[derive(Default)]
pub struct Verifications {
    tracker: Mutex<Tracker>,
    /// Told when a verification ended, so its end is written at once.
    ended: Notify,
}

/// Ends `status` in `state` now, with `reason`.
fn end(status: &mut VerificationStatus, state: VerificationState, reason: Option<String>) {
    status.state = state;
    status.finished_at = Some(Utc::now());
    status.reason = reason;
}

/// Why a verification timed out: the monitors that had not passed, with their count.
fn timeout_reason(spec: &VerificationSpec, status: &VerificationStatus) -> String {
    let waiting: Vec<String> = status
        .failing()
        .take(10)
        .map(|m| format!("{} ({}/{})", m.id, m.consecutive_ok, spec.consecutive))
        .collect();
    let more = status.failing().count().saturating_sub(waiting.len());
    let mut text = format!(
        "timed out after {}: not passed: {}",
        spec.timeout,
        waiting.join(", ")
    );
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

impl Verifications {
    /// Applies one recorded result of monitor `result.monitor_id` (now in `state`; `failing`
    /// as the state machine judged it, [`crate::state_machine::Transition::failing`]) to the
    /// verifications that follow it. Cheap for a monitor none follows: one map lookup.
    pub fn observe(&self, result: &CheckResult, state: MonitorState, failing: bool) {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let Some(watchers) = tracker.by_monitor.get(&result.monitor_id) else {
            return;
        };
        let watchers = watchers.clone();
        let mut ended = false;
        for (id, index) in watchers {
            let Some(active) = tracker.active.get_mut(&id) else {
                continue;
            };
            let status = &mut active.status;
            if status.state != VerificationState::Running
                || status.started_at.is_none_or(|s| result.started_at < s)
            {
                continue;
            }
            let Some(progress) = status.monitors.get_mut(index) else {
                continue;
            };
            let last = LastResult::of(result);
            progress.checks = progress.checks.saturating_add(1);
            progress.state = state;
            progress.consecutive_ok = if last.ok {
                progress.consecutive_ok.saturating_add(1)
            } else {
                0
            };
            if progress.consecutive_ok >= active.spec.consecutive {
                progress.passed = true;
            }
            let down = failing.then(|| format!("{} is down: {}", progress.id, last.why()));
            progress.last_result = Some(last);
            active.dirty = true;
            if let Some(reason) = down.filter(|_| active.spec.fail_fast) {
                end(status, VerificationState::Failed, Some(reason));
                ended = true;
            } else if status.monitors.iter().all(|m| m.passed) {
                end(status, VerificationState::Passed, None);
                ended = true;
            }
        }
        if ended {
            let done: Vec<String> = tracker
                .active
                .iter()
                .filter(|(_, a)| a.status.state.is_terminal())
                .map(|(id, _)| id.clone())
                .collect();
            for id in done {
                tracker.unindex(&id);
            }
            drop(tracker);
            self.ended.notify_one();
        }
    }

    /// Whether a running verification follows monitor `id`: only then does the engine keep a
    /// copy of its result for [`Self::observe`].
    pub fn follows(&self, id: &str) -> bool {
        let tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.by_monitor.contains_key(id)
    }

    /// The status of a verification this server follows, fresher than the stored one.
    pub fn status(&self, id: &str) -> Option<VerificationStatus> {
        let tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.active.get(id).map(|a| a.status.clone())
    }

    /// Stops following `id` (deleted).
    pub fn forget(&self, id: &str) {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.active.remove(id);
        tracker.unindex(id);
    }

    /// Ids of every verification followed.
    pub fn ids(&self) -> Vec<String> {
        let tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.active.keys().cloned().collect()
    }

    fn follow(&self, id: &str, spec: VerificationSpec, status: VerificationStatus) {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.unindex(id);
        if status.state == VerificationState::Running {
            tracker.index(id, &status);
        }
        tracker.active.insert(
            id.to_owned(),
            Active {
                spec,
                status,
                dirty: false,
            },
        );
    }

    /// Marks running verifications past their deadline as timed out; whether any was.
    fn time_out(&self, now: DateTime<Utc>) -> bool {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let mut late = Vec::new();
        for (id, active) in &mut tracker.active {
            if active.status.state == VerificationState::Running
                && active.status.deadline.is_some_and(|d| d <= now)
            {
                let reason = timeout_reason(&active.spec, &active.status);
                end(
                    &mut active.status,
                    VerificationState::TimedOut,
                    Some(reason),
                );
                late.push(id.clone());
            }
        }
        for id in &late {
            tracker.unindex(id);
        }
        !late.is_empty()
    }

    /// Ended verifications to write, and (with `progress`) running ones whose progress
    /// changed, each marked saved.
    fn to_write(&self, progress: bool) -> ToWrite {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let ended: Vec<String> = tracker
            .active
            .iter()
            .filter(|(_, a)| a.status.state.is_terminal())
            .map(|(id, _)| id.clone())
            .collect();
        let ended = ended
            .into_iter()
            .filter_map(|id| tracker.active.remove(&id).map(|a| (id, a)))
            .collect();
        let mut changed = Vec::new();
        if progress {
            for (id, active) in &mut tracker.active {
                if active.dirty {
                    active.dirty = false;
                    changed.push((id.clone(), active.status.clone()));
                }
            }
        }
        ToWrite { ended, changed }
    }

    /// Puts back an ended verification whose end could not be written, to retry.
    fn retry(&self, id: String, active: Active) {
        let mut tracker = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        tracker.active.entry(id).or_insert(active);
    }
}

/// The commit of the deployment `spec` gates, when it names one that is stored: commit-status
/// integrations post on it.
async fn commit_of(store: &Store, spec: &VerificationSpec) -> Option<String> {
    let id = spec.deployment.as_deref()?;
    match store.get::<DeploymentSpec>(id).await {
        Ok(deployment) => deployment.and_then(|d| d.spec.commit),
        Err(e) => {
            tracing::warn!(deployment = %id, error = %e, "cannot read a verification's deployment");
            None
        }
    }
}

/// The event of an ended verification; `commit` is its deployment's.
fn event(
    id: &str,
    spec: &VerificationSpec,
    status: &VerificationStatus,
    commit: Option<String>,
) -> Event {
    let passed = status.state == VerificationState::Passed;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let data = VerificationEvent {
        verification_id: id.to_owned(),
        deployment_id: spec.deployment.clone(),
        commit,
        outcome: status.state.as_str().to_owned(),
        reason: status.reason.clone(),
        monitors: count(status.monitors.len()),
        passed: count(status.monitors.iter().filter(|m| m.passed).count()),
    };
    Event {
        id: new_id("evt"),
        event_type: if passed {
            EventType::VerificationPassed
        } else {
            EventType::VerificationFailed
        },
        version: EVENT_VERSION,
        occurred_at: status.finished_at.unwrap_or_else(Utc::now),
        monitor_id: None,
        data: serde_json::to_value(data).unwrap_or_default(),
    }
}

/// The monitors `spec` selects among those `engine` runs, with their progress at the start;
/// `Err` with the reason when it cannot start (unknown ids, too many monitors).
fn select(engine: &Engine, spec: &VerificationSpec) -> Result<Vec<MonitorProgress>, String> {
    let state_of = |id: &str| engine.status(id).map_or(MonitorState::Pending, |s| s.state);
    let mut chosen = Vec::new();
    if let Some(ids) = &spec.ids {
        let mut unknown = Vec::new();
        for id in ids {
            match engine.monitor(id) {
                Some(m) => chosen.push(MonitorProgress::new(id, m.name(), state_of(id))),
                None => unknown.push(id.as_str()),
            }
        }
        if !unknown.is_empty() && !chosen.is_empty() {
            return Err(format!("no monitor {}", unknown.join(", ")));
        }
        chosen.dedup_by(|a, b| a.id == b.id);
    } else {
        let text = spec.selector.as_deref().unwrap_or_default();
        let wanted = selector::parse(text).map_err(|e| format!("selector: {e}"))?;
        for (monitor, state) in engine.snapshot() {
            if wanted.matches(&monitor.record.labels) {
                chosen.push(MonitorProgress::new(
                    &monitor.record.id,
                    monitor.name(),
                    state.unwrap_or(MonitorState::Pending),
                ));
            }
        }
    }
    if chosen.len() > MAX_MONITORS {
        return Err(format!(
            "{} monitors selected; a verification follows at most {MAX_MONITORS}",
            chosen.len()
        ));
    }
    Ok(chosen)
}

/// Starts following verification `record`, as the change feed hands it over: a new one
/// starts now (running its monitors at once with `run_now`); one that started before resumes
/// from its saved progress, or times out when its deadline passed.
pub async fn start(engine: &Engine, record: Record<VerificationSpec>) {
    let id = record.id.as_str();
    let verifications = engine.verifications();
    if verifications.status(id).is_some() {
        return;
    }
    let store = engine.store();
    let stored = match store.verification_status(id).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::error!(verification = %id, error = %e, "cannot read a verification's status");
            return;
        }
    };
    let now = Utc::now();
    let status = match stored {
        Some(stored) if stored.state.is_terminal() => return,
        Some(stored) => stored,
        None => {
            let mut status = VerificationStatus {
                state: VerificationState::Running,
                started_at: Some(now),
                deadline: chrono::Duration::from_std(record.spec.timeout.std())
                    .ok()
                    .map(|t| now + t),
                ..VerificationStatus::default()
            };
            match select(engine, &record.spec) {
                Ok(monitors) if monitors.is_empty() => {
                    let what = match &record.spec.ids {
                        Some(ids) => format!("ids {}", ids.join(", ")),
                        None => format!(
                            "selector {:?}",
                            record.spec.selector.as_deref().unwrap_or_default()
                        ),
                    };
                    end(
                        &mut status,
                        VerificationState::NoMonitors,
                        Some(format!("no monitor matched {what}")),
                    );
                }
                Ok(monitors) => status.monitors = monitors,
                Err(reason) => end(&mut status, VerificationState::Failed, Some(reason)),
            }
            let ended = if status.state.is_terminal() {
                let commit = commit_of(store, &record.spec).await;
                Some(event(id, &record.spec, &status, commit))
            } else {
                None
            };
            match store.start_verification(id, &status, ended.as_ref()).await {
                Ok((true, status)) => {
                    tracing::info!(verification = %id, state = status.state.as_str(), monitors = status.monitors.len(), "verification started");
                    if status.state == VerificationState::Running {
                        verifications.follow(id, record.spec.clone(), status.clone());
                        if record.spec.run_now {
                            for m in &status.monitors {
                                engine.scheduler().check_now(&m.id);
                            }
                        }
                    }
                    return;
                }
                Ok((false, stored)) if stored.state.is_terminal() => return,
                Ok((false, stored)) => stored,
                Err(e) => {
                    tracing::error!(verification = %id, error = %e, "cannot start a verification");
                    return;
                }
            }
        }
    };
    if status.deadline.is_some_and(|d| d <= now) {
        tracing::info!(verification = %id, "verification resumed past its deadline");
    } else {
        tracing::info!(verification = %id, "verification resumed");
    }
    verifications.follow(id, record.spec, status);
    if verifications.time_out(now) {
        verifications.ended.notify_one();
    }
}

/// Writes what verifications ended at once, their progress every [`SAVE_EVERY`], and times
/// out those past their deadline, until `stop`; then saves progress one last time.
pub async fn run(engine: Arc<Engine>, stop: CancellationToken) {
    let verifications = engine.verifications();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_save = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = verifications.ended.notified() => {}
            _ = tick.tick() => {}
        }
        verifications.time_out(Utc::now());
        let save = last_save.elapsed() >= SAVE_EVERY;
        if save {
            last_save = tokio::time::Instant::now();
        }
        write(&engine, save).await;
    }
    write(&engine, true).await;
}

async fn write(engine: &Engine, progress: bool) {
    let verifications = engine.verifications();
    let store = engine.store();
    let ToWrite { ended, changed } = verifications.to_write(progress);
    for (id, active) in ended {
        let commit = commit_of(store, &active.spec).await;
        let event = event(&id, &active.spec, &active.status, commit);
        match store.finish_verification(&id, &active.status, &event).await {
            Ok(true) => tracing::info!(
                verification = %id,
                outcome = active.status.state.as_str(),
                reason = active.status.reason.as_deref().unwrap_or_default(),
                "verification ended"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(verification = %id, error = %e, "cannot write a verification's end; retrying");
                verifications.retry(id, active);
            }
        }
    }
    for (id, status) in changed {
        if let Err(e) = store.save_verification_progress(&id, &status).await {
            tracing::warn!(verification = %id, error = %e, "cannot save a verification's progress");
        }
    }
}
