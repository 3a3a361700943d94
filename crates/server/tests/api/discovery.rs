//! Discovery sources: the shared resource conventions and validation, runs that create,
//! update and delete only the monitors a source owns, the grace period, dry run and preview,
//! the Prometheus export, and bad gateways (an error, a timeout, garbage, a truncated or a
//! huge listing) that never delete anything nor show the credential, and a hanging gateway
//! that delays no other source's runs. The gateway here is a
//! stand-in serving Envoy's admin answers, so that it can also answer badly; the real Envoy
//! runs in the `gateways` test.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::common::{Kind, Server, http_monitor, serve_on_loopback};

api_tests!(
    discovery_sources_crud_and_validation,
    runs_reconcile_only_owned_monitors_with_a_grace_period,
    bad_gateways_never_delete_and_never_show_the_credential,
    a_hanging_gateway_delays_no_other_source,
);

/// The admin token the stand-in wants, read by the source from this variable.
const TOKEN_ENV: &str = "VEDETTE_DISCOVERY_TEST_TOKEN";
const TOKEN: &str = "tok-3f9a1c7e55d2-never-shown";

fn set_token() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        // SAFETY: set once, before any test of this binary reads it, to the same value.
        unsafe { std::env::set_var(TOKEN_ENV, TOKEN) };
    });
}

/// How the stand-in answers.
const GOOD: u8 = 0;
const ERROR: u8 = 1;
const GARBAGE: u8 = 2;
const TRUNCATED: u8 = 3;
const HUGE: u8 = 4;
const SLOW: u8 = 5;

/// A stand-in Envoy admin: `/config_dump` lists one listener whose virtual host routes the
/// prefixes in `paths` to cluster `api`; `/clusters` reports it healthy.
#[derive(Clone)]
struct Gateway {
    paths: Arc<Mutex<Vec<String>>>,
    mode: Arc<AtomicU8>,
}

impl Gateway {
    fn set_paths(&self, paths: &[&str]) {
        *self.paths.lock().unwrap() = paths.iter().map(|p| (*p).to_owned()).collect();
    }

    fn set_mode(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn dump(&self) -> Value {
        let routes: Vec<Value> = self
            .paths
            .lock()
            .unwrap()
            .iter()
            .map(|p| json!({"match": {"prefix": p}, "route": {"cluster": "api"}}))
            .collect();
        json!({"configs": [{
            "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "static_listeners": [{"listener": {
                "name": "edge",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 18080}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {"route_config": {"name": "local", "virtual_hosts": [
                        {"name": "shop", "domains": ["shop.local"], "routes": routes}
                    ]}}
                }]}]
            }}]
        }]})
    }
}

async fn answer(gateway: &Gateway, headers: &HeaderMap, body: Value) -> Response {
    if headers.get("x-admin-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match gateway.mode.load(Ordering::SeqCst) {
        ERROR => (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response(),
        GARBAGE => (StatusCode::OK, "<html>not json</html>").into_response(),
        TRUNCATED => {
            let text = body.to_string();
            (StatusCode::OK, text[..text.len() / 2].to_owned()).into_response()
        }
        HUGE => (StatusCode::OK, " ".repeat(2 * 1024 * 1024)).into_response(),
        SLOW => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::OK, body.to_string()).into_response()
        }
        _ => (StatusCode::OK, body.to_string()).into_response(),
    }
}

async fn start_gateway() -> (Gateway, String, CancellationToken) {
    let gateway = Gateway {
        paths: Arc::default(),
        mode: Arc::default(),
    };
    let app = Router::new()
        .route(
            "/config_dump",
            get(|State(g): State<Gateway>, h: HeaderMap| async move {
                let dump = g.dump();
                answer(&g, &h, dump).await
            }),
        )
        .route(
            "/clusters",
            get(|State(g): State<Gateway>, h: HeaderMap| async move {
                let clusters = json!({"cluster_statuses": [{"name": "api", "host_statuses": [
                    {"health_status": {"eds_health_status": "HEALTHY"}}]}]});
                answer(&g, &h, clusters).await
            }),
        )
        .with_state(gateway.clone());
    let (addr, stop) = serve_on_loopback(app).await;
    (gateway, format!("http://{addr}"), stop)
}

