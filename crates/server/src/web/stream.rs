//! `/ui/events`: the outbox as Server-Sent Events for a signed-in browser — the API's event
//! stream (`GET /api/v1/events/stream`: resuming after `Last-Event-ID` or `?after=`, capped per
//! token and in total, ending when the token is revoked or expires), authenticated by the
//! session instead of a bearer header, which `EventSource` cannot send.

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::WebState;
use super::session::Viewer;
use crate::api::auth::Principal;
use crate::api::extract::Params;

/// `GET /ui/events?after=`.
pub async fn events(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let principal = Principal {
        token_id: viewer.token_id,
        name: viewer.name,
        scope: viewer.scope,
        expires_at: viewer.expires_at,
    };
    crate::api::events::stream(State(state.app), Extension(principal), headers, params).await
}
