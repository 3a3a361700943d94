//! End-to-end: the real `vedette` CLI against a real `vedette serve` on 127.0.0.1, with a real
//! HTTP target; no mocks.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{Server, Target, wait_for, write};
use vedette_model::document::{self, Resource};

/// Admin token the server is bootstrapped with (`vdt_` and 32+ URL-safe characters).
const ADMIN: &str = "vdt_cli-test-admin-token-0123456789abcdef";

/// A server, a target and a config file of the test's own.
struct Env {
    server: Server,
    target: Target,
    dir: tempfile::TempDir,
}

impl Env {
    fn start() -> Env {
        Self::start_with_args(&[])
    }

    fn start_with_args(args: &[&str]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let server = Server::start_with_env(&data, args, &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)]);
        Env {
            server,
            target: Target::start(),
            dir,
        }
    }

    fn config_file(&self) -> PathBuf {
        self.dir.path().join("home/vedette.yaml")
    }

    /// The CLI with only the config file set.
    fn bare(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(args)
            .env_remove("VEDETTE_URL")
            .env_remove("VEDETTE_TOKEN")
            .env_remove("VEDETTE_CONTEXT")
            .env("VEDETTE_CONFIG_FILE", self.config_file())
            .env("HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run vedette")
    }

    /// The CLI with `VEDETTE_URL` and `VEDETTE_TOKEN` set to `token`.
    fn with_token(&self, token: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(args)
            .env("VEDETTE_URL", self.server.base_url())
            .env("VEDETTE_TOKEN", token)
            .env_remove("VEDETTE_CONTEXT")
            .env("VEDETTE_CONFIG_FILE", self.config_file())
            .env("HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run vedette")
    }

    /// The CLI as admin.
    fn run(&self, args: &[&str]) -> Output {
        self.with_token(ADMIN, args)
    }

    /// Runs, asserts the exit code, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        expect(&out, 0, args);
        stdout(&out)
    }

    /// Applies the files `f` as the apply set `files` (with `flags`), asserts the summary
    /// holds `counts`, and returns stdout.
    fn apply_files(&self, f: &str, flags: &[&str], counts: &str) -> String {
        let args = [&["apply", "--apply-set", "files", "-f", f], flags].concat();
        let out = self.ok(&args);
        assert!(out.contains(counts), "{out}");
        out
    }

    /// Runs `diff -f f`, asserts its exit code (0: no difference, 1: some), returns stdout.
    fn diff(&self, f: &str, code: i32) -> String {
        let args = ["diff", "-f", f];
        let out = self.run(&args);
        expect(&out, code, &args);
        stdout(&out)
    }

    fn api(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::new()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn expect(out: &Output, code: i32, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "vedette {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
    for text in [stdout(out), stderr(out)] {
        assert!(!text.contains(ADMIN), "the admin token was printed: {text}");
    }
}

fn monitor_doc(id: &str, url: &str, interval: &str, labels: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: {id}\n  labels: {{{labels}}}\nspec:\n  http: {{url: \"{url}\"}}\n  interval: {interval}\n  timeout: 900ms\n  assertions: [\"status == 200\"]\n---\n"
    )
}

fn window_doc(id: &str, monitor: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata:\n  id: {id}\nspec:\n  name: upgrade\n  start: 2099-01-01T00:00:00Z\n  end: 2099-01-01T02:00:00Z\n  monitors: [{monitor}]\n"
    )
}

/// Resources by (kind, id), from a file or directory or from text.
fn resources_of(loaded: Vec<document::Loaded>) -> BTreeMap<(String, String), Resource> {
    loaded
        .into_iter()
        .map(|l| {
            (
                (l.resource.kind().to_owned(), l.resource.id().to_owned()),
                l.resource,
            )
        })
        .collect()
}

fn load(path: &Path) -> BTreeMap<(String, String), Resource> {
    let (loaded, errors) = document::load_path(path);
    assert!(errors.is_empty(), "{errors:?}");
    resources_of(loaded)
}

fn parse(text: &str) -> BTreeMap<(String, String), Resource> {
    let (loaded, errors) = document::parse_str(text, Path::new("export.yaml"));
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    resources_of(loaded)
}

#[test]
fn apply_diff_export_and_prune_round_trip() {
    let env = Env::start();
    let files = env.dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let url = env.target.url();
    let monitors = |alpha_interval: &str, with_beta: bool| {
        let mut text = monitor_doc("alpha", &url, alpha_interval, "team: payments");
        if with_beta {
            text.push_str(&monitor_doc("beta", &url, "1m", "team: search, env: prod"));
        }
        write(&files, "monitors.yaml", &text);
    };
    monitors("30s", true);
    write(&files, "windows.yaml", &window_doc("upgrade", "alpha"));
    let f = files.to_str().unwrap();

    let out = env.apply_files(f, &[], "3 created, 0 updated, 0 unchanged, 0 pruned");
    assert!(out.contains("monitor/alpha created"), "{out}");

    // Applying again, and diffing, find nothing to do.
    assert_eq!(env.diff(f, 0), "");
    env.apply_files(f, &[], "0 created, 0 updated, 3 unchanged, 0 pruned");

    // An edit shows in diff (exit 1) and dry runs, and changes nothing until applied.
    monitors("45s", true);
    let text = env.diff(f, 1);
    assert!(text.contains("~ monitor/alpha (update)"), "{text}");
    assert!(text.contains("-   interval: 30s"), "{text}");
    assert!(text.contains("+   interval: 45s"), "{text}");
    assert!(!text.contains("monitor/beta"), "{text}");
    assert!(!text.contains('\x1b'), "colour without a terminal: {text}");
    let dry = env.apply_files(
        f,
        &["--dry-run"],
        "0 created, 1 updated, 2 unchanged, 0 pruned (dry run",
    );
    assert!(dry.contains("+   interval: 45s"), "{dry}");
    env.diff(f, 1);
    env.apply_files(f, &[], "0 created, 1 updated, 2 unchanged, 0 pruned");
    env.diff(f, 0);

    // Export reproduces the files' resources.
    let exported = env.ok(&["export"]);
    assert!(!exported.contains("managed-by"), "{exported}");
    assert_eq!(parse(&exported), load(&files));

    // A monitor made through the API is exported, and export | apply changes nothing.
    let response = env
        .api()
        .put(env.server.url("/api/v1/monitors/api-made"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({
            "labels": {"team": "ops"},
            "spec": {"http": {"url": url}, "interval": "1m"}
        }))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 201, "{:?}", response.text());
    let exported = env.ok(&["export"]);
    assert!(exported.contains("id: api-made"), "{exported}");
    let export_file = write(env.dir.path(), "export.yaml", &exported);
    let export_path = export_file.to_str().unwrap();
    let out = env.run(&["diff", "-f", export_path]);
    expect(&out, 0, &["diff of the export"]);
    let out = env.ok(&["apply", "-f", export_path]);
    assert!(
        out.contains("0 created, 0 updated, 4 unchanged, 0 pruned"),
        "{out}"
    );
    let json = env.ok(&["export", "-o", "json", "--selector", "team=payments"]);
    let docs: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(docs.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(docs[0]["metadata"]["id"], "alpha");

    // Removing beta from the files and pruning deletes beta only, never the API-made monitor.
    monitors("45s", false);
    let out = env.apply_files(
        f,
        &["--prune"],
        "0 created, 0 updated, 2 unchanged, 1 pruned",
    );
    assert!(out.contains("monitor/beta pruned"), "{out}");
    let out = env.run(&["get", "monitors", "beta"]);
    expect(&out, 1, &["get beta"]);
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    env.ok(&["get", "monitors", "api-made"]);
    let ids = env.ok(&["get", "monitors", "-o", "json"]);
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&ids)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["alpha", "api-made"]);

    // Bad files fail before the server is asked anything, with file:line: field: message.
    let bad = env.dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    write(
        &bad,
        "bad.yaml",
        &monitor_doc("gamma", &url, "5x", "").replace("---\n", ""),
    );
    let out = env.run(&["apply", "-f", bad.to_str().unwrap()]);
    expect(&out, 1, &["apply bad"]);
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml:") && err.contains("spec.interval"),
        "{err}"
    );
    expect(
        &env.run(&["get", "monitors", "gamma"]),
        1,
        &["gamma absent"],
    );
    // Errors of diff exit with 2.
    expect(
        &env.run(&["diff", "-f", bad.to_str().unwrap()]),
        2,
        &["diff bad"],
    );
}

