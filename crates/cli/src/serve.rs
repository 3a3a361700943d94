//! `vedette serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vedette_model::spec::Secret;
use vedette_server::ServeConfig;
use vedette_server::limits::HttpLimits;
use vedette_server::serve::{
    MAX_CONCURRENCY, MAX_RETENTION_DAYS, MAX_WEBHOOK_DISABLE_AFTER, MAX_WEBHOOK_RETRY_DELAY,
    MIN_WEBHOOK_DISABLE_AFTER,
};
use vedette_store::Retention;

use crate::UsageError;

/// Options of `vedette serve`; each also reads a `VEDETTE_*` environment variable.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file or directory of monitors and maintenance windows (reloaded on SIGHUP).
    #[arg(long, env = "VEDETTE_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "VEDETTE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "VEDETTE_DATA_DIR", default_value = "./vedette-data")]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://user:pass@host/db); SQLite under --data-dir when absent.
    #[arg(long, env = "VEDETTE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Also start a demo service on loopback with monitors that go up, degraded and down.
    #[arg(long, env = "VEDETTE_DEMO")]
    demo: bool,
    /// Most checks running at once (1 to 100000).
    #[arg(long, env = "VEDETTE_MAX_CONCURRENCY", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=MAX_CONCURRENCY as i64))]
    max_concurrency: u32,
    /// Days raw results are kept (0 keeps them forever, likewise below; at most 36500).
    #[arg(long, env = "VEDETTE_RETENTION_RAW_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RETENTION_DAYS)))]
    retention_raw_days: u32,
    /// Days minute rollups are kept.
    #[arg(long, env = "VEDETTE_RETENTION_MINUTE_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RETENTION_DAYS)))]
    retention_minute_days: u32,
    /// Days hour rollups are kept.
    #[arg(long, env = "VEDETTE_RETENTION_HOUR_DAYS", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RETENTION_DAYS)))]
    retention_hour_days: u32,
    /// Days day rollups are kept.
    #[arg(long, env = "VEDETTE_RETENTION_DAY_DAYS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RETENTION_DAYS)))]
    retention_day_days: u32,
    /// Admin API token (vdt_ and at least 32 of A-Z a-z 0-9 - _) created at first start when
    /// the database has no token (`--token` does the same); when absent one is generated and
    /// printed once.
    #[arg(long, env = "VEDETTE_BOOTSTRAP_TOKEN", hide_env_values = true)]
    bootstrap_token: Option<String>,
    /// Monitor label keys to export as metric labels, comma-separated (e.g. team,env).
    #[arg(long, env = "VEDETTE_METRICS_LABELS", value_delimiter = ',')]
    metrics_labels: Vec<String>,
    /// Directory of extra integration manifests (*.yaml); repeatable, or comma-separated in
    /// the environment variable.
    #[arg(
        long = "webhook-catalog-dir",
        env = "VEDETTE_WEBHOOK_CATALOG_DIRS",
        value_delimiter = ','
    )]
    webhook_catalog_dirs: Vec<PathBuf>,
    /// Let webhooks reach private, loopback and link-local addresses (refused by default, so
    /// an endpoint cannot probe the server's own network).
    #[arg(long, env = "VEDETTE_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// Delays before each webhook attempt, comma-separated; the first is before the first
    /// attempt [default: 0s,5s,5m,30m,2h,5h,10h,10h].
    #[arg(long, env = "VEDETTE_WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',',
          value_parser = duration_in(Duration::ZERO, MAX_WEBHOOK_RETRY_DELAY))]
    webhook_retry_schedule: Vec<vedette_model::Duration>,
    /// A webhook endpoint failing without a success for this long is disabled (1m to 365d).
    #[arg(long, env = "VEDETTE_WEBHOOK_DISABLE_AFTER", default_value = "5d",
          value_parser = duration_in(MIN_WEBHOOK_DISABLE_AFTER, MAX_WEBHOOK_DISABLE_AFTER))]
    webhook_disable_after: vedette_model::Duration,
    /// An incident opening on a deployment's monitor at most this long after the deployment
    /// started names it (1s to 7d).
    #[arg(long, env = "VEDETTE_DEPLOYMENT_WINDOW", default_value = "30m",
          value_parser = duration_in(Duration::from_secs(1), Duration::from_secs(7 * 86_400)))]
    deployment_window: vedette_model::Duration,
    /// The folder NGINX discovery sources may read saved `nginx -T` output under (`..` and
    /// symlinks resolved); without it, file sources are refused.
    #[arg(long, env = "VEDETTE_DISCOVERY_FILE_ROOT")]
    discovery_file_root: Option<PathBuf>,
    /// Most HTTP connections open at once [default: half the open-file limit, 8 to 16384];
    /// at the cap a new connection replaces the longest-idle one.
    #[arg(long, env = "VEDETTE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// A connection that has not sent a full request head this long after opening (or after
    /// its previous response) is closed.
    #[arg(long, env = "VEDETTE_HEADER_READ_TIMEOUT", default_value = "10s")]
    header_read_timeout: vedette_model::Duration,
    /// A connection with no request in flight and no traffic for this long is closed.
    #[arg(long, env = "VEDETTE_IDLE_TIMEOUT", default_value = "60s")]
    idle_timeout: vedette_model::Duration,
    /// Most event streams open at once (held to half of --max-connections).
    #[arg(long, env = "VEDETTE_MAX_STREAMS", default_value_t = 256)]
    max_streams: usize,
    /// Most event streams open at once with one token.
    #[arg(long, env = "VEDETTE_MAX_STREAMS_PER_TOKEN", default_value_t = 16)]
    max_streams_per_token: usize,
    /// Failed authentications per minute (and in a burst) a client address may make before
    /// its API requests get 429 until the budget refills; 0 turns the limit off.
    #[arg(long, env = "VEDETTE_AUTH_FAILURES_PER_MINUTE", default_value_t = 100)]
    auth_failures_per_minute: u32,
    /// API writes per second one token may make (bursts of twice that) before it gets 429;
    /// 0 turns the limit off.
    #[arg(long, env = "VEDETTE_WRITES_PER_SECOND", default_value_t = 200)]
    writes_per_second: u32,
    /// The absolute http(s) URL clients reach this server at, without query (e.g.
    /// https://vedette.example.com): heartbeat push URLs are shown under it instead of as
    /// relative /push/<token> paths.
    #[arg(long, env = "VEDETTE_PUBLIC_URL")]
    public_url: Option<String>,
}

