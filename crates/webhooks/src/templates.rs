//! Payload templates: minijinja in a sandbox.
//!
//! A template sees one event through the [`context`] built for it (`event`, `data`, `title`,
//! `summary`, `severity`, `params`, ...). The engine is bounded: a fuel limit stops runaway
//! loops, output past a size limit aborts rendering, undefined variables are errors, recursion
//! is capped, and nothing can be loaded from disk or the network (no loader is configured).
//!
//! Filters beyond minijinja's built-ins:
//!
//! | filter | does |
//! |---|---|
//! | `json` | the value as JSON (strings quoted and escaped), for embedding in a JSON body |
//! | `date(format="%Y-%m-%d %H:%M:%S UTC")` | an RFC 3339 string or unix seconds, formatted (chrono `strftime`; `%s` gives unix seconds) |
//! | `duration(unit="s")` | a number of seconds (or `unit="ms"`) as `1h 2m 3s` |
//! | `truncate(length=255, end="…")` | at most `length` characters, `end` included when cut |
//! | `base64` | the string's UTF-8 bytes in standard base64 (e.g. for `Authorization: Basic`) |
//! | `urlencode` | (built in) percent-encoding for URL paths and form bodies |
//! | `escape` | (built in) HTML escaping, for HTML bodies (Matrix `formatted_body`, Google Chat cards) |
//! | `slack_escape` | Slack mrkdwn: `&`, `<`, `>` as entities, so `<!channel>` and `<url\|text>` stay text |
//! | `markdown_escape` | Markdown punctuation backslash-escaped and `@mentions` broken with a zero-width space |
//! | `mentions_escape` | only `@mentions` broken (for plain-text fields a chat scans for mentions) |
//!
//! Every custom filter refuses an input or output larger than the output limit (and `date` a
//! format longer than [`MAX_DATE_FORMAT_BYTES`]) before building it, so a hostile template cannot
//! make a filter allocate more than the render could ever emit.
//!
//! Rendering is CPU work: async callers go through [`Engine::run`], which renders on tokio's
//! blocking pool with at most [`TemplateLimits::concurrent_renders`] renders at a time per engine.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::json;
use vedette_model::{Event, EventType};

use crate::samples;

/// Limits of the template sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateLimits {
    /// Longest template source accepted, in bytes.
    pub max_source_bytes: usize,
    /// Longest output, in bytes.
    pub max_output_bytes: usize,
    /// Fuel: roughly the number of engine instructions one render may execute.
    pub fuel: u64,
    /// Deepest nesting of macros, includes and recursive loops.
    pub recursion_limit: usize,
    /// Renders of one engine running at once on the blocking pool (see [`Engine::run`]).
    pub concurrent_renders: usize,
}

/// Longest `format` the `date` filter accepts, in bytes: a `strftime` specifier expands to at
/// most a few dozen bytes, so this bounds the filter's output as well.
pub const MAX_DATE_FORMAT_BYTES: usize = 256;

impl Default for TemplateLimits {
    fn default() -> Self {
        Self {
            max_source_bytes: 64 * 1024,
            max_output_bytes: 256 * 1024,
            fuel: 200_000,
            recursion_limit: 32,
            concurrent_renders: 4,
        }
    }
}

/// What went wrong in a template, with its place when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*.line, *.column))]
pub struct TemplateError {
    /// What kind of failure.
    pub kind: TemplateErrorKind,
    /// Human-readable description.
    pub message: String,
    /// 1-based line of the problem.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the problem.
    pub column: Option<usize>,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// Kinds of template failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateErrorKind {
    /// The template does not parse.
    Syntax,
    /// A variable or attribute is undefined.
    Undefined,
    /// The render used up its fuel.
    OutOfFuel,
    /// The output grew past the limit.
    OutputTooLarge,
    /// The source is longer than allowed.
    SourceTooLarge,
    /// The output is not valid for its content type (e.g. not JSON).
    InvalidOutput,
    /// Any other render failure (bad filter argument, type error, recursion limit, ...).
    Render,
    /// Every render slot is taken and the caller asked not to wait ([`Admission::FailFast`]).
    Busy,
}

