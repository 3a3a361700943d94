//! Times in query parameters: RFC 3339 (`2026-11-26T10:00:00Z`), `now`, or relative to now
//! (`-30d`, `-1h30m`, `now-15m`); and steps (`1h`).

use chrono::{DateTime, Utc};
use vedette_model::Duration;

use super::extract::Params;
use super::problem::{ApiResult, Problem};

/// Parses one time relative to `now`.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(now);
    }
    if let Some(ago) = text.strip_prefix("now-").or_else(|| text.strip_prefix('-')) {
        let span = ago
            .parse::<Duration>()
            .map_err(|e| e.to_string())
            .and_then(|d| chrono::Duration::from_std(d.std()).map_err(|e| e.to_string()))?;
        return now
            .checked_sub_signed(span)
            .ok_or_else(|| "too far in the past".to_owned());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            "expected an RFC 3339 time (2026-11-26T10:00:00Z), now, or a span ago such as -30d"
                .to_owned()
        })
}

impl Params {
    /// The time in `?name=`, `default` when absent; 400 naming the parameter when invalid.
    pub fn time(
        &self,
        name: &str,
        now: DateTime<Utc>,
        default: DateTime<Utc>,
    ) -> ApiResult<DateTime<Utc>> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => parse_time(text, now).map_err(|m| Problem::bad_param(name, m)),
        }
    }

    /// `from` and `to` with their defaults; 400 when `from` is after `to`.
    pub fn range(
        &self,
        now: DateTime<Utc>,
        default_from: DateTime<Utc>,
        default_to: DateTime<Utc>,
    ) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
        let from = self.time("from", now, default_from)?;
        let to = self.time("to", now, default_to)?;
        if from > to {
            return Err(Problem::bad_param("from", "must not be after to"));
        }
        Ok((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(
            parse_time("-30d", now),
            Ok(now - chrono::Duration::days(30))
        );
        assert_eq!(
            parse_time("now-1h30m", now),
            Ok(now - chrono::Duration::minutes(90))
        );
        assert_eq!(
            parse_time("2026-11-25T10:00:00+01:00", now),
            Ok(now - chrono::Duration::hours(25))
        );
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("-3x", now).is_err());
    }
}
