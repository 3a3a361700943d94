//! Batches check records and writes each batch in one store transaction, so thousands of
//! results a second cost a few commits; statuses written without a result (thousands of new
//! monitors at start) are batched the same way. Folds the stored results into the rollups and
//! catches the statuses up with them once a minute, a page at a time
//! ([`Store::fold_rollups_page`], [`Store::catch_up_statuses_after`]), writing what arrived
//! between pages, so results are not held back for the whole fold; flushes everything on
//! shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use vedette_store::{CATCH_UP_PAGE, CaughtUp, CheckRecord, FoldLimits, MonitorStatus, Store};

use crate::metrics::Metrics;

/// Most records written in one transaction.
pub const MAX_BATCH: usize = 1000;
/// Longest a record waits before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// How often results are folded into the rollups and statuses caught up with them (first at
/// start).
pub const FOLD_EVERY: Duration = Duration::from_secs(60);

/// One write for the writer task, in the order the engine decided it.
#[derive(Debug)]
pub enum Write {
    /// A check result with its consequences; `written` is told once it is committed.
    Check {
        /// What to write.
        record: Box<CheckRecord>,
        /// Acknowledged after the batch holding the record commits.
        written: Option<oneshot::Sender<()>>,
    },
    /// A status change without a result (pause, resume, new monitor).
    Status(MonitorStatus),
}

/// Sends writes to the writer task.
pub type WriterTx = mpsc::UnboundedSender<Write>;

/// Runs until `stop` is cancelled (or every sender is dropped), then writes what is queued
/// and returns.
pub async fn run(store: Store, rx: mpsc::UnboundedReceiver<Write>, stop: CancellationToken) {
    run_with_metrics(store, rx, stop, Arc::default()).await;
}

/// [`run`], timing each batch write into `metrics` (`vedette_store_write_seconds`).
pub async fn run_with_metrics(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Write>,
    stop: CancellationToken,
    metrics: Arc<Metrics>,
) {
    let m = metrics.as_ref();
    let mut batch = Batch::default();
    // The first fold a period after start: the engine caught the statuses up as it started.
    let mut fold_every =
        tokio::time::interval_at(tokio::time::Instant::now() + FOLD_EVERY, FOLD_EVERY);
    fold_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            write = rx.recv() => write,
            _ = fold_every.tick() => {
                fold(&store, m, &mut rx, &mut batch).await;
                continue;
            }
            () = stop.cancelled() => None,
        };
        let Some(first) = first else { break };
        take(&store, m, &mut batch, first).await;
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < MAX_BATCH {
            if !batch.acks.is_empty() {
                // Someone waits for this batch: commit what is queued now (group commit)
                // instead of waiting for the deadline.
                match rx.try_recv() {
                    Ok(write) => take(&store, m, &mut batch, write).await,
                    Err(_) => break,
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(write)) => take(&store, m, &mut batch, write).await,
                Ok(None) | Err(_) => break,
            }
        }
        flush(&store, m, &mut batch).await;
    }
    fold(&store, m, &mut rx, &mut batch).await;
}

/// Writes every write queued now, in batches of at most [`MAX_BATCH`].
async fn drain(
    store: &Store,
    metrics: &Metrics,
    rx: &mut mpsc::UnboundedReceiver<Write>,
    batch: &mut Batch,
) {
    while let Ok(write) = rx.try_recv() {
        take(store, metrics, batch, write).await;
        if batch.len() >= MAX_BATCH {
            flush(store, metrics, batch).await;
        }
    }
    flush(store, metrics, batch).await;
}

/// Folds results into the rollups and catches the statuses up with them, writing what is
/// queued before and after each page; a failure is logged and the next fold takes them
/// (readers count unfolded results themselves, and the engine holds the current statuses, so
/// nothing is missing meanwhile).
async fn fold(
    store: &Store,
    metrics: &Metrics,
    rx: &mut mpsc::UnboundedReceiver<Write>,
    batch: &mut Batch,
) {
    drain(store, metrics, rx, batch).await;
    loop {
        match store.fold_rollups_page(FoldLimits::default()).await {
            Ok(page) if page.more => drain(store, metrics, rx, batch).await,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "folding results into rollups failed; retrying later");
                break;
            }
        }
    }
    let mut after = String::new();
    loop {
        drain(store, metrics, rx, batch).await;
        match store.catch_up_statuses_after(&after, CATCH_UP_PAGE).await {
            Ok(CaughtUp {
                next: Some(next), ..
            }) => after = next,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "catching statuses up with results failed; retrying later");
                break;
            }
        }
    }
}

/// Writes waiting for one transaction, and who to tell when it commits: check records or
/// statuses, never both (each kind flushes the other first, so order is kept).
#[derive(Default)]
struct Batch {
    records: Vec<CheckRecord>,
    acks: Vec<oneshot::Sender<()>>,
    statuses: Vec<MonitorStatus>,
}

impl Batch {
    fn len(&self) -> usize {
        self.records.len() + self.statuses.len()
    }
}

/// Adds a write to the batch, first flushing writes of the other kind so order is kept.
async fn take(store: &Store, metrics: &Metrics, batch: &mut Batch, write: Write) {
    match write {
        Write::Check { record, written } => {
            flush_statuses(store, batch).await;
            batch.records.push(*record);
            batch.acks.extend(written);
        }
        Write::Status(status) => {
            flush_records(store, metrics, batch).await;
            batch.statuses.push(status);
        }
    }
}

async fn flush(store: &Store, metrics: &Metrics, batch: &mut Batch) {
    flush_records(store, metrics, batch).await;
    flush_statuses(store, batch).await;
}

/// Writes the batched statuses, retrying until the store answers.
async fn flush_statuses(store: &Store, batch: &mut Batch) {
    if batch.statuses.is_empty() {
        return;
    }
    let mut delay = Duration::from_millis(100);
    while let Err(e) = store.put_statuses(&batch.statuses).await {
        tracing::error!(error = %e, statuses = batch.statuses.len(), "writing statuses failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    batch.statuses.clear();
}

async fn flush_records(store: &Store, metrics: &Metrics, batch: &mut Batch) {
    if batch.records.is_empty() {
        return;
    }
    let mut delay = Duration::from_millis(100);
    // Results are never dropped: retry until the store answers (shutdown bounds the wait).
    for attempt in 1_u64.. {
        let start = Instant::now();
        match store.write_batch(&batch.records).await {
            Ok(()) => {
                metrics.observe_store_write(start.elapsed());
                batch.records.clear();
                for ack in batch.acks.drain(..) {
                    let _ = ack.send(());
                }
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, attempt, records = batch.records.len(), "writing results failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
