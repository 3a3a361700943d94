//! The assertion language: small typed expressions such as `status == 200`,
//! `response_time < 300ms` or `body.$.status == "UP"`, judged against an [`Observation`].
//!
//! Source → [`lexer`] tokens → [`parser`] expression tree (type-checked, regexes and JSONPaths
//! compiled) → [`eval`] against an observation, which also renders the expression with the
//! actual values it saw (`status (503) == 200`). See `docs/assertions.md` for the language.

mod eval;
mod jsonpath;
mod lexer;
mod parser;
mod value;

use crate::{AssertionResult, CheckKind, Observation};

/// Longest assertion source, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1024;
/// Most tokens in one assertion.
pub const MAX_TOKENS: usize = 256;
/// Deepest nesting of parentheses, lists, `not` and `len(...)`.
pub const MAX_DEPTH: usize = 32;
/// Longest string literal, in bytes (after escapes).
pub const MAX_STRING_BYTES: usize = 512;
/// Most items in a list literal.
pub const MAX_LIST_ITEMS: usize = 64;
/// Longest regular expression, in bytes (a string literal, so also at most 512).
const MAX_REGEX_BYTES: usize = MAX_STRING_BYTES;
/// Most work the JSONPath queries of one check may do together, in nodes visited and selected
/// (re-evaluated prefixes and filter tests included); past it their assertions fail.
pub const MAX_JSONPATH_WORK: usize = 1_000_000;
/// Most segments in one JSONPath (`$.a..b[0]` has 3).
pub const MAX_JSONPATH_SEGMENTS: usize = 32;
/// Deepest nesting of arrays and objects in a body given to a JSONPath.
pub const MAX_JSON_DEPTH: usize = 128;
/// Most JSON values (scalars, arrays, objects) in a body given to a JSONPath.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// A parsed, type-checked assertion, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Assertion {
    source: String,
    expr: parser::Expr,
    needs_body: bool,
    mentions_status: bool,
    mentions_gateway: bool,
}

/// A parse error with its 1-based column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// The 1-based character column of byte offset `at` in `source`.
fn column_at(source: &str, at: usize) -> usize {
    let mut at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    source[..at].chars().count() + 1
}

/// Parses one assertion.
pub fn parse(source: &str) -> Result<Assertion, ParseError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ParseError {
            column: column_at(source, MAX_SOURCE_BYTES),
            message: format!(
                "assertion too long: expected at most {MAX_SOURCE_BYTES} bytes, found {}",
                source.len()
            ),
        });
    }
    let tokens = lexer::lex(source)?;
    let expr = parser::parse(source, tokens)?;
    let (mut needs_body, mut mentions_status, mut mentions_gateway) = (false, false, false);
    expr.for_each_field(&mut |f| match f {
        parser::Field::Body | parser::Field::BodyPath(..) => needs_body = true,
        parser::Field::Status => mentions_status = true,
        parser::Field::GatewayHealthy => mentions_gateway = true,
        _ => {}
    });
    Ok(Assertion {
        source: source.to_owned(),
        expr,
        needs_body,
        mentions_status,
        mentions_gateway,
    })
}

/// Checks that every field the assertion uses is reported by monitors of `kind`.
///
/// Source that does not parse is `Ok`: parse errors are reported by [`parse`].
pub fn check_fields(source: &str, kind: CheckKind) -> Result<(), String> {
    let Ok(assertion) = parse(source) else {
        return Ok(());
    };
    let mut missing = None;
    assertion.expr.for_each_field(&mut |f| {
        if missing.is_none() && !f.available(kind) {
            missing = Some(f.name());
        }
    });
    match missing {
        None => Ok(()),
        Some(name) => {
            let available = parser::available_fields(kind);
            let available = if available.is_empty() {
                format!("{kind} monitors have no fields to assert on")
            } else {
                format!("available: {}", available.join(", "))
            };
            Err(format!(
                "field `{name}` is not available for {kind} monitors ({available})"
            ))
        }
    }
}

impl Assertion {
    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether evaluation reads the body (`body`, `body.$...`, `len(body)`): the probe reads
    /// the body only then.
    pub fn needs_body(&self) -> bool {
        self.needs_body
    }

    /// Whether the assertion inspects `status` (the probe then does not fail on non-2xx itself).
    pub fn mentions_status(&self) -> bool {
        self.mentions_status
    }

    /// Whether the assertion reads `gateway.healthy` (the monitor must come from a gateway
    /// that reports upstream health).
    pub fn mentions_gateway(&self) -> bool {
        self.mentions_gateway
    }

    /// Evaluates against an observation. Never panics.
    pub fn evaluate(&self, obs: &Observation) -> AssertionResult {
        self.evaluate_in(&eval::Ctx::new(obs))
    }

    fn evaluate_in(&self, ctx: &eval::Ctx<'_>) -> AssertionResult {
        let mut ev = eval::Eval {
            source: &self.source,
            ctx,
            notes: Vec::new(),
        };
        let outcome = ev.condition(&self.expr);
        let actual = eval::render(&self.source, ev.notes);
        let (passed, error) = match outcome {
            Ok(passed) => (passed, None),
            Err(message) => (false, Some(message)),
        };
        AssertionResult {
            expression: self.source.clone(),
            passed,
            actual,
            error,
        }
    }
}

/// Compiled list of a monitor's assertions.
#[derive(Debug, Clone, Default)]
pub struct AssertionSet {
    assertions: Vec<Assertion>,
}

impl AssertionSet {
    /// Parses every source; the error carries the index of the first that fails.
    pub fn compile(sources: &[String]) -> Result<AssertionSet, (usize, ParseError)> {
        let assertions = sources
            .iter()
            .enumerate()
            .map(|(i, s)| parse(s).map_err(|e| (i, e)))
            .collect::<Result<_, _>>()?;
        Ok(AssertionSet { assertions })
    }

    /// Whether any assertion reads the body.
    pub fn needs_body(&self) -> bool {
        self.assertions.iter().any(Assertion::needs_body)
    }

    /// Whether any assertion inspects `status`.
    pub fn mentions_status(&self) -> bool {
        self.assertions.iter().any(Assertion::mentions_status)
    }

    /// Whether there are no assertions.
    pub fn is_empty(&self) -> bool {
        self.assertions.is_empty()
    }

    /// The compiled assertions, in order.
    pub fn assertions(&self) -> &[Assertion] {
        &self.assertions
    }

    /// Evaluates every assertion (one result each, in order); a JSON body is parsed at most once.
    pub fn evaluate(&self, obs: &Observation) -> Vec<AssertionResult> {
        let ctx = eval::Ctx::new(obs);
        self.assertions
            .iter()
            .map(|a| a.evaluate_in(&ctx))
            .collect()
    }
}
