//! The custom resources of group `vedette.dev`, version `v1`, and their CRDs. A resource's `spec`
//! is the model's document for that kind (the same one a file or the API takes), so its CRD
//! schema is generated from the model's JSON Schema ([`crate::schema`]) plus CEL rules for what
//! the model checks across fields.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::schema::{SchemaError, structural, structural_in};

/// The finalizer the operator puts on what it mirrors into Vedette.
pub const FINALIZER: &str = "vedette.dev/cleanup";
/// The value of `managed-by` on the monitors the operator writes.
pub const MANAGER: &str = "operator";
/// The model's id pattern: a slug of at most 128 characters.
pub const ID_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,127}$";

/// A custom resource's `spec` as written: the fields of the model's document it mirrors.
pub trait Written {
    /// The document's fields.
    fn fields(&self) -> &Map<String, Value>;
}

/// A custom resource's `status`, which reports `metav1.Condition`s.
pub trait Conditioned {
    /// The conditions it reports.
    fn conditions(&self) -> &[Condition];
}

/// Implements [`Conditioned`] for statuses whose `conditions` field holds them.
macro_rules! conditioned {
    ($($status:ty),* $(,)?) => {
        $(impl Conditioned for $status {
            fn conditions(&self) -> &[Condition] {
                &self.conditions
            }
        })*
    };
}

conditioned!(MonitorStatus, SyncStatus, WebhookEndpointStatus);

