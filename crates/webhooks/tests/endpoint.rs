//! Endpoint specs: what the API refuses (with the field path), secrets, rotation, matching.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use vedette_model::EventType;
use vedette_model::REDACTED;
use vedette_model::webhook::{
    Auth, EndpointSpec, HeaderValueSpec, IntegrationRef, Secret, TemplateSpec,
};
use vedette_webhooks::samples::sample_event;
use vedette_webhooks::{Catalog, EndpointRules, Engine};

fn errors(spec: &mut EndpointSpec) -> Vec<(String, String)> {
    let catalog = Catalog::builtin().expect("catalog");
    spec.validate(&catalog, &Engine::default())
        .expect_err("invalid")
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

fn field_of(errs: &[(String, String)], field: &str) -> String {
    errs.iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| panic!("no error at {field}: {errs:?}"))
}

#[test]
fn a_plain_endpoint_is_valid() {
    let mut spec = EndpointSpec::new("https://hooks.example.com/vedette");
    spec.validate(&Catalog::builtin().expect("catalog"), &Engine::default())
        .expect("valid");
}

#[test]
fn invalid_template_names_line_and_column() {
    let mut spec = EndpointSpec::new("https://hooks.example.com/");
    spec.template = Some(TemplateSpec {
        body: "{\n  \"a\": {{ title | json }\n}".to_owned(),
        content_type: "application/json".to_owned(),
    });
    let errs = errors(&mut spec);
    let msg = field_of(&errs, "template.body");
    assert!(msg.starts_with("line 2, column "), "{msg}");
}

#[test]
fn invalid_urls_are_refused() {
    for (url, needle) in [
        ("ftp://example.com/", "scheme"),
        ("not a url", "not a valid URL"),
        ("https://user:pw@example.com/", "credentials"),
    ] {
        let mut spec = EndpointSpec::new(url);
        let msg = field_of(&errors(&mut spec), "url");
        assert!(msg.contains(needle), "{url}: {msg}");
    }
    let mut long = EndpointSpec::new(format!("https://example.com/{}", "a".repeat(3000)));
    assert!(field_of(&errors(&mut long), "url").contains("2048"));
}

#[test]
fn unknown_integration_parameter_is_refused() {
    let mut spec = EndpointSpec::new("https://x.example");
    spec.url = None;
    spec.integration = Some(IntegrationRef {
        name: "slack".to_owned(),
        params: json!({"webhook_url": "https://hooks.slack.com/services/A/B/C", "colour": "red"}),
    });
    let errs = errors(&mut spec);
    assert_eq!(
        field_of(&errs, "integration.params.colour"),
        "unknown parameter"
    );
    let mut unknown = EndpointSpec::new("https://x.example");
    unknown.url = None;
    unknown.integration = Some(IntegrationRef {
        name: "carrier-pigeon".to_owned(),
        params: json!({}),
    });
    assert!(field_of(&errors(&mut unknown), "integration.name").contains("carrier-pigeon"));
}

#[test]
fn oversized_and_reserved_headers_are_refused() {
    let mut spec = EndpointSpec::new("https://x.example");
    spec.headers
        .insert("X-Big".to_owned(), HeaderValueSpec::Plain("v".repeat(5000)));
    spec.headers.insert(
        "webhook-signature".to_owned(),
        HeaderValueSpec::Plain("forged".to_owned()),
    );
    spec.headers.insert(
        "bad header".to_owned(),
        HeaderValueSpec::Plain("x".to_owned()),
    );
    let errs = errors(&mut spec);
    assert!(field_of(&errs, "headers.X-Big").contains("5000 bytes"));
    assert!(field_of(&errs, "headers.webhook-signature").contains("set by Vedette"));
    assert!(field_of(&errs, "headers.bad header").contains("not a valid header name"));
}

