//! Bounded JSONPath queries into the body.
//!
//! `serde_json_path` evaluates a query without any limit: repeated descendant segments
//! (`$..*..*..*`) multiply the nodes visited and selected, and a 10 KB body can take gigabytes.
//! A [`BoundedPath`] is therefore split into its segments and run one prefix at a time. Before a
//! prefix runs, the work its last segment can do on the nodes selected so far (nodes visited,
//! selectors applied, filter tests) is counted, and the query fails once the total of the
//! check's queries passes [`MAX_JSONPATH_WORK`]. Filters may hold only singular queries and literal regex patterns, so
//! testing one node against a filter costs a known amount. The nodes selected are references
//! into the parsed body, never copies.

use std::cell::Cell;

use serde_json::Value as Json;
use serde_json_path::JsonPath;

use super::parser::build_regex;
use super::{MAX_JSON_DEPTH, MAX_JSON_VALUES, MAX_JSONPATH_SEGMENTS, MAX_JSONPATH_WORK};

/// Work charged for one `match()` or `search()` call in a filter (it compiles its pattern).
const REGEX_CALL_WORK: usize = 256;
/// String bytes that weigh as much as one value (a filter test reads strings).
const STRING_BYTES_PER_WORK: usize = 64;

/// A JSON body parsed for JSONPath queries, with what bounds the work of a filter on it.
#[derive(Debug)]
pub(crate) struct Body {
    value: Json,
    /// The body's weight for the work limit: its values plus its string bytes / 64.
    weight: usize,
    /// Work the queries of this check may still do.
    work_left: Cell<usize>,
}

impl Body {
    /// Parses a body after checking its nesting depth and number of values.
    pub fn parse(bytes: &[u8]) -> Result<Body, String> {
        let weight = scan(bytes)?;
        let value =
            serde_json::from_slice(bytes).map_err(|e| format!("body is not valid JSON: {e}"))?;
        Ok(Body {
            value,
            weight,
            work_left: Cell::new(MAX_JSONPATH_WORK),
        })
    }
}

/// Checks depth and value count of JSON text without building it; returns its weight (see
/// [`weight`]). Malformed text passes here and is reported by the parser.
fn scan(bytes: &[u8]) -> Result<usize, String> {
    let (mut depth, mut values, mut string_bytes) = (0usize, 1usize, 0usize);
    let mut string_start: Option<usize> = None;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(start) = string_start {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                string_bytes += i - start;
                string_start = None;
            }
            continue;
        }
        match b {
            b'"' => string_start = Some(i + 1),
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!(
                        "body JSON is nested too deeply for a JSONPath (at most {MAX_JSON_DEPTH} levels)"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > MAX_JSON_VALUES {
            return Err(format!(
                "body JSON has too many values for a JSONPath (at most {MAX_JSON_VALUES})"
            ));
        }
    }
    Ok(values + string_bytes / STRING_BYTES_PER_WORK)
}

/// A JSONPath split into segments, each with the work it may do and the path up to it.
#[derive(Debug, Clone)]
pub(crate) struct BoundedPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
struct Segment {
    /// `..`: the selectors apply to every descendant.
    descendant: bool,
    /// Selectors in the segment (`[a,b,c]` has 3).
    selectors: usize,
    /// What testing one node against the segment's filters costs; `None` without a filter.
    filter: Option<FilterCost>,
    /// The path from `$` up to and including this segment.
    prefix: JsonPath,
}

/// The cost of testing one node against a filter.
#[derive(Debug, Clone, Copy, Default)]
struct FilterCost {
    /// Work that does not depend on the body (the filter's length, regex compilation).
    fixed: usize,
    /// Queries in the filter (`@` or `$`).
    queries: usize,
    /// Whether a query starts at the root (`$`), so it may read the whole body.
    root_queries: bool,
}

/// An error at a byte offset of the path.
type PathError = (usize, String);

