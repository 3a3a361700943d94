//! The template sandbox: filters, strict undefined, limits, error positions and previews.

use serde_json::json;
use vedette_model::EventType;
use vedette_webhooks::samples::sample_event;
use vedette_webhooks::templates::{TemplateErrorKind, context};
use vedette_webhooks::{Engine, TemplateLimits};

fn ctx() -> serde_json::Value {
    context(
        &sample_event(EventType::MonitorDown),
        &json!({"channel": "#ops"}),
    )
}

#[test]
fn renders_the_event_context_and_filters() {
    let engine = Engine::default();
    let out = engine
        .render(
            r#"{"t": {{ title | json }}, "m": {{ data.message | truncate(length=10) | json }}, "d": {{ occurred_at | date(format="%H:%M") | json }}, "s": {{ 3723 | duration | json }}, "ms": {{ 1500 | duration(unit="ms") | json }}, "c": {{ params.channel | json }}}"#,
            &ctx(),
        )
        .expect("renders");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["t"], "Payments API is down");
    assert_eq!(v["m"], "connect t…", "length counts the ellipsis");
    assert_eq!(v["d"], "09:26");
    assert_eq!(v["s"], "1h 2m 3s");
    assert_eq!(v["ms"], "2s");
    assert_eq!(v["c"], "#ops");
}

#[test]
fn json_filter_escapes_hostile_strings() {
    let engine = Engine::default();
    let mut c = ctx();
    c["message"] = json!("quote \" backslash \\ newline \n </script> \u{1}");
    let out = engine
        .render_json(r#"{"m": {{ message | json }}}"#, &c)
        .expect("valid JSON");
    assert_eq!(out["m"], c["message"]);
}

#[test]
fn undefined_variables_are_errors_with_a_position() {
    let engine = Engine::default();
    let err = engine
        .render("line one\n  {{ nosuch.thing }}", &ctx())
        .expect_err("undefined");
    assert_eq!(err.kind, TemplateErrorKind::Undefined);
    assert_eq!(err.line, Some(2));
    assert_eq!(err.column, Some(6), "{err}");
    assert!(err.to_string().starts_with("line 2, column 6: "), "{err}");
}

#[test]
fn syntax_errors_name_line_and_column() {
    let engine = Engine::default();
    let err = engine
        .check("{\n\"a\": {{ title | json }},\n\"b\": {% if %}\n}")
        .expect_err("syntax");
    assert_eq!(err.kind, TemplateErrorKind::Syntax);
    assert_eq!(err.line, Some(3));
    assert!(err.column.is_some(), "{err}");
    engine.check("{{ title }}").expect("valid");
}

#[test]
fn runaway_loops_run_out_of_fuel() {
    let engine = Engine::default();
    let err = engine
        .render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            &ctx(),
        )
        .expect_err("fuel");
    assert_eq!(err.kind, TemplateErrorKind::OutOfFuel);
}

#[test]
fn output_is_capped() {
    let engine = Engine::new(TemplateLimits {
        max_output_bytes: 1000,
        ..TemplateLimits::default()
    });
    let err = engine
        .render("{% for i in range(500) %}xxxxx{% endfor %}", &ctx())
        .expect_err("too large");
    assert_eq!(err.kind, TemplateErrorKind::OutputTooLarge);
    let err = engine
        .render(&"x".repeat(70 * 1024), &ctx())
        .expect_err("source too large");
    assert_eq!(err.kind, TemplateErrorKind::SourceTooLarge);
}

#[test]
fn recursion_is_limited() {
    let engine = Engine::default();
    let err = engine
        .render(
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            &ctx(),
        )
        .expect_err("recursion");
    assert!(
        matches!(
            err.kind,
            TemplateErrorKind::Render | TemplateErrorKind::OutOfFuel
        ),
        "{err:?}"
    );
}

#[test]
fn nothing_can_be_included_from_outside() {
    let engine = Engine::default();
    let err = engine
        .render("{% include '/etc/passwd' %}", &ctx())
        .expect_err("no loader");
    assert_eq!(err.kind, TemplateErrorKind::Render, "{err}");
}

#[test]
fn invalid_json_output_is_reported() {
    let engine = Engine::default();
    let err = engine
        .render_json("{\"a\": {{ title }}}", &ctx())
        .expect_err("unquoted string");
    assert_eq!(err.kind, TemplateErrorKind::InvalidOutput);
}

#[test]
fn preview_renders_every_event_type() {
    let engine = Engine::default();
    for t in EventType::ALL {
        let out = engine
            .preview("{{ type }}|{{ title }}|{{ status }}", t, &json!({}))
            .expect("preview");
        assert!(out.starts_with(t.as_str()), "{out}");
    }
    let resolved = engine
        .preview("{{ status }}", EventType::IncidentResolved, &json!({}))
        .expect("preview");
    assert_eq!(resolved, "resolved");
}

