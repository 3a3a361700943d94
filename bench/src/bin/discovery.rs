//! Gateway discovery benchmark: a stand-in Kong Admin API (generated in-process on 127.0.0.1,
//! shaped like Kong 3.9's answers, paged 1,000 at a time) lists N routes (5,000 by default);
//! one reconcile run of a Kong discovery source against a real store (SQLite in a temporary
//! folder, or `--database-url`) creates their monitors, then a second run over the unchanged
//! listing must write nothing. Prints, per run: time, Admin API requests, store writes, and
//! the process's peak RSS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, ensure};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use clap::Parser;
use serde_json::{Value, json};
use vedette_model::discovery::{DISCOVERED_BY, DiscoverySourceSpec};
use vedette_server::discovery::file_root::NO_FILE_ROOT;
use vedette_server::discovery::run_and_record;
use vedette_store::{Store, StoreConfig};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Routes the stand-in gateway lists.
    #[arg(long, default_value_t = 5_000)]
    routes: usize,
    /// Routes per Kong service (each service has one upstream; every tenth upstream is
    /// unhealthy).
    #[arg(long, default_value_t = 50)]
    routes_per_service: usize,
    /// `postgres://...` to measure PostgreSQL (use an empty database); SQLite in a temporary
    /// folder when absent.
    #[arg(long)]
    database_url: Option<String>,
}

/// Entities per page when the client asks for none (Kong's default is 100; the source asks
/// for 1,000).
const DEFAULT_PAGE: usize = 100;

/// The generated Kong entities and a count of the requests served.
struct Kong {
    services: Vec<Value>,
    routes: Vec<Value>,
    upstreams: Vec<Value>,
    requests: AtomicU64,
}

impl Kong {
    fn new(routes: usize, per_service: usize) -> Self {
        let services_n = routes.div_ceil(per_service.max(1)).max(1);
        let services = (0..services_n)
            .map(|s| {
                json!({"id": format!("svc-{s}"), "name": format!("service-{s}"), "protocol": "http",
                       "host": format!("upstream-{s}"), "port": 80, "path": null,
                       "tags": [format!("team=t{}", s % 7)], "enabled": true})
            })
            .collect();
        let upstreams = (0..services_n)
            .map(
                |s| json!({"id": format!("up-{s}"), "name": format!("upstream-{s}"), "tags": null}),
            )
            .collect();
        let routes = (0..routes)
            .map(|r| {
                json!({"id": format!("route-{r}"), "name": format!("route-{r}"),
                       "protocols": ["http", "https"], "methods": ["GET"],
                       "hosts": [format!("shop{}.example.com", r % 10)],
                       "paths": [format!("/api/v1/items-{r}")],
                       "tags": null, "service": {"id": format!("svc-{}", r / per_service.max(1))}})
            })
            .collect();
        Self {
            services,
            routes,
            upstreams,
            requests: AtomicU64::new(0),
        }
    }
}

