//! Rollups against a brute-force computation over the raw results, and retention.

use chrono::{DateTime, Duration, Utc};
use vedette_model::{CheckResult, Outcome};
use vedette_store::{
    Bucket, CheckRecord, FoldLimits, HISTOGRAM_RELATIVE_ERROR, Parts, Retention, RetentionReport,
    Store, StoreError, nearest_rank,
};

use crate::common::{TestDb, at_ms, monitor, record, result};

backend_tests!(
    rollups_match_brute_force,
    rollups_folded_in_small_pages_match_brute_force,
    maintenance_is_left_out_of_uptime,
    series_rejects_bad_steps,
    retention_deletes_per_config,
);

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A day boundary to build data around.
const DAY0: i64 = 1_699_920_000_000;

fn floor_to(t: i64, step: i64) -> i64 {
    t.div_euclid(step) * step
}

fn ceil_to(t: i64, step: i64) -> i64 {
    -floor_to(-t, step)
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// About 3.5 days of results for `api` every ~75 s from 05:13:07 on day 0, with skewed
/// latencies, ~5 % down and ~10 % degraded; results 1000 to 1199 ran during maintenance.
fn generate() -> Vec<CheckResult> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..4_000_i64)
        .map(|i| {
            let at =
                DAY0 + 5 * HOUR + 13 * MINUTE + 7_000 + i * 75_000 + (rng.next() * 30_000.0) as i64;
            let roll = rng.next();
            let outcome = if roll < 0.05 {
                Outcome::Down
            } else if roll < 0.15 {
                Outcome::Degraded
            } else {
                Outcome::Up
            };
            let x = rng.next();
            let latency = 3.0 + x * x * x * 2_500.0 + rng.next() * 7.0;
            let mut r = result(
                "api",
                at_ms(at),
                outcome,
                (latency * 1000.0).round() / 1000.0,
            );
            r.in_maintenance = (1000..1200).contains(&i);
            r
        })
        .collect()
}

/// What a bucket over `results` must say, computed from the raw results.
fn brute(results: &[&CheckResult]) -> Bucket {
    let mut b = Bucket::empty(at_ms(0));
    for r in results {
        b.record(r);
    }
    b
}

fn sorted_latencies(results: &[&CheckResult]) -> Vec<f64> {
    let mut l: Vec<f64> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Down)
        .map(|r| r.latency_ms())
        .collect();
    l.sort_by(f64::total_cmp);
    l
}

/// Compares a bucket read from rollups with the raw results it should cover.
fn assert_matches(got: &Bucket, results: &[&CheckResult], what: &str) {
    let want = brute(results);
    assert_eq!(got.checks, want.checks, "{what}: checks");
    assert_eq!(got.failures, want.failures, "{what}: failures");
    assert_eq!(got.degraded, want.degraded, "{what}: degraded");
    assert_eq!(got.maintenance, want.maintenance, "{what}: maintenance");
    let counted: Vec<&&CheckResult> = results.iter().filter(|r| !r.in_maintenance).collect();
    let downs = counted
        .iter()
        .filter(|r| r.outcome == Outcome::Down)
        .count();
    let uptime =
        (!counted.is_empty()).then(|| (counted.len() - downs) as f64 / counted.len() as f64);
    assert_eq!(got.uptime(), uptime, "{what}: uptime");
    assert_eq!(
        got.failures, downs as u64,
        "{what}: failures outside maintenance"
    );
    assert_eq!(got.latency_min_ms, want.latency_min_ms, "{what}: min");
    assert_eq!(got.latency_max_ms, want.latency_max_ms, "{what}: max");
    assert!(
        (got.latency_sum_ms - want.latency_sum_ms).abs() <= 1e-6 * want.latency_sum_ms.max(1.0),
        "{what}: sum {} vs {}",
        got.latency_sum_ms,
        want.latency_sum_ms
    );
    let latencies = sorted_latencies(results);
    assert_eq!(
        got.histogram.count(),
        latencies.len() as u64,
        "{what}: histogram count"
    );
    for q in [0.5, 0.95, 0.99] {
        let Some(rank) = nearest_rank(q, latencies.len() as u64) else {
            assert_eq!(got.percentile(q), None, "{what}: p{q} of nothing");
            continue;
        };
        let truth = latencies[(rank - 1) as usize];
        let estimate = got.percentile(q).expect("percentile of a non-empty bucket");
        let error = (estimate - truth).abs() / truth;
        assert!(
            error <= HISTOGRAM_RELATIVE_ERROR + 1e-9,
            "{what}: p{q} estimate {estimate} truth {truth} (error {error:.4})"
        );
    }
}

