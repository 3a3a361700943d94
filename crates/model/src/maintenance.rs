//! Maintenance windows: one-off (`start` + `end`) or recurring (`cron` or `rrule`, each with a
//! `duration`). While a window is active, notifications for the monitors it selects are
//! suppressed; check results are still recorded.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Months, Timelike, Utc};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::schedule::{CronSchedule, parse_cron};
use crate::selector::Selector;
use crate::validate::{Errors, FieldError, check_id};

/// Longest window a recurring maintenance may set (31 days).
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 86_400);
/// Longest `rrule` text accepted, in bytes.
pub const MAX_RRULE_LEN: usize = 1024;
/// Highest `COUNT` an `rrule` may set.
pub const MAX_RRULE_COUNT: u32 = 10_000;
/// Most monitor ids one window may list.
pub const MAX_MONITORS: usize = 10_000;
/// Most occurrences looked at by one question about a window (keeps every call bounded).
const MAX_STEPS: usize = 50_000;
/// How far ahead `active_until` follows overlapping occurrences.
const MERGE_HORIZON_DAYS: i64 = 366;

/// A maintenance window: notifications for selected monitors are suppressed while it is active;
/// results are kept.
///
/// Exactly one schedule form is set: `start` and `end` (one-off), `cron` and `duration`, or
/// `rrule`, `start` (its DTSTART) and `duration`. Monitors are selected by id, by label selector,
/// or both.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSpec {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text: why the window exists, who to ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Start of a one-off window, or the first occurrence (DTSTART) of an `rrule` window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// End of a one-off window (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    /// Cron expression (5 fields, UTC) at which a recurring window opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// RFC 5545 recurrence rule (UTC) at which a recurring window opens, e.g.
    /// `FREQ=WEEKLY;BYDAY=SU;BYHOUR=2`; `start` is its DTSTART.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// How long each occurrence of a recurring window lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Monitors by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<String>,
    /// Monitors by label selector (`team=payments,env in (prod,staging)`); empty selects all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// One occurrence of a window: its start and (exclusive) end.
pub type Occurrence = (DateTime<Utc>, DateTime<Utc>);

