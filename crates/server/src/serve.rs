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
use vedette_model::Source;
use vedette_model::spec::Secret;
use vedette_probe::ProbeContext;
use vedette_store::{InstanceLock, Retention, Store, StoreConfig, StoreError};

use vedette_webhooks::delivery::DeliveryError;
use vedette_webhooks::{Catalog, Dispatcher, DispatcherConfig, RetryPolicy};

use crate::api::auth::{self, Bootstrap};
use crate::api::webhooks::WebhookServices;
use crate::app::{AppState, router};
use crate::discovery::file_root::FileRoot;
use crate::engine::Engine;
use crate::follow::{FeedPosition, Follower};
use crate::limits::{Guards, HttpLimits};
use crate::scheduler::Scheduler;
use crate::status_page::StatusPages;
use crate::subscriptions::{
    EngineDeployments, EngineMaintenance, EngineMonitors, EngineVerifications,
};
use crate::tasks::{TaskHealth, supervise};
use crate::{ServerError, claims, demo, files, writer};

/// Longest retention of any kind of data, in days (100 years); longer ones would overflow
/// date arithmetic.
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// Most checks allowed to run at once (`--max-concurrency`).
pub const MAX_CONCURRENCY: usize = 100_000;
/// Longest shutdown grace period.
pub const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(3600);
/// Longest delay in the webhook retry schedule (30 days).
pub const MAX_WEBHOOK_RETRY_DELAY: Duration = Duration::from_secs(30 * 86_400);
/// Most attempts in the webhook retry schedule.
pub const MAX_WEBHOOK_ATTEMPTS: usize = 100;
/// Shortest `--webhook-disable-after` (a minute).
pub const MIN_WEBHOOK_DISABLE_AFTER: Duration = Duration::from_secs(60);
/// Longest `--webhook-disable-after` (365 days).
pub const MAX_WEBHOOK_DISABLE_AFTER: Duration = Duration::from_secs(365 * 86_400);
/// How often a lock that can be lost (PostgreSQL's advisory lock) is checked.
const LOCK_CHECK_EVERY: Duration = Duration::from_secs(1);

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
    /// The absolute http(s) URL clients reach the server at (`--public-url`, e.g.
    /// `https://vedette.example.com`), so heartbeat push URLs are shown absolute; relative
    /// when `None`.
    pub public_url: Option<String>,
    /// An incident opening on a deployment's monitor at most this long after the deployment
    /// started names it (`--deployment-window`, 30 minutes by default).
    pub deployment_window: vedette_model::Duration,
    /// The folder file discovery sources (NGINX's saved `nginx -T` output) may read under
    /// (`--discovery-file-root`); none: such sources are refused.
    pub discovery_file_root: Option<PathBuf>,
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
            deployment_window: crate::deployments::DEFAULT_WINDOW,
            discovery_file_root: None,
            http: HttpLimits::default(),
            public_url: None,
        }
    }
}

impl ServeConfig {
    /// Checks every number and duration against its allowed range, so a bad value is refused
    /// at start with a message naming the flag, instead of panicking a task later.
    pub fn validate(&self) -> Result<(), ServerError> {
        let invalid = |msg: String| Err(ServerError::Invalid(msg));
        let max_retention = chrono::Duration::days(i64::from(MAX_RETENTION_DAYS));
        for (flag, keep) in [
            ("--retention-raw-days", self.retention.raw),
            ("--retention-minute-days", self.retention.minute),
            ("--retention-hour-days", self.retention.hour),
            ("--retention-day-days", self.retention.day),
        ] {
            if keep.is_some_and(|k| k <= chrono::Duration::zero() || k > max_retention) {
                return invalid(format!(
                    "{flag} must be 0 (keep forever) or 1 to {MAX_RETENTION_DAYS} days"
                ));
            }
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.max_concurrency) {
            return invalid(format!(
                "--max-concurrency must be 1 to {MAX_CONCURRENCY}, got {}",
                self.max_concurrency
            ));
        }
        if self.shutdown_grace > MAX_SHUTDOWN_GRACE {
            return invalid(format!(
                "the shutdown grace period must be at most {}s, got {:?}",
                MAX_SHUTDOWN_GRACE.as_secs(),
                self.shutdown_grace
            ));
        }
        if let Some(schedule) = &self.webhook_retry_schedule {
            if schedule.is_empty() || schedule.len() > MAX_WEBHOOK_ATTEMPTS {
                return invalid(format!(
                    "--webhook-retry-schedule must list 1 to {MAX_WEBHOOK_ATTEMPTS} delays, got {}",
                    schedule.len()
                ));
            }
            if let Some(long) = schedule.iter().find(|d| **d > MAX_WEBHOOK_RETRY_DELAY) {
                return invalid(format!(
                    "--webhook-retry-schedule delays must be at most 30d, got {}",
                    vedette_model::Duration::from(*long)
                ));
            }
        }
        if let Some(public) = &self.public_url {
            check_public_url(public).map_err(|why| {
                ServerError::Invalid(format!(
                    "--public-url must be an absolute http or https URL without query, e.g. \
                     https://vedette.example.com: {why}"
                ))
            })?;
        }
        if !(MIN_WEBHOOK_DISABLE_AFTER..=MAX_WEBHOOK_DISABLE_AFTER)
            .contains(&self.webhook_disable_after)
        {
            return invalid(format!(
                "--webhook-disable-after must be 1m to 365d, got {}",
                vedette_model::Duration::from(self.webhook_disable_after)
            ));
        }
        if let Some(dir) = &self.discovery_file_root {
            FileRoot::new(dir).map_err(|e| ServerError::Invalid(e.to_string()))?;
        }
        Ok(())
    }
}

