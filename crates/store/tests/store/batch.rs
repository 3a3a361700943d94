//! The batch write path: results, statuses, incidents and the events outbox.

use chrono::Duration;
use vedette_model::{EventType, MonitorState, Outcome};
use vedette_store::{CheckRecord, IncidentChange, IncidentFilter, IncidentState, MonitorStatus};

use crate::common::{TestDb, at_ms, deleted_event, event, monitor, now_ms, record, result, status};

backend_tests!(
    write_batch_stores_results_status_incident_and_events,
    failed_batch_writes_nothing,
    events_page_in_sequence_order,
    results_page_newest_first,
    restart_keeps_statuses_and_incidents,
    concurrent_batches_add_up,
    delete_monitor_keeps_history,
    a_batch_after_a_delete_brings_no_status_back,
    statuses_catch_up_with_results_written_without_them,
    statuses_catch_up_page_by_page,
);

const T0: i64 = 1_700_000_000_000;

/// Three ups, then a down that opens an incident (batch 1); an up that resolves it (batch 2).
fn incident_batches(monitor_id: &str) -> (Vec<CheckRecord>, Vec<CheckRecord>) {
    let mut first: Vec<CheckRecord> = (0..3)
        .map(|i| {
            record(result(
                monitor_id,
                at_ms(T0 + i * 30_000),
                Outcome::Up,
                20.0 + i as f64,
            ))
        })
        .collect();
    let down_at = at_ms(T0 + 90_000);
    let down = result(monitor_id, down_at, Outcome::Down, 5_000.0);
    let mut down_status = status(monitor_id, MonitorState::Down, down_at, &down);
    down_status.open_incident = Some("inc-1".into());
    first.push(CheckRecord {
        status: down_status,
        last_check_only: false,
        incident: Some(IncidentChange::Open {
            id: "inc-1".into(),
            monitor_id: monitor_id.into(),
            opened_at: down_at,
            cause: down.reason,
            message: down.message.clone(),
            first_failure: down.clone(),
            deployment: None,
        }),
        events: vec![
            event(
                "ev-1",
                EventType::MonitorDown,
                monitor_id,
                down_at,
                "timeout",
            ),
            event(
                "ev-2",
                EventType::IncidentOpened,
                monitor_id,
                down_at,
                "timeout",
            ),
        ],
        result: down,
    });
    let up_at = at_ms(T0 + 120_000);
    let up = result(monitor_id, up_at, Outcome::Up, 25.0);
    let second = vec![CheckRecord {
        status: status(monitor_id, MonitorState::Up, up_at, &up),
        last_check_only: false,
        incident: Some(IncidentChange::Resolve {
            id: "inc-1".into(),
            resolved_at: up_at,
        }),
        events: vec![
            event("ev-3", EventType::MonitorUp, monitor_id, up_at, "HTTP 200"),
            event(
                "ev-4",
                EventType::IncidentResolved,
                monitor_id,
                up_at,
                "HTTP 200",
            ),
        ],
        result: up,
    }];
    (first, second)
}