/// The schedule of a valid window, ready to evaluate.
#[derive(Debug)]
enum Plan {
    OneOff {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Cron {
        schedule: CronSchedule,
        length: chrono::Duration,
    },
    RRule {
        rule: RRule<Unvalidated>,
        start: DateTime<Utc>,
        length: chrono::Duration,
    },
}

fn chrono_len(d: Duration) -> Option<chrono::Duration> {
    chrono::Duration::from_std(d.std()).ok()
}

/// Parses the `rrule` field (optionally prefixed `RRULE:`), refusing what the window cannot use.
fn parse_rrule(text: &str) -> Result<RRule<Unvalidated>, String> {
    if text.len() > MAX_RRULE_LEN {
        return Err(format!("must be at most {MAX_RRULE_LEN} bytes"));
    }
    let body = text.trim();
    let body = body.strip_prefix("RRULE:").unwrap_or(body);
    if body.contains(['\n', '\r']) || body.to_ascii_uppercase().contains("DTSTART") {
        return Err(
            "expected one RRULE such as FREQ=WEEKLY;BYDAY=SU;BYHOUR=2 (the window's start is its DTSTART)"
                .to_owned(),
        );
    }
    let rule: RRule<Unvalidated> = body
        .parse()
        .map_err(|e| format!("invalid recurrence rule: {e}"))?;
    if rule.get_freq() == Frequency::Secondly {
        return Err("FREQ=SECONDLY is not supported for maintenance windows".to_owned());
    }
    if rule.get_count().is_some_and(|c| c > MAX_RRULE_COUNT) {
        return Err(format!("COUNT must be at most {MAX_RRULE_COUNT}"));
    }
    Ok(rule)
}

/// Builds the rule's set with a DTSTART moved forward by whole recurrence periods so that
/// iteration starts close to `target` instead of at the original start. The moved set holds
/// exactly the original occurrences at or after the moved start; rules where that does not
/// hold (COUNT, month ends, 29 February) keep their original start.
fn rrule_set(
    rule: &RRule<Unvalidated>,
    start: DateTime<Utc>,
    target: DateTime<Utc>,
) -> Option<RRuleSet> {
    let start = start.with_nanosecond(0)?;
    let moved = if rule.get_count().is_some() || target <= start {
        start
    } else {
        advance(
            rule.get_freq(),
            u32::from(rule.get_interval().max(1)),
            start,
            target,
        )
        .unwrap_or(start)
    };
    let tz_start = moved.with_timezone(&rrule::Tz::UTC);
    rule.clone().build(tz_start).ok().map(RRuleSet::limit)
}

/// The latest `start + k × period` (k ≥ 0) that is at or before `target`.
fn advance(
    freq: Frequency,
    interval: u32,
    start: DateTime<Utc>,
    target: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let fixed = |unit_secs: i64| -> Option<DateTime<Utc>> {
        let period = unit_secs.checked_mul(i64::from(interval))?;
        let k = (target - start).num_seconds() / period;
        start.checked_add_signed(chrono::Duration::seconds(k.checked_mul(period)?))
    };
    let months = |unit: u32| -> Option<DateTime<Utc>> {
        use chrono::Datelike;
        if start.day() > 28 {
            return None;
        }
        let period = unit.checked_mul(interval)?;
        let span =
            (target.year() - start.year()) * 12 + target.month() as i32 - start.month() as i32;
        let mut k = u32::try_from(span.max(0)).ok()? / period;
        loop {
            let candidate = start.checked_add_months(Months::new(k.checked_mul(period)?))?;
            if candidate <= target || k == 0 {
                return Some(candidate);
            }
            k -= 1;
        }
    };
    match freq {
        Frequency::Secondly => fixed(1),
        Frequency::Minutely => fixed(60),
        Frequency::Hourly => fixed(3600),
        Frequency::Daily => fixed(86_400),
        Frequency::Weekly => fixed(7 * 86_400),
        Frequency::Monthly => months(1),
        Frequency::Yearly => months(12),
    }
}

/// Occurrence starts in increasing order, beginning no later than the occurrence that could
/// contain `from`; at most [`MAX_STEPS`] of them.
fn starts(plan: &Plan, from: DateTime<Utc>) -> Box<dyn Iterator<Item = DateTime<Utc>> + '_> {
    match plan {
        Plan::OneOff { start, .. } => Box::new(std::iter::once(*start)),
        Plan::Cron { schedule, .. } => {
            let first = schedule
                .prev_at_or_before(from)
                .or_else(|| schedule.next_after(from));
            Box::new(std::iter::successors(first, move |t| schedule.next_after(*t)).take(MAX_STEPS))
        }
        Plan::RRule {
            rule,
            start,
            length,
        } => {
            let target = from.checked_sub_signed(*length).unwrap_or(from);
            match rrule_set(rule, *start, target) {
                Some(set) => Box::new(
                    (&set)
                        .into_iter()
                        .map(|t| t.with_timezone(&Utc))
                        .take(MAX_STEPS),
                ),
                None => Box::new(std::iter::empty()),
            }
        }
    }
}

impl Plan {
    fn length(&self) -> chrono::Duration {
        match self {
            Plan::OneOff { start, end } => *end - *start,
            Plan::Cron { length, .. } | Plan::RRule { length, .. } => *length,
        }
    }
}

