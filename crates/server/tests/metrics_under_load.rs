//! Attack: scrape `/metrics` without pause while thousands of checks run.
//!
//! Regression test for a lock-order inversion between the engine's statuses and the metrics'
//! per-monitor series that stopped the whole runtime on the first scrape under load. The server
//! runs on a runtime of its own (as in production) and the scraper on another, so a deadlocked
//! server shows as scrapes that time out instead of a test that hangs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use vedette_model::spec::Secret;
use vedette_server::{ServeConfig, serve};

/// Monitors checked every second against one local target.
const MONITORS: usize = 1_500;
/// How long the scraper keeps scraping.
const SCRAPE_FOR: Duration = Duration::from_secs(12);
/// A scrape or health check slower than this counts as a stuck server.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Starts a local target and the server on a runtime of their own; returns the server's
/// address, the token that stops it and its thread.
fn start_server(
    dir: &std::path::Path,
) -> (SocketAddr, CancellationToken, std::thread::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let config_dir = dir.join("monitors");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    let data_dir = dir.join("data");
    let server_stop = stop.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind target");
            let target = listener.local_addr().expect("target addr");
            let app = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" }));
            tokio::spawn(async move { axum::serve(listener, app).await });
            let mut yaml = String::new();
            for i in 0..MONITORS {
                yaml.push_str(&format!(
                    "---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: load-{i}\nspec:\n  http: {{url: \"http://{target}/ok\"}}\n  interval: 1s\n  timeout: 1s\n  assertions: [\"status == 200\"]\n"
                ));
            }
            std::fs::write(config_dir.join("load.yaml"), yaml).expect("write config");
            let config = ServeConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                data_dir,
                config: Some(config_dir),
                bootstrap_token: Some(Secret(vedette_server::api::auth::generate_secret())),
                ..ServeConfig::default()
            };
            let result = serve(config, server_stop, move |addr| {
                let _ = tx.send(addr);
            })
            .await;
            result.expect("server stopped cleanly");
        });
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("server started");
    (addr, stop, thread)
}

/// The sum of `vedette_checks_total` over every monitor and outcome.
fn checks_total(exposition: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| l.starts_with("vedette_checks_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_while_thousands_of_checks_run() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (addr, stop, thread) = start_server(dir.path());
    let http = reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .build()
        .expect("client");
    let get = |path: &str| {
        let request = http.get(format!("http://{addr}{path}"));
        async move {
            let response = request.send().await.unwrap_or_else(|e| {
                panic!("the server did not answer within {ANSWER_WITHIN:?}: {e}")
            });
            assert!(response.status().is_success(), "{}", response.status());
            response.text().await.expect("body")
        }
    };

    // Wait until checks run (the monitors are loaded and the first results are in).
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = loop {
        let total = checks_total(&get("/metrics").await);
        if total >= MONITORS as f64 {
            break total;
        }
        assert!(
            Instant::now() < deadline,
            "checks did not start: {total} recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Two scrapers without pause, and a health check beside them.
    let until = Instant::now() + SCRAPE_FOR;
    let scraper = |n: usize| {
        let get = &get;
        async move {
            let mut scrapes = 0usize;
            while Instant::now() < until {
                let body = get("/metrics").await;
                assert!(
                    body.contains("vedette_scheduler_lag_seconds_bucket"),
                    "scraper {n}"
                );
                scrapes += 1;
            }
            scrapes
        }
    };
    let health = async {
        while Instant::now() < until {
            get("/healthz").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (a, b, ()) = tokio::join!(scraper(0), scraper(1), health);
    let last = checks_total(&get("/metrics").await);
    assert!(a + b >= 10, "only {} scrapes answered", a + b);
    assert!(
        last - first >= MONITORS as f64,
        "checks stalled while scraping: {first} then {last}"
    );

    stop.cancel();
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .expect("join task")
        .expect("server thread");
}
