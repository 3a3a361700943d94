//! Discovery sources: an API gateway whose routes Vedette lists on a schedule, turning each
//! route that passes the filters into a monitor made from a template. The spec, the route as a
//! source reports it ([`Route`]), filters and the template's rendering live here, without I/O;
//! listing gateways and reconciling monitors is the server's (`discovery`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::spec::{HttpCheck, HttpMethod, MonitorSpec};
use crate::validate::{Errors, FieldError, check_http_url, check_label};

/// The label a Kong source puts on each monitor it makes, with the Kong route's id as value:
/// the plugin's batches and Kong's `http-log` entries name routes by this id.
pub const KONG_ROUTE_ID: &str = "kong-route-id";

/// The label every monitor a source owns carries, with the source's id as value; the
/// reconciler writes and deletes only monitors with it.
pub const DISCOVERED_BY: &str = "discovered-by";
/// Longest id of a discovery source: it is the value of [`DISCOVERED_BY`] (a label value).
pub const MAX_SOURCE_ID_LEN: usize = 63;
/// Prefix every environment variable a credential names must have, so a spec cannot send
/// the server's other variables (its database URL) to a gateway of its writer's choosing.
pub const ENV_PREFIX: &str = "VEDETTE_DISCOVERY_";
/// Folders a credential file must be under, for the same reason (Kubernetes and Docker
/// secrets are mounted there).
pub const SECRET_DIRS: [&str; 2] = ["/run/secrets/", "/var/run/secrets/"];
/// Why `gateway.healthy` cannot be read: said when a template of a gateway type without
/// health uses it, and when a check's monitor has no such gateway.
pub const GATEWAY_HEALTH_NEEDED: &str =
    "gateway.healthy needs a monitor discovered from a gateway that reports health";
/// Shortest interval between two listings.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Longest interval between two listings (1 day).
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// Longest grace period (7 days).
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 86_400);
/// Longest timeout of one listing.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// Most routes one listing may hold (`max_routes` at most).
pub const MAX_ROUTES: u32 = 50_000;
/// Largest listing in bytes (`connection.max_bytes` at most, 256 MiB).
pub const MAX_LISTING_BYTES: u64 = 256 * 1024 * 1024;
/// Placeholders a template may use, each replaced by the route's field.
pub const PLACEHOLDERS: [&str; 10] = [
    "source",
    "route",
    "base",
    "scheme",
    "host",
    "path",
    "service",
    "namespace",
    "stage",
    "gateway",
];

/// The kind of gateway a source lists.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayType {
    /// Kong Admin API (services, routes, upstream targets).
    Kong,
    /// Istio VirtualServices and Gateways through the Kubernetes API.
    Istio,
    /// AWS API Gateway REST (v1) and HTTP (v2) APIs with their stages.
    AwsApigateway,
    /// Envoy's admin interface (`/config_dump`, `/clusters`).
    Envoy,
    /// NGINX Plus REST API.
    NginxPlus,
    /// NGINX open source: the output of `nginx -T`, read from a file.
    Nginx,
    /// Traefik API (`/api/http/routers`, `/api/http/services`).
    Traefik,
}

impl GatewayType {
    /// The wire name: `aws-apigateway`, `envoy`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kong => "kong",
            Self::Istio => "istio",
            Self::AwsApigateway => "aws-apigateway",
            Self::Envoy => "envoy",
            Self::NginxPlus => "nginx-plus",
            Self::Nginx => "nginx",
            Self::Traefik => "traefik",
        }
    }

    /// Whether sources of this type report upstream health per route (Kong targets, Envoy
    /// cluster health, NGINX Plus peers, Traefik service status), which `gateway.healthy` reads.
    pub fn reports_health(self) -> bool {
        matches!(
            self,
            Self::Kong | Self::Envoy | Self::NginxPlus | Self::Traefik
        )
    }
}

