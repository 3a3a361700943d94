//! Deployments: the shared resource conventions, `finish`, list filters, their events in the
//! outbox, on the SSE stream and at a webhook receiver; a deployment's mute, and incidents
//! that name the deployment they followed.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Kind, Server, Target, http_monitor};
use crate::events::read_events;
use crate::webhooks::{Receiver, create_endpoint, server as webhook_server, verify};

api_tests!(
    deployments_crud_filters_and_validation,
    deployment_events_reach_outbox_stream_and_webhooks,
    a_deployment_mute_keeps_results_and_suppresses_notifications,
    an_incident_names_the_deployment_it_followed,
);

fn payments(version: &str, environment: &str) -> Value {
    json!({
        "labels": {"team": "payments"},
        "spec": {"service": "payments", "version": version, "environment": environment,
                 "commit": "0123abc", "source": "github", "url": "https://ci.example.com/run/1"},
    })
}

fn ids(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect()
}

async fn deployments_crud_filters_and_validation(kind: Kind) {
    let server = Server::start(kind).await;
    let created = server
        .post("/deployments", &payments("v1.4.2", "prod"))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["id"], "payments-v1-4-2-prod");
    assert_eq!(
        created.header("location"),
        Some("/api/v1/deployments/payments-v1-4-2-prod")
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["managed_by"], "api");
    assert_eq!(created.body["spec"]["status"], "started");
    assert_eq!(created.body["spec"]["source"], "github");
    assert!(created.body["spec"]["started_at"].is_string());
    assert!(created.body["spec"].get("finished_at").is_none());

    // The same deployment again gets an id of its own.
    let again = server
        .post("/deployments", &payments("v1.4.2", "prod"))
        .await;
    assert_eq!(again.status, 201);
    let second = again.body["id"].as_str().expect("id");
    assert!(second.starts_with("payments-v1-4-2-prod-"), "{second}");
    assert_eq!(
        server
            .delete(&format!("/deployments/{second}"))
            .await
            .status,
        204
    );

    // Sending the view back changes nothing (started_at is kept).
    let same = server
        .put("/deployments/payments-v1-4-2-prod", &created.body)
        .await;
    assert_eq!(same.status, 200, "{:#}", same.body);
    assert_eq!(same.body["version"], 1);

    let finished = server
        .post(
            "/deployments/payments-v1-4-2-prod/finish",
            &json!({"status": "succeeded"}),
        )
        .await;
    assert_eq!(finished.status, 200, "{:#}", finished.body);
    assert_eq!(finished.body["spec"]["status"], "succeeded");
    assert!(finished.body["spec"]["finished_at"].is_string());
    assert_eq!(finished.header("etag"), Some("\"2\""));
    let restarted = server
        .patch(
            "/deployments/payments-v1-4-2-prod",
            &json!({"spec": {"status": "started", "finished_at": null}}),
        )
        .await;
    restarted.problem(422);
    assert_eq!(restarted.error_fields(), ["spec.status"]);
    let stale = server
        .with("if-match", "\"1\"")
        .post(
            "/deployments/payments-v1-4-2-prod/finish",
            &json!({"status": "failed"}),
        )
        .await;
    stale.problem(412);
    let bad = server
        .post(
            "/deployments/payments-v1-4-2-prod/finish",
            &json!({"status": "done"}),
        )
        .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["status"]);
    server
        .post("/deployments/nope/finish", &json!({"status": "failed"}))
        .await
        .problem(404);

    // Filters beside the selector.
    let web = json!({"labels": {"team": "web"},
                     "spec": {"service": "web", "version": "2", "environment": "prod"}});
    assert_eq!(server.post("/deployments", &web).await.status, 201);
    assert_eq!(
        server
            .post("/deployments", &payments("v1.5.0", "staging"))
            .await
            .status,
        201
    );
    let all = server.get("/deployments").await;
    assert_eq!(
        ids(&all.body),
        [
            "payments-v1-4-2-prod",
            "payments-v1-5-0-staging",
            "web-2-prod"
        ]
    );
    let prod = server.get("/deployments?environment=prod").await;
    assert_eq!(ids(&prod.body), ["payments-v1-4-2-prod", "web-2-prod"]);
    let both = server
        .get("/deployments?service=payments&environment=prod")
        .await;
    assert_eq!(ids(&both.body), ["payments-v1-4-2-prod"]);
    let labelled = server.get("/deployments?selector=team%3Dweb").await;
    assert_eq!(ids(&labelled.body), ["web-2-prod"]);

    // Every problem at its field.
    let invalid = server
        .post(
            "/deployments",
            &json!({"spec": {"service": "", "version": "v", "environment": "prod",
                             "url": "ftp://x", "source": "bamboo", "mute": "2d",
                             "selector": "a in (", "colour": 1}}),
        )
        .await;
    invalid.problem(422);
    let fields = invalid.error_fields();
    for field in ["spec.colour", "spec.service", "spec.source", "spec.url"] {
        assert!(fields.contains(&field.to_owned()), "{field}: {fields:?}");
    }
    let invalid = server
        .post(
            "/deployments",
            &json!({"spec": {"service": "s", "version": "v", "environment": "prod",
                             "mute": "2d", "selector": "a in ("}}),
        )
        .await;
    assert_eq!(invalid.error_fields(), ["spec.mute", "spec.selector"]);
    let missing = server
        .post("/deployments", &json!({"spec": {"service": "s"}}))
        .await;
    let fields = missing.error_fields();
    assert!(fields.contains(&"spec.version".to_owned()), "{fields:?}");
    server.finish().await;
}

