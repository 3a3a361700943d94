//! The operator end to end against a real kube-apiserver (on etcd), a real `vedette serve` and
//! the operator as processes, authenticated with the least-privilege ClusterRole the chart uses.
//! One cluster serves every case, in order; each step says what it waits for when it times out.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Cluster, Operator, Target, Vedette, wait_for};
use vedette_client::Precondition;

/// Lease duration the operators run with here.
const LEASE: Duration = Duration::from_secs(4);

fn monitor_yaml(name: &str, url: &str, extra: &str) -> String {
    format!(
        "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  name: {name}\n  namespace: default\n\
         spec:\n  http:\n    url: {url}\n  interval: 1s\n  timeout: 1s\n{extra}"
    )
}

fn condition(monitor: &Value, type_: &str) -> Option<String> {
    monitor["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str().map(str::to_owned))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn vedette_monitor(vedette: &Vedette, id: &str) -> Option<vedette_client::Monitor> {
    block_on(vedette.client().monitors().find(id)).expect("vedette get")
}

#[test]
fn operator_against_a_real_api_server() {
    let cluster = Cluster::start();
    let vedette = Vedette::start();
    let target = Target::start();
    let args = [
        "--lease-seconds",
        "4",
        // Changes in Vedette must arrive through its event stream, not the resync.
        "--resync-seconds",
        "600",
        "--log-format",
        "text",
    ];
    let mut first = Operator::start(&cluster, &vedette, "operator-a", &args);
    wait_for(Duration::from_secs(30), "operator-a to lead", || {
        (first.metric("vedette_operator_leader")? == 1.0).then_some(())
    });
    let second = Operator::start(&cluster, &vedette, "operator-b", &args);
    wait_for(
        Duration::from_secs(30),
        "operator-b to serve metrics",
        || second.metric("vedette_operator_leader"),
    );

    // The operator's role is enough (every case below runs under it) and not more.
    for (verb, resource) in [
        ("create", "secrets"),
        ("update", "monitors.vedette.dev"),
        ("create", "ingresses.networking.k8s.io"),
        ("patch", "httproutes.gateway.networking.k8s.io"),
        ("update", "monitors.vedette.dev/status"),
        ("delete", "leases.coordination.k8s.io"),
        ("list", "pods"),
    ] {
        assert!(
            !cluster.operator_can(verb, resource),
            "the operator may {verb} {resource}: its role grants more than it needs"
        );
    }
    assert!(cluster.operator_can("watch", "monitors.vedette.dev"));

    // Apply → Ready, with the state Vedette reports: the first verdict arrives through the
    // event stream (`resource.status`), not by looking again on a timer.
    wait_for(Duration::from_secs(30), "operator-a's event stream", || {
        (first.metric("vedette_operator_event_stream_open")? == 1.0).then_some(())
    });
    let applied = Instant::now();
    let out = cluster.apply(&monitor_yaml("web", &target.url, ""));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ready = wait_for(Duration::from_secs(30), "Monitor web to be Ready", || {
        let m = cluster.get("monitor", "default", "web")?;
        (condition(&m, "Ready").as_deref() == Some("True")).then_some(m)
    });
    let took = applied.elapsed();
    println!("apply → Ready with state: {took:?}");
    assert!(took < Duration::from_secs(15), "Ready took {took:?}");
    assert_eq!(
        first.metric("vedette_operator_timed_lookups_total"),
        Some(0.0),
        "a pending monitor was looked at again on a timer though the event stream was open"
    );
    assert_eq!(ready["status"]["state"], "up", "{ready:#}");
    assert_eq!(ready["status"]["monitorId"], "default.web");
    assert_eq!(ready["status"]["observedGeneration"], 1);
    assert_eq!(condition(&ready, "Synced").as_deref(), Some("True"));
    assert_eq!(condition(&ready, "Degraded").as_deref(), Some("False"));
    assert!(ready["status"]["lastResult"]["at"].is_string(), "{ready:#}");
    assert_eq!(
        ready["metadata"]["finalizers"][0], "vedette.dev/cleanup",
        "{ready:#}"
    );
    let stored = vedette_monitor(&vedette, "default.web").expect("monitor in vedette");
    assert_eq!(stored.labels["managed-by"], "operator");
    assert_eq!(stored.labels["k8s.vedette.dev/namespace"], "default");
    let printed = cluster.ok(&["get", "monitors", "-n", "default"]);
    assert!(
        printed.contains("STATE") && printed.contains("UPTIME") && printed.contains("up"),
        "{printed}"
    );

    // Edit → updated in Vedette.
    let out = cluster.apply(&monitor_yaml(
        "web",
        &target.url,
        "  assertions:\n  - status == 200\n  interval: 2s\n",
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(Duration::from_secs(20), "the edit to reach Vedette", || {
        let m = vedette_monitor(&vedette, "default.web")?;
        (m.spec.assertions == ["status == 200"] && m.spec.interval.to_string() == "2s")
            .then_some(())
    });
    wait_for(Duration::from_secs(20), "observedGeneration 2", || {
        let m = cluster.get("monitor", "default", "web")?;
        (m["status"]["observedGeneration"] == 2).then_some(())
    });

    // Invalid specs are refused by the CRD's schema and CEL rules at `kubectl apply`.
    for (extra, expected) in [
        (
            "  interval: 2s\n  timeout: 5s\n",
            "timeout must not exceed interval",
        ),
        (
            "  tcp:\n    host: 127.0.0.1\n    port: 1\n",
            "exactly one of http, tcp, dns, tls, heartbeat",
        ),
        ("  retries: -1\n", "spec.retries"),
        ("  interval: soon\n", "spec.interval"),
    ] {
        let yaml = monitor_yaml("bad", &target.url, "")
            .replace("  interval: 1s\n  timeout: 1s\n", "")
            + extra;
        let out = cluster.apply(&yaml);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "accepted {extra:?}");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
    }
    let out = cluster
        .apply(&monitor_yaml("bad", &target.url, "").replace("url:", "method: FETCH\n    url:"));
    assert!(!out.status.success(), "accepted method FETCH");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("spec.http.method"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cluster.get("monitor", "default", "bad").is_none());

    // Another writer cannot delete what the operator manages: 409 naming the manager.
    let before = vedette_monitor(&vedette, "default.web").expect("monitor");
    let refused = block_on(
        vedette
            .client()
            .monitors()
            .delete("default.web", Precondition::Version(before.version)),
    )
    .expect_err("a delete by another writer");
    assert_eq!(refused.status(), Some(409), "{refused}");

    // Deleted in Vedette behind the operator's back (by a writer claiming to be it) →
    // recreated, with an Event.
    block_on(
        vedette
            .client()
            .acting_as("operator")
            .monitors()
            .delete("default.web", Precondition::Version(before.version)),
    )
    .expect("delete in vedette");
    wait_for(
        Duration::from_secs(20),
        "the monitor to be recreated",
        || vedette_monitor(&vedette, "default.web"),
    );
    let events = wait_for(Duration::from_secs(20), "a MonitorRecreated event", || {
        let events = cluster.events("default", "MonitorRecreated");
        (!events.is_empty()).then_some(events)
    });
    assert!(
        events[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("default.web")),
        "{events:#?}"
    );

    // Changed in Vedette behind the operator's back → restored, with an Event.
    let current = vedette_monitor(&vedette, "default.web").expect("monitor");
    let patch = serde_json::json!({"spec": {"retries": 3}});
    let drifted = Instant::now();
    block_on(vedette.client().acting_as("operator").monitors().patch(
        "default.web",
        &patch,
        Precondition::Version(current.version),
    ))
    .expect("patch in vedette");
    wait_for(Duration::from_secs(20), "the change to be undone", || {
        let m = vedette_monitor(&vedette, "default.web")?;
        (m.spec.retries == 0 && m.version > current.version + 1).then_some(())
    });
    let took = drifted.elapsed();
    println!("monitor drift restored in {took:?}");
    assert!(
        took < Duration::from_secs(5),
        "drift restored only after {took:?}"
    );
    wait_for(Duration::from_secs(20), "a DriftCorrected event", || {
        (!cluster.events("default", "DriftCorrected").is_empty()).then_some(())
    });

    // Another writer's monitor is not taken over.
    block_on(vedette.client().monitors().put(
        "default.taken",
        &Default::default(),
        &vedette_model::MonitorSpec::http(target.url.clone()),
        Precondition::Absent,
    ))
    .expect("create a foreign monitor");
    let out = cluster.apply(&monitor_yaml("taken", &target.url, ""));
    assert!(out.status.success());
    let refused = wait_for(
        Duration::from_secs(20),
        "Synced=False on a foreign monitor",
        || {
            let m = cluster.get("monitor", "default", "taken")?;
            (condition(&m, "Synced").as_deref() == Some("False")).then_some(m)
        },
    );
    assert!(
        refused["status"]["conditions"]
            .to_string()
            .contains("Conflict"),
        "{refused:#}"
    );
    cluster.ok(&[
        "delete",
        "monitor",
        "-n",
        "default",
        "taken",
        "--timeout=30s",
    ]);
    assert!(
        vedette_monitor(&vedette, "default.taken").is_some(),
        "deleting the resource removed a monitor the operator does not own"
    );

    // Delete the resource → the monitor is gone and the finalizer removed (the object is gone).
    cluster.ok(&["delete", "monitor", "-n", "default", "web", "--timeout=30s"]);
    assert!(cluster.get("monitor", "default", "web").is_none());
    assert!(vedette_monitor(&vedette, "default.web").is_none());

    // A MaintenanceWindow → a window in Vedette; a bad schedule is refused at apply; delete → gone.
    let window = r#"
apiVersion: vedette.dev/v1
kind: MaintenanceWindow
metadata:
  name: upgrade
  namespace: default
spec:
  start: "2030-01-01T02:00:00Z"
  end: "2030-01-01T04:00:00Z"
  selector: team=shop
"#;
    let out = cluster.apply(window);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(Duration::from_secs(20), "the window in Vedette", || {
        block_on(vedette.client().maintenance().find("default.upgrade")).expect("vedette get")
    });
    let synced = wait_for(Duration::from_secs(20), "the window Synced", || {
        let w = cluster.get("maintenancewindow", "default", "upgrade")?;
        (condition(&w, "Synced").as_deref() == Some("True")).then_some(w)
    });
    assert_eq!(synced["status"]["vedetteId"], "default.upgrade");

    // Changed in Vedette behind the operator's back → restored at once (the event stream), with
    // an Event.
    let stored = block_on(vedette.client().maintenance().get("default.upgrade")).expect("window");
    let drifted = Instant::now();
    block_on(vedette.client().acting_as("operator").maintenance().patch(
        "default.upgrade",
        &serde_json::json!({"spec": {"selector": "team=other"}}),
        Precondition::Version(stored.version),
    ))
    .expect("patch the window in vedette");
    wait_for(Duration::from_secs(10), "the window restored", || {
        let w = block_on(vedette.client().maintenance().get("default.upgrade")).ok()?;
        (w.version > stored.version + 1 && w.spec == stored.spec).then_some(())
    });
    println!(
        "maintenance window drift restored in {:?}",
        drifted.elapsed()
    );
    for (bad, expected) in [
        (
            window.replace("  end: \"2030-01-01T04:00:00Z\"\n", ""),
            "set a one-off window",
        ),
        (
            window.replace("04:00:00Z", "01:00:00Z"),
            "end must be after start",
        ),
    ] {
        let out = cluster.apply(&bad.replace("upgrade", "bad-window"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(expected),
            "{stderr}"
        );
    }
    cluster.ok(&[
        "delete",
        "maintenancewindow",
        "-n",
        "default",
        "upgrade",
        "--timeout=30s",
    ]);
    assert!(
        block_on(vedette.client().maintenance().find("default.upgrade"))
            .expect("vedette get")
            .is_none()
    );

    // A WebhookEndpoint takes its signing secret from a Secret (never inline) and rotates it
    // when the Secret changes.
    let signing = |key: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hook-signing\n  namespace: default\n\
             stringData:\n  secret: whsec_{key}\n"
        )
    };
    let out = cluster.apply(&signing("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = format!(
        r#"
apiVersion: vedette.dev/v1
kind: WebhookEndpoint
metadata:
  name: hook
  namespace: default
spec:
  url: {}
  event_types: ["monitor.*"]
  secretRef:
    name: hook-signing
"#,
        target.url
    );
    let out = cluster.apply(&hook);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_digest = wait_for(
        Duration::from_secs(20),
        "the WebhookEndpoint Synced",
        || {
            let w = cluster.get("webhookendpoint", "default", "hook")?;
            (condition(&w, "Synced").as_deref() == Some("True"))
                .then(|| w["status"]["secretDigest"].as_str().map(str::to_owned))
                .flatten()
        },
    );
    let written = block_on(
        vedette
            .client()
            .resources::<vedette_client::Webhook>()
            .get("default.hook"),
    )
    .expect("webhook in vedette");
    assert_eq!(written.labels["managed-by"], "operator");
    assert!(
        !serde_json::to_string(&written.spec)
            .expect("a webhook spec serializes")
            .contains("whsec_"),
        "the API showed the secret"
    );
    let inline = hook.replace(
        "  secretRef:\n    name: hook-signing\n",
        "  secrets:\n  - secret: whsec_abc\n",
    );
    let out = cluster.apply(&inline.replace("name: hook\n", "name: inline\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unknown field \"spec.secrets\""),
        "{stderr}"
    );
    let out = cluster.apply(&signing("b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk="));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(Duration::from_secs(20), "the secret to rotate", || {
        let w = cluster.get("webhookendpoint", "default", "hook")?;
        let digest = w["status"]["secretDigest"].as_str()?;
        let now = block_on(
            vedette
                .client()
                .resources::<vedette_client::Webhook>()
                .get("default.hook"),
        )
        .ok()?;
        (digest != first_digest && now.version > written.version).then_some(())
    });
    cluster.ok(&[
        "delete",
        "webhookendpoint",
        "-n",
        "default",
        "hook",
        "--timeout=30s",
    ]);
    assert!(
        block_on(
            vedette
                .client()
                .resources::<vedette_client::Webhook>()
                .find("default.hook")
        )
        .expect("vedette get")
        .is_none()
    );

    // A StatusPage and a DiscoverySource → the same in Vedette; delete → gone.
    let page = r#"
apiVersion: vedette.dev/v1
kind: StatusPage
metadata:
  name: shop
  namespace: default
spec:
  title: Shop status
  slug: shop
  groups:
  - name: Checkout
    selector: team=shop
"#;
    let source = r#"
apiVersion: vedette.dev/v1
kind: DiscoverySource
metadata:
  name: edge
  namespace: default
spec:
  type: envoy
  dry_run: true
  connection:
    url: http://127.0.0.1:9
"#;
    for yaml in [page, source] {
        let out = cluster.apply(yaml);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let client = vedette.client();
    wait_for(
        Duration::from_secs(20),
        "the status page in Vedette",
        || block_on(client.status_pages().find("default.shop")).expect("vedette get"),
    );
    wait_for(
        Duration::from_secs(20),
        "the discovery source in Vedette",
        || block_on(client.discovery_sources().find("default.edge")).expect("vedette get"),
    );
    for (kind, name) in [("statuspage", "shop"), ("discoverysource", "edge")] {
        wait_for(Duration::from_secs(20), "Synced", || {
            let r = cluster.get(kind, "default", name)?;
            (condition(&r, "Synced").as_deref() == Some("True")).then_some(())
        });
    }
    let out = cluster.apply(&source.replace("type: envoy", "type: haproxy"));
    assert!(!out.status.success(), "accepted an unknown gateway type");
    cluster.ok(&[
        "delete",
        "statuspage",
        "-n",
        "default",
        "shop",
        "--timeout=30s",
    ]);
    cluster.ok(&[
        "delete",
        "discoverysource",
        "-n",
        "default",
        "edge",
        "--timeout=30s",
    ]);
    assert!(
        block_on(client.status_pages().find("default.shop"))
            .expect("vedette get")
            .is_none()
    );
    assert!(
        block_on(client.discovery_sources().find("default.edge"))
            .expect("vedette get")
            .is_none()
    );

    // A Deployment (deployments.vedette.dev, not apps/v1) → a deployment record in Vedette;
    // applied again with its outcome → finished. The times the server fills in are not drift:
    // the record is not written again while idle (checked below).
    let deployment = r#"
apiVersion: vedette.dev/v1
kind: Deployment
metadata:
  name: checkout-1-4-2
  namespace: default
spec:
  service: checkout
  version: 1.4.2
  environment: prod
  selector: team=shop
  status: started
"#;
    let out = cluster.apply(deployment);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = wait_for(Duration::from_secs(20), "the deployment in Vedette", || {
        block_on(client.deployments().find("default.checkout-1-4-2")).expect("vedette get")
    });
    assert!(recorded.spec.started_at.is_some(), "{recorded:?}");
    let out = cluster.apply(&deployment.replace("status: started", "status: succeeded"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let finished = wait_for(Duration::from_secs(20), "the deployment finished", || {
        block_on(client.deployments().find("default.checkout-1-4-2"))
            .expect("vedette get")
            .filter(|d| d.spec.finished_at.is_some())
    });
    assert_eq!(finished.spec.started_at, recorded.spec.started_at);
    wait_for(Duration::from_secs(20), "Synced", || {
        let r = cluster.get("deployments.vedette.dev", "default", "checkout-1-4-2")?;
        (condition(&r, "Synced").as_deref() == Some("True")).then_some(())
    });
    let out = cluster.apply(&deployment.replace("status: started", "status: sideways"));
    assert!(
        !out.status.success(),
        "accepted an unknown deployment status"
    );

    // Idle: nothing changes for 30 s; count what the two operators ask of each API.
    let kube_before = cluster.operator_requests().len();
    let vedette_before = first
        .metric("vedette_operator_vedette_requests_total")
        .unwrap_or(0.0);
    std::thread::sleep(Duration::from_secs(30));
    let idle: Vec<String> = cluster.operator_requests()[kube_before..].to_vec();
    let vedette_idle = first
        .metric("vedette_operator_vedette_requests_total")
        .unwrap_or(0.0)
        - vedette_before;
    println!(
        "30 s idle: {} Kubernetes requests {idle:?}; {vedette_idle} Vedette requests",
        idle.len()
    );
    assert!(
        idle.iter()
            .all(|r| r.ends_with(" leases") || r.ends_with(" events") || r.starts_with("watch ")),
        "idle requests other than the lease and watches: {idle:?}"
    );
    let idle_record = block_on(client.deployments().find("default.checkout-1-4-2"))
        .expect("vedette get")
        .expect("the deployment");
    assert_eq!(
        idle_record.version, finished.version,
        "the deployment was written again while nothing changed"
    );
    cluster.ok(&[
        "delete",
        "deployments.vedette.dev",
        "-n",
        "default",
        "checkout-1-4-2",
        "--timeout=30s",
    ]);
    assert!(
        block_on(client.deployments().find("default.checkout-1-4-2"))
            .expect("vedette get")
            .is_none()
    );

    // Discovery: an annotated Ingress and HTTPRoute get an owned Monitor; without the
    // annotation it goes.
    let ingress = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations:
    vedette.dev/monitor: "true"
    vedette.dev/path: /health
    vedette.dev/interval: 5s
spec:
  rules:
  - host: shop.example.invalid
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: shop
            port:
              number: 80
"#;
    let out = cluster.apply(ingress);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let owned = wait_for(Duration::from_secs(20), "the Ingress's Monitor", || {
        cluster.get("monitor", "default", "ingress-shop")
    });
    let ingress_uid =
        cluster.get("ingress", "default", "shop").expect("ingress")["metadata"]["uid"].clone();
    assert_eq!(owned["metadata"]["ownerReferences"][0]["kind"], "Ingress");
    assert_eq!(owned["metadata"]["ownerReferences"][0]["uid"], ingress_uid);
    assert_eq!(
        owned["spec"]["http"]["url"],
        "http://shop.example.invalid/health"
    );
    wait_for(
        Duration::from_secs(20),
        "the Ingress's monitor in Vedette",
        || {
            let m = vedette_monitor(&vedette, "default.ingress-shop")?;
            (m.spec.interval.to_string() == "5s").then_some(())
        },
    );
    let route = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: api
  namespace: default
  annotations:
    vedette.dev/monitor: "true"
spec:
  hostnames:
  - api.example.invalid
"#;
    assert!(cluster.apply(route).status.success());
    let owned = wait_for(Duration::from_secs(20), "the HTTPRoute's Monitor", || {
        cluster.get("monitor", "default", "httproute-api")
    });
    assert_eq!(owned["metadata"]["ownerReferences"][0]["kind"], "HTTPRoute");
    assert_eq!(owned["spec"]["http"]["url"], "https://api.example.invalid/");
    cluster.ok(&[
        "annotate",
        "ingress",
        "-n",
        "default",
        "shop",
        "vedette.dev/monitor-",
    ]);
    wait_for(
        Duration::from_secs(30),
        "the Ingress's Monitor and monitor to go",
        || {
            (cluster.get("monitor", "default", "ingress-shop").is_none()
                && vedette_monitor(&vedette, "default.ingress-shop").is_none())
            .then_some(())
        },
    );

    // Leader election: kill the leader without letting it release the lease; the other takes
    // over within one lease duration (plus one retry period to notice) and reconciles.
    first.process.child.kill().expect("kill operator-a");
    let killed = Instant::now();
    wait_for(LEASE * 3, "operator-b to take over", || {
        (second.metric("vedette_operator_leader")? == 1.0).then_some(())
    });
    let took = killed.elapsed();
    println!("leader killed → other operator leads: {took:?}");
    assert!(
        took <= LEASE + LEASE / 3 + Duration::from_secs(1),
        "takeover took {took:?}"
    );
    let out = cluster.apply(&monitor_yaml("after-failover", &target.url, ""));
    assert!(out.status.success());
    wait_for(Duration::from_secs(30), "Ready after failover", || {
        let m = cluster.get("monitor", "default", "after-failover")?;
        (condition(&m, "Ready").as_deref() == Some("True")).then_some(())
    });

    // SIGTERM: graceful stop, lease released.
    let mut second = second;
    let status = second.process.terminate(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "operator-b did not stop cleanly: {status:?}\n{}",
        support::tail(&second.process.output())
    );
    let lease = cluster
        .get("lease", "vedette", "vedette-operator")
        .expect("lease");
    assert!(lease["spec"]["holderIdentity"].is_null(), "{lease:#}");
    let _ = first.process.running();
}
