//! The public routes of status pages and badges, and a page's custom domain. Every miss — no
//! such page, a monitor the page does not list, no such monitor — is the same 404.

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vedette_model::MonitorState;

use super::Rendered;
use super::badge::{self, Colour};
use super::snapshot::{PageState, PublicMonitor};
use crate::app::AppState;

/// `Cache-Control` of pages, their JSON and feeds: as fresh as the snapshot.
const PAGE_CACHE: &str = "public, max-age=10";
/// `Cache-Control` of badges.
const BADGE_CACHE: &str = "public, max-age=60";
/// Pages load nothing but their logo and run only their refresh script (by its hash); no other
/// origin for anything else.
static PAGE_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src {}; \
         img-src http: https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        super::html::SCRIPT_SOURCE.as_str()
    )
});
/// Badges are pictures only.
const BADGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

fn answer(
    body: impl IntoResponse,
    content_type: &'static str,
    cache: &'static str,
    csp: &'static str,
) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn rendered(state: &AppState, slug: &str) -> Option<Arc<Rendered>> {
    if vedette_model::status_page::check_slug(slug).is_err() {
        return None;
    }
    state.status_pages.page(&state.engine, slug).await
}

/// Whether the reader asked for the page without its refresh: `?refresh=off` (the link a
/// reader without JavaScript follows to stop it); `on`, absent or empty keep it. `None` for
/// any other value.
fn refresh_off(query: Option<&str>) -> Option<bool> {
    let asked = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "refresh")
        .last()
        .map(|(_, v)| v.into_owned());
    match asked.as_deref() {
        None | Some("" | "on") => Some(false),
        Some("off") => Some(true),
        Some(_) => None,
    }
}

/// The page as HTML: still when `query` asks for `refresh=off`, else refreshing itself; a
/// 400 naming the parameter for another `refresh` value.
fn html(page: &Rendered, query: Option<&str>) -> Response {
    let body = match refresh_off(query) {
        Some(true) => page.html_still(),
        Some(false) => page.html.clone(),
        None => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "refresh: expected on or off\n",
            )
                .into_response();
        }
    };
    page_answer(body, "text/html; charset=utf-8")
}

/// A rendering of a page, with the pages' cache and content-security policies.
fn page_answer(body: Bytes, content_type: &'static str) -> Response {
    answer(body, content_type, PAGE_CACHE, PAGE_CSP.as_str())
}

fn json(page: &Rendered) -> Response {
    page_answer(page.json.clone(), "application/json")
}

fn atom(page: &Rendered) -> Response {
    page_answer(page.atom.clone(), "application/atom+xml; charset=utf-8")
}

/// `GET /status/{slug}`: the page as HTML (`?refresh=off`: without refreshing itself);
/// `GET /status/{slug}.json`: as JSON.
pub async fn page(
    State(state): State<AppState>,
    slug: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(slug)) = slug else {
        return not_found();
    };
    match slug.strip_suffix(".json") {
        Some(slug) => rendered(&state, slug)
            .await
            .map_or_else(not_found, |p| json(&p)),
        None => rendered(&state, &slug)
            .await
            .map_or_else(not_found, |p| html(&p, query.as_deref())),
    }
}

/// `GET /status/{slug}/feed.atom`: the page's incidents as Atom.
pub async fn feed(
    State(state): State<AppState>,
    slug: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(slug)) = slug else {
        return not_found();
    };
    rendered(&state, &slug)
        .await
        .map_or_else(not_found, |p| atom(&p))
}

fn svg(label: &str, value: &str, colour: Colour) -> Response {
    answer(
        badge::svg(label, value, colour),
        "image/svg+xml",
        BADGE_CACHE,
        BADGE_CSP,
    )
}

