//! The web dashboard against a real server on 127.0.0.1 with a temporary SQLite database:
//! sign-in and session cookies, CSRF and Origin checks, scopes, every page, paging.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Method, Response, redirect};
use serde_json::{Value, json};
use vedette_model::spec::Secret;
use vedette_server::ServeConfig;

#[path = "../support/serving.rs"]
mod serving;

use serving::Serving;

/// A running server and a client that follows no redirect and keeps no cookie by itself.
struct Server {
    addr: SocketAddr,
    admin: String,
    http: reqwest::Client,
    serving: Serving,
    /// Holds the data directory (`data/` in it) for the server's life.
    dir: tempfile::TempDir,
}

/// A signed-in browser: its session cookie and the CSRF token of its forms.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Server {
    async fn start(demo: bool) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let admin = vedette_server::api::auth::generate_secret();
        let config = ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().join("data"),
            bootstrap_token: Some(Secret(admin.clone())),
            demo,
            ..ServeConfig::default()
        };
        let serving = Serving::start(config).await;
        Server {
            addr: serving.addr,
            admin,
            http: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            serving,
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a token with `scopes` through the API; returns its secret.
    async fn token(&self, name: &str, scopes: &[&str]) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/tokens"))
            .bearer_auth(&self.admin)
            .json(&json!({ "name": name, "scopes": scopes }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("secret").to_owned()
    }

    /// Creates monitor `id` (a TCP check of a closed loopback port, checked hourly).
    async fn monitor(&self, id: &str, labels: Value) {
        let spec = json!({"tcp": {"host": "127.0.0.1", "port": 9}, "interval": "1h"});
        self.api_put(
            &format!("/api/v1/monitors/{id}"),
            &json!({"labels": labels, "spec": spec}),
        )
        .await;
    }

    /// Creates what `path` names through the API, as the admin.
    async fn api_put(&self, path: &str, body: &Value) {
        let response = self
            .http
            .put(self.url(path))
            .bearer_auth(&self.admin)
            .json(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
    }

    /// The sign-in form's cookie and CSRF field.
    async fn login_form(&self) -> (String, String) {
        let response = self
            .http
            .get(self.url("/login"))
            .send()
            .await
            .expect("GET /login");
        assert_eq!(response.status(), 200);
        let cookie = set_cookie(&response, "vedette_login").expect("login cookie");
        let body = response.text().await.expect("body");
        (cookie, hidden(&body, "_csrf"))
    }

    /// Signs in with `secret`; returns the answer.
    async fn sign_in_response(&self, secret: &str) -> Response {
        let (cookie, csrf) = self.login_form().await;
        self.http
            .post(self.url("/login"))
            .header(COOKIE, format!("vedette_login={cookie}"))
            .header(ORIGIN, self.origin())
            .form(&[("token", secret), ("_csrf", &csrf), ("next", "/")])
            .send()
            .await
            .expect("POST /login")
    }

    /// Signs in with `secret` and reads the CSRF token of the overview's forms.
    async fn sign_in(&self, secret: &str) -> Browser {
        let response = self.sign_in_response(secret).await;
        assert_eq!(response.status(), 303);
        let cookie = set_cookie(&response, "vedette_session").expect("session cookie");
        let mut browser = Browser {
            cookie,
            csrf: String::new(),
        };
        let page = self.page(&browser, "/").await;
        assert_eq!(page.status(), 200);
        browser.csrf = hidden(&page.text().await.expect("body"), "_csrf");
        browser
    }

    /// The page at `path` as the signed-in `browser` gets it, as text.
    async fn page_text(&self, browser: &Browser, path: &str) -> String {
        self.page(browser, path).await.text().await.expect("body")
    }

    async fn page(&self, browser: &Browser, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header(COOKIE, format!("vedette_session={}", browser.cookie))
            .send()
            .await
            .expect("GET")
    }

    /// A form POST as the browser sends it: session cookie, this origin, `csrf` as field.
    async fn post(&self, browser: &Browser, path: &str, csrf: &str) -> Response {
        self.http
            .request(Method::POST, self.url(path))
            .header(COOKIE, format!("vedette_session={}", browser.cookie))
            .header(ORIGIN, self.origin())
            .form(&[("_csrf", csrf)])
            .send()
            .await
            .expect("POST")
    }

    async fn stop(self) {
        self.serving.stop().await;
    }
}

/// The value a response sets for cookie `name`, with the whole header line checked for the
/// session flags.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|line| {
            assert!(line.contains("HttpOnly"), "{line}");
            assert!(line.contains("SameSite=Strict"), "{line}");
            assert!(line.contains("Path=/"), "{line}");
            line.split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default()
        })
}

