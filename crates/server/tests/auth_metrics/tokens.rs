//! Token routes, expiry, revocation, last use and the first-start bootstrap.

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use vedette_server::api::auth::{self, Bootstrap};
use vedette_store::{NewToken, Scope, Store, StoreConfig};

use crate::common::{Server, problem, secret};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_created_listed_used_and_revoked() {
    let server = Server::start(|_| {}).await;
    let admin = server.admin.clone();

    let expires = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let response = server
        .request(Method::POST, "/api/v1/tokens", Some(&admin))
        .json(&json!({ "name": "terraform-ci", "scopes": ["write"], "expires_at": expires }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.expect("JSON");
    let id = created["id"].as_str().expect("id").to_owned();
    let secret = created["token"].as_str().expect("token").to_owned();
    assert_eq!(location, format!("/api/v1/tokens/{id}"));
    assert!(secret.starts_with("vdt_") && secret.len() >= 36, "{secret}");
    assert_eq!(created["name"], "terraform-ci");
    assert_eq!(created["scopes"], json!(["write"]));
    assert!(created["expires_at"].is_string());
    assert_eq!(created["last_used_at"], Value::Null);

    // The new token works with its scope.
    assert_ne!(
        server.get("/api/v1/monitors", Some(&secret)).await.status(),
        401
    );

    // Listing never shows secrets; last use is recorded.
    let mut listed = Value::Null;
    for _ in 0..50 {
        let response = server.get("/api/v1/tokens", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        listed = response.json().await.expect("JSON");
        let mine = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["id"] == id.as_str())
            .cloned()
            .expect("listed");
        if mine["last_used_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = listed.to_string();
    assert!(!text.contains(&secret) && !text.contains(&admin), "{text}");
    assert!(!text.contains("\"token\""), "{text}");
    assert_eq!(listed["next_cursor"], Value::Null);
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "bootstrap and terraform-ci: {text}");
    assert!(
        items.iter().all(|t| t["last_used_at"].is_string()),
        "{text}"
    );

    // Bad bodies answer 422 naming the field, non-JSON 415.
    let body = problem(
        server
            .request(Method::POST, "/api/v1/tokens", Some(&admin))
            .json(&json!({ "name": "x", "scopes": ["superuser"] }))
            .send()
            .await
            .expect("request"),
        422,
    )
    .await;
    assert!(
        body["errors"][0]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("scopes")),
        "{body}"
    );
    problem(
        server
            .request(Method::POST, "/api/v1/tokens", Some(&admin))
            .body("name=x")
            .send()
            .await
            .expect("request"),
        415,
    )
    .await;

    // Revoked: 204, then 401 with it, then 404 when revoked again.
    let revoke = |token: String| {
        let server = &server;
        let admin = admin.clone();
        async move {
            server
                .request(
                    Method::DELETE,
                    &format!("/api/v1/tokens/{token}"),
                    Some(&admin),
                )
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(revoke(id.clone()).await.status(), 204);
    let body = problem(server.get("/api/v1/monitors", Some(&secret)).await, 401).await;
    assert!(body["detail"].as_str().expect("detail").contains("revoked"));
    problem(revoke(id.clone()).await, 404).await;

    // The last admin token cannot be revoked.
    let listed: Value = server
        .get("/api/v1/tokens", Some(&admin))
        .await
        .json()
        .await
        .expect("JSON");
    let bootstrap_id = listed["items"][0]["id"].as_str().expect("id").to_owned();
    problem(revoke(bootstrap_id).await, 409).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused() {
    let server = Server::start(|_| {}).await;
    let store = Store::open(&StoreConfig::sqlite(&server.data_dir))
        .await
        .expect("store");
    let expired = secret();
    let created = Utc::now() - chrono::Duration::hours(2);
    store
        .create_token(
            &NewToken {
                id: "tok_expired".into(),
                name: "old".into(),
                scopes: vec![Scope::Admin],
                expires_at: Some(created + chrono::Duration::hours(1)),
            },
            &expired,
            created,
        )
        .await
        .expect("create");
    let body = problem(server.get("/api/v1/status", Some(&expired)).await, 401).await;
    assert!(body["detail"].as_str().expect("detail").contains("expired"));
    store.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_creates_one_admin_token() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&StoreConfig::sqlite(dir.path()))
        .await
        .expect("store");

    let weak = auth::bootstrap(&store, Some("changeme")).await;
    assert!(
        weak.as_ref()
            .is_err_and(|e| e.to_string().contains("VEDETTE_BOOTSTRAP_TOKEN")),
        "{weak:?}"
    );
    assert!(!store.has_tokens().await.expect("has"));

    let Bootstrap::Generated(generated) = auth::bootstrap(&store, None).await.expect("bootstrap")
    else {
        panic!("expected a generated token");
    };
    let token = store
        .token_by_secret(&generated)
        .await
        .expect("lookup")
        .expect("stored");
    assert_eq!(token.scope(), Some(Scope::Admin));
    assert_eq!(
        auth::bootstrap(&store, Some(&secret()))
            .await
            .expect("bootstrap"),
        Bootstrap::Existing
    );
    store.close().await;

    // A configured token becomes the admin token on a fresh server, and works.
    let server = Server::start(|_| {}).await;
    assert_eq!(
        server
            .get("/api/v1/tokens", Some(&server.admin))
            .await
            .status(),
        200
    );
    server.stop().await;
}

/// "X revokes Y" and "Y revokes X" at once, several times: one wins (204), the other is
/// refused (409, or 401 when its own token is already gone), and an admin token always remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_revocations_keep_an_admin_token() {
    let server = Server::start(|_| {}).await;
    let mut survivor = (String::new(), server.admin.clone());
    let listed: Value = server
        .get("/api/v1/tokens", Some(&server.admin))
        .await
        .json()
        .await
        .expect("JSON");
    survivor.0 = listed["items"][0]["id"].as_str().expect("id").to_owned();
    let revoke = |by: String, id: String| {
        let request = server.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&by));
        async move { request.send().await.expect("request").status().as_u16() }
    };
    for trial in 0..8 {
        let created = server
            .create_token_with(&survivor.1, &format!("admin-{trial}"))
            .await;
        let other = (
            created["id"].as_str().expect("id").to_owned(),
            created["token"].as_str().expect("token").to_owned(),
        );
        let (a, b) = tokio::join!(
            revoke(survivor.1.clone(), other.0.clone()),
            revoke(other.1.clone(), survivor.0.clone()),
        );
        let mut statuses = [a, b];
        statuses.sort_unstable();
        assert!(
            statuses[0] == 204 && (statuses[1] == 409 || statuses[1] == 401),
            "trial {trial}: {statuses:?}"
        );
        if b == 204 {
            survivor = other;
        }
        let listed: Value = server
            .get("/api/v1/tokens", Some(&survivor.1))
            .await
            .json()
            .await
            .expect("JSON");
        let ids: Vec<&str> = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert_eq!(ids, [survivor.0.as_str()], "trial {trial}");
    }
    server.stop().await;
}
