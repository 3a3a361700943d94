//! Verifications: the resource (validation, a spec fixed at creation, reports) and the gate
//! computed from real checks of a local target (pass, fail fast, timeout, no monitor), across
//! a restart of the server.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Kind, Resp, Server, Target, http_monitor};

api_tests!(
    verification_resource,
    gate_passes_after_consecutive_checks,
    gate_fails_fast_with_the_actual_value,
    gate_fails_fast_under_its_deployments_mute,
    gate_times_out,
    gate_without_monitors,
    verification_survives_a_restart,
);

/// Waits until verification `id` ends; its view.
async fn ended(server: &Server, id: &str, within: Duration) -> Value {
    server
        .wait_for(&format!("/verifications/{id}"), within, |b| {
            !matches!(b["status"]["state"].as_str(), Some("pending" | "running"))
        })
        .await
}

/// The text of a report at `path`.
async fn report(server: &Server, path: &str) -> String {
    let response = server
        .client
        .get(server.url(path))
        .send()
        .await
        .expect("report");
    assert_eq!(response.status(), 200);
    response.text().await.expect("text")
}

/// Creates a resource at `path` (201 expected); the answer.
async fn create(server: &Server, path: &str, body: &Value) -> Resp {
    let created = server.post(path, body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    created
}

/// Monitor `flaky`, labelled `team=payments`, checking the target's switchable `/switch`
/// every `interval`.
async fn put_flaky(server: &Server, target: &Target, interval: &str) {
    server
        .put_checked(
            "/monitors/flaky",
            &http_monitor(&target.url("/switch"), interval),
        )
        .await;
}

/// The `data` of the events of `event_type`, once at least one is listed.
async fn events(server: &Server, event_type: &str) -> Vec<Value> {
    // The API shows a verification ended as soon as the engine decides it; its event is
    // committed by the writer right after.
    let listed = server
        .wait_for(
            &format!("/events?type={event_type}&limit=100"),
            Duration::from_secs(10),
            |body| {
                body["items"]
                    .as_array()
                    .is_some_and(|items| !items.is_empty())
            },
        )
        .await;
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["data"].clone())
        .collect()
}

async fn verification_resource(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    server
        .put_checked("/monitors/web", &http_monitor(&target.url("/ok"), "1d"))
        .await;

    let missing = server.post("/verifications", &json!({"spec": {}})).await;
    missing.problem(422);
    assert_eq!(missing.error_fields(), ["spec"]);
    let bad = server
        .post(
            "/verifications",
            &json!({"spec": {"selector": "team=a", "ids": ["web"], "consecutive": 0, "timeout": "25h", "bogus": 1}}),
        )
        .await;
    bad.problem(422);
    assert_eq!(
        bad.error_fields(),
        ["spec.bogus", "spec.consecutive", "spec.ids", "spec.timeout"],
        "{:#}",
        bad.body
    );
    let wrong_type = server
        .post(
            "/verifications",
            &json!({"spec": {"ids": "web", "consecutive": "many"}}),
        )
        .await;
    wrong_type.problem(422);
    assert_eq!(wrong_type.error_fields(), ["spec.consecutive", "spec.ids"]);

    let body = json!({"id": "gate", "labels": {"team": "payments"}, "spec": {"ids": ["web"], "run_now": false, "timeout": "10m", "deployment": "payments-1.4.2-prod"}});
    let created = server.post("/verifications", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(
        created.header("location"),
        Some("/api/v1/verifications/gate")
    );
    let view = &created.body;
    assert_eq!(view["spec"]["consecutive"], 3);
    assert_eq!(view["spec"]["fail_fast"], true);
    assert_eq!(view["status"]["state"], "running");
    assert!(view["status"]["deadline"].is_string());
    assert_eq!(view["status"]["monitors"][0]["id"], "web");
    assert_eq!(view["status"]["monitors"][0]["checks"], 0);

    // The spec is fixed; the same body again is fine, and labels may change.
    let changed = server
        .put(
            "/verifications/gate",
            &json!({"spec": {"ids": ["web"], "consecutive": 5}}),
        )
        .await;
    let problem = changed.problem(409);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot be changed; create a new one")),
        "{problem:#}"
    );
    server
        .patch("/verifications/gate", &json!({"spec": {"timeout": "1m"}}))
        .await
        .problem(409);
    let again = server.put("/verifications/gate", &body).await;
    assert_eq!(again.status, 200, "{:#}", again.body);
    assert_eq!(again.body["version"], 1);
    let relabelled = server
        .patch("/verifications/gate", &json!({"labels": {"tier": "one"}}))
        .await;
    assert_eq!(relabelled.status, 200, "{:#}", relabelled.body);
    assert_eq!(relabelled.body["status"]["state"], "running");
    server.post("/verifications", &body).await.problem(409);

    let listed = server.get("/verifications?selector=tier%3Done").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    // Reports of a running verification.
    for (format, media) in [("junit", "application/xml"), ("markdown", "text/markdown")] {
        let response = server
            .client
            .get(server.url(&format!("/verifications/gate/report?format={format}")))
            .send()
            .await
            .expect("report");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().expect("text");
        assert!(content_type.starts_with(media), "{content_type}");
    }
    let as_json = server.get("/verifications/gate/report?format=json").await;
    assert_eq!(as_json.body["id"], "gate");
    server
        .get("/verifications/gate/report?format=pdf")
        .await
        .problem(400);
    server.get("/verifications/nope/report").await.problem(404);

    assert_eq!(server.delete("/verifications/gate").await.status, 204);
    server.get("/verifications/gate").await.problem(404);
    // The id can be used again, for a new verification.
    let anew = server.put("/verifications/gate", &body).await;
    assert_eq!(anew.status, 201, "{:#}", anew.body);
    assert_eq!(anew.body["status"]["state"], "running");
    server.finish().await;
}

