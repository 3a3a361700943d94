//! HTTP(S) probe on hyper's connection API, so every phase is measured where it happens:
//! resolve, TCP connect, TLS handshake (ALPN `h2` / `http/1.1`), first byte, body.

use std::collections::HashSet;
use std::time::Instant;

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use url::Url;
use vedette_model::spec::{HttpAuth, HttpCheck, HttpMethod, HttpVersion, redact_url};
use vedette_model::{FailureReason, Observation};

use crate::ProbeContext;
use crate::failure::{Failure, Trace, ms_since};
use crate::tls::{self, Alpn, TlsTarget};
use crate::{net, stage};

/// The `User-Agent` sent unless the check sets its own.
pub const USER_AGENT: &str = concat!("Vedette/", env!("CARGO_PKG_VERSION"));

/// How the caller wants the response handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpOptions {
    /// Read the body (up to `max_body_bytes`) into the observation; only assertions need it.
    pub read_body: bool,
    /// Fail with reason `status` on a final status outside 2xx/3xx (off when an assertion
    /// judges `status` itself).
    pub check_status: bool,
}

/// Sends `check`'s request, following redirects as configured, and observes the final
/// response: status, lowercased headers, certificate, phases (summed over redirect hops) and,
/// with `opts.read_body`, the body.
pub async fn probe(
    check: &HttpCheck,
    opts: HttpOptions,
    ctx: &ProbeContext,
) -> Result<Observation, Failure> {
    let mut trace = Trace::start(ctx.now());
    let original = parse_url(&check.url).map_err(|m| trace.fail(FailureReason::Config, m))?;
    let extra_headers = user_headers(check).map_err(|m| trace.fail(FailureReason::Config, m))?;

    let mut url = original.clone();
    let mut method = method(check.method);
    let mut body = check.body.clone().map(Bytes::from).unwrap_or_default();
    let mut visited = HashSet::from([url.to_string()]);
    let mut redirects = 0u32;
    loop {
        // Credentials and custom headers go only to the origin the check names.
        let same_origin = url.origin() == original.origin();
        let hop = Hop {
            url: &url,
            method: method.clone(),
            body: body.clone(),
            headers: if same_origin {
                Some(&extra_headers)
            } else {
                None
            },
        };
        let (response, guard) = exchange(check, hop, ctx, &mut trace).await?;
        let status = response.status();
        let location = response.headers().get(header::LOCATION).cloned();
        if check.follow_redirects
            && status.is_redirection()
            && let Some(location) = location
        {
            let next =
                next_url(&url, &location).map_err(|m| trace.fail(FailureReason::Redirect, m))?;
            if redirects >= check.max_redirects {
                return Err(trace.fail(
                    FailureReason::Redirect,
                    format!("too many redirects (more than {})", check.max_redirects),
                ));
            }
            if !visited.insert(next.to_string()) {
                return Err(trace.fail(
                    FailureReason::Redirect,
                    format!("redirect loop: {url} redirects back to {next}"),
                ));
            }
            redirects += 1;
            if matches!(status.as_u16(), 301..=303) && method != Method::HEAD {
                method = Method::GET;
                body = Bytes::new();
            }
            url = next;
            drop(guard);
            continue;
        }
        record_response(&response, &mut trace.obs);
        if opts.check_status && !(status.is_success() || status.is_redirection()) {
            return Err(trace.fail(
                FailureReason::Status,
                format!("HTTP {}", status_text(status)),
            ));
        }
        if opts.read_body && method != Method::HEAD {
            let bytes = read_body(response, check.max_body_bytes, &mut trace).await?;
            trace.obs.body = Some(bytes);
        }
        drop(guard);
        return Ok(trace.finish());
    }
}

/// One request of a redirect chain.
struct Hop<'a> {
    url: &'a Url,
    method: Method,
    body: Bytes,
    headers: Option<&'a HeaderMap>,
}

