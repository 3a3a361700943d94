//! Maintenance benchmark: the engine asks, for every check result, whether a maintenance
//! window covers the monitor now. Prints the cost per result of asking the stored specs (which
//! parse their cron, rrule and selector on every call) and the compiled windows the engine
//! holds (parsed once, remembering how long their last answer holds). Results come in time
//! order, as the engine's do.
//!
//! `cargo bench --workspace --locked --bench maintenance [-- WINDOWS MONITORS RESULTS]`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Utc};
use vedette_model::maintenance::MaintenanceSpec;

/// Benchmark sizes.
struct Args {
    /// Maintenance windows (a quarter each: cron and selector, rrule and selector, one-off
    /// with a list of ids, cron with a list of ids).
    windows: usize,
    /// Distinct monitors the results come from.
    monitors: usize,
    /// Results evaluated per variant.
    results: usize,
}

impl Args {
    /// The positional numbers given (after `cargo bench`'s own `--bench`), else the defaults.
    fn parse() -> Self {
        let numbers: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        let at = |i: usize, default: usize| numbers.get(i).copied().unwrap_or(default);
        Self {
            windows: at(0, 20),
            monitors: at(1, 1_000),
            results: at(2, 20_000),
        }
    }
}

fn window(i: usize) -> MaintenanceSpec {
    let ids = |n: usize| {
        (0..n)
            .map(|k| format!("mon-{}", (k * 7 + i) % 5000))
            .collect()
    };
    let base = MaintenanceSpec {
        name: Some(format!("window {i}")),
        description: None,
        start: None,
        end: None,
        cron: None,
        rrule: None,
        duration: None,
        monitors: Vec::new(),
        selector: None,
    };
    let hours = vedette_model::Duration::from_secs(2 * 3600);
    match i % 4 {
        0 => MaintenanceSpec {
            cron: Some(format!("{} 2 * * {}", i % 60, i % 7)),
            duration: Some(hours),
            selector: Some(format!("team=team-{},env in (prod,staging)", i % 10)),
            ..base
        },
        1 => MaintenanceSpec {
            rrule: Some(format!("FREQ=WEEKLY;BYDAY=SU;BYHOUR={}", i % 24)),
            start: Some("2024-01-07T00:00:00Z".parse().expect("start")),
            duration: Some(hours),
            selector: Some(format!("team=team-{}", i % 10)),
            ..base
        },
        2 => MaintenanceSpec {
            start: Some("2030-01-01T00:00:00Z".parse().expect("start")),
            end: Some("2030-01-02T00:00:00Z".parse().expect("end")),
            monitors: ids(100),
            ..base
        },
        _ => MaintenanceSpec {
            cron: Some("30 3 1 * *".to_owned()),
            duration: Some(hours),
            monitors: ids(100),
            ..base
        },
    }
}

/// Nanoseconds per result of `covered` over `results` results.
fn per_result(
    monitors: &[(String, BTreeMap<String, String>)],
    results: usize,
    now: DateTime<Utc>,
    covered: impl Fn(&str, &BTreeMap<String, String>, DateTime<Utc>) -> bool,
) -> (f64, usize) {
    let started = Instant::now();
    let mut hits = 0;
    for r in 0..results {
        let (id, labels) = &monitors[r % monitors.len()];
        let at = now + chrono::Duration::seconds(31 * r as i64);
        hits += usize::from(covered(black_box(id), black_box(labels), black_box(at)));
    }
    (
        started.elapsed().as_nanos() as f64 / results.max(1) as f64,
        hits,
    )
}

fn main() {
    let args = Args::parse();
    let specs: Vec<MaintenanceSpec> = (0..args.windows).map(window).collect();
    let compiled: Vec<_> = specs.iter().map(MaintenanceSpec::compile).collect();
    let monitors: Vec<(String, BTreeMap<String, String>)> = (0..args.monitors)
        .map(|i| {
            let labels = BTreeMap::from([
                ("team".to_owned(), format!("team-{}", i % 13)),
                (
                    "env".to_owned(),
                    if i % 3 == 0 { "dev" } else { "prod" }.to_owned(),
                ),
            ]);
            (format!("mon-{i}"), labels)
        })
        .collect();
    let now = Utc::now();
    let (spec_ns, spec_hits) = per_result(&monitors, args.results, now, |id, labels, at| {
        specs
            .iter()
            .any(|w| w.applies_to(id, labels) && w.is_active(at))
    });
    let (compiled_ns, compiled_hits) =
        per_result(&monitors, args.results, now, |id, labels, at| {
            compiled
                .iter()
                .any(|w| w.applies_to(id, labels) && w.is_active(at))
        });
    assert_eq!(spec_hits, compiled_hits, "both forms must answer alike");
    println!(
        "{} windows, {} monitors, {} results ({} in maintenance)",
        args.windows, args.monitors, args.results, spec_hits
    );
    println!("parsed per result (spec):     {:>10.0} ns/result", spec_ns);
    println!(
        "parsed once (CompiledWindow): {:>10.0} ns/result",
        compiled_ns
    );
    println!(
        "speed-up:                     {:>10.1}x",
        spec_ns / compiled_ns.max(1.0)
    );
}
