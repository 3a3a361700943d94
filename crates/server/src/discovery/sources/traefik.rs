//! Traefik (v3), through its API: `GET /api/http/routers`, `/api/http/services` and
//! `/api/entrypoints`, each followed page by page (`page`, `per_page`) while Traefik's
//! `X-Next-Page` header names a later page. One route per alternative of each enabled
//! router's rule that gives a URL ([`super::traefik_rule`]: `Host()`, `Path()`,
//! `PathPrefix()`); alternatives needing `HostRegexp()`/`PathRegexp()` are left out (logged
//! with the reason), as are Traefik's own routers (provider `internal`) and routers whose
//! rule cannot be read. The scheme is `https` when the router has `tls` or its entry point
//! terminates TLS, else `http`; a port other than the scheme's default comes from the entry
//! point's address; a rule without `Host()` is served at the API's host. The router's
//! service's `serverStatus` (`UP` per server URL) is the route's upstream health.
//!
//! Traefik's API shows no labels or metadata of a router, so opting a router out is done with
//! the source's filters on the tags each route carries: `traefik.router=<name>`,
//! `traefik.provider=<provider>`, `traefik.entrypoint=<name>` and `traefik.methods=<GET,...>`.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;
use vedette_model::discovery::{GatewayHealth, Route};

use super::traefik_rule::{self, PathMatch};
use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The Traefik source.
pub struct Traefik;

/// Entities asked for per page.
const PER_PAGE: u32 = 100;
/// Most pages followed per collection: a Traefik that keeps naming a next page is broken.
const MAX_PAGES: u32 = 1000;

