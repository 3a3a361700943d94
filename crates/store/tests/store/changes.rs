//! The change feed of versioned resources: what it lists, in which order, what wakes its
//! readers, and pruning.

use std::time::{Duration, Instant};

use chrono::Utc;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::spec::{HeartbeatCheck, Secret};
use vedette_model::{MonitorSpec, Record, Version};
use vedette_store::{Change, Store, StoreError};

use crate::common::{Kind, TestDb, deleted_event, monitor};

backend_tests!(
    feed_lists_committed_writes_and_deletes_in_order,
    failed_and_rolled_back_writes_leave_no_change,
    a_commit_wakes_readers_of_the_same_store_at_once,
    two_stores_on_one_database_see_each_others_writes,
    concurrent_writers_commit_in_feed_order,
    a_batch_records_each_change_and_wakes_other_stores_once,
    pruning_keeps_the_newest_change_and_reports_the_gap,
    writes_are_handed_to_readers_of_the_same_store_only,
);

fn window(id: &str) -> Record<MaintenanceSpec> {
    Record::new(
        id,
        MaintenanceSpec {
            name: None,
            description: None,
            start: Some(Utc::now()),
            end: Some(Utc::now() + chrono::Duration::hours(1)),
            cron: None,
            rrule: None,
            duration: None,
            monitors: vec!["payments-api".into()],
            selector: None,
        },
    )
}

/// `(kind, id, version)` of every change after `after`.
async fn listed(store: &Store, after: i64) -> Vec<(String, String, Version)> {
    let page = store.changes_after(after, 1000).await.expect("changes");
    assert!(!page.pruned);
    page.changes
        .into_iter()
        .map(|c| (c.kind, c.id, c.version))
        .collect()
}

fn change(kind: &str, id: &str, version: Version) -> (String, String, Version) {
    (kind.to_owned(), id.to_owned(), version)
}

async fn feed_lists_committed_writes_and_deletes_in_order(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.last_change_seq().await.expect("last"), 0);
    let mut m = monitor("payments-api");
    store.put_monitor(&m).await.expect("create");
    store.put_monitor(&m).await.expect("unchanged put");
    m.spec.interval = vedette_model::Duration::from_secs(30);
    store.put_monitor(&m).await.expect("update");
    store.put(&window("deploy"), Some(0)).await.expect("window");
    assert!(
        store
            .delete::<MaintenanceSpec>("deploy")
            .await
            .expect("delete window")
    );
    assert!(
        !store
            .delete::<MaintenanceSpec>("deploy")
            .await
            .expect("delete again")
    );
    assert!(
        store
            .delete_monitor("payments-api", deleted_event)
            .await
            .expect("delete monitor")
    );

    assert_eq!(
        listed(&store, 0).await,
        [
            change("monitors", "payments-api", 1),
            change("monitors", "payments-api", 2),
            change("maintenance_windows", "deploy", 1),
            change("maintenance_windows", "deploy", 0),
            change("monitors", "payments-api", 0),
        ]
    );
    let page = store.changes_after(0, 2).await.expect("first page");
    let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] < seqs[1]);
    let rest = store.changes_after(seqs[1], 1000).await.expect("rest");
    assert_eq!(rest.changes.len(), 3);
    assert!(rest.changes.last().is_some_and(Change::is_delete));
    let last = rest.changes.last().map(|c| c.seq).expect("last");
    assert_eq!(store.last_change_seq().await.expect("last seq"), last);
    assert_eq!(store.local_change_seq(), last);
    assert!(listed(&store, last).await.is_empty());
    store.close().await;
}

