//! One timer structure for every monitor: a min-heap of due times. Each monitor fires at a
//! stable phase inside its interval (hash of its id), so thousands never fire at once; checks
//! run with bounded concurrency and the lag between due and start is measured.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::stats::LagHistogram;

/// Something the scheduler can run when a monitor is due.
pub trait Runner: Send + Sync + 'static {
    /// Runs the check of `id` that was due at `due`.
    fn run(&self, id: Arc<str>, due: DateTime<Utc>) -> impl Future<Output = ()> + Send;
}

enum Command {
    Upsert { id: Arc<str>, interval: Duration },
    Remove { id: Arc<str> },
    CheckNow { id: Arc<str> },
}

/// Handle to add, change and remove monitors while the scheduler runs.
#[derive(Clone)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Command>,
    lag: Arc<LagHistogram>,
    in_flight: Arc<Semaphore>,
    max_concurrency: usize,
    running: Arc<AtomicBool>,
}

impl SchedulerHandle {
    /// Schedules `id` every `interval` (replacing any previous schedule).
    pub fn upsert(&self, id: &str, interval: Duration) {
        let _ = self.tx.send(Command::Upsert {
            id: id.into(),
            interval,
        });
    }

    /// Checks the scheduled monitor `id` at once, then keeps its phase-stable schedule: for a
    /// monitor added or whose check changed while the server runs, so a 1 h monitor is not
    /// pending for up to an hour. Ignored until the scheduler runs, so the monitors restored
    /// or loaded at start keep their spread phases instead of all firing together.
    pub fn check_now(&self, id: &str) {
        if self.running.load(Ordering::Acquire) {
            let _ = self.tx.send(Command::CheckNow { id: id.into() });
        }
    }

    /// Stops scheduling `id`.
    pub fn remove(&self, id: &str) {
        let _ = self.tx.send(Command::Remove { id: id.into() });
    }

    /// Scheduling lag (start − due) histogram.
    pub fn lag(&self) -> &LagHistogram {
        &self.lag
    }

    /// Checks running now.
    pub fn in_flight(&self) -> usize {
        self.max_concurrency - self.in_flight.available_permits()
    }
}