#[test]
fn other_fields_are_checked() {
    let mut spec = EndpointSpec::new("https://x.example");
    spec.event_types = vec!["monitor.*".to_owned(), "monitr.down".to_owned()];
    spec.selector = Some("team in (a".to_owned());
    spec.rate_limit = Some(0);
    spec.timeout = "5m".parse().expect("duration");
    spec.secrets[0].secret = Secret::new("whsec_short");
    let errs = errors(&mut spec);
    assert!(field_of(&errs, "event_types[1]").contains("monitr.down"));
    field_of(&errs, "selector");
    field_of(&errs, "rate_limit");
    field_of(&errs, "timeout");
    let secret_msg = field_of(&errs, "secrets[0].secret");
    assert!(
        !secret_msg.contains("short"),
        "the secret is not echoed: {secret_msg}"
    );
}

#[test]
fn unknown_fields_are_refused_when_parsing() {
    let err = serde_json::from_value::<EndpointSpec>(json!({"url": "https://x", "colour": 1}))
        .expect_err("unknown field");
    assert!(err.to_string().contains("colour"));
    let spec: EndpointSpec = serde_json::from_value(json!({"url": "https://x"})).expect("minimal");
    assert_eq!(spec.event_types, vec!["*"]);
    assert!(spec.enabled);
    assert_eq!(spec.timeout.as_millis(), 15_000);
}

#[test]
fn redaction_hides_every_secret_and_restore_puts_them_back() {
    let catalog = Catalog::builtin().expect("catalog");
    let mut spec = EndpointSpec::new("https://x.example");
    spec.url = None;
    spec.integration = Some(IntegrationRef {
        name: "telegram".to_owned(),
        params: json!({"bot_token": "123:abcDEF", "chat_id": "42"}),
    });
    spec.auth = Some(Auth::Basic {
        username: "u".to_owned(),
        password: Secret::new("pw-123"),
    });
    spec.headers.insert(
        "X-Key".to_owned(),
        HeaderValueSpec::Secret {
            secret: Secret::new("hdr-123"),
        },
    );
    let shown = spec.redacted(&catalog);
    let text = serde_json::to_string(&shown).expect("json");
    for secret in [
        "123:abcDEF",
        "pw-123",
        "hdr-123",
        spec.secrets[0].secret.expose(),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains(REDACTED));
    assert_eq!(
        shown.integration.as_ref().expect("i").params["chat_id"],
        "42"
    );
    let mut echoed = shown.clone();
    echoed.restore_redacted(&spec);
    assert_eq!(echoed, spec);
    let mut values = spec.secret_values(&catalog);
    values.sort();
    assert!(values.contains(&"123:abcDEF".to_owned()) && values.contains(&"pw-123".to_owned()));
}

#[test]
fn rotation_keeps_the_old_secret_for_the_overlap() {
    let mut spec = EndpointSpec::new("https://x.example");
    let old = spec.secrets[0].secret.expose().to_owned();
    let now = Utc::now();
    let new = vedette_webhooks::signing::generate_secret();
    spec.rotate_secret(Secret::new(new.clone()), Duration::from_secs(3600), now);
    let active: Vec<&str> = spec.active_secrets(now).collect();
    assert_eq!(active, vec![new.as_str(), old.as_str()]);
    let later = now + chrono::Duration::hours(2);
    let active: Vec<&str> = spec.active_secrets(later).collect();
    assert_eq!(active, vec![new.as_str()]);
    // A second rotation after the overlap drops the expired secret.
    spec.rotate_secret(
        Secret::new(vedette_webhooks::signing::generate_secret()),
        Duration::from_secs(60),
        later,
    );
    assert_eq!(spec.secrets.len(), 2);
}

#[test]
fn matching_uses_types_selector_and_integration_support() {
    let catalog = Catalog::builtin().expect("catalog");
    let labels = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
    let down = sample_event(EventType::MonitorDown);
    let mut spec = EndpointSpec::new("https://x.example");
    spec.event_types = vec!["incident.*".to_owned(), "monitor.down".to_owned()];
    assert!(spec.matches(&down, Some(&labels), &catalog));
    assert!(!spec.matches(&sample_event(EventType::MonitorUp), Some(&labels), &catalog));
    spec.selector = Some("team=search".to_owned());
    assert!(!spec.matches(&down, Some(&labels), &catalog));
    assert!(
        !spec.matches(&down, None, &catalog),
        "no labels, selector set"
    );
    spec.selector = None;
    spec.enabled = false;
    assert!(!spec.matches(&down, Some(&labels), &catalog));
}

