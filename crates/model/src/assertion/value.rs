//! Runtime values, their types, comparison and display.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::time::Duration as StdDuration;

/// Longest rendering of one actual value, in characters.
const MAX_RENDER_CHARS: usize = 120;
/// Most list items rendered.
const MAX_RENDER_ITEMS: usize = 10;

/// A value seen while evaluating. Values from the body borrow it (`'j`): a JSONPath match is
/// never deep-copied, however large the subtree it selects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'j> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Signed nanoseconds (`cert.expires_in` may be negative).
    Duration(i128),
    Str(Cow<'j, str>),
    List(Vec<Value<'j>>),
    /// A JSON array from the body.
    Array(&'j [serde_json::Value]),
    /// A JSON object from the body.
    Object(&'j serde_json::Map<String, serde_json::Value>),
}

/// The items of a list, whether built while evaluating or borrowed from the body.
pub(crate) enum Items<'a, 'j> {
    Owned(std::slice::Iter<'a, Value<'j>>),
    Json(std::slice::Iter<'j, serde_json::Value>),
}

impl<'j> Iterator for Items<'_, 'j> {
    type Item = Value<'j>;
    fn next(&mut self) -> Option<Value<'j>> {
        match self {
            Items::Owned(it) => it.next().cloned(),
            Items::Json(it) => it.next().map(Value::from_json),
        }
    }
}

/// A value's type, known statically for most fields and literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Duration,
    Str,
    List,
    Object,
    /// Only known at evaluation time (JSONPath into the body).
    Any,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Bool => "boolean",
            Ty::Int => "integer",
            Ty::Float => "float",
            Ty::Duration => "duration",
            Ty::Str => "string",
            Ty::List => "list",
            Ty::Object => "object",
            Ty::Any => "value",
        }
    }
    /// The name with its article: "an integer", "a string".
    pub fn a_name(self) -> String {
        let name = self.name();
        let article = if matches!(self, Ty::Int | Ty::Object) {
            "an"
        } else {
            "a"
        };
        format!("{article} {name}")
    }
    fn is_number(self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
    fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
        }
    }
}

/// Whether values of types `l` and `r` can be compared with `op`; the error names both types.
/// `hint` is the text of a number literal on either side, used to suggest a duration.
pub(crate) fn check_compare(op: CmpOp, l: Ty, r: Ty, hint: Option<&str>) -> Result<(), String> {
    if l == Ty::Any || r == Ty::Any {
        return Ok(());
    }
    if op.is_equality() && (l == Ty::Null || r == Ty::Null) {
        return Ok(());
    }
    let ok = match (l, r) {
        _ if l.is_number() && r.is_number() => true,
        (Ty::Duration, Ty::Duration) | (Ty::Str, Ty::Str) => true,
        (Ty::Bool, Ty::Bool) | (Ty::List, Ty::List) | (Ty::Object, Ty::Object) => op.is_equality(),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let mut msg = if l == r {
        format!(
            "cannot order {} values with '{}'; only == and != apply",
            l.name(),
            op.symbol()
        )
    } else {
        format!("cannot compare {} with {}", l.name(), r.name())
    };
    if (l == Ty::Duration && r.is_number()) || (r == Ty::Duration && l.is_number()) {
        match hint {
            Some(n) => msg.push_str(&format!("; write {n}ms")),
            None => msg.push_str("; write a duration such as 300ms"),
        }
    }
    Err(msg)
}

impl<'j> Value<'j> {
    pub fn ty(&self) -> Ty {
        match self {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Float(_) => Ty::Float,
            Value::Duration(_) => Ty::Duration,
            Value::Str(_) => Ty::Str,
            Value::List(_) | Value::Array(_) => Ty::List,
            Value::Object(_) => Ty::Object,
        }
    }

    /// A view of a JSON node in constant time: strings, arrays and objects are borrowed.
    pub fn from_json(v: &'j serde_json::Value) -> Value<'j> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(Cow::Borrowed(s)),
            serde_json::Value::Array(items) => Value::Array(items),
            serde_json::Value::Object(map) => Value::Object(map),
        }
    }

    /// The items of a list (`None` for any other value).
    pub fn items(&self) -> Option<Items<'_, 'j>> {
        match self {
            Value::List(items) => Some(Items::Owned(items.iter())),
            Value::Array(items) => Some(Items::Json(items.iter())),
            _ => None,
        }
    }

    /// The number of items of a list (`None` for any other value).
    pub fn list_len(&self) -> Option<usize> {
        match self {
            Value::List(items) => Some(items.len()),
            Value::Array(items) => Some(items.len()),
            _ => None,
        }
    }

    /// Ordering between two values of comparable types; `None` when they are not comparable.
    fn order(&self, other: &Value<'_>) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Null, Value::Null) => Some(Ordering::Equal),
            (Value::List(_) | Value::Array(_), Value::List(_) | Value::Array(_)) => {
                let same = self.list_len() == other.list_len()
                    && match (self.items(), other.items()) {
                        (Some(a), Some(b)) => a.zip(b).all(|(x, y)| x.loose_eq(&y)),
                        _ => false,
                    };
                Some(if same {
                    Ordering::Equal
                } else {
                    Ordering::Less
                })
            }
            (Value::Object(a), Value::Object(b)) => Some(if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }),
            _ => None,
        }
    }

    /// Equality that is false (not an error) across types: used by `in` and `contains`.
    pub fn loose_eq(&self, other: &Value<'_>) -> bool {
        self.order(other) == Some(Ordering::Equal)
    }

    /// `self op other`, or an error naming both types.
    pub fn compare(
        &self,
        op: CmpOp,
        other: &Value<'_>,
        hint: Option<&str>,
    ) -> Result<bool, String> {
        check_compare(op, self.ty(), other.ty(), hint)?;
        if op.is_equality() && (self.ty() == Ty::Null || other.ty() == Ty::Null) {
            let eq = self.ty() == other.ty();
            return Ok(eq == (op == CmpOp::Eq));
        }
        Ok(self.order(other).is_some_and(|ord| op.holds(ord)))
    }

    /// Renders the value for `actual`, truncated to a readable length.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        truncate_chars(&out, MAX_RENDER_CHARS)
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&f.to_string()),
            Value::Duration(n) => out.push_str(&render_duration(*n)),
            Value::Str(s) => {
                let short = truncate_chars(s, MAX_RENDER_CHARS);
                out.push_str(&serde_json::Value::String(short).to_string());
            }
            Value::List(_) | Value::Array(_) => {
                let len = self.list_len().unwrap_or(0);
                out.push('[');
                for (i, item) in self.items().into_iter().flatten().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if i == MAX_RENDER_ITEMS || out.chars().count() > MAX_RENDER_CHARS {
                        out.push_str(&format!("… {} more", len - i));
                        break;
                    }
                    item.render_into(out);
                }
                out.push(']');
            }
            Value::Object(map) => out.push_str(&render_json_prefix(map)),
        }
    }
}

