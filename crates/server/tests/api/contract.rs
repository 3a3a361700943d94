//! The served API keeps to its OpenAPI document. The document is read from the running server
//! (`/api/v1/openapi.json`) and every operation it declares is called: its success, and each
//! error a client can provoke (no token, a token of too narrow a scope, an unknown id, a stale
//! or odd `If-Match`, bodies that are malformed, too large, not JSON or invalid, bad query
//! parameters, resources managed by files, the auth-failure limit). Every answer must have a
//! status the operation declares, a `Content-Type` declared for that status (no body where none
//! is declared), and a JSON body that validates against the declared schema.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN_TOKEN, Kind, Resp, Server, Target, http_monitor};

api_tests!(every_operation_answers_as_documented);

/// A monitor, a maintenance window and their ids, all managed by the config file.
const CONFIG: &str = "apiVersion: vedette.dev/v1
kind: Monitor
metadata: {id: from-file}
spec:
  http: {url: 'http://127.0.0.1:9/'}
  interval: 1d
---
apiVersion: vedette.dev/v1
kind: MaintenanceWindow
metadata: {id: mw-file}
spec:
  start: 2030-01-01T00:00:00Z
  end: 2030-01-01T01:00:00Z
  monitors: [from-file]
---
apiVersion: vedette.dev/v1
kind: StatusPage
metadata: {id: page-file}
spec:
  title: From the files
  slug: page-file
  groups: [{name: Files, monitors: [{id: from-file}]}]
---
apiVersion: vedette.dev/v1
kind: DiscoverySource
metadata: {id: dsc-file}
spec:
  type: envoy
  connection: {url: 'http://127.0.0.1:9'}
  interval: 1d
";

/// An id no resource has.
const UNKNOWN: &str = "no-such-thing";

/// Who a call authenticates as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Write,
    Read,
    Nobody,
    Forged,
}