/// `GET /badge/{slug}/status.svg`: the page's overall state.
pub async fn page_badge(
    State(state): State<AppState>,
    slug: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(slug)) = slug else {
        return not_found();
    };
    let Some(page) = rendered(&state, &slug).await else {
        return not_found();
    };
    let s = page.page.state;
    let colour = match s {
        PageState::Operational => Colour::Green,
        PageState::Degraded => Colour::Orange,
        PageState::PartialOutage | PageState::MajorOutage => Colour::Red,
        PageState::Maintenance => Colour::Blue,
        PageState::Unknown => Colour::Grey,
    };
    let value = match s {
        PageState::Operational => "operational",
        PageState::Degraded => "degraded",
        PageState::PartialOutage => "partial outage",
        PageState::MajorOutage => "major outage",
        PageState::Maintenance => "maintenance",
        PageState::Unknown => "unknown",
    };
    svg("status", value, colour)
}

/// The page a badge's path names (`{slug}/{monitor}`) and where in it the monitor is, when
/// the page lists that monitor.
async fn listed(
    state: &AppState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Option<(Arc<Rendered>, usize, usize)> {
    let Ok(Path((slug, monitor))) = path else {
        return None;
    };
    let page = rendered(state, &slug).await?;
    let (g, m) = page.page.groups.iter().enumerate().find_map(|(g, group)| {
        group
            .monitors
            .iter()
            .position(|m| m.id == monitor)
            .map(|m| (g, m))
    })?;
    Some((page, g, m))
}

fn monitor_of(page: &Rendered, g: usize, m: usize) -> &PublicMonitor {
    &page.page.groups[g].monitors[m]
}

/// `GET /badge/{slug}/{monitor}/status.svg`: a listed monitor's state.
pub async fn monitor_status(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Some((page, g, m)) = listed(&state, path).await else {
        return not_found();
    };
    let m = monitor_of(&page, g, m);
    let colour = match m.state {
        MonitorState::Up => Colour::Green,
        MonitorState::Degraded => Colour::Orange,
        MonitorState::Down => Colour::Red,
        MonitorState::Maintenance => Colour::Blue,
        MonitorState::Paused | MonitorState::Pending => Colour::Grey,
    };
    svg(&m.name, m.state.as_str(), colour)
}

/// `?window=` of the uptime badge.
#[derive(Debug, Deserialize)]
pub struct WindowQuery {
    window: Option<String>,
}

/// `GET /badge/{slug}/{monitor}/uptime.svg?window=24h|7d|30d|90d` (30d by default): a listed
/// monitor's uptime, when the page shows uptime.
pub async fn monitor_uptime(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    Query(query): Query<WindowQuery>,
) -> Response {
    let window = query.window.as_deref().unwrap_or("30d");
    let Some((page, g, m)) = listed(&state, path).await else {
        return not_found();
    };
    let m = monitor_of(&page, g, m);
    let Some(uptime) = m.uptime else {
        return not_found();
    };
    let Some(value) = uptime.window(window) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "window: expected 24h, 7d, 30d or 90d\n",
        )
            .into_response();
    };
    let text = value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.2}%"));
    svg(&format!("uptime {window}"), &text, Colour::of_uptime(value))
}

/// `GET /badge/{slug}/{monitor}/response.svg`: a listed monitor's mean response time over
/// 24 hours, when the page shows latency.
pub async fn monitor_response(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Some((page, g, m)) = listed(&state, path).await else {
        return not_found();
    };
    let m = monitor_of(&page, g, m);
    if !page.page.show.latency {
        return not_found();
    }
    match m.latency_ms {
        Some(ms) => svg("response", &format!("{ms:.0} ms"), Colour::Blue),
        None => svg("response", "no data", Colour::Grey),
    }
}

/// A request whose `Host` is a page's custom domain gets that page at `/` (and its JSON at
/// `/index.json`, its feed at `/feed.atom`); every other request goes on as it came.
pub async fn custom_domain(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !matches!(path, "/" | "/index.json" | "/feed.atom") {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host());
    let Some(slug) = host.and_then(|h| state.status_pages.slug_for_host(h)) else {
        return next.run(req).await;
    };
    let kind = path.to_owned();
    let query = req.uri().query().map(str::to_owned);
    match rendered(&state, &slug).await {
        Some(page) => match kind.as_str() {
            "/index.json" => json(&page),
            "/feed.atom" => atom(&page),
            _ => html(&page, query.as_deref()),
        },
        None => next.run(req).await,
    }
}
