//! How `vedette apply` and `vedette export` read and write each document kind on the server:
//! one [`ServerKind`] impl per kind, over the model's [`DocumentKind`]; the rest of both commands
//! is written once over it.

use std::collections::BTreeMap;

use serde_json::Value;
use vedette_client::{
    Client, DiscoverySource, Item, MaintenanceWindow, Monitor, Precondition, StatusPage, Webhook,
};
use vedette_model::document::Resource;
use vedette_model::kinds::{
    DiscoverySourceKind, DocumentKind, MaintenanceKind, MonitorKind, StatusPageKind,
    WebhookEndpointKind,
};
use vedette_model::{Source, Version};

use crate::apply::{webhook_spec_normalised, without_owner};

/// One resource as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// As a document resource, without apply's ownership labels.
    pub resource: Resource,
    /// Its labels as stored, ownership labels included.
    pub labels: BTreeMap<String, String>,
    /// The version, for `If-Match`.
    pub version: Version,
    /// Who writes it, where the kind says.
    pub managed_by: Option<Source>,
}

/// A document kind as the server's API serves it.
pub trait ServerKind: DocumentKind {
    /// The client's type of this kind's resources.
    type Item: vedette_client::Kind<Spec = Self::Spec>;
    /// Whether apply and export handle this kind (discovery sources are not yet, issue 15).
    const APPLIED: bool = true;
    /// Whether a server may not serve this kind (webhooks switched off): a 404 lists none, and
    /// apply reads it only when the files hold one or it prunes.
    const OPTIONAL: bool = false;

    /// The server's resource, listed.
    fn listed(item: &Self::Item) -> Listed;

    /// The spec as apply compares it: every default filled in.
    fn normalised(spec: &Self::Spec) -> Value {
        serde_json::to_value(spec).unwrap_or(Value::Null)
    }

    /// The resource as export writes it.
    fn exported(resource: Resource) -> Resource {
        resource
    }
}

/// A listed [`Item`]: its spec as the document's.
fn listed_item<S: Clone, T>(
    item: &Item<S, T>,
    resource: fn(String, BTreeMap<String, String>, S) -> Resource,
) -> Listed {
    Listed {
        resource: resource(
            item.id.clone(),
            without_owner(&item.labels),
            item.spec.clone(),
        ),
        labels: item.labels.clone(),
        version: item.version,
        managed_by: item.managed_by,
    }
}

impl ServerKind for MonitorKind {
    type Item = Monitor;
    fn listed(item: &Monitor) -> Listed {
        listed_item(item, Self::resource)
    }
}

impl ServerKind for MaintenanceKind {
    type Item = MaintenanceWindow;
    fn listed(item: &MaintenanceWindow) -> Listed {
        listed_item(item, Self::resource)
    }
}

impl ServerKind for StatusPageKind {
    type Item = StatusPage;
    fn listed(item: &StatusPage) -> Listed {
        listed_item(item, Self::resource)
    }
}

impl ServerKind for DiscoverySourceKind {
    type Item = DiscoverySource;
    const APPLIED: bool = false;
    fn listed(item: &DiscoverySource) -> Listed {
        listed_item(item, Self::resource)
    }
}

/// Secrets as the server shows them (`********`); no `managed_by` (always the API's).
impl ServerKind for WebhookEndpointKind {
    type Item = Webhook;
    const OPTIONAL: bool = true;
    fn listed(item: &Webhook) -> Listed {
        Listed {
            resource: Self::resource(
                item.id.clone(),
                without_owner(&item.labels),
                serde_json::to_value(&item.spec).unwrap_or_default(),
            ),
            labels: item.labels.clone(),
            version: item.version,
            managed_by: None,
        }
    }

    fn normalised(spec: &Value) -> Value {
        webhook_spec_normalised(spec)
    }

    /// Without `spec.secrets`: the server shows only `********` for them, and applying the
    /// export back without them keeps the stored ones.
    fn exported(mut resource: Resource) -> Resource {
        if let Resource::WebhookEndpoint { spec, .. } = &mut resource
            && let Some(map) = spec.as_object_mut()
        {
            map.remove("secrets");
        }
        resource
    }
}

/// Every resource of kind `K` matching `selector`.
pub async fn list<K: ServerKind>(
    client: &Client,
    selector: Option<&str>,
) -> Result<Vec<Listed>, vedette_client::Error> {
    let items = client.resources::<K::Item>().all(selector).await?;
    Ok(items.iter().map(K::listed).collect())
}

/// Whether `error` says the server does not serve the optional kind `K` at all.
pub fn not_served<K: ServerKind>(error: &vedette_client::Error) -> bool {
    K::OPTIONAL && error.status() == Some(404)
}

/// `PUT` of one resource of kind `K`.
pub async fn put<K: ServerKind>(
    client: &Client,
    id: &str,
    labels: &BTreeMap<String, String>,
    spec: &K::Spec,
    precondition: Precondition,
) -> Result<(), vedette_client::Error> {
    client
        .resources::<K::Item>()
        .put(id, labels, spec, precondition)
        .await
        .map(drop)
}

/// `DELETE` of one resource of kind `K`.
pub async fn delete<K: ServerKind>(
    client: &Client,
    id: &str,
    precondition: Precondition,
) -> Result<(), vedette_client::Error> {
    client.resources::<K::Item>().delete(id, precondition).await
}
