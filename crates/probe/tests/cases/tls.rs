//! TLS check: certificate facts, verification failures in words, SNI, custom CA, clock.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use vedette_model::spec::TlsCheck;
use vedette_model::{Duration, FailureReason, MonitorSpec, Outcome};
use vedette_probe::tls::probe;

use super::support::certs::{TestCa, self_signed};
use super::support::{closed_port, http};
use super::{check, ctx};

fn tls_check(port: u16, ca: Option<&TestCa>) -> TlsCheck {
    TlsCheck {
        host: "127.0.0.1".to_owned(),
        port,
        server_name: Some("localhost".to_owned()),
        ca_cert: ca.map(|ca| ca.pem.clone()),
        verify: true,
        expiry_warning: Duration::from_secs(14 * 86_400),
    }
}

fn spec(check: TlsCheck) -> MonitorSpec {
    MonitorSpec::new(check)
}

#[tokio::test]
async fn valid_certificate_facts() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.leaf(&["localhost", "127.0.0.1"])).await;
    let obs = probe(&tls_check(server.addr.port(), Some(&ca)), &ctx())
        .await
        .expect("valid");
    let cert = obs.cert.expect("cert");
    assert!(cert.chain_valid && cert.hostname_match, "{cert:?}");
    assert_eq!(
        cert.sans,
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    );
    assert!(
        cert.subject.contains("vedette test server"),
        "{}",
        cert.subject
    );
    assert!(cert.issuer.contains("Vedette Test CA"), "{}", cert.issuer);
    let now = Utc::now();
    assert!(cert.not_before < now && now < cert.not_after);
    let p = obs.phases;
    assert!(p.connect_ms.expect("connect") + p.tls_ms.expect("tls") <= p.total_ms);
    assert_eq!(p.first_byte_ms, None);

    let result = check(&spec(tls_check(server.addr.port(), Some(&ca))), &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert_eq!(result.cert_not_after, Some(cert.not_after));
    assert!(
        result.message.starts_with("certificate valid until"),
        "{}",
        result.message
    );
}

#[tokio::test]
async fn expired_certificate() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.expired_leaf(&["localhost"], 3)).await;
    let failure = probe(&tls_check(server.addr.port(), Some(&ca)), &ctx())
        .await
        .expect_err("expired");
    assert_eq!(failure.reason, FailureReason::Tls);
    assert_eq!(failure.message, "certificate expired 3 days ago");
    let cert = failure.observation.cert.expect("facts kept");
    assert!(cert.not_after < Utc::now());
    assert!(!cert.chain_valid && cert.hostname_match, "{cert:?}");

    let mut lenient = tls_check(server.addr.port(), Some(&ca));
    lenient.verify = false;
    let obs = probe(&lenient, &ctx()).await.expect("verify off");
    assert!(!obs.cert.expect("cert").chain_valid);
}

#[tokio::test]
async fn wrong_hostname_and_untrusted_issuer() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.leaf(&["other.example"])).await;
    let failure = probe(&tls_check(server.addr.port(), Some(&ca)), &ctx())
        .await
        .expect_err("wrong name");
    assert_eq!(failure.reason, FailureReason::Tls);
    assert!(
        failure
            .message
            .starts_with("certificate is not valid for name localhost"),
        "{}",
        failure.message
    );
    let cert = failure.observation.cert.expect("cert");
    assert!(cert.chain_valid && !cert.hostname_match, "{cert:?}");

    let server = http::serve_tls(&self_signed(&["localhost"])).await;
    let failure = probe(&tls_check(server.addr.port(), None), &ctx())
        .await
        .expect_err("self-signed");
    assert!(
        failure.message.contains("not trusted"),
        "{}",
        failure.message
    );
    let mut lenient = tls_check(server.addr.port(), None);
    lenient.verify = false;
    assert!(probe(&lenient, &ctx()).await.is_ok());
}

#[tokio::test]
async fn clock_decides_expiry() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.leaf(&["localhost"])).await;
    let later = Utc::now() + TimeDelta::days(400);
    let ctx = ctx().with_clock(Arc::new(move || later));
    let failure = probe(&tls_check(server.addr.port(), Some(&ca)), &ctx)
        .await
        .expect_err("expired by then");
    assert!(
        failure.message.starts_with("certificate expired"),
        "{}",
        failure.message
    );
    assert_eq!(failure.observation.started_at, later);
}

#[tokio::test]
async fn connect_failure_and_not_tls() {
    let addr = closed_port();
    let failure = probe(&tls_check(addr.port(), None), &ctx())
        .await
        .expect_err("closed");
    assert_eq!(failure.reason, FailureReason::Connect);

    let plain = http::serve().await;
    let failure = probe(&tls_check(plain.addr.port(), None), &ctx())
        .await
        .expect_err("plain HTTP");
    assert_eq!(failure.reason, FailureReason::Tls);
    assert_eq!(
        failure.message,
        format!(
            "TLS handshake with {} failed: the server did not answer in TLS (is it plain HTTP \
             or another protocol on this port?)",
            plain.addr
        )
    );
}
