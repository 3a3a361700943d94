//! Write bodies of versioned resources (monitors, maintenance windows):
//! `{"id"?, "labels"?, "spec"}`, read-only fields ignored so a `GET` body can be sent back,
//! unknown fields refused, every problem reported at its field path; and JSON Merge Patch.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::validate::{check_id, check_label};
use vedette_model::{FieldError, MonitorSpec};

use super::problem::{ApiResult, Problem};

/// Fields a response carries that a write ignores.
const READ_ONLY: [&str; 6] = [
    "status",
    "version",
    "managed_by",
    "created_at",
    "updated_at",
    "active",
];

/// A spec type a resource body carries.
pub trait Spec: DeserializeOwned + Serialize {
    /// Every semantic problem, at paths under `prefix`.
    fn problems(&self, prefix: &str) -> Vec<FieldError>;
}

impl Spec for MonitorSpec {
    fn problems(&self, prefix: &str) -> Vec<FieldError> {
        self.validate(prefix)
    }
}

impl Spec for MaintenanceSpec {
    fn problems(&self, prefix: &str) -> Vec<FieldError> {
        self.validate(prefix)
    }
}

/// A valid write body.
#[derive(Debug, Clone)]
pub struct Envelope<T> {
    /// The id in the body, if any.
    pub id: Option<String>,
    /// Labels (empty when absent).
    pub labels: BTreeMap<String, String>,
    /// The spec, type-checked and validated.
    pub spec: T,
}

/// Parses and validates a write body; 422 listing every problem found.
pub fn parse<T: Spec>(body: Value) -> ApiResult<Envelope<T>> {
    let mut errors = Vec::new();
    let Value::Object(map) = body else {
        return Err(Problem::invalid(
            "",
            "expected a JSON object with labels and spec",
        ));
    };
    let mut id = None;
    let mut labels = BTreeMap::new();
    let mut spec = None;
    let mut spec_seen = false;
    for (key, value) in map {
        match key.as_str() {
            "id" => match value {
                Value::String(s) => match check_id(&s) {
                    Ok(()) => id = Some(s),
                    Err(message) => errors.push(FieldError::new("id", message)),
                },
                Value::Null => {}
                _ => errors.push(FieldError::new("id", "expected a string")),
            },
            "labels" if value.is_null() => {}
            "labels" => {
                if let Some(parsed) =
                    typed::<BTreeMap<String, String>>(value, "labels", &mut errors)
                {
                    for (k, v) in &parsed {
                        if let Err(message) = check_label(k, v) {
                            errors.push(FieldError::new(format!("labels.{k}"), message));
                        }
                    }
                    labels = parsed;
                }
            }
            "spec" => {
                spec_seen = true;
                if let Some(parsed) = typed::<T>(value, "spec", &mut errors) {
                    errors.extend(parsed.problems("spec"));
                    spec = Some(parsed);
                }
            }
            k if READ_ONLY.contains(&k) => {}
            _ => errors.push(FieldError::new(
                key.as_str(),
                "unknown field, expected one of id, labels, spec",
            )),
        }
    }
    if !spec_seen {
        errors.push(FieldError::new("spec", "required"));
    }
    match spec {
        Some(spec) if errors.is_empty() => Ok(Envelope { id, labels, spec }),
        _ => Err(Problem::validation(errors)),
    }
}

/// The patchable document of a resource: `{"labels": {...}, "spec": {...}}`.
pub fn document<T: Serialize>(labels: &BTreeMap<String, String>, spec: &T) -> ApiResult<Value> {
    let spec = serde_json::to_value(spec).map_err(|e| Problem::internal(&e))?;
    let labels = serde_json::to_value(labels).map_err(|e| Problem::internal(&e))?;
    Ok(Value::Object(Map::from_iter([
        ("labels".to_owned(), labels),
        ("spec".to_owned(), spec),
    ])))
}

/// Applies a JSON Merge Patch (RFC 7396) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Whether a field holds a credential whose value must never be echoed in a message.
fn is_sensitive(field: &str) -> bool {
    field.ends_with("password")
        || field.ends_with("token")
        || field.contains(".headers")
        || field.contains(".auth")
}

/// Deserializes `value` into `T`, recording a problem at the exact field path on failure.
pub fn typed<T: DeserializeOwned>(
    value: Value,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let mut path = prefix.to_owned();
            for segment in e.path().iter() {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                    Segment::Map { key } => {
                        path.push('.');
                        path.push_str(key);
                    }
                    Segment::Enum { variant } => {
                        path.push('.');
                        path.push_str(variant);
                    }
                    Segment::Unknown => path.push_str(".?"),
                }
            }
            let (field, mut message) = humanize(path, &e.inner().to_string());
            if is_sensitive(&field) && message.starts_with("invalid") {
                message = "invalid value (not shown): expected a string".to_owned();
            }
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

/// Rewrites serde's messages so the path names the field itself: ``missing field `url` ``
/// at `spec.http` becomes `required` at `spec.http.url`.
fn humanize(path: String, message: &str) -> (String, String) {
    let child = |name: &str| {
        if path.rsplit('.').next() == Some(name) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return (child(name), "required".to_owned());
    }
    if let Some((name, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, "))
    {
        let expected = match expected {
            "there are no fields" => "no fields are allowed here".to_owned(),
            e => e.replace('`', ""),
        };
        return (child(name), format!("unknown field, {expected}"));
    }
    if let Some((name, expected)) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("`, "))
    {
        return (
            path,
            format!("unknown value {name:?}, {}", expected.replace('`', "")),
        );
    }
    (path, message.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut doc, &json!({"a": [1]}));
        assert_eq!(doc["a"], json!([1]));
    }

    #[test]
    fn errors_name_field_paths() {
        let body = json!({
            "spec": {"http": {"url": "ftp://x", "methd": "GET"}, "interval": 5},
            "labels": {"team": "a b"},
            "bogus": 1,
            "version": 7,
        });
        let Err(problem) = parse::<MonitorSpec>(body) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bogus", "labels.team", "spec.http.methd"]);
    }

    #[test]
    fn secrets_are_not_echoed() {
        let body = json!({"spec": {"http": {"url": "http://x", "auth": {"bearer": {"token": 123456789}}}}});
        let Err(problem) = parse::<MonitorSpec>(body) else {
            panic!("accepted");
        };
        let text = serde_json::to_string(&problem).expect("json");
        assert!(!text.contains("123456789"), "{text}");
    }
}
