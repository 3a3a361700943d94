//! Semantic validation: every problem in a spec, each with the path of the field at fault.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::check::{Check, CheckSet, not_exactly_one};
use crate::spec::{DnsCheck, HeartbeatCheck, HttpCheck, MonitorSpec, TcpCheck, TlsCheck};

/// Longest name, description or announcement accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Most assertions per monitor.
pub const MAX_ASSERTIONS: usize = 64;
/// Largest body bytes limit a spec may set (64 MiB).
pub const MAX_BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// Shortest check interval.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Longest check interval (1 day).
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// Longest timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// Most retries.
pub const MAX_RETRIES: u32 = 10;

/// One problem in a document, at a dotted field path such as `spec.http.url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FieldError {
    /// Dotted path of the field, array indexes in brackets: `spec.assertions[2]`.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl FieldError {
    /// A problem at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects errors under a path prefix.
#[derive(Debug, Default)]
pub struct Errors {
    list: Vec<FieldError>,
}

impl Errors {
    /// Records a problem at `prefix.field`.
    pub fn add(&mut self, prefix: &str, field: &str, message: impl Into<String>) {
        let path = match (prefix.is_empty(), field.is_empty()) {
            (true, _) => field.to_owned(),
            (false, true) => prefix.to_owned(),
            (false, false) if field.starts_with('[') => format!("{prefix}{field}"),
            (false, false) => format!("{prefix}.{field}"),
        };
        self.list.push(FieldError::new(path, message));
    }

    /// The collected problems.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.list
    }

    /// No problem recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Records every text of `texts` (field name, value) longer than [`MAX_TEXT_LEN`].
    pub fn texts(&mut self, prefix: &str, texts: &[(&str, &Option<String>)]) {
        for (field, text) in texts {
            if text.as_ref().is_some_and(|t| t.len() > MAX_TEXT_LEN) {
                self.add(
                    prefix,
                    field,
                    format!("must be at most {MAX_TEXT_LEN} bytes"),
                );
            }
        }
    }

    /// Records `prefix.interval` when `interval` is outside `min..=max`.
    pub fn interval(&mut self, prefix: &str, interval: Duration, min: Duration, max: Duration) {
        if interval < min || interval > max {
            self.add(
                prefix,
                "interval",
                format!("must be between {min} and {max}, got {interval}"),
            );
        }
    }
}

/// Checks a resource id: a slug `[a-z0-9][a-z0-9._-]{0,127}`.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.as_bytes()[0].is_ascii_lowercase() | id.as_bytes()[0].is_ascii_digit()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a valid id: expected 1 to 128 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            truncate(id, 64)
        ))
    }
}

