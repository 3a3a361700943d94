//! Configuration as code: YAML (or JSON) documents in the Kubernetes-style envelope
//!
//! ```yaml
//! apiVersion: vedette.dev/v1
//! kind: Monitor            # or MaintenanceWindow, WebhookEndpoint, StatusPage, DiscoverySource
//! metadata: {id: payments-api, labels: {team: payments}}
//! spec: {...}
//! ```
//!
//! read from a string, a file or a directory, with every problem reported at its file, line and
//! field path; and written back out for `vedette export`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::Decoder;
use crate::discovery::DiscoverySourceSpec;
use crate::field_path::{self, Seg};
use crate::kinds::{
    DiscoverySourceKind, DocumentKind, IdSource, MaintenanceKind, MonitorKind, StatusPageKind,
    WebhookEndpointKind,
};
use crate::maintenance::MaintenanceSpec;
use crate::spec::MonitorSpec;
use crate::status_page::StatusPageSpec;
use crate::validate::{FieldError, check_id, check_label};

/// The `apiVersion` every document carries.
pub const API_VERSION: &str = "vedette.dev/v1";
/// The `kind` of a monitor document.
pub const KIND_MONITOR: &str = MonitorKind::KIND;
/// The `kind` of a maintenance window document.
pub const KIND_MAINTENANCE: &str = MaintenanceKind::KIND;
/// The `kind` of a webhook endpoint document.
pub const KIND_WEBHOOK_ENDPOINT: &str = WebhookEndpointKind::KIND;
/// The `kind` of a status page document.
pub const KIND_STATUS_PAGE: &str = StatusPageKind::KIND;
/// The `kind` of a discovery source document.
pub const KIND_DISCOVERY_SOURCE: &str = DiscoverySourceKind::KIND;
/// Largest file read, in bytes (4 MiB).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Most documents read from one file.
pub const MAX_DOCUMENTS: usize = 10_000;
/// Deepest directory nesting followed by [`load_path`].
pub const MAX_DIR_DEPTH: usize = 16;

const TOP_LEVEL_FIELDS: &str = "apiVersion, kind, metadata, spec";

/// The `metadata` block of a document.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Stable slug `[a-z0-9][a-z0-9._-]{0,127}`; derived from `spec.name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Labels for selection and ownership (e.g. `managed-by`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// One resource read from a document.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "resources are few and short-lived; plain fields keep matching on them simple"
)]
pub enum Resource {
    /// `kind: Monitor`.
    Monitor {
        /// The monitor's id.
        id: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
        /// What to check and how.
        spec: MonitorSpec,
    },
    /// `kind: MaintenanceWindow`.
    MaintenanceWindow {
        /// The window's id.
        id: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
        /// When it is active and which monitors it covers.
        spec: MaintenanceSpec,
    },
    /// `kind: WebhookEndpoint`. The spec is only checked to be a mapping here; the server
    /// validates it when it is written.
    WebhookEndpoint {
        /// The endpoint's id.
        id: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
        /// The endpoint spec (`url`, `event_types`, `secrets`, ...), as written.
        spec: Value,
    },
    /// `kind: StatusPage`.
    StatusPage {
        /// The page's id.
        id: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
        /// What the page shows.
        spec: StatusPageSpec,
    },
    /// `kind: DiscoverySource`.
    DiscoverySource {
        /// The source's id.
        id: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
        /// The gateway, filters and monitor template.
        spec: DiscoverySourceSpec,
    },
}

impl Resource {
    /// The resource's id.
    pub fn id(&self) -> &str {
        crate::with_kind!(self, K, (id, _, _) => id)
    }

    /// The document `kind`: `Monitor`, `MaintenanceWindow`, `WebhookEndpoint`, `StatusPage` or
    /// `DiscoverySource`.
    pub fn kind(&self) -> &'static str {
        crate::with_kind!(self, K, (_, _, _) => K::KIND)
    }

    /// The resource's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        crate::with_kind!(self, K, (_, labels, _) => labels)
    }

    /// The resource's labels, to change.
    pub fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
        crate::with_kind!(self, K, (_, labels, _) => labels)
    }
}

