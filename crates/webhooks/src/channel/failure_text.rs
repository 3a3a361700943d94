//! What a failed delivery says, in the terms of whoever runs the receiver: "connection
//! refused by hooks.example.com:443", "TLS certificate of hooks.example.com is not trusted",
//! "no response from hooks.example.com:443 within 15s", "receiver answered 500 Internal
//! Server Error: <the body's first line>", instead of the clients' chains of causes ("client
//! error (Connect)"). HTTP uses all of it, SMTP the network and TLS part
//! ([`network_cause`]). No text here ever holds the endpoint's URL (its path, query or
//! userinfo may carry a token): only its host and port.

use reqwest::Url;

/// How long the HTTP client waits for a connection to open, whatever the endpoint's timeout.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest excerpt of a receiver's body quoted in an error, in characters.
pub(crate) const BODY_EXCERPT_CHARS: usize = 200;

/// `host:port` of `url`, the port being the scheme's default when the URL names none.
pub(crate) fn target(url: &Url) -> String {
    let host = url.host_str().unwrap_or("the receiver");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Why a request got no answer (it could not be sent, or no response came): the first cause
/// of `e` people can act on, naming `url`'s host and port. `timeout` is the endpoint's own
/// request timeout, as configured (`15s`).
pub(crate) fn transport(e: &reqwest::Error, url: &Url, timeout: &str) -> String {
    let target = target(url);
    let host = url.host_str().unwrap_or("the receiver");
    let causes = causes(e);
    if let Some(tls) = causes.iter().find_map(|c| rustls_error(*c)) {
        return tls_text(tls, host, &target);
    }
    if e.is_timeout() {
        return if e.is_connect() {
            format!(
                "timed out connecting to {target} (no answer within {}s)",
                CONNECT_TIMEOUT.as_secs()
            )
        } else {
            format!("no response from {target} within {timeout} (the endpoint's timeout)")
        };
    }
    if let Some(text) = dns_text(&causes, host) {
        return text;
    }
    if let Some(io) = causes
        .iter()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        && let Some(text) = io_text(io, &target)
    {
        return text;
    }
    let detail = details(&causes);
    if detail.is_empty() {
        format!("request to {target} failed")
    } else {
        format!("request to {target} failed: {}", detail.join(": "))
    }
}

/// The texts of `causes` worth showing: without the wrappers that only repeat their source.
fn details(causes: &[&(dyn std::error::Error + 'static)]) -> Vec<String> {
    causes
        .iter()
        .map(ToString::to_string)
        .filter(|t| !is_wrapper(t))
        .collect()
}

/// Why reading an answered request's body failed.
pub(crate) fn body(e: &reqwest::Error, url: &Url, timeout: &str) -> String {
    let target = target(url);
    if e.is_timeout() {
        return format!(
            "{target} sent its status but not its whole body within {timeout} (the endpoint's timeout)"
        );
    }
    let detail = details(&causes(e));
    if detail
        .iter()
        .any(|d| d.starts_with("end of file before message"))
    {
        return format!("{target} closed the connection before sending its whole body");
    }
    format!(
        "{target} broke off its response body: {}",
        if detail.is_empty() {
            "connection lost".to_owned()
        } else {
            detail.join(": ")
        }
    )
}

/// Why an answered request was not a delivery: the status with its reason phrase, what a
/// redirect would need, and the first [`BODY_EXCERPT_CHARS`] characters of the body on one
/// line. `location` is a redirect's `Location`, of which only the host is shown.
pub(crate) fn status(
    status: reqwest::StatusCode,
    body: &str,
    location: Option<&str>,
    url: &Url,
) -> String {
    let mut text = match status.canonical_reason() {
        Some(reason) => format!("receiver answered {} {reason}", status.as_u16()),
        None => format!("receiver answered {}", status.as_u16()),
    };
    if status.is_redirection() {
        let to = location
            .and_then(|l| url.join(l).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        text.push_str(", a redirect");
        if let Some(host) = to {
            text.push_str(&format!(" to {host}"));
        }
        text.push_str(
            ": webhooks do not follow redirects; set the endpoint's URL to where it leads",
        );
        return text;
    }
    let excerpt = excerpt(body);
    if !excerpt.is_empty() {
        text.push_str(": ");
        text.push_str(&excerpt);
    }
    text
}

/// The values in `url` that may be credentials: the userinfo's password and name, every query
/// value, and every path segment of 16 characters or more (Slack-style `/services/T/B/token`).
/// Redacted from whatever the receiver sends back, which may echo the request.
pub(crate) fn url_secrets(url: &Url) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = url.password() {
        out.push(p.to_owned());
    }
    if !url.username().is_empty() {
        out.push(url.username().to_owned());
    }
    for (_, v) in url.query_pairs() {
        out.push(v.into_owned());
    }
    if let Some(segments) = url.path_segments() {
        out.extend(
            segments
                .filter(|s| s.chars().count() >= 16)
                .map(str::to_owned),
        );
    }
    out
}

/// `body` on one line: whitespace runs become one space, control characters go, and it is cut
/// to [`BODY_EXCERPT_CHARS`] characters with `…` when longer.
fn excerpt(body: &str) -> String {
    let flat: String = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= BODY_EXCERPT_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(BODY_EXCERPT_CHARS).collect();
    cut.push('…');
    cut
}

/// The chain of causes under `e` (not `e` itself, whose text is reqwest's kind).
fn causes(e: &reqwest::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push(s);
        source = s.source();
    }
    out
}

/// The network or TLS problem in `e` or its causes, in plain words naming `host` (the name
/// the certificate must hold) and `target` (`host:port`), when there is one.
pub(crate) fn network_cause(
    e: &(dyn std::error::Error + 'static),
    host: &str,
    target: &str,
) -> Option<String> {
    let mut link = Some(e);
    while let Some(cause) = link {
        if let Some(tls) = rustls_error(cause) {
            return Some(tls_text(tls, host, target));
        }
        if let Some(text) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io_text(io, target))
        {
            return Some(text);
        }
        link = cause.source();
    }
    None
}

/// Links of the client's chain that only say which layer failed.
fn is_wrapper(text: &str) -> bool {
    text.starts_with("client error (")
        || text == "error sending request"
        || text == "tcp connect error"
        || text == "dns error"
        || text == "error resolving DNS"
        || text == "request or response body error"
        || text == "error reading a body from connection"
}

/// A TLS error in the chain, as rustls raised it: directly, or inside I/O errors (which the
/// client nests, and whose `source` skips the error they wrap).
fn rustls_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: &(dyn std::error::Error + 'static) = cause;
    for _ in 0..8 {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

fn tls_text(e: &rustls::Error, host: &str, target: &str) -> String {
    use rustls::CertificateError as C;
    let certificate = |what: &str| format!("TLS certificate of {host} {what}");
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => certificate(
                "is not trusted: it is self-signed or issued by an authority outside the public roots",
            ),
            C::Expired | C::ExpiredContext { .. } => certificate("has expired"),
            C::NotValidYet | C::NotValidYetContext { .. } => certificate("is not valid yet"),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("TLS certificate presented by {target} is not valid for the name {host}")
            }
            C::Revoked => certificate("has been revoked"),
            other => certificate(&format!("was refused: {other}")),
        },
        rustls::Error::AlertReceived(alert) => {
            format!("{target} refused the TLS handshake (alert: {alert:?})")
        }
        rustls::Error::InvalidMessage(_) => format!(
            "TLS handshake with {target} failed: the server did not answer in TLS (is it plain HTTP? then use an http:// URL)"
        ),
        other => format!("TLS handshake with {target} failed: {other}"),
    }
}

/// A name that did not resolve, or the SSRF guard's refusal of what it resolved to.
fn dns_text(causes: &[&(dyn std::error::Error + 'static)], host: &str) -> Option<String> {
    let at = causes.iter().position(|c| c.to_string() == "dns error")?;
    let detail = causes[at + 1..].last().map(ToString::to_string);
    Some(match detail {
        Some(d) if d.contains("SSRF guard") => d,
        Some(d)
            if d.contains("Name or service not known")
                || d.contains("No address associated")
                || d.contains("nodename nor servname") =>
        {
            format!("DNS name {host} not found")
        }
        Some(d) => {
            let d = d
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&d);
            format!("cannot resolve {host}: {d}")
        }
        None => format!("cannot resolve {host}"),
    })
}

fn io_text(e: &std::io::Error, target: &str) -> Option<String> {
    use std::io::ErrorKind as K;
    Some(match e.kind() {
        K::ConnectionRefused => {
            format!("connection refused by {target} (nothing listens on that port)")
        }
        K::ConnectionReset => format!("connection reset by {target}"),
        K::ConnectionAborted => format!("connection aborted by {target}"),
        K::HostUnreachable => format!("host unreachable: {target}"),
        K::NetworkUnreachable => format!("network unreachable: {target}"),
        K::TimedOut => format!("timed out connecting to {target}"),
        K::UnexpectedEof => format!("{target} closed the connection without answering"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_quote_a_bounded_excerpt_on_one_line() {
        let url = Url::parse("https://hooks.example.com/in").unwrap();
        let status = |code: u16, body: &str, location: Option<&str>| {
            super::status(
                reqwest::StatusCode::from_u16(code).unwrap(),
                body,
                location,
                &url,
            )
        };
        assert_eq!(
            status(500, "oops:\n\tdatabase\r\n down\u{7}", None),
            "receiver answered 500 Internal Server Error: oops: database down"
        );
        assert_eq!(
            status(503, "", None),
            "receiver answered 503 Service Unavailable"
        );
        assert_eq!(status(599, " ", None), "receiver answered 599");
        let long = "x".repeat(5000);
        assert_eq!(
            status(400, &long, None),
            format!("receiver answered 400 Bad Request: {}…", "x".repeat(200))
        );
        assert_eq!(
            status(302, "", Some("https://other.example.net/new?token=abc")),
            "receiver answered 302 Found, a redirect to other.example.net: webhooks do not \
             follow redirects; set the endpoint's URL to where it leads"
        );
        assert_eq!(
            status(301, "", Some("/elsewhere")),
            "receiver answered 301 Moved Permanently, a redirect to hooks.example.com: webhooks \
             do not follow redirects; set the endpoint's URL to where it leads"
        );
    }

    #[test]
    fn url_credentials_are_listed_for_redaction() {
        let url = Url::parse(
            "https://bot:pa55word@hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?token=t0k3n&x=1",
        )
        .unwrap();
        assert_eq!(
            url_secrets(&url),
            ["pa55word", "bot", "t0k3n", "1", "XXXXXXXXXXXXXXXXXXXXXXXX"]
        );
        assert_eq!(target(&url), "hooks.example.com:443");
    }
}