impl fmt::Display for GatewayType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a credential's value is read, when a listing starts: never the value itself, which
/// is therefore never stored nor shown.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// An environment variable of the server, named `VEDETTE_DISCOVERY_...`.
    Env(String),
    /// A file under `/run/secrets/` or `/var/run/secrets/` (trailing newline ignored).
    File(String),
}

impl SecretRef {
    fn check(&self, prefix: &str, field: &str, errs: &mut Errors) {
        match self {
            Self::Env(name) => {
                let valid = name.starts_with(ENV_PREFIX)
                    && name.len() > ENV_PREFIX.len()
                    && name.len() <= 128
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                if !valid {
                    errs.add(
                        prefix,
                        &format!("{field}.env"),
                        format!(
                            "expected an environment variable name starting with {ENV_PREFIX} \
                             (A-Z, 0-9, _; at most 128 characters)"
                        ),
                    );
                }
            }
            Self::File(path) => {
                let valid = SECRET_DIRS.iter().any(|d| path.starts_with(d))
                    && !path.split('/').any(|part| part == "..")
                    && path.len() <= 1024;
                if !valid {
                    errs.add(
                        prefix,
                        &format!("{field}.file"),
                        "expected a file under /run/secrets/ or /var/run/secrets/ without '..'",
                    );
                }
            }
        }
    }
}

/// How a source authenticates to its gateway.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Credentials {
    /// `Authorization: Bearer <token>` (Traefik behind a proxy, Kubernetes service accounts).
    Bearer {
        /// The token.
        token: SecretRef,
    },
    /// `Authorization: Basic ...` (NGINX Plus API, Envoy admin behind a proxy).
    Basic {
        /// User name (not secret).
        username: String,
        /// Password.
        password: SecretRef,
    },
    /// One header of the gateway's choosing (`Kong-Admin-Token`).
    Header {
        /// Header name.
        name: String,
        /// Header value.
        value: SecretRef,
    },
    /// AWS Signature Version 4 (API Gateway management API).
    AwsSigv4 {
        /// AWS region (`eu-west-1`).
        region: String,
        /// Access key id.
        access_key_id: SecretRef,
        /// Secret access key.
        secret_access_key: SecretRef,
        /// Session token of temporary credentials.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<SecretRef>,
    },
}

/// TLS settings of the connection to the gateway. Certificates are always verified: a
/// gateway with a private CA names it in `ca_cert`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Extra trusted CA certificate(s), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

/// How to reach the gateway's API.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Base URL of the gateway's API (`http://127.0.0.1:9901` for Envoy's admin, the AWS
    /// endpoint override, ...); for `nginx`, a `file:///...` path of saved `nginx -T` output.
    pub url: String,
    /// Credentials, read from the environment or a secret file at each listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsSettings,
    /// Longest one listing may take, all its requests together.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Most bytes read from the gateway in one listing; a larger listing fails (and deletes
    /// nothing).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

/// One side of the filters: a route matches when every list that is set has an entry
/// matching it (`*` matches any run of characters).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteFilter {
    /// Host patterns (`*.example.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Path patterns (`/api/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Tags (Kong tags, Traefik router labels as `key=value`, Istio labels as `key=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Kubernetes namespaces (Istio).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// API Gateway stages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
}

impl RouteFilter {
    /// For each field whose list is set: whether one of its patterns matches the route.
    fn matches(&self, route: &Route) -> [Option<bool>; 5] {
        let one = |patterns: &[String], value: Option<&str>| {
            (!patterns.is_empty())
                .then(|| value.is_some_and(|v| patterns.iter().any(|p| glob(p, v))))
        };
        [
            one(&self.hosts, Some(&route.host)),
            one(&self.paths, Some(&route.path)),
            (!self.tags.is_empty()).then(|| {
                route
                    .tags
                    .iter()
                    .any(|t| self.tags.iter().any(|p| glob(p, t)))
            }),
            one(&self.namespaces, route.namespace.as_deref()),
            one(&self.stages, route.stage.as_deref()),
        ]
    }

