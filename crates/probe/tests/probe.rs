//! Probe tests against real targets started on 127.0.0.1 by the tests themselves.

#[path = "support/mod.rs"]
mod support;

#[path = "cases/dns.rs"]
mod dns;
#[path = "cases/heartbeat.rs"]
mod heartbeat;
#[path = "cases/http.rs"]
mod http;
#[path = "cases/tcp.rs"]
mod tcp;
#[path = "cases/tls.rs"]
mod tls;

use std::net::SocketAddr;

use vedette_model::assertion::AssertionSet;
use vedette_model::{CheckResult, MonitorSpec};
use vedette_probe::{ProbeContext, run_check};

/// A context whose resolver is `dns` (nothing listens on the default one: every name used
/// without a test DNS server is an IP literal or `localhost`).
fn ctx_with(dns: SocketAddr) -> ProbeContext {
    ProbeContext::with_resolver(dns).expect("context")
}

fn ctx() -> ProbeContext {
    ctx_with(support::closed_port())
}

/// Runs `spec` with its own assertions compiled.
async fn check(spec: &MonitorSpec, ctx: &ProbeContext) -> CheckResult {
    let assertions = AssertionSet::compile(&spec.assertions).expect("assertions compile");
    run_check("test", spec, &assertions, ctx).await
}

#[test]
fn system_context_builds() {
    // Only built, never used for lookups: tests send no traffic beyond 127.0.0.1.
    let ctx = ProbeContext::new().expect("system resolver configuration");
    assert!(format!("{ctx:?}").starts_with("ProbeContext"));
}

#[tokio::test]
async fn specs_that_cannot_run_are_config_failures() {
    use vedette_model::spec::HeartbeatCheck;
    use vedette_model::{Duration, FailureReason, Outcome};

    let empty = MonitorSpec::empty();
    let result = check(&empty, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Down);
    assert_eq!(result.reason, Some(FailureReason::Config));

    let heartbeat = MonitorSpec {
        heartbeat: Some(HeartbeatCheck {
            schedule: None,
            grace: Duration::from_secs(60),
            token: None,
        }),
        ..MonitorSpec::empty()
    };
    assert_eq!(
        check(&heartbeat, &ctx()).await.reason,
        Some(FailureReason::Config)
    );
}