impl ServeConfig {
    /// `public_url` without its trailing `/`, the base that push paths are appended to.
    pub fn public_base_url(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/'))
    }
}

/// Why `text` cannot be the public URL, if it cannot: it must be an absolute http(s) URL
/// with a host and no credentials, query or fragment (a path prefix is fine).
fn check_public_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {:?}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it has credentials".to_owned());
    }
    if url.query().is_some() {
        return Err("it has a query".to_owned());
    }
    if url.fragment().is_some() {
        return Err("it has a fragment".to_owned());
    }
    Ok(())
}

/// Runs the server until `stop` is cancelled. Calls `on_listen` with the bound address.
///
/// Before anything else it validates `config` and takes the instance lock of the database
/// (one server per database), failing with [`StoreError::Locked`] when another holds it.
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
    config.validate()?;
    let connection_cap = http_connection_cap(&config.http)?;
    let store_config = StoreConfig {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.clone(),
    };
    let lock = InstanceLock::acquire(&store_config).await?;
    tracing::info!(lock = %lock.describe(), "instance lock taken");
    let owner_file = lock.file().map(claims::owner_file);
    let lock = Arc::new(tokio::sync::Mutex::new(lock));
    let store = Store::open(&store_config).await?;
    tracing::info!(backend = ?store.backend(), "store opened");
    let probe = ProbeContext::new()?;
    let scheduler = Scheduler::new(config.max_concurrency);
    let (writer_tx, writer_rx) = mpsc::unbounded_channel();
    let writer_stop = CancellationToken::new();
    let engine = Engine::new(store.clone(), probe, scheduler.handle(), writer_tx).await?;
    engine.set_deployment_window(config.deployment_window);
    if let Some(dir) = &config.discovery_file_root {
        let root = FileRoot::new(dir).map_err(|e| ServerError::Invalid(e.to_string()))?;
        tracing::info!(root = %dir.display(), "file discovery sources read under this folder");
        engine.set_discovery_file_root(root);
    }
    let health = Arc::new(TaskHealth::default());
    let writer_task = supervise(
        &health,
        "writer",
        writer_stop.clone(),
        writer::run_with_metrics(
            store.clone(),
            writer_rx,
            writer_stop.clone(),
            engine.metrics().clone(),
        ),
    );
    engine.metrics().set_monitor_labels(&config.metrics_labels);
    // Bound before the bootstrap token is made, so a start that fails on a busy port prints
    // no admin token that then works nowhere.
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let bootstrap_secret = config.bootstrap_token.as_ref().map(Secret::expose);
    match auth::bootstrap(&store, bootstrap_secret).await? {
        Bootstrap::Existing => {}
        Bootstrap::Configured => {
            tracing::info!("created the admin API token from the configured bootstrap token");
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

    // Writers only write to the store; the engine follows it from the first change on.
    if let Some(path) = &config.config {
        let applied = files::apply(&store, path).await?;
        tracing::info!(path = %path.display(), ?applied, "config loaded");
    }
    let app_stop = stop.child_token();
    if config.demo {
        demo::start(&store, app_stop.clone()).await?;
    }
    let follower = Follower::new(store.clone())
        .subscribe(EngineMonitors {
            engine: engine.clone(),
            sources: followed_sources(&config),
        })
        .subscribe(EngineMaintenance(engine.clone()))
        .subscribe(EngineDeployments(engine.clone()))
        .subscribe(EngineVerifications(engine.clone()));
    let status_pages = Arc::new(StatusPages::new());
    let mut follower = crate::status_page::subscribe(follower, &status_pages);
    follower.load().await?;
    let feed = follower.position();
    supervise(
        &health,
        "change feed",
        app_stop.clone(),
        follower.run(app_stop.clone()),
    );

    let (dispatcher, webhooks) = webhook_dispatcher(&config, &store)?;
    if let Some(file) = &owner_file {
        claims::take_over(file, &store, &dispatcher).await;
    }
    let dispatcher_stop = CancellationToken::new();
    let dispatcher_task = supervise(
        &health,
        "webhook dispatcher",
        dispatcher_stop.clone(),
        dispatcher.clone().run(dispatcher_stop.clone()),
    );

    let verifications_task = supervise(
        &health,
        "verifications",
        app_stop.clone(),
        crate::verifications::run(engine.clone(), app_stop.clone()),
    );

    supervise(
        &health,
        "discovery",
        app_stop.clone(),
        crate::discovery::run_sources(engine.clone(), app_stop.clone()),
    );

    let checks_stop = CancellationToken::new();
    let scheduler_task = supervise(
        &health,
        "scheduler",
        checks_stop.clone(),
        scheduler.run(engine.clone(), checks_stop.clone(), config.shutdown_grace),
    );
    let lock_stop = CancellationToken::new();
    // Whichever way this function returns, the watcher ends and lets the lock go.
    let _release_lock = lock_stop.clone().drop_guard();
    let lock_task = supervise(
        &health,
        "instance lock",
        lock_stop.clone(),
        watch_lock(
            lock.clone(),
            lock_stop.clone(),
            checks_stop.clone(),
            app_stop.clone(),
        ),
    );
    if let Some(path) = config.config.clone() {
        supervise(
            &health,
            "config reloader",
            app_stop.clone(),
            reload_on_sighup(store.clone(), feed.clone(), path, app_stop.clone()),
        );
    }
    supervise(
        &health,
        "retention",
        app_stop.clone(),
        retention_loop(store.clone(), config.retention, app_stop.clone()),
    );

    let ready = Arc::new(AtomicBool::new(false));
    let app = router(AppState {
        engine: engine.clone(),
        feed,
        ready: ready.clone(),
        shutdown: app_stop.clone(),
        webhooks,
        guards: Arc::new(Guards::new(&config.http, connection_cap)),
        tasks: health.clone(),
        public_url: config.public_base_url().map(Arc::from),
        status_pages,
        passive: Arc::default(),
    });
    tracing::info!(%addr, "listening");
    on_listen(addr);
    ready.store(true, Ordering::Relaxed);
    let http_stop = app_stop.clone();
    crate::listener::serve(listener, app, &config.http, connection_cap, http_stop).await?;

    // The progress of running verifications is saved before the store closes.
    let _ = verifications_task.await;
    tracing::info!("shutting down: finishing in-flight checks");
    checks_stop.cancel();
    let _ = scheduler_task.await;
    writer_stop.cancel();
    let _ = writer_task.await;
    // In-flight attempts finish and the dispatcher releases the messages it claimed but did
    // not attempt, so the next start delivers them at once. Attempts cut off after the grace
    // period are released here and made again, so cutting a long drain short loses nothing.
    dispatcher_stop.cancel();
    let mut dispatcher_task = dispatcher_task;
    match tokio::time::timeout(config.shutdown_grace, &mut dispatcher_task).await {
        Ok(Ok(Some(Err(e)))) => tracing::error!(error = %e, "the webhook dispatcher failed"),
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("webhook deliveries still in flight after the grace period; abandoned");
            dispatcher_task.abort();
            let _ = dispatcher_task.await;
            if let Err(e) = dispatcher.release_claims().await {
                tracing::warn!(error = %e, "cannot release webhook claims; they come due when their lease ends");
            }
        }
    }
    tracing::info!("stopped; every queued result was written");
    lock_stop.cancel();
    let lock_outcome = lock_task.await;
    if let Ok(lock) = Arc::try_unwrap(lock) {
        lock.into_inner().release().await;
    }
    match lock_outcome {
        Ok(Some(Err(lost))) => Err(lost.into()),
        _ => Ok(()),
    }
}

