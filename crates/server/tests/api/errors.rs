//! Every error is problem+json: oversized, non-JSON and malformed bodies, unknown routes.

use serde_json::json;

use crate::common::{Kind, Server};

api_tests!(error_bodies_are_problems);

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
