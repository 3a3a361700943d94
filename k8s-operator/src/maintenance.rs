//! The `MaintenanceWindow` controller: mirrors each resource into Vedette (id
//! `<namespace>.<name>` or `spec.id`, label `managed-by: operator`, conditional writes with the
//! window's ETag), removes the window behind the finalizer, and reports `Synced`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};
use vedette_client::{MaintenanceWindow as VedetteWindow, Precondition};
use vedette_model::decode::Decoder;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::record::labels::MANAGED_BY;

use crate::controller::{Context, Error};
use crate::crd::{FINALIZER, MANAGER, MaintenanceWindow, MaintenanceWindowStatus};
use crate::status::{NotSynced, condition};

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    context: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let windows: Api<MaintenanceWindow> = Api::all(context.kube.clone());
    Controller::new(windows, watcher::Config::default().any_semantic())
        .graceful_shutdown_on(shutdown)
        .run(reconcile, retry, context)
        .for_each(|_| async {})
        .await;
}

async fn reconcile(window: Arc<MaintenanceWindow>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let api: Api<MaintenanceWindow> =
        Api::namespaced(ctx.kube.clone(), &window.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, window, |event| async {
        match event {
            finalizer::Event::Apply(w) => apply(&w, &ctx).await,
            finalizer::Event::Cleanup(w) => cleanup(&w, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    ctx.metrics.reconciled(started.elapsed(), result.is_err());
    result
}

fn retry(window: Arc<MaintenanceWindow>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(window = %window.name_any(), error = %error, "reconcile failed");
    Action::requeue(Duration::from_secs(10))
}

/// The Vedette id of a resource: `spec.id`, else `<namespace>.<name>`.
fn window_id(window: &MaintenanceWindow) -> String {
    match window.spec.fields.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!(
            "{}.{}",
            window.namespace().unwrap_or_default(),
            window.name_any()
        ),
    }
}

fn desired(window: &MaintenanceWindow) -> Result<MaintenanceSpec, NotSynced> {
    let mut fields = window.spec.fields.clone();
    fields.remove("id");
    let mut decoder = Decoder::new();
    let spec = decoder.decode_checked::<MaintenanceSpec>(Value::Object(fields), "spec");
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

fn ours(current: &VedetteWindow) -> bool {
    current
        .managed_by
        .is_none_or(|s| s == vedette_client::Source::Api)
        && current.labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGER)
}

async fn apply(window: &MaintenanceWindow, ctx: &Context) -> Result<Action, Error> {
    let id = window_id(window);
    let outcome = match desired(window) {
        Ok(spec) => write(&id, &spec, ctx).await?,
        Err(not_synced) => Err(not_synced),
    };
    let generation = window.meta().generation;
    let previous = window
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let synced = match &outcome {
        Ok(()) => (
            true,
            "Synced",
            format!("window {id} is up to date in Vedette"),
        ),
        Err(e) => (false, e.reason, e.message.clone()),
    };
    let status = MaintenanceWindowStatus {
        observed_generation: generation,
        conditions: vec![condition("Synced", synced, generation, previous)],
        window_id: Some(id),
    };
    let unchanged = window.status.as_ref().is_some_and(|s| {
        s.observed_generation == status.observed_generation
            && s.window_id == status.window_id
            && s.conditions
                .iter()
                .map(|c| (&c.status, &c.reason, &c.message))
                .eq(status
                    .conditions
                    .iter()
                    .map(|c| (&c.status, &c.reason, &c.message)))
    });
    if !unchanged {
        let api: Api<MaintenanceWindow> =
            Api::namespaced(ctx.kube.clone(), &window.namespace().unwrap_or_default());
        ctx.metrics.kube_write();
        api.patch_status(
            &window.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await?;
    }
    Ok(Action::await_change())
}

async fn write(
    id: &str,
    spec: &MaintenanceSpec,
    ctx: &Context,
) -> Result<Result<(), NotSynced>, Error> {
    let windows = ctx.vedette.maintenance();
    let labels = BTreeMap::from([(MANAGED_BY.to_owned(), MANAGER.to_owned())]);
    ctx.metrics.vedette_calls(1);
    let precondition = match windows.find(id).await? {
        None => Precondition::Absent,
        Some(current) if !ours(&current) => {
            return Ok(Err(NotSynced {
                reason: "Conflict",
                message: format!(
                    "maintenance window {id} exists and is not labelled {MANAGED_BY}={MANAGER}"
                ),
            }));
        }
        Some(current) if current.spec == *spec && current.labels == labels => return Ok(Ok(())),
        Some(current) => Precondition::Version(current.version),
    };
    ctx.metrics.vedette_calls(1);
    match windows.put(id, &labels, spec, precondition).await {
        Ok(_) => Ok(Ok(())),
        Err(vedette_client::Error::Api(e)) if e.status == 422 || e.status == 409 => {
            Ok(Err(NotSynced {
                reason: if e.status == 422 {
                    "InvalidSpec"
                } else {
                    "Conflict"
                },
                message: e.to_string(),
            }))
        }
        Err(e) => Err(e.into()),
    }
}

async fn cleanup(window: &MaintenanceWindow, ctx: &Context) -> Result<Action, Error> {
    let id = window_id(window);
    let windows = ctx.vedette.maintenance();
    ctx.metrics.vedette_calls(1);
    if let Some(current) = windows.find(&id).await?
        && ours(&current)
    {
        ctx.metrics.vedette_calls(1);
        match windows
            .delete(&id, Precondition::Version(current.version))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}
