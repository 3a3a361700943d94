//! Monitors, maintenance windows, status pages and discovery sources from `--config` files:
//! loaded at start, reloaded on SIGHUP. File-managed resources are stored with source `file` and label `managed-by: file`;
//! the files are their truth, so a resource removed from the files is removed from Vedette.
//! Only the store is written; the engine follows it ([`crate::follow`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use vedette_model::discovery::DiscoverySourceSpec;
use vedette_model::document::{self, Resource};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::record::labels::MANAGED_BY;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::{Record, Source};
use vedette_store::{MonitorRecord, Store, Stored};

use crate::ServerError;
use crate::state_machine;

/// Most monitors written in one transaction.
const PUT_CHUNK: usize = 1000;

/// What a load changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Monitors created or changed.
    pub monitors_changed: usize,
    /// Monitors removed because they left the files.
    pub monitors_removed: usize,
    /// Maintenance windows in the files.
    pub maintenance_windows: usize,
    /// Status pages in the files.
    pub status_pages: usize,
    /// Discovery sources in the files.
    pub discovery_sources: usize,
}

/// Loads `path` (file or directory) and makes the store match it. Nothing changes when any
/// document has an error.
pub async fn apply(store: &Store, path: &Path) -> Result<Applied, ServerError> {
    let (loaded, errors) = document::load_path(path);
    if !errors.is_empty() {
        return Err(ServerError::Config(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    if let Some(item) = loaded
        .iter()
        .find(|l| matches!(l.resource, Resource::WebhookEndpoint { .. }))
    {
        return Err(ServerError::Config(format!(
            "{}:{}: kind: {}: webhook endpoints are managed through the API or `vedette apply`, not --config files",
            item.file.display(),
            item.line,
            document::KIND_WEBHOOK_ENDPOINT
        )));
    }
    let mut applied = Applied::default();
    let mut window_ids = Vec::new();
    let mut stored: HashMap<String, MonitorRecord> = store
        .list_monitors()
        .await?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let mut changed = Vec::new();
    let mut page_ids = Vec::new();
    let mut source_ids = Vec::new();
    for item in loaded {
        match item.resource {
            Resource::Monitor {
                id,
                mut labels,
                spec,
            } => {
                labels.insert(MANAGED_BY.to_owned(), Source::File.to_string());
                let existing = stored.remove(&id);
                if existing.as_ref().is_some_and(|m| m.source != Source::File) {
                    return Err(ServerError::Config(format!(
                        "{}:{}: monitor {id:?} already exists and is managed through the API; rename it or delete the API one",
                        item.file.display(),
                        item.line
                    )));
                }
                if existing
                    .as_ref()
                    .is_some_and(|m| m.spec == spec && m.labels == labels)
                {
                    continue;
                }
                changed.push(
                    Record::new(id, spec)
                        .with_labels(labels)
                        .with_source(Source::File),
                );
            }
            Resource::MaintenanceWindow { id, labels, spec } => {
                window_ids.push(id.clone());
                put_file(store, id, labels, spec).await?;
                applied.maintenance_windows += 1;
            }
            Resource::StatusPage { id, labels, spec } => {
                page_ids.push(id.clone());
                put_file(store, id, labels, spec).await?;
                applied.status_pages += 1;
            }
            Resource::DiscoverySource { id, labels, spec } => {
                source_ids.push(id.clone());
                let existing = store.get::<DiscoverySourceSpec>(&id).await?;
                if existing.as_ref().is_some_and(|s| s.source != Source::File) {
                    return Err(ServerError::Config(format!(
                        "{}:{}: discovery source {id:?} already exists and is managed through the API; rename it or delete the API one",
                        item.file.display(),
                        item.line
                    )));
                }
                if id.len() > vedette_model::discovery::MAX_SOURCE_ID_LEN {
                    return Err(ServerError::Config(format!(
                        "{}:{}: metadata.id: discovery source ids are at most 63 characters (they label the source's monitors)",
                        item.file.display(),
                        item.line
                    )));
                }
                put_file(store, id, labels, spec).await?;
                applied.discovery_sources += 1;
            }
            // Refused above, before anything was written.
            Resource::WebhookEndpoint { .. } => {}
        }
    }
    // Thousands of monitors cost a few commits (and the engine gets them as they commit).
    for chunk in changed.chunks(PUT_CHUNK) {
        store.put_monitors(chunk).await?;
        applied.monitors_changed += chunk.len();
    }
    // What is left of the stored monitors the files no longer hold.
    for stale in stored.into_values() {
        if stale.source == Source::File {
            let name = stale.spec.name.as_deref().unwrap_or(&stale.id);
            store
                .delete_monitor(&stale.id, |incident| {
                    state_machine::resolved_by_deletion(incident, name)
                })
                .await?;
            applied.monitors_removed += 1;
        }
    }
    remove_stale::<MaintenanceSpec>(store, &window_ids).await?;
    remove_stale::<StatusPageSpec>(store, &page_ids).await?;
    remove_stale::<DiscoverySourceSpec>(store, &source_ids).await?;
    Ok(applied)
}

/// Stores a resource of the files: source `file`, label `managed-by: file`.
async fn put_file<S: Stored>(
    store: &Store,
    id: String,
    mut labels: BTreeMap<String, String>,
    spec: S,
) -> Result<(), ServerError> {
    labels.insert(MANAGED_BY.to_owned(), Source::File.to_string());
    let record = Record::new(id, spec)
        .with_labels(labels)
        .with_source(Source::File);
    store.put(&record, None).await?;
    Ok(())
}

/// Deletes the resources of kind `S` the files made that they no longer hold (`kept`).
async fn remove_stale<S: Stored>(store: &Store, kept: &[String]) -> Result<(), ServerError> {
    for stale in store.list::<S>().await? {
        if stale.source == Source::File && !kept.contains(&stale.id) {
            store.delete::<S>(&stale.id).await?;
        }
    }
    Ok(())
}
