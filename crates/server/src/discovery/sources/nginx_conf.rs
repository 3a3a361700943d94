//! A parser for the output of `nginx -T`: the configuration files nginx read, each after a
//! `# configuration file <path>:` line, in nginx's syntax (directives with arguments ending in
//! `;` or a `{ ... }` block, quoted strings, `#` comments). `include` directives are replaced
//! by the files `nginx -T` printed for them (glob patterns matched against the printed paths),
//! so the result is the whole configuration as nginx sees it. Untrusted text: nesting, token
//! length, directive count and include depth are bounded, and anything else than nginx's
//! syntax is an error (never a partial configuration).

use std::collections::HashMap;

/// Deepest nesting of blocks.
pub const MAX_DEPTH: usize = 32;
/// Longest token in bytes.
pub const MAX_TOKEN: usize = 8192;
/// Most directives in all files together, includes expanded.
pub const MAX_DIRECTIVES: usize = 200_000;
/// Deepest chain of includes.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// One directive: its name, its arguments (quotes removed) and its block, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The name (`server`, `listen`, `location`).
    pub name: String,
    /// The arguments.
    pub args: Vec<String>,
    /// The directives of its `{ ... }` block.
    pub block: Option<Vec<Directive>>,
}

/// Why `nginx -T` output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {reason}")]
pub struct ParseError {
    /// The configuration file (as `nginx -T` named it).
    pub file: String,
    /// The line within it.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Semicolon,
    Open,
    Close,
}

/// The files of `nginx -T` output, in order: (path, text, line of the text's start).
fn sections(text: &str) -> Vec<(String, String, usize)> {
    let mut out: Vec<(String, String, usize)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(path) = line
            .strip_prefix("# configuration file ")
            .and_then(|l| l.strip_suffix(':'))
        {
            out.push((path.to_owned(), String::new(), n + 2));
        } else if let Some((_, body, _)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

fn tokens(file: &str, text: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let err = |line: usize, reason: &str| ParseError {
        file: file.to_owned(),
        line,
        reason: reason.to_owned(),
    };
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            ';' => out.push((Token::Semicolon, line)),
            '{' => out.push((Token::Open, line)),
            '}' => out.push((Token::Close, line)),
            '"' | '\'' => {
                let start = line;
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err(err(start, "a quoted string is not closed")),
                        Some('\\') => match chars.next() {
                            Some(n) => {
                                if n == '\n' {
                                    line += 1;
                                }
                                if n != c {
                                    word.push('\\');
                                }
                                word.push(n);
                            }
                            None => return Err(err(start, "a quoted string is not closed")),
                        },
                        Some(q) if q == c => break,
                        Some(other) => {
                            if other == '\n' {
                                line += 1;
                            }
                            word.push(other);
                        }
                    }
                    if word.len() > MAX_TOKEN {
                        return Err(err(start, "a token is longer than 8192 bytes"));
                    }
                }
                out.push((Token::Word(word), start));
            }
            first => {
                let mut word = String::from(first);
                let mut brace = first == '$' && chars.peek() == Some(&'{');
                while let Some(&n) = chars.peek() {
                    if brace {
                        word.push(n);
                        chars.next();
                        if n == '}' {
                            brace = false;
                        }
                    } else if n.is_whitespace() || matches!(n, ';' | '{' | '}') {
                        break;
                    } else {
                        word.push(n);
                        chars.next();
                        if n == '$' && chars.peek() == Some(&'{') {
                            brace = true;
                        }
                    }
                    if word.len() > MAX_TOKEN {
                        return Err(err(line, "a token is longer than 8192 bytes"));
                    }
                }
                out.push((Token::Word(word), line));
            }
        }
    }
    Ok(out)
}