/// What [`Engine::run`] does when all render slots are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Wait for a slot (background work such as deliveries).
    Wait,
    /// Fail at once with [`TemplateErrorKind::Busy`] (request handlers such as previews).
    FailFast,
}

/// The sandboxed template engine; cheap to clone and share between tasks (clones share the
/// environment and the render slots).
#[derive(Debug, Clone)]
pub struct Engine {
    env: Arc<Environment<'static>>,
    limits: TemplateLimits,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(TemplateLimits::default())
    }
}

impl Engine {
    /// An engine with these limits.
    pub fn new(limits: TemplateLimits) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(limits.fuel));
        env.set_recursion_limit(limits.recursion_limit);
        env.set_debug(true);
        let max = limits.max_output_bytes;
        env.add_filter("json", move |v: &Value| filter_json(v, max));
        env.add_filter("date", move |v: &Value, k: Kwargs| filter_date(v, k, max));
        env.add_filter("duration", filter_duration);
        env.add_filter("truncate", move |v: &Value, k: Kwargs| {
            filter_truncate(v, k, max)
        });
        env.add_filter("base64", move |v: &str| filter_base64(v, max));
        env.add_filter("slack_escape", move |v: &Value| {
            escape_with(v, max, slack_escape)
        });
        env.add_filter("markdown_escape", move |v: &Value| {
            escape_with(v, max, markdown_escape)
        });
        env.add_filter("mentions_escape", move |v: &Value| {
            escape_with(v, max, mentions_escape)
        });
        Self {
            env: Arc::new(env),
            limits,
            slots: Arc::new(tokio::sync::Semaphore::new(
                limits.concurrent_renders.max(1),
            )),
        }
    }

    /// Runs `work` (rendering with this engine) on tokio's blocking pool, so a slow render never
    /// stalls the async runtime; at most [`TemplateLimits::concurrent_renders`] run at once.
    /// When every slot is taken it waits or fails with [`TemplateErrorKind::Busy`], per
    /// `admission`. Must be called within a tokio runtime.
    pub async fn run<T, F>(&self, admission: Admission, work: F) -> Result<T, TemplateError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> T + Send + 'static,
    {
        let slots = Arc::clone(&self.slots);
        let permit = match admission {
            Admission::Wait => slots.acquire_owned().await.ok(),
            Admission::FailFast => slots.try_acquire_owned().ok(),
        };
        let Some(permit) = permit else {
            return Err(TemplateError {
                kind: TemplateErrorKind::Busy,
                message: format!(
                    "all {} template render slots are busy; try again shortly",
                    self.limits.concurrent_renders.max(1)
                ),
                line: None,
                column: None,
            });
        };
        let engine = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let out = work(&engine);
            drop(permit);
            out
        })
        .await;
        result.map_err(|_| TemplateError {
            kind: TemplateErrorKind::Render,
            message: "template rendering failed unexpectedly".to_owned(),
            line: None,
            column: None,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> TemplateLimits {
        self.limits
    }

    /// Checks that `source` parses (what an API does when a template is saved).
    pub fn check(&self, source: &str) -> Result<(), TemplateError> {
        self.check_size(source)?;
        self.env
            .template_from_str(source)
            .map(|_| ())
            .map_err(|e| convert(&e, source))
    }

    fn check_size(&self, source: &str) -> Result<(), TemplateError> {
        if source.len() > self.limits.max_source_bytes {
            return Err(TemplateError {
                kind: TemplateErrorKind::SourceTooLarge,
                message: format!(
                    "template is {} bytes; at most {} allowed",
                    source.len(),
                    self.limits.max_source_bytes
                ),
                line: None,
                column: None,
            });
        }
        Ok(())
    }

    /// Renders `source` against a context (usually from [`context`]).
    pub fn render(&self, source: &str, ctx: &serde_json::Value) -> Result<String, TemplateError> {
        self.check_size(source)?;
        let template = self
            .env
            .template_from_str(source)
            .map_err(|e| convert(&e, source))?;
        let mut out = LimitedWriter {
            buf: Vec::new(),
            limit: self.limits.max_output_bytes,
            overflowed: false,
        };
        let result =
            template.render_captured_to(Value::from(minijinja::value::Serde(ctx)), &mut out);
        if out.overflowed {
            return Err(TemplateError {
                kind: TemplateErrorKind::OutputTooLarge,
                message: format!("output exceeds {} bytes", self.limits.max_output_bytes),
                line: None,
                column: None,
            });
        }
        result.map_err(|e| convert(&e, source))?;
        String::from_utf8(out.buf).map_err(|_| TemplateError {
            kind: TemplateErrorKind::InvalidOutput,
            message: "output is not UTF-8".to_owned(),
            line: None,
            column: None,
        })
    }

    /// Renders `source` and checks the output is one JSON document; returns it parsed.
    pub fn render_json(
        &self,
        source: &str,
        ctx: &serde_json::Value,
    ) -> Result<serde_json::Value, TemplateError> {
        let text = self.render(source, ctx)?;
        serde_json::from_str(&text).map_err(|e| TemplateError {
            kind: TemplateErrorKind::InvalidOutput,
            message: format!("output is not valid JSON: {e}"),
            line: Some(e.line()),
            column: Some(e.column()),
        })
    }

    /// Renders `source` for the sample event of `event_type` with these integration parameters
    /// (what `POST /api/v1/webhooks/preview` answers).
    pub fn preview(
        &self,
        source: &str,
        event_type: EventType,
        params: &serde_json::Value,
    ) -> Result<String, TemplateError> {
        self.render(source, &context(&samples::sample_event(event_type), params))
    }
}

/// Collects output up to a limit, then fails the render.
struct LimitedWriter {
    buf: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl io::Write for LimitedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.overflowed = true;
            return Err(io::Error::other("template output limit reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn convert(e: &minijinja::Error, source: &str) -> TemplateError {
    let kind = match e.kind() {
        ErrorKind::SyntaxError => TemplateErrorKind::Syntax,
        ErrorKind::UndefinedError | ErrorKind::UnknownFilter | ErrorKind::UnknownFunction => {
            TemplateErrorKind::Undefined
        }
        ErrorKind::OutOfFuel => TemplateErrorKind::OutOfFuel,
        _ => TemplateErrorKind::Render,
    };
    let column = e.range().map(|r| {
        let start = r.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        source
            .get(line_start..start)
            .map_or(1, |s| s.chars().count() + 1)
    });
    let line = e.line().or_else(|| {
        e.range()
            .map(|r| source[..r.start.min(source.len())].matches('\n').count() + 1)
    });
    let message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    TemplateError {
        kind,
        message,
        line,
        column,
    }
}

fn too_large(what: &str, max: usize) -> minijinja::Error {
    minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!("{what} exceeds {max} bytes (the output limit)"),
    )
}

/// Collects text up to `limit` bytes, then fails (so serialising a huge or self-repeating
/// value stops early instead of building it whole).
struct Bounded {
    buf: String,
    limit: usize,
    overflowed: bool,
}

impl Bounded {
    fn new(limit: usize) -> Self {
        Self {
            buf: String::new(),
            limit,
            overflowed: false,
        }
    }
}

impl std::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.buf.len() + s.len() > self.limit {
            self.overflowed = true;
            return Err(std::fmt::Error);
        }
        self.buf.push_str(s);
        Ok(())
    }
}

