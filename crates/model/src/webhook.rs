//! The webhook endpoint spec: where deliveries go, which events they carry and how they are
//! shaped, authenticated and signed. The same type backs `/api/v1/webhooks`, `vedette apply`
//! documents, the client and the CLI; the store keeps it as a versioned resource.
//!
//! What the spec alone decides is checked here ([`EndpointSpec::check_fields`]); what needs the
//! integration catalog, the template engine, signing keys or mail addresses is checked by the
//! webhooks crate on top of it. Secret values ([`Secret`]) never appear in `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use http::{HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decode::Checked;
use crate::record::REDACTED;
use crate::validate::FieldError;
use crate::{EventType, selector};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Longest timeout an endpoint may set.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Longest URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Most custom headers per endpoint.
pub const MAX_HEADERS: usize = 32;
/// Longest custom header value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Most signing secrets per endpoint: the current one plus up to four still in their rotation
/// overlap. Every delivery signs with each active secret, so the list must stay short.
pub const MAX_SIGNING_SECRETS: usize = 5;
/// Most entries in `event_types` (there are few event types; patterns cover the rest).
pub const MAX_EVENT_TYPES: usize = 32;

/// Headers an endpoint may not set itself (the dispatcher owns them).
const RESERVED_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// A secret string: kept as written, shown as `********` in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself, for the one place that needs it (building a request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is the redaction marker an API answer showed in place of the value.
    pub fn is_redacted(&self) -> bool {
        self.0 == REDACTED
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A custom header value: plain text, or `{secret: ...}` for values that must not be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HeaderValueSpec {
    /// A value shown as is.
    Plain(String),
    /// A value redacted in API answers and delivery logs.
    Secret {
        /// The value.
        secret: Secret,
    },
}

impl HeaderValueSpec {
    /// The value to send.
    pub fn expose(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret { secret } => secret.expose(),
        }
    }
}

/// Outbound authentication besides the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// A custom header carrying a key, e.g. `X-API-Key`.
    ApiKey {
        /// Header name.
        header: String,
        /// The key.
        value: Secret,
    },
}

/// One signing secret (`whsec_...` for `v1`, `whsk_...` for `v1a`) and, during a rotation, the
/// time it stops being used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningSecret {
    /// The secret.
    pub secret: Secret,
    /// After this instant the secret no longer signs (the end of a rotation overlap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A custom payload template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// minijinja source rendering the body (the webhooks crate's template context).
    pub body: String,
    /// `Content-Type` of the rendered body; JSON bodies are checked to parse.
    #[serde(default = "default_content_type")]
    pub content_type: String,
}

fn default_content_type() -> String {
    "application/json".to_owned()
}

/// An integration from the catalog, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationRef {
    /// Catalog name, e.g. `slack`.
    pub name: String,
    /// Parameters, checked against the integration's JSON Schema.
    #[serde(default = "empty_object")]
    pub params: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn default_event_types() -> Vec<String> {
    vec!["*".to_owned()]
}

fn default_timeout() -> crate::Duration {
    crate::Duration::from(DEFAULT_TIMEOUT)
}

fn default_true() -> bool {
    true
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with `STARTTLS` (required); port 587 by default.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"); port 465 by default.
    Tls,
    /// No encryption at all; port 25 by default. Credentials then travel in clear text.
    None,
}

/// The SMTP server an email endpoint sends through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    /// Host name or IP address of the server.
    pub host: String,
    /// Port; 587 for `starttls`, 465 for `tls`, 25 for `none` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// User name for `AUTH` (PLAIN or LOGIN); no authentication when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password for `AUTH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Verify the server certificate (default on).
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Extra trusted root certificate(s), PEM, e.g. a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
}