/// Checks a lock that can be lost every [`LOCK_CHECK_EVERY`] until `stop`. When it is lost
/// another server may take it, so scheduling stops at once (`checks_stop`) and the server
/// shuts down (`app_stop`) and exits with the error, rather than risk two schedulers.
async fn watch_lock(
    lock: Arc<tokio::sync::Mutex<InstanceLock>>,
    stop: CancellationToken,
    checks_stop: CancellationToken,
    app_stop: CancellationToken,
) -> Result<(), StoreError> {
    if !lock.lock().await.can_be_lost() {
        stop.cancelled().await;
        return Ok(());
    }
    let mut tick = tokio::time::interval(LOCK_CHECK_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let mut held = lock.lock().await;
        if let Err(e) = held.check().await {
            let lost = StoreError::LockLost(format!("{}: {e}", held.describe()));
            tracing::error!(error = %lost, "stopping the scheduler and shutting down");
            checks_stop.cancel();
            app_stop.cancel();
            return Err(lost);
        }
    }
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

/// The sources whose monitors this server runs: API ones always, file ones with `--config`,
/// demo ones with `--demo`.
fn followed_sources(config: &ServeConfig) -> Vec<Source> {
    let mut sources = vec![Source::Api];
    if config.config.is_some() {
        sources.push(Source::File);
    }
    if config.demo {
        sources.push(Source::Demo);
    }
    sources
}

/// Applies the config files at `path` again on every SIGHUP until `stop`; each reload is
/// logged once the engine has followed it.
async fn reload_on_sighup(
    store: Store,
    feed: FeedPosition,
    path: PathBuf,
    stop: CancellationToken,
) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP; config reload is off");
        return;
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = hup.recv() => {}
        }
        match files::apply(&store, &path).await {
            Ok(applied) => {
                feed.caught_up().await;
                tracing::info!(?applied, "config reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "config reload failed; keeping the running configuration")
            }
        }
    }
}

