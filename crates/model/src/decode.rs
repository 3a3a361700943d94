//! The one decoder of documents and API bodies: every problem at once, each at its field path.
//!
//! serde stops at the first error, so a [`Decoder`] decodes in rounds: it records the error at
//! its path, removes the offending value (an unknown field, a value of the wrong type, or a
//! mapping missing a required field) and decodes what is left again. A follow-on error of a
//! removal (the `required` of a removed value) is not reported. The semantic checks then run on
//! what decoded, and their errors at, under or above a removed value are dropped, since that
//! value was never checked. Rounds and errors are bounded ([`MAX_ROUNDS`], [`MAX_ERRORS`]), and
//! every round removes a value, so the work is bounded by the size of the document too.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::field_path::{self, Seg};
use crate::validate::FieldError;

/// Most errors reported for one document; past it the last one says more were left out.
pub const MAX_ERRORS: usize = 100;
/// Most decoding rounds for one document (each finds one error).
pub const MAX_ROUNDS: usize = 256;

/// A value decoded by [`Decoder::decode`].
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// What decoded: the whole value, or what was left once the bad parts were removed.
    pub value: T,
    /// Whether the whole value decoded (no part was removed).
    pub complete: bool,
}

/// A spec type a document or body carries, decoded by [`Decoder::decode_checked`]: first as its
/// draft, which reads what a spec refuses outright (a monitor spec setting no check or two) so
/// that it is reported with every other problem, then checked, then made into the spec.
pub trait Checked: Sized {
    /// What the decoder reads.
    type Draft: DeserializeOwned;
    /// Every semantic problem of `draft`, at paths under `prefix`.
    fn problems(draft: &Self::Draft, prefix: &str) -> Vec<FieldError>;
    /// The spec a draft without problems makes.
    fn from_draft(draft: Self::Draft) -> Option<Self>;
}

impl Checked for crate::MonitorSpec {
    type Draft = crate::MonitorDraft;
    fn problems(draft: &Self::Draft, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self::Draft) -> Option<Self> {
        draft.into_spec()
    }
}

