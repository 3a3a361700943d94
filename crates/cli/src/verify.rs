//! `vedette verify`: the deployment gate from a pipeline. Creates a verification, follows it
//! (polling every second) with a live line per monitor on a terminal and plain lines
//! otherwise, then writes the reports asked for. The gate itself is computed by the server.
//!
//! Exit codes: 0 passed, 1 failed, 2 timed out, 3 no monitor matched, 4 usage,
//! authentication or connection error.

use std::collections::HashMap;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use vedette_client::{Client, ReportFormat, Verification, Write};
use vedette_model::Duration;
use vedette_model::verification::{MonitorProgress, VerificationSpec, VerificationState};

use crate::context::{self, Connection};

/// Exit code of usage, authentication and connection errors.
pub const ERROR_EXIT: u8 = 4;
/// How often the verification is read while it runs.
const POLL_EVERY: StdDuration = StdDuration::from_secs(1);
/// How long past its deadline a verification is waited for before giving up (the server
/// ends it at its deadline; this only guards against a server that stopped answering).
const GRACE: StdDuration = StdDuration::from_secs(60);
/// Most monitor lines redrawn on a terminal; the rest are summed up in one line.
const MAX_LIVE_LINES: usize = 30;

/// Options of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Label selector of the monitors to verify (`team=payments,env=prod`).
    #[arg(long, conflicts_with = "ids", required_unless_present = "ids")]
    selector: Option<String>,
    /// A monitor id to verify (repeat, or separate with commas).
    #[arg(long = "id", value_name = "ID", value_delimiter = ',')]
    ids: Vec<String>,
    /// Successful checks in a row each monitor needs after the start (1 to 100).
    #[arg(long, default_value_t = 3)]
    consecutive: u32,
    /// How long to wait for every monitor to pass (at most 24h).
    #[arg(long, default_value = "5m")]
    timeout: Duration,
    /// Wait for each monitor's schedule instead of running it once at the start.
    #[arg(long)]
    no_run_now: bool,
    /// Keep waiting when a monitor goes down (until it passes or the timeout).
    #[arg(long)]
    no_fail_fast: bool,
    /// The deployment this verification gates (named in events and reports).
    #[arg(long)]
    deployment: Option<String>,
    /// Write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print the final verification as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
    /// Append the Markdown report to this file (a CI job summary such as
    /// $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    summary_md: Option<PathBuf>,
}

/// The exit code of an outcome.
fn exit_code(state: VerificationState) -> u8 {
    match state {
        VerificationState::Passed => 0,
        VerificationState::TimedOut => 2,
        VerificationState::NoMonitors => 3,
        _ => 1,
    }
}

/// Runs `verify`; every error is reported here with exit code 4.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    match verify(args, connection).await {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(ERROR_EXIT))
        }
    }
}

async fn verify(args: &Args, connection: &Connection) -> anyhow::Result<u8> {
    let client = context::client(connection)?;
    let spec = VerificationSpec {
        selector: args.selector.clone(),
        ids: (!args.ids.is_empty()).then(|| args.ids.clone()),
        consecutive: args.consecutive,
        timeout: args.timeout,
        run_now: !args.no_run_now,
        fail_fast: !args.no_fail_fast,
        deployment: args.deployment.clone(),
    };
    let created = client
        .verifications()
        .create(&Write {
            id: None,
            labels: Default::default(),
            spec,
        })
        .await
        .context("cannot create the verification")?;
    let mut progress = Progress::new(args.json);
    progress.started(&created);
    let limit = tokio::time::Instant::now() + args.timeout.std() + GRACE;
    let mut current = created;
    while !current.status.state.is_terminal() {
        progress.show(&current);
        if tokio::time::Instant::now() >= limit {
            anyhow::bail!(
                "verification {} did not end by its deadline; the server may be overloaded",
                current.id
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
        current = client
            .verifications()
            .get(&current.id)
            .await
            .with_context(|| format!("cannot read verification {}", current.id))?;
    }
    progress.show(&current);
    progress.finished(&current);
    write_reports(&client, args, &current).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&current)?);
    }
    Ok(exit_code(current.status.state))
}

async fn write_reports(client: &Client, args: &Args, v: &Verification) -> anyhow::Result<()> {
    if let Some(path) = &args.junit {
        let xml = client
            .verifications()
            .report(&v.id, ReportFormat::Junit)
            .await
            .context("cannot fetch the JUnit report")?;
        std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.summary_md {
        let markdown = client
            .verifications()
            .report(&v.id, ReportFormat::Markdown)
            .await
            .context("cannot fetch the Markdown report")?;
        append(path, &markdown).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

/// One line on a monitor's progress.
fn line(m: &MonitorProgress, consecutive: u32) -> String {
    let mark = if m.passed {
        "✓"
    } else if m.last_result.as_ref().is_some_and(|r| !r.ok) {
        "✗"
    } else {
        "…"
    };
    let last = m
        .last_result
        .as_ref()
        .map(|r| if r.ok { r.message.clone() } else { r.why() })
        .unwrap_or_else(|| "waiting for a check".to_owned());
    format!(
        "{mark} {:<24} {:<8} {}/{consecutive} ok, {} checks  {last}",
        m.id, m.state, m.consecutive_ok, m.checks
    )
}

/// Progress output: redrawn lines on a terminal, else a line whenever a monitor changes.
struct Progress {
    to_stderr: bool,
    terminal: bool,
    /// Lines drawn last time (terminal).
    drawn: usize,
    /// Checks seen per monitor at the last plain line.
    seen: HashMap<String, (u32, bool)>,
}

impl Progress {
    fn new(to_stderr: bool) -> Self {
        let terminal = if to_stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        Self {
            to_stderr,
            terminal,
            drawn: 0,
            seen: HashMap::new(),
        }
    }

    fn emit(&self, text: &str) {
        if self.to_stderr {
            eprint!("{text}");
        } else {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
    }

    fn started(&self, v: &Verification) {
        self.emit(&format!(
            "verification {}: {} monitors, {} successful checks in a row each, timeout {}\n",
            v.id,
            v.status.monitors.len(),
            v.spec.consecutive,
            v.spec.timeout
        ));
    }

    fn show(&mut self, v: &Verification) {
        let consecutive = v.spec.consecutive;
        if self.terminal {
            let mut text = String::new();
            if self.drawn > 0 {
                text.push_str(&format!("\x1b[{}A", self.drawn));
            }
            let mut lines: Vec<String> = v
                .status
                .monitors
                .iter()
                .take(MAX_LIVE_LINES)
                .map(|m| line(m, consecutive))
                .collect();
            if v.status.monitors.len() > MAX_LIVE_LINES {
                let passed = v.status.monitors.iter().filter(|m| m.passed).count();
                lines.push(format!(
                    "… and {} more ({passed} of {} passed in all)",
                    v.status.monitors.len() - MAX_LIVE_LINES,
                    v.status.monitors.len()
                ));
            }
            for l in &lines {
                text.push_str("\x1b[2K");
                text.push_str(l);
                text.push('\n');
            }
            self.drawn = lines.len();
            self.emit(&text);
            return;
        }
        for m in &v.status.monitors {
            let now = (m.checks, m.passed);
            if self.seen.get(&m.id) != Some(&now) {
                self.seen.insert(m.id.clone(), now);
                if m.checks > 0 {
                    self.emit(&format!("{}\n", line(m, consecutive)));
                }
            }
        }
    }

    fn finished(&self, v: &Verification) {
        let outcome = v.status.state.as_str();
        let reason = v
            .status
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        self.emit(&format!("verification {} {outcome}{reason}\n", v.id));
    }
}
