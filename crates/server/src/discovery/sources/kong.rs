//! Kong, through its Admin API (3.x): `GET /services`, `GET /routes` and `GET /upstreams`,
//! each followed page by page through `offset` until Kong gives none, and
//! `GET /upstreams/{id}/health` for the upstreams a service names as its host. One route per
//! Kong route, host and path (regex paths `~...` give no URL and are skipped; a route without
//! hosts is served at the Admin API's host), over `https` when the route only speaks HTTPS,
//! else `http`; routes of other protocols (gRPC, TCP, ...) and of disabled services are left
//! out. The route's and its service's Kong tags become the route's tags, so the Kong tag
//! `vedette:off` opts a route out and `vedette:on` opts it in. The admin token, when Kong wants
//! one, is a `header` credential named `Kong-Admin-Token`.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;
use vedette_model::discovery::{GatewayHealth, KONG_ROUTE_ID, Route};

use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The Kong source.
pub struct Kong;

/// Entities asked for per page (Kong's largest page).
const PAGE_SIZE: u32 = 1000;
/// Most pages followed per listing: a Kong that keeps answering with an offset is broken.
const MAX_PAGES: u32 = 1000;

impl GatewaySource for Kong {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let services = all(gateway, "/services").await?;
        let routes = all(gateway, "/routes").await?;
        let upstreams = all(gateway, "/upstreams").await?;
        let mut health = HashMap::new();
        for upstream in &upstreams {
            let (Some(id), Some(name)) = (text(upstream, "id"), text(upstream, "name")) else {
                return Err(ListError::malformed(
                    "/upstreams",
                    "an upstream has no id or name",
                ));
            };
            if services.iter().any(|s| text(s, "host") == Some(name)) {
                let path = format!("/upstreams/{id}/health");
                let targets = page_data(&path, &gateway.get_json(&path).await?)?;
                health.insert(name.to_owned(), upstream_health(name, &targets));
            }
        }
        let admin_host = Url::parse(gateway.base())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        build(&services, &routes, &health, &admin_host)
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn strings<'a>(value: &'a Value, key: &str) -> Vec<&'a str> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The `data` array of one page of a Kong listing.
fn page_data(path: &str, page: &Value) -> Result<Vec<Value>, ListError> {
    page.get("data")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ListError::malformed(path, "no data array"))
}