/// Checks a label key (`[prefix/]name`, at most 63 characters in the name) and its value.
pub fn check_label(key: &str, value: &str) -> Result<(), String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let valid_part = |s: &str, max: usize| {
        s.len() <= max
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if name.is_empty() || !valid_part(name, 63) || key.len() > 253 + 64 {
        return Err(format!(
            "label key {:?} is invalid: expected [prefix/]name with a name of 1 to 63 characters of letters, digits, '.', '_' or '-'",
            truncate(key, 64)
        ));
    }
    if !valid_part(value, 63) {
        return Err(format!(
            "label value {:?} is invalid: expected at most 63 characters of letters, digits, '.', '_' or '-'",
            truncate(value, 64)
        ));
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl<C: CheckSet> MonitorSpec<C> {
    /// Every problem in the spec; paths are relative to `prefix` (e.g. `spec`). A draft
    /// ([`crate::MonitorDraft`]) setting no check or several is one of them.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        errs.texts(
            prefix,
            &[("name", &self.name), ("description", &self.description)],
        );
        let checks = self.check.checks();
        if checks.len() != 1 {
            errs.add(prefix, "", not_exactly_one(checks));
        }
        errs.interval(prefix, self.interval, MIN_INTERVAL, MAX_INTERVAL);
        if self.timeout.std().is_zero() || self.timeout > MAX_TIMEOUT {
            errs.add(
                prefix,
                "timeout",
                format!(
                    "must be more than 0s and at most {MAX_TIMEOUT}, got {}",
                    self.timeout
                ),
            );
        } else if !checks.iter().any(|c| matches!(c, Check::Heartbeat(_)))
            && self.timeout > self.interval
        {
            errs.add(
                prefix,
                "timeout",
                format!(
                    "must not exceed interval ({}), got {}",
                    self.interval, self.timeout
                ),
            );
        }
        if self.retries > MAX_RETRIES {
            errs.add(
                prefix,
                "retries",
                format!("must be at most {MAX_RETRIES}, got {}", self.retries),
            );
        }
        for (field, value) in [
            ("failure_threshold", self.failure_threshold),
            ("success_threshold", self.success_threshold),
        ] {
            if !(1..=100).contains(&value) {
                errs.add(
                    prefix,
                    field,
                    format!("must be between 1 and 100, got {value}"),
                );
            }
        }
        if let Some(d) = self.degraded_after
            && d.std().is_zero()
        {
            errs.add(prefix, "degraded_after", "must be more than 0s");
        }
        if self.assertions.len() > MAX_ASSERTIONS {
            errs.add(
                prefix,
                "assertions",
                format!("at most {MAX_ASSERTIONS} assertions are allowed"),
            );
        }
        for (i, source) in self.assertions.iter().enumerate() {
            if let Err(e) = crate::assertion::parse(source) {
                errs.add(prefix, &format!("assertions[{i}]"), e.to_string());
            } else if let [check] = checks
                && let Err(message) = crate::assertion::check_fields(source, check.kind())
            {
                errs.add(prefix, &format!("assertions[{i}]"), message);
            }
        }
        for check in checks {
            let prefix = format!("{prefix}.{}", check.kind());
            match check {
                Check::Http(http) => http.validate(&prefix, &mut errs),
                Check::Tcp(tcp) => tcp.validate(&prefix, &mut errs),
                Check::Dns(dns) => dns.validate(&prefix, &mut errs),
                Check::Tls(tls) => tls.validate(&prefix, &mut errs),
                Check::Heartbeat(heartbeat) => heartbeat.validate(&prefix, &mut errs),
            }
        }
        errs.into_vec()
    }
}

/// Checks a host name (labels of letters, digits, `-` and `_`, at most 63 bytes each and 253
/// in all, an optional final dot) or an IPv4/IPv6 address without brackets.
fn check_host(host: &str, prefix: &str, field: &str, errs: &mut Errors) {
    if !is_host(host) {
        errs.add(
            prefix,
            field,
            format!(
                "{:?} is not a host name or IP address (expected e.g. db.internal, 192.0.2.1 or ::1)",
                truncate(host, 64)
            ),
        );
    }
}

/// Whether `host` is a host name or an IP address, as [`check_host`] accepts.
fn is_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok() || is_domain_name(host)
}

/// Whether `name` is dot-separated labels of letters, digits, `-` and `_` (1 to 63 bytes each,
/// 253 in all), with an optional final dot.
fn is_domain_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Checks an HTTP check's URL: at most 8192 characters without spaces, absolute http(s) with a
/// host, and no credentials. Messages never repeat the URL, which may hold a password.
pub(crate) fn check_http_url(raw: &str) -> Result<(), String> {
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or("expected an absolute http:// or https:// URL")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host".to_owned());
    }
    if raw.len() > 8192 || raw.chars().any(char::is_whitespace) {
        return Err("expected a URL of at most 8192 characters without spaces".to_owned());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("invalid URL: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in the URL are not allowed; put them in spec.http.auth".to_owned(),
        );
    }
    Ok(())
}