/// One page of `all` from `offset` (a decimal index) of `size` entities, with the next
/// offset while more remain.
fn page(all: &[Value], q: &BTreeMap<String, String>) -> Value {
    let size = q
        .get("size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_PAGE);
    let from: usize = q
        .get("offset")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
        .min(all.len());
    let to = (from + size).min(all.len());
    let next = (to < all.len()).then(|| to.to_string());
    json!({"data": &all[from..to], "offset": next, "next": next})
}

async fn list(
    State(kong): State<Arc<Kong>>,
    Path(collection): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> axum::response::Response {
    kong.requests.fetch_add(1, Ordering::Relaxed);
    let all = match collection.as_str() {
        "services" => &kong.services,
        "routes" => &kong.routes,
        "upstreams" => &kong.upstreams,
        _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    axum::Json(page(all, &q)).into_response()
}

async fn health(State(kong): State<Arc<Kong>>, Path(id): Path<String>) -> axum::Json<Value> {
    kong.requests.fetch_add(1, Ordering::Relaxed);
    let n: usize = id.trim_start_matches("up-").parse().unwrap_or(0);
    let state = if n % 10 == 9 { "UNHEALTHY" } else { "HEALTHY" };
    axum::Json(json!({"data": [
        {"target": "192.0.2.10:80", "health": state, "weight": 100},
        {"target": "192.0.2.11:80", "health": state, "weight": 100}
    ], "next": null}))
}

/// Starts the stand-in on 127.0.0.1 and returns its base URL.
async fn serve_kong(kong: Arc<Kong>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/upstreams/{id}/health", axum::routing::get(health))
        .route("/{collection}", axum::routing::get(list))
        .with_state(kong);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

/// The version of every monitor source `id` owns, by monitor id.
async fn owned_versions(store: &Store, id: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    Ok(store
        .list_monitors()
        .await?
        .into_iter()
        .filter(|m| m.labels.get(DISCOVERED_BY).map(String::as_str) == Some(id))
        .map(|m| (m.id, m.version))
        .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.routes > 0, "--routes must be at least 1");
    let kong = Arc::new(Kong::new(args.routes, args.routes_per_service));
    let url = serve_kong(kong.clone()).await?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().join("data"),
        database_url: args.database_url.clone(),
    })
    .await
    .context("opening the store")?;
    let source = format!("bench-{}", std::process::id());
    ensure!(
        owned_versions(&store, &source).await?.is_empty(),
        "the store already holds monitors of source {source}"
    );
    let spec: DiscoverySourceSpec = serde_json::from_value(json!({
        "type": "kong",
        "connection": {"url": url, "timeout": "5m", "max_bytes": 256 * 1024 * 1024},
        "interval": "1h",
        "max_routes": args.routes,
        "template": {"interval": "1h", "expected_status": 200,
                     "assertions": ["gateway.healthy == true"],
                     "labels": {"service": "{service}"}},
    }))
    .context("building the source")?;
    let problems = spec.validate("spec");
    ensure!(problems.is_empty(), "invalid source: {problems:?}");
    let backend = store.backend().as_str();
    println!(
        "discovery bench: {} Kong routes ({} services), store {backend}",
        args.routes,
        kong.services.len()
    );

    let started = Instant::now();
    let first = run_and_record(&store, &source, &spec, &NO_FILE_ROOT).await?;
    let first_time = started.elapsed();
    let first_requests = kong.requests.swap(0, Ordering::Relaxed);
    ensure!(first.error.is_none(), "first run failed: {:?}", first.error);
    let first_writes = first.created + first.updated + first.deleted;
    let versions = owned_versions(&store, &source).await?;
    ensure!(
        versions.len() == args.routes && first.created as usize == args.routes,
        "first run: expected {} monitors created, found {} ({} created)",
        args.routes,
        versions.len(),
        first.created
    );
    println!(
        "first run:  {:>8.3} s  {:>5} API requests  {:>6} store writes ({} created, {} updated, {} deleted)  {:>7.0} routes/s",
        first_time.as_secs_f64(),
        first_requests,
        first_writes,
        first.created,
        first.updated,
        first.deleted,
        args.routes as f64 / first_time.as_secs_f64()
    );

    let started = Instant::now();
    let second = run_and_record(&store, &source, &spec, &NO_FILE_ROOT).await?;
    let second_time = started.elapsed();
    let second_requests = kong.requests.swap(0, Ordering::Relaxed);
    ensure!(
        second.error.is_none(),
        "second run failed: {:?}",
        second.error
    );
    let second_writes = second.created + second.updated + second.deleted;
    let after = owned_versions(&store, &source).await?;
    ensure!(
        second_writes == 0 && after == versions,
        "the unchanged second run wrote: {second_writes} planned writes, monitors changed: {}",
        after != versions
    );
    println!(
        "second run: {:>8.3} s  {:>5} API requests  {:>6} store writes (asserted: no monitor version changed)",
        second_time.as_secs_f64(),
        second_requests,
        second_writes
    );
    let started = Instant::now();
    let listed = vedette_server::discovery::run(
        &store,
        &source,
        &spec,
        &NO_FILE_ROOT,
        &BTreeMap::new(),
        false,
    )
    .await
    .context("listing and planning")?;
    let plan_time = started.elapsed();
    ensure!(listed.plan.is_empty(), "the preview planned writes");
    let started = Instant::now();
    let monitors = store.list_monitors().await?.len();
    let read_time = started.elapsed();
    println!(
        "of which:   {:>8.3} s  list and plan without writing (a preview); {:.3} s reading the {monitors} monitors back",
        plan_time.as_secs_f64(),
        read_time.as_secs_f64()
    );
    println!(
        "unhealthy routes reported: {}",
        second.health.values().filter(|h| !h.healthy).count()
    );
    println!("peak RSS:   {} MiB", vedette_bench::peak_rss_mib());
    Ok(())
}
