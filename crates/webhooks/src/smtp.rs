//! Email endpoints: an event becomes one message sent through SMTP (`STARTTLS`, implicit TLS or
//! plain, with optional `AUTH PLAIN`/`LOGIN`). Email rides the same durable queue, retries,
//! filters and delivery log as HTTP deliveries; the [`crate::delivery::Dispatcher`] calls
//! [`deliver`] for endpoints with `email` set.
//!
//! An attempt succeeds when the server accepts the message (a 2xx reply to the end of `DATA`).
//! Every failure (connection, TLS, authentication, a 4xx or 5xx reply) is retried on the
//! endpoint's schedule. The delivery log records the SMTP reply code and text; the password never
//! appears in it. The `Message-ID` is derived from the queue message id, so retries and replays
//! of one message carry the same id.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;
use vedette_model::Event;
use vedette_model::validate::FieldError;

use crate::endpoint::{EmailSpec, EndpointSpec, MAX_RECIPIENTS, SmtpSecurity, SmtpSpec};
use crate::templates::{Admission, Engine, TemplateError};

/// Subject when the endpoint sets none.
pub const DEFAULT_SUBJECT: &str = "[Vedette] {{ title }}{% if message %}: {{ message }}{% endif %}";

/// Plain-text body when the endpoint has no template; the title and summary vary per event type.
pub const DEFAULT_BODY: &str = "{{ summary }}

Event:     {{ type }}
{% if monitor_name %}Monitor:   {{ monitor_name }}{% if monitor_id and monitor_id != monitor_name %} ({{ monitor_id }}){% endif %}
{% endif %}Severity:  {{ severity }}
Status:    {{ status }}
Occurred:  {{ occurred_at }}
Event id:  {{ id }}

Details:
{{ data | json }}

--
Sent by Vedette.
";

/// Longest subject line, in characters.
const MAX_SUBJECT_CHARS: usize = 250;

/// Checks an email target, with field paths under `email`.
pub fn check_email(email: &EmailSpec, engine: &Engine) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let smtp = &email.smtp;
    if smtp.host.trim().is_empty() || smtp.host.contains(|c: char| c.is_whitespace() || c == '/') {
        errors.push(FieldError::new(
            "email.smtp.host",
            "must be a host name or IP address",
        ));
    }
    if smtp.port == Some(0) {
        errors.push(FieldError::new("email.smtp.port", "must be 1-65535"));
    }
    match (&smtp.username, &smtp.password) {
        (Some(u), _) if u.is_empty() => {
            errors.push(FieldError::new("email.smtp.username", "must not be empty"));
        }
        (None, Some(_)) => errors.push(FieldError::new(
            "email.smtp.password",
            "needs email.smtp.username",
        )),
        _ => {}
    }
    if smtp.username.is_some() && smtp.security == SmtpSecurity::None {
        errors.push(FieldError::new(
            "email.smtp.security",
            "credentials are only sent over `starttls` or `tls`",
        ));
    }
    if let Some(pem) = &smtp.ca_pem
        && Certificate::from_pem(pem.as_bytes()).is_err()
    {
        errors.push(FieldError::new(
            "email.smtp.ca_pem",
            "not a PEM certificate",
        ));
    }
    if let Err(e) = email.from.parse::<Mailbox>() {
        errors.push(FieldError::new(
            "email.from",
            format!("not an email address: {e}"),
        ));
    }
    if email.to.is_empty() {
        errors.push(FieldError::new("email.to", "at least one recipient"));
    }
    if email.to.len() > MAX_RECIPIENTS {
        errors.push(FieldError::new(
            "email.to",
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    for (i, to) in email.to.iter().enumerate().take(MAX_RECIPIENTS) {
        if let Err(e) = to.parse::<Mailbox>() {
            errors.push(FieldError::new(
                format!("email.to[{i}]"),
                format!("not an email address: {e}"),
            ));
        }
    }
    if let Some(subject) = &email.subject
        && let Err(e) = engine.check(subject)
    {
        errors.push(FieldError::new("email.subject", e.to_string()));
    }
    errors
}

/// A rendered email: subject, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// Subject line (one line, bounded).
    pub subject: String,
    /// `text/plain` unless the endpoint's template says `text/html`.
    pub content_type: String,
    /// Body.
    pub body: String,
}

/// Renders the subject (from `email.subject` or [`DEFAULT_SUBJECT`]) and the body (from the
/// endpoint's `template`, as text, or [`DEFAULT_BODY`]) for `event`.
pub fn render_email(
    spec: &EndpointSpec,
    email: &EmailSpec,
    engine: &Engine,
    event: &Event,
) -> Result<RenderedEmail, TemplateError> {
    let ctx = crate::templates::context(event, &json!({}));
    let subject = engine.render(email.subject.as_deref().unwrap_or(DEFAULT_SUBJECT), &ctx)?;
    let subject: String = subject
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let (content_type, source) = match &spec.template {
        Some(t) if t.content_type.starts_with("text/html") => ("text/html", t.body.as_str()),
        Some(t) => ("text/plain", t.body.as_str()),
        None => ("text/plain", DEFAULT_BODY),
    };
    Ok(RenderedEmail {
        subject,
        content_type: content_type.to_owned(),
        body: engine.render(source, &ctx)?,
    })
}

/// What one SMTP attempt produced, for the delivery log.
pub(crate) struct SmtpAttempt {
    /// What was sent (redacted, body truncated).
    pub request: serde_json::Value,
    /// The server's final reply code, when there was one.
    pub code: Option<u16>,
    /// `{code, message}` of the final reply.
    pub response: Option<serde_json::Value>,
    /// Why it failed (redacted).
    pub error: Option<String>,
}

/// Settings the dispatcher passes down.
pub(crate) struct SendOptions<'a> {
    pub engine: &'a Engine,
    pub ssrf_guard: bool,
    pub max_logged_body: usize,
    pub secrets: &'a [String],
}

