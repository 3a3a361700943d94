//! Dashboard benchmark: 10,000 monitors, 30 days of results (one every 15 minutes) for the
//! monitors of the first page; signs in through `/login` like a browser and times the overview
//! (first page, last page, a label selector, a search) on the server's side of the socket.
//! Prints p50/p99 per page and the HTML size.

use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use vedette_store::{Store, StoreConfig};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Monitors created (paused, so they are not checked).
    #[arg(long, default_value_t = 10_000)]
    monitors: usize,
    /// Monitors given 30 days of history (the first page's).
    #[arg(long, default_value_t = 50)]
    with_history: usize,
    /// Requests per measured page.
    #[arg(long, default_value_t = 50)]
    requests: usize,
}

const TOKEN: &str = "vdt_bench-admin-token-0123456789abcdefghijkl";

/// 30 days of one result every 15 minutes for `id`.
async fn history(store: &Store, id: &str) -> anyhow::Result<()> {
    let start = Utc::now() - chrono::Duration::days(30);
    vedette_bench::write_history(store, id, start, chrono::Duration::minutes(15), 30 * 96).await
}

/// The value of cookie `name` set by `response`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .map(str::to_owned)
}

/// Signs in through the form as a browser does; returns the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let form = client.get(format!("{base}/login")).send().await?;
    let login = set_cookie(&form, "vedette_login").context("no login cookie")?;
    let html = form.text().await?;
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).context("no CSRF field")? + marker.len();
    let csrf = html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    let response = client
        .post(format!("{base}/login"))
        .header("cookie", format!("vedette_login={login}"))
        .form(&[("token", TOKEN), ("_csrf", csrf.as_str())])
        .send()
        .await?;
    anyhow::ensure!(response.status() == 303, "sign-in: {}", response.status());
    set_cookie(&response, "vedette_session").context("no session cookie")
}

/// Times `requests` GETs of `url` with the session; returns p50, p99 (ms) and the size.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    requests: usize,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut times = Vec::with_capacity(requests);
    let mut size = 0;
    for _ in 0..requests {
        let t = Instant::now();
        let response = client
            .get(url)
            .header("cookie", format!("vedette_session={cookie}"))
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "{url}: {}", response.status());
        size = response.bytes().await?.len();
        times.push(t.elapsed());
    }
    times.sort();
    Ok((
        vedette_bench::quantile_ms(&times, 0.5),
        vedette_bench::quantile_ms(&times, 0.99),
        size,
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().to_path_buf(),
        database_url: None,
    })
    .await
    .context("opening the store")?;
    for n in 0..args.with_history {
        history(&store, &format!("bench-{n:05}")).await?;
    }
    store.close().await;

    let server = vedette_bench::Serving::start(vedette_bench::api_config(dir.path(), TOKEN)).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let created = Instant::now();
    vedette_bench::put_paused_monitors(
        &client,
        &format!("{base}/api/v1"),
        TOKEN,
        args.monitors,
        |n| format!("bench-{n:05}"),
    )
    .await?;
    println!(
        "monitors                  {} ({} with 30 days of results every 15 min), created in {:.1} s",
        args.monitors,
        args.with_history,
        created.elapsed().as_secs_f64()
    );
    let cookie = sign_in(&client, &base).await?;
    let last = args
        .monitors
        .div_ceil(vedette_server::web::overview::PAGE_SIZE);
    for (label, path) in [
        ("overview, first page", "/".to_owned()),
        ("overview, last page", format!("/?page={last}")),
        ("overview, selector", "/?selector=team%3Db".to_owned()),
        ("overview, search", "/?q=bench-009".to_owned()),
    ] {
        let (p50, p99, size) =
            measure(&client, &format!("{base}{path}"), &cookie, args.requests).await?;
        println!(
            "{label:<25} p50 {p50:.1} ms  p99 {p99:.1} ms  HTML {:.1} KiB",
            size as f64 / 1024.0
        );
    }
    server.stop().await;
    Ok(())
}
