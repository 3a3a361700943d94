//! The check a monitor runs, one variant per kind, and how it sits in a spec on the wire: one
//! key named for its kind (`http: {...}`), beside the spec's other fields.

use std::fmt;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::spec::{DnsCheck, HeartbeatCheck, HttpCheck, MonitorSpec, TcpCheck, TlsCheck};

/// What a monitor checks: exactly one kind, so code that acts on a check matches it once.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// An HTTP(S) request.
    Http(HttpCheck),
    /// A TCP connection, optionally with a request and an expected reply.
    Tcp(TcpCheck),
    /// A DNS query.
    Dns(DnsCheck),
    /// A TLS handshake and certificate inspection.
    Tls(TlsCheck),
    /// A push monitor: the monitored job calls Vedette.
    Heartbeat(HeartbeatCheck),
}

/// The protocol a monitor uses: the kind of its [`Check`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum CheckKind {
    /// HTTP(S) request.
    Http,
    /// TCP connection.
    Tcp,
    /// DNS query.
    Dns,
    /// TLS handshake.
    Tls,
    /// Push (heartbeat).
    Heartbeat,
}

impl CheckKind {
    /// Every kind, in the order specs and messages list them.
    pub const ALL: [Self; 5] = [Self::Http, Self::Tcp, Self::Dns, Self::Tls, Self::Heartbeat];

    /// The lowercase name used in specs, metrics and logs.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Check {
    /// The check's kind.
    pub fn kind(&self) -> CheckKind {
        match self {
            Self::Http(_) => CheckKind::Http,
            Self::Tcp(_) => CheckKind::Tcp,
            Self::Dns(_) => CheckKind::Dns,
            Self::Tls(_) => CheckKind::Tls,
            Self::Heartbeat(_) => CheckKind::Heartbeat,
        }
    }

    /// The HTTP request, for a monitor that makes one.
    pub fn as_http(&self) -> Option<&HttpCheck> {
        match self {
            Self::Http(http) => Some(http),
            _ => None,
        }
    }

    /// The heartbeat, for a push monitor.
    pub fn as_heartbeat(&self) -> Option<&HeartbeatCheck> {
        match self {
            Self::Heartbeat(heartbeat) => Some(heartbeat),
            _ => None,
        }
    }

    /// The heartbeat, for a push monitor, to change.
    pub fn as_heartbeat_mut(&mut self) -> Option<&mut HeartbeatCheck> {
        match self {
            Self::Heartbeat(heartbeat) => Some(heartbeat),
            _ => None,
        }
    }
}

macro_rules! from_kind {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Check {
            fn from(check: $ty) -> Self {
                Self::$variant(check)
            }
        }
    )*};
}
from_kind!(
    Http(HttpCheck),
    Tcp(TcpCheck),
    Dns(DnsCheck),
    Tls(TlsCheck),
    Heartbeat(HeartbeatCheck)
);

/// What the check keys of a spec decode into: exactly one [`Check`] (a spec), or every check
/// that is set (a draft, which validation then judges).
pub trait CheckSet: Sized {
    /// The value for `checks`, the checks a spec sets; the message says why not.
    fn from_checks(checks: Vec<Check>) -> Result<Self, String>;
    /// The checks set.
    fn checks(&self) -> &[Check];
}

impl CheckSet for Check {
    fn from_checks(checks: Vec<Check>) -> Result<Self, String> {
        <[Check; 1]>::try_from(checks)
            .map(|[check]| check)
            .map_err(|checks| not_exactly_one(&checks))
    }

    fn checks(&self) -> &[Check] {
        std::slice::from_ref(self)
    }
}

impl CheckSet for Vec<Check> {
    fn from_checks(checks: Vec<Check>) -> Result<Self, String> {
        Ok(checks)
    }

    fn checks(&self) -> &[Check] {
        self
    }
}

