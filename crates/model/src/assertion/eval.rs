//! Evaluation against an [`Observation`], recording each field's actual value.

use std::cell::OnceCell;

use super::jsonpath;
use super::parser::{Expr, ExprKind, Field, number_hint};
use super::value::{CmpOp, Value};
use crate::Observation;

/// Shared state for evaluating one or more assertions against one observation: the body is
/// parsed as JSON at most once.
pub(crate) struct Ctx<'a> {
    pub obs: &'a Observation,
    json: OnceCell<Result<jsonpath::Body, String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(obs: &'a Observation) -> Self {
        Self {
            obs,
            json: OnceCell::new(),
        }
    }

    fn json(&self) -> Result<&jsonpath::Body, String> {
        let body = self.obs.body.as_deref();
        self.json
            .get_or_init(|| match body {
                None => Err("body is absent (it was not read)".to_owned()),
                Some(bytes) => jsonpath::Body::parse(bytes),
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Why an operand has no value.
enum Fail {
    /// The field is absent from the observation (message says which).
    Absent(String),
    /// Anything else: no JSONPath match, type mismatch.
    Error(String),
}

impl Fail {
    fn message(self) -> String {
        match self {
            Fail::Absent(m) | Fail::Error(m) => m,
        }
    }
}

/// One evaluation: the source, the context and the annotations collected so far.
pub(crate) struct Eval<'s, 'c, 'o> {
    pub source: &'s str,
    pub ctx: &'c Ctx<'o>,
    /// (byte offset, rendered value) to insert into `actual`.
    pub notes: Vec<(usize, String)>,
}

impl<'c> Eval<'_, 'c, '_> {
    /// Evaluates a condition; `Err` is the message of an evaluation error.
    pub fn condition(&mut self, e: &Expr) -> Result<bool, String> {
        match &e.kind {
            ExprKind::Not(x) => self.condition(x).map(|b| !b),
            // Both sides are always evaluated, so `actual` shows every value. Kleene logic: an
            // error only decides the result when the other side cannot.
            ExprKind::And(a, b) => match (self.condition(a), self.condition(b)) {
                (Ok(false), _) | (_, Ok(false)) => Ok(false),
                (Err(err), _) | (_, Err(err)) => Err(err),
                (Ok(true), Ok(true)) => Ok(true),
            },
            ExprKind::Or(a, b) => match (self.condition(a), self.condition(b)) {
                (Ok(true), _) | (_, Ok(true)) => Ok(true),
                (Err(err), _) | (_, Err(err)) => Err(err),
                (Ok(false), Ok(false)) => Ok(false),
            },
            ExprKind::Cmp(op, a, b) => {
                let l = self.operand(a);
                let r = self.operand(b);
                // An absent header equals null (and only under == and !=).
                let header_vs_null = matches!(op, CmpOp::Eq | CmpOp::Ne)
                    && ((is_header(a) && matches!(r, Ok(Value::Null)))
                        || (is_header(b) && matches!(l, Ok(Value::Null))));
                let (l, r) = match (l, r) {
                    (Ok(l), Ok(r)) => (l, r),
                    (Err(Fail::Absent(_)), Ok(other)) | (Ok(other), Err(Fail::Absent(_)))
                        if header_vs_null =>
                    {
                        (Value::Null, other)
                    }
                    (Err(f), _) | (_, Err(f)) => return Err(f.message()),
                };
                let hint = number_hint(self.source, a).or_else(|| number_hint(self.source, b));
                l.compare(*op, &r, hint)
            }
            ExprKind::Contains(a, b) => {
                let l = self.operand(a);
                let r = self.operand(b);
                let (l, r) = (l.map_err(Fail::message)?, r.map_err(Fail::message)?);
                contains(&l, &r)
            }
            ExprKind::In {
                item,
                list,
                negated,
            } => {
                let l = self.operand(item);
                let r = self.operand(list);
                let (l, r) = (l.map_err(Fail::message)?, r.map_err(Fail::message)?);
                match r.items() {
                    Some(mut items) => Ok(items.any(|x| x.loose_eq(&l)) != *negated),
                    None => Err(format!(
                        "expected a list after 'in', found {}",
                        r.ty().name()
                    )),
                }
            }
            ExprKind::Matches(a, regex) => match self.operand(a).map_err(Fail::message)? {
                Value::Str(s) => Ok(regex.is_match(&s)),
                other => Err(format!(
                    "'matches' needs a string, found {}",
                    other.ty().name()
                )),
            },
            _ => match self.operand(e).map_err(Fail::message)? {
                Value::Bool(b) => Ok(b),
                other => Err(format!(
                    "expected a condition (true or false), found {}",
                    other.ty().name()
                )),
            },
        }
    }

    /// Evaluates a value-producing node, annotating fields and `len(...)` with their values.
    fn operand(&mut self, e: &Expr) -> Result<Value<'c>, Fail> {
        let result = match &e.kind {
            ExprKind::Lit(v) => return Ok(v.clone()),
            ExprKind::Field(f) => self.field(f),
            ExprKind::Len(x) => self.len(x),
            _ => return self.condition(e).map(Value::Bool).map_err(Fail::Error),
        };
        match &result {
            Ok(v) => match (&e.kind, &self.ctx.obs.gateway) {
                // The gateway's health is shown with whose it is and the gateway's own words.
                (ExprKind::Field(Field::GatewayHealthy), Some(g)) => self.notes.push((
                    e.end,
                    format!(
                        "{}; {} source {}: {}",
                        v.render(),
                        g.gateway,
                        g.source,
                        g.detail
                    ),
                )),
                _ => self.notes.push((e.end, v.render())),
            },
            Err(Fail::Absent(_)) => self.notes.push((e.end, "absent".to_owned())),
            Err(Fail::Error(_)) => {}
        }
        result
    }

    fn len(&mut self, x: &Expr) -> Result<Value<'c>, Fail> {
        let value = match &x.kind {
            // The body's length is its size in bytes, not that of its lossy UTF-8 text.
            ExprKind::Field(Field::Body) => {
                return match &self.ctx.obs.body {
                    Some(b) => Ok(Value::Int(i64::try_from(b.len()).unwrap_or(i64::MAX))),
                    None => Err(Fail::Absent("body is absent (it was not read)".to_owned())),
                };
            }
            ExprKind::Field(f) => self.field(f)?,
            _ => self.operand(x)?,
        };
        let n = match &value {
            Value::Str(s) => s.len(),
            Value::List(items) => items.len(),
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            other => {
                return Err(Fail::Error(format!(
                    "len() takes a string or list, found {}",
                    other.ty().name()
                )));
            }
        };
        Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    fn field(&mut self, f: &Field) -> Result<Value<'c>, Fail> {
        let ctx: &'c Ctx<'_> = self.ctx;
        let obs = ctx.obs;
        let absent = |what: &str| Fail::Absent(format!("{} is absent ({what})", f.name()));
        let phase = |ms: Option<f64>, what: &str| match ms {
            Some(ms) if ms.is_finite() => Ok(Value::Duration((ms * 1e6).round() as i128)),
            _ => Err(absent(what)),
        };
        let cert = || {
            obs.cert
                .as_ref()
                .ok_or_else(|| absent("no TLS certificate was seen"))
        };
        let dns = || obs.dns.as_ref().ok_or_else(|| absent("no DNS answer"));
        match f {
            Field::Status => obs
                .status
                .map(|s| Value::Int(i64::from(s)))
                .ok_or_else(|| absent("no HTTP response")),
            Field::ResponseTime => phase(Some(obs.phases.total_ms), "not measured"),
            Field::DnsTime => phase(obs.phases.dns_ms, "no DNS lookup"),
            Field::ConnectTime => phase(obs.phases.connect_ms, "no connection"),
            Field::TlsTime => phase(obs.phases.tls_ms, "no TLS handshake"),
            Field::FirstByteTime => phase(obs.phases.first_byte_ms, "no response"),
            Field::Header(name) => {
                let values: Vec<&str> = obs
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() {
                    Err(Fail::Absent(format!("header {name:?} is absent")))
                } else {
                    Ok(Value::Str(values.join(", ").into()))
                }
            }
            Field::Body => match &obs.body {
                Some(b) => Ok(Value::Str(String::from_utf8_lossy(b))),
                None => Err(absent("it was not read")),
            },
            Field::BodyPath(text, path, singular) => {
                let body = ctx.json().map_err(Fail::Error)?;
                let nodes = path.query(body).map_err(Fail::Error)?;
                match nodes.as_slice() {
                    // A singular path (`$.a.b[0]`) gives its value; a missing one is an error.
                    [] if *singular => Err(Fail::Error(format!(
                        "JSONPath {text} has no match in the body"
                    ))),
                    [one] if *singular => Ok(Value::from_json(one)),
                    // Wildcards, filters, slices, unions and descendants always give a list.
                    many => Ok(Value::List(
                        many.iter().map(|v| Value::from_json(v)).collect(),
                    )),
                }
            }
            Field::CertExpiresIn => {
                let delta = cert()?.not_after - obs.started_at;
                let nanos = delta.num_nanoseconds().map_or_else(
                    || i128::from(delta.num_milliseconds()) * 1_000_000,
                    i128::from,
                );
                Ok(Value::Duration(nanos))
            }
            Field::CertIssuer => Ok(Value::Str(cert()?.issuer.as_str().into())),
            Field::CertSubject => Ok(Value::Str(cert()?.subject.as_str().into())),
            Field::CertSans => Ok(Value::List(
                cert()?
                    .sans
                    .iter()
                    .map(|s| Value::Str(s.as_str().into()))
                    .collect(),
            )),
            Field::CertChainValid => Ok(Value::Bool(cert()?.chain_valid)),
            Field::CertHostnameMatch => Ok(Value::Bool(cert()?.hostname_match)),
            Field::DnsAnswers => Ok(Value::List(
                dns()?
                    .answers
                    .iter()
                    .map(|s| Value::Str(s.as_str().into()))
                    .collect(),
            )),
            Field::DnsRcode => Ok(Value::Str(dns()?.rcode.as_str().into())),
            Field::TcpResponse => obs
                .tcp_response
                .as_deref()
                .map(|s| Value::Str(s.into()))
                .ok_or_else(|| absent("no reply was read")),
            // Unknown health is null: `== true` fails, `!= false` holds.
            Field::GatewayHealthy => match &obs.gateway {
                Some(g) => Ok(g.healthy.map_or(Value::Null, Value::Bool)),
                None => Err(Fail::Absent(
                    crate::discovery::GATEWAY_HEALTH_NEEDED.to_owned(),
                )),
            },
        }
    }
}

