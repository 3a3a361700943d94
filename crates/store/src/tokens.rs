//! API tokens: who may call `/api/v1` and with which scope.
//!
//! Only the SHA-256 of each secret is stored. A request's token is found through that hash
//! (unique index), and the hash read back is compared with the computed one in constant time,
//! so neither the lookup nor the comparison depends on the secret's text.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use subtle::ConstantTimeEq;

use crate::db::{fetch_by_key, from_json, from_ms, from_opt_ms, to_ms};
use crate::{Store, StoreError};

/// Token scopes live in the model, shared with the API's clients.
pub use vedette_model::Scope;

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Unique id (not secret), e.g. `tok_...`.
    pub id: String,
    /// What it is for, for people.
    pub name: String,
    /// Granted scopes; the widest one counts.
    pub scopes: Vec<Scope>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Unique id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (updated at most about once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// The widest granted scope; `None` for a token without scopes.
    pub fn scope(&self) -> Option<Scope> {
        self.scopes.iter().copied().max()
    }

    /// Whether the token may be used at `now`: not revoked, not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// What [`Store::revoke_token_keeping_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The token is revoked.
    Revoked,
    /// No such token, or it was already revoked.
    NotFound,
    /// Refused: it is the last active admin token.
    LastAdmin,
}

/// Hex SHA-256 of a token secret: what the store keeps and looks tokens up by.
pub fn token_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const COLUMNS: &str = "id, name, scopes, created_at, expires_at, last_used_at, revoked_at";

fn decode(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scopes: from_json(&row.try_get::<String, _>("scopes")?, "token scopes")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        expires_at: from_opt_ms(row.try_get("expires_at")?)?,
        last_used_at: from_opt_ms(row.try_get("last_used_at")?)?,
        revoked_at: from_opt_ms(row.try_get("revoked_at")?)?,
    })
}

impl Store {
    /// Stores a new token whose secret is `secret` (only its hash is kept), created at `now`.
    /// A duplicate id or secret is refused by the database ([`StoreError::Database`]).
    pub async fn create_token(
        &self,
        token: &NewToken,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord, StoreError> {
        self.insert_token("VALUES ($1, $2, $3, $4, $5, $6)", token, secret, now)
            .await?;
        Ok(TokenRecord {
            id: token.id.clone(),
            name: token.name.clone(),
            scopes: token.scopes.clone(),
            created_at: DateTime::from_timestamp_millis(to_ms(now)).unwrap_or(now),
            expires_at: token.expires_at,
            last_used_at: None,
            revoked_at: None,
        })
    }

    /// Creates `token` only when no token (active or revoked) exists yet, in one statement, so
    /// replicas starting together bootstrap at most once per secret. Whether it was created.
    pub async fn bootstrap_token(
        &self,
        token: &NewToken,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let written = self
            .insert_token(
                "SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM api_tokens) \
                 ON CONFLICT DO NOTHING",
                token,
                secret,
                now,
            )
            .await?;
        Ok(written == 1)
    }

    /// Inserts `token` with its secret's hash, its row ($1 to $6) coming from `source`: a
    /// `VALUES` list or a `SELECT`. How many rows it wrote.
    async fn insert_token(
        &self,
        source: &str,
        token: &NewToken,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (id, name, scopes, token_sha256, created_at, expires_at) \
             {source}"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&token.id)
            .bind(&token.name)
            .bind(serde_json::to_string(&token.scopes)?)
            .bind(token_sha256(secret))
            .bind(to_ms(now))
            .bind(token.expires_at.map(to_ms))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The token whose secret is `secret`, revoked and expired ones included (the caller
    /// judges them with [`TokenRecord::is_active`]).
    pub async fn token_by_secret(&self, secret: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = token_sha256(secret);
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, token_sha256 FROM api_tokens WHERE token_sha256 = $1"
        )))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("token_sha256")?;
        if !bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
            return Ok(None);
        }
        decode(&row).map(Some)
    }

    /// One token by id, revoked or not.
    pub async fn get_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1");
        fetch_by_key(&self.pool, sql, id, decode).await
    }

    /// Tokens not revoked, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode)
        .collect()
    }

    /// Whether any token was ever created (revoked ones count).
    pub async fn has_tokens(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Revokes a token at `now`; `false` when it does not exist or was already revoked.
    pub async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes a token at `now` unless it is the last active admin token, deciding and writing
    /// in one serialised transaction so two concurrent revocations cannot each remove "the
    /// other" admin token.
    pub async fn revoke_token_keeping_admin(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Revocation, StoreError> {
        let mut tx = self.begin_serialized("api_tokens").await?;
        let active: Vec<TokenRecord> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE revoked_at IS NULL"
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(decode)
        .collect::<Result<_, _>>()?;
        let Some(target) = active.iter().find(|t| t.id == id) else {
            return Ok(Revocation::NotFound);
        };
        let is_admin = |t: &TokenRecord| t.is_active(now) && t.scope() == Some(Scope::Admin);
        if is_admin(target) && active.iter().filter(|t| is_admin(t)).count() == 1 {
            return Ok(Revocation::LastAdmin);
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Revocation::Revoked)
    }

    /// Records that the token was used at `at`, unless its last use recorded is less than
    /// `throttle` older; whether it wrote.
    pub async fn touch_token(
        &self,
        id: &str,
        at: DateTime<Utc>,
        throttle: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(to_ms(at))
        .bind(id)
        .bind(to_ms(at - throttle))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
