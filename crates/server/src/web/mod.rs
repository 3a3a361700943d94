//! The web dashboard: server-rendered pages (askama templates compiled into the binary) for
//! people signed in with an API token, with small vendored scripts (htmx for partial updates,
//! uPlot for charts) and a Server-Sent Events stream for live state.
//!
//! - `GET|POST /login`, `POST /logout`: sign-in with a token and sign-out ([`login`]);
//! - `/` overview, `/monitors/{id}` and its actions, `/incidents`, `/maintenance`,
//!   `/webhooks`, `/tokens` (admin), `/events` ([`pages`]);
//! - `/ui/events`: the outbox as Server-Sent Events for the signed-in session ([`stream`]);
//! - `/assets/{hash}/{name}`: static files ([`assets`]).
//!
//! Every page but the sign-in form needs a session; without one a page redirects to
//! `/login`. Every `POST` carries the session's CSRF token (form field `_csrf` or header
//! `X-CSRF-Token`) and, when the browser sends one, an `Origin` of this server; a read token
//! may look but not act (403), and only an admin token sees the tokens page.

pub mod assets;
pub mod login;
pub mod overview;
pub mod pages;
pub mod session;
pub mod stream;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::app::AppState;
use session::{Sessions, Viewer};

/// Form field and header that carry the CSRF token of a session.
pub const CSRF_FIELD: &str = "_csrf";
/// Header alternative to [`CSRF_FIELD`] (htmx and scripts).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// State of the dashboard handlers: the application's and the session table.
#[derive(Clone)]
pub struct WebState {
    /// The application state (engine, store, shutdown).
    pub app: AppState,
    /// Signed-in sessions.
    pub sessions: Arc<Sessions>,
}

/// The dashboard routes, with their own session table.
pub fn router(app: AppState) -> Router {
    let state = WebState {
        app,
        sessions: Arc::new(Sessions::default()),
    };
    let signed_in = Router::new()
        .route("/", get(overview::page))
        .route("/monitors/{id}", get(pages::monitor))
        .route("/monitors/{id}/chart", get(pages::chart))
        .route("/monitors/{id}/pause", post(pages::pause))
        .route("/monitors/{id}/resume", post(pages::resume))
        .route("/monitors/{id}/run", post(pages::run))
        .route("/incidents", get(pages::incidents))
        .route("/maintenance", get(pages::maintenance))
        .route("/webhooks", get(pages::webhooks))
        .route("/messages/{id}/replay", post(pages::replay))
        .route("/webhooks/{id}/recover", post(pages::recover))
        .route("/tokens", get(pages::tokens))
        .route("/events", get(pages::events))
        .route("/ui/events", get(stream::events))
        .route("/logout", post(login::logout))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/assets/{version}/{name}", get(assets::serve))
        .merge(signed_in)
        .with_state(state)
}

/// Puts the session's [`Viewer`] in the request, or redirects to `/login` (pages) or answers
/// 401 (scripts); on `POST` checks the CSRF token and the `Origin`.
async fn require_session(State(state): State<WebState>, mut req: Request, next: Next) -> Response {
    let Some(viewer) = state
        .sessions
        .viewer(state.app.engine.store(), req.headers())
        .await
    else {
        if req.method() == Method::GET && !req.headers().contains_key("hx-request") {
            let target = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Redirect::to(&format!("/login?next={}", encode(&target))).into_response();
        }
        return (StatusCode::UNAUTHORIZED, "sign in first: /login\n").into_response();
    };
    if req.method() == Method::POST {
        if !same_origin(req.headers()) {
            return (StatusCode::FORBIDDEN, "cross-origin request refused\n").into_response();
        }
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
            Ok(bytes) => bytes,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response(),
        };
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form_field(&bytes, CSRF_FIELD));
        if !sent.is_some_and(|s| session::same_secret(&s, &viewer.csrf)) {
            return (
                StatusCode::FORBIDDEN,
                "the form's CSRF token is missing or wrong: reload the page\n",
            )
                .into_response();
        }
        req = Request::from_parts(parts, axum::body::Body::from(bytes));
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// Whether the request's `Origin`, when sent, names the host it was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest == host)
}

/// Whether the browser reached this server over https (directly or through a proxy that
/// says so), so cookies get `Secure`.
pub fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The first value of `name` in a URL-encoded form body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `text` percent-encoded for a query value.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Renders a template into an HTML answer with the dashboard's security headers: a strict
/// Content-Security-Policy (scripts, styles and connections only from this origin), no
/// framing, no caching of signed-in pages.
pub fn html<T: askama::Template>(template: &T) -> Response {
    match template.render() {
        Ok(body) => {
            let mut response = Html(body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                ),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a dashboard page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered\n",
            )
                .into_response()
        }
    }
}

/// 403 for a viewer whose token lacks the scope an action needs.
pub fn not_allowed(viewer: &Viewer, needed: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        format!(
            "this needs a token with the {needed} scope; {} has {}\n",
            viewer.name, viewer.scope
        ),
    )
        .into_response()
}
