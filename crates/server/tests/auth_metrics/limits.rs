//! Rate limits and event-stream caps: failed authentication per client address, writes per
//! token, streams per token and in total, and streams ending with their token.

use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use serde_json::json;

use crate::common::{Server, problem};

/// Asserts a 429 problem with a `Retry-After` of at least 1 s; returns the problem's detail.
async fn rate_limited(response: Response) -> String {
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| s >= 1), "Retry-After: {retry:?}");
    let body = problem(response, 429).await;
    body["detail"].as_str().unwrap_or_default().to_owned()
}

/// Opens an event stream with `token`.
async fn open(server: &Server, token: &str) -> Response {
    server.get("/api/v1/events/stream", Some(token)).await
}

/// Reads a stream until it ends; panics if it is still open after `within`.
async fn ends_within(mut response: Response, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None) | Err(_)) => return,
            Err(_) => panic!("the event stream is still open after {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_is_limited_per_address() {
    let server = Server::start(|c| c.http.auth_failures_per_minute = 5).await;
    let path = "/api/v1/monitors";
    let bad = format!("vdt_{}", "x".repeat(40));
    for n in 0..5 {
        let status = server.get(path, Some(&bad)).await.status();
        assert_eq!(status, 401, "failure {n}");
    }
    let detail = rate_limited(server.get(path, Some(&bad)).await).await;
    assert!(detail.contains("failed authentications"), "{detail}");
    // No token at all counts too, and a valid token from the same address waits as well.
    rate_limited(server.get(path, None).await).await;
    let admin = server.get(path, Some(&server.admin)).await;
    assert!(
        !rate_limited(admin).await.contains(&server.admin),
        "the answer echoes a secret"
    );
    // Routes without a token are not limited.
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    assert_eq!(server.get("/api/v1/openapi.json", None).await.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_limited_per_token() {
    let server = Server::start(|c| c.http.writes_per_second = 1).await;
    let writer = server.create_token("writer", &["write"]).await["token"]
        .as_str()
        .expect("secret")
        .to_owned();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..8 {
        let response = server
            .request(Method::POST, "/api/v1/monitors", Some(&writer))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
        if response.status() == 429 && limited.is_none() {
            limited = Some(rate_limited(response).await);
        }
    }
    // A burst of two, then one a second: 8 quick writes cannot all pass.
    assert_eq!(&statuses[..2], [422, 422], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        limited.is_some_and(|d| d.contains("writes")),
        "{statuses:?}"
    );
    // Reads of that token, and writes of another token, go on.
    assert_eq!(
        server.get("/api/v1/monitors", Some(&writer)).await.status(),
        200
    );
    let other = server
        .request(Method::POST, "/api/v1/monitors", Some(&server.admin))
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 422);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_and_end_when_revoked() {
    let server = Server::start(|c| {
        c.http.max_streams = 3;
        c.http.max_streams_per_token = 2;
    })
    .await;
    let mut readers = Vec::new();
    for name in ["a", "b", "c"] {
        let created = server.create_token(name, &["read"]).await;
        readers.push((
            created["id"].as_str().expect("id").to_owned(),
            created["token"].as_str().expect("secret").to_owned(),
        ));
    }
    let a1 = open(&server, &readers[0].1).await;
    let a2 = open(&server, &readers[0].1).await;
    assert_eq!((a1.status().as_u16(), a2.status().as_u16()), (200, 200));
    let detail = rate_limited(open(&server, &readers[0].1).await).await;
    assert!(detail.contains("this token"), "{detail}");
    let b1 = open(&server, &readers[1].1).await;
    assert_eq!(b1.status(), 200);
    let detail = rate_limited(open(&server, &readers[2].1).await).await;
    assert!(detail.contains("the server"), "{detail}");

    let revoked = server
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", readers[0].0),
            Some(&server.admin),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 204);
    ends_within(a1, Duration::from_secs(3)).await;
    ends_within(a2, Duration::from_secs(3)).await;
    // Their places are free again.
    let deadline = Instant::now() + Duration::from_secs(3);
    let c1 = loop {
        let response = open(&server, &readers[2].1).await;
        if response.status() == 200 || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(c1.status(), 200);
    drop((b1, c1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_end_when_their_token_expires() {
    let server = Server::start(|_| {}).await;
    let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
    let response = server
        .request(Method::POST, "/api/v1/tokens", Some(&server.admin))
        .json(&json!({
            "name": "short",
            "scopes": ["read"],
            "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.expect("JSON");
    let token = created["token"].as_str().expect("secret").to_owned();
    let stream = server.get("/api/v1/events/stream", Some(&token)).await;
    assert_eq!(stream.status(), 200);
    ends_within(stream, Duration::from_secs(6)).await;
    assert!(chrono::Utc::now() >= expires);
    server.stop().await;
}

/// Reads from `socket` until the server closes it; panics if it is still open after `within`.
/// Returns what was read.
async fn closed_within(socket: &mut tokio::net::TcpStream, within: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&seen).into_owned(),
            Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("the connection is still open after {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start(|c| {
        c.http.header_read_timeout = Duration::from_secs(1);
        c.http.idle_timeout = Duration::from_millis(1_500);
    })
    .await;
    // A head that never ends.
    let mut slow = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: vedette\r\n")
        .await
        .expect("write");
    // A connection that never sends anything.
    let mut silent = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    // A kept-alive connection after one answered request.
    let mut kept = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: vedette\r\n\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    closed_within(&mut slow, Duration::from_secs(4)).await;
    closed_within(&mut silent, Duration::from_secs(4)).await;
    let answered = closed_within(&mut kept, Duration::from_secs(4)).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // The server still answers.
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_after_the_idle_timeout() {
    // A header-read timeout longer than the test, so only the idle timeout can close.
    let server = Server::start(|c| {
        c.http.header_read_timeout = Duration::from_secs(60);
        c.http.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let started = Instant::now();
    closed_within(&mut silent, Duration::from_secs(4)).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    server.stop().await;
}
