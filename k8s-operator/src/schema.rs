//! Turns the model's JSON Schema (what schemars derives for a spec, the same one the OpenAPI
//! document shows) into a Kubernetes *structural* OpenAPI v3 schema: `$ref`s inlined, `null`
//! alternatives folded into `nullable`, `const` alternatives into `enum`, externally tagged
//! enums (`{basic: {...}} | {bearer: {...}}`) into one object with a CEL rule that exactly one
//! key is set, and what Kubernetes refuses (`additionalProperties: false` beside `properties`,
//! `examples`, `$schema`, integer formats it does not know) left out.

use serde_json::{Map, Value, json};

/// Longest string a `Duration` field takes in a CRD: bounds the cost of its CEL rules.
pub const MAX_DURATION_LEN: u64 = 32;

/// Why a model schema could not be made structural.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A `$ref` that names no definition.
    #[error("{at}: $ref {reference:?} names no definition")]
    UnknownRef {
        /// Where in the schema.
        at: String,
        /// The reference.
        reference: String,
    },
    /// A combination Kubernetes cannot express structurally.
    #[error("{at}: {what} cannot be made structural")]
    Unsupported {
        /// Where in the schema.
        at: String,
        /// What was found.
        what: String,
    },
}

/// The structural form of `root` (a schemars root schema, with its `$defs`).
pub fn structural(root: &Value) -> Result<Value, SchemaError> {
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    convert(root, &defs, "spec", 0)
}

/// The structural form of `schema`, whose `$ref`s name entries of `defs` (an OpenAPI
/// document's `components.schemas`).
pub fn structural_in(schema: &Value, defs: &Map<String, Value>) -> Result<Value, SchemaError> {
    convert(schema, defs, "spec", 0)
}

/// Deepest nesting of `$ref`s followed: the model's specs are far shallower; a cycle stops here.
const MAX_DEPTH: usize = 32;

