//! Config documents: parsing, error placement, directories, duplicates, export round trip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vedette_model::document::{
    API_VERSION, LoadError, Resource, load_path, parse_str, to_documents,
};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn parse(text: &str) -> (Vec<vedette_model::document::Loaded>, Vec<LoadError>) {
    parse_str(text, Path::new("test.yaml"))
}

/// Parses one document expected to fail; returns (field, line, message) of every error.
fn errors(text: &str) -> Vec<(String, Option<usize>, String)> {
    let (loaded, errors) = parse(text);
    assert!(loaded.is_empty(), "expected no resource, got {loaded:?}");
    errors
        .into_iter()
        .map(|e| (e.field, e.line, e.message))
        .collect()
}

/// The (field, line) of each of `errors`, in order.
fn places(errors: &[(String, Option<usize>, String)]) -> Vec<(&str, Option<usize>)> {
    errors.iter().map(|(f, l, _)| (f.as_str(), *l)).collect()
}

/// The single error of a document: (field, line), and its message.
fn one_error(text: &str) -> (String, usize, String) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let (field, line, message) = errs.into_iter().next().unwrap();
    (field, line.unwrap(), message)
}

const GOOD: &str = "apiVersion: vedette.dev/v1
kind: Monitor
metadata:
  id: web
spec:
  http: {url: https://example.com/}
";

#[test]
fn examples_load_clean() {
    let (loaded, errors) = load_path(&examples());
    assert!(
        errors.is_empty(),
        "{}",
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let ids: Vec<(&str, &str)> = loaded
        .iter()
        .map(|l| (l.resource.kind(), l.resource.id()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("MaintenanceWindow", "db-upgrade-2030"),
            ("MaintenanceWindow", "nightly-deploys"),
            ("MaintenanceWindow", "sunday-patching"),
            ("Monitor", "payments-api"),
            ("Monitor", "postgres-primary"),
            ("Monitor", "public-dns"),
            ("Monitor", "www-certificate"),
            ("Monitor", "nightly-backup"),
        ]
    );
    let kinds: Vec<_> = loaded
        .iter()
        .filter_map(|l| match &l.resource {
            Resource::Monitor { spec, .. } => Some(spec.kind().as_str()),
            Resource::MaintenanceWindow { .. }
            | Resource::WebhookEndpoint { .. }
            | Resource::StatusPage { .. } => None,
            Resource::DiscoverySource { .. } => None,
        })
        .collect();
    assert_eq!(kinds, vec!["http", "tcp", "dns", "tls", "heartbeat"]);
    let payments = loaded
        .iter()
        .find(|l| l.resource.id() == "payments-api")
        .unwrap();
    assert_eq!(payments.line, 2);
    assert!(payments.file.ends_with("monitors.yaml"));
    assert_eq!(
        payments.resource.labels().get("team").map(String::as_str),
        Some("payments")
    );
}

#[test]
fn several_documents_with_their_lines() {
    let text = format!(
        "# leading comment\n---\n{GOOD}---\n\n---\n{}",
        GOOD.replace("id: web", "id: api")
    );
    let (loaded, errors) = parse(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(loaded.len(), 2);
    assert_eq!((loaded[0].resource.id(), loaded[0].line), ("web", 3));
    assert_eq!((loaded[1].resource.id(), loaded[1].line), ("api", 12));
    let Resource::Monitor { spec, .. } = &loaded[0].resource else {
        panic!()
    };
    assert_eq!(
        spec.check.as_http().map(|h| h.url.as_str()),
        Some("https://example.com/")
    );
}

#[test]
fn a_bad_document_does_not_stop_the_others() {
    let bad = GOOD
        .replace("https://example.com/", "ftp://example.com/")
        .replace("id: web", "id: bad");
    let text = format!(
        "{GOOD}---\n{bad}---\n{}",
        GOOD.replace("id: web", "id: third")
    );
    let (loaded, errors) = parse(&text);
    assert_eq!(
        loaded.iter().map(|l| l.resource.id()).collect::<Vec<_>>(),
        vec!["web", "third"]
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "spec.http.url");
    assert_eq!(errors[0].line, Some(13));
    assert_eq!(
        errors[0].to_string(),
        "test.yaml:13: spec.http.url: expected an absolute http:// or https:// URL"
    );
}

#[test]
fn syntax_errors_carry_the_parser_location() {
    let text = format!(
        "{GOOD}---\napiVersion: vedette.dev/v1\nkind: Monitor\nspec: [unclosed\nmetadata: {{}}\n"
    );
    let (loaded, errors) = parse(&text);
    assert_eq!(loaded.len(), 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.field, "");
    assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
    let line = e.line.unwrap();
    assert!((10..=11).contains(&line), "{e}");
    assert!(e.column.is_some());

    let dup = one_error("apiVersion: vedette.dev/v1\nkind: Monitor\nkind: Monitor\nspec: {}\n");
    assert_eq!((dup.0.as_str(), dup.1), ("", 3));
    assert!(dup.2.contains("duplicate"), "{}", dup.2);
}

#[test]
fn envelope_errors() {
    let (field, line, message) = one_error(&GOOD.replace("apiVersion: vedette.dev/v1\n", ""));
    assert_eq!((field.as_str(), line), ("apiVersion", 1));
    assert_eq!(message, format!("required: expected {API_VERSION:?}"));

    let (field, line, message) = one_error(&GOOD.replace("vedette.dev/v1", "vedette.dev/v2"));
    assert_eq!((field.as_str(), line), ("apiVersion", 1));
    assert_eq!(
        message,
        "expected \"vedette.dev/v1\", got \"vedette.dev/v2\""
    );

    let (field, line, message) = one_error(&GOOD.replace("kind: Monitor", "kind: Probe"));
    assert_eq!((field.as_str(), line), ("kind", 2));
    assert_eq!(
        message,
        "expected one of Monitor, MaintenanceWindow, WebhookEndpoint, StatusPage, DiscoverySource, got \"Probe\""
    );

    let (field, line, message) = one_error(&GOOD.replace("kind: Monitor\n", ""));
    assert_eq!((field.as_str(), line), ("kind", 1));
    assert!(message.starts_with("required"), "{message}");

    let (field, line, message) = one_error(&format!("{GOOD}status: {{}}\n"));
    assert_eq!((field.as_str(), line), ("status", 7));
    assert_eq!(
        message,
        "unknown field, expected one of apiVersion, kind, metadata, spec"
    );

    let (field, line, message) =
        one_error("apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: x}\n");
    assert_eq!(
        (field.as_str(), line, message.as_str()),
        ("spec", 1, "required")
    );

    let (field, _, message) = one_error("- just\n- a list\n");
    assert_eq!(field, "");
    assert!(message.contains("expected a mapping"), "{message}");
}

#[test]
fn unknown_fields_name_the_path_and_the_choices() {
    // The misspelt field is unknown, and the field it meant is missing.
    let errs = errors(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: web\nspec:\n  http:\n    urll: https://example.com/\n",
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        (errs[0].0.as_str(), errs[0].1, errs[0].2.as_str()),
        ("spec.http.url", Some(6), "required")
    );
    let (field, line, message) = &errs[1];
    assert_eq!((field.as_str(), *line), ("spec.http.urll", Some(7)));
    assert!(
        message.starts_with("unknown field, expected one of url, method, headers"),
        "{message}"
    );

    let (field, line, message) =
        one_error(&GOOD.replace("  id: web\n", "  id: web\n  name: web\n"));
    assert_eq!((field.as_str(), line), ("metadata.name", 5));
    assert_eq!(message, "unknown field, expected id or labels");
}

#[test]
fn every_error_of_a_document_is_reported_at_once() {
    let text = "apiVersion: vedette.dev/v1
kind: Monitor
metadata:
  id: web
spec:
  http:
    url: https://example.com/
    methd: GET
  colour: red
  interval: -5s
";
    let errs = errors(text);
    assert_eq!(
        places(&errs),
        vec![
            ("spec.http.methd", Some(8)),
            ("spec.colour", Some(9)),
            ("spec.interval", Some(10)),
        ]
    );
    assert!(
        errs[0].2.starts_with("unknown field, expected one of url"),
        "{errs:?}"
    );
    assert!(
        errs[1].2.starts_with("unknown field, expected one of name"),
        "{errs:?}"
    );
    assert!(
        errs[2].2.starts_with("invalid duration \"-5s\""),
        "{errs:?}"
    );
    let (_, errors) = parse(text);
    assert_eq!(
        errors[2].to_string(),
        "test.yaml:10: spec.interval: invalid duration \"-5s\": expected a number (expected e.g. 500ms, 30s, 1m30s, 2h)"
    );
}

#[test]
fn a_document_of_thousands_of_bad_fields_stays_bounded() {
    let mut text = String::from(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: web}\nspec:\n  http:\n    url: https://example.com/\n    headers:\n",
    );
    for i in 0..5_000 {
        text.push_str(&format!("      h{i}: [{i}]\n"));
    }
    text.push_str("  assertions:\n");
    for i in 0..5_000 {
        text.push_str(&format!("  - {{bad: {i}}}\n"));
    }
    for i in 0..5_000 {
        text.push_str(&format!("  unknown{i}: {i}\n"));
    }
    let started = std::time::Instant::now();
    let errs = errors(&text);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(errs.len(), vedette_model::decode::MAX_ERRORS, "{errs:?}");
    assert!(
        errs.iter()
            .any(|(_, _, m)| m.contains("at most 100 are reported")),
        "{errs:?}"
    );
}

#[test]
fn type_errors_name_the_path() {
    let tcp = "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: db\nspec:\n  tcp:\n    host: db.internal\n    port: PORT\n";
    let (field, line, message) = one_error(tcp);
    assert_eq!((field.as_str(), line), ("spec.tcp.port", 8));
    assert_eq!(
        message,
        "\"PORT\" is not a port: expected a port number 1–65535"
    );
    let (field, _, message) = one_error(&tcp.replace("PORT", "70000"));
    assert_eq!(field, "spec.tcp.port");
    assert_eq!(
        message,
        "70000 is not a port: expected a port number 1–65535"
    );
    let (field, _, message) = one_error(&tcp.replace("PORT", "5432\n  interval: 30"));
    assert_eq!(field, "spec.interval");
    assert_eq!(
        message,
        "30 has no unit: write a duration like 30s, 30m or 30ms"
    );

    let (field, line, message) = one_error(&tcp.replace("    port: PORT\n", ""));
    assert_eq!(
        (field.as_str(), line, message.as_str()),
        ("spec.tcp.port", 6, "required")
    );

    let (field, line, message) = one_error(&format!("{GOOD}  interval: 10\n"));
    assert_eq!((field.as_str(), line), ("spec.interval", 7));
    assert!(message.contains("write a duration like 10s"), "{message}");

    let (field, line, message) = one_error(&format!("{GOOD}  timeout: 10 seconds\n"));
    assert_eq!((field.as_str(), line), ("spec.timeout", 7));
    assert!(
        message.starts_with("invalid duration \"10 seconds\""),
        "{message}"
    );

    let (field, line, message) = one_error(&GOOD.replace(
        "{url: https://example.com/}",
        "\n    url: https://example.com/\n    method: FETCH",
    ));
    assert_eq!((field.as_str(), line), ("spec.http.method", 8));
    assert!(
        message.starts_with("unknown value \"FETCH\", expected one of GET, HEAD"),
        "{message}"
    );

    let (field, line, message) = one_error(&format!(
        "{GOOD}  assertions:\n    - status == 200\n    - [no]\n"
    ));
    assert_eq!((field.as_str(), line), ("spec.assertions[1]", 9));
    assert!(
        message.starts_with("expected a string, got a list"),
        "{message}"
    );
}

#[test]
fn semantic_and_metadata_errors_are_all_reported() {
    let text = "apiVersion: vedette.dev/v1
kind: Monitor
metadata:
  id: Web_Server
  labels:
    team: payments
    bad key: x
spec:
  http:
    url: example.com
  interval: 10s
  timeout: 20s
  failure_threshold: 0
";
    let errs = errors(text);
    assert_eq!(
        places(&errs),
        vec![
            ("metadata.id", Some(4)),
            ("metadata.labels.bad key", Some(7)),
            ("spec.http.url", Some(10)),
            ("spec.timeout", Some(12)),
            ("spec.failure_threshold", Some(13)),
        ]
    );
}

#[test]
fn ids_are_derived_from_names_or_required() {
    let named = GOOD
        .replace("metadata:\n  id: web\n", "")
        .replace("spec:\n", "spec:\n  name: Web Front (EU)\n");
    let (loaded, errors) = parse(&named);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(loaded[0].resource.id(), "web-front-eu");

    let (field, line, message) = one_error(&GOOD.replace("  id: web\n", "  labels: {a: b}\n"));
    assert_eq!(
        (field.as_str(), line, message.as_str()),
        ("metadata.id", 3, "required when spec.name is absent")
    );
}

#[test]
fn maintenance_window_errors() {
    let text = "apiVersion: vedette.dev/v1
kind: MaintenanceWindow
metadata: {id: weekly}
spec:
  cron: 0 2 * * SUN
  duration: 40d
  selector: tier in (a
";
    let errs = errors(text);
    assert_eq!(
        places(&errs),
        vec![("spec.duration", Some(6)), ("spec.selector", Some(7))]
    );
    assert!(
        errs[1].2.starts_with("column 11: expected"),
        "{}",
        errs[1].2
    );

    let (field, line, message) = one_error(
        "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata: {id: once}\nspec:\n  start: 2024-01-02T00:00:00Z\n  end: 2024-01-01T00:00:00Z\n  monitors: [web]\n",
    );
    assert_eq!((field.as_str(), line), ("spec.end", 6));
    assert!(message.starts_with("must be after start"), "{message}");

    let (field, line, message) = one_error(
        "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata: {id: once}\nspec:\n  start: tomorrow\n  end: 2024-01-01T00:00:00Z\n  monitors: [web]\n",
    );
    assert_eq!((field.as_str(), line), ("spec.start", 5));
    assert!(!message.is_empty());

    let (field, line, _) = one_error(
        "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata: {id: once}\nspec:\n  cron: '@daily'\n  duration: 1h\n  monitors:\n  - web\n  - Not An Id\n",
    );
    assert_eq!((field.as_str(), line), ("spec.monitors[1]", 9));
}

#[test]
fn json_documents() {
    let json = r#"{
  "apiVersion": "vedette.dev/v1",
  "kind": "Monitor",
  "metadata": {"id": "web"},
  "spec": {
    "http": {
      "url": "https://example.com/",
      "metod": "GET"
    }
  }
}
"#;
    let (loaded, errors) = parse_str(json, Path::new("web.json"));
    assert!(loaded.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].field.as_str(), errors[0].line),
        ("spec.http.metod", Some(8))
    );

    let (loaded, errors) = parse_str(&json.replace("metod", "method"), Path::new("web.json"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(loaded[0].resource.id(), "web");

    let (_, errors) = parse_str("{\n  \"kind\": \n}", Path::new("bad.json"));
    assert_eq!((errors[0].field.as_str(), errors[0].line), ("", Some(3)));
}

#[test]
fn directories_duplicates_and_ignored_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("team-a")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join("b.yml"), GOOD.replace("id: web", "id: two")).unwrap();
    std::fs::write(
        root.join("a.yaml"),
        format!("{GOOD}---\n{}", GOOD.replace("id: web", "id: one")),
    )
    .unwrap();
    std::fs::write(root.join("team-a/c.yaml"), format!("# dup\n{GOOD}")).unwrap();
    std::fs::write(root.join("notes.txt"), "not yaml: [").unwrap();
    std::fs::write(root.join(".hidden.yaml"), "not yaml: [").unwrap();
    std::fs::write(root.join(".git/x.yaml"), "not yaml: [").unwrap();
    let window = "apiVersion: vedette.dev/v1\nkind: MaintenanceWindow\nmetadata: {id: web}\nspec:\n  cron: '@daily'\n  duration: 1h\n  selector: ''\n";
    std::fs::write(root.join("team-a/window.json.yaml"), window).unwrap();

    let (loaded, errors) = load_path(root);
    let ids: Vec<_> = loaded
        .iter()
        .map(|l| (l.resource.kind(), l.resource.id()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("Monitor", "web"),
            ("Monitor", "one"),
            ("Monitor", "two"),
            ("MaintenanceWindow", "web")
        ],
        "a window may share an id with a monitor"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.field, "metadata.id");
    assert_eq!(e.line, Some(2));
    assert!(e.file.ends_with("team-a/c.yaml"));
    let first = root.join("a.yaml");
    assert_eq!(
        e.message,
        format!(
            "duplicate Monitor id \"web\": also defined at {}:1",
            first.display()
        )
    );

    // Within one text too.
    let (loaded, errors) = parse(&format!("{GOOD}---\n{GOOD}"));
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "test.yaml:8: metadata.id: duplicate Monitor id \"web\": also defined at test.yaml:1"
    );

    let (_, errors) = load_path(&root.join("missing.yaml"));
    assert!(errors[0].message.starts_with("cannot read"));
    assert_eq!(errors[0].line, None);
}

