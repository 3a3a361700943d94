//! `vedette verify` through the real binary against a real `vedette serve` and targets on
//! 127.0.0.1: every exit code, the reports it writes, and a verification that survives a
//! restart (and a kill -9) of the server on the same SQLite file.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Target, text, wait_for, write};

const TOKEN: &str = "vdt_verify-test-token-0123456789abcdefghij";

fn monitor(id: &str, team: &str, url: &str, interval: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: {id}\n  labels: {{team: {team}}}\nspec:\n  http: {{url: \"{url}\"}}\n  interval: {interval}\n  timeout: 900ms\n  assertions: [\"status == 200\"]\n---\n"
    )
}

fn start(dir: &Path, config: &Path) -> Server {
    Server::start_with_env(
        &dir.join("data"),
        &["--config", config.to_str().expect("path")],
        &[("VEDETTE_BOOTSTRAP_TOKEN", TOKEN)],
    )
}

/// Runs `vedette verify ARGS` against `url` with `token`; no config file of the user's.
fn verify(dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("verify")
        .args(args)
        .env("VEDETTE_URL", url)
        .env("VEDETTE_TOKEN", token)
        .env("VEDETTE_CONFIG_FILE", dir.join("no-config.yaml"))
        .env_remove("VEDETTE_CONTEXT")
        .output()
        .expect("run vedette verify")
}

#[test]
fn exit_codes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let good = Target::start();
    let bad = Target::start();
    bad.set_status(503);
    let config = write(
        dir.path(),
        "monitors.yaml",
        &(monitor("web", "web", &good.url(), "1s") + &monitor("api", "api", &bad.url(), "1s")),
    );
    let server = start(dir.path(), &config);
    let url = server.base_url();
    let d = dir.path();

    let junit = d.join("junit.xml");
    let summary = d.join("summary.md");
    let passed = verify(
        d,
        &url,
        TOKEN,
        &[
            "--selector",
            "team=web",
            "--consecutive",
            "2",
            "--timeout",
            "30s",
            "--deployment",
            "web-1.0-prod",
            "--junit",
            junit.to_str().unwrap(),
            "--summary-md",
            summary.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stderr));
    let view: Value = serde_json::from_slice(&passed.stdout).expect("--json prints the view");
    assert_eq!(view["status"]["state"], "passed");
    assert_eq!(view["spec"]["deployment"], "web-1.0-prod");
    assert!(
        text(&passed.stderr).contains("passed"),
        "{}",
        text(&passed.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"1\" failures=\"0\""), "{xml}");
    assert!(xml.contains("name=\"web\""), "{xml}");
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.contains("✅ passed"), "{markdown}");

    let failed = verify(
        d,
        &url,
        TOKEN,
        &["--id", "api,web", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    let out = text(&failed.stdout);
    assert!(
        out.contains("api is down: status == 200 (actual: 503)"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=\"api is down: status == 200 (actual: 503)\">"),
        "{xml}"
    );

    let timed_out = verify(
        d,
        &url,
        TOKEN,
        &["--id", "api", "--no-fail-fast", "--timeout", "2s"],
    );
    assert_eq!(
        timed_out.status.code(),
        Some(2),
        "{}",
        text(&timed_out.stderr)
    );
    assert!(text(&timed_out.stdout).contains("timed_out"));

    let none = verify(d, &url, TOKEN, &["--selector", "team=nobody"]);
    assert_eq!(none.status.code(), Some(3), "{}", text(&none.stderr));
    assert!(text(&none.stdout).contains("no monitor matched selector"));

    // Usage, authentication and connection errors: 4, with a message.
    for (args, token, target, says) in [
        (&[][..], TOKEN, url.as_str(), "--selector"),
        (
            &["--selector", "a=b", "--consecutive", "many"][..],
            TOKEN,
            &url,
            "invalid value",
        ),
        (
            &["--selector", "a=b", "--id", "web"][..],
            TOKEN,
            &url,
            "cannot be used with",
        ),
        (
            &["--selector", "a=b", "--bogus"][..],
            TOKEN,
            &url,
            "unexpected argument",
        ),
        (
            &["--selector", "a=b", "--consecutive", "0"][..],
            TOKEN,
            &url,
            "spec.consecutive",
        ),
        (&["--selector", "a=b"][..], "vdt_wrong", &url, "401"),
        (
            &["--selector", "a=b"][..],
            TOKEN,
            "http://127.0.0.1:1",
            "cannot reach",
        ),
    ] {
        let out = verify(d, target, token, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(server.stop());
}

#[test]
fn a_verification_survives_a_restart_of_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::start();
    let config = write(
        dir.path(),
        "monitors.yaml",
        &(monitor("web", "web", &target.url(), "1s")
            + &monitor("idle", "idle", &target.url(), "1h")),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = start(dir.path(), &config);
    let client = |server: &Server| vedette_client::Client::new(&server.base_url(), TOKEN).unwrap();
    let post = |server: &Server, body: Value| {
        let response = reqwest::blocking::Client::new()
            .post(server.url("/api/v1/verifications"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .expect("create");
        assert_eq!(response.status(), 201);
    };
    post(
        &server,
        json!({"id": "long", "spec": {"ids": ["web"], "consecutive": 20, "timeout": "2m"}}),
    );
    post(
        &server,
        json!({"id": "short", "spec": {"ids": ["idle"], "timeout": "9s", "run_now": false}}),
    );
    let before = {
        let c = client(&server);
        wait_for(Duration::from_secs(20), "progress saved", || {
            let v = rt.block_on(c.verifications().get("long")).unwrap();
            (v.status.monitors[0].checks >= 2).then_some(v)
        })
    };
    // Progress is saved every few seconds; a kill -9 loses at most that much of it.
    std::thread::sleep(Duration::from_secs(6));
    let c = client(&server);
    for id in ["long", "short"] {
        let v = rt.block_on(c.verifications().get(id)).unwrap();
        assert_eq!(v.status.state.as_str(), "running", "{v:#?}");
    }
    server.crash();
    // The deadline of `short` passes while no server runs.
    std::thread::sleep(Duration::from_secs(4));

    let server = start(dir.path(), &config);
    let c = client(&server);
    let short = wait_for(Duration::from_secs(10), "short times out", || {
        let v = rt.block_on(c.verifications().get("short")).unwrap();
        v.status.state.is_terminal().then_some(v)
    });
    assert_eq!(short.status.state.as_str(), "timed_out", "{short:#?}");
    let resumed = rt.block_on(c.verifications().get("long")).unwrap();
    assert_eq!(resumed.status.started_at, before.status.started_at);
    assert!(
        resumed.status.monitors[0].checks >= 2,
        "progress from before the crash is kept: {resumed:#?}"
    );
    let long = wait_for(Duration::from_secs(40), "long passes", || {
        let v = rt.block_on(c.verifications().get("long")).unwrap();
        v.status.state.is_terminal().then_some(v)
    });
    assert_eq!(long.status.state.as_str(), "passed", "{long:#?}");
    assert!(
        server.logs().contains("verification resumed"),
        "{}",
        server.logs()
    );
    assert!(server.stop());
}
