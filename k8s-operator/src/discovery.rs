//! Discovery: an `Ingress` or Gateway API `HTTPRoute` annotated `vedette.dev/monitor: "true"`
//! gets a `Monitor` resource of its own (named `<kind>-<name>`, owned through an
//! ownerReference, so the cluster's garbage collector removes it with the route), checking
//! `<scheme>://<first host><path>`. Annotations tune it: `vedette.dev/path` (default `/`),
//! `vedette.dev/interval` (also the timeout when shorter than its default), `vedette.dev/assertions` (one expression a line) and
//! `vedette.dev/scheme` (`https` when the Ingress has TLS for the host or for an HTTPRoute,
//! `http` otherwise). Removing the annotation deletes the Monitor.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Map, Value, json};

use crate::crd::{Monitor, MonitorDocument};
use crate::metrics::Metrics;

/// `"true"` asks for a Monitor.
pub const MONITOR: &str = "vedette.dev/monitor";
/// The path checked (default `/`).
pub const PATH: &str = "vedette.dev/path";
/// The monitor's interval, e.g. `30s`.
pub const INTERVAL: &str = "vedette.dev/interval";
/// Assertions, one expression a line.
pub const ASSERTIONS: &str = "vedette.dev/assertions";
/// `http` or `https`.
pub const SCHEME: &str = "vedette.dev/scheme";
/// The field manager of the Monitors discovery writes.
const MANAGER: &str = "vedette-operator-discovery";

/// What discovery needs of a route, whatever its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `Ingress` or `HTTPRoute`.
    pub kind: &'static str,
    /// Its `apiVersion`.
    pub api_version: String,
    /// Its metadata.
    pub meta: ObjectMeta,
    /// The first host it serves.
    pub host: Option<String>,
    /// Whether that host is served over TLS.
    pub tls: bool,
}

impl Route {
    fn of_ingress(ingress: &Ingress) -> Route {
        let spec = ingress.spec.clone().unwrap_or_default();
        let host = spec
            .rules
            .unwrap_or_default()
            .into_iter()
            .find_map(|rule| rule.host);
        let tls = host.as_ref().is_some_and(|h| {
            spec.tls
                .unwrap_or_default()
                .iter()
                .any(|t| t.hosts.as_ref().is_some_and(|hosts| hosts.contains(h)))
        });
        Route {
            kind: "Ingress",
            api_version: "networking.k8s.io/v1".into(),
            meta: ingress.metadata.clone(),
            host,
            tls,
        }
    }

    fn of_http_route(route: &DynamicObject) -> Route {
        let host = route.data["spec"]["hostnames"]
            .as_array()
            .and_then(|h| h.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        Route {
            kind: "HTTPRoute",
            api_version: "gateway.networking.k8s.io/v1".into(),
            meta: route.metadata.clone(),
            host,
            tls: true,
        }
    }

    /// The name of its Monitor: `ingress-<name>` or `httproute-<name>`.
    pub fn monitor_name(&self) -> String {
        let name = format!(
            "{}-{}",
            self.kind.to_ascii_lowercase(),
            self.meta.name.as_deref().unwrap_or_default()
        );
        name.chars().take(253).collect()
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.meta.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The Monitor this route asks for; `None` when it asks for none, `Err` when its
    /// annotations or spec do not make one.
    pub fn monitor(&self) -> Result<Option<Monitor>, String> {
        if self.annotation(MONITOR) != Some("true") {
            return Ok(None);
        }
        let host = self
            .host
            .as_deref()
            .ok_or_else(|| format!("{} has no host to check", self.kind))?;
        let scheme = match self.annotation(SCHEME) {
            Some(s @ ("http" | "https")) => s,
            Some(other) => return Err(format!("{SCHEME}: expected http or https, got {other:?}")),
            None if self.tls => "https",
            None => "http",
        };
        let path = self.annotation(PATH).unwrap_or("/");
        if !path.starts_with('/') {
            return Err(format!(
                "{PATH}: expected a path starting with '/', got {path:?}"
            ));
        }
        let mut fields = Map::new();
        fields.insert(
            "http".into(),
            json!({ "url": format!("{scheme}://{host}{path}") }),
        );
        if let Some(interval) = self.annotation(INTERVAL) {
            fields.insert("interval".into(), interval.into());
            // A short interval bounds the timeout too, which defaults to more.
            if let Ok(parsed) = interval.parse::<vedette_model::Duration>()
                && parsed < vedette_model::spec::DEFAULT_TIMEOUT
            {
                fields.insert("timeout".into(), interval.into());
            }
        }
        if let Some(assertions) = self.annotation(ASSERTIONS) {
            let lines: Vec<Value> = assertions
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(Value::from)
                .collect();
            fields.insert("assertions".into(), Value::Array(lines));
        }
        let owner = OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.to_owned(),
            name: self.meta.name.clone().unwrap_or_default(),
            uid: self.meta.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let mut monitor = Monitor::new(&self.monitor_name(), MonitorDocument { fields });
        monitor.metadata.namespace = self.meta.namespace.clone();
        monitor.metadata.owner_references = Some(vec![owner]);
        monitor.metadata.labels = Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_owned(),
            MANAGER.to_owned(),
        )]));
        Ok(Some(monitor))
    }
}

