//! NGINX Plus, through its REST API version 9 (NGINX Plus R30 and later; `connection.url` is
//! where the `api` directive is served, such as `http://nginx:8080/api`):
//! `GET /9/http/server_zones`, `GET /9/http/location_zones` and `GET /9/http/upstreams`.
//! The API names zones, not routes, so the zone names say where they serve (`status_zone`):
//! a server zone named `host` or `host:port` is a route at `/` of that host (`https` when the
//! zone reports TLS handshakes); a location zone named `host/path` is a route at that path
//! (other zone names give no URL and are skipped). Health: the upstream with the same name as
//! the zone (its host for a server zone); a peer counts as healthy when its state is `up`,
//! backup peers are not counted.

use serde_json::{Map, Value};
use vedette_model::discovery::{GatewayHealth, Route};

use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The NGINX Plus source.
pub struct NginxPlus;

/// The API version this source speaks.
pub const API_VERSION: u32 = 9;

impl GatewaySource for NginxPlus {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let servers = object(gateway, "/http/server_zones").await?;
        let locations = object(gateway, "/http/location_zones").await?;
        let upstreams = object(gateway, "/http/upstreams").await?;
        build(&servers, &locations, &upstreams)
    }
}

/// The JSON object `GET /9<path>` answers.
async fn object(gateway: &Gateway, path: &str) -> Result<Map<String, Value>, ListError> {
    let full = format!("/{API_VERSION}{path}");
    match gateway.get_json(&full).await? {
        Value::Object(map) => Ok(map),
        _ => Err(ListError::malformed(&full, "expected an object of zones")),
    }
}

/// Health of upstream `name` from its `peers`.
pub fn upstream_health(name: &str, upstream: &Value) -> Result<GatewayHealth, ListError> {
    let Some(peers) = upstream.get("peers").and_then(Value::as_array) else {
        return Err(ListError::malformed(
            "/9/http/upstreams",
            format!("upstream {name} has no peers list"),
        ));
    };
    let primary: Vec<&Value> = peers
        .iter()
        .filter(|p| p.get("backup").and_then(Value::as_bool) != Some(true))
        .collect();
    let total = primary.len() as u32;
    let mut healthy = 0;
    for peer in &primary {
        match peer.get("state").and_then(Value::as_str) {
            Some("up") => healthy += 1,
            Some(_) => {}
            None => {
                return Err(ListError::malformed(
                    "/9/http/upstreams",
                    format!("a peer of upstream {name} has no state"),
                ));
            }
        }
    }
    Ok(GatewayHealth {
        healthy: healthy > 0,
        healthy_upstreams: healthy,
        upstreams: total,
        detail: format!("upstream {name}: {healthy}/{total} peers up"),
    })
}

/// Whether `host` (a zone name's host part) is a host name or address.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The routes of the zones, with the health of their upstreams.
pub fn build(
    servers: &Map<String, Value>,
    locations: &Map<String, Value>,
    upstreams: &Map<String, Value>,
) -> Result<Vec<Route>, ListError> {
    let health = |name: &str| -> Result<Option<GatewayHealth>, ListError> {
        upstreams
            .get(name)
            .map(|u| upstream_health(name, u))
            .transpose()
    };
    let mut out = Vec::new();
    for (zone, stats) in servers {
        if !stats.is_object() {
            return Err(ListError::malformed(
                "/9/http/server_zones",
                "a zone is not an object",
            ));
        }
        if !is_host(zone) {
            continue;
        }
        let scheme = if stats.get("ssl").is_some_and(Value::is_object) {
            "https"
        } else {
            "http"
        };
        let host = zone.split(':').next().unwrap_or(zone);
        let mut route = Route::new(&format!("server/{zone}"), scheme, host, "/");
        if zone.contains(':') {
            route.base = Some(format!("{scheme}://{zone}"));
        }
        route.tags = vec![format!("nginx.zone={zone}")];
        route.health = health(zone)?.or(health(host)?);
        out.push(route);
    }
    for (zone, stats) in locations {
        if !stats.is_object() {
            return Err(ListError::malformed(
                "/9/http/location_zones",
                "a zone is not an object",
            ));
        }
        let Some((host, path)) = zone.split_once('/') else {
            continue;
        };
        if !is_host(host) {
            continue;
        }
        let path = format!("/{path}");
        let bare = host.split(':').next().unwrap_or(host);
        let mut route = Route::new(&format!("location/{zone}"), "http", bare, &path);
        if host.contains(':') {
            route.base = Some(format!("http://{host}"));
        }
        route.tags = vec![format!("nginx.zone={zone}")];
        route.health = health(zone)?;
        out.push(route);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn zones_become_routes_with_their_upstreams_health() {
        let routes = build(
            &map(
                json!({"shop.example.com": {"requests": 1, "ssl": {"handshakes": 1}},
                        "not a host!": {}}),
            ),
            &map(json!({"shop.example.com/orders": {"requests": 1}, "orders_zone": {}})),
            &map(json!({
                "shop.example.com": {"peers": [{"state": "up"}, {"state": "unhealthy"},
                                                {"state": "down", "backup": true}]},
                "shop.example.com/orders": {"peers": [{"state": "unavail"}]}
            })),
        )
        .unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].scheme, "https");
        let h = routes[0].health.as_ref().unwrap();
        assert_eq!((h.healthy, h.healthy_upstreams, h.upstreams), (true, 1, 2));
        assert_eq!(routes[1].path, "/orders");
        assert!(!routes[1].health.as_ref().unwrap().healthy);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(build(&map(json!({"a": 1})), &Map::new(), &Map::new()).is_err());
        assert!(
            build(
                &map(json!({"a": {}})),
                &Map::new(),
                &map(json!({"a": {"peers": [{}]}}))
            )
            .is_err()
        );
    }
}
