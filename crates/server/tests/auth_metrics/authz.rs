//! Every documented route against no token, a read, a write and an admin token.

use reqwest::Method;
use vedette_server::api::route::{Body, Route};
use vedette_server::routes;
use vedette_store::Scope;

use crate::common::{Server, problem};

/// A concrete path for a route template: every `{param}` becomes an id that does not exist.
fn concrete(route: &Route) -> String {
    let mut out = String::new();
    for segment in route.path.split('/').skip(1) {
        out.push('/');
        if segment.starts_with('{') {
            out.push_str("authz-missing");
        } else {
            out.push_str(segment);
        }
    }
    out
}

/// Sends the route's request; write routes carry an empty JSON object (never a valid body,
/// so nothing is created).
async fn send(server: &Server, route: &Route, token: Option<&str>) -> u16 {
    let method = Method::from_bytes(route.method.as_bytes()).expect("method");
    let mut request = server.request(method, &concrete(route), token);
    if !matches!(route.request, Body::Empty) {
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    // Streams answer with headers first; the status is all this test reads.
    let response = request.send().await.expect("request");
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_its_scope() {
    let server = Server::start(|_| {}).await;
    let read = server.create_token("reader", &["read"]).await["token"]
        .as_str()
        .expect("secret")
        .to_owned();
    let write = server.create_token("writer", &["write"]).await["token"]
        .as_str()
        .expect("secret")
        .to_owned();
    let admin = server.admin.clone();

    let mut checked = 0;
    for route in routes::all() {
        let what = format!("{} {}", route.method, route.path);
        let Some(scope) = route.scope else {
            let status = send(&server, route, None).await;
            assert!(
                status != 401 && status != 403,
                "{what} is public but answered {status}"
            );
            continue;
        };
        checked += 1;
        assert_eq!(
            send(&server, route, None).await,
            401,
            "{what} without a token"
        );
        for (token, held) in [
            (&read, Scope::Read),
            (&write, Scope::Write),
            (&admin, Scope::Admin),
        ] {
            let status = send(&server, route, Some(token)).await;
            if held.grants(scope) {
                assert!(
                    status != 401 && status != 403,
                    "{what} with a {held} token answered {status}"
                );
            } else {
                assert_eq!(status, 403, "{what} with a {held} token");
            }
        }
    }
    assert!(checked >= 25, "only {checked} scoped routes documented");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_get_401_problems_with_a_bearer_challenge() {
    let server = Server::start(|_| {}).await;
    let path = "/api/v1/monitors";

    let none = server.get(path, None).await;
    assert_eq!(
        none.headers()["www-authenticate"].to_str().expect("ascii"),
        "Bearer realm=\"vedette\""
    );
    problem(none, 401).await;

    let unknown = format!("vdt_{}", "x".repeat(40));
    let basic = server
        .http
        .get(server.url(path))
        .basic_auth("admin", Some(&server.admin))
        .send()
        .await
        .expect("request");
    let cases = [
        ("unknown token", server.get(path, Some(&unknown)).await),
        ("not a vdt_ token", server.get(path, Some("changeme")).await),
        ("empty bearer", server.get(path, Some("")).await),
        ("basic auth", basic),
    ];
    for (what, response) in cases {
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().expect("ascii").to_owned());
        assert!(
            challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer ")),
            "{what}: {challenge:?}"
        );
        let body = problem(response, 401).await;
        assert!(
            !body.to_string().contains(&server.admin),
            "{what}: the answer echoes a secret"
        );
    }

    // A lower-case scheme is accepted (RFC 7235: schemes are case-insensitive).
    let lower = server
        .http
        .get(server.url(path))
        .header("authorization", format!("bearer {}", server.admin))
        .send()
        .await
        .expect("request");
    assert_ne!(lower.status(), 401);

    // Unknown paths under /api/v1 need a token too (no probing without one).
    problem(server.get("/api/v1/no-such-thing", None).await, 401).await;
    // Outside /api/v1 nothing is checked.
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    assert_eq!(server.get("/metrics", None).await.status(), 200);
    assert_eq!(server.get("/api/v1/openapi.json", None).await.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_scope_names_the_scope_needed() {
    let server = Server::start(|_| {}).await;
    let read = server.create_token("reader", &["read"]).await["token"]
        .as_str()
        .expect("secret")
        .to_owned();
    let response = server
        .request(Method::DELETE, "/api/v1/monitors/x", Some(&read))
        .send()
        .await
        .expect("request");
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("scope=\"write\"")
    );
    let body = problem(response, 403).await;
    assert!(
        body["detail"].as_str().expect("detail").contains("write"),
        "{body}"
    );
    let body = problem(server.get("/api/v1/tokens", Some(&read)).await, 403).await;
    assert!(
        body["detail"].as_str().expect("detail").contains("admin"),
        "{body}"
    );
    server.stop().await;
}
