//! Opening and migrating, monitors, maintenance windows.

use std::collections::BTreeMap;

use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::{MonitorSpec, Source};
use vedette_store::{Backend, MaintenanceRecord, RuntimePause, SCHEMA_VERSION, StoreError};

use crate::common::{Kind, TestDb, deleted_event, monitor, monitor_ids};

backend_tests!(
    open_twice_is_idempotent,
    monitor_upsert_bumps_version_only_on_change,
    monitor_conditional_put_checks_version,
    maintenance_records_round_trip,
    runtime_pause_survives_reopen_and_spec_writes,
    monitors_and_statuses_are_written_many_at_once,
    conditional_writes_of_many_fail_one_by_one,
);

async fn open_twice_is_idempotent(db: &TestDb) {
    let store = db.open().await;
    let expected = match db.kind {
        Kind::Sqlite => Backend::Sqlite,
        Kind::Postgres => Backend::Postgres,
    };
    assert_eq!(store.backend(), expected);
    store.put_monitor(&monitor("api")).await.expect("put");
    store.close().await;

    let again = db.open().await;
    let versions = again.schema_versions().await.expect("versions");
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    assert!(again.get_monitor("api").await.expect("get").is_some());
    if db.kind == Kind::Sqlite {
        assert!(db.cfg.data_dir.join(vedette_store::SQLITE_FILE).exists());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.raw_url())
            .await
            .expect("raw connection");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .expect("journal mode");
        assert_eq!(mode, "wal");
    }
    again.close().await;
}

async fn monitor_upsert_bumps_version_only_on_change(db: &TestDb) {
    let store = db.open().await;
    let mut m = monitor("payments-api");
    let first = store.put_monitor(&m).await.expect("create");
    assert_eq!(first.version, 1);
    assert_eq!(first.spec, m.spec);
    assert_eq!(first.labels, m.labels);
    assert_eq!(first.source, Source::Api);

    let same = store.put_monitor(&m).await.expect("unchanged put");
    assert_eq!(same.version, 1);
    assert_eq!(same.updated_at, first.updated_at);

    m.spec.interval = vedette_model::Duration::from_secs(30);
    let second = store.put_monitor(&m).await.expect("spec change");
    assert_eq!(second.version, 2);
    assert_eq!(second.created_at, first.created_at);
    assert!(second.updated_at >= first.updated_at);

    m.labels.insert("env".into(), "prod".into());
    assert_eq!(
        store.put_monitor(&m).await.expect("label change").version,
        3
    );
    m.source = Source::File;
    assert_eq!(
        store.put_monitor(&m).await.expect("source change").version,
        4
    );

    store
        .put_monitor(&monitor("a-first"))
        .await
        .expect("second monitor");
    assert_eq!(monitor_ids(&store).await, ["a-first", "payments-api"]);
    let got = store
        .get_monitor("payments-api")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.version, 4);
    assert_eq!(got.spec.interval, vedette_model::Duration::from_secs(30));
    assert_eq!(got.labels.get("env").map(String::as_str), Some("prod"));

    assert!(
        store
            .delete_monitor("payments-api", deleted_event)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_monitor("payments-api", deleted_event)
            .await
            .expect("delete again")
    );
    assert!(
        store
            .get_monitor("payments-api")
            .await
            .expect("get")
            .is_none()
    );
    let recreated = store.put_monitor(&m).await.expect("recreate");
    assert_eq!(recreated.version, 1);
    store.close().await;
}

async fn monitor_conditional_put_checks_version(db: &TestDb) {
    let store = db.open().await;
    let mut m = monitor("etag");
    let conflict = store.put_monitor_if(&m, Some(3)).await;
    assert!(
        matches!(
            conflict,
            Err(StoreError::VersionConflict {
                expected: 3,
                found: None,
                ..
            })
        ),
        "{conflict:?}"
    );
    assert_eq!(
        store
            .put_monitor_if(&m, Some(0))
            .await
            .expect("create")
            .version,
        1
    );
    assert!(matches!(
        store.put_monitor_if(&m, Some(0)).await,
        Err(StoreError::VersionConflict { found: Some(1), .. })
    ));
    m.spec = MonitorSpec::http("https://elsewhere.example/");
    assert_eq!(
        store
            .put_monitor_if(&m, Some(1))
            .await
            .expect("update")
            .version,
        2
    );
    assert!(matches!(
        store.put_monitor_if(&m, Some(1)).await,
        Err(StoreError::VersionConflict { found: Some(2), .. })
    ));
    store.close().await;
}