/// Declares the custom resource `kind` (group `vedette.dev`, version `v1`, namespaced, in the
/// category `vedette`) whose spec is `$document`: the document's fields as written, which the
/// CRD schema validates. Printer columns: the ones given (`synced`: the `Synced` condition,
/// alone or after others), then the age. The document is [`Written`].
macro_rules! mirrored_resource {
    (
        $(#[$meta:meta])* $document:ident: kind $kind:tt, status $status:tt,
        shortname $short:tt, doc $doc:tt, columns synced
    ) => {
        mirrored_resource! {
            $(#[$meta])* $document: kind $kind, status $status, shortname $short, doc $doc,
            columns [] synced
        }
    };
    (
        $(#[$meta:meta])* $document:ident: kind $kind:tt, status $status:tt,
        shortname $short:tt, doc $doc:tt, columns [$($column:tt),* $(,)?] synced
    ) => {
        mirrored_resource! {
            $(#[$meta])* $document: kind $kind, status $status, shortname $short, doc $doc,
            columns [$($column,)* r#"{"name": "Synced", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Synced\")].status"}"#]
        }
    };
    (
        $(#[$meta:meta])* $document:ident: kind $kind:tt, status $status:tt,
        shortname $short:tt, doc $doc:tt, columns [$($column:tt),* $(,)?]
    ) => {
        $(#[$meta])*
        #[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
        #[kube(
            group = "vedette.dev",
            version = "v1",
            kind = $kind,
            namespaced,
            status = $status,
            derive = "PartialEq",
            shortname = $short,
            category = "vedette",
            doc = $doc,
            $(printcolumn = $column,)*
            printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
        )]
        pub struct $document {
            /// The document's fields as written; the CRD schema (not this type) is what
            /// validates them.
            #[serde(flatten)]
            pub fields: Map<String, Value>,
        }

        impl Written for $document {
            fn fields(&self) -> &Map<String, Value> {
                &self.fields
            }
        }
    };
}

mirrored_resource! {
    /// A Vedette monitor declared in Kubernetes: `spec` is the monitor document, plus an optional
    /// `id` (`<namespace>.<name>` when absent).
    MonitorDocument: kind "Monitor", status "MonitorStatus", shortname "vmon",
    doc "A Vedette monitor: spec is the monitor document Vedette's files and API take.",
    columns [
        r#"{"name": "State", "type": "string", "jsonPath": ".status.state"}"#,
        r#"{"name": "Uptime", "type": "string", "jsonPath": ".status.uptime24h"}"#,
    ]
}

/// What the operator reports about a [`Monitor`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced` and `Degraded`, in the `metav1.Condition` shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The monitor's id in Vedette.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<String>,
    /// `up`, `down`, `degraded`, `pending` or `paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Since when the monitor is in that state (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The newest result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<LastResult>,
    /// The id of the open incident, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_incident: Option<String>,
    /// Uptime over the last 24 hours, e.g. `99.95%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime24h: Option<String>,
}

/// A summary of the newest check result.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastResult {
    /// When the check started (RFC 3339).
    pub at: String,
    /// Its verdict: `up`, `degraded` or `down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Human summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Latency in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

mirrored_resource! {
    /// A Vedette maintenance window declared in Kubernetes: `spec` is the maintenance document,
    /// plus an optional `id` (`<namespace>.<name>` when absent).
    MaintenanceDocument: kind "MaintenanceWindow", status "SyncStatus", shortname "vmw",
    doc "A Vedette maintenance window: spec is the maintenance document Vedette's files and API take.",
    columns synced
}

/// What the operator reports about a resource it mirrors as written: `MaintenanceWindow`,
/// `StatusPage`, `DiscoverySource`, `Deployment`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Synced`, in the `metav1.Condition` shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The resource's id in Vedette.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vedette_id: Option<String>,
}

mirrored_resource! {
    /// A Vedette status page declared in Kubernetes: `spec` is the status page document, plus an
    /// optional `id` (`<namespace>.<name>` when absent).
    StatusPageDocument: kind "StatusPage", status "SyncStatus", shortname "vsp",
    doc "A Vedette status page: spec is the status page document Vedette's files and API take.",
    columns synced
}

mirrored_resource! {
    /// A Vedette deployment recorded from Kubernetes: `spec` is the deployment document, plus an
    /// optional `id` (`<namespace>.<name>` when absent). A GitOps pipeline applies it when a
    /// rollout starts and again with its outcome; `kubectl get deployments` still lists the
    /// `apps` ones, so this kind answers to `deployments.vedette.dev` and `vdeploy`.
    DeploymentDocument: kind "Deployment", status "SyncStatus", shortname "vdeploy",
    doc "A Vedette deployment record: spec is the deployment document Vedette's API takes.",
    columns [
        r#"{"name": "Service", "type": "string", "jsonPath": ".spec.service"}"#,
        r#"{"name": "Version", "type": "string", "jsonPath": ".spec.version"}"#,
        r#"{"name": "Status", "type": "string", "jsonPath": ".spec.status"}"#,
    ] synced
}

mirrored_resource! {
    /// A Vedette discovery source declared in Kubernetes: `spec` is the discovery source document
    /// (its credentials are `env:`/`file:` references on the server, never values), plus an
    /// optional `id` (`<namespace>.<name>` when absent).
    DiscoverySourceDocument: kind "DiscoverySource", status "SyncStatus", shortname "vds",
    doc "A Vedette discovery source: spec is the discovery source document Vedette's files and API take.",
    columns synced
}

mirrored_resource! {
    /// A Vedette webhook endpoint declared in Kubernetes: `spec` is the webhook document without
    /// its signing secrets, which come from a Secret (`secretRef`), never inline.
    WebhookDocument: kind "WebhookEndpoint", status "WebhookEndpointStatus", shortname "vwh",
    doc "A Vedette webhook endpoint: spec is the webhook document, its signing secret from a Secret.",
    columns synced
}

/// What the operator reports about a [`WebhookEndpoint`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Synced`, in the `metav1.Condition` shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The endpoint's id in Vedette.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// A digest of the signing secret last written (not the secret): a new one means rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_digest: Option<String>,
}

/// The OpenAPI document, whose schemas schemars derived from the types the server reads.
const OPENAPI: &str = include_str!("../../api/openapi.json");

/// The rule that keeps `spec.id` as first written.
fn immutable_id() -> Value {
    json!({
        "rule": "!has(oldSelf.id) || (has(self.id) && self.id == oldSelf.id)",
        "message": "id cannot change",
        "fieldPath": ".id",
    })
}

/// The structural schema of the model's `T`.
fn model<T: JsonSchema>() -> Result<Value, SchemaError> {
    let schema =
        serde_json::to_value(schemars::schema_for!(T)).map_err(|e| SchemaError::Unsupported {
            at: "spec".into(),
            what: e.to_string(),
        })?;
    structural(&schema)
}

/// `crd` whose `spec` is the structural `spec` plus an optional immutable `id` (the `noun`'s id
/// in Vedette), with `rules` (CEL) for what the model checks across fields.
fn mirrored(
    crd: CustomResourceDefinition,
    mut spec: Value,
    noun: &str,
    rules: Vec<Value>,
) -> Result<CustomResourceDefinition, SchemaError> {
    spec["properties"]["id"] = json!({
        "type": "string",
        "pattern": ID_PATTERN,
        "description": format!("The {noun}'s id in Vedette; `<namespace>.<name>` when absent. Cannot change."),
    });
    let mut rules = rules;
    rules.push(immutable_id());
    spec["x-kubernetes-validations"] = Value::Array(rules);
    with_spec(crd, spec)
}

/// The `WebhookEndpoint` CRD: its `spec` schema is the model's `EndpointSpec` (from the OpenAPI
/// document) made structural, without inline `secrets`, with `secretRef` and `id`.
pub fn webhook_endpoint() -> Result<CustomResourceDefinition, SchemaError> {
    let unsupported = |what: String| SchemaError::Unsupported {
        at: "spec".into(),
        what,
    };
    let document: Value = serde_json::from_str(OPENAPI).map_err(|e| unsupported(e.to_string()))?;
    let defs = document["components"]["schemas"]
        .as_object()
        .cloned()
        .ok_or_else(|| unsupported("the OpenAPI document has no schemas".into()))?;
    let mut spec = structural_in(&defs["EndpointSpec"], &defs)?;
    let properties = spec["properties"]
        .as_object_mut()
        .ok_or_else(|| unsupported("EndpointSpec has no properties".into()))?;
    properties.remove("secrets");
    properties.insert(
        "secretRef".into(),
        json!({
            "type": "object",
            "description": "The Secret (in the resource's namespace) holding the signing secret (`whsec_...` or `whsk_...`); changing it rotates the endpoint's secret.",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "description": "The Secret's name."},
                "key": {"type": "string", "default": "secret", "description": "The key in the Secret."},
            },
        }),
    );
    spec["required"] = json!(["secretRef"]);
    mirrored(WebhookEndpoint::crd(), spec, "endpoint", vec![])
}

