//! An HTTP/1.1 + HTTP/2 test server (hyper-util's auto builder), plain or over TLS.
//!
//! Routes: `/ok` (200 JSON), `/status/{code}`, `/slow/{ms}`, `/large/{bytes}` (with
//! Content-Length), `/chunked/{bytes}` (streamed, no length), `/redirect/{n}` (relative chain
//! ending at `/ok`), `/absolute/{n}` (absolute Location), `/loop/a` <-> `/loop/b`,
//! `/see-other` (303 to `/echo`), `/flaky` (500 on the first hit, 200 after), `/echo` (JSON of
//! method, version, headers, body).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::Task;
use super::certs::ServerCert;

type Body = BoxBody<Bytes, Infallible>;

/// A running test server.
pub struct HttpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests served so far.
    pub hits: Arc<AtomicUsize>,
    _task: Task,
}

impl HttpServer {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// `https://localhost:<port><path>`.
    pub fn localhost_url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://localhost:{}{path}", self.addr.port())
    }
}

struct State {
    hits: Arc<AtomicUsize>,
    flaky: AtomicUsize,
    base: String,
}

/// A plain-text server speaking HTTP/1.1 and HTTP/2 (prior knowledge).
pub async fn serve() -> HttpServer {
    start(None).await
}

/// A TLS server offering `h2` and `http/1.1` through ALPN.
pub async fn serve_tls(cert: &ServerCert) -> HttpServer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.clone()], cert.key.clone_key())
        .expect("server cert");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    start(Some(TlsAcceptor::from(Arc::new(config)))).await
}

async fn start(tls: Option<TlsAcceptor>) -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = Arc::new(State {
        hits: hits.clone(),
        flaky: AtomicUsize::new(0),
        base: format!("{scheme}://{addr}"),
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| route(req, state.clone()));
                let builder = Builder::new(TokioExecutor::new());
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    HttpServer {
        addr,
        hits,
        _task: Task(task),
    }
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response
}

fn redirect(status: StatusCode, location: &str) -> Response<Body> {
    let mut response = full(status, "");
    response
        .headers_mut()
        .insert(hyper::header::LOCATION, location.parse().expect("location"));
    response
}

async fn route(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let number = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let response = match parts.first().copied().unwrap_or("") {
        "ok" => {
            let mut r = full(StatusCode::OK, r#"{"status":"UP","items":[1,2,3]}"#);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                "application/json".parse().expect("ct"),
            );
            r
        }
        "status" => full(
            StatusCode::from_u16(number(1) as u16).unwrap_or(StatusCode::IM_A_TEAPOT),
            "status",
        ),
        "slow" => {
            tokio::time::sleep(Duration::from_millis(number(1))).await;
            full(StatusCode::OK, "slow")
        }
        "large" => full(StatusCode::OK, vec![b'x'; number(1) as usize]),
        "chunked" => {
            let total = number(1) as usize;
            let chunks: Vec<Result<Frame<Bytes>, Infallible>> = (0..total.div_ceil(1024))
                .map(|i| {
                    let len = 1024.min(total - i * 1024);
                    Ok(Frame::data(Bytes::from(vec![b'y'; len])))
                })
                .collect();
            let stream = futures::stream::iter(chunks);
            Response::new(StreamBody::new(stream).boxed())
        }
        "redirect" => match number(1) {
            0 => redirect(StatusCode::FOUND, "/ok"),
            n => redirect(StatusCode::FOUND, &format!("../redirect/{}", n - 1)),
        },
        "absolute" => match number(1) {
            0 => redirect(StatusCode::MOVED_PERMANENTLY, &format!("{}/ok", state.base)),
            n => redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("{}/absolute/{}", state.base, n - 1),
            ),
        },
        "loop" if parts.get(1) == Some(&"a") => redirect(StatusCode::FOUND, "/loop/b"),
        "loop" => redirect(StatusCode::FOUND, "/loop/a"),
        "see-other" => redirect(StatusCode::SEE_OTHER, "/echo"),
        "flaky" => {
            if state.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                full(StatusCode::INTERNAL_SERVER_ERROR, "first try fails")
            } else {
                full(StatusCode::OK, "second try works")
            }
        }
        "echo" => {
            let method = req.method().to_string();
            let version = format!("{:?}", req.version());
            let uri = req.uri().to_string();
            let headers: BTreeMap<String, String> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default();
            let json = serde_json::json!({
                "method": method, "version": version, "uri": uri,
                "headers": headers, "body": body,
            });
            full(StatusCode::OK, json.to_string())
        }
        _ => full(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(response)
}
