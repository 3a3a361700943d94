//! The engine follows the store: monitors and maintenance windows written to the database
//! by another store handle (as another replica would) are run and applied without any call
//! to this server, and in feed order with the writes through this server's API.

use std::time::Duration;

use serde_json::Value;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{MonitorSpec, Record};
use vedette_server::state_machine::resolved_by_deletion;

use crate::common::{Kind, Server, Target, http_monitor};

api_tests!(
    the_engine_follows_writes_of_another_store,
    an_api_write_answers_after_the_writes_of_another_store_before_it,
);

/// `(id, version)` of each monitor the engine runs (the list is served from its memory).
fn running(body: &Value) -> Vec<(String, i64)> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            let id = m["id"].as_str().expect("id").to_owned();
            (id, m["version"].as_i64().expect("version"))
        })
        .collect()
}

/// The ids of the monitors the engine runs.
fn listed(body: &Value) -> Vec<String> {
    running(body).into_iter().map(|(id, _)| id).collect()
}

async fn the_engine_follows_writes_of_another_store(kind: Kind) {
    let server = Server::start(kind).await;
    let target = Target::start().await;
    let other = server.other_store().await;

    let mut spec = MonitorSpec::http(target.url("/ok"));
    spec.interval = vedette_model::Duration::from_secs(3600);
    spec.timeout = vedette_model::Duration::from_secs(1);
    spec.assertions = vec!["status == 200".to_owned()];
    other
        .put_monitor(&Record::new("elsewhere", spec))
        .await
        .expect("write the monitor behind the server's back");
    // Scheduled and checked at once, though its interval is an hour.
    let shown = server
        .wait_for("/monitors/elsewhere", Duration::from_secs(15), |b| {
            b["status"]["last_result"].is_object()
        })
        .await;
    assert_eq!(shown["status"]["state"], "up", "{shown:#}");
    assert_eq!(listed(&server.get("/monitors").await.body), ["elsewhere"]);

    let now = chrono::Utc::now();
    other
        .put(
            &Record::new(
                "deploy",
                MaintenanceSpec {
                    name: None,
                    description: None,
                    start: Some(now - chrono::Duration::minutes(1)),
                    end: Some(now + chrono::Duration::hours(1)),
                    cron: None,
                    rrule: None,
                    duration: None,
                    monitors: vec!["elsewhere".to_owned()],
                    selector: None,
                },
            ),
            None,
        )
        .await
        .expect("write the window");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let run = server.post("/monitors/elsewhere/run", &Value::Null).await;
        assert_eq!(run.status, 200, "{:#}", run.body);
        if run.body["in_maintenance"] == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the window never applied: {:#}",
            run.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert!(
        other
            .delete_monitor("elsewhere", |incident| resolved_by_deletion(
                incident,
                "elsewhere"
            ))
            .await
            .expect("delete")
    );
    server
        .wait_for("/monitors", Duration::from_secs(15), |b| {
            listed(b).is_empty()
        })
        .await;
    assert_eq!(server.get("/monitors/elsewhere").await.status, 404);
    other.close().await;
    server.finish().await;
}

async fn an_api_write_answers_after_the_writes_of_another_store_before_it(kind: Kind) {
    let server = Server::start(kind).await;
    let target = Target::start().await;
    let other = server.other_store().await;
    let url = target.url("/ok");
    for round in 1..=5_u64 {
        // Another replica writes; this server's API writes right after, without waiting. The
        // API's change comes later in the feed, so its answer must wait for both.
        let mut spec = MonitorSpec::http(&url);
        spec.interval = vedette_model::Duration::from_secs(3600 + round);
        other
            .put_monitor(&Record::new("elsewhere", spec))
            .await
            .expect("write behind the server's back");
        let interval = format!("{}s", 3600 + round);
        server
            .put_checked("/monitors/mine", &http_monitor(&url, &interval))
            .await;
        let expected = i64::try_from(round).expect("round");
        assert_eq!(
            running(&server.get("/monitors").await.body),
            [
                ("elsewhere".to_owned(), expected),
                ("mine".to_owned(), expected)
            ],
            "round {round}"
        );
    }
    other.close().await;
    server.finish().await;
}
