//! Maintenance windows: CRUD with the monitors' conventions.

use serde_json::{Value, json};

use crate::common::{Kind, Server};

api_tests!(maintenance_crud, occurrences_of_recurring_windows);

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
    // PATCH takes plain `application/json` as well as a merge patch's own type.
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
        .with("if-match", "\"1\"")
        .patch(
            "/maintenance/sunday-patching",
            &json!({"spec": {"duration": "4h"}}),
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

/// `GET /maintenance/occurrences` expands cron and rrule windows in the range (with the one
/// in force at its start), merges them with one-off windows in start order and bounds the
/// count.
async fn occurrences_of_recurring_windows(kind: Kind) {
    let server = Server::start(kind).await;
    let windows = [
        (
            "nightly",
            json!({"cron": "0 2 * * *", "duration": "1h", "monitors": ["api"]}),
        ),
        (
            "sundays",
            json!({"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=3", "start": "2024-01-07T00:00:00Z", "duration": "2h", "selector": "team=payments"}),
        ),
        (
            "upgrade",
            json!({"name": "DB upgrade", "start": "2024-05-06T10:00:00Z", "end": "2024-05-06T12:00:00Z", "monitors": ["db"]}),
        ),
    ];
    for (id, spec) in windows {
        let put = server
            .put(&format!("/maintenance/{id}"), &json!({"spec": spec}))
            .await;
        assert_eq!(put.status, 201, "{:#}", put.body);
    }
    // 2024-05-05 is a Sunday; the range opens inside the nightly 02:00–03:00.
    let got = server
        .get("/maintenance/occurrences?from=2024-05-05T02:30:00Z&to=2024-05-07T00:00:00Z")
        .await;
    assert_eq!(got.status, 200, "{:#}", got.body);
    let items: Vec<(String, String, String)> = got.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            let text = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
            (text("window_id"), text("start"), text("end"))
        })
        .collect();
    let expected = [
        ("nightly", "2024-05-05T02:00:00Z", "2024-05-05T03:00:00Z"),
        ("sundays", "2024-05-05T03:00:00Z", "2024-05-05T05:00:00Z"),
        ("nightly", "2024-05-06T02:00:00Z", "2024-05-06T03:00:00Z"),
        ("upgrade", "2024-05-06T10:00:00Z", "2024-05-06T12:00:00Z"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(items, expected, "{:#}", got.body);
    assert_eq!(got.body["truncated"], false);
    assert_eq!(got.body["items"][0]["monitors"], json!(["api"]));
    assert_eq!(got.body["items"][1]["selector"], "team=payments");
    assert_eq!(got.body["items"][3]["name"], "DB upgrade");

    let capped = server
        .get("/maintenance/occurrences?from=2024-05-01T00:00:00Z&to=2024-06-01T00:00:00Z&limit=3")
        .await;
    assert_eq!(capped.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(capped.body["truncated"], true);

    let reversed = server
        .get("/maintenance/occurrences?from=2024-05-07T00:00:00Z&to=2024-05-01T00:00:00Z")
        .await;
    assert_eq!(reversed.problem(400)["errors"][0]["field"], "from");
    let too_many = server.get("/maintenance/occurrences?limit=10001").await;
    assert_eq!(too_many.problem(400)["errors"][0]["field"], "limit");
    // The path is the occurrences' own: no window can take it as its id.
    let reserved = server
        .post(
            "/maintenance",
            &json!({"id": "occurrences", "spec": {"start": "2024-05-06T10:00:00Z", "end": "2024-05-06T12:00:00Z", "monitors": ["db"]}}),
        )
        .await;
    assert_eq!(reserved.problem(422)["errors"][0]["field"], "id");
    server.finish().await;
}
