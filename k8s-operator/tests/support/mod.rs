//! What the e2e tests run against, all real and on 127.0.0.1: etcd (its data in /dev/shm, not
//! synced), kube-apiserver with a static token file, openssl service-account keys and RBAC, a
//! `vedette serve`, plain HTTP targets, and operator processes authenticated with a
//! ServiceAccount-like token bound to `k8s-operator/rbac/clusterrole.yaml`.

// The e2e test and the bench each use a part of this module.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../../../crates/server/tests/support/etcd.rs"]
mod etcd;
use etcd::etcd_command;

/// Vedette's admin token.
pub const ADMIN: &str = "vdt_operator-e2e-admin-token-0123456789abcdef";
/// The Kubernetes admin's static token.
const KUBE_ADMIN: &str = "kube-admin-token-e2e";
/// The operator's static token: user `system:serviceaccount:vedette:vedette-operator`.
const KUBE_OPERATOR: &str = "kube-operator-token-e2e";
/// The operator's ServiceAccount.
pub const OPERATOR_USER: &str = "system:serviceaccount:vedette:vedette-operator";

/// The directory of kube-apiserver, kubectl and etcd: `VEDETTE_KUBE_TOOLS`, set by
/// `scripts/test-k8s` from `scripts/kube-tools`. Fails loudly when missing: nothing is skipped.
pub fn tools() -> PathBuf {
    let dir = std::env::var_os("VEDETTE_KUBE_TOOLS").unwrap_or_else(|| {
        panic!(
            "VEDETTE_KUBE_TOOLS is not set: run the operator's e2e tests with scripts/test-k8s, \
             which provides kube-apiserver, kubectl and etcd (scripts/kube-tools) and sets it"
        )
    });
    let dir = PathBuf::from(dir);
    for tool in ["kube-apiserver", "kubectl", "etcd"] {
        assert!(
            dir.join(tool).is_file(),
            "VEDETTE_KUBE_TOOLS={} has no {tool}",
            dir.display()
        );
    }
    dir
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed when dropped, its output in a log file.
pub struct Process {
    pub child: Child,
    pub log: PathBuf,
    pub name: String,
}

impl Process {
    fn spawn(name: &str, command: &mut Command, dir: &Path) -> Process {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            child,
            log,
            name: name.to_owned(),
        }
    }

    /// The process's output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits up to `limit` for it to exit; its exit status.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- {} (last lines) ---\n{}",
                self.name,
                tail(&self.output())
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// etcd and kube-apiserver, with an admin and an operator kubeconfig.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    tools: PathBuf,
    pub admin: PathBuf,
    pub operator: PathBuf,
    etcd: Process,
    pub apiserver: Process,
}

