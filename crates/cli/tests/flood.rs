//! The HTTP front under a flood of idle connections: a `vedette serve` child limited to 256
//! open files, 300 idle sockets against it, and a canary monitor of a local target that must
//! keep passing meanwhile.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Server, Target, wait_for, write};

const ADMIN: &str = "vdt_flood-admin-token-0123456789abcdefghijkl";
const OPEN_FILES: u64 = 256;
const IDLE_SOCKETS: usize = 300;

/// Lowers the child's open-file limit (soft and hard) before it runs.
fn limit_open_files(command: &mut std::process::Command) {
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: OPEN_FILES,
                rlim_max: OPEN_FILES,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// A client that opens a new connection per request (the server may close idle ones).
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn api(server: &Server, path: &str) -> Value {
    let response = client()
        .get(server.url(path))
        .bearer_auth(ADMIN)
        .send()
        .expect("API request");
    assert_eq!(response.status(), 200, "{path}");
    response.json().expect("JSON")
}

/// When the canary's last result was recorded, if it was up.
fn last_up(server: &Server) -> Option<chrono::DateTime<chrono::Utc>> {
    let monitor = api(server, "/api/v1/monitors/canary");
    let last = &monitor["status"]["last_result"];
    (monitor["status"]["state"] == "up" && last["outcome"] == "up")
        .then(|| last["at"].as_str()?.parse().ok())
        .flatten()
}

#[test]
fn idle_sockets_starve_neither_probes_nor_healthz_and_are_closed() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "canary.yaml",
        &format!(
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: canary\nspec:\n  http: {{url: \"{}\"}}\n  interval: 1s\n  timeout: 900ms\n  assertions: [\"status == 200\"]\n",
            target.url()
        ),
    );
    let config = config.to_str().unwrap().to_owned();
    let data = dir.path().join("data");
    let server = Server::start_with(
        &data,
        &[
            "--config",
            &config,
            "--header-read-timeout",
            "2s",
            "--idle-timeout",
            "3s",
        ],
        &[("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)],
        limit_open_files,
    );
    wait_for(Duration::from_secs(15), "the canary up", || {
        last_up(&server)
    });

    // The flood: more idle sockets than the server may hold open files.
    let flood_started = chrono::Utc::now();
    let mut sockets = Vec::with_capacity(IDLE_SOCKETS);
    for _ in 0..IDLE_SOCKETS {
        let socket = TcpStream::connect_timeout(&server.addr, Duration::from_secs(2))
            .expect("connect while flooding");
        sockets.push(socket);
    }

    // /healthz still answers on new connections while the idle sockets are open.
    for _ in 0..5 {
        let response = client()
            .get(server.url("/healthz"))
            .send()
            .expect("healthz during the flood");
        assert_eq!(response.status(), 200);
    }
    // The canary keeps passing: a result newer than the flood, up.
    wait_for(
        Duration::from_secs(10),
        "a canary result after the flood",
        || last_up(&server).filter(|at| *at > flood_started + chrono::Duration::seconds(1)),
    );

    // Every idle socket is closed by the server within the timeouts (plus a margin).
    let deadline = Instant::now() + Duration::from_secs(10);
    for (n, socket) in sockets.iter_mut().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut byte = [0u8; 512];
        loop {
            match socket.read(&mut byte) {
                // A refusal (503) may come before the close.
                Ok(read) if read > 0 => {}
                Ok(_) => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    panic!("idle socket {n} still open after the idle timeouts")
                }
                Err(_) => break,
            }
        }
    }
    drop(sockets);

    // No down event, and no descriptor exhaustion in the log.
    let downs = api(&server, "/api/v1/events?type=monitor.down");
    assert_eq!(downs["items"], Value::Array(Vec::new()), "{downs}");
    let logs = server.logs();
    assert!(!logs.contains("Too many open files"), "{logs}");
    assert!(server.stop(), "vedette stopped cleanly");
}

#[test]
fn unusable_limits_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--idle-timeout", "0s"),
        ("--header-read-timeout", "0s"),
        ("--max-connections", "0"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([flag, value])
            .output()
            .expect("run vedette");
        assert!(!out.status.success(), "{flag} {value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "the store was opened");
}
