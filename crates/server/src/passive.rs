//! Passive health: what a gateway saw of a monitored route's real traffic (request count, 5xx
//! ratio, latency histogram), as the Vedette Kong plugin and Kong's `http-log` plugin report
//! it to `POST /api/v1/ingest/...` ([`crate::api::ingest`]). Kept in memory per monitor over a
//! sliding [`WINDOW`] in [`SLOT`]-wide slots, so memory is bounded by the monitors that exist
//! and the window's slot count; losing it on restart costs one window of figures, and nothing
//! in the store or its migrations changes for a signal that is only ever read as "lately".

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

/// How far back the figures shown reach.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Reports arriving within one slot are added together.
pub const SLOT: Duration = Duration::from_secs(10);
/// Upper bounds (milliseconds) of the latency histogram's buckets, as the Kong plugin sends
/// them; a last bucket (`+Inf`) holds the rest.
pub const BUCKETS_MS: [f64; 11] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];
/// Buckets of a histogram, `+Inf` included.
pub const BUCKET_COUNT: usize = BUCKETS_MS.len() + 1;
/// Entries (plugin routes or `http-log` requests) accepted at once before the rate applies.
pub const ENTRY_BURST: f64 = 20_000.0;
/// Entries accepted per second, sustained, over all ingest requests.
pub const ENTRIES_PER_SECOND: f64 = 2_000.0;
/// Distinct unknown route ids remembered for the ingest status.
const MAX_UNKNOWN_IDS: usize = 100;

/// One report's figures for one route.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Requests.
    pub requests: u64,
    /// Of those, answered with a 5xx status.
    pub errors_5xx: u64,
    /// Sum of their latencies, in milliseconds.
    pub latency_sum_ms: f64,
    /// Requests per latency bucket ([`BUCKETS_MS`], then `+Inf`).
    pub buckets: [u64; BUCKET_COUNT],
}

impl Sample {
    /// One request answered with `status` after `latency_ms`.
    pub fn one(status: u16, latency_ms: f64) -> Self {
        let mut s = Self {
            requests: 1,
            errors_5xx: u64::from((500..600).contains(&status)),
            latency_sum_ms: latency_ms,
            ..Self::default()
        };
        s.buckets[bucket_of(latency_ms)] = 1;
        s
    }

    /// Adds `other` to this one.
    pub fn add(&mut self, other: &Sample) {
        self.requests = self.requests.saturating_add(other.requests);
        self.errors_5xx = self.errors_5xx.saturating_add(other.errors_5xx);
        self.latency_sum_ms += other.latency_sum_ms;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a = a.saturating_add(b);
        }
    }
}

/// The bucket of a latency.
pub fn bucket_of(latency_ms: f64) -> usize {
    BUCKETS_MS
        .iter()
        .position(|upper| latency_ms <= *upper)
        .unwrap_or(BUCKETS_MS.len())
}

/// A monitor's passive health over the window, as the API shows it beside its status.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
#[schemars(rename = "PassiveHealth")]
pub struct PassiveView {
    /// Seconds the figures cover (the newest reports within them).
    pub window_seconds: u64,
    /// Requests the gateway proxied on the monitor's route.
    pub requests: u64,
    /// Of those, answered with a 5xx status.
    pub errors_5xx: u64,
    /// `errors_5xx / requests` (0 without requests).
    pub error_ratio_5xx: f64,
    /// Mean latency in milliseconds (absent without requests).
    pub latency_avg_ms: Option<f64>,
    /// The upper bound of the bucket holding the median request (absent without requests or
    /// when it is beyond the last bound).
    pub latency_p50_ms: Option<f64>,
    /// The same for the 95th percentile.
    pub latency_p95_ms: Option<f64>,
    /// Requests per latency bucket.
    pub latency_buckets_ms: Vec<PassiveBucket>,
    /// What reported last: `kong-plugin` or `kong-http-log`.
    pub reported_by: String,
    /// When the newest report arrived.
    pub last_report_at: DateTime<Utc>,
}