async fn maintenance_records_round_trip(db: &TestDb) {
    let store = db.open().await;
    let window = |json: serde_json::Value| -> MaintenanceSpec {
        serde_json::from_value(json).expect("maintenance spec")
    };
    let spec = window(serde_json::json!({
        "rrule": "FREQ=WEEKLY;BYDAY=SU", "duration": "2h", "selector": "team=payments",
    }));
    let mut w = MaintenanceRecord::new("sunday-deploys", spec.clone());
    w.labels = BTreeMap::from([("managed-by".to_owned(), "terraform".to_owned())]);
    let stored = store.put(&w, None).await.expect("create");
    assert_eq!(stored.version, 1);
    assert_eq!(stored.spec, spec);
    assert_eq!(store.put(&w, None).await.expect("same").version, 1);

    w.spec = window(serde_json::json!({
        "rrule": "FREQ=WEEKLY;BYDAY=SU", "duration": "2h", "selector": "team=payments,env=prod",
    }));
    let changed = store.put(&w, None).await.expect("change");
    assert_eq!(changed.version, 2);
    assert_eq!(changed.created_at, stored.created_at);
    assert!(matches!(
        store.put(&w, Some(1)).await,
        Err(StoreError::VersionConflict { found: Some(2), .. })
    ));

    store
        .put(
            &MaintenanceRecord::new(
                "adhoc",
                window(serde_json::json!({"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"})),
            ),
            None,
        )
        .await
        .expect("second");
    let list = store.list::<MaintenanceSpec>().await.expect("list");
    assert_eq!(
        list.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["adhoc", "sunday-deploys"]
    );
    assert_eq!(
        store
            .get::<MaintenanceSpec>("sunday-deploys")
            .await
            .expect("get"),
        Some(changed)
    );
    assert!(
        store
            .delete::<MaintenanceSpec>("adhoc")
            .await
            .expect("delete")
    );
    assert!(
        store
            .get::<MaintenanceSpec>("adhoc")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        !store
            .delete::<MaintenanceSpec>("adhoc")
            .await
            .expect("delete again")
    );
    store.close().await;
}

async fn runtime_pause_survives_reopen_and_spec_writes(db: &TestDb) {
    let store = db.open().await;
    let mut m = monitor("web");
    store.put_monitor(&m).await.expect("create");
    store
        .put_monitor(&monitor("other"))
        .await
        .expect("create other");
    let pause = RuntimePause {
        at: chrono::DateTime::from_timestamp_millis(1_790_000_000_123).expect("time"),
        by: "ops".to_owned(),
        reason: Some("deploy".to_owned()),
    };
    store.put_pause("web", &pause).await.expect("pause");
    let replaced = RuntimePause {
        reason: None,
        ..pause.clone()
    };
    store
        .put_pause("web", &replaced)
        .await
        .expect("pause again");
    store
        .put_pause("web", &pause)
        .await
        .expect("pause a third time");
    // A spec change (an apply) leaves the pause alone and does not touch the version for it.
    m.spec.interval = vedette_model::Duration::from_secs(30);
    assert_eq!(store.put_monitor(&m).await.expect("update").version, 2);
    store.close().await;

    let again = db.open().await;
    assert_eq!(
        again.pauses().await.expect("pauses"),
        vec![("web".to_owned(), pause.clone())]
    );
    assert!(again.delete_pause("web").await.expect("resume"));
    assert!(!again.delete_pause("web").await.expect("resume again"));
    assert!(again.pauses().await.expect("pauses").is_empty());
    again.put_pause("web", &pause).await.expect("pause");
    assert!(
        again
            .delete_monitor("web", deleted_event)
            .await
            .expect("delete")
    );
    again.put_monitor(&m).await.expect("recreate");
    assert!(
        again.pauses().await.expect("pauses").is_empty(),
        "a deleted monitor's pause does not come back with a new one of the same id"
    );
    again.close().await;
}

