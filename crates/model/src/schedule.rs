//! Cron schedules (5 fields or `@hourly`-style macros, UTC) for heartbeat deadlines and recurring
//! maintenance windows.

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// Longest cron expression accepted, in bytes.
pub const MAX_CRON_LEN: usize = 256;

/// A parsed cron expression, evaluated in UTC at minute granularity.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    source: String,
    cron: Cron,
}

/// Parses a standard 5-field cron expression (`minute hour day-of-month month day-of-week`) or a
/// macro (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`).
///
/// The error is a message saying what was expected, suitable for a field error.
pub fn parse_cron(expr: &str) -> Result<CronSchedule, String> {
    if expr.len() > MAX_CRON_LEN {
        return Err(format!(
            "a cron expression must be at most {MAX_CRON_LEN} bytes"
        ));
    }
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err("expected a cron expression such as \"*/5 * * * *\" or \"@daily\"".to_owned());
    }
    if !trimmed.starts_with('@') && trimmed.split_whitespace().count() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got {} fields",
            trimmed.split_whitespace().count()
        ));
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    // croner's own texts ("Component error: ...") name its internals, not the expression.
    let cron = parser.parse(trimmed).map_err(|_| {
        out_of_range(trimmed).unwrap_or_else(|| {
            format!(
                "invalid cron expression {trimmed:?}: {CRON_FIELD_SYNTAX}, or a macro such as @daily"
            )
        })
    })?;
    let schedule = CronSchedule {
        source: trimmed.to_owned(),
        cron,
    };
    // A pattern such as "0 0 30 2 *" parses but never fires; refuse it rather than wait forever.
    let epoch = DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default();
    if schedule.next_after(epoch).is_none() {
        return Err(format!("cron expression {trimmed:?} never matches a date"));
    }
    Ok(schedule)
}

/// What each field of a cron expression may hold, for messages.
pub const CRON_FIELD_SYNTAX: &str = "each of the 5 fields (minute hour day-of-month month \
     day-of-week) takes *, a number, a range (1-5), a list (1,3), a step (*/15) or a name \
     (MON, JAN)";

/// The fields of a 5-field expression with their names and allowed ranges.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];

/// Names the first field holding a number outside its range, e.g. `hour is 24: expected 0–23`.
/// Steps (`*/90`) are left to the parser.
fn out_of_range(expr: &str) -> Option<String> {
    for (field, (name, min, max)) in expr.split_whitespace().zip(FIELDS) {
        for part in field.split(',') {
            let values = part.split('/').next().unwrap_or(part);
            for number in values.split('-') {
                if let Ok(n) = number.parse::<u32>()
                    && !(min..=max).contains(&n)
                {
                    return Some(format!(
                        "cron expression {expr:?}: the {name} field is {n}: expected {min}–{max}"
                    ));
                }
            }
        }
    }
    None
}

impl CronSchedule {
    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The first time strictly after `t` that the schedule fires; `None` when there is none
    /// within the search limit.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Whole seconds: the schedule fires on second 0, so this loses nothing.
        let t = t.with_nanosecond(0)?;
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The latest time at or before `t` that the schedule fired; `None` when there is none within
    /// the search limit.
    pub fn prev_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = t.with_nanosecond(0)?;
        self.cron.find_previous_occurrence(&t, true).ok()
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn out_of_range_numbers_name_the_field() {
        let err = parse_cron("0 24 * * *").unwrap_err();
        assert_eq!(
            err,
            "cron expression \"0 24 * * *\": the hour field is 24: expected 0–23"
        );
        let err = parse_cron("61 * * * *").unwrap_err();
        assert!(err.contains("minute field is 61: expected 0–59"), "{err}");
        let err = parse_cron("0 0 1 13 *").unwrap_err();
        assert!(err.contains("month field is 13"), "{err}");
        assert!(!err.contains("Component error"), "{err}");
    }

    #[test]
    fn five_fields_next_and_prev() {
        let c = parse_cron("*/15 * * * *").unwrap();
        let t = at(2024, 5, 1, 10, 7, 30);
        assert_eq!(c.next_after(t), Some(at(2024, 5, 1, 10, 15, 0)));
        assert_eq!(c.prev_at_or_before(t), Some(at(2024, 5, 1, 10, 0, 0)));
        // Exactly on a firing: next is strictly after, prev includes it.
        let on = at(2024, 5, 1, 10, 15, 0);
        assert_eq!(c.next_after(on), Some(at(2024, 5, 1, 10, 30, 0)));
        assert_eq!(c.prev_at_or_before(on), Some(on));
        // Sub-second instants.
        let frac = on + chrono::Duration::milliseconds(500);
        assert_eq!(c.prev_at_or_before(frac), Some(on));
        assert_eq!(
            c.next_after(on - chrono::Duration::milliseconds(500)),
            Some(on)
        );
    }

    #[test]
    fn macros_and_names() {
        let daily = parse_cron("@daily").unwrap();
        assert_eq!(
            daily.next_after(at(2024, 5, 1, 10, 0, 0)),
            Some(at(2024, 5, 2, 0, 0, 0))
        );
        let hourly = parse_cron("@hourly").unwrap();
        assert_eq!(
            hourly.prev_at_or_before(at(2024, 5, 1, 10, 59, 59)),
            Some(at(2024, 5, 1, 10, 0, 0))
        );
        let weekly = parse_cron("@weekly").unwrap();
        // 2024-05-01 is a Wednesday; @weekly fires Sunday 00:00.
        assert_eq!(
            weekly.next_after(at(2024, 5, 1, 0, 0, 0)),
            Some(at(2024, 5, 5, 0, 0, 0))
        );
        let sunday = parse_cron("0 2 * * SUN").unwrap();
        assert_eq!(
            sunday.prev_at_or_before(at(2024, 5, 1, 0, 0, 0)),
            Some(at(2024, 4, 28, 2, 0, 0))
        );
        assert_eq!(sunday.as_str(), "0 2 * * SUN");
    }

    #[test]
    fn prev_searches_far_back() {
        let yearly = parse_cron("0 0 1 1 *").unwrap();
        assert_eq!(
            yearly.prev_at_or_before(at(2024, 12, 31, 0, 0, 0)),
            Some(at(2024, 1, 1, 0, 0, 0))
        );
        let leap = parse_cron("0 0 29 2 *").unwrap();
        assert_eq!(
            leap.prev_at_or_before(at(2027, 1, 1, 0, 0, 0)),
            Some(at(2024, 2, 29, 0, 0, 0))
        );
    }

    #[test]
    fn rejects_bad_expressions() {
        for bad in [
            "",
            "* * * *",
            "0 * * * * *",
            "61 * * * *",
            "* 25 * * *",
            "hello world foo bar baz",
            "@fortnightly",
            "0 0 30 2 *",
        ] {
            assert!(parse_cron(bad).is_err(), "{bad:?} should be refused");
        }
        for (bad, field) in [
            ("hello world foo bar baz", "minute hour day-of-month"),
            ("*/0 * * * *", "a step (*/15)"),
            ("0 0 * * FUNDAY", "a name (MON, JAN)"),
        ] {
            let err = parse_cron(bad).unwrap_err();
            assert!(err.contains(field), "{bad}: {err}");
            for internal in ["Component error", "Invalid pattern", "out of bounds"] {
                assert!(!err.contains(internal), "{bad}: {err}");
            }
        }
        let long = format!("0 0 * * {}", "1,".repeat(200));
        assert!(parse_cron(&long).unwrap_err().contains("at most 256 bytes"));
    }
}
