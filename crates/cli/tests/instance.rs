//! The real `vedette serve`: one server per database (a second one on the same SQLite data
//! directory or PostgreSQL database is refused before it prints a token or binds a port), flag
//! values checked at start, and data directories that cannot be used.

#[path = "../../store/tests/support/postgres.rs"]
mod postgres;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Server;

/// Runs `vedette serve ARGS` (with `--listen 127.0.0.1:0` unless ARGS has `--listen`) that
/// is expected to exit by itself; returns (exit code, stderr).
fn serve_expecting_failure(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vedette"));
    command.arg("serve");
    if !args.contains(&"--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vedette");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "vedette serve {args:?} did not exit within 30 s:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the refused server neither listened nor printed a token.
fn assert_started_nothing(stderr: &str) {
    assert!(!stderr.contains("vedette listening"), "{stderr}");
    assert!(!stderr.contains("vdt_"), "{stderr}");
}

#[test]
fn a_second_server_on_one_data_dir_is_refused_naming_the_lock_and_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, &[]);
    let data_arg = data.to_str().unwrap();

    let (code, stderr) = serve_expecting_failure(&["--data-dir", data_arg], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let lock = data.join("vedette.lock");
    assert!(stderr.contains(&lock.display().to_string()), "{stderr}");
    assert!(
        stderr.contains(&format!("held by process {}", first.child.id())),
        "{stderr}"
    );
    assert_started_nothing(&stderr);
    // Still refused with a bootstrap token configured: nothing is created or printed.
    let (code, stderr) = serve_expecting_failure(
        &["--data-dir", data_arg],
        &[(
            "VEDETTE_BOOTSTRAP_TOKEN",
            "vdt_second-server-token-0123456789abcdef",
        )],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_started_nothing(&stderr);

    // The lock goes with its holder (graceful stop here; the kernel frees it on kill -9 too).
    assert!(first.stop(), "graceful stop failed");
    let second = Server::start(&data, &[]);
    assert!(second.stop());
}

#[test]
fn a_crashed_server_leaves_no_stale_lock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    Server::start(&data, &[]).crash();
    let again = Server::start(&data, &[]);
    assert!(again.stop());
}

/// Creates a database of its own on the `VEDETTE_TEST_POSTGRES_URL` server: (its URL, the
/// server URL, its name). Fails when the variable is unset: run the test through
/// `scripts/with-postgres`, which starts a throwaway PostgreSQL and sets it.
fn fresh_postgres(rt: &tokio::runtime::Runtime) -> (String, String, String) {
    let server = std::env::var("VEDETTE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "VEDETTE_TEST_POSTGRES_URL is not set, so this PostgreSQL test cannot run: run it \
             through scripts/with-postgres"
        )
    });
    let name = format!(
        "vedette_lock_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let url = rt.block_on(postgres::create_database(&server, &name));
    (url, server, name)
}

#[test]
fn one_scheduler_per_postgres_database_and_a_lost_lock_stops_the_server() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (url, server_url, name) = fresh_postgres(&rt);
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(&dir.path().join("a"), &["--database-url", &url]);

    // Another data directory, the same database: refused, naming the database and holder.
    let other = dir.path().join("b");
    let (code, stderr) = serve_expecting_failure(
        &[
            "--data-dir",
            other.to_str().unwrap(),
            "--database-url",
            &url,
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("/{name}")), "{stderr}");
    assert!(
        stderr.contains(&format!("vedette pid {}", first.child.id())),
        "{stderr}"
    );
    assert_started_nothing(&stderr);
    if let Some(password) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password)
    {
        assert!(!stderr.contains(password), "the password leaked: {stderr}");
    }

    // The connection holding the lock dies: the server stops scheduling and exits non-zero.
    rt.block_on(postgres::execute(
        &server_url,
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND application_name LIKE 'vedette-scheduler-lock%'"
        ),
    ));
    let mut first = first;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = first.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server kept running without its lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success());
    support::wait_for(Duration::from_secs(5), "lock loss logged", || {
        first
            .logs()
            .contains("lost the instance lock")
            .then_some(())
    });
    drop(first);

    // Now a second server may run.
    let second = Server::start(&other, &["--database-url", &url]);
    assert!(second.stop());
    rt.block_on(postgres::drop_database(&server_url, &name));
}

