//! Prints the operator's figures for N `Monitor` resources (1,000 unless `VEDETTE_BENCH_MONITORS`
//! says otherwise) reconciled from a cold start against a real kube-apiserver and `vedette serve`:
//! time to all Synced and all Ready, API calls per reconcile (Kubernetes, from the API server's
//! audit log; Vedette, from the operator's counter), the operator's CPU time and peak RSS, and
//! the calls it makes in a quiet steady state (none but its Lease renewals and Vedette resyncs).
//!
//! `VEDETTE_KUBE_TOOLS=$(scripts/kube-tools) cargo bench -p vedette-operator --bench cold_start`

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Cluster, Operator, Target, Vedette, wait_for};

/// Seconds of quiet in which the steady state is measured.
const QUIET: Duration = Duration::from_secs(30);

fn main() {
    let count: usize = std::env::var("VEDETTE_BENCH_MONITORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let cluster = Cluster::start();
    let vedette = Vedette::start();
    let target = Target::start();

    let mut list = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..count {
        let _ = write!(
            list,
            "- apiVersion: vedette.dev/v1\n  kind: Monitor\n  metadata:\n    name: m{i:04}\n    namespace: default\n  \
             spec:\n    http:\n      url: {}\n    interval: 10s\n    timeout: 2s\n",
            target.url
        );
    }
    let created = Instant::now();
    let out = cluster.apply(&list);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "created {count} Monitor resources in {:?}",
        created.elapsed()
    );

    let started = Instant::now();
    let operator = Operator::start(
        &cluster,
        &vedette,
        "bench",
        &["--lease-seconds", "15", "--resync-seconds", "60"],
    );
    let mut synced_at = None;
    let ready_at = wait_for(
        Duration::from_secs(600),
        "every Monitor to be Ready",
        || {
            let text = cluster.ok(&["get", "monitors", "-n", "default", "-o", "json"]);
            let list: Value = serde_json::from_str(&text).ok()?;
            let items = list["items"].as_array()?;
            let with = |type_: &str| {
                items
                    .iter()
                    .filter(|m| {
                        m["status"]["conditions"].as_array().is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c["type"] == type_ && c["status"] == "True")
                        })
                    })
                    .count()
            };
            if synced_at.is_none() && with("Synced") == count {
                synced_at = Some(started.elapsed());
            }
            (with("Ready") == count).then(|| started.elapsed())
        },
    );
    let synced_at = synced_at.unwrap_or(ready_at);
    let cold_requests = cluster.operator_requests();
    let vedette_calls = operator
        .metric("vedette_operator_vedette_requests_total")
        .unwrap_or(0.0);
    let reconciles = operator
        .metric("vedette_operator_reconciles_total")
        .unwrap_or(0.0);
    let (cpu, rss) = usage(operator.process.child.id());

    let before = cluster.operator_requests().len();
    let vedette_before = vedette_calls;
    std::thread::sleep(QUIET);
    let quiet: Vec<String> = cluster.operator_requests()[before..].to_vec();
    let vedette_quiet = operator
        .metric("vedette_operator_vedette_requests_total")
        .unwrap_or(0.0)
        - vedette_before;
    let leases = quiet.iter().filter(|r| r.ends_with(" leases")).count();

    println!("monitors: {count}");
    println!("time to all Synced (written to Vedette, status set): {synced_at:?}");
    println!("time to all Ready (Vedette reports a state): {ready_at:?}");
    println!("reconciles: {reconciles}");
    println!(
        "Kubernetes API requests during cold start: {} ({:.2} per monitor; leases {})",
        cold_requests.len(),
        cold_requests.len() as f64 / count as f64,
        cold_requests
            .iter()
            .filter(|r| r.ends_with(" leases"))
            .count()
    );
    println!(
        "Vedette API requests during cold start: {vedette_calls} ({:.2} per monitor, {:.2} per reconcile)",
        vedette_calls / count as f64,
        vedette_calls / reconciles.max(1.0)
    );
    println!(
        "operator CPU time: {cpu:.2} s; peak RSS: {:.1} MiB",
        rss as f64 / 1024.0
    );
    println!(
        "steady state, {QUIET:?} with nothing changing: {} Kubernetes requests ({} Lease renewals, {} other: {:?}), {vedette_quiet} Vedette requests",
        quiet.len(),
        leases,
        quiet.len() - leases,
        quiet
            .iter()
            .filter(|r| !r.ends_with(" leases"))
            .collect::<Vec<_>>()
    );
}

/// CPU seconds (user + system) and peak RSS (KiB) of process `pid`, from `/proc`.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (ticks as f64 / 100.0, peak)
}