/// The value as text (strings as they are), at most `max` bytes.
fn bounded_text(value: &Value, max: usize, what: &str) -> Result<String, minijinja::Error> {
    if let Some(s) = value.as_str() {
        if s.len() > max {
            return Err(too_large(what, max));
        }
        return Ok(s.to_owned());
    }
    let mut out = Bounded::new(max);
    write!(out, "{value}").map_err(|_| too_large(what, max))?;
    Ok(out.buf)
}

fn filter_json(value: &Value, max: usize) -> Result<String, minijinja::Error> {
    if value.as_str().is_some_and(|s| s.len() > max) {
        return Err(too_large("json input", max));
    }
    let mut out = LimitedWriter {
        buf: Vec::new(),
        limit: max,
        overflowed: false,
    };
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => String::from_utf8(out.buf).map_err(|_| {
            minijinja::Error::new(ErrorKind::InvalidOperation, "JSON output is not UTF-8")
        }),
        Err(_) if out.overflowed => Err(too_large("json output", max)),
        Err(e) => Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot encode JSON: {e}"),
        )),
    }
}

fn parse_time(value: &Value) -> Result<DateTime<Utc>, minijinja::Error> {
    let bad = || {
        minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "date expects an RFC 3339 string or unix seconds",
        )
    };
    if let Some(text) = value.as_str() {
        return DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad());
    }
    let secs = i64::try_from(value.clone()).map_err(|_| bad())?;
    DateTime::from_timestamp(secs, 0).ok_or_else(bad)
}