/// A resource and where it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The file it came from (as given, or found in the directory).
    pub file: PathBuf,
    /// 1-based first line of the document.
    pub line: usize,
    /// The resource.
    pub resource: Resource,
}

/// One problem found while loading documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct LoadError {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted field path such as `spec.http.url` or `metadata.id`; empty for syntax errors and
    /// problems with the file itself.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl LoadError {
    fn render(&self) -> String {
        let mut out = self.file.display().to_string();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
        }
        out.push_str(": ");
        if !self.field.is_empty() {
            out.push_str(&self.field);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }

    fn file_level(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: String::new(),
            message: message.into(),
        }
    }
}

/// Decodes a settings file that is not a resource document (the CLI's contexts file, say): one
/// YAML document as `T`, every problem at its line and field path in user terms, and the values
/// of credential fields never quoted.
pub fn decode_settings<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, Vec<LoadError>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![LoadError::file_level(
            file,
            format!("file is larger than {MAX_FILE_BYTES} bytes (4 MiB)"),
        )]);
    }
    let chunk = Chunk {
        first_line: 1,
        text: text.strip_prefix('\u{feff}').unwrap_or(text),
    };
    let doc = Document {
        file,
        chunk: &chunk,
    };
    let value = doc.parse_value(false).map_err(|e| vec![e])?;
    let mut decoder = Decoder::new();
    match decoder.decode::<T>(value, "") {
        Some(decoded) if decoder.is_empty() => Ok(decoded.value),
        _ => Err(doc.place(crate::decode::hide_secret_values(decoder.finish()))),
    }
}

/// Parses every document in `text` (YAML, several documents separated by `---`; JSON when `file`
/// ends in `.json`). `file` names the source in results and errors. Every error of every document
/// is collected; a bad document does not stop the others. Duplicate ids are errors.
pub fn parse_str(text: &str, file: &Path) -> (Vec<Loaded>, Vec<LoadError>) {
    let (loaded, mut errors) = parse_without_duplicates(text, file);
    let loaded = drop_duplicates(loaded, &mut errors);
    (loaded, errors)
}

/// Loads a file, or every `.yaml`, `.yml` and `.json` file under a directory (recursively, in
/// sorted order, skipping dotfiles). Duplicate ids across all files are errors naming both places.
pub fn load_path(path: &Path) -> (Vec<Loaded>, Vec<LoadError>) {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    let files = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let mut files = Vec::new();
            collect_files(path, 0, &mut files, &mut errors);
            files
        }
        Ok(_) => vec![path.to_path_buf()],
        Err(e) => {
            errors.push(LoadError::file_level(path, format!("cannot read: {e}")));
            return (loaded, errors);
        }
    };
    for file in files {
        match read_file(&file) {
            Ok(text) => {
                let (l, e) = parse_without_duplicates(&text, &file);
                loaded.extend(l);
                errors.extend(e);
            }
            Err(e) => errors.push(e),
        }
    }
    let loaded = drop_duplicates(loaded, &mut errors);
    (loaded, errors)
}

