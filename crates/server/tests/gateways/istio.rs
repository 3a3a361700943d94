//! Istio discovery against a real kube-apiserver (v1.37.2 on Debian's etcd, from the
//! directory `scripts/kube-tools` fills and `scripts/test-gateways` names in
//! `VEDETTE_KUBE_TOOLS`), with minimal structural copies of Istio's CRDs applied, a virtual
//! service bound to an HTTPS gateway, one opted out by annotation, and a discovery token that
//! RBAC only lets list virtual services and gateways.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Kind, Server};
use crate::etcd::etcd_command;
use crate::free_port;

const ADMIN_TOKEN: &str = "admin-5b8e1f0c2a7d";
const DISCOVERY_TOKEN: &str = "discovery-9c2f4e6a1b3d-never-shown";
const TOKEN_ENV: &str = "VEDETTE_DISCOVERY_ISTIO_TEST_TOKEN";

/// etcd and kube-apiserver, killed when dropped.
struct Cluster {
    children: Vec<Child>,
    url: String,
    ca: String,
    dir: tempfile::TempDir,
    tools: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn tools() -> PathBuf {
    let dir = std::env::var("VEDETTE_KUBE_TOOLS").unwrap_or_else(|_| {
        panic!(
            "VEDETTE_KUBE_TOOLS is not set, so the Istio discovery test cannot run: run \
             `scripts/test-gateways`, which names the directory `scripts/kube-tools` fills"
        )
    });
    let dir = PathBuf::from(dir);
    for tool in ["etcd", "kube-apiserver", "kubectl"] {
        assert!(dir.join(tool).is_file(), "{} has no {tool}", dir.display());
    }
    dir
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    fn start() -> Cluster {
        let tools = tools();
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-subj",
                "/CN=vedette-test-ca",
                "-days",
                "1",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "1",
                "-extfile",
                "server.ext",
            ],
        );
        openssl(d, &["genrsa", "-out", "sa.key", "2048"]);
        openssl(d, &["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
        std::fs::write(
            d.join("tokens.csv"),
            format!(
                "{ADMIN_TOKEN},admin,1,system:masters\n{DISCOVERY_TOKEN},vedette-discovery,2\n"
            ),
        )
        .expect("tokens");
        let etcd_port = free_port();
        let etcd = etcd_command(&tools, &d.join("etcd"), etcd_port, free_port())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("etcd.log")).expect("log"))
            .spawn()
            .expect("etcd starts");
        let mut cluster = Cluster {
            children: vec![etcd],
            url: String::new(),
            ca: std::fs::read_to_string(d.join("ca.crt")).expect("ca"),
            dir,
            tools,
        };
        let d = cluster.dir.path().to_owned();
        let port = free_port();
        let path = |f: &str| d.join(f).display().to_string();
        let apiserver = Command::new(cluster.tools.join("kube-apiserver"))
            .args([
                format!("--etcd-servers=http://127.0.0.1:{etcd_port}"),
                "--bind-address=127.0.0.1".to_owned(),
                "--advertise-address=127.0.0.1".to_owned(),
                format!("--secure-port={port}"),
                format!("--tls-cert-file={}", path("server.crt")),
                format!("--tls-private-key-file={}", path("server.key")),
                format!("--cert-dir={}", path("certs")),
                format!("--token-auth-file={}", path("tokens.csv")),
                format!("--service-account-key-file={}", path("sa.pub")),
                format!("--service-account-signing-key-file={}", path("sa.key")),
                "--service-account-issuer=https://kubernetes.default.svc".to_owned(),
                "--service-cluster-ip-range=10.96.0.0/24".to_owned(),
                "--authorization-mode=RBAC".to_owned(),
                "--endpoint-reconciler-type=none".to_owned(),
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("apiserver.log")).expect("log"))
            .spawn()
            .expect("kube-apiserver starts");
        cluster.children.push(apiserver);
        cluster.url = format!("https://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(90);
        while !cluster.kubectl(&["get", "--raw", "/readyz"]).0 {
            assert!(
                Instant::now() < deadline,
                "kube-apiserver was not ready within 90 s: {}",
                std::fs::read_to_string(d.join("apiserver.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        cluster
    }

    /// `kubectl` as the admin: whether it succeeded, and what it said.
    fn kubectl(&self, args: &[&str]) -> (bool, String) {
        let d = self.dir.path();
        let out = Command::new(self.tools.join("kubectl"))
            .arg(format!("--server={}", self.url))
            .arg(format!(
                "--certificate-authority={}",
                d.join("ca.crt").display()
            ))
            .arg(format!("--token={ADMIN_TOKEN}"))
            .args(args)
            .output()
            .expect("kubectl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Applies a manifest of this directory, retrying while the API server settles.
    fn apply(&self, manifest: &str) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/gateways/istio")
            .join(manifest);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (ok, text) = self.kubectl(&["apply", "-f", &file.display().to_string()]);
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kubectl apply {manifest}: {text}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_virtual_services_become_routes_through_the_kube_apiserver() {
    // SAFETY: set before the server reads it; no other test of this binary uses it.
    unsafe { std::env::set_var(TOKEN_ENV, DISCOVERY_TOKEN) };
    let cluster = tokio::task::spawn_blocking(|| {
        let cluster = Cluster::start();
        cluster.apply("crds.yaml");
        let (ok, text) = cluster.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/virtualservices.networking.istio.io",
            "crd/gateways.networking.istio.io",
        ]);
        assert!(ok, "CRDs not established: {text}");
        cluster.apply("objects.yaml");
        cluster
    })
    .await
    .expect("cluster setup");
    let server = Server::start(Kind::Sqlite).await;
    let created = server
        .put(
            "/discovery-sources/istio",
            &json!({"spec": {
                "type": "istio",
                "connection": {
                    "url": cluster.url,
                    "timeout": "10s",
                    "credentials": {"bearer": {"token": {"env": TOKEN_ENV}}},
                    "tls": {"ca_cert": cluster.ca},
                },
                "interval": "1h",
                "template": {"interval": "1h", "expected_status": 200},
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let preview = server.get("/discovery-sources/istio/preview").await;
    assert_eq!(preview.status, 200, "{:#}", preview.body);
    let text = preview.body.to_string();
    assert!(!text.contains(DISCOVERY_TOKEN), "{text}");
    let run = server
        .post("/discovery-sources/istio/run", &json!({}))
        .await;
    assert_eq!(run.status, 200, "{:#}", run.body);
    let status = &run.body["status"];
    assert_eq!(status["state"], "succeeded", "{status:#}");
    assert_eq!(status["routes_seen"], 3, "{status:#}");
    assert_eq!(status["monitors_owned"], 2, "{status:#}");
    let list = server
        .get("/monitors?selector=discovered-by%3Distio&limit=100")
        .await;
    let mut urls: Vec<String> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["spec"]["http"]["url"].as_str().expect("url").to_owned())
        .collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            "https://shop.example.com/health",
            "https://shop.example.com/orders"
        ]
    );
}