impl SmtpSpec {
    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// An email delivery target: each event becomes one message sent through SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSpec {
    /// The SMTP server.
    pub smtp: SmtpSpec,
    /// Sender, `alerts@example.com` or `Vedette <alerts@example.com>`.
    pub from: String,
    /// Recipients (at least one).
    pub to: Vec<String>,
    /// minijinja template of the subject line; `[Vedette] {{ title }}: {{ message }}` when absent. The body
    /// is the endpoint's `template` (rendered as text) or a plain-text summary of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Most recipients per email endpoint.
pub const MAX_RECIPIENTS: usize = 50;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Where to send (http or https). Absent when an integration supplies the URL or the
    /// endpoint sends email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Send each event as an email through SMTP instead of an HTTP request (instead of `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSpec>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Event types to deliver: exact names, `prefix.*` wildcards or `*` (the default).
    #[serde(default = "default_event_types")]
    pub event_types: Vec<String>,
    /// Label selector over the monitor's labels (`team=payments,env!=dev`); all when absent.
    /// Events without a monitor pass only when no selector is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderValueSpec>,
    /// A custom payload template; the event as JSON when neither this nor an integration is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSpec>,
    /// An integration from the catalog shaping URL, headers and body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<IntegrationRef>,
    /// Per-request timeout (default 15 s, at most 60 s).
    #[serde(default = "default_timeout")]
    pub timeout: crate::Duration,
    /// Most requests per second to this endpoint; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// Whether deliveries are made.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Outbound authentication besides the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// Signing secrets, newest first; during a rotation older ones carry `expires_at`.
    #[serde(default)]
    pub secrets: Vec<SigningSecret>,
}

/// Every default, no destination and no signing secret yet (a create makes one).
impl Default for EndpointSpec {
    fn default() -> Self {
        Self {
            url: None,
            email: None,
            description: String::new(),
            event_types: default_event_types(),
            selector: None,
            headers: BTreeMap::new(),
            template: None,
            integration: None,
            timeout: default_timeout(),
            rate_limit: None,
            enabled: true,
            auth: None,
            secrets: Vec::new(),
        }
    }
}

