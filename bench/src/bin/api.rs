//! API benchmark: 10,000 monitors and 30 days of rollups for one of them; prints latency
//! p50/p99 and requests per second for a 30-day series at a 1 h step and for a page of 100
//! monitors.

use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use vedette_server::ServeConfig;
use vedette_store::{Store, StoreConfig};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Monitors created (paused, so they are not checked).
    #[arg(long, default_value_t = 10_000)]
    monitors: usize,
    /// Days of one-per-minute results written for the measured monitor.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Requests per measured route.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// PostgreSQL URL; a temporary SQLite database when absent.
    #[arg(long)]
    database_url: Option<String>,
}

const TOKEN: &str = "vdt_bench-admin-token-0123456789abcdefghijkl";

async fn measure(client: &reqwest::Client, urls: &[String]) -> anyhow::Result<(f64, f64, f64)> {
    let mut times = Vec::with_capacity(urls.len());
    let started = Instant::now();
    for url in urls {
        let t = Instant::now();
        let response = client.get(url).bearer_auth(TOKEN).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        response.bytes().await?;
        times.push(t.elapsed());
    }
    let rps = urls.len() as f64 / started.elapsed().as_secs_f64();
    times.sort();
    Ok((
        vedette_bench::quantile_ms(&times, 0.5),
        vedette_bench::quantile_ms(&times, 0.99),
        rps,
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let store_config = StoreConfig {
        data_dir: dir.path().to_path_buf(),
        database_url: args.database_url.clone(),
    };

    // 30 days of one result a minute for `bench-0`, written the way the engine writes them.
    let store = Store::open(&store_config)
        .await
        .context("opening the store")?;
    let now = Utc::now();
    let start = now - chrono::Duration::days(args.days);
    let minutes = args.days * 1440;
    let minute = chrono::Duration::minutes(1);
    vedette_bench::write_history(&store, "bench-0", start, minute, minutes).await?;
    store.close().await;

    let server = vedette_bench::Serving::start(ServeConfig {
        database_url: args.database_url.clone(),
        ..vedette_bench::api_config(dir.path(), TOKEN)
    })
    .await;
    let addr = server.addr;
    let base = format!("http://{addr}/api/v1");
    let client = reqwest::Client::new();

    let created = Instant::now();
    vedette_bench::put_paused_monitors(&client, &base, TOKEN, args.monitors, |n| {
        format!("bench-{n}")
    })
    .await?;
    let create_secs = created.elapsed().as_secs_f64();

    let from = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let series: Vec<String> = (0..args.requests)
        .map(|_| format!("{base}/series?ids=bench-0&from={from}&to={to}&step=1h"))
        .collect();
    let (s50, s99, srps) = measure(&client, &series).await?;
    let (p50, p99, prps) = walk_pages(&client, &base, args.requests).await?;
    let selector: Vec<String> = (0..args.requests)
        .map(|_| format!("{base}/monitors?limit=100&selector=team%3Db"))
        .collect();
    let (l50, l99, lrps) = measure(&client, &selector).await?;

    println!(
        "monitors created          {} in {create_secs:.1} s ({:.0}/s)",
        args.monitors,
        args.monitors as f64 / create_secs
    );
    println!(
        "results behind the series {minutes} ({} days, one a minute)",
        args.days
    );
    println!("series 30d step 1h        p50 {s50:.2} ms  p99 {s99:.2} ms  {srps:.0} req/s");
    println!("monitors page of 100      p50 {p50:.2} ms  p99 {p99:.2} ms  {prps:.0} req/s");
    println!("page with selector        p50 {l50:.2} ms  p99 {l99:.2} ms  {lrps:.0} req/s");
    server.stop().await;
    Ok(())
}

/// Pages through every monitor 100 at a time, following `next_cursor` (wrapping around), and
/// times each page.
async fn walk_pages(
    client: &reqwest::Client,
    base: &str,
    requests: usize,
) -> anyhow::Result<(f64, f64, f64)> {
    let mut times = Vec::with_capacity(requests);
    let mut cursor: Option<String> = None;
    let started = Instant::now();
    for _ in 0..requests {
        let url = match &cursor {
            Some(c) => format!("{base}/monitors?limit=100&cursor={c}"),
            None => format!("{base}/monitors?limit=100"),
        };
        let t = Instant::now();
        let page: serde_json::Value = client
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        times.push(t.elapsed());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    let rps = requests as f64 / started.elapsed().as_secs_f64();
    times.sort();
    Ok((
        vedette_bench::quantile_ms(&times, 0.5),
        vedette_bench::quantile_ms(&times, 0.99),
        rps,
    ))
}
