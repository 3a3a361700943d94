//! Write bodies of versioned resources (monitors, maintenance windows):
//! `{"id"?, "labels"?, "spec"}`, read-only fields ignored so a `GET` body can be sent back,
//! unknown fields refused, every problem reported at its field path; and JSON Merge Patch.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use vedette_model::decode::{Checked, Decoder, hide_secret_values};
use vedette_model::deployment::DeploymentSpec;
use vedette_model::discovery::DiscoverySourceSpec;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::validate::{check_id, check_label};
use vedette_model::verification::VerificationSpec;
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

/// A spec type a resource body carries: decoded and checked by the model's decoder.
pub trait Spec: Checked + DeserializeOwned + Serialize {}

impl Spec for MonitorSpec {}

impl Spec for MaintenanceSpec {}

impl Spec for DeploymentSpec {}

impl Spec for VerificationSpec {}

impl Spec for StatusPageSpec {}
impl Spec for DiscoverySourceSpec {}

/// A valid write body.
#[derive(Debug, Clone, JsonSchema)]
pub struct Envelope<T> {
    /// The id: a slug `[a-z0-9][a-z0-9._-]{0,127}`; on a create made from the spec's name
    /// when absent, on a replace the URL's.
    pub id: Option<String>,
    /// Labels for selection and ownership (`managed-by`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The spec, type-checked and validated.
    pub spec: T,
}

/// A create or replace body: read-only fields (status, version, managed_by, timestamps) are
/// ignored, so a `GET` body can be sent back as is.
// The schema of an `Envelope` (what `parse` reads), named after the view `V` of its resource:
// `MonitorWrite` for `Monitor`.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "{V}Write")]
pub struct WriteBody<T, V> {
    /// The fields.
    #[serde(flatten)]
    pub envelope: Envelope<T>,
    /// The view naming the schema.
    #[serde(skip)]
    pub view: PhantomData<V>,
}

/// A JSON Merge Patch (RFC 7396) over `{"labels", "spec"}`: members set replace, null
/// removes; the result is checked like a write body.
// The shape of the patches `merge_patch` applies, which read them as JSON; `V`, the view of
// the resource, only names the schema: `MonitorPatch` for `Monitor`.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "{V}Patch")]
pub struct MergePatch<V> {
    /// Labels to set, or to remove (null); null removes them all.
    pub labels: Option<BTreeMap<String, Option<String>>>,
    /// Spec members to set, or to remove (null), merged member by member.
    #[serde(default)]
    pub spec: Map<String, Value>,
    /// The view naming the schema.
    #[serde(skip)]
    pub view: PhantomData<V>,
}

/// Parses and validates a write body; 422 listing every problem found, type errors and
/// semantic ones together (see [`Decoder`]).
pub fn parse<T: Spec>(body: Value) -> ApiResult<Envelope<T>> {
    let Value::Object(map) = body else {
        return Err(Problem::invalid(
            "",
            "expected a JSON object with labels and spec",
        ));
    };
    let mut decoder = Decoder::new();
    let mut id = None;
    let mut labels = BTreeMap::new();
    let mut spec = None;
    let mut spec_seen = false;
    for (key, value) in map {
        match key.as_str() {
            "id" => match value {
                Value::String(s) => match check_id(&s) {
                    Ok(()) => id = Some(s),
                    Err(message) => decoder.add("id", message),
                },
                Value::Null => {}
                _ => decoder.add("id", "expected a string"),
            },
            "labels" if value.is_null() => {}
            "labels" => {
                if let Some(parsed) = decoder.decode::<BTreeMap<String, String>>(value, "labels") {
                    for (k, v) in &parsed.value {
                        if let Err(message) = check_label(k, v) {
                            decoder.add(format!("labels.{k}"), message);
                        }
                    }
                    labels = parsed.value;
                }
            }
            "spec" => {
                spec_seen = true;
                spec = decoder.decode_checked::<T>(value, "spec");
            }
            k if READ_ONLY.contains(&k) => {}
            _ => decoder.add(
                key.as_str(),
                "unknown field, expected one of id, labels, spec",
            ),
        }
    }
    if !spec_seen {
        decoder.add("spec", "required");
    }
    match spec {
        Some(spec) if decoder.is_empty() => Ok(Envelope { id, labels, spec }),
        _ => Err(Problem::validation(hide_secret_values(decoder.finish()))),
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

/// 422 unless a merge patch body is a JSON object (over `labels` and `spec`).
pub fn expect_merge_patch(patch: &Value) -> ApiResult<()> {
    if patch.is_object() {
        return Ok(());
    }
    Err(Problem::invalid(
        "",
        "expected a JSON merge patch object over labels and spec",
    ))
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

/// Deserializes `value` into `T`, recording every problem at its field path under `prefix`;
/// the value only when it decoded whole.
pub fn typed<T: DeserializeOwned>(
    value: Value,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let mut decoder = Decoder::new();
    let decoded = decoder.decode::<T>(value, prefix);
    errors.extend(hide_secret_values(decoder.finish()));
    decoded.filter(|d| d.complete).map(|d| d.value)
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
        assert_eq!(
            fields,
            [
                "bogus",
                "labels.team",
                "spec.http.methd",
                "spec.http.url",
                "spec.interval"
            ]
        );
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
