//! A tiny wrapper over `croner` for heartbeat schedules (5 fields, UTC).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;

/// A parsed cron schedule.
#[derive(Debug, Clone)]
pub struct Schedule(Cron);

impl Schedule {
    /// Parses a cron expression such as `*/5 * * * *`.
    pub fn parse(expr: &str) -> Result<Self, String> {
        Cron::from_str(expr).map(Self).map_err(|_| {
            format!(
                "invalid schedule {expr:?}: {}",
                vedette_model::schedule::CRON_FIELD_SYNTAX
            )
        })
    }

    /// The latest scheduled time at or before `at`.
    pub fn previous(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.find_previous_occurrence(&at, true).ok()
    }

    /// The first scheduled time strictly after `at`.
    pub fn next(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.find_next_occurrence(&at, false).ok()
    }
}
