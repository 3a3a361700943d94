//! Istio, through the Kubernetes API (`networking.istio.io/v1`): every `VirtualService` and
//! `Gateway` of the cluster, listed page by page (`limit`/`continue`). One route per virtual
//! service host and HTTP route match with a `uri` `prefix` or `exact` (regex matches give no
//! URL and are skipped; an HTTP route without matches is served at `/`); hosts with a wildcard
//! are skipped. A virtual service bound to a gateway whose server for the host speaks `HTTPS`
//! is `https`, else `http`. The annotation `vedette.dev/monitor: "false"|"true"` opts a
//! virtual service out or in; its labels become `key=value` tags. The API server wants a
//! `bearer` credential (a service account token allowed to list both kinds).

use std::collections::HashMap;

use serde_json::Value;
use vedette_model::discovery::Route;

use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The Istio source.
pub struct Istio;

const VIRTUAL_SERVICES: &str = "/apis/networking.istio.io/v1/virtualservices";
const GATEWAYS: &str = "/apis/networking.istio.io/v1/gateways";
/// Objects asked for per page.
const PAGE_SIZE: u32 = 500;
/// Most pages followed per listing.
const MAX_PAGES: u32 = 1000;
/// The annotation that opts a virtual service out (`"false"`) or in (`"true"`).
pub const ANNOTATION: &str = "vedette.dev/monitor";