    fn check(&self, prefix: &str, errs: &mut Errors) {
        for (field, list) in [
            ("hosts", &self.hosts),
            ("paths", &self.paths),
            ("tags", &self.tags),
            ("namespaces", &self.namespaces),
            ("stages", &self.stages),
        ] {
            if list.len() > 256 {
                errs.add(prefix, field, "at most 256 patterns");
            }
            for (i, p) in list.iter().enumerate() {
                if p.is_empty() || p.len() > 256 {
                    errs.add(prefix, &format!("{field}[{i}]"), "expected 1 to 256 bytes");
                }
            }
        }
    }
}

/// Which routes become monitors: those matching `include` (all when it is empty) and not
/// `exclude` (a route matching any of its lists is left out).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// What a route must match.
    #[serde(default)]
    pub include: RouteFilter,
    /// What leaves a route out.
    #[serde(default)]
    pub exclude: RouteFilter,
}

/// Per-route opt-in or opt-out through the gateway's own tags, annotations or labels (each
/// source reports them as tags: a Kong tag, an Istio annotation or a Traefik router label
/// `vedette.dev/monitor=false` becomes `vedette:off`, `...=true` becomes `vedette:on`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Only routes tagged `opt_in_tag` become monitors.
    #[serde(default)]
    pub opt_in: bool,
    /// The tag that opts a route in.
    #[serde(default = "default_opt_in_tag")]
    pub opt_in_tag: String,
    /// The tag that always leaves a route out.
    #[serde(default = "default_opt_out_tag")]
    pub opt_out_tag: String,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            opt_in: false,
            opt_in_tag: default_opt_in_tag(),
            opt_out_tag: default_opt_out_tag(),
        }
    }
}

/// The monitor made for each route; text fields may hold placeholders `{host}`, `{path}`,
/// `{base}` (where the gateway serves the route: `{scheme}://{host}` unless the source knows
/// an address), `{scheme}`, `{route}`, `{service}`, `{namespace}`, `{stage}`, `{source}` and
/// `{gateway}` (the gateway type).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MonitorTemplate {
    /// The monitor's name.
    #[serde(default = "default_name")]
    pub name: String,
    /// The URL checked.
    #[serde(default = "default_url")]
    pub url: String,
    /// Request method.
    #[serde(default)]
    pub method: HttpMethod,
    /// Request headers (`Host: {host}` to reach a virtual host through an address).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Time between checks.
    #[serde(default = "default_check_interval")]
    pub interval: Duration,
    /// Time one attempt may take.
    #[serde(default = "default_check_timeout")]
    pub timeout: Duration,
    /// The status the route must answer (adds `status == N` to the assertions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<u16>,
    /// Assertion expressions, as a monitor's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<String>,
    /// Labels of the monitor (values may hold placeholders; `discovered-by` is set by the
    /// source).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Verify the route's certificate.
    #[serde(default = "yes")]
    pub tls_verify: bool,
    /// Consecutive failures before the monitor is down.
    #[serde(default = "one")]
    pub failure_threshold: u32,
}

impl Default for MonitorTemplate {
    fn default() -> Self {
        Self {
            name: default_name(),
            url: default_url(),
            method: HttpMethod::Get,
            headers: BTreeMap::new(),
            interval: default_check_interval(),
            timeout: default_check_timeout(),
            expected_status: None,
            assertions: Vec::new(),
            labels: BTreeMap::new(),
            tls_verify: true,
            failure_threshold: 1,
        }
    }
}