/// Writes resources as YAML documents (separated by `---`) that [`parse_str`] reads back to the
/// same resources.
pub fn to_documents(resources: &[Resource]) -> String {
    #[derive(Serialize)]
    struct Envelope<'a, S> {
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        kind: &'a str,
        metadata: Metadata,
        spec: &'a S,
    }
    fn one<S: Serialize>(
        kind: &str,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &S,
    ) -> String {
        let doc = Envelope {
            api_version: API_VERSION,
            kind,
            metadata: Metadata {
                id: Some(id.to_owned()),
                labels: labels.clone(),
            },
            spec,
        };
        serde_saphyr::to_string(&doc)
            .unwrap_or_else(|e| format!("# {kind} {id:?} could not be written: {e}\n"))
    }
    let mut out = String::new();
    for resource in resources {
        out.push_str("---\n");
        let text =
            crate::with_kind!(resource, K, (id, labels, spec) => one(K::KIND, id, labels, spec));
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Derives an id from a display name: lowercase, runs of other characters than `a-z0-9` become
/// `-`, no leading or trailing `-`, at most 128 characters. Empty when nothing is left.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 128 {
            break;
        }
    }
    slug.truncate(128);
    slug.trim_end_matches('-').to_owned()
}

fn read_file(file: &Path) -> Result<String, LoadError> {
    let handle = std::fs::File::open(file)
        .map_err(|e| LoadError::file_level(file, format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::file_level(file, format!("cannot read: {e}")))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(LoadError::file_level(
            file,
            format!("file is larger than {MAX_FILE_BYTES} bytes (4 MiB)"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| LoadError::file_level(file, format!("not UTF-8 text: {e}")))
}

fn is_config_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yaml" | "yml" | "json")
    )
}

fn collect_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    if depth > MAX_DIR_DEPTH {
        errors.push(LoadError::file_level(
            dir,
            format!("directories nested deeper than {MAX_DIR_DEPTH} levels are not read"),
        ));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(LoadError::file_level(
                dir,
                format!("cannot read directory: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_files(&path, depth + 1, files, errors);
        } else if is_config_file(&path) {
            files.push(path);
        }
    }
}

/// Keeps the first resource of each (kind, id) and reports the others.
fn drop_duplicates(mut loaded: Vec<Loaded>, errors: &mut Vec<LoadError>) -> Vec<Loaded> {
    // Index of the first item of each kind and id; later ones are dropped in place.
    let mut first: HashMap<(&'static str, &str), usize> = HashMap::new();
    let mut duplicate = vec![false; loaded.len()];
    for (i, item) in loaded.iter().enumerate() {
        let key = (item.resource.kind(), item.resource.id());
        let Some(&at) = first.get(&key) else {
            first.insert(key, i);
            continue;
        };
        duplicate[i] = true;
        errors.push(LoadError {
            file: item.file.clone(),
            line: Some(item.line),
            column: None,
            field: "metadata.id".to_owned(),
            message: format!(
                "duplicate {} id {:?}: also defined at {}:{}",
                key.0,
                key.1,
                loaded[at].file.display(),
                loaded[at].line
            ),
        });
    }
    drop(first);
    let mut dropped = duplicate.into_iter();
    loaded.retain(|_| !dropped.next().unwrap_or(false));
    loaded
}

fn parse_without_duplicates(text: &str, file: &Path) -> (Vec<Loaded>, Vec<LoadError>) {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    if text.len() > MAX_FILE_BYTES {
        errors.push(LoadError::file_level(
            file,
            format!("file is larger than {MAX_FILE_BYTES} bytes (4 MiB)"),
        ));
        return (loaded, errors);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let documents = if json {
        vec![Chunk {
            first_line: 1,
            text,
        }]
    } else {
        split_documents(text)
    };
    let mut count = 0;
    for chunk in documents {
        if chunk.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_DOCUMENTS {
            errors.push(LoadError {
                file: file.to_path_buf(),
                line: Some(chunk.first_line),
                column: None,
                field: String::new(),
                message: format!("too many documents: at most {MAX_DOCUMENTS} per file"),
            });
            break;
        }
        let doc = Document {
            file,
            chunk: &chunk,
        };
        match doc.parse_value(json) {
            Ok(value) => match doc.resource(value) {
                Ok(resource) => loaded.push(Loaded {
                    file: file.to_path_buf(),
                    line: chunk.content_line(),
                    resource,
                }),
                Err(problems) => errors.extend(problems),
            },
            Err(e) => errors.push(e),
        }
    }
    (loaded, errors)
}

/// The text of one document and the file line it starts at.
struct Chunk<'a> {
    first_line: usize,
    text: &'a str,
}

fn is_marker(line: &str) -> bool {
    ["---", "..."].iter().any(|m| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
    })
}

/// Lines that carry no content: blank, comments, directives and bare document markers.
fn is_filler(line: &str) -> bool {
    let rest = if is_marker(line) { &line[3..] } else { line };
    let trimmed = rest.trim();
    trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%')
}

impl Chunk<'_> {
    fn is_empty(&self) -> bool {
        self.text.lines().all(is_filler)
    }

    /// 1-based file line of the first line with content.
    fn content_line(&self) -> usize {
        let offset = self.text.lines().position(|l| !is_filler(l)).unwrap_or(0);
        self.first_line + offset
    }
}

/// Splits YAML text at `---` lines. A document marker at column 0 cannot occur inside the
/// content of a mapping document, so this split matches the parser's.
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i > 0 && line.starts_with("---") && is_marker(line.trim_end_matches('\n')) {
            chunks.push(Chunk {
                first_line: start_line,
                text: &text[start..offset],
            });
            start = offset;
            start_line = i + 1;
        }
        offset += line.len();
    }
    chunks.push(Chunk {
        first_line: start_line,
        text: &text[start..],
    });
    chunks
}

fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 32,
            max_nodes: 100_000,
            max_documents: 1,
            max_total_scalar_bytes: MAX_FILE_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 16,
        },
    }
}

/// One document being turned into a resource.
struct Document<'a> {
    file: &'a Path,
    chunk: &'a Chunk<'a>,
}

impl Document<'_> {
    fn syntax_error(
        &self,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    ) -> LoadError {
        LoadError {
            file: self.file.to_path_buf(),
            line: line.map(|l| self.chunk.first_line + l.saturating_sub(1)),
            column,
            field: String::new(),
            message,
        }
    }

    fn parse_value(&self, json: bool) -> Result<Value, LoadError> {
        if json {
            return serde_json::from_str(self.chunk.text).map_err(|e| {
                self.syntax_error(
                    Some(e.line()),
                    Some(e.column()),
                    format!("invalid JSON: {e}"),
                )
            });
        }
        serde_saphyr::from_str_with_options::<Value>(self.chunk.text, yaml_options()).map_err(|e| {
            use serde_saphyr::MessageFormatter;
            let message: String = serde_saphyr::DefaultMessageFormatter
                .format_message(&e)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let location = e.location();
            self.syntax_error(
                location.map(|l| l.line() as usize),
                location.map(|l| l.column() as usize),
                format!("invalid YAML: {message}"),
            )
        })
    }

    /// Places each problem on the line of its field (the document's first line when the field
    /// is not found), in line order.
    fn place(&self, problems: Vec<FieldError>) -> Vec<LoadError> {
        let lines = outline(self.chunk.text);
        let mut placed: Vec<LoadError> = problems
            .into_iter()
            .map(|p| {
                let (line, column) = locate(&lines, &field_path::parse(&p.field))
                    .map(|(l, c)| (self.chunk.first_line + l, Some(c)))
                    .unwrap_or((self.chunk.content_line(), None));
                LoadError {
                    file: self.file.to_path_buf(),
                    line: Some(line),
                    column,
                    field: p.field,
                    message: p.message,
                }
            })
            .collect();
        placed.sort_by_key(|e| e.line);
        placed
    }

    fn resource(&self, value: Value) -> Result<Resource, Vec<LoadError>> {
        let mut decoder = Decoder::new();
        let resource = build(value, &mut decoder);
        match resource {
            Some(r) if decoder.is_empty() => Ok(r),
            _ => Err(self.place(decoder.finish())),
        }
    }
}