impl GatewaySource for Istio {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let gateways = all(gateway, GATEWAYS).await?;
        let services = all(gateway, VIRTUAL_SERVICES).await?;
        build(&services, &gateways)
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Every object of the list at `path`, page by page.
async fn all(gateway: &Gateway, path: &str) -> Result<Vec<Value>, ListError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query = match &next {
            None => format!("{path}?limit={PAGE_SIZE}"),
            Some(c) => {
                let c: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
                format!("{path}?limit={PAGE_SIZE}&continue={c}")
            }
        };
        let page = gateway.get_json(&query).await?;
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| ListError::malformed(path, "no items array"))?;
        out.extend(items.iter().cloned());
        match page.get("metadata").and_then(|m| m.get("continue")) {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::String(c)) if c.is_empty() => return Ok(out),
            Some(Value::String(c)) => next = Some(c.clone()),
            Some(_) => return Err(ListError::malformed(path, "continue is not a string")),
        }
    }
    Err(ListError::malformed(
        path,
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// Whether `host` matches a gateway server's host entry (`ns/host`, `*/host`, `*.domain`,
/// `*`).
fn server_host_matches(entry: &str, host: &str) -> bool {
    let entry = entry.rsplit('/').next().unwrap_or(entry);
    entry == "*"
        || entry == host
        || entry
            .strip_prefix('*')
            .is_some_and(|suffix| host.ends_with(suffix))
}

/// The routes of `services` (virtual services) bound to `gateways`.
pub fn build(services: &[Value], gateways: &[Value]) -> Result<Vec<Route>, ListError> {
    let mut by_name: HashMap<(String, String), &Value> = HashMap::new();
    for gw in gateways {
        let meta = gw
            .get("metadata")
            .ok_or_else(|| ListError::malformed(GATEWAYS, "a gateway has no metadata"))?;
        let (Some(ns), Some(name)) = (text(meta, "namespace"), text(meta, "name")) else {
            return Err(ListError::malformed(GATEWAYS, "a gateway has no name"));
        };
        by_name.insert((ns.to_owned(), name.to_owned()), gw);
    }
    let mut out = Vec::new();
    for vs in services {
        let meta = vs
            .get("metadata")
            .ok_or_else(|| ListError::malformed(VIRTUAL_SERVICES, "an object has no metadata"))?;
        let (Some(ns), Some(name)) = (text(meta, "namespace"), text(meta, "name")) else {
            return Err(ListError::malformed(
                VIRTUAL_SERVICES,
                "a virtual service has no name",
            ));
        };
        let Some(spec) = vs.get("spec") else {
            continue;
        };
        let mut tags: Vec<String> = meta
            .get("labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
            .collect();
        match meta.get("annotations").and_then(|a| text(a, ANNOTATION)) {
            Some("false") => tags.push("vedette:off".to_owned()),
            Some("true") => tags.push("vedette:on".to_owned()),
            _ => {}
        }
        let bound: Vec<&Value> = list(spec, "gateways")
            .filter_map(Value::as_str)
            .filter(|g| *g != "mesh")
            .filter_map(|g| {
                let (gns, gname) = g.split_once('/').unwrap_or((ns, g));
                by_name.get(&(gns.to_owned(), gname.to_owned())).copied()
            })
            .collect();
        for host in list(spec, "hosts").filter_map(Value::as_str) {
            if host.contains('*') {
                continue;
            }
            let https = bound.iter().any(|gw| {
                list(gw.get("spec").unwrap_or(&Value::Null), "servers").any(|server| {
                    server
                        .get("port")
                        .and_then(|p| text(p, "protocol"))
                        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
                        && list(server, "hosts")
                            .filter_map(Value::as_str)
                            .any(|e| server_host_matches(e, host))
                })
            });
            let scheme = if https { "https" } else { "http" };
            for (index, http) in list(spec, "http").enumerate() {
                let route_name = text(http, "name")
                    .map(str::to_owned)
                    .unwrap_or_else(|| index.to_string());
                let service = list(http, "route")
                    .filter_map(|r| r.get("destination").and_then(|d| text(d, "host")))
                    .next();
                let matches: Vec<&Value> = list(http, "match").collect();
                let mut paths: Vec<(&str, &str)> = Vec::new();
                if matches.is_empty() {
                    paths.push(("prefix", "/"));
                }
                for m in matches {
                    let Some(uri) = m.get("uri") else {
                        paths.push(("prefix", "/"));
                        continue;
                    };
                    if let Some(p) = text(uri, "prefix") {
                        paths.push(("prefix", if p.is_empty() { "/" } else { p }));
                    } else if let Some(p) = text(uri, "exact") {
                        paths.push(("exact", p));
                    }
                }
                paths.dedup();
                for (kind, path) in paths {
                    let mut r = Route::new(
                        &format!("{ns}/{name}/{route_name}/{host}/{kind}:{path}"),
                        scheme,
                        host,
                        path,
                    );
                    r.namespace = Some(ns.to_owned());
                    r.service = service.map(str::to_owned);
                    r.tags = tags.clone();
                    out.push(r);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn routes_come_from_virtual_services_and_their_gateways() {
        let gateways = [json!({"metadata": {"namespace": "edge", "name": "public"},
        "spec": {"servers": [
            {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*/shop.example.com"]},
            {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}
        ]}})];
        let services = [
            json!({"metadata": {"namespace": "shop", "name": "orders", "labels": {"team": "shop"}},
            "spec": {"hosts": ["shop.example.com", "*.example.com"], "gateways": ["edge/public"],
                "http": [
                    {"name": "api", "match": [{"uri": {"prefix": "/orders"}}, {"uri": {"exact": "/health"}}, {"uri": {"regex": ".*"}}],
                     "route": [{"destination": {"host": "orders.shop.svc.cluster.local"}}]},
                    {"route": [{"destination": {"host": "web"}}]}
                ]}}),
            json!({"metadata": {"namespace": "internal", "name": "admin",
                    "annotations": {"vedette.dev/monitor": "false"}},
                "spec": {"hosts": ["admin.internal"], "http": [{"match": [{"uri": {"prefix": "/"}}]}]}}),
        ];
        let routes = build(&services, &gateways).unwrap();
        let keys: Vec<&str> = routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "shop/orders/api/shop.example.com/prefix:/orders",
                "shop/orders/api/shop.example.com/exact:/health",
                "shop/orders/1/shop.example.com/prefix:/",
                "internal/admin/0/admin.internal/prefix:/",
            ]
        );
        assert_eq!(routes[0].scheme, "https");
        assert_eq!(routes[0].namespace.as_deref(), Some("shop"));
        assert_eq!(
            routes[0].service.as_deref(),
            Some("orders.shop.svc.cluster.local")
        );
        assert_eq!(routes[0].tags, ["team=shop"]);
        assert_eq!(routes[3].scheme, "http");
        assert_eq!(routes[3].tags, ["vedette:off"]);
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_listing() {
        assert!(build(&[json!({"spec": {}})], &[]).is_err());
        assert!(build(&[], &[json!({"metadata": {}})]).is_err());
    }
}
