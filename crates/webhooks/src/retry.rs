//! The retry schedule: when each attempt of a message is made, with jitter, and how a
//! receiver's `Retry-After` pushes the next one back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngExt;

/// Delays before each attempt: the first entry is the delay before the first attempt, the
/// second the delay after the first failure, and so on; a message fails for good when the
/// schedule runs out.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delays before attempts 1, 2, ...
    pub schedule: Vec<Duration>,
    /// Each delay is multiplied by a random factor in `[1 - jitter, 1 + jitter]` (0 to 1).
    pub jitter: f64,
    /// The longest `Retry-After` honoured; longer ones are capped to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight attempts over about 27.6 hours),
    /// ±10 % jitter, `Retry-After` honoured up to 24 h.
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            schedule: vec![
                s(0),
                s(5),
                s(5 * 60),
                s(30 * 60),
                s(2 * 3600),
                s(5 * 3600),
                s(10 * 3600),
                s(10 * 3600),
            ],
            jitter: 0.1,
            max_retry_after: s(24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// How many attempts a message gets.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len()).unwrap_or(u32::MAX)
    }

    /// The delay before the first attempt.
    pub fn first_delay(&self) -> Duration {
        self.schedule.first().copied().unwrap_or_default()
    }

    /// When to try again after `attempts_made` attempts failed at `now`, or `None` when the
    /// schedule is exhausted. A `Retry-After` from the receiver is honoured: the attempt is
    /// never earlier than it asks (up to [`max_retry_after`](Self::max_retry_after)).
    pub fn next_attempt(
        &self,
        attempts_made: u32,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> Option<DateTime<Utc>> {
        let base = *self.schedule.get(usize::try_from(attempts_made).ok()?)?;
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = if jitter > 0.0 {
            rand::rng().random_range((1.0 - jitter)..=(1.0 + jitter))
        } else {
            1.0
        };
        let mut delay = base.mul_f64(factor);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(self.max_retry_after));
        }
        Some(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX))
    }
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date (as a delay from `now`).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_and_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts(), 8);
        let now = Utc::now();
        let next = p.next_attempt(2, now, None).expect("third attempt");
        let secs = (next - now).num_milliseconds();
        assert!((270_000..=330_000).contains(&secs), "{secs}");
        assert!(p.next_attempt(8, now, None).is_none());
    }

    #[test]
    fn retry_after_pushes_back_but_is_capped() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let now = Utc::now();
        let next = p
            .next_attempt(1, now, Some(Duration::from_secs(3600)))
            .expect("retry");
        assert_eq!((next - now).num_seconds(), 3600);
        let capped = p
            .next_attempt(1, now, Some(Duration::from_secs(10 * 86_400)))
            .expect("retry");
        assert_eq!((capped - now).num_seconds(), 86_400);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let date = (now + chrono::Duration::seconds(60)).to_rfc2822();
        let parsed = parse_retry_after(&date, now).expect("date");
        assert!((59..=60).contains(&parsed.as_secs()));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
