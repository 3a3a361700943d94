//! The integration catalog: every shipped manifest loads, renders every event type it handles,
//! and matches its committed golden file (`tests/golden/<name>.json`).
//!
//! Regenerate the golden files after an intended change with
//! `VEDETTE_UPDATE_GOLDEN=1 cargo test -p vedette-webhooks --test catalog`.

use serde_json::{Value, json};
use vedette_model::EventType;
use vedette_webhooks::catalog::parse_manifest;
use vedette_webhooks::samples::{sample_event, sample_event_after_deployment};
use vedette_webhooks::{Catalog, Engine};

#[path = "support/golden.rs"]
mod golden;

const REQUIRED: &[&str] = &[
    "github_commit_status",
    "gitlab_commit_status",
    "github_repository_dispatch",
    "gitlab_pipeline_trigger",
    "jenkins_build",
    "azure_devops_pipeline_run",
    "slack",
    "discord",
    "teams",
    "google_chat",
    "mattermost",
    "rocketchat",
    "telegram",
    "pagerduty",
    "opsgenie",
    "splunk_oncall",
    "ntfy",
    "pushover",
    "gotify",
    "matrix",
    "zulip",
    "webex",
    "home_assistant",
    "alertmanager",
    "cloudevents",
    "generic",
];

/// Every supported event type rendered with the manifest's example parameters.
fn render_all(catalog: &Catalog, name: &str) -> Value {
    let engine = Engine::default();
    let manifest = catalog.get(name).expect("manifest");
    let params = manifest
        .validate_params(&manifest.example)
        .expect("example parameters are valid");
    let mut out = serde_json::Map::new();
    for t in EventType::ALL {
        if !manifest.supports(t.as_str()) {
            continue;
        }
        // An integration that requires data renders the sample that carries it.
        let event = if manifest.requires.is_empty() {
            sample_event(t)
        } else {
            sample_event_after_deployment(t)
        };
        assert!(manifest.handles(&event), "{name} / {t}: sample not handled");
        let req = manifest
            .render(&engine, &event, &params)
            .unwrap_or_else(|e| panic!("{name} / {t}: {e}"));
        let body = if req.content_type.contains("json") {
            serde_json::from_str(&req.body).expect("JSON body")
        } else {
            Value::String(req.body.clone())
        };
        out.insert(
            t.as_str().to_owned(),
            json!({
                "method": req.method,
                "url": req.url,
                "content_type": req.content_type,
                "headers": req.headers,
                "body": body,
            }),
        );
    }
    Value::Object(out)
}

#[test]
fn catalog_ships_every_required_integration() {
    let catalog = Catalog::builtin().expect("built-in catalog loads");
    for name in REQUIRED {
        let m = catalog
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"));
        assert!(!m.docs.trim().is_empty(), "{name} has no docs");
        assert!(!m.description.trim().is_empty());
    }
    assert!(catalog.len() >= 20);
}

#[test]
fn every_manifest_matches_its_golden_file() {
    let catalog = Catalog::builtin().expect("built-in catalog loads");
    let mut mismatched = Vec::new();
    for manifest in catalog.iter() {
        let rendered = render_all(&catalog, &manifest.name);
        let Some(expected) = golden::expected(&format!("{}.json", manifest.name), &rendered) else {
            continue;
        };
        if expected != rendered {
            mismatched.push(format!(
                "{}:\n--- expected\n{}\n--- rendered\n{}",
                manifest.name,
                serde_json::to_string_pretty(&expected).unwrap_or_default(),
                serde_json::to_string_pretty(&rendered).unwrap_or_default()
            ));
        }
    }
    assert!(
        mismatched.is_empty(),
        "golden mismatch (VEDETTE_UPDATE_GOLDEN=1 regenerates):\n{}",
        mismatched.join("\n")
    );
}