async fn failed_and_rolled_back_writes_leave_no_change(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("a")).await.expect("create");
    let before = store.last_change_seq().await.expect("seq");

    let conflict = store.put_monitor_if(&monitor("b"), Some(3)).await;
    assert!(matches!(conflict, Err(StoreError::VersionConflict { .. })));

    // The push token is written first, then the monitor's version is found stale: the whole
    // transaction, token included, rolls back.
    let mut pushed = monitor("a");
    pushed.spec.check = HeartbeatCheck {
        schedule: None,
        grace: vedette_model::Duration::from_secs(60),
        token: Some(Secret("push-token-0123456789".into())),
    }
    .into();
    let stale = store.put_monitor_if(&pushed, Some(7)).await;
    assert!(matches!(stale, Err(StoreError::VersionConflict { .. })));
    assert_eq!(store.heartbeat_token("a").await.expect("token"), None);

    let mut taker = monitor("c");
    taker.spec = pushed.spec.clone();
    store.put_monitor(&taker).await.expect("claims the token");
    let claimed = store.last_change_seq().await.expect("seq");
    let taken = store.put_monitor(&pushed).await;
    assert!(matches!(taken, Err(StoreError::HeartbeatTokenTaken)));

    assert_eq!(listed(&store, before).await, [change("monitors", "c", 1)]);
    assert_eq!(store.last_change_seq().await.expect("seq"), claimed);
    store.close().await;
}

async fn a_commit_wakes_readers_of_the_same_store_at_once(db: &TestDb) {
    let store = db.open().await;
    let mut signals = store.change_signals();
    // The first wait connects the PostgreSQL listener; nothing has changed yet.
    let started = Instant::now();
    signals
        .wait(Duration::from_millis(200))
        .await
        .expect("wait");
    assert!(started.elapsed() >= Duration::from_millis(150));

    let writer = store.clone();
    let write = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.put_monitor(&monitor("a")).await.expect("put");
    });
    let started = Instant::now();
    signals.wait(Duration::from_secs(30)).await.expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken after {:?}",
        started.elapsed()
    );
    write.await.expect("writer");
    assert_eq!(listed(&store, 0).await, [change("monitors", "a", 1)]);
    store.close().await;
}

async fn two_stores_on_one_database_see_each_others_writes(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let writer = a.clone();
    wakes_the_other_store(db, &b, async move {
        writer.put_monitor(&monitor("from-a")).await.expect("put");
    })
    .await;
    assert_eq!(b.local_change_seq(), 0, "not written through b");
    assert_eq!(listed(&b, 0).await, [change("monitors", "from-a", 1)]);

    let seen = a.last_change_seq().await.expect("seq");
    b.put(&window("from-b"), None).await.expect("window");
    assert_eq!(
        listed(&a, seen).await,
        [change("maintenance_windows", "from-b", 1)]
    );
    a.close().await;
    b.close().await;
}

/// Runs `write` (through another store than `reader`) after 100 ms, and asserts that it wakes
/// `reader`'s readers within 5 s: PostgreSQL notifies the other store, SQLite readers in
/// another process poll.
async fn wakes_the_other_store(
    db: &TestDb,
    reader: &Store,
    write: impl Future<Output = ()> + Send + 'static,
) {
    let mut signals = reader.change_signals();
    signals
        .wait(Duration::from_millis(100))
        .await
        .expect("listening");
    let write = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        write.await;
    });
    let started = Instant::now();
    let timeout = match db.kind {
        Kind::Postgres => Duration::from_secs(30),
        Kind::Sqlite => Duration::from_secs(1),
    };
    signals.wait(timeout).await.expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken after {:?}",
        started.elapsed()
    );
    write.await.expect("writer");
}

