//! Side-by-side benchmark: runs the real `vedette serve` binary as its own process with N HTTP
//! monitors (from a `--config` directory) against a separate target process that counts the
//! checks it answers, scrapes `/metrics` every 15 s and reads the API while it measures, and
//! prints load time, checks per second, CPU per check for the whole process and per thread
//! name, RSS and the scheduler's lag p99.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use vedette_bench::{ProcessCpu, quantile_ms};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// The `vedette` binary to run (a release build).
    #[arg(long, default_value = "target/release/vedette")]
    vedette: PathBuf,
    /// Number of monitors.
    #[arg(long, default_value_t = 10_000)]
    monitors: usize,
    /// Interval of every monitor.
    #[arg(long, default_value = "10s")]
    interval: vedette_model::Duration,
    /// Time to run after every monitor was checked once, before measuring.
    #[arg(long, default_value = "30s")]
    warmup: vedette_model::Duration,
    /// How long to measure.
    #[arg(long, default_value = "120s")]
    duration: vedette_model::Duration,
    /// PostgreSQL URL (its database is used as is); SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
    /// API reads per second while measuring (a page of monitors, a day's series, the status).
    #[arg(long, default_value_t = 3)]
    reads_per_second: u32,
}

/// Set in the environment of the child process that serves the target.
const TARGET_ENV: &str = "VEDETTE_BENCH_TARGET";
/// The admin token the server is started with.
const TOKEN: &str = "vdt_bench-admin-token-0123456789abcdefghijkl";
/// How often `/metrics` is scraped while measuring.
const SCRAPE_EVERY: Duration = Duration::from_secs(15);