impl BoundedPath {
    /// Splits a path that `serde_json_path` accepted into segments and checks its filters.
    pub fn compile(path: &str) -> Result<BoundedPath, PathError> {
        let b = path.as_bytes();
        if b.first() != Some(&b'$') {
            return Err((0, "a JSONPath starts with $".to_owned()));
        }
        let mut segments = Vec::new();
        let mut i = 1;
        while i < b.len() {
            let start = i;
            if segments.len() == MAX_JSONPATH_SEGMENTS {
                return Err((
                    start,
                    format!("JSONPath too long (at most {MAX_JSONPATH_SEGMENTS} segments)"),
                ));
            }
            let descendant = b[i..].starts_with(b"..");
            if descendant {
                i += 2;
            } else if b[i] == b'.' {
                i += 1;
            }
            let (selectors, filter) = if b.get(i) == Some(&b'[') {
                let (end, selectors, filter) = bracket(path, i)?;
                i = end;
                (selectors, filter)
            } else if i > start {
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                (1, None)
            } else {
                return Err((start, format!("unexpected character in JSONPath {path}")));
            };
            let prefix = JsonPath::parse(&path[..i])
                .map_err(|e| (start, format!("invalid JSONPath {path}: {}", e.message())))?;
            segments.push(Segment {
                descendant,
                selectors,
                filter,
                prefix,
            });
        }
        Ok(BoundedPath { segments })
    }

    /// The nodes the path selects in `body`, or an error once the work of the check's queries
    /// passes the limit (then every later query on this body fails too).
    pub fn query<'j>(&self, body: &'j Body) -> Result<Vec<&'j Json>, String> {
        let root = &body.value;
        let budget = body.work_left.get();
        let mut nodes = vec![root];
        let (mut spent, mut prefix) = (0usize, 0usize);
        let exceeded = || {
            body.work_left.set(0);
            Err(format!(
                "JSONPath queries exceeded their limit of {MAX_JSONPATH_WORK} nodes per check"
            ))
        };
        for segment in &self.segments {
            // Each prefix runs from the root, so it costs every segment so far once more.
            let room = budget.saturating_sub(spent);
            let Some(work) = segment.work(&nodes, body.weight, room.saturating_sub(prefix)) else {
                return exceeded();
            };
            prefix = prefix.saturating_add(work);
            spent = spent.saturating_add(prefix);
            if spent > budget {
                return exceeded();
            }
            nodes = segment.prefix.query(root).all();
        }
        body.work_left.set(budget - spent);
        Ok(nodes)
    }
}

impl Segment {
    /// Upper bound of the work of applying this segment to `nodes`; `None` past `room`.
    ///
    /// A filter test on a child reads, with each of its singular queries, at most the child's
    /// subtree (only `@` queries) or the whole body (a `$` query): comparisons, `length()` and
    /// regexes cost at most the values and string bytes they can reach.
    fn work(&self, nodes: &[&Json], body_weight: usize, room: usize) -> Option<usize> {
        let mut total = 0usize;
        let mut stack: Vec<&Json> = Vec::new();
        for &node in nodes {
            stack.push(node);
            while let Some(n) = stack.pop() {
                let kids = children(n);
                total = total.saturating_add(self.selectors.saturating_mul(kids.len() + 1));
                if let Some(f) = self.filter {
                    for &child in &kids {
                        let reach = match (f.queries, f.root_queries) {
                            (0, _) => 0,
                            (_, true) => body_weight,
                            (_, false) => weight(child, room.saturating_sub(total))?,
                        };
                        total = total
                            .saturating_add(f.fixed)
                            .saturating_add(f.queries.saturating_mul(reach));
                        if total > room {
                            return None;
                        }
                    }
                }
                if total > room {
                    return None;
                }
                if self.descendant {
                    stack.extend(kids);
                }
            }
        }
        Some(total)
    }
}

/// The weight of a subtree: one per value plus one per 64 string bytes; `None` past `cap`.
fn weight(node: &Json, cap: usize) -> Option<usize> {
    let mut total = 0usize;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        total += 1;
        match n {
            Json::String(s) => total += s.len() / STRING_BYTES_PER_WORK,
            Json::Array(items) => stack.extend(items),
            Json::Object(map) => stack.extend(map.values()),
            _ => {}
        }
        if total > cap {
            return None;
        }
    }
    Some(total)
}

