//! `vedette webhook ...`: manage webhook endpoints and debug deliveries.
//!
//! - `list`, `get`, `create` (from a file or flags), `delete`, `rotate-secret`;
//! - `test ID [--event TYPE]`, `deliveries ID`, `replay MESSAGE_ID`, `recover ID --since`;
//! - `listen`: a local receiver on 127.0.0.1 that verifies Standard Webhooks signatures and
//!   pretty-prints each delivery;
//! - `verify`: checks a saved body and headers against a secret.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use chrono::Utc;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use vedette_client::{Delivery, DeliveryFilter, ListQuery, Precondition, Webhook};
use vedette_webhooks::Verifier;
use vedette_webhooks::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};

use crate::UsageError;
use crate::context::{self, Connection};
use crate::output::{self, Cell, Format, Paint, Style, Table, print_data};
use crate::watch::{Watched, watch};

/// Largest body `listen` accepts and `verify` reads.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `vedette webhook ...`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List webhook endpoints.
    List {
        /// Only endpoints whose labels match, e.g. `team=payments`.
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
        /// Keep watching: print endpoints again whenever they or their delivery counts change
        /// (polls every 2 s; JSON output is one object per line). Stop with Ctrl-C.
        #[arg(short, long)]
        watch: bool,
    },
    /// Show one endpoint (secrets redacted) with its delivery counts.
    Get {
        /// Endpoint id.
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
        output: Format,
    },
    /// Create an endpoint from a file (`{id, labels, spec}` or a `kind: WebhookEndpoint`
    /// document, YAML or JSON) or from flags; prints its signing secret once.
    Create(CreateArgs),
    /// Delete an endpoint with its delivery log.
    Delete {
        /// Endpoint id.
        id: String,
    },
    /// Rotate the signing secret; the old one keeps signing for the overlap.
    RotateSecret {
        /// Endpoint id.
        id: String,
        /// How long the old secret keeps signing, e.g. 24h (the server's default: 24h).
        #[arg(long)]
        overlap: Option<String>,
    },
    /// Send the sample of an event type as a real, signed delivery.
    Test {
        /// Endpoint id.
        id: String,
        /// Event type, e.g. monitor.down (the default) or incident.resolved.
        #[arg(long = "event")]
        event: Option<String>,
        /// Wait up to this many seconds for the outcome and print it (0: do not wait).
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// The delivery log of an endpoint, newest first.
    Deliveries {
        /// Endpoint id.
        id: String,
        /// Only pending, succeeded or failed messages.
        #[arg(long, value_parser = ["pending", "succeeded", "failed"])]
        status: Option<String>,
        /// Only this event type.
        #[arg(long = "event")]
        event: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Output format (json and yaml include every attempt's request and response).
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Deliver a message again (same webhook-id, fresh retry schedule).
    Replay {
        /// Message id (`msg_...`), as in `vedette webhook deliveries`.
        message_id: String,
    },
    /// Queue again every failed message of an endpoint since a time.
    Recover {
        /// Endpoint id.
        id: String,
        /// RFC 3339 time or a span ago, e.g. -24h.
        #[arg(long, allow_hyphen_values = true)]
        since: String,
    },
    /// Receive webhooks on 127.0.0.1, verify their signatures and print each delivery.
    Listen(ListenArgs),
    /// Check a saved delivery (headers and body) against a secret; exit 1 when it does not
    /// verify.
    Verify(VerifyArgs),
}

/// Options of `vedette webhook create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// File with the endpoint (`-` for stdin).
    #[arg(short, long, conflicts_with_all = ["url", "integration"])]
    file: Option<PathBuf>,
    /// Endpoint id (generated when absent).
    #[arg(long)]
    id: Option<String>,
    /// Where to send (the server itself is chosen with the global --server).
    #[arg(long, visible_alias = "endpoint-url")]
    url: Option<String>,
    /// An integration from `GET /api/v1/integrations`, e.g. slack.
    #[arg(long, conflicts_with = "url")]
    integration: Option<String>,
    /// An integration parameter, `name=value` (repeatable), e.g. webhook_url=https://...
    #[arg(long = "param", value_parser = parse_pair)]
    params: Vec<(String, String)>,
    /// Event types to deliver (repeatable), e.g. monitor.* (every type when absent).
    #[arg(long = "event")]
    events: Vec<String>,
    /// Only events of monitors whose labels match, e.g. team=payments.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Free text.
    #[arg(long)]
    description: Option<String>,
    /// Output format (json and yaml include the signing secret too).
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

/// Options of `vedette webhook listen`.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Signing secret (`whsec_...`) or public key (`whpk_...`) to verify with; deliveries are
    /// shown unverified without one.
    #[arg(long, env = "VEDETTE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Status answered to deliveries (a failed signature check is answered 401).
    #[arg(long, default_value_t = 200)]
    status: u16,
    /// Stop after this many deliveries.
    #[arg(long)]
    max: Option<u64>,
}

/// Options of `vedette webhook verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Signing secret (`whsec_...`) or public key (`whpk_...`).
    #[arg(long, env = "VEDETTE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// File of headers: `Name: value` lines (a leading HTTP status line is skipped) or a JSON
    /// object.
    #[arg(long = "headers")]
    headers_file: Option<PathBuf>,
    /// A header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// File of the raw body (`-` for stdin).
    #[arg(long)]
    body: PathBuf,
    /// Accept any webhook-timestamp (for deliveries saved a while ago).
    #[arg(long)]
    ignore_timestamp: bool,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| "expected name=value".to_owned())
}

