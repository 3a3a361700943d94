//! The `WebhookEndpoint` controller: mirrors each resource into Vedette with its signing secret
//! read from the Secret `spec.secretRef` names (never from the resource itself), removes the
//! endpoint behind the finalizer, and rotates the secret when the Secret changes (Secrets are
//! watched and mapped to the resources naming them). The status keeps a digest of the secret
//! written, never the secret.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vedette_client::{Precondition, Webhook};
use vedette_model::REDACTED;
use vedette_model::record::labels::MANAGED_BY;

use crate::controller::{Context, Error};
use crate::crd::{FINALIZER, MANAGER, WebhookEndpoint, WebhookEndpointStatus};
use crate::status::{NotSynced, condition};

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    context: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let endpoints: Api<WebhookEndpoint> = Api::all(context.kube.clone());
    let secrets: Api<Secret> = Api::all(context.kube.clone());
    let controller = Controller::new(endpoints, watcher::Config::default().any_semantic());
    let store = controller.store();
    controller
        .watches(
            secrets,
            watcher::Config::default(),
            move |secret: Secret| {
                let namespace = secret.namespace();
                let name = secret.name_any();
                store
                    .state()
                    .into_iter()
                    .filter(|e| {
                        e.namespace() == namespace && secret_ref(e).is_some_and(|(n, _)| n == name)
                    })
                    .map(|e| ObjectRef::from_obj(&*e))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, retry, context)
        .for_each(|_| async {})
        .await;
}

async fn reconcile(endpoint: Arc<WebhookEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let api: Api<WebhookEndpoint> =
        Api::namespaced(ctx.kube.clone(), &endpoint.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, endpoint, |event| async {
        match event {
            finalizer::Event::Apply(e) => apply(&e, &ctx).await,
            finalizer::Event::Cleanup(e) => cleanup(&e, &ctx).await,
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

fn retry(endpoint: Arc<WebhookEndpoint>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(endpoint = %endpoint.name_any(), error = %error, "reconcile failed");
    Action::requeue(Duration::from_secs(10))
}

/// `spec.secretRef`: the Secret's name and key.
fn secret_ref(endpoint: &WebhookEndpoint) -> Option<(String, String)> {
    let reference = endpoint.spec.fields.get("secretRef")?;
    let name = reference.get("name")?.as_str()?.to_owned();
    let key = reference
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or("secret")
        .to_owned();
    Some((name, key))
}

fn endpoint_id(endpoint: &WebhookEndpoint) -> String {
    match endpoint.spec.fields.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!(
            "{}.{}",
            endpoint.namespace().unwrap_or_default(),
            endpoint.name_any()
        ),
    }
}

/// The signing secret from the referenced Secret, or why it cannot be had.
async fn signing_secret(
    endpoint: &WebhookEndpoint,
    ctx: &Context,
) -> Result<Result<String, NotSynced>, Error> {
    let Some((name, key)) = secret_ref(endpoint) else {
        return Ok(Err(NotSynced {
            reason: "InvalidSpec",
            message: "spec.secretRef.name: required".into(),
        }));
    };
    let secrets: Api<Secret> =
        Api::namespaced(ctx.kube.clone(), &endpoint.namespace().unwrap_or_default());
    let missing = |message: String| {
        Ok(Err(NotSynced {
            reason: "SecretMissing",
            message,
        }))
    };
    let Some(secret) = secrets.get_opt(&name).await? else {
        return missing(format!("Secret {name:?} does not exist"));
    };
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&key))
        .map(|bytes| String::from_utf8_lossy(&bytes.0).trim().to_owned());
    match value {
        Some(value) if !value.is_empty() => Ok(Ok(value)),
        _ => missing(format!("Secret {name:?} has no key {key:?}")),
    }
}

/// A short digest of a secret, to notice a rotation without keeping the secret.
fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Whether the operator wrote `current` (files and the demo label theirs with their own name).
fn ours(current: &Webhook) -> bool {
    current.labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGER)
}

/// Whether the stored spec (secrets redacted) says what `desired` says, secrets aside.
fn same_spec(stored: &Value, desired: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("secrets");
        }
        v
    };
    let (stored, desired) = (strip(stored), strip(desired));
    desired
        .as_object()
        .into_iter()
        .flatten()
        .all(|(key, value)| {
            stored.get(key) == Some(value) || stored.get(key) == Some(&json!(REDACTED))
        })
}