/// The offset inside `interval` at which `id` fires: stable across restarts and replicas.
pub fn phase(id: &str, interval: Duration) -> Duration {
    // FNV-1a: unlike std's hasher it is fixed forever, so phases survive upgrades.
    let fnv = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |acc, b| {
        (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let ms = interval.as_millis().max(1) as u64;
    Duration::from_millis(fnv % ms)
}

/// The first time at or after `now` when `id` is due.
pub fn next_due(id: &str, interval: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let ms = interval.as_millis().max(1) as i64;
    let phase = phase(id, interval).as_millis() as i64;
    let t = now.timestamp_millis();
    let base = t - t.rem_euclid(ms) + phase;
    let due = if base < t { base + ms } else { base };
    DateTime::from_timestamp_millis(due).unwrap_or(now)
}

/// A heap slot: due time, the schedule generation it belongs to, monitor id.
type Slot = Reverse<(DateTime<Utc>, u64, Arc<str>)>;

struct Entry {
    interval: Duration,
    generation: u64,
}

/// The scheduler loop; run it with [`Scheduler::run`] and control it through its handle.
pub struct Scheduler {
    rx: mpsc::UnboundedReceiver<Command>,
    handle: SchedulerHandle,
}

impl Scheduler {
    /// A scheduler that runs at most `max_concurrency` checks at once.
    pub fn new(max_concurrency: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let max_concurrency = max_concurrency.max(1);
        Self {
            rx,
            handle: SchedulerHandle {
                tx,
                lag: Arc::new(LagHistogram::default()),
                in_flight: Arc::new(Semaphore::new(max_concurrency)),
                max_concurrency,
                running: Arc::new(AtomicBool::new(false)),
            },
        }
    }

    /// The control handle.
    pub fn handle(&self) -> SchedulerHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` is cancelled, then waits up to `grace` for in-flight checks and
    /// cancels the rest.
    pub async fn run<R: Runner>(
        mut self,
        runner: Arc<R>,
        shutdown: CancellationToken,
        grace: Duration,
    ) {
        let mut heap: BinaryHeap<Slot> = BinaryHeap::new();
        let mut entries: HashMap<Arc<str>, Entry> = HashMap::new();
        let mut generation = 0_u64;
        let mut tasks = JoinSet::new();
        self.handle.running.store(true, Ordering::Release);
        loop {
            while tasks.try_join_next().is_some() {}
            let now = Utc::now();
            let sleep_for = heap
                .peek()
                .map(|Reverse((due, _, _))| (*due - now).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                cmd = self.rx.recv() => match cmd {
                    Some(Command::Upsert { id, interval }) => {
                        generation += 1;
                        let due = next_due(&id, interval, Utc::now());
                        entries.insert(id.clone(), Entry { interval, generation });
                        heap.push(Reverse((due, generation, id)));
                    }
                    Some(Command::Remove { id }) => {
                        entries.remove(&id);
                    }
                    Some(Command::CheckNow { id }) => {
                        // A new generation retires the slot at the phase; the run due now
                        // schedules the next one at the phase again.
                        if let Some(entry) = entries.get_mut(&id) {
                            generation += 1;
                            entry.generation = generation;
                            heap.push(Reverse((Utc::now(), generation, id)));
                        }
                    }
                    None => break,
                },
                () = tokio::time::sleep(sleep_for) => {
                    let now = Utc::now();
                    while let Some(Reverse((due, _, _))) = heap.peek() {
                        if *due > now {
                            break;
                        }
                        let Some(Reverse((due, entry_gen, id))) = heap.pop() else { break };
                        let Some(entry) = entries.get(&id) else { continue };
                        if entry.generation != entry_gen {
                            continue;
                        }
                        let mut next = next_due(&id, entry.interval, due + chrono::Duration::milliseconds(1));
                        if next <= now {
                            // Fell more than an interval behind: skip missed runs, keep the phase.
                            next = next_due(&id, entry.interval, now);
                        }
                        heap.push(Reverse((next, entry_gen, id.clone())));
                        let permit = tokio::select! {
                            () = shutdown.cancelled() => break,
                            p = self.handle.in_flight.clone().acquire_owned() => match p {
                                Ok(p) => p,
                                Err(_) => break,
                            },
                        };
                        let lag = (Utc::now() - due).to_std().unwrap_or(Duration::ZERO);
                        self.handle.lag.record(lag);
                        let runner = runner.clone();
                        tasks.spawn(async move {
                            runner.run(id, due).await;
                            drop(permit);
                        });
                    }
                }
            }
        }
        self.handle.running.store(false, Ordering::Release);
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                cancelled = tasks.len(),
                "shutdown: cancelling checks still running after the grace period"
            );
            tasks.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn phase_is_stable_and_inside_interval() {
        let i = Duration::from_secs(10);
        for id in ["a", "payments-api", "x.y_z"] {
            let p = phase(id, i);
            assert!(p < i);
            assert_eq!(p, phase(id, i));
        }
        let now = Utc::now();
        let due = next_due("payments-api", i, now);
        assert!(due >= now && due - now < chrono::Duration::seconds(10));
        assert_eq!(
            due.timestamp_millis() % 10_000,
            phase("payments-api", i).as_millis() as i64
        );
    }

    #[test]
    fn phases_spread_out() {
        let i = Duration::from_secs(10);
        let mut buckets = [0_u32; 10];
        for n in 0..10_000 {
            buckets[(phase(&format!("monitor-{n}"), i).as_secs()) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&b| (800..1200).contains(&b)),
            "{buckets:?}"
        );
    }

    struct Recorder(Mutex<Vec<(String, DateTime<Utc>)>>);
    impl Runner for Recorder {
        async fn run(&self, id: Arc<str>, due: DateTime<Utc>) {
            self.0.lock().unwrap().push((id.to_string(), due));
        }
    }

    #[tokio::test]
    async fn runs_added_monitors_and_stops_removed_ones() {
        let scheduler = Scheduler::new(4);
        let handle = scheduler.handle();
        let runner = Arc::new(Recorder(Mutex::new(Vec::new())));
        let stop = CancellationToken::new();
        let task =
            tokio::spawn(scheduler.run(runner.clone(), stop.clone(), Duration::from_secs(1)));
        handle.upsert("a", Duration::from_millis(100));
        handle.upsert("b", Duration::from_millis(100));
        tokio::time::sleep(Duration::from_millis(450)).await;
        handle.remove("b");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let b_before = runner
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| id == "b")
            .count();
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
        task.await.unwrap();
        let runs = runner.0.lock().unwrap().clone();
        let a = runs.iter().filter(|(id, _)| id == "a").count();
        let b = runs.iter().filter(|(id, _)| id == "b").count();
        assert!((6..=9).contains(&a), "a ran {a} times");
        assert_eq!(b, b_before, "b ran after removal");
        for (id, due) in runs.iter().filter(|(id, _)| id == "a") {
            assert_eq!(
                due.timestamp_millis() % 100,
                phase(id, Duration::from_millis(100)).as_millis() as i64
            );
        }
        assert!(handle.lag().count() >= 8);
    }

    #[tokio::test]
    async fn check_now_runs_at_once_then_keeps_the_phase_but_not_before_start() {
        let hour = Duration::from_secs(3600);
        let scheduler = Scheduler::new(4);
        let handle = scheduler.handle();
        // Sent before the scheduler runs (monitors restored at start): ignored.
        handle.upsert("restored", hour);
        handle.check_now("restored");
        let runner = Arc::new(Recorder(Mutex::new(Vec::new())));
        let stop = CancellationToken::new();
        let task =
            tokio::spawn(scheduler.run(runner.clone(), stop.clone(), Duration::from_secs(1)));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let added_at = Utc::now();
        handle.upsert("added", hour);
        handle.check_now("added");
        handle.check_now("unknown");
        let second = Duration::from_secs(1);
        handle.upsert("short", second);
        handle.check_now("short");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        stop.cancel();
        task.await.unwrap();
        let runs = runner.0.lock().unwrap().clone();
        let (short, runs): (Vec<_>, Vec<_>) = runs.into_iter().partition(|(id, _)| id == "short");
        // Once at once, then at its phase again (not a second interval from the first run).
        assert!(short.len() >= 2, "{short:?}");
        assert!(short[1..].iter().all(|(_, due)| {
            due.timestamp_millis() % 1000 == phase("short", second).as_millis() as i64
        }));
        let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();
        // Phases are a hash of the id: neither falls in the next 350 ms of an hour by chance
        // in practice, but say so if they do.
        let near =
            |id: &str| next_due(id, hour, Utc::now()) - Utc::now() < chrono::Duration::seconds(1);
        assert!(
            !near("restored") && !near("added"),
            "a phase is due right now; rerun"
        );
        assert_eq!(
            ids,
            ["added"],
            "only the monitor added while running is checked at once"
        );
        assert!(runs[0].1 - added_at < chrono::Duration::milliseconds(500));
        assert!(!handle.running.load(Ordering::Acquire));
    }
}