#[test]
fn limits() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "#".repeat(5 * 1024 * 1024)).unwrap();
    let (_, errors) = load_path(&big);
    assert!(errors[0].message.contains("larger than"), "{errors:?}");

    let many = "---\n{}\n".repeat(10_001);
    let (_, errors) = parse(&many);
    let last = errors.last().unwrap();
    assert!(last.message.starts_with("too many documents"), "{last}");
    assert_eq!(last.line, Some(20_001));
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.message.starts_with("too many"))
            .count(),
        1
    );

    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    let (_, errors) = parse(bomb);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "");

    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    let (_, errors) = parse(&deep);
    assert_eq!(errors.len(), 1);
}

#[test]
fn export_round_trips() {
    let (loaded, errors) = load_path(&examples());
    assert!(errors.is_empty());
    let mut resources: Vec<Resource> = loaded.into_iter().map(|l| l.resource).collect();
    resources.push(Resource::Monitor {
        id: "tricky".into(),
        labels: BTreeMap::from([
            ("version".to_owned(), "1.0".to_owned()),
            ("flag".to_owned(), "yes".to_owned()),
        ]),
        spec: {
            let mut http = vedette_model::spec::HttpCheck::get("https://example.com/?q=a:%20b#c");
            http.headers.insert("X-Note".into(), "- a: b #c".into());
            let mut spec = vedette_model::MonitorSpec::new(http);
            spec.name = Some("null".into());
            spec.description = Some("line one\nline two: \"quoted\"\n".into());
            spec.assertions = vec!["body contains \"- x\"".into(), "status == 200".into()];
            spec
        },
    });
    let text = to_documents(&resources);
    assert!(
        text.starts_with("---\napiVersion: vedette.dev/v1\n"),
        "{text}"
    );
    let (again, errors) = parse_str(&text, Path::new("export.yaml"));
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    let again: Vec<Resource> = again.into_iter().map(|l| l.resource).collect();
    assert_eq!(again, resources);
    assert_eq!(to_documents(&[]), "");
}

