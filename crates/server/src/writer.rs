//! Batches check records and writes each batch in one store transaction, so thousands of
//! results a second cost a few commits; flushes everything on shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use vedette_store::{CheckRecord, MonitorStatus, Store};

use crate::metrics::Metrics;

/// Most records written in one transaction.
pub const MAX_BATCH: usize = 1000;
/// Longest a record waits before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

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
    loop {
        let first = tokio::select! {
            write = rx.recv() => write,
            () = stop.cancelled() => None,
        };
        let Some(first) = first else { break };
        take(&store, m, &mut batch, first).await;
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.records.len() < MAX_BATCH {
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
    while let Ok(write) = rx.try_recv() {
        take(&store, m, &mut batch, write).await;
        if batch.records.len() >= MAX_BATCH {
            flush(&store, m, &mut batch).await;
        }
    }
    flush(&store, m, &mut batch).await;
}

/// Records waiting for one transaction, and who to tell when it commits.
#[derive(Default)]
struct Batch {
    records: Vec<CheckRecord>,
    acks: Vec<oneshot::Sender<()>>,
}

/// Adds a check to the batch; a status write first flushes the batch so order is kept.
async fn take(store: &Store, metrics: &Metrics, batch: &mut Batch, write: Write) {
    match write {
        Write::Check { record, written } => {
            batch.records.push(*record);
            batch.acks.extend(written);
        }
        Write::Status(status) => {
            flush(store, metrics, batch).await;
            let mut delay = Duration::from_millis(100);
            while let Err(e) = store.put_status(&status).await {
                tracing::error!(error = %e, monitor = %status.monitor_id, "writing a status failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn flush(store: &Store, metrics: &Metrics, batch: &mut Batch) {
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
