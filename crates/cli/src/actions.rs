//! `vedette pause ID`, `vedette resume ID` and `vedette run ID`.

use std::fmt::Write as _;
use std::process::ExitCode;

use vedette_client::Monitor;
use vedette_model::{CheckResult, Outcome};

use crate::context::{self, Connection};
use crate::describe::assertion_line;
use crate::output::{self, Format, Paint, Spinner, Style, print_data};

/// Options of `resume`.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// The monitor's id.
    id: String,
    /// Output format of the monitor after the change.
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

/// Options of `pause`.
#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    /// The monitor's id.
    id: String,
    /// Why it is paused (shown by `describe`; one line, at most 500 characters).
    #[arg(long)]
    reason: Option<String>,
    /// Output format of the monitor after the change.
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

/// Options of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The monitor's id.
    id: String,
    /// Output format of the result.
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

/// Runs `pause`: a runtime pause, kept by `apply` and restarts.
pub async fn pause(args: &PauseArgs, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let monitor = client
        .monitors()
        .pause(&args.id, args.reason.as_deref())
        .await?;
    report(args.output, &monitor, "paused")
}

/// Runs `resume`: ends the runtime pause; says so when the spec still pauses the monitor.
pub async fn resume(args: &TargetArgs, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let monitor = client.monitors().resume(&args.id).await?;
    let done = if monitor.spec.paused {
        "resumed at runtime, still paused by its spec (spec.paused: true; change the spec to run it)"
    } else {
        "resumed"
    };
    report(args.output, &monitor, done)
}

/// Prints the monitor after a pause or resume: as data, or `monitor/ID DONE (state: ...)`.
fn report(output: Format, monitor: &Monitor, done: &str) -> anyhow::Result<ExitCode> {
    if !print_data(output, monitor)? {
        let state = monitor.status.as_ref().map(|s| s.state);
        let style = Style::stdout();
        println!(
            "monitor/{} {done} (state: {})",
            monitor.id,
            state.map_or_else(
                || "-".to_owned(),
                |s| style.paint(s.as_str(), Paint::state(s))
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The text form of a result: verdict line, then one line per assertion.
pub fn render_result(r: &CheckResult, style: &Style) -> String {
    let mut out = format!(
        "monitor/{}: {} ({}",
        r.monitor_id,
        style.paint(r.outcome.as_str(), Some(Paint::outcome(r.outcome))),
        r.message
    );
    if let Some(reason) = r.reason {
        let _ = write!(out, "; reason: {}", reason.as_str());
    }
    let _ = writeln!(
        out,
        ") in {}, {} attempt(s)",
        output::millis(r.latency_ms()),
        r.attempts
    );
    for a in &r.assertions {
        let _ = writeln!(out, "  {}", assertion_line(a, style));
    }
    out
}

/// Runs `run`: exit 0 when the check is up or degraded, 1 when down.
pub async fn run(args: &RunArgs, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let result = {
        let _spinner = Spinner::start(&format!("checking {}", args.id));
        client.monitors().run(&args.id).await?
    };
    if !print_data(args.output, &result)? {
        print!("{}", render_result(&result, &Style::stdout()));
    }
    Ok(match result.outcome {
        Outcome::Up | Outcome::Degraded => ExitCode::SUCCESS,
        Outcome::Down => ExitCode::FAILURE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_show_verdict_and_each_assertion() {
        let r: CheckResult = serde_json::from_value(serde_json::json!({
            "monitor_id": "api", "started_at": "2026-11-26T09:59:00Z",
            "outcome": "down", "reason": "assertion", "message": "HTTP 503 in 3 ms",
            "phases": {"total_ms": 3.0}, "status_code": 503, "attempts": 2,
            "assertions": [
                {"expression": "status == 200", "passed": false, "actual": "status (503) == 200"},
                {"expression": "response_time < 300ms", "passed": true, "actual": "response_time (3ms) < 300ms"}
            ]
        }))
        .unwrap();
        assert_eq!(
            render_result(&r, &Style::plain()),
            "monitor/api: down (HTTP 503 in 3 ms; reason: assertion) in 3.0 ms, 2 attempt(s)\n  \
             ✗ status (503) == 200\n  ✓ response_time (3ms) < 300ms\n"
        );
    }
}