/// The start of an object's JSON text, serialized only as far as it is shown.
fn render_json_prefix(map: &serde_json::Map<String, serde_json::Value>) -> String {
    /// Keeps the first bytes written, then refuses more so serialization stops early.
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = (MAX_RENDER_CHARS * 4 + 4).saturating_sub(self.0.len());
            if room == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            let n = buf.len().min(room);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    // A full buffer ends serialization with an error; what was written is all that is shown.
    let _ = serde_json::to_writer(&mut out, map);
    truncate_chars(&String::from_utf8_lossy(&out.0), MAX_RENDER_CHARS)
}

/// Renders signed nanoseconds in [`crate::Duration::human`] form, rounded to
/// milliseconds (to microseconds below one millisecond).
pub(crate) fn render_duration(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    let rounded = if abs >= 1_000_000 {
        (abs + 500_000) / 1_000_000 * 1_000_000
    } else {
        (abs + 500) / 1_000 * 1_000
    };
    let secs = u64::try_from(rounded / 1_000_000_000).unwrap_or(u64::MAX);
    let sub = (rounded % 1_000_000_000) as u32;
    format!(
        "{sign}{}",
        crate::Duration::from(StdDuration::new(secs, sub)).human()
    )
}

/// The first `max` characters of `s`, with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_render_canonically() {
        assert_eq!(render_duration(412_345_678), "412ms");
        assert_eq!(render_duration(90_000_000_000), "1m30s");
        assert_eq!(render_duration(-3_600_000_000_000), "-1h");
        assert_eq!(render_duration(1_500), "2us");
        assert_eq!(render_duration(0), "0s");
    }

    #[test]
    fn comparisons() {
        let c = |a: Value<'_>, op, b: Value<'_>| a.compare(op, &b, None);
        assert_eq!(c(Value::Int(200), CmpOp::Eq, Value::Float(200.0)), Ok(true));
        assert_eq!(c(Value::Float(0.5), CmpOp::Lt, Value::Int(1)), Ok(true));
        assert_eq!(c(Value::Null, CmpOp::Ne, Value::Str("a".into())), Ok(true));
        assert_eq!(
            c(Value::Str("a".into()), CmpOp::Lt, Value::Str("b".into())),
            Ok(true)
        );
        assert!(c(Value::Bool(true), CmpOp::Lt, Value::Bool(false)).is_err());
        let e = Value::Duration(1)
            .compare(CmpOp::Lt, &Value::Int(300), Some("300"))
            .unwrap_err();
        assert_eq!(e, "cannot compare duration with integer; write 300ms");
    }

    #[test]
    fn truncation_respects_utf8() {
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hé", 2), "hé");
    }
}
