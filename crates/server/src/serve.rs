//! `vedette serve`: opens the store, restores monitors and their state, starts the scheduler,
//! the batch writer, the webhook dispatcher and the HTTP server, reloads config files on
//! SIGHUP, and shuts down gracefully (in-flight checks finish or are cancelled, queued results
//! are flushed, in-flight webhook attempts finish).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vedette_model::spec::Secret;
use vedette_probe::ProbeContext;
use vedette_store::{Retention, Store, StoreConfig};

use vedette_webhooks::delivery::DeliveryError;
use vedette_webhooks::{Catalog, Dispatcher, DispatcherConfig, RetryPolicy};

use crate::api::auth::{self, Bootstrap};
use crate::api::webhooks::WebhookServices;
use crate::app::{AppState, router};
use crate::engine::Engine;
use crate::limits::{Guards, HttpLimits};
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
    /// Admin token created at first start, when the database has no token yet
    /// (`VEDETTE_BOOTSTRAP_TOKEN`); generated and logged once when absent.
    pub bootstrap_token: Option<Secret>,
    /// Monitor label keys exported as metric labels (`--metrics-labels team,env`).
    pub metrics_labels: Vec<String>,
    /// Directories of extra integration manifests (`*.yaml`) loaded after the built-in catalog.
    pub webhook_catalog_dirs: Vec<PathBuf>,
    /// Let webhooks reach private, loopback and link-local addresses (the SSRF guard is on
    /// by default).
    pub webhook_allow_private: bool,
    /// Delays before each webhook attempt (the first is before the first attempt); the
    /// default schedule (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) when `None`.
    pub webhook_retry_schedule: Option<Vec<Duration>>,
    /// A webhook endpoint failing without a success for this long is disabled.
    pub webhook_disable_after: Duration,
    /// Connection caps, timeouts and rate limits of the HTTP front.
    pub http: HttpLimits,
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
            bootstrap_token: None,
            metrics_labels: Vec::new(),
            webhook_catalog_dirs: Vec::new(),
            webhook_allow_private: false,
            webhook_retry_schedule: None,
            webhook_disable_after: DispatcherConfig::default().disable_after,
            http: HttpLimits::default(),
        }
    }
}

/// Runs the server until `stop` is cancelled. Calls `on_listen` with the bound address.
pub async fn serve(
    config: ServeConfig,
    stop: CancellationToken,
    on_listen: impl FnOnce(SocketAddr) + Send,
) -> Result<(), ServerError> {
    // The workspace builds reqwest with `rustls-no-provider` (it uses ring throughout, while
    // reqwest would default to aws-lc-rs): make ring the process-wide provider, so any HTTP
    // client built without an explicit TLS configuration works. Losing a race with another
    // installer is fine.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let connection_cap = http_connection_cap(&config.http)?;
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
    let engine = Engine::new(store.clone(), probe, scheduler.handle(), writer_tx).await?;
    let writer_task = tokio::spawn(writer::run_with_metrics(
        store.clone(),
        writer_rx,
        writer_stop.clone(),
        engine.metrics().clone(),
    ));
    engine.metrics().set_monitor_labels(&config.metrics_labels);
    let bootstrap_secret = config.bootstrap_token.as_ref().map(Secret::expose);
    match auth::bootstrap(&store, bootstrap_secret).await? {
        Bootstrap::Existing => {}
        Bootstrap::Configured => {
            tracing::info!("created the admin API token from VEDETTE_BOOTSTRAP_TOKEN");
        }
        Bootstrap::Generated(secret) => {
            // Shown once, on stderr rather than in the structured log, and never again.
            eprintln!(
                "vedette: no API token existed, so an admin token was created. It is shown only \
                 this once; store it now:\n\n    {secret}\n\nUse it as `Authorization: Bearer <token>` \
                 and create narrower tokens with POST /api/v1/tokens."
            );
            tracing::warn!("created an admin API token and printed it once on stderr");
        }
    }

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

    let (dispatcher, webhooks) = webhook_dispatcher(&config, &store)?;
    let dispatcher_stop = CancellationToken::new();
    let dispatcher_task = tokio::spawn(dispatcher.run(dispatcher_stop.clone()));

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
        shutdown: app_stop.clone(),
        webhooks,
        guards: Arc::new(Guards::new(&config.http, connection_cap)),
    });
    tracing::info!(%addr, "listening");
    on_listen(addr);
    ready.store(true, Ordering::Relaxed);
    let http_stop = app_stop.clone();
    crate::listener::serve(listener, app, &config.http, connection_cap, http_stop).await?;

    tracing::info!("shutting down: finishing in-flight checks");
    checks_stop.cancel();
    let _ = scheduler_task.await;
    writer_stop.cancel();
    let _ = writer_task.await;
    // In-flight attempts finish; messages claimed but not attempted come due again when their
    // lease ends, so cutting a long drain short loses nothing.
    dispatcher_stop.cancel();
    let mut dispatcher_task = dispatcher_task;
    match tokio::time::timeout(config.shutdown_grace, &mut dispatcher_task).await {
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "the webhook dispatcher failed"),
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("webhook deliveries still in flight after the grace period; abandoned");
            dispatcher_task.abort();
        }
    }
    tracing::info!("stopped; every queued result was written");
    Ok(())
}

