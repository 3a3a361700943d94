//! `/login` and `/logout`: sign-in with an API token, which becomes a server-side session;
//! the secret is checked once and never kept, echoed or logged.
//!
//! The form is protected against login CSRF with a random token in both a `SameSite=Strict`
//! cookie and a hidden field, which must match, and by the `Origin` check. Failed sign-ins
//! cost the client address a token of the API's failed-authentication bucket, so guessing
//! through the form is limited like guessing through the API.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::session::{self, COOKIE, LOGIN_COOKIE, Viewer, cookie, random_token, set_cookie};
use super::{WebState, html, is_https, same_origin, view};
use crate::api::auth::check_secret_format;
use crate::limits::client_key;

/// The sign-in page.
#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    error: Option<&'a str>,
}

impl LoginPage<'_> {
    fn asset(&self, name: &str) -> &'static str {
        view::asset(name)
    }
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a path on this server, `/` otherwise.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

fn form_page(state: &WebState, headers: &HeaderMap, next: &str, error: Option<&str>) -> Response {
    let csrf = random_token();
    let mut response = html(&LoginPage {
        csrf: &csrf,
        next,
        error,
    });
    if error.is_some() {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &csrf, is_https(&state.app, headers), None),
    );
    response
}

/// `GET /login?next=`: the sign-in form (or straight on when already signed in).
pub async fn form(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if state
        .sessions
        .viewer(state.app.engine.store(), &headers)
        .await
        .is_some()
    {
        return Redirect::to(next).into_response();
    }
    form_page(&state, &headers, next, None)
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    token: String,
    #[serde(rename = "_csrf")]
    csrf: String,
    next: Option<String>,
}

/// `POST /login`: checks the token and starts a session (303 to `next`), or shows the form
/// again with why (401), or 403 for a forged form, or 429 while the address is limited.
pub async fn submit(
    State(state): State<WebState>,
    extensions: Extensions,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignIn>,
) -> Response {
    let next = safe_next(form.next.as_deref()).to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE);
    if !same_origin(&headers) || !expected.is_some_and(|c| session::same_secret(&c, &form.csrf)) {
        return (
            StatusCode::FORBIDDEN,
            "the sign-in form is stale or was sent from another site: reload /login\n",
        )
            .into_response();
    }
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_key(c.0.ip()));
    let failures = state.app.guards.auth_failures.as_ref().zip(client);
    if let Some((table, client)) = failures
        && table.check(&client, Instant::now()).is_err()
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins from this address; wait a minute\n",
        )
            .into_response();
    }
    let secret = form.token.trim();
    let fail = |why: &str| {
        if let Some((table, client)) = failures {
            let _ = table.take(&client, Instant::now());
        }
        form_page(&state, &headers, &next, Some(why))
    };
    if check_secret_format(secret).is_err() {
        return fail("That is not an API token: tokens look like vdt_ followed by 43 characters.");
    }
    let token = match state.app.engine.store().token_by_secret(secret).await {
        Ok(Some(token)) => token,
        Ok(None) => return fail("This token is not valid."),
        Err(e) => {
            tracing::error!(error = %e, "dashboard sign-in: looking up a token failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the token store cannot be read; retry later\n",
            )
                .into_response();
        }
    };
    if token.revoked_at.is_some() || !token.is_active(Utc::now()) {
        return fail("This token was revoked or has expired.");
    }
    let Some(scope) = token.scope() else {
        return fail("This token has no scope.");
    };
    let viewer = Viewer {
        token_id: token.id.clone(),
        name: token.name.clone(),
        scope,
        csrf: random_token(),
        expires_at: token.expires_at,
    };
    let id = state.sessions.start(viewer);
    tracing::info!(token_id = %token.id, "dashboard sign-in");
    let secure = is_https(&state.app, &headers);
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, set_cookie(COOKIE, &id, secure, None));
    cookies.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", secure, Some(0)),
    );
    response
}

/// `POST /logout`: ends the session and goes back to the sign-in form.
pub async fn logout(
    State(state): State<WebState>,
    Extension(_viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Response {
    if let Some(value) = cookie(&headers, COOKIE) {
        state.sessions.end(&value);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(COOKIE, "", is_https(&state.app, &headers), Some(0)),
    );
    response
        .headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    response
}