/// Directives of `tokens` from `*at` to the end of the current block.
fn block(
    file: &str,
    tokens: &[(Token, usize)],
    at: &mut usize,
    depth: usize,
    count: &mut usize,
) -> Result<Vec<Directive>, ParseError> {
    let err = |line: usize, reason: &str| ParseError {
        file: file.to_owned(),
        line,
        reason: reason.to_owned(),
    };
    if depth > MAX_DEPTH {
        let line = tokens.get(*at).map_or(0, |t| t.1);
        return Err(err(line, "blocks are nested more than 32 deep"));
    }
    let mut out = Vec::new();
    while let Some((token, line)) = tokens.get(*at) {
        match token {
            Token::Close if depth > 0 => {
                *at += 1;
                return Ok(out);
            }
            Token::Close => return Err(err(*line, "a `}` closes no block")),
            Token::Semicolon | Token::Open => return Err(err(*line, "a directive has no name")),
            Token::Word(name) => {
                *count += 1;
                if *count > MAX_DIRECTIVES {
                    return Err(err(*line, "more than 200000 directives"));
                }
                *at += 1;
                let mut args = Vec::new();
                loop {
                    match tokens.get(*at) {
                        Some((Token::Word(w), _)) => {
                            args.push(w.clone());
                            *at += 1;
                        }
                        Some((Token::Semicolon, _)) => {
                            *at += 1;
                            out.push(Directive {
                                name: name.clone(),
                                args,
                                block: None,
                            });
                            break;
                        }
                        Some((Token::Open, _)) => {
                            *at += 1;
                            let inner = block(file, tokens, at, depth + 1, count)?;
                            out.push(Directive {
                                name: name.clone(),
                                args,
                                block: Some(inner),
                            });
                            break;
                        }
                        Some((Token::Close, l)) => {
                            return Err(err(*l, "a directive does not end with `;`"));
                        }
                        None => return Err(err(*line, "the file ends inside a directive")),
                    }
                }
            }
        }
    }
    if depth > 0 {
        return Err(err(
            tokens.last().map_or(0, |t| t.1),
            "the file ends inside a block",
        ));
    }
    Ok(out)
}

/// Whether `path` matches the glob `pattern` (`*`, `?` and `[...]` as nginx's glob(3)).
fn glob(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|i| !s[..i].contains(&b'/') && go(&p[1..], &s[i..])),
            Some(b'?') => s.first().is_some_and(|&c| c != b'/') && go(&p[1..], &s[1..]),
            Some(b'[') => match p.iter().position(|&c| c == b']') {
                Some(end) if end > 1 => {
                    let set = &p[1..end];
                    let (negate, set) = match set.first() {
                        Some(b'!' | b'^') => (true, &set[1..]),
                        _ => (false, set),
                    };
                    s.first()
                        .is_some_and(|c| set.contains(c) != negate && go(&p[end + 1..], &s[1..]))
                }
                _ => s.first() == Some(&b'[') && go(&p[1..], &s[1..]),
            },
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// The configuration of `nginx -T` output `text`, includes expanded: the directives of its
/// first file (the main configuration).
pub fn parse(text: &str) -> Result<Vec<Directive>, ParseError> {
    let files = sections(text);
    let Some((main, _, _)) = files.first() else {
        return Err(ParseError {
            file: "(input)".into(),
            line: 1,
            reason: "no `# configuration file ...:` line: not the output of `nginx -T`".into(),
        });
    };
    let dir = main.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    let mut parsed: HashMap<&str, Vec<Directive>> = HashMap::new();
    let mut count = 0;
    for (path, body, first_line) in &files {
        let toks = tokens(path, body).map_err(|mut e| {
            e.line += first_line - 1;
            e
        })?;
        let mut at = 0;
        let directives = block(path, &toks, &mut at, 0, &mut count).map_err(|mut e| {
            e.line += first_line - 1;
            e
        })?;
        parsed.insert(path, directives);
    }
    let paths: Vec<&str> = files.iter().map(|(p, _, _)| p.as_str()).collect();
    let mut total = 0;
    expand(
        &parsed[main.as_str()],
        &parsed,
        &paths,
        &dir,
        main,
        0,
        &mut total,
    )
}

