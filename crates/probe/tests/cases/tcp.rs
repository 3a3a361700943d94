//! TCP probe: connect, send, expect.

use vedette_model::spec::TcpCheck;
use vedette_model::{FailureReason, MonitorSpec, Outcome};
use vedette_probe::tcp::{decode_escapes, probe};

use super::support::tcp::{BANNER, banner_echo};
use super::support::{closed_port, http};
use super::{check, ctx};

fn tcp_check(port: u16, send: Option<&str>, expect: Option<&str>) -> TcpCheck {
    TcpCheck {
        host: "127.0.0.1".to_owned(),
        port,
        send: send.map(str::to_owned),
        expect: expect.map(str::to_owned),
    }
}

#[tokio::test]
async fn connect_banner_and_echo() {
    let server = banner_echo().await;
    let port = server.addr.port();
    let spec = MonitorSpec::new(tcp_check(port, None, None));
    let result = check(&spec, &ctx()).await;
    assert_eq!(result.outcome, Outcome::Up, "{}", result.message);
    assert!(result.phases.connect_ms.is_some());
    assert!(
        result.message.starts_with("connected in"),
        "{}",
        result.message
    );

    let obs = probe(&tcp_check(port, None, Some("^220 ")), &ctx())
        .await
        .expect("banner");
    assert_eq!(obs.tcp_response.as_deref(), Some(BANNER));

    let obs = probe(
        &tcp_check(port, Some(r"hello\r\n"), Some("ECHO HELLO")),
        &ctx(),
    )
    .await
    .expect("echo");
    assert!(
        obs.tcp_response.expect("reply").contains("ECHO HELLO"),
        "reply read until the match"
    );
}

#[tokio::test]
async fn mismatch_closed_port_and_bad_regex() {
    let server = http::serve().await;
    let failure = probe(
        &tcp_check(
            server.addr.port(),
            Some(r"GET /ok HTTP/1.0\r\n\r\n"),
            Some("^SSH-"),
        ),
        &ctx(),
    )
    .await
    .expect_err("HTTP is not SSH");
    assert_eq!(failure.reason, FailureReason::Protocol);
    assert!(
        failure
            .message
            .starts_with(r#"response did not match /^SSH-/: got "HTTP/1.0 200 OK"#),
        "{}",
        failure.message
    );

    let failure = probe(&tcp_check(closed_port().port(), None, None), &ctx())
        .await
        .expect_err("closed");
    assert_eq!(failure.reason, FailureReason::Connect);
    assert!(
        failure.message.starts_with("connection refused"),
        "{}",
        failure.message
    );

    let failure = probe(&tcp_check(server.addr.port(), None, Some("(")), &ctx())
        .await
        .expect_err("bad regex");
    assert_eq!(failure.reason, FailureReason::Config);
}

#[test]
fn escapes_are_decoded() {
    assert_eq!(decode_escapes(r"a\r\n\tb\\c\x"), "a\r\n\tb\\c\\x");
    assert_eq!(decode_escapes(r"end\"), "end\\");
}