/// Applies retention (and prunes the change feed) at start and then hourly until `stop`.
async fn retention_loop(store: Store, retention: Retention, stop: CancellationToken) {
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
        let changes_before = now - crate::follow::CHANGES_KEPT;
        match store.prune_changes(changes_before).await {
            Ok(rows) => tracing::debug!(rows, "change feed pruned"),
            Err(e) => tracing::error!(error = %e, "pruning the change feed failed"),
        }
        // The webhook delivery log is kept as long as raw results.
        if let Some(keep) = retention.raw
            && let Some(before) = now.checked_sub_signed(keep)
        {
            match store.prune_webhook_log(before).await {
                Ok(rows) => tracing::debug!(rows, "webhook delivery log pruned"),
                Err(e) => {
                    tracing::error!(error = %e, "pruning the webhook delivery log failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_public_url(url: &str) -> Result<(), String> {
        let config = ServeConfig {
            public_url: Some(url.to_owned()),
            ..ServeConfig::default()
        };
        config.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn public_url_is_an_absolute_http_url_without_query() {
        for good in [
            "https://vedette.example.com",
            "https://vedette.example.com/",
            "http://10.0.0.5:8080/vedette/",
        ] {
            assert_eq!(with_public_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("vedette.example.com", "relative URL without a base"),
            ("/push", "relative URL without a base"),
            ("ftp://vedette.example.com", "the scheme is \"ftp\""),
            ("https://vedette.example.com/?x=1", "it has a query"),
            ("https://vedette.example.com/#top", "it has a fragment"),
            ("https://user:pw@vedette.example.com", "it has credentials"),
        ] {
            let err = with_public_url(bad).expect_err(bad);
            assert!(err.starts_with("--public-url must be"), "{err}");
            assert!(err.ends_with(why), "{bad}: {err}");
            assert!(!err.contains("pw@"), "{err}");
        }
        let config = ServeConfig {
            public_url: Some("https://vedette.example.com/".to_owned()),
            ..ServeConfig::default()
        };
        assert_eq!(
            config.public_base_url(),
            Some("https://vedette.example.com")
        );
    }
}
