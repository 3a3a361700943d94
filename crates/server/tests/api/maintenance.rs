//! Maintenance windows: CRUD with the monitors' conventions.

use serde_json::{Value, json};

use crate::common::{Kind, Server};

api_tests!(maintenance_crud);

async fn maintenance_crud(kind: Kind) {
    let server = Server::start(kind).await;
    let body = json!({
        "labels": {"team": "payments"},
        "spec": {"name": "Sunday patching", "cron": "0 2 * * 0", "duration": "2h", "selector": "team=payments"},
    });
    let created = server.post("/maintenance", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["id"], "sunday-patching");
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["managed_by"], "api");
    assert!(created.body["active"].is_boolean());

    let again = server.put("/maintenance/sunday-patching", &body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["version"], 1);
    let patched = server
        .send(
            server
                .client
                .patch(server.url("/maintenance/sunday-patching"))
                .header("if-match", "\"1\"")
                .json(&json!({"spec": {"duration": "3h"}})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.body["spec"]["duration"], "3h");
    let stale = server
        .send(
            server
                .client
                .patch(server.url("/maintenance/sunday-patching"))
                .header("if-match", "\"1\"")
                .json(&json!({"spec": {"duration": "4h"}})),
        )
        .await;
    stale.problem(412);

    let invalid = server
        .put(
            "/maintenance/broken",
            &json!({"spec": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z", "monitors": ["Bad Id"], "colour": 1}}),
        )
        .await;
    invalid.problem(422);
    assert_eq!(
        invalid.error_fields(),
        ["spec.colour", "spec.end", "spec.monitors[0]"]
    );
    let invalid = server
        .put(
            "/maintenance/broken",
            &json!({"spec": {"cron": "0 2 * * 0"}}),
        )
        .await;
    let fields = invalid.error_fields();
    assert!(fields.contains(&"spec.duration".to_owned()), "{fields:?}");
    assert!(fields.contains(&"spec.monitors".to_owned()), "{fields:?}");

    let other = server
        .put(
            "/maintenance/other",
            &json!({"labels": {"team": "search"}, "spec": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "monitors": ["x"]}}),
        )
        .await;
    assert_eq!(other.status, 201, "{:#}", other.body);
    assert_eq!(other.body["active"], false);
    let list = server.get("/maintenance?selector=team%3Dpayments").await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids, ["sunday-patching"]);
    let page = server.get("/maintenance?limit=1").await;
    let cursor = page.body["next_cursor"].as_str().expect("cursor");
    let rest = server
        .get(&format!("/maintenance?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"][0]["id"], "sunday-patching");
    assert_eq!(rest.body["next_cursor"], Value::Null);

    assert_eq!(server.delete("/maintenance/other").await.status, 204);
    server.get("/maintenance/other").await.problem(404);
    server.finish().await;
}
