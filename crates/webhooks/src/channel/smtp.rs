//! The SMTP channel: an email endpoint's message (rendered by [`crate::smtp`]) is sent through
//! its SMTP server, over `STARTTLS`, implicit TLS or plain, with optional `AUTH PLAIN`/`LOGIN`.
//! A 2xx reply to the end of `DATA` is success; every failure is retried. With the SSRF guard
//! on, servers at private, loopback and link-local addresses are refused.

use std::net::IpAddr;
use std::time::Duration;

use futures::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;

use super::{
    Attempted, ChannelSettings, Delivery, Verdict, failure_text, redact_secrets, truncate,
};
use crate::smtp::{RenderedEmail, mail_message_id, render_email};
use crate::templates::Admission;
use vedette_model::webhook::{EmailSpec, SmtpSecurity, SmtpSpec};

/// Delivers messages of email endpoints, one SMTP connection per attempt.
pub(crate) struct SmtpChannel {
    settings: ChannelSettings,
}

impl super::Channel for SmtpChannel {
    fn send<'a>(&'a self, delivery: &'a Delivery<'a>) -> BoxFuture<'a, Attempted> {
        Box::pin(self.deliver(delivery))
    }
}

impl SmtpChannel {
    /// A channel with these settings.
    pub fn new(settings: ChannelSettings) -> Self {
        Self { settings }
    }

    /// Renders and sends one message.
    async fn deliver(&self, d: &Delivery<'_>) -> Attempted {
        let spec = d.spec;
        let Some(email) = &spec.email else {
            return Attempted::failed(json!({}), "the endpoint has no email target".to_owned());
        };
        let redact = |t: &str| redact_secrets(t, d.secrets);
        let smtp = &email.smtp;
        let mut request = json!({
            "smtp": format!("{}:{}", smtp.host, smtp.port()),
            "security": smtp.security,
            "username": smtp.username,
            "from": email.from,
            "to": email.to,
            "message_id": mail_message_id(d.message_id),
        });
        let fail =
            |request: serde_json::Value, error: String| Attempted::failed(request, redact(&error));
        let (owned_spec, owned_email, owned_event) = (spec.clone(), email.clone(), d.event.clone());
        let rendered = self
            .settings
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
        request["body"] = json!(truncate(
            &redact(&rendered.body),
            self.settings.max_logged_body
        ));
        let message = match build_message(email, d.message_id, &rendered) {
            Ok(m) => m,
            Err(e) => return fail(request, e),
        };
        let timeout = Duration::from_millis(spec.timeout.as_millis());
        let transport = match transport(smtp, timeout, self.settings.ssrf_guard).await {
            Ok(t) => t,
            Err(e) => return fail(request, e),
        };
        // Each command is bounded by `timeout`; the whole exchange by a few of them.
        let (code, text, error) =
            match tokio::time::timeout(timeout * 4, transport.send(message)).await {
                Err(_) => return fail(request, "SMTP exchange timed out".to_owned()),
                Ok(Ok(response)) => {
                    let text = redact(&response.message().collect::<Vec<_>>().join("\n"));
                    let code = u16::from(response.code());
                    let error = (!response.is_positive())
                        .then(|| format!("SMTP server answered {code} {text}"));
                    (code, text, error)
                }
                Ok(Err(e)) => {
                    let target = format!("{}:{}", smtp.host, smtp.port());
                    let text = match failure_text::network_cause(&e, &smtp.host, &target) {
                        Some(plain) if e.status().is_none() => plain,
                        _ => describe(&e),
                    };
                    let text = redact(&text);
                    match e.status().map(u16::from) {
                        Some(code) => (code, text.clone(), Some(text)),
                        None => return Attempted::failed(request, text),
                    }
                }
            };
        let verdict = if (200..300).contains(&code) {
            Verdict::Delivered
        } else {
            Verdict::Retry { after: None }
        };
        Attempted::answered(
            verdict,
            request,
            code,
            json!({"code": code, "message": text}),
            error,
        )
    }
}

/// The message for `r`, from and to the endpoint's addresses, under the stable `Message-ID`.
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
                "{} resolves to {bad}, a private or local address, which the SSRF guard \
                 refuses (start the server with --webhook-allow-private to allow them)",
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
