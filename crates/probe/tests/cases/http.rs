//! HTTP(S) probe: phases, versions, bodies, redirects, timeouts, retries, TLS, assertions.

use std::sync::atomic::Ordering;
use std::time::{Duration as StdDuration, Instant};

use vedette_model::spec::{HttpAuth, HttpCheck, HttpMethod, HttpVersion, Secret};
use vedette_model::{Duration, FailureReason, MonitorSpec, Observation, Outcome};
use vedette_probe::Failure;
use vedette_probe::http::{HttpOptions, USER_AGENT, probe};

use super::support::certs::TestCa;
use super::support::{closed_port, dns, http};
use super::{check, ctx, ctx_with};

const READ: HttpOptions = HttpOptions {
    read_body: true,
    check_status: true,
};

fn echo_json(obs: &Observation) -> serde_json::Value {
    serde_json::from_slice(obs.body.as_deref().expect("body read")).expect("echo JSON")
}

async fn get(check: &HttpCheck) -> Result<Observation, Failure> {
    probe(check, READ, &ctx()).await
}

#[tokio::test]
async fn ok_has_ordered_phases_and_summary() {
    let server = http::serve().await;
    let result = check(&MonitorSpec::http(server.url("/ok")), &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert_eq!(result.status_code, Some(200));
    assert_eq!(result.attempts, 1);
    assert!(
        result.message.starts_with("HTTP 200 in "),
        "{}",
        result.message
    );
    assert!(result.message.ends_with(" ms"), "{}", result.message);
    let p = result.phases;
    assert_eq!(p.dns_ms, None, "an IP literal needs no DNS");
    assert_eq!(p.tls_ms, None);
    let connect = p.connect_ms.expect("connect_ms");
    let first_byte = p.first_byte_ms.expect("first_byte_ms");
    assert!(connect >= 0.0 && first_byte >= 0.0);
    assert!(connect + first_byte <= p.total_ms, "{p:?}");
}

#[tokio::test]
async fn https_phases_h2_and_certificate() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.leaf(&["localhost", "127.0.0.1"])).await;
    let mut check = HttpCheck::get(server.https_url("/echo"));
    check.ca_cert = Some(ca.pem.clone());
    let obs = get(&check).await.expect("https");
    assert_eq!(obs.status, Some(200));
    assert_eq!(echo_json(&obs)["version"], "HTTP/2.0", "ALPN auto picks h2");
    let p = obs.phases;
    let (connect, tls, first_byte) = (
        p.connect_ms.expect("connect"),
        p.tls_ms.expect("tls"),
        p.first_byte_ms.expect("first byte"),
    );
    assert!(connect + tls + first_byte <= p.total_ms, "{p:?}");
    let cert = obs.cert.expect("cert");
    assert!(cert.chain_valid && cert.hostname_match, "{cert:?}");
    assert!(cert.issuer.contains("Vedette Test CA"), "{}", cert.issuer);
    assert!(
        cert.sans.contains(&"127.0.0.1".to_owned()),
        "{:?}",
        cert.sans
    );
}

#[tokio::test]
async fn http_versions_over_tls_and_cleartext() {
    let ca = TestCa::new();
    let tls_server = http::serve_tls(&ca.leaf(&["127.0.0.1"])).await;
    let mut check = HttpCheck::get(tls_server.https_url("/echo"));
    check.ca_cert = Some(ca.pem.clone());
    check.version = HttpVersion::Http1;
    assert_eq!(
        echo_json(&get(&check).await.expect("h1"))["version"],
        "HTTP/1.1"
    );
    check.version = HttpVersion::Http2;
    assert_eq!(
        echo_json(&get(&check).await.expect("h2"))["version"],
        "HTTP/2.0"
    );

    let plain = http::serve().await;
    let mut check = HttpCheck::get(plain.url("/echo"));
    assert_eq!(
        echo_json(&get(&check).await.expect("auto"))["version"],
        "HTTP/1.1"
    );
    check.version = HttpVersion::Http2;
    let obs = get(&check).await.expect("prior knowledge");
    assert_eq!(echo_json(&obs)["version"], "HTTP/2.0");
}

