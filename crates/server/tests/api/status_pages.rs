//! Status pages: the resource (CRUD, validation, clashes) and its public pages, feed and
//! badges, fetched without a token from the real server: only what a page lists is shown,
//! maintenance days are distinct, a custom domain gets its page at `/`, and a change is
//! served at once rather than after the snapshot's refresh.

use chrono::{Duration as Span, Utc};
use serde_json::{Value, json};

use crate::common::{Kind, Server, Target, http_monitor};

api_tests!(
    status_page_crud_and_validation,
    public_page_shows_only_what_it_lists,
    maintenance_days_and_changes_are_served_at_once
);

/// A public answer: status, content type, cache control and the body as text.
struct Public {
    status: u16,
    content_type: String,
    cache_control: String,
    body: String,
}

impl Public {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// `GET path` outside the API, without a token, as `host` when given.
async fn public(server: &Server, path: &str, host: Option<&str>) -> Public {
    let client = reqwest::Client::new();
    let mut request = client.get(format!("http://{}{path}", server.addr));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, content_type, cache_control) = (
        response.status().as_u16(),
        header("content-type"),
        header("cache-control"),
    );
    Public {
        status,
        content_type,
        cache_control,
        body: response.text().await.expect("body"),
    }
}

fn page(slug: &str, groups: Value) -> Value {
    json!({"spec": {"title": "Acme status", "slug": slug, "groups": groups}})
}

async fn run(server: &Server, id: &str) {
    let resp = server
        .post(&format!("/monitors/{id}/run"), &json!({}))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
}

async fn status_page_crud_and_validation(kind: Kind) {
    let server = Server::start(kind).await;
    let body = json!({
        "labels": {"team": "web"},
        "spec": {
            "title": "Acme status",
            "slug": "acme",
            "custom_domain": "status.acme.test",
            "groups": [{"name": "API", "monitors": [{"id": "api", "name": "Public API"}]}]
        }
    });
    let created = server.post("/status-pages", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["id"], "acme");
    assert_eq!(created.body["public_path"], "/status/acme");
    assert_eq!(created.body["managed_by"], "api");
    assert_eq!(created.body["spec"]["show"]["uptime"], true);
    assert_eq!(created.body["spec"]["show"]["messages"], false);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let listed = server.get("/status-pages?selector=team%3Dweb").await;
    assert_eq!(listed.body["items"][0]["id"], "acme", "{:#}", listed.body);

    let invalid = server
        .put(
            "/status-pages/broken",
            &json!({"spec": {
                "title": "",
                "slug": "Not.A.Slug",
                "logo_url": "javascript:alert(1)",
                "custom_domain": "http://status.acme.test",
                "groups": [{"name": "g", "monitors": [{"id": "Bad Id"}], "selector": "a in ("}],
                "colour": 1
            }}),
        )
        .await;
    invalid.problem(422);
    assert_eq!(
        invalid.error_fields(),
        [
            "spec.colour",
            "spec.custom_domain",
            "spec.groups[0].monitors[0].id",
            "spec.groups[0].selector",
            "spec.logo_url",
            "spec.slug",
            "spec.title",
        ]
    );
    let too_many = server
        .put(
            "/status-pages/big",
            &page(
                "big",
                json!(vec![json!({"name": "g", "selector": "a=b"}); 51]),
            ),
        )
        .await;
    too_many.problem(422);
    assert_eq!(too_many.error_fields(), ["spec.groups"]);

    // Another page may not take the slug or the custom domain.
    let same_slug = server
        .put(
            "/status-pages/other",
            &page("acme", json!([{"name": "g", "selector": "a=b"}])),
        )
        .await;
    let problem = same_slug.problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("spec.slug"),
        "{problem:#}"
    );
    let mut same_domain = page("other", json!([{"name": "g", "selector": "a=b"}]));
    same_domain["spec"]["custom_domain"] = json!("status.acme.test");
    let problem = server.put("/status-pages/other", &same_domain).await;
    assert!(
        problem.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("spec.custom_domain")
    );
    // The page itself may keep both.
    let again = server.put("/status-pages/acme", &body).await;
    assert_eq!(again.status, 200, "{:#}", again.body);

    assert_eq!(public(&server, "/status/acme", None).await.status, 200);
    assert_eq!(server.delete("/status-pages/acme").await.status, 204);
    let gone = public(&server, "/status/acme", None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(public(&server, "/status/acme.json", None).await.status, 404);
    server.finish().await;
}

