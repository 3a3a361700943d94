//! AWS API Gateway, through its management API signed with SigV4: REST APIs (v1:
//! `GET /restapis`, `/restapis/{id}/resources`, `/restapis/{id}/stages`, `/domainnames` and
//! their `/basepathmappings`, paged with `position`) and HTTP APIs (v2: `GET /v2/apis`,
//! `/v2/apis/{id}/routes`, `/v2/apis/{id}/stages`, `/v2/domainnames` and their
//! `/apimappings`, paged with `nextToken`). One route per resource or route key, stage and
//! endpoint: the default endpoint `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
//! (an HTTP API's `$default` stage has no stage segment; an API that disables it has none) and
//! each custom domain mapped to the API, `https://{domain}/{base path}`. Paths with
//! parameters (`/pets/{id}`, `{proxy+}`) give no URL and are skipped; WebSocket APIs are left
//! out. The API's and the stage's AWS tags become `key=value` tags; the tag `vedette=off`
//! (or `vedette=on`) also gives the tag `vedette:off` (`vedette:on`), so one AWS tag opts an
//! API or a stage out (or in).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use vedette_model::discovery::Route;

use crate::discovery::source::{Gateway, GatewaySource, ListError};

/// The AWS API Gateway source.
pub struct AwsApiGateway;

/// Most pages followed per collection: a gateway that keeps answering with a token is broken.
const MAX_PAGES: u32 = 1000;

/// One stage of an API: its name and tags.
struct Stage {
    name: String,
    tags: Vec<String>,
}

/// One API, whichever version: its id, name, tags, routes (method list, path) and stages.
struct Api {
    id: String,
    name: String,
    tags: Vec<String>,
    default_endpoint: bool,
    routes: Vec<(String, String)>,
    stages: Vec<Stage>,
}

/// Where a custom domain serves an API: the domain, the base path (empty for the root) and the
/// stage (`None`: callers name the stage after the base path, v1 only).
struct Mapping {
    domain: String,
    base_path: String,
    api: String,
    stage: Option<String>,
}

impl GatewaySource for AwsApiGateway {
    async fn list(&self, gateway: &Gateway) -> Result<Vec<Route>, ListError> {
        let region = gateway.aws_region().ok_or_else(|| {
            ListError::Credential("connection.credentials.aws_sigv4 (required)".into())
        })?;
        let region = region.to_owned();
        let mut apis = Vec::new();
        for api in collection(gateway, "/restapis", &V1).await? {
            apis.push(rest_api(gateway, &api).await?);
        }
        for api in collection(gateway, "/v2/apis", &V2).await? {
            if text(&api, "protocolType") == Some("WEBSOCKET") {
                continue;
            }
            apis.push(http_api(gateway, &api).await?);
        }
        let mut mappings = Vec::new();
        for domain in collection(gateway, "/domainnames", &V1).await? {
            let name = need(&domain, "domainName", "/domainnames")?;
            let path = format!("/domainnames/{}/basepathmappings", segment(name));
            for m in collection(gateway, &path, &V1).await? {
                let base = text(&m, "basePath").unwrap_or("(none)");
                mappings.push(Mapping {
                    domain: name.to_owned(),
                    base_path: if base == "(none)" { "" } else { base }.to_owned(),
                    api: need(&m, "restApiId", "/domainnames/{name}/basepathmappings")?.to_owned(),
                    stage: text(&m, "stage").map(str::to_owned),
                });
            }
        }
        for domain in collection(gateway, "/v2/domainnames", &V2).await? {
            let name = need(&domain, "domainName", "/v2/domainnames")?;
            let path = format!("/v2/domainnames/{}/apimappings", segment(name));
            for m in collection(gateway, &path, &V2).await? {
                let what = "/v2/domainnames/{name}/apimappings";
                let mapping = Mapping {
                    domain: name.to_owned(),
                    base_path: text(&m, "apiMappingKey").unwrap_or("").to_owned(),
                    api: need(&m, "apiId", what)?.to_owned(),
                    stage: Some(need(&m, "stage", what)?.to_owned()),
                };
                // A domain's mappings show in both versions of the API: keep each once.
                if !mappings.iter().any(|k| {
                    k.domain == mapping.domain
                        && k.base_path == mapping.base_path
                        && k.api == mapping.api
                }) {
                    mappings.push(mapping);
                }
            }
        }
        Ok(build(&apis, &mappings, &region))
    }
}