/// Decoded as is: what a spec needs besides its types is checked against the catalog and the
/// template engine once it has decoded, by the API's write path.
impl Checked for EndpointSpec {
    type Draft = Self;
    fn problems(_: &Self, _prefix: &str) -> Vec<FieldError> {
        Vec::new()
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

impl EndpointSpec {
    /// Rotates to `new_secret`: it signs from now on, every current secret keeps signing until
    /// `now + overlap`, and secrets already past their overlap are dropped, as are the oldest
    /// beyond [`MAX_SIGNING_SECRETS`].
    pub fn rotate_secret(
        &mut self,
        new_secret: Secret,
        overlap: std::time::Duration,
        now: DateTime<Utc>,
    ) {
        let until = now
            + chrono::Duration::from_std(overlap).unwrap_or_else(|_| chrono::Duration::days(365));
        self.secrets
            .retain(|s| s.expires_at.is_none_or(|t| t > now));
        for s in &mut self.secrets {
            s.expires_at = Some(s.expires_at.map_or(until, |t| t.min(until)));
        }
        self.secrets.insert(
            0,
            SigningSecret {
                secret: new_secret,
                expires_at: None,
            },
        );
        self.secrets.truncate(MAX_SIGNING_SECRETS);
    }

    /// Secrets that sign at `now`, newest first.
    pub fn active_secrets(&self, now: DateTime<Utc>) -> impl Iterator<Item = &str> {
        self.secrets
            .iter()
            .filter(move |s| s.expires_at.is_none_or(|t| t > now))
            .map(|s| s.secret.expose())
    }

    /// Whether events of type `event_type` pass the event-type filter.
    pub fn accepts_type(&self, event_type: &str) -> bool {
        self.event_types
            .iter()
            .any(|p| type_pattern_matches(p, event_type))
    }

    /// Puts back the secrets a client echoed as `********` (from a GET of `previous`), so an
    /// update that leaves a secret alone keeps it. Signing secrets are matched by position.
    pub fn restore_redacted(&mut self, previous: &EndpointSpec) {
        for (i, s) in self.secrets.iter_mut().enumerate() {
            if s.secret.is_redacted()
                && let Some(p) = previous.secrets.get(i)
            {
                s.secret = p.secret.clone();
            }
        }
        match (&mut self.auth, &previous.auth) {
            (Some(Auth::Basic { password, .. }), Some(Auth::Basic { password: p, .. }))
                if password.is_redacted() =>
            {
                *password = p.clone();
            }
            (Some(Auth::Bearer { token }), Some(Auth::Bearer { token: p }))
                if token.is_redacted() =>
            {
                *token = p.clone();
            }
            (Some(Auth::ApiKey { value, .. }), Some(Auth::ApiKey { value: p, .. }))
                if value.is_redacted() =>
            {
                *value = p.clone();
            }
            _ => {}
        }
        for (name, v) in &mut self.headers {
            if let HeaderValueSpec::Secret { secret } = v
                && secret.is_redacted()
                && let Some(HeaderValueSpec::Secret { secret: p }) = previous.headers.get(name)
            {
                *secret = p.clone();
            }
        }
        if let (Some(password), Some(p)) = (
            self.email.as_mut().and_then(|e| e.smtp.password.as_mut()),
            previous
                .email
                .as_ref()
                .and_then(|e| e.smtp.password.as_ref()),
        ) && password.is_redacted()
        {
            *password = p.clone();
        }
        if let (Some(now), Some(before)) = (&mut self.integration, &previous.integration)
            && now.name == before.name
            && let (Some(params), Some(old)) =
                (now.params.as_object_mut(), before.params.as_object())
        {
            for (k, v) in params.iter_mut() {
                if v.as_str() == Some(REDACTED)
                    && let Some(o) = old.get(k)
                {
                    *v = o.clone();
                }
            }
        }
    }

    /// Every problem the spec alone shows, with its field path: which destination is set, the
    /// URL, filters, headers, limits and how many secrets. The webhooks crate adds what needs
    /// the catalog, the template engine, signing keys and mail addresses.
    pub fn check_fields(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match (&self.url, &self.integration, &self.email) {
            (Some(url), None, None) => {
                if let Err(message) = check_url(url) {
                    errors.push(FieldError::new("url", message));
                }
            }
            (None, None, None) => errors.push(FieldError::new(
                "url",
                "required unless an integration supplies it or `email` is set",
            )),
            (Some(_), Some(_), _) => errors.push(FieldError::new(
                "url",
                "must be absent when an integration is set (pass it as an integration parameter)",
            )),
            (Some(_), None, Some(_)) => errors.push(FieldError::new(
                "email",
                "set either `url` or `email`, not both",
            )),
            (None, Some(_), Some(_)) => errors.push(FieldError::new(
                "email",
                "set either an integration or `email`, not both",
            )),
            (None, None, Some(_)) => {
                if self.auth.is_some() {
                    errors.push(FieldError::new(
                        "auth",
                        "not used by email; set email.smtp.username and email.smtp.password",
                    ));
                }
                if !self.headers.is_empty() {
                    errors.push(FieldError::new("headers", "not used by email endpoints"));
                }
            }
            (None, Some(_), None) => {}
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(FieldError::new(
                "description",
                format!("at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        if self.event_types.len() > MAX_EVENT_TYPES {
            errors.push(FieldError::new(
                "event_types",
                format!(
                    "{} entries; at most {MAX_EVENT_TYPES} allowed (use a pattern such as `monitor.*`)",
                    self.event_types.len()
                ),
            ));
        }
        if self.event_types.is_empty() {
            errors.push(FieldError::new(
                "event_types",
                "must list at least one event type or `*`",
            ));
        }
        for (i, p) in self.event_types.iter().enumerate().take(MAX_EVENT_TYPES) {
            if let Err(message) = check_type_pattern(p) {
                errors.push(FieldError::new(format!("event_types[{i}]"), message));
            }
        }
        if let Some(text) = &self.selector
            && let Err(e) = selector::parse(text)
        {
            errors.push(FieldError::new("selector", e.to_string()));
        }
        if self.headers.len() > MAX_HEADERS {
            errors.push(FieldError::new(
                "headers",
                format!(
                    "{} headers; at most {MAX_HEADERS} allowed",
                    self.headers.len()
                ),
            ));
        }
        for (name, value) in self.headers.iter().take(MAX_HEADERS) {
            let field = format!("headers.{name}");
            if let Err(message) = check_header(name, value.expose()) {
                errors.push(FieldError::new(field, message));
            }
        }
        if self.template.is_some() && self.integration.is_some() {
            errors.push(FieldError::new(
                "template",
                "set either a template or an integration, not both",
            ));
        }
        if let Some(t) = &self.template
            && (HeaderValue::from_str(&t.content_type).is_err() || !t.content_type.contains('/'))
        {
            errors.push(FieldError::new(
                "template.content_type",
                "must be a media type such as application/json",
            ));
        }
        let timeout = std::time::Duration::from_millis(self.timeout.as_millis());
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            errors.push(FieldError::new(
                "timeout",
                format!("must be between 1ms and {}s", MAX_TIMEOUT.as_secs()),
            ));
        }
        if self.rate_limit == Some(0) {
            errors.push(FieldError::new(
                "rate_limit",
                "must be at least 1 request per second (omit it for no limit)",
            ));
        }
        if let Some(Auth::ApiKey { header, value }) = &self.auth
            && let Err(message) = check_header(header, value.expose())
        {
            errors.push(FieldError::new("auth.header", message));
        }
        if let Some(Auth::Basic { username, .. }) = &self.auth
            && username.contains(':')
        {
            errors.push(FieldError::new("auth.username", "must not contain ':'"));
        }
        if self.secrets.is_empty() {
            errors.push(FieldError::new(
                "secrets",
                "at least one signing secret is required (whsec_... or whsk_...)",
            ));
        }
        if self.secrets.len() > MAX_SIGNING_SECRETS {
            errors.push(FieldError::new(
                "secrets",
                format!(
                    "{} signing secrets; at most {MAX_SIGNING_SECRETS} allowed (the current one \
                     and those still in a rotation overlap)",
                    self.secrets.len()
                ),
            ));
        }
        errors
    }
}

/// Whether an event-type pattern (`*`, `monitor.*`, `monitor.down`) matches a type name.
pub fn type_pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => event_type
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == event_type,
    }
}

/// Every event type name an endpoint can subscribe to.
pub fn known_event_types() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).collect()
}

