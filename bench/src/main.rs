//! Engine benchmark: N HTTP monitors against a local target for a fixed time; prints checks
//! per second, scheduling lag p50/p99, CPU seconds per 1,000 checks and peak RSS.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vedette_model::MonitorSpec;
use vedette_probe::ProbeContext;
use vedette_server::engine::Engine;
use vedette_server::scheduler::Scheduler;
use vedette_server::writer;
use vedette_store::{MonitorRecord, Store, StoreConfig};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Number of monitors.
    #[arg(long, default_value_t = 10_000)]
    monitors: usize,
    /// Interval of every monitor.
    #[arg(long, default_value = "10s")]
    interval: vedette_model::Duration,
    /// How long to measure (after one warm-up interval).
    #[arg(long, default_value = "60s")]
    duration: vedette_model::Duration,
    /// Most checks running at once.
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
    /// PostgreSQL URL; a temporary SQLite database when absent.
    #[arg(long)]
    database_url: Option<String>,
}

/// Set in the environment of the child process that serves the target.
const TARGET_ENV: &str = "VEDETTE_BENCH_TARGET";

/// Serves the HTTP target and prints its address; runs in a child process so the engine's CPU
/// figures do not include the target's.
async fn serve_target() -> anyhow::Result<()> {
    let target = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    println!("{}", target.local_addr()?);
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(|| async { r#"{"status":"UP"}"# }),
    );
    axum::serve(target, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os(TARGET_ENV).is_some() {
        return serve_target().await;
    }
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let (mut target, target_addr) = vedette_bench::spawn_self(TARGET_ENV)?;

    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_path_buf(),
        database_url: args.database_url.clone(),
    })
    .await
    .context("opening the store")?;
    let scheduler = Scheduler::new(args.concurrency);
    let handle = scheduler.handle();
    let (tx, rx) = mpsc::unbounded_channel();
    let writer_stop = CancellationToken::new();
    let writer_task = tokio::spawn(writer::run(store.clone(), rx, writer_stop.clone()));
    let engine = Engine::new(store.clone(), ProbeContext::new()?, handle.clone(), tx).await?;

    let url = format!("http://{target_addr}/health");
    let now = Utc::now();
    for n in 0..args.monitors {
        let mut spec = MonitorSpec::http(url.clone());
        spec.interval = args.interval;
        spec.timeout = vedette_model::Duration::from_secs(5);
        spec.assertions = vec!["status == 200".into()];
        let record = store
            .put_monitor(&MonitorRecord::new(format!("bench-{n}"), spec))
            .await?;
        engine.upsert(record).await?;
    }
    let stop = CancellationToken::new();
    let task = tokio::spawn(scheduler.run(engine.clone(), stop.clone(), Duration::from_secs(5)));

    eprintln!("warming up for one interval ({})", args.interval);
    tokio::time::sleep(args.interval.std()).await;
    let lag_before = handle.lag().counts();
    let checks_before = handle.lag().count();
    let cpu_before = vedette_bench::cpu_seconds();
    let started = Instant::now();
    tokio::time::sleep(args.duration.std()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = vedette_bench::cpu_seconds() - cpu_before;
    let checks = handle.lag().count() - checks_before;
    let lag_after = handle.lag().counts();
    stop.cancel();
    task.await?;
    writer_stop.cancel();
    writer_task.await?;

    let window = vedette_server::stats::LagHistogram::default();
    let counts: Vec<u64> = lag_after
        .iter()
        .zip(&lag_before)
        .map(|(a, b)| a - b)
        .collect();
    window.load_counts(&counts);
    let stored = store.summary("bench-0", now, Utc::now()).await?.checks;
    println!("monitors               {}", args.monitors);
    println!("interval               {}", args.interval);
    println!("measured for           {elapsed:.1} s");
    println!("checks                 {checks}");
    println!("checks/s               {:.0}", checks as f64 / elapsed);
    println!(
        "expected checks/s      {:.0}",
        args.monitors as f64 / args.interval.std().as_secs_f64()
    );
    println!("lag p50 (bucket bound) <= {} ms", window.quantile_ms(0.50));
    println!("lag p99 (bucket bound) <= {} ms", window.quantile_ms(0.99));
    println!(
        "CPU                    {cpu:.1} s ({:.2} cores)",
        cpu / elapsed
    );
    println!(
        "CPU s per 1000 checks  {:.3}",
        cpu / (checks.max(1) as f64 / 1000.0)
    );
    println!(
        "peak RSS               {} MiB",
        vedette_bench::peak_rss_mib()
    );
    println!("results stored (bench-0) {stored}");
    target.kill()?;
    target.wait()?;
    Ok(())
}
