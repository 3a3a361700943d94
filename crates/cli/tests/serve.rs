//! End-to-end: the real `vedette` binary against real targets on 127.0.0.1, with its SQLite
//! store read back by the test.

mod support;

use std::time::Duration;

use support::{Server, Target, wait_for, write};
use vedette_model::MonitorState;
use vedette_store::{IncidentFilter, IncidentState, Store, StoreConfig};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Reads the server's SQLite store from the test (WAL allows a concurrent reader).
struct Reader {
    rt: tokio::runtime::Runtime,
    store: Store,
}

impl Reader {
    fn open(dir: &std::path::Path) -> Reader {
        let rt = runtime();
        let store = rt.block_on(Store::open(&StoreConfig::sqlite(dir))).unwrap();
        Reader { rt, store }
    }

    fn status(&self, id: &str) -> Option<vedette_store::MonitorStatus> {
        self.rt.block_on(self.store.monitor_status(id)).unwrap()
    }

    fn state(&self, id: &str) -> Option<MonitorState> {
        self.status(id).map(|s| s.state)
    }

    /// The stored results of `id`, newest first.
    fn results(&self, id: &str) -> Vec<vedette_store::StoredResult> {
        let (page, _) = self
            .rt
            .block_on(self.store.list_results(
                id,
                chrono::DateTime::UNIX_EPOCH,
                chrono::Utc::now() + chrono::Duration::minutes(1),
                10_000,
                None,
            ))
            .unwrap();
        page
    }

    fn incidents(&self, id: &str) -> Vec<vedette_store::Incident> {
        let filter = IncidentFilter {
            monitor_id: Some(id.to_owned()),
            ..IncidentFilter::default()
        };
        self.rt
            .block_on(self.store.list_incidents(&filter))
            .unwrap()
    }

    fn event_types(&self) -> Vec<String> {
        self.rt
            .block_on(self.store.list_events(None, 10_000))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.event_type.as_str().to_owned())
            .collect()
    }
}

fn http_monitor(id: &str, url: &str, extra: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: {id}\nspec:\n  http: {{url: \"{url}\"}}\n  interval: 1s\n  timeout: 900ms\n  assertions: [\"status == 200\"]\n{extra}---\n"
    )
}

#[test]
fn validate_prints_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "good.yaml",
        &http_monitor("good", "http://127.0.0.1:9/", ""),
    );
    let bad = write(
        dir.path(),
        "bad.yaml",
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: bad\nspec:\n  http:\n    url: ftp://x\n  interval: 5x\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(["validate", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Both problems of the document, the type error and the semantic one, at once.
    for (line, field) in [(7, "spec.http.url"), (8, "spec.interval")] {
        assert!(
            stderr.contains(&format!("{}:{line}: {field}", bad.display())),
            "{stderr}"
        );
    }

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vedette"))
        .args(["validate", "-f"])
        .arg(dir.path().join("good.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn monitor_goes_down_opens_an_incident_and_recovers() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "monitors.yaml",
        &http_monitor("api", &target.url(), ""),
    );
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--config", config.to_str().unwrap()]);
    let reader = Reader::open(&data);
    let limit = Duration::from_secs(15);

    wait_for(limit, "api up", || {
        (reader.state("api") == Some(MonitorState::Up)).then_some(())
    });
    target.set_status(503);
    wait_for(limit, "api down", || {
        (reader.state("api") == Some(MonitorState::Down)).then_some(())
    });
    let incidents = reader.incidents("api");
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].state, IncidentState::Open);
    let first = incidents[0]
        .first_failure
        .clone()
        .expect("first failing result");
    assert_eq!(first.assertions[0].actual, "status (503) == 200");

    target.set_status(200);
    wait_for(limit, "api up again", || {
        (reader.state("api") == Some(MonitorState::Up)).then_some(())
    });
    wait_for(limit, "incident resolved", || {
        (reader.incidents("api")[0].state == IncidentState::Resolved).then_some(())
    });
    let events = reader.event_types();
    for wanted in [
        "monitor.down",
        "incident.opened",
        "monitor.up",
        "incident.resolved",
    ] {
        assert!(
            events.iter().any(|e| e == wanted),
            "{wanted} missing from {events:?}"
        );
    }
    assert!(server.logs().contains("state changed"));
    assert!(server.stop(), "graceful stop failed");
}