fn in_range(results: &[CheckResult], from: i64, to: i64) -> Vec<&CheckResult> {
    results
        .iter()
        .filter(|r| {
            let t = r.started_at.timestamp_millis();
            t >= from && t < to
        })
        .collect()
}

async fn rollups_match_brute_force(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let results = generate();
    // Every 7th result is held back and written last in one batch spread over all days, so
    // rows written by earlier batches are read, merged and rewritten.
    let (mut late, mut timely) = (Vec::new(), Vec::new());
    for (i, r) in results.iter().enumerate() {
        if i % 7 == 3 {
            late.push(r)
        } else {
            timely.push(r)
        }
    }
    for chunk in timely.chunks(250) {
        let batch: Vec<CheckRecord> = chunk.iter().map(|r| record((*r).clone())).collect();
        store.write_batch(&batch).await.expect("batch");
    }
    assert_eq!(
        store.fold_rollups().await.expect("fold") as usize,
        timely.len()
    );
    let batch: Vec<CheckRecord> = late.iter().map(|r| record((*r).clone())).collect();
    store.write_batch(&batch).await.expect("late batch");

    // Read with the late results pending (added from the raw results), then folded.
    for folded in [false, true] {
        if folded {
            assert_eq!(
                store.fold_rollups().await.expect("fold") as usize,
                late.len()
            );
            assert_eq!(store.fold_rollups().await.expect("nothing left"), 0);
        }
        reads_match(&store, &results).await;
    }
    store.close().await;
}

async fn rollups_folded_in_small_pages_match_brute_force(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let results = generate();
    for chunk in results.chunks(500) {
        let batch: Vec<CheckRecord> = chunk.iter().cloned().map(record).collect();
        store.write_batch(&batch).await.expect("batch");
    }
    // At most 300 rows a page (a minute row for about every result, and their hour and day
    // rows): the rows end each page well before the 1,000 results it may read.
    let limits = FoldLimits {
        results: 1_000,
        rows: 300,
    };
    let (mut folded, mut pages) = (0, 0);
    loop {
        let page = store.fold_rollups_page(limits).await.expect("page");
        assert!(page.results < 1_000, "a page of {} results", page.results);
        folded += page.results;
        pages += 1;
        if !page.more {
            break;
        }
    }
    assert_eq!(folded as usize, results.len());
    assert!(pages > results.len() / 400, "{pages} pages");
    assert_eq!(store.fold_rollups().await.expect("nothing left"), 0);
    reads_match(&store, &results).await;
    store.close().await;
}

