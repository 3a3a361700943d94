//! Hostile inputs for the assertion evaluator: deep nesting, wide arrays, repeated `..`
//! descents, huge regexes and long strings. Time and memory are asserted, not assumed: a
//! counting global allocator records the peak heap of each evaluation, and refuses any
//! allocation past a hard cap so that a regression aborts this test binary quickly instead of
//! exhausting the machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vedette_model::Observation;
use vedette_model::assertion::{AssertionSet, MAX_JSONPATH_WORK, parse};

/// Heap in use and its peak since the last reset, in bytes.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// No test here needs more heap than this; past it allocation fails and the binary aborts.
const HARD_CAP: usize = 1 << 30;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if now > HARD_CAP {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the layout is passed through unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Measurements share the process-wide counters, so they run one at a time.
static MEASURE: Mutex<()> = Mutex::new(());

/// Wall-clock bound of one evaluation in a debug build on a shared 2-core machine.
const TIME_BOUND: Duration = Duration::from_secs(20);
/// Heap one evaluation may add on top of the observation it is given.
const HEAP_BOUND: usize = 128 << 20;

/// Parses `source` (a hostile one may be refused) and evaluates it against a body, asserting
/// the time and the peak heap of the evaluation. Returns the failed assertion's error, if any.
fn evaluate_bounded(source: &str, body: Vec<u8>) -> Result<Option<String>, String> {
    let _serial = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(assertion) = parse(source) else {
        return Ok(None);
    };
    let obs = Observation {
        status: Some(200),
        body: Some(body),
        ..Observation::default()
    };
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let start = Instant::now();
    let result = assertion.evaluate(&obs);
    let elapsed = start.elapsed();
    let heap = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    if std::env::var_os("VEDETTE_LIMITS_VERBOSE").is_some() {
        eprintln!("{source}: {elapsed:?}, peak heap {heap} bytes");
    }
    if elapsed > TIME_BOUND {
        return Err(format!("{source}: took {elapsed:?}"));
    }
    if heap > HEAP_BOUND {
        return Err(format!("{source}: peak heap {heap} bytes"));
    }
    Ok(result.error)
}

/// An object nested `depth` levels through key `a`, with a few siblings at each level.
fn nested(depth: usize) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str(r#"{"b":[1,2,{"a":2},[3,{"x":[5,6]}]],"c":"xyz","d":{"e":true,"f":null},"a":"#);
    }
    s.push('2');
    s.push_str(&"}".repeat(depth));
    s.into_bytes()
}

/// Arrays nested `depth` levels, each holding `width` numbers and the next level.
fn nested_arrays(depth: usize, width: usize) -> Vec<u8> {
    let numbers = vec!["7"; width].join(",");
    let mut s = String::new();
    for _ in 0..depth {
        s.push('[');
        s.push_str(&numbers);
        s.push(',');
    }
    s.push_str("[]");
    s.push_str(&"]".repeat(depth));
    s.into_bytes()
}

