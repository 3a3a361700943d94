//! A mergeable log-bucket latency histogram.
//!
//! Bucket boundaries are fixed, so histograms of any two rollup rows merge by adding counts.
//! Bucket 0 holds values up to [`HISTOGRAM_MIN_MS`]; bucket `i >= 1` holds
//! `(MIN·γ^(i-1), MIN·γ^i]` with `γ = (1+α)/(1-α)` and `α =`
//! [`HISTOGRAM_RELATIVE_ERROR`]. A quantile is reported as `2·MIN·γ^i/(γ+1)`, which is within
//! a relative error of `α` of the true sample (for samples above `MIN`), as in DDSketch.
//!
//! Stored as a compact JSON array of `index, count` pairs, ascending by index: `[41,3,42,17]`.
//! Changing `α` or `MIN` would change the meaning of stored rows and needs a migration.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Upper bound of the first bucket, in milliseconds; smaller latencies are reported as this.
pub const HISTOGRAM_MIN_MS: f64 = 0.1;

/// Largest relative error of a reported quantile (for latencies above [`HISTOGRAM_MIN_MS`]).
pub const HISTOGRAM_RELATIVE_ERROR: f64 = 0.02;

/// Growth factor between bucket boundaries.
const GAMMA: f64 = (1.0 + HISTOGRAM_RELATIVE_ERROR) / (1.0 - HISTOGRAM_RELATIVE_ERROR);

/// Highest bucket index; larger values (beyond ~10^20 ms) share it.
const MAX_INDEX: u32 = 2_000;

/// Latency counts in fixed logarithmic buckets; sparse: `(bucket index, count)` pairs,
/// ascending by index. A rollup's histogram holds a handful of buckets, so a sorted vector
/// (16 bytes a bucket) is smaller and faster than a tree map (a node of 11 slots at least).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<(u32, u64)>,
    total: u64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one latency in milliseconds (negative and NaN count as 0).
    pub fn record(&mut self, ms: f64) {
        self.record_n(ms, 1);
    }

    /// Counts `n` latencies of `ms` milliseconds.
    pub fn record_n(&mut self, ms: f64, n: u64) {
        if n == 0 {
            return;
        }
        self.add(bucket_index(ms), n);
    }

    /// Adds `n` to the count of bucket `index`.
    fn add(&mut self, index: u32, n: u64) {
        match self.counts.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(at) => self.counts[at].1 += n,
            Err(at) => self.counts.insert(at, (index, n)),
        }
        self.total += n;
    }

    /// Adds every count of `other` to this histogram.
    pub fn merge(&mut self, other: &Histogram) {
        for (index, count) in &other.counts {
            self.add(*index, *count);
        }
    }

    /// Number of latencies counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The `q`-quantile (`0.0..=1.0`, clamped) by nearest rank: an estimate of the smallest
    /// sample with at least `ceil(q·n)` samples at or below it. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let rank = nearest_rank(q, self.total)?;
        let mut seen = 0;
        for (index, count) in &self.counts {
            seen += count;
            if seen >= rank {
                return Some(bucket_value(*index));
            }
        }
        None
    }
}

/// The 1-based rank of the `q`-quantile among `n` sorted samples (`ceil(q·n)`, at least 1);
/// `None` when `n` is 0. A tiny tolerance keeps `0.95·100` at rank 95 despite rounding.
pub fn nearest_rank(q: f64, n: u64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
    let rank = (q * n as f64 - 1e-9).ceil().max(1.0) as u64;
    Some(rank.min(n))
}

/// The bucket a latency falls in.
fn bucket_index(ms: f64) -> u32 {
    if ms.is_nan() || ms <= HISTOGRAM_MIN_MS {
        return 0;
    }
    let index = ((ms / HISTOGRAM_MIN_MS).ln() / GAMMA.ln()).ceil();
    if index >= f64::from(MAX_INDEX) {
        MAX_INDEX
    } else {
        (index as u32).max(1)
    }
}

/// The value reported for a bucket: the point of least relative error to both boundaries.
fn bucket_value(index: u32) -> f64 {
    if index == 0 {
        return HISTOGRAM_MIN_MS;
    }
    let upper = HISTOGRAM_MIN_MS * GAMMA.powf(f64::from(index));
    2.0 * upper / (GAMMA + 1.0)
}

impl Serialize for Histogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.counts
                .iter()
                .flat_map(|(index, count)| [u64::from(*index), *count]),
        )
    }
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let flat = Vec::<u64>::deserialize(deserializer)?;
        if flat.len() % 2 != 0 {
            return Err(D::Error::custom(
                "histogram must be a list of index, count pairs",
            ));
        }
        let mut histogram = Histogram::new();
        for pair in flat.chunks_exact(2) {
            let index = u32::try_from(pair[0])
                .ok()
                .filter(|i| *i <= MAX_INDEX)
                .ok_or_else(|| {
                    D::Error::custom(format!("histogram index {} out of range", pair[0]))
                })?;
            histogram.add(index, pair[1]);
        }
        Ok(histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_quantile(sorted: &[f64], q: f64) -> f64 {
        let rank = nearest_rank(q, sorted.len() as u64).expect("non-empty");
        sorted[(rank - 1) as usize]
    }

    #[test]
    fn quantiles_are_within_the_relative_error() {
        let mut samples: Vec<f64> = (0..5_000)
            .map(|i| 0.2 + (f64::from(i) * 7.31).rem_euclid(3_000.0) * (1.0 + f64::from(i % 13)))
            .collect();
        let mut histogram = Histogram::new();
        for s in &samples {
            histogram.record(*s);
        }
        samples.sort_by(f64::total_cmp);
        for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let truth = brute_quantile(&samples, q);
            let estimate = histogram.quantile(q).expect("non-empty");
            let error = (estimate - truth).abs() / truth;
            assert!(
                error <= HISTOGRAM_RELATIVE_ERROR + 1e-9,
                "q={q}: estimate {estimate} truth {truth} error {error}"
            );
        }
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        let mut both = Histogram::new();
        for i in 0..1_000 {
            let ms = f64::from(i) * 0.37;
            if i % 3 == 0 {
                a.record(ms)
            } else {
                b.record(ms)
            }
            both.record(ms);
        }
        a.merge(&b);
        assert_eq!(a, both);
        assert_eq!(a.count(), 1_000);
    }

    #[test]
    fn serialises_compactly_and_round_trips() {
        let mut h = Histogram::new();
        h.record(0.05);
        h.record(12.0);
        h.record(12.0);
        let json = serde_json::to_string(&h).expect("serialise");
        assert_eq!(json, format!("[0,1,{},2]", bucket_index(12.0)));
        let back: Histogram = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, h);
        assert!(serde_json::from_str::<Histogram>("[1,2,3]").is_err());
        assert_eq!(Histogram::new().quantile(0.5), None);
    }

    #[test]
    fn odd_values_do_not_panic() {
        let mut h = Histogram::new();
        for v in [f64::NAN, -1.0, 0.0, f64::INFINITY, 1e300] {
            h.record(v);
        }
        assert_eq!(h.count(), 5);
        assert!(h.quantile(1.0).expect("non-empty").is_finite());
    }
}
