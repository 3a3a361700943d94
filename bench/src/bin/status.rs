//! Status page benchmark: the real server (`vedette serve` in-process, SQLite) running N HTTP
//! monitors against a local target (by default 10,000 every 10 s: 1,000 checks/s), with a
//! status page listing some of them; C keep-alive connections then fetch the public page, its
//! JSON and a badge as fast as they are answered. Prints requests/s for each and the checks/s
//! the engine kept up meanwhile.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use vedette_model::status_page::{ShowFigures, StatusGroup, StatusPageSpec};
use vedette_model::{MonitorSpec, Record};
use vedette_server::ServeConfig;
use vedette_store::{MonitorRecord, Store, StoreConfig};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Number of monitors the engine runs.
    #[arg(long, default_value_t = 10_000)]
    monitors: usize,
    /// Interval of every monitor.
    #[arg(long, default_value = "10s")]
    interval: vedette_model::Duration,
    /// Monitors the status page lists.
    #[arg(long, default_value_t = 50)]
    page_monitors: usize,
    /// Keep-alive connections fetching at once.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long each path is fetched (after one warm-up interval).
    #[arg(long, default_value = "10s")]
    duration: vedette_model::Duration,
}

/// Set in the environment of the child process that serves the target.
const TARGET_ENV: &str = "VEDETTE_BENCH_TARGET";

/// Paths fetched, one phase each.
const PATHS: [&str; 3] = [
    "/status/bench",
    "/status/bench.json",
    "/badge/bench/bench-0/uptime.svg?window=7d",
];

/// Serves the HTTP target and prints its address (a child process, so its CPU is not the
/// server's).
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

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
    body: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr, path: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            request: format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").into_bytes(),
            body: Vec::new(),
        })
    }

    /// Sends the request and reads the whole answer; its status.
    async fn fetch(&mut self) -> anyhow::Result<u16> {
        self.stream.get_mut().write_all(&self.request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("status line")?;
        let mut length = None;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                bail!("connection closed");
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.context("no Content-Length")?;
        self.body.resize(length, 0);
        self.stream.read_exact(&mut self.body).await?;
        Ok(status)
    }
}

/// Requests answered 200 on `connections` connections to `path` over `length`.
async fn load(
    addr: SocketAddr,
    path: &str,
    connections: usize,
    length: Duration,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let mut connection = Connection::open(addr, path).await?;
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while Instant::now() < deadline {
                match connection.fetch().await {
                    Ok(200) => ok += 1,
                    Ok(status) => bail!("answered {status}"),
                    Err(e) => return Err(e),
                }
            }
            Ok(ok)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total)
}

/// Checks recorded so far, from `/metrics`.
async fn checks(addr: SocketAddr) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("vedette_checks_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os(TARGET_ENV).is_some() {
        return serve_target().await;
    }
    let args = Args::parse();
    anyhow::ensure!(
        args.page_monitors <= args.monitors,
        "--page-monitors must not exceed --monitors"
    );
    let dir = tempfile::tempdir()?;
    let (mut target, target_addr) = vedette_bench::spawn_self(TARGET_ENV)?;
    let data_dir = dir.path().join("data");
    let store = Store::open(&StoreConfig::sqlite(&data_dir))
        .await
        .context("opening the store")?;
    let url = format!("http://{target_addr}/health");
    for n in 0..args.monitors {
        let mut spec = MonitorSpec::http(url.clone());
        spec.interval = args.interval;
        spec.timeout = vedette_model::Duration::from_secs(5);
        spec.assertions = vec!["status == 200".into()];
        let mut record = MonitorRecord::new(format!("bench-{n}"), spec);
        if n < args.page_monitors {
            record.labels.insert("page".into(), "bench".into());
        }
        store.put_monitor(&record).await?;
    }
    let page = StatusPageSpec {
        title: "Bench status".into(),
        slug: "bench".into(),
        description: None,
        logo_url: None,
        groups: vec![StatusGroup {
            name: "Everything".into(),
            monitors: Vec::new(),
            selector: Some("page=bench".into()),
        }],
        show: ShowFigures {
            latency: true,
            ..ShowFigures::default()
        },
        announcement: None,
        custom_domain: None,
    };
    store.put(&Record::new("bench", page), None).await?;
    store.close().await;

    let server = vedette_bench::Serving::start(ServeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir,
        max_concurrency: 512,
        ..ServeConfig::default()
    })
    .await;
    let addr = server.addr;
    eprintln!(
        "{} monitors every {} ({:.0} checks/s), a page of {}; warming up for one interval",
        args.monitors,
        args.interval,
        args.monitors as f64 / args.interval.std().as_secs_f64(),
        args.page_monitors
    );
    tokio::time::sleep(args.interval.std()).await;

    println!("{:<45} {:>10} {:>12}", "path", "requests/s", "checks/s");
    let length = args.duration.std();
    for path in PATHS {
        let checks_before = checks(addr).await?;
        let started = Instant::now();
        let ok = load(addr, path, args.connections, length).await?;
        let secs = started.elapsed().as_secs_f64();
        let checked = checks(addr).await? - checks_before;
        println!(
            "{path:<45} {:>10.0} {:>12.0}",
            ok as f64 / secs,
            checked / secs
        );
    }
    server.stop().await;
    target.kill()?;
    Ok(())
}
