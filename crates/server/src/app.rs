//! The HTTP surface of the engine: health, readiness and the heartbeat push endpoint.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::engine::Engine;

/// Longest message a pinger may attach (longer ones are cut).
pub const MAX_PING_MESSAGE: usize = 1024;

/// State shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Set once configuration is loaded and the scheduler runs.
    pub ready: Arc<AtomicBool>,
}

/// The router: `/healthz`, `/readyz`, `GET|POST /push/{token}`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/push/{token}", get(push).post(push))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if !state.ready.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting");
    }
    match state.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// `?status=down&msg=...` reports a failure; anything else (or nothing) is a success.
async fn push(
    State(state): State<AppState>,
    Path(token): Path<String>,
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
