//! Vedette's probes: one module per protocol (like the `prober/` folder of the Prometheus
//! blackbox exporter), each `probe(check, .., ctx) -> Result<Observation, Failure>`, and
//! [`run_check`], which runs a monitor's check with its timeout, retries and assertions and
//! judges the result.

#![warn(missing_docs)]

mod cert;
pub mod context;
mod cron;
pub mod dns;
pub mod failure;
pub mod heartbeat;
pub mod http;
mod net;
mod stage;
pub mod tcp;
pub mod tls;

use std::time::Instant;

use vedette_model::assertion::AssertionSet;
use vedette_model::discovery::GatewayReading;
use vedette_model::spec::{DnsCheck, HeartbeatCheck, HttpCheck, TcpCheck, TlsCheck};
use vedette_model::{
    AssertionResult, Check, CheckResult, FailureReason, GatewaySeen, MonitorSpec, Observation,
    Outcome, Phases,
};

pub use context::{Clock, ProbeContext, ProbeError};
pub use cron::Schedule;
pub use failure::Failure;
pub use heartbeat::{HeartbeatVerdict, Ping};

/// What a probe goes out to: every kind of check but a heartbeat, which is judged from the
/// pings it receives ([`heartbeat::evaluate`]).
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An HTTP(S) request.
    Http(&'a HttpCheck),
    /// A TCP connection.
    Tcp(&'a TcpCheck),
    /// A DNS query.
    Dns(&'a DnsCheck),
    /// A TLS handshake.
    Tls(&'a TlsCheck),
}

impl<'a> Target<'a> {
    /// What `check` probes, or the heartbeat it is instead.
    pub fn of(check: &'a Check) -> Result<Self, &'a HeartbeatCheck> {
        match check {
            Check::Http(http) => Ok(Self::Http(http)),
            Check::Tcp(tcp) => Ok(Self::Tcp(tcp)),
            Check::Dns(dns) => Ok(Self::Dns(dns)),
            Check::Tls(tls) => Ok(Self::Tls(tls)),
            Check::Heartbeat(heartbeat) => Err(heartbeat),
        }
    }
}

/// Runs one check of `target`, the check of `spec`: up to `1 + spec.retries` attempts, each bounded by `spec.timeout` (reason `timeout`), re-checking
/// at once after a failed attempt; evaluates `assertions` on the observation; and decides the
/// outcome: down on failure, degraded when up but slower than `degraded_after`, else up.
/// `gateway` is the latest upstream health of a discovered monitor's gateway, which the
/// assertions see as `gateway.healthy` and the result keeps (when known). Never panics.
pub async fn run_check(
    monitor_id: &str,
    target: Target<'_>,
    spec: &MonitorSpec,
    assertions: &AssertionSet,
    gateway: Option<&GatewayReading>,
    ctx: &ProbeContext,
) -> CheckResult {
    let attempts = spec.retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        let started_at = ctx.now();
        let result = run_attempt(target, spec, assertions, gateway, ctx).await;
        // A spec that cannot run as written fails the same way on every attempt.
        let done = match &result {
            Ok(_) => true,
            Err((failure, _)) => attempt >= attempts || failure.reason == FailureReason::Config,
        };
        if done {
            let mut checked = judge(monitor_id, target, spec, started_at, attempt, result);
            checked.gateway = gateway.and_then(GatewaySeen::of);
            return checked;
        }
        attempt += 1;
    }
}

/// What one attempt produced: an observation with its evaluated assertions, or a failure.
type AttemptResult = Result<(Observation, Vec<AssertionResult>), (Failure, Vec<AssertionResult>)>;

async fn run_attempt(
    target: Target<'_>,
    spec: &MonitorSpec,
    assertions: &AssertionSet,
    gateway: Option<&GatewayReading>,
    ctx: &ProbeContext,
) -> AttemptResult {
    let start = Instant::now();
    let started_at = ctx.now();
    let stage = stage::Stage::default();
    let probed = tokio::time::timeout(
        spec.timeout.std(),
        stage.run(probe(target, assertions, ctx)),
    )
    .await;
    let mut observation = match probed {
        Ok(Ok(observation)) => observation,
        Ok(Err(failure)) => return Err((failure, Vec::new())),
        Err(_) => {
            let observation = Observation {
                started_at,
                phases: Phases {
                    total_ms: failure::ms_since(start),
                    ..Phases::default()
                },
                ..Observation::default()
            };
            let message = match stage.last() {
                Some(step) => format!("timed out after {} {step}", spec.timeout),
                None => format!("timed out after {}", spec.timeout),
            };
            return Err((
                Failure::new(FailureReason::Timeout, message, observation),
                Vec::new(),
            ));
        }
    };
    if assertions.is_empty() {
        return Ok((observation, Vec::new()));
    }
    observation.gateway = gateway.cloned();
    let results = assertions.evaluate(&observation);
    let failed: Vec<&AssertionResult> = results.iter().filter(|r| !r.passed).collect();
    let Some(first) = failed.first() else {
        return Ok((observation, results));
    };
    let what = if first.actual.is_empty() {
        &first.expression
    } else {
        &first.actual
    };
    let detail = match &first.error {
        Some(error) => format!("{what} ({error})"),
        None => what.clone(),
    };
    let message = format!(
        "{} of {} {} failed: {detail}",
        failed.len(),
        results.len(),
        if results.len() == 1 {
            "assertion"
        } else {
            "assertions"
        }
    );
    let failure = Failure::new(FailureReason::Assertion, message, observation);
    Err((failure, results))
}

async fn probe(
    target: Target<'_>,
    assertions: &AssertionSet,
    ctx: &ProbeContext,
) -> Result<Observation, Failure> {
    match target {
        Target::Http(check) => {
            let opts = http::HttpOptions {
                read_body: assertions.needs_body(),
                check_status: !assertions.mentions_status(),
            };
            http::probe(check, opts, ctx).await
        }
        Target::Tcp(check) => tcp::probe(check, ctx).await,
        Target::Dns(check) => dns::probe(check, ctx).await,
        Target::Tls(check) => tls::probe(check, ctx).await,
    }
}

fn judge(
    monitor_id: &str,
    target: Target<'_>,
    spec: &MonitorSpec,
    started_at: chrono::DateTime<chrono::Utc>,
    attempts: u32,
    result: AttemptResult,
) -> CheckResult {
    let (outcome, reason, message, observation, assertions) = match result {
        Ok((observation, assertions)) => {
            let slow = spec
                .degraded_after
                .is_some_and(|limit| observation.phases.total_ms > limit.as_millis() as f64);
            let outcome = if slow { Outcome::Degraded } else { Outcome::Up };
            let mut message = summary(target, &observation);
            if let (true, Some(limit)) = (slow, spec.degraded_after) {
                message.push_str(&format!(" (slower than {limit})"));
            }
            (outcome, None, message, observation, assertions)
        }
        Err((failure, assertions)) => (
            Outcome::Down,
            Some(failure.reason),
            failure.message,
            failure.observation,
            assertions,
        ),
    };
    CheckResult {
        monitor_id: monitor_id.to_owned(),
        started_at,
        outcome,
        reason,
        message,
        phases: observation.phases,
        status_code: observation.status,
        cert_not_after: observation.cert.as_ref().map(|c| c.not_after),
        assertions,
        attempts,
        in_maintenance: false,
        gateway: None,
    }
}

/// The one-line summary of a successful check, e.g. `HTTP 200 in 12 ms`.
fn summary(target: Target<'_>, obs: &Observation) -> String {
    let ms = obs.phases.total_ms.round();
    match target {
        Target::Http(_) => match obs.status {
            Some(status) => format!("HTTP {status} in {ms} ms"),
            None => format!("HTTP response in {ms} ms"),
        },
        Target::Tcp(_) => match &obs.tcp_response {
            Some(_) => format!("connected and matched in {ms} ms"),
            None => format!("connected in {ms} ms"),
        },
        Target::Dns(_) => match &obs.dns {
            Some(dns) => format!(
                "{} with {} answers in {ms} ms",
                dns.rcode,
                dns.answers.len()
            ),
            None => format!("answered in {ms} ms"),
        },
        Target::Tls(_) => match &obs.cert {
            Some(cert) => format!(
                "certificate valid until {} (handshake in {ms} ms)",
                cert.not_after.format("%Y-%m-%d")
            ),
            None => format!("handshake in {ms} ms"),
        },
    }
}
