//! Bearer-token authentication and scope checks for `/api/v1`.
//!
//! Every request whose path is `/api/v1` or below needs `Authorization: Bearer vdt_...`, except
//! `GET /api/v1/openapi.json`: the API description holds no data and tools (Swagger UI at
//! `/api/docs`, client generators) fetch it before they have a token. Paths outside `/api/v1`
//! (health, readiness, `/metrics`, `/push/{token}`, `/api/docs`) are not checked here.
//!
//! - no, malformed, unknown, expired or revoked token: 401 problem+json with
//!   `WWW-Authenticate: Bearer`;
//! - a valid token without the scope the request needs: 403 problem+json naming that scope.
//!
//! The scope a request needs: `admin` for `/api/v1/tokens` and below, otherwise `read` for
//! `GET`/`HEAD`/`OPTIONS` and `write` for every other method. Secrets are looked up by their
//! SHA-256 and compared in constant time ([`Store::token_by_secret`]); they are never logged.
//! A token's `last_used_at` is written at most once per [`LAST_USED_THROTTLE`], off the
//! request path.
//!
//! Rate limits ([`crate::limits::Guards`]), both answered 429 problem+json with `Retry-After`:
//! - every 401 costs the client address (IPv6 by /64) a token of its failed-authentication
//!   bucket; while the bucket is empty, every request of that address that needs a token gets
//!   429 before its token is looked up, a valid token included: answering valid tokens would
//!   keep the lookups (the cost the limit bounds) going and tell a guesser which guess was
//!   right;
//! - every write (`POST`, `PUT`, `PATCH`, `DELETE`) costs its token a token of its write
//!   bucket.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::RngExt;
use vedette_store::{NewToken, Scope, Store};

use super::problem::Problem;
use super::route::{self, is_under};
use crate::ServerError;
use crate::app::AppState;
use crate::limits::{RetryAfter, client_key};

/// Prefix of every API token secret.
pub const TOKEN_PREFIX: &str = "vdt_";
/// Fewest characters after the prefix a secret may have.
pub const MIN_SECRET_CHARS: usize = 32;
/// Characters a generated secret has after the prefix.
pub const GENERATED_SECRET_CHARS: usize = 43;
/// Longest `Authorization` value considered (longer ones are malformed).
const MAX_SECRET_LEN: usize = 256;
/// How often, at most, a token's last use is written.
pub const LAST_USED_THROTTLE: chrono::Duration = chrono::Duration::minutes(1);
/// Path prefix that needs a token.
pub const API_PREFIX: &str = "/api/v1";

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The token a request was authenticated with; handlers find it in the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Token id.
    pub token_id: String,
    /// Token name.
    pub name: String,
    /// Widest scope of the token.
    pub scope: Scope,
    /// When the token expires, if it does (long-lived responses end then).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new random secret: `vdt_` and 43 URL-safe characters (258 bits).
pub fn generate_secret() -> String {
    let mut rng = rand::rng();
    let mut secret = String::with_capacity(TOKEN_PREFIX.len() + GENERATED_SECRET_CHARS);
    secret.push_str(TOKEN_PREFIX);
    secret.extend(
        (0..GENERATED_SECRET_CHARS).map(|_| URL_SAFE[rng.random_range(0..URL_SAFE.len())] as char),
    );
    secret
}

/// A new token id: `tok_` and 16 lowercase letters and digits.
pub fn generate_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("tok_{suffix}")
}

/// Why a secret does not have the shape of an API token, if it does not.
pub fn check_secret_format(secret: &str) -> Result<(), String> {
    let Some(body) = secret.strip_prefix(TOKEN_PREFIX) else {
        return Err(format!("API tokens start with {TOKEN_PREFIX:?}"));
    };
    if body.len() < MIN_SECRET_CHARS {
        return Err(format!(
            "API tokens have at least {MIN_SECRET_CHARS} characters after {TOKEN_PREFIX:?}"
        ));
    }
    if secret.len() > MAX_SECRET_LEN {
        return Err(format!(
            "API tokens have at most {MAX_SECRET_LEN} characters"
        ));
    }
    if !body.bytes().all(|b| URL_SAFE.contains(&b)) {
        return Err("API tokens contain only letters, digits, '-' and '_'".to_owned());
    }
    Ok(())
}