/// A REST API (v1) with its resources and stages.
async fn rest_api(gateway: &Gateway, api: &Value) -> Result<Api, ListError> {
    let id = need(api, "id", "/restapis")?;
    let base = format!("/restapis/{}", segment(id));
    let mut routes = Vec::new();
    for resource in collection(gateway, &format!("{base}/resources"), &V1).await? {
        let path = need(&resource, "path", "/restapis/{id}/resources")?;
        let methods = match resource.get("resourceMethods") {
            Some(Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(ListError::malformed(
                    "/restapis/{id}/resources",
                    "resourceMethods is not an object",
                ));
            }
        };
        if !methods.is_empty() {
            routes.push((methods.join(","), path.to_owned()));
        }
    }
    let stages = page_items(
        &format!("{base}/stages"),
        &gateway.get_json(&format!("{base}/stages")).await?,
        V1.items,
    )?;
    let endpoint = api
        .get("endpointConfiguration")
        .and_then(|e| e.get("types"))
        .and_then(Value::as_array)
        .and_then(|t| t.first())
        .and_then(Value::as_str);
    let mut tags = tags(api.get("tags"));
    if let Some(endpoint) = endpoint {
        tags.push(format!("aws.endpoint={}", endpoint.to_ascii_lowercase()));
    }
    tags.push("aws.api=rest".to_owned());
    let stages = self::stages(&stages, "/restapis/{id}/stages")?;
    Ok(listed_api(api, id, tags, routes, stages))
}

/// An HTTP API (v2) with its routes and stages.
async fn http_api(gateway: &Gateway, api: &Value) -> Result<Api, ListError> {
    let id = need(api, "apiId", "/v2/apis")?;
    let base = format!("/v2/apis/{}", segment(id));
    let mut routes: Vec<(String, String)> = Vec::new();
    for route in collection(gateway, &format!("{base}/routes"), &V2).await? {
        let key = need(&route, "routeKey", "/v2/apis/{id}/routes")?;
        let (method, path) = match key.split_once(' ') {
            Some((method, path)) => (method, path),
            None if key == "$default" => ("ANY", "/"),
            None => {
                return Err(ListError::malformed(
                    "/v2/apis/{id}/routes",
                    "a route key is neither `METHOD /path` nor `$default`",
                ));
            }
        };
        match routes.iter_mut().find(|(_, p)| p == path) {
            Some((methods, _)) => {
                methods.push(',');
                methods.push_str(method);
            }
            None => routes.push((method.to_owned(), path.to_owned())),
        }
    }
    let stages = collection(gateway, &format!("{base}/stages"), &V2).await?;
    let stages = self::stages(&stages, "/v2/apis/{id}/stages")?;
    let mut tags = tags(api.get("tags"));
    tags.push("aws.api=http".to_owned());
    Ok(listed_api(api, id, tags, routes, stages))
}

/// The stages listed at `path`, each with its name and tags.
fn stages(listed: &[Value], path: &str) -> Result<Vec<Stage>, ListError> {
    listed
        .iter()
        .map(|s| {
            Ok(Stage {
                name: need(s, "stageName", path)?.to_owned(),
                tags: tags(s.get("tags")),
            })
        })
        .collect()
}

/// An API of either version from its listing: named after its id when it has no name, its
/// default endpoint on unless the listing disables it.
fn listed_api(
    api: &Value,
    id: &str,
    tags: Vec<String>,
    routes: Vec<(String, String)>,
    stages: Vec<Stage>,
) -> Api {
    Api {
        id: id.to_owned(),
        name: text(api, "name").unwrap_or(id).to_owned(),
        tags,
        default_endpoint: api
            .get("disableExecuteApiEndpoint")
            .and_then(Value::as_bool)
            != Some(true),
        routes,
        stages,
    }
}

/// The routes of `apis` at their default endpoints in `region` and their custom domains.
fn build(apis: &[Api], mappings: &[Mapping], region: &str) -> Vec<Route> {
    let mut out = Vec::new();
    for api in apis {
        let by_name: HashMap<&str, &Stage> =
            api.stages.iter().map(|s| (s.name.as_str(), s)).collect();
        let mut endpoints: Vec<(String, String, &Stage)> = Vec::new();
        if api.default_endpoint {
            let host = format!("{}.execute-api.{region}.amazonaws.com", api.id);
            for stage in &api.stages {
                let prefix = if stage.name == "$default" {
                    String::new()
                } else {
                    format!("/{}", stage.name)
                };
                endpoints.push((host.clone(), prefix, stage));
            }
        }
        for m in mappings.iter().filter(|m| m.api == api.id) {
            let base = if m.base_path.is_empty() {
                String::new()
            } else {
                format!("/{}", m.base_path.trim_matches('/'))
            };
            match &m.stage {
                Some(stage) => {
                    if let Some(stage) = by_name.get(stage.as_str()) {
                        endpoints.push((m.domain.clone(), base, stage));
                    }
                }
                None => {
                    for stage in &api.stages {
                        endpoints.push((m.domain.clone(), format!("{base}/{}", stage.name), stage));
                    }
                }
            }
        }
        for (host, prefix, stage) in &endpoints {
            for (methods, path) in &api.routes {
                if path.contains('{') {
                    continue;
                }
                let full = if prefix.is_empty() {
                    path.clone()
                } else if path == "/" {
                    format!("{prefix}/")
                } else {
                    format!("{prefix}{path}")
                };
                let mut route = Route::new(
                    &format!("{}/{}/{host}{full}", api.id, stage.name),
                    "https",
                    host,
                    &full,
                );
                route.service = Some(api.name.clone());
                route.stage = Some(stage.name.clone());
                let mut tags = api.tags.clone();
                tags.extend(stage.tags.iter().cloned());
                tags.push(format!("aws.methods={methods}"));
                tags.sort();
                tags.dedup();
                route.tags = tags;
                out.push(route);
            }
        }
    }
    out
}