async fn write_batch_stores_results_status_incident_and_events(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let (first, second) = incident_batches("api");
    store.write_batch(&first).await.expect("batch 1");
    store.write_batch(&[]).await.expect("empty batch");

    let status = store
        .monitor_status("api")
        .await
        .expect("status")
        .expect("exists");
    assert_eq!(status, first[3].status);
    let (results, next) = store
        .list_results("api", at_ms(T0), at_ms(T0 + 3_600_000), 100, None)
        .await
        .expect("results");
    assert_eq!(next, None);
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].result, first[3].result);
    let open = store
        .open_incident("api")
        .await
        .expect("open")
        .expect("an open incident");
    assert_eq!(open.id, "inc-1");
    assert_eq!(open.state, IncidentState::Open);
    assert_eq!(open.first_failure.as_ref(), Some(&first[3].result));
    assert_eq!(open.cause, first[3].result.reason);
    assert_eq!(
        open.timeline.iter().map(|t| t.kind).collect::<Vec<_>>(),
        [EventType::MonitorDown, EventType::IncidentOpened]
    );

    store.write_batch(&second).await.expect("batch 2");
    assert!(store.open_incident("api").await.expect("open").is_none());
    let incident = store
        .get_incident("inc-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(incident.state, IncidentState::Resolved);
    assert_eq!(incident.resolved_at, Some(at_ms(T0 + 120_000)));
    assert_eq!(incident.timeline.len(), 4);
    assert_eq!(incident.timeline[3].kind, EventType::IncidentResolved);
    assert!(incident.timeline[0].message.contains("timeout"));
    assert_eq!(
        store.monitor_statuses().await.expect("statuses"),
        vec![second[0].status.clone()]
    );

    let events = store.list_events(None, 100).await.expect("events");
    let ids: Vec<&str> = events.iter().map(|(_, e)| e.id.as_str()).collect();
    assert_eq!(ids, ["ev-1", "ev-2", "ev-3", "ev-4"]);
    assert_eq!(events[0].1, first[3].events[0]);

    let filtered = |f: IncidentFilter| {
        let store = store.clone();
        async move {
            store
                .list_incidents(&f)
                .await
                .expect("list incidents")
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(filtered(IncidentFilter::default()).await, ["inc-1"]);
    let by_monitor = IncidentFilter {
        monitor_id: Some("api".into()),
        ..Default::default()
    };
    assert_eq!(filtered(by_monitor).await, ["inc-1"]);
    let other = IncidentFilter {
        monitor_id: Some("other".into()),
        ..Default::default()
    };
    assert!(filtered(other).await.is_empty());
    let open_only = IncidentFilter {
        state: Some(IncidentState::Open),
        ..Default::default()
    };
    assert!(filtered(open_only).await.is_empty());
    let resolved = IncidentFilter {
        state: Some(IncidentState::Resolved),
        opened_after: Some(at_ms(T0)),
        opened_before: Some(at_ms(T0 + 100_000)),
        limit: 5,
        ..Default::default()
    };
    assert_eq!(filtered(resolved).await, ["inc-1"]);
    let later = IncidentFilter {
        opened_after: Some(at_ms(T0 + 100_000)),
        ..Default::default()
    };
    assert!(filtered(later).await.is_empty());

    // A retried batch does not duplicate the outbox or reopen the incident.
    store.write_batch(&second).await.expect("retry");
    assert_eq!(store.list_events(None, 100).await.expect("events").len(), 4);
    assert!(store.open_incident("api").await.expect("open").is_none());
    store.close().await;
}

async fn failed_batch_writes_nothing(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    // Break the last step of the transaction behind the store's back.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.raw_url())
        .await
        .expect("raw connection");
    sqlx::raw_sql("DROP TABLE events")
        .execute(&mut conn)
        .await
        .expect("drop events");
    <sqlx::AnyConnection as sqlx::Connection>::close(conn)
        .await
        .expect("close");

    let (first, _) = incident_batches("api");
    assert!(store.write_batch(&first).await.is_err());
    let (results, _) = store
        .list_results("api", at_ms(0), at_ms(T0 * 2), 100, None)
        .await
        .expect("results");
    assert!(results.is_empty(), "results survived a failed batch");
    assert_eq!(store.monitor_status("api").await.expect("status"), None);
    assert_eq!(store.get_incident("inc-1").await.expect("incident"), None);
    let summary = store
        .summary("api", at_ms(0), at_ms(T0 * 2))
        .await
        .expect("summary");
    assert_eq!(summary.checks, 0, "rollups survived a failed batch");
    store.close().await;
}

async fn events_page_in_sequence_order(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let mut written = Vec::new();
    for b in 0..5_i64 {
        let mut rec = record(result("api", at_ms(T0 + b * 1_000), Outcome::Up, 10.0));
        for e in 0..2 {
            // Occurrence times deliberately out of order: the sequence, not the time, orders.
            let id = format!("ev-{b}-{e}");
            rec.events.push(event(
                &id,
                EventType::MonitorUp,
                "api",
                at_ms(T0 - b * 1_000),
                &id,
            ));
            written.push(id);
        }
        store.write_batch(&[rec]).await.expect("batch");
    }
    let mut read = Vec::new();
    let mut cursor = None;
    let mut last_seq = 0;
    loop {
        let page = store.list_events(cursor, 3).await.expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        for (seq, e) in &page {
            assert!(*seq > last_seq, "sequence not increasing");
            last_seq = *seq;
            read.push(e.id.clone());
        }
        cursor = page.last().map(|(seq, _)| *seq);
    }
    assert_eq!(read, written);
    assert_eq!(store.last_event_seq().await.expect("last seq"), last_seq);
    assert!(
        store
            .list_events(Some(last_seq), 10)
            .await
            .expect("tail")
            .is_empty()
    );
    store.close().await;
}

async fn results_page_newest_first(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    // 25 results, pairs sharing a start time, written out of time order across two batches.
    let all: Vec<CheckRecord> = (0..25_i64)
        .map(|i| {
            record(result(
                "api",
                at_ms(T0 + (i / 2) * 60_000),
                Outcome::Up,
                i as f64,
            ))
        })
        .collect();
    store.write_batch(&all[12..]).await.expect("batch");
    store.write_batch(&all[..12]).await.expect("batch");
    store
        .write_batch(&[record(result("other", at_ms(T0), Outcome::Up, 1.0))])
        .await
        .expect("other monitor");

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (page, next) = store
            .list_results("api", at_ms(T0), at_ms(T0 + 3_600_000), 10, cursor)
            .await
            .expect("page");
        pages += 1;
        seen.extend(
            page.into_iter()
                .map(|r| (r.result.started_at, r.result.latency_ms(), r.id)),
        );
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    for pair in seen.windows(2) {
        assert!(
            (pair[0].0, pair[0].2) > (pair[1].0, pair[1].2),
            "not newest first: {pair:?}"
        );
    }
    // The range is half-open and filters by start time.
    let (window, _) = store
        .list_results("api", at_ms(T0 + 60_000), at_ms(T0 + 180_000), 100, None)
        .await
        .expect("window");
    let mut latencies: Vec<f64> = window.iter().map(|r| r.result.latency_ms()).collect();
    latencies.sort_by(f64::total_cmp);
    assert_eq!(latencies, [2.0, 3.0, 4.0, 5.0]);
    store.close().await;
}

async fn restart_keeps_statuses_and_incidents(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    store.put_monitor(&monitor("web")).await.expect("put");
    let (first, _) = incident_batches("api");
    store.write_batch(&first).await.expect("batch");
    let web = result("web", now_ms(), Outcome::Degraded, 900.0);
    store.write_batch(&[record(web)]).await.expect("batch");
    let statuses = store.monitor_statuses().await.expect("statuses");
    assert_eq!(statuses.len(), 2);
    store.close().await;

    let reopened = db.open().await;
    assert_eq!(
        reopened.monitor_statuses().await.expect("statuses"),
        statuses
    );
    let open = reopened
        .open_incident("api")
        .await
        .expect("open")
        .expect("still open");
    assert_eq!(open.id, "inc-1");
    assert_eq!(
        reopened.list_events(None, 10).await.expect("events").len(),
        2
    );
    reopened.close().await;
}

async fn concurrent_batches_add_up(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let tasks: Vec<_> = (0..4_i64)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for b in 0..10_i64 {
                    let batch: Vec<CheckRecord> = (0..5_i64)
                        .map(|i| {
                            let at = at_ms(T0 + t * 100 + b * 10 + i);
                            record(result("api", at, Outcome::Up, 10.0))
                        })
                        .collect();
                    store.write_batch(&batch).await.expect("concurrent batch");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let summary = store
        .summary("api", at_ms(T0 - 60_000), at_ms(T0 + 60_000))
        .await
        .expect("summary");
    assert_eq!(summary.checks, 200);
    assert_eq!(summary.histogram.count(), 200);
    let minute = store
        .series("api", at_ms(T0), at_ms(T0 + 1), Duration::minutes(1))
        .await
        .expect("series");
    assert_eq!(minute.iter().map(|b| b.checks).sum::<u64>(), 200);
    store.close().await;
}

async fn delete_monitor_keeps_history(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let (first, _) = incident_batches("api");
    store.write_batch(&first).await.expect("batch");
    assert!(
        store
            .delete_monitor("api", deleted_event)
            .await
            .expect("delete")
    );
    assert_eq!(store.monitor_status("api").await.expect("status"), None);
    assert!(store.monitor_statuses().await.expect("statuses").is_empty());
    let (results, _) = store
        .list_results("api", at_ms(T0), at_ms(T0 + 3_600_000), 100, None)
        .await
        .expect("results");
    assert_eq!(results.len(), 4);
    let incident = store
        .get_incident("inc-1")
        .await
        .expect("incident")
        .expect("kept");
    assert_eq!(incident.state, IncidentState::Resolved);
    assert!(incident.resolved_at.is_some());
    let events = store.list_events(None, 100).await.expect("events");
    let (_, last) = events.last().expect("an event");
    assert_eq!(last.id, "ev-deleted-inc-1");
    assert_eq!(last.event_type, EventType::IncidentResolved);
    assert!(
        store
            .open_incident("api")
            .await
            .expect("open incident")
            .is_none()
    );
    assert_eq!(
        store
            .summary("api", at_ms(T0), at_ms(T0 + 3_600_000))
            .await
            .expect("summary")
            .checks,
        4
    );
    store.close().await;
}

/// Checks that ran while their monitor was deleted and are written after the delete are kept
/// as history, but bring back no status and open or announce nothing.
async fn a_batch_after_a_delete_brings_no_status_back(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    store.put_monitor(&monitor("web")).await.expect("put");
    assert!(
        store
            .delete_monitor("api", deleted_event)
            .await
            .expect("delete")
    );
    let (mut first, _) = incident_batches("api");
    first.push(record(result("web", at_ms(T0), Outcome::Up, 5.0)));
    store.write_batch(&first).await.expect("batch");
    let late = vedette_store::MonitorStatus::pending("api", at_ms(T0));
    store.put_status(&late).await.expect("status");

    assert_eq!(store.monitor_status("api").await.expect("status"), None);
    assert!(
        store
            .open_incident("api")
            .await
            .expect("incident")
            .is_none()
    );
    let events = store.list_events(None, 100).await.expect("events");
    assert!(events.is_empty(), "{events:?}");
    let (results, _) = store
        .list_results("api", at_ms(T0), at_ms(T0 + 3_600_000), 100, None)
        .await
        .expect("results");
    assert_eq!(results.len(), 4, "kept as history");
    let statuses = store.monitor_statuses().await.expect("statuses");
    let ids: Vec<&str> = statuses.iter().map(|s| s.monitor_id.as_str()).collect();
    assert_eq!(ids, ["web"]);
    store.close().await;
}

/// Records of `n` more successes after `prev`, each status only changing the last check, as
/// the engine marks them.
fn repeated_successes(prev: &MonitorStatus, from_ms: i64, n: i64) -> Vec<CheckRecord> {
    let mut status = prev.clone();
    (1..=n)
        .map(|i| {
            let r = result(
                &prev.monitor_id,
                at_ms(from_ms + i * 10_000),
                Outcome::Up,
                30.0 + i as f64,
            );
            let before = status.clone();
            status.consecutive_successes += 1;
            status.last_result_at = Some(r.started_at);
            status.last_message = Some(r.message.clone());
            status.last_latency_ms = Some(r.latency_ms());
            assert!(status.only_last_check_differs(&before));
            CheckRecord {
                result: r,
                status: status.clone(),
                last_check_only: true,
                incident: None,
                events: Vec::new(),
            }
        })
        .collect()
}

async fn statuses_catch_up_with_results_written_without_them(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    store.put_monitor(&monitor("web")).await.expect("put");
    let first = record(result("api", at_ms(T0), Outcome::Up, 20.0));
    let web = record(result("web", at_ms(T0), Outcome::Up, 20.0));
    store
        .write_batch(&[first.clone(), web.clone()])
        .await
        .expect("batch 1");
    assert_eq!(store.catch_up_statuses().await.expect("catch up"), 0);

    // Three successes whose statuses only move the last check: the stored status stays, the
    // results are stored, and catching up restores what the engine holds.
    let lazy = repeated_successes(&first.status, T0, 3);
    store.write_batch(&lazy).await.expect("batch 2");
    let stored = store.monitor_status("api").await.expect("status");
    assert_eq!(stored.as_ref(), Some(&first.status));
    assert_eq!(store.catch_up_statuses().await.expect("catch up"), 1);
    let held = &lazy[2].status;
    assert_eq!(held.consecutive_successes, 4);
    let stored = store.monitor_status("api").await.expect("status");
    assert_eq!(stored.as_ref(), Some(held));
    assert_eq!(store.catch_up_statuses().await.expect("again"), 0);

    // A restart after more of them (a crash before the writer caught up): the reopened
    // store catches up the same way; `web` had nothing newer and is left alone.
    let more = repeated_successes(held, T0 + 30_000, 2);
    store.write_batch(&more).await.expect("batch 3");
    store.close().await;
    let reopened = db.open().await;
    assert_eq!(reopened.catch_up_statuses().await.expect("catch up"), 1);
    assert_eq!(
        reopened.monitor_statuses().await.expect("statuses"),
        vec![more[1].status.clone(), web.status.clone()]
    );

    // A written status after unwritten ones in one batch wins; nothing is left to count.
    let mut mixed = repeated_successes(&more[1].status, T0 + 50_000, 1);
    let down = result("api", at_ms(T0 + 70_000), Outcome::Down, 5_000.0);
    let down = record(down);
    mixed.push(down.clone());
    reopened.write_batch(&mixed).await.expect("batch 4");
    assert_eq!(reopened.catch_up_statuses().await.expect("catch up"), 0);
    let stored = reopened.monitor_status("api").await.expect("status");
    assert_eq!(stored.as_ref(), Some(&down.status));
    reopened.close().await;
}

async fn statuses_catch_up_page_by_page(db: &TestDb) {
    let store = db.open().await;
    let ids = ["a", "b", "c", "d", "e"];
    let mut held = Vec::new();
    for id in ids {
        store.put_monitor(&monitor(id)).await.expect("put");
        let first = record(result(id, at_ms(T0), Outcome::Up, 20.0));
        store
            .write_batch(std::slice::from_ref(&first))
            .await
            .expect("first");
        // `c` has nothing newer: a page must move past it all the same.
        if id == "c" {
            held.push(first.status);
            continue;
        }
        let lazy = repeated_successes(&first.status, T0, 2);
        store.write_batch(&lazy).await.expect("lazy");
        held.push(lazy[1].status.clone());
    }

    let (mut after, mut pages, mut changed) = (String::new(), Vec::new(), 0);
    loop {
        let page = store
            .catch_up_statuses_after(&after, 2)
            .await
            .expect("page");
        changed += page.changed;
        pages.push(page.next.clone());
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(
        pages,
        vec![Some("b".to_owned()), Some("d".to_owned()), None],
        "pages of two monitors, in id order"
    );
    assert_eq!(changed, 4);
    assert_eq!(store.monitor_statuses().await.expect("statuses"), held);
    assert_eq!(store.catch_up_statuses().await.expect("again"), 0);
    store.close().await;
}
