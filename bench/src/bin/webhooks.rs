//! Webhook delivery benchmark: N events in the outbox fanned out to E endpoints on a local
//! receiver (a child process); prints deliveries per second from the durable queue, the time to
//! drain it, CPU and peak RSS.

use std::time::{Duration, Instant};

use clap::Parser;
use tokio_util::sync::CancellationToken;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, EventType, Record};
use vedette_store::{MessageStatus, Store, StoreConfig};
use vedette_webhooks::samples::sample_event;
use vedette_webhooks::{Dispatcher, DispatcherConfig, EndpointRules};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Events written to the outbox.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Endpoints every event goes to.
    #[arg(long, default_value_t = 4)]
    endpoints: usize,
    /// Requests in flight per endpoint.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// PostgreSQL URL; a temporary SQLite database when absent.
    #[arg(long)]
    database_url: Option<String>,
}

/// Set in the environment of the child process that receives the deliveries.
const RECEIVER_ENV: &str = "VEDETTE_BENCH_RECEIVER";

async fn serve_receiver() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    println!("{}", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/hook/{n}",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os(RECEIVER_ENV).is_some() {
        return serve_receiver().await;
    }
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let (mut receiver, addr) = vedette_bench::spawn_self(RECEIVER_ENV)?;
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_path_buf(),
        database_url: args.database_url.clone(),
    })
    .await?;

    for n in 0..args.endpoints {
        let mut spec: EndpointSpec = serde_json::from_value(serde_json::json!({
            "url": format!("http://{addr}/hook/{n}"),
            "timeout": "5s",
        }))?;
        spec.ensure_secret();
        store
            .put(&Record::new(format!("bench-{n}"), spec), None)
            .await?;
    }
    let template = sample_event(EventType::MonitorDown);
    let written = Instant::now();
    let mut batch: Vec<Event> = Vec::with_capacity(1000);
    for i in 0..args.events {
        batch.push(Event {
            id: format!("evt_bench_{i:08}"),
            ..template.clone()
        });
        if batch.len() == 1000 {
            store.append_events(&batch).await?;
            batch.clear();
        }
    }
    store.append_events(&batch).await?;
    let write_secs = written.elapsed().as_secs_f64();

    let config = DispatcherConfig {
        ssrf_guard: false,
        from_beginning: true,
        concurrency_per_endpoint: args.concurrency,
        ..DispatcherConfig::default()
    };
    let stop = CancellationToken::new();
    let dispatcher = tokio::spawn(Dispatcher::new(store.clone(), config)?.run(stop.clone()));
    let cpu_before = vedette_bench::cpu_seconds();
    let started = Instant::now();
    let expected = (args.events * args.endpoints) as u64;
    let deadline = started + Duration::from_secs(600);
    let mut first_done: Option<f64> = None;
    loop {
        let mut succeeded = 0;
        let mut failed = 0;
        for n in 0..args.endpoints {
            let counts = store.count_webhook_messages(&format!("bench-{n}")).await?;
            succeeded += counts.get(&MessageStatus::Succeeded).copied().unwrap_or(0);
            failed += counts.get(&MessageStatus::Failed).copied().unwrap_or(0);
        }
        if first_done.is_none() && succeeded > 0 {
            first_done = Some(started.elapsed().as_secs_f64());
        }
        if succeeded + failed >= expected {
            anyhow::ensure!(failed == 0, "{failed} deliveries failed");
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {succeeded} of {expected} delivered in 600 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = vedette_bench::cpu_seconds() - cpu_before;
    stop.cancel();
    dispatcher.await??;
    receiver.kill()?;
    receiver.wait()?;

    println!(
        "events in the outbox      {} (written in {write_secs:.1} s)",
        args.events
    );
    println!(
        "endpoints                 {} ({} in flight each)",
        args.endpoints, args.concurrency
    );
    println!("deliveries                {expected}");
    println!(
        "first delivery after      {:.2} s",
        first_done.unwrap_or(elapsed)
    );
    println!("all delivered in          {elapsed:.1} s");
    println!("deliveries/s              {:.0}", expected as f64 / elapsed);
    println!(
        "CPU                       {cpu:.1} s ({:.2} cores)",
        cpu / elapsed
    );
    println!(
        "peak RSS                  {} MiB",
        vedette_bench::peak_rss_mib()
    );
    Ok(())
}
