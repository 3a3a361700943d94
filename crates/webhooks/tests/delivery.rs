//! The delivery engine against real receivers on 127.0.0.1 and a real store: SQLite in a
//! temporary directory, and PostgreSQL too when `VEDETTE_TEST_POSTGRES_URL` names a server
//! (`scripts/with-postgres cargo test -p vedette-webhooks` provides one).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tokio_util::sync::CancellationToken;
use vedette_model::event::EVENT_VERSION;
use vedette_model::webhook::{Auth, EndpointSpec, HeaderValueSpec, IntegrationRef, Secret};
use vedette_model::{Event, EventType, MonitorSpec, Record};
use vedette_store::{
    MessageFilter, MessageStatus, MonitorRecord, NewWebhookMessage, Store, StoreConfig,
    WebhookMessage,
};
use vedette_webhooks::{Dispatcher, DispatcherConfig, EndpointRules, RetryPolicy};

#[path = "../../store/tests/support/postgres.rs"]
mod postgres;
mod support;
use support::{config, fast_retry, put_endpoint, sqlite_store};

// ---------------------------------------------------------------------------------------------
// Harness

/// One database for one test.
struct TestDb {
    store: Store,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    async fn drop_pg(self) {
        self.store.close().await;
        if let Some((server, name)) = &self.pg {
            postgres::drop_database(server, name).await;
        }
    }
}

/// SQLite always; PostgreSQL as well when the environment names a server.
async fn databases() -> Vec<TestDb> {
    let mut out = Vec::new();
    let (store, dir) = sqlite_store().await;
    out.push(TestDb {
        store,
        _dir: dir,
        pg: None,
    });
    if let Ok(server) = std::env::var("VEDETTE_TEST_POSTGRES_URL") {
        let name = format!("vedette_wh_{:016x}", rand_u64());
        let url = postgres::create_database(&server, &name).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&StoreConfig {
            data_dir: dir.path().join("data"),
            database_url: Some(url),
        })
        .await
        .expect("open PostgreSQL store");
        out.push(TestDb {
            store,
            _dir: dir,
            pg: Some((server, name)),
        });
    }
    out
}

fn rand_u64() -> u64 {
    use rand::RngExt;
    rand::rng().random()
}

/// Runs `case` on every database.
macro_rules! on_every_db {
    ($case:ident) => {
        for db in databases().await {
            $case(&db.store).await;
            db.drop_pg().await;
        }
    };
}

/// One request a receiver saw.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Received {
    fn webhook_id(&self) -> String {
        self.headers["webhook-id"].to_str().expect("id").to_owned()
    }
    fn event_id(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).expect("JSON body");
        v["id"].as_str().expect("event id").to_owned()
    }
}

/// A receiver on 127.0.0.1 whose answer can be changed while it runs.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    /// Requests that reached the handler, counted before its delay.
    arrived: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    retry_after: Arc<Mutex<Option<String>>>,
    stop: CancellationToken,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::serve(listener).await
    }

    /// A receiver that answers every request with `status` until told otherwise.
    async fn answering(status: u16) -> Receiver {
        let r = Self::start().await;
        r.status.store(status, Ordering::SeqCst);
        r
    }

    async fn start_on(addr: SocketAddr) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("rebind");
        Self::serve(listener).await
    }

    async fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let r = Receiver {
            addr: listener.local_addr().expect("addr"),
            seen: Arc::default(),
            arrived: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::new(AtomicU64::new(0)),
            retry_after: Arc::default(),
            stop: CancellationToken::new(),
        };
        let app = axum::Router::new().fallback(handle).with_state(r.clone());
        let stop = r.stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .ok();
        });
        r
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits up to `timeout` until this receiver has seen at least `count` requests.
    async fn wait_seen(&self, what: &str, count: usize, timeout: Duration) {
        wait_for(what, timeout, || self.seen().len() >= count).await;
    }
}

