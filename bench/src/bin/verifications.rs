//! Verification benchmark: N HTTP monitors against a local target (by default 10,000 every
//! 10 s: 1,000 checks/s) measured without verifications, then with V verifications running
//! over M monitors each (by default 50 over 200); prints the engine's CPU in both phases and
//! what the verifications' bookkeeping adds.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vedette_model::verification::VerificationSpec;
use vedette_model::{MonitorSpec, Record};
use vedette_probe::ProbeContext;
use vedette_server::engine::Engine;
use vedette_server::scheduler::Scheduler;
use vedette_server::{verifications, writer};
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
    /// Verifications running at once.
    #[arg(long, default_value_t = 50)]
    verifications: usize,
    /// Monitors each verification selects (by label).
    #[arg(long, default_value_t = 200)]
    per_verification: usize,
    /// How long to measure each phase (after one warm-up interval).
    #[arg(long, default_value = "30s")]
    duration: vedette_model::Duration,
    /// Measurement rounds (each: without, then with verifications).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Most checks running at once.
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
}

/// Set in the environment of the child process that serves the target.
const TARGET_ENV: &str = "VEDETTE_BENCH_TARGET";

/// Serves the HTTP target and prints its address (a child process, so the engine's CPU
/// figures do not include the target's).
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

/// CPU seconds and checks over one phase of `length`.
async fn measure(engine: &Engine, length: Duration) -> (f64, u64, f64) {
    let lag = engine.scheduler().lag();
    let checks_before = lag.count();
    let cpu_before = vedette_bench::cpu_seconds();
    let started = Instant::now();
    tokio::time::sleep(length).await;
    let elapsed = started.elapsed().as_secs_f64();
    (
        vedette_bench::cpu_seconds() - cpu_before,
        lag.count() - checks_before,
        elapsed,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os(TARGET_ENV).is_some() {
        return serve_target().await;
    }
    let args = Args::parse();
    anyhow::ensure!(
        args.verifications * args.per_verification <= args.monitors,
        "--verifications × --per-verification must not exceed --monitors"
    );
    let dir = tempfile::tempdir()?;
    let (mut target, target_addr) = vedette_bench::spawn_self(TARGET_ENV)?;
    let store = Store::open(&StoreConfig::sqlite(dir.path()))
        .await
        .context("opening the store")?;
    let scheduler = Scheduler::new(args.concurrency);
    let (tx, rx) = mpsc::unbounded_channel();
    let writer_stop = CancellationToken::new();
    let writer_task = tokio::spawn(writer::run(store.clone(), rx, writer_stop.clone()));
    let engine = Engine::new(store.clone(), ProbeContext::new()?, scheduler.handle(), tx).await?;

    let url = format!("http://{target_addr}/health");
    let groups = args.verifications.max(1);
    for n in 0..args.monitors {
        let mut spec = MonitorSpec::http(url.clone());
        spec.interval = args.interval;
        spec.timeout = vedette_model::Duration::from_secs(5);
        spec.assertions = vec!["status == 200".into()];
        let mut record = MonitorRecord::new(format!("bench-{n}"), spec);
        if n < args.verifications * args.per_verification {
            record
                .labels
                .insert("group".into(), (n % groups).to_string());
        }
        engine.upsert(store.put_monitor(&record).await?).await?;
    }
    let stop = CancellationToken::new();
    let task = tokio::spawn(scheduler.run(engine.clone(), stop.clone(), Duration::from_secs(5)));
    eprintln!("warming up for one interval ({})", args.interval);
    tokio::time::sleep(args.interval.std()).await;

    let length = args.duration.std();
    let mut without = (0.0, 0, 0.0);
    let mut with = (0.0, 0, 0.0);
    let mut seen = 0;
    for round in 0..args.rounds {
        eprintln!(
            "round {}: {} without verifications",
            round + 1,
            args.duration
        );
        let (cpu, checks, secs) = measure(&engine, length).await;
        without = (without.0 + cpu, without.1 + checks, without.2 + secs);

        // Verifications that stay running through the phase: 100 checks in a row each.
        let ids: Vec<String> = (0..args.verifications)
            .map(|v| format!("bench-{round}-{v}"))
            .collect();
        for (v, id) in ids.iter().enumerate() {
            let spec = VerificationSpec {
                selector: Some(format!("group={v}")),
                ids: None,
                consecutive: 100,
                timeout: vedette_model::Duration::from_secs(86_400),
                run_now: false,
                fail_fast: true,
                deployment: None,
            };
            let record = store.put(&Record::new(id.clone(), spec), Some(0)).await?;
            verifications::start(&engine, record).await;
        }
        let phase_stop = CancellationToken::new();
        let saver = tokio::spawn(verifications::run(engine.clone(), phase_stop.clone()));
        eprintln!(
            "round {}: {} with {} verifications over {} monitors each",
            round + 1,
            args.duration,
            args.verifications,
            args.per_verification
        );
        let (cpu, checks, secs) = measure(&engine, length).await;
        with = (with.0 + cpu, with.1 + checks, with.2 + secs);
        phase_stop.cancel();
        saver.await?;
        for id in &ids {
            let status = engine
                .verifications()
                .status(id)
                .context("a verification stopped running")?;
            anyhow::ensure!(
                status.monitors.len() == args.per_verification,
                "verification {id} selected {} monitors",
                status.monitors.len()
            );
            seen += status
                .monitors
                .iter()
                .map(|m| u64::from(m.checks))
                .sum::<u64>();
            engine.verifications().forget(id);
        }
    }
    stop.cancel();
    task.await?;
    writer_stop.cancel();
    writer_task.await?;
    target.kill()?;
    target.wait()?;

    let per_1000 = |(cpu, checks, _): (f64, u64, f64)| cpu / (checks.max(1) as f64 / 1000.0);
    println!("monitors                      {}", args.monitors);
    println!("interval                      {}", args.interval);
    println!(
        "verifications                 {} × {} monitors",
        args.verifications, args.per_verification
    );
    println!(
        "rounds × phase                {} × {}",
        args.rounds, args.duration
    );
    for (name, phase) in [("without", without), ("with", with)] {
        println!(
            "{name:<7} checks/s              {:.0}",
            phase.1 as f64 / phase.2
        );
        println!(
            "{name:<7} CPU                   {:.1} s ({:.3} cores)",
            phase.0,
            phase.0 / phase.2
        );
        println!("{name:<7} CPU s per 1000 checks {:.4}", per_1000(phase));
    }
    println!("checks seen by verifications  {seen}");
    let added = (per_1000(with) - per_1000(without)) / per_1000(without) * 100.0;
    println!("added CPU per check           {added:+.1} %");
    println!(
        "peak RSS                      {} MiB",
        vedette_bench::peak_rss_mib()
    );
    Ok(())
}