/// A gateway whose routes become monitors.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySourceSpec {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The gateway's kind.
    #[serde(rename = "type")]
    pub gateway: GatewayType,
    /// How to reach its API.
    pub connection: Connection,
    /// Time between listings.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// How long a route may be missing from the listings before its monitor is deleted.
    #[serde(default = "default_grace")]
    pub grace_period: Duration,
    /// List and plan, but write nothing (the plan shows in the status and the preview).
    #[serde(default)]
    pub dry_run: bool,
    /// Which routes to monitor.
    #[serde(default)]
    pub filters: Filters,
    /// Per-route opt-in or opt-out.
    #[serde(default)]
    pub selection: Selection,
    /// The monitor made for each route.
    #[serde(default)]
    pub template: MonitorTemplate,
    /// Most routes a listing may hold; a larger one fails (and deletes nothing).
    #[serde(default = "default_max_routes")]
    pub max_routes: u32,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_bytes() -> u64 {
    32 * 1024 * 1024
}
fn default_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_grace() -> Duration {
    Duration::from_secs(600)
}
fn default_max_routes() -> u32 {
    10_000
}
fn default_opt_in_tag() -> String {
    "vedette:on".to_owned()
}
fn default_opt_out_tag() -> String {
    "vedette:off".to_owned()
}
fn default_name() -> String {
    "{host}{path}".to_owned()
}
fn default_url() -> String {
    "{base}{path}".to_owned()
}
fn default_check_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_check_timeout() -> Duration {
    Duration::from_secs(10)
}

/// Upstream health as the gateway reports it for a route (Envoy cluster health flags, Kong
/// targets, NGINX Plus peers, Traefik service status).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct GatewayHealth {
    /// Whether at least one upstream of the route is healthy.
    pub healthy: bool,
    /// Healthy upstreams.
    pub healthy_upstreams: u32,
    /// All upstreams.
    pub upstreams: u32,
    /// The gateway's own words (`cluster backend: 1/2 healthy`).
    pub detail: String,
}

/// The latest upstream health a gateway reported for one discovered monitor, kept beside the
/// monitor's own result (its status) and read by the assertion field `gateway.healthy`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct GatewayReading {
    /// The discovery source that found the monitor.
    pub source: String,
    /// The source's gateway type (`envoy`, `kong`, ...).
    pub gateway: GatewayType,
    /// Whether the route's upstream is healthy; absent when unknown (the gateway reports no
    /// health for the route, or no listing of the source has succeeded yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// The gateway's own words (`cluster backend: 0/1 healthy`), or why health is unknown.
    pub detail: String,
    /// When the listing that reported it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<DateTime<Utc>>,
}

/// One route as a source lists it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Stable within the source (`listener/virtual host/route name`): the monitor's id is
    /// made from it.
    pub key: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host clients use (a virtual host's domain, a Host() rule).
    pub host: String,
    /// The path (a prefix's or an exact path's; `/` for a catch-all).
    pub path: String,
    /// Where the gateway serves the route (`http://127.0.0.1:10000`) when it is not
    /// `{scheme}://{host}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The upstream service or cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Kubernetes namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// API Gateway stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Tags, labels and annotations (`vedette:off`, `team=payments`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Upstream health, where the gateway reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<GatewayHealth>,
    /// Labels the source puts on the route's monitor, beside the template's: the gateway's
    /// own id of the route ([`KONG_ROUTE_ID`]), by which passive health reported for the
    /// route finds its monitor.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Route {
    /// A route with only its key, scheme, host and path.
    pub fn new(key: &str, scheme: &str, host: &str, path: &str) -> Self {
        Self {
            key: key.to_owned(),
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            path: path.to_owned(),
            base: None,
            service: None,
            namespace: None,
            stage: None,
            tags: Vec::new(),
            health: None,
            labels: BTreeMap::new(),
        }
    }

    fn placeholder(&self, name: &str, source: &str, gateway: GatewayType) -> Option<String> {
        Some(match name {
            "source" => source.to_owned(),
            "route" => self.key.clone(),
            "base" => self
                .base
                .clone()
                .unwrap_or_else(|| format!("{}://{}", self.scheme, self.host)),
            "scheme" => self.scheme.clone(),
            "host" => self.host.clone(),
            "path" => self.path.clone(),
            "service" => self.service.clone().unwrap_or_default(),
            "namespace" => self.namespace.clone().unwrap_or_default(),
            "stage" => self.stage.clone().unwrap_or_default(),
            "gateway" => gateway.as_str().to_owned(),
            _ => return None,
        })
    }
}