async fn monitors_and_statuses_are_written_many_at_once(db: &TestDb) {
    let store = db.open().await;
    let existing = store.put_monitor(&monitor("m-0")).await.expect("put");
    let mut changed = monitor("m-0");
    changed.spec.interval = vedette_model::Duration::from_secs(30);
    let mut many: Vec<_> = (1..300).map(|n| monitor(&format!("m-{n}"))).collect();
    many.insert(0, changed);
    let written = store.put_monitors(&many).await.expect("put many");
    assert_eq!(written.len(), 300);
    assert_eq!(written[0].version, existing.version + 1);
    assert!(written[1..].iter().all(|m| m.version == 1));
    assert_eq!(store.list_monitors().await.expect("list").len(), 300);
    // An unchanged write keeps the version.
    let again = store.put_monitors(&many[..2]).await.expect("put again");
    assert_eq!(
        (again[0].version, again[1].version),
        (written[0].version, 1)
    );

    // Statuses of monitors that exist are written, the last of one monitor winning; a
    // status of a monitor that does not exist is left out.
    let now = chrono::Utc::now();
    let mut statuses: Vec<_> = (0..300)
        .map(|n| vedette_store::MonitorStatus::pending(format!("m-{n}"), now))
        .collect();
    let mut up = vedette_store::MonitorStatus::pending("m-7", now);
    up.state = vedette_model::MonitorState::Up;
    statuses.push(up);
    statuses.push(vedette_store::MonitorStatus::pending("gone", now));
    store.put_statuses(&statuses).await.expect("statuses");
    let stored = store.monitor_statuses().await.expect("read statuses");
    assert_eq!(stored.len(), 300);
    assert_eq!(
        store
            .monitor_status("m-7")
            .await
            .expect("read")
            .map(|s| s.state),
        Some(vedette_model::MonitorState::Up)
    );
    assert!(store.monitor_status("gone").await.expect("read").is_none());
    store.close().await;
}

async fn conditional_writes_of_many_fail_one_by_one(db: &TestDb) {
    let store = db.open().await;
    let existing = store.put_monitor(&monitor("m-0")).await.expect("put");
    let mut changed = monitor("m-0");
    changed.spec.interval = vedette_model::Duration::from_secs(30);
    let writes = vec![
        (changed.clone(), existing.version),
        (monitor("m-1"), 0),
        // Created meanwhile by someone else: expected absent, found version 1.
        (monitor("m-0"), 0),
        // Expected at a version it never had.
        (monitor("m-2"), 4),
        (monitor("m-3"), 0),
        // A new id written twice in the batch: the second finds the first.
        (monitor("m-4"), 0),
        (monitor("m-4"), 0),
    ];
    let outcomes = store
        .put_monitors_if(&writes)
        .await
        .expect("one transaction");
    let versions: Vec<Result<i64, String>> = outcomes
        .into_iter()
        .map(|o| o.map(|m| m.version).map_err(|e| e.to_string()))
        .collect();
    assert!(
        matches!(versions[0], Ok(v) if v == existing.version + 1),
        "{versions:?}"
    );
    assert_eq!(versions[1], Ok(1));
    assert!(
        versions[2].as_ref().is_err_and(|e| e.contains("m-0")),
        "{versions:?}"
    );
    assert!(
        versions[3].as_ref().is_err_and(|e| e.contains("m-2")),
        "{versions:?}"
    );
    assert_eq!(versions[4], Ok(1));
    assert_eq!(versions[5], Ok(1));
    assert!(
        versions[6]
            .as_ref()
            .is_err_and(|e| e.contains("m-4") && e.contains("found version 1")),
        "{versions:?}"
    );
    assert_eq!(monitor_ids(&store).await, ["m-0", "m-1", "m-3", "m-4"]);
    let m0 = store.get_monitor("m-0").await.expect("get").expect("m-0");
    assert_eq!(
        m0.spec, changed.spec,
        "the conflicting write left the first one alone"
    );
    store.close().await;
}