async fn apply(endpoint: &WebhookEndpoint, ctx: &Context) -> Result<Action, Error> {
    let id = endpoint_id(endpoint);
    let (outcome, written_digest) = match signing_secret(endpoint, ctx).await? {
        Err(not_synced) => (Err(not_synced), None),
        Ok(secret) => {
            let digest = digest(&secret);
            (
                write(endpoint, &id, &secret, &digest, ctx).await?,
                Some(digest),
            )
        }
    };
    let generation = endpoint.meta().generation;
    let previous = endpoint
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let synced = match &outcome {
        Ok(()) => (
            true,
            "Synced",
            format!("endpoint {id} is up to date in Vedette"),
        ),
        Err(e) => (false, e.reason, e.message.clone()),
    };
    let status = WebhookEndpointStatus {
        observed_generation: generation,
        conditions: vec![condition("Synced", synced, generation, previous)],
        endpoint_id: Some(id),
        secret_digest: if outcome.is_ok() {
            written_digest
        } else {
            endpoint
                .status
                .as_ref()
                .and_then(|s| s.secret_digest.clone())
        },
    };
    let unchanged = endpoint.status.as_ref().is_some_and(|s| {
        s.observed_generation == status.observed_generation
            && s.endpoint_id == status.endpoint_id
            && s.secret_digest == status.secret_digest
            && s.conditions
                .iter()
                .map(|c| (&c.status, &c.reason, &c.message))
                .eq(status
                    .conditions
                    .iter()
                    .map(|c| (&c.status, &c.reason, &c.message)))
    });
    if !unchanged {
        let api: Api<WebhookEndpoint> =
            Api::namespaced(ctx.kube.clone(), &endpoint.namespace().unwrap_or_default());
        ctx.metrics.kube_write();
        api.patch_status(
            &endpoint.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await?;
    }
    Ok(Action::await_change())
}

async fn write(
    endpoint: &WebhookEndpoint,
    id: &str,
    secret: &str,
    digest: &str,
    ctx: &Context,
) -> Result<Result<(), NotSynced>, Error> {
    let mut fields = endpoint.spec.fields.clone();
    fields.remove("id");
    fields.remove("secretRef");
    fields.insert("secrets".into(), json!([{ "secret": secret }]));
    let desired = Value::Object(fields);
    let labels = BTreeMap::from([(MANAGED_BY.to_owned(), MANAGER.to_owned())]);
    let webhooks = ctx.vedette.resources::<Webhook>();
    ctx.metrics.vedette_calls(1);
    let precondition = match webhooks.find(id).await? {
        None => Precondition::Absent,
        Some(current) if !ours(&current) => {
            return Ok(Err(NotSynced {
                reason: "Conflict",
                message: format!(
                    "webhook endpoint {id} exists and is not labelled {MANAGED_BY}={MANAGER}"
                ),
            }));
        }
        Some(current)
            if serde_json::to_value(&current.spec)
                .is_ok_and(|stored| same_spec(&stored, &desired))
                && current.labels == labels
                && endpoint
                    .status
                    .as_ref()
                    .and_then(|s| s.secret_digest.as_deref())
                    == Some(digest) =>
        {
            return Ok(Ok(()));
        }
        Some(current) => Precondition::Version(current.version),
    };
    ctx.metrics.vedette_calls(1);
    match webhooks.put(id, &labels, &desired, precondition).await {
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

async fn cleanup(endpoint: &WebhookEndpoint, ctx: &Context) -> Result<Action, Error> {
    let id = endpoint_id(endpoint);
    let webhooks = ctx.vedette.resources::<Webhook>();
    ctx.metrics.vedette_calls(1);
    if let Some(current) = webhooks.find(&id).await?
        && ours(&current)
    {
        ctx.metrics.vedette_calls(1);
        match webhooks
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_short_stable_and_not_the_secret() {
        let d = digest("whsec_c2VjcmV0");
        assert_eq!(d.len(), 16);
        assert_eq!(d, digest("whsec_c2VjcmV0"));
        assert_ne!(d, digest("whsec_b3RoZXI="));
        assert!(!d.contains("whsec"));
    }

    #[test]
    fn redacted_and_secret_fields_do_not_count_as_drift() {
        let stored = json!({"url": "http://h/x", "secrets": [{"secret": "********"}], "headers": {"X": "********"}, "enabled": true});
        let desired = json!({"url": "http://h/x", "secrets": [{"secret": "whsec_x"}], "headers": {"X": "********"}});
        assert!(same_spec(&stored, &desired));
        let moved = json!({"url": "http://h/y"});
        assert!(!same_spec(&stored, &moved));
    }
}