fn filter_date(value: &Value, kwargs: Kwargs, max: usize) -> Result<String, minijinja::Error> {
    let format: Option<&str> = kwargs.get("format")?;
    kwargs.assert_all_used()?;
    if format.is_some_and(|f| f.len() > MAX_DATE_FORMAT_BYTES) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("date format is longer than {MAX_DATE_FORMAT_BYTES} bytes"),
        ));
    }
    let t = parse_time(value)?;
    let mut out = Bounded::new(max);
    let written = write!(
        out,
        "{}",
        t.format(format.unwrap_or("%Y-%m-%d %H:%M:%S UTC"))
    );
    if out.overflowed {
        return Err(too_large("date output", max));
    }
    written
        .map_err(|_| minijinja::Error::new(ErrorKind::InvalidOperation, "invalid date format"))?;
    Ok(out.buf)
}

/// `3723` seconds as `1h 2m 3s`.
pub fn human_duration(total_secs: u64) -> String {
    if total_secs == 0 {
        return "0s".to_owned();
    }
    let parts = [
        (total_secs / 86_400, "d"),
        (total_secs % 86_400 / 3600, "h"),
        (total_secs % 3600 / 60, "m"),
        (total_secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn filter_duration(value: &Value, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let unit: Option<String> = kwargs.get("unit")?;
    kwargs.assert_all_used()?;
    let n = f64::try_from(value.clone()).map_err(|_| {
        minijinja::Error::new(ErrorKind::InvalidOperation, "duration expects a number")
    })?;
    let secs = match unit.as_deref().unwrap_or("s") {
        "s" => n,
        "ms" => n / 1000.0,
        other => {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("duration unit must be s or ms, not {other:?}"),
            ));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "duration expects a non-negative number",
        ));
    }
    // Saturating float-to-int conversion; durations beyond u64 seconds are not meaningful.
    Ok(human_duration(secs.round() as u64))
}

fn filter_base64(value: &str, max: usize) -> Result<String, minijinja::Error> {
    use base64::Engine as _;
    if value.len().div_ceil(3).saturating_mul(4) > max {
        return Err(too_large("base64 output", max));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(value.as_bytes()))
}

fn filter_truncate(value: &Value, kwargs: Kwargs, max: usize) -> Result<String, minijinja::Error> {
    let length: Option<usize> = kwargs.get("length")?;
    let end: Option<&str> = kwargs.get("end")?;
    kwargs.assert_all_used()?;
    let end = end.unwrap_or("…");
    if end.len() > max {
        return Err(too_large("truncate end", max));
    }
    let text = bounded_text(value, max, "truncate input")?;
    let length = length.unwrap_or(255);
    if text.chars().count() <= length {
        return Ok(text);
    }
    let keep = length.saturating_sub(end.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(end);
    Ok(out)
}

/// Applies an escaper to the value's text, refusing input or output past `max` bytes (every
/// escaper at most quintuples its input, so the input check comes first and is cheap).
fn escape_with(
    value: &Value,
    max: usize,
    escaper: fn(&str, &mut String),
) -> Result<String, minijinja::Error> {
    let text = bounded_text(value, max, "escape input")?;
    let mut out = String::with_capacity(text.len());
    escaper(&text, &mut out);
    if out.len() > max {
        return Err(too_large("escaped output", max));
    }
    Ok(out)
}

/// Slack mrkdwn: the three characters Slack's own docs say to escape. Without `<` no
/// `<!channel>`, `<@U123>` or `<https://evil|https://sso>` can be formed.
pub fn slack_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Breaks `@everyone`, `@here`, `@channel`, `@all`, `@room`, `@user` and Zulip's `@**name**`:
/// a zero-width space after an `@` that starts a word and is followed by a non-space. An `@`
/// inside a word (`ops@example.com`) is left alone.
pub fn mentions_escape(text: &str, out: &mut String) {
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let starts_word = prev.is_none_or(|p| !p.is_alphanumeric());
        if c == '@' && starts_word && chars.peek().is_some_and(|n| !n.is_whitespace()) {
            out.push('\u{200B}');
        }
        prev = Some(c);
    }
}