#[test]
fn urls_are_parsed_and_credentials_refused_without_echoing_them() {
    let with_url = |url: &str| GOOD.replace("https://example.com/", &format!("'{url}'"));
    for (url, wanted) in [
        (
            "http://alice:URLPASSWORD2@[zz/",
            "invalid URL: invalid IPv6 address",
        ),
        (
            "http://alice:URLPASSWORD2@example.com/",
            "credentials in the URL are not allowed; put them in spec.http.auth",
        ),
        (
            "https://URLPASSWORD2@example.com/",
            "credentials in the URL are not allowed; put them in spec.http.auth",
        ),
        ("http://exa mple.com/", "without spaces"),
        (
            "https://example.com:99999/",
            "invalid URL: invalid port number",
        ),
        ("http:///path", "the URL has no host"),
        (
            "mailto:a@example.com",
            "expected an absolute http:// or https:// URL",
        ),
    ] {
        let (field, line, message) = one_error(&with_url(url));
        assert_eq!((field.as_str(), line), ("spec.http.url", 6), "{url}");
        assert!(message.contains(wanted), "{url}: {message}");
        assert!(!message.contains("URLPASSWORD2"), "{message}");
    }
    for url in [
        "http://[::1]:8080/x?q=1#f",
        "https://example.com",
        "HTTPS://Example.COM/a",
    ] {
        let (_, errors) = parse(&with_url(url));
        assert!(errors.is_empty(), "{url}: {errors:?}");
    }
}