#[tokio::test]
async fn request_carries_method_headers_body_auth_and_user_agent() {
    let server = http::serve().await;
    let mut check = HttpCheck::get(server.url("/echo?x=1"));
    check.method = HttpMethod::Post;
    check.body = Some(r#"{"hello":"world"}"#.to_owned());
    check
        .headers
        .insert("X-Team".to_owned(), "payments".to_owned());
    check.auth = Some(HttpAuth::Basic {
        username: "ops".to_owned(),
        password: Secret("s3cret".to_owned()),
    });
    let echo = echo_json(&get(&check).await.expect("echo"));
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], "/echo?x=1");
    assert_eq!(echo["body"], r#"{"hello":"world"}"#);
    assert_eq!(echo["headers"]["x-team"], "payments");
    assert_eq!(echo["headers"]["authorization"], "Basic b3BzOnMzY3JldA==");
    assert_eq!(echo["headers"]["user-agent"], USER_AGENT);
    assert_eq!(echo["headers"]["host"], server.addr.to_string());

    check.auth = Some(HttpAuth::Bearer {
        token: Secret("tok".to_owned()),
    });
    check.version = HttpVersion::Http2;
    let echo = echo_json(&get(&check).await.expect("echo h2"));
    assert_eq!(echo["headers"]["authorization"], "Bearer tok");
    assert_eq!(echo["method"], "POST");

    check
        .headers
        .insert("Host".to_owned(), "vhost.example".to_owned());
    let echo = echo_json(&get(&check).await.expect("vhost h2"));
    assert_eq!(echo["uri"], "http://vhost.example/echo?x=1");
    check.version = HttpVersion::Http1;
    let echo = echo_json(&get(&check).await.expect("vhost h1"));
    assert_eq!(echo["headers"]["host"], "vhost.example");
}

#[tokio::test]
async fn response_headers_are_lowercased_and_body_read_only_when_needed() {
    let server = http::serve().await;
    let check = HttpCheck::get(server.url("/ok"));
    let obs = probe(&check, HttpOptions::default(), &ctx())
        .await
        .expect("ok");
    assert!(obs.body.is_none());
    assert!(
        obs.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json"),
        "{:?}",
        obs.headers
    );
    assert!(obs.headers.iter().all(|(k, _)| *k == k.to_lowercase()));
}

#[tokio::test]
async fn body_limit_by_content_length_and_by_stream() {
    let server = http::serve().await;
    let mut check = HttpCheck::get(server.url("/large/2000"));
    check.max_body_bytes = 1000;
    let failure = get(&check).await.expect_err("too large");
    assert_eq!(failure.reason, FailureReason::BodyTooLarge);
    assert!(
        failure.message.contains("Content-Length"),
        "{}",
        failure.message
    );

    check.url = server.url("/chunked/5000");
    let failure = get(&check).await.expect_err("too large");
    assert_eq!(failure.reason, FailureReason::BodyTooLarge);
    assert!(
        failure.message.contains("max_body_bytes 1000"),
        "{}",
        failure.message
    );

    check.url = server.url("/chunked/3000");
    check.max_body_bytes = 3000;
    let obs = get(&check).await.expect("fits exactly");
    assert_eq!(obs.body.map(|b| b.len()), Some(3000));
}

#[tokio::test]
async fn redirects_followed_limited_and_not_followed() {
    let server = http::serve().await;
    let mut check = HttpCheck::get(server.url("/redirect/3"));
    let obs = get(&check).await.expect("followed");
    assert_eq!(obs.status, Some(200));
    assert_eq!(
        obs.body.as_deref(),
        Some(br#"{"status":"UP","items":[1,2,3]}"#.as_slice())
    );

    check.max_redirects = 3;
    let failure = get(&check).await.expect_err("4 hops > 3");
    assert_eq!(failure.reason, FailureReason::Redirect);
    assert!(
        failure.message.contains("too many redirects"),
        "{}",
        failure.message
    );

    check.url = server.url("/absolute/2");
    assert_eq!(get(&check).await.expect("absolute").status, Some(200));

    check.url = server.url("/loop/a");
    let failure = get(&check).await.expect_err("loop");
    assert_eq!(failure.reason, FailureReason::Redirect);
    assert!(
        failure.message.contains("redirect loop"),
        "{}",
        failure.message
    );

    check.url = server.url("/redirect/1");
    check.follow_redirects = false;
    let obs = get(&check).await.expect("3xx is final");
    assert_eq!(obs.status, Some(302));
    let location = obs.headers.iter().find(|(k, _)| k == "location");
    assert_eq!(location.map(|(_, v)| v.as_str()), Some("../redirect/0"));
}

#[tokio::test]
async fn see_other_switches_to_get_without_body() {
    let server = http::serve().await;
    let mut check = HttpCheck::get(server.url("/see-other"));
    check.method = HttpMethod::Post;
    check.body = Some("payload".to_owned());
    let echo = echo_json(&get(&check).await.expect("303"));
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["body"], "");
}

