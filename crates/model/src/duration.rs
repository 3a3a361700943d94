//! Human durations (`500ms`, `30s`, `1m30s`, `2h`) used everywhere a spec names a time span.

use std::fmt;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative span of time written as `1h2m3s500ms`; shown and serialised as one number in
/// its largest exact unit (`21d`, `90m`, `1500ms`), so a span written that way comes back as
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(StdDuration);

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. 500ms, 30s, 1m30s, 2h)")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl Duration {
    /// Builds a duration from milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Self(StdDuration::from_millis(ms))
    }
    /// Builds a duration from seconds.
    pub const fn from_secs(s: u64) -> Self {
        Self(StdDuration::from_secs(s))
    }
    /// The standard library duration.
    pub const fn std(self) -> StdDuration {
        self.0
    }
    /// Whole milliseconds (saturating).
    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

impl From<StdDuration> for Duration {
    fn from(d: StdDuration) -> Self {
        Self(d)
    }
}

impl From<Duration> for StdDuration {
    fn from(d: Duration) -> Self {
        d.0
    }
}

const UNITS: [(&str, u64); 7] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Parses `1h30m`, `250ms`, `1.5s` into nanoseconds; rejects empty, unit-less and overflowing input.
pub fn parse_nanos(input: &str) -> Result<u128, &'static str> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty");
    }
    if s == "0" {
        return Ok(0);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if start == i {
            return Err("expected a number");
        }
        let number: f64 = s[start..i].parse().map_err(|_| "malformed number")?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        if unit.is_empty() {
            return Err("missing unit (ms, s, m, h, d)");
        }
        let nanos = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, n)| *n)
            .ok_or("unknown unit (use ns, us, ms, s, m, h or d)")?;
        let part = number * nanos as f64;
        if !part.is_finite() || part > 1e21 {
            return Err("too large");
        }
        total = total.checked_add(part as u128).ok_or("too large")?;
    }
    Ok(total)
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let nanos = parse_nanos(input).map_err(|reason| DurationError {
            input: input.chars().take(64).collect(),
            reason,
        })?;
        let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| DurationError {
            input: input.chars().take(64).collect(),
            reason: "too large",
        })?;
        Ok(Self(StdDuration::new(secs, (nanos % 1_000_000_000) as u32)))
    }
}

impl fmt::Display for Duration {
    /// One number in the largest unit that divides the span exactly: `21d`, `36h`, `90m`,
    /// `1500ms`; `0s` for nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        let (name, size) = UNITS
            .iter()
            .map(|&(name, size)| (name, u128::from(size)))
            .find(|&(_, size)| nanos.is_multiple_of(size))
            .unwrap_or(("ns", 1));
        write!(f, "{}{name}", nanos / size)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Takes text; a bare number gets a message saying to write a unit.
        struct DurationVisitor;
        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30s")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    return Ok(Duration::default());
                }
                Err(E::custom(format!(
                    "{v} has no unit: write a duration like {v}s, {v}m or {v}ms"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "{v} is not a duration: write one like 30s, 1m30s or 500ms"
                )))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "{v} has no unit: write a duration like {v}s"
                )))
            }
        }
        d.deserialize_any(DurationVisitor)
    }
}

impl Duration {
    /// For people reading a measured span (an assertion's actual value): the largest units
    /// first, days included (`29d23h59m55s`, `1m30s`), where [`fmt::Display`] gives the one
    /// exact unit a spec is written in.
    pub fn human(self) -> String {
        let mut nanos = self.0.as_nanos();
        if nanos == 0 {
            return "0s".to_owned();
        }
        let mut out = String::new();
        for (name, size) in UNITS {
            let size = u128::from(size);
            if nanos >= size {
                out.push_str(&format!("{}{name}", nanos / size));
                nanos %= size;
            }
        }
        out
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h|d))+$|^0$",
            "description": "A duration such as 500ms, 30s, 1m30s or 2h.",
            "examples": ["30s", "1m30s", "500ms"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        for (input, ms, shown) in [
            ("500ms", 500, "500ms"),
            ("30s", 30_000, "30s"),
            ("1m30s", 90_000, "90s"),
            ("2h", 7_200_000, "2h"),
            ("90s", 90_000, "90s"),
            ("1.5s", 1_500, "1500ms"),
            ("1d", 86_400_000, "1d"),
            ("0", 0, "0s"),
        ] {
            let d: Duration = input.parse().unwrap();
            assert_eq!(d.as_millis(), ms, "{input}");
            assert_eq!(d.to_string(), shown, "{input}");
            assert_eq!(shown.parse::<Duration>().unwrap(), d);
        }
    }

    #[test]
    fn a_span_comes_back_in_its_largest_exact_unit() {
        for (input, shown) in [
            ("21d", "21d"),
            ("504h", "21d"),
            ("14d", "14d"),
            ("36h", "36h"),
            ("1d12h", "36h"),
            ("90m", "90m"),
            ("1h30m", "90m"),
            ("24h", "1d"),
            ("60s", "1m"),
            ("250us", "250us"),
            ("1001ns", "1001ns"),
        ] {
            let d: Duration = input.parse().unwrap();
            assert_eq!(d.to_string(), shown, "{input}");
            let json = serde_json::to_value(d).unwrap();
            assert_eq!(json, shown, "{input}");
            assert_eq!(serde_json::from_value::<Duration>(json).unwrap(), d);
        }
    }

    #[test]
    fn the_human_form_uses_every_unit() {
        for (input, human) in [
            ("21d", "21d"),
            ("90m", "1h30m"),
            ("36h", "1d12h"),
            ("0", "0s"),
        ] {
            assert_eq!(input.parse::<Duration>().unwrap().human(), human, "{input}");
        }
    }

    #[test]
    fn a_bare_number_asks_for_a_unit() {
        let err = serde_json::from_str::<Duration>("30")
            .unwrap_err()
            .to_string();
        assert!(err.contains("write a duration like 30s"), "{err}");
        assert_eq!(
            serde_json::from_str::<Duration>("\"30s\"")
                .unwrap()
                .as_millis(),
            30_000
        );
    }

    #[test]
    fn rejects_bad_input() {
        for input in [
            "",
            "10",
            "ms",
            "5x",
            "1..2s",
            "99999999999999999999999h",
            "-1s",
        ] {
            assert!(input.parse::<Duration>().is_err(), "{input}");
        }
    }
}