/// The scope a request to `path` with `method` needs; `None` when it needs no token. It is
/// the scope its operation declares ([`crate::routes::all`]); an undeclared request below
/// [`API_PREFIX`] needs `read` to look (GET, HEAD, OPTIONS) and `write` otherwise, so what
/// does not exist is told only to a token that may know.
pub fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    if !is_under(path, API_PREFIX) {
        return None;
    }
    if let Some(route) = route::find(crate::routes::all(), method, path) {
        return route.scope;
    }
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Some(Scope::Read),
        _ => Some(Scope::Write),
    }
}

/// A 401 answer; `invalid` adds RFC 6750's `error="invalid_token"` (a token was sent).
fn unauthorized(detail: &str, invalid: bool) -> Response {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        detail,
    )
    .into_response();
    let challenge = if invalid {
        "Bearer realm=\"vedette\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"vedette\""
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// A 403 answer naming the scope needed.
fn forbidden(needed: Scope, held: Scope) -> Response {
    let mut response = Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Forbidden",
        format!("this request needs a token with the {needed} scope; this token has {held}"),
    )
    .into_response();
    let challenge =
        format!("Bearer realm=\"vedette\", error=\"insufficient_scope\", scope=\"{needed}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// A 429 answer with `Retry-After`.
pub fn too_many_requests(detail: &str, retry: RetryAfter) -> Response {
    let seconds = retry.seconds();
    let mut response = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        format!("{detail}; retry in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Why a request carries no usable bearer secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoBearer {
    /// No `Authorization` header.
    Missing,
    /// A header that is not `Bearer vdt_...`.
    Malformed,
}

/// The secret of an `Authorization: Bearer <secret>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Result<&str, NoBearer> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(NoBearer::Missing)?;
    let text = value.to_str().map_err(|_| NoBearer::Malformed)?;
    let (scheme, secret) = text.trim().split_once(' ').ok_or(NoBearer::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(NoBearer::Malformed);
    }
    let secret = secret.trim();
    check_secret_format(secret).map_err(|_| NoBearer::Malformed)?;
    Ok(secret)
}

/// Middleware enforcing tokens, scopes and the rate limits on `/api/v1` (see the module docs).
/// Add it with `Router::layer` on the application's top-level router.
pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let Some(needed) = required_scope(req.method(), &path) else {
        return next.run(req).await;
    };
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| client_key(info.0.ip()));
    let failures = state.guards.auth_failures.as_ref().zip(client);
    if let Some((table, client)) = failures
        && let Err(retry) = table.check(&client, Instant::now())
    {
        return too_many_requests("too many failed authentications from this address", retry);
    }
    let principal = match authenticate(&state, req.headers(), needed).await {
        Ok(principal) => principal,
        Err(response) => {
            if response.status() == StatusCode::UNAUTHORIZED
                && let Some((table, client)) = failures
            {
                let _ = table.take(&client, Instant::now());
            }
            return response;
        }
    };
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if is_write
        && let Some(table) = &state.guards.writes
        && let Err(retry) = table.take(&principal.token_id, Instant::now())
    {
        return too_many_requests("this token makes writes faster than allowed", retry);
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// The principal of a request needing `needed`, or the 401/403/503 answer.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<Principal, Response> {
    let secret = match bearer(headers) {
        Ok(secret) => secret,
        Err(NoBearer::Missing) => {
            return Err(unauthorized(
                "this request needs an API token: send Authorization: Bearer vdt_...",
                false,
            ));
        }
        Err(NoBearer::Malformed) => {
            return Err(unauthorized(
                "the Authorization header is not Bearer vdt_...",
                true,
            ));
        }
    };
    let store = state.engine.store();
    let token = match store.token_by_secret(secret).await {
        Ok(Some(token)) => token,
        Ok(None) => return Err(unauthorized("the API token is not valid", true)),
        Err(e) => {
            tracing::error!(error = %e, "looking up an API token failed");
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the token store cannot be read; retry later",
            )
            .into_response());
        }
    };
    let now = Utc::now();
    if token.revoked_at.is_some() {
        return Err(unauthorized("the API token was revoked", true));
    }
    if !token.is_active(now) {
        return Err(unauthorized("the API token has expired", true));
    }
    let Some(held) = token.scope() else {
        return Err(forbidden(needed, Scope::Read));
    };
    if !held.grants(needed) {
        return Err(forbidden(needed, held));
    }
    if token
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_THROTTLE)
    {
        let store = store.clone();
        let id = token.id.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_token(&id, now, LAST_USED_THROTTLE).await {
                tracing::warn!(token_id = %id, error = %e, "recording a token's last use failed");
            }
        });
    }
    Ok(Principal {
        token_id: token.id,
        name: token.name,
        scope: held,
        expires_at: token.expires_at,
    })
}

