//! Issue 8 item 7: previews render off the async runtime, a few at a time. A burst of slow,
//! hostile previews gets 422s (out of fuel, limits) or 503s (every render slot busy) while
//! `/healthz` keeps answering at once.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Kind, Server};

api_tests!(hostile_previews_leave_the_server_responsive);

async fn hostile_previews_leave_the_server_responsive(kind: Kind) {
    let server = Server::start(kind).await;
    let bomb = server
        .post(
            "/webhooks/preview",
            &json!({"template": {"body": "{{ 0 | date(format=\"%+\" * 5000000) | length }}", "content_type": "text/plain"}}),
        )
        .await;
    let problem = bomb.problem(422);
    assert!(problem.to_string().contains("date format"), "{problem:#}");

    // Each costs most of a second of CPU in a debug build before running out of fuel.
    let slow = json!({"template": {"body": "{{ (\"<\" * 5000000) | escape | length }}", "content_type": "text/plain"}});
    let url = server.url("/webhooks/preview");
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let request = server.client.post(&url).json(&slow);
            tokio::spawn(async move {
                let response = request.send().await.expect("preview");
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                (status, body)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let healthz = format!("http://{}/healthz", server.addr);
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let answer = server.client.get(&healthz).send().await.expect("healthz");
        assert_eq!(answer.status(), 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut busy = 0;
    for task in burst {
        let (status, body) = task.await.expect("join");
        match status {
            422 => {}
            503 => {
                busy += 1;
                assert!(
                    body["detail"].as_str().is_some_and(|d| d.contains("busy")),
                    "{body:#}"
                );
            }
            other => panic!("unexpected {other}: {body:#}"),
        }
    }
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?} while previews rendered"
    );
    assert!(busy > 0, "12 previews at once must exceed the render slots");
    server.finish().await;
}