#[test]
fn pagerduty_triggers_and_resolves_by_incident() {
    let catalog = Catalog::builtin().expect("catalog");
    let rendered = render_all(&catalog, "pagerduty");
    let opened = &rendered["incident.opened"]["body"];
    let resolved = &rendered["incident.resolved"]["body"];
    assert_eq!(opened["event_action"], "trigger");
    assert_eq!(resolved["event_action"], "resolve");
    assert_eq!(opened["dedup_key"], "inc_01JPAB7Q0N0B2D4F6H8J1L3N5P");
    assert_eq!(opened["dedup_key"], resolved["dedup_key"]);
    assert_eq!(opened["payload"]["severity"], "critical");
}

#[test]
fn params_are_validated_against_the_schema() {
    let catalog = Catalog::builtin().expect("catalog");
    let slack = catalog.get("slack").expect("slack");
    let errors = slack
        .validate_params(&json!({"webhook_url": "ftp://x", "colour": "red"}))
        .expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&".colour"), "{errors:?}");
    assert!(paths.contains(&".webhook_url"), "{errors:?}");
    let missing = slack.validate_params(&json!({})).expect_err("missing");
    assert_eq!(missing[0].path, ".webhook_url");
    assert_eq!(missing[0].message, "required");
    let filled = slack
        .validate_params(&json!({"webhook_url": "https://hooks.slack.com/services/A/B/C"}))
        .expect("valid");
    assert_eq!(filled["mention"], "", "defaults are filled in");
    let opsgenie = catalog.get("opsgenie").expect("opsgenie");
    let bad_enum = opsgenie
        .validate_params(
            &json!({"api_key": "01234567-89ab-cdef-0123-456789abcdef", "region": "mars"}),
        )
        .expect_err("enum");
    assert_eq!(bad_enum[0].path, ".region");
}

#[test]
fn extra_directories_add_and_override_manifests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let custom = r#"{
      "name": "slack", "title": "Slack (house style)", "description": "d", "category": "chat",
      "docs": "d", "parameters": {"type": "object", "properties": {"url": {"type": "string"}}},
      "example": {"url": "https://x.example"}, "url": "{{ params.url }}",
      "body": {"default": "{\"t\": {{ title | json }}}"}
    }"#;
    std::fs::write(dir.path().join("slack.json"), custom).expect("write");
    std::fs::write(dir.path().join("README.txt"), "ignored").expect("write");
    let mut catalog = Catalog::builtin().expect("catalog");
    let before = catalog.len();
    assert_eq!(catalog.load_dir(dir.path()).expect("load"), 1);
    assert_eq!(catalog.len(), before);
    assert_eq!(
        catalog.get("slack").expect("slack").title,
        "Slack (house style)"
    );

    std::fs::write(
        dir.path().join("broken.yaml"),
        "name: broken\ntitle: t\ndescription: d\ncategory: c\ndocs: d\nparameters: {type: object}\nexample: {}\nurl: \"{{ params.url \"\nbody: {default: x}\n",
    )
    .expect("write");
    let err = catalog.load_dir(dir.path()).expect_err("broken template");
    let text = err.to_string();
    assert!(
        text.contains("broken.yaml") && text.contains("url"),
        "{text}"
    );
}

#[test]
fn manifests_refuse_unknown_fields() {
    let err = parse_manifest(
        "inline",
        "name: x\ntitle: t\ndescription: d\ncategory: c\ndocs: d\nparameters: {type: object}\nexample: {}\nurl: u\nbody: {default: x}\nbogus: 1\n",
        &Engine::default(),
    )
    .expect_err("unknown field");
    assert!(err.to_string().contains("bogus"), "{err}");
}

