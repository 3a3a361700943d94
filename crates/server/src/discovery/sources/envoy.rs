//! Envoy, through its admin interface: `GET /config_dump` for the listeners and their route
//! configurations (inline or by RDS name), `GET /clusters?format=json` for the health flags of
//! each cluster's hosts. One route per virtual host and route match with a path (`prefix`,
//! `path`, `path_separated_prefix`; regex matches give no URL and are skipped), served at the
//! listener's address. A route's metadata `filter_metadata.vedette.monitor: false|true` opts
//! it out or in.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;
use vedette_model::discovery::{GatewayHealth, Route};

use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The Envoy source.
pub struct Envoy;

const CONFIG_DUMP: &str = "/config_dump";
const CLUSTERS: &str = "/clusters?format=json";
const HCM: &str = "envoy.filters.network.http_connection_manager";

impl GatewaySource for Envoy {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let dump = gateway.get_json(CONFIG_DUMP).await?;
        let clusters = gateway.get_json(CLUSTERS).await?;
        let health = cluster_health(&clusters)?;
        let admin_host = Url::parse(gateway.base())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        routes(&dump, &health, &admin_host)
    }
}

fn configs<'a>(dump: &'a Value, kind: &str) -> impl Iterator<Item = &'a Value> {
    dump.get("configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |c| {
            c.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(kind))
        })
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The routes of `dump` (a `/config_dump` answer), with `health` by cluster name; listeners on
/// a wildcard address are reached at `admin_host`.
pub fn routes(
    dump: &Value,
    health: &HashMap<String, GatewayHealth>,
    admin_host: &str,
) -> Result<Vec<Route>, ListError> {
    if dump.get("configs").and_then(Value::as_array).is_none() {
        return Err(ListError::malformed(CONFIG_DUMP, "no configs array"));
    }
    let mut by_name: HashMap<&str, &Value> = HashMap::new();
    for dump in configs(dump, "RoutesConfigDump") {
        for entry in list(dump, "static_route_configs").chain(list(dump, "dynamic_route_configs")) {
            if let Some(config) = entry.get("route_config")
                && let Some(name) = text(config, "name")
            {
                by_name.insert(name, config);
            }
        }
    }
    let mut out = Vec::new();
    for dump in configs(dump, "ListenersConfigDump") {
        let statics = list(dump, "static_listeners").filter_map(|l| l.get("listener"));
        let dynamics = list(dump, "dynamic_listeners")
            .filter_map(|l| l.get("active_state").and_then(|s| s.get("listener")));
        for listener in statics.chain(dynamics) {
            listener_routes(listener, &by_name, health, admin_host, &mut out)?;
        }
    }
    Ok(out)
}

