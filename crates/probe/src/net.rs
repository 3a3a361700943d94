//! Name resolution and TCP connect shared by the HTTP, TCP and TLS probes, each timed into the
//! observation's phases.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio::net::TcpStream;
use vedette_model::FailureReason;

use crate::ProbeContext;
use crate::failure::{Failure, Trace, ms_since};
use crate::stage;

/// Resolves `host` to addresses. IP literals (bracketed IPv6 too) skip DNS and leave `dns_ms`
/// untouched; names are looked up through the context's resolver and timed into `dns_ms`.
pub(crate) async fn resolve(
    host: &str,
    ctx: &ProbeContext,
    trace: &mut Trace,
) -> Result<Vec<IpAddr>, Failure> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    stage::enter(|| format!("resolving {host}"));
    let start = Instant::now();
    let lookup = ctx.resolver().lookup_ip(host).await;
    Trace::add(&mut trace.obs.phases.dns_ms, ms_since(start));
    match lookup {
        Ok(lookup) => {
            let addrs: Vec<IpAddr> = lookup.iter().collect();
            if addrs.is_empty() {
                Err(trace.fail(FailureReason::Dns, format!("no address found for {host}")))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(trace.fail(
            FailureReason::Dns,
            format!("cannot resolve {host}: {}", resolver_error_text(&e)),
        )),
    }
}

/// A resolver error as people read it: `no AAAA records for example.com` or `example.com does
/// not exist (NXDOMAIN)` instead of the resolver's debug dump of its query.
pub(crate) fn resolver_error_text(error: &hickory_resolver::net::NetError) -> String {
    use hickory_resolver::net::{DnsError, NetError};
    use hickory_resolver::proto::op::ResponseCode;
    match error {
        NetError::Dns(DnsError::NoRecordsFound(none)) => {
            let name = none.query.name().to_string();
            let name = name.trim_end_matches('.');
            if none.response_code == ResponseCode::NXDomain {
                format!("{name} does not exist (NXDOMAIN)")
            } else {
                format!("no {} records for {name}", none.query.query_type())
            }
        }
        other => other.to_string(),
    }
}

/// Connects to the first of `addrs` that accepts on `port`, timing all tries into `connect_ms`.
pub(crate) async fn connect(
    addrs: &[IpAddr],
    port: u16,
    trace: &mut Trace,
) -> Result<TcpStream, Failure> {
    let start = Instant::now();
    let mut last: Option<(SocketAddr, io::Error)> = None;
    for ip in addrs {
        let addr = SocketAddr::new(*ip, port);
        stage::enter(|| format!("connecting to {addr}"));
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                Trace::add(&mut trace.obs.phases.connect_ms, ms_since(start));
                // Latency matters more than throughput for small probe requests.
                if let Err(e) = stream.set_nodelay(true) {
                    return Err(trace.fail(FailureReason::Connect, format!("{addr}: {e}")));
                }
                return Ok(stream);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    Trace::add(&mut trace.obs.phases.connect_ms, ms_since(start));
    let message = match last {
        Some((addr, e)) => connect_error(addr, &e),
        None => "no address to connect to".to_owned(),
    };
    Err(trace.fail(FailureReason::Connect, message))
}

fn connect_error(addr: SocketAddr, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::TimedOut => format!("connect timed out ({addr})"),
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => format!("{} ({addr})", io_problem(e)),
        _ => format!("connect failed: {e} ({addr})"),
    }
}

/// An I/O error on a connection in plain words: `connection reset`, `connection refused`,
/// `closed by the peer`, or the system's text for anything else.
pub(crate) fn io_problem(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => "closed by the peer".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::{Query, ResponseCode};
    use hickory_resolver::proto::rr::{Name, RecordType};

    use super::resolver_error_text;

    #[test]
    fn no_records_read_as_plain_words() {
        let query = Query::query(Name::from_ascii("example.com.").unwrap(), RecordType::AAAA);
        let empty = NoRecords::new(query.clone(), ResponseCode::NoError).into();
        assert_eq!(
            resolver_error_text(&empty),
            "no AAAA records for example.com"
        );
        let nx = NoRecords::new(query, ResponseCode::NXDomain).into();
        assert_eq!(
            resolver_error_text(&nx),
            "example.com does not exist (NXDOMAIN)"
        );
    }
}