/// The problem with a spec setting `checks`, which are not exactly one.
pub(crate) fn not_exactly_one(checks: &[Check]) -> String {
    let mut kinds: Vec<CheckKind> = checks.iter().map(Check::kind).collect();
    kinds.sort();
    let found = if kinds.is_empty() {
        "none".to_owned()
    } else {
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("exactly one of http, tcp, dns, tls, heartbeat must be set; found {found}")
}

/// The wire shape of a [`Check`]: one optional key per kind, of which a spec sets one. It is
/// what a check serializes as, and its schema, flattened into the spec's.
#[derive(Serialize, JsonSchema)]
struct CheckKeys<'a> {
    /// An HTTP(S) request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http: Option<&'a HttpCheck>,
    /// A TCP connection, optionally with a request and an expected reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tcp: Option<&'a TcpCheck>,
    /// A DNS query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dns: Option<&'a DnsCheck>,
    /// A TLS handshake and certificate inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tls: Option<&'a TlsCheck>,
    /// A push monitor: the monitored job calls Vedette.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    heartbeat: Option<&'a HeartbeatCheck>,
}

impl<'a> From<&'a Check> for CheckKeys<'a> {
    fn from(check: &'a Check) -> Self {
        let mut keys = CheckKeys {
            http: None,
            tcp: None,
            dns: None,
            tls: None,
            heartbeat: None,
        };
        match check {
            Check::Http(http) => keys.http = Some(http),
            Check::Tcp(tcp) => keys.tcp = Some(tcp),
            Check::Dns(dns) => keys.dns = Some(dns),
            Check::Tls(tls) => keys.tls = Some(tls),
            Check::Heartbeat(heartbeat) => keys.heartbeat = Some(heartbeat),
        }
        keys
    }
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CheckKeys::from(self).serialize(serializer)
    }
}

impl JsonSchema for Check {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Check".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        CheckKeys::json_schema(generator)
    }
}

/// The keys of a spec, in the order specs list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Name,
    Description,
    Http,
    Tcp,
    Dns,
    Tls,
    Heartbeat,
    Interval,
    Timeout,
    Retries,
    Assertions,
    DegradedAfter,
    FailureThreshold,
    SuccessThreshold,
    Paused,
}

/// The names of [`Field`], in its order.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "http",
    "tcp",
    "dns",
    "tls",
    "heartbeat",
    "interval",
    "timeout",
    "retries",
    "assertions",
    "degraded_after",
    "failure_threshold",
    "success_threshold",
    "paused",
];

/// A spec reads like a struct with one optional key per check kind (`null` is absent) and
/// unknown fields refused; every key's value is read through `map`, so a decoder that tracks
/// paths names `spec.http.url`. Which checks may be set is `C`'s to say, last.
impl<'de, C: CheckSet> Deserialize<'de> for MonitorSpec<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("MonitorSpec", FIELDS, SpecVisitor(PhantomData))
    }
}

struct SpecVisitor<C>(PhantomData<C>);

impl<'de, C: CheckSet> Visitor<'de> for SpecVisitor<C> {
    type Value = MonitorSpec<C>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct MonitorSpec")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Vec::with_capacity(FIELDS.len());
        let mut checks = Vec::with_capacity(1);
        let mut spec = MonitorSpec::defaults();
        while let Some(field) = map.next_key::<Field>()? {
            if seen.contains(&field) {
                return Err(de::Error::duplicate_field(FIELDS[field as usize]));
            }
            seen.push(field);
            match field {
                Field::Name => spec.name = map.next_value()?,
                Field::Description => spec.description = map.next_value()?,
                Field::Http => checks.extend(map.next_value::<Option<_>>()?.map(Check::Http)),
                Field::Tcp => checks.extend(map.next_value::<Option<_>>()?.map(Check::Tcp)),
                Field::Dns => checks.extend(map.next_value::<Option<_>>()?.map(Check::Dns)),
                Field::Tls => checks.extend(map.next_value::<Option<_>>()?.map(Check::Tls)),
                Field::Heartbeat => {
                    checks.extend(map.next_value::<Option<_>>()?.map(Check::Heartbeat));
                }
                Field::Interval => spec.interval = map.next_value()?,
                Field::Timeout => spec.timeout = map.next_value()?,
                Field::Retries => spec.retries = map.next_value()?,
                Field::Assertions => spec.assertions = map.next_value()?,
                Field::DegradedAfter => spec.degraded_after = map.next_value()?,
                Field::FailureThreshold => spec.failure_threshold = map.next_value()?,
                Field::SuccessThreshold => spec.success_threshold = map.next_value()?,
                Field::Paused => spec.paused = map.next_value()?,
            }
        }
        let check = C::from_checks(checks).map_err(de::Error::custom)?;
        Ok(spec.with_check(check))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::decode::Decoder;
    use crate::{MonitorDraft, MonitorSpec};

