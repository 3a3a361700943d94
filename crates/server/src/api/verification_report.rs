//! A verification's report for pipelines: JUnit XML (one testcase per monitor, failures with
//! the failing assertion and its actual value) and Markdown (a job summary). Every text comes
//! from bounded fields ([`vedette_model::verification::MAX_TEXT`]) and a verification follows
//! a bounded number of monitors, so reports are bounded; the Markdown table lists at most
//! [`MAX_MARKDOWN_ROWS`] monitors, those that did not pass first.

use std::fmt::Write;

use vedette_model::MonitorState;
use vedette_model::verification::{
    MonitorProgress, VerificationSpec, VerificationState, VerificationStatus,
};

use crate::xml;

/// Most monitor rows in a Markdown report (job summaries are limited in size).
pub const MAX_MARKDOWN_ROWS: usize = 500;

/// `text` for a Markdown table cell: pipes escaped, on one line.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// How one monitor ended: `None` passed (or still running), else a failure or a skip.
enum Verdict {
    Passed,
    Failure { message: String, detail: String },
    Skipped(String),
}

fn detail(m: &MonitorProgress) -> String {
    let mut text = String::new();
    if let Some(last) = &m.last_result {
        for f in &last.failures {
            let _ = writeln!(text, "{} (actual: {})", f.assertion, f.actual);
        }
        let _ = writeln!(
            text,
            "last check: {} at {}",
            last.message,
            last.at.to_rfc3339()
        );
    } else {
        text.push_str("no check seen since the verification started\n");
    }
    let _ = write!(
        text,
        "state {}, {} checks, {} successful in a row",
        m.state, m.checks, m.consecutive_ok
    );
    text
}

fn verdict(m: &MonitorProgress, spec: &VerificationSpec, status: &VerificationStatus) -> Verdict {
    if m.passed {
        return Verdict::Passed;
    }
    let failed_check = m.last_result.as_ref().is_some_and(|r| !r.ok);
    let why = m
        .last_result
        .as_ref()
        .filter(|r| !r.ok)
        .map(|r| r.why())
        .unwrap_or_default();
    match status.state {
        VerificationState::TimedOut => Verdict::Failure {
            message: format!(
                "timed out after {} with {}/{} successful checks in a row{}",
                spec.timeout,
                m.consecutive_ok,
                spec.consecutive,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            ),
            detail: detail(m),
        },
        _ if m.state == MonitorState::Down || failed_check => Verdict::Failure {
            message: format!("{} is {}: {why}", m.id, m.state),
            detail: detail(m),
        },
        VerificationState::Pending | VerificationState::Running => Verdict::Passed,
        _ => Verdict::Skipped(format!(
            "the verification ended ({}) before this monitor passed",
            status.state.as_str()
        )),
    }
}

/// The JUnit XML report.
pub fn junit(id: &str, spec: &VerificationSpec, status: &VerificationStatus) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    let mut skipped = 0;
    let mut tests = status.monitors.len();
    for m in &status.monitors {
        let _ = write!(
            cases,
            "    <testcase classname=\"vedette\" name=\"{}\">",
            xml::escape(&m.id)
        );
        match verdict(m, spec, status) {
            Verdict::Passed => {}
            Verdict::Failure { message, detail } => {
                failures += 1;
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{}\">{}</failure>\n    ",
                    xml::escape(&message),
                    xml::escape(&detail)
                );
            }
            Verdict::Skipped(message) => {
                skipped += 1;
                let _ = write!(
                    cases,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    xml::escape(&message)
                );
            }
        }
        cases.push_str("</testcase>\n");
    }
    // A verification that ended without a pass and without monitors still fails the report.
    let unpassed = status.state.is_terminal() && status.state != VerificationState::Passed;
    if status.monitors.is_empty() && unpassed {
        tests += 1;
        failures += 1;
        let reason = status.reason.as_deref().unwrap_or(status.state.as_str());
        let _ = writeln!(
            cases,
            "    <testcase classname=\"vedette\" name=\"{}\">\n      <failure message=\"{}: {}\"/>\n    </testcase>",
            xml::escape(id),
            status.state.as_str(),
            xml::escape(reason)
        );
    }
    let name = xml::escape(&format!("vedette verification {id}"));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vedette\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    let _ = write!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\""
    );
    if let Some(started) = status.started_at {
        let _ = write!(out, " timestamp=\"{}\"", started.to_rfc3339());
    }
    out.push_str(">\n");
    let _ = writeln!(
        out,
        "    <properties>\n      <property name=\"outcome\" value=\"{}\"/>{}\n    </properties>",
        status.state.as_str(),
        spec.deployment
            .as_deref()
            .map(|d| format!(
                "\n      <property name=\"deployment\" value=\"{}\"/>",
                xml::escape(d)
            ))
            .unwrap_or_default()
    );
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn headline(state: VerificationState) -> &'static str {
    match state {
        VerificationState::Pending => "⏳ pending",
        VerificationState::Running => "⏳ running",
        VerificationState::Passed => "✅ passed",
        VerificationState::Failed => "❌ failed",
        VerificationState::TimedOut => "⏱️ timed out",
        VerificationState::NoMonitors => "⚠️ no monitor matched",
    }
}

/// The Markdown report: a title with the outcome, then a table monitor | state | checks |
/// result.
pub fn markdown(id: &str, spec: &VerificationSpec, status: &VerificationStatus) -> String {
    let mut out = format!(
        "## Vedette verification `{}`: {}\n\n",
        cell(id),
        headline(status.state)
    );
    if let Some(d) = &spec.deployment {
        let _ = writeln!(out, "Deployment: `{}`  ", cell(d));
    }
    let what = match (&spec.selector, &spec.ids) {
        (Some(s), _) => format!("selector `{}`", cell(s)),
        (None, Some(ids)) => format!("{} monitor ids", ids.len()),
        (None, None) => "nothing".to_owned(),
    };
    let _ = writeln!(
        out,
        "{} monitors ({what}), {} successful checks in a row each, timeout {}  ",
        status.monitors.len(),
        spec.consecutive,
        spec.timeout
    );
    if let Some(reason) = &status.reason {
        let _ = writeln!(out, "**Reason:** {}  ", cell(reason));
    }
    if status.monitors.is_empty() {
        return out;
    }
    out.push_str("\n| Monitor | State | Checks | Result |\n|---|---|---|---|\n");
    let mut rows: Vec<&MonitorProgress> = status.monitors.iter().collect();
    rows.sort_by_key(|m| m.passed);
    for m in rows.iter().take(MAX_MARKDOWN_ROWS) {
        let result = match (&m.last_result, m.passed) {
            (_, true) => "✅ passed".to_owned(),
            (Some(last), false) if !last.ok => format!("❌ {}", cell(&last.why())),
            (Some(last), false) => format!("… {}", cell(&last.message)),
            (None, false) => "… no check yet".to_owned(),
        };
        let name = if m.name == m.id {
            format!("`{}`", cell(&m.id))
        } else {
            format!("{} (`{}`)", cell(&m.name), cell(&m.id))
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {}/{} ok, {} seen | {result} |",
            m.state, m.consecutive_ok, spec.consecutive, m.checks
        );
    }
    if rows.len() > MAX_MARKDOWN_ROWS {
        let _ = writeln!(
            out,
            "\n{} more monitors are not listed.",
            rows.len() - MAX_MARKDOWN_ROWS
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_stay_in_their_cell() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