impl MaintenanceSpec {
    /// Every problem in the window; paths are relative to `prefix` (e.g. `spec`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        errs.texts(
            prefix,
            &[("name", &self.name), ("description", &self.description)],
        );
        self.validate_schedule(prefix, &mut errs);
        if let Some(d) = self.duration
            && (d.std().is_zero() || d > MAX_WINDOW)
        {
            errs.add(
                prefix,
                "duration",
                format!("must be more than 0s and at most 31d, got {d}"),
            );
        }
        if self.monitors.is_empty() && self.selector.is_none() {
            errs.add(
                prefix,
                "monitors",
                "at least one of monitors or selector must be set",
            );
        }
        if self.monitors.len() > MAX_MONITORS {
            errs.add(
                prefix,
                "monitors",
                format!("at most {MAX_MONITORS} monitor ids are allowed"),
            );
        }
        for (i, id) in self.monitors.iter().enumerate().take(MAX_MONITORS) {
            if let Err(message) = check_id(id) {
                errs.add(prefix, &format!("monitors[{i}]"), message);
            }
        }
        if let Some(selector) = &self.selector
            && let Err(e) = crate::selector::parse(selector)
        {
            errs.add(prefix, "selector", e.to_string());
        }
        errs.into_vec()
    }

    fn validate_schedule(&self, prefix: &str, errs: &mut Errors) {
        const FORMS: &str = "a one-off window (start and end) or a recurring one (cron and duration, or rrule, start and duration)";
        if let Some(rule) = &self.rrule {
            if self.cron.is_some() {
                errs.add(
                    prefix,
                    "cron",
                    "not allowed with rrule: set either cron or rrule",
                );
            }
            if self.end.is_some() {
                errs.add(
                    prefix,
                    "end",
                    "not allowed with rrule: each occurrence lasts `duration`",
                );
            }
            if self.start.is_none() {
                errs.add(
                    prefix,
                    "start",
                    "required with rrule (it is the first occurrence, DTSTART)",
                );
            }
            if self.duration.is_none() {
                errs.add(prefix, "duration", "required with rrule");
            }
            match parse_rrule(rule) {
                Err(message) => errs.add(prefix, "rrule", message),
                Ok(parsed) => {
                    if let Some(start) = self.start.and_then(|s| s.with_nanosecond(0))
                        && let Err(e) = parsed.validate(start.with_timezone(&rrule::Tz::UTC))
                    {
                        errs.add(prefix, "rrule", format!("invalid recurrence rule: {e}"));
                    }
                }
            }
        } else if let Some(cron) = &self.cron {
            for (field, set) in [("start", self.start.is_some()), ("end", self.end.is_some())] {
                if set {
                    errs.add(prefix, field, "not allowed with cron: each occurrence starts when the cron fires and lasts `duration`");
                }
            }
            if self.duration.is_none() {
                errs.add(prefix, "duration", "required with cron");
            }
            if let Err(message) = parse_cron(cron) {
                errs.add(prefix, "cron", message);
            }
        } else if self.start.is_some() || self.end.is_some() {
            match (self.start, self.end) {
                (Some(start), Some(end)) if end <= start => {
                    errs.add(
                        prefix,
                        "end",
                        format!("must be after start ({})", start.to_rfc3339()),
                    );
                }
                (None, _) => errs.add(prefix, "start", "required with end"),
                (_, None) => errs.add(
                    prefix,
                    "end",
                    format!("required with start; expected {FORMS}"),
                ),
                _ => {}
            }
            if self.duration.is_some() {
                errs.add(
                    prefix,
                    "duration",
                    "only for recurring windows: a one-off window sets end",
                );
            }
        } else {
            errs.add(prefix, "", format!("expected {FORMS}"));
        }
    }

    /// The evaluable schedule, or `None` when the window is not valid.
    fn plan(&self) -> Option<Plan> {
        let length = self.duration.and_then(chrono_len);
        match (&self.rrule, &self.cron, self.start, self.end) {
            (Some(rule), None, Some(start), None) => Some(Plan::RRule {
                rule: parse_rrule(rule).ok()?,
                start,
                length: length?,
            }),
            (None, Some(cron), None, None) => Some(Plan::Cron {
                schedule: parse_cron(cron).ok()?,
                length: length?,
            }),
            (None, None, Some(start), Some(end)) if end > start && self.duration.is_none() => {
                Some(Plan::OneOff { start, end })
            }
            _ => None,
        }
        .filter(|p| p.length() > chrono::Duration::zero())
    }

    /// The start of the occurrence that contains `at`, if any.
    fn containing(plan: &Plan, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let length = plan.length();
        let mut found = None;
        for start in starts(plan, at) {
            if start > at {
                break;
            }
            if start.checked_add_signed(length).is_none_or(|end| at < end) {
                found = Some(start);
            }
        }
        found
    }

    /// Whether the window is active at `at` (an invalid window never is). Never panics; the work
    /// is bounded.
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        self.plan()
            .is_some_and(|plan| Self::containing(&plan, at).is_some())
    }

    /// When the window stops being active, if it is active at `at`: the end of the occurrence
    /// containing `at`, extended through occurrences that overlap or touch it (followed at most
    /// a year ahead).
    pub fn active_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let plan = self.plan()?;
        let first = Self::containing(&plan, at)?;
        let length = plan.length();
        let horizon = at.checked_add_signed(chrono::Duration::days(MERGE_HORIZON_DAYS))?;
        let mut end = first.checked_add_signed(length)?;
        for start in starts(&plan, at).skip_while(|s| *s <= first) {
            if start > end || end > horizon {
                break;
            }
            end = end.max(start.checked_add_signed(length)?);
        }
        Some(end)
    }

    /// The first time strictly after `at` that an occurrence of the window starts.
    pub fn next_start_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let plan = self.plan()?;
        starts(&plan, at).find(|s| *s > at)
    }

    /// The occurrences of the window overlapping `[from, to)`, as `(start, end)` in start
    /// order, at most `limit`; the flag tells whether more were left out (past `limit`, or
    /// past the bounded work of one question). An invalid window has none.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> (Vec<Occurrence>, bool) {
        let mut found = Vec::new();
        let Some(plan) = self.plan() else {
            return (found, false);
        };
        let length = plan.length();
        // An occurrence that started up to one length before `from` may still overlap it.
        let earliest = from.checked_sub_signed(length).unwrap_or(from);
        let mut steps = 0;
        for start in starts(&plan, earliest) {
            steps += 1;
            if start >= to {
                return (found, false);
            }
            let end = start
                .checked_add_signed(length)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if end > from {
                if found.len() == limit {
                    return (found, true);
                }
                found.push((start, end));
            }
        }
        // The iterator ended: the schedule has no more occurrences, or the step bound cut it.
        let cut = steps >= MAX_STEPS;
        (found, cut)
    }

    /// Whether the window covers this monitor: listed by id, or matched by the selector.
    pub fn applies_to(&self, monitor_id: &str, labels: &BTreeMap<String, String>) -> bool {
        self.monitors.iter().any(|m| m == monitor_id)
            || self
                .selector
                .as_deref()
                .and_then(|s| crate::selector::parse(s).ok())
                .is_some_and(|s| s.matches(labels))
    }

    /// The window with its schedule and selector parsed once, for a caller that asks about it
    /// for every check result (the engine); it answers as the spec's own methods do.
    pub fn compile(&self) -> CompiledWindow {
        CompiledWindow {
            plan: self.plan(),
            monitors: self.monitors.iter().cloned().collect(),
            selector: self
                .selector
                .as_deref()
                .and_then(|s| crate::selector::parse(s).ok()),
            known: Mutex::new(None),
        }
    }
}