impl GatewaySource for Traefik {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let routers = all(gateway, "/api/http/routers").await?;
        let services = all(gateway, "/api/http/services").await?;
        let entrypoints = all(gateway, "/api/entrypoints").await?;
        let api_host = Url::parse(gateway.base())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        let (routes, skipped) = build(&routers, &services, &entrypoints, &api_host)?;
        for (router, reason) in skipped {
            tracing::debug!(router, reason, "traefik router left out");
        }
        Ok(routes)
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// Every entity of the collection at `path`, page by page.
async fn all(gateway: &Gateway, path: &str) -> Result<Vec<Value>, ListError> {
    let mut out = Vec::new();
    let mut page = 1_u32;
    for _ in 0..MAX_PAGES {
        let (body, headers) = gateway
            .get_with_headers(&format!("{path}?page={page}&per_page={PER_PAGE}"))
            .await?;
        let items: Value = serde_json::from_slice(&body)
            .map_err(|e| ListError::malformed(path, format!("not JSON: {e}")))?;
        let Value::Array(items) = items else {
            return Err(ListError::malformed(path, "expected an array"));
        };
        out.extend(items);
        let next = match headers.get("x-next-page") {
            None => return Ok(out),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .ok_or_else(|| ListError::malformed(path, "X-Next-Page is not a number"))?,
        };
        if next <= page {
            return Ok(out);
        }
        page = next;
    }
    Err(ListError::malformed(
        path,
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// Health of a Traefik service from its `serverStatus` (`UP` or `DOWN` per server URL).
pub fn service_health(name: &str, service: &Value) -> Option<GatewayHealth> {
    let statuses = service.get("serverStatus")?.as_object()?;
    let total = statuses.len() as u32;
    let up = statuses
        .values()
        .filter(|s| s.as_str() == Some("UP"))
        .count() as u32;
    Some(GatewayHealth {
        healthy: up > 0,
        healthy_upstreams: up,
        upstreams: total,
        detail: format!("service {name}: {up}/{total} servers up"),
    })
}

/// An entry point's port (`:8443`, `0.0.0.0:443/tcp`) and whether it terminates TLS.
fn entrypoint(ep: &Value) -> (Option<u16>, bool) {
    let port = text(ep, "address")
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok());
    let tls = ep.get("http").and_then(|h| h.get("tls")).is_some();
    (port, tls)
}

/// The service a router names, by its full name (`whoami@docker`): a name without a
/// provider takes the router's.
fn service_key(router_name: &str, service: &str) -> String {
    if service.contains('@') {
        service.to_owned()
    } else {
        match router_name.split_once('@') {
            Some((_, provider)) => format!("{service}@{provider}"),
            None => service.to_owned(),
        }
    }
}

/// A router (or one alternative of its rule) left out: its name and why.
pub type Skipped = (String, String);

/// Routes of Traefik's `routers`, with health from `services` and schemes and ports from
/// `entrypoints`; routes without `Host()` are reached at `api_host`. Also the routers (or
/// their alternatives) left out, with why.
pub fn build(
    routers: &[Value],
    services: &[Value],
    entrypoints: &[Value],
    api_host: &str,
) -> Result<(Vec<Route>, Vec<Skipped>), ListError> {
    let mut health = HashMap::new();
    for service in services {
        let name = text(service, "name")
            .ok_or_else(|| ListError::malformed("/api/http/services", "a service has no name"))?;
        if let Some(h) = service_health(name, service) {
            health.insert(name.to_owned(), h);
        }
    }
    let mut points = HashMap::new();
    for ep in entrypoints {
        let name = text(ep, "name").ok_or_else(|| {
            ListError::malformed("/api/entrypoints", "an entry point has no name")
        })?;
        points.insert(name.to_owned(), entrypoint(ep));
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for router in routers {
        let name = text(router, "name")
            .ok_or_else(|| ListError::malformed("/api/http/routers", "a router has no name"))?;
        let provider = text(router, "provider").unwrap_or("");
        if provider == "internal" {
            skipped.push((name.to_owned(), "Traefik's own router".to_owned()));
            continue;
        }
        if text(router, "status").is_some_and(|s| s != "enabled") {
            skipped.push((name.to_owned(), "not enabled".to_owned()));
            continue;
        }
        let Some(rule) = text(router, "rule") else {
            skipped.push((name.to_owned(), "no rule".to_owned()));
            continue;
        };
        let alternatives = match traefik_rule::parse(rule) {
            Ok(a) => a,
            Err(e) => {
                skipped.push((name.to_owned(), e.to_string()));
                continue;
            }
        };
        let entry = router
            .get("entryPoints")
            .and_then(Value::as_array)
            .and_then(|eps| eps.first())
            .and_then(Value::as_str);
        let (port, ep_tls) = entry
            .and_then(|e| points.get(e).copied())
            .unwrap_or((None, false));
        let scheme = if router.get("tls").is_some() || ep_tls {
            "https"
        } else {
            "http"
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        let service = text(router, "service").map(|s| service_key(name, s));
        let mut tags = vec![format!("traefik.router={name}")];
        if !provider.is_empty() {
            tags.push(format!("traefik.provider={provider}"));
        }
        if let Some(e) = entry {
            tags.push(format!("traefik.entrypoint={e}"));
        }
        for alt in alternatives {
            if let Some(reason) = alt.skip {
                skipped.push((name.to_owned(), reason));
                continue;
            }
            let host = alt.host.as_deref().unwrap_or(api_host);
            let path = alt.path.as_ref().map_or("/", PathMatch::path);
            let mut r = Route::new(&format!("{name}/{host}{path}"), scheme, host, path);
            if let Some(p) = port.filter(|p| *p != default_port) {
                r.base = Some(format!("{scheme}://{host}:{p}"));
            }
            r.service = service.clone();
            r.health = service.as_ref().and_then(|s| health.get(s).cloned());
            r.tags = tags.clone();
            if !alt.methods.is_empty() {
                r.tags
                    .push(format!("traefik.methods={}", alt.methods.join(",")));
            }
            out.push(r);
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::Router;
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use serde_json::json;
    use vedette_model::discovery::DiscoverySourceSpec;

    use super::*;

    /// Recorded Traefik v3.3 API answers (each file cites the version in its `_fixture`
    /// field; the stand-in serves the `items`).
    const ROUTERS_1: &str = include_str!("../../../tests/fixtures/traefik/routers-page1.json");
    const ROUTERS_2: &str = include_str!("../../../tests/fixtures/traefik/routers-page2.json");
    const SERVICES: &str = include_str!("../../../tests/fixtures/traefik/services.json");
    const ENTRYPOINTS: &str = include_str!("../../../tests/fixtures/traefik/entrypoints.json");

    fn items(fixture: &str) -> String {
        let v: Value = serde_json::from_str(fixture).unwrap();
        v["items"].to_string()
    }

    /// A stand-in Traefik API: routers on two pages with `X-Next-Page` as Traefik sets it
    /// (the next page, `1` on the last); `mode` `truncated` cuts the second page in half.
    async fn answer(
        State(mode): State<&'static str>,
        uri: Uri,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        let page = q.get("page").map(String::as_str).unwrap_or("1");
        let (body, next) = match (uri.path(), page) {
            ("/api/http/routers", "1") => (items(ROUTERS_1), "2"),
            ("/api/http/routers", "2") if mode == "truncated" => {
                let full = items(ROUTERS_2);
                (full[..full.len() / 2].to_owned(), "1")
            }
            ("/api/http/routers", "2") => (items(ROUTERS_2), "1"),
            ("/api/http/services", "1") => (items(SERVICES), "1"),
            ("/api/entrypoints", "1") => (items(ENTRYPOINTS), "1"),
            _ => return StatusCode::BAD_REQUEST.into_response(),
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-next-page", next.parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        (StatusCode::OK, headers, body).into_response()
    }

    async fn list_from_stand_in(mode: &'static str) -> Result<Vec<Route>, ListError> {
        let app = Router::new().fallback(answer).with_state(mode);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let spec: DiscoverySourceSpec = serde_json::from_value(json!({
            "type": "traefik",
            "connection": {"url": format!("http://{addr}"), "timeout": "5s"}
        }))
        .unwrap();
        let gateway = Gateway::connect(&spec).unwrap();
        let listed = Traefik.list(&gateway).await;
        server.abort();
        listed
    }

    #[tokio::test]
    async fn lists_every_page_with_schemes_ports_and_server_health() {
        let routes = list_from_stand_in("good").await.unwrap();
        let keys: Vec<&str> = routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "shop@docker/shop.example.com/api",
                "shop@docker/shop.example.com/v2/orders",
                "checkout@file/pay.example.com/checkout",
                "metrics@file/127.0.0.1/metrics",
                "whoami@docker/whoami.example.com/",
            ]
        );
        let shop = &routes[0];
        assert_eq!(shop.scheme, "https");
        assert_eq!(shop.base, None);
        assert_eq!(shop.service.as_deref(), Some("shop@docker"));
        let health = shop.health.as_ref().unwrap();
        assert_eq!((health.healthy_upstreams, health.upstreams), (1, 2));
        assert!(health.healthy);
        assert!(shop.tags.contains(&"traefik.methods=GET".to_owned()));
        assert!(shop.tags.contains(&"traefik.provider=docker".to_owned()));
        let checkout = &routes[2];
        assert_eq!(checkout.scheme, "https");
        assert!(!checkout.health.as_ref().unwrap().healthy);
        let metrics = &routes[3];
        assert_eq!(metrics.scheme, "http");
        assert_eq!(metrics.base.as_deref(), Some("http://127.0.0.1:8082"));
        assert_eq!(routes[4].scheme, "http");
        assert_eq!(routes[4].path, "/");
    }

    #[tokio::test]
    async fn a_truncated_page_fails_the_whole_listing() {
        let err = list_from_stand_in("truncated").await.unwrap_err();
        assert!(matches!(err, ListError::Malformed { .. }), "{err}");
    }

    #[test]
    fn left_out_routers_say_why_and_garbage_is_an_error() {
        let routers: Vec<Value> = serde_json::from_str::<Value>(ROUTERS_1).unwrap()["items"]
            .as_array()
            .unwrap()
            .clone();
        let (_, skipped) = build(&routers, &[], &[], "h").unwrap();
        let reasons: Vec<&str> = skipped.iter().map(|(_, r)| r.as_str()).collect();
        assert!(reasons.contains(&"Traefik's own router"), "{reasons:?}");
        assert!(
            reasons.contains(&"HostRegexp() gives no URL to check"),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.starts_with("rule: ")),
            "{reasons:?}"
        );
        assert!(build(&[json!({"rule": "Path(`/`)"})], &[], &[], "h").is_err());
        assert!(build(&[], &[json!({"serverStatus": {}})], &[], "h").is_err());
    }
}
