//! How commands print: `-o table|json|yaml`, aligned tables, colour only on a terminal (and never
//! with `NO_COLOR`), relative times and a spinner on stderr while waiting.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use vedette_model::{MonitorState, Outcome};

/// `-o`: how a read command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON, as the API returns it.
    Json,
    /// YAML, as the API returns it.
    Yaml,
}

/// Prints `value` as JSON or YAML; `false` for [`Format::Table`], which the caller renders.
pub fn print_data<T: Serialize>(format: Format, value: &T) -> anyhow::Result<bool> {
    match format {
        Format::Table => Ok(false),
        Format::Json => {
            println!("{}", serde_json::to_string_pretty(value)?);
            Ok(true)
        }
        Format::Yaml => {
            let text = serde_saphyr::to_string(value)?;
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            Ok(true)
        }
    }
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR` is set to anything.
pub fn color_enabled(is_terminal: bool, no_color: Option<&str>) -> bool {
    is_terminal && no_color.is_none_or(str::is_empty)
}

/// A colour or weight for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Good: up, created, added lines.
    Green,
    /// Bad: down, deleted, removed lines.
    Red,
    /// In between: degraded, paused, updated.
    Yellow,
    /// Neutral highlight: maintenance, headers of diffs.
    Cyan,
    /// Emphasis.
    Bold,
    /// De-emphasis.
    Dim,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Self::Green => "32",
            Self::Red => "31",
            Self::Yellow => "33",
            Self::Cyan => "36",
            Self::Bold => "1",
            Self::Dim => "2",
        }
    }

    /// The paint of a monitor state.
    pub fn state(state: MonitorState) -> Option<Paint> {
        match state {
            MonitorState::Up => Some(Self::Green),
            MonitorState::Down => Some(Self::Red),
            MonitorState::Degraded | MonitorState::Paused => Some(Self::Yellow),
            MonitorState::Maintenance => Some(Self::Cyan),
            MonitorState::Pending => Some(Self::Dim),
        }
    }

    /// The paint of a check outcome.
    pub fn outcome(outcome: Outcome) -> Paint {
        match outcome {
            Outcome::Up => Self::Green,
            Outcome::Degraded => Self::Yellow,
            Outcome::Down => Self::Red,
        }
    }
}

/// Applies colour to text when the stream it goes to takes colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    pub fn stdout() -> Self {
        Self::detect(std::io::stdout().is_terminal())
    }

    fn detect(is_terminal: bool) -> Self {
        let no_color = std::env::var("NO_COLOR").ok();
        Self {
            color: color_enabled(is_terminal, no_color.as_deref()),
        }
    }

    /// No colour at all.
    #[cfg(test)]
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// Always colour.
    #[cfg(test)]
    pub fn colored() -> Self {
        Self { color: true }
    }

    /// `text` in `paint`, or as is without colour.
    pub fn paint(&self, text: &str, paint: Option<Paint>) -> String {
        match paint {
            Some(p) if self.color && !text.is_empty() => format!("\x1b[{}m{text}\x1b[0m", p.code()),
            _ => text.to_owned(),
        }
    }
}

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    text: String,
    paint: Option<Paint>,
}

impl Cell {
    /// Uncoloured text.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            paint: None,
        }
    }

    /// Text in a colour (on terminals).
    pub fn painted(text: impl Into<String>, paint: Option<Paint>) -> Self {
        Self {
            text: text.into(),
            paint,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::plain(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::plain(text)
    }
}

/// Columns aligned on the widest cell, two spaces apart, upper-case headers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

/// Widest a cell is printed; longer text is cut with `…`.
const MAX_CELL: usize = 80;

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra ones dropped).
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self, style: &Style) -> String {
        let cut = |c: &Cell| -> String {
            let one_line = c.text.replace(['\n', '\r', '\t'], " ");
            if one_line.chars().count() > MAX_CELL {
                let mut s: String = one_line.chars().take(MAX_CELL - 1).collect();
                s.push('…');
                s
            } else {
                one_line
            }
        };
        let columns = self.headers.len();
        let rows: Vec<Vec<(String, Option<Paint>)>> = self
            .rows
            .iter()
            .map(|r| {
                (0..columns)
                    .map(|i| {
                        r.get(i)
                            .map_or((String::new(), None), |c| (cut(c), c.paint))
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (i, (text, _)) in row.iter().enumerate() {
                widths[i] = widths[i].max(text.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<(String, Option<Paint>)>| {
            let mut text = String::new();
            for (i, (cell, paint)) in cells.iter().enumerate() {
                let last = i + 1 == columns;
                text.push_str(&style.paint(cell, *paint));
                if !last {
                    let pad = widths[i] - cell.chars().count() + 2;
                    text.push_str(&" ".repeat(pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(
            self.headers
                .iter()
                .map(|h| (h.clone(), Some(Paint::Bold)))
                .collect(),
        );
        for row in rows {
            line(row);
        }
        out
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        print!("{}", self.render(&Style::stdout()));
    }
}

/// `12s ago`, `5m ago`, `3h ago`, `2d ago` (or `in 5m` for the future); `-` for none.
pub fn ago(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(at) = at else {
        return "-".to_owned();
    };
    let secs = (now - at).num_seconds();
    let span = human_span(secs.unsigned_abs());
    if secs < 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// `45s`, `12m`, `5h`, `3d`.
pub fn human_span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// An RFC 3339 time to the second, `-` for none.
pub fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Milliseconds with one decimal below 10 ms.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Labels as `k=v,k2=v2`.
pub fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A spinner on stderr while something runs; nothing when stderr is not a terminal.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Starts spinning with `message` beside it.
    pub fn start(message: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let stop = stop.clone();
            let message = message.to_owned();
            std::thread::spawn(move || {
                const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r{} {message}", FRAMES[i % FRAMES.len()]);
                    let _ = err.flush();
                    drop(err);
                    i += 1;
                    std::thread::sleep(Duration::from_millis(80));
                }
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            })
        });
        Self { stop, thread }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_terminals_without_no_color() {
        assert!(color_enabled(true, None));
        assert!(color_enabled(true, Some("")));
        assert!(!color_enabled(true, Some("1")));
        assert!(!color_enabled(false, None));
        assert_eq!(Style::plain().paint("up", Some(Paint::Green)), "up");
        assert_eq!(
            Style::colored().paint("up", Some(Paint::Green)),
            "\x1b[32mup\x1b[0m"
        );
    }

    #[test]
    fn tables_align_on_the_widest_cell_and_ignore_colour_codes() {
        let mut t = Table::new(&["id", "state", "message"]);
        t.row(vec![
            "payments-api".into(),
            Cell::painted("up", Some(Paint::Green)),
            "HTTP 200 in 12 ms".into(),
        ]);
        t.row(vec!["db".into(), Cell::painted("down", Some(Paint::Red))]);
        assert_eq!(
            t.render(&Style::plain()),
            "ID            STATE  MESSAGE\n\
             payments-api  up     HTTP 200 in 12 ms\n\
             db            down\n"
        );
        let colored = t.render(&Style::colored());
        let line = colored.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "payments-api  \x1b[32mup\x1b[0m     HTTP 200 in 12 ms"
        );
    }

    #[test]
    fn long_and_multi_line_cells_are_cut_to_one_line() {
        let mut t = Table::new(&["a"]);
        t.row(vec![format!("x\ny{}", "z".repeat(200)).into()]);
        let out = t.render(&Style::plain());
        let row = out.lines().nth(1).unwrap();
        assert!(row.starts_with("x y"));
        assert_eq!(row.chars().count(), MAX_CELL);
        assert!(row.ends_with('…'));
    }

    #[test]
    fn relative_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s: i64| Some(now - chrono::Duration::seconds(s));
        assert_eq!(ago(at(12), now), "12s ago");
        assert_eq!(ago(at(300), now), "5m ago");
        assert_eq!(ago(at(3 * 3600 + 5), now), "3h ago");
        assert_eq!(ago(at(2 * 86_400), now), "2d ago");
        assert_eq!(ago(at(-120), now), "in 2m");
        assert_eq!(ago(None, now), "-");
        assert_eq!(millis(3.26), "3.3 ms");
        assert_eq!(millis(123.4), "123 ms");
    }
}
