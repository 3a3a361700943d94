//! Turns assertion source into tokens, each with its byte span.

use super::{MAX_STRING_BYTES, MAX_TOKENS, ParseError, column_at};

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name, possibly dotted: `status`, `cert.expires_in`, `and`, `len`.
    Name(String),
    /// A JSONPath after `body.`: the text starting with `$`.
    JsonPath(String),
    /// An integer (sizes such as `10KB` are integers of bytes).
    Int(i64),
    /// A float.
    Float(f64),
    /// A duration in nanoseconds.
    Duration(i128),
    /// A string literal, escapes resolved.
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Eof,
}

/// A token with its byte span in the source.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    /// How the token is named in "found ..." messages.
    pub fn describe(&self, text: &str) -> String {
        match self {
            Tok::Eof => "end of input".to_owned(),
            Tok::Name(n) if super::parser::is_keyword(n) => format!("'{n}'"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::JsonPath(_) => format!("`{text}`"),
            Tok::Int(_) | Tok::Float(_) => format!("number {text}"),
            Tok::Duration(_) => format!("duration {text}"),
            Tok::Str(_) => format!("string {}", super::value::truncate_chars(text, 40)),
            _ => format!("'{text}'"),
        }
    }
}

fn err(source: &str, at: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column: column_at(source, at),
        message: message.into(),
    }
}

const SIZE_UNITS: [(&str, u64); 10] = [
    ("B", 1),
    ("KB", 1_000),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `source` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(source: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if tokens.len() >= MAX_TOKENS {
            return Err(err(
                source,
                start,
                format!("too many tokens: an assertion may have at most {MAX_TOKENS}"),
            ));
        }
        let rest = &source[start..];
        let (tok, len) = if let Some((tok, len)) = punct(rest) {
            (tok, len)
        } else if c == '"' || c == '\'' {
            string(source, start, c)?
        } else if c.is_ascii_digit() {
            number(source, start)?
        } else if is_name_start(c) {
            name(source, start)?
        } else if c == '=' {
            return Err(err(source, start, "expected '==' (comparison), found '='"));
        } else if c == '&' {
            return Err(err(source, start, "expected '&&' or 'and', found '&'"));
        } else if c == '|' {
            return Err(err(source, start, "expected '||' or 'or', found '|'"));
        } else {
            return Err(err(
                source,
                start,
                format!("expected a field, value or operator, found unexpected character {c:?}"),
            ));
        };
        let end = start + len;
        while chars.peek().is_some_and(|&(i, _)| i < end) {
            chars.next();
        }
        tokens.push(Token { tok, start, end });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: source.len(),
        end: source.len(),
    });
    Ok(tokens)
}

fn punct(rest: &str) -> Option<(Tok, usize)> {
    const TWO: [(&str, Tok); 6] = [
        ("==", Tok::Eq),
        ("!=", Tok::Ne),
        ("<=", Tok::Le),
        (">=", Tok::Ge),
        ("&&", Tok::AndAnd),
        ("||", Tok::OrOr),
    ];
    for (text, tok) in TWO {
        if rest.starts_with(text) {
            return Some((tok, 2));
        }
    }
    let tok = match rest.as_bytes().first()? {
        b'(' => Tok::LParen,
        b')' => Tok::RParen,
        b'[' => Tok::LBracket,
        b']' => Tok::RBracket,
        b',' => Tok::Comma,
        b'-' => Tok::Minus,
        b'<' => Tok::Lt,
        b'>' => Tok::Gt,
        b'!' => Tok::Bang,
        _ => return None,
    };
    Some((tok, 1))
}

fn string(source: &str, start: usize, quote: char) -> Result<(Tok, usize), ParseError> {
    let mut out = String::new();
    let mut iter = source[start + 1..].char_indices();
    while let Some((i, c)) = iter.next() {
        let at = start + 1 + i;
        if c == quote {
            return Ok((Tok::Str(out), at + 1 - start));
        }
        let c = if c == '\\' {
            match iter.next() {
                Some((_, '"')) => '"',
                Some((_, '\'')) => '\'',
                Some((_, '\\')) => '\\',
                Some((_, 'n')) => '\n',
                Some((_, 't')) => '\t',
                Some((_, 'r')) => '\r',
                // Anything else keeps its backslash, so regexes read naturally: "\d+".
                Some((_, other)) => {
                    out.push('\\');
                    other
                }
                None => break,
            }
        } else {
            c
        };
        out.push(c);
        if out.len() > MAX_STRING_BYTES {
            return Err(err(
                source,
                start,
                format!("string literal too long: at most {MAX_STRING_BYTES} bytes"),
            ));
        }
    }
    Err(err(
        source,
        start,
        format!("unterminated string: expected a closing {quote}, found end of input"),
    ))
}