#[test]
fn heartbeat_pings_and_reported_failures() {
    let dir = tempfile::tempdir().unwrap();
    let token = "abcdefghijklmnop0123";
    let config = write(
        dir.path(),
        "hb.yaml",
        &format!(
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {{id: nightly}}\nspec:\n  heartbeat: {{token: {token}, grace: 1s}}\n  interval: 2s\n"
        ),
    );
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--config", config.to_str().unwrap()]);
    let reader = Reader::open(&data);
    let client = reqwest::blocking::Client::new();
    let limit = Duration::from_secs(15);
    let get_status = |path: &str| client.get(server.url(path)).send().unwrap().status();
    let wait_state = |what: &str, state: MonitorState| {
        wait_for(limit, what, || {
            (reader.state("nightly") == Some(state)).then_some(())
        })
    };

    assert_eq!(get_status(&format!("/push/{token}")), 200);
    wait_state("nightly up", MonitorState::Up);
    let down = client
        .post(server.url(&format!("/push/{token}?status=down&msg=disk%20full")))
        .send()
        .unwrap();
    assert_eq!(down.status(), 200);
    wait_state("nightly down", MonitorState::Down);
    assert_eq!(reader.incidents("nightly")[0].message, "disk full");
    assert_eq!(get_status("/push/nope-nope-nope-nope"), 404);

    // No ping for interval + grace: missed.
    assert_eq!(get_status(&format!("/push/{token}")), 200);
    wait_state("nightly up after ping", MonitorState::Up);
    wait_state("nightly missed", MonitorState::Down);
    let missed = reader.incidents("nightly");
    assert_eq!(missed[0].cause, Some(vedette_model::FailureReason::Missed));
    drop(server);
}

#[test]
fn sighup_reloads_config_files() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    write(&conf, "a.yaml", &http_monitor("a", &target.url(), ""));
    let failing = Target::start();
    failing.set_status(503);
    write(&conf, "d.yaml", &http_monitor("d", &failing.url(), ""));
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--config", conf.to_str().unwrap()]);
    let reader = Reader::open(&data);
    let limit = Duration::from_secs(15);
    wait_for(limit, "a up", || {
        (reader.state("a") == Some(MonitorState::Up)).then_some(())
    });
    wait_for(limit, "an incident for d", || {
        reader.incidents("d").first().map(|i| i.id.clone())
    });

    write(&conf, "b.yaml", &http_monitor("b", &target.url(), ""));
    std::fs::remove_file(conf.join("a.yaml")).unwrap();
    // A monitor removed from the files while down resolves its incident.
    std::fs::remove_file(conf.join("d.yaml")).unwrap();
    server.signal("HUP");
    wait_for(limit, "d's incident resolved", || {
        reader
            .incidents("d")
            .iter()
            .all(|i| i.state == IncidentState::Resolved)
            .then_some(())
    });
    assert!(
        reader
            .event_types()
            .contains(&"incident.resolved".to_owned()),
        "{:?}",
        reader.event_types()
    );
    wait_for(limit, "b up", || {
        (reader.state("b") == Some(MonitorState::Up)).then_some(())
    });
    wait_for(limit, "a removed", || {
        reader
            .rt
            .block_on(reader.store.get_monitor("a"))
            .unwrap()
            .is_none()
            .then_some(())
    });

    // A broken file is refused and the running configuration stays.
    write(&conf, "b.yaml", "kind: Monitor\n");
    server.signal("HUP");
    wait_for(limit, "reload error logged", || {
        server.logs().contains("config reload failed").then_some(())
    });
    assert!(
        reader
            .rt
            .block_on(reader.store.get_monitor("b"))
            .unwrap()
            .is_some()
    );
    assert!(server.stop());
}