/// The direct children of an array or object, in order.
fn children(n: &Json) -> Vec<&Json> {
    match n {
        Json::Array(items) => items.iter().collect(),
        Json::Object(map) => map.values().collect(),
        _ => Vec::new(),
    }
}

/// Scans the bracketed segment opening at `open`: the offset after its `]`, its number of
/// selectors and the cost of its filters. Filters may hold only singular queries (names and
/// indexes) and `match()`/`search()` with a literal pattern that compiles within the limits.
fn bracket(path: &str, open: usize) -> Result<(usize, usize, Option<FilterCost>), PathError> {
    let b = path.as_bytes();
    let (mut depth, mut parens, mut selectors) = (1usize, 0usize, 1usize);
    let mut filter: Option<FilterCost> = None;
    let mut in_filter = false;
    let mut selector_start = true;
    let singular = |at: usize, what: &str| {
        Err((
            at,
            format!(
                "JSONPath filters may hold only singular queries (names and indexes): {what} is not allowed in a filter"
            ),
        ))
    };
    let mut i = open + 1;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            let end = string_end(b, i)?;
            if let (true, Some(f)) = (in_filter, filter.as_mut()) {
                f.fixed += end - i;
            }
            i = end;
            selector_start = false;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if depth == 1 && parens == 0 && selector_start && c == b'?' {
            in_filter = true;
            filter.get_or_insert_with(FilterCost::default);
            selector_start = false;
            i += 1;
            continue;
        }
        selector_start = false;
        if let (true, Some(f)) = (in_filter, filter.as_mut()) {
            f.fixed += 1;
            match c {
                b'@' => f.queries += 1,
                b'$' => {
                    f.queries += 1;
                    f.root_queries = true;
                }
                b'*' => return singular(i, "the wildcard *"),
                b'?' => return singular(i, "a nested filter ?"),
                b':' => return singular(i, "a slice a:b"),
                b',' if depth > 1 => return singular(i, "a union a,b"),
                b'.' if b.get(i + 1) == Some(&b'.') => return singular(i, "descendants .."),
                b'(' => {
                    if let Some(name) = function_before(path, i)
                        && (name == "match" || name == "search")
                    {
                        check_pattern(path, i, name)?;
                        f.fixed += REGEX_CALL_WORK;
                    }
                }
                _ => {}
            }
        }
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((i + 1, selectors, filter));
                }
            }
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            b',' if depth == 1 && parens == 0 => {
                selectors += 1;
                in_filter = false;
                selector_start = true;
            }
            _ => {}
        }
        i += 1;
    }
    Err((open, format!("unclosed '[' in JSONPath {path}")))
}

/// The offset just after the string literal that opens at `start`.
fn string_end(b: &[u8], start: usize) -> Result<usize, PathError> {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err((start, "unclosed string in JSONPath".to_owned()))
}

/// The function name that ends just before the `(` at `paren`, if any.
fn function_before(path: &str, paren: usize) -> Option<&str> {
    let head = &path[..paren];
    let start = head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    (start < paren).then(|| &head[start..])
}

/// Checks that the second argument of the `match(`/`search(` call whose `(` is at `paren` is a
/// string literal that compiles within the regex limits: the function compiles it for every
/// node it tests, so neither its size nor its source may come from the body.
fn check_pattern(path: &str, paren: usize, name: &str) -> Result<(), PathError> {
    let b = path.as_bytes();
    let not_literal = |at: usize| {
        Err((
            at,
            format!("the pattern of {name}() in a JSONPath must be a string literal"),
        ))
    };
    let (mut i, mut depth) = (paren + 1, 0usize);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = string_end(b, i)?;
                continue;
            }
            b'(' | b'[' => depth += 1,
            b')' | b']' if depth == 0 => return not_literal(i),
            b')' | b']' => depth -= 1,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    i += 1;
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if !matches!(b.get(i), Some(b'\'' | b'"')) {
        return not_literal(i.min(b.len()));
    }
    let end = string_end(b, i)?;
    let pattern = unquote(&path[i..end])
        .ok_or_else(|| (i, format!("invalid string literal in JSONPath {path}")))?;
    build_regex(&pattern)
        .map(drop)
        .map_err(|detail| (i, format!("invalid regular expression: {detail}")))
}

