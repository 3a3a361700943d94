//! Heartbeat (push) monitors: a pure verdict from the last ping and the clock, no I/O.

use chrono::{DateTime, TimeDelta, Utc};
use vedette_model::spec::HeartbeatCheck;
use vedette_model::{CheckResult, Duration, FailureReason, Outcome, Phases};

use crate::cron::Schedule;

/// One ping received from the monitored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// `Up` for a success ping, `Down` when the job reported its own failure.
    pub status: Outcome,
    /// What the job said, if anything.
    pub message: Option<String>,
}

/// The state of a heartbeat monitor at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatVerdict {
    /// The result to record; `None` while no ping is due yet and none has arrived.
    pub result: Option<CheckResult>,
    /// When the verdict may change next (the next deadline).
    pub next_due: DateTime<Utc>,
}

/// Judges a heartbeat monitor at `now`. Pings are expected every `interval` (or at each time of
/// `check.schedule`) plus `check.grace`, counted from `since` (when the monitor was created or
/// last reset). No ping since a passed deadline is `down` (reason `missed`); a last ping that
/// reported failure is `down` (reason `reported`); otherwise `up`.
pub fn evaluate(
    monitor_id: &str,
    check: &HeartbeatCheck,
    interval: Duration,
    since: DateTime<Utc>,
    last_ping: Option<&Ping>,
    now: DateTime<Utc>,
) -> HeartbeatVerdict {
    let grace = span(check.grace);
    let every = span(interval).max(TimeDelta::seconds(1));
    let verdict =
        |result: Option<(Outcome, Option<FailureReason>, String)>, next_due| HeartbeatVerdict {
            result: result.map(|(outcome, reason, message)| CheckResult {
                monitor_id: monitor_id.to_owned(),
                started_at: now,
                outcome,
                reason,
                message,
                phases: Phases::default(),
                status_code: None,
                cert_not_after: None,
                assertions: Vec::new(),
                attempts: 1,
                in_maintenance: false,
                gateway: None,
            }),
            next_due,
        };

    // The latest time a ping was due by (its deadline has passed), and the next deadline.
    let (due, next_due) = match check.schedule.as_deref().map(Schedule::parse) {
        Some(Err(message)) => {
            return verdict(
                Some((Outcome::Down, Some(FailureReason::Config), message)),
                later(now, every),
            );
        }
        Some(Ok(schedule)) => {
            let due = schedule
                .previous(earlier(now, grace))
                .filter(|t| *t >= since);
            let next = schedule
                .next(earlier(now, grace))
                .map_or(later(now, every), |t| later(t, grace));
            (due, next)
        }
        None => {
            let base = last_ping.map_or(since, |p| p.at.max(since));
            let deadline = later(later(base, every), grace);
            if deadline <= now {
                (Some(later(base, every)), later(now, every))
            } else {
                (None, deadline)
            }
        }
    };

    let on_time = |due: DateTime<Utc>| last_ping.is_some_and(|p| p.at >= due);
    if let Some(due) = due.filter(|due| !on_time(*due)) {
        let message = format!(
            "no ping since {} (one was due at {} plus {} grace)",
            stamp(last_ping.map_or(since, |p| p.at)),
            stamp(due),
            check.grace
        );
        return verdict(
            Some((Outcome::Down, Some(FailureReason::Missed), message)),
            next_due,
        );
    }
    match last_ping {
        None => verdict(None, next_due),
        Some(ping) if ping.status == Outcome::Down => {
            let message = ping
                .message
                .clone()
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| format!("reported down at {}", stamp(ping.at)));
            verdict(
                Some((Outcome::Down, Some(FailureReason::Reported), message)),
                next_due,
            )
        }
        Some(ping) => verdict(
            Some((
                Outcome::Up,
                None,
                format!("last ping at {}", stamp(ping.at)),
            )),
            next_due,
        ),
    }
}

fn span(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d.std()).unwrap_or(TimeDelta::MAX)
}

fn later(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn earlier(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