/// Renders and sends `event` as message `message_id`; never fails (failures are in the result).
pub(crate) async fn deliver(
    spec: &EndpointSpec,
    email: &EmailSpec,
    message_id: &str,
    event: &Event,
    opts: &SendOptions<'_>,
) -> SmtpAttempt {
    let redact = |t: &str| crate::delivery::redact_secrets(t, opts.secrets);
    let smtp = &email.smtp;
    let mut request = json!({
        "smtp": format!("{}:{}", smtp.host, smtp.port()),
        "security": smtp.security,
        "username": smtp.username,
        "from": email.from,
        "to": email.to,
        "message_id": mail_message_id(message_id),
    });
    let fail = |request: serde_json::Value, error: String| SmtpAttempt {
        request,
        code: None,
        response: None,
        error: Some(redact(&error)),
    };
    let (owned_spec, owned_email, owned_event) = (spec.clone(), email.clone(), event.clone());
    let rendered = opts
        .engine
        .run(Admission::Wait, move |engine| {
            render_email(&owned_spec, &owned_email, engine, &owned_event)
        })
        .await
        .and_then(|r| r);
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return fail(request, format!("template: {e}")),
    };
    request["subject"] = json!(redact(&rendered.subject));
    request["content_type"] = json!(rendered.content_type);
    request["body"] = json!(crate::delivery::truncate(
        &redact(&rendered.body),
        opts.max_logged_body
    ));
    let message = match build_message(email, message_id, &rendered) {
        Ok(m) => m,
        Err(e) => return fail(request, e),
    };
    let timeout = Duration::from_millis(spec.timeout.as_millis());
    let transport = match transport(smtp, timeout, opts.ssrf_guard).await {
        Ok(t) => t,
        Err(e) => return fail(request, e),
    };
    // Each command is bounded by `timeout`; the whole exchange by a few of them.
    match tokio::time::timeout(timeout * 4, transport.send(message)).await {
        Err(_) => fail(request, "SMTP exchange timed out".to_owned()),
        Ok(Ok(response)) => {
            let text = redact(&response.message().collect::<Vec<_>>().join("\n"));
            let code = u16::from(response.code());
            SmtpAttempt {
                request,
                code: Some(code),
                response: Some(json!({"code": code, "message": text})),
                error: (!response.is_positive())
                    .then(|| format!("SMTP server answered {code} {text}")),
            }
        }
        Ok(Err(e)) => {
            let code = e.status().map(u16::from);
            let text = redact(&describe(&e));
            SmtpAttempt {
                request,
                code,
                response: code.map(|c| json!({"code": c, "message": text})),
                error: Some(text),
            }
        }
    }
}

/// The `Message-ID` of queue message `id` (stable across retries and replays).
pub fn mail_message_id(id: &str) -> String {
    format!("<{id}@vedette>")
}

fn build_message(email: &EmailSpec, id: &str, r: &RenderedEmail) -> Result<Message, String> {
    let from: Mailbox = email
        .from
        .parse()
        .map_err(|e| format!("invalid from address: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(r.subject.clone())
        .message_id(Some(mail_message_id(id)))
        .date_now();
    for to in &email.to {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("invalid recipient {to:?}: {e}"))?;
        builder = builder.to(to);
    }
    let content_type = if r.content_type == "text/html" {
        ContentType::TEXT_HTML
    } else {
        ContentType::TEXT_PLAIN
    };
    builder
        .header(content_type)
        .body(r.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// A transport for one attempt. With the SSRF guard on, the host is resolved here, refused when
/// any address is private, loopback or link-local, and the connection goes to the checked
/// address (the certificate is still verified against the host name).
async fn transport(
    smtp: &SmtpSpec,
    timeout: Duration,
    ssrf_guard: bool,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let port = smtp.port();
    let mut server = smtp.host.clone();
    if ssrf_guard {
        let addrs: Vec<IpAddr> = tokio::net::lookup_host((smtp.host.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", smtp.host))?
            .map(|a| a.ip())
            .collect();
        if addrs.is_empty() {
            return Err(format!("{} has no address", smtp.host));
        }
        if let Some(bad) = addrs.iter().find(|ip| crate::ssrf::is_forbidden(**ip)) {
            return Err(format!(
                "{} resolves to {bad}, a private or local address (refused)",
                smtp.host
            ));
        }
        server = addrs[0].to_string();
    }
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(tls_parameters(smtp)?),
        SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(smtp)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
        .port(port)
        .tls(tls)
        .timeout(Some(timeout))
        .hello_name(ClientId::Domain("vedette.localdomain".to_owned()));
    if let Some(username) = &smtp.username {
        let password = smtp
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        builder = builder
            .credentials(Credentials::new(username.clone(), password))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

fn tls_parameters(smtp: &SmtpSpec) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(pem) = &smtp.ca_pem {
        let cert =
            Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("invalid ca_pem: {e}"))?;
        builder = builder.add_root_certificate(cert);
    }
    if !smtp.tls_verify {
        builder = builder
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    builder
        .build_rustls()
        .map_err(|e| format!("TLS setup: {}", describe(&e)))
}

/// An SMTP error with its causes.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