/// AWS tags (`{"team": "shop"}`) as `key=value` tags; `vedette=off|on` also as `vedette:off|on`.
fn tags(tags: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(map)) = tags else {
        return Vec::new();
    };
    let sorted: BTreeMap<&String, &Value> = map.iter().collect();
    let mut out = Vec::new();
    for (key, value) in sorted {
        let value = value.as_str().unwrap_or("");
        if value.is_empty() {
            out.push(key.clone());
        } else {
            out.push(format!("{key}={value}"));
        }
        if key == "vedette" && matches!(value, "on" | "off") {
            out.push(format!("vedette:{value}"));
        }
    }
    out
}

/// How one API version pages a collection: the names of its page size, of its cursor (asked
/// for and answered under the same name) and of its items.
struct Paging {
    size: &'static str,
    cursor: &'static str,
    items: &'static str,
}

/// REST APIs (v1): `?limit=&position=`, items in `item`.
const V1: Paging = Paging {
    size: "limit",
    cursor: "position",
    items: "item",
};

/// HTTP APIs (v2): `?maxResults=&nextToken=`, items in `items`.
const V2: Paging = Paging {
    size: "maxResults",
    cursor: "nextToken",
    items: "items",
};

/// Every item of a collection, page by page through its cursor (500 a page, at most
/// [`MAX_PAGES`] pages).
async fn collection(
    gateway: &Gateway,
    path: &str,
    paging: &Paging,
) -> Result<Vec<Value>, ListError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = format!("{path}?{}=500", paging.size);
        if let Some(c) = &cursor {
            query.push_str(&format!("&{}={}", paging.cursor, query_value(c)));
        }
        let page = gateway.get_json(&query).await?;
        out.extend(page_items(path, &page, paging.items)?);
        match page.get(paging.cursor) {
            None | Some(Value::Null) => return Ok(out),
            Some(Value::String(c)) if !c.is_empty() => cursor = Some(c.clone()),
            Some(Value::String(_)) => return Ok(out),
            Some(_) => {
                return Err(ListError::malformed(
                    path,
                    format!("{} is not a string", paging.cursor),
                ));
            }
        }
    }
    Err(ListError::malformed(
        path,
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// The items of one answer, under `field` (`{"item": [...]}`; an empty collection may leave
/// the field out).
fn page_items(path: &str, page: &Value, field: &str) -> Result<Vec<Value>, ListError> {
    match page.get(field) {
        Some(Value::Array(items)) => Ok(items.clone()),
        None | Some(Value::Null) if page.is_object() => Ok(Vec::new()),
        _ => Err(ListError::malformed(
            path,
            format!("expected an object with `{field}`"),
        )),
    }
}

fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

/// The string `field` of `v`, or a malformed answer to `path`.
fn need<'a>(v: &'a Value, field: &str, path: &str) -> Result<&'a str, ListError> {
    text(v, field)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ListError::malformed(path, format!("an item has no {field}")))
}