async fn concurrent_writers_commit_in_feed_order(db: &TestDb) {
    const WRITERS: usize = 4;
    const WRITES: usize = 15;
    let stores = [db.open().await, db.open().await];
    let reader = stores[0].clone();
    let reading = tokio::spawn(async move {
        let mut cursor = 0;
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < WRITERS * WRITES && Instant::now() < deadline {
            let page = reader.changes_after(cursor, 7).await.expect("page");
            for c in page.changes {
                cursor = c.seq;
                seen.push(c.seq);
            }
        }
        seen
    });
    // Half the writers write one monitor a transaction, half three (a batch holds the feed's
    // lock from its first change to its commit).
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = stores[w % 2].clone();
        writers.push(tokio::spawn(async move {
            let per_commit = if w % 2 == 0 { 1 } else { 3 };
            for i in 0..WRITES / per_commit {
                let batch: Vec<_> = (0..per_commit)
                    .map(|k| {
                        let mut m = monitor(&format!("m{w}-{k}"));
                        m.spec.interval = vedette_model::Duration::from_secs(10 + i as u64);
                        m
                    })
                    .collect();
                store.put_monitors(&batch).await.expect("put");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let seen = reading.await.expect("reader");
    let all: Vec<i64> = stores[1]
        .changes_after(0, 1000)
        .await
        .expect("all")
        .changes
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(all.len(), WRITERS * WRITES);
    assert_eq!(
        seen, all,
        "a reader paging while writers commit misses none"
    );
    for store in stores {
        store.close().await;
    }
}

async fn a_batch_records_each_change_and_wakes_other_stores_once(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let ids = ["b1", "b2", "b3"];
    let writer = a.clone();
    wakes_the_other_store(db, &b, async move {
        let batch: Vec<_> = ids.iter().map(|id| monitor(id)).collect();
        writer.put_monitors(&batch).await.expect("batch");
    })
    .await;
    let listed = b.changes_after(0, 10).await.expect("listed").changes;
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ids,
        "one change per resource, in write order"
    );
    assert!(listed.windows(2).all(|w| w[0].seq < w[1].seq));
    for c in &listed {
        assert!(
            a.local_change(c.seq).is_some(),
            "each change handed to the writing store's readers"
        );
    }
    a.close().await;
    b.close().await;
}

async fn pruning_keeps_the_newest_change_and_reports_the_gap(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.prune_changes(Utc::now()).await.expect("prune"), 0);
    for id in ["a", "b", "c"] {
        store.put_monitor(&monitor(id)).await.expect("put");
    }
    let all = store.changes_after(0, 10).await.expect("all").changes;
    let newest = all.last().map(|c| c.seq).expect("newest");
    let pruned = store
        .prune_changes(Utc::now() + chrono::Duration::minutes(1))
        .await
        .expect("prune");
    assert_eq!(pruned, 2);

    let behind = store.changes_after(0, 10).await.expect("behind");
    assert!(behind.pruned, "a reader at 0 missed two changes");
    assert_eq!(behind.changes.len(), 1);
    let current = store.changes_after(newest - 1, 10).await.expect("current");
    assert!(!current.pruned);
    assert_eq!(current.changes.len(), 1);
    let done = store.changes_after(newest, 10).await.expect("done");
    assert!(!done.pruned && done.changes.is_empty());
    assert_eq!(store.last_change_seq().await.expect("last"), newest);
    store.close().await;
}

async fn writes_are_handed_to_readers_of_the_same_store_only(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let written = a.put_monitor(&monitor("m")).await.expect("put");
    let seq = a.local_change_seq();
    let local = a
        .clone()
        .local_change(seq)
        .expect("kept by the writing store and its clones");
    assert_eq!(
        local.change,
        Change {
            seq,
            kind: "monitors".to_owned(),
            id: "m".to_owned(),
            version: 1,
        }
    );
    assert_eq!(local.record::<MonitorSpec>(), Some(&written));
    assert_eq!(local.record::<MaintenanceSpec>(), None);
    assert!(b.local_change(seq).is_none(), "b wrote nothing");

    let other = b.put(&window("w"), None).await.expect("window through b");
    let seq_b = b.local_change_seq();
    assert!(seq_b > seq && a.local_change(seq_b).is_none());
    assert_eq!(
        b.local_change(seq_b)
            .expect("kept by b")
            .record::<MaintenanceSpec>(),
        Some(&other)
    );

    assert!(a.delete_monitor("m", deleted_event).await.expect("delete"));
    let deleted = a.local_change(a.local_change_seq()).expect("delete kept");
    assert!(deleted.change.is_delete() && deleted.change.id == "m");
    assert_eq!(deleted.record::<MonitorSpec>(), None);

    // Readers behind read the records in one go; missing ones are left out.
    for id in ["x", "y"] {
        b.put_monitor(&monitor(id)).await.expect("put");
    }
    let mut read: Vec<String> = a
        .get_many::<MonitorSpec>(&["y", "m", "x"])
        .await
        .expect("get many")
        .into_iter()
        .map(|r| r.id)
        .collect();
    read.sort();
    assert_eq!(read, ["x", "y"]);
    assert!(
        a.get_many::<MonitorSpec>(&[])
            .await
            .expect("none")
            .is_empty()
    );
    a.close().await;
    b.close().await;
}
