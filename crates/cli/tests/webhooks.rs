//! Webhooks through the real binaries: `vedette webhook` commands with `listen` and `verify`
//! against a real `vedette serve`, and the crash tests — kill -9 the server during a burst of
//! events and check after a restart that every message was delivered, and that the messages a
//! killed server had claimed are delivered at once after a restart, not after their lease.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, ok, wait_for, write};

/// Admin token the servers are bootstrapped with.
const ADMIN: &str = "vdt_webhook-test-admin-token-0123456789ab";
/// A fixed, valid signing secret (32 bytes), so a listener can start before the endpoint.
const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn start_server(data: &std::path::Path) -> Server {
    Server::start_with_env(
        data,
        &["--webhook-allow-private"],
        &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)],
    )
}

/// The API with the admin token.
struct Api {
    base: String,
    http: reqwest::blocking::Client,
}

impl Api {
    fn new(server: &Server) -> Api {
        Api {
            base: server.base_url(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(ADMIN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None);
        assert_eq!(status, 200, "GET {path}: {body:#}");
        body
    }

    fn put(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.call(reqwest::Method::PUT, path, Some(body));
        assert!(status == 200 || status == 201, "PUT {path}: {answer:#}");
        answer
    }

    /// How many events the outbox holds.
    fn count_events(&self) -> usize {
        let mut after = 0_u64;
        let mut total = 0;
        loop {
            let page = self.get(&format!("/events?after={after}&limit=1000"));
            let items = page["items"].as_array().unwrap();
            total += items.len();
            match items.last() {
                Some(last) if items.len() == 1000 => after = last["seq"].as_u64().unwrap(),
                _ => return total,
            }
        }
    }
}

/// The `vedette` CLI against `server`, with a config file of its own.
fn cli(server: &Server, dir: &std::path::Path, args: &[&str]) -> Output {
    support::cli(server, ADMIN, dir, args)
}

fn stdout(output: &Output) -> String {
    support::text(&output.stdout)
}

/// `vedette webhook listen`, its port, and its stdout collected line by line.
struct Listen {
    child: Child,
    port: u16,
    out: Arc<Mutex<String>>,
}

impl Listen {
    fn start(args: &[&str]) -> Listen {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(["webhook", "listen", "--port", "0"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Listening for webhooks on http://127.0.0.1:")
                {
                    let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
                    let _ = tx.send(port);
                }
            }
        });
        let out = Arc::new(Mutex::new(String::new()));
        let sink = out.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("listen started");
        Listen { child, port, out }
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn webhook_commands_listen_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("data"));
    let listener = Listen::start(&["--secret", SECRET, "--max", "2"]);
    let file = write(
        dir.path(),
        "hook.yaml",
        &format!(
            "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  id: local\n  labels: {{team: ops}}\nspec:\n  url: http://127.0.0.1:{}/hook\n  secrets: [{{secret: \"{SECRET}\"}}]\n  auth: {{type: bearer, token: hidden-bearer-token}}\n",
            listener.port
        ),
    );
    let created = ok(cli(
        &server,
        dir.path(),
        &["webhook", "create", "-f", file.to_str().unwrap()],
    ));
    assert_eq!(created.trim(), SECRET, "the signing secret is printed once");
    let listed = ok(cli(&server, dir.path(), &["webhook", "list"]));
    assert!(
        listed.contains("local") && listed.contains("/hook"),
        "{listed}"
    );
    let got = ok(cli(
        &server,
        dir.path(),
        &["webhook", "get", "local", "-o", "json"],
    ));
    assert!(
        !got.contains(SECRET) && !got.contains("hidden-bearer-token"),
        "{got}"
    );

    let tested = ok(cli(
        &server,
        dir.path(),
        &["webhook", "test", "local", "--event", "incident.opened"],
    ));
    assert!(tested.contains("success (200"), "{tested}");
    let log: Value = serde_json::from_str(&ok(cli(
        &server,
        dir.path(),
        &["webhook", "deliveries", "local", "-o", "json"],
    )))
    .unwrap();
    let message = &log[0];
    let message_id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(message["status"], "succeeded");
    let table = ok(cli(
        &server,
        dir.path(),
        &["webhook", "deliveries", "local"],
    ));
    assert!(
        table.contains(&message_id) && table.contains("succeeded"),
        "{table}"
    );

    // The logged request verifies with the secret; a changed body does not.
    let request = &message["attempts"][0]["request"];
    assert_eq!(request["headers"]["authorization"], "[redacted]");
    let headers = write(dir.path(), "headers.json", &request["headers"].to_string());
    let body = write(dir.path(), "body.json", request["body"].as_str().unwrap());
    let verify = |body: &std::path::Path| {
        cli(
            &server,
            dir.path(),
            &[
                "webhook",
                "verify",
                "--secret",
                SECRET,
                "--headers",
                headers.to_str().unwrap(),
                "--body",
                body.to_str().unwrap(),
                "--ignore-timestamp",
            ],
        )
    };
    assert!(ok(verify(&body)).starts_with("valid"));
    let tampered = write(dir.path(), "tampered.json", "{\"type\":\"monitor.up\"}");
    let rejected = verify(&tampered);
    assert_eq!(rejected.status.code(), Some(1));
    assert!(stdout(&rejected).contains("invalid: no signature matched"));

    let replayed = ok(cli(
        &server,
        dir.path(),
        &["webhook", "replay", &message_id],
    ));
    assert!(replayed.contains(&message_id), "{replayed}");
    // `--max 2`: the listener stops after the test event and its replay.
    let mut listener = listener;
    wait_for(
        Duration::from_secs(20),
        "listen to stop after 2 deliveries",
        || listener.child.try_wait().unwrap(),
    );
    let printed = listener.output();
    assert_eq!(printed.matches("signature valid").count(), 2, "{printed}");
    assert_eq!(printed.matches(&message_id).count(), 2, "{printed}");
    assert!(
        printed.contains("\"type\": \"incident.opened\""),
        "{printed}"
    );

    ok(cli(&server, dir.path(), &["webhook", "delete", "local"]));
    let gone = cli(&server, dir.path(), &["webhook", "get", "local"]);
    assert!(!gone.status.success());
    assert!(server.stop(), "graceful stop failed");
}

/// A webhook receiver on 127.0.0.1 recording the `webhook-id` of every request.
struct Sink {
    url: String,
    ids: Arc<Mutex<HashSet<String>>>,
    requests: Arc<AtomicU64>,
    /// While set, requests are held unanswered (for at most a minute).
    hold: Arc<AtomicBool>,
    _runtime: tokio::runtime::Runtime,
}

impl Sink {
    fn start() -> Sink {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let ids = Arc::new(Mutex::new(HashSet::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let hold = Arc::new(AtomicBool::new(false));
        let (seen, count, held) = (ids.clone(), requests.clone(), hold.clone());
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            count.fetch_add(1, Ordering::SeqCst);
            let (seen, held) = (seen.clone(), held.clone());
            async move {
                let until = Instant::now() + Duration::from_secs(60);
                while held.load(Ordering::SeqCst) && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if let Some(id) = id {
                    seen.lock().unwrap().insert(id);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .unwrap();
        let url = format!("http://{}/sink", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Sink {
            url,
            ids,
            requests,
            hold,
            _runtime: runtime,
        }
    }

    fn distinct(&self) -> usize {
        self.ids.lock().unwrap().len()
    }
}

/// Events the burst produces (each push flips a monitor: two events).
const TARGET_EVENTS: usize = 10_000;
/// Heartbeat monitors pushed.
const MONITORS: usize = 50;
/// Threads pushing.
const PUSHERS: usize = 4;

#[test]
fn every_event_is_delivered_across_a_kill_9() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sink = Sink::start();
    let server = start_server(&data);
    let api = Api::new(&server);
    api.put(
        "/webhooks/sink",
        &json!({"spec": {"url": sink.url, "timeout": "2s"}}),
    );
    let tokens: Vec<String> = (0..MONITORS)
        .map(|i| format!("crash-test-push-{i:04}"))
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        api.put(
            &format!("/monitors/hb-{i:02}"),
            &json!({"spec": {"heartbeat": {"token": token, "grace": "1h"}, "interval": "1h"}}),
        );
    }
    let setup = started.elapsed();

    // The burst: every push flips its monitor (down, up, down, ...), two events each.
    let pushes_per_monitor = TARGET_EVENTS.div_ceil(2 * MONITORS);
    let burst = Instant::now();
    let base = server.base_url();
    std::thread::scope(|scope| {
        for chunk in tokens.chunks(MONITORS / PUSHERS + 1) {
            let base = base.clone();
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                for round in 0..pushes_per_monitor {
                    let status = if round % 2 == 0 { "down" } else { "up" };
                    for token in chunk {
                        let response = http
                            .post(format!("{base}/push/{token}?status={status}"))
                            .send()
                            .unwrap();
                        assert_eq!(response.status(), 200);
                    }
                }
            });
        }
    });
    let burst_time = burst.elapsed();
    let seen_at_kill = sink.distinct();
    server.crash();
    let killed_at = Instant::now();

    let server = start_server(&data);
    let api = Api::new(&server);
    let delivered_within = Duration::from_secs(120);
    let (counts, events) = wait_for(delivered_within, "every message delivered", || {
        let counts = api.get("/webhooks/sink")["deliveries"].clone();
        let done =
            counts["pending"] == 0 && sink.distinct() as u64 >= counts["succeeded"].as_u64()?;
        if !done {
            return None;
        }
        let events = api.count_events();
        let messages = counts["succeeded"].as_u64()? + counts["failed"].as_u64()?;
        (messages as usize == events).then_some((counts, events))
    });
    let after_restart = killed_at.elapsed();
    let messages = counts["succeeded"].as_u64().unwrap() + counts["failed"].as_u64().unwrap();
    eprintln!(
        "crash test: {MONITORS} heartbeat monitors, {} pushes in {burst_time:.1?} \
         (setup {setup:.1?}); {events} events in the outbox; {seen_at_kill} delivered when \
         killed; {messages} messages; all delivered {after_restart:.1?} after the kill; \
         {} distinct webhook-ids in {} requests; total {:.1?}",
        pushes_per_monitor * MONITORS,
        sink.distinct(),
        sink.requests.load(Ordering::SeqCst),
        started.elapsed()
    );
    assert_eq!(counts["failed"], 0, "{counts:#}");
    assert_eq!(messages as usize, events, "one message per event");
    // A push is answered only once its result and events are committed, so every answered
    // push survives the kill.
    assert!(
        events >= TARGET_EVENTS,
        "the burst produced only {events} events"
    );
    assert!(
        seen_at_kill < events,
        "the kill came after every delivery ({seen_at_kill} of {events}); it proves nothing"
    );
    assert_eq!(sink.distinct(), events, "distinct webhook-ids == messages");
    assert!(server.stop(), "graceful stop failed");
}

#[test]
fn a_restart_after_a_kill_9_delivers_the_claimed_messages_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sink = Sink::start();
    sink.hold.store(true, Ordering::SeqCst);
    let server = start_server(&data);
    let api = Api::new(&server);
    // A 20 s timeout makes a 50 s lease: far longer than the restart may take.
    api.put(
        "/webhooks/held",
        &json!({"spec": {"url": sink.url, "timeout": "20s"}}),
    );
    for _ in 0..5 {
        let (status, body) = api.call(reqwest::Method::POST, "/webhooks/held/test", None);
        assert_eq!(status, 202, "{body:#}");
    }
    // Every message claimed and in flight, held by the receiver.
    wait_for(Duration::from_secs(30), "five requests in flight", || {
        (sink.requests.load(Ordering::SeqCst) >= 5).then_some(())
    });
    server.crash();
    sink.hold.store(false, Ordering::SeqCst);

    let restarted = Instant::now();
    let server = start_server(&data);
    let api = Api::new(&server);
    wait_for(
        Duration::from_secs(20),
        "the claimed messages delivered",
        || {
            let counts = api.get("/webhooks/held")["deliveries"].clone();
            (counts["succeeded"] == 5).then_some(())
        },
    );
    let took = restarted.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "delivered {took:?} after the restart"
    );
    assert!(
        server
            .logs()
            .contains("released the webhook claims of the previous run"),
        "{}",
        server.logs()
    );
    assert!(server.stop(), "graceful stop failed");
}