/// Every CRD the operator serves, in the order they are written.
pub fn all() -> Result<Vec<CustomResourceDefinition>, SchemaError> {
    Ok(vec![
        monitor()?,
        maintenance_window()?,
        webhook_endpoint()?,
        status_page()?,
        discovery_source()?,
        deployment()?,
    ])
}

/// The `MaintenanceWindow` CRD: its `spec` schema is the model's `MaintenanceSpec` made
/// structural, with `id` and the schedule forms as CEL.
pub fn maintenance_window() -> Result<CustomResourceDefinition, SchemaError> {
    let rules = vec![
        json!({
            "rule": "(has(self.start) && has(self.end) && !has(self.cron) && !has(self.rrule)) || (has(self.cron) && has(self.duration) && !has(self.rrule) && !has(self.end)) || (has(self.rrule) && has(self.start) && has(self.duration) && !has(self.cron) && !has(self.end))",
            "message": "set a one-off window (start and end) or a recurring one (cron and duration, or rrule, start and duration)",
        }),
        json!({
            "rule": "!has(self.start) || !has(self.end) || self.end > self.start",
            "message": "end must be after start",
            "fieldPath": ".end",
        }),
        json!({
            "rule": "(has(self.monitors) && size(self.monitors) > 0) || has(self.selector)",
            "message": "at least one of monitors or selector must be set",
        }),
    ];
    let spec = model::<vedette_model::maintenance::MaintenanceSpec>()?;
    mirrored(MaintenanceWindow::crd(), spec, "window", rules)
}

