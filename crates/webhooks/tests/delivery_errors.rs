//! What a failed delivery says, exactly as the delivery log (the API's deliveries, the CLI and
//! the dashboard) shows it: one real receiver on 127.0.0.1 per way of failing (a refused port,
//! a self-signed certificate, plain HTTP on an https URL, a silent server, a 500 with a body
//! echoing the URL's token, a redirect, a body cut short, a name that does not resolve), one
//! real SQLite store and dispatcher, and no credential of the URL in any text.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use vedette_model::event::EVENT_VERSION;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, EventType};
use vedette_store::{MessageFilter, MessageStatus, Store};
use vedette_webhooks::{Dispatcher, EndpointRules};

mod support;
use support::{config, fast_retry, put_endpoint, sqlite_store};

/// How a loopback receiver treats each connection.
#[derive(Clone)]
enum Behaviour {
    /// Writes `answer` once the request head has arrived, then closes.
    Answer(&'static str),
    /// Writes `greeting` at once, whatever the client sends, then closes.
    Greet(&'static str),
    /// Reads and never answers.
    Silent,
    /// Shakes hands in TLS with a self-signed certificate.
    Tls(TlsAcceptor),
}

/// A receiver on 127.0.0.1 that stops when `stop` is cancelled.
async fn receiver(behaviour: Behaviour, stop: CancellationToken) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => return,
                r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
            };
            let behaviour = behaviour.clone();
            let stop = stop.clone();
            tokio::spawn(async move { handle(stream, behaviour, stop).await });
        }
    });
    addr
}

