//! Recursive-descent parser and static type check.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparison. `not` applies to a whole
//! comparison (`not status == 200` means `not (status == 200)`), as in SQL and Python.

use regex::Regex;
use serde_json_path::JsonPath;

use super::jsonpath::BoundedPath;

use super::lexer::{Quotes, Tok, Token};
use super::value::{CmpOp, Ty, Value, check_compare};
use super::{MAX_DEPTH, MAX_LIST_ITEMS, MAX_REGEX_BYTES, ParseError, column_at};
use crate::CheckKind;

/// A field of an observation.
#[derive(Debug, Clone)]
pub(crate) enum Field {
    Status,
    ResponseTime,
    DnsTime,
    ConnectTime,
    TlsTime,
    FirstByteTime,
    /// Header name, lowercased.
    Header(String),
    Body,
    /// A JSONPath into the body: source text, compiled path, and whether it is singular
    /// (selects at most one node).
    BodyPath(String, Box<BoundedPath>, bool),
    CertExpiresIn,
    CertIssuer,
    CertSubject,
    CertSans,
    CertChainValid,
    CertHostnameMatch,
    DnsAnswers,
    DnsRcode,
    TcpResponse,
    GatewayHealthy,
}

/// Plain (dotted) field names, for parsing and error messages.
const NAMED_FIELDS: [(&str, Field); 17] = [
    ("status", Field::Status),
    ("response_time", Field::ResponseTime),
    ("dns_time", Field::DnsTime),
    ("connect_time", Field::ConnectTime),
    ("tls_time", Field::TlsTime),
    ("first_byte_time", Field::FirstByteTime),
    ("body", Field::Body),
    ("cert.expires_in", Field::CertExpiresIn),
    ("cert.issuer", Field::CertIssuer),
    ("cert.subject", Field::CertSubject),
    ("cert.sans", Field::CertSans),
    ("cert.chain_valid", Field::CertChainValid),
    ("cert.hostname_match", Field::CertHostnameMatch),
    ("dns.answers", Field::DnsAnswers),
    ("dns.rcode", Field::DnsRcode),
    ("tcp.response", Field::TcpResponse),
    ("gateway.healthy", Field::GatewayHealthy),
];

const KEYWORDS: [&str; 10] = [
    "and", "or", "not", "in", "contains", "matches", "true", "false", "null", "len",
];

pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

impl Field {
    /// The name used in messages (`headers["x"]` → `headers`).
    pub fn name(&self) -> &'static str {
        match self {
            Field::Header(_) => "headers",
            Field::BodyPath(..) => "body",
            other => NAMED_FIELDS
                .iter()
                .find(|(_, f)| std::mem::discriminant(f) == std::mem::discriminant(other))
                .map_or("?", |(n, _)| n),
        }
    }

    pub fn ty(&self) -> Ty {
        match self {
            Field::Status => Ty::Int,
            Field::ResponseTime
            | Field::DnsTime
            | Field::ConnectTime
            | Field::TlsTime
            | Field::FirstByteTime
            | Field::CertExpiresIn => Ty::Duration,
            Field::Header(_)
            | Field::Body
            | Field::CertIssuer
            | Field::CertSubject
            | Field::DnsRcode
            | Field::TcpResponse => Ty::Str,
            Field::BodyPath(..) => Ty::Any,
            Field::CertSans | Field::DnsAnswers => Ty::List,
            Field::CertChainValid | Field::CertHostnameMatch | Field::GatewayHealthy => Ty::Bool,
        }
    }

    /// Whether a monitor of `kind` reports this field.
    pub fn available(&self, kind: CheckKind) -> bool {
        available_fields(kind).contains(&self.name())
    }
}

/// The fields a kind reports, by message name.
pub(crate) fn available_fields(kind: CheckKind) -> &'static [&'static str] {
    const CERT: [&str; 6] = [
        "cert.expires_in",
        "cert.issuer",
        "cert.subject",
        "cert.sans",
        "cert.chain_valid",
        "cert.hostname_match",
    ];
    match kind {
        CheckKind::Http => &[
            "status",
            "response_time",
            "dns_time",
            "connect_time",
            "tls_time",
            "first_byte_time",
            "headers",
            "body",
            CERT[0],
            CERT[1],
            CERT[2],
            CERT[3],
            CERT[4],
            CERT[5],
            "gateway.healthy",
        ],
        CheckKind::Tcp => &["response_time", "connect_time", "tcp.response"],
        CheckKind::Dns => &["response_time", "dns.answers", "dns.rcode"],
        CheckKind::Tls => &[
            "response_time",
            "connect_time",
            "tls_time",
            CERT[0],
            CERT[1],
            CERT[2],
            CERT[3],
            CERT[4],
            CERT[5],
        ],
        CheckKind::Heartbeat => &[],
    }
}