/// The `Monitor` CRD: its `spec` schema is the model's `MonitorSpec` made structural, with `id`
/// and the model's cross-field rules as CEL.
pub fn monitor() -> Result<CustomResourceDefinition, SchemaError> {
    let rules = vec![
        json!({
            "rule": "(has(self.http) ? 1 : 0) + (has(self.tcp) ? 1 : 0) + (has(self.dns) ? 1 : 0) + (has(self.tls) ? 1 : 0) + (has(self.heartbeat) ? 1 : 0) == 1",
            "message": "exactly one of http, tcp, dns, tls, heartbeat must be set",
        }),
        json!({
            "rule": "has(self.heartbeat) || !has(self.timeout) || !has(self.interval) || self.timeout.contains('d') || self.interval.contains('d') || duration(self.timeout) <= duration(self.interval)",
            "message": "timeout must not exceed interval",
            "fieldPath": ".timeout",
        }),
    ];
    let spec = model::<vedette_model::MonitorSpec>()?;
    mirrored(Monitor::crd(), spec, "monitor", rules)
}

/// The `StatusPage` CRD: its `spec` schema is the model's `StatusPageSpec` made structural,
/// with `id`.
pub fn status_page() -> Result<CustomResourceDefinition, SchemaError> {
    let spec = model::<vedette_model::status_page::StatusPageSpec>()?;
    mirrored(StatusPage::crd(), spec, "status page", vec![])
}

/// The `DiscoverySource` CRD: its `spec` schema is the model's `DiscoverySourceSpec` made
/// structural, with `id`.
pub fn discovery_source() -> Result<CustomResourceDefinition, SchemaError> {
    let spec = model::<vedette_model::discovery::DiscoverySourceSpec>()?;
    mirrored(DiscoverySource::crd(), spec, "discovery source", vec![])
}

/// The `Deployment` CRD: its `spec` schema is the model's `DeploymentSpec` made structural,
/// with `id`.
pub fn deployment() -> Result<CustomResourceDefinition, SchemaError> {
    let spec = model::<vedette_model::deployment::DeploymentSpec>()?;
    mirrored(Deployment::crd(), spec, "deployment", vec![])
}

/// `crd` with `spec` as the schema of its `spec` and `spec` required.
fn with_spec(
    mut crd: CustomResourceDefinition,
    spec: Value,
) -> Result<CustomResourceDefinition, SchemaError> {
    let spec: JSONSchemaProps =
        serde_json::from_value(spec).map_err(|e| SchemaError::Unsupported {
            at: "spec".into(),
            what: e.to_string(),
        })?;
    for version in &mut crd.spec.versions {
        if let Some(root) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            root.properties
                .get_or_insert_with(Default::default)
                .insert("spec".into(), spec.clone());
            root.required = Some(vec!["spec".into()]);
        }
    }
    Ok(crd)
}

/// Every CRD as one YAML stream, as committed under `k8s-operator/crds/`.
pub fn yaml(crd: &CustomResourceDefinition) -> Result<String, serde_saphyr::ser::Error> {
    serde_saphyr::to_string(crd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed CRDs are what the model generates; `VEDETTE_UPDATE_CRDS=1` rewrites them.
    #[test]
    fn committed_crds_match_the_model() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let update = std::env::var_os("VEDETTE_UPDATE_CRDS").is_some();
        for crd in all().unwrap() {
            let name = crd.metadata.name.clone().unwrap();
            let path = dir.join(format!("{name}.yaml"));
            let generated = yaml(&crd).unwrap();
            if update {
                std::fs::write(&path, &generated).unwrap();
                continue;
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "{} is not what the model generates: run \
                 VEDETTE_UPDATE_CRDS=1 cargo test -p vedette-operator -- committed_crds and commit it",
                path.display()
            );
        }
    }

    #[test]
    fn the_monitor_crd_is_structural_with_rules() {
        let crd = serde_json::to_value(monitor().unwrap()).unwrap();
        let text = crd.to_string();
        assert!(!text.contains("$ref"), "a $ref is left");
        assert!(!text.contains("\"oneOf\"") && !text.contains("\"anyOf\""));
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["properties"]["interval"]["default"], "1m");
        assert_eq!(
            spec["properties"]["http"]["properties"]["method"]["enum"][0],
            "GET"
        );
        assert!(
            spec["x-kubernetes-validations"][1]["rule"]
                .as_str()
                .unwrap()
                .contains("duration(self.timeout) <= duration(self.interval)")
        );
    }
}