/// How a value is named in an error: a string quoted, a number as is, `a list`, `a mapping`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".to_owned(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

/// Checks the envelope and builds the resource, recording every problem found.
fn build(value: Value, decoder: &mut Decoder) -> Option<Resource> {
    let Value::Object(mut map) = value else {
        decoder.add(
            "",
            format!(
                "expected a mapping with {TOP_LEVEL_FIELDS}, got {}",
                describe(&value)
            ),
        );
        return None;
    };
    match map.remove("apiVersion") {
        None => decoder.add("apiVersion", format!("required: expected {API_VERSION:?}")),
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(other) => decoder.add(
            "apiVersion",
            format!("expected {API_VERSION:?}, got {}", describe(&other)),
        ),
    }
    let kinds = crate::kinds::names().join(", ");
    let kind = match map.remove("kind") {
        None => {
            decoder.add("kind", format!("required: expected one of {kinds}"));
            None
        }
        Some(Value::String(k)) if crate::kinds::names().contains(&k.as_str()) => Some(k),
        Some(other) => {
            decoder.add(
                "kind",
                format!("expected one of {kinds}, got {}", describe(&other)),
            );
            None
        }
    };
    let metadata = map.remove("metadata");
    let spec = map.remove("spec");
    for key in map.keys() {
        decoder.add(
            key.clone(),
            format!("unknown field, expected one of {TOP_LEVEL_FIELDS}"),
        );
    }
    let metadata: Option<Metadata> = match metadata {
        None | Some(Value::Null) => Some(Metadata::default()),
        Some(v) => decoder.decode(v, "metadata").map(|d| d.value),
    };
    if let Some(meta) = &metadata {
        if let Some(id) = &meta.id
            && let Err(message) = check_id(id)
        {
            decoder.add("metadata.id", message);
        }
        for (key, value) in &meta.labels {
            if let Err(message) = check_label(key, value) {
                decoder.add(format!("metadata.labels.{key}"), message);
            }
        }
    }
    let Some(spec) = spec else {
        decoder.add("spec", "required");
        return None;
    };
    let kind = kind?;
    let mut parts = Some((spec, metadata));
    let mut built = None;
    crate::for_each_kind!(K => if kind == K::KIND && let Some((spec, metadata)) = parts.take() {
        built = build_kind::<K>(spec, metadata, decoder);
    });
    built
}

/// The resource of kind `K` from its spec and metadata, recording every problem.
fn build_kind<K: DocumentKind>(
    spec: Value,
    metadata: Option<Metadata>,
    decoder: &mut Decoder,
) -> Option<Resource> {
    let spec = K::decode(spec, decoder)?;
    let id = match K::id_source(&spec) {
        IdSource::Name(name) => resolve_id(metadata.as_ref(), name, decoder)?,
        IdSource::Required => match metadata.as_ref().map(|m| m.id.clone()) {
            Some(Some(id)) => id,
            Some(None) => {
                decoder.add("metadata.id", "required");
                return None;
            }
            None => return None,
        },
    };
    Some(K::resource(id, metadata?.labels, spec))
}

/// The id of a resource: `metadata.id`, else derived from `spec.name`.
fn resolve_id(
    metadata: Option<&Metadata>,
    name: Option<&str>,
    decoder: &mut Decoder,
) -> Option<String> {
    let metadata = metadata?;
    if let Some(id) = &metadata.id {
        return Some(id.clone());
    }
    match name {
        None => {
            decoder.add("metadata.id", "required when spec.name is absent");
            None
        }
        Some(name) => {
            let slug = slugify(name);
            if slug.is_empty() {
                decoder.add(
                    "metadata.id",
                    format!(
                        "required: no id can be derived from spec.name {:?}",
                        name.chars().take(64).collect::<String>()
                    ),
                );
                None
            } else {
                Some(slug)
            }
        }
    }
}