/// `value` encoded as one path segment.
fn segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `value` encoded for a query string.
fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::Router;
    use axum::extract::Query;
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use serde_json::json;
    use vedette_model::discovery::DiscoverySourceSpec;

    use super::*;

    /// A stand-in management API whose `/restapis` and `/v2/apis` come in two pages each; it
    /// wants a SigV4 signature of region `eu-west-1`.
    async fn paged(
        uri: Uri,
        headers: HeaderMap,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        let signed = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("/eu-west-1/apigateway/aws4_request"));
        if !signed {
            return StatusCode::FORBIDDEN.into_response();
        }
        let api = |id: &str| json!({"id": id, "name": id});
        let body = match (uri.path(), q.get("position"), q.get("nextToken")) {
            ("/restapis", None, _) => json!({"item": [api("r1")], "position": "p/2=="}),
            ("/restapis", Some(p), _) if p == "p/2==" => json!({"item": [api("r2")]}),
            ("/v2/apis", _, None) => {
                json!({"items": [{"apiId": "h1", "protocolType": "HTTP"}], "nextToken": "t 2"})
            }
            ("/v2/apis", _, Some(t)) if t == "t 2" => {
                json!({"items": [{"apiId": "w1", "protocolType": "WEBSOCKET"}]})
            }
            (p, _, _) if p.ends_with("/resources") => {
                json!({"item": [{"path": "/x", "resourceMethods": {"GET": {}}}]})
            }
            (p, _, _) if p.ends_with("/routes") => json!({"items": [{"routeKey": "GET /x"}]}),
            (p, _, _) if p.starts_with("/v2/") && p.ends_with("/stages") => {
                json!({"items": [{"stageName": "live"}]})
            }
            (p, _, _) if p.ends_with("/stages") => json!({"item": [{"stageName": "live"}]}),
            ("/domainnames", _, _) => json!({}),
            ("/v2/domainnames", _, _) => json!({"items": []}),
            _ => return StatusCode::NOT_FOUND.into_response(),
        };
        (StatusCode::OK, body.to_string()).into_response()
    }

    #[tokio::test]
    async fn every_page_is_followed_and_signed() {
        // SAFETY: only this test reads these variables, and it sets them first.
        unsafe {
            std::env::set_var("VEDETTE_DISCOVERY_AWS_UNIT_KEY", "AKIDUNIT");
            std::env::set_var("VEDETTE_DISCOVERY_AWS_UNIT_SECRET", "unit-secret");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server =
            tokio::spawn(async move { axum::serve(listener, Router::new().fallback(paged)).await });
        let spec: DiscoverySourceSpec = serde_json::from_value(json!({
            "type": "aws-apigateway",
            "connection": {
                "url": format!("http://{addr}"),
                "timeout": "5s",
                "credentials": {"aws_sigv4": {
                    "region": "eu-west-1",
                    "access_key_id": {"env": "VEDETTE_DISCOVERY_AWS_UNIT_KEY"},
                    "secret_access_key": {"env": "VEDETTE_DISCOVERY_AWS_UNIT_SECRET"}
                }}
            }
        }))
        .unwrap();
        let listed = AwsApiGateway.list(&Gateway::connect(&spec).unwrap()).await;
        server.abort();
        let keys: Vec<String> = listed.unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "r1/live/r1.execute-api.eu-west-1.amazonaws.com/live/x",
                "r2/live/r2.execute-api.eu-west-1.amazonaws.com/live/x",
                "h1/live/h1.execute-api.eu-west-1.amazonaws.com/live/x",
            ]
        );
    }

    fn stage(name: &str) -> Stage {
        Stage {
            name: name.to_owned(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn invoke_urls_follow_stages_and_custom_domains() {
        let apis = [
            Api {
                id: "a1b2c3".into(),
                name: "shop".into(),
                tags: vec!["team=shop".into()],
                default_endpoint: true,
                routes: vec![
                    ("GET".into(), "/".into()),
                    ("GET,POST".into(), "/orders".into()),
                    ("GET".into(), "/orders/{id}".into()),
                ],
                stages: vec![stage("prod")],
            },
            Api {
                id: "h77".into(),
                name: "pets".into(),
                tags: Vec::new(),
                default_endpoint: false,
                routes: vec![("GET".into(), "/pets".into())],
                stages: vec![stage("$default")],
            },
        ];
        let mappings = [
            Mapping {
                domain: "api.example.com".into(),
                base_path: "shop".into(),
                api: "a1b2c3".into(),
                stage: Some("prod".into()),
            },
            Mapping {
                domain: "all.example.com".into(),
                base_path: String::new(),
                api: "a1b2c3".into(),
                stage: None,
            },
            Mapping {
                domain: "pets.example.com".into(),
                base_path: String::new(),
                api: "h77".into(),
                stage: Some("$default".into()),
            },
        ];
        let urls: Vec<String> = build(&apis, &mappings, "eu-west-1")
            .iter()
            .map(|r| format!("{}://{}{}", r.scheme, r.host, r.path))
            .collect();
        assert_eq!(
            urls,
            [
                "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/",
                "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/orders",
                "https://api.example.com/shop/",
                "https://api.example.com/shop/orders",
                "https://all.example.com/prod/",
                "https://all.example.com/prod/orders",
                "https://pets.example.com/pets",
            ]
        );
    }

    #[test]
    fn tags_opt_out_and_garbage_is_an_error() {
        let t = tags(Some(&json!({"vedette": "off", "team": "shop", "bare": ""})));
        assert_eq!(t, ["bare", "team=shop", "vedette=off", "vedette:off"]);
        assert!(page_items("/restapis", &json!([1, 2]), V1.items).is_err());
        assert!(page_items("/restapis", &json!({"item": "x"}), V1.items).is_err());
        assert!(need(&json!({"name": "x"}), "id", "/restapis").is_err());
    }
}