/// A maintenance window ready to evaluate: what [`MaintenanceSpec::is_active`] and
/// [`MaintenanceSpec::applies_to`] would parse on every call, parsed once; and the last
/// answer of `is_active` with how long it holds, so results arriving in time order mostly
/// cost a comparison.
#[derive(Debug)]
pub struct CompiledWindow {
    /// `None` for an invalid window, which is never active.
    plan: Option<Plan>,
    monitors: HashSet<String>,
    /// `None` when the spec has none or it does not parse (it then selects nothing).
    selector: Option<Selector>,
    known: Mutex<Option<Known>>,
}

/// `active` is the answer for every instant in `from..until`.
#[derive(Debug, Clone, Copy)]
struct Known {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    active: bool,
}

impl CompiledWindow {
    /// Whether the window is active at `at`; see [`MaintenanceSpec::is_active`].
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        let Some(plan) = &self.plan else {
            return false;
        };
        let known = *self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = known.filter(|k| k.from <= at && at < k.until) {
            return k.active;
        }
        // Active until the containing occurrence ends; inactive until the next one starts
        // (an occurrence covering a later instant but not `at` would have to start after it).
        let (active, until) = match MaintenanceSpec::containing(plan, at) {
            Some(start) => (true, start.checked_add_signed(plan.length())),
            None => (false, starts(plan, at).find(|s| *s > at)),
        };
        *self.known.lock().unwrap_or_else(PoisonError::into_inner) = Some(Known {
            from: at,
            until: until.unwrap_or(DateTime::<Utc>::MAX_UTC),
            active,
        });
        active
    }

    /// Whether the window covers this monitor; see [`MaintenanceSpec::applies_to`].
    pub fn applies_to(&self, monitor_id: &str, labels: &BTreeMap<String, String>) -> bool {
        self.monitors.contains(monitor_id)
            || self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn base() -> MaintenanceSpec {
        MaintenanceSpec {
            name: None,
            description: None,
            start: None,
            end: None,
            cron: None,
            rrule: None,
            duration: None,
            monitors: vec!["payments-api".into()],
            selector: None,
        }
    }

    fn fields(spec: &MaintenanceSpec) -> Vec<String> {
        spec.validate("spec").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn one_off_window() {
        let w = MaintenanceSpec {
            start: Some(at(2024, 5, 1, 2, 0)),
            end: Some(at(2024, 5, 1, 4, 0)),
            ..base()
        };
        assert!(w.validate("spec").is_empty());
        assert!(!w.is_active(at(2024, 5, 1, 1, 59)));
        assert!(w.is_active(at(2024, 5, 1, 2, 0)));
        assert!(w.is_active(at(2024, 5, 1, 3, 59)));
        assert!(!w.is_active(at(2024, 5, 1, 4, 0)));
        assert_eq!(
            w.active_until(at(2024, 5, 1, 3, 0)),
            Some(at(2024, 5, 1, 4, 0))
        );
        assert_eq!(w.active_until(at(2024, 5, 1, 5, 0)), None);
        assert_eq!(
            w.next_start_after(at(2024, 5, 1, 1, 0)),
            Some(at(2024, 5, 1, 2, 0))
        );
        assert_eq!(w.next_start_after(at(2024, 5, 1, 2, 0)), None);
    }

    #[test]
    fn cron_window() {
        let w = MaintenanceSpec {
            cron: Some("0 2 * * SUN".into()),
            duration: Some("2h".parse().unwrap()),
            ..base()
        };
        assert!(w.validate("spec").is_empty());
        // 2024-05-05 is a Sunday.
        assert!(w.is_active(at(2024, 5, 5, 2, 0)));
        assert!(w.is_active(at(2024, 5, 5, 3, 30)));
        assert!(!w.is_active(at(2024, 5, 5, 4, 0)));
        assert!(!w.is_active(at(2024, 5, 6, 3, 0)));
        assert_eq!(
            w.active_until(at(2024, 5, 5, 3, 0)),
            Some(at(2024, 5, 5, 4, 0))
        );
        assert_eq!(
            w.next_start_after(at(2024, 5, 1, 0, 0)),
            Some(at(2024, 5, 5, 2, 0))
        );
        assert_eq!(
            w.next_start_after(at(2024, 5, 5, 2, 0)),
            Some(at(2024, 5, 12, 2, 0))
        );
    }

    #[test]
    fn occurrences_in_a_range() {
        let weekly = MaintenanceSpec {
            cron: Some("0 2 * * SUN".into()),
            duration: Some("2h".parse().unwrap()),
            ..base()
        };
        // 2024-05-05 and 2024-05-12 are Sundays; the range starts inside the first occurrence.
        let (list, more) = weekly.occurrences(at(2024, 5, 5, 3, 0), at(2024, 5, 19, 2, 0), 10);
        assert_eq!(
            list,
            [
                (at(2024, 5, 5, 2, 0), at(2024, 5, 5, 4, 0)),
                (at(2024, 5, 12, 2, 0), at(2024, 5, 12, 4, 0)),
            ]
        );
        assert!(!more);
        let (list, more) = weekly.occurrences(at(2024, 5, 1, 0, 0), at(2024, 6, 1, 0, 0), 2);
        assert_eq!(list.len(), 2);
        assert!(more, "four Sundays in the range, two asked for");

        let rrule = MaintenanceSpec {
            start: Some(at(2024, 1, 7, 0, 0)),
            rrule: Some("FREQ=WEEKLY;BYDAY=SU;BYHOUR=2".into()),
            duration: Some("1h".parse().unwrap()),
            ..base()
        };
        let (list, _) = rrule.occurrences(at(2024, 5, 4, 0, 0), at(2024, 5, 13, 0, 0), 10);
        assert_eq!(
            list,
            [
                (at(2024, 5, 5, 2, 0), at(2024, 5, 5, 3, 0)),
                (at(2024, 5, 12, 2, 0), at(2024, 5, 12, 3, 0)),
            ]
        );

        let one_off = MaintenanceSpec {
            start: Some(at(2024, 5, 1, 2, 0)),
            end: Some(at(2024, 5, 1, 4, 0)),
            ..base()
        };
        assert_eq!(
            one_off.occurrences(at(2024, 5, 1, 3, 0), at(2024, 5, 2, 0, 0), 10),
            (vec![(at(2024, 5, 1, 2, 0), at(2024, 5, 1, 4, 0))], false)
        );
        assert_eq!(
            one_off.occurrences(at(2024, 5, 1, 4, 0), at(2024, 5, 2, 0, 0), 10),
            (vec![], false)
        );
    }

    #[test]
    fn overlapping_occurrences_merge() {
        let w = MaintenanceSpec {
            cron: Some("0 * * * *".into()),
            duration: Some("90m".parse().unwrap()),
            ..base()
        };
        // Every hour for 90 minutes: always active; the merge stops at the horizon.
        assert!(w.is_active(at(2024, 5, 5, 2, 45)));
        let until = w.active_until(at(2024, 5, 5, 2, 45)).unwrap();
        assert!(until > at(2025, 5, 5, 0, 0), "{until}");

        let touching = MaintenanceSpec {
            cron: Some("0 0,1 * * *".into()),
            duration: Some("1h".parse().unwrap()),
            ..base()
        };
        assert_eq!(
            touching.active_until(at(2024, 5, 5, 0, 30)),
            Some(at(2024, 5, 5, 2, 0))
        );
    }

    #[test]
    fn rrule_window() {
        let w = MaintenanceSpec {
            start: Some(at(2024, 1, 7, 0, 0)),
            rrule: Some("FREQ=WEEKLY;BYDAY=SU;BYHOUR=2".into()),
            duration: Some("1h".parse().unwrap()),
            ..base()
        };
        assert!(w.validate("spec").is_empty(), "{:?}", w.validate("spec"));
        assert!(
            !w.is_active(at(2024, 1, 7, 0, 30)),
            "DTSTART itself is not an occurrence at 00:00"
        );
        assert!(w.is_active(at(2024, 1, 7, 2, 30)));
        assert!(w.is_active(at(2030, 6, 2, 2, 59)), "2030-06-02 is a Sunday");
        assert!(!w.is_active(at(2030, 6, 2, 3, 0)));
        assert!(!w.is_active(at(2023, 12, 31, 2, 30)), "before DTSTART");
        assert_eq!(
            w.active_until(at(2030, 6, 2, 2, 10)),
            Some(at(2030, 6, 2, 3, 0))
        );
        assert_eq!(
            w.next_start_after(at(2030, 6, 2, 2, 0)),
            Some(at(2030, 6, 9, 2, 0))
        );
        assert_eq!(
            w.next_start_after(at(2020, 1, 1, 0, 0)),
            Some(at(2024, 1, 7, 2, 0))
        );
    }

    #[test]
    fn rrule_shift_matches_plain_iteration() {
        // Moving DTSTART by whole periods must not change which instants are occurrences.
        for (rule, start) in [
            ("FREQ=DAILY;INTERVAL=3;BYHOUR=1,13", at(2024, 1, 1, 0, 0)),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=22",
                at(2024, 1, 3, 10, 0),
            ),
            ("FREQ=MONTHLY;BYDAY=1SA;BYHOUR=4", at(2024, 1, 15, 0, 0)),
            (
                "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23",
                at(2024, 2, 10, 0, 0),
            ),
            (
                "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYMONTHDAY=10;BYHOUR=0",
                at(2021, 2, 1, 0, 0),
            ),
            ("FREQ=HOURLY;INTERVAL=5;BYMINUTE=30", at(2024, 1, 1, 0, 10)),
            ("FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=1", at(2024, 1, 31, 0, 0)),
        ] {
            let parsed = parse_rrule(rule).unwrap();
            let full: Vec<DateTime<Utc>> = rrule_set(&parsed, start, start)
                .unwrap()
                .all(60_000)
                .dates
                .into_iter()
                .map(|d| d.with_timezone(&Utc))
                .collect();
            for probe in [at(2025, 3, 7, 5, 0), at(2026, 11, 30, 23, 0)] {
                let set = rrule_set(&parsed, start, probe).unwrap();
                let moved_start = set.get_dt_start().with_timezone(&Utc);
                assert!(moved_start <= probe, "{rule}");
                let moved: Vec<DateTime<Utc>> = set
                    .all(40)
                    .dates
                    .into_iter()
                    .map(|d| d.with_timezone(&Utc))
                    .collect();
                let expected: Vec<_> = full
                    .iter()
                    .copied()
                    .filter(|d| *d >= moved_start)
                    .take(40)
                    .collect();
                assert_eq!(moved, expected, "{rule} from {probe}");
            }
        }
    }

    #[test]
    fn rrule_with_count_and_until() {
        let w = MaintenanceSpec {
            start: Some(at(2024, 1, 1, 3, 0)),
            rrule: Some("RRULE:FREQ=DAILY;COUNT=3".into()),
            duration: Some("30m".parse().unwrap()),
            ..base()
        };
        assert!(w.validate("spec").is_empty(), "{:?}", w.validate("spec"));
        assert!(w.is_active(at(2024, 1, 3, 3, 10)));
        assert!(!w.is_active(at(2024, 1, 4, 3, 10)));
        assert_eq!(w.next_start_after(at(2024, 1, 3, 3, 0)), None);
        let until = MaintenanceSpec {
            rrule: Some("FREQ=DAILY;UNTIL=20240102T235959Z".into()),
            ..w
        };
        assert!(until.is_active(at(2024, 1, 2, 3, 10)));
        assert!(!until.is_active(at(2024, 1, 3, 3, 10)));
    }

    #[test]
    fn validation_errors() {
        assert_eq!(fields(&base()), vec!["spec"]);
        let half = MaintenanceSpec {
            start: Some(at(2024, 1, 1, 0, 0)),
            ..base()
        };
        assert_eq!(fields(&half), vec!["spec.end"]);
        let backwards = MaintenanceSpec {
            start: Some(at(2024, 1, 2, 0, 0)),
            end: Some(at(2024, 1, 1, 0, 0)),
            ..base()
        };
        assert_eq!(fields(&backwards), vec!["spec.end"]);
        let both = MaintenanceSpec {
            cron: Some("@daily".into()),
            rrule: Some("FREQ=DAILY".into()),
            start: Some(at(2024, 1, 1, 0, 0)),
            duration: Some("1h".parse().unwrap()),
            ..base()
        };
        assert_eq!(fields(&both), vec!["spec.cron"]);
        let cron_no_duration = MaintenanceSpec {
            cron: Some("61 * * * *".into()),
            end: Some(at(2024, 1, 1, 0, 0)),
            ..base()
        };
        assert_eq!(
            fields(&cron_no_duration),
            vec!["spec.end", "spec.duration", "spec.cron"]
        );
        let long = MaintenanceSpec {
            cron: Some("@daily".into()),
            duration: Some("32d".parse().unwrap()),
            ..base()
        };
        assert_eq!(fields(&long), vec!["spec.duration"]);
        let rrule_bad = MaintenanceSpec {
            rrule: Some("FREQ=SOMETIMES".into()),
            duration: Some("0s".parse().unwrap()),
            ..base()
        };
        assert_eq!(
            fields(&rrule_bad),
            vec!["spec.start", "spec.rrule", "spec.duration"]
        );
        for rule in [
            "FREQ=SECONDLY",
            "FREQ=DAILY;COUNT=99999",
            "DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY",
        ] {
            let w = MaintenanceSpec {
                rrule: Some(rule.into()),
                start: Some(at(2024, 1, 1, 0, 0)),
                duration: Some("1h".parse().unwrap()),
                ..base()
            };
            assert_eq!(fields(&w), vec!["spec.rrule"], "{rule}");
        }
        let targets = MaintenanceSpec {
            cron: Some("@daily".into()),
            duration: Some("1h".parse().unwrap()),
            monitors: vec!["Bad Id".into()],
            selector: Some("tier in (a".into()),
            ..base()
        };
        let errs = targets.validate("spec");
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            vec!["spec.monitors[0]", "spec.selector"]
        );
        assert!(
            errs[1].message.starts_with("column 11:"),
            "{}",
            errs[1].message
        );
        let none = MaintenanceSpec {
            cron: Some("@daily".into()),
            duration: Some("1h".parse().unwrap()),
            monitors: vec![],
            ..base()
        };
        assert_eq!(fields(&none), vec!["spec.monitors"]);
        // An invalid window is never active.
        assert!(!backwards.is_active(at(2024, 1, 1, 12, 0)));
        assert!(!rrule_bad.is_active(at(2024, 1, 1, 12, 0)));
    }

    #[test]
    fn selection() {
        let w = MaintenanceSpec {
            selector: Some("team=payments,env!=dev".into()),
            ..base()
        };
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(w.applies_to("payments-api", &BTreeMap::new()));
        assert!(w.applies_to("other", &labels(&[("team", "payments")])));
        assert!(!w.applies_to("other", &labels(&[("team", "payments"), ("env", "dev")])));
        assert!(!w.applies_to("other", &labels(&[("team", "search")])));
        let all = MaintenanceSpec {
            selector: Some(String::new()),
            monitors: vec![],
            ..base()
        };
        assert!(all.applies_to("anything", &BTreeMap::new()));
        let broken = MaintenanceSpec {
            selector: Some("((".into()),
            monitors: vec![],
            ..base()
        };
        assert!(!broken.applies_to("anything", &BTreeMap::new()));
    }

    #[test]
    fn a_compiled_window_answers_as_its_spec() {
        let labels: BTreeMap<String, String> = [("team".to_owned(), "payments".to_owned())].into();
        let windows = [
            MaintenanceSpec {
                start: Some(at(2024, 5, 1, 2, 0)),
                end: Some(at(2024, 5, 1, 4, 0)),
                ..base()
            },
            MaintenanceSpec {
                cron: Some("0 2 * * 0".into()),
                duration: Some(Duration::from_secs(7200)),
                selector: Some("team=payments".into()),
                ..base()
            },
            MaintenanceSpec {
                rrule: Some("FREQ=WEEKLY;BYDAY=WE;BYHOUR=3".into()),
                start: Some(at(2024, 1, 3, 3, 0)),
                duration: Some(Duration::from_secs(3600)),
                selector: Some("((".into()),
                ..base()
            },
            MaintenanceSpec {
                cron: Some("not a cron".into()),
                duration: Some(Duration::from_secs(60)),
                monitors: vec![],
                selector: Some(String::new()),
                ..base()
            },
        ];
        for w in &windows {
            let compiled = w.compile();
            // In time order (answered from what is known), then back and forth.
            let mut times: Vec<_> = (0..24 * 14)
                .map(|step| at(2024, 4, 25, 0, 0) + chrono::Duration::minutes(step * 61))
                .collect();
            times.extend((0..200).map(|step| {
                at(2024, 4, 25, 0, 0) + chrono::Duration::minutes((step * 7919) % (14 * 1440))
            }));
            times.extend([
                at(2024, 5, 1, 2, 0),
                at(2024, 5, 1, 3, 59),
                at(2024, 5, 1, 4, 0),
            ]);
            for t in times {
                assert_eq!(compiled.is_active(t), w.is_active(t), "{w:?} at {t}");
            }
            for (id, labels) in [
                ("payments-api", &BTreeMap::new()),
                ("other", &labels),
                ("other", &BTreeMap::new()),
            ] {
                assert_eq!(
                    compiled.applies_to(id, labels),
                    w.applies_to(id, labels),
                    "{w:?} for {id}"
                );
            }
        }
    }
}