async fn gate_passes_after_consecutive_checks(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for id in ["api-1", "api-2"] {
        server
            .put_checked(
                &format!("/monitors/{id}"),
                &http_monitor(&target.url("/ok"), "1s"),
            )
            .await;
    }
    let created = create(&server, "/verifications", &json!({"spec": {"selector": "team=payments", "consecutive": 2, "timeout": "30s", "deployment": "pay-1"}})).await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("ver-"), "{id}");
    let done = ended(&server, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"]["state"], "passed", "{done:#}");
    for m in done["status"]["monitors"].as_array().expect("monitors") {
        assert_eq!(m["passed"], true);
        assert!(m["consecutive_ok"].as_u64() >= Some(2), "{m:#}");
        assert_eq!(m["last_result"]["ok"], true);
    }
    let passed = events(&server, "deployment.verification.passed").await;
    assert_eq!(passed.len(), 1, "{passed:#?}");
    assert_eq!(passed[0]["verification_id"], id.as_str());
    assert_eq!(passed[0]["deployment_id"], "pay-1");
    assert_eq!(passed[0]["outcome"], "passed");
    assert_eq!(passed[0]["monitors"], 2);
    assert_eq!(passed[0]["passed"], 2);
    let xml = report(&server, &format!("/verifications/{id}/report?format=junit")).await;
    assert!(xml.contains("tests=\"2\" failures=\"0\""), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"vedette\" name=\"api-1\">"),
        "{xml}"
    );
    server.finish().await;
}

async fn gate_fails_fast_with_the_actual_value(kind: Kind) {
    let target = Target::start().await;
    target.set_up(false);
    let server = Server::start(kind).await;
    server
        .put_checked("/monitors/ok", &http_monitor(&target.url("/ok"), "1d"))
        .await;
    put_flaky(&server, &target, "1d").await;
    create(
        &server,
        "/verifications",
        &json!({"id": "gate", "spec": {"ids": ["ok", "flaky"], "timeout": "1m"}}),
    )
    .await;
    let done = ended(&server, "gate", Duration::from_secs(20)).await;
    assert_eq!(done["status"]["state"], "failed", "{done:#}");
    let reason = done["status"]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("flaky is down: status == 200"),
        "{reason}"
    );
    assert!(reason.contains("503"), "{reason}");
    let flaky = &done["status"]["monitors"][1];
    assert_eq!(flaky["state"], "down");
    assert_eq!(
        flaky["last_result"]["failures"][0],
        json!({"assertion": "status == 200", "actual": "503"})
    );

    let xml = report(&server, "/verifications/gate/report?format=junit").await;
    assert!(
        xml.contains("<testcase classname=\"vedette\" name=\"flaky\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"flaky is down: status == 200 (actual: 503)"),
        "{xml}"
    );
    assert!(xml.contains("body.$.status == &quot;UP&quot;"), "{xml}");
    let text = report(&server, "/verifications/gate/report?format=markdown").await;
    assert!(text.contains("❌ failed"), "{text}");
    assert!(text.contains("| `flaky` | down |"), "{text}");

    let failed = events(&server, "deployment.verification.failed").await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["outcome"], "failed");
    assert_eq!(failed[0]["reason"], reason);
    server.finish().await;
}