/// Runs a `vedette webhook` command.
pub async fn run(command: &Command, connection: &Connection) -> anyhow::Result<ExitCode> {
    match command {
        Command::Listen(args) => return listen(args).await,
        Command::Verify(args) => return verify(args),
        _ => {}
    }
    let client = context::client(connection)?;
    match command {
        Command::List {
            selector,
            output,
            watch: true,
        } => {
            return watch(*output, || async {
                let mut hooks = client.webhooks().all(selector.as_deref()).await?;
                with_deliveries(&client, &mut hooks).await?;
                Ok(hooks)
            })
            .await;
        }
        Command::List {
            selector,
            output,
            watch: false,
        } => {
            let mut hooks = client.webhooks().all(selector.as_deref()).await?;
            if !print_data(*output, &hooks)? {
                with_deliveries(&client, &mut hooks).await?;
                webhooks_table(&hooks).print();
            }
        }
        Command::Get { id, output } => {
            let hook = client.webhooks().get(id).await?;
            if !print_data(*output, &hook)? {
                webhooks_table(std::slice::from_ref(&hook)).print();
            }
        }
        Command::Create(args) => {
            let body = create_body(args)?;
            if let Some(url) = body.pointer("/spec/url").and_then(Value::as_str)
                && let Some(why) = private_target(url)
            {
                eprintln!(
                    "warning: {url} is {why}: the server refuses to deliver there unless it \
                     was started with --webhook-allow-private"
                );
            }
            let created = client.webhooks().create_from(&body).await?;
            if !print_data(args.output, &created)? {
                eprintln!(
                    "Created webhook/{} → {}. Its signing secret, shown only now:",
                    created.webhook.id,
                    created.webhook.target()
                );
                println!("{}", created.signing_secret);
                if let Some(key) = &created.public_key {
                    eprintln!("Receivers verify with the public key {key}");
                }
            }
        }
        Command::Delete { id } => {
            client.webhooks().delete(id, Precondition::None).await?;
            println!("webhook/{id} deleted");
        }
        Command::RotateSecret { id, overlap } => {
            let rotated = client
                .webhooks()
                .rotate_secret(id, overlap.as_deref())
                .await?;
            eprintln!(
                "Rotated the signing secret of webhook/{id}; the previous one keeps signing \
                 during the overlap. The new secret, shown only now:"
            );
            println!("{}", rotated.signing_secret);
        }
        Command::Test { id, event, wait } => {
            let sent = client.webhooks().test(id, event.as_deref()).await?;
            println!("Queued {} as message {}", sent.event_type, sent.message_id);
            if *wait > 0 {
                return await_outcome(&client, &sent.message_id, *wait).await;
            }
        }
        Command::Deliveries {
            id,
            status,
            event,
            limit,
            output,
        } => {
            let page = client
                .webhooks()
                .deliveries(
                    id,
                    &ListQuery {
                        filter: DeliveryFilter {
                            status: status.clone(),
                            event_type: event.clone(),
                            ..DeliveryFilter::default()
                        },
                        limit: Some(*limit),
                        cursor: None,
                    },
                )
                .await?;
            if !print_data(*output, &page.items)? {
                print_deliveries(&page.items);
            }
        }
        Command::Replay { message_id } => {
            let message = client.replay_webhook_message(message_id).await?;
            println!(
                "Replaying {} ({}) to webhook/{}",
                message.id, message.event.event_type, message.endpoint_id
            );
        }
        Command::Recover { id, since } => {
            let n = client.webhooks().recover(id, since).await?;
            println!("Queued {n} failed message(s) of webhook/{id} again");
        }
        Command::Listen(_) | Command::Verify(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Fills in each endpoint's delivery counts: lists carry none, each endpoint's own answer does.
async fn with_deliveries(
    client: &vedette_client::Client,
    hooks: &mut [Webhook],
) -> anyhow::Result<()> {
    for hook in hooks {
        if hook.deliveries.is_none() {
            hook.deliveries = client.webhooks().get(&hook.id).await?.deliveries;
        }
    }
    Ok(())
}

impl Watched for Webhook {
    const KIND: &'static str = "webhook";
    const GONE: Option<&'static str> = Some("deleted");
    fn id(&self) -> &str {
        &self.id
    }
    fn table(items: &[Self]) -> Table {
        webhooks_table(items)
    }
}

fn webhooks_table(hooks: &[Webhook]) -> Table {
    let now = Utc::now();
    let mut table = Table::new(&["id", "target", "events", "enabled", "deliveries", "updated"]);
    for h in hooks {
        let events = h.spec.event_types.join(",");
        let enabled = match (&h.disabled_reason, h.enabled()) {
            (Some(reason), false) => Cell::painted(format!("no: {reason}"), Some(Paint::Red)),
            (None, false) => Cell::painted("no", Some(Paint::Yellow)),
            _ => Cell::painted("yes", Some(Paint::Green)),
        };
        let deliveries = h.deliveries.map_or_else(String::new, |d| {
            format!(
                "{} ok, {} pending, {} failed",
                d.succeeded, d.pending, d.failed
            )
        });
        table.row(vec![
            h.id.as_str().into(),
            h.target().into(),
            events.into(),
            enabled,
            deliveries.into(),
            output::ago(Some(h.updated_at), now).into(),
        ]);
    }
    table
}

fn status_paint(status: &str) -> Option<Paint> {
    match status {
        "succeeded" => Some(Paint::Green),
        "failed" => Some(Paint::Red),
        _ => Some(Paint::Yellow),
    }
}

fn print_deliveries(items: &[Delivery]) {
    let now = Utc::now();
    let mut table = Table::new(&[
        "message", "event", "status", "attempts", "last", "duration", "queued",
    ]);
    for d in items {
        let last = match (d.last_status, &d.last_error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => s.to_string(),
            (None, None) => String::new(),
        };
        let duration = d
            .attempts
            .last()
            .map(|a| format!("{} ms", a.duration_ms))
            .unwrap_or_default();
        table.row(vec![
            d.id.as_str().into(),
            d.event.event_type.as_str().into(),
            Cell::painted(d.status.as_str(), status_paint(&d.status)),
            d.attempt_count.to_string().into(),
            last.into(),
            duration.into(),
            output::ago(Some(d.created_at), now).into(),
        ]);
    }
    table.print();
}

/// Polls a test message until it leaves `pending` (at most `secs`); exit 1 when it failed.
async fn await_outcome(
    client: &vedette_client::Client,
    message_id: &str,
    secs: u64,
) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let message = client.get_webhook_message(message_id).await?;
        if let Some(attempt) = message.attempts.last() {
            let status = attempt
                .response_status
                .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
            let error = attempt
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            println!(
                "Attempt {}: {} ({status}, {} ms){error}",
                attempt.attempt, attempt.outcome, attempt.duration_ms
            );
            return Ok(if attempt.outcome == "success" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        if tokio::time::Instant::now() >= deadline {
            println!("Still pending after {secs} s; see `vedette webhook deliveries`");
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Why the SSRF guard of a server would refuse `url` (a loopback or private literal address, or
/// `localhost`), or `None` when it looks public. Names other than `localhost` are not resolved.
fn private_target(url: &str) -> Option<&'static str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return vedette_webhooks::ssrf::is_forbidden(ip)
            .then_some("a loopback, private or link-local address");
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (host == "localhost" || host.ends_with(".localhost")).then_some("a loopback address")
}

/// The body of a create: from the file, or from the flags.
fn create_body(args: &CreateArgs) -> anyhow::Result<Value> {
    if let Some(path) = &args.file {
        let text = read_input(path)?;
        let text = String::from_utf8(text)
            .map_err(|_| UsageError(format!("{} is not UTF-8 text", path.display())))?;
        let mut body =
            parse_document(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        if let (Some(id), Some(map)) = (&args.id, body.as_object_mut()) {
            map.insert("id".to_owned(), Value::String(id.clone()));
        }
        return Ok(body);
    }
    let mut spec = Map::new();
    match (&args.url, &args.integration) {
        (Some(url), _) => {
            spec.insert("url".to_owned(), json!(url));
        }
        (None, Some(name)) => {
            let params: Map<String, Value> = args
                .params
                .iter()
                .map(|(k, v)| (k.clone(), param_value(v)))
                .collect();
            spec.insert(
                "integration".to_owned(),
                json!({"name": name, "params": params}),
            );
        }
        (None, None) => {
            return Err(UsageError(
                "give -f FILE, --url URL or --integration NAME --param name=value".to_owned(),
            )
            .into());
        }
    }
    if !args.events.is_empty() {
        spec.insert("event_types".to_owned(), json!(args.events));
    }
    if let Some(s) = &args.selector {
        spec.insert("selector".to_owned(), json!(s));
    }
    if let Some(d) = &args.description {
        spec.insert("description".to_owned(), json!(d));
    }
    let mut body = json!({"spec": spec});
    if let Some(id) = &args.id {
        body["id"] = json!(id);
    }
    Ok(body)
}

/// A `--param` value: a JSON number, boolean, array or object when it parses as one, else
/// the text itself.
fn param_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => v,
        _ => Value::String(text.to_owned()),
    }
}

/// An API body (`{id, labels, spec}`) from YAML or JSON text holding either that or a
/// `kind: WebhookEndpoint` document.
fn parse_document(text: &str) -> Result<Value, String> {
    let doc: Value = serde_json::from_str(text)
        .or_else(|_| serde_saphyr::from_str::<Value>(text))
        .map_err(|e| format!("not YAML or JSON: {e}"))?;
    let Value::Object(mut map) = doc else {
        return Err("expected a mapping with spec".to_owned());
    };
    if let Some(kind) = map.remove("kind") {
        if kind != json!("WebhookEndpoint") {
            return Err(format!("kind is {kind}, expected WebhookEndpoint"));
        }
        map.remove("apiVersion");
        if let Some(Value::Object(meta)) = map.remove("metadata") {
            for (k, v) in meta {
                map.insert(k, v);
            }
        }
    }
    if !map.contains_key("spec") {
        return Err("expected a spec".to_owned());
    }
    Ok(Value::Object(map))
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        use std::io::Read as _;
        std::io::stdin()
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    if bytes.len() > MAX_BODY {
        return Err(UsageError(format!(
            "{} is larger than {MAX_BODY} bytes",
            path.display()
        ))
        .into());
    }
    Ok(bytes)
}

fn verifier(secret: &str) -> anyhow::Result<Verifier> {
    Verifier::new([secret.trim()]).map_err(|e| UsageError(format!("--secret: {e}")).into())
}

/// Headers from `Name: value` lines (an HTTP status line skipped) or a JSON object.
fn parse_headers(text: &str, into: &mut HeaderMap) -> Result<(), String> {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            insert_header(into, &k, &v)?;
        }
        return Ok(());
    }
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with("HTTP/") {
            continue;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("{line:?} is not `Name: value`"))?;
        insert_header(into, k.trim(), v.trim())?;
    }
    Ok(())
}

fn insert_header(into: &mut HeaderMap, name: &str, value: &str) -> Result<(), String> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a header name"))?;
    let value = HeaderValue::from_str(value).map_err(|_| format!("bad value of {name}"))?;
    into.append(name, value);
    Ok(())
}

/// `vedette webhook verify`.
fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let verifier = verifier(&args.secret)?;
    let mut headers = HeaderMap::new();
    if let Some(path) = &args.headers_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        parse_headers(&text, &mut headers)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    }
    for h in &args.headers {
        parse_headers(h, &mut headers).map_err(|e| UsageError(format!("--header: {e}")))?;
    }
    let body = read_input(&args.body)?;
    let now = if args.ignore_timestamp {
        headers
            .get(HEADER_TIMESTAMP)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| Utc::now().timestamp())
    } else {
        Utc::now().timestamp()
    };
    match verifier.verify_at(&headers, &body, now) {
        Ok(()) => {
            println!(
                "valid: the secret signed this delivery (webhook-id {})",
                header_text(&headers, HEADER_ID)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// State of the `listen` receiver.
struct Listener {
    verifier: Option<Verifier>,
    status: StatusCode,
    seen: AtomicU64,
    max: Option<u64>,
    stop: CancellationToken,
    style: Style,
}

/// `vedette webhook listen`.
async fn listen(args: &ListenArgs) -> anyhow::Result<ExitCode> {
    let verifier = args.secret.as_deref().map(verifier).transpose()?;
    let status = StatusCode::from_u16(args.status)
        .map_err(|_| UsageError(format!("--status {} is not an HTTP status", args.status)))?;
    let stop = CancellationToken::new();
    let state = Arc::new(Listener {
        verifier,
        status,
        seen: AtomicU64::new(0),
        max: args.max,
        stop: stop.clone(),
        style: Style::stdout(),
    });
    let app = axum::Router::new()
        .fallback(receive)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "Listening for webhooks on http://{addr}/ ({}); Ctrl-C stops",
        if state.verifier.is_some() {
            "verifying signatures"
        } else {
            "signatures not checked: pass --secret"
        }
    );
    let ctrl_c = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    eprintln!(
        "Stopped after {} deliveries",
        state.seen.load(Ordering::SeqCst)
    );
    Ok(ExitCode::SUCCESS)
}

async fn receive(
    State(state): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let verdict = state.verifier.as_ref().map(|v| v.verify(&headers, &body));
    let n = state.seen.fetch_add(1, Ordering::SeqCst) + 1;
    let style = &state.style;
    let (mark, answer) = match &verdict {
        None => (
            style.paint("signature not checked", Some(Paint::Yellow)),
            state.status,
        ),
        Some(Ok(())) => (
            style.paint("signature valid", Some(Paint::Green)),
            state.status,
        ),
        Some(Err(e)) => (
            style.paint(&format!("signature INVALID: {e}"), Some(Paint::Red)),
            StatusCode::UNAUTHORIZED,
        ),
    };
    let mut out = String::new();
    out.push_str(&style.paint(
        &format!(
            "── #{n} {method} {uri}  webhook-id {}  {}",
            header_text(&headers, HEADER_ID),
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
        Some(Paint::Bold),
    ));
    out.push('\n');
    out.push_str(&format!("   {mark}\n"));
    let shown: BTreeMap<&str, &str> = headers
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "content-type" | "user-agent" | HEADER_TIMESTAMP | HEADER_SIGNATURE
            ) || k.as_str().starts_with("x-")
        })
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("<binary>")))
        .collect();
    for (k, v) in shown {
        out.push_str(&style.paint(&format!("   {k}: {v}\n"), Some(Paint::Dim)));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => out.push_str(&serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(_) => out.push_str(&String::from_utf8_lossy(&body)),
    }
    out.push('\n');
    let written = {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
    };
    // Nobody reads any more (`vedette webhook listen | head`): stop quietly.
    if written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
        state.stop.cancel();
    }
    if state.max.is_some_and(|max| n >= max) {
        state.stop.cancel();
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_targets_are_recognised() {
        assert!(private_target("http://127.0.0.1:9/x").is_some());
        assert!(private_target("http://localhost:8080/").is_some());
        assert!(private_target("http://10.1.2.3/").is_some());
        assert!(private_target("http://[::1]/").is_some());
        assert!(private_target("https://hooks.example.com/x").is_none());
        assert!(private_target("not a url").is_none());
    }

    #[test]
    fn documents_and_flags_become_api_bodies() {
        let doc = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  id: ops\n  labels: {team: ops}\nspec:\n  url: https://x.example/hook\n";
        let body = parse_document(doc).unwrap();
        assert_eq!(body["id"], "ops");
        assert_eq!(body["labels"]["team"], "ops");
        assert_eq!(body["spec"]["url"], "https://x.example/hook");
        assert!(parse_document("kind: Monitor\nspec: {}").is_err());
        assert!(parse_document("{\"id\": \"x\"}").is_err());
        assert_eq!(param_value("5"), json!(5));
        assert_eq!(param_value("https://x"), json!("https://x"));
        assert_eq!(
            parse_pair("webhook_url=https://a?b=c").unwrap(),
            ("webhook_url".to_owned(), "https://a?b=c".to_owned())
        );
    }

    #[test]
    fn headers_parse_from_lines_or_json() {
        let mut h = HeaderMap::new();
        parse_headers(
            "HTTP/1.1 200 OK\r\nwebhook-id: msg_1\r\nWebhook-Timestamp: 5\r\n",
            &mut h,
        )
        .unwrap();
        assert_eq!(header_text(&h, "webhook-id"), "msg_1");
        assert_eq!(header_text(&h, "webhook-timestamp"), "5");
        let mut j = HeaderMap::new();
        parse_headers(r#"{"webhook-id": "msg_2", "webhook-timestamp": 7}"#, &mut j).unwrap();
        assert_eq!(header_text(&j, "webhook-timestamp"), "7");
        assert!(parse_headers("no colon here", &mut j).is_err());
    }
}