impl Checked for crate::maintenance::MaintenanceSpec {
    type Draft = Self;
    fn problems(draft: &Self, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

impl Checked for crate::deployment::DeploymentSpec {
    type Draft = Self;
    fn problems(draft: &Self, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

impl Checked for crate::status_page::StatusPageSpec {
    type Draft = Self;
    fn problems(draft: &Self, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

impl Checked for crate::discovery::DiscoverySourceSpec {
    type Draft = Self;
    fn problems(draft: &Self, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

impl Checked for crate::verification::VerificationSpec {
    type Draft = Self;
    fn problems(draft: &Self, prefix: &str) -> Vec<FieldError> {
        draft.validate(prefix)
    }
    fn from_draft(draft: Self) -> Option<Self> {
        Some(draft)
    }
}

/// Whether a field holds a credential whose value must never be echoed in a message.
fn is_sensitive(field: &str) -> bool {
    field.ends_with("password")
        || field.ends_with("token")
        || field.contains(".headers")
        || field.contains(".auth")
        || field.contains(".secrets")
}

/// `errors` with the messages of credential fields that would quote the value (type errors)
/// saying only what was expected.
pub fn hide_secret_values(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    for e in &mut errors {
        if is_sensitive(&e.field) && quotes_a_value(&e.message) {
            e.message = match e.message.split_once(", got ") {
                Some((expected, _)) if expected.starts_with("expected ") => {
                    format!("invalid value (not shown): {expected}")
                }
                _ => "invalid value (not shown)".to_owned(),
            };
        }
    }
    errors
}

/// Collects every problem of one document: type errors found by decoding its parts, problems
/// its caller finds in the envelope, then semantic ones.
#[derive(Debug, Default)]
pub struct Decoder {
    errors: Vec<FieldError>,
    /// Paths of values removed as invalid (not unknown fields, which no check looks at).
    removed: Vec<String>,
    /// Sequence elements removed so far, to name what is left by its index as sent.
    shifts: Shifts,
    rounds: usize,
    /// Problems were left out: too many errors, or rounds ran out.
    truncated: bool,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem the caller found (in the envelope, say).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.record(FieldError::new(field, message));
    }

    /// Whether no problem has been found.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && !self.truncated
    }

    /// Decodes `value` as `T`, reporting every type error at its path under `prefix`. `None`
    /// when nothing decodes (the value itself is of the wrong kind, or the limits ran out);
    /// otherwise what decoded, to run semantic checks on.
    pub fn decode<T: DeserializeOwned>(
        &mut self,
        value: Value,
        prefix: &str,
    ) -> Option<Decoded<T>> {
        let mut value = value;
        let mut complete = true;
        loop {
            if self.rounds >= MAX_ROUNDS || self.errors.len() >= MAX_ERRORS {
                self.truncated = true;
                return None;
            }
            self.rounds += 1;
            let error = match serde_path_to_error::deserialize::<_, T>(&value) {
                Ok(decoded) => {
                    return Some(Decoded {
                        value: decoded,
                        complete,
                    });
                }
                Err(e) => e,
            };
            complete = false;
            let segments: Vec<Segment> = error.path().iter().cloned().collect();
            let message = error.into_inner().to_string();
            let (found, path) = resolve(&value, prefix, &segments, &self.shifts);
            let (field, message, unknown_field) = humanize(prefix, &path, &message);
            if !self.is_follow_on(&field) {
                self.record(FieldError::new(field, message));
            }
            // The value to remove: an unknown field's own entry, the mapping a required field
            // is missing from, or the deepest part of the path that exists. Only an unknown
            // field goes without a trace: nothing checks it.
            if found == 0 {
                return None;
            }
            if !unknown_field || found < segments.len() {
                self.removed.push(render(prefix, &path[..found]));
            }
            remove(
                &mut value,
                prefix,
                &segments[..found],
                &path[..found],
                &mut self.shifts,
            );
        }
    }

    /// Decodes `value` as a `T` under `prefix` and checks it, recording every problem; the
    /// spec when there is none in it.
    pub fn decode_checked<T: Checked>(&mut self, value: Value, prefix: &str) -> Option<T> {
        let decoded = self.decode::<T::Draft>(value, prefix)?;
        self.check(T::problems(&decoded.value, prefix));
        if !decoded.complete {
            return None;
        }
        T::from_draft(decoded.value)
    }

    /// Merges semantic problems found on what [`Decoder::decode`] returned, dropping those at
    /// or under a reported field and those at, under or above a removed value (they were found
    /// on what was left, not on what was sent).
    pub fn check(&mut self, problems: impl IntoIterator<Item = FieldError>) {
        for mut problem in problems {
            problem.field = self.original_field(&problem.field);
            let reported = self
                .errors
                .iter()
                .any(|e| field_path::is_within(&problem.field, &e.field));
            let near_removed = self.removed.iter().any(|r| {
                field_path::is_within(&problem.field, r) || field_path::is_within(r, &problem.field)
            });
            if !reported && !near_removed {
                self.record(problem);
            }
        }
    }

    /// Every problem, ordered by field path, duplicates dropped, at most [`MAX_ERRORS`].
    pub fn finish(self) -> Vec<FieldError> {
        let mut errors = self.errors;
        errors.sort_by(|a, b| field_path::compare(&a.field, &b.field));
        errors.dedup();
        if self.truncated || errors.len() > MAX_ERRORS {
            errors.truncate(MAX_ERRORS - 1);
            errors.push(FieldError::new(
                "",
                format!("more problems were not checked or shown: at most {MAX_ERRORS} are reported at once"),
            ));
        }
        errors
    }

    /// `field` of what was left, named as in what was sent (sequence indexes shifted back).
    fn original_field(&self, field: &str) -> String {
        if self.shifts.0.is_empty() {
            return field.to_owned();
        }
        let mut out = String::new();
        for seg in field_path::parse(field) {
            let seg = match seg {
                Seg::Index(index) => Seg::Index(self.shifts.original(&out, index)),
                key => key,
            };
            field_path::push(&mut out, &seg);
        }
        out
    }

    /// Whether an error at `field` follows from an earlier removal or repeats a reported field.
    fn is_follow_on(&self, field: &str) -> bool {
        self.removed.iter().any(|r| field_path::is_within(field, r))
            || self.errors.iter().any(|e| e.field == field)
    }

    fn record(&mut self, error: FieldError) {
        if self.errors.len() >= MAX_ERRORS {
            self.truncated = true;
        } else {
            self.errors.push(error);
        }
    }
}

/// Elements removed from sequences, by the sequence's path in the document as sent, so that
/// later errors name elements by their original index.
#[derive(Debug, Default)]
struct Shifts(HashMap<String, Vec<usize>>);

impl Shifts {
    /// The original index of what is now element `index` of the sequence at `path`.
    fn original(&self, path: &str, index: usize) -> usize {
        let mut original = index;
        for &removed in self.0.get(path).map(Vec::as_slice).unwrap_or_default() {
            if removed <= original {
                original += 1;
            } else {
                break;
            }
        }
        original
    }

    fn record(&mut self, path: String, index: usize) {
        let removed = self.0.entry(path).or_default();
        let at = removed.partition_point(|&r| r < index);
        removed.insert(at, index);
    }
}

/// How far `segments` lead into `value` (how many exist), and the whole path as sent, relative
/// to `prefix`.
fn resolve(
    value: &Value,
    prefix: &str,
    segments: &[Segment],
    shifts: &Shifts,
) -> (usize, Vec<Seg>) {
    let mut node = Some(value);
    let mut found = 0;
    let mut path = Vec::with_capacity(segments.len());
    for segment in segments {
        let (seg, next) = match segment {
            Segment::Map { key } | Segment::Enum { variant: key } => (
                Seg::Key(key.clone()),
                node.and_then(|n| n.as_object()).and_then(|m| m.get(key)),
            ),
            Segment::Seq { index } => {
                let here = render(prefix, &path);
                (
                    Seg::Index(shifts.original(&here, *index)),
                    node.and_then(|n| n.as_array()).and_then(|a| a.get(*index)),
                )
            }
            Segment::Unknown => (Seg::Key("?".to_owned()), None),
        };
        path.push(seg);
        node = next;
        if node.is_some() {
            found += 1;
        }
    }
    (found, path)
}

/// Removes the value `segments` lead to (they all exist), noting a removed sequence element.
fn remove(
    value: &mut Value,
    prefix: &str,
    segments: &[Segment],
    path: &[Seg],
    shifts: &mut Shifts,
) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = value;
    for segment in parents {
        let next = match segment {
            Segment::Map { key } | Segment::Enum { variant: key } => {
                node.as_object_mut().and_then(|m| m.get_mut(key))
            }
            Segment::Seq { index } => node.as_array_mut().and_then(|a| a.get_mut(*index)),
            Segment::Unknown => None,
        };
        let Some(next) = next else { return };
        node = next;
    }
    match last {
        Segment::Map { key } | Segment::Enum { variant: key } => {
            if let Some(map) = node.as_object_mut() {
                map.remove(key);
            }
        }
        Segment::Seq { index } => {
            if let Some(items) = node.as_array_mut()
                && *index < items.len()
            {
                items.remove(*index);
                if let Some((Seg::Index(original), array)) = path.split_last() {
                    shifts.record(render(prefix, array), *original);
                }
            }
        }
        Segment::Unknown => {}
    }
}

/// `prefix` followed by `path`.
fn render(prefix: &str, path: &[Seg]) -> String {
    let mut out = prefix.to_owned();
    for seg in path {
        field_path::push(&mut out, seg);
    }
    out
}

/// The field and message people read: ``missing field `url` `` at `spec.http` becomes
/// `required` at `spec.http.url`; unknown fields and variants list the choices unquoted. The
/// last item says whether the error is an unknown field.
/// Whether a decoding message may quote the offending value (`expected a string, got the
/// number 123`, `unknown value "x"`): a credential field's message must then be replaced.
pub fn quotes_a_value(message: &str) -> bool {
    message.starts_with("invalid")
        || message.starts_with("unknown value")
        || message.contains(", got ")
}

fn humanize(prefix: &str, path: &[Seg], message: &str) -> (String, String, bool) {
    let field = render(prefix, path);
    let unquote = |s: &str| s.replace('`', "");
    let child = |name: &str| {
        let mut child = field.clone();
        field_path::push(&mut child, &Seg::Key(name.to_owned()));
        child
    };
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return (child(name), "required".to_owned(), false);
    }
    if let Some((name, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, "))
    {
        let expected = match expected {
            "there are no fields" => "no fields are allowed here".to_owned(),
            e => unquote(e),
        };
        let field = match path.last() {
            Some(Seg::Key(last)) if last == name => field,
            _ => child(name),
        };
        return (field, format!("unknown field, {expected}"), true);
    }
    if let Some((name, expected)) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("`, "))
    {
        return (
            field,
            format!("unknown value {name:?}, {}", unquote(expected)),
            false,
        );
    }
    (field, crate::serde_text::in_user_terms(message), false)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::MonitorSpec;

    /// Every problem of `value` as a monitor spec at `spec`.
    fn problems(value: Value) -> Vec<(String, String)> {
        let mut decoder = Decoder::new();
        let spec = decoder.decode_checked::<MonitorSpec>(value, "spec");
        assert!(spec.is_none() && !decoder.is_empty(), "accepted");
        decoder
            .finish()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn fields(value: Value) -> Vec<String> {
        problems(value).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn type_and_semantic_errors_are_reported_together() {
        let got = problems(json!({
            "http": {"url": "ftp://x", "methd": "GET"},
            "interval": "-5s",
            "assertions": ["status =="],
        }));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.assertions[0]",
                "spec.http.methd",
                "spec.http.url",
                "spec.interval"
            ]
        );
        assert!(got[3].1.starts_with("invalid duration \"-5s\""), "{got:?}");
    }

    #[test]
    fn a_removed_value_brings_no_follow_on_errors() {
        // The port is required: its removal makes the check incomplete, then absent, and no
        // check kind is left; only the port is reported.
        assert_eq!(
            fields(json!({"tcp": {"host": "db", "port": 70000}})),
            ["spec.tcp.port"]
        );
        assert_eq!(fields(json!({"http": {"url": 5}})), ["spec.http.url"]);
        assert_eq!(
            problems(json!({"tcp": {"host": "db"}})),
            [("spec.tcp.port".to_owned(), "required".to_owned())]
        );
    }

    #[test]
    fn sequence_elements_keep_their_indexes() {
        assert_eq!(
            fields(json!({
                "http": {"url": "http://x/"},
                "assertions": [1, "status == 200", [2], "status ==", {"x": 3}],
            })),
            [
                "spec.assertions[0]",
                "spec.assertions[2]",
                "spec.assertions[3]",
                "spec.assertions[4]"
            ]
        );
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_one_error() {
        assert_eq!(
            problems(json!("x")),
            [(
                "spec".to_owned(),
                "expected a mapping of fields, got the text \"x\"".to_owned()
            )]
        );
    }

    #[test]
    fn errors_are_capped_and_rounds_bounded() {
        let mut headers = serde_json::Map::new();
        let mut spec = serde_json::Map::new();
        for i in 0..5_000 {
            headers.insert(format!("h{i}"), json!(i));
            spec.insert(format!("bogus{i}"), json!(i));
        }
        spec.insert(
            "http".into(),
            json!({"url": "http://x/", "headers": headers}),
        );
        let started = std::time::Instant::now();
        let got = problems(Value::Object(spec));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(got.len(), MAX_ERRORS);
        let (field, message) = got.last().expect("errors");
        assert_eq!(field, "");
        assert!(message.contains("at most 100"), "{message}");
    }

    #[test]
    fn caller_problems_hide_semantic_ones_under_them() {
        let mut decoder = Decoder::new();
        decoder.add("spec.http", "refused by the caller");
        decoder.check([
            FieldError::new("spec.http.url", "bad"),
            FieldError::new("spec.timeout", "bad"),
        ]);
        let fields: Vec<String> = decoder.finish().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["spec.http", "spec.timeout"]);
    }
}