/// A deployment that mutes its monitors hides their state (maintenance), not their failures:
/// a fail-fast gate on that deployment still fails as soon as one is failing past its
/// threshold, and its event carries the deployment's commit.
async fn gate_fails_fast_under_its_deployments_mute(kind: Kind) {
    let target = Target::start().await;
    target.set_up(false);
    let server = Server::start(kind).await;
    put_flaky(&server, &target, "1d").await;
    create(
        &server,
        "/deployments",
        &json!({"id": "pay-v2", "spec": {"service": "payments", "version": "v2",
                "environment": "prod", "commit": "9fceb02", "selector": "team=payments",
                "mute": "10m"}}),
    )
    .await;
    create(
        &server,
        "/verifications",
        &json!({"id": "gate", "spec": {"selector": "team=payments", "timeout": "1m",
                "deployment": "pay-v2"}}),
    )
    .await;
    let done = ended(&server, "gate", Duration::from_secs(20)).await;
    assert_eq!(done["status"]["state"], "failed", "{done:#}");
    assert_eq!(done["status"]["monitors"][0]["state"], "maintenance");
    let failed = events(&server, "deployment.verification.failed").await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["deployment_id"], "pay-v2");
    assert_eq!(failed[0]["commit"], "9fceb02");
    server.finish().await;
}

async fn gate_times_out(kind: Kind) {
    let target = Target::start().await;
    target.set_up(false);
    let server = Server::start(kind).await;
    put_flaky(&server, &target, "1s").await;
    create(
        &server,
        "/verifications",
        &json!({"id": "slow", "spec": {"ids": ["flaky"], "timeout": "3s", "fail_fast": false}}),
    )
    .await;
    let done = ended(&server, "slow", Duration::from_secs(15)).await;
    assert_eq!(done["status"]["state"], "timed_out", "{done:#}");
    assert!(
        done["status"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("timed out after 3s: not passed: flaky (0/3)")),
        "{done:#}"
    );
    assert!(done["status"]["monitors"][0]["checks"].as_u64() >= Some(2));
    let xml = report(&server, "/verifications/slow/report?format=junit").await;
    assert!(
        xml.contains("failure message=\"timed out after 3s"),
        "{xml}"
    );
    let failed = events(&server, "deployment.verification.failed").await;
    assert_eq!(failed[0]["outcome"], "timed_out");
    server.finish().await;
}

async fn gate_without_monitors(kind: Kind) {
    let server = Server::start(kind).await;
    let created = create(
        &server,
        "/verifications",
        &json!({"id": "none", "spec": {"selector": "team=nobody"}}),
    )
    .await;
    assert_eq!(created.body["status"]["state"], "no_monitors");
    assert_eq!(
        created.body["status"]["reason"],
        "no monitor matched selector \"team=nobody\""
    );
    let by_id = server
        .post(
            "/verifications",
            &json!({"id": "unknown", "spec": {"ids": ["ghost"]}}),
        )
        .await;
    assert_eq!(by_id.body["status"]["state"], "no_monitors");
    let failed = events(&server, "deployment.verification.failed").await;
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert!(failed.iter().all(|e| e["outcome"] == "no_monitors"));
    let xml = report(&server, "/verifications/none/report?format=junit").await;
    assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    server.finish().await;
}

async fn verification_survives_a_restart(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    server
        .put_checked("/monitors/web", &http_monitor(&target.url("/ok"), "1s"))
        .await;
    server
        .put_checked("/monitors/idle", &http_monitor(&target.url("/ok"), "1d"))
        .await;
    // One that passes across the restart, one whose deadline passes while the server is down.
    let long = server
        .post(
            "/verifications",
            &json!({"id": "long", "spec": {"ids": ["web"], "consecutive": 4, "timeout": "1m"}}),
        )
        .await;
    assert_eq!(long.status, 201, "{:#}", long.body);
    let short = server
        .post(
            "/verifications",
            &json!({"id": "short", "spec": {"ids": ["idle"], "timeout": "2s", "run_now": false}}),
        )
        .await;
    assert_eq!(short.status, 201, "{:#}", short.body);
    let started_at = long.body["status"]["started_at"].clone();
    server
        .wait_for("/verifications/long", Duration::from_secs(10), |b| {
            b["status"]["monitors"][0]["checks"].as_u64() >= Some(1)
        })
        .await;
    let server = server.restart().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let resumed = ended(&server, "long", Duration::from_secs(30)).await;
    assert_eq!(resumed["status"]["state"], "passed", "{resumed:#}");
    assert_eq!(resumed["status"]["started_at"], started_at);
    let late = ended(&server, "short", Duration::from_secs(10)).await;
    assert_eq!(late["status"]["state"], "timed_out", "{late:#}");
    assert_eq!(
        events(&server, "deployment.verification.passed")
            .await
            .len(),
        1
    );
    assert_eq!(
        events(&server, "deployment.verification.failed")
            .await
            .len(),
        1
    );
    server.finish().await;
}