async fn deployment_events_reach_outbox_stream_and_webhooks(kind: Kind) {
    let server = webhook_server(kind, None).await;
    let rx = Receiver::start().await;
    let secret = create_endpoint(
        &server,
        &json!({"id": "pipelines", "spec": {"url": rx.url("/"), "event_types": ["deployment.*"]}}),
    )
    .await;
    let mut stream = server
        .client
        .get(server.url("/events/stream?type=deployment.started,deployment.finished"))
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    let created = server.post("/deployments", &payments("v2", "prod")).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let finished = server
        .post(
            "/deployments/payments-v2-prod/finish",
            &json!({"status": "rolled_back"}),
        )
        .await;
    assert_eq!(finished.status, 200, "{:#}", finished.body);
    // Finishing again with the same status writes nothing and raises no event.
    let again = server
        .post(
            "/deployments/payments-v2-prod/finish",
            &json!({"status": "rolled_back"}),
        )
        .await;
    assert_eq!(again.body["version"], 2);

    let streamed = read_events(&mut stream, 2).await;
    assert_eq!(streamed[0].1, "deployment.started");
    assert_eq!(streamed[1].1, "deployment.finished");
    assert_eq!(streamed[1].2["data"]["status"], "rolled_back");

    let outbox = server
        .get("/events?type=deployment.started,deployment.finished")
        .await;
    let items = outbox.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{:#}", outbox.body);
    let started = &items[0]["data"];
    assert_eq!(started["deployment_id"], "payments-v2-prod");
    assert_eq!(started["service"], "payments");
    assert_eq!(started["commit"], "0123abc");
    assert_eq!(started["status"], "started");
    assert!(started.get("finished_at").is_none());
    assert_eq!(
        items[1]["data"]["finished_at"],
        finished.body["spec"]["finished_at"]
    );

    let delivered = rx.wait_for_type("deployment.finished").await;
    verify(&secret, &delivered);
    assert_eq!(delivered.json()["data"]["status"], "rolled_back");
    let delivered = rx.wait_for_type("deployment.started").await;
    assert_eq!(delivered.json()["data"]["version"], "v2");
    drop(stream);
    server.finish().await;
}

/// A monitor of the payments team on `target`'s switch, run only on demand.
async fn payments_monitor(server: &Server, target: &Target) {
    let mut monitor = http_monitor(&target.url("/switch"), "1d");
    monitor["labels"]["service"] = json!("payments");
    server.put_checked("/monitors/payments-api", &monitor).await;
}

async fn run(server: &Server) -> Value {
    let ran = server.post("/monitors/payments-api/run", &json!({})).await;
    assert_eq!(ran.status, 200, "{:#}", ran.body);
    ran.body
}

async fn a_deployment_mute_keeps_results_and_suppresses_notifications(kind: Kind) {
    let server = Server::start(kind).await;
    let target = Target::start().await;
    payments_monitor(&server, &target).await;
    run(&server).await;
    let mut body = payments("v3", "prod");
    body["spec"]["selector"] = json!("service=payments");
    body["spec"]["mute"] = json!("10m");
    let created = server.post("/deployments", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    target.set_up(false);
    let result = run(&server).await;
    assert_eq!(result["outcome"], "down");
    assert_eq!(result["in_maintenance"], true);
    let monitor = server.get("/monitors/payments-api").await;
    assert_eq!(
        monitor.body["status"]["state"], "maintenance",
        "{:#}",
        monitor.body
    );
    let results = server.get("/monitors/payments-api/results").await;
    let kept = results.body["items"].as_array().expect("results");
    assert_eq!(kept[0]["outcome"], "down", "newest first: {kept:#?}");
    assert_eq!(kept[0]["in_maintenance"], true);
    let events = server
        .get("/events?type=monitor.down,incident.opened")
        .await;
    assert_eq!(events.body["items"].as_array().map(Vec::len), Some(0));
    let incidents = server.get("/incidents").await;
    assert_eq!(incidents.body["items"].as_array().map(Vec::len), Some(0));

    // A monitor the deployment does not select is not muted.
    let mut other = http_monitor(&target.url("/switch"), "1d");
    other["labels"]["service"] = json!("web");
    server.put_checked("/monitors/web", &other).await;
    let ran = server.post("/monitors/web/run", &json!({})).await;
    assert_ne!(ran.body["in_maintenance"], true, "{:#}", ran.body);

    // Without the deployment the monitor goes down as usual.
    assert_eq!(
        server.delete("/deployments/payments-v3-prod").await.status,
        204
    );
    run(&server).await;
    let monitor = server.get("/monitors/payments-api").await;
    assert_eq!(monitor.body["status"]["state"], "down");
    server.finish().await;
}

async fn an_incident_names_the_deployment_it_followed(kind: Kind) {
    let server = webhook_server(kind, None).await;
    let target = Target::start().await;
    // A rollback trigger from the catalog, its GitHub API on a local receiver.
    let github = Receiver::start().await;
    let dispatch = json!({"id": "rollback", "spec": {"event_types": ["monitor.down"],
        "integration": {"name": "github_repository_dispatch",
                        "params": {"owner": "acme", "repo": "payments", "token": "ghp_rollback",
                                   "api_url": github.url("")}}}});
    create_endpoint(&server, &dispatch).await;
    payments_monitor(&server, &target).await;
    run(&server).await;
    let mut body = payments("v1.4.2", "prod");
    body["spec"]["selector"] = json!("service=payments");
    body["spec"]["started_at"] = json!(
        (chrono::Utc::now() - chrono::Duration::minutes(2))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let created = server.post("/deployments", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    target.set_up(false);
    run(&server).await;

    let events = server
        .wait_for(
            "/events?type=monitor.down,incident.opened",
            Duration::from_secs(10),
            |b| b["items"].as_array().is_some_and(|i| i.len() == 2),
        )
        .await;
    for event in events["items"].as_array().expect("items") {
        let deployment = &event["data"]["deployment"];
        assert_eq!(deployment["id"], "payments-v1-4-2-prod", "{event:#}");
        assert_eq!(deployment["service"], "payments");
        assert_eq!(deployment["version"], "v1.4.2");
        assert_eq!(deployment["environment"], "prod");
        assert_eq!(deployment["commit"], "0123abc");
    }
    let incidents = server.get("/incidents").await;
    let id = incidents.body["items"][0]["id"]
        .as_str()
        .expect("incident")
        .to_owned();
    let incident = server.get(&format!("/incidents/{id}")).await;
    assert_eq!(
        incident.body["deployment"]["id"], "payments-v1-4-2-prod",
        "{:#}",
        incident.body
    );
    let timeline: Vec<&str> = incident.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        timeline
            .iter()
            .any(|m| m.ends_with("(down 2 min after payments v1.4.2 to prod)")),
        "{timeline:?}"
    );

    let rollback = github
        .wait_for(Duration::from_secs(15), |r| {
            r.json()["event_type"] == "vedette-rollback"
        })
        .await;
    assert_eq!(rollback.path, "/repos/acme/payments/dispatches");
    assert_eq!(rollback.header("authorization"), "Bearer ghp_rollback");
    let payload = &rollback.json()["client_payload"];
    assert_eq!(payload["deployment_id"], "payments-v1-4-2-prod");
    assert_eq!(payload["monitor_id"], "payments-api");

    // Recovering and going down again long after the window names no deployment.
    target.set_up(true);
    run(&server).await;
    let mut old = payments("v1.4.1", "prod");
    old["spec"]["selector"] = json!("service=payments");
    old["spec"]["started_at"] = json!("2020-01-01T00:00:00Z");
    server.delete("/deployments/payments-v1-4-2-prod").await;
    assert_eq!(server.post("/deployments", &old).await.status, 201);
    target.set_up(false);
    run(&server).await;
    let downs = server.get("/events?type=monitor.down").await;
    let items = downs.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(
        items[1]["data"].get("deployment").is_none(),
        "{:#}",
        items[1]
    );
    // ... and triggers no rollback: the integration requires a deployment.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(github.seen().len(), 1);
    server.finish().await;
}
