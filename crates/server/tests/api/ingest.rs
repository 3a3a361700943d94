//! Passive health from Kong: a Kong discovery source (against a stand-in Admin API serving
//! the recorded Kong 3.9 answers) labels its monitors with their Kong route ids; the Vedette
//! plugin's batches and Kong's `http-log` payloads (one object, an array) then land on those
//! monitors' `status.passive`; unknown routes are counted and reported and create nothing;
//! bad payloads are 422 naming the field; too many entries are 429.

use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::common::{Kind, Server, serve_on_loopback};

api_tests!(
    kong_plugin_batches_and_http_log_reach_discovered_monitors,
    bad_reports_are_refused_naming_the_field,
);

const SERVICES: &str = include_str!("../fixtures/kong/services.json");
const ROUTES_1: &str = include_str!("../fixtures/kong/routes-page1.json");
const ROUTES_2: &str = include_str!("../fixtures/kong/routes-page2.json");
const UPSTREAMS: &str = include_str!("../fixtures/kong/upstreams.json");
const HEALTH: &str = include_str!("../fixtures/kong/upstream-health.json");

/// The `orders-api` route of the fixtures: two paths, so two monitors.
const ORDERS: &str = "a1000000-0000-4000-8000-000000000001";
/// The `payments` route.
const PAYMENTS: &str = "a1000000-0000-4000-8000-000000000002";
/// A route Kong never listed.
const GHOST: &str = "ffffffff-0000-4000-8000-00000000dead";

