//! The `managed-by` label: a resource another manager owns is written or deleted only
//! by a request acting as that manager (`Vedette-Manager`, or keeping the label in a replace);
//! `?force=true` takes it over. A runtime pause stays open to any writer, as for file monitors.

use serde_json::json;

use crate::common::{Kind, Server};

api_tests!(managed_resources_refuse_other_writers);

async fn managed_resources_refuse_other_writers(kind: Kind) {
    let server = Server::start(kind).await;
    let owned = json!({
        "labels": {"managed-by": "operator", "team": "a"},
        "spec": {"name": "Patching", "cron": "0 2 * * 0", "duration": "2h", "selector": "team=a"},
    });
    let created = server.put("/maintenance/patching", &owned).await;
    assert_eq!(created.status, 201, "{:#}", created.body);

    let other = json!({
        "labels": {"team": "a"},
        "spec": {"name": "Patching", "cron": "0 3 * * 0", "duration": "2h", "selector": "team=a"},
    });
    let refused = server.put("/maintenance/patching", &other).await;
    let problem = refused.problem(409);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("\"operator\""), "{detail}");
    assert!(
        detail.contains("Vedette-Manager") && detail.contains("force=true"),
        "{detail}"
    );
    server
        .patch(
            "/maintenance/patching",
            &json!({"spec": {"duration": "3h"}}),
        )
        .await
        .problem(409);
    server.delete("/maintenance/patching").await.problem(409);
    let as_cli = server
        .with("vedette-manager", "vedette-cli")
        .delete("/maintenance/patching")
        .await;
    as_cli.problem(409);

    let kept = server.put("/maintenance/patching", &owned).await;
    assert_eq!(kept.status, 200, "{:#}", kept.body);
    let as_operator = server
        .with("vedette-manager", "operator")
        .patch(
            "/maintenance/patching",
            &json!({"spec": {"duration": "3h"}}),
        )
        .await;
    assert_eq!(as_operator.status, 200, "{:#}", as_operator.body);
    assert_eq!(as_operator.body["spec"]["duration"], "3h");

    let taken = server.put("/maintenance/patching?force=true", &other).await;
    assert_eq!(taken.status, 200, "{:#}", taken.body);
    assert!(taken.body["labels"].get("managed-by").is_none());
    let free = server.delete("/maintenance/patching").await;
    assert_eq!(free.status, 204);

    let monitor = json!({
        "labels": {"managed-by": "terraform"},
        "spec": {"http": {"url": "http://127.0.0.1:9/"}, "interval": "1m", "timeout": "1s"},
    });
    assert_eq!(server.put("/monitors/tf", &monitor).await.status, 201);
    let paused = server.post("/monitors/tf/pause", &json!({})).await;
    assert_eq!(
        paused.status, 200,
        "a runtime pause is operations, not the spec"
    );
    let deleted = server
        .with("vedette-manager", "terraform")
        .delete("/monitors/tf")
        .await;
    assert_eq!(deleted.status, 204);
    server.finish().await;
}