/// One request to make and the status it must get.
#[derive(Debug, Clone)]
struct Call {
    op: String,
    /// Values of the path's `{name}` segments, in order.
    args: Vec<String>,
    /// The query string, without `?`.
    query: String,
    who: Who,
    headers: Vec<(&'static str, String)>,
    /// Content type and bytes.
    body: Option<(&'static str, Vec<u8>)>,
    expect: u16,
}

impl Call {
    fn new(op: &str, args: &[&str], expect: u16) -> Call {
        Call {
            op: op.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            query: String::new(),
            who: Who::Admin,
            headers: Vec::new(),
            body: None,
            expect,
        }
    }

    fn query(mut self, query: &str) -> Call {
        self.query = query.to_owned();
        self
    }

    fn and_query(mut self, more: &str) -> Call {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(more);
        self
    }

    fn json(mut self, body: &Value) -> Call {
        self.body = Some(("application/json", body.to_string().into_bytes()));
        self
    }

    fn raw(mut self, content_type: &'static str, bytes: Vec<u8>) -> Call {
        self.body = Some((content_type, bytes));
        self
    }

    fn header(mut self, name: &'static str, value: &str) -> Call {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// This call with its last path argument replaced.
    fn with_last_arg(&self, arg: &str) -> Call {
        let mut call = self.clone();
        if let Some(last) = call.args.last_mut() {
            arg.clone_into(last);
        }
        call
    }

    fn who(mut self, who: Who) -> Call {
        self.who = who;
        self
    }

    fn expect(mut self, status: u16) -> Call {
        self.expect = status;
        self
    }
}

/// The OpenAPI document and what an answer must look like by it.
struct Contract {
    doc: Value,
}

/// An answer as the contract sees it.
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Contract {
    /// `(method, path template, operation)` of `op`.
    fn operation(&self, op: &str) -> (Method, String, &Value) {
        let paths = self.doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("path item") {
                if operation["operationId"] == op {
                    let method =
                        Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
                    return (method, path.clone(), operation);
                }
            }
        }
        panic!("the document declares no operation {op}");
    }

    /// Every operation id, with its operation.
    fn operations(&self) -> Vec<(String, &Value)> {
        let mut all = Vec::new();
        for item in self.doc["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("path item").values() {
                let id = operation["operationId"].as_str().expect("operationId");
                all.push((id.to_owned(), operation));
            }
        }
        all
    }

    /// Whether `answer` is one `op` declares: its status, a media type declared for that status
    /// (no body when none is), and for JSON a body valid by the declared schema.
    fn check(&self, op: &str, answer: &Answer, streamed: bool) -> Result<(), String> {
        let (_, _, operation) = self.operation(op);
        let responses = operation["responses"].as_object().expect("responses");
        let Some(declared) = responses.get(&answer.status.to_string()) else {
            return Err(format!(
                "{op} answered {}, which it does not declare (it declares {:?})",
                answer.status,
                responses.keys().collect::<Vec<_>>()
            ));
        };
        let Some(content) = declared.get("content").and_then(Value::as_object) else {
            if answer.body.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "{op} {}: declares no body, got {} bytes",
                answer.status,
                answer.body.len()
            ));
        };
        let got = essence(answer.content_type.as_deref().unwrap_or_default());
        let Some((_, media)) = content.iter().find(|(media, _)| essence(media) == got) else {
            return Err(format!(
                "{op} {}: Content-Type {:?} is not declared (declared: {:?})",
                answer.status,
                answer.content_type,
                content.keys().collect::<Vec<_>>()
            ));
        };
        if streamed {
            return Ok(());
        }
        if got.ends_with("json") {
            let body: Value = serde_json::from_slice(&answer.body)
                .map_err(|e| format!("{op} {}: the body is not JSON: {e}", answer.status))?;
            let mut problems = Vec::new();
            self.validate(&media["schema"], &body, "", &mut problems);
            if !problems.is_empty() {
                return Err(format!(
                    "{op} {}: the body does not match its schema:\n  {}\n{body:#}",
                    answer.status,
                    problems.join("\n  ")
                ));
            }
        } else if std::str::from_utf8(&answer.body).is_err() {
            return Err(format!(
                "{op} {}: the text body is not UTF-8",
                answer.status
            ));
        }
        Ok(())
    }

    /// Records in `problems` where `value` breaks `schema` (the JSON Schema keywords the
    /// document uses; `pattern` aside).
    fn validate(&self, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        if let Some(allowed) = schema.as_bool() {
            if !allowed {
                problems.push(format!("{at}: no value is allowed here"));
            }
            return;
        }
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("$ref {reference} is not a component"));
            let target = &self.doc["components"]["schemas"][name];
            assert!(!target.is_null(), "dangling $ref {reference}");
            self.validate(target, value, at, problems);
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !types.iter().any(|t| has_type(value, t)) {
                problems.push(format!("{at}: expected {types:?}, got {value}"));
                return;
            }
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            problems.push(format!("{at}: expected {constant}, got {value}"));
        }
        if let Some(choices) = schema["enum"].as_array()
            && !choices.contains(value)
        {
            problems.push(format!("{at}: {value} is not one of {choices:?}"));
        }
        if let (Some(format), Some(text)) = (schema["format"].as_str(), value.as_str())
            && format == "date-time"
            && chrono::DateTime::parse_from_rfc3339(text).is_err()
        {
            problems.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
        }
        if let (Some(max), Some(text)) = (schema["maxLength"].as_u64(), value.as_str())
            && text.chars().count() as u64 > max
        {
            problems.push(format!("{at}: longer than {max} characters"));
        }
        if let Some(n) = value.as_f64() {
            if schema["minimum"].as_f64().is_some_and(|min| n < min) {
                problems.push(format!("{at}: {n} is below {}", schema["minimum"]));
            }
            if schema["maximum"].as_f64().is_some_and(|max| n > max) {
                problems.push(format!("{at}: {n} is above {}", schema["maximum"]));
            }
        }
        if let Value::Object(map) = value {
            let properties = schema["properties"].as_object();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("required name");
                if !map.contains_key(name) {
                    problems.push(format!("{at}: required property {name} is missing"));
                }
            }
            for (key, item) in map {
                let path = format!("{at}.{key}");
                match properties.and_then(|p| p.get(key)) {
                    Some(property) => self.validate(property, item, &path, problems),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            problems.push(format!("{path}: not a declared property"));
                        }
                        Some(extra) => self.validate(extra, item, &path, problems),
                        None => {}
                    },
                }
            }
        }
        if let Value::Array(items) = value {
            let prefix = schema["prefixItems"].as_array();
            for (i, item) in items.iter().enumerate() {
                let path = format!("{at}[{i}]");
                match prefix.and_then(|p| p.get(i)) {
                    Some(position) => self.validate(position, item, &path, problems),
                    None => {
                        if let Some(each) = schema.get("items") {
                            self.validate(each, item, &path, problems);
                        }
                    }
                }
            }
            let len = items.len() as u64;
            if schema["minItems"].as_u64().is_some_and(|min| len < min)
                || schema["maxItems"].as_u64().is_some_and(|max| len > max)
            {
                problems.push(format!("{at}: {len} items is out of bounds"));
            }
        }
        for sub in schema["allOf"].as_array().into_iter().flatten() {
            self.validate(sub, value, at, problems);
        }
        let matching = |key: &str| {
            schema[key].as_array().map(|subs| {
                subs.iter()
                    .filter(|sub| {
                        let mut scratch = Vec::new();
                        self.validate(sub, value, at, &mut scratch);
                        scratch.is_empty()
                    })
                    .count()
            })
        };
        if matching("anyOf") == Some(0) {
            problems.push(format!("{at}: matches none of anyOf: {value}"));
        }
        if let Some(n) = matching("oneOf")
            && n != 1
        {
            problems.push(format!("{at}: matches {n} of oneOf, not one: {value}"));
        }
    }
}

/// Whether `value` is of JSON Schema type `kind`.
fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => panic!("unknown JSON Schema type {kind}"),
    }
}

