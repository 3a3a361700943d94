//! The integration catalog: one YAML manifest per integration (Slack, PagerDuty, ...), shipped
//! in `catalog/` and embedded in the binary, plus extra directories loaded at run time.
//!
//! A manifest is data, not code:
//!
//! ```yaml
//! name: slack                      # slug, unique in the catalog
//! title: Slack
//! description: Post to a Slack channel through an incoming webhook.
//! category: chat                   # chat, paging, push, automation, generic
//! docs: |                          # Markdown shown to users
//!   ...
//! parameters:                      # JSON Schema of the endpoint's `integration.params`
//!   type: object
//!   required: [webhook_url]
//!   properties:
//!     webhook_url: {type: string, format: uri, x-secret: true}
//! example: {webhook_url: "https://hooks.slack.com/services/T0/B0/XXXX"}
//! event_types: ["*"]               # types it handles (patterns); others are not delivered
//! requires: []                     # event data fields (dotted paths) an event must carry;
//!                                  # events without them are not delivered (e.g. `deployment`)
//! method: POST                     # default POST
//! url: "{{ params.webhook_url }}"  # template
//! content_type: application/json   # default application/json
//! headers: {}                      # name -> template; a header rendering empty is left out
//! body:                            # template per event type, `default` for the rest
//!   default: |
//!     {"text": {{ summary | json }}}
//! ```
//!
//! Templates render against [`crate::templates::context`]. Parameters are validated with a
//! JSON Schema subset: `type` (object, string, integer, number, boolean, array), `properties`,
//! `required`, `enum`, `pattern`, `minLength`, `maxLength`, `minimum`, `maximum`, `items`,
//! `additionalProperties`, `default`, `format: uri` (absolute http or https); parameters not
//! in `properties` are refused unless `additionalProperties` allows them. A property
//! marked `x-secret: true` is redacted in API answers and delivery logs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::Event;

use crate::templates::{Engine, TemplateError, context};
use vedette_model::webhook::type_pattern_matches;

/// Manifests shipped with Vedette, embedded at build time.
const BUILTIN: &[(&str, &str)] = &[
    ("alertmanager", include_str!("../catalog/alertmanager.yaml")),
    (
        "azure_devops_pipeline_run",
        include_str!("../catalog/azure_devops_pipeline_run.yaml"),
    ),
    ("cloudevents", include_str!("../catalog/cloudevents.yaml")),
    ("discord", include_str!("../catalog/discord.yaml")),
    ("generic", include_str!("../catalog/generic.yaml")),
    (
        "github_commit_status",
        include_str!("../catalog/github_commit_status.yaml"),
    ),
    (
        "github_repository_dispatch",
        include_str!("../catalog/github_repository_dispatch.yaml"),
    ),
    (
        "gitlab_commit_status",
        include_str!("../catalog/gitlab_commit_status.yaml"),
    ),
    (
        "gitlab_pipeline_trigger",
        include_str!("../catalog/gitlab_pipeline_trigger.yaml"),
    ),
    ("google_chat", include_str!("../catalog/google_chat.yaml")),
    ("gotify", include_str!("../catalog/gotify.yaml")),
    (
        "home_assistant",
        include_str!("../catalog/home_assistant.yaml"),
    ),
    (
        "jenkins_build",
        include_str!("../catalog/jenkins_build.yaml"),
    ),
    ("matrix", include_str!("../catalog/matrix.yaml")),
    ("mattermost", include_str!("../catalog/mattermost.yaml")),
    ("ntfy", include_str!("../catalog/ntfy.yaml")),
    ("opsgenie", include_str!("../catalog/opsgenie.yaml")),
    ("pagerduty", include_str!("../catalog/pagerduty.yaml")),
    ("pushover", include_str!("../catalog/pushover.yaml")),
    ("rocketchat", include_str!("../catalog/rocketchat.yaml")),
    ("slack", include_str!("../catalog/slack.yaml")),
    (
        "splunk_oncall",
        include_str!("../catalog/splunk_oncall.yaml"),
    ),
    ("teams", include_str!("../catalog/teams.yaml")),
    ("telegram", include_str!("../catalog/telegram.yaml")),
    ("webex", include_str!("../catalog/webex.yaml")),
    ("zulip", include_str!("../catalog/zulip.yaml")),
];

/// Largest manifest file accepted from a directory, in bytes.
const MAX_MANIFEST_BYTES: u64 = 256 * 1024;

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("integration manifest {origin}: {message}")]
    Invalid {
        /// File name or built-in name.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// One integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Slug, unique in the catalog.
    pub name: String,
    /// Display name.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// `chat`, `paging`, `push`, `automation` or `generic`.
    pub category: String,
    /// Markdown documentation: where to get the parameters, what arrives.
    pub docs: String,
    /// JSON Schema of the parameters.
    pub parameters: Value,
    /// Example parameters (used by golden tests and shown in docs).
    pub example: Value,
    /// Event types handled (patterns); events of other types are not delivered.
    #[serde(default = "all_types")]
    pub event_types: Vec<String>,
    /// Fields of the event's `data` (dotted paths, e.g. `deployment.id`) an event must carry,
    /// not null, to be delivered: a `monitor.down` that followed no deployment is skipped by a
    /// rollback trigger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// HTTP method.
    #[serde(default = "post")]
    pub method: String,
    /// URL template.
    pub url: String,
    /// `Content-Type` of the body.
    #[serde(default = "json_type")]
    pub content_type: String,
    /// Header templates; a header that renders empty is left out.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body template per event type; `default` for the others.
    pub body: BTreeMap<String, String>,
}

