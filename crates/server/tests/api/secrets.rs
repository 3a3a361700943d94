//! Secrets by scope and destination: stored credentials follow their destination, read tokens
//! see neither push tokens nor header values, push tokens rotate, and racing creates with one
//! push token leave exactly one monitor.

use serde_json::{Value, json};

use crate::common::{Kind, Resp, Server};

api_tests!(
    monitor_secrets_follow_their_destination,
    read_scope_sees_no_push_token_or_headers,
    push_tokens_rotate,
    racing_creates_with_one_push_token,
    webhook_secrets_follow_their_destination,
);

/// A token with `scopes`, created through the API.
async fn token(server: &Server, scopes: &[&str]) -> String {
    let created = server
        .post("/tokens", &json!({"name": "t", "scopes": scopes}))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    created.body["token"].as_str().expect("token").to_owned()
}

/// `GET path` with `token` instead of the admin token.
async fn get_as(server: &Server, token: &str, path: &str) -> Resp {
    server
        .send(server.client.get(server.url(path)).bearer_auth(token))
        .await
}

async fn monitor_secrets_follow_their_destination(kind: Kind) {
    let server = Server::start(kind).await;
    let body = json!({"spec": {
        "http": {
            "url": "http://127.0.0.1:9/health",
            "headers": {"x-api-key": "hdr-s3cret"},
            "auth": {"basic": {"username": "u", "password": "pw-s3cret"}}
        },
        "interval": "1h"
    }});
    assert_eq!(server.put("/monitors/private", &body).await.status, 201);

    // Same scheme, host and port: the stored password is kept.
    let same = server
        .patch(
            "/monitors/private",
            &json!({"spec": {"http": {"url": "http://127.0.0.1:9/other?x=1"}}}),
        )
        .await;
    assert_eq!(same.status, 200, "{:#}", same.body);

    // Another host, port or scheme without the password: 422 naming it, nothing stored.
    for url in [
        "http://127.0.0.2:9/health",
        "http://127.0.0.1:10/health",
        "https://127.0.0.1:9/health",
    ] {
        let moved = server
            .patch(
                "/monitors/private",
                &json!({"spec": {"http": {"url": url}}}),
            )
            .await;
        moved.problem(422);
        assert_eq!(
            moved.error_fields(),
            ["spec.http.auth.basic.password"],
            "{url}"
        );
        assert!(!moved.body.to_string().contains("s3cret"));
    }
    let got = server.get("/monitors/private").await;
    assert_eq!(
        got.body["spec"]["http"]["url"],
        "http://127.0.0.1:9/other?x=1"
    );

    // The GET body sent back with another host: the same refusal (PUT), and a header value
    // sent as ******** is refused there too.
    let mut moved = got.body.clone();
    moved["spec"]["http"]["url"] = json!("http://127.0.0.2:9/");
    moved["spec"]["http"]["headers"]["x-api-key"] = json!("********");
    let refused = server.put("/monitors/private", &moved).await;
    refused.problem(422);
    assert_eq!(
        refused.error_fields(),
        [
            "spec.http.auth.basic.password",
            "spec.http.headers.x-api-key"
        ]
    );

    // Sending the secrets again moves them.
    moved["spec"]["http"]["auth"]["basic"]["password"] = json!("new-pw");
    moved["spec"]["http"]["headers"]["x-api-key"] = json!("new-key");
    let accepted = server.put("/monitors/private", &moved).await;
    assert_eq!(accepted.status, 200, "{:#}", accepted.body);
    assert_eq!(accepted.body["spec"]["http"]["url"], "http://127.0.0.2:9/");
    server.finish().await;
}

