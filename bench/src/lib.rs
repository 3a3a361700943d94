//! What the benchmark programs share: reading this process's CPU time and peak RSS, and
//! running a helper server (target, receiver) in a child process so its CPU is not counted.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use anyhow::Context;

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/self/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
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