/// Markdown (CommonMark, Discord, Mattermost, Rocket.Chat, Teams, Webex, Zulip): every
/// character that can start emphasis, code, a link (`[text](url)`), an autolink or mention
/// (`<...>`), a heading, a quote or a table is backslash-escaped, and mentions are broken as
/// in [`mentions_escape`].
pub fn markdown_escape(text: &str, out: &mut String) {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '~' | '|' | '[' | ']' | '<' | '>' | '#'
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    mentions_escape(&escaped, out);
}

/// A text member of an event's data, empty when absent.
fn field<'a>(data: &'a serde_json::Value, key: &str) -> &'a str {
    data.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

/// `payments v1.4.2 to prod`.
fn deployment(data: &serde_json::Value) -> String {
    format!(
        "{} {} to {}",
        field(data, "service"),
        field(data, "version"),
        field(data, "environment")
    )
}

/// A whole number of `data`, `0` when absent.
fn number(data: &serde_json::Value, key: &str) -> u64 {
    data.get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// The verification and, when it gates one, its deployment.
fn verification(data: &serde_json::Value) -> String {
    match data.get("deployment_id").and_then(|v| v.as_str()) {
        Some(deployment) => format!(
            "{} (deployment {deployment})",
            field(data, "verification_id")
        ),
        None => field(data, "verification_id").to_owned(),
    }
}

/// How an event reads to a person, for templates.
struct Presentation {
    title: String,
    severity: &'static str,
    resolved: bool,
    color: &'static str,
    emoji: &'static str,
}

fn present(event: &Event, name: &str) -> Presentation {
    let data = &event.data;
    let (title, severity, resolved) = match event.event_type {
        EventType::MonitorDown => (format!("{name} is down"), "critical", false),
        EventType::MonitorUp => (format!("{name} is up"), "ok", true),
        EventType::MonitorDegraded => (format!("{name} is degraded"), "warning", false),
        EventType::IncidentOpened => (format!("Incident opened: {name}"), "critical", false),
        EventType::IncidentResolved => (format!("Incident resolved: {name}"), "ok", true),
        EventType::CertificateExpiring => (
            format!(
                "Certificate of {name} expires in {} days",
                data.get("days_left").and_then(|d| d.as_i64()).unwrap_or(0)
            ),
            "warning",
            false,
        ),
        EventType::WebhookEndpointDisabled => (
            format!(
                "Webhook endpoint {} disabled",
                data.get("endpoint_id")
                    .and_then(|d| d.as_str())
                    .unwrap_or("?")
            ),
            "warning",
            false,
        ),
        EventType::DeploymentStarted => (format!("Deploying {}", deployment(data)), "info", false),
        EventType::DeploymentFinished => {
            let status = field(data, "status");
            let severity = if status == "succeeded" {
                "ok"
            } else {
                "warning"
            };
            (
                format!("Deployment {status}: {}", deployment(data)),
                severity,
                status == "succeeded",
            )
        }
        EventType::VerificationPassed => (
            format!("Verification passed: {}", verification(data)),
            "ok",
            true,
        ),
        EventType::VerificationFailed => (
            format!(
                "Verification {}: {}",
                field(data, "outcome").replace('_', " "),
                verification(data)
            ),
            "critical",
            false,
        ),
        EventType::DiscoveryCompleted => (
            format!(
                "Discovery {}: {} routes, {} created, {} updated, {} deleted",
                field(data, "source_id"),
                number(data, "routes_seen"),
                number(data, "created"),
                number(data, "updated"),
                number(data, "deleted")
            ),
            "info",
            true,
        ),
        EventType::DiscoveryFailed => (
            format!("Discovery {} failed", field(data, "source_id")),
            "warning",
            false,
        ),
    };
    let (color, emoji) = match severity {
        "critical" => ("#d93025", "🔴"),
        "warning" => ("#f9ab00", "🟠"),
        "info" => ("#1a73e8", "🔵"),
        _ => ("#1e8e3e", "🟢"),
    };
    Presentation {
        title,
        severity,
        resolved,
        color,
        emoji,
    }
}

/// The context a template renders against:
///
/// - `event`: the whole event (`id`, `type`, `version`, `occurred_at`, `monitor_id`, `data`);
/// - `id`, `type`, `occurred_at`, `data`: shortcuts into it;
/// - `monitor_id`, `monitor_name`: the monitor concerned (empty strings when none);
/// - `title` (`payments-api is down`), `message` (the probe's message, the reason an endpoint
///   was disabled, or empty),
///   `summary` (`🔴 payments-api is down: connection refused`);
/// - `severity` (`critical`, `warning`, `info` for a deployment starting, or `ok`), `status` (`firing` or `resolved`),
///   `resolved` (bool), `color` (`#rrggbb`), `color_decimal` (the same as an integer), `emoji`;
/// - `timestamp`: `occurred_at` in unix seconds;
/// - `incident_id`: the incident id when the event has one, `webhook-endpoint-<id>` for
///   `webhook.endpoint.disabled`, else the monitor id (a stable deduplication key for paging
///   tools);
/// - `params`: the integration parameters (an empty object for plain templates).
pub fn context(event: &Event, params: &serde_json::Value) -> serde_json::Value {
    let data = &event.data;
    let text = |key: &str| data.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let monitor_id = text("monitor_id")
        .or_else(|| event.monitor_id.clone())
        .unwrap_or_default();
    let monitor_name = text("monitor_name").unwrap_or_else(|| monitor_id.clone());
    let p = present(event, &monitor_name);
    let message = text("message")
        .or_else(|| match event.event_type {
            EventType::WebhookEndpointDisabled | EventType::VerificationFailed => text("reason"),
            EventType::DiscoveryFailed => text("error"),
            _ => None,
        })
        .unwrap_or_default();
    let summary = if message.is_empty() {
        format!("{} {}", p.emoji, p.title)
    } else {
        format!("{} {}: {message}", p.emoji, p.title)
    };
    let incident_id = text("incident_id")
        .or_else(|| match event.event_type {
            EventType::WebhookEndpointDisabled => {
                text("endpoint_id").map(|e| format!("webhook-endpoint-{e}"))
            }
            EventType::DeploymentStarted | EventType::DeploymentFinished => {
                text("deployment_id").map(|d| format!("deployment-{d}"))
            }
            EventType::VerificationPassed | EventType::VerificationFailed => {
                text("verification_id").map(|v| format!("verification-{v}"))
            }
            EventType::DiscoveryCompleted | EventType::DiscoveryFailed => {
                text("source_id").map(|s| format!("discovery-{s}"))
            }
            _ => None,
        })
        .unwrap_or_else(|| monitor_id.clone());
    json!({
        "event": event,
        "id": event.id,
        "type": event.event_type.as_str(),
        "occurred_at": event.occurred_at,
        "data": data,
        "monitor_id": monitor_id,
        "monitor_name": monitor_name,
        "title": p.title,
        "message": message,
        "summary": summary,
        "severity": p.severity,
        "status": if p.resolved { "resolved" } else { "firing" },
        "resolved": p.resolved,
        "color": p.color,
        "color_decimal": u32::from_str_radix(p.color.trim_start_matches('#'), 16).unwrap_or(0),
        "timestamp": event.occurred_at.timestamp(),
        "emoji": p.emoji,
        "incident_id": incident_id,
        "params": params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(3723), "1h 2m 3s");
        assert_eq!(human_duration(90_000), "1d 1h");
    }
}