/// What discovery fails with; retried after a pause.
#[derive(Debug, thiserror::Error)]
#[error("kubernetes: {0}")]
pub struct Error(#[from] kube::Error);

/// What discovery's reconciles share.
pub struct Discovery {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// Writes or removes the Monitor `route` asks for.
async fn sync(route: Route, ctx: &Discovery) -> Result<Action, Error> {
    let namespace = route.meta.namespace.clone().unwrap_or_default();
    let monitors: Api<Monitor> = Api::namespaced(ctx.kube.clone(), &namespace);
    match route.monitor() {
        Ok(Some(monitor)) => {
            ctx.metrics.kube_write();
            monitors
                .patch(
                    &route.monitor_name(),
                    &PatchParams::apply(MANAGER).force(),
                    &Patch::Apply(&monitor),
                )
                .await?;
        }
        Ok(None) => {
            let owned = monitors
                .get_opt(&route.monitor_name())
                .await?
                .is_some_and(|m| {
                    m.owner_references()
                        .iter()
                        .any(|o| Some(&o.uid) == route.meta.uid.as_ref())
                });
            if owned {
                ctx.metrics.kube_write();
                monitors
                    .delete(&route.monitor_name(), &DeleteParams::default())
                    .await?;
            }
        }
        Err(problem) => {
            tracing::warn!(kind = route.kind, route = ?route.meta.name, namespace, problem, "cannot monitor route");
        }
    }
    Ok(Action::await_change())
}

fn retry(_: Arc<impl Resource>, error: &Error, _: Arc<Discovery>) -> Action {
    tracing::warn!(error = %error, "discovery failed");
    Action::requeue(std::time::Duration::from_secs(5))
}

/// Watches Ingresses until `shutdown` resolves.
pub async fn ingresses(
    ctx: Arc<Discovery>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let monitors: Api<Monitor> = Api::all(ctx.kube.clone());
    Controller::new(
        Api::<Ingress>::all(ctx.kube.clone()),
        watcher::Config::default(),
    )
    .owns(monitors, watcher::Config::default())
    .graceful_shutdown_on(shutdown)
    .run(
        |ingress, ctx| async move { sync(Route::of_ingress(&ingress), &ctx).await },
        retry,
        ctx,
    )
    .for_each(|_| async {})
    .await;
}

/// The Gateway API `HTTPRoute` resource, when the cluster serves it.
pub async fn http_route_resource(client: &kube::Client) -> Option<ApiResource> {
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    kube::discovery::pinned_kind(client, &gvk)
        .await
        .ok()
        .map(|(resource, _)| resource)
}

/// Watches HTTPRoutes until `shutdown` resolves.
pub async fn http_routes(
    ctx: Arc<Discovery>,
    resource: ApiResource,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let routes: Api<DynamicObject> = Api::all_with(ctx.kube.clone(), &resource);
    let monitors: Api<Monitor> = Api::all(ctx.kube.clone());
    Controller::new_with(routes, watcher::Config::default(), resource)
        .owns(monitors, watcher::Config::default())
        .graceful_shutdown_on(shutdown)
        .run(
            |route, ctx| async move { sync(Route::of_http_route(&route), &ctx).await },
            retry,
            ctx,
        )
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(annotations: &[(&str, &str)], tls: bool) -> Route {
        Route {
            kind: "Ingress",
            api_version: "networking.k8s.io/v1".into(),
            meta: ObjectMeta {
                name: Some("shop".into()),
                namespace: Some("web".into()),
                uid: Some("u-1".into()),
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            host: Some("shop.example.com".into()),
            tls,
        }
    }

    #[test]
    fn annotations_make_an_owned_monitor() {
        let r = route(
            &[
                (MONITOR, "true"),
                (PATH, "/health"),
                (INTERVAL, "30s"),
                (ASSERTIONS, "status == 200\n\nbody.$.ok == true\n"),
            ],
            true,
        );
        let m = r.monitor().unwrap().unwrap();
        assert_eq!(m.metadata.name.as_deref(), Some("ingress-shop"));
        assert_eq!(m.metadata.namespace.as_deref(), Some("web"));
        assert_eq!(
            m.spec.fields["http"]["url"],
            "https://shop.example.com/health"
        );
        assert_eq!(m.spec.fields["interval"], "30s");
        assert!(m.spec.fields.get("timeout").is_none());
        let short = route(&[(MONITOR, "true"), (INTERVAL, "5s")], false);
        assert_eq!(
            short.monitor().unwrap().unwrap().spec.fields["timeout"],
            "5s"
        );
        assert_eq!(
            m.spec.fields["assertions"],
            json!(["status == 200", "body.$.ok == true"])
        );
        let owner = &m.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Ingress", "u-1")
        );
    }

    #[test]
    fn no_annotation_no_monitor_and_bad_ones_say_why() {
        assert_eq!(route(&[], false).monitor(), Ok(None));
        assert_eq!(route(&[(MONITOR, "false")], false).monitor(), Ok(None));
        let plain = route(&[(MONITOR, "true")], false)
            .monitor()
            .unwrap()
            .unwrap();
        assert_eq!(plain.spec.fields["http"]["url"], "http://shop.example.com/");
        assert_eq!(
            route(&[(MONITOR, "true"), (PATH, "health")], false).monitor(),
            Err("vedette.dev/path: expected a path starting with '/', got \"health\"".into())
        );
        assert_eq!(
            route(&[(MONITOR, "true"), (SCHEME, "ftp")], false).monitor(),
            Err("vedette.dev/scheme: expected http or https, got \"ftp\"".into())
        );
    }
}
