//! The HTTP surface of the engine: health, readiness, the heartbeat push endpoint and the
//! REST API under `/api/v1`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tokio_util::sync::CancellationToken;

use crate::api::auth::API_PREFIX;
use crate::api::extract::PathId;
use crate::api::route::{self, is_under};
use crate::engine::Engine;

/// Longest message a pinger may attach (longer ones are cut).
pub const MAX_PING_MESSAGE: usize = 1024;

/// State shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// How far the engine has followed the store; writers wait on it before answering.
    pub feed: crate::follow::FeedPosition,
    /// Set once configuration is loaded and the scheduler runs.
    pub ready: Arc<AtomicBool>,
    /// Cancelled when the server shuts down (ends long-lived responses such as event streams).
    pub shutdown: CancellationToken,
    /// The integration catalog and template engine of the webhook routes.
    pub webhooks: Arc<crate::api::webhooks::WebhookServices>,
    /// Rate limits of the API and the registry of open event streams.
    pub guards: Arc<crate::limits::Guards>,
    /// Background tasks that died (readiness fails while any has).
    pub tasks: Arc<crate::tasks::TaskHealth>,
    /// The server's public base URL without a trailing `/` (`--public-url`): push URLs are
    /// absolute under it, relative (`/push/<token>`) without it.
    pub public_url: Option<Arc<str>>,
    /// The status pages this server follows and their rendered snapshots.
    pub status_pages: Arc<crate::status_page::StatusPages>,
    /// Passive health the gateways report per monitor (`POST /api/v1/ingest/...`).
    pub passive: Arc<crate::passive::PassiveHealth>,
}

/// The router: `/healthz`, `/readyz`, `GET|POST /push/{token}`, `/metrics`, the API under
/// `/api/v1`, its reference at `/api/docs` and the dashboard's pages; every request is timed
/// for `/metrics`.
pub fn router(state: AppState) -> Router {
    let outside_api = crate::routes::all()
        .iter()
        .filter(|r| !is_under(r.path, API_PREFIX));
    route::router(outside_api, "")
        .merge(crate::api::openapi::docs())
        .nest("/api/v1", crate::api::router(state.clone()))
        .with_state(state.clone())
        .merge(crate::routes::pages(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::status_page::handlers::custom_domain,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.engine.metrics().clone(),
            crate::metrics::track_http,
        ))
}

/// `GET /healthz`: `ok` while the process serves.
pub async fn health() -> &'static str {
    "ok"
}

/// 200 `ready`, or 503 while starting, when the database does not answer, or when a
/// background task died (`background task died: writer: panicked: ...`, one line each).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if !state.ready.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting".to_owned());
    }
    let dead = state.tasks.dead();
    if !dead.is_empty() {
        let lines: Vec<String> = dead
            .iter()
            .map(|d| format!("background task died: {d}"))
            .collect();
        return (StatusCode::SERVICE_UNAVAILABLE, lines.join("\n"));
    }
    match state.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable".to_owned(),
        ),
    }
}

/// `GET|POST /push/{token}`: `?status=down&msg=...` reports a failure; anything else (or nothing) is a success.
pub async fn push(
    State(state): State<AppState>,
    PathId(token): PathId,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let up = !matches!(
        query
            .get("status")
            .map(|s| s.to_ascii_lowercase())
            .as_deref(),
        Some("down" | "fail" | "failed" | "error")
    );
    let message = query
        .get("msg")
        .or_else(|| query.get("message"))
        .map(|m| m.chars().take(MAX_PING_MESSAGE).collect::<String>());
    if token.len() > 128 {
        return (StatusCode::NOT_FOUND, "unknown push token\n");
    }
    match state.engine.ping(&token, up, message).await {
        Ok(true) => (StatusCode::OK, "ok\n"),
        Ok(false) => (StatusCode::NOT_FOUND, "unknown push token\n"),
        Err(e) => {
            tracing::error!(error = %e, "recording a ping failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not record the ping\n",
            )
        }
    }
}