async fn public_page_shows_only_what_it_lists(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let mut api = http_monitor(&target.url("/ok"), "1d");
    api["labels"] = json!({"tier": "public"});
    api["spec"]["name"] = json!("api-backend-internal-name");
    server.put_checked("/monitors/api", &api).await;
    let mut flaky = http_monitor(&target.url("/switch"), "1d");
    flaky["labels"] = json!({"tier": "public"});
    server.put_checked("/monitors/flaky", &flaky).await;
    let mut secret = http_monitor(&target.url("/switch?token=hunter2"), "1d");
    secret["labels"] = json!({"team": "hidden-team"});
    server
        .put_checked("/monitors/secret-internal", &secret)
        .await;
    target.set_up(false);
    run(&server, "flaky").await;
    run(&server, "secret-internal").await;
    target.set_up(true);
    run(&server, "flaky").await;

    let mut body = page(
        "acme",
        json!([{"name": "Public", "monitors": [{"id": "api", "name": "Public API"}], "selector": "tier=public"}]),
    );
    body["spec"]["custom_domain"] = json!("status.acme.test");
    body["spec"]["announcement"] = json!("<b>Planned</b> work on Sunday");
    let created = server.put("/status-pages/acme", &body).await;
    assert_eq!(created.status, 201, "{:#}", created.body);

    let leaks = [
        "secret-internal",
        "hunter2",
        "hidden-team",
        "127.0.0.1",
        "tier",
        "api-backend-internal-name",
        "status == 200",
    ];
    let no_leak = |what: &str, text: &str| {
        for leak in leaks {
            assert!(!text.contains(leak), "{what} shows {leak:?}:\n{text}");
        }
    };

    let html = public(&server, "/status/acme", None).await;
    assert_eq!(html.status, 200);
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    assert!(
        html.cache_control.contains("max-age="),
        "{}",
        html.cache_control
    );
    for needle in [
        "<main id=\"main\">",
        "<h1>Acme status</h1>",
        "Public API",
        "flaky",
        "http-equiv=\"refresh\"",
        "prefers-color-scheme:dark",
        "&#60;b&#62;Planned&#60;/b&#62; work on Sunday",
        "Past incidents",
    ] {
        assert!(
            html.body.contains(needle),
            "no {needle:?} in\n{}",
            html.body
        );
    }
    // One script (the refresh with its off switch), allowed by its hash and no other.
    assert_eq!(html.body.matches("<script").count(), 1, "{}", html.body);
    assert!(html.body.contains("<noscript><meta http-equiv=\"refresh\""));
    no_leak("the HTML", &html.body);

    // Readers without JavaScript get a link that stops the refresh, and one back.
    assert!(
        html.body.contains(
            "<noscript> · Refreshes every 60 s: <a id=\"refresh-off\" href=\"?refresh=off\">"
        ),
        "{}",
        html.body
    );
    let still = public(&server, "/status/acme?refresh=off", None).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.content_type, "text/html; charset=utf-8");
    assert!(
        still.body.contains("<h1>Acme status</h1>"),
        "{}",
        still.body
    );
    assert!(
        !still.body.contains("http-equiv=\"refresh\""),
        "{}",
        still.body
    );
    assert!(!still.body.contains("<script"), "{}", still.body);
    assert!(!still.body.contains("refresh-off"), "{}", still.body);
    assert!(
        still
            .body
            .contains("Automatic refresh is off: <a id=\"refresh-on\" href=\"?refresh=on\">"),
        "{}",
        still.body
    );
    no_leak("the still HTML", &still.body);
    let on = public(&server, "/status/acme?refresh=on", None).await;
    assert!(
        on.body.contains("<noscript><meta http-equiv=\"refresh\""),
        "{}",
        on.body
    );
    let bad = public(&server, "/status/acme?refresh=later", None).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("refresh: expected on or off"),
        "{}",
        bad.body
    );

    let json = public(&server, "/status/acme.json", None).await;
    assert_eq!(json.status, 200);
    assert_eq!(json.content_type, "application/json");
    no_leak("the JSON", &json.body);
    let doc = json.json();
    assert_eq!(doc["state"], "operational", "{doc:#}");
    let monitors = doc["groups"][0]["monitors"].as_array().expect("monitors");
    let names: Vec<&str> = monitors
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Public API", "flaky"]);
    for m in monitors {
        let days = m["days"].as_array().expect("days");
        assert_eq!(days.len(), 90);
        assert_eq!(days[0]["status"], "no_data");
        assert_eq!(
            days[89]["date"],
            Utc::now().date_naive().to_string(),
            "the last day is today"
        );
        assert!(m.get("latency_ms").is_none(), "latency is not shown: {m:#}");
    }
    assert_eq!(monitors[0]["days"][89]["status"], "up");
    assert_eq!(monitors[0]["uptime"]["24h"], 100.0);
    // One failure in three checks.
    assert_eq!(monitors[1]["days"][89]["status"], "outage");
    assert!(doc["current_incidents"].as_array().unwrap().is_empty());
    let history = doc["incident_history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{doc:#}");
    assert_eq!(history[0]["monitor"], "flaky");
    assert_eq!(history[0]["state"], "resolved");
    assert!(
        history[0].get("message").is_none(),
        "no messages unless opted in"
    );

    let feed = public(&server, "/status/acme/feed.atom", None).await;
    assert_eq!(feed.status, 200);
    assert_eq!(feed.content_type, "application/atom+xml; charset=utf-8");
    no_leak("the feed", &feed.body);
    let xml = roxmltree::Document::parse(&feed.body).expect("the feed is XML");
    let atom = "http://www.w3.org/2005/Atom";
    let root = xml.root_element();
    assert_eq!(root.tag_name().namespace(), Some(atom));
    assert_eq!(root.tag_name().name(), "feed");
    let child = |node: roxmltree::Node<'_, '_>, name: &str| {
        node.children()
            .find(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(atom))
            .and_then(|c| c.text().map(str::to_owned))
    };
    for required in ["id", "title", "updated"] {
        assert!(child(root, required).is_some(), "feed has no {required}");
    }
    let entries: Vec<_> = root
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 1);
    for required in ["id", "title", "updated", "summary"] {
        assert!(
            child(entries[0], required).is_some(),
            "entry has no {required}"
        );
    }
    assert_eq!(
        child(entries[0], "title").as_deref(),
        Some("Resolved: flaky was down")
    );
    for stamp in [child(root, "updated"), child(entries[0], "updated")] {
        chrono::DateTime::parse_from_rfc3339(&stamp.expect("updated")).expect("RFC 3339");
    }

    // Badges: listed monitors only; every miss is the same 404.
    let badge = public(&server, "/badge/acme/api/status.svg", None).await;
    assert_eq!(badge.status, 200);
    assert_eq!(badge.content_type, "image/svg+xml");
    assert!(badge.cache_control.contains("max-age="));
    assert!(badge.body.starts_with("<svg") && badge.body.contains("Public API"));
    roxmltree::Document::parse(&badge.body).expect("the badge is XML");
    let uptime = public(&server, "/badge/acme/api/uptime.svg?window=24h", None).await;
    assert_eq!(uptime.status, 200);
    assert!(uptime.body.contains("100.00%"), "{}", uptime.body);
    assert_eq!(
        public(&server, "/badge/acme/api/uptime.svg?window=1y", None)
            .await
            .status,
        400
    );
    let overall = public(&server, "/badge/acme/status.svg", None).await;
    assert!(overall.body.contains("operational"), "{}", overall.body);
    let unknown = public(&server, "/badge/acme/no-such-monitor/status.svg", None).await;
    assert_eq!(unknown.status, 404);
    for miss in [
        "/badge/acme/secret-internal/status.svg",
        "/badge/acme/secret-internal/uptime.svg",
        "/badge/acme/secret-internal/response.svg",
        "/badge/acme/api/response.svg",
        "/badge/nope/api/status.svg",
        "/badge/nope/status.svg",
        "/status/nope",
        "/status/nope.json",
        "/status/nope/feed.atom",
    ] {
        let answer = public(&server, miss, None).await;
        assert_eq!(
            (
                answer.status,
                answer.content_type.as_str(),
                answer.body.as_str()
            ),
            (
                unknown.status,
                unknown.content_type.as_str(),
                unknown.body.as_str()
            ),
            "{miss}"
        );
    }

    // The custom domain gets the page at `/`; other hosts do not.
    let home = public(&server, "/", Some("status.acme.test")).await;
    assert_eq!(home.status, 200);
    assert_eq!(home.content_type, "text/html; charset=utf-8");
    assert!(home.body.contains("<h1>Acme status</h1>"), "{}", home.body);
    let home_still = public(&server, "/?refresh=off", Some("status.acme.test")).await;
    assert!(
        home_still.body.contains("<h1>Acme status</h1>"),
        "{}",
        home_still.body
    );
    assert!(
        !home_still.body.contains("http-equiv=\"refresh\""),
        "{}",
        home_still.body
    );
    let home_json = public(&server, "/index.json", Some("Status.Acme.Test:8080")).await;
    assert_eq!(home_json.json()["slug"], "acme");
    let other = public(&server, "/", Some("elsewhere.test")).await;
    assert!(!other.body.contains("Acme status"), "{}", other.body);

    // Messages are shown once the page opts in, at once.
    let opted = server
        .patch(
            "/status-pages/acme",
            &json!({"spec": {"show": {"messages": true, "latency": true}}}),
        )
        .await;
    assert_eq!(opted.status, 200, "{:#}", opted.body);
    let doc = public(&server, "/status/acme.json", None).await.json();
    assert!(doc["incident_history"][0]["message"].is_string(), "{doc:#}");
    assert!(doc["groups"][0]["monitors"][0]["latency_ms"].is_number());
    let response = public(&server, "/badge/acme/api/response.svg", None).await;
    assert_eq!(response.status, 200);
    assert!(response.body.contains(" ms"), "{}", response.body);
    server.finish().await;
}