/// Ids of the server's monitors, sorted.
fn monitor_ids(env: &Env) -> Vec<String> {
    let json = env.ok(&["get", "monitors", "-o", "json"]);
    let mut ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&json)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn prune_deletes_only_its_own_apply_set_and_asks_before_many() {
    let env = Env::start();
    let url = env.target.url();
    let dir_a = env.dir.path().join("a");
    let dir_b = env.dir.path().join("b");
    let empty = env.dir.path().join("empty");
    for d in [&dir_a, &dir_b, &empty] {
        std::fs::create_dir(d).unwrap();
    }
    let many: String = (1..=7)
        .map(|i| monitor_doc(&format!("a{i}"), &url, "1m", ""))
        .collect();
    write(&dir_a, "m.yaml", &many);
    write(&dir_b, "m.yaml", &monitor_doc("b1", &url, "1m", ""));
    let (a, b, e) = (
        dir_a.to_str().unwrap(),
        dir_b.to_str().unwrap(),
        empty.to_str().unwrap(),
    );
    env.ok(&["apply", "--apply-set", "set-a", "-f", a]);
    env.ok(&["apply", "--apply-set", "set-b", "-f", b]);
    // Made by an apply without a set (or by an older CLI): in no set, never pruned.
    env.ok(&[
        "apply",
        "-f",
        &write(
            env.dir.path(),
            "old.yaml",
            &monitor_doc("old", &url, "1m", ""),
        )
        .to_string_lossy(),
    ]);
    let stored: serde_json::Value = env
        .api()
        .get(env.server.url("/api/v1/monitors/a1"))
        .bearer_auth(ADMIN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        stored["labels"]["vedette.dev/apply-set"], "set-a",
        "{stored}"
    );
    let all = monitor_ids(&env);
    assert_eq!(all.len(), 9, "{all:?}");

    // --prune without a set is refused before anything is deleted.
    let out = env.run(&["apply", "-f", e, "--prune"]);
    expect(&out, 2, &["prune without a set"]);
    assert!(stderr(&out).contains("--apply-set"), "{}", stderr(&out));
    let out = env.run(&["diff", "-f", e, "--prune"]);
    expect(&out, 2, &["diff prune without a set"]);
    // An empty directory with another set's name prunes nothing of set-a, set-b or the rest.
    let out = env.ok(&["apply", "--apply-set", "set-c", "-f", e, "--prune"]);
    assert!(out.contains("0 pruned"), "{out}");
    assert_eq!(monitor_ids(&env), all);

    // The same plan in diff and dry run: the 7 monitors of set-a only.
    let out = env.run(&["diff", "--apply-set", "set-a", "-f", e, "--prune"]);
    expect(&out, 1, &["diff prune"]);
    let text = stdout(&out);
    assert_eq!(text.matches("(prune)").count(), 7, "{text}");
    assert!(
        !text.contains("monitor/b1") && !text.contains("monitor/old"),
        "{text}"
    );
    let dry = env.ok(&[
        "apply",
        "--apply-set",
        "set-a",
        "-f",
        e,
        "--prune",
        "--dry-run",
    ]);
    assert_eq!(dry.matches("(prune)").count(), 7, "{dry}");
    assert!(dry.contains("7 pruned (dry run"), "{dry}");

    // More than 5 without a terminal needs --yes.
    let out = env.run(&["apply", "--apply-set", "set-a", "-f", e, "--prune"]);
    expect(&out, 2, &["prune many without --yes"]);
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(monitor_ids(&env), all);
    let out = env.ok(&["apply", "--apply-set", "set-a", "-f", e, "--prune", "--yes"]);
    assert!(
        out.contains("0 created, 0 updated, 0 unchanged, 7 pruned"),
        "{out}"
    );
    assert_eq!(monitor_ids(&env), ["b1", "old"]);

    // A file may not set the label itself.
    write(
        &dir_b,
        "m.yaml",
        &monitor_doc("b1", &url, "1m", "vedette.dev/apply-set: set-a"),
    );
    let out = env.run(&["apply", "--apply-set", "set-b", "-f", b]);
    expect(&out, 1, &["label in a file"]);
    assert!(
        stderr(&out).contains("vedette.dev/apply-set"),
        "{}",
        stderr(&out)
    );
}

