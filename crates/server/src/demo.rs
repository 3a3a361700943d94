//! `serve --demo`: a small service on loopback with healthy, slow, flapping and failing
//! endpoints, plus monitors for them, so a new user sees states and incidents change within a
//! minute without internet access.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vedette_model::record::labels::MANAGED_BY;
use vedette_model::{MonitorSpec, Record, Source};
use vedette_store::Store;

use crate::ServerError;

/// The `source` of demo monitors.
pub const DEMO_SOURCE: &str = "demo";

/// How long the flapping endpoint stays in each state.
const FLAP_PERIOD: Duration = Duration::from_secs(20);

fn demo_app(started: Instant) -> Router {
    Router::new()
        .route(
            "/healthy",
            get(|| async { (StatusCode::OK, r#"{"status":"UP"}"#) }),
        )
        .route(
            "/slow",
            get(|| async {
                let ms = 350 + rand::random::<u64>() % 300;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                (StatusCode::OK, r#"{"status":"UP"}"#)
            }),
        )
        .route(
            "/flapping",
            get(move || async move {
                let phase = started.elapsed().as_secs() / FLAP_PERIOD.as_secs();
                if phase.is_multiple_of(2) {
                    (StatusCode::OK, r#"{"status":"UP"}"#)
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"DOWN"}"#)
                }
            }),
        )
        .route(
            "/failing",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, r#"{"status":"DOWN"}"#) }),
        )
}

fn demo_monitors(base: &str) -> Vec<(&'static str, MonitorSpec)> {
    let monitor = |path: &str, name: &str, assertions: &[&str]| {
        let mut spec = MonitorSpec::http(format!("{base}{path}"));
        spec.name = Some(name.to_owned());
        spec.interval = vedette_model::Duration::from_secs(5);
        spec.timeout = vedette_model::Duration::from_secs(3);
        spec.assertions = assertions.iter().map(|a| (*a).to_owned()).collect();
        spec
    };
    let mut slow = monitor("/slow", "Demo: slow service", &["status == 200"]);
    slow.degraded_after = Some(vedette_model::Duration::from_millis(300));
    let mut flapping = monitor(
        "/flapping",
        "Demo: flapping service",
        &["status == 200", r#"body.$.status == "UP""#],
    );
    flapping.failure_threshold = 2;
    flapping.success_threshold = 2;
    vec![
        (
            "demo-healthy",
            monitor(
                "/healthy",
                "Demo: healthy service",
                &["status == 200", "response_time < 1s"],
            ),
        ),
        ("demo-slow", slow),
        ("demo-flapping", flapping),
        (
            "demo-failing",
            monitor("/failing", "Demo: failing service", &["status == 200"]),
        ),
    ]
}

/// Starts the demo service on 127.0.0.1 and stores its monitors (the engine follows the
/// store); returns its address.
pub async fn start(store: &Store, stop: CancellationToken) -> Result<SocketAddr, ServerError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = demo_app(Instant::now());
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "demo service stopped");
        }
    });
    for (id, spec) in demo_monitors(&format!("http://{addr}")) {
        store
            .put_monitor(
                &Record::new(id, spec)
                    .with_labels([(MANAGED_BY.to_owned(), Source::Demo.to_string())].into())
                    .with_source(Source::Demo),
            )
            .await?;
    }
    tracing::info!(%addr, "demo service started with 4 monitors: healthy, slow, flapping, failing");
    Ok(addr)
}
