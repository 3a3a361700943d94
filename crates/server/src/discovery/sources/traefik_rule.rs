//! Traefik's router rules (`Host(`shop.example.com`) && PathPrefix(`/api`)`), parsed into
//! the URLs they serve: each alternative of the rule in disjunctive form gives at most one
//! host and one path. `Host`, `Path` and `PathPrefix` constrain the URL; `Method` is kept as
//! a tag; `Headers`, `HeadersRegexp`, `Header`, `HeaderRegexp`, `Query`, `QueryRegexp` and
//! `ClientIP` do not change the URL and are ignored; an alternative needing `HostRegexp` or
//! `PathRegexp` has no URL to check and is skipped with that reason. A negated matcher
//! (`!Path(...)`) constrains nothing. Rules are bounded ([`MAX_RULE_BYTES`], [`MAX_DEPTH`],
//! [`MAX_ALTERNATIVES`]) and a malformed one is an error naming the byte where it went wrong,
//! never a panic.

/// Longest rule parsed.
pub const MAX_RULE_BYTES: usize = 4096;
/// Deepest nesting of parentheses and `!`.
pub const MAX_DEPTH: usize = 32;
/// Most alternatives a rule may expand to.
pub const MAX_ALTERNATIVES: usize = 64;

/// Why a rule could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule: {message} (at byte {at})")]
pub struct RuleError {
    /// Byte offset in the rule.
    pub at: usize,
    /// What was expected.
    pub message: String,
}

/// A path constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// `Path(...)`: this path only.
    Exact(String),
    /// `PathPrefix(...)`: this path and below.
    Prefix(String),
}

impl PathMatch {
    /// The path itself.
    pub fn path(&self) -> &str {
        match self {
            Self::Exact(p) | Self::Prefix(p) => p,
        }
    }
}

/// One alternative of a rule: the URL it serves, or why it serves none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alternative {
    /// The host it needs (`Host()`), if any.
    pub host: Option<String>,
    /// The path it needs, if any.
    pub path: Option<PathMatch>,
    /// Methods it needs (`Method()`), upper case.
    pub methods: Vec<String>,
    /// Why it has no URL to check (a regular expression matcher).
    pub skip: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Matcher(String, Vec<String>),
    Not,
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> RuleError {
        RuleError {
            at: self.at,
            message: message.into(),
        }
    }

    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn deeper(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        self.deeper()?;
        let expr = if self.eat("!") {
            self.unary()?;
            Expr::Not
        } else if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.error("expected ')'"));
            }
            inner
        } else {
            self.matcher()?
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn matcher(&mut self) -> Result<Expr, RuleError> {
        self.skip_space();
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("expected a matcher such as Host(`...`), '!' or '('"));
        }
        let name = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        if !self.eat("(") {
            return Err(self.error(format!("expected '(' after {name}")));
        }
        let mut args = Vec::new();
        if !self.eat(")") {
            loop {
                args.push(self.string()?);
                if self.eat(")") {
                    break;
                }
                if !self.eat(",") {
                    return Err(self.error("expected ',' or ')'"));
                }
            }
        }
        Ok(Expr::Matcher(name, args))
    }

    fn string(&mut self) -> Result<String, RuleError> {
        self.skip_space();
        let quote = match self.text.get(self.at) {
            Some(q @ (b'`' | b'"')) => *q,
            _ => return Err(self.error("expected a value in backquotes (`...`) or quotes")),
        };
        let start = self.at + 1;
        let Some(len) = self.text[start..].iter().position(|b| *b == quote) else {
            return Err(self.error("the value is not closed"));
        };
        self.at = start + len + 1;
        Ok(String::from_utf8_lossy(&self.text[start..start + len]).into_owned())
    }
}

