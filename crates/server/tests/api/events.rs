//! The events outbox: pages with `after` and `type`, and the SSE stream resuming after
//! `Last-Event-ID`; the stream's live resource events and monitor state changes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Kind, Server, Target, http_monitor};

api_tests!(
    events_list_and_stream_resume,
    resource_events_name_kind_id_and_version,
    state_changes_stream_as_resource_status
);

/// One Server-Sent Event: (id, event, data).
pub(crate) type Sse = (String, String, Value);

/// Reads `n` items from an open stream (bounded by a deadline): the event blocks that `item`
/// makes one of.
async fn read_sse<T>(
    response: &mut reqwest::Response,
    n: usize,
    item: impl Fn(&str) -> Option<T>,
) -> Vec<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buffer = String::new();
    let mut items = Vec::new();
    while items.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .expect("events arrive in time")
            .expect("stream")
            .expect("stream still open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(found) = item(&block).filter(|_| items.len() < n) {
                items.push(found);
            }
        }
    }
    items
}

/// Reads `n` events from an open stream (bounded by a deadline).
pub(crate) async fn read_events(response: &mut reqwest::Response, n: usize) -> Vec<Sse> {
    read_sse(response, n, |block| {
        let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
        (!id.is_empty()).then(|| (id, event, serde_json::from_str(&data).expect("event JSON")))
    })
    .await
}

async fn events_list_and_stream_resume(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    server
        .put_checked("/monitors/ev", &http_monitor(&target.url("/switch"), "1d"))
        .await;
    // Each down/up pair raises monitor.down, incident.opened, monitor.up, incident.resolved.
    for up in [false, true, false, true] {
        target.set_up(up);
        let ran = server.post("/monitors/ev/run", &json!({})).await;
        assert_eq!(ran.status, 200);
    }
    let all = server
        .wait_for("/events?after=0", Duration::from_secs(10), |b| {
            b["items"].as_array().is_some_and(|i| i.len() >= 8)
        })
        .await;
    let items = all["items"].as_array().expect("items");
    let types: Vec<&str> = items.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        &types[..4],
        [
            "monitor.down",
            "incident.opened",
            "monitor.up",
            "incident.resolved"
        ]
    );
    let seqs: Vec<i64> = items.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    let downs = server.get("/events?type=monitor.down").await;
    assert_eq!(downs.body["items"].as_array().map(Vec::len), Some(2));
    let page = server.get("/events?limit=3").await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(3));
    let next = page.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let after = server.get(&format!("/events?after={next}&limit=3")).await;
    assert_eq!(after.body["items"][0]["seq"], seqs[3]);

    // Stream from the start, read three, reconnect after the third: exactly the following.
    let mut first = server
        .client
        .get(server.url("/events/stream?after=0"))
        .send()
        .await
        .expect("stream");
    assert_eq!(first.status(), 200);
    assert!(
        first
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"))
    );
    let head = read_events(&mut first, 3).await;
    drop(first);
    let expect = |i: usize| (seqs[i].to_string(), types[i].to_owned());
    for (i, (id, event, data)) in head.iter().enumerate() {
        assert_eq!((id.clone(), event.clone()), expect(i));
        assert_eq!(data["id"], items[i]["id"]);
    }
    let mut resumed = server
        .client
        .get(server.url("/events/stream"))
        .header("last-event-id", &head[2].0)
        .send()
        .await
        .expect("stream");
    let tail = read_events(&mut resumed, 5).await;
    for (k, (id, event, _)) in tail.iter().enumerate() {
        assert_eq!((id.clone(), event.clone()), expect(3 + k));
    }

    // A live event reaches a stream opened before it happened.
    let mut live = server
        .client
        .get(server.url("/events/stream?type=monitor.down"))
        .send()
        .await
        .expect("stream");
    target.set_up(false);
    server.post("/monitors/ev/run", &json!({})).await;
    let fresh = read_events(&mut live, 1).await;
    assert_eq!(fresh[0].1, "monitor.down");
    assert!(fresh[0].0.parse::<i64>().expect("seq") > seqs[7]);
    drop(live);
    drop(resumed);
    server.finish().await;
}

/// Reads `n` events without an SSE id (the live resource events) from an open stream.
async fn read_unnumbered(response: &mut reqwest::Response, n: usize) -> Vec<(String, Value)> {
    read_sse(response, n, |block| {
        let has_id = block.lines().any(|l| l.starts_with("id:"));
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        match (has_id, field("event:"), field("data:")) {
            (false, Some(event), Some(data)) => {
                Some((event, serde_json::from_str(&data).expect("event JSON")))
            }
            _ => None,
        }
    })
    .await
}