/// An expression node with its byte span in the source.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    /// A literal, with its source text (for hints).
    Lit(Value<'static>),
    Field(Field),
    Len(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Contains(Box<Expr>, Box<Expr>),
    Matches(Box<Expr>, Regex),
    In {
        item: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
    },
}

impl Expr {
    /// Calls `f` on every field, including those inside `len(...)`.
    pub fn for_each_field(&self, f: &mut dyn FnMut(&Field)) {
        match &self.kind {
            ExprKind::Lit(_) => {}
            ExprKind::Field(field) => f(field),
            ExprKind::Len(e) | ExprKind::Not(e) | ExprKind::Matches(e, _) => e.for_each_field(f),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::Contains(a, b)
            | ExprKind::In {
                item: a, list: b, ..
            } => {
                a.for_each_field(f);
                b.for_each_field(f);
            }
        }
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Parses tokens into a type-checked expression.
pub(crate) fn parse(source: &str, tokens: Vec<Token>) -> Result<Expr, ParseError> {
    let mut p = Parser {
        source,
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &Tok::Eof {
        return Err(p.err_here("expected an assertion such as `status == 200`, found end of input"));
    }
    let expr = p.or()?;
    if p.peek() != &Tok::Eof {
        return Err(p.found("expected 'and', 'or' or end of input"));
    }
    let ty = type_of(source, &expr)?;
    if ty != Ty::Bool && ty != Ty::Any {
        return Err(ParseError {
            column: column_at(source, expr.start),
            message: format!(
                "expected a condition (true or false), found {} expression; compare it, e.g. `status == 200`",
                ty.a_name()
            ),
        });
    }
    Ok(expr)
}

impl Parser<'_> {
    fn tok(&self) -> &Token {
        // The token list always ends with Eof and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }
    fn peek(&self) -> &Tok {
        &self.tok().tok
    }
    fn peek2(&self) -> &Tok {
        let i = (self.pos + 1).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }
    fn bump(&mut self) -> Token {
        let t = self.tok().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }
    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == name)
    }
    fn text(&self, t: &Token) -> &str {
        self.source.get(t.start..t.end).unwrap_or("")
    }
    fn err_at(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column: column_at(self.source, at),
            message: message.into(),
        }
    }
    fn err_here(&self, message: impl Into<String>) -> ParseError {
        self.err_at(self.tok().start, message)
    }
    /// "`expected`, found <current token>".
    fn found(&self, expected: &str) -> ParseError {
        let t = self.tok();
        let found = t.tok.describe(self.text(t));
        self.err_here(format!("{expected}, found {found}"))
    }
    /// Enters one nesting level opened by the token at byte `at`.
    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_at(
                at,
                format!("expression nested too deeply (at most {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The expression inside a group opened at `open` (its `(` already taken) and where its
    /// `)` ends; `missing` says what was expected when that `)` is not there.
    fn group(&mut self, open: usize, missing: &str) -> Result<(Expr, usize), ParseError> {
        self.enter(open)?;
        let inner = self.or()?;
        if self.peek() != &Tok::RParen {
            return Err(self.found(missing));
        }
        let close = self.bump();
        self.leave();
        Ok((inner, close.end))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.chain("or", &Tok::OrOr, Self::and, ExprKind::Or)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.chain("and", &Tok::AndAnd, Self::not, ExprKind::And)
    }

    /// A left-associative chain of `operand`s joined by the keyword `word` or by `symbol`.
    fn chain(
        &mut self,
        word: &str,
        symbol: &Tok,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        join: fn(Box<Expr>, Box<Expr>) -> ExprKind,
    ) -> Result<Expr, ParseError> {
        let mut left = operand(self)?;
        while self.is_name(word) || self.peek() == symbol {
            self.bump();
            let right = operand(self)?;
            left = Expr {
                start: left.start,
                end: right.end,
                kind: join(Box::new(left), Box::new(right)),
            };
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_name("not") || self.peek() == &Tok::Bang {
            let op = self.bump();
            self.enter(op.start)?;
            if self.peek() == &Tok::Eof {
                return Err(self.found(&format!("expected a condition after '{}'", self.text(&op))));
            }
            let inner = self.not()?;
            self.leave();
            return Ok(Expr {
                start: op.start,
                end: inner.end,
                kind: ExprKind::Not(Box::new(inner)),
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.operand("expected a field or value")?;
        let op = match self.peek() {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.operand(&format!("expected a value after '{}'", op.symbol()))?;
            return Ok(Expr {
                start: left.start,
                end: right.end,
                kind: ExprKind::Cmp(op, Box::new(left), Box::new(right)),
            });
        }
        if self.is_name("contains") {
            self.bump();
            let right = self.operand("expected a value after 'contains'")?;
            return Ok(Expr {
                start: left.start,
                end: right.end,
                kind: ExprKind::Contains(Box::new(left), Box::new(right)),
            });
        }
        if self.is_name("matches") {
            self.bump();
            let t = self.tok().clone();
            let Tok::Str(pattern) = &t.tok else {
                return Err(self.found("expected a regular expression string after 'matches'"));
            };
            if pattern.len() > MAX_REGEX_BYTES {
                return Err(self.err_at(
                    t.start,
                    format!("regular expression too long (at most {MAX_REGEX_BYTES} bytes)"),
                ));
            }
            let regex = build_regex(pattern).map_err(|detail| {
                self.err_at(t.start, format!("invalid regular expression: {detail}"))
            })?;
            self.bump();
            return Ok(Expr {
                start: left.start,
                end: t.end,
                kind: ExprKind::Matches(Box::new(left), regex),
            });
        }
        let negated = self.is_name("not") && matches!(self.peek2(), Tok::Name(n) if n == "in");
        if negated || self.is_name("in") {
            if negated {
                self.bump();
            }
            self.bump();
            let list = self.operand("expected a list after 'in'")?;
            return Ok(Expr {
                start: left.start,
                end: list.end,
                kind: ExprKind::In {
                    item: Box::new(left),
                    list: Box::new(list),
                    negated,
                },
            });
        }
        let at_boundary = matches!(
            self.peek(),
            Tok::Eof | Tok::RParen | Tok::AndAnd | Tok::OrOr | Tok::Comma | Tok::RBracket
        ) || self.is_name("and")
            || self.is_name("or");
        if !at_boundary {
            return Err(self.found(
                "expected an operator (==, !=, <, <=, >, >=, contains, matches, in), 'and', 'or' or end of input",
            ));
        }
        Ok(left)
    }

    /// A field, literal, `len(...)` or parenthesised expression.
    fn operand(&mut self, expected: &str) -> Result<Expr, ParseError> {
        let t = self.tok().clone();
        match &t.tok {
            Tok::LParen => {
                self.bump();
                let (inner, end) = self.group(t.start, "expected ')'")?;
                Ok(Expr {
                    start: t.start,
                    end,
                    kind: inner.kind,
                })
            }
            Tok::JsonPath(path) => {
                self.bump();
                let path_start = t.end - path.len();
                JsonPath::parse(path).map_err(|e| {
                    let offset = path.get(..e.position()).map_or(0, str::len);
                    self.err_at(
                        path_start + offset,
                        format!("invalid JSONPath {path}: {}", e.message()),
                    )
                })?;
                let compiled = BoundedPath::compile(path)
                    .map_err(|(offset, message)| self.err_at(path_start + offset, message))?;
                Ok(self.node(
                    &t,
                    ExprKind::Field(Field::BodyPath(
                        path.clone(),
                        Box::new(compiled),
                        is_singular(path),
                    )),
                ))
            }
            Tok::Name(name) if name == "len" && self.peek2() == &Tok::LParen => {
                self.bump();
                self.bump();
                let (inner, end) = self.group(t.start, "expected ')' to close len(")?;
                Ok(Expr {
                    start: t.start,
                    end,
                    kind: ExprKind::Len(Box::new(inner)),
                })
            }
            Tok::Name(name) if name == "headers" => {
                self.bump();
                if self.peek() != &Tok::LBracket {
                    return Err(
                        self.found("expected '[' after `headers`, as in headers[\"content-type\"]")
                    );
                }
                self.bump();
                let Tok::Str(header) = self.peek().clone() else {
                    return Err(self.found("expected a header name string in headers[...]"));
                };
                self.bump();
                if self.peek() != &Tok::RBracket {
                    return Err(self.found("expected ']' after the header name"));
                }
                let close = self.bump();
                Ok(Expr {
                    start: t.start,
                    end: close.end,
                    kind: ExprKind::Field(Field::Header(header.to_ascii_lowercase())),
                })
            }
            Tok::Name(name)
                if !is_keyword(name) || matches!(name.as_str(), "true" | "false" | "null") =>
            {
                self.bump();
                let kind = match name.as_str() {
                    "true" => ExprKind::Lit(Value::Bool(true)),
                    "false" => ExprKind::Lit(Value::Bool(false)),
                    "null" => ExprKind::Lit(Value::Null),
                    _ => match NAMED_FIELDS.iter().find(|(n, _)| n == name) {
                        Some((_, field)) => ExprKind::Field(field.clone()),
                        None => {
                            let mut names: Vec<&str> =
                                NAMED_FIELDS.iter().map(|(n, _)| *n).collect();
                            names.insert(6, "headers[\"name\"]");
                            names.insert(8, "body.$...");
                            let hint = if name.starts_with("body.") {
                                "; a JSONPath into the body starts with $, as in body.$.status"
                                    .to_owned()
                            } else {
                                format!("; expected one of {}", names.join(", "))
                            };
                            return Err(
                                self.err_at(t.start, format!("unknown field `{name}`{hint}"))
                            );
                        }
                    },
                };
                Ok(self.node(&t, kind))
            }
            Tok::Minus => {
                self.bump();
                let n = self.tok().clone();
                let value = match n.tok {
                    Tok::Int(i) => Value::Int(-i),
                    Tok::Float(f) => Value::Float(-f),
                    Tok::Duration(d) => Value::Duration(-d),
                    _ => return Err(self.found("expected a number or duration after '-'")),
                };
                self.bump();
                Ok(Expr {
                    start: t.start,
                    end: n.end,
                    kind: ExprKind::Lit(value),
                })
            }
            Tok::Int(i) => {
                self.bump();
                Ok(self.node(&t, ExprKind::Lit(Value::Int(*i))))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(self.node(&t, ExprKind::Lit(Value::Float(*f))))
            }
            Tok::Duration(d) => {
                self.bump();
                Ok(self.node(&t, ExprKind::Lit(Value::Duration(*d))))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(self.node(&t, ExprKind::Lit(Value::Str(s.clone().into()))))
            }
            Tok::LBracket => self.list(),
            _ => Err(self.found(expected)),
        }
    }

    fn node(&self, t: &Token, kind: ExprKind) -> Expr {
        Expr {
            kind,
            start: t.start,
            end: t.end,
        }
    }

    /// `[literal, ...]`
    fn list(&mut self) -> Result<Expr, ParseError> {
        let open = self.bump();
        self.enter(open.start)?;
        let mut items = Vec::new();
        if self.peek() != &Tok::RBracket {
            loop {
                if items.len() == MAX_LIST_ITEMS {
                    return Err(
                        self.err_here(format!("list too long (at most {MAX_LIST_ITEMS} items)"))
                    );
                }
                let item = self.operand("expected a value in the list")?;
                let ExprKind::Lit(value) = item.kind else {
                    return Err(self.err_at(
                        item.start,
                        "expected a literal value in the list (fields are not allowed in lists)",
                    ));
                };
                items.push(value);
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                        if self.peek() == &Tok::RBracket {
                            break;
                        }
                    }
                    Tok::RBracket => break,
                    _ => return Err(self.found("expected ',' or ']' in the list")),
                }
            }
        }
        let close = self.bump();
        self.leave();
        Ok(Expr {
            start: open.start,
            end: close.end,
            kind: ExprKind::Lit(Value::List(items)),
        })
    }
}

/// Compiles a regular expression within the assertion limits (64 KiB compiled, 64 KiB DFA
/// cache, 64 levels of nesting); the error is one line saying what is wrong.
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(64 * 1024)
        .dfa_size_limit(64 * 1024)
        .nest_limit(64)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "it compiles too big (limit 64 KiB)".to_owned(),
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_owned(),
        })
}

/// The source text of a number literal, for the "write 300ms" hint.
pub(crate) fn number_hint<'a>(source: &'a str, e: &Expr) -> Option<&'a str> {
    match &e.kind {
        ExprKind::Lit(Value::Int(_) | Value::Float(_)) => source.get(e.start..e.end),
        _ => None,
    }
}