#[test]
fn hosts_of_tcp_tls_and_dns_checks_are_validated() {
    let doc = |check: &str| GOOD.replace("http: {url: https://example.com/}", check);
    for (check, field, wanted) in [
        (
            "tcp: {host: 'alice:pw@db', port: 5432}",
            "spec.tcp.host",
            "is not a host name or IP address",
        ),
        (
            "tcp: {host: 'a..b', port: 5432}",
            "spec.tcp.host",
            "is not a host name or IP address",
        ),
        (
            "tcp: {host: db, port: 0}",
            "spec.tcp.port",
            "between 1 and 65535",
        ),
        (
            "tls: {host: '[zz', port: 443}",
            "spec.tls.host",
            "is not a host name or IP address",
        ),
        (
            "tls: {host: example.com, server_name: 'x/y'}",
            "spec.tls.server_name",
            "is not a host name or IP address",
        ),
        (
            "dns: {name: 'exa mple.com'}",
            "spec.dns.name",
            "expected a domain name",
        ),
    ] {
        let (got, _, message) = one_error(&doc(check));
        assert_eq!(got, field, "{check}");
        assert!(message.contains(wanted), "{check}: {message}");
    }
    for check in [
        "tcp: {host: '::1', port: 5432}",
        "tcp: {host: 192.0.2.1, port: 22}",
        "tls: {host: example.com., server_name: www.example.com}",
        "dns: {name: _sip._tcp.example.com, record_type: SRV}",
    ] {
        let (_, errors) = parse(&doc(check));
        assert!(errors.is_empty(), "{check}: {errors:?}");
    }
}

