//! Heartbeat verdicts: on time, missed, reported, cron schedules.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use vedette_model::spec::HeartbeatCheck;
use vedette_model::{CheckResult, Duration, FailureReason, Outcome};
use vedette_probe::heartbeat::{Ping, evaluate};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, h, m, 0)
        .single()
        .expect("time")
}

fn hb(schedule: Option<&str>, grace_secs: u64) -> HeartbeatCheck {
    HeartbeatCheck {
        schedule: schedule.map(str::to_owned),
        grace: Duration::from_secs(grace_secs),
        token: None,
    }
}

fn ping(at: DateTime<Utc>, status: Outcome, message: Option<&str>) -> Ping {
    Ping {
        at,
        status,
        message: message.map(str::to_owned),
    }
}

const FIVE_MIN: Duration = Duration::from_secs(300);

#[test]
fn nothing_due_yet_then_missed() {
    let check = hb(None, 60);
    let since = at(10, 0);
    let v = evaluate("hb", &check, FIVE_MIN, since, None, at(10, 3));
    assert_eq!(v.result, None);
    assert_eq!(v.next_due, at(10, 6));

    let v = evaluate("hb", &check, FIVE_MIN, since, None, at(10, 7));
    let result = v.result.expect("due");
    assert_eq!(result.outcome, Outcome::Down);
    assert_missed_since_ten(&result);
    assert_eq!(result.monitor_id, "hb");
    assert!(v.next_due > at(10, 7));
}

#[test]
fn on_time_late_and_reported() {
    let check = hb(None, 60);
    let since = at(9, 0);
    let up = ping(at(10, 0), Outcome::Up, None);
    let v = evaluate("hb", &check, FIVE_MIN, since, Some(&up), at(10, 4));
    assert_eq!(v.result.expect("result").outcome, Outcome::Up);
    assert_eq!(v.next_due, at(10, 6));

    let v = evaluate("hb", &check, FIVE_MIN, since, Some(&up), at(10, 7));
    let result = v.result.expect("result");
    assert_missed_since_ten(&result);

    let down = ping(at(10, 0), Outcome::Down, Some("backup failed: disk full"));
    let v = evaluate("hb", &check, FIVE_MIN, since, Some(&down), at(10, 2));
    let result = v.result.expect("result");
    assert_eq!(result.outcome, Outcome::Down);
    assert_eq!(result.reason, Some(FailureReason::Reported));
    assert_eq!(result.message, "backup failed: disk full");
}

#[test]
fn cron_schedule() {
    // Daily at 02:00 UTC, 10 minutes of grace.
    let check = hb(Some("0 2 * * *"), 600);
    let since = at(0, 0) - TimeDelta::days(10);
    let ran = ping(at(2, 5), Outcome::Up, None);

    let v = evaluate("hb", &check, FIVE_MIN, since, Some(&ran), at(2, 30));
    assert_eq!(v.result.expect("result").outcome, Outcome::Up);
    assert_eq!(v.next_due, at(2, 10) + TimeDelta::days(1));

    let next_day = at(2, 11) + TimeDelta::days(1);
    let v = evaluate("hb", &check, FIVE_MIN, since, Some(&ran), next_day);
    let result = v.result.expect("result");
    assert_eq!(
        result.reason,
        Some(FailureReason::Missed),
        "{}",
        result.message
    );
    assert!(
        result.message.contains("due at 2025-03-11 02:00:00 UTC"),
        "{}",
        result.message
    );

    // A monitor created after today's run has nothing due until tomorrow's deadline.
    let v = evaluate("hb", &check, FIVE_MIN, at(3, 0), None, at(12, 0));
    assert_eq!(v.result, None);
    assert_eq!(v.next_due, at(2, 10) + TimeDelta::days(1));

    let v = evaluate(
        "hb",
        &hb(Some("not cron"), 60),
        FIVE_MIN,
        since,
        None,
        at(12, 0),
    );
    assert_eq!(
        v.result.expect("result").reason,
        Some(FailureReason::Config)
    );
}

/// Asserts `result` is a missed heartbeat whose message names the last ping, at 10:00.
fn assert_missed_since_ten(result: &CheckResult) {
    assert_eq!(result.reason, Some(FailureReason::Missed));
    assert!(
        result
            .message
            .starts_with("no ping since 2025-03-10 10:00:00 UTC"),
        "{}",
        result.message
    );
}
