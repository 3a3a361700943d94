//! A real server in-process on 127.0.0.1:0 with a temporary SQLite database, and a client.

use std::net::SocketAddr;
use std::path::PathBuf;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use vedette_model::spec::Secret;
use vedette_server::ServeConfig;

#[path = "../support/serving.rs"]
mod serving;

use serving::Serving;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// The bootstrap admin token.
    pub admin: String,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    serving: Serving,
    _dir: tempfile::TempDir,
}

/// A fresh bootstrap secret of the documented shape.
pub fn secret() -> String {
    vedette_server::api::auth::generate_secret()
}

impl Server {
    /// Starts a server; `adjust` changes the config before it starts.
    pub async fn start(adjust: impl FnOnce(&mut ServeConfig)) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let admin = secret();
        let mut config = ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().join("data"),
            bootstrap_token: Some(Secret(admin.clone())),
            ..ServeConfig::default()
        };
        adjust(&mut config);
        let data_dir = config.data_dir.clone();
        let serving = Serving::start(config).await;
        Server {
            addr: serving.addr,
            admin,
            data_dir,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("client"),
            serving,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request with `token` as bearer, when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    /// Creates a token with `scopes` through the API; returns the answer's JSON.
    pub async fn create_token(&self, name: &str, scopes: &[&str]) -> Value {
        let response = self
            .request(Method::POST, "/api/v1/tokens", Some(&self.admin))
            .json(&json!({ "name": name, "scopes": scopes }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating token {name}");
        response.json().await.expect("JSON")
    }

    /// Creates an admin token named `name`, authenticated with `by`; returns the answer's JSON.
    pub async fn create_token_with(&self, by: &str, name: &str) -> Value {
        let response = self
            .request(Method::POST, "/api/v1/tokens", Some(by))
            .json(&json!({ "name": name, "scopes": ["admin"] }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating token {name}");
        response.json().await.expect("JSON")
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.serving.stop().await;
    }
}

/// Asserts `response` is problem+json with `status`; returns the body.
pub async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "{}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://vedette.dev/problems/")),
        "{body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}