/// The value of the first hidden input named `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden field") + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

#[tokio::test]
async fn pages_redirect_to_sign_in_without_a_session() {
    let server = Server::start(false).await;
    for path in [
        "/",
        "/monitors/x",
        "/incidents",
        "/maintenance",
        "/webhooks",
        "/tokens",
        "/events",
    ] {
        let response = server.http.get(server.url(path)).send().await.expect("GET");
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(location.starts_with("/login?next="), "{path}: {location}");
    }
    let forged = server
        .http
        .get(server.url("/"))
        .header(COOKIE, "vedette_session=not-a-session")
        .send()
        .await
        .expect("GET");
    assert_eq!(forged.status(), 303);
    let stream = server
        .http
        .get(server.url("/ui/events"))
        .header("hx-request", "true")
        .send()
        .await
        .expect("GET");
    assert_eq!(stream.status(), 401);
    let login = server
        .http
        .get(server.url("/login"))
        .send()
        .await
        .expect("GET");
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    server.stop().await;
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_never_echoes_the_secret() {
    let server = Server::start(false).await;
    let secret = server.token("viewer", &["read"]).await;
    let response = server.sign_in_response(&secret).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = set_cookie(&response, "vedette_session").expect("session cookie");
    assert!(!cookie.contains(&secret) && !secret.contains(&cookie));
    assert!(!format!("{:?}", response.headers()).contains(&secret));
    let browser = Browser {
        cookie,
        csrf: String::new(),
    };
    let page = server.page(&browser, "/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let body = page.text().await.expect("body");
    assert!(body.contains("viewer") && !body.contains(&secret));

    // A wrong token shows the form again with why; a forged form is refused.
    let wrong = server
        .sign_in_response(&vedette_server::api::auth::generate_secret())
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.expect("body").contains("not valid"));
    let (_, csrf) = server.login_form().await;
    let forged = server
        .http
        .post(server.url("/login"))
        .header(COOKIE, "vedette_login=other")
        .form(&[("token", secret.as_str()), ("_csrf", &csrf)])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), 403);

    // Behind an https proxy the cookie is Secure.
    let (cookie, csrf) = server.login_form().await;
    let https = server
        .http
        .post(server.url("/login"))
        .header(COOKIE, format!("vedette_login={cookie}"))
        .header("x-forwarded-proto", "https")
        .form(&[("token", secret.as_str()), ("_csrf", &csrf)])
        .send()
        .await
        .expect("POST");
    let line = https
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("vedette_session="))
        .expect("cookie")
        .to_owned();
    assert!(line.contains("; Secure"), "{line}");
    server.stop().await;
}

