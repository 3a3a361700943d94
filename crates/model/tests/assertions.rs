//! The assertion language through its public API: parse, evaluate, check_fields, limits, fuzz.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use vedette_model::assertion::{AssertionSet, check_fields, parse};
use vedette_model::result::{CertInfo, DnsInfo};
use vedette_model::{CheckKind, Observation, Phases};

fn http_obs() -> Observation {
    let started = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    Observation {
        started_at: started,
        status: Some(503),
        phases: Phases {
            dns_ms: Some(2.0),
            connect_ms: Some(10.5),
            tls_ms: Some(30.0),
            first_byte_ms: Some(400.0),
            total_ms: 412.3,
        },
        headers: vec![
            ("content-type".into(), "text/html".into()),
            ("set-cookie".into(), "a=1".into()),
            ("set-cookie".into(), "b=2".into()),
        ],
        body: Some(
            br#"{"status":"DOWN","version":3,"ratio":0.5,"ok":false,"none":null,"items":[{"id":1},{"id":2}],"tags":["a","b"],"nested":{"k":"v"},"name":"h\u00e9llo"}"#
                .to_vec(),
        ),
        cert: Some(CertInfo {
            not_after: started + chrono::Duration::days(10),
            not_before: started - chrono::Duration::days(80),
            issuer: "CN=Test CA".into(),
            subject: "CN=example.com".into(),
            sans: vec!["example.com".into(), "www.example.com".into()],
            chain_valid: true,
            hostname_match: false,
        }),
        dns: None,
        tcp_response: None,
        gateway: None,
    }
}

fn dns_obs() -> Observation {
    Observation {
        phases: Phases {
            total_ms: 5.0,
            ..Phases::default()
        },
        dns: Some(DnsInfo {
            rcode: "NOERROR".into(),
            answers: vec!["192.0.2.1".into(), "192.0.2.2".into()],
        }),
        ..Observation::default()
    }
}

fn tcp_obs() -> Observation {
    Observation {
        phases: Phases {
            connect_ms: Some(1.0),
            total_ms: 3.0,
            ..Phases::default()
        },
        tcp_response: Some("+PONG\r\n".into()),
        ..Observation::default()
    }
}