/// Every entity of the collection at `path`, page by page.
async fn all(gateway: &Gateway, path: &str) -> Result<Vec<Value>, ListError> {
    let mut out = Vec::new();
    let mut offset: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query = match &offset {
            None => format!("{path}?size={PAGE_SIZE}"),
            Some(o) => {
                let o: String = url::form_urlencoded::byte_serialize(o.as_bytes()).collect();
                format!("{path}?size={PAGE_SIZE}&offset={o}")
            }
        };
        let page = gateway.get_json(&query).await?;
        out.extend(page_data(path, &page)?);
        match page.get("offset") {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::String(o)) if !o.is_empty() => offset = Some(o.clone()),
            Some(_) => return Err(ListError::malformed(path, "offset is not a string")),
        }
    }
    Err(ListError::malformed(
        path,
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// Health of upstream `name` from its targets (`/upstreams/{id}/health` data): a target is
/// healthy when Kong says `HEALTHY` or runs no health checks for it (`HEALTHCHECKS_OFF`).
pub fn upstream_health(name: &str, targets: &[Value]) -> GatewayHealth {
    let total = targets.len() as u32;
    let healthy = targets
        .iter()
        .filter(|t| matches!(text(t, "health"), Some("HEALTHY" | "HEALTHCHECKS_OFF")))
        .count() as u32;
    GatewayHealth {
        healthy: healthy > 0,
        healthy_upstreams: healthy,
        upstreams: total,
        detail: format!("upstream {name}: {healthy}/{total} targets healthy"),
    }
}

/// The routes of Kong's `services` and `routes`, with `health` by upstream name; routes
/// without hosts are reached at `admin_host`.
pub fn build(
    services: &[Value],
    routes: &[Value],
    health: &HashMap<String, GatewayHealth>,
    admin_host: &str,
) -> Result<Vec<Route>, ListError> {
    let mut by_id: HashMap<&str, &Value> = HashMap::new();
    for service in services {
        let id = text(service, "id")
            .ok_or_else(|| ListError::malformed("/services", "a service has no id"))?;
        by_id.insert(id, service);
    }
    let mut out = Vec::new();
    for route in routes {
        let id = text(route, "id")
            .ok_or_else(|| ListError::malformed("/routes", "a route has no id"))?;
        let name = text(route, "name").unwrap_or(id);
        let protocols = strings(route, "protocols");
        let scheme = if protocols.contains(&"http") {
            "http"
        } else if protocols.contains(&"https") {
            "https"
        } else {
            continue;
        };
        let service = route
            .get("service")
            .and_then(|s| text(s, "id"))
            .and_then(|id| by_id.get(id).copied());
        if service
            .and_then(|s| s.get("enabled"))
            .and_then(Value::as_bool)
            == Some(false)
        {
            continue;
        }
        let mut tags: Vec<String> = strings(route, "tags")
            .into_iter()
            .chain(service.map(|s| strings(s, "tags")).unwrap_or_default())
            .map(str::to_owned)
            .collect();
        let methods = strings(route, "methods");
        if !methods.is_empty() {
            tags.push(format!("kong.methods={}", methods.join(",")));
        }
        tags.dedup();
        let hosts: Vec<&str> = strings(route, "hosts")
            .into_iter()
            .filter(|h| !h.contains('*'))
            .collect();
        let hosts = if hosts.is_empty() {
            vec![admin_host]
        } else {
            hosts
        };
        let paths: Vec<&str> = strings(route, "paths");
        let paths: Vec<&str> = if paths.is_empty() {
            vec!["/"]
        } else {
            paths.into_iter().filter(|p| !p.starts_with('~')).collect()
        };
        let service_name = service.map(|s| text(s, "name").or(text(s, "id")).unwrap_or(""));
        let upstream = service.and_then(|s| text(s, "host"));
        for host in &hosts {
            for path in &paths {
                let host = host.split(':').next().unwrap_or(host);
                let mut r = Route::new(&format!("{name}/{host}{path}"), scheme, host, path);
                r.service = service_name.map(str::to_owned);
                r.tags = tags.clone();
                r.health = upstream.and_then(|u| health.get(u).cloned());
                r.labels.insert(KONG_ROUTE_ID.to_owned(), id.to_owned());
                out.push(r);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use serde_json::json;
    use vedette_model::discovery::DiscoverySourceSpec;

    use super::*;

    /// Recorded Kong Admin API 3.9 answers (each file says so in its `_fixture` field).
    const SERVICES: &str = include_str!("../../../tests/fixtures/kong/services.json");
    const ROUTES_1: &str = include_str!("../../../tests/fixtures/kong/routes-page1.json");
    const ROUTES_2: &str = include_str!("../../../tests/fixtures/kong/routes-page2.json");
    const UPSTREAMS: &str = include_str!("../../../tests/fixtures/kong/upstreams.json");
    const HEALTH: &str = include_str!("../../../tests/fixtures/kong/upstream-health.json");

    const TOKEN_ENV: &str = "VEDETTE_DISCOVERY_KONG_UNIT_TOKEN";
    const TOKEN: &str = "kong-admin-3c1d9e-never-shown";

    /// A stand-in Kong Admin API serving the recorded answers; `/routes` is served truncated
    /// when `truncated` is set. It wants the admin token.
    async fn answer(
        State(truncated): State<Arc<bool>>,
        uri: Uri,
        headers: HeaderMap,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        if headers
            .get("kong-admin-token")
            .and_then(|v| v.to_str().ok())
            != Some(TOKEN)
        {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let body = match (uri.path(), q.get("offset").map(String::as_str)) {
            ("/services", None) => SERVICES.to_owned(),
            ("/routes", None) if *truncated => ROUTES_1[..ROUTES_1.len() / 2].to_owned(),
            ("/routes", None) => ROUTES_1.to_owned(),
            ("/routes", Some("WyJyb3V0ZS0yIl0")) => ROUTES_2.to_owned(),
            ("/upstreams", None) => UPSTREAMS.to_owned(),
            ("/upstreams/9b6e3a30-2c57-4a5e-9d2b-5b4f0c1f7a01/health", None) => HEALTH.to_owned(),
            _ => return StatusCode::NOT_FOUND.into_response(),
        };
        (StatusCode::OK, body).into_response()
    }

    async fn list_from_stand_in(truncated: bool) -> Result<Vec<Route>, ListError> {
        // SAFETY: every test of this module sets the same value before reading it.
        unsafe { std::env::set_var(TOKEN_ENV, TOKEN) };
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::new(truncated));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let spec: DiscoverySourceSpec = serde_json::from_value(json!({
            "type": "kong",
            "connection": {
                "url": format!("http://{addr}"),
                "timeout": "5s",
                "credentials": {"header": {"name": "Kong-Admin-Token", "value": {"env": TOKEN_ENV}}}
            }
        }))
        .unwrap();
        let gateway = Gateway::connect(&spec).unwrap();
        let listed = Kong.list(&gateway).await;
        server.abort();
        listed
    }

    #[tokio::test]
    async fn lists_every_page_with_tags_and_upstream_health() {
        let routes = list_from_stand_in(false).await.unwrap();
        let keys: Vec<&str> = routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "orders-api/shop.example.com/orders",
                "orders-api/shop.example.com/v2/orders",
                "payments/pay.example.com/charge",
                "admin-ui/127.0.0.1/admin",
                "catch-all/shop.example.com/",
            ]
        );
        let orders = &routes[0];
        assert_eq!(orders.scheme, "http");
        assert_eq!(orders.service.as_deref(), Some("orders"));
        assert!(orders.labels.contains_key(KONG_ROUTE_ID));
        assert!(orders.tags.contains(&"team=shop".to_owned()));
        assert!(orders.tags.contains(&"kong.methods=GET,POST".to_owned()));
        let health = orders.health.as_ref().unwrap();
        assert!(health.healthy);
        assert_eq!((health.healthy_upstreams, health.upstreams), (2, 3));
        assert_eq!(routes[2].scheme, "https");
        assert!(routes[2].health.is_none());
        assert!(routes[3].tags.contains(&"vedette:off".to_owned()));
        assert!(routes[4].tags.contains(&"vedette:on".to_owned()));
    }

    #[tokio::test]
    async fn a_truncated_page_fails_the_whole_listing_without_the_token() {
        let err = list_from_stand_in(true).await.unwrap_err();
        assert!(matches!(err, ListError::Malformed { .. }), "{err}");
        assert!(!err.to_string().contains(TOKEN));
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_listing() {
        assert!(page_data("/routes", &json!({"oops": []})).is_err());
        assert!(build(&[json!({"name": "no id"})], &[], &HashMap::new(), "h").is_err());
        assert!(build(&[], &[json!({"paths": ["/"]})], &HashMap::new(), "h").is_err());
    }
}