async fn maintenance_days_and_changes_are_served_at_once(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for id in ["api", "web"] {
        server
            .put_checked(
                &format!("/monitors/{id}"),
                &http_monitor(&target.url("/ok"), "1d"),
            )
            .await;
    }
    let created = server
        .put(
            "/status-pages/acme",
            &page(
                "acme",
                json!([{"name": "Core", "monitors": [{"id": "api"}, {"id": "web"}]}]),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let json = || async { public(&server, "/status/acme.json", None).await.json() };
    let before = json().await;
    assert_eq!(
        before["groups"][0]["monitors"][0]["days"][89]["status"],
        "up"
    );
    assert!(before["maintenance"].as_array().unwrap().is_empty());

    // A window in force now: the check it covers makes today a maintenance day.
    let now = Utc::now();
    let window = json!({"spec": {
        "name": "Database upgrade",
        "start": (now - Span::hours(1)).to_rfc3339(),
        "end": (now + Span::hours(1)).to_rfc3339(),
        "monitors": ["api"]
    }});
    assert_eq!(
        server.put("/maintenance/upgrade", &window).await.status,
        201
    );
    run(&server, "api").await;
    let during = json().await;
    let api = &during["groups"][0]["monitors"][0];
    assert_eq!(api["days"][89]["status"], "maintenance", "{api:#}");
    assert_eq!(api["state"], "maintenance");
    assert_eq!(
        during["groups"][0]["monitors"][1]["days"][89]["status"],
        "up"
    );
    assert_eq!(during["maintenance"][0]["name"], "Database upgrade");
    assert_eq!(during["maintenance"][0]["active"], true);
    assert_eq!(during["maintenance"][0]["monitors"], json!(["api"]));
    let html = public(&server, "/status/acme", None).await.body;
    assert!(html.contains("class=\"d-maintenance\""), "{html}");
    assert!(html.contains("Database upgrade"));

    // Changes are served at once, not after the snapshot's refresh.
    let renamed = server
        .patch(
            "/status-pages/acme",
            &json!({"spec": {"title": "Acme, renamed"}}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:#}", renamed.body);
    assert_eq!(json().await["title"], "Acme, renamed");
    assert_eq!(
        public(&server, "/badge/acme/web/status.svg", None)
            .await
            .status,
        200
    );
    let narrowed = server
        .put(
            "/status-pages/acme",
            &page(
                "acme",
                json!([{"name": "Core", "monitors": [{"id": "api"}]}]),
            ),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{:#}", narrowed.body);
    let after = json().await;
    assert_eq!(after["groups"][0]["monitors"].as_array().unwrap().len(), 1);
    assert!(!after.to_string().contains("\"web\""), "{after:#}");
    assert_eq!(
        public(&server, "/badge/acme/web/status.svg", None)
            .await
            .status,
        404
    );
    // A listed monitor deleted leaves the page at once too.
    assert_eq!(server.delete("/monitors/api").await.status, 204);
    let emptied = json().await;
    assert!(
        emptied["groups"][0]["monitors"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{emptied:#}"
    );
    assert_eq!(emptied["state"], "unknown");
    // A new slug moves the page.
    let moved = server
        .patch("/status-pages/acme", &json!({"spec": {"slug": "acme-2"}}))
        .await;
    assert_eq!(moved.status, 200, "{:#}", moved.body);
    assert_eq!(public(&server, "/status/acme", None).await.status, 404);
    assert_eq!(public(&server, "/status/acme-2", None).await.status, 200);
    server.finish().await;
}