impl Cluster {
    /// Starts etcd and kube-apiserver and waits until the API server is ready.
    pub fn start() -> Cluster {
        let tools = tools();
        // In memory where the machine has one: etcd's data, certificates and logs.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temp dir");
        let path = dir.path();
        for args in [
            vec!["genrsa", "-out", "sa.key", "2048"],
            vec!["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"],
        ] {
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(path)
                .output()
                .expect("openssl is required for the service-account keys");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(
            path.join("tokens.csv"),
            format!(
                "{KUBE_ADMIN},kube-admin,kube-admin,\"system:masters\"\n\
                 {KUBE_OPERATOR},{OPERATOR_USER},operator-uid,\"system:serviceaccounts,system:serviceaccounts:vedette\"\n"
            ),
        )
        .expect("token file");
        // Every request of the operator's user, to count the calls it makes.
        std::fs::write(
            path.join("audit-policy.yaml"),
            format!(
                "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n\
                 - level: Metadata\n  users: [\"{OPERATOR_USER}\"]\n- level: None\n"
            ),
        )
        .expect("audit policy");
        let etcd_port = free_port();
        let etcd = Process::spawn(
            "etcd",
            etcd_command(&tools, &path.join("etcd"), etcd_port, free_port()).current_dir(path),
            path,
        );
        wait_for(Duration::from_secs(30), "etcd", || {
            std::net::TcpStream::connect(("127.0.0.1", etcd_port)).ok()
        });
        let port = free_port();
        let apiserver = Process::spawn(
            "kube-apiserver",
            Command::new(tools.join("kube-apiserver"))
                .arg(format!("--etcd-servers=http://127.0.0.1:{etcd_port}"))
                .arg("--bind-address=127.0.0.1")
                .arg("--advertise-address=127.0.0.1")
                .arg(format!("--secure-port={port}"))
                .arg(format!("--cert-dir={}", path.join("certs").display()))
                .arg(format!(
                    "--token-auth-file={}",
                    path.join("tokens.csv").display()
                ))
                .arg("--authorization-mode=RBAC")
                .arg(format!(
                    "--service-account-key-file={}",
                    path.join("sa.pub").display()
                ))
                .arg(format!(
                    "--service-account-signing-key-file={}",
                    path.join("sa.key").display()
                ))
                .arg("--service-account-issuer=https://kubernetes.default.svc")
                .arg("--service-cluster-ip-range=10.96.0.0/24")
                .arg("--endpoint-reconciler-type=none")
                .arg("--enable-priority-and-fairness=false")
                .arg("--profiling=false")
                .arg(format!(
                    "--audit-policy-file={}",
                    path.join("audit-policy.yaml").display()
                ))
                .arg(format!(
                    "--audit-log-path={}",
                    path.join("audit.log").display()
                ))
                .arg("--audit-log-mode=blocking")
                .current_dir(path),
            path,
        );
        let server = format!("https://127.0.0.1:{port}");
        let admin = path.join("admin.kubeconfig");
        let operator = path.join("operator.kubeconfig");
        std::fs::write(&admin, kubeconfig(&server, KUBE_ADMIN)).expect("kubeconfig");
        std::fs::write(&operator, kubeconfig(&server, KUBE_OPERATOR)).expect("kubeconfig");
        let mut cluster = Cluster {
            dir,
            tools,
            admin,
            operator,
            etcd,
            apiserver,
        };
        let start = Instant::now();
        loop {
            // `autoregister-completion` waits for APIService objects of groups the tests do not
            // use, which can lag behind; the groups are served regardless.
            let out = cluster.kubectl(&["get", "--raw", "/readyz?exclude=autoregister-completion"]);
            if out.status.success() {
                break;
            }
            assert!(
                cluster.apiserver.running() && start.elapsed() < Duration::from_secs(120),
                "kube-apiserver did not become ready:\n{}",
                tail(&cluster.apiserver.output())
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        // The namespaces the tests use, the CRDs and the operator's role.
        let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let rbac = Path::new(env!("CARGO_MANIFEST_DIR")).join("rbac/clusterrole.yaml");
        cluster.ok(&["create", "namespace", "vedette"]);
        let http_route = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/httproute-crd.yaml");
        cluster.ok(&["apply", "-f", crds.to_str().unwrap()]);
        cluster.ok(&["apply", "-f", http_route.to_str().unwrap()]);
        cluster.ok(&["apply", "-f", rbac.to_str().unwrap()]);
        cluster.ok(&[
            "create",
            "clusterrolebinding",
            "vedette-operator",
            "--clusterrole=vedette-operator",
            "--serviceaccount=vedette:vedette-operator",
        ]);
        cluster.ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/monitors.vedette.dev",
            "crd/maintenancewindows.vedette.dev",
            "crd/webhookendpoints.vedette.dev",
            "crd/httproutes.gateway.networking.k8s.io",
        ]);
        cluster
    }

    /// `kubectl` as the admin.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(self.tools.join("kubectl"))
            .arg(format!("--kubeconfig={}", self.admin.display()))
            .args(args)
            .output()
            .expect("run kubectl")
    }

