//! Test support: the real `vedette` binary on a free loopback port, and a switchable target.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Installs ring as rustls' process-wide crypto provider before `main`. `vedette-client` builds
/// reqwest with `rustls-no-provider` (the workspace uses ring, reqwest's default is aws-lc-rs);
/// cargo unifies that feature into the tests' own reqwest, whose `Client::new()` then needs an
/// installed provider.
#[ctor::ctor]
unsafe fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running `vedette serve`.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `vedette serve --listen 127.0.0.1:0 --data-dir DIR EXTRA...` and waits until it listens.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// Like [`Server::start`], with extra environment variables (e.g. `VEDETTE_BOOTSTRAP_TOKEN`).
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_with(data_dir, extra, env, |_| {})
    }

    /// Like [`Server::start_with_env`]; `adjust` changes the command before it is spawned
    /// (e.g. a `pre_exec` lowering a resource limit).
    pub fn start_with(
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        adjust: impl FnOnce(&mut Command),
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vedette"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().expect("start vedette");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("vedette listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr.parse().expect("address"),
            Err(_) => {
                let _ = child.kill();
                panic!("vedette did not start: {:#?}", logs.lock().unwrap());
            }
        };
        Server { child, addr, logs }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a signal to the server.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM and wait; returns whether it exited successfully.
    pub fn stop(mut self) -> bool {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "vedette did not stop within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// kill -9.
    pub fn crash(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP target on 127.0.0.1 whose status code the test switches.
pub struct Target {
    pub addr: SocketAddr,
    pub status: Arc<AtomicU16>,
    _runtime: tokio::runtime::Runtime,
}

impl Target {
    pub fn start() -> Target {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let status = Arc::new(AtomicU16::new(200));
        let code = status.clone();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/health",
            axum::routing::get(move || {
                let code = code.load(Ordering::Relaxed);
                async move {
                    (
                        axum::http::StatusCode::from_u16(code).unwrap(),
                        "{\"status\":\"UP\"}",
                    )
                }
            }),
        );
        runtime.spawn(async move { axum::serve(listener, app).await });
        Target {
            addr,
            status,
            _runtime: runtime,
        }
    }

    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::Relaxed);
    }

    pub fn url(&self) -> String {
        format!("http://{}/health", self.addr)
    }
}

/// Polls `f` every 100 ms until it returns Some, for at most `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `vedette` CLI against `server` with `token`, a config file of its own in `dir`, no
/// context chosen from the environment and no colours.
pub fn cli(server: &Server, token: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(args)
        .env("VEDETTE_URL", server.base_url())
        .env("VEDETTE_TOKEN", token)
        .env_remove("VEDETTE_CONTEXT")
        .env("VEDETTE_CONFIG_FILE", dir.join("cli-config.yaml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// A command's output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stdout of a command that must have succeeded; else a failure showing its exit and both
/// streams.
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