fn is_header(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Field(Field::Header(_)))
}

fn contains(haystack: &Value<'_>, needle: &Value<'_>) -> Result<bool, String> {
    if let Some(mut items) = haystack.items() {
        return Ok(items.any(|i| i.loose_eq(needle)));
    }
    match (haystack, needle) {
        (Value::Str(s), Value::Str(sub)) => Ok(s.contains(sub.as_ref())),
        (Value::Str(_), other) => Err(format!(
            "a string can only contain a string, found {}",
            other.ty().name()
        )),
        (Value::Object(map), Value::Str(key)) => Ok(map.contains_key(key.as_ref())),
        (other, _) => Err(format!(
            "'contains' needs a string or list on its left, found {}",
            other.ty().name()
        )),
    }
}

/// Inserts each note as ` (value)` after its offset.
pub(crate) fn render(source: &str, mut notes: Vec<(usize, String)>) -> String {
    notes.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(source.len() + notes.len() * 8);
    let mut last = 0;
    for (at, note) in notes {
        let Some(chunk) = source.get(last..at) else {
            continue;
        };
        out.push_str(chunk);
        out.push_str(" (");
        out.push_str(&note);
        out.push(')');
        last = at;
    }
    out.push_str(source.get(last..).unwrap_or(""));
    out
}
