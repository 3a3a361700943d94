//! The REST API under `/api/v1` (see `docs/api.md`): monitors, results, series, incidents,
//! maintenance windows, events (list and Server-Sent Events), a status summary, webhook
//! endpoints with their delivery log, the event-type and integration catalogs. Every
//! error is RFC 9457 problem+json; bodies are limited to 1 MiB and requests to 30 s.
//! Authentication is a layer of its own, added around this router.

pub mod auth;
pub mod body;
pub mod crud;
pub mod deployments;
pub mod discovery;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod incidents;
pub mod ingest;
pub mod integrations;
pub mod labels;
pub mod maintenance;
pub mod monitors;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod resource;
pub mod results;
pub mod route;
pub mod series;
pub mod slo;
pub mod status;
pub mod status_pages;
pub mod time;
pub mod tokens;
pub mod verification_report;
pub mod verifications;
pub mod view;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use self::extract::MAX_BODY_BYTES;
use self::problem::Problem;

/// State of the API handlers: the application's (engine, shutdown signal).
pub type ApiState = crate::app::AppState;

/// Longest a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The API routes, to nest under `/api/v1` (into a router of any state).
pub fn router<S: Clone + Send + Sync + 'static>(state: ApiState) -> Router<S> {
    let api = crate::routes::all()
        .iter()
        .filter(|r| route::is_under(r.path, auth::API_PREFIX));
    route::router(api, auth::API_PREFIX)
        .fallback(|| async { Problem::not_found("no such API resource") })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(timeout))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .with_state(state)
}

/// Answers 408 problem+json when the handler takes longer than [`REQUEST_TIMEOUT`] to
/// produce a response (a streaming body, such as the event stream, is not limited).
async fn timeout(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Problem::timeout(REQUEST_TIMEOUT).into_response(),
    }
}