fn check_type_pattern(p: &str) -> Result<(), String> {
    let known = known_event_types();
    if p == "*" || known.contains(&p) {
        return Ok(());
    }
    if p.ends_with(".*") && known.iter().any(|t| type_pattern_matches(p, t)) {
        return Ok(());
    }
    Err(format!(
        "{p:?} matches no event type; use `*`, a prefix such as `monitor.*`, or one of {}",
        known.join(", ")
    ))
}

/// Checks an endpoint URL: absolute http(s), a host, no credentials, bounded length.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    if url.len() > MAX_URL_BYTES {
        return Err(format!("at most {MAX_URL_BYTES} bytes"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "scheme must be http or https, not {:?}",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; use `auth` instead".to_owned());
    }
    Ok(parsed)
}

fn check_header(name: &str, value: &str) -> Result<(), String> {
    if HeaderName::from_str(name).is_err() {
        return Err(format!("{name:?} is not a valid header name"));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!("{name} is set by Vedette and cannot be overridden"));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(format!(
            "value is {} bytes; at most {MAX_HEADER_VALUE_BYTES} allowed",
            value.len()
        ));
    }
    if HeaderValue::from_str(value).is_err() {
        return Err("value has characters not allowed in a header".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns() {
        assert!(type_pattern_matches("*", "monitor.down"));
        assert!(type_pattern_matches("monitor.*", "monitor.down"));
        assert!(!type_pattern_matches("monitor.*", "monitors.down"));
        assert!(!type_pattern_matches("monitor.down", "monitor.up"));
        assert!(check_type_pattern("webhook.*").is_ok());
        assert!(check_type_pattern("nothing.*").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let mut spec = EndpointSpec {
            url: Some("https://example.com/hook".to_owned()),
            secrets: vec![SigningSecret {
                secret: Secret::new("whsec_c2VjcmV0"),
                expires_at: None,
            }],
            ..EndpointSpec::default()
        };
        spec.auth = Some(Auth::Bearer {
            token: Secret::new("tok-123"),
        });
        let text = format!("{spec:?}");
        assert!(
            !text.contains("tok-123") && !text.contains("whsec_"),
            "{text}"
        );
    }
}