fn check_pem(pem: &Option<String>, prefix: &str, errs: &mut Errors) {
    if let Some(pem) = pem
        && (!pem.contains("-----BEGIN CERTIFICATE-----") || pem.len() > 256 * 1024)
    {
        errs.add(
            prefix,
            "ca_cert",
            "expected one or more PEM certificates (-----BEGIN CERTIFICATE-----), at most 256 KiB",
        );
    }
}

impl HttpCheck {
    fn validate(&self, prefix: &str, errs: &mut Errors) {
        if let Err(message) = check_http_url(&self.url) {
            errs.add(prefix, "url", message);
        }
        for (name, value) in &self.headers {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                errs.add(
                    prefix,
                    &format!("headers.{name}"),
                    "is not a valid header name",
                );
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                errs.add(
                    prefix,
                    &format!("headers.{name}"),
                    "header values must not contain CR, LF or NUL",
                );
            }
        }
        if self.body.as_ref().is_some_and(|b| b.len() > 1024 * 1024) {
            errs.add(prefix, "body", "must be at most 1 MiB");
        }
        if self.max_redirects > 30 {
            errs.add(prefix, "max_redirects", "must be at most 30");
        }
        if self.max_body_bytes == 0 || self.max_body_bytes > MAX_BODY_LIMIT {
            errs.add(
                prefix,
                "max_body_bytes",
                format!("must be between 1 and {MAX_BODY_LIMIT}"),
            );
        }
        check_pem(&self.ca_cert, prefix, errs);
    }
}

impl TcpCheck {
    fn validate(&self, prefix: &str, errs: &mut Errors) {
        check_host(&self.host, prefix, "host", errs);
        if self.port == 0 {
            errs.add(prefix, "port", "must be between 1 and 65535");
        }
        if self.send.as_ref().is_some_and(|s| s.len() > 64 * 1024) {
            errs.add(prefix, "send", "must be at most 64 KiB");
        }
        if let Some(pattern) = &self.expect
            && let Err(e) = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
        {
            errs.add(
                prefix,
                "expect",
                format!("is not a valid regular expression: {e}"),
            );
        }
    }
}

impl DnsCheck {
    fn validate(&self, prefix: &str, errs: &mut Errors) {
        if !is_domain_name(&self.name) {
            errs.add(
                prefix,
                "name",
                "expected a domain name of 1 to 253 characters: labels of letters, digits, '-' or '_' separated by dots",
            );
        }
        if let Some(resolver) = &self.resolver
            && crate::spec::parse_resolver(resolver).is_none()
        {
            errs.add(
                prefix,
                "resolver",
                "expected an IP address with an optional port, e.g. 1.1.1.1 or [::1]:53",
            );
        }
        const RCODES: [&str; 6] = [
            "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        ];
        if !RCODES.contains(&self.rcode.to_ascii_uppercase().as_str()) {
            errs.add(
                prefix,
                "rcode",
                format!("expected one of {}", RCODES.join(", ")),
            );
        }
    }
}

impl TlsCheck {
    fn validate(&self, prefix: &str, errs: &mut Errors) {
        check_host(&self.host, prefix, "host", errs);
        if self.port == 0 {
            errs.add(prefix, "port", "must be between 1 and 65535");
        }
        if let Some(name) = &self.server_name {
            check_host(name, prefix, "server_name", errs);
        }
        check_pem(&self.ca_cert, prefix, errs);
    }
}

impl HeartbeatCheck {
    fn validate(&self, prefix: &str, errs: &mut Errors) {
        if let Some(schedule) = &self.schedule
            && let Err(e) = crate::schedule::parse_cron(schedule)
        {
            errs.add(prefix, "schedule", e);
        }
        if let Some(token) = &self.token {
            let t = token.expose();
            if t.len() < 16
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                errs.add(
                    prefix,
                    "token",
                    "expected 16 to 128 characters of letters, digits, '-' or '_'",
                );
            }
        }
    }
}
