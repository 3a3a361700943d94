//! TCP probe: connect, optionally send a payload and read until the reply matches `expect`.

use regex::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vedette_model::spec::TcpCheck;
use vedette_model::{FailureReason, Observation};

use crate::ProbeContext;
use crate::failure::{Failure, Trace};
use crate::{net, stage};

/// Most bytes of a reply that are read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Characters of the reply quoted in a failure message.
const QUOTE_CHARS: usize = 200;

/// Connects to `check.host:check.port`; sends `check.send` (escapes decoded) when set; when
/// `check.expect` is set, reads until the reply matches it, the peer closes, 64 KiB arrive or
/// the attempt times out, and fails with reason `protocol` when it does not match.
pub async fn probe(check: &TcpCheck, ctx: &ProbeContext) -> Result<Observation, Failure> {
    let mut trace = Trace::start(ctx.now());
    let expect = match check.expect.as_deref().map(Regex::new).transpose() {
        Ok(expect) => expect,
        Err(e) => return Err(trace.fail(FailureReason::Config, format!("invalid expect: {e}"))),
    };
    let addrs = net::resolve(&check.host, ctx, &mut trace).await?;
    let mut stream = net::connect(&addrs, check.port, &mut trace).await?;
    let peer = stream.peer_addr().map_or_else(
        |_| format!("{}:{}", check.host, check.port),
        |a| a.to_string(),
    );

    if let Some(send) = &check.send {
        let payload = decode_escapes(send);
        if let Err(e) = stream.write_all(payload.as_bytes()).await {
            return Err(trace.fail(
                FailureReason::Connect,
                format!("sending to {peer} failed: {}", net::io_problem(&e)),
            ));
        }
    }
    let Some(expect) = expect else {
        return Ok(trace.finish());
    };

    stage::enter(|| {
        format!(
            "waiting for a reply matching /{}/ from {peer}",
            expect.as_str()
        )
    });
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    let matched = loop {
        let room = MAX_RESPONSE_BYTES - reply.len();
        let want = room.min(chunk.len());
        let n = match stream.read(&mut chunk[..want]).await {
            Ok(n) => n,
            Err(e) => {
                trace.obs.tcp_response = Some(String::from_utf8_lossy(&reply).into_owned());
                return Err(trace.fail(
                    FailureReason::Connect,
                    format!("reading from {peer} failed: {}", net::io_problem(&e)),
                ));
            }
        };
        reply.extend_from_slice(&chunk[..n]);
        if expect.is_match(&String::from_utf8_lossy(&reply)) {
            break true;
        }
        if n == 0 || reply.len() >= MAX_RESPONSE_BYTES {
            break false;
        }
    };
    let text = String::from_utf8_lossy(&reply).into_owned();
    trace.obs.tcp_response = Some(text.clone());
    if matched {
        Ok(trace.finish())
    } else {
        Err(trace.fail(
            FailureReason::Protocol,
            format!(
                "response did not match /{}/: got {}",
                expect.as_str(),
                quote(&text)
            ),
        ))
    }
}

/// Decodes `\r`, `\n`, `\t` and `\\`; any other backslash is kept as written.
pub fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The reply as quoted in messages: debug-escaped, cut after [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    if text.chars().count() > QUOTE_CHARS {
        let head: String = text.chars().take(QUOTE_CHARS).collect();
        format!("{head:?}...(truncated)")
    } else {
        format!("{text:?}")
    }
}