/// A stand-in Kong Admin API answering with the recorded fixtures.
async fn kong(uri: Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    let body = match (uri.path(), q.get("offset").map(String::as_str)) {
        ("/services", None) => SERVICES,
        ("/routes", None) => ROUTES_1,
        ("/routes", Some("WyJyb3V0ZS0yIl0")) => ROUTES_2,
        ("/upstreams", None) => UPSTREAMS,
        ("/upstreams/9b6e3a30-2c57-4a5e-9d2b-5b4f0c1f7a01/health", None) => HEALTH,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (StatusCode::OK, body).into_response()
}

/// A plugin aggregate of `requests` requests, `errors` of them 5xx, all in the 25 ms bucket.
fn plugin_route(id: &str, requests: u64, errors: u64) -> Value {
    let bounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
    let mut buckets: Vec<Value> = bounds
        .iter()
        .map(|le| json!({"le": le, "count": if *le == 25 { requests } else { 0 }}))
        .collect();
    buckets.push(json!({"le": "+Inf", "count": 0}));
    json!({
        "route_id": id,
        "route_name": "r",
        "requests": requests,
        "errors_5xx": errors,
        "error_ratio_5xx": errors as f64 / requests as f64,
        "latency_sum_ms": 20.0 * requests as f64,
        "latency_buckets_ms": buckets,
    })
}

/// One request as Kong 3.9's `http-log` logs it (the fields of its documented example).
fn http_log(route: Option<&str>, status: u16, latency: u64) -> Value {
    let mut entry = json!({
        "request": {"method": "GET", "uri": "/orders", "url": "http://shop.example.com:8000/orders",
                    "size": 86, "querystring": {}, "headers": {"host": "shop.example.com"}},
        "upstream_uri": "/orders",
        "response": {"status": status, "size": 934, "headers": {"content-type": "application/json"}},
        "tries": [{"balancer_latency": 0, "port": 80, "ip": "10.0.0.7"}],
        "latencies": {"kong": 1, "proxy": latency.saturating_sub(1), "request": latency, "receive": 0},
        "client_ip": "127.0.0.1",
        "started_at": 1_764_300_000_000_u64,
        "service": {"id": "1f0c3a8e-6d2b-4f5e-8a90-3c1b2d4e5f01", "name": "orders", "host": "orders-upstream"},
        "workspace": "0a4b8b3c-3f3e-4f0e-8f1e-1a2b3c4d5e6f",
    });
    if let Some(id) = route {
        entry["route"] = json!({"id": id, "name": "orders-api", "paths": ["/orders"]});
    }
    entry
}

async fn discover(server: &Server) -> Vec<Value> {
    let (addr, _stop) = serve_on_loopback(Router::new().fallback(kong)).await;
    let created = server
        .put(
            "/discovery-sources/kong",
            &json!({"spec": {
                "type": "kong",
                "connection": {"url": format!("http://{addr}"), "timeout": "5s"},
                "interval": "1h",
                "template": {"url": "http://127.0.0.1:9{path}", "interval": "1h"},
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let run = server.post("/discovery-sources/kong/run", &json!({})).await;
    assert_eq!(run.status, 200, "{:#}", run.body);
    let list = server
        .get("/monitors?selector=discovered-by%3Dkong&limit=100")
        .await;
    assert_eq!(list.status, 200, "{:#}", list.body);
    list.body["items"].as_array().expect("items").clone()
}

fn ids_of_route(monitors: &[Value], route: &str) -> Vec<String> {
    monitors
        .iter()
        .filter(|m| m["labels"]["kong-route-id"] == route)
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn passive(server: &Server, id: &str) -> Value {
    let m = server.get(&format!("/monitors/{id}")).await;
    assert_eq!(m.status, 200, "{:#}", m.body);
    m.body["status"]["passive"].clone()
}

async fn kong_plugin_batches_and_http_log_reach_discovered_monitors(kind: Kind) {
    let server = Server::start(kind).await;
    let monitors = discover(&server).await;
    let orders = ids_of_route(&monitors, ORDERS);
    assert_eq!(orders.len(), 2, "orders-api has two paths: {monitors:#?}");
    let payments = ids_of_route(&monitors, PAYMENTS);
    assert_eq!(payments.len(), 1);
    assert_eq!(passive(&server, &orders[0]).await, Value::Null);

    let batch = json!({
        "source": "vedette-kong-plugin", "version": "0.1.0", "at": 1_764_300_000.5, "dropped": 3,
        "routes": [plugin_route(ORDERS, 10, 2), plugin_route(GHOST, 4, 0)],
    });
    let resp = server.post("/ingest/kong", &batch).await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    assert_eq!(
        resp.body,
        json!({"entries": 2, "matched": 1, "monitors": 2, "unknown": 1, "unknown_route_ids": [GHOST]})
    );
    for id in &orders {
        let p = passive(&server, id).await;
        assert_eq!(p["requests"], 10, "{p:#}");
        assert_eq!(p["errors_5xx"], 2);
        assert_eq!(p["error_ratio_5xx"], 0.2);
        assert_eq!(p["latency_avg_ms"], 20.0);
        assert_eq!(p["latency_p50_ms"], 25.0);
        assert_eq!(p["reported_by"], "kong-plugin");
        assert_eq!(p["window_seconds"], 300);
        assert_eq!(p["latency_buckets_ms"].as_array().unwrap().len(), 12);
    }
    assert_eq!(passive(&server, &payments[0]).await, Value::Null);

    // Kong's http-log: one object, then a batch (its queue's max_batch_size above 1).
    let one = server
        .post("/ingest/kong-http-log", &http_log(Some(PAYMENTS), 502, 120))
        .await;
    assert_eq!(one.status, 200, "{:#}", one.body);
    assert_eq!(one.body["matched"], 1);
    let many = json!([
        http_log(Some(PAYMENTS), 200, 8),
        http_log(Some(ORDERS), 200, 3),
        http_log(None, 404, 1),
        http_log(Some(GHOST), 200, 1),
    ]);
    let resp = server.post("/ingest/kong-http-log", &many).await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    assert_eq!(
        resp.body,
        json!({"entries": 4, "matched": 2, "monitors": 3, "unknown": 2,
               "unknown_route_ids": ["(none)", GHOST]})
    );
    let p = passive(&server, &payments[0]).await;
    assert_eq!(
        (p["requests"].as_u64(), p["errors_5xx"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(p["reported_by"], "kong-http-log");
    assert_eq!(p["latency_avg_ms"], 64.0);
    assert_eq!(passive(&server, &orders[1]).await["requests"], 11);

    // Unknown routes created nothing, and the totals say what came in.
    assert_eq!(discover_count(&server).await, monitors.len());
    let totals = server.get("/ingest/kong").await;
    assert_eq!(totals.status, 200, "{:#}", totals.body);
    assert_eq!(totals.body["reports"], 3);
    assert_eq!(totals.body["entries"], 7);
    assert_eq!(totals.body["unknown"], 3);
    assert_eq!(totals.body["dropped_by_plugin"], 3);
    assert_eq!(totals.body["unknown_route_ids"], json!([GHOST, "(none)"]));

    // A batch with nothing aggregated: Lua's cjson writes its empty routes as `{}`.
    let empty = server
        .post(
            "/ingest/kong",
            &json!({"source": "vedette-kong-plugin", "dropped": 0, "routes": {}}),
        )
        .await;
    assert_eq!(empty.status, 200, "{:#}", empty.body);
    assert_eq!(empty.body["entries"], 0);

    // All reports together are held to the entry rate: a burst of full reports ends in 429.
    let full: Vec<Value> = (0..5000)
        .map(|_| json!({"route": {"id": GHOST}, "response": {"status": 200}, "latencies": {"request": 1}}))
        .collect();
    let full = Value::Array(full);
    let mut refused = None;
    for _ in 0..10 {
        let resp = server.post("/ingest/kong-http-log", &full).await;
        if resp.status == 429 {
            refused = Some(resp);
            break;
        }
        assert_eq!(resp.status, 200, "{:#}", resp.body);
    }
    let refused = refused.expect("50,000 entries at once were all taken");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        refused.body["type"],
        "https://vedette.dev/problems/rate-limited"
    );
    server.finish().await;
}

async fn discover_count(server: &Server) -> usize {
    let list = server.get("/monitors?limit=500").await;
    list.body["items"].as_array().expect("items").len()
}

async fn bad_reports_are_refused_naming_the_field(kind: Kind) {
    let server = Server::start(kind).await;
    let mut wrong_count = plugin_route(ORDERS, 10, 2);
    wrong_count["latency_buckets_ms"][0]["count"] = json!(1);
    let mut wrong_bound = plugin_route(ORDERS, 10, 2);
    wrong_bound["latency_buckets_ms"][11]["le"] = json!(20000);
    let batch = |route: Value| json!({"source": "vedette-kong-plugin", "routes": [plugin_route(PAYMENTS, 1, 0), route]});
    for (body, field) in [
        (batch(plugin_route(ORDERS, 2, 3)), "routes[1].errors_5xx"),
        (batch(plugin_route(ORDERS, 0, 0)), "routes[1].requests"),
        (batch(plugin_route("", 1, 0)), "routes[1].route_id"),
        (batch(wrong_count), "routes[1].latency_buckets_ms"),
        (batch(wrong_bound), "routes[1].latency_buckets_ms[11].le"),
        (batch(json!({"route_id": ORDERS})), "routes[1]"),
        (json!({"source": "http-log", "routes": []}), "source"),
        (
            json!({"source": "vedette-kong-plugin", "routes": "all"}),
            "routes",
        ),
    ] {
        let resp = server.post("/ingest/kong", &body).await;
        assert_eq!(resp.error_fields(), [field], "{:#}", resp.body);
    }
    let mut no_status = http_log(Some(ORDERS), 200, 1);
    no_status["response"] = json!({"size": 1});
    let mut negative = http_log(Some(ORDERS), 200, 1);
    negative["latencies"]["request"] = json!(-5);
    for (body, field) in [
        (
            json!([http_log(Some(ORDERS), 200, 1), no_status]),
            "[1].response",
        ),
        (json!([negative]), "[0].latencies.request"),
        (json!("GET /orders 200"), "body"),
    ] {
        let resp = server.post("/ingest/kong-http-log", &body).await;
        assert_eq!(resp.error_fields(), [field], "{:#}", resp.body);
    }
    let too_many = Value::Array(vec![http_log(None, 200, 1); 5001]);
    let resp = server.post("/ingest/kong-http-log", &too_many).await;
    // Over 1 MiB before it is over 5,000 entries: the body cap answers first.
    assert_eq!(resp.status, 413, "{:#}", resp.body);
    let too_many = Value::Array(vec![
        json!({"response": {"status": 200}, "latencies": {"request": 1}});
        5001
    ]);
    let resp = server.post("/ingest/kong-http-log", &too_many).await;
    assert_eq!(resp.error_fields(), ["body"], "{:#}", resp.body);
    server.finish().await;
}
