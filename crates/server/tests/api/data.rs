//! Checks through the API: run now, results, the scheduler picking up changes, series against
//! raw results (maintenance excluded from uptime), error budgets, label listings, incidents and
//! the status summary.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::common::{Kind, Server, Target, http_monitor};

api_tests!(
    run_now_and_results,
    changes_reach_the_scheduler,
    series_match_raw_results,
    labels_of_picked_monitors,
    incidents_and_status,
    results_of_several_monitors,
);

/// Waits until `id` has `n` stored results and returns them, newest first.
async fn results(server: &Server, id: &str, n: usize) -> Vec<Value> {
    let body = server
        .wait_for(
            &format!("/monitors/{id}/results?limit=1000"),
            Duration::from_secs(10),
            |b| b["items"].as_array().is_some_and(|i| i.len() >= n),
        )
        .await;
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn run(server: &Server, id: &str) -> Value {
    let resp = server
        .post(&format!("/monitors/{id}/run"), &json!({}))
        .await;
    assert_eq!(resp.status, 200, "{:#}", resp.body);
    resp.body
}

async fn run_now_and_results(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let created = server
        .put_checked(
            "/monitors/shop",
            &http_monitor(&target.url("/switch"), "1d"),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);

    let up = run(&server, "shop").await;
    assert_eq!(up["outcome"], "up", "{up:#}");
    assert_eq!(up["status_code"], 200);
    assert_eq!(up["assertions"][0]["passed"], true);
    target.set_up(false);
    let down = run(&server, "shop").await;
    assert_eq!(down["outcome"], "down", "{down:#}");
    assert_eq!(down["reason"], "assertion");
    let actual = down["assertions"][0]["actual"].as_str().expect("actual");
    assert!(actual.contains("503"), "{actual}");
    let body_actual = down["assertions"][1]["actual"].as_str().expect("actual");
    assert!(body_actual.contains("DOWN"), "{body_actual}");

    // The check a new monitor gets at once, then the two runs.
    let stored = results(&server, "shop", 3).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0]["outcome"], "down", "newest first");
    assert_eq!(stored[1]["outcome"], "up");
    assert_eq!(stored[2]["outcome"], "up");
    assert!(stored[0]["id"].is_i64());

    let first = server.get("/monitors/shop/results?limit=1").await;
    assert_eq!(first.body["items"][0]["outcome"], "down");
    let cursor = first.body["next_cursor"].as_str().expect("cursor");
    let second = server
        .get(&format!("/monitors/shop/results?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second.body["items"][0]["outcome"], "up");
    let cursor = second.body["next_cursor"].as_str().expect("cursor");
    let third = server
        .get(&format!("/monitors/shop/results?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(third.body["items"][0]["outcome"], "up");
    assert_eq!(third.body["next_cursor"], Value::Null);
    let none = server.get("/monitors/shop/results?from=now&to=now").await;
    assert_eq!(none.body["items"], json!([]));
    server
        .get("/monitors/shop/results?from=yesterday")
        .await
        .problem(400);

    let monitor = server.get("/monitors/shop").await;
    assert_eq!(monitor.body["status"]["state"], "down");
    assert_eq!(monitor.body["status"]["last_result"]["outcome"], "down");
    assert!(monitor.body["status"]["open_incident"].is_string());

    // Paused: the check runs and is returned but not recorded; the monitor stays paused.
    let paused = server.post("/monitors/shop/pause", &json!({})).await;
    assert_eq!(paused.status, 200, "{:#}", paused.body);
    assert_eq!(paused.body["spec"]["paused"], false);
    assert_eq!(paused.body["status"]["state"], "paused");
    assert_eq!(paused.body["version"], 1);
    target.set_up(true);
    assert_eq!(run(&server, "shop").await["outcome"], "up");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(results(&server, "shop", 3).await.len(), 3);
    assert_eq!(
        server.get("/monitors/shop").await.body["status"]["state"],
        "paused"
    );
    let resumed = server.post("/monitors/shop/resume", &json!({})).await;
    assert_eq!(resumed.body["spec"]["paused"], false);
    assert_eq!(resumed.body["version"], 1);
    assert_ne!(resumed.body["status"]["state"], "paused");
    server.finish().await;
}

async fn changes_reach_the_scheduler(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    let created = server
        .post("/monitors", &http_monitor(&target.url("/ok"), "1s"))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let got = results(&server, &id, 1).await;
    assert_eq!(got[0]["outcome"], "up");
    server
        .wait_for(&format!("/monitors/{id}"), Duration::from_secs(5), |m| {
            m["status"]["state"] == "up"
        })
        .await;

    // Pointing it elsewhere takes effect at once too.
    let patched = server
        .patch(
            &format!("/monitors/{id}"),
            &json!({"spec": {"http": {"url": target.url("/missing")}}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    server
        .wait_for(&format!("/monitors/{id}"), Duration::from_secs(5), |m| {
            m["status"]["state"] == "down"
        })
        .await;
    assert_eq!(server.delete(&format!("/monitors/{id}")).await.status, 204);
    server.finish().await;
}

/// Per-minute counts from raw results: (checks, failures, maintenance).
fn by_minute(results: &[Value]) -> BTreeMap<String, (u64, u64, u64)> {
    let mut minutes = BTreeMap::new();
    for r in results {
        let at: DateTime<Utc> = r["started_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("started_at");
        let minute = at.timestamp() / 60 * 60;
        let key = DateTime::from_timestamp(minute, 0)
            .expect("minute")
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let entry = minutes.entry(key).or_insert((0, 0, 0));
        let maintenance = r["in_maintenance"] == true;
        entry.0 += 1;
        if maintenance {
            entry.2 += 1;
        } else if r["outcome"] == "down" {
            entry.1 += 1;
        }
    }
    minutes
}

async fn series_match_raw_results(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for id in ["s1", "s2"] {
        let created = server
            .put_checked(
                &format!("/monitors/{id}"),
                &http_monitor(&target.url("/switch"), "1d"),
            )
            .await;
        assert_eq!(created.status, 201);
    }
    let pattern = [true, false, true, true, false, true];
    for up in pattern {
        target.set_up(up);
        run(&server, "s1").await;
    }
    target.set_up(true);
    run(&server, "s2").await;

    // A maintenance window now: a failure inside it counts as a check but not a failure.
    let window = server
        .put(
            "/maintenance/deploy",
            &json!({"spec": {"start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z", "monitors": ["s1"]}}),
        )
        .await;
    assert_eq!(window.status, 201, "{:#}", window.body);
    assert_eq!(window.body["active"], true);
    target.set_up(false);
    let inside = run(&server, "s1").await;
    assert_eq!(inside["in_maintenance"], true, "{inside:#}");
    assert_eq!(
        server.get("/monitors/s1").await.body["status"]["state"],
        "maintenance"
    );

    // Each monitor's check at creation, the pattern and the run in maintenance.
    let raw = results(&server, "s1", pattern.len() + 2).await;
    let expected = by_minute(&raw);
    let series = server.get("/series?ids=s1,s2&from=-10m&step=1m").await;
    assert_eq!(series.status, 200, "{:#}", series.body);
    assert_eq!(series.body["maintenance_excluded"], true);
    assert_eq!(series.body["step"], "1m");
    let s1 = &series.body["series"][0];
    assert_eq!(s1["monitor_id"], "s1");
    let buckets = s1["buckets"].as_array().expect("buckets");
    assert!((10..=11).contains(&buckets.len()), "{}", buckets.len());
    let mut total = 0;
    for bucket in buckets {
        let start = bucket["start"].as_str().expect("start");
        let (checks, failures, maintenance) = expected.get(start).copied().unwrap_or_default();
        assert_eq!(bucket["checks"], checks, "{start}: {bucket:#}");
        assert_eq!(bucket["failures"], failures, "{start}");
        total += checks;
        let counted = checks - maintenance;
        if counted == 0 {
            assert_eq!(bucket["uptime"], Value::Null, "{start}");
        } else {
            let want = (counted - failures) as f64 / counted as f64;
            let got = bucket["uptime"].as_f64().expect("uptime");
            assert!((got - want).abs() < 1e-9, "{start}: {got} != {want}");
        }
        if checks == 0 {
            assert_eq!(bucket["latency_p95"], Value::Null);
        }
    }
    assert_eq!(total, pattern.len() as u64 + 2);
    assert_eq!(series.body["series"][1]["monitor_id"], "s2");

    // The columns layout holds the same figures, one array per metric, starts implied.
    let range = format!(
        "ids=s1,s2&from={}&to={}&step=1m",
        series.body["from"].as_str().expect("from"),
        series.body["to"].as_str().expect("to")
    );
    let rows = server.get(&format!("/series?{range}")).await;
    let columns = server.get(&format!("/series/columns?{range}")).await;
    assert_eq!(columns.status, 200, "{:#}", columns.body);
    assert_eq!(columns.body["from"], rows.body["from"]);
    assert_eq!(columns.body["step"], "1m");
    assert_eq!(columns.body["maintenance_excluded"], true);
    for (row, column) in rows.body["series"]
        .as_array()
        .expect("series")
        .iter()
        .zip(columns.body["series"].as_array().expect("columns"))
    {
        assert_eq!(row["monitor_id"], column["monitor_id"]);
        let buckets = row["buckets"].as_array().expect("buckets");
        assert_eq!(columns.body["buckets"], buckets.len());
        let values = column["values"].as_object().expect("values");
        assert_eq!(values.len(), 9, "every metric by default: {values:?}");
        for (metric, array) in values {
            let array = array.as_array().expect("array");
            let want: Vec<&Value> = buckets.iter().map(|b| &b[metric.as_str()]).collect();
            assert_eq!(array.iter().collect::<Vec<_>>(), want, "{metric}");
        }
    }
    let some = server
        .get(&format!("/series/columns?{range}&metrics=checks,uptime"))
        .await;
    let keys: Vec<&String> = some.body["series"][0]["values"]
        .as_object()
        .expect("values")
        .keys()
        .collect();
    assert_eq!(keys, ["checks", "uptime"]);
    // Each metric asked alone (counts-only reads for uptime, checks and failures) is the
    // same array as among all of them.
    for metric in columns.body["series"][0]["values"]
        .as_object()
        .expect("values")
        .keys()
    {
        let alone = server
            .get(&format!("/series/columns?{range}&metrics={metric}"))
            .await;
        assert_eq!(alone.status, 200, "{metric}: {:#}", alone.body);
        for (one, all) in alone.body["series"]
            .as_array()
            .expect("series")
            .iter()
            .zip(columns.body["series"].as_array().expect("columns"))
        {
            assert_eq!(one["values"][metric], all["values"][metric], "{metric}");
        }
    }
    // Up to 50,000 points: 30 days of minutes for two monitors is refused, of hours not.
    let long = server
        .get("/series/columns?ids=s1,s2&from=-30d&step=1m")
        .await;
    assert_eq!(long.problem(422)["errors"][0]["field"], "step");
    let hours = server
        .get("/series/columns?ids=s1,s2&from=-30d&step=1h&metrics=uptime")
        .await;
    assert_eq!(hours.status, 200, "{:#}", hours.body);
    let bad_metric = server.get("/series/columns?metrics=nines").await;
    assert_eq!(bad_metric.problem(422)["errors"][0]["field"], "metrics");

    // Whole range in one bucket: uptime over the checks outside maintenance.
    let day = server
        .get("/series?ids=s1&from=-1h&step=1d&metrics=uptime,checks")
        .await;
    let buckets = day.body["series"][0]["buckets"]
        .as_array()
        .expect("buckets");
    let summed: u64 = buckets.iter().filter_map(|b| b["checks"].as_u64()).sum();
    assert_eq!(summed, pattern.len() as u64 + 2);
    let keys: Vec<&String> = buckets[0].as_object().expect("bucket").keys().collect();
    assert_eq!(keys, ["checks", "start", "uptime"]);
    let uptime = buckets
        .iter()
        .find(|b| b["checks"] != 0)
        .and_then(|b| b["uptime"].as_f64())
        .expect("uptime");
    // Up at creation, then 4 of the pattern's 6 (the maintenance run does not count).
    assert!((uptime - 5.0 / 7.0).abs() < 1e-9, "{uptime}");

    // Maintenance included: the run in maintenance was down, so 5 of 8 checks did not fail.
    let all = server
        .get("/series?ids=s1&from=-1h&step=1d&metrics=uptime_all,latency_p90")
        .await;
    let bucket = all.body["series"][0]["buckets"]
        .as_array()
        .and_then(|b| b.iter().find(|b| !b["uptime_all"].is_null()))
        .expect("a bucket with checks");
    let uptime_all = bucket["uptime_all"].as_f64().expect("uptime_all");
    assert!((uptime_all - 5.0 / 8.0).abs() < 1e-9, "{bucket:#}");
    assert!(bucket["latency_p90"].as_f64().is_some(), "{bucket:#}");

    // Error budget at 50 %: 3.5 of the 7 checks outside maintenance may fail, 2 did.
    let slo = server
        .get("/slo?ids=s1&target=50&window=1d&step=1h&burn_window=1h")
        .await;
    assert_eq!(slo.status, 200, "{:#}", slo.body);
    assert_eq!(slo.body["target"], 50.0);
    assert_eq!(slo.body["window"], "1d");
    let s1 = &slo.body["monitors"][0];
    assert_eq!(s1["monitor_id"], "s1");
    assert_eq!(s1["checks"], 8);
    assert_eq!(s1["failures"], 2);
    let close = |field: &str, want: f64| {
        let got = s1[field].as_f64().unwrap_or(f64::NAN);
        assert!(
            (got - want).abs() < 1e-9,
            "{field}: {got} != {want}: {s1:#}"
        );
    };
    close("uptime", 5.0 / 7.0);
    close("budget_remaining", 1.0 - 2.0 / 3.5);
    close("burn_rate", (2.0 / 7.0) / 0.5);
    let spent = s1["budget_spent"].as_array().expect("budget_spent");
    assert!((24..=25).contains(&spent.len()), "{}", spent.len());
    let last = spent.last().and_then(|p| p["spent"].as_f64());
    assert!(
        last.is_some_and(|v| (v - 2.0 / 3.5).abs() < 1e-9),
        "{spent:?}"
    );
    for (query, field) in [
        ("target=100", "target"),
        ("window=30s", "window"),
        ("window=1h&burn_window=2h", "burn_window"),
        ("step=1m", "step"),
    ] {
        let refused = server.get(&format!("/slo?{query}")).await;
        assert_eq!(refused.problem(422)["errors"][0]["field"], field, "{query}");
    }

    let too_many = server.get("/series?from=-30d&step=1m").await;
    assert_eq!(too_many.problem(422)["errors"][0]["field"], "step");
    let bad_step = server.get("/series?step=90s").await;
    assert_eq!(bad_step.problem(422)["errors"][0]["field"], "step");
    let bad_metric = server.get("/series?metrics=uptime,nines").await;
    assert_eq!(bad_metric.problem(422)["errors"][0]["field"], "metrics");
    server.get("/series?ids=nope").await.problem(422);
    server.finish().await;
}

async fn labels_of_picked_monitors(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for (id, team, env) in [
        ("a", "payments", "prod"),
        ("b", "payments", "stage"),
        ("c", "search", "prod"),
    ] {
        let mut body = http_monitor(&target.url("/"), "1d");
        body["labels"] = json!({"team": team, "env": env});
        if id == "c" {
            body["labels"]["tier"] = json!("one");
        }
        let created = server.put_checked(&format!("/monitors/{id}"), &body).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
    }
    let keys = server.get("/labels").await;
    assert_eq!(keys.status, 200, "{:#}", keys.body);
    assert_eq!(keys.body, json!({"keys": ["env", "team", "tier"]}));
    let payments = server.get("/labels?selector=team=payments").await;
    assert_eq!(payments.body, json!({"keys": ["env", "team"]}));
    let envs = server.get("/labels/env/values").await;
    assert_eq!(
        envs.body,
        json!({"key": "env", "values": ["prod", "stage"]})
    );
    let prod_teams = server.get("/labels/team/values?selector=env=prod").await;
    assert_eq!(prod_teams.body["values"], json!(["payments", "search"]));
    let left_out = server
        .get("/labels/tier/values?selector=team=payments")
        .await;
    assert_eq!(left_out.body["values"], json!([]));
    server.get("/labels/nothing/values").await.problem(404);
    let bad = server.get("/labels?selector=team%3Dpayments%2C").await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "selector");
    server.finish().await;
}

async fn incidents_and_status(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for id in ["i1", "i2"] {
        server
            .put_checked(
                &format!("/monitors/{id}"),
                &http_monitor(&target.url("/switch"), "1d"),
            )
            .await;
    }
    target.set_up(false);
    run(&server, "i1").await;
    run(&server, "i2").await;
    target.set_up(true);
    run(&server, "i1").await;

    let resolved = server
        .wait_for("/incidents?state=resolved", Duration::from_secs(10), |b| {
            b["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    assert_eq!(resolved["items"][0]["monitor_id"], "i1");
    assert!(resolved["items"][0].get("timeline").is_none());
    let open = server
        .wait_for(
            "/incidents?state=open&monitor=i2",
            Duration::from_secs(10),
            |b| b["items"].as_array().is_some_and(|i| i.len() == 1),
        )
        .await;
    let id = open["items"][0]["id"].as_str().expect("id").to_owned();
    let one = server.get(&format!("/incidents/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["state"], "open");
    let timeline = one.body["timeline"].as_array().expect("timeline");
    assert!(!timeline.is_empty(), "{:#}", one.body);

    let all = server.get("/incidents?limit=1").await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(1));
    let cursor = all.body["next_cursor"].as_str().expect("cursor");
    let rest = server
        .get(&format!("/incidents?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(rest.body["items"][0]["id"], all.body["items"][0]["id"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let future = server.get("/incidents?from=now").await;
    assert_eq!(future.body["items"], json!([]));

    // After i1 resolved, only i2 is in progress: `from` misses it (it opened earlier),
    // `overlaps_from` keeps it.
    let resolved_at: DateTime<Utc> = resolved["items"][0]["resolved_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("resolved_at");
    let after = (resolved_at + chrono::Duration::milliseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let opened_since = server.get(&format!("/incidents?from={after}")).await;
    assert_eq!(opened_since.body["items"], json!([]));
    let in_progress = server
        .get(&format!("/incidents?overlaps_from={after}&overlaps_to=now"))
        .await;
    assert_eq!(in_progress.status, 200, "{:#}", in_progress.body);
    let ids: Vec<&Value> = in_progress.body["items"]
        .as_array()
        .map(|i| i.iter().map(|i| &i["monitor_id"]).collect())
        .unwrap_or_default();
    assert_eq!(ids, [&json!("i2")], "{:#}", in_progress.body);
    let both = server
        .get("/incidents?overlaps_from=-1h&overlaps_to=now")
        .await;
    assert_eq!(both.body["items"].as_array().map(Vec::len), Some(2));
    let before = server
        .get("/incidents?overlaps_from=-2h&overlaps_to=-1h")
        .await;
    assert_eq!(before.body["items"], json!([]));
    let reversed = server
        .get("/incidents?overlaps_from=now&overlaps_to=-1h")
        .await;
    assert_eq!(reversed.problem(400)["errors"][0]["field"], "overlaps_from");

    let status = server.get("/status").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["monitors"]["total"], 2);
    assert_eq!(status.body["monitors"]["up"], 1);
    assert_eq!(status.body["monitors"]["down"], 1);
    assert_eq!(status.body["monitors"]["paused"], 0);
    assert_eq!(status.body["open_incidents"][0]["id"], id);
    server.finish().await;
}

/// `GET /results?ids=` reads several monitors' results as one table, newest first, in pages.
async fn results_of_several_monitors(kind: Kind) {
    let target = Target::start().await;
    let server = Server::start(kind).await;
    for id in ["r1", "r2", "r3"] {
        server
            .put_checked(
                &format!("/monitors/{id}"),
                &http_monitor(&target.url("/switch"), "1d"),
            )
            .await;
        run(&server, id).await;
    }
    for id in ["r1", "r2", "r3"] {
        results(&server, id, 2).await;
    }
    let both = server.get("/results?ids=r1,r2,nobody").await;
    assert_eq!(both.status, 200, "{:#}", both.body);
    let items = both.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "{:#}", both.body);
    assert!(items.iter().all(|r| r["monitor_id"] != "r3"));
    let starts: Vec<&str> = items
        .iter()
        .filter_map(|r| r["started_at"].as_str())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");

    // Pages of 3 over all six results, none repeated.
    let mut seen = Vec::new();
    let mut path = "/results?ids=r1,r2,r3&limit=3".to_owned();
    for _ in 0..5 {
        let page = server.get(&path).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        for r in page.body["items"].as_array().expect("items") {
            seen.push(r["id"].as_i64().expect("id"));
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/results?ids=r1,r2,r3&limit=3&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 6, "{seen:?}");

    let none = server.get("/results").await;
    assert_eq!(none.problem(400)["errors"][0]["field"], "ids");
    let bad = server.get("/results?ids=r1&cursor=xyz").await;
    assert_eq!(bad.problem(400)["errors"][0]["field"], "cursor");
    server.finish().await;
}