/// One line with content, for finding fields by indentation.
struct OutlineLine<'a> {
    /// 0-based line in the document.
    index: usize,
    /// Leading spaces.
    indent: usize,
    /// Column where the content starts after any `- ` sequence markers.
    inner: usize,
    /// Whether the line starts a sequence item.
    dash: bool,
    /// The content after indentation and sequence markers.
    content: &'a str,
}

fn outline(text: &str) -> Vec<OutlineLine<'_>> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if is_filler(line) || is_marker(line) {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut content = &line[indent..];
        let mut dash = false;
        while let Some(rest) = content
            .strip_prefix('-')
            .filter(|r| r.is_empty() || r.starts_with(' '))
        {
            dash = true;
            content = rest.trim_start_matches(' ');
        }
        out.push(OutlineLine {
            index,
            indent,
            inner: line.len() - content.len(),
            dash,
            content,
        });
    }
    out
}

/// The mapping key a line starts with (`key:`, `"key":`, `'key':`).
fn key_of(content: &str) -> Option<&str> {
    let (key, rest) = match content.chars().next()? {
        q @ ('"' | '\'') => {
            let end = content[1..].find(q)? + 1;
            (&content[1..end], content[end + 1..].trim_start())
        }
        _ => {
            let colon = content
                .find(": ")
                .or_else(|| content.strip_suffix(':').map(str::len))?;
            (content[..colon].trim_end(), &content[colon..])
        }
    };
    rest.starts_with(':').then_some(key)
}

/// The lines of the block under `lines[at]` (deeper lines, or a sequence at the same indent).
fn children<'a, 'b>(lines: &'b [OutlineLine<'a>], at: usize) -> &'b [OutlineLine<'a>] {
    let column = lines[at].inner;
    let end = lines[at + 1..]
        .iter()
        .position(|l| !(l.indent > column || (l.indent == column && l.dash)))
        .map_or(lines.len(), |p| at + 1 + p);
    &lines[at + 1..end]
}

