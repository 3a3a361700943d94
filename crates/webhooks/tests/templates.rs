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
