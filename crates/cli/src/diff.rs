//! `vedette diff -f FILE|DIR`: what `apply` would change, as +/- lines of YAML; exit 0 when
//! nothing would change, 1 when something would (like `kubectl diff`), 2 on errors.

use std::path::PathBuf;
use std::process::ExitCode;

use vedette_model::document::{self, Resource};
use vedette_model::{Audience, Redact};

use crate::apply::{self, Action, Change, Summary};
use crate::context::{self, Connection};
use crate::output::{Paint, Style};

/// Unchanged lines shown around each changed one.
const CONTEXT: usize = 3;

/// Options of `vedette diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file or directory (repeatable).
    #[arg(short = 'f', long = "filename", required = true)]
    pub paths: Vec<PathBuf>,
    /// Also show what `apply --prune` would delete (needs --apply-set).
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub apply_set: apply::ApplySetArg,
}

/// One line of a line diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both.
    Same(&'a str),
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// A minimal line diff (longest common subsequence) of `old` and `new`.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(Line::Removed(a[i]));
            i += 1;
        } else {
            out.push(Line::Added(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Line::Removed(l)));
    out.extend(b[j..].iter().map(|l| Line::Added(l)));
    out
}

/// A resource as the YAML document `export` writes (a webhook endpoint with its defaults filled
/// in; every secret, of monitors too, as `********`, so a plan printed in a CI log leaks none).
pub fn yaml(resource: &Resource) -> String {
    let shown;
    let resource = match resource {
        Resource::Monitor { id, labels, spec } => {
            shown = Resource::Monitor {
                id: id.clone(),
                labels: labels.clone(),
                spec: spec.clone().redacted(Audience::Writer),
            };
            &shown
        }
        Resource::WebhookEndpoint { id, labels, spec } => {
            shown = Resource::WebhookEndpoint {
                id: id.clone(),
                labels: labels.clone(),
                spec: apply::webhook_spec_shown(spec),
            };
            &shown
        }
        other => other,
    };
    let text = document::to_documents(std::slice::from_ref(resource));
    text.strip_prefix("---\n").unwrap_or(&text).to_owned()
}

/// The diff of every change that is not "unchanged": a header per resource, then `-`/`+` lines
/// with a few unchanged lines of context (red and green on terminals).
pub fn render(changes: &[Change], style: &Style) -> String {
    let mut out = String::new();
    for change in changes {
        let (sign, word, paint) = match change.action {
            Action::Unchanged => continue,
            Action::Create => ('+', "create", Paint::Green),
            Action::Update => ('~', "update", Paint::Yellow),
            Action::Prune => ('-', "prune", Paint::Red),
        };
        let header = format!("{sign} {} ({word})", change.name());
        out.push_str(&style.paint(&header, Some(paint)));
        out.push('\n');
        let old = change.before.as_ref().map(yaml).unwrap_or_default();
        let new = change.after.as_ref().map(yaml).unwrap_or_default();
        let diff = lines(&old, &new);
        let near_change = |k: usize| {
            let lo = k.saturating_sub(CONTEXT);
            let hi = (k + CONTEXT).min(diff.len() - 1);
            diff[lo..=hi].iter().any(|l| !matches!(l, Line::Same(_)))
        };
        let mut skipped = false;
        for (k, line) in diff.iter().enumerate() {
            let text = match line {
                Line::Same(l) if near_change(k) => format!("  {l}"),
                Line::Same(_) => {
                    if !skipped {
                        out.push_str(&style.paint("  ...", Some(Paint::Dim)));
                        out.push('\n');
                        skipped = true;
                    }
                    continue;
                }
                Line::Removed(l) => style.paint(&format!("- {l}"), Some(Paint::Red)),
                Line::Added(l) => style.paint(&format!("+ {l}"), Some(Paint::Green)),
            };
            skipped = false;
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// Runs `vedette diff`: exit 0 without changes, 1 with; errors are turned into exit 2 by `main`.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let prune = apply::prune_set(args.prune, &args.apply_set)?;
    let client = context::client(connection)?;
    let changes = apply::plan(&client, &args.paths, args.apply_set.name.as_deref(), prune).await?;
    print!("{}", render(&changes, &Style::stdout()));
    let summary = Summary::of(&changes);
    if summary.has_changes() {
        eprintln!("{summary} if applied");
        Ok(ExitCode::FAILURE)
    } else {
        eprintln!("no changes");
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::MonitorSpec;

    fn monitor(id: &str, url: &str) -> Resource {
        Resource::Monitor {
            id: id.to_owned(),
            labels: Default::default(),
            spec: MonitorSpec::http(url),
        }
    }

    #[test]
    fn monitor_credentials_are_not_shown() {
        let Resource::Monitor {
            id,
            labels,
            mut spec,
        } = monitor("m", "https://user:url-secret@example.test/")
        else {
            unreachable!("a monitor");
        };
        if let vedette_model::Check::Http(http) = &mut spec.check {
            http.auth = Some(vedette_model::spec::HttpAuth::Bearer {
                token: vedette_model::spec::Secret("bearer-secret".to_owned()),
            });
        }
        let shown = yaml(&Resource::Monitor { id, labels, spec });
        assert!(!shown.contains("url-secret"), "{shown}");
        assert!(!shown.contains("bearer-secret"), "{shown}");
        assert!(shown.contains("********"), "{shown}");
    }

    #[test]
    fn line_diff_is_minimal() {
        let d = lines("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(
            d,
            vec![
                Line::Same("a"),
                Line::Removed("b"),
                Line::Added("x"),
                Line::Same("c"),
                Line::Added("d"),
            ]
        );
        assert!(lines("", "").is_empty());
        assert_eq!(lines("", "a"), vec![Line::Added("a")]);
    }

    #[test]
    fn updates_show_changed_lines_with_context_and_creates_show_everything() {
        let changes = vec![
            Change {
                action: Action::Update,
                before: Some(monitor("m", "http://old/")),
                after: Some(monitor("m", "http://new/")),
                version: Some(3),
                apply_set: None,
            },
            Change {
                action: Action::Unchanged,
                before: Some(monitor("u", "http://u/")),
                after: Some(monitor("u", "http://u/")),
                version: Some(1),
                apply_set: None,
            },
            Change {
                action: Action::Create,
                before: None,
                after: Some(monitor("n", "http://n/")),
                version: None,
                apply_set: None,
            },
            Change {
                action: Action::Prune,
                before: Some(monitor("p", "http://p/")),
                after: None,
                version: Some(1),
                apply_set: None,
            },
        ];
        let text = render(&changes, &Style::plain());
        assert!(text.starts_with("~ monitor/m (update)\n"), "{text}");
        assert!(text.contains("-     url: http://old/\n"), "{text}");
        assert!(text.contains("+     url: http://new/\n"), "{text}");
        assert!(!text.contains("monitor/u"), "{text}");
        assert!(
            text.contains("+ monitor/n (create)\n+ apiVersion: vedette.dev/v1\n"),
            "{text}"
        );
        assert!(
            text.contains("- monitor/p (prune)\n- apiVersion: vedette.dev/v1\n"),
            "{text}"
        );
        // Far-away unchanged lines are elided.
        assert!(text.contains("  ...\n"), "{text}");
        assert!(!text.contains('\x1b'));
        let colored = render(&changes, &Style::colored());
        assert!(
            colored.contains("\x1b[31m-     url: http://old/\x1b[0m"),
            "{colored}"
        );
        assert!(
            colored.contains("\x1b[32m+     url: http://new/\x1b[0m"),
            "{colored}"
        );
    }
}