async fn read_scope_sees_no_push_token_or_headers(kind: Kind) {
    let server = Server::start(kind).await;
    let reader = token(&server, &["read"]).await;
    let writer = token(&server, &["write"]).await;
    let beat = json!({"spec": {"heartbeat": {"token": "push-s3cret-token-123"}, "interval": "1d"}});
    assert_eq!(server.put("/monitors/beat", &beat).await.status, 201);
    let generated = json!({"spec": {"heartbeat": {}, "interval": "1d"}});
    assert_eq!(server.put("/monitors/gen", &generated).await.status, 201);
    let http = json!({"spec": {
        "http": {"url": "http://127.0.0.1:9/", "headers": {"x-api-key": "hdr-s3cret"}},
        "interval": "1h"
    }});
    assert_eq!(server.put("/monitors/web", &http).await.status, 201);

    for path in [
        "/monitors/beat",
        "/monitors/gen",
        "/monitors/web",
        "/monitors",
    ] {
        let got = get_as(&server, &reader, path).await;
        assert_eq!(got.status, 200);
        let text = got.body.to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("/push/"),
            "{path}: {text}"
        );
    }
    let beat_read = get_as(&server, &reader, "/monitors/beat").await;
    assert_eq!(beat_read.body["spec"]["heartbeat"]["token"], "********");
    assert!(beat_read.body["status"].get("push_url").is_none());
    let web_read = get_as(&server, &reader, "/monitors/web").await;
    assert_eq!(
        web_read.body["spec"]["http"]["headers"]["x-api-key"],
        "********"
    );

    // Writers still see both, and a read body sent back keeps the stored header values.
    let beat_write = get_as(&server, &writer, "/monitors/beat").await;
    assert_eq!(
        beat_write.body["status"]["push_url"],
        "/push/push-s3cret-token-123"
    );
    assert_eq!(
        get_as(&server, &writer, "/monitors/web").await.body["spec"]["http"]["headers"]["x-api-key"],
        "hdr-s3cret"
    );
    let kept = server.put("/monitors/web", &web_read.body).await;
    assert_eq!(kept.status, 200, "{:#}", kept.body);
    assert_eq!(kept.body["version"], 1, "unchanged: {:#}", kept.body);
    server.finish().await;
}

async fn push_tokens_rotate(kind: Kind) {
    let server = Server::start(kind).await;
    let reader = token(&server, &["read"]).await;
    let ping =
        |url: String| async move { reqwest::get(url).await.expect("ping").status().as_u16() };
    for (id, spec) in [
        ("gen", json!({"heartbeat": {}, "interval": "1d"})),
        (
            "own",
            json!({"heartbeat": {"token": "own-token-0123456789"}, "interval": "1d"}),
        ),
    ] {
        let created = server
            .put(&format!("/monitors/{id}"), &json!({"spec": spec}))
            .await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        let old = created.body["status"]["push_url"]
            .as_str()
            .expect("push url")
            .to_owned();
        let path = format!("/monitors/{id}/rotate-push-token");
        let denied = server
            .send(server.client.post(server.url(&path)).bearer_auth(&reader))
            .await;
        denied.problem(403);
        let rotated = server.post(&path, &Value::Null).await;
        assert_eq!(rotated.status, 200, "{:#}", rotated.body);
        let new = rotated.body["status"]["push_url"]
            .as_str()
            .expect("push url")
            .to_owned();
        assert_ne!(new, old);
        assert_eq!(
            ping(format!("http://{}{old}", server.addr)).await,
            404,
            "{id}"
        );
        assert_eq!(
            ping(format!("http://{}{new}", server.addr)).await,
            200,
            "{id}"
        );
    }
    let http = json!({"spec": {"http": {"url": "http://127.0.0.1:9/"}, "interval": "1h"}});
    assert_eq!(server.put("/monitors/web", &http).await.status, 201);
    server
        .post("/monitors/web/rotate-push-token", &Value::Null)
        .await
        .problem(409);
    server
        .post("/monitors/nope/rotate-push-token", &Value::Null)
        .await
        .problem(404);
    server.finish().await;
}

async fn racing_creates_with_one_push_token(kind: Kind) {
    let server = Server::start(kind).await;
    for trial in 0..8 {
        let token = format!("shared-token-{trial}-0123456789");
        let body =
            |id: &str| json!({"id": id, "spec": {"heartbeat": {"token": token}, "interval": "1d"}});
        let (body_a, body_b) = (body(&format!("a{trial}")), body(&format!("b{trial}")));
        let (a, b) = tokio::join!(
            server.post("/monitors", &body_a),
            server.post("/monitors", &body_b),
        );
        let (winner, loser) = match (a.status, b.status) {
            (201, _) => (format!("a{trial}"), (b, format!("b{trial}"))),
            (_, 201) => (format!("b{trial}"), (a, format!("a{trial}"))),
            other => panic!("trial {trial}: no create succeeded: {other:?}"),
        };
        loser.0.problem(409);
        assert_eq!(
            loser.0.error_fields(),
            ["spec.heartbeat.token"],
            "trial {trial}"
        );
        assert!(!loser.0.body.to_string().contains(&token));
        assert_eq!(
            server.get(&format!("/monitors/{}", loser.1)).await.status,
            404
        );
        let got = server.get(&format!("/monitors/{winner}")).await;
        assert_eq!(got.body["status"]["push_url"], format!("/push/{token}"));
        let pinged = reqwest::get(format!("http://{}/push/{token}", server.addr))
            .await
            .expect("ping");
        assert_eq!(pinged.status(), 200, "trial {trial}");
    }
    server.finish().await;
}