#[test]
fn commit_statuses_post_the_outcome_on_the_deployed_commit() {
    let catalog = Catalog::builtin().expect("catalog");
    let sha = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    let github = render_all(&catalog, "github_commit_status");
    let passed = &github["deployment.verification.passed"];
    assert_eq!(
        passed["url"],
        format!("https://api.github.com/repos/acme/payments/statuses/{sha}")
    );
    assert_eq!(passed["body"]["state"], "success");
    assert_eq!(passed["body"]["context"], "vedette/verification");
    assert_eq!(
        github["deployment.verification.failed"]["body"]["state"],
        "failure"
    );
    let gitlab = render_all(&catalog, "gitlab_commit_status");
    let failed = &gitlab["deployment.verification.failed"];
    assert_eq!(
        failed["url"],
        format!("https://gitlab.com/api/v4/projects/acme%2Fpayments/statuses/{sha}")
    );
    assert_eq!(failed["body"]["state"], "failed");
    assert_eq!(
        gitlab["deployment.verification.passed"]["body"]["state"],
        "success"
    );
    // A verification without a commit has nothing to post a status on.
    let mut no_commit = sample_event(EventType::VerificationPassed);
    no_commit
        .data
        .as_object_mut()
        .expect("data")
        .remove("commit");
    for name in ["github_commit_status", "gitlab_commit_status"] {
        assert!(
            !catalog.get(name).expect(name).handles(&no_commit),
            "{name}"
        );
    }
}

#[test]
fn rollback_triggers_fire_only_on_a_monitor_down_after_a_deployment() {
    let catalog = Catalog::builtin().expect("catalog");
    let after = sample_event_after_deployment(EventType::MonitorDown);
    let plain = sample_event(EventType::MonitorDown);
    for name in [
        "github_repository_dispatch",
        "gitlab_pipeline_trigger",
        "jenkins_build",
        "azure_devops_pipeline_run",
    ] {
        let manifest = catalog.get(name).expect(name);
        assert!(manifest.handles(&after), "{name}");
        assert!(
            !manifest.handles(&plain),
            "{name} must skip a down without a deployment"
        );
        assert!(
            !manifest.handles(&sample_event_after_deployment(EventType::IncidentOpened)),
            "{name} handles monitor.down only"
        );
        assert!(
            !manifest.secret_params().is_empty(),
            "{name} marks its token x-secret"
        );
    }
    let github = &render_all(&catalog, "github_repository_dispatch")["monitor.down"];
    assert_eq!(
        github["url"],
        "https://api.github.com/repos/acme/payments/dispatches"
    );
    assert_eq!(github["body"]["event_type"], "vedette-rollback");
    assert_eq!(
        github["body"]["client_payload"]["deployment_id"],
        "payments-v1-4-2-prod"
    );
    let jenkins = &render_all(&catalog, "jenkins_build")["monitor.down"];
    assert_eq!(
        jenkins["url"],
        "https://jenkins.example.com/job/payments/job/rollback/buildWithParameters"
    );
    assert!(
        jenkins["body"]
            .as_str()
            .expect("form body")
            .starts_with("VEDETTE_DEPLOYMENT_ID=payments-v1-4-2-prod&VEDETTE_SERVICE=payments&")
    );
    let azure = &render_all(&catalog, "azure_devops_pipeline_run")["monitor.down"];
    assert_eq!(
        azure["url"],
        "https://dev.azure.com/acme/Payments/_apis/pipelines/42/runs?api-version=7.1"
    );
    assert_eq!(azure["body"]["templateParameters"]["version"], "v1.4.2");
    let gitlab = &render_all(&catalog, "gitlab_pipeline_trigger")["monitor.down"];
    assert_eq!(
        gitlab["url"],
        "https://gitlab.com/api/v4/projects/4242/trigger/pipeline"
    );
    assert_eq!(gitlab["body"]["variables"]["VEDETTE_ROLLBACK"], "true");
}

#[test]
fn a_manifest_requires_dotted_data_paths() {
    let engine = Engine::default();
    let manifest = |requires: &str| {
        parse_manifest(
            "test.yaml",
            &format!(
                "name: t\ntitle: T\ndescription: d\ncategory: generic\ndocs: d\n\
                 parameters: {{type: object}}\nexample: {{}}\nrequires: {requires}\n\
                 url: https://example.com\nbody: {{default: '{{{{ event | json }}}}'}}\n"
            ),
            &engine,
        )
    };
    let m = manifest("[deployment.commit]").expect("valid");
    let mut event = sample_event_after_deployment(EventType::IncidentOpened);
    assert!(m.handles(&event));
    event.data["deployment"]["commit"] = Value::Null;
    assert!(!m.handles(&event), "a null field counts as absent");
    assert!(manifest("['deployment..id']").is_err());
}