fn convert(
    node: &Value,
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<Value, SchemaError> {
    if depth > MAX_DEPTH {
        return Err(unsupported(at, "a recursive schema"));
    }
    let Some(object) = node.as_object() else {
        return Err(unsupported(at, "a boolean schema"));
    };
    let mut out = Map::new();
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let target = defs.get(name).ok_or_else(|| SchemaError::UnknownRef {
            at: at.to_owned(),
            reference: reference.to_owned(),
        })?;
        out = as_map(convert(target, defs, at, depth + 1)?);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = object.get(key).and_then(Value::as_array) {
            merge(&mut out, as_map(alternatives(variants, defs, at, depth)?));
        }
    }
    for (key, value) in object {
        match key.as_str() {
            "$ref" | "anyOf" | "oneOf" | "$defs" | "$schema" | "title" | "examples" | "const" => {}
            "type" => match value {
                Value::Array(types) => {
                    let kinds: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                    if kinds.len() != 1 {
                        return Err(unsupported(at, &format!("type {value}")));
                    }
                    out.insert("type".into(), kinds[0].clone());
                    if kinds.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "format" => {
                if let Some(format) = value.as_str().filter(|f| KNOWN_FORMATS.contains(f)) {
                    out.insert("format".into(), format.into());
                }
            }
            "properties" => {
                let mut properties = Map::new();
                for (name, schema) in value.as_object().into_iter().flatten() {
                    let path = format!("{at}.{name}");
                    properties.insert(name.clone(), convert(schema, defs, &path, depth + 1)?);
                }
                out.insert("properties".into(), Value::Object(properties));
            }
            "additionalProperties" => {
                if value.is_object() {
                    let path = format!("{at}.*");
                    out.insert(key.clone(), convert(value, defs, &path, depth + 1)?);
                }
            }
            "items" => {
                let path = format!("{at}[]");
                out.insert(key.clone(), convert(value, defs, &path, depth + 1)?);
            }
            "default" if value.is_null() => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if out.get("type").and_then(Value::as_str) == Some("string")
        && out.get("pattern").and_then(Value::as_str) == Some(DURATION_PATTERN)
    {
        out.insert("maxLength".into(), MAX_DURATION_LEN.into());
    }
    if object.get("format").and_then(Value::as_str) == Some("uint32")
        && out.get("maximum").is_none()
    {
        // The bound schemars' `uint32` format carried, which Kubernetes does not know.
        out.insert("maximum".into(), u32::MAX.into());
    }
    if !out.contains_key("type") && !out.contains_key("x-kubernetes-preserve-unknown-fields") {
        // Any JSON value (e.g. an integration's parameters, checked against the catalog).
        out.insert(
            "x-kubernetes-preserve-unknown-fields".into(),
            Value::Bool(true),
        );
    }
    Ok(Value::Object(out))
}

/// The model's duration pattern, recognised to bound the length of duration strings.
const DURATION_PATTERN: &str = "^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h|d))+$|^0$";

/// Formats Kubernetes validates; schemars' `uint32` and friends are dropped (the bounds stay).
const KNOWN_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "byte",
    "int32",
    "int64",
    "uri",
    "email",
    "uuid",
];

/// `anyOf`/`oneOf`: `X | null` is a nullable `X`; string constants are an `enum`; single-key
/// objects (an externally tagged enum) are one object whose keys are exclusive.
fn alternatives(
    variants: &[Value],
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<Value, SchemaError> {
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    let rest: Vec<&Value> = variants.iter().filter(|v| !is_null(v)).collect();
    let nullable = rest.len() < variants.len();
    let mut out = if rest.len() == 1 {
        as_map(convert(rest[0], defs, at, depth + 1)?)
    } else if rest.iter().all(|v| v.get("const").is_some()) {
        let values: Vec<Value> = rest
            .iter()
            .filter_map(|v| v.get("const").cloned())
            .collect();
        let mut out = Map::new();
        out.insert("type".into(), "string".into());
        out.insert("enum".into(), Value::Array(values));
        out
    } else if let Some(tag) = internal_tag(&rest) {
        internally_tagged(&rest, &tag, defs, at, depth)?
    } else if rest.iter().all(|v| v.get("type") == Some(&json!("object"))) {
        tagged_union(&rest, defs, at, depth)?
    } else {
        // Alternatives of different types (`"text" | {secret: ...}`): the one place where
        // Kubernetes must keep what it cannot describe; Vedette validates it.
        let mut out = Map::new();
        out.insert(
            "x-kubernetes-preserve-unknown-fields".into(),
            Value::Bool(true),
        );
        out
    };
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    Ok(Value::Object(out))
}

/// The property every alternative fixes with a `const` (serde's internally tagged enums).
fn internal_tag(variants: &[&Value]) -> Option<String> {
    let first = variants.first()?.get("properties")?.as_object()?;
    first
        .iter()
        .filter(|(_, schema)| schema.get("const").is_some())
        .map(|(name, _)| name.clone())
        .find(|name| {
            variants
                .iter()
                .all(|v| v["properties"][name.as_str()].get("const").is_some())
        })
}

/// An internally tagged enum as one object: every variant's properties, the tag an `enum` of
/// the variants' names and required; Vedette checks which properties go with which tag.
fn internally_tagged(
    variants: &[&Value],
    tag: &str,
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<Map<String, Value>, SchemaError> {
    let mut properties = Map::new();
    let mut names = Vec::new();
    for variant in variants {
        names.push(variant["properties"][tag]["const"].clone());
        let converted = as_map(convert(variant, defs, at, depth + 1)?);
        if let Some(keys) = converted.get("properties").and_then(Value::as_object) {
            for (key, schema) in keys {
                properties
                    .entry(key.clone())
                    .or_insert_with(|| schema.clone());
            }
        }
    }
    properties.insert(tag.to_owned(), json!({"type": "string", "enum": names}));
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    out.insert("required".into(), json!([tag]));
    out.insert("properties".into(), Value::Object(properties));
    Ok(out)
}

/// An externally tagged enum as one object: every variant's key as an optional property, and a
/// CEL rule that exactly one is set.
fn tagged_union(
    variants: &[&Value],
    defs: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<Map<String, Value>, SchemaError> {
    let mut properties = Map::new();
    for variant in variants {
        let converted = as_map(convert(variant, defs, at, depth + 1)?);
        let keys = converted.get("properties").and_then(Value::as_object);
        match keys {
            Some(keys) if keys.len() == 1 && converted.get("type") == Some(&json!("object")) => {
                properties.extend(keys.clone());
            }
            _ => {
                return Err(unsupported(
                    at,
                    "an alternative that is not a single-key object",
                ));
            }
        }
    }
    let count: Vec<String> = properties
        .keys()
        .map(|k| format!("(has(self.{k}) ? 1 : 0)"))
        .collect();
    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    out.insert(
        "x-kubernetes-validations".into(),
        json!([{
            "rule": format!("{} == 1", count.join(" + ")),
            "message": format!("exactly one of {} must be set", names.join(", ")),
        }]),
    );
    out.insert("properties".into(), Value::Object(properties));
    Ok(out)
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        into.entry(key).or_insert(value);
    }
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn unsupported(at: &str, what: &str) -> SchemaError {
    SchemaError::Unsupported {
        at: at.to_owned(),
        what: what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_nulls_consts_and_tagged_enums_become_structural() {
        let root = json!({
            "$schema": "x",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "d": {"anyOf": [{"$ref": "#/$defs/Duration"}, {"type": "null"}], "description": "D"},
                "n": {"type": ["string", "null"]},
                "e": {"oneOf": [{"const": "a", "type": "string"}, {"const": "b", "type": "string"}]},
                "u": {"format": "uint32", "minimum": 0, "type": "integer"},
                "t": {"oneOf": [
                    {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
                    {"type": "object", "properties": {"y": {"type": "string"}}, "required": ["y"]}
                ]}
            },
            "$defs": {"Duration": {"type": "string", "pattern": DURATION_PATTERN, "examples": ["1s"]}}
        });
        let out = structural(&root).unwrap();
        assert_eq!(
            out["properties"]["d"],
            json!({"type": "string", "pattern": DURATION_PATTERN, "maxLength": 32, "nullable": true, "description": "D"})
        );
        assert_eq!(
            out["properties"]["n"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            out["properties"]["e"],
            json!({"type": "string", "enum": ["a", "b"]})
        );
        assert_eq!(
            out["properties"]["u"],
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
        );
        assert_eq!(
            out["properties"]["t"]["x-kubernetes-validations"][0]["rule"],
            "(has(self.x) ? 1 : 0) + (has(self.y) ? 1 : 0) == 1"
        );
        assert!(out.get("additionalProperties").is_none());
        assert!(out.get("$schema").is_none());
    }

    #[test]
    fn an_unknown_ref_names_where_it_is() {
        let root = json!({"properties": {"a": {"$ref": "#/$defs/Nope"}}});
        let err = structural(&root).unwrap_err().to_string();
        assert_eq!(err, "spec.a: $ref \"#/$defs/Nope\" names no definition");
    }
}