/// A media type without its parameters, lower case.
fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `template` with its `{name}` segments replaced by `args` in order, percent-encoded unless
/// they already are.
fn fill(template: &str, args: &[String]) -> String {
    let mut args = args.iter();
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                let arg = args.next().expect("an argument for every path parameter");
                if arg.contains('%') {
                    arg.clone()
                } else {
                    url_segment(arg)
                }
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn url_segment(text: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("url");
    url.path_segments_mut().expect("base").push(text);
    url.path().trim_start_matches('/').to_owned()
}

/// The server, its tokens and the contract, making calls and checking every answer.
struct Harness {
    server: Server,
    /// A client without default headers: each call says who it is.
    client: reqwest::Client,
    contract: Contract,
    write: String,
    read: String,
    /// Every operation called, with each status it answered.
    seen: BTreeSet<(String, u16)>,
    /// Answers that were not the expected status or broke the contract.
    failures: Vec<String>,
}

impl Harness {
    async fn call(&mut self, call: &Call) -> Resp {
        let (method, template, _) = self.contract.operation(&call.op);
        let mut url = format!("http://{}{}", self.server.addr, fill(&template, &call.args));
        if !call.query.is_empty() {
            url.push('?');
            url.push_str(&call.query);
        }
        let mut request = self.client.request(method.clone(), &url);
        request = match call.who {
            Who::Admin => request.bearer_auth(ADMIN_TOKEN),
            Who::Write => request.bearer_auth(&self.write),
            Who::Read => request.bearer_auth(&self.read),
            Who::Forged => request.bearer_auth("vdt_forged-token-0123456789abcdefghij"),
            Who::Nobody => request,
        };
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some((content_type, bytes)) = &call.body {
            request = request
                .header("content-type", *content_type)
                .body(bytes.clone());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let streamed = content_type
            .as_deref()
            .is_some_and(|t| essence(t) == "text/event-stream");
        let body = if streamed {
            Vec::new()
        } else {
            response.bytes().await.expect("body").to_vec()
        };
        let answer = Answer {
            status,
            content_type,
            body,
        };
        let text = String::from_utf8_lossy(&answer.body);
        if status != call.expect {
            self.failures.push(format!(
                "{method} {url} ({:?}): expected {}, got {status}: {text}",
                call.who, call.expect
            ));
        }
        if let Err(broken) = self.contract.check(&call.op, &answer, streamed) {
            self.failures.push(format!("{method} {url}: {broken}"));
        }
        self.seen.insert((call.op.clone(), status));
        Resp {
            status,
            headers,
            body: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        }
    }

    async fn run(&mut self, calls: &[Call]) {
        for call in calls {
            self.call(call).await;
        }
    }

    /// The errors every operation of its kind can be made to answer, derived from `success`
    /// (the call that succeeds) and what the document declares.
    fn derived_errors(&self, success: &Call) -> Vec<Call> {
        let (method, _, operation) = self.contract.operation(&success.op);
        let mut calls = Vec::new();
        if let Some(scope) = operation["x-required-scope"].as_str() {
            calls.push(success.clone().who(Who::Nobody).expect(401));
            calls.push(success.clone().who(Who::Forged).expect(401));
            match scope {
                "admin" => calls.push(success.clone().who(Who::Write).expect(403)),
                "write" => calls.push(success.clone().who(Who::Read).expect(403)),
                _ => {}
            }
        }
        let params: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        if !success.args.is_empty() {
            // An id that does not decode to UTF-8 names nothing, and is no valid id to create.
            let (unknown, odd) = if method == Method::PUT {
                (None, 422)
            } else {
                (Some(404), 404)
            };
            if let Some(status) = unknown {
                calls.push(success.with_last_arg(UNKNOWN).expect(status));
            }
            calls.push(success.with_last_arg("%FF").expect(odd));
        }
        if params.contains(&"If-Match") {
            for tag in ["\"999999\"", "\"abc\"", ""] {
                calls.push(success.clone().header("if-match", tag).expect(412));
            }
        }
        for (name, bad) in [
            ("limit", "limit=0"),
            ("cursor", "cursor=zz"),
            ("selector", "selector=in%20("),
            ("from", "from=yesterday"),
            ("since", "since=yesterday"),
        ] {
            if params.contains(&name) {
                calls.push(success.clone().and_query(bad).expect(400));
            }
        }
        if operation.get("requestBody").is_some() {
            let huge = format!("{{\"x\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
            calls.push(
                success
                    .clone()
                    .raw("application/json", b"{\"spec\": ".to_vec())
                    .expect(400),
            );
            calls.push(
                success
                    .clone()
                    .raw("text/plain", b"spec: {}".to_vec())
                    .expect(415),
            );
            calls.push(
                success
                    .clone()
                    .raw("application/json", huge.into_bytes())
                    .expect(413),
            );
            calls.push(success.clone().json(&json!({"bogus": 1})).expect(422));
        }
        calls
    }
}

/// A deployment of payments to prod.
fn deployment_body() -> Value {
    json!({"spec": {"service": "payments", "version": "v1", "environment": "prod", "selector": "team=payments"}})
}

/// A status page at `slug` listing `web`, showing response times too.
fn status_page(slug: &str) -> Value {
    json!({"spec": {"title": "Status", "slug": slug, "show": {"latency": true}, "groups": [{"name": "Web", "monitors": [{"id": "web"}]}]}})
}

/// A discovery source of an Envoy admin at `url`, listed once a day.
fn discovery_source(url: &str) -> Value {
    json!({"spec": {"type": "envoy", "connection": {"url": url, "timeout": "2s"}, "interval": "1d"}})
}

/// A verification of `web` that waits for its schedule (so it runs through the test).
fn verification() -> Value {
    json!({"spec": {"ids": ["web"], "timeout": "10m", "run_now": false}})
}

/// The successful call of every operation, in an order where each finds what it needs.
fn successes(f: &Fixtures) -> Vec<Call> {
    let monitor = http_monitor(&f.target_url, "1d");
    let deployment = deployment_body();
    let window = json!({"spec": {"start": "2030-02-01T00:00:00Z", "end": "2030-02-01T01:00:00Z", "monitors": ["web"]}});
    let webhook = json!({"spec": {"url": f.target_url, "event_types": ["monitor.*"]}});
    vec![
        Call::new("getOpenApi", &[], 200).who(Who::Nobody),
        Call::new("health", &[], 200).who(Who::Nobody),
        Call::new("ready", &[], 200).who(Who::Nobody),
        Call::new("metrics", &[], 200).who(Who::Nobody),
        Call::new("pushGet", &[&f.push_token], 200).who(Who::Nobody),
        Call::new("pushPost", &[&f.push_token], 200)
            .who(Who::Nobody)
            .query("status=down&msg=disk%20full"),
        Call::new("listMonitors", &[], 200).query("limit=2&selector=team%3Dpayments"),
        Call::new("createMonitor", &[], 201).json(&monitor),
        Call::new("getMonitor", &["web"], 200),
        Call::new("putMonitor", &["web"], 200).json(&monitor),
        Call::new("putMonitor", &["brand-new"], 201).json(&monitor),
        Call::new("patchMonitor", &["web"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("pauseMonitor", &["web"], 200).json(&json!({"reason": "deploy"})),
        Call::new("pauseMonitor", &["web"], 200).query("reason=again"),
        Call::new("resumeMonitor", &["web"], 200),
        Call::new("runMonitor", &["web"], 200),
        Call::new("rotatePushToken", &["beat"], 200),
        Call::new("listResults", &["web"], 200).query("from=-1h&limit=5"),
        Call::new("listResultsOfMonitors", &[], 200).query("ids=web,beat&from=-1h&limit=5"),
        Call::new("getSeries", &[], 200).query("ids=web&from=-1h&step=1m&metrics=uptime,checks"),
        Call::new("getSeriesColumns", &[], 200)
            .query("ids=web&from=-1h&step=1m&metrics=uptime,checks"),
        Call::new("getSlo", &[], 200).query("ids=web&target=99.5&window=1d&step=1h"),
        Call::new("listLabelKeys", &[], 200).query("selector="),
        Call::new("listLabelValues", &["team"], 200),
        Call::new("listIncidents", &[], 200).query("state=open&from=-1d&limit=5"),
        Call::new("getIncident", &[&f.incident], 200),
        Call::new("listMaintenance", &[], 200).query("limit=5&selector="),
        Call::new("listMaintenanceOccurrences", &[], 200).query("from=-1d&to=now&limit=10"),
        Call::new("createMaintenance", &[], 201).json(&window),
        Call::new("getMaintenance", &["mw"], 200),
        Call::new("putMaintenance", &["mw"], 200).json(&window),
        Call::new("putMaintenance", &["mw-new"], 201).json(&window),
        Call::new("patchMaintenance", &["mw"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("listDeployments", &[], 200)
            .query("limit=5&selector=&service=payments&environment=prod"),
        Call::new("createDeployment", &[], 201).json(&deployment),
        Call::new("getDeployment", &["dep"], 200),
        Call::new("putDeployment", &["dep"], 200).json(&deployment),
        Call::new("putDeployment", &["dep-new"], 201).json(&deployment),
        Call::new("patchDeployment", &["dep"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("finishDeployment", &["dep"], 200).json(&json!({"status": "succeeded"})),
        Call::new("listVerifications", &[], 200).query("limit=5&selector="),
        Call::new("createVerification", &[], 201).json(&verification()),
        Call::new("getVerification", &["ver"], 200),
        Call::new("putVerification", &["ver"], 200).json(&verification()),
        Call::new("putVerification", &["ver-new"], 201).json(&verification()),
        Call::new("patchVerification", &["ver"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("getVerificationReport", &["ver"], 200).query("format=junit"),
        Call::new("getVerificationReport", &["ver"], 200).query("format=markdown"),
        Call::new("getVerificationReport", &["ver"], 200).query("format=json"),
        Call::new("listStatusPages", &[], 200).query("limit=5&selector="),
        Call::new("createStatusPage", &[], 201).json(&status_page("page-created")),
        Call::new("getStatusPage", &["page"], 200),
        Call::new("putStatusPage", &["page"], 200).json(&status_page("page")),
        Call::new("putStatusPage", &["page-new"], 201).json(&status_page("page-new")),
        Call::new("patchStatusPage", &["page"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("getPublicStatusPage", &["page"], 200).who(Who::Nobody),
        Call::new("getPublicStatusPage", &["page.json"], 200).who(Who::Nobody),
        Call::new("getPublicStatusFeed", &["page"], 200).who(Who::Nobody),
        Call::new("getStatusPageBadge", &["page"], 200).who(Who::Nobody),
        Call::new("getMonitorStatusBadge", &["page", "web"], 200).who(Who::Nobody),
        Call::new("getMonitorUptimeBadge", &["page", "web"], 200)
            .who(Who::Nobody)
            .query("window=7d"),
        Call::new("getMonitorResponseBadge", &["page", "web"], 200).who(Who::Nobody),
        Call::new("listDiscoverySources", &[], 200).query("limit=5&selector="),
        Call::new("createDiscoverySource", &[], 201).json(&discovery_source(&f.target_url)),
        Call::new("getDiscoverySource", &["dsc"], 200),
        Call::new("putDiscoverySource", &["dsc"], 200).json(&discovery_source(&f.target_url)),
        Call::new("putDiscoverySource", &["dsc-new"], 201).json(&discovery_source(&f.target_url)),
        Call::new("patchDiscoverySource", &["dsc"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("previewDiscoverySource", &["dsc"], 200),
        Call::new("runDiscoverySource", &["dsc"], 200),
        Call::new("discoveryHttpSd", &[], 200),
        Call::new("ingestKongPlugin", &[], 200)
            .json(&json!({"source": "vedette-kong-plugin", "dropped": 1, "routes": []})),
        Call::new("ingestKongHttpLog", &[], 200).json(
            &json!({"route": {"id": "r1"}, "response": {"status": 200}, "latencies": {"request": 4}}),
        ),
        Call::new("getKongIngestTotals", &[], 200),
        Call::new("listEvents", &[], 200).query("limit=5&type=monitor.down,monitor.up"),
        Call::new("streamEvents", &[], 200).query("after=0"),
        Call::new("getStatus", &[], 200),
        Call::new("listWebhooks", &[], 200).query("limit=5"),
        Call::new("createWebhook", &[], 201).json(&webhook),
        Call::new("previewWebhook", &[], 200).json(&json!({"event_type": "monitor.up"})),
        Call::new("getWebhook", &["hook"], 200),
        Call::new("putWebhook", &["hook"], 200).json(&webhook),
        Call::new("putWebhook", &["hook-new"], 201).json(&webhook),
        Call::new("patchWebhook", &["hook"], 200).raw(
            "application/merge-patch+json",
            b"{\"labels\": {\"tier\": \"one\"}}".to_vec(),
        ),
        Call::new("rotateWebhookSecret", &["hook"], 200).query("overlap=1h"),
        Call::new("testWebhook", &["hook"], 202).query("event_type=monitor.up"),
        Call::new("listWebhookDeliveries", &["hook"], 200)
            .query("status=pending&since=-1h&limit=5"),
        Call::new("recoverWebhook", &["hook"], 202).query("since=-1h"),
        Call::new("getWebhookMessage", &[&f.message], 200),
        Call::new("replayWebhookMessage", &[&f.message], 202),
        Call::new("listEventTypes", &[], 200),
        Call::new("getEventType", &["monitor.down"], 200),
        Call::new("listIntegrations", &[], 200).query("category=chat"),
        Call::new("getIntegration", &["slack"], 200),
        Call::new("createToken", &[], 201).json(&json!({"name": "ci", "scopes": ["read"]})),
        Call::new("listTokens", &[], 200),
        Call::new("deleteMonitor", &["doomed"], 204),
        Call::new("deleteMaintenance", &["mw-doomed"], 204),
        Call::new("deleteDeployment", &["dep-doomed"], 204),
        Call::new("deleteVerification", &["ver-doomed"], 204),
        Call::new("deleteDiscoverySource", &["dsc-doomed"], 204),
        Call::new("deleteWebhook", &["hook-doomed"], 204),
        Call::new("deleteStatusPage", &["page-doomed"], 204),
        Call::new("revokeToken", &[&f.doomed_token], 204),
    ]
}

/// Errors that need a particular request or resource.
fn particular_errors(f: &Fixtures) -> Vec<Call> {
    let monitor = http_monitor(&f.target_url, "1d");
    let window = json!({"spec": {"start": "2030-02-01T00:00:00Z", "end": "2030-02-01T01:00:00Z", "monitors": ["web"]}});
    let patch = || b"{\"labels\": {\"tier\": \"one\"}}".to_vec();
    let merge = "application/merge-patch+json";
    vec![
        // Resources managed by the config file, or of the wrong kind.
        Call::new("putMonitor", &["from-file"], 409).json(&monitor),
        Call::new("patchMonitor", &["from-file"], 409).raw(merge, patch()),
        Call::new("deleteMonitor", &["from-file"], 409),
        Call::new("putMaintenance", &["mw-file"], 409).json(&window),
        Call::new("patchMaintenance", &["mw-file"], 409).raw(merge, patch()),
        Call::new("deleteMaintenance", &["mw-file"], 409),
        Call::new("createMonitor", &[], 409).json(&json!({"id": "web", "spec": monitor["spec"]})),
        Call::new("createMaintenance", &[], 409).json(&json!({"id": "mw", "spec": window["spec"]})),
        Call::new("putDeployment", &["dep-file"], 409).json(&deployment_body()),
        Call::new("patchDeployment", &["dep-file"], 409).raw(merge, patch()),
        Call::new("finishDeployment", &["dep-file"], 409).json(&json!({"status": "failed"})),
        Call::new("deleteDeployment", &["dep-file"], 409),
        Call::new("createDeployment", &[], 409).json(&json!({"id": "dep", "spec": deployment_body()["spec"]})),
        // A verification's spec is fixed once created.
        Call::new("putVerification", &["ver"], 409)
            .json(&json!({"spec": {"ids": ["web"], "consecutive": 5}})),
        Call::new("patchVerification", &["ver"], 409).raw(merge, b"{\"spec\": {\"consecutive\": 5}}".to_vec()),
        Call::new("createVerification", &[], 409)
            .json(&json!({"id": "ver", "spec": verification()["spec"]})),
        Call::new("getVerificationReport", &["ver"], 400).query("format=pdf"),
        Call::new("putStatusPage", &["page-file"], 409).json(&status_page("page-file")),
        Call::new("patchStatusPage", &["page-file"], 409).raw(merge, patch()),
        Call::new("deleteStatusPage", &["page-file"], 409),
        Call::new("createStatusPage", &[], 409)
            .json(&json!({"id": "page", "spec": status_page("page")["spec"]})),
        Call::new("getMonitorUptimeBadge", &["page", "web"], 400)
            .who(Who::Nobody)
            .query("window=1y"),
        Call::new("putDiscoverySource", &["dsc-file"], 409)
            .json(&discovery_source("http://127.0.0.1:9")),
        Call::new("patchDiscoverySource", &["dsc-file"], 409).raw(merge, patch()),
        Call::new("deleteDiscoverySource", &["dsc-file"], 409),
        Call::new("createDiscoverySource", &[], 409)
            .json(&json!({"id": "dsc", "spec": discovery_source("http://127.0.0.1:9")["spec"]})),
        Call::new("deleteWebhook", &["hook-owned"], 409),
        Call::new("createWebhook", &[], 409)
            .json(&json!({"id": "hook", "spec": {"url": f.target_url}})),
        Call::new("runMonitor", &["beat"], 409),
        Call::new("rotatePushToken", &["web"], 409),
        Call::new("testWebhook", &["hook-off"], 409),
        Call::new("recoverWebhook", &["hook-off"], 409).query("since=-1h"),
        Call::new("replayWebhookMessage", &[&f.disabled_message], 409),
        Call::new("revokeToken", &[&f.admin_token_id], 409),
        // Invalid values.
        Call::new("putMonitor", &["web"], 422).json(&json!({"spec": {"http": {"url": "ftp://x"}, "interval": "-5s", "assertions": ["status =="]}})),
        Call::new("putMonitor", &["Not_A_Slug"], 422).json(&monitor),
        Call::new("pauseMonitor", &["web"], 422).query(&format!("reason={}", "x".repeat(501))),
        Call::new("getSeries", &[], 422).query("metrics=bogus"),
        Call::new("getSeriesColumns", &[], 422).query("metrics=bogus"),
        Call::new("getSeries", &[], 422).query("step=5x"),
        Call::new("getSeries", &[], 422).query("ids=nope"),
        Call::new("getSlo", &[], 422).query("target=100"),
        Call::new("getSeries", &[], 422).query("from=-1000d&step=1m"),
        Call::new("createToken", &[], 422).json(&json!({"name": "x", "scopes": ["root"]})),
        Call::new("previewWebhook", &[], 422)
            .json(&json!({"template": {"body": "{{ nope( }}"}})),
        // Bad parameters.
        Call::new("listResults", &["web"], 400).query("from=now&to=-1d"),
        Call::new("getSeries", &[], 400).query("from=yesterday"),
        Call::new("getSeriesColumns", &[], 400).query("from=yesterday"),
        Call::new("getSlo", &[], 400).query("to=yesterday"),
        Call::new("listLabelKeys", &[], 400).query("selector=%3D%3D"),
        Call::new("listLabelValues", &["team"], 400).query("selector=%3D%3D"),
        Call::new("listIncidents", &[], 400).query("state=sleeping"),
        Call::new("listEvents", &[], 400).query("type=monitor.sideways"),
        Call::new("listEvents", &[], 400).query("after=x"),
        Call::new("streamEvents", &[], 400).query("after=x"),
        Call::new("streamEvents", &[], 400).header("last-event-id", "x"),
        Call::new("listWebhookDeliveries", &["hook"], 400).query("status=lost"),
        Call::new("testWebhook", &["hook"], 400).query("event_type=bogus"),
        Call::new("rotateWebhookSecret", &["hook"], 400).query("overlap=40d"),
        Call::new("recoverWebhook", &["hook"], 400),
        Call::new("pushGet", &[UNKNOWN], 404).who(Who::Nobody),
        Call::new("pushPost", &["%FF"], 404).who(Who::Nobody),
        // Conditional requests: a PUT that must create, on one that exists.
        Call::new("putMonitor", &["web"], 412)
            .json(&monitor)
            .header("if-none-match", "*"),
    ]
}

/// Ids and values of the resources the calls work on.
struct Fixtures {
    target_url: String,
    push_token: String,
    incident: String,
    message: String,
    /// A message of a webhook disabled since.
    disabled_message: String,
    doomed_token: String,
    admin_token_id: String,
}

async fn fixtures(server: &Server, target: &Target) -> (Fixtures, String, String) {
    let ok = |resp: Resp| {
        assert!(resp.status < 300, "{:#}", resp.body);
        resp
    };
    let target_url = target.url("/ok");
    for id in ["web", "doomed"] {
        ok(server
            .put(&format!("/monitors/{id}"), &http_monitor(&target_url, "1d"))
            .await);
    }
    server
        .put_checked(
            "/monitors/flaky",
            &http_monitor(&target.url("/switch"), "1d"),
        )
        .await;
    target.set_up(false);
    ok(server.post("/monitors/flaky/run", &json!({})).await);
    target.set_up(true);
    let beat = ok(server
        .put(
            "/monitors/beat",
            &json!({"spec": {"heartbeat": {}, "interval": "1d"}}),
        )
        .await);
    let push_token = beat.body["status"]["push_url"]
        .as_str()
        .and_then(|u| u.strip_prefix("/push/"))
        .expect("push url")
        .to_owned();
    let incidents = server
        .wait_for("/incidents?monitor=flaky", Duration::from_secs(10), |b| {
            b["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    let incident = incidents["items"][0]["id"].as_str().expect("id").to_owned();
    let window = json!({"spec": {"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z", "monitors": ["web"]}});
    for id in ["mw", "mw-doomed"] {
        ok(server.put(&format!("/maintenance/{id}"), &window).await);
    }
    for id in ["dep", "dep-doomed"] {
        ok(server
            .put(&format!("/deployments/{id}"), &deployment_body())
            .await);
    }
    // A deployment another writer than the API owns (deployments come from no file yet).
    let other = server.other_store().await;
    let spec = serde_json::from_value(deployment_body()["spec"].clone()).expect("spec");
    other
        .put::<vedette_model::deployment::DeploymentSpec>(
            &vedette_model::Record::new("dep-file", spec).with_source(vedette_model::Source::File),
            None,
        )
        .await
        .expect("a deployment written by another writer");
    other.close().await;
    for id in ["ver", "ver-doomed"] {
        ok(server
            .put(&format!("/verifications/{id}"), &verification())
            .await);
    }
    for id in ["page", "page-doomed"] {
        ok(server
            .put(&format!("/status-pages/{id}"), &status_page(id))
            .await);
    }
    for id in ["dsc", "dsc-doomed"] {
        ok(server
            .put(
                &format!("/discovery-sources/{id}"),
                &discovery_source(&target_url),
            )
            .await);
    }
    for (id, enabled) in [("hook", true), ("hook-doomed", true), ("hook-off", false)] {
        let spec = json!({"spec": {"url": target_url, "enabled": enabled}});
        ok(server.put(&format!("/webhooks/{id}"), &spec).await);
    }
    ok(server
        .put(
            "/webhooks/hook-owned",
            &json!({"labels": {"managed-by": "operator"}, "spec": {"url": target_url, "enabled": false}}),
        )
        .await);
    let mut messages = Vec::new();
    for id in ["hook", "hook-doomed"] {
        let sent = ok(server
            .post(&format!("/webhooks/{id}/test"), &json!({}))
            .await);
        messages.push(
            sent.body["message_id"]
                .as_str()
                .expect("message")
                .to_owned(),
        );
    }
    // hook-doomed is disabled after its message was queued (and deleted by the last calls).
    ok(server
        .patch(
            "/webhooks/hook-doomed",
            &json!({"spec": {"enabled": false}}),
        )
        .await);
    let mut tokens = Vec::new();
    for scopes in [["write"], ["read"], ["read"]] {
        let created = ok(server
            .post("/tokens", &json!({"name": "contract", "scopes": scopes}))
            .await);
        tokens.push((
            created.body["token"].as_str().expect("secret").to_owned(),
            created.body["id"].as_str().expect("id").to_owned(),
        ));
    }
    let listed = ok(server.get("/tokens").await);
    let admin_token_id = listed.body["items"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["scopes"] == json!(["admin"]))
        .and_then(|t| t["id"].as_str())
        .expect("the bootstrap admin token")
        .to_owned();
    let fixtures = Fixtures {
        target_url,
        push_token,
        incident,
        message: messages[0].clone(),
        disabled_message: messages[1].clone(),
        doomed_token: tokens[2].1.clone(),
        admin_token_id,
    };
    (fixtures, tokens[0].0.clone(), tokens[1].0.clone())
}

async fn every_operation_answers_as_documented(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start_configured(kind, Some(CONFIG), |cfg| {
        cfg.webhook_allow_private = true;
        cfg.http.auth_failures_per_minute = 0;
        cfg.http.writes_per_second = 0;
    })
    .await;
    let served = reqwest::get(format!("http://{}/api/v1/openapi.json", server.addr))
        .await
        .expect("document");
    assert_eq!(served.status(), 200);
    let contract = Contract {
        doc: served.json().await.expect("JSON"),
    };
    let (fixtures, write, read) = fixtures(&server, &target).await;
    let mut harness = Harness {
        server,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        contract,
        write,
        read,
        seen: BTreeSet::new(),
        failures: Vec::new(),
    };

    let successes = successes(&fixtures);
    let declared: BTreeSet<String> = harness
        .contract
        .operations()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let covered: BTreeSet<String> = successes.iter().map(|c| c.op.clone()).collect();
    assert_eq!(
        declared, covered,
        "every declared operation has a successful call, and no other"
    );

    // Errors first: none of them changes anything the successes rely on.
    for success in &successes {
        let derived = harness.derived_errors(success);
        harness.run(&derived).await;
    }
    harness.run(&particular_errors(&fixtures)).await;
    for op in [
        "getMonitor",
        "getMaintenance",
        "getDeployment",
        "getWebhook",
        "getWebhook",
        "getVerification",
        "getStatusPage",
        "getDiscoverySource",
    ] {
        let id = match op {
            "getMonitor" => "web",
            "getMaintenance" => "mw",
            "getDeployment" => "dep",
            "getVerification" => "ver",
            "getStatusPage" => "page",
            "getDiscoverySource" => "dsc",
            _ => "hook",
        };
        let current = harness.call(&Call::new(op, &[id], 200)).await;
        let etag = current.header("etag").expect("ETag").to_owned();
        harness
            .call(&Call::new(op, &[id], 304).header("if-none-match", &etag))
            .await;
    }
    harness.run(&successes).await;

    // Once the failed-authentication budget of an address is spent, every operation that
    // needs a token answers 429.
    let limited = harness.limited(kind).await;
    let seen = std::mem::take(&mut harness.seen);
    harness.server.finish().await;
    let mut untried: Vec<String> = Vec::new();
    for (op, operation) in harness.contract.operations() {
        for status in operation["responses"]
            .as_object()
            .expect("responses")
            .keys()
        {
            let status: u16 = status.parse().expect("status");
            if !seen.contains(&(op.clone(), status)) && !limited.contains(&(op.clone(), status)) {
                untried.push(format!("{op} {status}"));
            }
        }
    }
    // What no test here provokes: a request over 30 s, a busy preview, a database that does not
    // answer, and other writers changing a webhook endpoint through every retry of a write;
    // nor a delete of a file-managed verification (verifications come only from the API).
    let contended = [
        "putWebhook 409",
        "patchWebhook 409",
        "rotateWebhookSecret 409",
        "deleteVerification 409",
    ];
    untried.retain(|u| {
        !u.ends_with(" 408") && !u.ends_with(" 503") && !contended.contains(&u.as_str())
    });
    assert!(
        harness.failures.is_empty(),
        "{} answers break the contract:\n{}",
        harness.failures.len(),
        harness.failures.join("\n")
    );
    assert!(
        untried.is_empty(),
        "declared but never answered: {untried:#?}"
    );
}

impl Harness {
    /// Calls every operation that needs a token on a server whose failed-authentication limit
    /// is spent; the (operation, status) pairs seen.
    async fn limited(&mut self, kind: Kind) -> BTreeSet<(String, u16)> {
        let strict = Server::start_configured(kind, None, |cfg| {
            cfg.http.auth_failures_per_minute = 1;
        })
        .await;
        let main = std::mem::replace(&mut self.server, strict);
        let forged = Call::new("getStatus", &[], 401).who(Who::Forged);
        self.call(&forged).await;
        let mut calls = Vec::new();
        for (op, operation) in self.contract.operations() {
            if operation["x-required-scope"].is_string() {
                let (_, template, _) = self.contract.operation(&op);
                let args: Vec<String> = template
                    .split('/')
                    .filter(|s| s.starts_with('{'))
                    .map(|_| UNKNOWN.to_owned())
                    .collect();
                calls.push(Call {
                    args,
                    ..Call::new(&op, &[], 429)
                });
            }
        }
        self.run(&calls).await;
        let strict = std::mem::replace(&mut self.server, main);
        strict.finish().await;
        self.seen
            .iter()
            .filter(|(_, s)| *s == 429)
            .cloned()
            .collect()
    }
}

#[test]
fn the_contract_refuses_undeclared_answers() {
    let contract = Contract {
        doc: vedette_server::api::openapi::document(),
    };
    let answer = |status: u16, content_type: &str, body: &str| Answer {
        status,
        content_type: Some(content_type.to_owned()),
        body: body.as_bytes().to_vec(),
    };
    let problem = r#"{"type": "https://vedette.dev/problems/not-found", "title": "Not found", "status": 404, "detail": "x"}"#;
    assert!(
        contract
            .check(
                "getMonitor",
                &answer(404, "application/problem+json", problem),
                false
            )
            .is_ok()
    );
    let undeclared = contract.check(
        "getStatus",
        &answer(404, "application/problem+json", problem),
        false,
    );
    assert!(
        undeclared
            .as_ref()
            .is_err_and(|e| e.contains("does not declare")),
        "{undeclared:?}"
    );
    let wrong_type = contract.check("getMonitor", &answer(404, "text/plain", "no"), false);
    assert!(wrong_type.is_err(), "{wrong_type:?}");
    let bad_body = contract.check(
        "getStatus",
        &answer(200, "application/json", r#"{"monitors": {}}"#),
        false,
    );
    assert!(
        bad_body
            .as_ref()
            .is_err_and(|e| e.contains("open_incidents")),
        "{bad_body:?}"
    );
    let body_on_204 = contract.check("deleteMonitor", &answer(204, "text/plain", "x"), false);
    assert!(body_on_204.is_err(), "{body_on_204:?}");
}