/// The static type of `e`, or an error at the offending operand.
fn type_of(source: &str, e: &Expr) -> Result<Ty, ParseError> {
    let err = |at: &Expr, message: String| ParseError {
        column: column_at(source, at.start),
        message,
    };
    let want_bool = |x: &Expr, what: &str| -> Result<(), ParseError> {
        let ty = type_of(source, x)?;
        if ty == Ty::Bool || ty == Ty::Any {
            Ok(())
        } else {
            Err(err(
                x,
                format!(
                    "expected a condition (true or false) {what}, found {} expression",
                    ty.a_name()
                ),
            ))
        }
    };
    Ok(match &e.kind {
        ExprKind::Lit(v) => v.ty(),
        ExprKind::Field(f) => f.ty(),
        ExprKind::Len(x) => match type_of(source, x)? {
            Ty::Str | Ty::List | Ty::Object | Ty::Any => Ty::Int,
            ty => {
                return Err(err(
                    x,
                    format!("len() takes a string or list, found {}", ty.name()),
                ));
            }
        },
        ExprKind::Not(x) => {
            want_bool(x, "after 'not'")?;
            Ty::Bool
        }
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            let op = if matches!(e.kind, ExprKind::And(..)) {
                "and"
            } else {
                "or"
            };
            want_bool(a, &format!("before '{op}'"))?;
            want_bool(b, &format!("after '{op}'"))?;
            Ty::Bool
        }
        ExprKind::Cmp(op, a, b) => {
            let (l, r) = (type_of(source, a)?, type_of(source, b)?);
            let hint = number_hint(source, a).or_else(|| number_hint(source, b));
            check_compare(*op, l, r, hint).map_err(|m| err(b, m))?;
            Ty::Bool
        }
        ExprKind::Contains(a, b) => {
            let (l, r) = (type_of(source, a)?, type_of(source, b)?);
            match (l, r) {
                (Ty::Str, Ty::Str | Ty::Any) | (Ty::List | Ty::Any, _) => {}
                (Ty::Str, r) => {
                    return Err(err(
                        b,
                        format!("a string can only contain a string, found {}", r.name()),
                    ));
                }
                (l, _) => {
                    return Err(err(
                        a,
                        format!(
                            "'contains' needs a string or list on its left, found {}",
                            l.name()
                        ),
                    ));
                }
            }
            Ty::Bool
        }
        ExprKind::Matches(a, _) => {
            let l = type_of(source, a)?;
            if l != Ty::Str && l != Ty::Any {
                return Err(err(
                    a,
                    format!("'matches' needs a string on its left, found {}", l.name()),
                ));
            }
            Ty::Bool
        }
        ExprKind::In { item, list, .. } => {
            type_of(source, item)?;
            let r = type_of(source, list)?;
            if r != Ty::List && r != Ty::Any {
                return Err(err(
                    list,
                    format!("expected a list after 'in', found {}", r.name()),
                ));
            }
            Ty::Bool
        }
    })
}

/// Whether a JSONPath is a singular query (RFC 9535 §2.3.5.1): only name and index selectors, so
/// it selects at most one node. Wildcards, slices, unions, filters and descendants are not.
pub(crate) fn is_singular(path: &str) -> bool {
    let mut quotes = Quotes::default();
    let mut prev = ' ';
    for c in path.chars() {
        if quotes.consume(c) {
            continue;
        }
        match c {
            '\'' | '"' => quotes.open(c),
            '*' | '?' | ':' | ',' => return false,
            '.' if prev == '.' => return false,
            _ => {}
        }
        prev = c;
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn singular_paths() {
        for path in [
            "$",
            "$.a.b[0]",
            "$['a.b'][-1]",
            "$[\"x*?,:\"].y",
            "$.a['it\\'s']",
        ] {
            assert!(super::is_singular(path), "{path}");
        }
        for path in [
            "$.a[*]",
            "$..a",
            "$.a[0:2]",
            "$.a[0,1]",
            "$.a[?@.x == 1]",
            "$.*",
        ] {
            assert!(!super::is_singular(path), "{path}");
        }
    }
}