/// Summaries and series of `api` match a brute-force count of `results`.
async fn reads_match(store: &Store, results: &[CheckResult]) {
    // Summaries: everything, an unaligned span across days, inside one hour, 30 days.
    let first = results[0].started_at.timestamp_millis();
    let last = results[results.len() - 1].started_at.timestamp_millis();
    let spans = [
        (first - HOUR, last + HOUR),
        (
            DAY0 + DAY + 2 * HOUR + 17 * MINUTE + 30_000,
            DAY0 + 2 * DAY + 20 * HOUR + 3 * MINUTE + 10_000,
        ),
        (
            DAY0 + 2 * DAY + 3 * HOUR + 5 * MINUTE,
            DAY0 + 2 * DAY + 3 * HOUR + 48 * MINUTE + 1,
        ),
        (last - 30 * DAY, last + 1),
    ];
    for (from, to) in spans {
        let got = store
            .summary("api", at_ms(from), at_ms(to))
            .await
            .expect("summary");
        assert_eq!(got.start, at_ms(floor_to(from, MINUTE)));
        let covered = in_range(results, floor_to(from, MINUTE), ceil_to(to, MINUTE));
        assert!(!covered.is_empty());
        assert_matches(&got, &covered, &format!("summary {from}..{to}"));
    }

    // The same spans for several monitors at once, one of them without checks.
    let ranges: Vec<_> = spans.iter().map(|(f, t)| (at_ms(*f), at_ms(*t))).collect();
    let many = store
        .summaries(&["api".to_owned(), "absent".to_owned()], &ranges)
        .await
        .expect("summaries");
    assert_eq!(many.len(), 2);
    for (got, (from, to)) in many["api"].iter().zip(spans) {
        assert_eq!(got.start, at_ms(floor_to(from, MINUTE)));
        let covered = in_range(results, floor_to(from, MINUTE), ceil_to(to, MINUTE));
        assert_matches(got, &covered, &format!("summaries {from}..{to}"));
    }
    assert_eq!(many["api"].len(), spans.len());
    assert!(many["absent"].iter().all(|b| b.checks == 0));

    // Series at steps read from each resolution; the range edges are unaligned.
    let (from, to) = (
        DAY0 + 5 * HOUR + 59 * MINUTE + 1,
        DAY0 + 3 * DAY + 7 * HOUR + 31 * MINUTE + 5,
    );
    for (step, resolution) in [
        (MINUTE, MINUTE),
        (7 * MINUTE, MINUTE),
        (15 * MINUTE, MINUTE),
        (HOUR, HOUR),
        (2 * HOUR, HOUR),
        (DAY, DAY),
        (2 * DAY, DAY),
    ] {
        let buckets = store
            .series("api", at_ms(from), at_ms(to), Duration::milliseconds(step))
            .await
            .expect("series");
        let covered = in_range(results, floor_to(from, step), ceil_to(to, resolution));
        let mut groups: Vec<(i64, Vec<&CheckResult>)> = Vec::new();
        for r in covered {
            let start = floor_to(r.started_at.timestamp_millis(), step);
            match groups.last_mut() {
                Some((s, group)) if *s == start => group.push(r),
                _ => groups.push((start, vec![r])),
            }
        }
        assert_eq!(buckets.len(), groups.len(), "step {step}: bucket count");
        // Several monitors at once read the same buckets (`absent` has none).
        let ids = ["absent".to_owned(), "api".to_owned()];
        let series_of = |parts| {
            store.series_of(
                &ids,
                at_ms(from),
                at_ms(to),
                Duration::milliseconds(step),
                parts,
            )
        };
        let many = series_of(Parts::All).await.expect("series_of");
        assert_eq!(many.keys().collect::<Vec<_>>(), ["absent", "api"]);
        assert!(many["absent"].is_empty(), "step {step}");
        assert_eq!(many["api"], buckets, "step {step}: series_of");
        // The counts alone are the same counts, with the same uptime.
        let counts = series_of(Parts::Counts).await.expect("series_of counts");
        assert!(counts["absent"].is_empty(), "step {step}");
        let expected: Vec<_> = buckets.iter().cloned().map(Bucket::counts_only).collect();
        assert_eq!(counts["api"], expected, "step {step}: series_of counts");
        for (got, full) in counts["api"].iter().zip(&buckets) {
            assert_eq!(got.uptime(), full.uptime(), "step {step}: uptime");
            assert!(got.histogram.is_empty() && got.latency_min_ms.is_none());
        }
        for (bucket, (start, group)) in buckets.iter().zip(&groups) {
            assert_eq!(
                bucket.start.timestamp_millis() % step,
                0,
                "step {step}: alignment"
            );
            assert_eq!(bucket.start, at_ms(*start), "step {step}: start");
            assert_matches(bucket, group, &format!("step {step} bucket {start}"));
        }
    }

    // Day bars (status pages) read day rows of several monitors at once; `other` has none.
    let ids = ["api".to_owned(), "other".to_owned()];
    let days = store
        .daily(&ids, at_ms(from), at_ms(to))
        .await
        .expect("daily");
    assert_eq!(days.keys().collect::<Vec<_>>(), ["api"]);
    let covered = in_range(results, floor_to(from, DAY), ceil_to(to, DAY));
    let mut groups: Vec<(i64, Vec<&CheckResult>)> = Vec::new();
    for r in covered {
        let start = floor_to(r.started_at.timestamp_millis(), DAY);
        match groups.last_mut() {
            Some((s, group)) if *s == start => group.push(r),
            _ => groups.push((start, vec![r])),
        }
    }
    assert_eq!(days["api"].len(), groups.len(), "daily: day count");
    for (bucket, (start, group)) in days["api"].iter().zip(&groups) {
        assert_eq!(bucket.start, at_ms(*start), "daily: start");
        assert_matches(bucket, group, &format!("daily bucket {start}"));
    }
}

async fn series_rejects_bad_steps(db: &TestDb) {
    let store = db.open().await;
    let (from, to) = (at_ms(DAY0), at_ms(DAY0 + DAY));
    for step in [
        Duration::seconds(90),
        Duration::zero(),
        Duration::minutes(-5),
        Duration::seconds(30),
    ] {
        let got = store.series("api", from, to, step).await;
        assert!(
            matches!(got, Err(StoreError::InvalidArgument(_))),
            "step {step}: {got:?}"
        );
        for parts in [Parts::All, Parts::Counts] {
            let many = store
                .series_of(&["api".to_owned()], from, to, step, parts)
                .await;
            assert!(
                matches!(many, Err(StoreError::InvalidArgument(_))),
                "step {step}: {many:?}"
            );
        }
    }
    assert!(
        store
            .series("api", from, to, Duration::minutes(5))
            .await
            .expect("empty")
            .is_empty()
    );
    let empty = store.summary("api", from, to).await.expect("summary");
    assert_eq!(
        (empty.checks, empty.uptime(), empty.percentile(0.95)),
        (0, None, None)
    );
    store.close().await;
}

