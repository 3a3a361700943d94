//! Monitor CRUD, versions and preconditions, selectors, pagination, validation and
//! file-managed monitors.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::common::{Kind, Server, Target, http_monitor, serve_on_loopback};

api_tests!(
    crud_and_upsert,
    etag_preconditions,
    selectors_and_stable_pagination,
    validation_names_fields,
    file_managed_monitors_refuse_writes,
    heartbeat_shows_push_url,
    credentials_are_redacted_and_kept,
    runtime_pause_is_beside_the_spec,
    pause_reasons_are_validated,
    delete_resolves_open_incident,
    a_check_running_at_delete_leaves_nothing,
    new_monitor_is_checked_at_once,
    push_url_is_absolute_under_public_url,
);

/// With `--public-url` the push URL is absolute under it (a trailing `/` is not doubled), in
/// responses to writes and reads alike.
async fn push_url_is_absolute_under_public_url(kind: Kind) {
    let server = Server::start_configured(kind, None, |c| {
        c.public_url = Some("https://vedette.example.com/".to_owned());
    })
    .await;
    let created = server
        .put(
            "/monitors/nightly",
            &json!({"spec": {"heartbeat": {"token": "nightly-push-token-0123"}, "interval": "1d"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let want = "https://vedette.example.com/push/nightly-push-token-0123";
    assert_eq!(created.body["status"]["push_url"], want);
    let got = server.get("/monitors/nightly").await;
    assert_eq!(got.body["status"]["push_url"], want);
    let listed = server.get("/monitors").await;
    assert_eq!(listed.body["items"][0]["status"]["push_url"], want);
    server.finish().await;
}

/// A monitor created while the server runs is checked at once, not after its (1 h) interval.
async fn new_monitor_is_checked_at_once(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let created = server
        .put("/monitors/hourly", &http_monitor(&target.url("/ok"), "1h"))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let checked = server
        .wait_for("/monitors/hourly", Duration::from_secs(10), |b| {
            b["status"]["state"] == "up"
        })
        .await;
    assert!(checked["status"]["last_result"]["at"].is_string());
    server.finish().await;
}

/// A check still running when its monitor is deleted (a target that holds the request) leaves
/// nothing behind when it ends: no status, incident or event for the monitor that is gone.
async fn a_check_running_at_delete_leaves_nothing(kind: Kind) {
    let arrived = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (seen, gate) = (arrived.clone(), release.clone());
    let app = Router::new().route(
        "/slow",
        get(move || {
            let (seen, gate) = (seen.clone(), gate.clone());
            async move {
                seen.notify_one();
                gate.notified().await;
                (StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"DOWN"}"#)
            }
        }),
    );
    let (addr, stop_target) = serve_on_loopback(app).await;
    let server = Server::start(kind).await;
    let mut body = http_monitor(&format!("http://{addr}/slow"), "1d");
    body["spec"]["timeout"] = json!("20s");
    // A new monitor is checked at once: the check is held by the target from here.
    assert_eq!(server.put("/monitors/held", &body).await.status, 201);
    tokio::time::timeout(Duration::from_secs(15), arrived.notified())
        .await
        .expect("the check reaches the target");

    assert_eq!(server.delete("/monitors/held").await.status, 204);
    release.notify_one();
    // The check ends down at once; its writes would be committed within the writer's 200 ms.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert_eq!(server.get("/monitors/held").await.status, 404);
    let store = server.other_store().await;
    assert_eq!(store.monitor_status("held").await.expect("status"), None);
    assert!(
        store
            .open_incident("held")
            .await
            .expect("incident")
            .is_none()
    );
    let incidents = server.get("/incidents?monitor=held").await;
    assert_eq!(incidents.body["items"], json!([]), "{:#}", incidents.body);
    let events = server.get("/events").await;
    let about_held: Vec<&Value> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["data"]["monitor_id"] == "held")
        .collect();
    assert!(about_held.is_empty(), "{about_held:#?}");
    store.close().await;
    stop_target.cancel();
    server.finish().await;
}

/// Deleting a monitor that is down resolves its open incident with the reason `monitor
/// deleted` and writes `incident.resolved` (with that reason) to the outbox.
async fn delete_resolves_open_incident(kind: Kind) {
    let target = Target::start().await;
    target.set_up(false);
    let server = Server::start(kind).await;
    let mut body = http_monitor(&target.url("/switch"), "1d");
    body["spec"]["name"] = json!("Checkout");
    assert_eq!(
        server.put_checked("/monitors/gone", &body).await.status,
        201
    );
    assert_eq!(
        server.post("/monitors/gone/run", &json!({})).await.status,
        200
    );
    let open = server
        .wait_for(
            "/incidents?state=open&monitor=gone",
            Duration::from_secs(10),
            |b| b["items"].as_array().is_some_and(|i| i.len() == 1),
        )
        .await;
    let id = open["items"][0]["id"]
        .as_str()
        .expect("incident id")
        .to_owned();

    assert_eq!(server.delete("/monitors/gone").await.status, 204);

    let incident = server.get(&format!("/incidents/{id}")).await;
    assert_eq!(incident.status, 200, "{:#}", incident.body);
    assert_eq!(incident.body["state"], "resolved", "{:#}", incident.body);
    assert!(incident.body["resolved_at"].is_string());
    let timeline = incident.body["timeline"].to_string();
    assert!(timeline.contains("monitor deleted"), "{timeline}");
    let still_open = server.get("/incidents?state=open&monitor=gone").await;
    assert_eq!(still_open.body["items"], json!([]));

    let events = server.get("/events?type=incident.resolved").await;
    let items = events.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{:#}", events.body);
    let data = &items[0]["data"];
    assert_eq!(data["incident_id"], id.as_str());
    assert_eq!(data["monitor_id"], "gone");
    assert_eq!(data["monitor_name"], "Checkout");
    assert_eq!(data["reason"], "monitor deleted");
    assert!(data["resolved_at"].is_string());
    server.finish().await;
}

async fn credentials_are_redacted_and_kept(kind: Kind) {
    let server = Server::start(kind).await;
    let body = json!({"spec": {
        "http": {"url": "http://127.0.0.1:9/", "auth": {"basic": {"username": "u", "password": "s3cret-pw"}}},
        "interval": "1m"
    }});
    let created = server.put("/monitors/private", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(
        created.body["spec"]["http"]["auth"]["basic"]["password"],
        "********"
    );
    let got = server.get("/monitors/private").await;
    assert!(
        !got.body.to_string().contains("s3cret-pw"),
        "{:#}",
        got.body
    );

    // The GET body sent back keeps the stored password: nothing changes.
    let round_trip = server.put("/monitors/private", &got.body).await;
    assert_eq!(round_trip.status, 200, "{:#}", round_trip.body);
    assert_eq!(round_trip.body["version"], created.body["version"]);
    let patched = server
        .patch("/monitors/private", &json!({"spec": {"retries": 1}}))
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert!(!patched.body.to_string().contains("s3cret-pw"));

    // A new password replaces it (a new version); the placeholder alone cannot create one.
    let mut changed = body.clone();
    changed["spec"]["http"]["auth"]["basic"]["password"] = json!("other-pw");
    let replaced = server.put("/monitors/private", &changed).await;
    assert_ne!(replaced.body["version"], patched.body["version"]);
    let mut placeholder = body.clone();
    placeholder["spec"]["http"]["auth"]["basic"]["password"] = json!("********");
    let refused = server.put("/monitors/fresh", &placeholder).await;
    assert_eq!(refused.status, 422, "{:#}", refused.body);
    assert_eq!(
        refused.body["errors"][0]["field"],
        "spec.http.auth.basic.password"
    );
}

async fn crud_and_upsert(kind: Kind) {
    let server = Server::start(kind).await;
    let body = http_monitor("http://127.0.0.1:9/", "1d");

    let created = server.put("/monitors/payments-api", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["id"], "payments-api");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["managed_by"], "api");
    assert_eq!(created.body["spec"]["interval"], "1d");
    assert_eq!(
        created.body["spec"]["failure_threshold"], 1,
        "defaults filled in"
    );
    // A new monitor is checked at once; that check (of a closed port) may end before the
    // answer is made.
    let state = &created.body["status"]["state"];
    assert!(state == "pending" || state == "down", "{state}");
    assert!(created.body["status"]["push_url"].is_null());

    let again = server.put("/monitors/payments-api", &body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["version"], 1, "an identical PUT changes nothing");

    // A GET body sent back as is (read-only fields included) is accepted and changes nothing.
    let got = server.get("/monitors/payments-api").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    let round_trip = server.put("/monitors/payments-api", &got.body).await;
    assert_eq!(round_trip.status, 200, "{:#}", round_trip.body);
    assert_eq!(round_trip.body["version"], 1);

    let patched = server
        .patch(
            "/monitors/payments-api",
            &json!({"labels": {"env": "prod"}, "spec": {"retries": 2}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    assert_eq!(
        patched.body["labels"],
        json!({"team": "payments", "env": "prod"})
    );
    assert_eq!(patched.body["spec"]["retries"], 2);
    let removed = server
        .patch("/monitors/payments-api", &json!({"labels": {"env": null}}))
        .await;
    assert_eq!(removed.body["labels"], json!({"team": "payments"}));
    assert_eq!(removed.body["version"], 3);

    let named = json!({"spec": {"name": "Checkout Service", "http": {"url": "http://127.0.0.1:9/"}, "interval": "1d"}});
    let posted = server.post("/monitors", &named).await;
    assert_eq!(posted.status, 201, "{:#}", posted.body);
    assert_eq!(posted.body["id"], "checkout-service");
    assert_eq!(
        posted.header("location"),
        Some("/api/v1/monitors/checkout-service")
    );
    let second = server.post("/monitors", &named).await;
    assert_eq!(second.status, 201);
    let second_id = second.body["id"].as_str().expect("id").to_owned();
    assert!(second_id.starts_with("checkout-service-"), "{second_id}");
    let anonymous = server
        .post("/monitors", &http_monitor("http://127.0.0.1:9/", "1d"))
        .await;
    assert!(
        anonymous.body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("mon-")),
        "{:#}",
        anonymous.body
    );
    let explicit = server
        .post(
            "/monitors",
            &json!({"id": "payments-api", "spec": {"tcp": {"host": "127.0.0.1", "port": 9}}}),
        )
        .await;
    explicit.problem(409);

    let mismatch = server
        .put(
            "/monitors/other",
            &json!({"id": "payments-api", "spec": {"tcp": {"host": "127.0.0.1", "port": 9}}}),
        )
        .await;
    assert_eq!(mismatch.problem(422)["errors"][0]["field"], "id");

    let list = server.get("/monitors").await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(4));
    assert_eq!(list.body["next_cursor"], Value::Null);

    let deleted = server.delete(&format!("/monitors/{second_id}")).await;
    assert_eq!(deleted.status, 204);
    server
        .get(&format!("/monitors/{second_id}"))
        .await
        .problem(404);
    server
        .delete(&format!("/monitors/{second_id}"))
        .await
        .problem(404);
    server.finish().await;
}

async fn etag_preconditions(kind: Kind) {
    let server = Server::start(kind).await;
    let body = http_monitor("http://127.0.0.1:9/", "1d");
    let created = server.put("/monitors/api", &body).await;
    assert_eq!(created.status, 201);

    // Two writers read version 1; the first write wins, the stale one gets 412.
    let a = server.get("/monitors/api").await;
    let b = server.get("/monitors/api").await;
    let etag_a = a.header("etag").expect("etag").to_owned();
    let etag_b = b.header("etag").expect("etag").to_owned();
    let mut first = a.body.clone();
    first["spec"]["retries"] = json!(1);
    let won = server
        .with("if-match", &etag_a)
        .put("/monitors/api", &first)
        .await;
    assert_eq!(won.status, 200, "{:#}", won.body);
    assert_eq!(won.header("etag"), Some("\"2\""));
    let lost = server
        .with("if-match", &etag_b)
        .patch("/monitors/api", &json!({"spec": {"retries": 3}}))
        .await;
    assert!(
        lost.problem(412)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("version 2")),
        "{:#}",
        lost.body
    );
    assert_eq!(server.get("/monitors/api").await.body["spec"]["retries"], 1);

    let create_only = |id: &str| {
        server
            .client
            .put(server.url(&format!("/monitors/{id}")))
            .header("if-none-match", "*")
            .json(&body)
    };
    server.send(create_only("api")).await.problem(412);
    assert_eq!(server.send(create_only("fresh")).await.status, 201);

    let must_exist = server
        .with("if-match", "*")
        .put("/monitors/missing", &body)
        .await;
    must_exist.problem(412);
    let stale_delete = server
        .with("if-match", "\"1\"")
        .delete("/monitors/api")
        .await;
    stale_delete.problem(412);

    let unchanged = server
        .with("if-none-match", "\"2\"")
        .get("/monitors/api")
        .await;
    assert_eq!(unchanged.status, 304);
    // An entity tag that is not a version, or none at all, matches no version (RFC 9110).
    for tag in ["version-two", ""] {
        let odd = server
            .with("if-match", tag)
            .put("/monitors/api", &body)
            .await;
        odd.problem(412);
    }
    server.finish().await;
}

async fn selectors_and_stable_pagination(kind: Kind) {
    let server = Server::start(kind).await;
    let mut expected = BTreeSet::new();
    for i in 0..30 {
        let id = format!("m{:03}", i * 2);
        let mut body = http_monitor("http://127.0.0.1:9/", "1d");
        body["labels"] =
            json!({"team": if i % 3 == 0 { "a" } else { "b" }, "tier": format!("t{}", i % 2)});
        assert_eq!(
            server.put(&format!("/monitors/{id}"), &body).await.status,
            201
        );
        expected.insert(id);
    }

    let team_a = server.get("/monitors?selector=team%3Da&limit=1000").await;
    let ids: Vec<&str> = team_a.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    let set = server
        .get("/monitors?selector=team%20in%20(a,b),tier!%3Dt0,!legacy&limit=1000")
        .await;
    assert_eq!(set.body["items"].as_array().map(Vec::len), Some(15));

    // Page through while monitors are added on both sides of the cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for added in 0..50 {
        let path = match &cursor {
            Some(c) => format!("/monitors?limit=7&cursor={c}"),
            None => "/monitors?limit=7".to_owned(),
        };
        let page = server.get(&path).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 7);
        seen.extend(
            items
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned)),
        );
        let body = http_monitor("http://127.0.0.1:9/", "1d");
        for id in [
            format!("m{:03}a", added * 4),
            format!("m{:03}b", 59 - added),
        ] {
            assert_eq!(
                server.put(&format!("/monitors/{id}"), &body).await.status,
                201
            );
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ascending: {seen:?}");
    for id in &expected {
        assert!(seen.contains(id), "{id} was skipped: {seen:?}");
    }
    server
        .get("/monitors?selector=team%20in%20(")
        .await
        .problem(400);
    server.get("/monitors?cursor=zz").await.problem(400);
    server.get("/monitors?limit=0").await.problem(400);
    server.finish().await;
}

async fn validation_names_fields(kind: Kind) {
    let server = Server::start(kind).await;
    let several = server
        .put(
            "/monitors/bad",
            &json!({"spec": {"http": {"url": "ftp://x"}, "interval": "0s", "retries": 99, "assertions": ["status =="]}}),
        )
        .await;
    several.problem(422);
    assert_eq!(
        several.error_fields(),
        [
            "spec.assertions[0]",
            "spec.http.url",
            "spec.interval",
            "spec.retries",
            "spec.timeout"
        ]
    );

    // A type error does not hide the others: all three fields in one answer.
    let three = server
        .put(
            "/monitors/bad",
            &json!({"spec": {"http": {"url": "ftp://x"}, "interval": "-5s", "assertions": ["status =="]}}),
        )
        .await;
    three.problem(422);
    assert_eq!(
        three.error_fields(),
        ["spec.assertions[0]", "spec.http.url", "spec.interval"]
    );
    assert_eq!(three.body["detail"], "3 fields are invalid");

    // A password in the URL is refused, and the error does not repeat it.
    let credentials = server
        .put(
            "/monitors/bad",
            &json!({"spec": {"http": {"url": "http://alice:URLPASSWORD2@[zz/"}}}),
        )
        .await;
    credentials.problem(422);
    assert_eq!(credentials.error_fields(), ["spec.http.url"]);
    assert!(!credentials.body.to_string().contains("URLPASSWORD2"));

    let typed = server
        .put("/monitors/bad", &json!({"spec": {"http": {"url": 5}}}))
        .await;
    typed.problem(422);
    assert_eq!(typed.error_fields(), ["spec.http.url"]);

    let unknown = server
        .put(
            "/monitors/bad",
            &json!({"spec": {"http": {"url": "http://x", "methd": "GET"}}, "colour": "red", "labels": {"bad key!": "x"}}),
        )
        .await;
    unknown.problem(422);
    assert_eq!(
        unknown.error_fields(),
        ["colour", "labels.bad key!", "spec.http.methd"]
    );
    let missing = server.put("/monitors/bad", &json!({"labels": {}})).await;
    assert_eq!(missing.error_fields(), ["spec"]);
    let none = server.put("/monitors/bad", &json!({"spec": {}})).await;
    assert_eq!(none.error_fields(), ["spec"]);

    let secret = server
        .put(
            "/monitors/bad",
            &json!({"spec": {"http": {"url": "http://x", "auth": {"bearer": {"token": 918273645}}}}}),
        )
        .await;
    secret.problem(422);
    assert!(
        !secret.body.to_string().contains("918273645"),
        "{:#}",
        secret.body
    );
    server
        .put("/monitors/Not_A_Slug", &http_monitor("http://x/", "1m"))
        .await
        .problem(422);

    // PATCH results are validated like PUT bodies.
    assert_eq!(
        server
            .put("/monitors/good", &http_monitor("http://x/", "1d"))
            .await
            .status,
        201
    );
    let patched = server
        .patch(
            "/monitors/good",
            &json!({"spec": {"http": {"url": "nope"}, "timeout": "2d"}}),
        )
        .await;
    patched.problem(422);
    assert_eq!(patched.error_fields(), ["spec.http.url", "spec.timeout"]);
    server.finish().await;
}

async fn file_managed_monitors_refuse_writes(kind: Kind) {
    let yaml = "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: from-file}\nspec:\n  http: {url: 'http://127.0.0.1:9/'}\n  interval: 1d\n";
    let server = Server::start_with(kind, Some(yaml)).await;
    let got = server.get("/monitors/from-file").await;
    assert_eq!(got.status, 200, "{:#}", got.body);
    assert_eq!(got.body["managed_by"], "file");
    assert_eq!(got.body["labels"]["managed-by"], "file");
    let refusals = [
        server.put("/monitors/from-file", &got.body).await,
        server
            .patch("/monitors/from-file", &json!({"labels": {"x": "y"}}))
            .await,
        server.delete("/monitors/from-file").await,
        server
            .post(
                "/monitors",
                &json!({"id": "from-file", "spec": {"tcp": {"host": "h", "port": 1}}}),
            )
            .await,
    ];
    for refusal in &refusals[..3] {
        let detail = refusal.problem(409)["detail"].as_str().expect("detail");
        assert!(detail.contains("config files"), "{detail}");
    }
    refusals[3].problem(409);
    assert_eq!(server.get("/monitors/from-file").await.body["version"], 1);
    server.finish().await;
}

async fn heartbeat_shows_push_url(kind: Kind) {
    let server = Server::start(kind).await;
    let created = server
        .put(
            "/monitors/nightly",
            &json!({"spec": {"heartbeat": {"grace": "1m"}, "interval": "1d"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let url = created.body["status"]["push_url"]
        .as_str()
        .expect("push url");
    assert!(url.starts_with("/push/") && url.len() > 20, "{url}");
    let pinged = reqwest::get(format!("http://{}{url}", server.addr))
        .await
        .expect("ping");
    assert_eq!(pinged.status(), 200);
    let token = &url["/push/".len()..];
    let clash = server
        .put(
            "/monitors/copycat",
            &json!({"spec": {"heartbeat": {"token": token}, "interval": "1d"}}),
        )
        .await;
    clash.problem(409);
    assert_eq!(clash.error_fields(), ["spec.heartbeat.token"]);
    assert!(!clash.body.to_string().contains(token));
    server.finish().await;
}

/// The number of events the outbox holds.
async fn event_count(server: &Server) -> usize {
    let events = server.get("/events?limit=1000").await;
    assert_eq!(events.status, 200, "{:#}", events.body);
    events.body["items"].as_array().expect("items").len()
}

async fn runtime_pause_is_beside_the_spec(kind: Kind) {
    let yaml = "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: from-file}\nspec:\n  http: {url: 'http://127.0.0.1:9/'}\n  interval: 1d\n";
    let server = Server::start_with(kind, Some(yaml)).await;
    let body = http_monitor("http://127.0.0.1:9/", "1d");
    assert_eq!(server.put_checked("/monitors/web", &body).await.status, 201);
    // Its first check fails (nothing listens on port 9); the events are written behind the
    // result, so wait for its incident before counting what comes after.
    server
        .wait_for("/events?limit=1000", Duration::from_secs(10), |b| {
            b["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|e| e["type"] == "incident.opened"))
        })
        .await;

    // Pausing is an operation: no new version, spec untouched, who/when/why in the status.
    let paused = server
        .post("/monitors/web/pause?reason=deploy%20window", &json!({}))
        .await;
    assert_eq!(paused.status, 200, "{:#}", paused.body);
    assert_eq!(paused.body["version"], 1);
    assert_eq!(paused.body["spec"]["paused"], false);
    assert_eq!(paused.body["status"]["state"], "paused");
    assert_eq!(paused.body["status"]["paused"]["by"], "bootstrap");
    assert_eq!(paused.body["status"]["paused"]["reason"], "deploy window");
    assert!(paused.body["status"]["paused"]["at"].is_string());

    // Applying the unchanged monitor, or a changed one, keeps it paused.
    let applied = server.put("/monitors/web", &body).await;
    assert_eq!(applied.status, 200, "{:#}", applied.body);
    assert_eq!(applied.body["version"], 1);
    assert_eq!(applied.body["status"]["state"], "paused");
    let changed = server
        .put("/monitors/web", &http_monitor("http://127.0.0.1:9/", "12h"))
        .await;
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.body["status"]["state"], "paused");
    assert_eq!(changed.body["status"]["paused"]["reason"], "deploy window");

    // A paused monitor records nothing and notifies nobody, even when run by hand.
    let events = event_count(&server).await;
    let ran = server.post("/monitors/web/run", &json!({})).await;
    assert_eq!(ran.status, 200, "{:#}", ran.body);
    assert_eq!(ran.body["outcome"], "down");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(event_count(&server).await, events);
    assert_eq!(
        server.get("/monitors/web").await.body["status"]["state"],
        "paused"
    );

    // File-managed monitors can be paused (an operation, not a write of the declared monitor).
    let file_paused = server
        .post("/monitors/from-file/pause", &json!({"reason": "noisy"}))
        .await;
    assert_eq!(file_paused.status, 200, "{:#}", file_paused.body);
    assert_eq!(file_paused.body["status"]["state"], "paused");
    assert_eq!(file_paused.body["status"]["paused"]["reason"], "noisy");
    assert_eq!(file_paused.body["version"], 1);

    // Both pauses survive a restart that reloads the config file.
    let server = server.restart().await;
    for id in ["web", "from-file"] {
        let got = server.get(&format!("/monitors/{id}")).await;
        assert_eq!(
            got.body["status"]["state"], "paused",
            "{id}: {:#}",
            got.body
        );
        assert_eq!(got.body["status"]["paused"]["by"], "bootstrap");
    }
    assert_eq!(server.get("/status").await.body["monitors"]["paused"], 2);

    // Resume ends the runtime pause; the spec's pause still holds on its own.
    let resumed = server.post("/monitors/from-file/resume", &json!({})).await;
    assert_eq!(resumed.status, 200, "{:#}", resumed.body);
    assert_ne!(resumed.body["status"]["state"], "paused");
    assert!(resumed.body["status"].get("paused").is_none());
    let mut declared = http_monitor("http://127.0.0.1:9/", "12h");
    declared["spec"]["paused"] = json!(true);
    assert_eq!(server.put("/monitors/web", &declared).await.status, 200);
    let still = server.post("/monitors/web/resume", &json!({})).await;
    assert_eq!(still.status, 200, "{:#}", still.body);
    assert_eq!(still.body["status"]["state"], "paused");
    assert!(still.body["status"].get("paused").is_none());
    declared["spec"]["paused"] = json!(false);
    let running = server.put("/monitors/web", &declared).await;
    assert_ne!(running.body["status"]["state"], "paused");
    server
        .post("/monitors/nope/pause", &json!({}))
        .await
        .problem(404);
    server.finish().await;
}

async fn pause_reasons_are_validated(kind: Kind) {
    let server = Server::start(kind).await;
    let body = http_monitor("http://127.0.0.1:9/", "1d");
    assert_eq!(server.put("/monitors/web", &body).await.status, 201);
    let long = "x".repeat(501);
    for (bad, field) in [
        (json!({"reason": 5}), "reason"),
        (json!({"reason": long}), "reason"),
        (json!({"reason": "two\nlines"}), "reason"),
        (json!({"why": "x"}), "why"),
    ] {
        let refused = server.post("/monitors/web/pause", &bad).await;
        refused.problem(422);
        assert_eq!(refused.error_fields(), [field], "{bad}");
    }
    // Refused pauses leave it running (it was checked at once when created, so not `pending`).
    assert_ne!(
        server.get("/monitors/web").await.body["status"]["state"],
        "paused"
    );
    // Without a body at all; `?reason=` wins over the body.
    let bare = server
        .send(server.client.post(server.url("/monitors/web/pause")))
        .await;
    assert_eq!(bare.status, 200, "{:#}", bare.body);
    assert_eq!(bare.body["status"]["paused"]["reason"], Value::Null);
    let both = server
        .post(
            "/monitors/web/pause?reason=query",
            &json!({"reason": "body"}),
        )
        .await;
    assert_eq!(both.body["status"]["paused"]["reason"], "query");
    // A deleted monitor's pause goes with it: one created again under its id runs.
    assert_eq!(server.delete("/monitors/web").await.status, 204);
    let again = server.put("/monitors/web", &body).await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    assert_ne!(again.body["status"]["state"], "paused");
    assert!(again.body["status"].get("paused").is_none());
    server.finish().await;
}
