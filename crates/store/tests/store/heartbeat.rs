//! Heartbeat tokens and pings.

use vedette_store::{PingRecord, StoreError};

use crate::common::{TestDb, at_ms, deleted_event, monitor};

backend_tests!(heartbeat_tokens_and_pings);

async fn heartbeat_tokens_and_pings(db: &TestDb) {
    let store = db.open().await;
    store
        .put_monitor(&monitor("nightly-backup"))
        .await
        .expect("put");
    store.put_monitor(&monitor("cron")).await.expect("put");
    assert_eq!(
        store
            .heartbeat_token("nightly-backup")
            .await
            .expect("token"),
        None
    );
    assert_eq!(
        store.monitor_for_token("tok-1").await.expect("lookup"),
        None
    );

    store
        .set_heartbeat_token("nightly-backup", "tok-1")
        .await
        .expect("set");
    assert_eq!(
        store
            .heartbeat_token("nightly-backup")
            .await
            .expect("token")
            .as_deref(),
        Some("tok-1")
    );
    assert_eq!(
        store
            .monitor_for_token("tok-1")
            .await
            .expect("lookup")
            .as_deref(),
        Some("nightly-backup")
    );

    store
        .set_heartbeat_token("nightly-backup", "tok-2")
        .await
        .expect("rotate");
    assert_eq!(
        store.monitor_for_token("tok-1").await.expect("lookup"),
        None
    );
    assert_eq!(
        store
            .monitor_for_token("tok-2")
            .await
            .expect("lookup")
            .as_deref(),
        Some("nightly-backup")
    );
    let taken = store.set_heartbeat_token("cron", "tok-2").await;
    assert!(matches!(taken, Err(StoreError::Database(_))), "{taken:?}");

    assert_eq!(store.last_ping("nightly-backup").await.expect("ping"), None);
    // Each ping recorded is the last one.
    for ping in [
        PingRecord {
            at: at_ms(1_700_000_000_000),
            up: true,
            message: None,
        },
        PingRecord {
            at: at_ms(1_700_000_060_000),
            up: false,
            message: Some("disk full".into()),
        },
    ] {
        store
            .record_ping("nightly-backup", &ping)
            .await
            .expect("ping");
        assert_eq!(
            store.last_ping("nightly-backup").await.expect("ping"),
            Some(ping)
        );
    }

    assert!(
        store
            .delete_monitor("nightly-backup", deleted_event)
            .await
            .expect("delete")
    );
    assert_eq!(
        store.monitor_for_token("tok-2").await.expect("lookup"),
        None
    );
    assert_eq!(store.last_ping("nightly-backup").await.expect("ping"), None);
    store.close().await;
}
