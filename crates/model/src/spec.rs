//! The monitor spec: one description of a check, shared by the API, YAML files, Terraform and CRDs.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
pub use crate::check::{Check, CheckKind, CheckSet};
use crate::record::{Audience, REDACTED, Redact};

/// Default time between checks.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Default time one attempt may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on the bytes of a response body that are read (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;

/// What to check, how often, and how to judge it. Exactly one of `http`, `tcp`, `dns`, `tls`,
/// `heartbeat` is set.
// `C` is what the check keys decode into: one `Check` for a spec, or every check that is set
// (`Vec<Check>`, a `MonitorDraft`) while a document is decoded, so that a spec setting none or
// several is reported with every other problem rather than refused at once.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MonitorSpec", bound = "C: JsonSchema")]
pub struct MonitorSpec<C = Check> {
    /// Display name; the id is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text for people reading dashboards and alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The check, written as one key named for its kind: `http: {...}`.
    #[serde(flatten)]
    pub check: C,
    /// Time between checks.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// Time one attempt may take.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Immediate re-checks before a failure counts.
    #[serde(default)]
    pub retries: u32,
    /// Assertion expressions that must all hold, e.g. `status == 200`.
    #[serde(default)]
    pub assertions: Vec<String>,
    /// A successful check slower than this counts as degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_after: Option<Duration>,
    /// Consecutive failures before the monitor is down.
    #[serde(default = "one")]
    pub failure_threshold: u32,
    /// Consecutive successes before a down monitor is up again.
    #[serde(default = "one")]
    pub success_threshold: u32,
    /// A paused monitor is not checked.
    #[serde(default)]
    pub paused: bool,
}

/// A monitor spec as decoded from a document or body, before it is known to set exactly one
/// check: validation reports what it sets, then [`MonitorDraft::into_spec`] makes the spec.
pub type MonitorDraft = MonitorSpec<Vec<Check>>;

fn default_interval() -> Duration {
    DEFAULT_INTERVAL
}
fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn default_max_body() -> u64 {
    DEFAULT_MAX_BODY_BYTES
}
fn default_max_redirects() -> u32 {
    10
}

impl MonitorSpec<()> {
    /// Every field at its default, the check still to come.
    pub(crate) fn defaults() -> Self {
        Self {
            name: None,
            description: None,
            check: (),
            interval: default_interval(),
            timeout: default_timeout(),
            retries: 0,
            assertions: Vec::new(),
            degraded_after: None,
            failure_threshold: one(),
            success_threshold: one(),
            paused: false,
        }
    }
}

impl MonitorSpec {
    /// A spec running `check` with every other field at its default.
    pub fn new(check: impl Into<Check>) -> Self {
        MonitorSpec::defaults().with_check(check.into())
    }

    /// A spec for an HTTP GET of `url` with every other field at its default.
    pub fn http(url: impl Into<String>) -> Self {
        Self::new(HttpCheck::get(url))
    }

    /// The monitor's kind.
    pub fn kind(&self) -> CheckKind {
        self.check.kind()
    }
}

impl MonitorDraft {
    /// The spec, when the draft sets exactly one check (validation reports it otherwise).
    pub fn into_spec(mut self) -> Option<MonitorSpec> {
        let check = Check::from_checks(std::mem::take(&mut self.check)).ok()?;
        Some(self.with_check(check))
    }
}

impl<C> MonitorSpec<C> {
    /// The same spec with `check` in place of its own.
    pub fn with_check<D>(self, check: D) -> MonitorSpec<D> {
        MonitorSpec {
            check,
            name: self.name,
            description: self.description,
            interval: self.interval,
            timeout: self.timeout,
            retries: self.retries,
            assertions: self.assertions,
            degraded_after: self.degraded_after,
            failure_threshold: self.failure_threshold,
            success_threshold: self.success_threshold,
            paused: self.paused,
        }
    }
}

/// A string that is a credential: shown as `***` in debug output and logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret value, for the one place that needs it (a request header, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// HTTP request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    #[default]
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
}

impl HttpMethod {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }
}

/// Which HTTP versions the client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpVersion {
    /// HTTP/2 when the server offers it through ALPN, HTTP/1.1 otherwise.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (ALPN h2 over TLS, prior knowledge over cleartext).
    Http2,
}

/// Credentials sent with an HTTP check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum HttpAuth {
    /// `Authorization: Basic ...`
    Basic {
        /// User name.
        username: String,
        /// Password (secret).
        password: Secret,
    },
    /// `Authorization: Bearer ...`
    Bearer {
        /// Token (secret).
        token: Secret,
    },
}

/// An HTTP(S) request and how to make it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Request method.
    #[serde(default)]
    pub method: HttpMethod,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Follow redirects (up to `max_redirects`); when false a 3xx is the final response.
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    /// Most redirects followed before the check fails.
    #[serde(default = "default_max_redirects")]
    pub max_redirects: u32,
    /// Verify the server certificate chain and hostname.
    #[serde(default = "yes")]
    pub tls_verify: bool,
    /// Extra trusted CA certificate(s), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// Credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<HttpAuth>,
    /// HTTP versions allowed.
    #[serde(default)]
    pub version: HttpVersion,
    /// Bytes of body read at most; a larger body fails with `body_too_large`.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
}

impl HttpCheck {
    /// A GET of `url` with defaults.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: HttpMethod::Get,
            headers: BTreeMap::new(),
            body: None,
            follow_redirects: true,
            max_redirects: default_max_redirects(),
            tls_verify: true,
            ca_cert: None,
            auth: None,
            version: HttpVersion::Auto,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// `raw` with any credentials before the host (`user:password@`) replaced by `********`, so
/// that a URL can be shown in a message or log. Works on text that does not parse as a URL.
pub fn redact_url(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://").map(|i| i + 3) else {
        return raw.to_owned();
    };
    let rest = &raw[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!(
            "{}{REDACTED}{}",
            &raw[..scheme_end],
            &raw[scheme_end + at..]
        ),
        None => raw.to_owned(),
    }
}

