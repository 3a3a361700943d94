//! DNS probe against an in-memory authoritative server on 127.0.0.1.

use vedette_model::spec::{DnsCheck, DnsRecordType, DnsTransport};
use vedette_model::{FailureReason, MonitorSpec, Outcome};
use vedette_probe::dns::probe;

use super::support::dns::{DnsServer, serve};
use super::{check, ctx, ctx_with};

fn query(server: &DnsServer, name: &str, record_type: DnsRecordType) -> DnsCheck {
    DnsCheck {
        name: name.to_owned(),
        record_type,
        resolver: Some(server.addr.to_string()),
        transport: DnsTransport::Udp,
        expect: Vec::new(),
        rcode: "NOERROR".to_owned(),
    }
}

#[tokio::test]
async fn every_record_type_in_text_over_udp_and_tcp() {
    let server = serve().await;
    let cases: [(&str, DnsRecordType, &[&str]); 8] = [
        (
            "www.example.test",
            DnsRecordType::A,
            &["192.0.2.1", "192.0.2.2"],
        ),
        ("www.example.test", DnsRecordType::AAAA, &["2001:db8::1"]),
        (
            "alias.example.test",
            DnsRecordType::CNAME,
            &["www.example.test."],
        ),
        (
            "example.test",
            DnsRecordType::MX,
            &["10 mail.example.test."],
        ),
        ("example.test", DnsRecordType::TXT, &["v=spf1 -all"]),
        ("example.test", DnsRecordType::NS, &["ns1.example.test."]),
        (
            "example.test",
            DnsRecordType::SOA,
            &["ns1.example.test. admin.example.test. 2024010101 3600 600 86400 300"],
        ),
        (
            "_https._tcp.example.test",
            DnsRecordType::SRV,
            &["10 5 443 www.example.test."],
        ),
    ];
    for transport in [DnsTransport::Udp, DnsTransport::Tcp] {
        for (name, record_type, want) in cases {
            let mut check = query(&server, name, record_type);
            check.transport = transport;
            check.expect = want.iter().map(|s| (*s).to_owned()).collect();
            let obs = probe(&check, &ctx())
                .await
                .unwrap_or_else(|f| panic!("{name} {record_type:?} {transport:?}: {}", f.message));
            let dns = obs.dns.expect("dns info");
            assert_eq!(dns.rcode, "NOERROR");
            let mut answers = dns.answers.clone();
            answers.sort();
            assert_eq!(answers, want, "{name} {record_type:?} {transport:?}");
            assert!(obs.phases.dns_ms.is_some());
        }
    }
}

#[tokio::test]
async fn rcode_and_missing_answers() {
    let server = serve().await;
    let mut check = query(&server, "nope.example.test", DnsRecordType::A);
    let failure = probe(&check, &ctx()).await.expect_err("nxdomain");
    assert_eq!(failure.reason, FailureReason::Dns);
    assert_eq!(failure.message, "response code NXDOMAIN, expected NOERROR");
    assert_eq!(failure.observation.dns.expect("dns").rcode, "NXDOMAIN");

    check.rcode = "nxdomain".to_owned();
    let obs = probe(&check, &ctx()).await.expect("expected NXDOMAIN");
    assert!(obs.dns.expect("dns").answers.is_empty());

    let mut check = query(&server, "www.example.test", DnsRecordType::A);
    check.expect = vec!["192.0.2.1".to_owned(), "192.0.2.99".to_owned()];
    let failure = probe(&check, &ctx()).await.expect_err("missing one");
    assert_eq!(failure.reason, FailureReason::Dns);
    assert!(
        failure
            .message
            .starts_with("missing expected answers [192.0.2.99]; got ["),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn run_check_uses_the_context_resolver_by_default() {
    let server = serve().await;
    let mut dns = query(&server, "www.example.test", DnsRecordType::A);
    dns.resolver = None;
    let spec = MonitorSpec {
        assertions: vec![r#"dns.answers contains "192.0.2.2""#.to_owned()],
        ..MonitorSpec::new(dns)
    };
    let result = check(&spec, &ctx_with(server.addr)).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert!(
        result.message.starts_with("NOERROR with 2 answers"),
        "{}",
        result.message
    );

    let mut bad = query(&server, "www.example.test", DnsRecordType::A);
    bad.resolver = Some("not-an-ip".to_owned());
    let failure = probe(&bad, &ctx()).await.expect_err("bad resolver");
    assert_eq!(failure.reason, FailureReason::Config);
}

#[tokio::test]
async fn a_name_without_addresses_reads_as_plain_words() {
    let server = serve().await;
    // example.test has SOA, NS, MX and TXT records but no A or AAAA.
    let spec = MonitorSpec::http("http://example.test/");
    let result = check(&spec, &ctx_with(server.addr)).await;
    assert_eq!(result.outcome, Outcome::Down, "{}", result.message);
    assert!(
        result.message.contains("records for example.test"),
        "{}",
        result.message
    );
    assert!(!result.message.contains("Query {"), "{}", result.message);
    let spec = MonitorSpec::http("http://nowhere.example.test/");
    let result = check(&spec, &ctx_with(server.addr)).await;
    assert!(
        result
            .message
            .contains("nowhere.example.test does not exist (NXDOMAIN)"),
        "{}",
        result.message
    );
}