/// `directives` with each `include` replaced by the directives of the files it names.
fn expand(
    directives: &[Directive],
    parsed: &HashMap<&str, Vec<Directive>>,
    paths: &[&str],
    dir: &str,
    file: &str,
    depth: usize,
    total: &mut usize,
) -> Result<Vec<Directive>, ParseError> {
    let err = |reason: &str| ParseError {
        file: file.to_owned(),
        line: 0,
        reason: reason.to_owned(),
    };
    if depth > MAX_INCLUDE_DEPTH {
        return Err(err("includes are nested more than 16 deep"));
    }
    let mut out = Vec::new();
    for d in directives {
        *total += 1;
        if *total > MAX_DIRECTIVES {
            return Err(err("more than 200000 directives with includes expanded"));
        }
        if d.name == "include" && d.block.is_none() {
            let Some(pattern) = d.args.first() else {
                return Err(err("an include names no file"));
            };
            let pattern = if pattern.starts_with('/') {
                pattern.clone()
            } else {
                format!("{dir}/{pattern}")
            };
            let mut matched: Vec<&str> = paths
                .iter()
                .copied()
                .filter(|p| glob(&pattern, p))
                .collect();
            matched.sort_unstable();
            for path in matched {
                out.extend(expand(
                    &parsed[path],
                    parsed,
                    paths,
                    dir,
                    path,
                    depth + 1,
                    total,
                )?);
            }
            continue;
        }
        let block = match &d.block {
            Some(b) => Some(expand(b, parsed, paths, dir, file, depth, total)?),
            None => None,
        };
        out.push(Directive {
            name: d.name.clone(),
            args: d.args.clone(),
            block,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
# configuration file /etc/nginx/nginx.conf:
events { worker_connections 64; }
http {
    include conf.d/*.conf;   # sites
    log_format main '$remote_addr \"$request\"';
}

# configuration file /etc/nginx/conf.d/shop.conf:
server {
    listen 127.0.0.1:8080;
    server_name shop.test \"www.shop.test\";
    location = /health { return 200 \"${host}ok\"; }
}
";

    #[test]
    fn includes_are_expanded_in_place() {
        let conf = parse(OUTPUT).unwrap();
        let http = conf.iter().find(|d| d.name == "http").unwrap();
        let inner = http.block.as_ref().unwrap();
        assert_eq!(inner[0].name, "server");
        assert_eq!(inner[1].args, ["main", "$remote_addr \"$request\""]);
        let server = inner[0].block.as_ref().unwrap();
        assert_eq!(server[1].args, ["shop.test", "www.shop.test"]);
        assert_eq!(server[2].args, ["=", "/health"]);
        assert_eq!(
            server[2].block.as_ref().unwrap()[0].args,
            ["200", "${host}ok"]
        );
    }

    #[test]
    fn garbage_and_bombs_are_errors() {
        for bad in [
            "no header at all",
            "# configuration file /a.conf:\nhttp {",
            "# configuration file /a.conf:\nhttp { server }",
            "# configuration file /a.conf:\n}",
            "# configuration file /a.conf:\nlisten \"80;",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!(
            "# configuration file /a.conf:\n{}{}",
            "a {".repeat(40),
            "}".repeat(40)
        );
        assert!(parse(&deep).unwrap_err().reason.contains("nested"));
        let long = format!("# configuration file /a.conf:\nx {};", "y".repeat(9000));
        assert!(parse(&long).unwrap_err().reason.contains("longer"));
        let looping = "# configuration file /a.conf:\ninclude /a.conf;\n";
        assert!(parse(looping).unwrap_err().reason.contains("includes"));
    }

    #[test]
    fn glob_matches_like_nginx() {
        assert!(glob("/etc/nginx/conf.d/*.conf", "/etc/nginx/conf.d/a.conf"));
        assert!(!glob(
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/conf.d/x/a.conf"
        ));
        assert!(glob("/etc/nginx/site[!s]", "/etc/nginx/sitex"));
        assert!(!glob("/etc/nginx/site[!s]", "/etc/nginx/sites"));
        assert!(glob("/etc/nginx/a?.conf", "/etc/nginx/ab.conf"));
    }
}