/// The (0-based line, 1-based column) of the deepest part of `path` found in the outline.
fn locate(lines: &[OutlineLine<'_>], path: &[Seg]) -> Option<(usize, usize)> {
    let mut region = lines;
    let mut found = None;
    let mut i = 0;
    while i < path.len() {
        match &path[i] {
            Seg::Index(n) => {
                let Some(base) = region.iter().map(|l| l.indent).min() else {
                    break;
                };
                let items: Vec<usize> = (0..region.len())
                    .filter(|&j| region[j].dash && region[j].indent == base)
                    .collect();
                let Some(&at) = items.get(*n) else { break };
                found = Some((region[at].index, region[at].inner + 1));
                let end = region[at + 1..]
                    .iter()
                    .position(|l| l.indent <= region[at].indent)
                    .map_or(region.len(), |p| at + 1 + p);
                region = &region[at..end];
                i += 1;
            }
            Seg::Key(_) => {
                let Some(column) = region
                    .iter()
                    .filter(|l| key_of(l.content).is_some())
                    .map(|l| l.inner)
                    .min()
                else {
                    break;
                };
                let mut matched = None;
                let mut joined = String::new();
                for (j, seg) in path.iter().enumerate().skip(i) {
                    let Seg::Key(k) = seg else { break };
                    if j > i {
                        joined.push('.');
                    }
                    joined.push_str(k);
                    if let Some(at) = region.iter().position(|l| {
                        l.inner == column && key_of(l.content) == Some(joined.as_str())
                    }) {
                        matched = Some((at, j));
                        break;
                    }
                }
                let Some((at, j)) = matched else { break };
                found = Some((region[at].index, region[at].inner + 1));
                region = children(region, at);
                i = j + 1;
            }
        }
    }
    found
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Payments API (prod)"), "payments-api-prod");
        assert_eq!(slugify("  --Ünïcode  name--"), "n-code-name");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify(&"a".repeat(300)).len(), 128);
        assert_eq!(slugify(&format!("{}-b", "a".repeat(127))), "a".repeat(127));
    }

    #[test]
    fn field_paths_and_outline() {
        let text = "apiVersion: x\nspec:\n  http:\n    url: a\n  assertions:\n  - one\n  - two\n  items:\n    - name: a\n      port: 1\n    - name: b\n      port: 2\nmetadata:\n  labels:\n    app.kubernetes.io/name: x\n";
        let lines = outline(text);
        let at = |f: &str| locate(&lines, &field_path::parse(f)).map(|(l, _)| l + 1);
        assert_eq!(at("spec.http.url"), Some(4));
        assert_eq!(at("spec.http.nope"), Some(3));
        assert_eq!(at("spec.assertions[1]"), Some(7));
        assert_eq!(at("spec.items[1].port"), Some(12));
        assert_eq!(at("spec.items[1].name"), Some(11));
        assert_eq!(at("metadata.labels.app.kubernetes.io/name"), Some(15));
        assert_eq!(at("kind"), None);
        let json = "{\n  \"spec\": {\n    \"http\": {\n      \"url\": 1\n    }\n  }\n}\n";
        assert_eq!(
            locate(&outline(json), &field_path::parse("spec.http.url")),
            Some((3, 7))
        );
    }

    #[test]
    fn webhook_endpoints_parse_round_trip_and_report_field_paths() {
        let text = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  id: ops\n  labels: {team: ops}\nspec:\n  url: http://127.0.0.1:9/x\n  enabled: false\n---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: ops}\nspec:\n  http: {url: \"http://a/\"}\n";
        let (loaded, errors) = parse_str(text, Path::new("w.yaml"));
        assert!(errors.is_empty(), "{errors:?}");
        // The same id in another kind is no duplicate.
        assert_eq!(loaded.len(), 2);
        let Resource::WebhookEndpoint { id, labels, spec } = &loaded[0].resource else {
            panic!("{:?}", loaded[0].resource);
        };
        assert_eq!(id, "ops");
        assert_eq!(labels.get("team").map(String::as_str), Some("ops"));
        assert_eq!(spec["url"], "http://127.0.0.1:9/x");
        assert_eq!(loaded[0].resource.kind(), KIND_WEBHOOK_ENDPOINT);
        assert_eq!(loaded[0].resource.to_string(), "WebhookEndpoint ops");
        let written = to_documents(&[loaded[0].resource.clone()]);
        assert!(written.contains("kind: WebhookEndpoint"), "{written}");
        let (again, errors) = parse_str(&written, Path::new("again.yaml"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(again[0].resource, loaded[0].resource);

        let dup = format!("{text}---\n{}", &text[..text.find("---").unwrap()]);
        let (_, errors) = parse_str(&dup, Path::new("d.yaml"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].message.contains("duplicate WebhookEndpoint id"),
            "{errors:?}"
        );
        assert_eq!(errors[0].line, Some(16));

        let bad = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  labels: {team: ops}\nspec: [1]\n";
        let (_, errors) = parse_str(bad, Path::new("b.yaml"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "spec");
        assert_eq!(errors[0].line, Some(5));
        assert!(
            errors[0].message.contains("expected a mapping"),
            "{errors:?}"
        );
        let no_id = "apiVersion: vedette.dev/v1\nkind: WebhookEndpoint\nmetadata:\n  labels: {team: ops}\nspec:\n  url: http://x/\n";
        let (_, errors) = parse_str(no_id, Path::new("n.yaml"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "metadata.id");
        assert_eq!(errors[0].line, Some(3));
        let (_, errors) = parse_str(
            "apiVersion: vedette.dev/v1\nkind: Webhook\nmetadata: {id: x}\nspec: {}\n",
            Path::new("k.yaml"),
        );
        assert!(errors[0].message.contains("WebhookEndpoint"), "{errors:?}");
    }
}
