//! What one check observed and how it was judged.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    /// Every assertion held, in time.
    Up,
    /// Up, but slower than `degraded_after`.
    Degraded,
    /// The check failed.
    Down,
}

impl Outcome {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a check failed: a closed set, so alerts and dashboards can group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum FailureReason {
    /// Name resolution failed or returned no address.
    Dns,
    /// TCP connection refused, reset or unreachable.
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The check did not finish within its timeout.
    Timeout,
    /// HTTP status outside 2xx/3xx when no assertion names `status`.
    Status,
    /// An assertion did not hold.
    Assertion,
    /// The response body exceeded `max_body_bytes`.
    BodyTooLarge,
    /// Too many redirects, or a redirect loop.
    Redirect,
    /// The peer broke the protocol (malformed HTTP, DNS, ...).
    Protocol,
    /// A heartbeat was not received in time.
    Missed,
    /// The pinger reported a failure itself.
    Reported,
    /// The spec could not be run as written (bad URL, bad regex, ...).
    Config,
}

impl FailureReason {
    /// The snake_case name used in results, metrics and events.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Time spent in each phase of a check, in milliseconds; absent phases did not happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phases {
    /// Name resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_ms: Option<f64>,
    /// TCP connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// TLS handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ms: Option<f64>,
    /// From request sent to the first response byte (HTTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<f64>,
    /// Whole check.
    pub total_ms: f64,
}

/// Facts about the peer's TLS certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CertInfo {
    /// Leaf `notAfter`.
    pub not_after: DateTime<Utc>,
    /// Leaf `notBefore`.
    pub not_before: DateTime<Utc>,
    /// Leaf issuer distinguished name.
    pub issuer: String,
    /// Leaf subject distinguished name.
    pub subject: String,
    /// Subject alternative DNS names and IPs.
    pub sans: Vec<String>,
    /// The chain verified against the trusted roots.
    pub chain_valid: bool,
    /// The certificate matches the requested host name.
    pub hostname_match: bool,
}

/// Facts about a DNS answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct DnsInfo {
    /// Response code, e.g. `NOERROR`.
    pub rcode: String,
    /// Answer records in textual form (`192.0.2.1`, `10 mail.example.com.`).
    pub answers: Vec<String>,
}

/// Everything a probe saw, for assertions to inspect.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// When the check started (`cert.expires_in` is measured from here).
    pub started_at: DateTime<Utc>,
    /// HTTP status code.
    pub status: Option<u16>,
    /// Phase timings.
    pub phases: Phases,
    /// Response headers in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Response body, when an assertion needed it.
    pub body: Option<Vec<u8>>,
    /// Peer certificate.
    pub cert: Option<CertInfo>,
    /// DNS answer.
    pub dns: Option<DnsInfo>,
    /// What a TCP peer replied.
    pub tcp_response: Option<String>,
    /// The latest upstream health of the monitor's gateway, for a discovered monitor.
    pub gateway: Option<crate::discovery::GatewayReading>,
}

/// One assertion as evaluated, with the actual value it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssertionResult {
    /// The expression as written.
    pub expression: String,
    /// Whether it held.
    pub passed: bool,
    /// The expression with actual values filled in, e.g. `status (503) == 200`.
    pub actual: String,
    /// Why it could not be evaluated (missing field, type mismatch), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The stored record of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// Monitor checked.
    pub monitor_id: String,
    /// When the (last) attempt started.
    pub started_at: DateTime<Utc>,
    /// Verdict.
    pub outcome: Outcome,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// Human summary: `HTTP 200 in 12 ms`, `connection refused`.
    pub message: String,
    /// Phase timings; `total_ms` is the latency.
    pub phases: Phases,
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Leaf certificate expiry, when TLS was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_not_after: Option<DateTime<Utc>>,
    /// Each assertion with its actual value.
    #[serde(default)]
    pub assertions: Vec<AssertionResult>,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// A maintenance window covered the monitor when the check ran: the result is kept but
    /// does not count against uptime.
    #[serde(default, skip_serializing_if = "is_false")]
    pub in_maintenance: bool,
    /// The upstream health the monitor's gateway reported when the check ran (a discovered
    /// monitor whose gateway reports health), so a result shows why `gateway.healthy` held
    /// or not; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewaySeen>,
}

/// The gateway's upstream health as one check saw it: the part of the monitor's gateway
/// reading (`status.gateway`) worth keeping with every result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GatewaySeen {
    /// Whether the route's upstream was healthy.
    pub healthy: bool,
    /// The gateway's own words (`cluster backend: 0/1 healthy`).
    pub detail: String,
}

impl GatewaySeen {
    /// What to keep of `reading`: nothing when the gateway's health was unknown.
    pub fn of(reading: &crate::discovery::GatewayReading) -> Option<Self> {
        Some(Self {
            healthy: reading.healthy?,
            detail: reading.detail.clone(),
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl CheckResult {
    /// Latency of the check in milliseconds.
    pub fn latency_ms(&self) -> f64 {
        self.phases.total_ms
    }
}
