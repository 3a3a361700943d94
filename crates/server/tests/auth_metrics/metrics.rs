//! `/metrics` scraped from a real server checking a real local HTTP target.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use reqwest::Method;

use crate::common::Server;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format, checking that every sample belongs to a family
/// declared with `# TYPE` before it.
fn parse(text: &str) -> Vec<Sample> {
    let mut families = HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            families.insert(name.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                (name.to_owned(), parse_labels(body))
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| families.contains(*f)))
            .unwrap_or(&name);
        assert!(families.contains(family), "no # TYPE before {line:?}");
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

/// `a="x",b="y\"z"` into a map, unescaping values.
fn parse_labels(body: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label {name} value not quoted");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("dangling escape"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "label name {name:?}"
        );
        labels.insert(name, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn one(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(samples, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

/// Checks a histogram: cumulative buckets ending in +Inf equal to `_count`.
fn histogram(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let buckets = find(samples, &format!("{name}_bucket"), labels);
    assert!(!buckets.is_empty(), "{name} has no buckets");
    let values: Vec<f64> = buckets.iter().map(|b| b.value).collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "{name}: {values:?}"
    );
    let last = buckets.last().expect("bucket");
    assert_eq!(last.labels.get("le").map(String::as_str), Some("+Inf"));
    let count = one(samples, &format!("{name}_count"), labels);
    assert_eq!(last.value, count, "{name}");
    one(samples, &format!("{name}_sum"), labels);
    count
}

/// A local HTTP target answering 200.
async fn target() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_describe_monitors_scheduler_store_and_http() {
    let target = target().await;
    let config_dir = tempfile::tempdir().expect("dir");
    let config = config_dir.path().join("monitors.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: metrics-target\n  \
             labels: {{team: payments, kind: web}}\nspec:\n  http: {{url: \
             http://{target}/health}}\n  interval: 1s\n  timeout: 1s\n"
        ),
    )
    .expect("write config");
    let server = Server::start(|c| {
        c.config = Some(config.clone());
        c.metrics_labels = vec!["team".into(), "managed-by".into(), "kind".into()];
    })
    .await;

    // Traffic for the HTTP histogram: a templated route, a plain one, an unmatched one.
    let missing = server
        .request(
            Method::DELETE,
            "/api/v1/tokens/tok_notthere",
            Some(&server.admin),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    assert_eq!(server.get("/no/such/page", None).await.status(), 404);

    let monitor = [
        ("monitor", "metrics-target"),
        ("kind", "http"),
        ("team", "payments"),
        ("managed_by", "file"),
        ("label_kind", "web"),
    ];
    let mut samples = Vec::new();
    for _ in 0..100 {
        let response = server.get("/metrics", None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        samples = parse(&response.text().await.expect("text"));
        let ups = find(&samples, "vedette_checks_total", &[("outcome", "up")]);
        let writes = find(&samples, "vedette_store_write_seconds_count", &[]);
        if ups.iter().any(|s| s.value >= 2.0) && writes.iter().any(|s| s.value >= 1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut checks = monitor.to_vec();
    checks.push(("outcome", "up"));
    assert!(one(&samples, "vedette_checks_total", &checks) >= 2.0);
    checks.pop();
    checks.push(("outcome", "down"));
    assert_eq!(one(&samples, "vedette_checks_total", &checks), 0.0);
    assert_eq!(one(&samples, "vedette_monitor_up", &monitor), 1.0);
    let mut state = monitor.to_vec();
    state.push(("state", "up"));
    assert_eq!(one(&samples, "vedette_monitor_state", &state), 1.0);
    assert_eq!(
        find(&samples, "vedette_monitor_state", &monitor).len(),
        6,
        "one series per state"
    );
    let mut total = monitor.to_vec();
    total.push(("phase", "total"));
    let latency = one(&samples, "vedette_monitor_latency_seconds", &total);
    assert!(latency > 0.0 && latency < 2.0, "{latency}");
    let mut connect = monitor.to_vec();
    connect.push(("phase", "connect"));
    one(&samples, "vedette_monitor_latency_seconds", &connect);
    // Plain HTTP has no certificate.
    assert!(
        find(
            &samples,
            "vedette_certificate_expiry_timestamp_seconds",
            &[]
        )
        .is_empty()
    );

    assert!(histogram(&samples, "vedette_scheduler_lag_seconds", &[]) >= 1.0);
    assert!(histogram(&samples, "vedette_store_write_seconds", &[]) >= 1.0);
    one(&samples, "vedette_checks_in_flight", &[]);

    let http = "vedette_http_request_duration_seconds";
    let templated = [
        ("method", "DELETE"),
        ("route", "/api/v1/tokens/{id}"),
        ("status", "404"),
    ];
    assert_eq!(histogram(&samples, http, &templated), 1.0);
    assert!(
        histogram(
            &samples,
            http,
            &[("method", "GET"), ("route", "/healthz"), ("status", "200")]
        ) >= 1.0
    );
    assert!(
        histogram(
            &samples,
            http,
            &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(
        samples
            .iter()
            .filter_map(|s| s.labels.get("route"))
            .all(|r| !r.contains("tok_notthere") && !r.contains("/no/such")),
        "raw paths leaked into route labels"
    );
    server.stop().await;
}

/// A scrape is sent in chunks of a few hundred monitors: with more monitors than one chunk
/// holds, each metric is still described once and every monitor has its samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_of_many_monitors_describes_each_metric_once() {
    const MONITORS: usize = 700;
    let config_dir = tempfile::tempdir().expect("dir");
    let config = config_dir.path().join("monitors.yaml");
    // Paused: nothing is checked, every monitor is exported.
    let yaml: String = (0..MONITORS)
        .map(|n| {
            format!(
                "---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: m-{n:04}\n\
                 spec:\n  http: {{url: http://127.0.0.1:9/}}\n  paused: true\n"
            )
        })
        .collect();
    std::fs::write(&config, yaml).expect("write config");
    let server = Server::start(|c| c.config = Some(config.clone())).await;
    let response = server.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for metric in ["vedette_monitor_up", "vedette_monitor_state"] {
        assert_eq!(
            text.matches(&format!("# TYPE {metric} gauge\n")).count(),
            1,
            "{metric} is described once"
        );
    }
    let samples = parse(&text);
    let ups: BTreeSet<&str> = find(&samples, "vedette_monitor_up", &[])
        .iter()
        .map(|s| s.labels["monitor"].as_str())
        .collect();
    assert_eq!(ups.len(), MONITORS);
    assert_eq!(
        find(&samples, "vedette_monitor_state", &[("state", "paused")]).len(),
        MONITORS
    );
    one(&samples, "vedette_checks_in_flight", &[]);
    server.stop().await;
}