#[tokio::test]
async fn slow_handler_times_out_within_the_bound() {
    let server = http::serve().await;
    let mut spec = MonitorSpec::http(server.url("/slow/5000"));
    spec.timeout = Duration::from_millis(300);
    let start = Instant::now();
    let result = check(&spec, &ctx()).await;
    assert!(
        start.elapsed() < StdDuration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(result.outcome, Outcome::Down);
    assert_eq!(result.reason, Some(FailureReason::Timeout));
    assert_eq!(
        result.message,
        format!(
            "timed out after 300ms waiting for the response from {}",
            server.addr
        )
    );
    assert!(result.phases.total_ms >= 300.0, "{:?}", result.phases);
}

#[tokio::test]
async fn retry_after_a_failed_attempt() {
    let server = http::serve().await;
    let spec = MonitorSpec::http(server.url("/flaky"));
    let once = check(&spec, &ctx()).await;
    assert_eq!(once.outcome, Outcome::Down);
    assert_eq!(once.reason, Some(FailureReason::Status));
    assert_eq!(once.message, "HTTP 500 Internal Server Error");
    assert_eq!(once.attempts, 1);

    let server = http::serve().await;
    let mut spec = MonitorSpec::http(server.url("/flaky"));
    spec.retries = 2;
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert_eq!(result.attempts, 2);
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn closed_port_is_a_connect_failure() {
    let addr = closed_port();
    let mut spec = MonitorSpec::http(format!("http://{addr}/"));
    spec.retries = 1;
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Down);
    assert_eq!(result.reason, Some(FailureReason::Connect));
    assert_eq!(result.message, format!("connection refused ({addr})"));
    assert_eq!(result.attempts, 2);
    assert!(result.phases.connect_ms.is_some());
}

/// A monitor stored before URLs with credentials were refused still never shows them.
#[tokio::test]
async fn credentials_in_the_url_never_reach_a_message() {
    const SECRET: &str = "URLPASSWORD2";
    let addr = closed_port();
    let result = check(
        &MonitorSpec::http(format!("http://alice:{SECRET}@{addr}/")),
        &ctx(),
    )
    .await;
    assert_eq!(result.reason, Some(FailureReason::Connect));
    assert_eq!(result.message, format!("connection refused ({addr})"));

    let result = check(
        &MonitorSpec::http(format!("http://alice:{SECRET}@[zz/")),
        &ctx(),
    )
    .await;
    assert_eq!(result.reason, Some(FailureReason::Config));
    assert_eq!(
        result.message,
        "invalid URL \"http://********@[zz/\": invalid IPv6 address"
    );

    let server = http::serve().await;
    let looping = server
        .url("/loop/a")
        .replace("http://", "http://alice:URLPASSWORD2@");
    let result = check(&MonitorSpec::http(looping), &ctx()).await;
    assert_eq!(result.reason, Some(FailureReason::Redirect));
    assert!(
        result.message.contains("redirect loop"),
        "{}",
        result.message
    );
    for text in [&result.message, &format!("{result:?}")] {
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[tokio::test]
async fn tls_verification_custom_ca_and_verify_off() {
    let ca = TestCa::new();
    let server = http::serve_tls(&ca.leaf(&["localhost"])).await;
    let url = server.localhost_url("https", "/ok");

    let result = check(&MonitorSpec::http(&url), &ctx()).await;
    assert_eq!(
        result.reason,
        Some(FailureReason::Tls),
        "{}",
        result.message
    );
    assert!(result.message.contains("not trusted"), "{}", result.message);
    assert!(result.cert_not_after.is_some(), "facts kept on failure");

    let mut http = HttpCheck::get(&url);
    http.tls_verify = false;
    let obs = get(&http).await.expect("verify off");
    let spec = MonitorSpec::new(http);
    let cert = obs.cert.expect("cert");
    assert!(!cert.chain_valid && cert.hostname_match, "{cert:?}");
    assert_eq!(check(&spec, &ctx()).await.outcome, Outcome::Up);

    let mut http = HttpCheck::get(&url);
    http.ca_cert = Some(ca.pem.clone());
    let spec = MonitorSpec::new(http);
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);

    let mut http = HttpCheck::get(server.https_url("/ok"));
    http.ca_cert = Some(ca.pem.clone());
    let spec = MonitorSpec::new(http);
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.reason, Some(FailureReason::Tls));
    assert!(
        result.message.contains("not valid for name 127.0.0.1"),
        "{}",
        result.message
    );

    let mut http = HttpCheck::get(&url);
    http.ca_cert = Some("not a pem".to_owned());
    let spec = MonitorSpec::new(http);
    assert_eq!(
        check(&spec, &ctx()).await.reason,
        Some(FailureReason::Config)
    );
}

#[tokio::test]
async fn names_resolve_through_dns_and_localhost() {
    let dns = dns::serve().await;
    let server = http::serve().await;
    let ctx = ctx_with(dns.addr);
    let url = format!("http://web.example.test:{}/ok", server.addr.port());
    let result = check(&MonitorSpec::http(url), &ctx).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    let p = result.phases;
    let dns_ms = p.dns_ms.expect("dns_ms");
    assert!(
        dns_ms + p.connect_ms.expect("connect") <= p.total_ms,
        "{p:?}"
    );

    let url = format!("http://missing.example.test:{}/ok", server.addr.port());
    let result = check(&MonitorSpec::http(url), &ctx).await;
    assert_eq!(
        result.reason,
        Some(FailureReason::Dns),
        "{}",
        result.message
    );

    let result = check(
        &MonitorSpec::http(server.localhost_url("http", "/ok")),
        &ctx,
    )
    .await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
}

#[tokio::test]
async fn bad_url_is_a_config_failure() {
    for url in ["not a url", "ftp://example.test/", "http://"] {
        let result = check(&MonitorSpec::http(url), &ctx()).await;
        assert_eq!(
            result.reason,
            Some(FailureReason::Config),
            "{url}: {}",
            result.message
        );
    }
}

#[tokio::test]
async fn assertions_judge_status_body_and_time() {
    let server = http::serve().await;
    let mut spec = MonitorSpec::http(server.url("/ok"));
    spec.assertions = vec![
        "status == 200".to_owned(),
        r#"body.$.status == "UP""#.to_owned(),
        "response_time < 10s".to_owned(),
    ];
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert_eq!(result.assertions.len(), 3);
    assert!(result.assertions.iter().all(|a| a.passed));

    spec.check = HttpCheck::get(server.url("/status/503")).into();
    spec.assertions = vec!["status == 200".to_owned(), "response_time < 10s".to_owned()];
    let result = check(&spec, &ctx()).await;
    assert_eq!(
        result.reason,
        Some(FailureReason::Assertion),
        "status judged by the assertion"
    );
    assert_eq!(
        result.message,
        "1 of 2 assertions failed: status (503) == 200"
    );
    assert_eq!(result.status_code, Some(503));

    spec.assertions = vec!["status == 503".to_owned()];
    assert_eq!(check(&spec, &ctx()).await.outcome, Outcome::Up);
}

#[tokio::test]
async fn slow_success_is_degraded() {
    let server = http::serve().await;
    let mut spec = MonitorSpec::http(server.url("/slow/150"));
    spec.degraded_after = Some(Duration::from_millis(50));
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Degraded, "{}", result.message);
    assert!(
        result.message.contains("slower than 50ms"),
        "{}",
        result.message
    );
}
