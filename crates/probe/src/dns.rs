//! DNS probe: one query straight to a name server (UDP or TCP), so the response code and the
//! answer section are seen as the server sent them.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::net::client::{Client, ClientHandle};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::tcp::TcpClientStream;
use hickory_resolver::net::udp::UdpClientStream;
use hickory_resolver::net::{DnsHandle, NetError};
use hickory_resolver::proto::op::{DnsResponse, ResponseCode};
use hickory_resolver::proto::rr::{DNSClass, Name, RData, RecordType};
use tokio::task::JoinHandle;
use vedette_model::result::DnsInfo;
use vedette_model::spec::{DnsCheck, DnsRecordType, DnsTransport, parse_resolver};
use vedette_model::{FailureReason, Observation};

use crate::ProbeContext;
use crate::failure::{Failure, Trace, ms_since};

/// How long the DNS client itself waits; the attempt's timeout normally ends the wait first.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Queries `check.name` for `check.record_type` at `check.resolver` (or the context's first
/// name server) and compares the response code and answers with the expected ones.
pub async fn probe(check: &DnsCheck, ctx: &ProbeContext) -> Result<Observation, Failure> {
    let mut trace = Trace::start(ctx.now());
    let server = match &check.resolver {
        Some(raw) => parse_resolver(raw)
            .ok_or_else(|| trace.fail(FailureReason::Config, format!("invalid resolver {raw:?}"))),
        None => ctx
            .nameservers()
            .first()
            .copied()
            .ok_or_else(|| trace.fail(FailureReason::Config, "no system DNS server configured")),
    }?;
    let mut name = Name::from_ascii(&check.name).map_err(|e| {
        trace.fail(
            FailureReason::Config,
            format!("invalid name {:?}: {e}", check.name),
        )
    })?;
    name.set_fqdn(true);
    let record_type = record_type(check.record_type);

    let start = Instant::now();
    let response = query(server, check.transport, name, record_type).await;
    trace.obs.phases.dns_ms = Some(ms_since(start));
    let response = response.map_err(|e| {
        trace.fail(
            FailureReason::Dns,
            format!(
                "query to {server} failed: {}",
                crate::net::resolver_error_text(&e)
            ),
        )
    })?;

    let rcode = rcode_text(response.metadata.response_code);
    let answers: Vec<String> = response
        .answers
        .iter()
        .filter(|r| r.record_type() == record_type)
        .filter_map(|r| answer_text(&r.data))
        .collect();
    trace.obs.dns = Some(DnsInfo {
        rcode: rcode.clone(),
        answers: answers.clone(),
    });
    if response.metadata.truncation {
        return Err(trace.fail(
            FailureReason::Protocol,
            "answer truncated over UDP (use transport tcp)",
        ));
    }
    if !rcode.eq_ignore_ascii_case(check.rcode.trim()) {
        return Err(trace.fail(
            FailureReason::Dns,
            format!("response code {rcode}, expected {}", check.rcode.trim()),
        ));
    }
    let missing: Vec<&str> = check
        .expect
        .iter()
        .filter(|want| {
            !answers
                .iter()
                .any(|got| same_answer(record_type, want, got))
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(trace.fail(
            FailureReason::Dns,
            format!(
                "missing expected answers [{}]; got [{}]",
                missing.join(", "),
                answers.join(", ")
            ),
        ));
    }
    Ok(trace.finish())
}

/// Stops the DNS client's background task when the query is done.
struct BackgroundGuard(JoinHandle<()>);

impl Drop for BackgroundGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn query(
    server: SocketAddr,
    transport: DnsTransport,
    name: Name,
    record_type: RecordType,
) -> Result<DnsResponse, NetError> {
    let provider = TokioRuntimeProvider::default();
    match transport {
        DnsTransport::Udp => {
            let stream = UdpClientStream::builder(server, provider)
                .with_timeout(Some(CLIENT_TIMEOUT))
                .build();
            let (client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
            let _guard = BackgroundGuard(tokio::spawn(async move {
                let _ = background.await;
            }));
            ask(client, name, record_type).await
        }
        DnsTransport::Tcp => {
            let (connect, handle) =
                TcpClientStream::new(server, None, Some(CLIENT_TIMEOUT), provider);
            let stream = connect.await?;
            let (client, background) =
                Client::<TokioRuntimeProvider>::with_timeout(stream, handle, CLIENT_TIMEOUT);
            let _guard = BackgroundGuard(tokio::spawn(async move {
                let _ = background.await;
            }));
            ask(client, name, record_type).await
        }
    }
}

async fn ask<C: ClientHandle + DnsHandle>(
    mut client: C,
    name: Name,
    record_type: RecordType,
) -> Result<DnsResponse, NetError> {
    client.query(name, DNSClass::IN, record_type).await
}

fn record_type(t: DnsRecordType) -> RecordType {
    match t {
        DnsRecordType::A => RecordType::A,
        DnsRecordType::AAAA => RecordType::AAAA,
        DnsRecordType::CNAME => RecordType::CNAME,
        DnsRecordType::MX => RecordType::MX,
        DnsRecordType::TXT => RecordType::TXT,
        DnsRecordType::NS => RecordType::NS,
        DnsRecordType::SOA => RecordType::SOA,
        DnsRecordType::SRV => RecordType::SRV,
    }
}

/// The response code as written in zone files and `dig` output, e.g. `NXDOMAIN`.
pub fn rcode_text(code: ResponseCode) -> String {
    let text = match code {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("RCODE{}", u16::from(other)),
    };
    text.to_owned()
}

/// An answer in textual form: `192.0.2.1`, `10 mail.example.com.`, `10 5 443 host.`, the
/// joined TXT strings, `mname rname serial refresh retry expire minimum`.
fn answer_text(data: &RData) -> Option<String> {
    Some(match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(aaaa) => aaaa.0.to_string(),
        RData::CNAME(cname) => cname.0.to_string(),
        RData::NS(ns) => ns.0.to_string(),
        RData::MX(mx) => format!("{} {}", mx.preference, mx.exchange),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority, srv.weight, srv.port, srv.target
        ),
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|part| String::from_utf8_lossy(part))
            .collect::<String>(),
        RData::SOA(soa) => format!(
            "{} {} {} {} {} {} {}",
            soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
        ),
        _ => return None,
    })
}

/// TXT answers compare exactly; the others (names, addresses) case-insensitively and with or
/// without the final dot of a name.
fn same_answer(record_type: RecordType, want: &str, got: &str) -> bool {
    if record_type == RecordType::TXT {
        return want == got;
    }
    if let (Ok(want), Ok(got)) = (want.trim().parse::<IpAddr>(), got.parse::<IpAddr>()) {
        return want == got;
    }
    let norm = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
    norm(want) == norm(got)
}