    /// One spec of each kind, as written on the wire with every default spelled out.
    fn one_of_each() -> Vec<Value> {
        let common = json!({
            "interval": "1m", "timeout": "10s", "retries": 0, "assertions": [],
            "failure_threshold": 1, "success_threshold": 1, "paused": false,
        });
        let checks = [
            json!({"http": {"url": "https://example.test/", "method": "GET", "headers": {},
                "follow_redirects": true, "max_redirects": 10, "tls_verify": true,
                "version": "auto", "max_body_bytes": 1_048_576}}),
            json!({"tcp": {"host": "db.internal", "port": 5432, "send": "PING\r\n"}}),
            json!({"dns": {"name": "example.test", "record_type": "AAAA", "transport": "udp",
                "expect": [], "rcode": "NOERROR"}}),
            json!({"tls": {"host": "example.test", "port": 443, "verify": true,
                "expiry_warning": "14d"}}),
            json!({"heartbeat": {"schedule": "0 3 * * *", "grace": "5m"}}),
        ];
        checks
            .into_iter()
            .map(|check| {
                let mut spec = common.clone();
                spec.as_object_mut()
                    .expect("object")
                    .extend(check.as_object().expect("object").clone());
                spec
            })
            .collect()
    }

    #[test]
    fn each_kind_round_trips_as_one_key() {
        let kinds: Vec<CheckKind> = one_of_each()
            .into_iter()
            .map(|wire| {
                let spec: MonitorSpec = serde_json::from_value(wire.clone()).expect("decodes");
                assert_eq!(serde_json::to_value(&spec).expect("encodes"), wire);
                let yaml = serde_saphyr::to_string(&spec).expect("yaml");
                let back: MonitorSpec = serde_saphyr::from_str(&yaml).expect("yaml decodes");
                assert_eq!(back, spec, "{yaml}");
                spec.kind()
            })
            .collect();
        assert_eq!(kinds, CheckKind::ALL);
    }

