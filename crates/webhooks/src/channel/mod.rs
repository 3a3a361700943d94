//! Transports: each way a message reaches an endpoint is one [`Channel`], in a file of its own —
//! an HTTP request ([`http`]) or an email through SMTP ([`smtp`]). A channel renders the event
//! its own way, sends it, and reports the outcome in transport-neutral terms ([`Verdict`]) with
//! the request and response as the delivery log keeps them. The dispatcher
//! ([`crate::delivery`]) keeps the queue, leases, retries, disabling and the log, and knows no
//! transport.

mod failure_text;
pub(crate) mod http;
pub(crate) mod smtp;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use vedette_model::Event;

use crate::catalog::Catalog;
use crate::templates::Engine;
use vedette_model::webhook::EndpointSpec;

/// Shown in the delivery log in place of a secret.
const REDACTED_LOG: &str = "[redacted]";

/// One transport. Implementations never fail: every failure (rendering, connecting, a refusal)
/// is part of the [`Attempted`] they return, so the dispatcher logs and retries it alike.
pub(crate) trait Channel: Send + Sync {
    /// Renders and sends one message to its endpoint.
    fn send<'a>(&'a self, delivery: &'a Delivery<'a>) -> BoxFuture<'a, Attempted>;
}

/// One message to send: an event for an endpoint, under the message id every attempt carries.
pub(crate) struct Delivery<'a> {
    /// The endpoint.
    pub spec: &'a EndpointSpec,
    /// Queue message id (`webhook-id`, the email's `Message-ID`), stable across retries.
    pub message_id: &'a str,
    /// The event.
    pub event: &'a Event,
    /// Every secret value of the endpoint, replaced by `[redacted]` in whatever is logged.
    pub secrets: &'a [String],
}

/// What the receiver made of an attempt, in terms the retry logic understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Accepted (an HTTP 2xx, an SMTP 2xx reply to the end of `DATA`).
    Delivered,
    /// Not accepted; try again on the retry schedule, not before `after` when the receiver
    /// said so (`Retry-After`).
    Retry {
        /// The receiver's own delay, when it gave one.
        after: Option<Duration>,
    },
    /// The receiver says the endpoint is gone for good (HTTP `410 Gone`): disable it.
    Gone {
        /// Why, for the disablement.
        reason: String,
    },
}

/// What one attempt produced: the verdict and what the delivery log keeps of it (secrets
/// redacted, bodies truncated).
pub(crate) struct Attempted {
    /// What the receiver made of it.
    pub verdict: Verdict,
    /// What was sent.
    pub request: serde_json::Value,
    /// The receiver's status code (HTTP status, SMTP reply code), when it answered.
    pub status: Option<u16>,
    /// The receiver's answer.
    pub response: Option<serde_json::Value>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

impl Attempted {
    /// An attempt the receiver answered with `status`; unless it was delivered, the error
    /// says so when the channel has no better one.
    fn answered(
        verdict: Verdict,
        request: serde_json::Value,
        status: u16,
        response: serde_json::Value,
        error: Option<String>,
    ) -> Self {
        let error = match error {
            None if verdict != Verdict::Delivered => Some(format!("receiver answered {status}")),
            error => error,
        };
        Self {
            verdict,
            request,
            status: Some(status),
            response: Some(response),
            error,
        }
    }

    /// An attempt that failed before the receiver answered; retried on the schedule.
    fn failed(request: serde_json::Value, error: String) -> Self {
        Self {
            verdict: Verdict::Retry { after: None },
            request,
            status: None,
            response: None,
            error: Some(error),
        }
    }
}

/// Settings every channel shares.
#[derive(Clone)]
pub(crate) struct ChannelSettings {
    /// Renders templates, on its bounded blocking pool.
    pub engine: Engine,
    /// Integrations.
    pub catalog: Arc<Catalog>,
    /// Refuse private, loopback and link-local destinations.
    pub ssrf_guard: bool,
    /// Longest request or response body kept in the delivery log, in bytes.
    pub max_logged_body: usize,
}

/// The channel of each kind of endpoint.
pub(crate) struct Channels {
    http: http::HttpChannel,
    smtp: smtp::SmtpChannel,
}

impl Channels {
    /// Every channel, sharing `settings`; HTTP requests carry `user_agent`.
    pub fn new(settings: ChannelSettings, user_agent: &str) -> Result<Self, String> {
        Ok(Self {
            http: http::HttpChannel::new(settings.clone(), user_agent)?,
            smtp: smtp::SmtpChannel::new(settings),
        })
    }

    /// The channel `spec` is delivered through: SMTP when it sets `email`, HTTP otherwise.
    pub fn for_endpoint(&self, spec: &EndpointSpec) -> &dyn Channel {
        if spec.email.is_some() {
            &self.smtp
        } else {
            &self.http
        }
    }
}

/// `text` with every secret value replaced by `[redacted]`.
pub(crate) fn redact_secrets(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED_LOG);
        }
    }
    out
}

/// At most `limit` bytes of `text` (cut at a character boundary), marked when cut.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes]", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_truncation() {
        let secrets = vec!["s3cr3t-token".to_owned(), "ab".to_owned()];
        assert_eq!(
            redact_secrets("https://x/s3cr3t-token?ab", &secrets),
            "https://x/[redacted]?ab"
        );
        assert_eq!(truncate("héllo", 2), "h… [truncated, 6 bytes]");
        assert_eq!(truncate("hi", 2), "hi");
    }
}
