//! Probe tests against real targets started on 127.0.0.1 by the tests themselves.

#[path = "support/mod.rs"]
mod support;

#[path = "cases/dns.rs"]
mod dns;
#[path = "cases/heartbeat.rs"]
mod heartbeat;
#[path = "cases/http.rs"]
mod http;
#[path = "cases/messages.rs"]
mod messages;
#[path = "cases/tcp.rs"]
mod tcp;
#[path = "cases/tls.rs"]
mod tls;

use std::net::SocketAddr;

use vedette_model::assertion::AssertionSet;
use vedette_model::{CheckResult, MonitorSpec};
use vedette_probe::{ProbeContext, Target, run_check};

/// A context whose resolver is `dns` (nothing listens on the default one: every name used
/// without a test DNS server is an IP literal or `localhost`).
fn ctx_with(dns: SocketAddr) -> ProbeContext {
    ProbeContext::with_resolver(dns).expect("context")
}

fn ctx() -> ProbeContext {
    ctx_with(support::closed_port())
}

/// Runs `spec` (not a heartbeat) with its own assertions compiled.
async fn check(spec: &MonitorSpec, ctx: &ProbeContext) -> CheckResult {
    let assertions = AssertionSet::compile(&spec.assertions).expect("assertions compile");
    let target = Target::of(&spec.check).expect("a probed check");
    run_check("test", target, spec, &assertions, None, ctx).await
}

#[test]
fn system_context_builds() {
    // Only built, never used for lookups: tests send no traffic beyond 127.0.0.1.
    let ctx = ProbeContext::new().expect("system resolver configuration");
    assert!(format!("{ctx:?}").starts_with("ProbeContext"));
}
