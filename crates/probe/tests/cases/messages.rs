//! What each probe family says when its target misbehaves, pinned word for word: raw servers
//! on 127.0.0.1 that stay silent, close without answering, answer in another protocol or cut a
//! body short, and the step a timeout cut off.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vedette_model::spec::{TcpCheck, TlsCheck};
use vedette_model::{Check, Duration, FailureReason, MonitorSpec, Outcome};
use vedette_probe::http::{self, HttpOptions};

use super::support::Task;
use super::{check, ctx};

/// What a raw server does with each connection.
#[derive(Clone, Copy)]
enum Act {
    /// Reads whatever comes and never answers.
    Silent,
    /// Reads the request head, then closes without a word.
    Hangup,
    /// Writes this at once, whatever the client sends, then closes.
    Say(&'static str),
    /// Reads the request head, writes this, then closes.
    Answer(&'static str),
}

async fn raw(act: Act) -> (SocketAddr, Task) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, act));
        }
    });
    (addr, Task(task))
}

async fn serve(mut stream: TcpStream, act: Act) {
    match act {
        Act::Silent => {
            let mut buf = [0u8; 1024];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Act::Hangup => read_head(&mut stream).await,
        Act::Say(text) => {
            let _ = stream.write_all(text.as_bytes()).await;
        }
        Act::Answer(text) => {
            read_head(&mut stream).await;
            let _ = stream.write_all(text.as_bytes()).await;
        }
    }
    let _ = stream.shutdown().await;
}

/// Reads until the end of a request head (at most 64 KiB).
async fn read_head(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while seen.len() < 65_536 && !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Runs `spec` with a 300 ms timeout and no retry; answers the failure's reason and message.
async fn failure(mut spec: MonitorSpec) -> (Option<FailureReason>, String) {
    spec.timeout = Duration::from_millis(300);
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Down, "{}", result.message);
    (result.reason, result.message)
}

#[tokio::test]
async fn http_failures_say_what_the_server_did() {
    let (silent, _a) = raw(Act::Silent).await;
    assert_eq!(
        failure(MonitorSpec::http(format!("http://{silent}/"))).await,
        (
            Some(FailureReason::Timeout),
            format!("timed out after 300ms waiting for the response from {silent}")
        )
    );
    let (hangup, _b) = raw(Act::Hangup).await;
    assert_eq!(
        failure(MonitorSpec::http(format!("http://{hangup}/"))).await,
        (
            Some(FailureReason::Protocol),
            format!("{hangup} closed the connection without answering")
        )
    );
    let (ssh, _c) = raw(Act::Say("SSH-2.0-OpenSSH_9.6\r\n")).await;
    assert_eq!(
        failure(MonitorSpec::http(format!("http://{ssh}/"))).await,
        (
            Some(FailureReason::Protocol),
            format!("{ssh} did not answer in HTTP: invalid HTTP version parsed")
        )
    );
    let (cut, _d) = raw(Act::Answer(
        "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this",
    ))
    .await;
    let Check::Http(read) = MonitorSpec::http(format!("http://{cut}/")).check else {
        unreachable!("an HTTP spec")
    };
    let options = HttpOptions {
        read_body: true,
        check_status: true,
    };
    let cut_short = http::probe(&read, options, &ctx())
        .await
        .expect_err("a body cut short");
    assert_eq!(
        (cut_short.reason, cut_short.message.as_str()),
        (
            FailureReason::Protocol,
            "the server closed the connection before sending the whole body"
        )
    );
    let (plain, _e) = raw(Act::Say("HTTP/1.1 400 Bad Request\r\n\r\n")).await;
    assert_eq!(
        failure(MonitorSpec::http(format!("https://{plain}/"))).await,
        (
            Some(FailureReason::Tls),
            format!(
                "TLS handshake with {plain} failed: the server did not answer in TLS (is it \
                 plain HTTP or another protocol on this port?)"
            )
        )
    );
}

fn tls(addr: SocketAddr) -> MonitorSpec {
    MonitorSpec::new(TlsCheck {
        host: "127.0.0.1".to_owned(),
        port: addr.port(),
        server_name: Some("localhost".to_owned()),
        ca_cert: None,
        verify: true,
        expiry_warning: Duration::from_secs(14 * 86_400),
    })
}

#[tokio::test]
async fn tls_failures_say_what_the_server_did() {
    let (silent, _a) = raw(Act::Silent).await;
    assert_eq!(
        failure(tls(silent)).await,
        (
            Some(FailureReason::Timeout),
            format!("timed out after 300ms in the TLS handshake with {silent}")
        )
    );
    let (hangup, _b) = raw(Act::Say("")).await;
    assert_eq!(
        failure(tls(hangup)).await,
        (
            Some(FailureReason::Tls),
            format!("TLS handshake with {hangup} failed: closed by the peer")
        )
    );
}

#[tokio::test]
async fn tcp_failures_say_what_the_server_did() {
    let (silent, _a) = raw(Act::Silent).await;
    let spec = MonitorSpec::new(TcpCheck {
        host: "127.0.0.1".to_owned(),
        port: silent.port(),
        send: Some("PING\\r\\n".to_owned()),
        expect: Some("^PONG".to_owned()),
    });
    assert_eq!(
        failure(spec).await,
        (
            Some(FailureReason::Timeout),
            format!("timed out after 300ms waiting for a reply matching /^PONG/ from {silent}")
        )
    );
}