fn listener_routes(
    listener: &Value,
    by_name: &HashMap<&str, &Value>,
    health: &HashMap<String, GatewayHealth>,
    admin_host: &str,
    out: &mut Vec<Route>,
) -> Result<(), ListError> {
    let name = text(listener, "name").unwrap_or("listener");
    let Some(socket) = listener
        .get("address")
        .and_then(|a| a.get("socket_address"))
    else {
        return Ok(());
    };
    let address = text(socket, "address").unwrap_or(admin_host);
    let port = socket
        .get("port_value")
        .and_then(Value::as_u64)
        .ok_or_else(|| ListError::malformed(CONFIG_DUMP, format!("listener {name} has no port")))?;
    let host = match address {
        "0.0.0.0" | "::" | "" => admin_host,
        a => a,
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    for chain in list(listener, "filter_chains") {
        let scheme = if chain.get("transport_socket").is_some() {
            "https"
        } else {
            "http"
        };
        let base = format!("{scheme}://{host}:{port}");
        for filter in list(chain, "filters").filter(|f| text(f, "name") == Some(HCM)) {
            let Some(config) = filter.get("typed_config") else {
                continue;
            };
            let route_config = match config.get("route_config") {
                Some(inline) => Some(inline),
                None => config
                    .get("rds")
                    .and_then(|r| text(r, "route_config_name"))
                    .and_then(|n| by_name.get(n).copied()),
            };
            if let Some(route_config) = route_config {
                config_routes(name, scheme, &base, route_config, health, out);
            }
        }
    }
    Ok(())
}

fn config_routes(
    listener: &str,
    scheme: &str,
    base: &str,
    config: &Value,
    health: &HashMap<String, GatewayHealth>,
    out: &mut Vec<Route>,
) {
    for vhost in list(config, "virtual_hosts") {
        let vhost_name = text(vhost, "name").unwrap_or("vhost");
        let domains: Vec<&str> = list(vhost, "domains").filter_map(Value::as_str).collect();
        let host = domains
            .iter()
            .find(|d| !d.contains('*'))
            .map(|d| d.split(':').next().unwrap_or(d))
            .unwrap_or_else(|| {
                base.rsplit("://")
                    .next()
                    .and_then(|h| h.rsplit_once(':').map(|(h, _)| h))
                    .unwrap_or("localhost")
            });
        for route in list(vhost, "routes") {
            let Some(matcher) = route.get("match") else {
                continue;
            };
            let (kind, path) = match ["prefix", "path", "path_separated_prefix"]
                .into_iter()
                .find_map(|k| text(matcher, k).map(|p| (k, p)))
            {
                Some((kind, path)) => (kind, if path.is_empty() { "/" } else { path }),
                None => continue,
            };
            let action = route.get("route");
            let cluster = action.and_then(|a| {
                text(a, "cluster").or_else(|| {
                    a.get("weighted_clusters")
                        .and_then(|w| w.get("clusters"))
                        .and_then(Value::as_array)
                        .and_then(|c| c.first())
                        .and_then(|c| text(c, "name"))
                })
            });
            let mut r = Route::new(
                &format!("{listener}/{vhost_name}/{kind}:{path}"),
                scheme,
                host,
                path,
            );
            r.base = Some(base.to_owned());
            r.service = cluster.map(str::to_owned);
            r.health = cluster.and_then(|c| health.get(c).cloned());
            let opt = route
                .get("metadata")
                .and_then(|m| m.get("filter_metadata"))
                .and_then(|m| m.get("vedette"))
                .and_then(|v| v.get("monitor"))
                .and_then(Value::as_bool);
            match opt {
                Some(false) => r.tags.push("vedette:off".to_owned()),
                Some(true) => r.tags.push("vedette:on".to_owned()),
                None => {}
            }
            out.push(r);
        }
    }
}

/// A host is healthy unless Envoy flags it: a failed active or outlier check, an EDS status
/// other than healthy, or pending removal.
fn host_healthy(host: &Value) -> bool {
    let Some(status) = host.get("health_status") else {
        return true;
    };
    let flagged = [
        "failed_active_health_check",
        "failed_outlier_check",
        "failed_active_degraded_check",
        "pending_dynamic_removal",
        "excluded_via_immediate_hc_fail",
        "active_hc_timeout",
    ]
    .iter()
    .any(|flag| status.get(*flag).and_then(Value::as_bool) == Some(true));
    let eds = text(status, "eds_health_status").unwrap_or("HEALTHY");
    !flagged && matches!(eds, "HEALTHY" | "UNKNOWN")
}

/// Health by cluster name from a `/clusters?format=json` answer.
pub fn cluster_health(clusters: &Value) -> Result<HashMap<String, GatewayHealth>, ListError> {
    let statuses = clusters
        .get("cluster_statuses")
        .and_then(Value::as_array)
        .ok_or_else(|| ListError::malformed("/clusters", "no cluster_statuses array"))?;
    let mut out = HashMap::new();
    for cluster in statuses {
        let Some(name) = text(cluster, "name") else {
            continue;
        };
        let hosts: Vec<&Value> = list(cluster, "host_statuses").collect();
        let healthy = hosts.iter().filter(|h| host_healthy(h)).count() as u32;
        let total = hosts.len() as u32;
        out.insert(
            name.to_owned(),
            GatewayHealth {
                healthy: healthy > 0,
                healthy_upstreams: healthy,
                upstreams: total,
                detail: format!("cluster {name}: {healthy}/{total} hosts healthy"),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn routes_come_from_inline_and_rds_configs_with_cluster_health() {
        let dump = json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
             "static_listeners": [{"listener": {
                "name": "edge",
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": 10000}},
                "filter_chains": [{"filters": [{"name": HCM, "typed_config": {
                    "route_config": {"name": "inline", "virtual_hosts": [{
                        "name": "shop", "domains": ["shop.local", "*"],
                        "routes": [
                            {"match": {"prefix": "/api"}, "route": {"cluster": "api"}},
                            {"match": {"safe_regex": {"regex": ".*"}}, "route": {"cluster": "api"}},
                            {"match": {"path": "/internal"}, "route": {"cluster": "api"},
                             "metadata": {"filter_metadata": {"vedette": {"monitor": false}}}}
                        ]}]}}}]}]}}],
             "dynamic_listeners": [{"name": "rds", "active_state": {"listener": {
                "name": "rds",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 10001}},
                "filter_chains": [{"filters": [{"name": HCM, "typed_config": {
                    "rds": {"route_config_name": "by-name"}}}]}]}}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
             "dynamic_route_configs": [{"route_config": {"name": "by-name", "virtual_hosts": [{
                "name": "any", "domains": ["*"],
                "routes": [{"match": {"prefix": ""}, "route": {"weighted_clusters": {"clusters": [{"name": "web"}]}}}]
             }]}}]}
        ]});
        let clusters = json!({"cluster_statuses": [
            {"name": "api", "host_statuses": [
                {"health_status": {"eds_health_status": "HEALTHY"}},
                {"health_status": {"failed_active_health_check": true, "eds_health_status": "HEALTHY"}}
            ]},
            {"name": "web", "host_statuses": [{"health_status": {"eds_health_status": "UNHEALTHY"}}]}
        ]});
        let health = cluster_health(&clusters).unwrap();
        let routes = routes(&dump, &health, "127.0.0.1").unwrap();
        let keys: Vec<&str> = routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "edge/shop/prefix:/api",
                "edge/shop/path:/internal",
                "rds/any/prefix:/"
            ]
        );
        assert_eq!(routes[0].host, "shop.local");
        assert_eq!(routes[0].base.as_deref(), Some("http://127.0.0.1:10000"));
        let api = routes[0].health.as_ref().unwrap();
        assert!(api.healthy);
        assert_eq!((api.healthy_upstreams, api.upstreams), (1, 2));
        assert_eq!(routes[1].tags, ["vedette:off"]);
        assert_eq!(routes[2].host, "127.0.0.1");
        assert!(!routes[2].health.as_ref().unwrap().healthy);
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_listing() {
        assert!(routes(&json!({"oops": 1}), &HashMap::new(), "h").is_err());
        assert!(cluster_health(&json!([])).is_err());
    }
}
