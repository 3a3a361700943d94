//! The OpenAPI document (served, committed, consistent) and the offline API reference.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;
use vedette_server::api::openapi;
use vedette_server::routes;

use crate::common::Server;

/// `api/openapi.json` at the repository root.
fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../api/openapi.json")
}

#[test]
fn openapi_file_matches_the_code() {
    let path = committed_path();
    let generated = openapi::document_text();
    if std::env::var_os("VEDETTE_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir api/");
        std::fs::write(&path, generated).expect("write api/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "api/openapi.json differs from the document the server builds; regenerate it with\n\n    \
         VEDETTE_UPDATE_OPENAPI=1 cargo test -p vedette-server --test auth_metrics openapi\n\n\
         and commit the result"
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push(r);
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn openapi_document_is_consistent() {
    let doc = openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "MonitorSpec",
        "CheckResult",
        "Event",
        "MaintenanceSpec",
        "FieldError",
        "Incident",
        "Problem",
        "Monitor",
        "CreateToken",
        "CreatedToken",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("$ref {r} is not a component"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    let mut ids = HashSet::new();
    for route in routes::all() {
        assert!(
            ids.insert(route.operation_id),
            "{} twice",
            route.operation_id
        );
        let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        assert_eq!(op["operationId"], route.operation_id);
        if let Some(scope) = route.scope {
            assert!(op["responses"]["401"].is_object());
            // Every token holds `read`, so only operations that need more answer 403.
            assert_eq!(
                op["responses"]["403"].is_object(),
                scope != vedette_store::Scope::Read,
                "{}",
                route.operation_id
            );
        } else {
            assert_eq!(op["security"], serde_json::json!([]));
        }
        // Every `{param}` of the path is declared.
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(
                    declared,
                    "{} {}: {name} undeclared",
                    route.method, route.path
                );
            }
        }
    }
}

/// Component schemas written out in `openapi.rs` rather than generated from a Rust type, each
/// with why. Nothing else may be.
const WRITTEN_OUT: &[&str] = &[
    // The answer of `GET /api/v1/openapi.json`: any OpenAPI 3.1 document, built as JSON.
    "OpenApiDocument",
];

#[test]
fn every_schema_is_generated_from_a_rust_type() {
    let doc = openapi::document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    // What schemars makes of the body types alone, with the document's settings.
    let mut generator = openapi::generator();
    generator.subschema_for::<openapi::Bodies>();
    let generated = generator.take_definitions(true);
    for (name, schema) in schemas {
        if WRITTEN_OUT.contains(&name.as_str()) {
            assert!(
                !generated.contains_key(name),
                "{name} is generated now: drop it from WRITTEN_OUT and from openapi.rs"
            );
            continue;
        }
        assert!(
            generated.get(name) == Some(schema),
            "schema {name} is not the one schemars generates from the types of \
             openapi::Bodies: derive JsonSchema on the type the server reads or writes and add \
             it there"
        );
    }
    for name in generated.keys() {
        assert!(schemas.contains_key(name), "{name} generated but left out");
    }
    for name in WRITTEN_OUT {
        assert!(
            schemas.contains_key(*name),
            "{name} is no longer in the document"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_served_without_a_token() {
    let server = Server::start(|_| {}).await;
    let response = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served, openapi::document());
    server.stop().await;
}

/// Values of `attr="..."` attributes in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_docs_load_only_same_origin_assets() {
    let server = Server::start(|_| {}).await;
    let response = server.get("/api/docs/", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = response.text().await.expect("text");
    let mut assets: Vec<&str> = attributes(&html, "src");
    assets.extend(attributes(&html, "href"));
    assert!(assets.len() >= 3, "{html}");
    for asset in assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "/api/docs loads {asset} from elsewhere"
        );
        let url = format!("/api/docs/{}", asset.trim_start_matches("./"));
        let status = server.get(&url, None).await.status();
        assert_eq!(status, 200, "{url}");
    }
    let init = server
        .get("/api/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .expect("text");
    assert!(init.contains(openapi::DOCUMENT_PATH), "{init}");
    assert!(
        !init.contains("http://") && !init.contains("https://"),
        "{init}"
    );
    // The bare path redirects to the page.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(server.url("/api/docs"))
        .send()
        .await
        .expect("request");
    assert!(bare.status().is_redirection());
    server.stop().await;
}