#[test]
fn status_pages_parse_round_trip_and_report_field_paths_with_lines() {
    let text = "apiVersion: vedette.dev/v1
kind: StatusPage
metadata: {labels: {team: web}}
spec:
  title: Acme status
  slug: acme
  groups:
    - name: API
      monitors: [{id: api, name: Public API}]
      selector: tier=public
";
    let (loaded, errors) = parse_str(text, Path::new("pages.yaml"));
    assert!(errors.is_empty(), "{errors:?}");
    let Resource::StatusPage { id, spec, .. } = &loaded[0].resource else {
        panic!("{:?}", loaded[0].resource);
    };
    assert_eq!(id, "acme", "the id comes from the slug");
    assert_eq!(
        spec.groups[0].monitors[0].name.as_deref(),
        Some("Public API")
    );
    let written = to_documents(&[loaded[0].resource.clone()]);
    assert!(written.contains("kind: StatusPage"), "{written}");
    let (again, errors) = parse_str(&written, Path::new("again.yaml"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(again[0].resource, loaded[0].resource);

    let bad = "apiVersion: vedette.dev/v1
kind: StatusPage
metadata: {id: acme}
spec:
  title: Acme status
  slug: Acme!
  groups:
    - name: API
      monitors: [{id: api, colour: red}]
";
    let (_, errors) = parse_str(bad, Path::new("bad.yaml"));
    let found: Vec<(String, Option<usize>)> =
        errors.iter().map(|e| (e.field.clone(), e.line)).collect();
    assert_eq!(
        found,
        [
            ("spec.slug".to_owned(), Some(6)),
            ("spec.groups[0].monitors[0].colour".to_owned(), Some(9)),
        ],
        "{errors:?}"
    );
}
