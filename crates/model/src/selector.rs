//! Label selectors in the Kubernetes syntax: `team=payments,env!=dev,tier in (a,b),!legacy`.
//!
//! A selector is a comma-separated list of requirements that must all hold:
//!
//! | requirement        | holds when                                        |
//! |--------------------|---------------------------------------------------|
//! | `key=value`, `key==value` | the label is present with that value       |
//! | `key!=value`       | the label is absent or has another value          |
//! | `key in (a,b)`     | the label is present with one of the values       |
//! | `key notin (a,b)`  | the label is absent or has none of the values     |
//! | `key`              | the label is present                              |
//! | `!key`             | the label is absent                               |
//!
//! The empty selector matches everything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Longest selector accepted, in bytes.
pub const MAX_SELECTOR_LEN: usize = 4096;

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// One condition of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` (or `key==value`): present with this value.
    Equals(String, String),
    /// `key!=value`: absent or another value.
    NotEquals(String, String),
    /// `key in (a,b)`: present with one of the values.
    In(String, BTreeSet<String>),
    /// `key notin (a,b)`: absent or none of the values.
    NotIn(String, BTreeSet<String>),
    /// `key`: present.
    Exists(String),
    /// `!key`: absent.
    DoesNotExist(String),
}

/// Why a selector was refused: where (1-based column) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: expected {expected}, found {found}")]
pub struct SelectorError {
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// What the parser expected at that place.
    pub expected: String,
    /// What it found instead.
    pub found: String,
}

impl Requirement {
    /// The label key the requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Self::Equals(k, _)
            | Self::NotEquals(k, _)
            | Self::In(k, _)
            | Self::NotIn(k, _)
            | Self::Exists(k)
            | Self::DoesNotExist(k) => k,
        }
    }

    /// Whether the requirement holds for these labels.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(self.key());
        match self {
            Self::Equals(_, v) => value == Some(v),
            Self::NotEquals(_, v) => value != Some(v),
            Self::In(_, set) => value.is_some_and(|x| set.contains(x)),
            Self::NotIn(_, set) => !value.is_some_and(|x| set.contains(x)),
            Self::Exists(_) => value.is_some(),
            Self::DoesNotExist(_) => value.is_none(),
        }
    }
}

impl Selector {
    /// Whether every requirement holds for these labels (always true for the empty selector).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The requirements, in canonical order (by key, then as written).
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True for the selector that matches everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

fn write_set(f: &mut fmt::Formatter<'_>, set: &BTreeSet<String>) -> fmt::Result {
    f.write_str("(")?;
    for (i, v) in set.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        f.write_str(v)?;
    }
    f.write_str(")")
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Equals(k, v) => write!(f, "{k}={v}"),
            Self::NotEquals(k, v) => write!(f, "{k}!={v}"),
            Self::In(k, set) => {
                write!(f, "{k} in ")?;
                write_set(f, set)
            }
            Self::NotIn(k, set) => {
                write!(f, "{k} notin ")?;
                write_set(f, set)
            }
            Self::Exists(k) => f.write_str(k),
            Self::DoesNotExist(k) => write!(f, "!{k}"),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Parses a selector such as `team=payments,env!=dev,tier in (a,b),tier notin (c),has-key,!no-key`.
pub fn parse(s: &str) -> Result<Selector, SelectorError> {
    if s.len() > MAX_SELECTOR_LEN {
        return Err(SelectorError {
            column: 1,
            expected: format!("a selector of at most {MAX_SELECTOR_LEN} bytes"),
            found: format!("{} bytes", s.len()),
        });
    }
    let mut p = Parser { src: s, pos: 0 };
    let mut requirements = Vec::new();
    p.skip_ws();
    if p.at_end() {
        return Ok(Selector::default());
    }
    loop {
        requirements.push(p.requirement()?);
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(',') => {
                p.pos += 1;
                p.skip_ws();
            }
            Some(_) => return Err(p.error("',' or the end of the selector")),
        }
    }
    requirements.sort_by(|a, b| a.key().cmp(b.key()));
    Ok(Selector { requirements })
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn error_at(&self, pos: usize, expected: &str) -> SelectorError {
        let found = match self.src[pos..].chars().next() {
            None => "the end of the selector".to_owned(),
            Some(_) => {
                let word: String = self.src[pos..].chars().take(16).collect();
                format!("{word:?}")
            }
        };
        SelectorError {
            column: self.src[..pos].chars().count() + 1,
            expected: expected.to_owned(),
            found,
        }
    }

    fn error(&self, expected: &str) -> SelectorError {
        self.error_at(self.pos, expected)
    }