#[test]
fn kill_9_keeps_state_and_incidents_consistent() {
    let target = Target::start();
    target.set_status(500);
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    for n in 0..20 {
        config.push_str(&http_monitor(&format!("m{n}"), &target.url(), ""));
    }
    let config = write(dir.path(), "many.yaml", &config);
    let data = dir.path().join("data");
    let args = ["--config", config.to_str().unwrap()];
    let limit = Duration::from_secs(20);

    let server = Server::start(&data, &args);
    let reader = Reader::open(&data);
    wait_for(limit, "all down", || {
        (0..20)
            .all(|n| reader.state(&format!("m{n}")) == Some(MonitorState::Down))
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    server.crash();

    let consistent = |reader: &Reader| {
        for n in 0..20 {
            let id = format!("m{n}");
            let status = reader.status(&id).unwrap();
            let open: Vec<_> = reader
                .incidents(&id)
                .into_iter()
                .filter(|i| i.state == IncidentState::Open)
                .collect();
            assert!(open.len() <= 1, "{id}: {} open incidents", open.len());
            assert_eq!(
                status.open_incident,
                open.first().map(|i| i.id.clone()),
                "{id}"
            );
        }
    };
    consistent(&reader);
    let results_before: usize = (0..20)
        .map(|n| {
            let (page, _) = reader
                .rt
                .block_on(reader.store.list_results(
                    &format!("m{n}"),
                    chrono::DateTime::UNIX_EPOCH,
                    chrono::Utc::now(),
                    10_000,
                    None,
                ))
                .unwrap();
            page.len()
        })
        .sum();
    assert!(
        results_before >= 40,
        "only {results_before} results were committed"
    );

    let server = Server::start(&data, &args);
    std::thread::sleep(Duration::from_secs(2));
    consistent(&reader);
    for n in 0..20 {
        assert_eq!(
            reader.incidents(&format!("m{n}")).len(),
            1,
            "a second incident opened after restart"
        );
    }
    target.set_status(200);
    wait_for(limit, "all recovered", || {
        (0..20)
            .all(|n| reader.state(&format!("m{n}")) == Some(MonitorState::Up))
            .then_some(())
    });
    consistent(&reader);
    assert!(server.stop());
}

#[test]
fn statuses_skip_repeated_successes_and_catch_up_after_a_crash() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "monitors.yaml",
        &http_monitor("api", &target.url(), ""),
    );
    let data = dir.path().join("data");
    let args = ["--config", config.to_str().unwrap()];
    let limit = Duration::from_secs(20);

    let server = Server::start(&data, &args);
    let reader = Reader::open(&data);
    wait_for(limit, "four results", || {
        (reader.results("api").len() >= 4).then_some(())
    });
    server.crash();
    // Only the first result changed more than the last check: the later ones left the stored
    // status as it was.
    let before = reader.results("api");
    let stored = reader.status("api").unwrap();
    assert_eq!(stored.state, MonitorState::Up);
    assert_eq!(stored.consecutive_successes, 1);
    // The store keeps times to the millisecond.
    let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
    assert_eq!(
        ms(stored.last_result_at),
        ms(Some(before.last().unwrap().result.started_at))
    );

    // The restarted server catches the status up with the results before it checks again.
    let server = Server::start(&data, &args);
    wait_for(limit, "checked again", || {
        (reader.results("api").len() > before.len()).then_some(())
    });
    let stored = reader.status("api").unwrap();
    assert!(
        stored.consecutive_successes >= before.len() as u32,
        "{stored:?}"
    );
    assert!(ms(stored.last_result_at) >= ms(Some(before[0].result.started_at)));

    // A clean stop catches up the rest: the streak counts every stored result.
    assert!(server.stop());
    let after = reader.results("api");
    let stored = reader.status("api").unwrap();
    assert_eq!(stored.consecutive_successes, after.len() as u32);
    assert_eq!(
        ms(stored.last_result_at),
        ms(Some(after[0].result.started_at))
    );
    assert_eq!(
        stored.last_message.as_deref(),
        Some(after[0].result.message.as_str())
    );
    let latency = stored.last_latency_ms.unwrap();
    assert!(
        (latency - after[0].result.latency_ms()).abs() < 1e-9,
        "{latency}"
    );
}

#[test]
fn demo_shows_states_and_incidents_within_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--demo"]);
    let reader = Reader::open(&data);
    let limit = Duration::from_secs(50);
    wait_for(limit, "demo states", || {
        (reader.state("demo-healthy") == Some(MonitorState::Up)
            && reader.state("demo-slow") == Some(MonitorState::Degraded)
            && reader.state("demo-failing") == Some(MonitorState::Down)
            && !reader.incidents("demo-failing").is_empty())
        .then_some(())
    });
    wait_for(limit, "flapping incident", || {
        (!reader.incidents("demo-flapping").is_empty()).then_some(())
    });
    assert!(server.logs().contains("incident.opened"));
    assert!(server.stop());
}