async fn handle(mut stream: TcpStream, behaviour: Behaviour, stop: CancellationToken) {
    match behaviour {
        Behaviour::Answer(answer) => {
            read_head(&mut stream).await;
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Greet(greeting) => {
            let _ = stream.write_all(greeting.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Silent => {
            read_head(&mut stream).await;
            stop.cancelled().await;
        }
        Behaviour::Tls(acceptor) => {
            let _ = acceptor.accept(stream).await;
        }
    }
}

/// Reads until the end of the request head (bounded).
async fn read_head(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while seen.len() < 1 << 20 && !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A TLS acceptor serving a self-signed certificate for `localhost`.
fn self_signed() -> TlsAcceptor {
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .expect("server cert");
    TlsAcceptor::from(Arc::new(config))
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Delivers one event to each endpoint, one attempt each, and answers every endpoint's error.
async fn errors_of(store: &Store, endpoints: &[(&str, EndpointSpec)]) -> BTreeMap<String, String> {
    for (id, spec) in endpoints {
        put_endpoint(store, id, spec).await;
    }
    let dispatcher = Dispatcher::new(
        store.clone(),
        config(fast_retry(1, Duration::from_millis(50))),
    )
    .expect("dispatcher");
    let stop = CancellationToken::new();
    tokio::spawn(dispatcher.run(stop.clone()));
    let event = Event {
        id: "evt_errors".to_owned(),
        event_type: EventType::MonitorDown,
        version: EVENT_VERSION,
        occurred_at: Utc::now(),
        monitor_id: Some("m".to_owned()),
        data: serde_json::json!({"monitor_id": "m", "monitor_name": "m", "message": "down"}),
    };
    store.append_events(&[event]).await.expect("append");
    let filter = MessageFilter {
        status: Some(MessageStatus::Failed),
        limit: 100,
        ..MessageFilter::default()
    };
    let start = Instant::now();
    loop {
        let failed = store
            .list_webhook_messages(&filter)
            .await
            .expect("messages");
        if failed.len() == endpoints.len() {
            stop.cancel();
            return failed
                .into_iter()
                .map(|m| (m.endpoint_id, m.last_error.unwrap_or_default()))
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} of {} deliveries failed: {failed:?}",
            failed.len(),
            endpoints.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_errors_say_what_happened_without_the_urls_credentials() {
    let (store, _dir) = sqlite_store().await;
    let stop = CancellationToken::new();
    let refused = closed_port().await;
    let tls = receiver(Behaviour::Tls(self_signed()), stop.clone()).await;
    let plain = receiver(
        Behaviour::Greet("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
        stop.clone(),
    )
    .await;
    let silent = receiver(Behaviour::Silent, stop.clone()).await;
    let failing = receiver(
        Behaviour::Answer(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n\
             content-length: 67\r\n\r\ndatabase down\n\tretry later; you sent /hook?token=sup3r-s3cr3t-t0k3n",
        ),
        stop.clone(),
    )
    .await;
    let moved = receiver(
        Behaviour::Answer(
            "HTTP/1.1 302 Found\r\nlocation: https://new.example.net/hook?token=x\r\n\
             content-length: 0\r\n\r\n",
        ),
        stop.clone(),
    )
    .await;
    let cut = receiver(
        Behaviour::Answer("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 100\r\n\r\nbusy"),
        stop.clone(),
    )
    .await;
    let token = "?token=sup3r-s3cr3t-t0k3n";
    let mut slow_spec =
        EndpointSpec::new(format!("http://127.0.0.1:{}/hook{token}", silent.port()));
    slow_spec.timeout = vedette_model::Duration::from_millis(500);
    let endpoints = [
        (
            "refused",
            EndpointSpec::new(format!("http://127.0.0.1:{refused}/hook{token}")),
        ),
        (
            "self-signed",
            EndpointSpec::new(format!("https://localhost:{}/hook{token}", tls.port())),
        ),
        (
            "plain-http",
            EndpointSpec::new(format!("https://127.0.0.1:{}/hook{token}", plain.port())),
        ),
        ("slow", slow_spec),
        (
            "server-error",
            EndpointSpec::new(format!("http://127.0.0.1:{}/hook{token}", failing.port())),
        ),
        (
            "redirect",
            EndpointSpec::new(format!("http://127.0.0.1:{}/hook{token}", moved.port())),
        ),
        (
            "cut-short",
            EndpointSpec::new(format!("http://127.0.0.1:{}/hook{token}", cut.port())),
        ),
        (
            "no-such-name",
            EndpointSpec::new(format!("http://no-such-host.invalid/hook{token}")),
        ),
    ];
    let errors = errors_of(&store, &endpoints).await;
    stop.cancel();
    let expected = [
        (
            "refused",
            format!("connection refused by 127.0.0.1:{refused} (nothing listens on that port)"),
        ),
        (
            "self-signed",
            "TLS certificate of localhost is not trusted: it is self-signed or issued by an \
             authority outside the public roots"
                .to_owned(),
        ),
        (
            "plain-http",
            format!(
                "TLS handshake with 127.0.0.1:{} failed: the server did not answer in TLS (is it \
                 plain HTTP? then use an http:// URL)",
                plain.port()
            ),
        ),
        (
            "slow",
            format!(
                "no response from 127.0.0.1:{} within 500ms (the endpoint's timeout)",
                silent.port()
            ),
        ),
        (
            "server-error",
            "receiver answered 500 Internal Server Error: database down retry later; you sent \
             /hook?token=[redacted]"
                .to_owned(),
        ),
        (
            "redirect",
            "receiver answered 302 Found, a redirect to new.example.net: webhooks do not follow \
             redirects; set the endpoint's URL to where it leads"
                .to_owned(),
        ),
        (
            "cut-short",
            format!(
                "receiver answered 503 Service Unavailable: busy; 127.0.0.1:{} closed the \
                 connection before sending its whole body",
                cut.port()
            ),
        ),
        (
            "no-such-name",
            "DNS name no-such-host.invalid not found".to_owned(),
        ),
    ];
    let expected: BTreeMap<String, String> = expected
        .into_iter()
        .map(|(id, want)| (id.to_owned(), want))
        .collect();
    assert_eq!(errors, expected);
    for (id, error) in &errors {
        assert!(!error.contains("sup3r-s3cr3t-t0k3n"), "{id}: {error}");
    }
}