    /// A run of key/value characters (possibly empty).
    fn word(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|c| is_word_char(*c)) {
            self.pos += c.len_utf8();
        }
        &self.src[start..self.pos]
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let key = self.word().to_owned();
        if key.is_empty() {
            return Err(self.error_at(start, "a label key"));
        }
        if let Err(message) = crate::validate::check_label(&key, "") {
            return Err(SelectorError {
                column: self.src[..start].chars().count() + 1,
                expected: "a label key ([prefix/]name of letters, digits, '.', '_', '-')"
                    .to_owned(),
                found: message,
            });
        }
        Ok(key)
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let value = self.word().to_owned();
        if value.contains('/') || value.len() > 63 {
            return Err(self.error_at(
                start,
                "a label value of at most 63 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(value)
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.peek() == Some('!') {
            self.pos += 1;
            self.skip_ws();
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.key()?;
        self.skip_ws();
        let rest = &self.src[self.pos..];
        if rest.starts_with("==") || rest.starts_with("!=") {
            let negate = rest.starts_with('!');
            self.pos += 2;
            self.skip_ws();
            let value = self.value()?;
            return Ok(if negate {
                Requirement::NotEquals(key, value)
            } else {
                Requirement::Equals(key, value)
            });
        }
        if rest.starts_with('=') {
            self.pos += 1;
            self.skip_ws();
            return Ok(Requirement::Equals(key, self.value()?));
        }
        match self.peek() {
            None | Some(',') => return Ok(Requirement::Exists(key)),
            _ => {}
        }
        let op_start = self.pos;
        let op = self.word().to_owned();
        let set = match op.as_str() {
            "in" | "notin" => self.value_set()?,
            _ => {
                return Err(self.error_at(
                    op_start,
                    "'=', '==', '!=', 'in', 'notin', ',' or the end of the selector",
                ));
            }
        };
        Ok(if op == "in" {
            Requirement::In(key, set)
        } else {
            Requirement::NotIn(key, set)
        })
    }

    fn value_set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error("'(' to open the list of values"));
        }
        self.pos += 1;
        let mut set = BTreeSet::new();
        loop {
            self.skip_ws();
            let value = self.value()?;
            set.insert(value);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(set);
                }
                _ => return Err(self.error("',' or ')' in the list of values")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_form_and_prints_canonically() {
        let s =
            parse(" team == payments , env!=dev,tier in (b, a),zone notin (c),has-key,! no-key")
                .unwrap();
        assert_eq!(
            s.to_string(),
            "env!=dev,has-key,!no-key,team=payments,tier in (a,b),zone notin (c)"
        );
        assert_eq!(parse(&s.to_string()).unwrap(), s);
        assert_eq!(s.requirements().len(), 6);
        let prefixed = parse("app.kubernetes.io/name=web").unwrap();
        assert_eq!(prefixed.to_string(), "app.kubernetes.io/name=web");
        assert_eq!(parse("env=").unwrap().to_string(), "env=");
    }

    #[test]
    fn matching_semantics() {
        let s =
            parse("team=payments,env!=dev,tier in (a,b),zone notin (c),has-key,!no-key").unwrap();
        let good = labels(&[
            ("team", "payments"),
            ("env", "prod"),
            ("tier", "a"),
            ("has-key", ""),
        ]);
        assert!(s.matches(&good));
        let mut no_env = good.clone();
        no_env.remove("env");
        assert!(s.matches(&no_env), "!= holds when the label is absent");
        let mut dev = good.clone();
        dev.insert("env".into(), "dev".into());
        assert!(!s.matches(&dev));
        let mut no_tier = good.clone();
        no_tier.remove("tier");
        assert!(!s.matches(&no_tier), "in needs the label");
        let mut zone_c = good.clone();
        zone_c.insert("zone".into(), "c".into());
        assert!(!s.matches(&zone_c));
        let mut forbidden = good.clone();
        forbidden.insert("no-key".into(), "x".into());
        assert!(!s.matches(&forbidden));
        let mut missing = good;
        missing.remove("has-key");
        assert!(!s.matches(&missing));
    }

    #[test]
    fn empty_matches_everything() {
        for text in ["", "   "] {
            let s = parse(text).unwrap();
            assert!(s.is_empty());
            assert!(s.matches(&BTreeMap::new()));
            assert!(s.matches(&labels(&[("a", "b")])));
            assert_eq!(s.to_string(), "");
        }
    }

    #[test]
    fn errors_name_column_and_expectation() {
        let e = parse("team=payments,").unwrap_err();
        assert_eq!(e.column, 15);
        assert_eq!(e.expected, "a label key");
        assert_eq!(e.found, "the end of the selector");

        let e = parse("tier in a,b").unwrap_err();
        assert_eq!(e.column, 9);
        assert!(e.expected.contains("'('"), "{e}");

        let e = parse("tier in (a b)").unwrap_err();
        assert_eq!(e.column, 12);
        assert!(
            e.to_string().starts_with("column 12: expected ',' or ')'"),
            "{e}"
        );

        let e = parse("tier maybe (a)").unwrap_err();
        assert_eq!(e.column, 6);
        assert!(e.expected.contains("notin"));

        let e = parse("a=b c=d").unwrap_err();
        assert_eq!(e.column, 5);

        let e = parse("=x").unwrap_err();
        assert_eq!(e.column, 1);

        let e = parse("é=x").unwrap_err();
        assert_eq!(e.column, 1);

        let e = parse("env=a/b").unwrap_err();
        assert_eq!(e.column, 5);

        assert!(
            parse(&"a,".repeat(3000))
                .unwrap_err()
                .expected
                .contains("4096")
        );
    }
}