/// Aborts the task driving a connection when the response is no longer needed.
struct ConnectionGuard(JoinHandle<()>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Parses the check's URL. Credentials in it (refused by validation, but a monitor stored
/// before that may have them) are dropped: they were never sent, and every message that shows
/// the URL must not show them.
fn parse_url(raw: &str) -> Result<Url, String> {
    let shown = redact_url(raw);
    let mut url = Url::parse(raw).map_err(|e| format!("invalid URL {shown:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => {
            strip_credentials(&mut url);
            Ok(url)
        }
        "http" | "https" => Err(format!("URL {shown:?} has no host")),
        other => Err(format!(
            "unsupported URL scheme {other:?} (use http or https)"
        )),
    }
}

/// Removes `user:password@` from an http(s) URL.
fn strip_credentials(url: &mut Url) {
    // Both only fail for URLs that cannot have a host, which http(s) URLs always have.
    let _ = url.set_username("");
    let _ = url.set_password(None);
}

fn next_url(current: &Url, location: &HeaderValue) -> Result<Url, String> {
    let location = location
        .to_str()
        .map_err(|_| "redirect with a non-ASCII Location header".to_owned())?;
    let shown = redact_url(location);
    let mut next = current
        .join(location)
        .map_err(|e| format!("redirect to an invalid Location {shown:?}: {e}"))?;
    match next.scheme() {
        "http" | "https" if next.host_str().is_some() => {
            strip_credentials(&mut next);
            Ok(next)
        }
        _ => Err(format!("redirect to an unsupported location {shown:?}")),
    }
}

fn method(m: HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
    }
}

/// The check's own headers plus `User-Agent` and `Authorization` unless it sets them.
fn user_headers(check: &HttpCheck) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &check.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        headers.append(name, value);
    }
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    }
    if let Some(auth) = &check.auth
        && !headers.contains_key(header::AUTHORIZATION)
    {
        let value = match auth {
            HttpAuth::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            HttpAuth::Bearer { token } => format!("Bearer {}", token.expose()),
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| "credentials contain characters not allowed in a header".to_owned())?;
        value.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, value);
    }
    Ok(headers)
}

/// Connects (resolve, TCP, TLS), sends one request and waits for the response headers.
async fn exchange(
    check: &HttpCheck,
    hop: Hop<'_>,
    ctx: &ProbeContext,
    trace: &mut Trace,
) -> Result<(Response<Incoming>, ConnectionGuard), Failure> {
    let url = hop.url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let https = url.scheme() == "https";
    let target = if https {
        let target = TlsTarget::new(host, check.ca_cert.as_deref(), check.tls_verify, ctx)
            .map_err(|m| trace.fail(FailureReason::Config, m))?;
        Some(target)
    } else {
        None
    };

    let addrs = net::resolve(host, ctx, trace).await?;
    let tcp = net::connect(&addrs, port, trace).await?;
    let (use_h2, sender) = match target {
        Some(target) => {
            let alpn = match check.version {
                HttpVersion::Auto => Alpn::Auto,
                HttpVersion::Http1 => Alpn::Http1,
                HttpVersion::Http2 => Alpn::Http2,
            };
            let stream = tls::handshake(tcp, &target, alpn, ctx, trace).await?;
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            if check.version == HttpVersion::Http2 && !h2 {
                return Err(trace.fail(
                    FailureReason::Protocol,
                    "server did not negotiate HTTP/2 (ALPN h2)",
                ));
            }
            (h2, handshake_http(stream, h2, trace).await?)
        }
        None => {
            let h2 = check.version == HttpVersion::Http2;
            (h2, handshake_http(tcp, h2, trace).await?)
        }
    };
    let (mut sender, guard) = sender;

    let request =
        build_request(&hop, host, use_h2).map_err(|m| trace.fail(FailureReason::Config, m))?;
    stage::enter(|| format!("waiting for the response from {host}:{port}"));
    let start = Instant::now();
    let response = sender.send(request).await;
    match response {
        Ok(response) => {
            stage::enter(|| format!("reading the response body from {host}:{port}"));
            Trace::add(&mut trace.obs.phases.first_byte_ms, ms_since(start));
            Ok((response, guard))
        }
        Err(e) => Err(trace.fail(
            FailureReason::Protocol,
            exchange_error(&e, &format!("{host}:{port}")),
        )),
    }
}

