//! NGINX Plus discovery against its REST API version 9 as recorded in
//! `tests/fixtures/nginx-plus/` (NGINX Plus R33 response shapes; NGINX Plus is commercial and
//! cannot run here), served by a local stand-in that wants HTTP Basic credentials. Zones
//! become monitors with their upstream's peer health; an error, a timeout, garbage, a
//! truncated or a huge answer fails the run, deletes nothing, and the password appears in
//! no status, preview, event or log line.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::{Kind, Server, Target, serve_on_loopback};

const PASSWORD_ENV: &str = "VEDETTE_DISCOVERY_NGINX_PLUS_TEST_PASSWORD";
const PASSWORD: &str = "plus-pass-8e21c4aa90-never-shown";
/// `vedette:` + the password, base64 (what the stand-in wants).
const BASIC: &str = "Basic dmVkZXR0ZTpwbHVzLXBhc3MtOGUyMWM0YWE5MC1uZXZlci1zaG93bg==";

/// A recorded answer without its leading `#` lines (where it cites the API version).
fn fixture(text: &'static str) -> String {
    text.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

const SERVER_ZONES: &str = include_str!("../fixtures/nginx-plus/server_zones.http");
const LOCATION_ZONES: &str = include_str!("../fixtures/nginx-plus/location_zones.http");
const UPSTREAMS: &str = include_str!("../fixtures/nginx-plus/upstreams.http");

const GOOD: u8 = 0;
const ERROR: u8 = 1;
const GARBAGE: u8 = 2;
const TRUNCATED: u8 = 3;
const HUGE: u8 = 4;
const SLOW: u8 = 5;

async fn answer(State(mode): State<Arc<AtomicU8>>, uri: Uri, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(BASIC) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let body = match uri.path() {
        "/api/9/http/server_zones" => fixture(SERVER_ZONES),
        "/api/9/http/location_zones" => fixture(LOCATION_ZONES),
        "/api/9/http/upstreams" => fixture(UPSTREAMS),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match mode.load(Ordering::SeqCst) {
        ERROR => StatusCode::BAD_GATEWAY.into_response(),
        GARBAGE => (StatusCode::OK, "<html>upstream timed out</html>").into_response(),
        TRUNCATED => (StatusCode::OK, body[..body.len() / 2].to_owned()).into_response(),
        HUGE => (StatusCode::OK, " ".repeat(2 << 20) + &body).into_response(),
        SLOW => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::OK, body).into_response()
        }
        _ => (StatusCode::OK, body).into_response(),
    }
}

/// Log lines of every test in this binary, captured once a subscriber is installed.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        struct Sink;
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                logs()
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(|| Sink)
                .with_ansi(false)
                .finish(),
        );
        Mutex::new(Vec::new())
    })
}

async fn run(server: &Server) -> Value {
    let resp = server.post("/discovery-sources/plus/run", &json!({})).await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    resp.body.clone()
}

async fn owned(server: &Server) -> Vec<String> {
    let list = server
        .get("/monitors?selector=discovered-by%3Dplus&limit=100")
        .await;
    let mut ids: Vec<String> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["spec"]["name"].as_str().expect("name").to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_plus_zones_become_monitors_with_peer_health_and_bad_answers_delete_nothing() {
    logs();
    // SAFETY: only this test reads the variable, and it sets it first.
    unsafe { std::env::set_var(PASSWORD_ENV, PASSWORD) };
    let mode = Arc::new(AtomicU8::new(GOOD));
    let (addr, stop) =
        serve_on_loopback(Router::new().fallback(answer).with_state(mode.clone())).await;
    let target = Target::start().await;
    let server = Server::start(Kind::Sqlite).await;
    let created = server
        .put(
            "/discovery-sources/plus",
            &json!({"spec": {
                "type": "nginx-plus",
                "connection": {
                    "url": format!("http://{addr}/api"),
                    "timeout": "2s",
                    "max_bytes": 1_048_576,
                    "credentials": {"basic": {"username": "vedette", "password": {"env": PASSWORD_ENV}}},
                },
                "interval": "1h",
                "grace_period": "0s",
                "template": {
                    "name": "{scheme}://{host}{path}",
                    "url": target.url("/ok"),
                    "interval": "1h",
                    "expected_status": 200,
                },
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let ran = run(&server).await;
    let status = &ran["status"];
    assert_eq!(status["state"], "succeeded", "{ran:#}");
    // `catch_all` and `static_files` do not name where they serve.
    assert_eq!(status["routes_seen"], 3, "{status:#}");
    let kept = owned(&server).await;
    assert_eq!(
        kept,
        [
            "http://admin.internal/",
            "http://shop.example.com/orders",
            "https://shop.example.com/",
        ]
    );
    let health: Vec<(bool, u64, u64)> = status["health"]
        .as_object()
        .expect("health")
        .values()
        .map(|h| {
            (
                h["healthy"].as_bool().expect("healthy"),
                h["healthy_upstreams"].as_u64().expect("count"),
                h["upstreams"].as_u64().expect("count"),
            )
        })
        .collect();
    assert!(health.contains(&(true, 1, 2)), "{health:?}");
    assert!(health.contains(&(false, 0, 1)), "{health:?}");
    assert_eq!(
        health.len(),
        2,
        "admin.internal has no upstream: {health:?}"
    );

    for (m, says) in [
        (ERROR, "answered 502"),
        (GARBAGE, "not JSON"),
        (TRUNCATED, "not JSON"),
        (HUGE, "larger than 1048576 bytes"),
        (SLOW, "took longer than"),
    ] {
        mode.store(m, Ordering::SeqCst);
        let ran = run(&server).await;
        let status = &ran["status"];
        assert_eq!(status["state"], "failed", "{ran:#}");
        let error = status["error"].as_str().expect("error");
        assert!(error.contains(says), "{error}");
        assert_eq!(owned(&server).await, kept, "mode {m}: {error}");
        let preview = server.get("/discovery-sources/plus/preview").await;
        assert!(preview.body["error"].is_string(), "{:#}", preview.body);
        for shown in [preview.body.to_string(), ran.to_string()] {
            assert!(!shown.contains(PASSWORD) && !shown.contains(&BASIC[6..]));
        }
    }
    let events = server.get("/events?type=discovery.failed").await;
    let events = events.body.to_string();
    assert!(events.contains("answered 502"), "{events}");
    assert!(!events.contains(PASSWORD) && !events.contains(&BASIC[6..]));
    let logged = String::from_utf8_lossy(
        &logs()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    assert!(logged.contains("discovery run failed"), "{logged}");
    assert!(!logged.contains(PASSWORD) && !logged.contains(&BASIC[6..]));

    mode.store(GOOD, Ordering::SeqCst);
    let ran = run(&server).await;
    assert_eq!(ran["status"]["state"], "succeeded", "{ran:#}");
    assert_eq!(owned(&server).await, kept);
    server.finish().await;
    stop.cancel();
}
