//! Verifications: the deployment gate. A verification selects monitors (by label selector or
//! by id) and passes once each has had `consecutive` successful checks after it started; it
//! fails as soon as one goes down (`fail_fast`), and times out after `timeout`. The spec is
//! what a pipeline asks for; the status is what the server computed.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{Errors, FieldError, check_id};
use crate::{CheckResult, Duration, MonitorState, Outcome, selector};

/// Most monitor ids one verification may list.
pub const MAX_IDS: usize = 1000;
/// Most monitors one verification follows (a selector matching more fails it at start).
pub const MAX_MONITORS: usize = 5000;
/// Highest `consecutive`.
pub const MAX_CONSECUTIVE: u32 = 100;
/// Longest `timeout` (24 hours).
pub const MAX_VERIFICATION_TIMEOUT: Duration = Duration::from_secs(86_400);
/// Longest deployment id.
pub const MAX_DEPLOYMENT_LEN: usize = 256;
/// Longest text kept from a check (message, assertion, actual value), in bytes, so progress
/// and reports stay bounded.
pub const MAX_TEXT: usize = 512;
/// Most failing assertions kept per result.
pub const MAX_FAILURES: usize = 8;

fn default_consecutive() -> u32 {
    3
}

fn default_timeout() -> Duration {
    Duration::from_secs(300)
}

fn yes() -> bool {
    true
}

/// What a pipeline asks: which monitors must be healthy, how many checks in a row, how long
/// to wait. Cannot be changed once created.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VerificationSpec {
    /// Label selector of the monitors (`team=payments,env=prod`); exactly one of
    /// `selector` and `ids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Monitor ids; exactly one of `selector` and `ids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// Successful checks in a row, after the start, each monitor needs (1 to 100).
    #[serde(default = "default_consecutive")]
    pub consecutive: u32,
    /// How long to wait for every monitor to pass (at most 24h).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Run every selected monitor once at the start instead of waiting for its schedule.
    #[serde(default = "yes")]
    pub run_now: bool,
    /// Fail as soon as one selected monitor is down (its state, after `failure_threshold`).
    #[serde(default = "yes")]
    pub fail_fast: bool,
    /// The deployment this verification gates; named in events and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

impl VerificationSpec {
    /// Every semantic problem, at paths under `prefix`.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        match (&self.selector, &self.ids) {
            (None, None) => errs.add(
                prefix,
                "",
                "one of selector (a label selector) or ids (monitor ids) is required",
            ),
            (Some(_), Some(_)) => errs.add(
                prefix,
                "ids",
                "not allowed with selector: set exactly one of selector or ids",
            ),
            _ => {}
        }
        if let Some(text) = &self.selector
            && let Err(e) = selector::parse(text)
        {
            errs.add(prefix, "selector", e.to_string());
        }
        if let Some(ids) = &self.ids {
            if ids.is_empty() {
                errs.add(prefix, "ids", "must list at least one monitor id");
            }
            if ids.len() > MAX_IDS {
                errs.add(prefix, "ids", format!("must list at most {MAX_IDS} ids"));
            }
            for (i, id) in ids.iter().enumerate().take(MAX_IDS) {
                if let Err(message) = check_id(id) {
                    errs.add(prefix, &format!("ids[{i}]"), message);
                }
            }
        }
        if !(1..=MAX_CONSECUTIVE).contains(&self.consecutive) {
            errs.add(
                prefix,
                "consecutive",
                format!(
                    "must be from 1 to {MAX_CONSECUTIVE}, got {}",
                    self.consecutive
                ),
            );
        }
        if self.timeout.std().is_zero() || self.timeout > MAX_VERIFICATION_TIMEOUT {
            errs.add(
                prefix,
                "timeout",
                format!("must be more than 0s and at most 24h, got {}", self.timeout),
            );
        }
        if let Some(d) = &self.deployment
            && (d.is_empty() || d.len() > MAX_DEPLOYMENT_LEN)
        {
            errs.add(
                prefix,
                "deployment",
                format!("must be 1 to {MAX_DEPLOYMENT_LEN} bytes"),
            );
        }
        errs.into_vec()
    }
}

/// Where a verification is.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum VerificationState {
    /// Created, not started yet.
    #[default]
    Pending,
    /// Following its monitors' checks.
    Running,
    /// Every selected monitor had its run of successful checks.
    Passed,
    /// A selected monitor went down (`fail_fast`), or it could not start.
    Failed,
    /// The timeout passed before every monitor passed.
    TimedOut,
    /// The selector or ids matched no monitor at the start (never a pass).
    NoMonitors,
}

impl VerificationState {
    /// The snake_case name (the outcome in events and reports).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the verification is over.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

/// A failing assertion of a check, with the value it saw.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct AssertionFailure {
    /// The assertion as written: `status == 200`.
    pub assertion: String,
    /// The actual value (`503`), or the assertion with actual values filled in when the value
    /// cannot be told apart, or why it could not be evaluated.
    pub actual: String,
}

