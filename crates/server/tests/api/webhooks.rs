//! Webhooks end to end: CRUD with redacted secrets, 422 field paths, previews, test events
//! delivered to a real receiver on 127.0.0.1 with valid signatures, the delivery log, replay,
//! recovery, secret rotation, the event-type and integration catalogs, a monitor going down
//! reaching a receiver through the engine, outbox and dispatcher, and a disabled endpoint's
//! `webhook.endpoint.disabled` event.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use vedette_webhooks::Verifier;

use crate::common::{Kind, Server, Target, http_monitor, serve_on_loopback};

api_tests!(
    webhook_crud_redaction_and_validation,
    webhook_preview,
    webhook_test_event_log_replay_recover_and_rotation,
    webhook_catalogs,
    monitor_down_is_delivered,
    disabled_endpoint_emits_an_event,
);

/// One request a receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A webhook receiver on 127.0.0.1 recording every request and answering `status`.
pub(crate) struct Receiver {
    addr: std::net::SocketAddr,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Received>>>,
    stop: CancellationToken,
}

#[derive(Clone)]
struct Shared {
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Received>>>,
}

async fn receive(
    State(shared): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    shared.seen.lock().expect("lock").push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    StatusCode::from_u16(shared.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let shared = Shared {
            status: Arc::new(AtomicU16::new(200)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let (addr, stop) = serve_on_loopback(app).await;
        Receiver {
            addr,
            status: shared.status,
            seen: shared.seen,
            stop,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits until a request satisfies `found` (at most `within`).
    pub(crate) async fn wait_for(
        &self,
        within: Duration,
        found: impl Fn(&Received) -> bool,
    ) -> Received {
        let deadline = Instant::now() + within;
        loop {
            if let Some(r) = self.seen().into_iter().find(|r| found(r)) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver never got the expected request; got {:#?}",
                self.seen()
                    .iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (at most 15 s) for a delivery of an event of `event_type`.
    pub(crate) async fn wait_for_type(&self, event_type: &str) -> Received {
        self.wait_for(Duration::from_secs(15), |r| r.json()["type"] == event_type)
            .await
    }

    /// Waits (at most 10 s) for a delivery of message `id` (its `webhook-id`).
    async fn wait_for_id(&self, id: &str) -> Received {
        self.wait_for(Duration::from_secs(10), |r| r.header("webhook-id") == id)
            .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A server whose webhooks may reach loopback (the SSRF guard refuses it by default).
pub(crate) async fn server(kind: Kind, retry: Option<Vec<Duration>>) -> Server {
    Server::start_configured(kind, None, move |cfg| {
        cfg.webhook_allow_private = true;
        cfg.webhook_retry_schedule = retry;
    })
    .await
}

/// Creates the endpoint `body` describes (it must be accepted) and returns its signing secret.
pub(crate) async fn create_endpoint(server: &Server, body: &Value) -> String {
    let created = server.post("/webhooks", body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    created.body["signing_secret"]
        .as_str()
        .expect("secret")
        .to_owned()
}

/// Runs monitor `id` now (the API must accept it).
async fn run_monitor(server: &Server, id: &str) {
    let ran = server
        .post(&format!("/monitors/{id}/run"), &json!({}))
        .await;
    assert_eq!(ran.status, 200, "{:#}", ran.body);
}

pub(crate) fn verify(secret: &str, r: &Received) {
    Verifier::new([secret])
        .expect("verifier")
        .verify(&r.headers, &r.body)
        .unwrap_or_else(|e| panic!("signature does not verify: {e}"));
}

async fn webhook_crud_redaction_and_validation(kind: Kind) {
    let server = server(kind, None).await;
    let body = json!({
        "id": "ops",
        "labels": {"team": "ops"},
        "spec": {
            "url": "https://hooks.example.com/ops",
            "description": "ops hook",
            "event_types": ["monitor.*"],
            "headers": {"X-Tenant": "acme", "X-Key": {"secret": "header-secret-value"}},
            "auth": {"type": "bearer", "token": "bearer-secret-value"},
        },
    });
    let created = server.post("/webhooks", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.header("location"), Some("/api/v1/webhooks/ops"));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let secret = created.body["signing_secret"]
        .as_str()
        .expect("signing secret")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let text = created.body["spec"].to_string();
    for hidden in [
        secret.as_str(),
        "header-secret-value",
        "bearer-secret-value",
    ] {
        assert!(!text.contains(hidden), "{text}");
    }
    assert_eq!(created.body["spec"]["secrets"][0]["secret"], "********");
    assert_eq!(created.body["spec"]["auth"]["token"], "********");
    assert_eq!(
        created.body["spec"]["headers"]["X-Key"]["secret"],
        "********"
    );
    assert_eq!(created.body["spec"]["headers"]["X-Tenant"], "acme");

    let got = server.get("/webhooks/ops").await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("signing_secret").is_none(), "{:#}", got.body);
    assert_eq!(
        got.body["deliveries"],
        json!({"pending": 0, "succeeded": 0, "failed": 0})
    );
    // A GET body sent back keeps every secret (the ******** are restored).
    let replaced = server.put("/webhooks/ops", &got.body).await;
    assert_eq!(replaced.status, 200, "{:#}", replaced.body);
    assert_eq!(replaced.body["version"], 1, "an unchanged PUT is a no-op");
    let patched = server
        .send(
            server
                .client
                .patch(server.url("/webhooks/ops"))
                .header("if-match", "\"1\"")
                .header("content-type", "application/merge-patch+json")
                .body(
                    json!({"spec": {"description": "patched", "headers": {"X-Tenant": null}}})
                        .to_string(),
                ),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.body["spec"]["description"], "patched");
    assert!(patched.body["spec"]["headers"].get("X-Tenant").is_none());
    assert_eq!(
        patched.body["spec"]["headers"]["X-Key"]["secret"],
        "********"
    );
    let stale = server
        .with("if-match", "\"1\"")
        .patch("/webhooks/ops", &json!({"spec": {"description": "again"}}))
        .await;
    stale.problem(412);

    // Bad input: each problem at its field path, nothing stored.
    let cases = [
        (json!({"url": "ftp://x"}), "spec.url"),
        (
            json!({"url": "https://x.example", "template": {"body": "{\"a\": {{ summary | json }"}}),
            "spec.template.body",
        ),
        (
            json!({"integration": {"name": "slack", "params": {"webhook_url": "https://hooks.slack.com/services/x", "bogus": 1}}}),
            "spec.integration.params.bogus",
        ),
        (
            json!({"url": "https://x.example", "headers": {"X-Big": "a".repeat(5000)}}),
            "spec.headers.X-Big",
        ),
        (
            json!({"url": "https://x.example", "event_types": ["nothing.*"]}),
            "spec.event_types[0]",
        ),
        (
            json!({"url": "https://x.example", "colour": "red"}),
            "spec.colour",
        ),
    ];
    for (spec, field) in cases {
        let bad = server.post("/webhooks", &json!({"spec": spec})).await;
        bad.problem(422);
        assert_eq!(bad.error_fields(), [field], "{:#}", bad.body);
        if field == "spec.template.body" {
            let message = bad.body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default();
            assert!(message.contains("line 1"), "{message}");
        }
    }
    let bad_secret = server
        .put(
            "/webhooks/x",
            &json!({"spec": {"url": "https://x.example", "secrets": [{"secret": "whsec_tooshort"}]}}),
        )
        .await;
    bad_secret.problem(422);
    assert!(!bad_secret.body.to_string().contains("tooshort"));
    let reserved = server
        .put(
            "/webhooks/preview",
            &json!({"spec": {"url": "https://x.example"}}),
        )
        .await;
    assert_eq!(reserved.status, 405, "{:#}", reserved.body);

    let other = server
        .post(
            "/webhooks",
            &json!({"labels": {"team": "search"}, "spec": {"integration": {"name": "slack", "params": {"webhook_url": "https://hooks.slack.com/services/T0/B0/secret-path"}}}}),
        )
        .await;
    assert_eq!(other.status, 201, "{:#}", other.body);
    assert_eq!(other.body["id"], "slack");
    assert_eq!(
        other.body["spec"]["integration"]["params"]["webhook_url"],
        "********"
    );
    let all = server.get("/webhooks").await;
    let ids: Vec<&str> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids, ["ops", "slack"], "nothing invalid was stored");
    let selected = server.get("/webhooks?selector=team%3Dops&limit=1").await;
    assert_eq!(selected.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(selected.body["next_cursor"], Value::Null);

    assert_eq!(server.delete("/webhooks/ops").await.status, 204);
    server.get("/webhooks/ops").await.problem(404);
    server.finish().await;
}

async fn webhook_preview(kind: Kind) {
    let server = server(kind, None).await;
    let slack = server
        .post(
            "/webhooks/preview",
            &json!({"event_type": "monitor.down", "integration": {"name": "slack", "params": {"webhook_url": "https://hooks.slack.com/services/T0/B0/X"}}}),
        )
        .await;
    assert_eq!(slack.status, 200, "{:#}", slack.body);
    assert_eq!(
        slack.body["url"],
        "https://hooks.slack.com/services/T0/B0/X"
    );
    assert_eq!(slack.body["event"]["type"], "monitor.down");
    let rendered: Value = serde_json::from_str(slack.body["body"].as_str().expect("body"))
        .expect("Slack body is JSON");
    assert!(rendered.to_string().contains("is down"), "{rendered:#}");

    let template = server
        .post(
            "/webhooks/preview",
            &json!({"event_type": "incident.resolved", "template": {"body": "{\"t\": {{ title | json }}, \"s\": {{ status | json }}}"}}),
        )
        .await;
    assert_eq!(template.status, 200, "{:#}", template.body);
    assert_eq!(
        serde_json::from_str::<Value>(template.body["body"].as_str().expect("body")).expect("json")
            ["s"],
        "resolved"
    );

    let broken = server
        .post(
            "/webhooks/preview",
            &json!({"template": {"body": "line one\n{{ nope( }}"}, "event_type": "monitor.up"}),
        )
        .await;
    broken.problem(422);
    assert_eq!(broken.error_fields(), ["template.body"]);
    let message = broken.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("line 2"), "{message}");
    let undefined = server
        .post(
            "/webhooks/preview",
            &json!({"template": {"body": "{{ no_such_thing }}", "content_type": "text/plain"}}),
        )
        .await;
    undefined.problem(422);
    assert_eq!(undefined.error_fields(), ["template.body"]);
    let unknown = server
        .post(
            "/webhooks/preview",
            &json!({"event_type": "monitor.exploded"}),
        )
        .await;
    unknown.problem(422);
    assert_eq!(unknown.error_fields(), ["event_type"]);
    server.finish().await;
}

async fn webhook_test_event_log_replay_recover_and_rotation(kind: Kind) {
    // One attempt per message, so a failure is final at once.
    let server = server(kind, Some(vec![Duration::ZERO])).await;
    let rx = Receiver::start().await;
    let secret = create_endpoint(
        &server,
        &json!({"id": "dev", "spec": {"url": rx.url("/hook"), "auth": {"type": "bearer", "token": "bearer-secret-value"}}}),
    )
    .await;

    let sent = server
        .post("/webhooks/dev/test?event_type=incident.opened", &json!({}))
        .await;
    assert_eq!(sent.status, 202, "{:#}", sent.body);
    let message_id = sent.body["message_id"]
        .as_str()
        .expect("message id")
        .to_owned();
    assert_eq!(
        sent.header("location").map(str::to_owned),
        Some(format!("/api/v1/messages/{message_id}"))
    );
    let got = rx.wait_for_id(&message_id).await;
    verify(&secret, &got);
    assert_eq!(got.json()["type"], "incident.opened");
    assert_eq!(got.header("authorization"), "Bearer bearer-secret-value");

    // The delivery log: the request with secrets redacted, the response.
    let log = server
        .wait_for("/webhooks/dev/deliveries", Duration::from_secs(10), |b| {
            b["items"][0]["status"] == "succeeded"
        })
        .await;
    let item = &log["items"][0];
    assert_eq!(item["id"], message_id.as_str());
    assert_eq!(item["attempt_count"], 1);
    let attempt = &item["attempts"][0];
    assert_eq!(attempt["outcome"], "success");
    assert_eq!(attempt["response_status"], 200);
    assert_eq!(attempt["request"]["headers"]["authorization"], "[redacted]");
    assert_eq!(
        attempt["request"]["headers"]["webhook-id"],
        message_id.as_str()
    );
    assert!(attempt["duration_ms"].is_u64());
    assert!(!log.to_string().contains("bearer-secret-value"));
    assert!(!log.to_string().contains(&secret));
    let one = server.get(&format!("/messages/{message_id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["attempts"].as_array().map(Vec::len), Some(1));

    // Replay: the same webhook-id again.
    let replayed = server
        .post(&format!("/messages/{message_id}/replay"), &json!({}))
        .await;
    assert_eq!(replayed.status, 202, "{:#}", replayed.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    while rx
        .seen()
        .iter()
        .filter(|r| r.header("webhook-id") == message_id)
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the replay never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A failure (one attempt only), then recovery once the receiver is back.
    rx.status.store(500, Ordering::SeqCst);
    let failing = server.post("/webhooks/dev/test", &json!({})).await;
    let failing_id = failing.body["message_id"].as_str().expect("id").to_owned();
    server
        .wait_for(
            "/webhooks/dev/deliveries?status=failed",
            Duration::from_secs(10),
            |b| b["items"][0]["id"] == failing_id.as_str(),
        )
        .await;
    rx.status.store(200, Ordering::SeqCst);
    server
        .post("/webhooks/dev/recover", &json!({}))
        .await
        .problem(400);
    let recovered = server
        .post("/webhooks/dev/recover?since=-1h", &json!({}))
        .await;
    assert_eq!(recovered.status, 202, "{:#}", recovered.body);
    assert_eq!(recovered.body["recovered"], 1);
    server
        .wait_for(
            &format!("/messages/{failing_id}"),
            Duration::from_secs(10),
            |b| b["status"] == "succeeded",
        )
        .await;
    let counts = server.get("/webhooks/dev").await;
    assert_eq!(
        counts.body["deliveries"],
        json!({"pending": 0, "succeeded": 2, "failed": 0})
    );

    // Paging the log.
    let first = server.get("/webhooks/dev/deliveries?limit=1").await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let second = server
        .get(&format!("/webhooks/dev/deliveries?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second.status, 200, "{:#}", second.body);
    assert_ne!(first.body["items"][0]["id"], second.body["items"][0]["id"]);
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Rotation: the new secret signs at once, the old one still does during the overlap.
    let rotated = server
        .post("/webhooks/dev/rotate-secret?overlap=1h", &json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    let new_secret = rotated.body["signing_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(
        rotated.body["spec"]["secrets"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(rotated.body["spec"]["secrets"][1]["expires_at"].is_string());
    let after = server.post("/webhooks/dev/test", &json!({})).await;
    let after_id = after.body["message_id"].as_str().expect("id").to_owned();
    let got = rx.wait_for_id(&after_id).await;
    verify(&new_secret, &got);
    verify(&secret, &got);
    assert_eq!(got.header("webhook-signature").split(' ').count(), 2);

    server.get("/messages/msg_nope").await.problem(404);
    server
        .post("/webhooks/nope/test", &json!({}))
        .await
        .problem(404);
    server.finish().await;
}

async fn webhook_catalogs(kind: Kind) {
    let server = server(kind, None).await;
    let types = server.get("/event-types").await;
    assert_eq!(types.status, 200);
    let items = types.body["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|t| t["name"].as_str()).collect();
    for name in [
        "monitor.down",
        "monitor.up",
        "incident.opened",
        "certificate.expiring",
        "webhook.endpoint.disabled",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    for t in items {
        assert_eq!(t["schema"]["type"], "object", "{t:#}");
        assert_eq!(t["example"]["type"], t["name"]);
        assert_eq!(t["version"], 1);
        assert!(!t["description"].as_str().unwrap_or_default().is_empty());
        for field in t["schema"]["required"].as_array().expect("required") {
            let field = field.as_str().expect("name");
            assert!(
                t["example"]["data"].get(field).is_some(),
                "{field} in {t:#}"
            );
        }
    }
    let one = server.get("/event-types/webhook.endpoint.disabled").await;
    assert_eq!(one.status, 200);
    assert!(one.body["schema"]["properties"]["endpoint_id"].is_object());
    server.get("/event-types/nope").await.problem(404);

    let integrations = server.get("/integrations").await;
    let items = integrations.body["items"].as_array().expect("items");
    assert!(items.len() >= 20, "{}", items.len());
    assert!(items.iter().all(|i| i.get("body").is_none()));
    let slack = server.get("/integrations/slack").await;
    assert_eq!(slack.status, 200);
    assert_eq!(slack.body["category"], "chat");
    assert!(slack.body["parameters"]["properties"]["webhook_url"].is_object());
    assert!(!slack.body["docs"].as_str().unwrap_or_default().is_empty());
    let paging = server.get("/integrations?category=paging").await;
    assert!(
        paging.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["category"] == "paging")
    );
    server.get("/integrations/nope").await.problem(404);
    server.finish().await;
}

async fn monitor_down_is_delivered(kind: Kind) {
    let server = server(kind, None).await;
    let rx = Receiver::start().await;
    let target = Target::start().await;
    let secret = create_endpoint(
        &server,
        &json!({"id": "payments", "spec": {"url": rx.url("/"), "event_types": ["monitor.*"], "selector": "team=payments"}}),
    )
    .await;
    let monitor = server
        .put_checked(
            "/monitors/payments-api",
            &http_monitor(&target.url("/switch"), "1d"),
        )
        .await;
    assert!(monitor.status == 201, "{:#}", monitor.body);
    run_monitor(&server, "payments-api").await;
    target.set_up(false);
    run_monitor(&server, "payments-api").await;
    let down = rx.wait_for_type("monitor.down").await;
    verify(&secret, &down);
    let event = down.json();
    assert_eq!(event["monitor_id"], "payments-api");
    assert_eq!(event["data"]["to"], "down");
    target.set_up(true);
    run_monitor(&server, "payments-api").await;
    let up = rx.wait_for_type("monitor.up").await;
    verify(&secret, &up);
    // Incident events are filtered out by the endpoint's event types.
    assert!(rx.seen().iter().all(|r| {
        r.json()["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("monitor."))
    }));
    server.finish().await;
}

async fn disabled_endpoint_emits_an_event(kind: Kind) {
    let server = server(kind, None).await;
    let gone = Receiver::start().await;
    gone.status.store(410, Ordering::SeqCst);
    let watcher = Receiver::start().await;
    for (id, url, types) in [
        ("gone", gone.url("/"), json!(["*"])),
        ("watcher", watcher.url("/"), json!(["webhook.*"])),
    ] {
        create_endpoint(
            &server,
            &json!({"id": id, "spec": {"url": url, "event_types": types}}),
        )
        .await;
    }
    assert_eq!(
        server.post("/webhooks/gone/test", &json!({})).await.status,
        202
    );
    let note = watcher.wait_for_type("webhook.endpoint.disabled").await;
    assert_eq!(note.json()["data"]["endpoint_id"], "gone");
    let record = server.get("/webhooks/gone").await;
    assert_eq!(record.body["spec"]["enabled"], false);
    assert!(
        record.body["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410"))
    );
    server
        .post("/webhooks/gone/test", &json!({}))
        .await
        .problem(409);
    let events = server.get("/events?type=webhook.endpoint.disabled").await;
    assert_eq!(events.body["items"].as_array().map(Vec::len), Some(1));
    // Re-enabling through a patch clears the disablement.
    let enabled = server
        .patch("/webhooks/gone", &json!({"spec": {"enabled": true}}))
        .await;
    assert_eq!(enabled.status, 200, "{:#}", enabled.body);
    assert_eq!(enabled.body["disabled_at"], Value::Null);
    server.finish().await;
}