/// Whether `pattern` (`*` matching any run of characters, case-insensitive) matches `text`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Greedy matching with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// `text` with each `{name}` replaced by `value(name)`; the first unknown name as an error.
fn substitute(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("an unclosed '{' (placeholders are written {host})".to_owned());
        };
        let name = &after[..close];
        match value(name) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "unknown placeholder {{{name}}}: expected one of {}",
                    PLACEHOLDERS.join(", ")
                ));
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A label value made from a rendered text: characters a label value may not hold become
/// `-`, at most 63 of them.
fn label_value(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect()
}

impl DiscoverySourceSpec {
    /// A source of `gateway` at `url` with every other field at its default.
    pub fn new(gateway: GatewayType, url: &str) -> Self {
        Self {
            name: None,
            gateway,
            connection: Connection {
                url: url.to_owned(),
                credentials: None,
                tls: TlsSettings::default(),
                timeout: default_timeout(),
                max_bytes: default_max_bytes(),
            },
            interval: default_interval(),
            grace_period: default_grace(),
            dry_run: false,
            filters: Filters::default(),
            selection: Selection::default(),
            template: MonitorTemplate::default(),
            max_routes: default_max_routes(),
        }
    }

    /// Whether `route` becomes a monitor: filters, then opt-in/opt-out tags.
    pub fn selects(&self, route: &Route) -> bool {
        let tagged = |tag: &str| route.tags.iter().any(|t| t == tag);
        if tagged(&self.selection.opt_out_tag) {
            return false;
        }
        if self.selection.opt_in && !tagged(&self.selection.opt_in_tag) {
            return false;
        }
        let include = self.filters.include.matches(route);
        if include.contains(&Some(false)) {
            return false;
        }
        let exclude = self.filters.exclude.matches(route);
        !exclude.contains(&Some(true))
    }

    /// The monitor for `route` of source `source` (its id): labels (with `discovered-by`)
    /// and spec; an error naming the template field that does not render into a valid
    /// monitor.
    pub fn render(
        &self,
        source: &str,
        route: &Route,
    ) -> Result<(BTreeMap<String, String>, MonitorSpec), FieldError> {
        let t = &self.template;
        let fill = |field: &str, text: &str| {
            substitute(text, |name| route.placeholder(name, source, self.gateway))
                .map_err(|m| FieldError::new(format!("spec.template.{field}"), m))
        };
        let mut http = HttpCheck::get(fill("url", &t.url)?);
        http.method = t.method;
        http.tls_verify = t.tls_verify;
        for (name, value) in &t.headers {
            http.headers
                .insert(name.clone(), fill(&format!("headers.{name}"), value)?);
        }
        let mut spec = MonitorSpec::new(http);
        spec.name = Some(fill("name", &t.name)?);
        spec.interval = t.interval;
        spec.timeout = t.timeout;
        spec.failure_threshold = t.failure_threshold;
        if let Some(status) = t.expected_status {
            spec.assertions.push(format!("status == {status}"));
        }
        spec.assertions.extend(t.assertions.iter().cloned());
        let mut labels = BTreeMap::new();
        for (key, value) in &t.labels {
            let value = label_value(&fill(&format!("labels.{key}"), value)?);
            labels.insert(key.clone(), value);
        }
        for (key, value) in &route.labels {
            labels.insert(key.clone(), label_value(value));
        }
        labels.insert(DISCOVERED_BY.to_owned(), source.to_owned());
        if let Some(problem) = spec.validate("").into_iter().next() {
            return Err(FieldError::new(
                "spec.template",
                format!(
                    "the monitor made for route {:?} is invalid at {}: {}",
                    route.key, problem.field, problem.message
                ),
            ));
        }
        Ok((labels, spec))
    }