/// A wide array of small objects.
fn wide(n: usize) -> Vec<u8> {
    let items = vec![r#"{"a":"x","k":1}"#; n].join(",");
    format!(r#"{{"items":[{items}]}}"#).into_bytes()
}

/// A few long strings.
fn long_strings(len: usize) -> Vec<u8> {
    let s = "a".repeat(len);
    format!(r#"{{"a":"{s}","b":["{s}","{s}"],"c":{{"a":"{s}"}}}}"#).into_bytes()
}

#[test]
fn the_reported_queries_fail_the_check_within_bounds() {
    // The issue: a 10 KB body 120 levels deep took 11.4 GB and 38 s.
    let body = nested(120);
    assert!((5_000..12_000).contains(&body.len()), "{}", body.len());
    for source in [
        "body.$..*..*..* contains 2",
        "body.$..a..a..a == 1",
        "len(body.$..*..*..*..*..*..*) > 0",
    ] {
        let error = evaluate_bounded(source, body.clone())
            .unwrap()
            .unwrap_or_default();
        assert_eq!(
            error,
            format!("JSONPath queries exceeded their limit of {MAX_JSONPATH_WORK} nodes per check"),
            "{source}"
        );
    }
}

/// Found by the property test below: a prefix whose work left no room for the next segment
/// underflowed the budget (a panic in debug builds, a wrapped budget in release ones).
#[test]
fn a_query_that_runs_out_between_segments_fails_cleanly() {
    let limit =
        format!("JSONPath queries exceeded their limit of {MAX_JSONPATH_WORK} nodes per check");
    for n in [29_515, 29_000, 30_000, 40_000] {
        let error = evaluate_bounded("body.$..a..a..a..a..a contains \"aaaa\"", wide(n)).unwrap();
        assert!(
            error.is_none() || error.as_ref() == Some(&limit),
            "{n}: {error:?}"
        );
    }
}

#[test]
fn ordinary_queries_still_answer() {
    let cases = [
        ("body.$..a contains 2", nested(120), None),
        ("len(body.$.items[*]) == 5000", wide(5000), None),
        ("len(body.$.items[?@.k == 1]) == 5000", wide(5000), None),
        ("body.$..c contains \"xyz\"", nested(100), None),
        (
            "body.$.items[?match(@.a, 'x')].k contains 1",
            wide(1000),
            None,
        ),
        ("len(body.$.c.a) == 1000000", long_strings(1_000_000), None),
    ];
    for (source, body, error) in cases {
        let got = evaluate_bounded(source, body).unwrap();
        assert_eq!(got, error, "{source}");
        assert!(parse(source).is_ok(), "{source}");
    }
}

#[test]
fn bodies_too_deep_or_too_big_for_json_fail_the_assertion() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let error = evaluate_bounded("body.$[0] == 1", deep).unwrap().unwrap();
    assert!(error.contains("nested too deeply"), "{error}");
    let many = format!("[{}]", vec!["0"; 1_100_000].join(",")).into_bytes();
    let error = evaluate_bounded("body.$[0] == 1", many).unwrap().unwrap();
    assert!(error.contains("too many values"), "{error}");
}

/// Hostile JSONPaths: repeated descents, unions that duplicate nodes, filters on every node.
const HOSTILE_PATHS: &[&str] = &[
    "$..*",
    "$..*..*",
    "$..*..*..*..*",
    "$..a..a..a..a..a",
    "$..[*,*,*,*]..[*,*,*,*]",
    "$[*,*,*,*,*,*,*,*][*,*,*,*,*,*,*,*][*,*,*,*,*,*,*,*][*,*,*,*,*,*,*,*]",
    "$..[?@.a == 'x']..*",
    "$..*..[?match(@, 'a+b*')]",
    "$..*..[?length(@) > 3]",
    "$..*..[?@ == $]",
    "$..[?@.a == $.c && @.b != @]",
    "$..*..*[0:100000:1]",
    "$..*..[-1]..*",
];

/// How an assertion uses the selected nodes.
const USES: &[&str] = &[
    "body.{} contains 2",
    "len(body.{}) > 0",
    "body.{} == [1]",
    "body.{} contains \"aaaa\"",
    "not (body.{} contains 7) or body matches \"(a|aa)+$\"",
];

/// Regexes that are large, nested or catastrophic elsewhere; the parse limits refuse or bound
/// them.
const HOSTILE_REGEXES: &[&str] = &[
    "body matches \"(a{100}){100}\"",
    "body matches \"(((a+)+)+)+$\"",
    "body matches \"(\\\\w+\\\\s?)*$\"",
    "body matches \"[\\\\s\\\\S]{500}x\"",
    "body.$..a matches \"(a|a)*b\"",
];

fn hostile_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (1usize..=127).prop_map(nested),
        (1usize..=120, 0usize..=64).prop_map(|(d, w)| nested_arrays(d, w)),
        (1usize..=50_000).prop_map(wide),
        (1usize..=2_000_000).prop_map(long_strings),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 8, ..ProptestConfig::default() })]

    #[test]
    fn hostile_queries_stay_within_time_and_memory(
        body in hostile_body(),
        path in proptest::sample::select(HOSTILE_PATHS),
        using in proptest::sample::select(USES),
    ) {
        let source = using.replace("{}", path);
        if let Err(e) = evaluate_bounded(&source, body) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn hostile_regexes_stay_within_time_and_memory(
        body in hostile_body(),
        source in proptest::sample::select(HOSTILE_REGEXES),
    ) {
        if let Err(e) = evaluate_bounded(source, body) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn filters_with_unbounded_queries_are_parse_errors() {
    let e = parse("body.$.items[?@..id] == []").unwrap_err();
    assert_eq!(e.column, 16);
    assert!(e.message.contains("descendants .. is not allowed"), "{e}");
    let e = parse("body.$[?match(@.a, @.b)] == []").unwrap_err();
    assert!(e.message.contains("must be a string literal"), "{e}");
    let long = format!("body.${} == 1", ".a".repeat(33));
    let e = parse(&long).unwrap_err();
    assert!(e.message.contains("at most 32 segments"), "{e}");
}

#[test]
fn the_limit_is_shared_by_the_queries_of_a_check() {
    let _serial = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    let mut sources = vec!["len(body.$..*..*) > 0".to_owned(); 40];
    sources.push("status == 200".to_owned());
    let set = AssertionSet::compile(&sources).unwrap();
    let obs = Observation {
        status: Some(200),
        body: Some(nested(60)),
        ..Observation::default()
    };
    let start = Instant::now();
    let results = set.evaluate(&obs);
    assert!(start.elapsed() < TIME_BOUND, "{:?}", start.elapsed());
    assert!(results[0].passed, "{:?}", results[0]);
    let last_query = &results[39];
    assert!(!last_query.passed);
    assert_eq!(
        last_query.error.as_deref(),
        Some(
            format!("JSONPath queries exceeded their limit of {MAX_JSONPATH_WORK} nodes per check")
                .as_str()
        )
    );
    assert!(results[40].passed, "{:?}", results[40]);
}
