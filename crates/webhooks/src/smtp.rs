//! Email endpoints: checking an email target and rendering an event as one message (subject,
//! body, `Message-ID`). The SMTP channel ([`crate::channel`]) sends it (`STARTTLS`, implicit TLS
//! or plain, with optional `AUTH PLAIN`/`LOGIN`); email rides the same durable queue, retries,
//! filters and delivery log as HTTP deliveries.
//!
//! An attempt succeeds when the server accepts the message (a 2xx reply to the end of `DATA`).
//! Every failure (connection, TLS, authentication, a 4xx or 5xx reply) is retried on the
//! endpoint's schedule. The delivery log records the SMTP reply code and text; the password never
//! appears in it. The `Message-ID` is derived from the queue message id, so retries and replays
//! of one message carry the same id.

use lettre::message::Mailbox;
use lettre::transport::smtp::client::Certificate;
use serde_json::json;
use vedette_model::Event;
use vedette_model::validate::FieldError;

use crate::templates::{Engine, TemplateError};
use vedette_model::webhook::{EmailSpec, EndpointSpec, MAX_RECIPIENTS, SmtpSecurity};

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

/// The `Message-ID` of queue message `id` (stable across retries and replays).
pub fn mail_message_id(id: &str) -> String {
    format!("<{id}@vedette>")
}
