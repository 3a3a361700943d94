//! `/api/v1/tokens`: create (the secret is shown only in that answer), list without secrets,
//! revoke. Every route needs the `admin` scope ([`super::auth`] enforces it).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::FieldError;
use vedette_store::{NewToken, Revocation, Scope, TokenRecord};

use super::auth::{generate_id, generate_secret};
use super::body::typed;
use super::extract::{JsonBody, PathId};
use super::pagination::Page;
use super::problem::{ApiResult, Problem};
use crate::app::AppState;

/// Longest token name.
pub const MAX_NAME_CHARS: usize = 200;

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for (1–200 characters), e.g. `terraform-ci`.
    pub name: String,
    /// Granted scopes; the widest counts (`admin` ⊃ `write` ⊃ `read`).
    pub scopes: Vec<Scope>,
    /// When the token stops working (RFC 3339, in the future); never when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Token {
    /// Token id, for `DELETE /api/v1/tokens/{id}`.
    pub id: String,
    /// What the token is for.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `null` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (updated at most once a minute); `null` when never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for Token {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// Answer of `POST /api/v1/tokens`: the token and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: Token,
    /// The secret (`vdt_...`), to send as `Authorization: Bearer <token>`. Shown only here.
    #[serde(rename = "token")]
    pub secret: String,
}

/// Checks a create body field by field, reporting every problem at its path.
fn parse_create(body: Value, now: DateTime<Utc>) -> ApiResult<CreateToken> {
    let Value::Object(map) = body else {
        return Err(Problem::invalid(
            "",
            "expected a JSON object with name, scopes and expires_at",
        ));
    };
    let mut errors = Vec::new();
    let mut name = None;
    let mut scopes = None;
    let mut expires_at = None;
    for (key, value) in map {
        match key.as_str() {
            "name" => name = typed::<String>(value, "name", &mut errors),
            "scopes" => scopes = typed::<Vec<Scope>>(value, "scopes", &mut errors),
            "expires_at" => {
                expires_at =
                    typed::<Option<DateTime<Utc>>>(value, "expires_at", &mut errors).flatten();
            }
            other => errors.push(FieldError::new(other, "unknown field")),
        }
    }
    match &name {
        None if !errors.iter().any(|e| e.field == "name") => {
            errors.push(FieldError::new("name", "required"));
        }
        Some(n) if n.trim().is_empty() => errors.push(FieldError::new("name", "must not be empty")),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => errors.push(FieldError::new(
            "name",
            format!("at most {MAX_NAME_CHARS} characters"),
        )),
        _ => {}
    }
    match &scopes {
        None if !errors.iter().any(|e| e.field.starts_with("scopes")) => {
            errors.push(FieldError::new("scopes", "required"));
        }
        Some(s) if s.is_empty() => errors.push(FieldError::new(
            "scopes",
            "at least one of read, write, admin",
        )),
        _ => {}
    }
    if expires_at.is_some_and(|t| t <= now) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    match (name, scopes) {
        (Some(name), Some(mut scopes)) if errors.is_empty() => {
            scopes.sort();
            scopes.dedup();
            Ok(CreateToken {
                name: name.trim().to_owned(),
                scopes,
                expires_at,
            })
        }
        _ => Err(Problem::validation(errors)),
    }
}

/// `POST /api/v1/tokens`: 201 with the secret, shown only here.
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let now = Utc::now();
    let request = parse_create(body, now)?;
    let secret = generate_secret();
    let record = state
        .engine
        .store()
        .create_token(
            &NewToken {
                id: generate_id(),
                name: request.name,
                scopes: request.scopes,
                expires_at: request.expires_at,
            },
            &secret,
            now,
        )
        .await?;
    tracing::info!(token_id = %record.id, name = %record.name, "API token created");
    let location = format!("/api/v1/tokens/{}", record.id);
    let mut response = (
        StatusCode::CREATED,
        Json(CreatedToken {
            token: record.into(),
            secret,
        }),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /api/v1/tokens`: tokens not revoked (expired ones included), oldest first, in one
/// page.
pub async fn list(State(state): State<AppState>) -> ApiResult<Page<Token>> {
    let items = state
        .engine
        .store()
        .list_tokens()
        .await?
        .into_iter()
        .map(Token::from)
        .collect();
    Ok(Page {
        items,
        next_cursor: None,
    })
}

/// `DELETE /api/v1/tokens/{id}`: 204; 404 when unknown or already revoked; 409 when it is the
/// last active admin token (revoking it would lock every administrator out).
pub async fn revoke(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<StatusCode> {
    match state
        .engine
        .store()
        .revoke_token_keeping_admin(&id, Utc::now())
        .await?
    {
        Revocation::Revoked => {
            state.guards.streams.revoke(&id);
            tracing::info!(token_id = %id, "API token revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        Revocation::NotFound => Err(Problem::not_found(format!(
            "no token {id:?} (or it was revoked)"
        ))),
        Revocation::LastAdmin => Err(Problem::conflict(
            "this is the last active admin token; create another admin token before revoking it \
             (or, with the server stopped, `vedette token create --admin --data-dir DIR`)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn create_bodies_are_checked_field_by_field() {
        let now = Utc::now();
        let ok = parse_create(
            json!({"name": " ci ", "scopes": ["write", "read", "write"]}),
            now,
        )
        .expect("valid");
        assert_eq!(ok.name, "ci");
        assert_eq!(ok.scopes, [Scope::Read, Scope::Write]);
        assert_eq!(ok.expires_at, None);

        let bad = parse_create(
            json!({"name": "", "scopes": ["root"], "expires_at": "2001-01-01T00:00:00Z", "x": 1}),
            now,
        )
        .expect_err("invalid");
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<_> = bad.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"name"), "{fields:?}");
        assert!(fields.iter().any(|f| f.starts_with("scopes")), "{fields:?}");
        assert!(fields.contains(&"expires_at"), "{fields:?}");
        assert!(fields.contains(&"x"), "{fields:?}");

        let missing = parse_create(json!({}), now).expect_err("invalid");
        let fields: Vec<_> = missing.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "scopes"]);
    }
}
