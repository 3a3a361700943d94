//! Every error is problem+json: oversized, non-JSON and malformed bodies, unknown routes.

use serde_json::json;

use crate::common::{Kind, Server};

api_tests!(error_bodies_are_problems, field_errors_read_in_user_terms);

async fn error_bodies_are_problems(kind: Kind) {
    let server = Server::start(kind).await;
    let url = server.url("/monitors/big");

    let huge = format!(
        r#"{{"spec": {{"http": {{"url": "http://x/", "body": "{}"}}}}}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let too_large = server
        .send(
            server
                .client
                .put(&url)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    too_large.problem(413);

    let not_json = server
        .send(
            server
                .client
                .put(&url)
                .header("content-type", "text/plain")
                .body("spec: {}"),
        )
        .await;
    not_json.problem(415);
    let no_type = server.send(server.client.put(&url).body("{}")).await;
    no_type.problem(415);

    let malformed = server
        .send(
            server
                .client
                .put(&url)
                .header("content-type", "application/json")
                .body(r#"{"spec": "#),
        )
        .await;
    malformed.problem(400);

    server.get("/no/such/thing").await.problem(404);
    server.get("/monitors/missing").await.problem(404);
    server.get("/incidents/inc_missing").await.problem(404);
    server
        .post("/monitors/missing/run", &json!({}))
        .await
        .problem(404);
    server
        .send(server.client.delete(server.url("/monitors")))
        .await
        .problem(405);
    server.get("/monitors?selector=in%20(").await.problem(400);
    server.get("/incidents?state=sleeping").await.problem(400);
    server
        .get("/events?type=monitor.sideways")
        .await
        .problem(400);
    server.get("/monitors/missing/results").await.problem(404);
    server.finish().await;
}

/// A body of the wrong shapes gets one error per field in user terms: what was expected and
/// what came, with no Rust type names (`u16`, `struct`) or serde phrasing (`invalid type`).
async fn field_errors_read_in_user_terms(kind: Kind) {
    let server = Server::start(kind).await;
    let body = json!({
        "labels": {"team": 5},
        "spec": {
            "tcp": {"host": ["db"], "port": "x"},
            "interval": 30,
            "failure_threshold": -1,
            "assertions": "status == 200",
        },
    });
    let answer = server.put("/monitors/shapes", &body).await;
    let problem = answer.problem(422);
    let errors: Vec<(String, String)> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("field"), text("message"))
        })
        .collect();
    let expected = [
        ("labels.team", "expected a string, got the number 5"),
        (
            "spec.assertions",
            "expected a list, got the text \"status == 200\"",
        ),
        (
            "spec.failure_threshold",
            "expected a whole number from 0 to 4294967295, got the number -1",
        ),
        ("spec.interval", "30 has no unit: write a duration like 30s"),
        ("spec.tcp.host", "expected a string, got a list"),
    ];
    for (field, message) in expected {
        assert!(
            errors
                .iter()
                .any(|(f, m)| f == field && m.starts_with(message)),
            "{field}: {message}\n{errors:#?}"
        );
    }
    for (field, message) in &errors {
        for internal in [
            "invalid type",
            "invalid value",
            "u16",
            "u32",
            "struct ",
            "Some(",
        ] {
            assert!(!message.contains(internal), "{field}: {message}");
        }
    }
    server.finish().await;
}