fn number(source: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let len = source[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(source.len() - start);
    let text = &source[start..start + len];
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(digits_end);
    let bad = || {
        err(
            source,
            start,
            format!(
                "expected a number, duration (300ms, 1m30s, 14d) or size (10KB, 1MiB), found `{text}`"
            ),
        )
    };
    if unit.is_empty() {
        if !num.contains('.') {
            return num.parse::<i64>().map(|n| (Tok::Int(n), len)).map_err(|_| {
                err(
                    source,
                    start,
                    format!("integer {text} is too large (at most {})", i64::MAX),
                )
            });
        }
        return match num.parse::<f64>() {
            Ok(f) if f.is_finite() && num.matches('.').count() == 1 && !num.ends_with('.') => {
                Ok((Tok::Float(f), len))
            }
            _ => Err(bad()),
        };
    }
    if let Some((_, factor)) = SIZE_UNITS.iter().find(|(u, _)| *u == unit) {
        let value: f64 = num.parse().map_err(|_| bad())?;
        let bytes = value * *factor as f64;
        if !bytes.is_finite() || bytes >= i64::MAX as f64 || bytes.fract() != 0.0 {
            return Err(err(
                source,
                start,
                format!("size {text} is not a whole number of bytes within range"),
            ));
        }
        return Ok((Tok::Int(bytes as i64), len));
    }
    match crate::duration::parse_nanos(text) {
        Ok(nanos) => i128::try_from(nanos)
            .map(|n| (Tok::Duration(n), len))
            .map_err(|_| bad()),
        Err("too large") => Err(err(source, start, format!("duration {text} is too large"))),
        Err(_) => Err(bad()),
    }
}

fn name(source: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let bytes = source.as_bytes();
    let mut i = start;
    loop {
        while i < bytes.len() && is_name_char(bytes[i] as char) {
            i += 1;
        }
        if &source[start..i] == "body" && source[i..].starts_with(".$") {
            let path_start = i + 1;
            let path_len = json_path_len(&source[path_start..]);
            let path = &source[path_start..path_start + path_len];
            return Ok((
                Tok::JsonPath(path.to_owned()),
                path_start + path_len - start,
            ));
        }
        if i + 1 < bytes.len() && bytes[i] == b'.' && is_name_start(bytes[i + 1] as char) {
            i += 1;
            continue;
        }
        break;
    }
    Ok((Tok::Name(source[start..i].to_owned()), i - start))
}

/// The quoted strings of a JSONPath read one character at a time, with backslash escapes.
#[derive(Default)]
pub(crate) struct Quotes {
    open: Option<char>,
    escaped: bool,
}

impl Quotes {
    /// Starts a string quoted with `quote`.
    pub(crate) fn open(&mut self, quote: char) {
        self.open = Some(quote);
    }

    /// Whether `c` belongs to an open string (its closing quote included), which it then reads.
    pub(crate) fn consume(&mut self, c: char) -> bool {
        let Some(quote) = self.open else {
            return false;
        };
        if self.escaped {
            self.escaped = false;
        } else if c == '\\' {
            self.escaped = true;
        } else if c == quote {
            self.open = None;
        }
        true
    }
}

/// Length in bytes of the JSONPath at the start of `s` (which starts with `$`): it runs to the
/// first whitespace, operator or closing bracket outside brackets and quotes.
fn json_path_len(s: &str) -> usize {
    let mut depth = 0usize;
    let mut quotes = Quotes::default();
    for (i, c) in s.char_indices() {
        if quotes.consume(c) {
            continue;
        }
        match c {
            '\'' | '"' if depth > 0 => quotes.open(c),
            '[' | '(' => depth += 1,
            ']' | ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || matches!(c, '_' | '.' | '$' | '*') => {}
            _ => return i,
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals() {
        assert_eq!(
            toks("200 1.5 300ms 1m30s 14d 10KB 1KiB 2MB 1MiB 5B"),
            vec![
                Tok::Int(200),
                Tok::Float(1.5),
                Tok::Duration(300_000_000),
                Tok::Duration(90_000_000_000),
                Tok::Duration(14 * 86_400_000_000_000),
                Tok::Int(10_000),
                Tok::Int(1024),
                Tok::Int(2_000_000),
                Tok::Int(1 << 20),
                Tok::Int(5),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks(r#""a\"b\\c\n" 'it\'s'"#),
            vec![
                Tok::Str("a\"b\\c\n".into()),
                Tok::Str("it's".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks(r#""\d+\.""#),
            vec![Tok::Str(r"\d+\.".into()), Tok::Eof]
        );
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(
            toks("cert.expires_in body.$.a[0] == body.$['x y'].b"),
            vec![
                Tok::Name("cert.expires_in".into()),
                Tok::JsonPath("$.a[0]".into()),
                Tok::Eq,
                Tok::JsonPath("$['x y'].b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("len(body.$.items)"),
            vec![
                Tok::Name("len".into()),
                Tok::LParen,
                Tok::JsonPath("$.items".into()),
                Tok::RParen,
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("body.$.items[?@.ok == true]!=null"),
            vec![
                Tok::JsonPath("$.items[?@.ok == true]".into()),
                Tok::Ne,
                Tok::Name("null".into()),
                Tok::Eof
            ]
        );
    }
}