#[tokio::test]
async fn signing_out_and_revoking_the_token_end_the_session() {
    let server = Server::start(false).await;
    let secret = server.token("writer", &["write"]).await;
    let browser = server.sign_in(&secret).await;
    let out = server.post(&browser, "/logout", &browser.csrf).await;
    assert_eq!(out.status(), 303);
    assert_eq!(server.page(&browser, "/").await.status(), 303);

    let browser = server.sign_in(&secret).await;
    let tokens: Value = server
        .http
        .get(server.url("/api/v1/tokens"))
        .bearer_auth(&server.admin)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let id = tokens["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == "writer")
        .and_then(|t| t["id"].as_str())
        .expect("token id")
        .to_owned();
    let revoked = server
        .http
        .delete(server.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&server.admin)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(revoked.status(), 204);
    assert_eq!(server.page(&browser, "/").await.status(), 303);
    server.stop().await;
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_this_origin() {
    let server = Server::start(false).await;
    server.monitor("web", json!({})).await;
    let secret = server.token("writer", &["write"]).await;
    let browser = server.sign_in(&secret).await;
    assert_eq!(
        server
            .post(&browser, "/monitors/web/pause", "wrong")
            .await
            .status(),
        403
    );
    assert_eq!(
        server
            .post(&browser, "/monitors/web/pause", "")
            .await
            .status(),
        403
    );
    let cross = server
        .http
        .post(server.url("/monitors/web/pause"))
        .header(COOKIE, format!("vedette_session={}", browser.cookie))
        .header(ORIGIN, "http://evil.example")
        .form(&[("_csrf", browser.csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(cross.status(), 403);
    let page = server.page_text(&browser, "/monitors/web").await;
    assert!(!page.contains("Paused by"), "nothing was paused");

    // With both, the pause happens; the header form (htmx) works too.
    let paused = server
        .post(&browser, "/monitors/web/pause", &browser.csrf)
        .await;
    assert_eq!(paused.status(), 303);
    let page = server.page_text(&browser, "/monitors/web").await;
    assert!(page.contains("Paused by writer"), "{page}");
    let resumed = server
        .http
        .post(server.url("/monitors/web/resume"))
        .header(COOKIE, format!("vedette_session={}", browser.cookie))
        .header("x-csrf-token", browser.csrf.as_str())
        .send()
        .await
        .expect("POST");
    assert_eq!(resumed.status(), 303);
    let page = server.page_text(&browser, "/monitors/web").await;
    assert!(!page.contains("Paused by"));
    server.stop().await;
}

#[tokio::test]
async fn a_read_token_sees_but_cannot_act_and_only_admin_sees_tokens() {
    let server = Server::start(false).await;
    server.monitor("web", json!({})).await;
    let reader = server
        .sign_in(&server.token("reader", &["read"]).await)
        .await;
    let page = server.page_text(&reader, "/monitors/web").await;
    assert!(!page.contains("Run now") && !page.contains("/monitors/web/pause"));
    for path in [
        "/monitors/web/pause",
        "/monitors/web/resume",
        "/monitors/web/run",
        "/messages/msg_x/replay",
    ] {
        assert_eq!(
            server.post(&reader, path, &reader.csrf).await.status(),
            403,
            "{path}"
        );
    }
    assert_eq!(server.page(&reader, "/tokens").await.status(), 403);
    assert!(
        !server
            .page_text(&reader, "/")
            .await
            .contains("href=\"/tokens\"")
    );

    let writer = server
        .sign_in(&server.token("writer", &["write"]).await)
        .await;
    let page = server.page_text(&writer, "/monitors/web").await;
    assert!(page.contains("Run now"));
    let ran = server
        .post(&writer, "/monitors/web/run", &writer.csrf)
        .await;
    assert_eq!(ran.status(), 303);
    let page = server.page_text(&writer, "/monitors/web").await;
    assert!(
        page.contains("connection refused") || page.contains("down"),
        "the run's result is listed"
    );
    assert_eq!(server.page(&writer, "/tokens").await.status(), 403);

    let admin = server.sign_in(&server.admin).await;
    let tokens = server.page(&admin, "/tokens").await;
    assert_eq!(tokens.status(), 200);
    let body = tokens.text().await.expect("body");
    assert!(body.contains("reader") && body.contains("writer") && body.contains("bootstrap"));
    assert!(
        !body.contains(&server.admin),
        "no secret on the tokens page"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_page_renders_for_a_signed_in_admin() {
    let server = Server::start(true).await;
    let admin = server.sign_in(&server.admin).await;
    let overview = server.page(&admin, "/").await.text().await.expect("body");
    assert!(
        overview.contains("data-id=\"demo-"),
        "demo monitors are listed"
    );
    assert!(
        overview.contains("aria-label=\"last 90 days: "),
        "a 90-day strip per row"
    );
    let id = overview
        .split("data-id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a monitor id")
        .to_owned();
    for path in [
        format!("/monitors/{id}"),
        format!("/monitors/{id}/chart?range=1h"),
        "/incidents".to_owned(),
        "/maintenance".to_owned(),
        "/webhooks".to_owned(),
        "/tokens".to_owned(),
        "/events".to_owned(),
    ] {
        let response = server.page(&admin, &path).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let monitor = server.page_text(&admin, &format!("/monitors/{id}")).await;
    assert!(
        monitor.contains("apiVersion: vedette.dev/v1") && monitor.contains("kind: Monitor"),
        "YAML export"
    );
    assert!(monitor.contains("required_providers"), "Terraform export");
    let chart: Value = server
        .page(&admin, &format!("/monitors/{id}/chart?range=24h"))
        .await
        .json()
        .await
        .expect("chart JSON");
    assert!(chart["t"].is_array() && chart["p95"].is_array() && chart["dns"].is_array());
    assert!(chart["maintenance"].is_array(), "{chart}");
    assert_eq!(chart["step"], 900, "24h in 15-minute buckets");
    assert!(
        chart["from"].as_i64().expect("from") + 86_400 <= chart["to"].as_i64().expect("to") + 1,
        "the axis spans the range: {chart}"
    );
    assert_eq!(
        server
            .page(&admin, &format!("/monitors/{id}/chart?range=2y"))
            .await
            .status(),
        400
    );
    assert_eq!(server.page(&admin, "/monitors/nope").await.status(), 404);

    // Static files: versioned URLs, long cache, 404 for another version.
    let css = overview
        .split("href=\"")
        .find(|s| s.starts_with("/assets/"))
        .and_then(|s| s.split('"').next())
        .expect("stylesheet URL")
        .to_owned();
    let asset = server.http.get(server.url(&css)).send().await.expect("GET");
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    let stale = server
        .http
        .get(server.url("/assets/000000000000/app.css"))
        .send()
        .await
        .expect("GET");
    assert_eq!(stale.status(), 404);
    server.stop().await;
}

/// A result of a discovered monitor shows what its gateway said of the upstream at the check.
#[tokio::test]
async fn a_result_shows_what_the_gateway_reported() {
    let server = Server::start(false).await;
    server.monitor("routed", json!({})).await;
    let store = vedette_store::Store::open(&vedette_store::StoreConfig::sqlite(
        server.dir.path().join("data"),
    ))
    .await
    .expect("store");
    let started_at = chrono::Utc::now();
    let result: vedette_model::CheckResult = serde_json::from_value(json!({
        "monitor_id": "routed",
        "started_at": started_at,
        "outcome": "down",
        "reason": "status",
        "message": "HTTP 503 in 4 ms",
        "phases": {"total_ms": 4.0},
        "status_code": 503,
        "attempts": 1,
        "gateway": {"healthy": false, "detail": "cluster backend: 0/1 healthy"},
    }))
    .expect("result");
    store
        .write_batch(&[vedette_store::CheckRecord {
            status: vedette_store::MonitorStatus::pending("routed", started_at),
            last_check_only: true,
            incident: None,
            events: Vec::new(),
            result,
        }])
        .await
        .expect("stored");
    store.close().await;

    let admin = server.sign_in(&server.admin).await;
    let page = server.page_text(&admin, "/monitors/routed").await;
    assert!(
        page.contains("Gateway: upstream unhealthy — cluster backend: 0/1 healthy"),
        "{page}"
    );
    server.stop().await;
}

/// A recurring window whose occurrence covers now is marked in force with its end; one that
/// does not shows when it next starts.
#[tokio::test]
async fn recurring_maintenance_in_force_is_marked() {
    let server = Server::start(false).await;
    for (id, spec) in [
        (
            "hourly",
            json!({"name": "Always on", "cron": "0 * * * *", "duration": "1h", "monitors": ["a"]}),
        ),
        (
            "new-year",
            json!({"name": "New year", "cron": "0 0 1 1 *", "duration": "1m", "monitors": ["a"]}),
        ),
    ] {
        server
            .api_put(
                &format!("/api/v1/maintenance/{id}"),
                &json!({ "spec": spec }),
            )
            .await;
    }
    let admin = server.sign_in(&server.admin).await;
    let html = server.page_text(&admin, "/maintenance").await;
    let row = |name: &str| {
        html.split("<tr>")
            .find(|r| r.contains(name))
            .unwrap_or_else(|| panic!("no row {name} in {html}"))
            .to_owned()
    };
    let always = row("Always on");
    assert!(always.contains("in force</span> until "), "{always}");
    let new_year = row("New year");
    assert!(!new_year.contains("in force"), "{new_year}");
    assert!(new_year.contains("-01-01 00:00:00 UTC"), "{new_year}");
    server.stop().await;
}

/// The webhooks page's recover form: write scope, a known enabled endpoint and a span it
/// offers; then back to the page.
#[tokio::test]
async fn recovering_failed_deliveries_from_the_webhooks_page() {
    let server = Server::start(false).await;
    server
        .api_put(
            "/api/v1/webhooks/ops",
            &json!({"spec": {"url": "https://hooks.example.com/ops", "description": "ops hook"}}),
        )
        .await;
    let admin = server.sign_in(&server.admin).await;
    let page = server.page_text(&admin, "/webhooks").await;
    assert!(page.contains("action=\"/webhooks/ops/recover\""), "{page}");
    let recover = |browser: &Browser, path: &str, since: &str| {
        server
            .http
            .request(Method::POST, server.url(path))
            .header(COOKIE, format!("vedette_session={}", browser.cookie))
            .header(ORIGIN, server.origin())
            .form(&[("_csrf", browser.csrf.as_str()), ("since", since)])
            .send()
    };
    let done = recover(&admin, "/webhooks/ops/recover", "24h")
        .await
        .expect("POST");
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/webhooks");
    let bad = recover(&admin, "/webhooks/ops/recover", "2y")
        .await
        .expect("POST");
    assert_eq!(bad.status(), 400);
    let missing = recover(&admin, "/webhooks/nope/recover", "1h")
        .await
        .expect("POST");
    assert_eq!(missing.status(), 404);
    let reader = server.token("reader", &["read"]).await;
    let reader = server.sign_in(&reader).await;
    let refused = recover(&reader, "/webhooks/ops/recover", "1h")
        .await
        .expect("POST");
    assert_eq!(refused.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn the_overview_pages_filters_and_counts() {
    let server = Server::start(false).await;
    for i in 0..120 {
        let team = if i % 3 == 0 { "payments" } else { "web" };
        server
            .monitor(&format!("m{i:03}"), json!({ "team": team }))
            .await;
    }
    let admin = server.sign_in(&server.admin).await;
    let rows = |body: &str| body.matches("<tr data-id=").count();

    let first = server.page(&admin, "/").await.text().await.expect("body");
    assert_eq!(rows(&first), 50);
    assert!(first.contains("120 matching · page 1 of 3"), "paged");
    assert!(first.contains("rel=\"next\""));
    let last = server.page_text(&admin, "/?page=3").await;
    assert_eq!(rows(&last), 20);
    assert!(last.contains("data-id=\"m119\"") && !last.contains("data-id=\"m000\""));

    let team = server.page_text(&admin, "/?selector=team%3Dpayments").await;
    assert!(team.contains("40 matching"), "selector filter");
    let search = server.page_text(&admin, "/?q=m11").await;
    assert!(search.contains("10 matching"), "search");
    let pending = server.page_text(&admin, "/?state=pending").await;
    assert_eq!(
        rows(&pending),
        pending.matches("class=\"state pending\"").count(),
        "only pending monitors"
    );
    let bad = server.page(&admin, "/?selector=%3D%3D").await;
    assert_eq!(bad.status(), 200);
    assert!(
        bad.text()
            .await
            .expect("body")
            .contains("The label selector is not valid")
    );
    let unknown = server.page_text(&admin, "/?state=sideways").await;
    assert!(unknown.contains("There is no state"));
    server.stop().await;
}

#[tokio::test]
async fn the_live_stream_needs_a_session_and_sends_events() {
    let server = Server::start(false).await;
    server.monitor("web", json!({})).await;
    let admin = server.sign_in(&server.admin).await;
    let response = server
        .http
        .get(server.url("/ui/events?after=0"))
        .header(COOKIE, format!("vedette_session={}", admin.cookie))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // The run makes the monitor fail (a closed port); its events reach the stream.
    assert_eq!(
        server
            .post(&admin, "/monitors/web/run", &admin.csrf)
            .await
            .status(),
        303
    );
    let mut response = response;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("event: ") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), response.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => {
                assert_eq!(
                    server
                        .post(&admin, "/monitors/web/run", &admin.csrf)
                        .await
                        .status(),
                    303
                );
            }
        }
    }
    assert!(seen.contains("event: "), "{seen}");
    server.stop().await;
}