    /// Every problem in the spec; paths are relative to `prefix` (e.g. `spec`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        if self.name.as_ref().is_some_and(|n| n.len() > 256) {
            errs.add(prefix, "name", "must be at most 256 bytes");
        }
        let url = &self.connection.url;
        if self.gateway == GatewayType::Nginx {
            if !url.starts_with("file:///") || url.split('/').any(|p| p == "..") {
                errs.add(
                    prefix,
                    "connection.url",
                    "expected a file:///... path of saved `nginx -T` output, without '..'",
                );
            }
        } else if let Err(message) = check_http_url(url) {
            errs.add(prefix, "connection.url", message);
        }
        if let Some(credentials) = &self.connection.credentials {
            let at = format!("{prefix}.connection.credentials");
            let at = at.trim_start_matches('.');
            match credentials {
                Credentials::Bearer { token } => token.check(at, "bearer.token", &mut errs),
                Credentials::Basic { username, password } => {
                    if username.is_empty() || username.len() > 256 {
                        errs.add(at, "basic.username", "expected 1 to 256 bytes");
                    }
                    password.check(at, "basic.password", &mut errs);
                }
                Credentials::Header { name, value } => {
                    let valid = !name.is_empty()
                        && name.len() <= 128
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                    if !valid {
                        errs.add(at, "header.name", "expected a header name (A-Z, 0-9, -, _)");
                    }
                    value.check(at, "header.value", &mut errs);
                }
                Credentials::AwsSigv4 {
                    region,
                    access_key_id,
                    secret_access_key,
                    session_token,
                } => {
                    let valid = !region.is_empty()
                        && region.len() <= 32
                        && region
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                    if !valid {
                        errs.add(
                            at,
                            "aws_sigv4.region",
                            "expected a region such as eu-west-1",
                        );
                    }
                    access_key_id.check(at, "aws_sigv4.access_key_id", &mut errs);
                    secret_access_key.check(at, "aws_sigv4.secret_access_key", &mut errs);
                    if let Some(token) = session_token {
                        token.check(at, "aws_sigv4.session_token", &mut errs);
                    }
                }
            }
        }
        if let Some(pem) = &self.connection.tls.ca_cert
            && (!pem.contains("-----BEGIN CERTIFICATE-----") || pem.len() > 256 * 1024)
        {
            errs.add(
                prefix,
                "connection.tls.ca_cert",
                "expected one or more PEM certificates, at most 256 KiB",
            );
        }
        let timeout = self.connection.timeout;
        if timeout.std().is_zero() || timeout > MAX_TIMEOUT {
            errs.add(
                prefix,
                "connection.timeout",
                format!("must be more than 0s and at most {MAX_TIMEOUT}, got {timeout}"),
            );
        }
        if !(1..=MAX_LISTING_BYTES).contains(&self.connection.max_bytes) {
            errs.add(
                prefix,
                "connection.max_bytes",
                format!("must be between 1 and {MAX_LISTING_BYTES}"),
            );
        }
        errs.interval(prefix, self.interval, MIN_INTERVAL, MAX_INTERVAL);
        if self.grace_period > MAX_GRACE {
            errs.add(
                prefix,
                "grace_period",
                format!("must be at most {MAX_GRACE}, got {}", self.grace_period),
            );
        }
        if !(1..=MAX_ROUTES).contains(&self.max_routes) {
            errs.add(
                prefix,
                "max_routes",
                format!("must be between 1 and {MAX_ROUTES}"),
            );
        }
        let filters = format!("{prefix}.filters");
        let filters = filters.trim_start_matches('.');
        self.filters
            .include
            .check(&format!("{filters}.include"), &mut errs);
        self.filters
            .exclude
            .check(&format!("{filters}.exclude"), &mut errs);
        for (field, tag) in [
            ("opt_in_tag", &self.selection.opt_in_tag),
            ("opt_out_tag", &self.selection.opt_out_tag),
        ] {
            if tag.is_empty() || tag.len() > 256 {
                errs.add(
                    prefix,
                    &format!("selection.{field}"),
                    "expected 1 to 256 bytes",
                );
            }
        }
        for (key, value) in &self.template.labels {
            if key == DISCOVERED_BY {
                errs.add(
                    prefix,
                    &format!("template.labels.{key}"),
                    "is set by the source to its id",
                );
            } else if let Err(message) = check_label(key, "x") {
                errs.add(prefix, &format!("template.labels.{key}"), message);
            } else if value.len() > 256 {
                errs.add(
                    prefix,
                    &format!("template.labels.{key}"),
                    "at most 256 bytes",
                );
            }
        }
        if !self.gateway.reports_health() {
            for (i, source) in self.template.assertions.iter().enumerate() {
                if crate::assertion::parse(source).is_ok_and(|a| a.mentions_gateway()) {
                    errs.add(
                        prefix,
                        &format!("template.assertions[{i}]"),
                        format!(
                            "{GATEWAY_HEALTH_NEEDED} ({} gateways report none)",
                            self.gateway
                        ),
                    );
                }
            }
        }
        // The template renders a valid monitor for a typical route.
        let sample = Route {
            base: None,
            service: Some("backend".into()),
            namespace: Some("default".into()),
            stage: Some("prod".into()),
            ..Route::new("sample", "https", "api.example.com", "/health")
        };
        if let Err(mut problem) = self.render("sample", &sample) {
            if !prefix.is_empty() && problem.field.starts_with("spec.") {
                problem.field = format!("{prefix}{}", &problem.field["spec".len()..]);
            }
            errs.add("", &problem.field, problem.message);
        }
        errs.into_vec()
    }
}