/// Issue 8 item 13: an endpoint took 12,000 signing secrets (each delivery signs with all).
#[test]
fn signing_secrets_are_capped() {
    use vedette_model::webhook::{MAX_SIGNING_SECRETS, SigningSecret};
    let mut spec = EndpointSpec::new("https://x.example");
    let secret = spec.secrets[0].clone();
    spec.secrets = vec![secret.clone(); MAX_SIGNING_SECRETS];
    spec.validate(&Catalog::builtin().expect("catalog"), &Engine::default())
        .expect("the limit itself is fine");
    spec.secrets = vec![
        SigningSecret {
            secret: Secret::new("not-a-secret"),
            expires_at: None,
        };
        12_000
    ];
    let errs = errors(&mut spec);
    let message = field_of(&errs, "secrets");
    assert!(
        message.contains("12000") && message.contains(&format!("at most {MAX_SIGNING_SECRETS}")),
        "{message}"
    );
    assert!(
        errs.len() <= MAX_SIGNING_SECRETS + 1,
        "one error per secret past the cap floods the answer: {} errors",
        errs.len()
    );
    assert!(!message.contains("not-a-secret"), "{message}");
}

#[test]
fn rotation_never_keeps_more_than_the_cap() {
    use vedette_model::webhook::MAX_SIGNING_SECRETS;
    let mut spec = EndpointSpec::new("https://x.example");
    let now = Utc::now();
    let mut newest = String::new();
    for _ in 0..(MAX_SIGNING_SECRETS * 3) {
        newest = vedette_webhooks::signing::generate_secret();
        spec.rotate_secret(Secret::new(newest.clone()), Duration::from_secs(3600), now);
    }
    assert_eq!(spec.secrets.len(), MAX_SIGNING_SECRETS);
    assert_eq!(spec.secrets[0].secret.expose(), newest, "newest first");
    spec.validate(&Catalog::builtin().expect("catalog"), &Engine::default())
        .expect("a rotated spec stays valid");
}

#[test]
fn event_type_filters_and_headers_are_capped() {
    use vedette_model::webhook::{MAX_EVENT_TYPES, MAX_HEADERS};
    let mut spec = EndpointSpec::new("https://x.example");
    spec.event_types = vec!["monitor.*".to_owned(); 10_000];
    spec.headers = (0..10_000)
        .map(|i| (format!("x-h{i}"), HeaderValueSpec::Plain("v".to_owned())))
        .collect();
    let errs = errors(&mut spec);
    let message = field_of(&errs, "event_types");
    assert!(
        message.contains(&format!("at most {MAX_EVENT_TYPES}")),
        "{message}"
    );
    let message = field_of(&errs, "headers");
    assert!(
        message.contains(&format!("at most {MAX_HEADERS}")),
        "{message}"
    );
    assert!(errs.len() < 10, "{} errors", errs.len());
}

#[test]
fn email_recipients_are_capped() {
    use vedette_model::webhook::{EmailSpec, MAX_RECIPIENTS, SmtpSecurity, SmtpSpec};
    let mut spec = EndpointSpec::email(EmailSpec {
        smtp: SmtpSpec {
            host: "smtp.example.com".to_owned(),
            port: None,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            tls_verify: true,
            ca_pem: None,
        },
        from: "alerts@example.com".to_owned(),
        to: vec!["not an address".to_owned(); 5_000],
        subject: None,
    });
    let errs = errors(&mut spec);
    let message = field_of(&errs, "email.to");
    assert!(
        message.contains(&format!("at most {MAX_RECIPIENTS}")),
        "{message}"
    );
    assert!(errs.len() <= MAX_RECIPIENTS + 2, "{} errors", errs.len());
}