/// One latency bucket.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct PassiveBucket {
    /// Upper bound in milliseconds; absent for the last bucket (`+Inf`).
    pub le: Option<f64>,
    /// Requests in it.
    pub count: u64,
}

/// What the ingest endpoints counted since the server started.
#[derive(Debug, Clone, Serialize, JsonSchema, Default)]
pub struct IngestTotals {
    /// Reports accepted.
    pub reports: u64,
    /// Entries accepted (plugin routes, `http-log` requests).
    pub entries: u64,
    /// Entries whose route matched a monitor.
    pub matched: u64,
    /// Entries naming a route no monitor carries (`kong-route-id` label); no monitor is
    /// created for them.
    pub unknown: u64,
    /// Up to 100 distinct unknown route ids, oldest first.
    pub unknown_route_ids: Vec<String>,
    /// Requests the plugin dropped because it aggregated `max_routes` routes already.
    pub dropped_by_plugin: u64,
    /// Entries refused because they came faster than the ingest rate.
    pub refused: u64,
}

struct Slot {
    start: Instant,
    sample: Sample,
}

struct Series {
    slots: VecDeque<Slot>,
    reported_by: &'static str,
    last_at: DateTime<Utc>,
    last_seen: Instant,
}

struct Rate {
    tokens: f64,
    updated: Instant,
}

/// Passive health per monitor, the ingest totals and the entry rate.
pub struct PassiveHealth {
    series: Mutex<HashMap<String, Series>>,
    totals: Mutex<(IngestTotals, BTreeSet<String>)>,
    rate: Mutex<Rate>,
}

impl Default for PassiveHealth {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PassiveHealth {
    /// Nothing reported yet, the entry rate full.
    pub fn new() -> Self {
        Self {
            series: Mutex::new(HashMap::new()),
            totals: Mutex::new((IngestTotals::default(), BTreeSet::new())),
            rate: Mutex::new(Rate {
                tokens: ENTRY_BURST,
                updated: Instant::now(),
            }),
        }
    }

    /// Takes `entries` from the entry rate, or says how long until that many are there (a
    /// report larger than the burst waits for the whole burst).
    pub fn admit(&self, entries: usize, now: Instant) -> Result<(), Duration> {
        let mut rate = lock(&self.rate);
        let gained = now.duration_since(rate.updated).as_secs_f64() * ENTRIES_PER_SECOND;
        rate.tokens = (rate.tokens + gained).min(ENTRY_BURST);
        rate.updated = now;
        let wanted = (entries as f64).min(ENTRY_BURST);
        if rate.tokens >= wanted {
            rate.tokens -= wanted;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((wanted - rate.tokens) / ENTRIES_PER_SECOND);
            drop(rate);
            lock(&self.totals).0.refused += entries as u64;
            Err(wait)
        }
    }

    /// Adds `sample` to monitor `monitor`'s window, from `reported_by`; forgets monitors
    /// with nothing in the window.
    pub fn record(&self, monitor: &str, sample: &Sample, reported_by: &'static str, now: Instant) {
        let mut series = lock(&self.series);
        series.retain(|_, s| now.duration_since(s.last_seen) < WINDOW);
        let s = series.entry(monitor.to_owned()).or_insert_with(|| Series {
            slots: VecDeque::new(),
            reported_by,
            last_at: Utc::now(),
            last_seen: now,
        });
        match s.slots.back_mut() {
            Some(slot) if now.duration_since(slot.start) < SLOT => slot.sample.add(sample),
            _ => s.slots.push_back(Slot {
                start: now,
                sample: *sample,
            }),
        }
        while s
            .slots
            .front()
            .is_some_and(|slot| now.duration_since(slot.start) >= WINDOW)
        {
            s.slots.pop_front();
        }
        s.reported_by = reported_by;
        s.last_at = Utc::now();
        s.last_seen = now;
    }