/// The connection cap of `limits` after checking them; logs where it comes from.
fn http_connection_cap(limits: &HttpLimits) -> Result<usize, ServerError> {
    limits.check().map_err(ServerError::Invalid)?;
    let cap = limits.connection_cap();
    tracing::info!(
        max_connections = cap,
        open_file_limit = crate::limits::open_file_limit(),
        header_read_timeout_ms =
            u64::try_from(limits.header_read_timeout.as_millis()).unwrap_or(u64::MAX),
        idle_timeout_ms = u64::try_from(limits.idle_timeout.as_millis()).unwrap_or(u64::MAX),
        "HTTP connection limits"
    );
    Ok(cap)
}

/// The webhook dispatcher as configured, and what the API routes share with it.
fn webhook_dispatcher(
    config: &ServeConfig,
    store: &Store,
) -> Result<(Dispatcher, Arc<WebhookServices>), ServerError> {
    let mut catalog = Catalog::builtin().map_err(DeliveryError::from)?;
    for dir in &config.webhook_catalog_dirs {
        let loaded = catalog.load_dir(dir).map_err(DeliveryError::from)?;
        tracing::info!(dir = %dir.display(), loaded, "integration manifests loaded");
    }
    let catalog = Arc::new(catalog);
    let mut retry = RetryPolicy::default();
    if let Some(schedule) = &config.webhook_retry_schedule {
        if schedule.is_empty() {
            return Err(ServerError::Invalid(
                "the webhook retry schedule needs at least one delay".to_owned(),
            ));
        }
        retry.schedule.clone_from(schedule);
    }
    if config.webhook_allow_private {
        tracing::warn!("webhooks may reach private, loopback and link-local addresses");
    }
    let dispatcher_config = DispatcherConfig {
        retry,
        disable_after: config.webhook_disable_after,
        ssrf_guard: !config.webhook_allow_private,
        catalog: Some(Arc::clone(&catalog)),
        ..DispatcherConfig::default()
    };
    let limits = dispatcher_config.template_limits;
    let dispatcher = Dispatcher::new(store.clone(), dispatcher_config)?;
    Ok((dispatcher, Arc::new(WebhookServices::new(catalog, limits))))
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
            let now = chrono::Utc::now();
            match store.apply_retention(&retention, now).await {
                Ok(report) => tracing::debug!(?report, "retention applied"),
                Err(e) => tracing::error!(error = %e, "retention failed"),
            }
            // The webhook delivery log is kept as long as raw results.
            if let Some(keep) = retention.raw {
                match store.prune_webhook_log(now - keep).await {
                    Ok(rows) => tracing::debug!(rows, "webhook delivery log pruned"),
                    Err(e) => {
                        tracing::error!(error = %e, "pruning the webhook delivery log failed")
                    }
                }
            }
        }
    });
}
