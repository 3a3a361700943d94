//! What the benchmark programs share: reading a process's CPU time (whole and per thread) and
//! RSS, running a helper server (target, receiver) in a child process so its CPU is not
//! counted, running `vedette serve` in this process, and filling a server with monitors
//! (through its API) and their history (through the store).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

#[path = "../../crates/server/tests/support/serving.rs"]
mod serving;

pub use serving::Serving;

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> f64 {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// Peak resident set size of this process in MiB.
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

/// Runs this same program again with `env` set (the child serves and prints its address on
/// its first stdout line) and returns the child with that address.
pub fn spawn_self(env: &str) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .env(env, "1")
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    Ok((child, line.trim().to_owned()))
}

/// The `q`-quantile (nearest rank) of sorted durations, in milliseconds; 0 when empty.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// CPU time of another process: its total (user + system, exited threads included) and the
/// time each of its live threads ran, by thread name.
#[derive(Debug, Clone)]
pub struct ProcessCpu {
    /// CPU seconds of the whole process.
    pub total: f64,
    /// Nanoseconds on CPU per thread id, with the thread's name.
    threads: BTreeMap<u32, (String, u64)>,
}

impl ProcessCpu {
    /// Reads `/proc/<pid>/stat` and every `/proc/<pid>/task/*/{comm,schedstat}`.
    pub fn read(pid: u32) -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        let mut threads = BTreeMap::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let path = task?.path();
            let Some(tid) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // A thread may end between listing and reading: skip it.
            let (Ok(comm), Ok(schedstat)) = (
                std::fs::read_to_string(path.join("comm")),
                std::fs::read_to_string(path.join("schedstat")),
            ) else {
                continue;
            };
            let ns = schedstat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            threads.insert(tid, (comm.trim().to_owned(), ns));
        }
        Ok(Self {
            total: stat_cpu_seconds(&stat),
            threads,
        })
    }

    /// CPU nanoseconds per thread name since `before` (threads started since count whole),
    /// largest first.
    pub fn per_thread_delta(&self, before: &ProcessCpu) -> Vec<(String, u64)> {
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for (tid, (name, ns)) in &self.threads {
            let earlier = before.threads.get(tid).map_or(0, |(_, ns)| *ns);
            *by_name.entry(name.clone()).or_default() += ns.saturating_sub(earlier);
        }
        let mut list: Vec<(String, u64)> = by_name.into_iter().collect();
        list.sort_by_key(|b| std::cmp::Reverse(b.1));
        list
    }

    /// A `/proc/<pid>/status` size field (`VmRSS`, `VmHWM`) in KiB; 0 when unreadable.
    pub fn rss_kib(pid: u32, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds.
fn stat_cpu_seconds(stat: &str) -> f64 {
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

/// Requests answered by the counting target, and the distinct query strings among them.
#[derive(Default)]
struct Counts {
    requests: u64,
    distinct: HashSet<String>,
}

/// Serves the HTTP target on a fresh loopback port and prints its address on the first stdout
/// line: `GET /health?m=N` answers `{"status":"UP"}` and is counted (each `m` once among the
/// distinct ones), `GET /counts` answers `{"requests": .., "distinct": ..}`.
pub fn serve_counting_target() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let counts = Arc::new(Mutex::new(Counts::default()));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            println!("{}", listener.local_addr()?);
            let seen = counts.clone();
            let app = axum::Router::new()
                .route(
                    "/health",
                    axum::routing::get(move |uri: axum::http::Uri| async move {
                        let mut counts = seen.lock().unwrap_or_else(|e| e.into_inner());
                        counts.requests += 1;
                        if let Some(query) = uri.query()
                            && !counts.distinct.contains(query)
                        {
                            counts.distinct.insert(query.to_owned());
                        }
                        r#"{"status":"UP"}"#
                    }),
                )
                .route(
                    "/counts",
                    axum::routing::get(move || async move {
                        let counts = counts.lock().unwrap_or_else(|e| e.into_inner());
                        axum::Json(serde_json::json!({
                            "requests": counts.requests,
                            "distinct": counts.distinct.len(),
                        }))
                    }),
                );
            axum::serve(listener, app).await?;
            anyhow::Ok(())
        })
}

/// Creates `count` paused monitors through the API at `api` (`.../api/v1`), with ids from `id`
/// and a `team` label of `a` or `b` (every other one), so selectors have something to pick.
pub async fn put_paused_monitors(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    count: usize,
    id: impl Fn(usize) -> String,
) -> anyhow::Result<()> {
    for n in 0..count {
        let body = serde_json::json!({
            "labels": {"team": if n % 2 == 0 { "a" } else { "b" }},
            "spec": {"http": {"url": "http://127.0.0.1:9/"}, "paused": true}
        });
        let id = id(n);
        let response = client
            .put(format!("{api}/monitors/{id}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "PUT {id}: {}",
            response.status()
        );
    }
    Ok(())
}

/// The config of a server that a benchmark fills through its API: `token` is its admin token,
/// and writes are not rate-limited, so the benchmark creates its monitors as fast as it can.
pub fn api_config(data_dir: &std::path::Path, token: &str) -> vedette_server::ServeConfig {
    vedette_server::ServeConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_path_buf(),
        bootstrap_token: Some(vedette_model::spec::Secret(token.into())),
        http: vedette_server::limits::HttpLimits {
            writes_per_second: 0,
            ..Default::default()
        },
        ..vedette_server::ServeConfig::default()
    }
}

/// Writes `count` results of monitor `id`, one every `step` from `start`, the way the engine
/// writes them: up, one in 97 down, latency 5 to 54 ms.
pub async fn write_history(
    store: &vedette_store::Store,
    id: &str,
    start: chrono::DateTime<chrono::Utc>,
    step: chrono::Duration,
    count: i64,
) -> anyhow::Result<()> {
    use vedette_model::{CheckResult, MonitorState, Outcome, Phases};
    let mut batch = Vec::with_capacity(1000);
    for m in 0..count {
        let at = start + step * i32::try_from(m).context("too many results")?;
        let down = m % 97 == 0;
        let mut status = vedette_store::MonitorStatus::pending(id, at);
        status.state = MonitorState::Up;
        batch.push(vedette_store::CheckRecord {
            result: CheckResult {
                monitor_id: id.into(),
                started_at: at,
                outcome: if down { Outcome::Down } else { Outcome::Up },
                reason: None,
                message: String::new(),
                phases: Phases {
                    total_ms: 5.0 + (m % 50) as f64,
                    ..Phases::default()
                },
                status_code: Some(200),
                cert_not_after: None,
                assertions: Vec::new(),
                attempts: 1,
                in_maintenance: false,
                gateway: None,
            },
            status,
            last_check_only: false,
            incident: None,
            events: Vec::new(),
        });
        if batch.len() == 1000 {
            store.write_batch(&batch).await?;
            batch.clear();
        }
    }
    store.write_batch(&batch).await?;
    Ok(())
}