fn webhook_doc(id: &str, description: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  id: {id}\n  labels: {{team: ops}}\nspec:\n  url: http://127.0.0.1:9/x\n  description: {description}\n  enabled: false\n  event_types: [\"monitor.*\"]\n  auth: {{type: bearer, token: s3cret-bearer-token}}\n  headers:\n    X-Key: {{secret: s3cret-header-value}}\n"
    )
}

#[test]
fn webhook_endpoints_apply_diff_export_and_prune() {
    let env = Env::start_with_args(&["--webhook-allow-private"]);
    let files = env.dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let url = env.target.url();
    let write_files = |description: &str, with_webhook: bool| {
        let mut text = monitor_doc("alpha", &url, "30s", "team: payments");
        if with_webhook {
            text.push_str(&webhook_doc("ops-hook", description));
        }
        write(&files, "all.yaml", &text);
    };
    write_files("first", true);
    let f = files.to_str().unwrap();

    let out = env.apply_files(f, &[], "2 created, 0 updated, 0 unchanged, 0 pruned");
    assert!(out.contains("webhook/ops-hook created"), "{out}");
    // Stored with the ownership label and the file's secrets (shown redacted).
    let stored: serde_json::Value = env
        .api()
        .get(env.server.url("/api/v1/webhooks/ops-hook"))
        .bearer_auth(ADMIN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stored["labels"]["managed-by"], "vedette-cli", "{stored}");
    assert_eq!(stored["spec"]["auth"]["token"], "********", "{stored}");
    assert_eq!(stored["spec"]["description"], "first", "{stored}");

    // Redacted secrets and the generated signing secret are no difference.
    assert_eq!(env.diff(f, 0), "");
    env.apply_files(f, &[], "0 created, 0 updated, 2 unchanged, 0 pruned");

    // An edited description shows in diff (exit 1), without the file's secrets.
    write_files("second", true);
    let text = env.diff(f, 1);
    assert!(text.contains("~ webhook/ops-hook (update)"), "{text}");
    assert!(text.contains("-   description: first"), "{text}");
    assert!(text.contains("+   description: second"), "{text}");
    assert!(!text.contains("monitor/alpha"), "{text}");
    assert!(!text.contains("s3cret"), "a secret was printed: {text}");
    let out = env.apply_files(f, &[], "0 created, 1 updated, 1 unchanged, 0 pruned");
    assert!(out.contains("webhook/ops-hook updated"), "{out}");
    env.diff(f, 0);

    // Export holds it, secrets redacted and signing secrets left out; applying the export
    // changes nothing and keeps the stored secrets.
    let exported = env.ok(&["export"]);
    assert!(exported.contains("kind: WebhookEndpoint"), "{exported}");
    assert!(exported.contains("id: ops-hook"), "{exported}");
    assert!(exported.contains("description: second"), "{exported}");
    assert!(!exported.contains("s3cret"), "{exported}");
    assert!(!exported.contains("secrets:"), "{exported}");
    assert!(!exported.contains("managed-by"), "{exported}");
    let exported_resources = parse(&exported);
    assert!(
        exported_resources.contains_key(&("WebhookEndpoint".to_owned(), "ops-hook".to_owned()))
    );
    let export_file = write(env.dir.path(), "export.yaml", &exported);
    let export_path = export_file.to_str().unwrap();
    expect(
        &env.run(&["diff", "-f", export_path]),
        0,
        &["diff of the export"],
    );
    let out = env.ok(&["apply", "-f", export_path]);
    assert!(
        out.contains("0 created, 0 updated, 2 unchanged, 0 pruned"),
        "{out}"
    );
    let before_version = stored["version"].as_i64().unwrap();
    let stored: serde_json::Value = env
        .api()
        .get(env.server.url("/api/v1/webhooks/ops-hook"))
        .bearer_auth(ADMIN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        stored["version"].as_i64().unwrap(),
        before_version + 1,
        "{stored}"
    );

    // A spec that does not decode is reported at its file, line and field before the server
    // is asked; one the server refuses (an integration its catalog lacks), with file and line.
    let bad = env.dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    write(
        &bad,
        "hook.yaml",
        "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata: {id: bad-hook}\nspec:\n  url: http://127.0.0.1:9/x\n  enabled: false\n  nope: 1\n",
    );
    let out = env.run(&["apply", "-f", bad.to_str().unwrap()]);
    expect(&out, 1, &["apply bad webhook"]);
    let err = stderr(&out);
    assert!(
        err.contains("hook.yaml:7: spec.nope: unknown field"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    write(
        &bad,
        "hook.yaml",
        "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata: {id: bad-hook}\nspec:\n  integration: {name: no-such-integration}\n  enabled: false\n",
    );
    let out = env.run(&["apply", "-f", bad.to_str().unwrap()]);
    expect(&out, 1, &["apply webhook the server refuses"]);
    let err = stderr(&out);
    assert!(err.contains("hook.yaml:1: webhook/bad-hook:"), "{err}");
    assert!(err.contains("no-such-integration"), "{err}");

    // Removed from the files, it is pruned.
    write_files("second", false);
    let out = env.apply_files(
        f,
        &["--prune"],
        "0 created, 0 updated, 1 unchanged, 1 pruned",
    );
    assert!(out.contains("webhook/ops-hook pruned"), "{out}");
    let status = env
        .api()
        .get(env.server.url("/api/v1/webhooks/ops-hook"))
        .bearer_auth(ADMIN)
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);
}

#[test]
fn read_commands_actions_and_tokens() {
    let env = Env::start();
    let files = env.dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let mut text = monitor_doc("web", &env.target.url(), "1s", "team: web");
    text.push_str(&monitor_doc("dead", &dead_url, "1s", "team: db"));
    write(&files, "m.yaml", &text);
    env.ok(&["apply", "-f", files.to_str().unwrap()]);

    // run: the result with each assertion; exit 0 when up, 1 when down.
    let out = env.ok(&["run", "web"]);
    assert!(out.starts_with("monitor/web: up"), "{out}");
    assert!(out.contains("✓ "), "{out}");
    let out = env.run(&["run", "dead"]);
    expect(&out, 1, &["run dead"]);
    assert!(
        stdout(&out).starts_with("monitor/dead: down"),
        "{}",
        stdout(&out)
    );
    let json = env.ok(&["run", "web", "-o", "json"]);
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(result["outcome"], "up");

    // get in every format.
    let table = env.ok(&["get", "monitors"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID    STATE"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("dead ")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("web ")), "{table}");
    let yaml = env.ok(&["get", "monitors", "-l", "team=web", "-o", "yaml"]);
    assert!(
        yaml.contains("id: web") && !yaml.contains("id: dead"),
        "{yaml}"
    );
    let results = env.ok(&["get", "results", "web", "-o", "json"]);
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert!(!results.as_array().unwrap().is_empty());
    let table = env.ok(&["get", "results", "web"]);
    assert!(table.starts_with("STARTED"), "{table}");

    // The down monitor opens an incident, seen by get, describe and status.
    let incident = wait_for(Duration::from_secs(20), "an open incident", || {
        let out = env.run(&[
            "get",
            "incidents",
            "--monitor",
            "dead",
            "--state",
            "open",
            "-o",
            "json",
        ]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        list.as_array()?
            .first()
            .map(|i| i["id"].as_str().unwrap().to_owned())
    });
    let one = env.ok(&["get", "incidents", &incident, "-o", "json"]);
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["monitor_id"], "dead");
    let table = env.ok(&["get", "incidents"]);
    assert!(
        table.contains(&incident) && table.contains("open"),
        "{table}"
    );
    let described = env.ok(&["describe", "monitor", "dead"]);
    assert!(described.contains("Monitor:     dead"), "{described}");
    assert!(described.contains("State:       down"), "{described}");
    assert!(described.contains("connection refused"), "{described}");
    assert!(described.contains(&incident), "{described}");
    let described = env.ok(&["describe", "monitor", "web"]);
    assert!(described.contains("✓ "), "{described}");
    let json = env.ok(&["describe", "monitor", "web", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["monitor"]["id"], "web");
    assert!(!json["results"].as_array().unwrap().is_empty());
    let status = env.ok(&["status"]);
    assert!(status.contains("Open incidents (1)"), "{status}");
    let status: serde_json::Value =
        serde_json::from_str(&env.ok(&["status", "-o", "json"])).unwrap();
    assert_eq!(status["monitors"]["total"], 2);
    assert_eq!(status["monitors"]["down"], 1);

    // pause and resume.
    let out = env.ok(&["pause", "web"]);
    assert!(out.contains("monitor/web paused"), "{out}");
    let state = |id: &str| {
        let m: serde_json::Value =
            serde_json::from_str(&env.ok(&["get", "monitors", id, "-o", "json"])).unwrap();
        m["status"]["state"].as_str().unwrap().to_owned()
    };
    assert_eq!(state("web"), "paused");
    let out = env.ok(&["resume", "web"]);
    assert!(out.contains("monitor/web resumed"), "{out}");
    wait_for(Duration::from_secs(20), "web to be checked again", || {
        (state("web") != "paused").then_some(())
    });

    // Tokens: create (secret printed once), use, list, revoke.
    let out = env.run(&[
        "token",
        "create",
        "--name",
        "ci-reader",
        "--scope",
        "read",
        "--expires-in",
        "30d",
    ]);
    expect(&out, 0, &["token create"]);
    let secret = stdout(&out).trim().to_owned();
    assert!(secret.starts_with("vdt_"), "{secret}");
    assert!(stderr(&out).contains("not shown again"), "{}", stderr(&out));
    let reader = env.with_token(&secret, &["get", "monitors"]);
    expect(&reader, 0, &["get as reader"]);
    let denied = env.with_token(&secret, &["pause", "web"]);
    expect(&denied, 1, &["pause as reader"]);
    assert!(stderr(&denied).contains("403"), "{}", stderr(&denied));
    let list = env.ok(&["token", "list"]);
    assert!(
        list.contains("ci-reader") && list.contains("read"),
        "{list}"
    );
    assert!(!list.contains(&secret), "{list}");
    let tokens: serde_json::Value =
        serde_json::from_str(&env.ok(&["token", "list", "-o", "json"])).unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci-reader")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .unwrap();
    let out = env.ok(&["token", "revoke", &id]);
    assert!(out.contains("revoked"), "{out}");
    let revoked = env.with_token(&secret, &["get", "monitors"]);
    expect(&revoked, 1, &["get with a revoked token"]);
    assert!(stderr(&revoked).contains("401"), "{}", stderr(&revoked));

    // Problems from the server read as status, title and field.
    let out = env.run(&["token", "create", "--name", " ", "--scope", "read"]);
    expect(&out, 1, &["token create with a blank name"]);
    assert!(stderr(&out).contains("error: 422 "), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("name: must not be empty"),
        "{}",
        stderr(&out)
    );

    // Completion scripts.
    for shell in ["bash", "zsh", "fish"] {
        let script = env.ok(&["completion", shell]);
        assert!(script.contains("vedette"), "{shell}");
        assert!(script.contains("apply"), "{shell}");
    }
}

#[test]
fn login_contexts_and_connection_errors() {
    let env = Env::start();
    let url = env.server.base_url();

    // Without a server configured: a usage error (exit 2) that says what to do.
    let out = env.bare(&["status"]);
    expect(&out, 2, &["status unconfigured"]);
    assert!(stderr(&out).contains("vedette login"), "{}", stderr(&out));

    // A bad token is refused and nothing is saved.
    let out = env.bare(&[
        "login",
        &url,
        "--token",
        "vdt_wrong-token-0000000000000000000000000",
    ]);
    expect(&out, 1, &["login with a bad token"]);
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(!env.config_file().exists());

    let out = env.bare(&["login", &url, "--token", ADMIN, "--name", "local"]);
    expect(&out, 0, &["login"]);
    assert!(stdout(&out).contains("\"local\""), "{}", stdout(&out));
    let mode = std::fs::metadata(env.config_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let out = env.bare(&["status"]);
    expect(&out, 0, &["status from the context"]);

    // A second context; switch back and forth.
    let out = env.bare(&["login", &url, "--token", ADMIN, "--name", "other"]);
    expect(&out, 0, &["login other"]);
    let list = stdout(&env.bare(&["context", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("*") && l.contains("other")),
        "{list}"
    );
    let out = env.bare(&["context", "use", "local"]);
    expect(&out, 0, &["context use"]);
    let list = stdout(&env.bare(&["context", "list", "-o", "json"]));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "local" && c["current"] == true)
    );
    expect(
        &env.bare(&["context", "use", "nope"]),
        2,
        &["context use nope"],
    );
    expect(
        &env.bare(&["--context", "other", "status"]),
        0,
        &["--context other"],
    );
    expect(
        &env.bare(&["--context", "nope", "status"]),
        2,
        &["--context nope"],
    );

    // Flags and environment override the context: a wrong URL is reported with that URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = env.bare(&["--server", &dead, "status"]);
    expect(&out, 1, &["status against a closed port"]);
    assert!(
        stderr(&out).contains(&format!("cannot reach {dead}/api/v1/status")),
        "{}",
        stderr(&out)
    );
    let out = env.with_token("vdt_nope-0000000000000000000000000000000", &["status"]);
    expect(&out, 1, &["status with a wrong VEDETTE_TOKEN"]);
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

/// A broken contexts file stops every command with its file, line and field in user terms,
/// never quoting the token, and exit code 2.
#[test]
fn a_broken_contexts_file_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "config.yaml",
        "current-context: prod\ncontexts:\n  prod:\n    url: 8080\n    token: [vdt_not_shown]\n",
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(["get", "monitors"])
        .env_remove("VEDETTE_URL")
        .env_remove("VEDETTE_TOKEN")
        .env_remove("VEDETTE_CONTEXT")
        .env("VEDETTE_CONFIG_FILE", &file)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vedette");
    expect(&out, 2, &["get monitors with a broken contexts file"]);
    let f = file.display();
    assert_eq!(
        stderr(&out),
        format!(
            "error: invalid config file (contexts of `vedette context`):\n\
             {f}:4: contexts.prod.url: expected a string, got the number 8080\n\
             {f}:5: contexts.prod.token: invalid value (not shown): expected a string\n"
        )
    );
}

/// Offline recovery: with the server stopped, `token create --admin --data-dir` writes a new
/// admin token into the store, printing its secret once; the restarted server accepts it.
#[test]
fn offline_token_create_recovers_admin_access() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let vedette = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(args)
            .env_remove("VEDETTE_URL")
            .env_remove("VEDETTE_TOKEN")
            .env_remove("VEDETTE_CONTEXT")
            .env("VEDETTE_CONFIG_FILE", dir.path().join("none.yaml"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run vedette")
    };
    let server = Server::start_with_env(&data, &[], &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)]);
    assert!(server.stop());

    let data_arg = data.to_str().unwrap();
    let out = vedette(&["token", "create", "--admin", "--data-dir", data_arg]);
    expect(&out, 0, &["token create --admin --data-dir"]);
    let secret = stdout(&out).trim().to_owned();
    assert!(secret.starts_with("vdt_"), "{secret}");
    assert!(stderr(&out).contains("not shown again"), "{}", stderr(&out));

    let missing = dir.path().join("nowhere");
    let out = vedette(&[
        "token",
        "create",
        "--admin",
        "--data-dir",
        missing.to_str().unwrap(),
    ]);
    expect(&out, 2, &["token create --data-dir without a store"]);
    assert!(stderr(&out).contains("--data-dir"), "{}", stderr(&out));
    assert!(!missing.exists(), "no store is created on a typo");

    let server = Server::start(&data, &[]);
    let listed = reqwest::blocking::Client::new()
        .get(server.url("/api/v1/tokens"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: serde_json::Value = listed.json().unwrap();
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["bootstrap", "recovery"], "{listed}");
    assert!(server.stop());
}

/// Runs `vedette ARGS` with stdout a pipe whose reader is already gone; returns the status and
/// stderr.
fn with_closed_stdout(env: &Env, args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(args)
        .env("VEDETTE_URL", env.server.base_url())
        .env("VEDETTE_TOKEN", ADMIN)
        .env("VEDETTE_CONFIG_FILE", env.config_file())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vedette");
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), err)
}

#[test]
fn a_closed_pipe_ends_commands_quietly() {
    use std::os::unix::process::ExitStatusExt as _;
    let env = Env::start_with_args(&["--demo"]);
    for args in [
        &["get", "monitors", "-o", "json"][..],
        &["schema", "monitor"],
        &["completion", "bash"],
        &["export"],
    ] {
        let (status, err) = with_closed_stdout(&env, args);
        assert!(
            status.signal() == Some(13) || status.code() == Some(0),
            "vedette {args:?}: {status:?}\n{err}"
        );
        assert!(!err.contains("panicked"), "vedette {args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "vedette {args:?}: {err}");
    }
}

#[test]
fn demo_monitors_stay_out_of_the_terraform_export() {
    let env = Env::start_with_args(&["--demo"]);
    wait_for(Duration::from_secs(20), "demo monitors", || {
        env.ok(&["get", "monitors"])
            .contains("demo-healthy")
            .then_some(())
    });
    let tf = env.ok(&["export", "--format", "terraform"]);
    assert!(!tf.contains("resource \"vedette_monitor\""), "{tf}");
    assert!(!tf.contains("import {"), "{tf}");
    assert!(
        tf.contains("# - vedette_monitor \"demo-healthy\": a demo monitor"),
        "{tf}"
    );
    let yaml = env.ok(&["export"]);
    assert!(!yaml.contains("demo-healthy"), "{yaml}");
}

/// `webhook test` shows why a delivery failed in the receiver's terms, never the URL's token.
#[test]
fn webhook_test_says_why_a_delivery_failed() {
    let env = Env::start_with_args(&["--webhook-allow-private"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook?token=cli-s3cr3t-t0k3n");
    env.ok(&["webhook", "create", "--id", "closed", "--url", &url]);
    let out = env.run(&["webhook", "test", "closed", "--wait", "10"]);
    expect(&out, 1, &["webhook test"]);
    let shown = stdout(&out);
    let attempt = shown
        .lines()
        .find(|l| l.starts_with("Attempt 1: failure (no answer, "))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        attempt.ends_with(&format!(
            " ms): connection refused by 127.0.0.1:{port} (nothing listens on that port)"
        )),
        "{attempt}"
    );
    assert!(!shown.contains("cli-s3cr3t-t0k3n"), "{shown}");
}

#[test]
fn server_flag_webhook_url_and_private_targets() {
    // The demo server with the SSRF guard on, as a newcomer starts it.
    let env = Env::start_with_args(&["--demo"]);
    // `webhook create --url` is the endpoint's URL; the server comes from VEDETTE_URL.
    let out = env.run(&[
        "webhook",
        "create",
        "--id",
        "local",
        "--url",
        "http://127.0.0.1:9/hook",
        "-o",
        "json",
    ]);
    expect(&out, 0, &["webhook create --url"]);
    assert!(
        stderr(&out).contains("--webhook-allow-private"),
        "{}",
        stderr(&out)
    );
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["spec"]["url"], "http://127.0.0.1:9/hook");

    // The test delivery fails on the guard, and the error names the flag.
    let out = env.run(&["webhook", "test", "local", "--wait", "10"]);
    expect(&out, 1, &["webhook test"]);
    assert!(
        stdout(&out).contains("--webhook-allow-private"),
        "{}",
        stdout(&out)
    );
    // The list shows delivery counts.
    // (The endpoint takes every event type, so demo events may be queued beside the test one.)
    let list = env.ok(&["webhook", "list"]);
    let deliveries = list
        .lines()
        .find(|l| l.starts_with("local "))
        .and_then(|l| l.split("0 ok, ").nth(1))
        .unwrap_or_default();
    let pending: u32 = deliveries
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(
        pending >= 1 && deliveries.contains("pending, 0 failed"),
        "{list}"
    );

    // The server is chosen with --server; the old --url still works, with a warning.
    let base = env.server.base_url();
    let out = env.bare(&["--server", &base, "--token", ADMIN, "status"]);
    expect(&out, 0, &["--server"]);
    let out = env.bare(&["--url", &base, "--token", ADMIN, "status"]);
    expect(&out, 0, &["--url"]);
    assert!(stderr(&out).contains("--server"), "{}", stderr(&out));
    // A scheme-less address means http://, and the note says so.
    let hostport = base.trim_start_matches("http://");
    let out = env.bare(&["login", hostport, "--token", ADMIN]);
    expect(&out, 0, &["login without a scheme"]);
    assert!(
        stderr(&out).contains(&format!("using {base}")),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("relative URL"), "{}", stderr(&out));
}

#[test]
fn describe_delete_incident_timeline_watch_and_plain_logs() {
    let env = Env::start();
    let url = env.target.url();
    let files = env.dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let heartbeat = "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: nightly}\nspec:\n  heartbeat: {grace: 90m}\n  interval: 1d\n---\n";
    let flaky = monitor_doc("flaky", &url, "1s", "").replace("timeout: 900ms", "timeout: 500ms");
    let text = format!(
        "{heartbeat}{flaky}{}{}{}",
        monitor_doc("x1", &url, "1m", ""),
        monitor_doc("x2", &url, "1m", ""),
        monitor_doc("x3", &url, "1m", "")
    );
    write(&files, "m.yaml", &text);
    env.ok(&["apply", "-f", files.to_str().unwrap()]);

    // A heartbeat shows its ping schedule and grace, durations in their largest exact units.
    let described = env.ok(&["describe", "monitor", "nightly"]);
    assert!(
        described.contains("pings expected every 1d, grace 90m"),
        "{described}"
    );
    assert!(!described.contains("timeout"), "{described}");
    let table = env.ok(&["get", "monitors"]);
    assert!(table.contains("  1d\n"), "{table}");

    // delete: several ids need --yes without a terminal; one does not.
    let out = env.run(&["delete", "monitor", "x1", "x2"]);
    expect(&out, 2, &["delete two without --yes"]);
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    env.ok(&["get", "monitors", "x1"]);
    let out = env.ok(&["delete", "monitor", "x1", "x2", "--yes"]);
    assert!(
        out.contains("monitor/x1 deleted") && out.contains("monitor/x2 deleted"),
        "{out}"
    );
    let out = env.run(&["get", "monitors", "x2"]);
    expect(&out, 1, &["x2 gone"]);

    // get --watch prints the monitors, then changes as they happen.
    let watch = Watch::spawn(&env, &["get", "monitors", "--watch"]);
    watch.wait("the first listing", |l| l.contains("x3"));
    env.ok(&["delete", "monitor", "x3"]);
    watch.wait("the deletion", |l| l.contains("monitor/x3 deleted"));

    // An incident shows its timeline.
    env.target.set_status(500);
    let id = wait_for(Duration::from_secs(30), "an incident", || {
        let json = env.ok(&["get", "incidents", "-o", "json"]);
        let list: serde_json::Value = serde_json::from_str(&json).unwrap();
        list.as_array()?
            .first()
            .map(|i| i["id"].to_string().trim_matches('"').to_owned())
    });
    let shown = env.ok(&["get", "incident", &id]);
    assert!(shown.contains("\nTimeline:\n  20"), "{shown}");
    // The watch saw flaky go down.
    watch.wait("the watch to show down", |l| {
        l.starts_with("flaky") && l.contains("down")
    });
    drop(watch);

    // The server's stderr is not a terminal: its logs carry no colour codes.
    let logs = env.server.logs();
    assert!(!logs.contains('\x1b'), "{logs}");
}

/// A running `vedette get ... --watch` and the lines it has printed so far.
struct Watch {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Watch {
    fn spawn(env: &Env, args: &[&str]) -> Watch {
        use std::io::{BufRead as _, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(args)
            .env("VEDETTE_URL", env.server.base_url())
            .env("VEDETTE_TOKEN", ADMIN)
            .env("VEDETTE_CONFIG_FILE", env.config_file())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let stdout_pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout_pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Watch { child, lines }
    }

    /// Waits (at most 20 s) for a printed line that `matches`.
    fn wait(&self, what: &str, matches: impl Fn(&str) -> bool) {
        wait_for(Duration::from_secs(20), what, || {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| matches(l))
                .then_some(())
        });
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `get --watch` follows maintenance windows, incidents and results as it follows monitors:
/// what is listed, then what changes, and a line when an item leaves the list.
#[test]
fn get_watch_follows_windows_incidents_and_results() {
    let env = Env::start();
    let files = env.dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let monitor = monitor_doc("flaky", &env.target.url(), "1s", "");
    let window = window_doc("upgrade", "flaky");
    write(&files, "m.yaml", &format!("{monitor}{window}"));
    env.ok(&["apply", "-f", files.to_str().unwrap()]);

    let windows = Watch::spawn(&env, &["get", "maintenance", "--watch", "-o", "json"]);
    let incidents = Watch::spawn(&env, &["get", "incidents", "--state", "open", "--watch"]);
    let results = Watch::spawn(&env, &["get", "results", "flaky", "--watch", "-o", "json"]);
    windows.wait("the first listing", |l| l.contains(r#""id":"upgrade""#));
    results.wait("a result", |l| l.contains(r#""monitor_id":"flaky""#));

    // A changed window is printed again, a deleted one announced.
    let renamed = window.replace("name: upgrade", "name: renamed-upgrade");
    write(&files, "m.yaml", &format!("{monitor}{renamed}"));
    env.ok(&["apply", "-f", files.to_str().unwrap()]);
    windows.wait("the change", |l| l.contains("renamed-upgrade"));
    env.ok(&["delete", "maintenance", "upgrade"]);
    windows.wait("the deletion", |l| l == "maintenance/upgrade deleted");

    // An incident that opens is shown; once resolved it leaves the open ones.
    env.target.set_status(500);
    incidents.wait("the incident", |l| {
        l.contains("flaky") && l.contains("open")
    });
    env.target.set_status(200);
    incidents.wait("its resolution", |l| {
        l.starts_with("incident/") && l.ends_with(" no longer listed")
    });
    // New results keep coming, one JSON object per line.
    let count = || results.lines.lock().unwrap().len();
    let before = count();
    wait_for(Duration::from_secs(20), "newer results", || {
        (count() > before).then_some(())
    });
    for line in results.lines.lock().unwrap().iter() {
        let parsed: serde_json::Value = serde_json::from_str(line).expect("one JSON object");
        assert_eq!(parsed["monitor_id"], "flaky", "{line}");
    }
}

/// `webhook list --watch` prints the endpoints, then one again when it changes and a line when
/// it is deleted.
#[test]
fn webhook_list_watch_follows_endpoints() {
    let env = Env::start();
    env.ok(&[
        "webhook",
        "create",
        "--id",
        "hook",
        "--url",
        "http://127.0.0.1:9/hook",
    ]);
    let watch = Watch::spawn(&env, &["webhook", "list", "--watch", "-o", "json"]);
    watch.wait("the first listing", |l| l.contains(r#""id":"hook""#));
    env.ok(&[
        "webhook",
        "create",
        "--id",
        "later",
        "--url",
        "http://127.0.0.1:9/later",
    ]);
    watch.wait("the new endpoint", |l| l.contains(r#""id":"later""#));
    env.ok(&["delete", "webhook", "hook"]);
    watch.wait("the deletion", |l| l == "webhook/hook deleted");
}

/// `serve --public-url` makes a heartbeat's push URL absolute, and `describe` shows it so.
#[test]
fn describe_shows_the_absolute_push_url_under_public_url() {
    let env = Env::start_with_args(&["--public-url", "https://vedette.example.com/"]);
    let created = env
        .api()
        .put(env.server.url("/api/v1/monitors/nightly"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"spec": {
            "heartbeat": {"token": "nightly-push-token-0123"}, "interval": "1d"
        }}))
        .send()
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let described = env.ok(&["describe", "monitor", "nightly"]);
    assert!(
        described.contains("https://vedette.example.com/push/nightly-push-token-0123"),
        "{described}"
    );
}

#[test]
fn validate_speaks_of_durations_ports_and_cron_fields() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "interval.yaml",
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: a}\nspec:\n  http: {url: \"http://127.0.0.1:9/\"}\n  interval: 30\n",
    );
    write(
        dir.path(),
        "port.yaml",
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: b}\nspec:\n  tcp: {host: db, port: 70000}\n",
    );
    write(
        dir.path(),
        "cron.yaml",
        "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata: {id: c}\nspec:\n  cron: \"0 24 * * *\"\n  duration: 1h\n  monitors: [a]\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(["validate", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("spec.interval: 30 has no unit: write a duration like 30s"),
        "{err}"
    );
    assert!(
        err.contains("spec.tcp.port: 70000 is not a port: expected a port number 1–65535"),
        "{err}"
    );
    assert!(err.contains("the hour field is 24: expected 0–23"), "{err}");
    for internal in ["invalid type", "expected u16", "Component error"] {
        assert!(!err.contains(internal), "{err}");
    }
}

#[test]
fn webhook_listen_stops_quietly_when_its_reader_goes_away() {
    use std::io::{BufRead as _, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(["webhook", "listen", "--port", "0"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = stderr_lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let _ = reqwest::blocking::Client::new()
        .post(format!("http://{addr}/hook"))
        .body("{\"type\":\"monitor.down\"}")
        .send();
    let rest = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = rest.clone();
    std::thread::spawn(move || {
        for line in stderr_lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("listen kept running after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let rest = rest.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(!rest.iter().any(|l| l.contains("panicked")), "{rest:?}");
}

#[test]
fn runtime_pause_survives_apply_reload_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let target = Target::start();
    let conf = write(
        dir.path(),
        "served.yaml",
        &monitor_doc("from-file", &target.url(), "1s", "team: ops"),
    );
    let serve_args = ["--config", conf.to_str().unwrap()];
    let bootstrap = [("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)];
    let server = Server::start_with_env(&data, &serve_args, &bootstrap);
    let env = Env {
        server,
        target,
        dir,
    };
    let files = env.dir.path().join("applied");
    std::fs::create_dir(&files).unwrap();
    let mut text = monitor_doc("web", &env.target.url(), "1s", "team: web");
    text.push_str(
        &monitor_doc("held", &env.target.url(), "1s", "team: web")
            .replace("  timeout: 900ms\n", "  timeout: 900ms\n  paused: true\n"),
    );
    write(&files, "m.yaml", &text);
    let apply = ["apply", "-f", files.to_str().unwrap()];
    env.ok(&apply);
    let monitor = |env: &Env, id: &str| -> serde_json::Value {
        serde_json::from_str(&env.ok(&["get", "monitors", id, "-o", "json"])).unwrap()
    };

    let out = env.ok(&["pause", "web", "--reason", "deploy window"]);
    assert!(out.contains("monitor/web paused (state: paused)"), "{out}");
    // Applying the unchanged files keeps it paused: the pause is not in the spec.
    env.ok(&apply);
    let web = monitor(&env, "web");
    assert_eq!(web["status"]["state"], "paused", "{web:#}");
    assert_eq!(web["spec"]["paused"], false);
    assert_eq!(web["version"], 1);
    let diff = env.run(&["diff", "-f", files.to_str().unwrap()]);
    expect(&diff, 0, &["diff after pause"]);
    let table = env.ok(&["get", "monitors"]);
    let row = |table: &str, id: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no {id} in {table}"))
            .to_owned()
    };
    assert!(row(&table, "web").contains("paused (runtime)"), "{table}");
    assert!(row(&table, "held").contains("paused (spec)"), "{table}");
    let described = env.ok(&["describe", "monitor", "web"]);
    assert!(
        described.contains("Paused:      at runtime by bootstrap at ")
            && described.contains(": deploy window"),
        "{described}"
    );

    // A file-managed monitor can be paused, and a SIGHUP reload of a changed file keeps it so.
    let out = env.ok(&["pause", "from-file"]);
    assert!(out.contains("monitor/from-file paused"), "{out}");
    write(
        env.dir.path(),
        "served.yaml",
        &monitor_doc("from-file", &env.target.url(), "2s", "team: ops"),
    );
    env.server.signal("HUP");
    wait_for(Duration::from_secs(15), "the config reload", || {
        (monitor(&env, "from-file")["spec"]["interval"] == "2s").then_some(())
    });
    assert_eq!(monitor(&env, "from-file")["status"]["state"], "paused");

    // A restart keeps both paused.
    let Env {
        server,
        target,
        dir,
    } = env;
    assert!(server.stop());
    let env = Env {
        server: Server::start_with_env(&data, &serve_args, &bootstrap),
        target,
        dir,
    };
    for id in ["web", "from-file"] {
        let m = monitor(&env, id);
        assert_eq!(m["status"]["state"], "paused", "{id}: {m:#}");
        assert_eq!(m["status"]["paused"]["by"], "bootstrap");
    }

    // Resume: runs again; a monitor the spec pauses stays paused and the CLI says why.
    let out = env.ok(&["resume", "web"]);
    assert!(out.contains("monitor/web resumed"), "{out}");
    wait_for(Duration::from_secs(20), "web to be checked again", || {
        (monitor(&env, "web")["status"]["state"] == "up").then_some(())
    });
    let out = env.ok(&["resume", "held"]);
    assert!(out.contains("still paused by its spec"), "{out}");
    assert_eq!(monitor(&env, "held")["status"]["state"], "paused");
}