/// A request sender for either protocol.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn send(&mut self, request: Request<Full<Bytes>>) -> hyper::Result<Response<Incoming>> {
        match self {
            Self::Http1(s) => s.send_request(request).await,
            Self::Http2(s) => s.send_request(request).await,
        }
    }
}

async fn handshake_http<S>(
    stream: S,
    h2: bool,
    trace: &Trace,
) -> Result<(Sender, ConnectionGuard), Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(stream);
    let result = if h2 {
        hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map(|(sender, conn)| {
                let task = tokio::spawn(async move {
                    // The connection ends when the probe is done; its error is the response's.
                    let _ = conn.await;
                });
                (Sender::Http2(sender), ConnectionGuard(task))
            })
    } else {
        hyper::client::conn::http1::handshake(io)
            .await
            .map(|(sender, conn)| {
                let task = tokio::spawn(async move {
                    let _ = conn.await;
                });
                (Sender::Http1(sender), ConnectionGuard(task))
            })
    };
    result.map_err(|e| trace.fail(FailureReason::Protocol, hyper_error(&e)))
}

fn build_request(hop: &Hop<'_>, host: &str, h2: bool) -> Result<Request<Full<Bytes>>, String> {
    let url = hop.url;
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let mut authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    // HTTP/2 carries the authority in the URI (`:authority`), HTTP/1.1 in `Host`; a `Host`
    // header set by the check overrides it either way.
    let custom_host = hop
        .headers
        .and_then(|h| h.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    if let (true, Some(custom)) = (h2, custom_host) {
        authority = custom.to_owned();
    }
    let uri = if h2 {
        format!("{}://{authority}{path}", url.scheme())
    } else {
        path
    };
    let mut builder = Request::builder().method(hop.method.clone()).uri(uri);
    if let Some(headers) = builder.headers_mut() {
        match hop.headers {
            Some(extra) => headers.extend(extra.clone()),
            None => {
                headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
            }
        }
        if h2 {
            headers.remove(header::HOST);
        } else if !headers.contains_key(header::HOST) {
            let value = HeaderValue::from_str(&authority)
                .map_err(|_| format!("invalid host {authority:?}"))?;
            headers.insert(header::HOST, value);
        }
    }
    builder
        .body(Full::new(hop.body.clone()))
        .map_err(|e| format!("cannot build the request: {e}"))
}

fn record_response(response: &Response<Incoming>, obs: &mut Observation) {
    obs.status = Some(response.status().as_u16());
    obs.headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
}

/// Reads the body, never more than `max` bytes: a larger `Content-Length` fails up front, a
/// longer stream fails as soon as it passes the cap.
async fn read_body(
    response: Response<Incoming>,
    max: u64,
    trace: &mut Trace,
) -> Result<Vec<u8>, Failure> {
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared
        && len > max
    {
        return Err(trace.fail(
            FailureReason::BodyTooLarge,
            format!("body of {len} bytes (Content-Length) exceeds max_body_bytes {max}"),
        ));
    }
    let mut body = response.into_body();
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let text = hyper_error(&e);
            // hyper's kind for a body shorter than its length is not public; its text is.
            let message =
                if e.is_incomplete_message() || text.contains("end of file before message") {
                    "the server closed the connection before sending the whole body".to_owned()
                } else {
                    format!("reading the body failed: {text}")
                };
            trace.fail(FailureReason::Protocol, message)
        })?;
        if let Ok(data) = frame.into_data() {
            let total = buf.len() as u64 + data.len() as u64;
            if total > max {
                return Err(trace.fail(
                    FailureReason::BodyTooLarge,
                    format!("body exceeds max_body_bytes {max}"),
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Why a request to `peer` got no response, in plain words.
fn exchange_error(e: &hyper::Error, peer: &str) -> String {
    if e.is_incomplete_message() {
        format!("{peer} closed the connection without answering")
    } else if e.is_parse() {
        format!("{peer} did not answer in HTTP: {}", hyper_error(e))
    } else {
        format!("no response from {peer}: {}", hyper_error(e))
    }
}

/// A hyper error with its causes, e.g. `connection closed before message completed`.
fn hyper_error(e: &hyper::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