fn main() -> anyhow::Result<()> {
    if std::env::var_os(TARGET_ENV).is_some() {
        return vedette_bench::serve_counting_target();
    }
    let args = Args::parse();
    // reqwest is built without a TLS provider of its own (the workspace picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    anyhow::ensure!(
        args.vedette.is_file(),
        "{} not found: build it with `cargo build --release -p vedette-cli` or pass --vedette",
        args.vedette.display()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The target is stopped however the run ends (an error included).
    let (target, target_addr) = vedette_bench::spawn_self(TARGET_ENV)?;
    let target = KillOnDrop(target);
    let target_url = format!("http://{target_addr}");
    let config = dir.path().join("monitors");
    std::fs::create_dir(&config)?;
    // A config file may not pass 4 MiB: 100,000 monitors need several.
    for (i, yaml) in monitors_yaml(&args, &target_url).iter().enumerate() {
        std::fs::write(config.join(format!("monitors-{i:03}.yaml")), yaml)?;
    }
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    let count = |client: reqwest::Client, url: String| async move {
        let counts: serde_json::Value = client.get(url).send().await?.json().await?;
        anyhow::Ok((
            counts["requests"].as_u64().unwrap_or(0),
            counts["distinct"].as_u64().unwrap_or(0),
        ))
    };
    let counts_url = format!("{target_url}/counts");

    let mut command = Command::new(&args.vedette);
    command
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--bootstrap-token")
        .arg(TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log"))?);
    if let Some(url) = &args.database_url {
        command.arg("--database-url").arg(url);
    }
    let started = Instant::now();
    let mut serve = KillOnDrop(command.spawn().context("starting vedette serve")?);
    let pid = serve.0.id();

    // Load: the first check at the target, then every monitor checked once.
    let mut first_check = None;
    let all_checked = loop {
        if let Some(status) = serve.0.try_wait()? {
            let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
            anyhow::bail!("vedette serve exited ({status}):\n{log}");
        }
        let (requests, distinct) = count(client.clone(), counts_url.clone()).await?;
        if requests > 0 && first_check.is_none() {
            first_check = Some(started.elapsed());
        }
        if distinct as usize >= args.monitors {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < args.interval.std() * 3 + Duration::from_secs(120),
            "only {distinct} of {} monitors checked after {:?}",
            args.monitors,
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let first_check = first_check.unwrap_or(all_checked);
    let rss_loaded = ProcessCpu::rss_kib(pid, "VmRSS");

    eprintln!("warming up for {}", args.warmup);
    tokio::time::sleep(args.warmup.std()).await;

    let lag_before = lag_counts(&client, &base).await?;
    let cpu_before = ProcessCpu::read(pid)?;
    let (checks_before, _) = count(client.clone(), counts_url.clone()).await?;
    let window = Instant::now();
    let mut reads: Vec<Duration> = Vec::new();
    let mut scrapes: Vec<Duration> = Vec::new();
    let mut next_scrape = Instant::now();
    let read_every = Duration::from_secs(1) / args.reads_per_second.max(1);
    let mut n = 0_usize;
    while window.elapsed() < args.duration.std() {
        if Instant::now() >= next_scrape {
            let t = Instant::now();
            client
                .get(format!("{base}/metrics"))
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            scrapes.push(t.elapsed());
            next_scrape += SCRAPE_EVERY;
        }
        if args.reads_per_second > 0 {
            let monitor = n * 7919 % args.monitors;
            let url = match n % 3 {
                0 => format!("{base}/api/v1/monitors?limit=100"),
                1 => format!("{base}/api/v1/series?ids=bench-{monitor}&from=-1d&step=1h"),
                _ => format!("{base}/api/v1/status"),
            };
            let t = Instant::now();
            client
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            reads.push(t.elapsed());
            n += 1;
        }
        tokio::time::sleep(read_every).await;
    }
    let elapsed = window.elapsed().as_secs_f64();
    let cpu_after = ProcessCpu::read(pid)?;
    let (checks_after, _) = count(client.clone(), counts_url.clone()).await?;
    let lag_after = lag_counts(&client, &base).await?;
    let rss_peak = ProcessCpu::rss_kib(pid, "VmHWM");
    let rss_end = ProcessCpu::rss_kib(pid, "VmRSS");
    serve.stop();
    drop(target);

    let checks = checks_after - checks_before;
    let per_check_ms = |cpu_s: f64| cpu_s * 1000.0 / checks.max(1) as f64;
    let total = cpu_after.total - cpu_before.total;
    let mut out = String::new();
    let backend = if args.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    writeln!(
        out,
        "monitors {} every {} on {backend}",
        args.monitors, args.interval
    )?;
    writeln!(
        out,
        "load: first check {:.2} s, every monitor checked once {:.2} s, RSS then {} MiB",
        first_check.as_secs_f64(),
        all_checked.as_secs_f64(),
        rss_loaded / 1024
    )?;
    writeln!(
        out,
        "window {elapsed:.1} s: {checks} checks at the target ({:.0}/s, expected {:.0}/s)",
        checks as f64 / elapsed,
        args.monitors as f64 / args.interval.std().as_secs_f64()
    )?;
    writeln!(
        out,
        "CPU {total:.1} s ({:.2} cores): {:.3} ms per check",
        total / elapsed,
        per_check_ms(total)
    )?;
    for (name, ns) in cpu_after.per_thread_delta(&cpu_before) {
        let s = ns as f64 / 1e9;
        writeln!(
            out,
            "  {name:<20} {s:7.1} s  {:6.3} ms/check  {:4.1} %",
            per_check_ms(s),
            100.0 * s / total.max(1e-9)
        )?;
    }
    writeln!(
        out,
        "RSS peak {} MiB, at the end {} MiB ({:.1} KiB per monitor at the end)",
        rss_peak / 1024,
        rss_end / 1024,
        rss_end as f64 / args.monitors as f64
    )?;
    let lag: Vec<(f64, u64)> = lag_after
        .iter()
        .map(|(le, c)| {
            let before = lag_before.get(le).copied().unwrap_or(0);
            (f64::from_bits(*le), c.saturating_sub(before))
        })
        .collect();
    writeln!(
        out,
        "scheduler lag p50 <= {} ms, p99 <= {} ms (bucket bounds, this window)",
        lag_quantile_ms(&lag, 0.50),
        lag_quantile_ms(&lag, 0.99)
    )?;
    scrapes.sort();
    reads.sort();
    writeln!(
        out,
        "/metrics scrapes {}: max {:.1} ms; API reads {}: p50 {:.1} ms, p99 {:.1} ms",
        scrapes.len(),
        scrapes.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        reads.len(),
        quantile_ms(&reads, 0.5),
        quantile_ms(&reads, 0.99)
    )?;
    print!("{out}");
    Ok(())
}

/// Config files of 5,000 of the `args.monitors` HTTP monitors each, every monitor with its own
/// query string so the target can tell them apart.
fn monitors_yaml(args: &Args, target: &str) -> Vec<String> {
    (0..args.monitors)
        .step_by(5_000)
        .map(|first| {
            let mut yaml = String::new();
            for n in first..(first + 5_000).min(args.monitors) {
                let _ = write!(
                    yaml,
                    "---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: bench-{n}\n  \
                     labels: {{team: t{}}}\nspec:\n  http:\n    url: {target}/health?m={n}\n  \
                     interval: {}\n  timeout: 5s\n  assertions:\n    - status == 200\n",
                    n % 10,
                    args.interval
                );
            }
            yaml
        })
        .collect()
}

/// The scheduler lag histogram from `/metrics`: cumulative count per upper bound (seconds),
/// keyed by the bound's bits.
async fn lag_counts(client: &reqwest::Client, base: &str) -> anyhow::Result<LagCounts> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut counts = LagCounts::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("vedette_scheduler_lag_seconds_bucket{le=\"") else {
            continue;
        };
        let Some((le, value)) = rest.split_once("\"} ") else {
            continue;
        };
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse()?
        };
        counts.insert(le.to_bits(), value.trim().parse::<f64>()? as u64);
    }
    anyhow::ensure!(
        !counts.is_empty(),
        "no vedette_scheduler_lag_seconds in /metrics"
    );
    Ok(counts)
}

/// Cumulative lag counts keyed by the bits of the bucket's upper bound in seconds.
type LagCounts = BTreeMap<u64, u64>;

/// The bound (ms) of the bucket holding the `q`-quantile of cumulative `(le, count)` pairs.
fn lag_quantile_ms(cumulative: &[(f64, u64)], q: f64) -> String {
    let mut sorted = cumulative.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = sorted.last().map_or(0, |(_, c)| *c);
    let rank = (q * total as f64).ceil() as u64;
    sorted
        .iter()
        .find(|(_, c)| *c >= rank.max(1))
        .map_or("-".into(), |(le, _)| {
            if le.is_infinite() {
                "+Inf".into()
            } else {
                format!("{}", le * 1000.0)
            }
        })
}

/// Stops `vedette serve` (SIGTERM, then SIGKILL after 10 s) when dropped.
struct KillOnDrop(Child);

impl KillOnDrop {
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}