    #[test]
    fn the_check_key_sits_where_the_kinds_were() {
        let mut spec = MonitorSpec::new(TcpCheck {
            host: "db".into(),
            port: 5432,
            send: None,
            expect: None,
        });
        spec.name = Some("db".into());
        let text = serde_json::to_string(&spec).expect("encodes");
        assert!(
            text.starts_with(r#"{"name":"db","tcp":{"host":"db","port":5432},"interval":"#),
            "{text}"
        );
    }

    #[test]
    fn a_null_kind_is_absent() {
        let spec: MonitorSpec =
            serde_json::from_value(json!({"http": null, "tcp": {"host": "db", "port": 1}}))
                .expect("decodes");
        assert_eq!(spec.kind(), CheckKind::Tcp);
    }

    #[test]
    fn a_spec_refuses_none_or_several_checks() {
        let error = |v: Value| {
            serde_json::from_value::<MonitorSpec>(v)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            error(json!({"interval": "1m"})),
            "exactly one of http, tcp, dns, tls, heartbeat must be set; found none"
        );
        assert_eq!(
            error(json!({"tcp": {"host": "db", "port": 1}, "http": {"url": "http://x/"}})),
            "exactly one of http, tcp, dns, tls, heartbeat must be set; found http, tcp"
        );
        let unknown = error(json!({"grpc": {}}));
        assert!(
            unknown.starts_with("unknown field `grpc`, expected one of `name`, `description`, `http`, `tcp`, `dns`, `tls`, `heartbeat`, `interval`"),
            "{unknown}"
        );
        let twice =
            serde_json::from_str::<MonitorSpec>(r#"{"name": "a", "name": "b", "heartbeat": {}}"#)
                .expect_err("refused")
                .to_string();
        assert!(twice.starts_with("duplicate field `name`"), "{twice}");
        assert!(
            error(json!("x"))
                .starts_with("invalid type: string \"x\", expected struct MonitorSpec")
        );
    }

    #[test]
    fn a_draft_keeps_every_check_for_validation() {
        let draft: MonitorDraft = serde_json::from_value(json!({
            "heartbeat": {}, "http": {"url": "http://x/"}, "tls": null,
        }))
        .expect("decodes");
        let kinds: Vec<CheckKind> = draft.check.iter().map(Check::kind).collect();
        assert_eq!(kinds, [CheckKind::Heartbeat, CheckKind::Http]);
        assert!(draft.into_spec().is_none());
        let one: MonitorDraft =
            serde_json::from_value(json!({"dns": {"name": "example.test"}})).expect("decodes");
        assert_eq!(one.into_spec().map(|s| s.kind()), Some(CheckKind::Dns));
    }

    /// Every problem the decoder reports for `value` as a spec at `spec`.
    fn problems(value: Value) -> Vec<(String, String)> {
        let mut decoder = Decoder::new();
        assert!(
            decoder
                .decode_checked::<MonitorSpec>(value, "spec")
                .is_none()
        );
        decoder
            .finish()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn none_or_several_checks_are_reported_at_the_spec() {
        // The spec as a whole is at fault: what lies under it is not judged further.
        assert_eq!(
            problems(json!({"interval": "500ms", "timeout": "1s"})),
            [(
                "spec".to_owned(),
                "exactly one of http, tcp, dns, tls, heartbeat must be set; found none".to_owned()
            )]
        );
        assert_eq!(
            problems(json!({"tls": {"host": "bad host"}, "dns": {"name": "example.test"}})),
            [(
                "spec".to_owned(),
                "exactly one of http, tcp, dns, tls, heartbeat must be set; found dns, tls"
                    .to_owned()
            )]
        );
        // A check removed as invalid is not reported again as missing.
        assert_eq!(
            problems(json!({"tcp": {"host": "db", "port": "x"}, "retries": 99})),
            [
                (
                    "spec.retries".to_owned(),
                    "must be at most 10, got 99".to_owned()
                ),
                (
                    "spec.tcp.port".to_owned(),
                    "\"x\" is not a port: expected a port number 1–65535".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn errors_inside_a_check_keep_their_paths() {
        assert_eq!(
            problems(json!({"http": {"url": "http://x/", "method": "FETCH", "bogus": 1}})),
            [
                (
                    "spec.http.bogus".to_owned(),
                    "unknown field, expected one of url, method, headers, body, follow_redirects, max_redirects, tls_verify, ca_cert, auth, version, max_body_bytes".to_owned()
                ),
                (
                    "spec.http.method".to_owned(),
                    "unknown value \"FETCH\", expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS".to_owned()
                ),
            ]
        );
        assert_eq!(
            problems(json!({"heartbeat": {"grace": 5}, "grpc": {}})),
            [
                (
                    "spec.grpc".to_owned(),
                    "unknown field, expected one of name, description, http, tcp, dns, tls, heartbeat, interval, timeout, retries, assertions, degraded_after, failure_threshold, success_threshold, paused".to_owned()
                ),
                (
                    "spec.heartbeat.grace".to_owned(),
                    "5 has no unit: write a duration like 5s, 5m or 5ms".to_owned()
                ),
            ]
        );
    }
}