/// (source, passed) against `http_obs()`.
const HTTP_CASES: &[(&str, bool)] = &[
    ("status == 503", true),
    ("status == 200", false),
    ("status != 200", true),
    ("status >= 500 && status < 600", true),
    ("status in [200, 204]", false),
    ("status not in [200, 204]", true),
    ("status in [500, 502, 503]", true),
    ("not status == 200", true),
    ("!(status == 200)", true),
    ("status == 200 or status == 503", true),
    ("status == 200 || response_time < 1s", true),
    ("status == 503 and not (response_time > 1s)", true),
    ("true", true),
    ("false or true and false", false),
    ("(false or true) and true", true),
    ("response_time < 300ms", false),
    ("response_time < 1s", true),
    ("response_time <= 412300us", true),
    ("response_time > 0.4s", true),
    ("dns_time == 2ms", true),
    ("connect_time < 11ms", true),
    ("tls_time == 30ms", true),
    ("first_byte_time >= 400ms", true),
    (r#"headers["Content-Type"] == "text/html""#, true),
    (r#"headers["content-type"] contains "json""#, false),
    (r#"headers["content-type"] matches "^text/""#, true),
    (r#"headers["set-cookie"] == "a=1, b=2""#, true),
    (r#"headers["x-missing"] == null"#, true),
    (r#"headers["x-missing"] != null"#, false),
    (r#"headers["content-type"] != null"#, true),
    (r#"headers["content-type"] == null"#, false),
    (r#"body contains "DOWN""#, true),
    (r#"body matches "\"version\":\\s*3""#, true),
    ("len(body) > 10", true),
    ("len(body) < 1KiB", true),
    ("len(body) < 10B", false),
    (r#"body.$.status == "UP""#, false),
    (r#"body.$.status == 'DOWN'"#, true),
    ("body.$.version == 3", true),
    ("body.$.version == 3.0", true),
    ("body.$.version > 2.5", true),
    ("body.$.ratio < 1", true),
    ("body.$.ok == false", true),
    ("not body.$.ok", true),
    ("body.$.none == null", true),
    ("body.$.items[0].id == 1", true),
    ("body.$.items[*].id == [1, 2]", true),
    ("body.$.items[*].id contains 2", true),
    ("len(body.$.items) == 2", true),
    (r#"body.$.tags contains "b""#, true),
    (r#""a" in body.$.tags"#, true),
    (r#"body.$.nested contains "k""#, true),
    (r#"body.$["nested"].k == "v""#, true),
    (r#"body.$.items[?@.id > 1].id == [2]"#, true),
    (r#"body.$.items[?@.id > 5] == []"#, true),
    (r#"len(body.$.items[?@.id > 5]) == 0"#, true),
    (r#"body.$.tags[0:1] contains "a""#, true),
    (r#"body.$..id contains 2"#, true),
    (r#"body.$.name == "héllo""#, true),
    (r#"len(body.$.name) == 6"#, true),
    ("cert.expires_in > 7d", true),
    ("cert.expires_in > 14d", false),
    ("cert.expires_in < 240h", false),
    ("cert.expires_in > -1d", true),
    (r#"cert.issuer contains "Test""#, true),
    (r#"cert.subject == "CN=example.com""#, true),
    (r#"cert.sans contains "www.example.com""#, true),
    (r#""example.com" in cert.sans"#, true),
    ("len(cert.sans) == 2", true),
    ("cert.chain_valid", true),
    ("cert.chain_valid == true and not cert.hostname_match", true),
    ("cert.hostname_match", false),
    ("len(\"héllo\") == 6", true),
    ("[1, 2] == [1, 2]", true),
    ("2 in [1.0, 2.0]", true),
    ("10KB == 10000 and 1MiB == 1048576 and 2MB == 2000000", true),
    ("1m30s == 90s", true),
];

#[test]
fn http_table() {
    let obs = http_obs();
    for (source, passed) in HTTP_CASES {
        let a = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let r = a.evaluate(&obs);
        assert_eq!(r.error, None, "{source}: {r:?}");
        assert_eq!(r.passed, *passed, "{source}: {r:?}");
        assert_eq!(r.expression, *source);
        assert_eq!(check_fields(source, CheckKind::Http), Ok(()), "{source}");
    }
}

#[test]
fn other_kinds_table() {
    let cases: &[(Observation, CheckKind, &str, bool)] = &[
        (dns_obs(), CheckKind::Dns, r#"dns.rcode == "NOERROR""#, true),
        (
            dns_obs(),
            CheckKind::Dns,
            r#""192.0.2.1" in dns.answers"#,
            true,
        ),
        (
            dns_obs(),
            CheckKind::Dns,
            r#"dns.answers contains "192.0.2.9""#,
            false,
        ),
        (
            dns_obs(),
            CheckKind::Dns,
            "len(dns.answers) >= 2 and response_time < 50ms",
            true,
        ),
        (
            tcp_obs(),
            CheckKind::Tcp,
            r#"tcp.response matches "^\+PONG""#,
            true,
        ),
        (
            tcp_obs(),
            CheckKind::Tcp,
            r#"tcp.response == "+PONG\r\n""#,
            true,
        ),
        (tcp_obs(), CheckKind::Tcp, "connect_time < 100ms", true),
        (
            http_obs(),
            CheckKind::Tls,
            "cert.expires_in > 7d and tls_time < 1s",
            true,
        ),
    ];
    for (obs, kind, source, passed) in cases {
        let r = parse(source).unwrap().evaluate(obs);
        assert_eq!(
            (r.passed, r.error.as_deref()),
            (*passed, None),
            "{source}: {r:?}"
        );
        assert_eq!(check_fields(source, *kind), Ok(()), "{source}");
    }
}

#[test]
fn actual_values_are_rendered() {
    let obs = http_obs();
    for (source, actual) in [
        ("status == 200", "status (503) == 200"),
        ("response_time < 300ms", "response_time (412ms) < 300ms"),
        (
            r#"body.$.status == "UP""#,
            r#"body.$.status ("DOWN") == "UP""#,
        ),
        (
            r#"headers["content-type"] contains "json""#,
            r#"headers["content-type"] ("text/html") contains "json""#,
        ),
        ("len(body.$.items) > 5", "len(body.$.items) (2) > 5"),
        (
            "status == 200 and cert.expires_in > 14d",
            "status (503) == 200 and cert.expires_in (10d) > 14d",
        ),
        (
            "cert.sans contains \"x\"",
            r#"cert.sans (["example.com", "www.example.com"]) contains "x""#,
        ),
        (
            r#"headers["x-foo"] == "1""#,
            r#"headers["x-foo"] (absent) == "1""#,
        ),
        ("cert.hostname_match", "cert.hostname_match (false)"),
        ("body.$.ratio >= 1", "body.$.ratio (0.5) >= 1"),
    ] {
        let r = parse(source).unwrap().evaluate(&obs);
        assert_eq!(r.actual, actual, "{source}");
        assert!(!r.passed, "{source}");
    }
    let mut expired = obs.clone();
    expired.cert.as_mut().unwrap().not_after = expired.started_at - chrono::Duration::hours(2);
    let r = parse("cert.expires_in > 0s").unwrap().evaluate(&expired);
    assert_eq!(r.actual, "cert.expires_in (-2h) > 0s");
    assert!(!r.passed);
}

#[test]
fn evaluation_errors() {
    let obs = http_obs();
    let no_response = Observation::default();
    let not_json = Observation {
        body: Some(b"<html>".to_vec()),
        ..Observation::default()
    };
    for (obs, source, error) in [
        (
            &no_response,
            "status == 200",
            "status is absent (no HTTP response)",
        ),
        (
            &obs,
            r#"headers["x-foo"] == "1""#,
            r#"header "x-foo" is absent"#,
        ),
        (
            &obs,
            r#"headers["x-foo"] < "1""#,
            r#"header "x-foo" is absent"#,
        ),
        (
            &obs,
            "body.$.missing == 1",
            "JSONPath $.missing has no match in the body",
        ),
        (
            &obs,
            "body.$.status > 3",
            "cannot compare string with integer",
        ),
        (
            &obs,
            "body.$.version < 300ms",
            "cannot compare integer with duration",
        ),
        (
            &obs,
            "body.$.status",
            "expected a condition (true or false), found string",
        ),
        (
            &obs,
            "body.$.version matches \"3\"",
            "'matches' needs a string, found integer",
        ),
        (
            &obs,
            "tcp.response == \"x\"",
            "tcp.response is absent (no reply was read)",
        ),
        (
            &obs,
            "dns.rcode == \"NOERROR\"",
            "dns.rcode is absent (no DNS answer)",
        ),
        (
            &no_response,
            "body contains \"x\"",
            "body is absent (it was not read)",
        ),
        (
            &no_response,
            "tls_time < 1s",
            "tls_time is absent (no TLS handshake)",
        ),
        (&not_json, "body.$.a == 1", "body is not valid JSON"),
    ] {
        let r = parse(source).unwrap().evaluate(obs);
        assert!(!r.passed, "{source}");
        let got = r.error.unwrap_or_default();
        assert!(got.starts_with(error), "{source}: {got}");
    }
    // An error on one side of `or` does not matter when the other side holds.
    let r = parse(r#"headers["x-a"] == "1" or status == 503"#)
        .unwrap()
        .evaluate(&obs);
    assert!(r.passed && r.error.is_none(), "{r:?}");
    let r = parse(r#"headers["x-a"] == "1" and status == 200"#)
        .unwrap()
        .evaluate(&obs);
    assert!(!r.passed && r.error.is_none(), "{r:?}");
    let r = parse(r#"headers["x-a"] == "1" and status == 503"#)
        .unwrap()
        .evaluate(&obs);
    assert!(!r.passed && r.error.is_some(), "{r:?}");
}

#[test]
fn parse_errors_point_at_the_column() {
    let long = format!("status == {}", "1".repeat(1100));
    let many = vec!["1"; 300].join(",");
    let many_tokens = format!("status in [{many}]");
    let items = (0..70)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let long_list = format!("status in [{items}]");
    let deep = format!("{}true{}", "(".repeat(40), ")".repeat(40));
    let long_string = format!("body == \"{}\"", "x".repeat(600));
    let cases: Vec<(&str, usize, &str)> = vec![
        (
            "",
            1,
            "expected an assertion such as `status == 200`, found end of input",
        ),
        (
            "status ==",
            10,
            "expected a value after '==', found end of input",
        ),
        ("status = 200", 8, "expected '==' (comparison), found '='"),
        (
            "status == 200 200",
            15,
            "expected 'and', 'or' or end of input, found number 200",
        ),
        (
            "status 200",
            8,
            "expected an operator (==, !=, <, <=, >, >=, contains, matches, in), 'and', 'or' or end of input, found number 200",
        ),
        ("(status == 200", 15, "expected ')', found end of input"),
        (
            "status == 200 and",
            18,
            "expected a field or value, found end of input",
        ),
        ("stauts == 200", 1, "unknown field `stauts`"),
        ("cert.expiry > 1d", 1, "unknown field `cert.expiry`"),
        (
            "body.status == 1",
            1,
            "unknown field `body.status`; a JSONPath into the body starts with $",
        ),
        (
            "response_time < 300",
            17,
            "cannot compare duration with integer; write 300ms",
        ),
        (
            "300 > response_time",
            7,
            "cannot compare integer with duration; write 300ms",
        ),
        (
            "status == \"200\"",
            11,
            "cannot compare integer with string",
        ),
        (
            "cert.chain_valid < true",
            20,
            "cannot order boolean values with '<'",
        ),
        ("body matches \"(\"", 14, "invalid regular expression"),
        (
            "body matches status",
            14,
            "expected a regular expression string after 'matches', found `status`",
        ),
        (
            "body == \"abc",
            9,
            "unterminated string: expected a closing \", found end of input",
        ),
        (
            "response_time < 5x",
            17,
            "expected a number, duration (300ms, 1m30s, 14d) or size (10KB, 1MiB), found `5x`",
        ),
        (
            "status == 99999999999999999999",
            11,
            "integer 99999999999999999999 is too large",
        ),
        (
            "status",
            1,
            "expected a condition (true or false), found an integer expression",
        ),
        (
            "status and true",
            1,
            "expected a condition (true or false) before 'and', found an integer expression",
        ),
        (
            "len(status) > 1",
            5,
            "len() takes a string or list, found integer",
        ),
        (
            "status in 200",
            11,
            "expected a list after 'in', found integer",
        ),
        (
            "status contains 2",
            1,
            "'contains' needs a string or list on its left, found integer",
        ),
        (
            "body contains 2",
            15,
            "a string can only contain a string, found integer",
        ),
        ("headers.foo == 1", 1, "unknown field `headers.foo`"),
        ("headers == 1", 9, "expected '[' after `headers`"),
        (
            "headers[1] == 1",
            9,
            "expected a header name string in headers[...]",
        ),
        (
            "status in [200, status]",
            17,
            "expected a literal value in the list",
        ),
        (
            "status in [200 204]",
            16,
            "expected ',' or ']' in the list, found number 204",
        ),
        ("body.$[ == 1", 7, "invalid JSONPath"),
        (
            "status == 200 & true",
            15,
            "expected '&&' or 'and', found '&'",
        ),
        (
            "status == 200 # x",
            15,
            "expected a field, value or operator, found unexpected character '#'",
        ),
        (
            "body == \"é\" and ß",
            17,
            "expected a field, value or operator, found unexpected character 'ß'",
        ),
        (
            "status == -x",
            12,
            "expected a number or duration after '-', found `x`",
        ),
        (
            "not",
            4,
            "expected a condition after 'not', found end of input",
        ),
        (
            "status == 200 == 200",
            15,
            "expected 'and', 'or' or end of input, found '=='",
        ),
        (&long, 1025, "assertion too long"),
        (&many_tokens, 265, "too many tokens"),
        (&long_list, 258, "list too long (at most 64 items)"),
        (
            &deep,
            33,
            "expression nested too deeply (at most 32 levels)",
        ),
        (
            &long_string,
            9,
            "string literal too long: at most 512 bytes",
        ),
    ];
    for (source, column, message) in cases {
        let err = parse(source).expect_err(source);
        assert!(err.message.starts_with(message), "{source}: {err}");
        assert_eq!(err.column, column, "{source}: {err}");
        assert_eq!(
            err.to_string(),
            format!("column {}: {}", err.column, err.message)
        );
    }
}

#[test]
fn limits_accept_what_they_allow() {
    let items = (0..64)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(parse(&format!("status in [{items}]")).is_ok());
    assert!(parse(&format!("{}true{}", "(".repeat(32), ")".repeat(32))).is_ok());
    assert!(parse(&format!("body == \"{}\"", "x".repeat(512))).is_ok());
    // A regex that compiles too big is refused at parse time.
    let err = parse(r#"body matches "(\w{100}){100}""#).unwrap_err();
    assert_eq!(err.column, 14, "{err}");
}

#[test]
fn body_and_status_flags() {
    for (source, body, status) in [
        ("status == 200", false, true),
        ("response_time < 1s", false, false),
        ("body contains \"ok\"", true, false),
        ("len(body) > 0", true, false),
        ("body.$.a == 1 or status == 200", true, true),
        (r#"headers["content-length"] == "0""#, false, false),
    ] {
        let a = parse(source).unwrap();
        assert_eq!(
            (a.needs_body(), a.mentions_status()),
            (body, status),
            "{source}"
        );
        assert_eq!(a.source(), source);
    }
    let set =
        AssertionSet::compile(&["status == 200".into(), "response_time < 1s".into()]).unwrap();
    assert!(set.mentions_status() && !set.needs_body() && !set.is_empty());
    assert!(AssertionSet::default().is_empty());
    let err = AssertionSet::compile(&["status == 200".into(), "status ==".into()]).unwrap_err();
    assert_eq!(err.0, 1);
    assert_eq!(err.1.column, 10);
}

#[test]
fn set_evaluates_each_in_order() {
    let sources: Vec<String> = [
        "status == 503",
        r#"body.$.status == "UP""#,
        "body.$.version == 3",
    ]
    .map(String::from)
    .to_vec();
    let set = AssertionSet::compile(&sources).unwrap();
    assert!(set.needs_body());
    let results = set.evaluate(&http_obs());
    assert_eq!(results.len(), 3);
    assert_eq!(
        results.iter().map(|r| r.passed).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(results[1].actual, r#"body.$.status ("DOWN") == "UP""#);
    assert_eq!(set.assertions().len(), 3);
}

#[test]
fn fields_by_kind() {
    let ok = |s: &str, k| assert_eq!(check_fields(s, k), Ok(()), "{s} for {k}");
    let bad =
        |s: &str, k, msg: &str| assert_eq!(check_fields(s, k), Err(msg.to_owned()), "{s} for {k}");
    ok(
        "status == 200 and body.$.a == 1 and cert.chain_valid",
        CheckKind::Http,
    );
    ok(
        r#"headers["x"] == null and len(body) < 1MB and first_byte_time < 1s"#,
        CheckKind::Http,
    );
    ok("response_time < 1s and connect_time < 1s", CheckKind::Tcp);
    ok(r#"tcp.response contains "OK""#, CheckKind::Tcp);
    ok(
        r#"dns.rcode == "NOERROR" and response_time < 1s"#,
        CheckKind::Dns,
    );
    ok(
        "cert.expires_in > 14d and tls_time < 1s and connect_time < 1s",
        CheckKind::Tls,
    );
    ok("status ==", CheckKind::Tcp); // does not parse: reported by parse
    bad(
        "status == 200",
        CheckKind::Tcp,
        "field `status` is not available for tcp monitors (available: response_time, connect_time, tcp.response)",
    );
    bad(
        "tls_time < 1s",
        CheckKind::Tcp,
        "field `tls_time` is not available for tcp monitors (available: response_time, connect_time, tcp.response)",
    );
    bad(
        "len(body) > 1",
        CheckKind::Dns,
        "field `body` is not available for dns monitors (available: response_time, dns.answers, dns.rcode)",
    );
    bad(
        "response_time < 1s and dns_time < 1s",
        CheckKind::Dns,
        "field `dns_time` is not available for dns monitors (available: response_time, dns.answers, dns.rcode)",
    );
    bad(
        r#"headers["a"] == "b""#,
        CheckKind::Tls,
        "field `headers` is not available for tls monitors (available: response_time, connect_time, tls_time, cert.expires_in, cert.issuer, cert.subject, cert.sans, cert.chain_valid, cert.hostname_match)",
    );
    bad(
        r#"dns.rcode == "NOERROR""#,
        CheckKind::Http,
        "field `dns.rcode` is not available for http monitors (available: status, response_time, dns_time, connect_time, tls_time, first_byte_time, headers, body, cert.expires_in, cert.issuer, cert.subject, cert.sans, cert.chain_valid, cert.hostname_match, gateway.healthy)",
    );
    bad(
        "response_time < 1s",
        CheckKind::Heartbeat,
        "field `response_time` is not available for heartbeat monitors (heartbeat monitors have no fields to assert on)",
    );
    ok("true", CheckKind::Heartbeat);
}

#[test]
fn types_are_send_sync() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}
    assert_traits::<vedette_model::assertion::Assertion>();
    assert_traits::<AssertionSet>();
}

const SOUP: &[&str] = &[
    "status",
    "response_time",
    "dns_time",
    "connect_time",
    "tls_time",
    "first_byte_time",
    "body",
    "body.$.status",
    "body.$.items[*].id",
    "body.$[",
    "headers[\"content-type\"]",
    "headers",
    "cert.expires_in",
    "cert.sans",
    "cert.chain_valid",
    "dns.answers",
    "dns.rcode",
    "tcp.response",
    "len(",
    "len",
    "(",
    ")",
    "[",
    "]",
    ",",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "-",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "in",
    "contains",
    "matches",
    "true",
    "false",
    "null",
    "200",
    "0",
    "1.5",
    "300ms",
    "14d",
    "10KB",
    "1MiB",
    "\"UP\"",
    "'x'",
    "\"(\"",
    "\"a\\\"b\"",
    "\"é\"",
    "\"",
    "é",
    "99999999999999999999",
    "1e5",
    "$",
];

fn observations() -> Vec<Observation> {
    let mut weird = http_obs();
    weird.phases.total_ms = f64::NAN;
    weird.phases.dns_ms = Some(f64::INFINITY);
    weird.body = Some(vec![0xff, 0xfe, b'{']);
    weird.cert.as_mut().unwrap().not_after = chrono::DateTime::<Utc>::MAX_UTC;
    weird.started_at = chrono::DateTime::<Utc>::MIN_UTC;
    vec![
        Observation::default(),
        http_obs(),
        dns_obs(),
        tcp_obs(),
        weird,
    ]
}

fn exercise(source: &str) {
    if let Ok(a) = parse(source) {
        for obs in observations() {
            let r = a.evaluate(&obs);
            assert_eq!(r.expression, source);
        }
        for kind in [
            CheckKind::Http,
            CheckKind::Tcp,
            CheckKind::Dns,
            CheckKind::Tls,
            CheckKind::Heartbeat,
        ] {
            let _ = check_fields(source, kind);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_strings_never_panic(source in "\\PC{0,80}") {
        exercise(&source);
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(SOUP), 0..24)) {
        exercise(&tokens.join(" "));
        exercise(&tokens.concat());
    }

    #[test]
    fn valid_shapes_evaluate(
        field in proptest::sample::select(&["status", "len(body)", "body.$.version", "len(cert.sans)"][..]),
        op in proptest::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]),
        n in -1000i64..1000,
    ) {
        let source = format!("{field} {op} {n}");
        let a = parse(&source).unwrap();
        let r = a.evaluate(&http_obs());
        prop_assert!(r.error.is_none(), "{:?}", r);
        prop_assert!(r.actual.starts_with(field));
    }
}

#[test]
fn documented_examples_parse() {
    let doc = include_str!("../../../docs/assertions.md");
    let mut count = 0;
    let mut in_yaml = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_yaml = line == "```yaml";
            continue;
        }
        let Some(item) = line.strip_prefix("  - ").filter(|_| in_yaml) else {
            continue;
        };
        let item = item.split("  #").next().unwrap().trim();
        let item = match item.strip_prefix('\'').and_then(|i| i.strip_suffix('\'')) {
            Some(quoted) => quoted.replace("''", "'"),
            None => item.to_owned(),
        };
        parse(&item).unwrap_or_else(|e| panic!("{item}: {e}"));
        count += 1;
    }
    assert!(count >= 15, "{count}");
}

/// `gateway.healthy` reads the gateway's reading: true, false, or null when unknown, shown with
/// whose gateway it is; a monitor without a gateway gets a clear error.
#[test]
fn gateway_healthy_reads_the_gateway_and_names_it() {
    use vedette_model::discovery::{GatewayReading, GatewayType};
    let reading = |healthy| GatewayReading {
        source: "edge".into(),
        gateway: GatewayType::Envoy,
        healthy,
        detail: "cluster backend: 0/1 hosts healthy".into(),
        observed_at: None,
    };
    let with = |healthy| Observation {
        status: Some(200),
        gateway: Some(reading(healthy)),
        ..Observation::default()
    };
    let check = parse("gateway.healthy == true").unwrap();
    assert!(check.mentions_gateway());
    assert!(check.evaluate(&with(Some(true))).passed);
    let down = check.evaluate(&with(Some(false)));
    assert!(!down.passed && down.error.is_none(), "{down:?}");
    assert_eq!(
        down.actual,
        "gateway.healthy (false; envoy source edge: cluster backend: 0/1 hosts healthy) == true"
    );
    let unknown = with(None);
    assert!(!check.evaluate(&unknown).passed);
    assert!(
        parse("gateway.healthy != false")
            .unwrap()
            .evaluate(&unknown)
            .passed
    );
    let plain = check.evaluate(&Observation::default());
    assert!(!plain.passed);
    assert_eq!(
        plain.error.as_deref(),
        Some("gateway.healthy needs a monitor discovered from a gateway that reports health")
    );
    assert_eq!(check_fields("gateway.healthy", CheckKind::Http), Ok(()));
    assert!(check_fields("gateway.healthy", CheckKind::Tcp).is_err());
    assert!(
        parse("gateway.healthy == 1")
            .unwrap_err()
            .message
            .contains("cannot compare boolean with integer")
    );
}
