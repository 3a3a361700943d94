//! The test harness: the real server in-process on a free loopback port with a database of
//! its own, an HTTP client for its API, and a switchable target to monitor.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use rand::RngExt;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use vedette_model::spec::Secret;
use vedette_server::ServeConfig;

#[path = "../../../store/tests/support/postgres.rs"]
mod postgres;
#[path = "../support/serving.rs"]
mod serving;

use serving::Serving;

/// The admin token the server is started with (as `VEDETTE_BOOTSTRAP_TOKEN`).
pub const ADMIN_TOKEN: &str = "vdt_test-admin-token-0123456789abcdefghij";

const PG_ENV: &str = "VEDETTE_TEST_POSTGRES_URL";

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A response: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the response is a problem with `status`, and returns its body.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{:#}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://vedette.dev/problems/")),
            "{:#}",
            self.body
        );
        &self.body
    }

    /// The `field`s of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Requests to a [`Server`]'s API with an extra header, from [`Server::with`].
pub struct With<'a> {
    server: &'a Server,
    header: Option<(&'a str, &'a str)>,
}

impl With<'_> {
    /// Sends `method path` with the header, and `body` as JSON of `content_type` when given.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&Value, &str)>,
    ) -> Resp {
        let mut request = self.server.client.request(method, self.server.url(path));
        if let Some((body, content_type)) = body {
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        if let Some((name, value)) = self.header {
            request = request.header(name, value);
        }
        self.server.send(request).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        let body = Some((body, "application/json"));
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        let body = Some((body, "application/json"));
        self.send(reqwest::Method::POST, path, body).await
    }

    /// A JSON merge patch (`application/merge-patch+json`).
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        let body = Some((body, "application/merge-patch+json"));
        self.send(reqwest::Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    cfg: ServeConfig,
    serving: Serving,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Server {
    /// Starts a server without config files.
    pub async fn start(kind: Kind) -> Server {
        Self::start_with(kind, None).await
    }

    /// Starts a server, with `config` (YAML) as its `--config` file when given.
    pub async fn start_with(kind: Kind, config: Option<&str>) -> Server {
        Self::start_configured(kind, config, |_| {}).await
    }

    /// Starts a server like [`Server::start_with`], with `tweak` applied to its configuration.
    pub async fn start_configured(
        kind: Kind,
        config: Option<&str>,
        tweak: impl FnOnce(&mut ServeConfig),
    ) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (database_url, pg) = match kind {
            Kind::Sqlite => (None, None),
            Kind::Postgres => {
                let (url, server, name) = fresh_postgres().await;
                (Some(url), Some((server, name)))
            }
        };
        let config_path = config.map(|yaml| {
            let path: PathBuf = dir.path().join("monitors.yaml");
            std::fs::write(&path, yaml).expect("write config");
            path
        });
        let cfg = ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().join("data"),
            database_url,
            config: config_path,
            shutdown_grace: Duration::from_secs(2),
            bootstrap_token: Some(Secret(ADMIN_TOKEN.to_owned())),
            ..ServeConfig::default()
        };
        let mut cfg = cfg;
        tweak(&mut cfg);
        Self::launch(cfg, dir, pg).await
    }

    /// Stops the server (it must stop cleanly) and starts it again on the same database and
    /// config files, as a restart of the process would.
    pub async fn restart(self) -> Server {
        self.serving.stop().await;
        Self::launch(self.cfg, self.dir, self.pg).await
    }

    async fn launch(
        cfg: ServeConfig,
        dir: tempfile::TempDir,
        pg: Option<(String, String)>,
    ) -> Server {
        let serving = Serving::start(cfg.clone()).await;
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {ADMIN_TOKEN}").parse().expect("header"),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Server {
            addr: serving.addr,
            client,
            cfg,
            serving,
            dir,
            pg,
        }
    }

    /// Another store on the server's database, as another replica would open it.
    pub async fn other_store(&self) -> vedette_store::Store {
        vedette_store::Store::open(&vedette_store::StoreConfig {
            data_dir: self.cfg.data_dir.clone(),
            database_url: self.cfg.database_url.clone(),
        })
        .await
        .expect("open another store")
    }

    /// The URL of an API path (`/monitors` → `http://addr/api/v1/monitors`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/api/v1{path}", self.addr)
    }

    /// Sends a request and reads the whole response.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.plain().get(path).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.plain().put(path, body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.plain().post(path, body).await
    }

    /// PUTs a monitor and waits for the check a new monitor gets at once, so the results
    /// and events a test makes next follow it.
    pub async fn put_checked(&self, path: &str, body: &Value) -> Resp {
        let resp = self.put(path, body).await;
        assert!(resp.status < 300, "{:#}", resp.body);
        let id = path.trim_start_matches("/monitors/");
        self.wait_for(&format!("/monitors/{id}"), Duration::from_secs(10), |b| {
            b["status"]["last_result"].is_object()
        })
        .await;
        resp
    }

    /// A JSON merge patch (`application/merge-patch+json`).
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.plain().patch(path, body).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.plain().delete(path).await
    }

    /// Requests that carry `name: value` too (a condition such as `if-match`, a manager).
    pub fn with<'a>(&'a self, name: &'a str, value: &'a str) -> With<'a> {
        With {
            server: self,
            header: Some((name, value)),
        }
    }

    fn plain(&self) -> With<'_> {
        With {
            server: self,
            header: None,
        }
    }

    /// Polls `GET path` until `done` holds for the body (at most `within`).
    pub async fn wait_for(
        &self,
        path: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let resp = self.get(path).await;
            if resp.status == 200 && done(&resp.body) {
                return resp.body;
            }
            assert!(
                Instant::now() < deadline,
                "GET {path} never satisfied the condition: {:#}",
                resp.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server (it must stop cleanly) and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.serving.stop().await;
        drop(self.dir);
        if let Some((server, name)) = &self.pg {
            postgres::drop_database(server, name).await;
        }
    }
}