    /// `kubectl` as the admin, asserting success; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply -f -` of `yaml` as the admin.
    pub fn apply(&self, yaml: &str) -> Output {
        let mut child = Command::new(self.tools.join("kubectl"))
            .arg(format!("--kubeconfig={}", self.admin.display()))
            .args(["apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(yaml.as_bytes())
            .expect("write yaml");
        child.wait_with_output().expect("kubectl apply")
    }

    /// An object as JSON, or `None` when it does not exist.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let out = self.kubectl(&["get", kind, "-n", namespace, name, "-o", "json"]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).expect("kubectl json"))
    }

    /// Events in `namespace` with `reason`.
    pub fn events(&self, namespace: &str, reason: &str) -> Vec<Value> {
        let text = self.ok(&[
            "get",
            "events",
            "-n",
            namespace,
            &format!("--field-selector=reason={reason}"),
            "-o",
            "json",
        ]);
        let list: Value = serde_json::from_str(&text).expect("events json");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// The operator's requests to the API server so far (audit log entries once answered), as
    /// `verb resource` strings; watches count once they end.
    pub fn operator_requests(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| entry["stage"] == "ResponseComplete" || entry["stage"] == "Panic")
            .map(|entry| {
                format!(
                    "{} {}",
                    entry["verb"].as_str().unwrap_or("?"),
                    entry["objectRef"]["resource"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// Whether the operator's ServiceAccount may `verb` `resource`.
    pub fn operator_can(&self, verb: &str, resource: &str) -> bool {
        let out = self.kubectl(&[
            "auth",
            "can-i",
            verb,
            resource,
            &format!("--as={OPERATOR_USER}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    }
}

fn kubeconfig(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\n\
         users:\n- name: e2e\n  user:\n    token: {token}\ncontexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: e2e\n    namespace: default\n\
         current-context: e2e\n"
    )
}

/// The last lines of a log, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A real `vedette serve` on a free port with SQLite in a temporary directory.
pub struct Vedette {
    pub process: Process,
    pub url: String,
    pub token_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Vedette {
    /// Starts `VEDETTE_BIN` when set, else the `vedette` binary built beside this test
    /// (`cargo build -p vedette-cli`).
    pub fn start() -> Vedette {
        let binary = std::env::var_os("VEDETTE_BIN")
            .map(PathBuf::from)
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                Some(exe.parent()?.parent()?.join("vedette"))
            })
            .filter(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!("no vedette binary: set VEDETTE_BIN, or build target/<profile>/vedette first (cargo build -p vedette-cli; scripts/test-k8s does)")
            });
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let process = Process::spawn(
            "vedette",
            Command::new(binary)
                .args([
                    "serve",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--data-dir",
                ])
                .arg(&data)
                .env("VEDETTE_BOOTSTRAP_TOKEN", ADMIN)
                // Webhook endpoints of the tests point at 127.0.0.1.
                .env("VEDETTE_WEBHOOK_ALLOW_PRIVATE", "true")
                .env("RUST_LOG", "warn"),
            dir.path(),
        );
        wait_for(Duration::from_secs(30), "vedette to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, ADMIN).expect("token file");
        Vedette {
            process,
            url,
            token_file,
            _dir: dir,
        }
    }

    /// A client as the admin.
    pub fn client(&self) -> vedette_client::Client {
        vedette_client::Client::new(&self.url, ADMIN).expect("client")
    }
}

/// An operator process.
pub struct Operator {
    pub process: Process,
    pub metrics_url: String,
}

impl Operator {
    /// Starts `vedette-operator run` as the operator's ServiceAccount.
    pub fn start(cluster: &Cluster, vedette: &Vedette, identity: &str, extra: &[&str]) -> Operator {
        let port = free_port();
        let process = Process::spawn(
            identity,
            Command::new(env!("CARGO_BIN_EXE_vedette-operator"))
                .arg("run")
                .args(["--vedette-url", &vedette.url])
                .arg("--vedette-token-file")
                .arg(&vedette.token_file)
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .args(["--lease-namespace", "vedette", "--identity", identity])
                .args(extra)
                .env("KUBECONFIG", &cluster.operator)
                .env("RUST_LOG", "info,kube=warn"),
            cluster.dir.path(),
        );
        Operator {
            process,
            metrics_url: format!("http://127.0.0.1:{port}/metrics"),
        }
    }

    /// A metric's value, or `None` while the endpoint does not answer.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let text = http_get(&self.metrics_url)?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }
}

/// A blocking HTTP/1.0 GET of a loopback URL; the body.
pub fn http_get(url: &str) -> Option<String> {
    use std::io::Read as _;
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?;
    (status == "200").then(|| body.to_owned())
}

/// A plain HTTP target answering 200 to everything, on its own thread.
pub struct Target {
    pub url: String,
}

impl Target {
    pub fn start() -> Target {
        use std::io::Read as _;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind target");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let mut buffer = [0u8; 4096];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Target { url }
    }
}