async fn handle(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    r.arrived.fetch_add(1, Ordering::SeqCst);
    let delay = r.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    r.seen.lock().expect("lock").push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
        at: Instant::now(),
    });
    let status = StatusCode::from_u16(r.status.load(Ordering::SeqCst)).expect("status");
    let mut resp = (status, "ok").into_response();
    if status == StatusCode::FOUND {
        resp.headers_mut()
            .insert("location", "/elsewhere".parse().expect("header"));
    }
    if let Some(v) = r.retry_after.lock().expect("lock").take() {
        resp.headers_mut()
            .insert("retry-after", v.parse().expect("header"));
    }
    resp
}

/// Starts a dispatcher; cancel the token to stop it.
fn start(store: &Store, cfg: DispatcherConfig) -> (Dispatcher, CancellationToken) {
    let d = Dispatcher::new(store.clone(), cfg).expect("dispatcher");
    let stop = CancellationToken::new();
    tokio::spawn(d.clone().run(stop.clone()));
    (d, stop)
}

fn event(n: usize, t: EventType, monitor: &str) -> Event {
    Event {
        id: format!("evt_{n:06}_{}", rand_u64()),
        event_type: t,
        version: EVENT_VERSION,
        occurred_at: Utc::now(),
        monitor_id: Some(monitor.to_owned()),
        data: serde_json::json!({"monitor_id": monitor, "monitor_name": monitor, "message": format!("event {n}")}),
    }
}

/// `count` monitor.down events for monitor `m`.
fn down_events(count: usize) -> Vec<Event> {
    (0..count)
        .map(|n| event(n, EventType::MonitorDown, "m"))
        .collect()
}

/// Appends `events` to the store's event log, where the dispatcher picks them up.
async fn append(store: &Store, events: &[Event]) {
    store.append_events(events).await.expect("append events");
}

/// The first `limit` messages queued for `endpoint_id`.
async fn messages_to(store: &Store, endpoint_id: &str, limit: u32) -> Vec<WebhookMessage> {
    list_messages(store, limit, |f| {
        f.endpoint_id = Some(endpoint_id.to_owned())
    })
    .await
}

/// The first `limit` messages that failed for good, on any endpoint.
async fn failed_messages(store: &Store, limit: u32) -> Vec<WebhookMessage> {
    list_messages(store, limit, |f| f.status = Some(MessageStatus::Failed)).await
}

/// The first `limit` messages of those the filter `narrow` leaves.
async fn list_messages(
    store: &Store,
    limit: u32,
    narrow: impl FnOnce(&mut MessageFilter),
) -> Vec<WebhookMessage> {
    let mut filter = MessageFilter {
        limit,
        ..MessageFilter::default()
    };
    narrow(&mut filter);
    store
        .list_webhook_messages(&filter)
        .await
        .expect("messages")
}

async fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_signed_events_to_matching_endpoints() {
    async fn case(store: &Store) {
        let mut monitor =
            MonitorRecord::new("payments-api", MonitorSpec::http("https://p.example/"));
        monitor.labels = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
        store.put_monitor(&monitor).await.expect("monitor");
        let rx = Receiver::start().await;
        let mut monitors_only = EndpointSpec::new(rx.url("/monitors"));
        monitors_only.event_types = vec!["monitor.*".to_owned()];
        let mut payments = EndpointSpec::new(rx.url("/payments"));
        payments.selector = Some("team=payments".to_owned());
        let mut search = EndpointSpec::new(rx.url("/search"));
        search.selector = Some("team=search".to_owned());
        for (id, spec) in [
            ("monitors", &monitors_only),
            ("payments", &payments),
            ("search", &search),
        ] {
            put_endpoint(store, id, spec).await;
        }
        let (_d, stop) = start(store, config(fast_retry(3, Duration::from_millis(100))));
        append(
            store,
            &[
                event(1, EventType::MonitorDown, "payments-api"),
                event(2, EventType::IncidentOpened, "payments-api"),
                event(3, EventType::MonitorUp, "other"),
            ],
        )
        .await;
        rx.wait_seen("4 deliveries", 4, Duration::from_secs(10))
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.cancel();
        let seen = rx.seen();
        let mut by_path: HashMap<String, usize> = HashMap::new();
        for r in &seen {
            *by_path.entry(r.path.clone()).or_default() += 1;
            // Every delivery verifies with the reference Standard Webhooks library.
            let secret = if r.path == "/monitors" {
                &monitors_only.secrets[0]
            } else {
                &payments.secrets[0]
            };
            standardwebhooks::Webhook::new(secret.secret.expose())
                .expect("secret")
                .verify(&r.body, &r.headers)
                .expect("signature verifies");
            assert_eq!(r.headers["content-type"], "application/json");
        }
        // monitor.* gets monitor.down and monitor.up; team=payments gets the two payments events.
        assert_eq!(by_path.get("/monitors"), Some(&2), "{by_path:?}");
        assert_eq!(by_path.get("/payments"), Some(&2), "{by_path:?}");
        assert_eq!(by_path.get("/search"), None);
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_down_then_back_loses_nothing() {
    async fn case(store: &Store) {
        // Reserve a port, then leave it closed: the receiver is down.
        let addr = {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            l.local_addr().expect("addr")
        };
        put_endpoint(
            store,
            "down",
            &EndpointSpec::new(format!("http://{addr}/hook")),
        )
        .await;
        let (_d, stop) = start(store, config(fast_retry(40, Duration::from_millis(150))));
        let events = down_events(30);
        append(store, &events).await;
        // Let several attempts fail.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let failed = messages_to(store, "down", 100).await;
        assert_eq!(failed.len(), 30);
        assert!(
            failed
                .iter()
                .all(|m| m.attempts >= 1 && m.status == MessageStatus::Pending)
        );
        let rx = Receiver::start_on(addr).await;
        wait_for("all 30 events", Duration::from_secs(15), || {
            rx.seen()
                .iter()
                .map(Received::event_id)
                .collect::<HashSet<_>>()
                .len()
                == 30
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
        // Each event arrived under exactly one webhook-id, whatever the repeats.
        let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
        for r in rx.seen() {
            ids.entry(r.event_id()).or_default().insert(r.webhook_id());
        }
        assert_eq!(ids.len(), 30);
        assert!(ids.values().all(|s| s.len() == 1), "{ids:?}");
        let wanted: HashSet<String> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.keys().cloned().collect::<HashSet<_>>(), wanted);
        let log = store
            .list_webhook_attempts(&failed[0].id)
            .await
            .expect("attempts");
        assert!(log.len() >= 2, "failed attempts are logged too");
        assert!(
            log[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("connection")),
            "{:?}",
            log[0].error
        );
        rx.stop.cancel();
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_follow_the_backoff_schedule() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(500).await;
        put_endpoint(store, "e500", &EndpointSpec::new(rx.url("/"))).await;
        let retry = RetryPolicy {
            schedule: [0, 200, 400, 800].map(Duration::from_millis).to_vec(),
            jitter: 0.0,
            max_retry_after: Duration::from_secs(5),
        };
        let (_d, stop) = start(store, config(retry));
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        rx.wait_seen("4 attempts", 4, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        stop.cancel();
        let seen = rx.seen();
        assert_eq!(seen.len(), 4, "the schedule has four attempts");
        let gaps: Vec<u128> = seen
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_millis())
            .collect();
        for (gap, want) in gaps.iter().zip([200u128, 400, 800]) {
            assert!(
                *gap >= want && *gap < want + 400,
                "gaps {gaps:?} do not follow 200/400/800 ms"
            );
        }
        assert!(seen.iter().all(|r| r.webhook_id() == seen[0].webhook_id()));
        let msgs = messages_to(store, "e500", 10).await;
        assert_eq!(msgs[0].status, MessageStatus::Failed);
        assert_eq!(msgs[0].attempts, 4);
        assert_eq!(msgs[0].last_status, Some(500));
        let log = store.list_webhook_attempts(&msgs[0].id).await.expect("log");
        assert_eq!(log.len(), 4);
        assert!(
            log.iter()
                .all(|a| a.response_status == Some(500) && a.outcome == "failure")
        );
        assert_eq!(log[0].response.as_ref().expect("response")["body"], "ok");
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(503).await;
        *rx.retry_after.lock().expect("lock") = Some("1".to_owned());
        put_endpoint(store, "busy", &EndpointSpec::new(rx.url("/"))).await;
        let (_d, stop) = start(store, config(fast_retry(3, Duration::from_millis(50))));
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        rx.wait_seen("first attempt", 1, Duration::from_secs(5))
            .await;
        rx.status.store(200, Ordering::SeqCst);
        rx.wait_seen("second attempt", 2, Duration::from_secs(5))
            .await;
        stop.cancel();
        let seen = rx.seen();
        let gap = seen[1].at - seen[0].at;
        assert!(
            gap >= Duration::from_millis(950),
            "retried after {gap:?}, not after Retry-After: 1"
        );
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(410).await;
        put_endpoint(store, "gone", &EndpointSpec::new(rx.url("/"))).await;
        let (d, stop) = start(store, config(fast_retry(5, Duration::from_millis(50))));
        let mut disabled = d.subscribe_disabled();
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        let note = tokio::time::timeout(Duration::from_secs(5), disabled.recv())
            .await
            .expect("disabled in time")
            .expect("notification");
        assert_eq!(note.endpoint_id, "gone");
        assert!(note.reason.contains("410"), "{}", note.reason);
        let record = store
            .get::<EndpointSpec>("gone")
            .await
            .expect("get")
            .expect("exists");
        assert!(!record.spec.enabled);
        let health = store
            .webhook_endpoint_health("gone")
            .await
            .expect("health")
            .expect("exists");
        assert!(
            health
                .disabled_reason
                .as_deref()
                .is_some_and(|r| r.contains("410"))
        );
        // The disablement is an event in the outbox, written with it.
        let emitted: Vec<Event> = store
            .list_events(None, 100)
            .await
            .expect("events")
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.event_type == EventType::WebhookEndpointDisabled)
            .collect();
        assert_eq!(emitted.len(), 1, "{emitted:?}");
        assert_eq!(emitted[0].data["endpoint_id"], "gone");
        assert!(
            emitted[0].data["reason"]
                .as_str()
                .is_some_and(|r| r.contains("410"))
        );
        // Later events are not delivered to it.
        append(store, &[event(2, EventType::MonitorDown, "m")]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
        assert_eq!(rx.seen().len(), 1, "one attempt, then disabled");
        // Re-enabling through a put clears the disablement.
        let mut spec = record.spec;
        spec.enabled = true;
        let again = store
            .put(&Record::new("gone", spec), None)
            .await
            .expect("put");
        let health = store
            .webhook_endpoint_health("gone")
            .await
            .expect("health")
            .expect("exists");
        assert!(again.spec.enabled && health.disabled_at.is_none());
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_too_long_disables_the_endpoint() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(500).await;
        put_endpoint(store, "flaky", &EndpointSpec::new(rx.url("/"))).await;
        let cfg = DispatcherConfig {
            disable_after: Duration::from_millis(400),
            ..config(fast_retry(50, Duration::from_millis(100)))
        };
        let (d, stop) = start(store, cfg);
        let mut disabled = d.subscribe_disabled();
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        let note = tokio::time::timeout(Duration::from_secs(10), disabled.recv())
            .await
            .expect("disabled in time")
            .expect("notification");
        stop.cancel();
        assert!(
            note.reason.contains("no successful delivery since"),
            "{}",
            note.reason
        );
        let msgs = messages_to(store, "flaky", 10).await;
        assert_eq!(msgs[0].status, MessageStatus::Failed);
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_receiver_does_not_delay_a_fast_one() {
    async fn case(store: &Store) {
        let slow = Receiver::start().await;
        slow.delay_ms.store(3000, Ordering::SeqCst);
        let fast = Receiver::start().await;
        put_endpoint(store, "slow", &EndpointSpec::new(slow.url("/"))).await;
        put_endpoint(store, "fast", &EndpointSpec::new(fast.url("/"))).await;
        let cfg = DispatcherConfig {
            concurrency_per_endpoint: 1,
            ..config(fast_retry(2, Duration::from_secs(10)))
        };
        let (_d, stop) = start(store, cfg);
        let began = Instant::now();
        let events = down_events(10);
        append(store, &events).await;
        wait_for("fast receiver gets all 10", Duration::from_secs(2), || {
            fast.seen().len() == 10
        })
        .await;
        let took = began.elapsed();
        stop.cancel();
        assert!(
            took < Duration::from_secs(2),
            "fast receiver waited {took:?}"
        );
        assert!(
            slow.seen().len() <= 1,
            "the slow one is still on its first request"
        );
        slow.stop.cancel();
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_guard_refuses_loopback() {
    async fn case(store: &Store) {
        let rx = Receiver::start().await;
        put_endpoint(store, "literal", &EndpointSpec::new(rx.url("/"))).await;
        put_endpoint(
            store,
            "named",
            &EndpointSpec::new(format!("http://localhost:{}/", rx.addr.port())),
        )
        .await;
        let cfg = DispatcherConfig {
            ssrf_guard: true,
            ..config(fast_retry(1, Duration::from_millis(50)))
        };
        let (_d, stop) = start(store, cfg);
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        let failed = || failed_messages(store, 10);
        let start_at = Instant::now();
        while failed().await.len() < 2 {
            assert!(
                start_at.elapsed() < Duration::from_secs(10),
                "attempts did not fail"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        assert!(
            rx.seen().is_empty(),
            "nothing reached the loopback receiver"
        );
        for m in failed().await {
            let err = m.last_error.expect("error");
            assert!(err.contains("SSRF guard"), "{err}");
        }
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(302).await;
        put_endpoint(store, "moved", &EndpointSpec::new(rx.url("/hook"))).await;
        let (_d, stop) = start(store, config(fast_retry(1, Duration::from_millis(50))));
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        rx.wait_seen("the attempt", 1, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
        let seen = rx.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, "/hook", "/elsewhere was never requested");
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_log_redacts_secrets_and_replay_keeps_the_id() {
    async fn case(store: &Store) {
        let rx = Receiver::answering(500).await;
        let mut spec = EndpointSpec::new(rx.url("/"));
        spec.auth = Some(Auth::Bearer {
            token: Secret::new("bearer-s3cret"),
        });
        spec.headers.insert(
            "X-Api-Token".to_owned(),
            HeaderValueSpec::Secret {
                secret: Secret::new("header-s3cret"),
            },
        );
        spec.headers.insert(
            "X-Team".to_owned(),
            HeaderValueSpec::Plain("payments".to_owned()),
        );
        put_endpoint(store, "log", &spec).await;
        let (_d, stop) = start(store, config(fast_retry(1, Duration::from_millis(50))));
        append(store, &[event(1, EventType::MonitorDown, "m")]).await;
        rx.wait_seen("the attempt", 1, Duration::from_secs(5)).await;
        let first = rx.seen()[0].clone();
        assert_eq!(first.headers["authorization"], "Bearer bearer-s3cret");
        assert_eq!(first.headers["x-api-token"], "header-s3cret");
        let msg = loop {
            let msgs = failed_messages(store, 1).await;
            if let Some(m) = msgs.into_iter().next() {
                break m;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let log = store.list_webhook_attempts(&msg.id).await.expect("log");
        let text = serde_json::to_string(&log[0].request).expect("json");
        for secret in [
            "bearer-s3cret",
            "header-s3cret",
            spec.secrets[0].secret.expose(),
        ] {
            assert!(!text.contains(secret), "secret in the delivery log: {text}");
        }
        assert_eq!(log[0].request["headers"]["authorization"], "[redacted]");
        assert_eq!(log[0].request["headers"]["X-Team"], "payments");
        assert_eq!(log[0].request["headers"]["webhook-id"], msg.id.as_str());

        // Replay after the receiver recovers: same webhook-id.
        rx.status.store(200, Ordering::SeqCst);
        assert!(
            store
                .replay_webhook_message(&msg.id, Utc::now())
                .await
                .expect("replay")
        );
        rx.wait_seen("the replay", 2, Duration::from_secs(5)).await;
        assert_eq!(rx.seen()[1].webhook_id(), first.webhook_id());
        // Recover every failed message since a time.
        rx.status.store(500, Ordering::SeqCst);
        append(
            store,
            &[
                event(2, EventType::MonitorDown, "m"),
                event(3, EventType::MonitorUp, "m"),
            ],
        )
        .await;
        rx.wait_seen("two more failures", 4, Duration::from_secs(5))
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        rx.status.store(200, Ordering::SeqCst);
        let recovered = store
            .recover_webhook_messages("log", Utc::now() - chrono::Duration::minutes(5), Utc::now())
            .await
            .expect("recover");
        assert_eq!(recovered, 2);
        rx.wait_seen("recovered deliveries", 6, Duration::from_secs(5))
            .await;
        stop.cancel();
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_and_test_events_are_delivered() {
    async fn case(store: &Store) {
        let rx = Receiver::start().await;
        let mut spec = EndpointSpec::new(rx.url("/"));
        spec.url = None;
        spec.integration = Some(IntegrationRef {
            name: "pagerduty".to_owned(),
            params: serde_json::json!({
                "routing_key": "R0ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
                "events_url": rx.url("/v2/enqueue"),
            }),
        });
        spec.validate(
            &vedette_webhooks::Catalog::builtin().expect("catalog"),
            &vedette_webhooks::Engine::default(),
        )
        .expect("valid");
        put_endpoint(store, "pd", &spec).await;
        let (_d, stop) = start(store, config(fast_retry(2, Duration::from_millis(50))));
        let id =
            vedette_webhooks::delivery::enqueue_test_event(store, "pd", EventType::IncidentOpened)
                .await
                .expect("test event");
        rx.wait_seen("the test delivery", 1, Duration::from_secs(5))
            .await;
        // The attempt is logged once its answer is read, a moment after the receiver saw it.
        let mut log = Vec::new();
        for _ in 0..100 {
            log = store.list_webhook_attempts(&id).await.expect("log");
            if !log.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.cancel();
        let r = &rx.seen()[0];
        assert_eq!(r.path, "/v2/enqueue");
        assert_eq!(r.webhook_id(), id);
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["dedup_key"], "inc_01JPAB7Q0N0B2D4F6H8J1L3N5P");
        let text =
            serde_json::to_string(&log.first().expect("attempt logged").request).expect("json");
        assert!(
            !text.contains("R0ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"),
            "secret parameter in the log"
        );
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_fanned_out_once_across_restarts() {
    async fn case(store: &Store) {
        let rx = Receiver::start().await;
        put_endpoint(store, "once", &EndpointSpec::new(rx.url("/"))).await;
        append(store, &down_events(50)).await;
        // Two dispatchers on one store (like two replicas), then a restart.
        let (_a, stop_a) = start(store, config(fast_retry(2, Duration::from_millis(50))));
        let (_b, stop_b) = start(store, config(fast_retry(2, Duration::from_millis(50))));
        rx.wait_seen("50 deliveries", 50, Duration::from_secs(10))
            .await;
        stop_a.cancel();
        stop_b.cancel();
        let (_c, stop_c) = start(store, config(fast_retry(2, Duration::from_millis(50))));
        append(store, &[event(99, EventType::MonitorUp, "m")]).await;
        rx.wait_seen("51 deliveries", 51, Duration::from_secs(10))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop_c.cancel();
        let seen = rx.seen();
        let ids: HashSet<String> = seen.iter().map(Received::event_id).collect();
        assert_eq!(ids.len(), 51);
        assert_eq!(seen.len(), 51, "no event was queued twice");
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_hands_its_claims_to_the_next_dispatcher_at_once() {
    async fn case(store: &Store) {
        let rx = Receiver::start().await;
        rx.delay_ms.store(1000, Ordering::SeqCst);
        let mut spec = EndpointSpec::new(rx.url("/"));
        // A lease of 10 s + 30 s: far longer than the test waits.
        spec.timeout = vedette_model::Duration::from(Duration::from_secs(10));
        put_endpoint(store, "held", &spec).await;
        let cfg = || DispatcherConfig {
            concurrency_per_endpoint: 1,
            ..config(fast_retry(3, Duration::from_secs(60)))
        };
        let first = Dispatcher::new(store.clone(), cfg()).expect("dispatcher");
        let owner = first.owner().to_owned();
        let stop = CancellationToken::new();
        let run = tokio::spawn(first.run(stop.clone()));
        let events = down_events(5);
        append(store, &events).await;
        let all = || async { messages_to(store, "held", 10).await };
        let began = Instant::now();
        loop {
            let msgs = all().await;
            // All five claimed, and the first request reached the receiver (on a busy machine
            // claiming can finish before the request is sent).
            if msgs.len() == 5
                && msgs.iter().all(|m| m.claimed_by.as_ref() == Some(&owner))
                && rx.arrived.load(Ordering::SeqCst) == 1
            {
                break;
            }
            assert!(
                began.elapsed() < Duration::from_secs(5),
                "not claimed: {msgs:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Stop while the first request is in flight: it finishes, nothing more starts.
        stop.cancel();
        run.await.expect("join").expect("run");
        assert_eq!(rx.seen().len(), 1, "one attempt was in flight at the stop");
        let now = Utc::now();
        let msgs = all().await;
        let pending: Vec<_> = msgs
            .iter()
            .filter(|m| m.status == MessageStatus::Pending)
            .collect();
        assert_eq!(pending.len(), 4, "{msgs:?}");
        for m in &pending {
            assert_eq!(m.claimed_by, None, "released: {m:?}");
            assert_eq!(m.attempts, 0);
            assert!(m.next_attempt_at.is_some_and(|t| t <= now), "due: {m:?}");
        }
        assert!(msgs.iter().all(|m| m.claimed_by.is_none()));

        // The next dispatcher delivers them at once, not after the 40 s lease.
        rx.delay_ms.store(0, Ordering::SeqCst);
        let restarted = Instant::now();
        let (second, stop) = start(store, cfg());
        assert_ne!(
            second.owner(),
            owner,
            "each dispatcher has an owner of its own"
        );
        rx.wait_seen("the other four", 5, Duration::from_secs(5))
            .await;
        stop.cancel();
        let took = restarted.elapsed();
        assert!(took < Duration::from_secs(5), "took {took:?}");
        let delivered: HashSet<String> = rx.seen().iter().map(Received::event_id).collect();
        let wanted: HashSet<String> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(delivered, wanted);
        assert_eq!(rx.seen().len(), 5, "none was sent twice");
    }
    on_every_db!(case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_owners_claims_are_left_to_their_lease() {
    async fn case(store: &Store) {
        let rx = Receiver::start().await;
        put_endpoint(store, "shared", &EndpointSpec::new(rx.url("/"))).await;
        let message_id = vedette_webhooks::delivery::new_message_id();
        store
            .enqueue_webhook_message(&NewWebhookMessage {
                id: message_id.clone(),
                endpoint_id: "shared".to_owned(),
                event: event(1, EventType::MonitorDown, "m"),
                first_attempt_at: Utc::now(),
            })
            .await
            .expect("enqueue");
        // A live replica's claim: another dispatcher, stopping or starting, leaves it alone.
        let now = Utc::now();
        let claimed = store
            .claim_webhook_messages(
                "shared",
                "dsp_live_replica",
                now,
                now + chrono::Duration::hours(1),
                10,
            )
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, message_id);
        assert_eq!(claimed[0].claimed_by.as_deref(), Some("dsp_live_replica"));
        let (d, stop) = start(store, config(fast_retry(2, Duration::from_millis(50))));
        assert_eq!(d.release_claims().await.expect("release"), 0);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(rx.seen().is_empty(), "the live claim was not taken");
        // Once its owner is known to be gone and released, it is delivered at once.
        assert_eq!(
            store
                .release_webhook_claims("dsp_live_replica", Utc::now())
                .await
                .expect("release"),
            1
        );
        rx.wait_seen("the released message", 1, Duration::from_secs(5))
            .await;
        stop.cancel();
        assert_eq!(rx.seen()[0].webhook_id(), message_id);
    }
    on_every_db!(case);
}