/// The last check of a monitor a verification saw.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct LastResult {
    /// Whether it was a successful check (outcome `up`).
    pub ok: bool,
    /// When it started.
    pub at: DateTime<Utc>,
    /// Its summary: `HTTP 503 in 3 ms`.
    pub message: String,
    /// Its failing assertions.
    #[serde(default)]
    pub failures: Vec<AssertionFailure>,
}

fn bounded(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The value inside `actual` (`status (503) == 200`) of `expression` (`status == 200`): the
/// parenthesised text after the left operand, when the rest matches; else `actual` whole.
fn actual_value(expression: &str, actual: &str) -> String {
    let found = actual.split_once(" (").and_then(|(lhs, rest)| {
        let (value, tail) = rest.split_once(") ")?;
        (format!("{lhs} {tail}") == expression).then(|| value.to_owned())
    });
    found.unwrap_or_else(|| actual.to_owned())
}

impl LastResult {
    /// What a verification keeps of `result`.
    pub fn of(result: &CheckResult) -> Self {
        let failures = result
            .assertions
            .iter()
            .filter(|a| !a.passed)
            .take(MAX_FAILURES)
            .map(|a| AssertionFailure {
                assertion: bounded(&a.expression),
                actual: bounded(&match &a.error {
                    Some(error) => error.clone(),
                    None => actual_value(&a.expression, &a.actual),
                }),
            })
            .collect();
        Self {
            ok: result.outcome == Outcome::Up,
            at: result.started_at,
            message: bounded(&result.message),
            failures,
        }
    }

    /// One line on why the check failed: the first failing assertion with its actual value
    /// filled in (`status (503) == 200`), else the result's message.
    pub fn why(&self) -> String {
        match self.failures.first() {
            Some(f) => format!("{} (actual: {})", f.assertion, f.actual),
            None => self.message.clone(),
        }
    }
}

/// How one selected monitor is doing.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct MonitorProgress {
    /// Monitor id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its state as of its last check seen.
    pub state: MonitorState,
    /// Checks seen since the verification started.
    pub checks: u32,
    /// Successful checks in a row, up to the last one.
    pub consecutive_ok: u32,
    /// It reached `consecutive` successful checks in a row.
    pub passed: bool,
    /// The last check seen.
    pub last_result: Option<LastResult>,
}

impl MonitorProgress {
    /// A monitor not checked yet since the start, in `state`.
    pub fn new(id: &str, name: &str, state: MonitorState) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            state,
            checks: 0,
            consecutive_ok: 0,
            passed: false,
            last_result: None,
        }
    }
}

/// What the server computed for a verification.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct VerificationStatus {
    /// Where it is.
    pub state: VerificationState,
    /// When it started following its monitors.
    pub started_at: Option<DateTime<Utc>>,
    /// When it times out.
    pub deadline: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it did not pass: `payments-api is down: status == 200 (actual: 503)`.
    pub reason: Option<String>,
    /// Each selected monitor, by id.
    pub monitors: Vec<MonitorProgress>,
}

impl VerificationStatus {
    /// Monitors that did not pass.
    pub fn failing(&self) -> impl Iterator<Item = &MonitorProgress> {
        self.monitors.iter().filter(|m| !m.passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> VerificationSpec {
        serde_json::from_value(json).unwrap()
    }

    fn fields(spec: &VerificationSpec) -> Vec<String> {
        spec.validate("spec").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = spec(serde_json::json!({"selector": "team=a"}));
        assert_eq!(s.consecutive, 3);
        assert_eq!(s.timeout, Duration::from_secs(300));
        assert!(s.run_now && s.fail_fast);
        assert!(s.validate("spec").is_empty());
    }

    #[test]
    fn problems_name_their_fields() {
        assert_eq!(fields(&spec(serde_json::json!({}))), ["spec"]);
        assert_eq!(
            fields(&spec(
                serde_json::json!({"selector": "a=b", "ids": ["x"], "consecutive": 0, "timeout": "25h"})
            )),
            ["spec.ids", "spec.consecutive", "spec.timeout"]
        );
        assert_eq!(
            fields(&spec(serde_json::json!({"ids": ["ok", "Not A Slug"]}))),
            ["spec.ids[1]"]
        );
        assert_eq!(
            fields(&spec(
                serde_json::json!({"selector": "a in (", "consecutive": 101})
            )),
            ["spec.selector", "spec.consecutive"]
        );
    }

    #[test]
    fn the_actual_value_is_taken_out_of_the_filled_in_assertion() {
        assert_eq!(actual_value("status == 200", "status (503) == 200"), "503");
        assert_eq!(
            actual_value("body contains \"ok\"", "something else"),
            "something else"
        );
    }

    #[test]
    fn texts_are_bounded() {
        let long = "é".repeat(MAX_TEXT);
        assert!(bounded(&long).len() <= MAX_TEXT + '…'.len_utf8());
    }
}
