//! The README's tour, followed line by line with the real `vedette` binary: its monitor
//! document and its command blocks are read from README.md itself, so the README cannot drift
//! from what the CLI does. Only what cannot run here is changed: the monitor's URL points at a
//! local target, `examples/` (which names real hosts) is replaced by a directory holding the
//! README's own document, and the server listens on a free loopback port.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{Server, Target};

const README: &str = include_str!("../../../README.md");

/// Admin token the tour's server is bootstrapped with.
const ADMIN: &str = "vdt_readme-tour-admin-token-0123456789abc";

/// The README's placeholders for the server address and the token.
const README_SERVER: &str = "http://127.0.0.1:8080";
const README_TOKEN: &str = "vdt_...";

/// The section of the README under `heading`, up to the next `## `.
fn section(heading: &str) -> &'static str {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &README[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The fenced blocks of `lang` in `text`, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("closed fence");
        out.push(body[..end].to_owned());
        rest = &body[end..];
    }
    out
}

/// A command line of a block: the comment after it removed, split into words (double quotes
/// group), and the file of a trailing `> file` redirect.
fn command_line(line: &str) -> (Vec<String>, Option<String>) {
    let line = line.find("  #").map_or(line, |i| &line[..i]).trim();
    let (line, redirect) = match line.split_once(" > ") {
        Some((cmd, file)) => (cmd, Some(file.trim().to_owned())),
        None => (line, None),
    };
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    assert_eq!(words.first().map(String::as_str), Some("vedette"), "{line}");
    words.remove(0);
    (words, redirect)
}

/// The CLI as a new user runs it: no `VEDETTE_*` variables, a home of its own.
fn vedette(home: &Path, work: &Path, args: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vedette"));
    command
        .args(args)
        .current_dir(work)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("VEDETTE_URL")
        .env_remove("VEDETTE_TOKEN")
        .env_remove("VEDETTE_CONTEXT")
        .env_remove("VEDETTE_CONFIG_FILE");
    command
}

