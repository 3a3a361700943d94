//! Webhook claims across a crash of a SQLite server. A dispatcher that stops releases its own
//! claims; one that dies leaves them to their lease. On SQLite the server holds an `flock`
//! that the kernel lets go only when its holder releases it or ends, so the next holder knows
//! the previous dispatcher is gone: the owner id it recorded beside the lock file is released
//! at once. On PostgreSQL nothing is recorded (several servers may share the database, each
//! with its own data directory), and a crashed dispatcher's claims wait for their lease.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use vedette_store::Store;
use vedette_webhooks::Dispatcher;

/// Extension of the file beside the lock file holding the running dispatcher's owner id.
const OWNER_EXTENSION: &str = "webhook-owner";

/// Where the holder of the lock at `lock_file` records its dispatcher's owner id.
pub fn owner_file(lock_file: &Path) -> PathBuf {
    lock_file.with_extension(OWNER_EXTENSION)
}

/// Before `dispatcher` runs: releases the claims of the owner recorded in `file` by the
/// previous holder of the lock, then records `dispatcher`'s owner in its place. Failures are
/// logged: the claims then come due when their lease ends.
pub async fn take_over(file: &Path, store: &Store, dispatcher: &Dispatcher) {
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let previous = text.trim();
            match store.release_webhook_claims(previous, Utc::now()).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(
                    released,
                    "released the webhook claims of the previous run, which did not stop cleanly"
                ),
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot release the previous run's webhook claims; they come due when their \
                     lease ends"
                ),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "cannot read the previous webhook owner")
        }
    }
    if let Err(e) = record(file, dispatcher.owner()) {
        tracing::warn!(
            file = %file.display(),
            error = %e,
            "cannot record the webhook owner; after a crash its claims wait for their lease"
        );
    }
}

/// Writes `owner` to `file` whole or not at all (through a temporary file and a rename).
fn record(file: &Path, owner: &str) -> std::io::Result<()> {
    let temporary = file.with_extension(format!("{OWNER_EXTENSION}.tmp"));
    let mut out = std::fs::File::create(&temporary)?;
    out.write_all(owner.as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&temporary, file)
}