#[test]
fn date_filter_rejects_bad_input_without_panicking() {
    let engine = Engine::default();
    let err = engine
        .render("{{ 'yesterday' | date }}", &ctx())
        .expect_err("not a date");
    assert_eq!(err.kind, TemplateErrorKind::Render);
    let out = engine
        .render("{{ 0 | date(format='%Y') }}", &ctx())
        .expect("unix seconds");
    assert_eq!(out, "1970");
    let bad = engine.render("{{ 0 | date(format='%Q') }}", &ctx());
    assert!(bad.is_err(), "{bad:?}");
}

/// Issue 8 item 7: `date(format="%+" * 5000000)` built 160 MB before the fuel check.
#[test]
fn custom_filters_refuse_huge_input_before_building_output() {
    let engine = Engine::default();
    let started = std::time::Instant::now();
    let err = engine
        .render(r#"{{ 0 | date(format="%+" * 5000000) | length }}"#, &ctx())
        .expect_err("format too long");
    assert_eq!(err.kind, TemplateErrorKind::Render);
    assert!(
        err.message.contains("date format") && err.message.contains("256"),
        "{err}"
    );
    for (template, what) in [
        (r#"{{ ("x" * 3000000) | json }}"#, "json input"),
        (
            r#"{{ ("x" * 3000000) | truncate(length=5) }}"#,
            "truncate input",
        ),
        (
            r#"{{ "x" | truncate(length=0, end="y" * 3000000) }}"#,
            "truncate end",
        ),
        (
            r#"{{ ("x" * 3000000) | base64 | length }}"#,
            "base64 output",
        ),
        (
            r#"{{ ("<" * 3000000) | slack_escape | length }}"#,
            "escape input",
        ),
        (
            r#"{{ ("*" * 3000000) | markdown_escape | length }}"#,
            "escape input",
        ),
        (
            r#"{{ ("@a " * 1000000) | mentions_escape | length }}"#,
            "escape input",
        ),
        (
            r#"{{ ("*" * 200000) | markdown_escape | length }}"#,
            "escaped output",
        ),
    ] {
        let err = engine.render(template, &ctx()).expect_err(template);
        assert!(err.message.contains(what), "{template}: {err}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn escapers_neutralise_chat_markup() {
    let engine = Engine::default();
    let mut c = ctx();
    c["message"] = json!("<!channel> [a](https://evil) *b* @everyone ops@example.com");
    let out = engine
        .render("{{ message | slack_escape }}", &c)
        .expect("renders");
    assert_eq!(
        out,
        "&lt;!channel&gt; [a](https://evil) *b* @everyone ops@example.com"
    );
    let out = engine
        .render("{{ message | markdown_escape }}", &c)
        .expect("renders");
    assert_eq!(
        out,
        "\\<!channel\\> \\[a\\](https://evil) \\*b\\* @\u{200B}everyone ops@example.com"
    );
    let out = engine
        .render("{{ message | mentions_escape }}", &c)
        .expect("renders");
    assert_eq!(
        out,
        "<!channel> [a](https://evil) *b* @\u{200B}everyone ops@example.com"
    );
}

/// Renders run on the blocking pool, at most `concurrent_renders` at once; `FailFast` callers
/// get `Busy` instead of queueing, `Wait` callers get a slot once one frees up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renders_are_bounded_and_off_the_runtime() {
    use vedette_webhooks::templates::Admission;
    let engine = Engine::new(TemplateLimits {
        concurrent_renders: 1,
        ..TemplateLimits::default()
    });
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let busy = engine.clone();
    let holder = tokio::spawn(async move {
        busy.run(Admission::Wait, move |_| {
            let _ = started_tx.send(());
            wait.recv().expect("released");
        })
        .await
    });
    started_rx.await.expect("render started");
    // The async runtime is free while the render holds its thread.
    tokio::time::timeout(std::time::Duration::from_secs(1), tokio::task::yield_now())
        .await
        .expect("runtime responsive");
    let err = engine
        .run(Admission::FailFast, |e| e.render("{{ title }}", &ctx()))
        .await
        .expect_err("saturated");
    assert_eq!(err.kind, TemplateErrorKind::Busy);
    assert!(err.message.contains("busy"), "{err}");
    let waiting = engine.clone();
    let queued = tokio::spawn(async move {
        waiting
            .run(Admission::Wait, |e| e.render("{{ title }}", &ctx()))
            .await
    });
    release.send(()).expect("release");
    holder.await.expect("join").expect("ran");
    let out = queued.await.expect("join").expect("slot").expect("renders");
    assert_eq!(out, "Payments API is down");
}