impl Redact for MonitorSpec {
    /// HTTP credentials (and credentials a URL stored before they were refused) are never
    /// shown; readers do not see header values or the push token either.
    fn redacted(mut self, audience: Audience) -> Self {
        let hide = |s: &mut Secret| *s = Secret(REDACTED.to_owned());
        match &mut self.check {
            Check::Http(http) => {
                match http.auth.as_mut() {
                    Some(HttpAuth::Basic { password, .. }) => hide(password),
                    Some(HttpAuth::Bearer { token }) => hide(token),
                    None => {}
                }
                http.url = redact_url(&http.url);
                if audience == Audience::Reader {
                    for value in http.headers.values_mut() {
                        REDACTED.clone_into(value);
                    }
                }
            }
            Check::Heartbeat(heartbeat) => {
                if let Some(token) = heartbeat.token.as_mut()
                    && audience == Audience::Reader
                {
                    hide(token);
                }
            }
            Check::Tcp(_) | Check::Dns(_) | Check::Tls(_) => {}
        }
        self
    }
}

/// A TCP connection check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpCheck {
    /// Host name or IP address.
    pub host: String,
    /// Port.
    #[serde(deserialize_with = "port")]
    pub port: u16,
    /// Bytes sent after connecting (escape sequences `\r`, `\n`, `\t`, `\\` are decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// Regular expression the reply must match; the reply is read until it matches, the
    /// connection closes, 64 KiB arrive or the timeout passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// DNS record types a DNS check may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum DnsRecordType {
    /// IPv4 address.
    #[default]
    A,
    /// IPv6 address.
    AAAA,
    /// Canonical name.
    CNAME,
    /// Mail exchanger.
    MX,
    /// Text.
    TXT,
    /// Name server.
    NS,
    /// Start of authority.
    SOA,
    /// Service locator.
    SRV,
}

/// Transport for a DNS query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsTransport {
    /// UDP (falls back to nothing: a truncated answer is reported as such).
    #[default]
    Udp,
    /// TCP.
    Tcp,
}

/// A DNS query check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsCheck {
    /// Name to resolve.
    pub name: String,
    /// Record type.
    #[serde(default)]
    pub record_type: DnsRecordType,
    /// Resolver `ip[:port]` (port 53 when absent); the system resolver when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    /// Transport to the resolver.
    #[serde(default)]
    pub transport: DnsTransport,
    /// Answers that must all be present (in the textual form of `dns.answers`).
    #[serde(default)]
    pub expect: Vec<String>,
    /// Expected response code, e.g. `NOERROR` or `NXDOMAIN`.
    #[serde(default = "noerror")]
    pub rcode: String,
}

fn noerror() -> String {
    "NOERROR".to_owned()
}

/// A TLS handshake and certificate check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsCheck {
    /// Host to connect to.
    pub host: String,
    /// Port.
    #[serde(default = "https_port", deserialize_with = "port")]
    pub port: u16,
    /// SNI and hostname to verify; `host` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Extra trusted CA certificate(s), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// Fail when the chain or hostname does not verify.
    #[serde(default = "yes")]
    pub verify: bool,
    /// A `certificate.expiring` event is raised when the leaf expires within this span.
    #[serde(default = "default_expiry_warning")]
    pub expiry_warning: Duration,
}

/// A port number, refused with words people read ("a port number 1–65535") rather than serde's
/// "expected u16". Zero passes here and is refused by validation, with the field path.
fn port<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    struct PortVisitor;
    impl serde::de::Visitor<'_> for PortVisitor {
        type Value = u16;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a port number 1–65535")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u16, E> {
            u16::try_from(v).map_err(|_| {
                E::custom(format!("{v} is not a port: expected a port number 1–65535"))
            })
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u16, E> {
            u16::try_from(v).map_err(|_| {
                E::custom(format!("{v} is not a port: expected a port number 1–65535"))
            })
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u16, E> {
            // YAML may hand numbers over as text; a quoted port is still a port.
            v.trim().parse::<u64>().map_or_else(
                |_| {
                    Err(E::custom(format!(
                        "{v:?} is not a port: expected a port number 1–65535"
                    )))
                },
                |n| self.visit_u64(n),
            )
        }
    }
    d.deserialize_any(PortVisitor)
}

fn https_port() -> u16 {
    443
}
fn default_expiry_warning() -> Duration {
    Duration::from_secs(14 * 86_400)
}

/// A push monitor: the job calls `/push/{token}`; a missed call makes the monitor down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatCheck {
    /// Cron expression (5 fields, UTC) for when pings are expected; every `interval` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Extra time allowed after a ping was due.
    #[serde(default = "default_grace")]
    pub grace: Duration,
    /// The push token; generated by the server when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

fn default_grace() -> Duration {
    Duration::from_secs(60)
}

/// Parses a resolver address `ip`, `ip:port` or `[ipv6]:port`; port 53 when absent.
pub fn parse_resolver(s: &str) -> Option<std::net::SocketAddr> {
    use std::net::{IpAddr, SocketAddr};
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_url_hides_credentials() {
        for (raw, shown) in [
            ("http://alice:pw@[zz/", "http://********@[zz/"),
            (
                "https://tok@h.example/a@b?c=@",
                "https://********@h.example/a@b?c=@",
            ),
            ("http://a:b@c@host:80", "http://********@host:80"),
            ("https://example.com/x@y", "https://example.com/x@y"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(super::redact_url(raw), shown, "{raw}");
        }
    }
}