/// How a source's last run ended.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Not run yet.
    #[default]
    Pending,
    /// Listed and reconciled (or planned, in dry run).
    Succeeded,
    /// The listing failed; nothing was written.
    Failed,
}

/// What the server keeps about a source beside its spec: its last run and since when the
/// route of each owned monitor has been missing. Never holds a credential.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
pub struct DiscoveryStatus {
    /// How the last run ended.
    pub state: RunState,
    /// When the last run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// When the last successful run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
    /// Why the last run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the last run took, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// Routes the gateway listed in the last successful run.
    #[serde(default)]
    pub routes_seen: u32,
    /// Of those, the routes the filters and opt-in/opt-out selected.
    #[serde(default)]
    pub routes_selected: u32,
    /// Monitors labelled `discovered-by=<this source>`.
    #[serde(default)]
    pub monitors_owned: u32,
    /// Monitors the last run created.
    #[serde(default)]
    pub created: u32,
    /// Monitors the last run updated.
    #[serde(default)]
    pub updated: u32,
    /// Monitors the last run deleted.
    #[serde(default)]
    pub deleted: u32,
    /// Owned monitors whose route is missing, with the time it was first missed; each is
    /// deleted once missing for longer than the grace period.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing_since: BTreeMap<String, DateTime<Utc>>,
    /// Routes whose monitor id is taken by a monitor this source does not own (left alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Upstream health the gateway reported, by monitor id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub health: BTreeMap<String, GatewayHealth>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(value: serde_json::Value) -> DiscoverySourceSpec {
        serde_json::from_value(value).unwrap()
    }

    fn fields(spec: &DiscoverySourceSpec) -> Vec<String> {
        spec.validate("spec").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_minimal_source_is_valid_with_defaults() {
        let s = spec(json!({"type": "envoy", "connection": {"url": "http://127.0.0.1:9901"}}));
        assert!(fields(&s).is_empty(), "{:?}", s.validate("spec"));
        assert_eq!(s.grace_period, Duration::from_secs(600));
    }

    #[test]
    fn gateway_health_in_a_template_needs_a_gateway_that_reports_it() {
        let with = |gateway: &str| {
            spec(
                json!({"type": gateway, "connection": {"url": "http://127.0.0.1:9901"},
                        "template": {"assertions": ["status == 200", "gateway.healthy == true"]}}),
            )
        };
        assert!(fields(&with("envoy")).is_empty());
        assert!(fields(&with("kong")).is_empty());
        let problems = with("istio").validate("spec");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "spec.template.assertions[1]");
        assert_eq!(
            problems[0].message,
            "gateway.healthy needs a monitor discovered from a gateway that reports health \
             (istio gateways report none)"
        );
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let s = spec(json!({
            "type": "kong",
            "connection": {
                "url": "ftp://kong",
                "credentials": {"header": {"name": "Kong Admin", "value": {"env": "HOME"}}},
                "timeout": "0s",
            },
            "interval": "1s",
            "grace_period": "30d",
            "max_routes": 0,
            "filters": {"include": {"hosts": [""]}},
            "template": {"url": "{base}{nope}", "labels": {"discovered-by": "x"}},
        }));
        assert_eq!(
            fields(&s),
            [
                "spec.connection.url",
                "spec.connection.credentials.header.name",
                "spec.connection.credentials.header.value.env",
                "spec.connection.timeout",
                "spec.interval",
                "spec.grace_period",
                "spec.max_routes",
                "spec.filters.include.hosts[0]",
                "spec.template.labels.discovered-by",
                "spec.template.url",
            ]
        );
    }

    #[test]
    fn secret_files_stay_in_the_secret_folders() {
        for (path, ok) in [
            ("/run/secrets/kong", true),
            ("/var/run/secrets/kubernetes.io/serviceaccount/token", true),
            ("/etc/shadow", false),
            ("/run/secrets/../../etc/shadow", false),
        ] {
            let s = spec(json!({"type": "traefik", "connection": {
                "url": "http://t:8080", "credentials": {"bearer": {"token": {"file": path}}}}}));
            assert_eq!(fields(&s).is_empty(), ok, "{path}");
        }
    }

    #[test]
    fn filters_include_every_set_list_and_exclude_any() {
        let mut s = DiscoverySourceSpec::new(GatewayType::Kong, "http://k:8001");
        s.filters.include.hosts = vec!["*.example.com".into()];
        s.filters.exclude.paths = vec!["/internal*".into()];
        let mut r = Route::new("r", "https", "api.example.com", "/orders");
        assert!(s.selects(&r));
        r.path = "/internal/metrics".into();
        assert!(!s.selects(&r));
        r.path = "/orders".into();
        r.host = "example.org".into();
        assert!(!s.selects(&r));
        r.host = "API.example.com".into();
        r.tags = vec!["vedette:off".into()];
        assert!(!s.selects(&r), "opted out");
        s.selection.opt_in = true;
        r.tags = vec!["vedette:on".into()];
        assert!(s.selects(&r));
        r.tags.clear();
        assert!(!s.selects(&r), "not opted in");
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("*", ""));
        assert!(glob("a*c*e", "abcde"));
        assert!(glob("*.example.com", "x.y.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(!glob("a*b", "acbc"));
    }

    #[test]
    fn a_template_renders_placeholders_into_a_monitor() {
        let mut s = DiscoverySourceSpec::new(GatewayType::Envoy, "http://127.0.0.1:9901");
        s.template.expected_status = Some(200);
        s.template.headers.insert("Host".into(), "{host}".into());
        s.template
            .labels
            .insert("service".into(), "{service}".into());
        let route = Route {
            base: Some("http://127.0.0.1:10000".into()),
            service: Some("backend one".into()),
            ..Route::new("l/vh/r", "http", "shop.local", "/api")
        };
        let (labels, monitor) = s.render("edge", &route).unwrap();
        assert_eq!(labels[DISCOVERED_BY], "edge");
        assert_eq!(labels["service"], "backend-one");
        assert_eq!(monitor.name.as_deref(), Some("shop.local/api"));
        let http = monitor.check.as_http().unwrap();
        assert_eq!(http.url, "http://127.0.0.1:10000/api");
        assert_eq!(http.headers["Host"], "shop.local");
        assert_eq!(monitor.assertions, ["status == 200"]);
    }
}