    /// Counts one accepted report: its entries, matched and unknown ones (with their route
    /// ids) and the requests the plugin dropped.
    pub fn count(&self, entries: u64, matched: u64, unknown: &[String], dropped: u64) {
        let mut guard = lock(&self.totals);
        let (totals, ids) = &mut *guard;
        totals.reports += 1;
        totals.entries += entries;
        totals.matched += matched;
        totals.unknown += unknown.len() as u64;
        totals.dropped_by_plugin += dropped;
        for id in unknown {
            if ids.len() >= MAX_UNKNOWN_IDS {
                break;
            }
            if ids.insert(id.clone()) {
                totals.unknown_route_ids.push(id.clone());
            }
        }
    }

    /// The totals since start.
    pub fn totals(&self) -> IngestTotals {
        lock(&self.totals).0.clone()
    }

    /// Monitor `monitor`'s figures over the window; `None` without reports in it.
    pub fn view(&self, monitor: &str, now: Instant) -> Option<PassiveView> {
        let series = lock(&self.series);
        let s = series.get(monitor)?;
        let mut total = Sample::default();
        for slot in &s.slots {
            if now.duration_since(slot.start) < WINDOW {
                total.add(&slot.sample);
            }
        }
        if total.requests == 0 && now.duration_since(s.last_seen) >= WINDOW {
            return None;
        }
        let n = total.requests;
        let quantile = |q: f64| {
            if n == 0 {
                return None;
            }
            let rank = (q * n as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, count) in total.buckets.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return BUCKETS_MS.get(i).copied();
                }
            }
            None
        };
        Some(PassiveView {
            window_seconds: WINDOW.as_secs(),
            requests: n,
            errors_5xx: total.errors_5xx,
            error_ratio_5xx: if n == 0 {
                0.0
            } else {
                total.errors_5xx as f64 / n as f64
            },
            latency_avg_ms: (n > 0).then(|| total.latency_sum_ms / n as f64),
            latency_p50_ms: quantile(0.5),
            latency_p95_ms: quantile(0.95),
            latency_buckets_ms: total
                .buckets
                .iter()
                .enumerate()
                .map(|(i, count)| PassiveBucket {
                    le: BUCKETS_MS.get(i).copied(),
                    count: *count,
                })
                .collect(),
            reported_by: s.reported_by.to_owned(),
            last_report_at: s.last_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_adds_slots_and_forgets_old_ones() {
        let passive = PassiveHealth::new();
        let t0 = Instant::now();
        passive.record("m", &Sample::one(200, 3.0), "kong-http-log", t0);
        passive.record("m", &Sample::one(503, 40.0), "kong-http-log", t0);
        passive.record("m", &Sample::one(200, 20_000.0), "kong-plugin", t0 + SLOT);
        let v = passive.view("m", t0 + SLOT).unwrap();
        assert_eq!((v.requests, v.errors_5xx), (3, 1));
        assert!((v.error_ratio_5xx - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(v.latency_p50_ms, Some(50.0));
        assert_eq!(v.latency_p95_ms, None);
        assert_eq!(v.latency_buckets_ms.last().unwrap().count, 1);
        assert_eq!(v.reported_by, "kong-plugin");
        let later = passive.view("m", t0 + WINDOW + SLOT / 2).unwrap();
        assert_eq!(later.requests, 1);
        assert!(passive.view("m", t0 + WINDOW * 3).is_none());
        assert!(passive.view("other", t0).is_none());
    }

    #[test]
    fn the_entry_rate_refuses_beyond_the_burst_and_refills() {
        let passive = PassiveHealth::new();
        let t0 = Instant::now();
        assert!(passive.admit(ENTRY_BURST as usize, t0).is_ok());
        let wait = passive.admit(1000, t0).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(passive.admit(1000, t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(passive.totals().refused, 1000);
    }

    #[test]
    fn unknown_route_ids_are_counted_and_a_few_remembered() {
        let passive = PassiveHealth::new();
        let ids: Vec<String> = (0..150).map(|i| format!("r{i}")).collect();
        passive.count(150, 0, &ids, 2);
        passive.count(1, 0, &ids[..1], 0);
        let t = passive.totals();
        assert_eq!((t.reports, t.entries, t.unknown), (2, 151, 151));
        assert_eq!(t.unknown_route_ids.len(), MAX_UNKNOWN_IDS);
        assert_eq!(t.dropped_by_plugin, 2);
    }
}
