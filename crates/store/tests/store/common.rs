//! The test harness: a fresh database per test, and builders for the records tests write.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::RngExt;
use vedette_model::{
    CheckResult, Event, EventType, FailureReason, MonitorSpec, MonitorState, Outcome, Phases,
};
use vedette_store::{CheckRecord, MonitorRecord, MonitorStatus, Store, StoreConfig};

#[path = "../support/postgres.rs"]
mod postgres;

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A database of its own for one test.
pub struct TestDb {
    pub kind: Kind,
    pub cfg: StoreConfig,
    _dir: tempfile::TempDir,
    /// Server URL and name of the database created for this test (PostgreSQL).
    pg: Option<(String, String)>,
}

const PG_ENV: &str = "VEDETTE_TEST_POSTGRES_URL";

impl TestDb {
    pub async fn new(kind: Kind) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().join("data");
        match kind {
            Kind::Sqlite => TestDb {
                kind,
                cfg: StoreConfig::sqlite(data_dir),
                _dir: dir,
                pg: None,
            },
            Kind::Postgres => {
                let server = std::env::var(PG_ENV).unwrap_or_else(|_| {
                    panic!(
                        "{PG_ENV} is not set, so the PostgreSQL half of the store tests cannot \
                         run: run `scripts/with-postgres cargo test -p vedette-store` (it starts \
                         a throwaway PostgreSQL and sets {PG_ENV})"
                    )
                });
                let name = format!("vedette_t_{:016x}", rand::rng().random::<u64>());
                let url = postgres::create_database(&server, &name).await;
                TestDb {
                    kind,
                    cfg: StoreConfig {
                        data_dir,
                        database_url: Some(url),
                    },
                    _dir: dir,
                    pg: Some((server, name)),
                }
            }
        }
    }

    /// Opens a store on this test's database (again, for restart tests).
    pub async fn open(&self) -> Store {
        Store::open(&self.cfg).await.expect("open store")
    }

    /// A URL for a connection of the test's own, behind the store's back.
    pub fn raw_url(&self) -> String {
        match &self.cfg.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.cfg.data_dir.join(vedette_store::SQLITE_FILE).display()
            ),
        }
    }

    /// Drops the PostgreSQL database (a failed test leaves it for inspection).
    pub async fn finish(self) {
        if let Some((server, name)) = &self.pg {
            postgres::drop_database(server, name).await;
        }
    }
}

/// A timestamp at millisecond precision (what the store keeps).
pub fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("valid timestamp")
}

/// Now, at millisecond precision.
pub fn now_ms() -> DateTime<Utc> {
    at_ms(Utc::now().timestamp_millis())
}

/// The ids of every stored monitor, in the store's order (by id).
pub async fn monitor_ids(store: &Store) -> Vec<String> {
    store
        .list_monitors()
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.id)
        .collect()
}

pub fn monitor(id: &str) -> MonitorRecord {
    let mut m = MonitorRecord::new(
        id,
        MonitorSpec::http(format!("https://{id}.example/healthz")),
    );
    m.labels = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
    m
}

pub fn result(
    monitor_id: &str,
    at: DateTime<Utc>,
    outcome: Outcome,
    latency_ms: f64,
) -> CheckResult {
    CheckResult {
        monitor_id: monitor_id.to_owned(),
        started_at: at,
        outcome,
        reason: (outcome == Outcome::Down).then_some(FailureReason::Timeout),
        message: format!("{} in {latency_ms} ms", outcome.as_str()),
        phases: Phases {
            total_ms: latency_ms,
            ..Phases::default()
        },
        status_code: (outcome != Outcome::Down).then_some(200),
        cert_not_after: None,
        assertions: Vec::new(),
        attempts: 1,
        in_maintenance: false,
        gateway: None,
    }
}

pub fn status(
    monitor_id: &str,
    state: MonitorState,
    since: DateTime<Utc>,
    last: &CheckResult,
) -> MonitorStatus {
    MonitorStatus {
        monitor_id: monitor_id.to_owned(),
        state,
        since,
        consecutive_failures: u32::from(last.outcome == Outcome::Down),
        consecutive_successes: u32::from(last.outcome != Outcome::Down),
        last_result_at: Some(last.started_at),
        last_outcome: Some(last.outcome),
        last_message: Some(last.message.clone()),
        last_latency_ms: Some(last.latency_ms()),
        open_incident: None,
    }
}

pub fn event(
    id: &str,
    event_type: EventType,
    monitor_id: &str,
    at: DateTime<Utc>,
    message: &str,
) -> Event {
    Event {
        id: id.to_owned(),
        event_type,
        version: vedette_model::event::EVENT_VERSION,
        occurred_at: at,
        monitor_id: Some(monitor_id.to_owned()),
        data: serde_json::json!({ "monitor_id": monitor_id, "message": message }),
    }
}

/// The event `Store::delete_monitor` writes for an incident it resolves, in tests.
pub fn deleted_event(incident: &vedette_store::Incident) -> Event {
    event(
        &format!("ev-deleted-{}", incident.id),
        EventType::IncidentResolved,
        &incident.monitor_id,
        incident.resolved_at.expect("resolved"),
        "monitor deleted",
    )
}

/// A plain record: the result, an `up`/`down` status, no incident or events.
pub fn record(r: CheckResult) -> CheckRecord {
    let state = if r.outcome == Outcome::Down {
        MonitorState::Down
    } else {
        MonitorState::Up
    };
    CheckRecord {
        status: status(&r.monitor_id, state, r.started_at, &r),
        last_check_only: false,
        result: r,
        incident: None,
        events: Vec::new(),
    }
}