/// How [`bootstrap`] set up the first token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// Tokens already exist; nothing was done.
    Existing,
    /// The configured secret (`VEDETTE_BOOTSTRAP_TOKEN`) became the admin token.
    Configured,
    /// A secret was generated; it must be shown to the operator once.
    Generated(String),
}

/// On a database without any token, creates an admin token from `configured` or, when that
/// is absent, from a generated secret that the caller must show once.
pub async fn bootstrap(store: &Store, configured: Option<&str>) -> Result<Bootstrap, ServerError> {
    if store.has_tokens().await? {
        return Ok(Bootstrap::Existing);
    }
    let secret = match configured {
        Some(secret) => {
            check_secret_format(secret).map_err(|why| {
                ServerError::Invalid(format!(
                    "the bootstrap token (--bootstrap-token, VEDETTE_BOOTSTRAP_TOKEN) is not usable: {why}; \
                     generate one with: echo vdt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
                ))
            })?;
            secret.to_owned()
        }
        None => generate_secret(),
    };
    let token = NewToken {
        id: generate_id(),
        name: "bootstrap".to_owned(),
        scopes: vec![Scope::Admin],
        expires_at: None,
    };
    if !store.bootstrap_token(&token, &secret, Utc::now()).await? {
        return Ok(Bootstrap::Existing);
    }
    Ok(match configured {
        Some(_) => Bootstrap::Configured,
        None => Bootstrap::Generated(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_method_and_path() {
        assert_eq!(required_scope(&Method::GET, "/healthz"), None);
        assert_eq!(required_scope(&Method::GET, "/metrics"), None);
        assert_eq!(required_scope(&Method::GET, "/api/v1/openapi.json"), None);
        assert_eq!(required_scope(&Method::GET, "/api/v10/x"), None);
        assert_eq!(required_scope(&Method::GET, "/api/v1"), Some(Scope::Read));
        assert_eq!(
            required_scope(&Method::GET, "/api/v1/monitors"),
            Some(Scope::Read)
        );
        assert_eq!(
            required_scope(&Method::HEAD, "/api/v1/monitors/x"),
            Some(Scope::Read)
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/v1/monitors/x/run"),
            Some(Scope::Write)
        );
        assert_eq!(
            required_scope(&Method::GET, "/api/v1/tokens"),
            Some(Scope::Admin)
        );
        assert_eq!(
            required_scope(&Method::DELETE, "/api/v1/tokens/tok_1"),
            Some(Scope::Admin)
        );
        assert_eq!(
            required_scope(&Method::GET, "/api/v1/tokensx"),
            Some(Scope::Read)
        );
    }

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(check_secret_format(&a).is_ok(), "{a}");
        assert_eq!(a.len(), TOKEN_PREFIX.len() + GENERATED_SECRET_CHARS);
        assert!(generate_id().starts_with("tok_"));
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert!(check_secret_format("changeme").is_err());
        assert!(check_secret_format("vdt_short").is_err());
        assert!(check_secret_format(&format!("vdt_{}", "a".repeat(31))).is_err());
        assert!(check_secret_format(&format!("vdt_{}", "a".repeat(32))).is_ok());
        assert!(check_secret_format(&format!("vdt_{}+", "a".repeat(32))).is_err());
        assert!(check_secret_format(&format!("vdt_{}", "a".repeat(300))).is_err());
    }
}