async fn webhook_secrets_follow_their_destination(kind: Kind) {
    let server = Server::start(kind).await;
    let reader = token(&server, &["read"]).await;
    let hook = json!({"spec": {
        "url": "http://127.0.0.1:9/hook?token=q-s3cret",
        "enabled": false,
        "auth": {"type": "bearer", "token": "bearer-s3cret"},
        "headers": {"X-Key": {"secret": "hdr-s3cret"}}
    }});
    let created = server.put("/webhooks/hook", &hook).await;
    assert_eq!(created.status, 201, "{:#}", created.body);

    // Same destination: kept. Another host without the secrets: 422 naming each.
    let same = server
        .patch(
            "/webhooks/hook",
            &json!({"spec": {"url": "http://127.0.0.1:9/other?token=q"}}),
        )
        .await;
    assert_eq!(same.status, 200, "{:#}", same.body);
    let moved = server
        .patch(
            "/webhooks/hook",
            &json!({"spec": {"url": "http://127.0.0.2:9/hook"}}),
        )
        .await;
    moved.problem(422);
    assert_eq!(
        moved.error_fields(),
        ["spec.auth.token", "spec.headers.X-Key.secret"]
    );
    assert!(!moved.body.to_string().contains("s3cret"));
    let resent = server
        .patch(
            "/webhooks/hook",
            &json!({"spec": {
                "url": "http://127.0.0.2:9/hook",
                "auth": {"type": "bearer", "token": "new-bearer"},
                "headers": {"X-Key": {"secret": "new-header"}}
            }}),
        )
        .await;
    assert_eq!(resent.status, 200, "{:#}", resent.body);

    // Read tokens see the URL's query redacted; that body sent back keeps it.
    let restore = server
        .patch(
            "/webhooks/hook",
            &json!({"spec": {"url": "http://127.0.0.2:9/hook?token=q-s3cret"}}),
        )
        .await;
    assert_eq!(restore.status, 200, "{:#}", restore.body);
    let read = get_as(&server, &reader, "/webhooks/hook").await;
    assert_eq!(read.body["spec"]["url"], "http://127.0.0.2:9/hook?********");
    assert!(!read.body.to_string().contains("s3cret"), "{:#}", read.body);
    let listed = get_as(&server, &reader, "/webhooks").await;
    assert!(
        !listed.body.to_string().contains("s3cret"),
        "{:#}",
        listed.body
    );
    let kept = server.put("/webhooks/hook", &read.body).await;
    assert_eq!(kept.status, 200, "{:#}", kept.body);
    assert_eq!(kept.body["version"], restore.body["version"], "unchanged");
    let mut elsewhere = read.body.clone();
    elsewhere["spec"]["url"] = json!("http://127.0.0.3:9/hook?********");
    elsewhere["spec"]["auth"]["token"] = json!("t");
    elsewhere["spec"]["headers"]["X-Key"]["secret"] = json!("h");
    let refused = server.put("/webhooks/hook", &elsewhere).await;
    refused.problem(422);
    assert_eq!(refused.error_fields(), ["spec.url"]);

    // Catalog integrations: the destination is the URL the integration renders.
    let gotify = json!({"spec": {"enabled": false, "integration": {"name": "gotify",
        "params": {"server": "http://127.0.0.1:9", "token": "gotify-s3cret"}}}});
    assert_eq!(server.put("/webhooks/gotify", &gotify).await.status, 201);
    let moved = server
        .patch(
            "/webhooks/gotify",
            &json!({"spec": {"integration": {"name": "gotify", "params": {"server": "http://127.0.0.2:9"}}}}),
        )
        .await;
    moved.problem(422);
    assert_eq!(moved.error_fields(), ["spec.integration.params.token"]);

    // Email: the SMTP server is the destination of its password.
    let email = json!({"spec": {"enabled": false, "email": {
        "smtp": {"host": "127.0.0.1", "port": 2525, "security": "starttls", "username": "u", "password": "smtp-s3cret"},
        "from": "alerts@example.com", "to": ["ops@example.com"]
    }}});
    let created = server.put("/webhooks/mail", &email).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let moved = server
        .patch(
            "/webhooks/mail",
            &json!({"spec": {"email": {"smtp": {"host": "127.0.0.2"}}}}),
        )
        .await;
    moved.problem(422);
    assert_eq!(moved.error_fields(), ["spec.email.smtp.password"]);
    let same = server
        .patch(
            "/webhooks/mail",
            &json!({"spec": {"email": {"from": "noc@example.com"}}}),
        )
        .await;
    assert_eq!(same.status, 200, "{:#}", same.body);
    server.finish().await;
}