fn all_types() -> Vec<String> {
    vec!["*".to_owned()]
}

fn post() -> String {
    "POST".to_owned()
}

fn json_type() -> String {
    "application/json".to_owned()
}

/// A request ready to send (before signing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedRequest {
    /// HTTP method.
    pub method: String,
    /// Target URL.
    pub url: String,
    /// Headers from the template or integration (not auth or signature headers).
    pub headers: Vec<(String, String)>,
    /// `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: String,
}

/// One parameter problem: a JSON path suffix (`.webhook_url`, `.tags[1]`) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// Where, relative to the parameters object (empty for the object itself).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Manifest {
    /// Whether the integration handles events of this type.
    pub fn supports(&self, event_type: &str) -> bool {
        self.event_types
            .iter()
            .any(|p| type_pattern_matches(p, event_type))
    }

    /// Whether the integration handles `event`: its type, and the data fields it
    /// [`requires`](Self::requires).
    pub fn handles(&self, event: &Event) -> bool {
        self.supports(event.event_type.as_str())
            && self.requires.iter().all(|path| {
                path.split('.')
                    .try_fold(&event.data, |value, key| value.get(key))
                    .is_some_and(|v| !v.is_null())
            })
    }

    /// Names of the parameters marked `x-secret: true`.
    pub fn secret_params(&self) -> Vec<&str> {
        self.parameters
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, s)| s.get("x-secret").and_then(Value::as_bool) == Some(true))
                    .map(|(k, _)| k.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Validates `params` against the schema; answers them with defaults filled in.
    pub fn validate_params(&self, params: &Value) -> Result<Value, Vec<ParamError>> {
        let mut errors = Vec::new();
        let mut filled = params.clone();
        validate(&self.parameters, &mut filled, "", &mut errors);
        if errors.is_empty() {
            Ok(filled)
        } else {
            Err(errors)
        }
    }

    /// The body template used for `event_type`.
    pub fn body_template(&self, event_type: &str) -> Option<&str> {
        self.body
            .get(event_type)
            .or_else(|| self.body.get("default"))
            .map(String::as_str)
    }

    /// Renders the request for `event` with (validated) `params`. JSON bodies are checked and
    /// re-encoded compactly.
    pub fn render(
        &self,
        engine: &Engine,
        event: &Event,
        params: &Value,
    ) -> Result<RenderedRequest, TemplateError> {
        let ctx = context(event, params);
        let url = engine.render(&self.url, &ctx)?.trim().to_owned();
        let mut headers = Vec::new();
        for (name, template) in &self.headers {
            let value = engine.render(template, &ctx)?.trim().to_owned();
            if !value.is_empty() {
                headers.push((name.clone(), value));
            }
        }
        let template = self
            .body_template(event.event_type.as_str())
            .unwrap_or("{{ event | json }}");
        let body = if is_json(&self.content_type) {
            engine.render_json(template, &ctx)?.to_string()
        } else {
            engine.render(template, &ctx)?.trim().to_owned()
        };
        Ok(RenderedRequest {
            method: self.method.clone(),
            url,
            headers,
            content_type: self.content_type.clone(),
            body,
        })
    }

    /// Checks the manifest itself: name, templates, schema and example.
    fn check(&self, engine: &Engine) -> Result<(), String> {
        let slug_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !slug_ok {
            return Err(format!("name {:?} is not a slug [a-z0-9_-]", self.name));
        }
        if http::Method::from_bytes(self.method.as_bytes()).is_err() {
            return Err(format!("method {:?} is not an HTTP method", self.method));
        }
        if self.parameters.get("type").and_then(Value::as_str) != Some("object") {
            return Err("parameters must be a JSON Schema of type object".to_owned());
        }
        let templates = std::iter::once(("url".to_owned(), &self.url))
            .chain(
                self.headers
                    .iter()
                    .map(|(k, v)| (format!("headers.{k}"), v)),
            )
            .chain(self.body.iter().map(|(k, v)| (format!("body.{k}"), v)));
        for (field, source) in templates {
            engine.check(source).map_err(|e| format!("{field}: {e}"))?;
        }
        if let Some(bad) = self
            .requires
            .iter()
            .find(|p| p.is_empty() || p.split('.').any(str::is_empty))
        {
            return Err(format!(
                "requires: {bad:?} is not a dotted path of data fields"
            ));
        }
        if !self.body.contains_key("default") {
            return Err("body needs a `default` template".to_owned());
        }
        self.validate_params(&self.example).map_err(|errors| {
            let text: Vec<String> = errors
                .iter()
                .map(|e| format!("example{}: {}", e.path, e.message))
                .collect();
            text.join("; ")
        })?;
        Ok(())
    }
}

