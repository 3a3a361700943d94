//! Batches check records and writes each batch in one store transaction, so thousands of
//! results a second cost a few commits; flushes everything on shutdown.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vedette_store::{CheckRecord, MonitorStatus, Store};

/// Most records written in one transaction.
pub const MAX_BATCH: usize = 1000;
/// Longest a record waits before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// One write for the writer task, in the order the engine decided it.
#[derive(Debug)]
pub enum Write {
    /// A check result with its consequences.
    Check(Box<CheckRecord>),
    /// A status change without a result (pause, resume, new monitor).
    Status(MonitorStatus),
}

/// Sends writes to the writer task.
pub type WriterTx = mpsc::UnboundedSender<Write>;

/// Runs until `stop` is cancelled (or every sender is dropped), then writes what is queued
/// and returns.
pub async fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Write>, stop: CancellationToken) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            write = rx.recv() => write,
            () = stop.cancelled() => None,
        };
        let Some(first) = first else { break };
        take(&store, &mut batch, first).await;
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(write)) => take(&store, &mut batch, write).await,
                Ok(None) | Err(_) => break,
            }
        }
        flush(&store, &mut batch).await;
    }
    while let Ok(write) = rx.try_recv() {
        take(&store, &mut batch, write).await;
        if batch.len() >= MAX_BATCH {
            flush(&store, &mut batch).await;
        }
    }
    flush(&store, &mut batch).await;
}

/// Adds a check to the batch; a status write first flushes the batch so order is kept.
async fn take(store: &Store, batch: &mut Vec<CheckRecord>, write: Write) {
    match write {
        Write::Check(record) => batch.push(*record),
        Write::Status(status) => {
            flush(store, batch).await;
            let mut delay = Duration::from_millis(100);
            while let Err(e) = store.put_status(&status).await {
                tracing::error!(error = %e, monitor = %status.monitor_id, "writing a status failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn flush(store: &Store, batch: &mut Vec<CheckRecord>) {
    if batch.is_empty() {
        return;
    }
    let mut delay = Duration::from_millis(100);
    // Results are never dropped: retry until the store answers (shutdown bounds the wait).
    for attempt in 1_u64.. {
        match store.write_batch(batch).await {
            Ok(()) => {
                batch.clear();
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, attempt, records = batch.len(), "writing results failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