fn assert_success(args: &[String], out: &Output) {
    assert!(
        out.status.success(),
        "`vedette {}` exited {:?}\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that follows changes until interrupted: it must keep running for 2 s and,
/// when `wanted` is given, print a line containing it within 20 s; then it is stopped.
fn keeps_following(mut command: Command, wanted: Option<&str>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vedette");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let expect_line = wanted.is_some();
    let wanted = wanted.map(str::to_owned);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if wanted.as_ref().is_none_or(|w| line.contains(w.as_str())) {
                let _ = tx.send(());
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    let exited = child.try_wait().expect("wait");
    let seen =
        exited.is_none() && (!expect_line || rx.recv_timeout(Duration::from_secs(20)).is_ok());
    let _ = child.kill();
    let _ = child.wait();
    assert!(exited.is_none(), "it exited: {exited:?}");
    assert!(
        seen,
        "nothing containing the wanted text was printed in 20 s"
    );
}

/// The tour's monitor document, pointed at `target`, plus `old-api` (the monitor the tour's
/// `delete` removes), written into `dir`.
fn write_monitors(dir: &Path, target: &Target) {
    let tour = section("## A short tour");
    let doc = blocks(tour, "yaml")
        .into_iter()
        .next()
        .expect("the tour's monitor document");
    assert!(doc.contains("https://payments.internal/healthz"), "{doc}");
    let doc = doc.replace("https://payments.internal/healthz", &target.url());
    let old = format!(
        "---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: old-api\nspec:\n  \
         http: {{url: {}}}\n  interval: 1h\n",
        target.url()
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("monitors.yaml"), format!("{doc}{old}")).unwrap();
}

#[test]
fn the_tour_works_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    let target = Target::start();
    write_monitors(&work.join("monitors"), &target);

    // The first block: validate, serve and schema, on the tour's document.
    let tour = section("## A short tour");
    let first = blocks(tour, "sh")
        .into_iter()
        .next()
        .expect("tour commands");
    let mut ran = 0;
    for line in first.lines().filter(|l| !l.trim().is_empty()) {
        let (mut args, _) = command_line(&line.replace("examples/", "monitors/"));
        if args[0] == "serve" {
            let data = tmp.path().join("serve-data");
            args.extend(["--listen", "127.0.0.1:0", "--data-dir"].map(String::from));
            args.push(data.display().to_string());
            let mut command = vedette(&home, &work, &args);
            command.stdout(Stdio::null());
            let mut child = command.stderr(Stdio::piped()).spawn().expect("serve");
            let stderr = child.stderr.take().expect("stderr");
            let listening = BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .take(200)
                .any(|l| l.contains("vedette listening on"));
            let _ = child.kill();
            let _ = child.wait();
            assert!(listening, "`vedette {}` did not start", args.join(" "));
        } else {
            let out = vedette(&home, &work, &args).output().unwrap();
            assert_success(&args, &out);
            if args[0] == "schema" {
                serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("a JSON Schema");
            }
        }
        ran += 1;
    }
    assert_eq!(ran, 3, "validate, serve and schema");

    // The CLI block, against a server of the test's own.
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let server = Server::start_with_env(&data, &[], &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)]);
    let cli = blocks(section("## The API, the CLI and Terraform"), "sh")
        .into_iter()
        .next()
        .expect("the CLI block");
    let mut commands = Vec::new();
    for line in cli.lines().filter(|l| !l.trim().is_empty()) {
        let line = line
            .replace(README_SERVER, &server.base_url())
            .replace(README_TOKEN, ADMIN);
        let (args, redirect) = command_line(&line);
        commands.push(args[0].clone());
        if args.iter().any(|a| a == "--watch") {
            let monitors = args.get(1).is_some_and(|kind| kind == "monitors");
            keeps_following(
                vedette(&home, &work, &args),
                monitors.then_some("payments-api"),
            );
            continue;
        }
        let out = vedette(&home, &work, &args).output().unwrap();
        assert_success(&args, &out);
        if let Some(file) = redirect {
            std::fs::write(work.join(file), &out.stdout).unwrap();
        }
    }
    for wanted in ["login", "apply", "diff", "export", "get", "delete", "run"] {
        assert!(
            commands.iter().any(|c| c == wanted),
            "{wanted}: {commands:?}"
        );
    }

    // What the tour promises happened.
    let exported = std::fs::read_to_string(work.join("monitors.yaml")).unwrap();
    assert!(exported.contains("payments-api"), "{exported}");
    let args = ["get", "monitors", "-o", "json"].map(String::from);
    let out = vedette(&home, &work, &args).output().unwrap();
    assert_success(&args, &out);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("payments-api") && !listed.contains("old-api"),
        "{listed}"
    );
    let tf = std::fs::read_to_string(work.join("monitors.tf")).unwrap();
    assert!(tf.contains("resource \"vedette_monitor\""), "{tf}");

    // The status-page section: its document applies, `describe` shows it over the tour's
    // monitor, and each URL it fetches answers.
    let pages = section("## Status pages");
    let doc = blocks(pages, "yaml")
        .into_iter()
        .next()
        .expect("the status page document");
    std::fs::write(work.join("pages.yaml"), doc).unwrap();
    let commands = blocks(pages, "sh")
        .into_iter()
        .next()
        .expect("the status page commands");
    let mut fetched = 0;
    for line in commands.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.replace(README_SERVER, &server.base_url());
        if let Some(rest) = line.strip_prefix("curl ") {
            let url = rest.split_whitespace().next().expect("a URL");
            let response = reqwest::blocking::get(url).expect("fetch");
            assert_eq!(response.status(), 200, "{url}");
            fetched += 1;
            continue;
        }
        let (args, _) = command_line(&line);
        let out = vedette(&home, &work, &args).output().unwrap();
        assert_success(&args, &out);
        if args[0] == "describe" {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Title:        Acme status") && text.contains("payments-api"),
                "{text}"
            );
        }
    }
    assert_eq!(fetched, 2, "the JSON and the feed");
}