async fn resource_events_name_kind_id_and_version(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let bad = server.get("/events/stream?resources=nope").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.to_string().contains("resources"), "{}", bad.body);

    let mut stream = server
        .client
        .get(server.url("/events/stream?resources=monitors&type=resource.changed,resource.deleted"))
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    let monitor = json!({
        "labels": {},
        "spec": {
            "http": {"url": target.url("/switch")},
            "interval": "1d",
        },
    });
    server.put_checked("/monitors/watched", &monitor).await;
    let window = json!({"spec": {
        "start": "2030-01-01T00:00:00Z",
        "end": "2030-01-01T01:00:00Z",
        "selector": "a=b",
    }});
    let other = server.put("/maintenance/other-kind", &window).await;
    assert!(other.status < 300, "{:#}", other.body);
    let deleted = server.delete("/monitors/watched").await;
    assert!(deleted.status < 300, "{:#}", deleted.body);
    let events = read_unnumbered(&mut stream, 2).await;
    assert_eq!(events[0].0, "resource.changed");
    assert_eq!(events[0].1["kind"], "monitors");
    assert_eq!(events[0].1["id"], "watched");
    assert_eq!(events[0].1["version"], 1);
    assert!(events[0].1.get("spec").is_none());
    assert!(!events[0].1.to_string().contains("/switch"));
    assert_eq!(events[1].0, "resource.deleted");
    assert_eq!(events[1].1["id"], "watched");
    assert_eq!(events[1].1["version"], 0);
    drop(stream);
    server.finish().await;
}

/// A monitor's first verdict (a quiet start, no outbox event) and a pause reach the stream as
/// `resource.status`, once the state is what the API answers; `type=resource.status` alone
/// carries only them, and a stream of other kinds none.
async fn state_changes_stream_as_resource_status(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let open = |query: &'static str| {
        let request = server.client.get(server.url(query));
        async move {
            let stream = request.send().await.expect("stream");
            assert_eq!(stream.status(), 200);
            stream
        }
    };
    let mut monitors = open("/events/stream?resources=monitors").await;
    let mut states = open("/events/stream?type=resource.status").await;
    let mut windows = open("/events/stream?resources=maintenance_windows").await;
    let started = Instant::now();
    let created = server
        .put(
            "/monitors/fresh",
            &http_monitor(&target.url("/switch"), "1d"),
        )
        .await;
    assert!(created.status < 300, "{:#}", created.body);

    // Two feeds: the write (from the store's change feed) and the verdict, in either order.
    let events = read_unnumbered(&mut monitors, 2).await;
    let first_verdict = started.elapsed();
    let of = |wanted: &str| {
        events
            .iter()
            .find(|(event, _)| event == wanted)
            .map(|(_, data)| data.clone())
            .unwrap_or_else(|| panic!("no {wanted} in {events:?}"))
    };
    assert_eq!(of("resource.changed")["id"], "fresh");
    let status = of("resource.status");
    assert_eq!(status["kind"], "monitors");
    assert_eq!(status["id"], "fresh");
    assert_eq!(status["state"], "up");
    assert!(status["since"].is_string(), "{status}");
    assert!(first_verdict < Duration::from_secs(5), "{first_verdict:?}");
    // Announced once committed: the API already says so.
    let now = server.get("/monitors/fresh").await;
    assert_eq!(now.body["status"]["state"], "up", "{:#}", now.body);
    assert_eq!(now.body["status"]["since"], status["since"]);
    let outbox = server.get("/events?type=monitor.up").await;
    assert_eq!(outbox.body["items"], json!([]), "a quiet start stays quiet");

    let paused = server.post("/monitors/fresh/pause", &json!({})).await;
    assert_eq!(paused.status, 200, "{:#}", paused.body);
    let events = read_unnumbered(&mut states, 2).await;
    let kinds: Vec<(&str, &Value)> = events
        .iter()
        .map(|(event, data)| (event.as_str(), &data["state"]))
        .collect();
    assert_eq!(
        kinds,
        [
            ("resource.status", &json!("up")),
            ("resource.status", &json!("paused"))
        ]
    );

    // The window's own write comes through; no state change came before it.
    let window = json!({"spec": {
        "start": "2030-01-01T00:00:00Z",
        "end": "2030-01-01T01:00:00Z",
        "selector": "a=b",
    }});
    let put = server.put("/maintenance/after", &window).await;
    assert!(put.status < 300, "{:#}", put.body);
    let events = read_unnumbered(&mut windows, 1).await;
    assert_eq!(events[0].0, "resource.changed");
    assert_eq!(events[0].1["kind"], "maintenance_windows");
    drop((monitors, states, windows));
    server.finish().await;
}