/// The alternatives of `rule` (at most [`MAX_ALTERNATIVES`]); contradictory ones (two
/// different hosts, disjoint paths) left out.
pub fn parse(rule: &str) -> Result<Vec<Alternative>, RuleError> {
    if rule.len() > MAX_RULE_BYTES {
        return Err(RuleError {
            at: MAX_RULE_BYTES,
            message: format!("longer than {MAX_RULE_BYTES} bytes"),
        });
    }
    let mut parser = Parser {
        text: rule.as_bytes(),
        at: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    parser.skip_space();
    if parser.at != rule.len() {
        return Err(parser.error("expected '&&', '||' or the end of the rule"));
    }
    alternatives(&expr)
}

fn alternatives(expr: &Expr) -> Result<Vec<Alternative>, RuleError> {
    let too_many = || RuleError {
        at: 0,
        message: format!("expands to more than {MAX_ALTERNATIVES} alternatives"),
    };
    match expr {
        Expr::Not => Ok(vec![Alternative::default()]),
        Expr::Matcher(name, args) => Ok(matcher(name, args)),
        Expr::Or(a, b) => {
            let mut out = alternatives(a)?;
            out.extend(alternatives(b)?);
            if out.len() > MAX_ALTERNATIVES {
                return Err(too_many());
            }
            Ok(out)
        }
        Expr::And(a, b) => {
            let (left, right) = (alternatives(a)?, alternatives(b)?);
            if left.len().saturating_mul(right.len()) > MAX_ALTERNATIVES {
                return Err(too_many());
            }
            Ok(left
                .iter()
                .flat_map(|l| right.iter().filter_map(move |r| both(l, r)))
                .collect())
        }
    }
}

fn matcher(name: &str, args: &[String]) -> Vec<Alternative> {
    let each = |f: &dyn Fn(&str) -> Alternative| args.iter().map(|a| f(a)).collect();
    match name {
        "Host" => each(&|h| Alternative {
            host: Some(h.to_ascii_lowercase()),
            ..Alternative::default()
        }),
        "Path" => each(&|p| Alternative {
            path: Some(PathMatch::Exact(p.to_owned())),
            ..Alternative::default()
        }),
        "PathPrefix" => each(&|p| Alternative {
            path: Some(PathMatch::Prefix(p.to_owned())),
            ..Alternative::default()
        }),
        "Method" => each(&|m| Alternative {
            methods: vec![m.to_ascii_uppercase()],
            ..Alternative::default()
        }),
        "HostRegexp" | "PathRegexp" | "HostSNIRegexp" => vec![Alternative {
            skip: Some(format!("{name}() gives no URL to check")),
            ..Alternative::default()
        }],
        _ => vec![Alternative::default()],
    }
}

/// Both alternatives at once, or `None` when they contradict each other.
fn both(a: &Alternative, b: &Alternative) -> Option<Alternative> {
    let host = match (&a.host, &b.host) {
        (Some(x), Some(y)) if x != y => return None,
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    let path = match (&a.path, &b.path) {
        (None, p) | (p, None) => p.clone(),
        (Some(x), Some(y)) => Some(narrower(x, y)?),
    };
    let mut methods = a.methods.clone();
    methods.extend(b.methods.iter().cloned());
    methods.sort();
    methods.dedup();
    Some(Alternative {
        host,
        path,
        methods,
        skip: a.skip.clone().or_else(|| b.skip.clone()),
    })
}

fn narrower(x: &PathMatch, y: &PathMatch) -> Option<PathMatch> {
    use PathMatch::{Exact, Prefix};
    match (x, y) {
        (Exact(a), Exact(b)) => (a == b).then(|| x.clone()),
        (Exact(e), Prefix(p)) | (Prefix(p), Exact(e)) => {
            e.starts_with(p.as_str()).then(|| Exact(e.clone()))
        }
        (Prefix(a), Prefix(b)) if a.starts_with(b.as_str()) => Some(x.clone()),
        (Prefix(a), Prefix(b)) if b.starts_with(a.as_str()) => Some(y.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn one(rule: &str) -> Alternative {
        let mut all = parse(rule).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn host_and_paths_with_and_or_not_and_parentheses() {
        let a = one("Host(`Shop.example.com`) && PathPrefix(`/api`)");
        assert_eq!(a.host.as_deref(), Some("shop.example.com"));
        assert_eq!(a.path, Some(PathMatch::Prefix("/api".into())));
        let all = parse(
            "Host(`a.example`) && (Path(`/x`) || PathPrefix(\"/y\")) && Method(`get`) \
             && Headers(`X-Env`, `prod`) && !Path(`/y/private`)",
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].path, Some(PathMatch::Exact("/x".into())));
        assert_eq!(all[1].path, Some(PathMatch::Prefix("/y".into())));
        assert_eq!(all[1].methods, ["GET"]);
        assert!(all.iter().all(|a| a.host.as_deref() == Some("a.example")));
        let v2 = parse("Host(`a.example`, `b.example`)").unwrap();
        assert_eq!(v2.len(), 2);
    }

    #[test]
    fn contradictions_drop_and_regexps_skip_with_a_reason() {
        assert!(parse("Host(`a`) && Host(`b`)").unwrap().is_empty());
        assert!(parse("Path(`/a`) && PathPrefix(`/b`)").unwrap().is_empty());
        let a = one("PathPrefix(`/api`) && Path(`/api/health`)");
        assert_eq!(a.path, Some(PathMatch::Exact("/api/health".into())));
        let a = one("HostRegexp(`^.+\\.example\\.com$`) && PathPrefix(`/`)");
        assert_eq!(
            a.skip.as_deref(),
            Some("HostRegexp() gives no URL to check")
        );
    }

    #[test]
    fn malformed_rules_are_errors_naming_the_byte() {
        for (rule, at) in [
            ("Host(`a`", 8),
            ("Host(`a) && Path(`/`)", 18),
            ("Host(`a`) &&", 12),
            ("Host(`a`) Path(`/`)", 10),
            ("(Host(`a`)", 10),
            ("Host a", 5),
            ("", 0),
            ("Host(a)", 5),
        ] {
            let e = parse(rule).unwrap_err();
            assert_eq!(e.at, at, "{rule}: {e}");
        }
        let deep = format!("{}Host(`a`){}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let wide = ["(Method(`GET`) || Method(`POST`))"; 7].join(" && ");
        assert!(parse(&wide).unwrap_err().message.contains("alternatives"));
        let long = "Path(`/".to_owned() + &"a".repeat(MAX_RULE_BYTES) + "`)";
        assert!(parse(&long).unwrap_err().message.contains("longer"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any text, however broken, is parsed or refused: never a panic, and what is parsed
        /// stays within the bounds.
        #[test]
        fn arbitrary_text_never_panics(rule in "[ -~]{0,200}") {
            if let Ok(all) = parse(&rule) {
                prop_assert!(all.len() <= MAX_ALTERNATIVES);
            }
        }

        /// Rules built from the grammar's pieces, randomly combined and cut, never panic.
        #[test]
        fn grammar_fragments_never_panic(
            parts in prop::collection::vec(prop::sample::select(vec![
                "Host(`a.example`)", "Path(`/x`)", "PathPrefix(`/`)", "Method(`GET`)",
                "HostRegexp(`.*`)", "Headers(`k`, `v`)", "&&", "||", "!", "(", ")", "`", ",",
                " ", "Query(`q=1`)", "PathPrefix(\"/y\")",
            ]), 0..60),
            cut in 0usize..400,
        ) {
            let rule: String = parts.concat();
            let cut = cut.min(rule.len());
            let _ = parse(&rule[..cut]);
            let _ = parse(&rule);
        }
    }
}
