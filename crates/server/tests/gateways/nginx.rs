//! NGINX open source discovery with the real Debian `nginx` (`scripts/test-gateways` installs
//! it and names it in `VEDETTE_NGINX`): a configuration with an include is written to a
//! temporary directory, `nginx -T` prints it to the file the source reads, nginx serves it on
//! a loopback port, and the discovered monitors check a local target through nginx. Garbage,
//! truncated and oversized output fail the run and delete nothing. The source reads only under
//! the server's `--discovery-file-root`: `..`, a symlink out of it, a path outside it and a
//! server without one are refused, naming `spec.connection.url`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Kind, Server, Target};
use crate::free_port;

fn nginx_binary() -> PathBuf {
    let path = std::env::var("VEDETTE_NGINX").unwrap_or_else(|_| {
        panic!(
            "VEDETTE_NGINX is not set, so the NGINX discovery test cannot run: run \
             `scripts/test-gateways`, which installs Debian's nginx-light and sets it"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "VEDETTE_NGINX names {}, which is not a file",
        path.display()
    );
    path
}

/// A running nginx, stopped when dropped (one process: `master_process off`, so killing it
/// leaves no orphaned workers).
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The site of `conf.d/shop.conf`: `locations` as written, on `port`.
fn site(port: u16, locations: &str) -> String {
    format!("server {{\n    listen 127.0.0.1:{port};\n    server_name shop.test;\n{locations}}}\n")
}

const LOCATIONS: &str = "
    location /ok { proxy_pass http://backend; }
    location = /switch { proxy_pass http://backend; }
    location ~ \\.php$ { return 404; }
    location /internal { set $vedette off; return 404; }
";

impl Nginx {
    fn start(target: &str, port: u16) -> Nginx {
        let dir = tempfile::tempdir().expect("temporary directory");
        let d = dir.path().display();
        let main = format!(
            "master_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             daemon off;\nevents {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n\
             client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n    upstream backend {{ server {target}; }}\n\
             include conf.d/*.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).expect("write nginx.conf");
        std::fs::create_dir(dir.path().join("conf.d")).expect("conf.d");
        std::fs::create_dir(dir.path().join("dumps")).expect("dumps");
        std::fs::write(dir.path().join("conf.d/shop.conf"), site(port, LOCATIONS))
            .expect("write site");
        let child = Command::new(nginx_binary())
            .args(nginx_args(dir.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx { child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                nginx.child.try_wait().expect("nginx status").is_none(),
                "nginx exited at start"
            );
            assert!(Instant::now() < deadline, "nginx did not start within 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        nginx
    }

    /// The folder the `nginx -T` output is saved in: the server's discovery file root.
    fn dumps(&self) -> PathBuf {
        self.dir.path().join("dumps")
    }

    /// Runs `nginx -T` and saves its output where the source reads it; that file's URL.
    fn dump(&self) -> String {
        let out = Command::new(nginx_binary())
            .arg("-T")
            .args(nginx_args(self.dir.path()))
            .output()
            .expect("run nginx -T");
        assert!(
            out.status.success(),
            "nginx -T failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = self.dumps().join("nginx-T.txt");
        std::fs::write(&path, &out.stdout).expect("save nginx -T output");
        format!("file://{}", path.display())
    }

    fn set_site(&self, port: u16, locations: &str) {
        std::fs::write(
            self.dir.path().join("conf.d/shop.conf"),
            site(port, locations),
        )
        .expect("write site");
    }
}

fn nginx_args(dir: &Path) -> Vec<String> {
    vec![
        "-p".into(),
        format!("{}/", dir.display()),
        "-c".into(),
        dir.join("nginx.conf").display().to_string(),
        "-e".into(),
        dir.join("error.log").display().to_string(),
    ]
}

/// Runs discovery source `id` now; its status after the run.
async fn run(server: &Server, id: &str) -> Value {
    let resp = server
        .post(&format!("/discovery-sources/{id}/run"), &json!({}))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    resp.body["status"].clone()
}

async fn urls(server: &Server) -> Vec<(String, String)> {
    let list = server
        .get("/monitors?selector=discovered-by%3Dnginx&limit=100")
        .await;
    let mut out: Vec<(String, String)> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().expect("id").to_owned(),
                m["spec"]["http"]["url"].as_str().expect("url").to_owned(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_t_output_becomes_monitors_checked_through_the_real_nginx() {
    let target = Target::start().await;
    let port = free_port();
    let nginx = Nginx::start(&target.addr.to_string(), port);
    let url = nginx.dump();
    let server = Server::start_configured(Kind::Sqlite, None, |cfg| {
        cfg.discovery_file_root = Some(nginx.dumps());
    })
    .await;
    let spec = |url: &str, max_bytes: u64| {
        json!({"spec": {
            "type": "nginx",
            "connection": {"url": url, "timeout": "5s", "max_bytes": max_bytes},
            "interval": "1h",
            "grace_period": "0s",
            "template": {"interval": "1h", "expected_status": 200, "headers": {"Host": "{host}"}},
        }})
    };
    let created = server
        .put("/discovery-sources/nginx", &spec(&url, 1 << 20))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let status = run(&server, "nginx").await;
    assert_eq!(status["state"], "succeeded", "{status:#}");
    // The regex location gives no URL; /internal is opted out by `set $vedette off`.
    assert_eq!(status["routes_seen"], 3, "{status:#}");
    let found = urls(&server).await;
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        found.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
        [format!("{base}/ok"), format!("{base}/switch")]
    );
    for (id, _) in &found {
        let checked = server
            .post(&format!("/monitors/{id}/run"), &json!({}))
            .await;
        assert_eq!(checked.body["outcome"], "up", "{:#}", checked.body);
    }

    // A location added to the included file appears once `nginx -T` prints it.
    nginx.set_site(
        port,
        &format!("{LOCATIONS}    location ^~ /added {{ return 200; }}\n"),
    );
    let url = nginx.dump();
    let status = run(&server, "nginx").await;
    assert_eq!(status["monitors_owned"], 3, "{status:#}");
    let kept = urls(&server).await;

    // Garbage, truncated or oversized output fails the run and deletes nothing.
    let text = std::fs::read_to_string(url.trim_start_matches("file://")).expect("dump");
    let bad = nginx.dumps().join("bad.txt");
    let bad_url = format!("file://{}", bad.display());
    for (content, max_bytes, says) in [
        (
            "<html>502 Bad Gateway</html>".to_owned(),
            1 << 20,
            "not the output of `nginx -T`",
        ),
        (text[..text.len() - 40].to_owned(), 1 << 20, "ends inside"),
        (text.clone(), 256, "larger than 256 bytes"),
    ] {
        std::fs::write(&bad, content).expect("write bad output");
        server
            .put("/discovery-sources/nginx", &spec(&bad_url, max_bytes))
            .await;
        let status = run(&server, "nginx").await;
        assert_eq!(status["state"], "failed", "{status:#}");
        let error = status["error"].as_str().expect("error");
        assert!(error.contains(says), "{error}");
        assert_eq!(urls(&server).await, kept, "{error}");
    }
    std::fs::remove_file(&bad).expect("remove");
    let status = run(&server, "nginx").await;
    assert_eq!(
        status["state"], "failed",
        "a missing file fails: {status:#}"
    );
    assert_eq!(urls(&server).await, kept);
    server.finish().await;
}

/// A source of type `nginx` reading `url`.
fn file_source(url: &str) -> Value {
    json!({"spec": {
        "type": "nginx",
        "connection": {"url": url, "timeout": "5s"},
        "interval": "1h",
        "template": {"interval": "1h"},
    }})
}

/// The answer to writing a source reading `url` is 422 naming `spec.connection.url` with
/// `says`, and never shows the file's content.
async fn refused(server: &Server, url: &str, says: &str) {
    let resp = server
        .put("/discovery-sources/files", &file_source(url))
        .await;
    let text = resp.body.to_string();
    assert_eq!(resp.status, 422, "{url}: {text}");
    assert!(text.contains("spec.connection.url"), "{url}: {text}");
    assert!(text.contains(says), "{url}: {text}");
    assert!(!text.contains("hunter2"), "{url}: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_source_reads_only_under_the_discovery_file_root() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("dumps");
    std::fs::create_dir(&root).expect("root");
    let secret = dir.path().join("secret.txt");
    std::fs::write(
        &secret,
        "# configuration file /x:\nhttp { password hunter2; }\n",
    )
    .expect("secret");
    let good = root.join("nginx-T.txt");
    std::fs::write(
        &good,
        "# configuration file /etc/nginx/nginx.conf:\nhttp {\n  server {\n    listen \
         127.0.0.1:8080;\n    server_name shop.test;\n    location /ok { }\n  }\n}\n",
    )
    .expect("dump");
    let file_url = |p: &Path| format!("file://{}", p.display());

    // Without --discovery-file-root every file source is refused.
    let plain = Server::start(Kind::Sqlite).await;
    refused(&plain, &file_url(&good), "--discovery-file-root").await;
    plain.finish().await;

    let server = Server::start_configured(Kind::Sqlite, None, |cfg| {
        cfg.discovery_file_root = Some(root.clone());
    })
    .await;
    // `..` out of the root, and an absolute path outside it.
    refused(
        &server,
        &format!("{}/../secret.txt", file_url(&root)),
        "'..'",
    )
    .await;
    refused(&server, &file_url(&secret), "discovery file root").await;
    refused(&server, "file:///etc/passwd", "discovery file root").await;

    // A symlink under the root is accepted when written (its target may change) but never
    // read through: the run fails, the preview says why, and neither shows the content.
    let link = root.join("link.txt");
    std::os::unix::fs::symlink(&secret, &link).expect("symlink");
    let resp = server
        .put("/discovery-sources/files", &file_source(&file_url(&link)))
        .await;
    assert_eq!(resp.status, 201, "{:#}", resp.body);
    let status = run(&server, "files").await;
    assert_eq!(status["state"], "failed", "{status:#}");
    let error = status["error"].as_str().expect("error");
    assert!(
        error.contains("connection.url") && error.contains("leads outside"),
        "{error}"
    );
    assert!(
        !error.contains("hunter2") && !error.contains("secret.txt"),
        "{error}"
    );
    let preview = server.get("/discovery-sources/files/preview").await;
    let shown = preview.body.to_string();
    assert!(shown.contains("leads outside"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");

    // The good case: a file under the root.
    let resp = server
        .put("/discovery-sources/files", &file_source(&file_url(&good)))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    let status = run(&server, "files").await;
    assert_eq!(status["state"], "succeeded", "{status:#}");
    assert_eq!(status["routes_seen"], 1, "{status:#}");
    server.finish().await;
}