/// Creates a database of its own on the `VEDETTE_TEST_POSTGRES_URL` server: (its URL, the
/// server URL, its name).
async fn fresh_postgres() -> (String, String, String) {
    let server = std::env::var(PG_ENV).unwrap_or_else(|_| {
        panic!(
            "{PG_ENV} is not set, so the PostgreSQL half of the API tests cannot run: run \
             `scripts/with-postgres cargo test -p vedette-server` (it starts a throwaway \
             PostgreSQL and sets {PG_ENV})"
        )
    });
    let name = format!("vedette_api_{:016x}", rand::rng().random::<u64>());
    let url = postgres::create_database(&server, &name).await;
    (url, server, name)
}

/// Serves `app` on a free loopback port until the returned token is cancelled.
pub async fn serve_on_loopback(app: Router) -> (SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("address");
    let stop = CancellationToken::new();
    let until = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { until.cancelled().await })
            .await;
    });
    (addr, stop)
}

/// A local HTTP target: `/ok` always answers 200 `{"status":"UP"}`; `/switch` answers the
/// same while up and 503 `{"status":"DOWN"}` while down.
pub struct Target {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    stop: CancellationToken,
}

impl Target {
    pub async fn start() -> Target {
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        let app = Router::new()
            .route(
                "/ok",
                get(|| async { (StatusCode::OK, r#"{"status":"UP"}"#) }),
            )
            .route(
                "/switch",
                get(move || {
                    let up = flag.load(Ordering::SeqCst);
                    async move {
                        if up {
                            (StatusCode::OK, r#"{"status":"UP"}"#)
                        } else {
                            (StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"DOWN"}"#)
                        }
                    }
                }),
            );
        let (addr, stop) = serve_on_loopback(app).await;
        Target { addr, up, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A monitor body for `url`, checked once a day (so only explicit runs produce results)
/// unless `interval` says otherwise.
pub fn http_monitor(url: &str, interval: &str) -> Value {
    json!({
        "labels": {"team": "payments"},
        "spec": {
            "http": {"url": url},
            "interval": interval,
            "timeout": "1s",
            "assertions": ["status == 200", "body.$.status == \"UP\""],
        }
    })
}
