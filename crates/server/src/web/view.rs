//! What every dashboard page shares: the frame (navigation, the signed-in token, the CSRF
//! token, asset URLs) and the formatting of figures for people.

use chrono::{DateTime, Utc};
use vedette_model::MonitorState;

use super::assets;
use super::session::Viewer;

/// The frame around every signed-in page.
pub struct Frame {
    /// Page title (before " · Vedette").
    pub title: String,
    /// Which navigation entry is current (`overview`, `incidents`, ...).
    pub current: &'static str,
    /// The signed-in token's name.
    pub who: String,
    /// Its scope, as a word.
    pub scope: &'static str,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// Whether actions (pause, resume, run, replay) are shown.
    pub can_write: bool,
    /// Whether the tokens page is linked.
    pub is_admin: bool,
}

impl Frame {
    /// The frame of a page titled `title` under navigation entry `current`.
    pub fn new(viewer: &Viewer, title: impl Into<String>, current: &'static str) -> Self {
        Self {
            title: title.into(),
            current,
            who: viewer.name.clone(),
            scope: viewer.scope.as_str(),
            csrf: viewer.csrf.clone(),
            can_write: viewer.can_write(),
            is_admin: viewer.is_admin(),
        }
    }

    /// The versioned URL of asset `name`.
    pub fn asset(&self, name: &str) -> &'static str {
        assets::url(name)
    }

    /// `aria-current="page"` for the current entry, else nothing.
    pub fn aria(&self, entry: &str) -> &'static str {
        if entry == self.current {
            "page"
        } else {
            "false"
        }
    }
}

/// The versioned URL of asset `name`, for pages without a frame (sign-in).
pub fn asset(name: &str) -> &'static str {
    assets::url(name)
}

/// A share from 0 to 1 as a percentage with two decimals (`99.95 %`), or `—`.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.2} %", s * 100.0))
}

/// Milliseconds for people (`12 ms`, `1.3 s`), or `—`.
pub fn millis(ms: Option<f64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(ms) if ms >= 1000.0 => format!("{:.1} s", ms / 1000.0),
        Some(ms) if ms >= 10.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{ms:.1} ms"),
    }
}

/// An instant as `2026-11-28 14:03:07 UTC`.
pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional instant, or `—`.
pub fn when_opt(at: Option<&DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), when)
}

/// The lowercase name of a state (also its CSS class).
pub fn state_name(state: MonitorState) -> &'static str {
    match state {
        MonitorState::Pending => "pending",
        MonitorState::Up => "up",
        MonitorState::Degraded => "degraded",
        MonitorState::Down => "down",
        MonitorState::Paused => "paused",
        MonitorState::Maintenance => "maintenance",
    }
}

/// Every state, in the order the overview counts them.
pub const STATES: [MonitorState; 6] = [
    MonitorState::Down,
    MonitorState::Degraded,
    MonitorState::Up,
    MonitorState::Pending,
    MonitorState::Maintenance,
    MonitorState::Paused,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(percent(Some(0.99951)), "99.95 %");
        assert_eq!(percent(None), "—");
        assert_eq!(millis(Some(1234.0)), "1.2 s");
        assert_eq!(millis(Some(42.4)), "42 ms");
        assert_eq!(millis(Some(4.25)), "4.2 ms");
    }
}