/// The value of a JSONPath string literal (single- or double-quoted, JSON escapes).
fn unquote(literal: &str) -> Option<String> {
    if literal.starts_with('"') {
        return serde_json::from_str(literal).ok();
    }
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut json = String::with_capacity(inner.len() + 2);
    json.push('"');
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\'' => json.push('\''),
                other => {
                    json.push('\\');
                    json.push(other);
                }
            },
            '"' => json.push_str("\\\""),
            other => json.push(other),
        }
    }
    json.push('"');
    serde_json::from_str(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<(bool, usize, bool)> {
        BoundedPath::compile(path)
            .unwrap()
            .segments
            .iter()
            .map(|s| (s.descendant, s.selectors, s.filter.is_some()))
            .collect()
    }

    #[test]
    fn splits_segments() {
        assert_eq!(segments("$"), vec![]);
        assert_eq!(
            segments("$.a..b[0,1]['x.y[']..[?@.k == 'a]']"),
            vec![
                (false, 1, false),
                (true, 1, false),
                (false, 2, false),
                (false, 1, false),
                (true, 1, true)
            ]
        );
        assert_eq!(
            segments("$..*[*]"),
            vec![(true, 1, false), (false, 1, false)]
        );
    }

    #[test]
    fn answers_like_serde_json_path() {
        let text = r#"{"store":{"book":[{"t":"a","p":8,"tags":["x"]},{"t":"b","p":12}],"x.y":{"z":[1,2,3]}},"limit":10,"re":"^a"}"#;
        let body = Body::parse(text.as_bytes()).unwrap();
        for path in [
            "$",
            "$.store.book[0].t",
            "$..book[?@.p < $.limit].t",
            "$..*",
            "$..[0]",
            "$.store['x.y'].z[1:]",
            "$.store[ 'book' , 'x.y' ]",
            "$..book[?match(@.t, '[a-c]')][\"p\"]",
            "$..book[?search(@.t, \"b\") || length(@.tags) == 1].p",
            "$.store.*..z[-1]",
        ] {
            let bounded = BoundedPath::compile(path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
            let want = JsonPath::parse(path).unwrap().query(&body.value).all();
            assert_eq!(bounded.query(&body).unwrap(), want, "{path}");
        }
    }

    #[test]
    fn filters_hold_only_singular_queries() {
        for ok in [
            "$[?@.a == 1]",
            "$[?@.a.b[0] < $.c]",
            "$[?match(@.name, 'a.*')]",
            "$[?search(@, \"x\\\\d\")]",
            "$[?length(@) > 2 && !@.late]",
        ] {
            assert!(BoundedPath::compile(ok).is_ok(), "{ok}");
        }
        for (bad, wanted) in [
            ("$[?@.*]", "the wildcard"),
            ("$[?@..a]", "descendants"),
            ("$[?@[?@.a]]", "nested filter"),
            ("$[?@[0:2]]", "slice"),
            ("$[?@[0,1]]", "union"),
            ("$[?match(@.a, @.b)]", "must be a string literal"),
            ("$[?search(@, '(a{100}){100}')]", "compiles too big"),
        ] {
            let (_, message) = BoundedPath::compile(bad).unwrap_err();
            assert!(message.contains(wanted), "{bad}: {message}");
        }
    }

    #[test]
    fn scan_bounds_depth_and_values() {
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(
            scan(deep.as_bytes())
                .unwrap_err()
                .contains("nested too deeply")
        );
        let fine = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(scan(fine.as_bytes()).is_ok());
        let long = format!(
            r#"{{"a":"{}","b":["{}"]}}"#,
            "x".repeat(640),
            "y".repeat(64)
        );
        assert_eq!(scan(long.as_bytes()), Ok(4 + 704 / 64));
    }
}
