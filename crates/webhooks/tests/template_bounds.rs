//! Property test of the template sandbox under hostile templates and inputs: every render ends
//! (with output or an error, never a panic) within a wall-clock bound and a peak-allocation
//! bound. Its own test binary because it installs a counting global allocator; one test, so
//! nothing else allocates while a case is measured.
//!
//! Out of scope (see the issue 8 report): minijinja 3.1 turns containers into strings before
//! charging fuel, so `([s] * n) ~ ""` can still allocate without bound; the generator builds
//! strings, not lazily repeated lists.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::json;
use vedette_model::EventType;
use vedette_webhooks::Engine;
use vedette_webhooks::samples::sample_event;
use vedette_webhooks::templates::context;

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let now = if new_size >= layout.size() {
                LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size()
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed) - layout.size()
                    + new_size
            };
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap growth allowed for one render. The fuel budget lets a template build strings of
/// about 12.8 MB (a copy or two of which may be live at once); filters refuse anything past
/// the 256 KiB output limit before building it.
const MAX_PEAK_BYTES: usize = 64 * 1024 * 1024;
/// Wall-clock bound per render (debug build, shared CI machine).
const MAX_RENDER_TIME: Duration = Duration::from_secs(5);

fn filter() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("json".to_owned()),
        (0usize..5_000_000).prop_map(|n| format!("date(format=\"%+\" * {n})")),
        Just("date".to_owned()),
        (0usize..1_000_000, 0usize..1_000_000)
            .prop_map(|(l, e)| format!("truncate(length={l}, end=\"…\" * {e})")),
        Just("duration".to_owned()),
        Just("base64".to_owned()),
        Just("slack_escape".to_owned()),
        Just("markdown_escape".to_owned()),
        Just("mentions_escape".to_owned()),
        Just("escape".to_owned()),
        Just("urlencode".to_owned()),
        Just("upper".to_owned()),
        Just("replace(\"<\", \"<<<<<<<<\")".to_owned()),
        Just("indent(40)".to_owned()),
        Just("string".to_owned()),
        Just("length".to_owned()),
    ]
}

fn base() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[<>@*_\\[\\]&%+ a]{1,8}", 0usize..1_000_000)
            .prop_map(|(s, n)| format!("({:?} * {n})", s)),
        Just("message".to_owned()),
        Just("summary".to_owned()),
        Just("data".to_owned()),
        Just("event".to_owned()),
        (0i64..i64::MAX).prop_map(|n| n.to_string()),
    ]
}

fn template() -> impl Strategy<Value = String> {
    (
        base(),
        proptest::collection::vec(filter(), 0..4),
        0usize..2_000,
    )
        .prop_map(|(base, filters, loops)| {
            let mut expr = base;
            for f in filters {
                expr = format!("({expr} | {f})");
            }
            if loops > 0 {
                format!("{{% for i in range({loops}) %}}{{{{ {expr} }}}}{{% endfor %}}")
            } else {
                format!("{{{{ {expr} }}}}")
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hostile_templates_stay_within_time_and_memory(
        source in template(),
        message in "[<>@*_\\[\\]&!#|~` a-z]{0,64}",
        repeat in 0usize..20_000,
    ) {
        let engine = Engine::default();
        let mut event = sample_event(EventType::MonitorDown);
        event.data["message"] = json!(message.repeat(repeat));
        let ctx = context(&event, &json!({}));
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let started = Instant::now();
        let result = engine.render(&source, &ctx);
        let elapsed = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
        drop(result);
        prop_assert!(elapsed < MAX_RENDER_TIME, "{source}: {elapsed:?}");
        prop_assert!(peak < MAX_PEAK_BYTES, "{source}: peak {peak} bytes");
    }
}