fn is_json(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    base == "application/json" || base.ends_with("+json")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn validate(schema: &Value, value: &mut Value, path: &str, errors: &mut Vec<ParamError>) {
    let mut fail = |message: String| {
        errors.push(ParamError {
            path: path.to_owned(),
            message,
        });
    };
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let found = type_name(value);
        let ok = found == expected || (expected == "number" && found == "integer");
        if !ok {
            fail(format!("expected {expected}, found {found}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let names: Vec<String> = options.iter().map(Value::to_string).collect();
        fail(format!("must be one of {}", names.join(", ")));
    }
    match value {
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                fail(format!("at least {min} characters"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                fail(format!("at most {max} characters"));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                match regex::Regex::new(pattern) {
                    Ok(re) if re.is_match(s) => {}
                    Ok(_) => fail(format!("must match {pattern}")),
                    Err(_) => fail(format!("schema pattern {pattern:?} is not a valid regex")),
                }
            }
            if schema.get("format").and_then(Value::as_str) == Some("uri")
                && let Err(message) = vedette_model::webhook::check_url(s)
            {
                fail(format!("must be an http(s) URL: {message}"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                fail(format!("at least {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                fail(format!("at most {max}"));
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    validate(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties");
            for (name, v) in map.iter_mut() {
                if props.is_some_and(|p| p.contains_key(name)) {
                    continue;
                }
                match extra {
                    Some(Value::Object(_)) => {
                        if let Some(extra) = extra {
                            validate(extra, v, &format!("{path}.{name}"), errors);
                        }
                    }
                    Some(Value::Bool(true)) => {}
                    _ if props.is_none() && extra.is_none() => {}
                    _ => errors.push(ParamError {
                        path: format!("{path}.{name}"),
                        message: "unknown parameter".to_owned(),
                    }),
                }
            }
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        errors.push(ParamError {
                            path: format!("{path}.{name}"),
                            message: "required".to_owned(),
                        });
                    }
                }
            }
            if let Some(props) = props {
                for (name, prop) in props {
                    match map.get_mut(name) {
                        Some(v) => validate(prop, v, &format!("{path}.{name}"), errors),
                        None => {
                            if let Some(default) = prop.get("default") {
                                map.insert(name.clone(), default.clone());
                            }
                        }
                    }
                }
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Every integration known to this server.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    manifests: BTreeMap<String, Manifest>,
}

impl Catalog {
    /// The integrations shipped with Vedette.
    pub fn builtin() -> Result<Self, CatalogError> {
        let engine = Engine::default();
        let mut catalog = Self::default();
        for (origin, text) in BUILTIN {
            catalog.add(parse_manifest(origin, text, &engine)?);
        }
        Ok(catalog)
    }

    /// Loads every `*.yaml`, `*.yml` and `*.json` manifest in `dir`; a manifest named like an
    /// existing one replaces it (so a deployment can customise a shipped integration). Returns
    /// how many were loaded.
    pub fn load_dir(&mut self, dir: &Path) -> Result<usize, CatalogError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CatalogError::Io { path, source }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            })
            .collect();
        files.sort();
        let engine = Engine::default();
        let mut loaded = Vec::new();
        for path in &files {
            let size = std::fs::metadata(path).map_err(io(path))?.len();
            let origin = path.display().to_string();
            if size > MAX_MANIFEST_BYTES {
                return Err(CatalogError::Invalid {
                    origin,
                    message: format!("{size} bytes; at most {MAX_MANIFEST_BYTES} allowed"),
                });
            }
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            loaded.push(parse_manifest(&origin, &text, &engine)?);
        }
        let count = loaded.len();
        for m in loaded {
            self.add(m);
        }
        Ok(count)
    }

    fn add(&mut self, manifest: Manifest) {
        self.manifests.insert(manifest.name.clone(), manifest);
    }

    /// The integration called `name`.
    pub fn get(&self, name: &str) -> Option<&Manifest> {
        self.manifests.get(name)
    }

    /// Every integration, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Manifest> {
        self.manifests.values()
    }

    /// How many integrations the catalog holds.
    pub fn len(&self) -> usize {
        self.manifests.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.manifests.is_empty()
    }
}

/// Parses and checks one manifest (YAML, of which JSON is a subset).
pub fn parse_manifest(origin: &str, text: &str, engine: &Engine) -> Result<Manifest, CatalogError> {
    let invalid = |message: String| CatalogError::Invalid {
        origin: origin.to_owned(),
        message,
    };
    let manifest: Manifest = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
    manifest.check(engine).map_err(invalid)?;
    Ok(manifest)
}