async fn maintenance_is_left_out_of_uptime(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let base = DAY0 + 10 * HOUR;
    let mut batch: Vec<CheckRecord> = Vec::new();
    for (i, (outcome, in_maintenance)) in [
        (Outcome::Up, false),
        (Outcome::Down, false),
        (Outcome::Down, true),
        (Outcome::Up, true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = result("api", at_ms(base + i as i64 * 1_000), outcome, 10.0);
        r.in_maintenance = in_maintenance;
        batch.push(record(r));
    }
    // A minute where every check ran during maintenance.
    let mut only = result("api", at_ms(base + MINUTE), Outcome::Down, 10.0);
    only.in_maintenance = true;
    batch.push(record(only));
    store.write_batch(&batch).await.expect("write");

    let minutes = store
        .series(
            "api",
            at_ms(base),
            at_ms(base + 2 * MINUTE),
            Duration::minutes(1),
        )
        .await
        .expect("series");
    let counts: Vec<_> = minutes
        .iter()
        .map(|b| (b.checks, b.failures, b.maintenance, b.uptime()))
        .collect();
    assert_eq!(counts, [(4, 1, 2, Some(0.5)), (1, 0, 1, None)]);
    let total = store
        .summary("api", at_ms(base), at_ms(base + 2 * MINUTE))
        .await
        .expect("summary");
    assert_eq!(
        (
            total.checks,
            total.failures,
            total.maintenance,
            total.uptime()
        ),
        (5, 1, 3, Some(0.5))
    );
    store.close().await;
}

async fn retention_deletes_per_config(db: &TestDb) {
    let store = db.open().await;
    store.put_monitor(&monitor("api")).await.expect("put");
    let now = DAY0 + 12 * HOUR + 30 * MINUTE;
    let ago = |d: Duration| -> DateTime<Utc> { at_ms(now - d.num_milliseconds()) };
    let mut batch: Vec<CheckRecord> = [
        Duration::hours(1),
        Duration::days(2),
        Duration::days(8),
        Duration::days(35),
        Duration::days(500),
    ]
    .into_iter()
    .map(|d| record(result("api", ago(d), Outcome::Up, 42.0)))
    .collect();
    // Enough old raw rows in one minute to need several delete chunks.
    let old_minute = now - 10 * DAY;
    batch
        .extend((0..6_000).map(|i| record(result("api", at_ms(old_minute + i), Outcome::Up, 1.0))));
    store.write_batch(&batch).await.expect("batch");

    let keep_all = Retention {
        raw: None,
        minute: None,
        hour: None,
        day: None,
    };
    assert_eq!(
        store
            .apply_retention(&keep_all, at_ms(now))
            .await
            .expect("noop"),
        RetentionReport::default()
    );

    let report = store
        .apply_retention(&Retention::default(), at_ms(now))
        .await
        .expect("retention");
    assert_eq!(
        report,
        RetentionReport {
            results: 6_003,
            minute_rollups: 2,
            hour_rollups: 1,
            day_rollups: 0
        }
    );
    let again = store
        .apply_retention(&Retention::default(), at_ms(now))
        .await
        .expect("again");
    assert_eq!(again, RetentionReport::default());

    let (left, _) = store
        .list_results("api", at_ms(0), at_ms(now + DAY), 100, None)
        .await
        .expect("results");
    assert_eq!(left.len(), 2);

    // Around 35 days ago only hour rows are left; around 500 days ago only day rows.
    for (age, step, want) in [
        (Duration::days(35), Duration::minutes(1), 0),
        (Duration::days(35), Duration::hours(1), 1),
        (Duration::days(500), Duration::hours(1), 0),
        (Duration::days(500), Duration::days(1), 1),
    ] {
        let (from, to) = (ago(age + Duration::days(1)), ago(age - Duration::days(1)));
        let buckets = store.series("api", from, to, step).await.expect("series");
        let checks = buckets.iter().map(|b| b.checks).sum::<u64>();
        assert_eq!(checks, want, "{step} buckets around {age} ago");
    }
    // Whole days inside the range come from day rows, which are kept.
    let total = store
        .summary("api", ago(Duration::days(600)), at_ms(now))
        .await
        .expect("summary");
    assert_eq!(total.checks, 6_005);
    store.close().await;
}
