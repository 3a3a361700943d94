//! `vedette serve`: opens the store, restores monitors and their state, starts the scheduler,
//! the batch writer and the HTTP server, reloads config files on SIGHUP, and shuts down
//! gracefully (in-flight checks finish or are cancelled, queued results are flushed).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vedette_probe::ProbeContext;
use vedette_store::{Retention, Store, StoreConfig};

use crate::app::{AppState, router};
use crate::engine::Engine;
use crate::scheduler::Scheduler;
use crate::{ServerError, demo, files, writer};

/// How `vedette serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; SQLite under `data_dir` when absent.
    pub database_url: Option<String>,
    /// Config file or directory of monitors and maintenance windows.
    pub config: Option<PathBuf>,
    /// Start the demo service and its monitors.
    pub demo: bool,
    /// Most checks running at once.
    pub max_concurrency: usize,
    /// How long shutdown waits for in-flight checks.
    pub shutdown_grace: Duration,
    /// How long results and rollups are kept.
    pub retention: Retention,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("vedette-data"),
            database_url: None,
            config: None,
            demo: false,
            max_concurrency: 512,
            shutdown_grace: Duration::from_secs(10),
            retention: Retention::default(),
        }
    }
}

/// Runs the server until `stop` is cancelled. Calls `on_listen` with the bound address.
pub async fn serve(
    config: ServeConfig,
    stop: CancellationToken,
    on_listen: impl FnOnce(SocketAddr) + Send,
) -> Result<(), ServerError> {
    let store = Store::open(&StoreConfig {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.clone(),
    })
    .await?;
    tracing::info!(backend = ?store.backend(), "store opened");
    let probe = ProbeContext::new()?;
    let scheduler = Scheduler::new(config.max_concurrency);
    let (writer_tx, writer_rx) = mpsc::unbounded_channel();
    let writer_stop = CancellationToken::new();
    let writer_task = tokio::spawn(writer::run(store.clone(), writer_rx, writer_stop.clone()));
    let engine = Engine::new(store.clone(), probe, scheduler.handle(), writer_tx).await?;

    for record in store.list_monitors().await? {
        if record.source == files::FILE_SOURCE || record.source == demo::DEMO_SOURCE {
            continue;
        }
        let id = record.id.clone();
        if let Err(e) = engine.upsert(record).await {
            tracing::error!(monitor = %id, error = %e, "not running a stored monitor");
        }
    }
    if let Some(path) = &config.config {
        let applied = files::apply(&engine, path).await?;
        tracing::info!(path = %path.display(), ?applied, "config loaded");
    } else {
        files::reload_maintenance(&engine).await?;
    }
    let app_stop = stop.child_token();
    if config.demo {
        demo::start(&engine, app_stop.clone()).await?;
    }

    let checks_stop = CancellationToken::new();
    let scheduler_task =
        tokio::spawn(scheduler.run(engine.clone(), checks_stop.clone(), config.shutdown_grace));
    spawn_reloader(engine.clone(), config.config.clone(), stop.clone());
    spawn_retention(store.clone(), config.retention, stop.clone());

    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let ready = Arc::new(AtomicBool::new(false));
    let app = router(AppState {
        engine: engine.clone(),
        ready: ready.clone(),
    });
    tracing::info!(%addr, "listening");
    on_listen(addr);
    ready.store(true, Ordering::Relaxed);
    let http_stop = app_stop.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { http_stop.cancelled().await })
        .await?;

    tracing::info!("shutting down: finishing in-flight checks");
    checks_stop.cancel();
    let _ = scheduler_task.await;
    writer_stop.cancel();
    let _ = writer_task.await;
    tracing::info!("stopped; every queued result was written");
    Ok(())
}

fn spawn_reloader(engine: Arc<Engine>, path: Option<PathBuf>, stop: CancellationToken) {
    let Some(path) = path else { return };
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::error!("cannot listen for SIGHUP; config reload is off");
            return;
        };
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = hup.recv() => {}
            }
            match files::apply(&engine, &path).await {
                Ok(applied) => tracing::info!(?applied, "config reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "config reload failed; keeping the running configuration")
                }
            }
        }
    });
}

fn spawn_retention(store: Store, retention: Retention, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match store.apply_retention(&retention, chrono::Utc::now()).await {
                Ok(report) => tracing::debug!(?report, "retention applied"),
                Err(e) => tracing::error!(error = %e, "retention failed"),
            }
        }
    });
}
