//! `WebhookEndpoint` through the shared reconcile ([`crate::controller`]): the signing secret is
//! read from the Secret `spec.secretRef` names (never from the resource itself), and rotated
//! when that Secret changes (Secrets are watched and mapped to the resources naming them). The
//! status keeps a digest of the secret written, never the secret.

use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vedette_client::{CreatedWebhook, Webhook};
use vedette_model::{REDACTED, Source, Version};

use crate::controller::{Context, Error, Mirrored, Stored};
use crate::crd::{WebhookEndpoint, WebhookEndpointStatus};
use crate::status::{NotSynced, condition};

impl Stored for Webhook {
    fn id(&self) -> &str {
        &self.id
    }
    fn labels(&self) -> &std::collections::BTreeMap<String, String> {
        &self.labels
    }
    fn version(&self) -> Version {
        self.version
    }
    fn managed_by(&self) -> Option<Source> {
        None
    }
}

impl Mirrored for WebhookEndpoint {
    type Remote = Webhook;
    const NOUN: &'static str = "webhook endpoint";
    const FEED_KIND: &'static str = "webhook_endpoints";

    /// The document without `id` and `secretRef`, with the referenced Secret's value as its
    /// one signing secret.
    async fn desired(&self, ctx: &Context) -> Result<Result<Value, NotSynced>, Error> {
        let secret = match signing_secret(self, ctx).await? {
            Ok(secret) => secret,
            Err(not_synced) => return Ok(Err(not_synced)),
        };
        let mut fields = self.spec.fields.clone();
        fields.remove("id");
        fields.remove("secretRef");
        fields.insert("secrets".into(), json!([{ "secret": secret }]));
        Ok(Ok(Value::Object(fields)))
    }

    fn in_sync(&self, desired: &mut Value, stored: &Webhook, _: bool) -> bool {
        serde_json::to_value(&stored.spec).is_ok_and(|stored| same_spec(&stored, desired))
            && self
                .status
                .as_ref()
                .and_then(|s| s.secret_digest.as_deref())
                == desired_digest(desired).as_deref()
    }

    fn created(created: CreatedWebhook) -> Webhook {
        created.webhook
    }

    async fn report(
        &self,
        id: &str,
        outcome: Result<&Webhook, &NotSynced>,
        desired: Option<&Value>,
        _: &Context,
    ) -> WebhookEndpointStatus {
        let generation = self.meta().generation;
        let previous = self.status.as_ref();
        let synced = match outcome {
            Ok(_) => (
                true,
                "Synced",
                format!("endpoint {id} is up to date in Vedette"),
            ),
            Err(e) => (false, e.reason, e.message.clone()),
        };
        WebhookEndpointStatus {
            observed_generation: generation,
            conditions: vec![condition("Synced", synced, generation, self.conditions())],
            endpoint_id: Some(id.to_owned()),
            secret_digest: match outcome {
                Ok(_) => desired.and_then(desired_digest),
                Err(_) => previous.and_then(|s| s.secret_digest.clone()),
            },
        }
    }
}

/// Adds to the `WebhookEndpoint` controller a watch of Secrets that wakes the resources
/// naming a Secret when it changes.
pub fn watch_secrets(
    kube: kube::Client,
) -> impl FnOnce(Controller<WebhookEndpoint>) -> Controller<WebhookEndpoint> {
    move |controller| {
        let store = controller.store();
        let secrets: Api<Secret> = Api::all(kube);
        controller.watches(
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
    }
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

/// The digest of the signing secret in a desired spec.
fn desired_digest(desired: &Value) -> Option<String> {
    desired["secrets"][0]["secret"].as_str().map(digest)
}

/// A short digest of a secret, to notice a rotation without keeping the secret.
fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
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