/// A parser of durations from `min` to `max` (clap names the flag in its error).
fn duration_in(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<vedette_model::Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let d: vedette_model::Duration = text.parse().map_err(|e| format!("{e}"))?;
        if (min..=max).contains(&d.std()) {
            Ok(d)
        } else {
            Err(format!(
                "must be from {} to {}",
                vedette_model::Duration::from(min),
                vedette_model::Duration::from(max)
            ))
        }
    }
}

/// `n` days, or `None` (kept forever) for 0.
fn days(n: u32) -> Option<chrono::Duration> {
    (n > 0).then(|| chrono::Duration::days(i64::from(n)))
}

/// The admin token to create at first start: `--bootstrap-token`, or the global `--token`
/// (`VEDETTE_TOKEN`, the token clients then use). Both given and different is a usage error.
fn bootstrap_token(
    bootstrap: Option<String>,
    token: Option<String>,
) -> Result<Option<String>, UsageError> {
    match (bootstrap, token) {
        (Some(b), Some(t)) if b != t => Err(UsageError(
            "--bootstrap-token (VEDETTE_BOOTSTRAP_TOKEN) and --token (VEDETTE_TOKEN) differ; \
             give the admin token once"
                .to_owned(),
        )),
        (b, t) => Ok(b.or(t)),
    }
}

/// Runs the server until SIGINT or SIGTERM. `token` is the global `--token`, used as the
/// bootstrap admin token.
pub fn run(args: Args, token: Option<String>) -> anyhow::Result<ExitCode> {
    let bootstrap = bootstrap_token(args.bootstrap_token, token)?;
    let config = ServeConfig {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        config: args.config,
        demo: args.demo,
        max_concurrency: usize::try_from(args.max_concurrency)?,
        retention: Retention {
            raw: days(args.retention_raw_days),
            minute: days(args.retention_minute_days),
            hour: days(args.retention_hour_days),
            day: days(args.retention_day_days),
        },
        bootstrap_token: bootstrap.map(Secret),
        metrics_labels: args.metrics_labels,
        webhook_catalog_dirs: args.webhook_catalog_dirs,
        webhook_allow_private: args.webhook_allow_private,
        webhook_retry_schedule: (!args.webhook_retry_schedule.is_empty()).then(|| {
            args.webhook_retry_schedule
                .iter()
                .map(|d| d.std())
                .collect()
        }),
        webhook_disable_after: args.webhook_disable_after.std(),
        deployment_window: args.deployment_window,
        discovery_file_root: args.discovery_file_root,
        http: HttpLimits {
            max_connections: args.max_connections,
            header_read_timeout: args.header_read_timeout.std(),
            idle_timeout: args.idle_timeout.std(),
            max_streams: args.max_streams,
            max_streams_per_token: args.max_streams_per_token,
            auth_failures_per_minute: args.auth_failures_per_minute,
            writes_per_second: args.writes_per_second,
        },
        public_url: args.public_url,
        ..ServeConfig::default()
    };
    config.validate().map_err(|e| UsageError(e.to_string()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let stop = CancellationToken::new();
        let signal_stop = stop.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => None } } => {}
            }
            tracing::info!("signal received, stopping");
            signal_stop.cancel();
        });
        vedette_server::serve(config, stop, |addr| {
            eprintln!("vedette listening on http://{addr}");
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