fn source(url: &str, grace: &str) -> Value {
    json!({
        "labels": {"team": "edge"},
        "spec": {
            "type": "envoy",
            "connection": {
                "url": url,
                "credentials": {"header": {"name": "X-Admin-Token", "value": {"env": TOKEN_ENV}}},
                "timeout": "1s",
                "max_bytes": 65536,
            },
            "interval": "1h",
            "grace_period": grace,
            "template": {"interval": "1h", "expected_status": 200, "labels": {"service": "{service}"}},
        },
    })
}

async fn owned(server: &Server, source: &str) -> Vec<String> {
    let list = server
        .get(&format!(
            "/monitors?selector=discovered-by%3D{source}&limit=500"
        ))
        .await;
    assert_eq!(list.status, 200, "{:#}", list.body);
    let mut ids: Vec<String> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

async fn run(server: &Server, id: &str) -> Value {
    let resp = server
        .post(&format!("/discovery-sources/{id}/run"), &json!({}))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    resp.body
}

async fn discovery_sources_crud_and_validation(kind: Kind) {
    set_token();
    let server = Server::start(kind).await;
    let created = server
        .put(
            "/discovery-sources/edge",
            &source("http://127.0.0.1:9", "0s"),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["spec"]["type"], "envoy");
    assert_eq!(
        created.body["spec"]["connection"]["credentials"]["header"]["value"],
        json!({"env": TOKEN_ENV})
    );
    assert_eq!(created.header("etag"), Some("\"1\""));

    let bad = server
        .post(
            "/discovery-sources",
            &json!({"spec": {
                "type": "gloo",
                "connection": {"url": "ftp://x", "credentials": {"bearer": {"token": {"env": "DATABASE_URL"}}}},
                "interval": "1s",
            }}),
        )
        .await;
    assert_eq!(bad.status, 422, "{:#}", bad.body);
    assert!(
        bad.error_fields().contains(&"spec.type".to_owned()),
        "{:#}",
        bad.body
    );
    let bad = server
        .post(
            "/discovery-sources",
            &json!({"spec": {
                "type": "kong",
                "connection": {"url": "ftp://x", "credentials": {"bearer": {"token": {"env": "DATABASE_URL"}}}},
                "interval": "1s",
                "template": {"url": "{base}{nope}"},
            }}),
        )
        .await;
    assert_eq!(bad.status, 422, "{:#}", bad.body);
    assert_eq!(
        bad.error_fields(),
        [
            "spec.connection.credentials.bearer.token.env",
            "spec.connection.url",
            "spec.interval",
            "spec.template.url"
        ],
        "{:#}",
        bad.body
    );
    let long = server
        .put(
            &format!("/discovery-sources/{}", "s".repeat(64)),
            &source("http://127.0.0.1:9", "0s"),
        )
        .await;
    assert_eq!(long.status, 422, "{:#}", long.body);
    assert_eq!(long.error_fields(), ["id"]);

    // A gateway that cannot be reached fails its runs and says so.
    let mut traefik = source("http://127.0.0.1:9", "0s");
    traefik["spec"]["type"] = json!("traefik");
    server.put("/discovery-sources/traefik", &traefik).await;
    let ran = run(&server, "traefik").await;
    assert_eq!(ran["status"]["state"], "failed");
    assert!(
        !ran["status"]["error"].as_str().unwrap().is_empty(),
        "{:#}",
        ran
    );

    let deleted = server.delete("/discovery-sources/edge").await;
    assert_eq!(deleted.status, 204);
    server.finish().await;
}

async fn runs_reconcile_only_owned_monitors_with_a_grace_period(kind: Kind) {
    set_token();
    let (gateway, url, stop) = start_gateway().await;
    gateway.set_paths(&["/orders", "/carts", "/internal"]);
    let server = Server::start(kind).await;
    // A monitor of someone else with the id the source would give `/orders`: left alone.
    let mut spec = source(&url, "0s");
    spec["spec"]["dry_run"] = json!(true);
    spec["spec"]["filters"] = json!({"exclude": {"paths": ["/internal*"]}});
    server.put("/discovery-sources/edge", &spec).await;

    let preview = server.get("/discovery-sources/edge/preview").await;
    assert_eq!(preview.status, 200, "{:#}", preview.body);
    assert_eq!(preview.body["routes_seen"], 3);
    assert_eq!(preview.body["routes_selected"], 2);
    let planned = preview.body["plan"]["create"].as_array().expect("create");
    assert_eq!(planned.len(), 2);
    let orders = planned
        .iter()
        .find(|d| d["route"] == "edge/shop/prefix:/orders")
        .expect("orders planned");
    assert_eq!(
        orders["spec"]["http"]["url"],
        "http://127.0.0.1:18080/orders"
    );
    assert_eq!(orders["labels"]["discovered-by"], "edge");
    assert_eq!(orders["labels"]["service"], "api");
    let orders_id = orders["id"].as_str().expect("id").to_owned();
    let someone = server
        .put(
            &format!("/monitors/{orders_id}"),
            &http_monitor("http://127.0.0.1:9/", "1h"),
        )
        .await;
    assert_eq!(someone.status, 201, "{:#}", someone.body);

    // Dry run: planned, nothing written.
    let ran = run(&server, "edge").await;
    assert_eq!(ran["status"]["state"], "succeeded", "{ran:#}");
    assert!(owned(&server, "edge").await.is_empty());

    spec["spec"]["dry_run"] = json!(false);
    server.put("/discovery-sources/edge", &spec).await;
    // (The server's own runner may have run it first: what counts is what is stored.)
    let ran = run(&server, "edge").await;
    let status = &ran["status"];
    assert_eq!(status["state"], "succeeded", "{ran:#}");
    assert_eq!(status["conflicts"], json!([orders_id]));
    let first = owned(&server, "edge").await;
    assert_eq!(first.len(), 1);
    let carts = first[0].clone();
    assert!(carts.starts_with("edge-shop-local-carts-"), "{carts}");
    let foreign = server.get(&format!("/monitors/{orders_id}")).await;
    assert_eq!(foreign.body["spec"]["http"]["url"], "http://127.0.0.1:9/");
    assert_eq!(status["health"][&carts]["healthy"], true, "{ran:#}");

    // Unchanged listing: no write (versions stay).
    let before = server.get(&format!("/monitors/{carts}")).await;
    let again = run(&server, "edge").await;
    assert_eq!(
        (
            again["status"]["created"].clone(),
            again["status"]["updated"].clone()
        ),
        (json!(0), json!(0))
    );
    assert!(again["status"].get("missing_since").is_none(), "{again:#}");
    let after = server.get(&format!("/monitors/{carts}")).await;
    assert_eq!(before.body["version"], after.body["version"]);

    // A grace period keeps a missing route's monitor; past it, the monitor goes.
    spec["spec"]["grace_period"] = json!("1s");
    server.put("/discovery-sources/edge", &spec).await;
    gateway.set_paths(&["/orders", "/internal"]);
    let missing = run(&server, "edge").await;
    assert!(
        missing["status"]["missing_since"][&carts].is_string(),
        "{missing:#}"
    );
    assert_eq!(owned(&server, "edge").await, std::slice::from_ref(&carts));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    run(&server, "edge").await;
    assert!(owned(&server, "edge").await.is_empty());
    assert_eq!(
        server.get(&format!("/monitors/{orders_id}")).await.status,
        200
    );

    // The export for Prometheus lists what a source owns.
    gateway.set_paths(&["/carts"]);
    run(&server, "edge").await;
    let sd = server.get("/discovery/http_sd").await;
    assert_eq!(sd.status, 200);
    assert_eq!(
        sd.body,
        json!([{
            "targets": ["http://127.0.0.1:18080/carts"],
            "labels": {
                "__meta_vedette_source": "edge",
                "__meta_vedette_monitor": carts,
                "__meta_vedette_gateway_healthy": "true",
                "__meta_vedette_label_discovered_by": "edge",
                "__meta_vedette_label_service": "api",
            }
        }])
    );
    let events = server.get("/events?type=discovery.completed").await;
    assert!(
        !events.body["items"].as_array().expect("items").is_empty(),
        "{:#}",
        events.body
    );
    server.finish().await;
    stop.cancel();
}

async fn bad_gateways_never_delete_and_never_show_the_credential(kind: Kind) {
    set_token();
    let (gateway, url, stop) = start_gateway().await;
    gateway.set_paths(&["/a", "/b"]);
    let server = Server::start(kind).await;
    server
        .put("/discovery-sources/edge", &source(&url, "0s"))
        .await;
    run(&server, "edge").await;
    let kept = owned(&server, "edge").await;
    assert_eq!(kept.len(), 2);

    for (mode, says) in [
        (ERROR, "answered 503"),
        (GARBAGE, "not JSON"),
        (TRUNCATED, "not JSON"),
        (HUGE, "larger than 65536 bytes"),
        (SLOW, "took longer than"),
    ] {
        gateway.set_mode(mode);
        let ran = run(&server, "edge").await;
        let status = &ran["status"];
        assert_eq!(status["state"], "failed", "{ran:#}");
        let error = status["error"].as_str().expect("error");
        assert!(error.contains(says), "{error}");
        assert_eq!(owned(&server, "edge").await, kept, "mode {mode}: {error}");
        let preview = server.get("/discovery-sources/edge/preview").await;
        assert!(preview.body["error"].is_string(), "{:#}", preview.body);
        assert!(!preview.body.to_string().contains(TOKEN));
        assert!(!ran.to_string().contains(TOKEN));
    }
    gateway.set_mode(GOOD);
    let failed = server.get("/events?type=discovery.failed").await;
    let failed = failed.body["items"].as_array().expect("items").clone();
    assert!(failed.len() >= 4, "{failed:#?}");
    assert!(!Value::Array(failed).to_string().contains(TOKEN));
    let recovered = run(&server, "edge").await;
    assert_eq!(recovered["status"]["state"], "succeeded");
    assert_eq!(owned(&server, "edge").await, kept);
    server.finish().await;
    stop.cancel();
}

/// Runs of different sources are independent: while one gateway hangs (its run holds its
/// source's lock for 6 s), another source's runs, the background runner's and `POST .../run`,
/// finish at once.
async fn a_hanging_gateway_delays_no_other_source(kind: Kind) {
    set_token();
    let (hanging, hanging_url, stop_hanging) = start_gateway().await;
    hanging.set_paths(&["/slow"]);
    hanging.set_mode(SLOW);
    let (fast, fast_url, stop_fast) = start_gateway().await;
    fast.set_paths(&["/a", "/b"]);
    let server = Server::start(kind).await;
    let mut slow_source = source(&hanging_url, "0s");
    slow_source["spec"]["connection"]["timeout"] = json!("6s");
    // Created first and first by id, so a runner taking sources one at a time would wait
    // for it.
    server
        .put("/discovery-sources/a-hanging", &slow_source)
        .await;
    let created = std::time::Instant::now();
    server
        .put("/discovery-sources/b-fast", &source(&fast_url, "0s"))
        .await;

    // The background runner lists both at its next tick; the fast one is done long before
    // the hanging one gives up.
    loop {
        let fast_view = server.get("/discovery-sources/b-fast").await;
        if fast_view.body["status"]["state"] == "succeeded" {
            break;
        }
        assert!(
            created.elapsed() < Duration::from_secs(4),
            "the fast source waited for the hanging one: {:#}",
            fast_view.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(owned(&server, "b-fast").await.len(), 2);
    let hanging_view = server.get("/discovery-sources/a-hanging").await;
    assert_ne!(
        hanging_view.body["status"]["state"], "failed",
        "the hanging source's run should still be waiting: {:#}",
        hanging_view.body
    );

    // An explicit run of the hanging source holds its lock; one of the fast source does not
    // wait for it.
    let slow_run = tokio::spawn(
        server
            .client
            .post(server.url("/discovery-sources/a-hanging/run"))
            .json(&json!({}))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let ran = run(&server, "b-fast").await;
    assert_eq!(ran["status"]["state"], "succeeded", "{ran:#}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the fast source's run took {:?}",
        started.elapsed()
    );
    let slow = slow_run.await.expect("join").expect("slow run answered");
    assert_eq!(slow.status().as_u16(), 200);
    let slow: Value = slow.json().await.expect("json");
    assert_eq!(slow["status"]["state"], "failed", "{slow:#}");
    assert!(
        slow["status"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("took longer than")),
        "{slow:#}"
    );
    server.finish().await;
    stop_hanging.cancel();
    stop_fast.cancel();
}