#[test]
fn out_of_range_flags_are_refused_naming_the_flag_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    for (args, env, wanted) in [
        (
            vec!["--retention-raw-days", "4000000000"],
            vec![],
            vec!["--retention-raw-days", "0..=36500"],
        ),
        (
            vec![],
            vec![("VEDETTE_RETENTION_HOUR_DAYS", "36501")],
            vec!["--retention-hour-days", "0..=36500"],
        ),
        (
            vec!["--max-concurrency", "0"],
            vec![],
            vec!["--max-concurrency", "1..=100000"],
        ),
        (
            vec!["--max-concurrency", "18446744073709551615"],
            vec![],
            vec!["--max-concurrency"],
        ),
        (
            vec!["--webhook-retry-schedule", "0s,5s,9999d"],
            vec![],
            vec!["--webhook-retry-schedule", "from 0s to 30d"],
        ),
        (
            vec!["--webhook-disable-after", "0s"],
            vec![],
            vec!["--webhook-disable-after", "from 1m to 365d"],
        ),
        (
            vec!["--webhook-disable-after", "999999999999999999999h"],
            vec![],
            vec!["--webhook-disable-after", "too large"],
        ),
        (
            vec!["--discovery-file-root", "/nonexistent/vedette-dumps"],
            vec![],
            vec!["--discovery-file-root", "must name an existing folder"],
        ),
        (
            vec!["--listen", "127.0.0.1:70000"],
            vec![],
            vec!["--listen", "invalid socket address"],
        ),
        (
            vec!["--public-url", "https://vedette.example.com/?from=x"],
            vec![],
            vec![
                "--public-url",
                "absolute http or https URL",
                "it has a query",
            ],
        ),
        (
            vec![],
            vec![("VEDETTE_PUBLIC_URL", "vedette.example.com")],
            vec!["--public-url", "relative URL without a base"],
        ),
    ] {
        let mut all = vec!["--data-dir", data_arg];
        all.extend(args.iter().copied());
        let (code, stderr) = serve_expecting_failure(&all, &env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {stderr}");
        for w in wanted {
            assert!(
                stderr.contains(w),
                "{args:?} {env:?}: {w:?} missing: {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_started_nothing(&stderr);
    }
    assert!(!data.exists(), "a refused start created the data directory");
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stderr) = serve_expecting_failure(
        &["--data-dir", data.to_str().unwrap(), "--listen", &addr],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr} (--listen)")),
        "{stderr}"
    );
    // The failed start neither printed nor created the admin token: the next start on a free
    // port is the one that makes and prints it.
    assert_started_nothing(&stderr);
    let server = Server::start(&data, &[]);
    let logs = support::wait_for(Duration::from_secs(10), "the admin token", || {
        let logs = server.logs();
        logs.contains("vdt_").then_some(logs)
    });
    assert!(logs.contains("no API token existed"), "{logs}");
    assert!(server.stop());
}

const GIVEN_TOKEN: &str = "vdt_given-by-the-token-flag-0123456789abcdef";

/// `serve --token` (the global flag `serve --help` lists) is the bootstrap admin token, like
/// `--bootstrap-token`: nothing is generated, and that token works. Both flags differing is a
/// usage error.
#[test]
fn serve_token_is_the_bootstrap_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--token", GIVEN_TOKEN]);
    let client = reqwest::blocking::Client::new();
    let get = |token: &str| {
        client
            .get(server.url("/api/v1/tokens"))
            .bearer_auth(token)
            .send()
            .expect("request")
            .status()
            .as_u16()
    };
    assert_eq!(get(GIVEN_TOKEN), 200, "{}", server.logs());
    assert_eq!(get("vdt_some-other-token-0123456789abcdefgh"), 401);
    assert!(
        !server.logs().contains("no API token existed"),
        "{}",
        server.logs()
    );
    assert!(server.stop());

    let other = tempfile::tempdir().unwrap();
    let (code, stderr) = serve_expecting_failure(
        &[
            "--data-dir",
            other.path().join("data").to_str().unwrap(),
            "--token",
            GIVEN_TOKEN,
            "--bootstrap-token",
            "vdt_another-one-0123456789abcdefghijklmn",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--bootstrap-token"), "{stderr}");
    assert!(stderr.contains("--token"), "{stderr}");
    assert_started_nothing(&stderr);
}

#[test]
fn unusable_data_dirs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = support::write(dir.path(), "not-a-dir", "x");
    let under_file = file.join("data");
    for (data, reason) in [(&file, "not a directory"), (&under_file, "Not a directory")] {
        let (code, stderr) = serve_expecting_failure(&["--data-dir", data.to_str().unwrap()], &[]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("data directory {}", data.display())),
            "{stderr}"
        );
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_started_nothing(&stderr);
    }

    // The database path is taken by a directory.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("vedette.db")).unwrap();
    let (code, stderr) = serve_expecting_failure(&["--data-dir", blocked.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot open the SQLite database {}",
            blocked.join("vedette.db").display()
        )),
        "{stderr}"
    );
    assert_started_nothing(&stderr);

    // A read-only file system: sysfs refuses new directories even to root.
    // (Permission bits are no test here: the suite runs as root, who writes anyway.)
    let sys = Path::new("/sys/vedette-test-data");
    assert!(
        Path::new("/sys/kernel").is_dir() && std::fs::create_dir(sys).is_err(),
        "this test needs sysfs mounted at /sys (read-only to new directories)"
    );
    let (code, stderr) = serve_expecting_failure(&["--data-dir", sys.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot use data directory /sys/vedette-test-data"),
        "{stderr}"
    );
    assert_started_nothing(&stderr);
}
