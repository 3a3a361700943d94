//! `vedette deployment start|finish|list` through the real binary against a real
//! `vedette serve`.

mod support;

use std::process::Output;

use serde_json::Value;
use support::{Server, ok, text};

/// Admin token the server is bootstrapped with.
const ADMIN: &str = "vdt_deployment-test-admin-token-0123456789";

/// The `vedette` CLI against `server`, with a config file of its own.
fn cli(server: &Server, dir: &std::path::Path, args: &[&str]) -> Output {
    support::cli(server, ADMIN, dir, args)
}

#[test]
fn deployment_start_finish_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        &dir.path().join("data"),
        &["--deployment-window", "45m"],
        &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)],
    );
    let id = ok(cli(
        &server,
        dir.path(),
        &[
            "deployment",
            "start",
            "--service",
            "payments",
            "--version",
            "v1.4.2",
            "--environment",
            "prod",
            "--commit",
            "0123abc",
            "--ref",
            "main",
            "--run-url",
            "https://ci.example.com/run/7",
            "--selector",
            "service=payments",
            "--mute",
            "10m",
            "-l",
            "team=payments",
        ],
    ));
    assert_eq!(id, "payments-v1-4-2-prod\n");

    let json: Value = serde_json::from_str(&ok(cli(
        &server,
        dir.path(),
        &[
            "deployment",
            "start",
            "--service",
            "web",
            "--version",
            "2",
            "--environment",
            "staging",
            "--source",
            "gitlab",
            "--id",
            "web-2",
            "-o",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(json["id"], "web-2");
    assert_eq!(json["spec"]["source"], "gitlab");
    assert_eq!(json["spec"]["status"], "started");

    let finished = ok(cli(
        &server,
        dir.path(),
        &[
            "deployment",
            "finish",
            "payments-v1-4-2-prod",
            "--status",
            "failed",
        ],
    ));
    assert_eq!(finished, "payments-v1-4-2-prod\n");
    let json: Value = serde_json::from_str(&ok(cli(
        &server,
        dir.path(),
        &[
            "deployment",
            "finish",
            "web-2",
            "--status",
            "succeeded",
            "-o",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(json["spec"]["status"], "succeeded");
    assert!(json["spec"]["finished_at"].is_string());

    let table = ok(cli(&server, dir.path(), &["deployment", "list"]));
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("payments-v1-4-2-prod") && table.contains("failed"),
        "{table}"
    );
    let listed: Value = serde_json::from_str(&ok(cli(
        &server,
        dir.path(),
        &["deployment", "list", "--environment", "prod", "-o", "json"],
    )))
    .unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, ["payments-v1-4-2-prod"]);
    let yaml = ok(cli(
        &server,
        dir.path(),
        &["deployment", "list", "--service", "web", "-o", "yaml"],
    ));
    assert!(yaml.contains("id: web-2"), "{yaml}");

    // Bad input is refused with the field named; nothing is printed on stdout.
    let bad = cli(
        &server,
        dir.path(),
        &[
            "deployment",
            "start",
            "--service",
            "s",
            "--version",
            "v",
            "--environment",
            "e",
            "--run-url",
            "ftp://ci",
            "--mute",
            "10m",
        ],
    );
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("spec.url") && stderr.contains("spec.mute"),
        "{stderr}"
    );
    assert!(bad.stdout.is_empty());
    let bad = cli(
        &server,
        dir.path(),
        &["deployment", "finish", "web-2", "--status", "done"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    let missing = cli(
        &server,
        dir.path(),
        &["deployment", "finish", "nope", "--status", "failed"],
    );
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("no deployment \"nope\""));
    assert!(server.stop());
}
