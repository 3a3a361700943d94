//! Heartbeat (push) monitors: the push token of each monitor and its last ping.
//!
//! The token is stored in clear because the API must show the push URL again; lookups go
//! through its SHA-256 (unique index), so finding the monitor for a request never compares
//! the secret itself and the index holds no token text.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{from_ms, to_ms};
use crate::{Store, StoreError};

/// One ping received from a monitored job.
#[derive(Debug, Clone, PartialEq)]
pub struct PingRecord {
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// Whether the job reported success.
    pub up: bool,
    /// What the job said.
    pub message: Option<String>,
}

/// Sets (or replaces) the push token of a monitor on `conn`.
pub(crate) async fn set_in(
    conn: &mut sqlx::AnyConnection,
    monitor_id: &str,
    token: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO heartbeat_tokens (monitor_id, token, token_sha256) VALUES ($1, $2, $3) \
         ON CONFLICT (monitor_id) DO UPDATE SET token = excluded.token, \
         token_sha256 = excluded.token_sha256",
    )
    .bind(monitor_id)
    .bind(token)
    .bind(token_hash(token))
    .execute(conn)
    .await?;
    Ok(())
}

/// The monitor holding push token `token`, read on `conn`.
pub(crate) async fn owner_in(
    conn: &mut sqlx::AnyConnection,
    token: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT monitor_id FROM heartbeat_tokens WHERE token_sha256 = $1")
            .bind(token_hash(token))
            .fetch_optional(conn)
            .await?,
    )
}

/// Hex SHA-256 of a token.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// The push token of a monitor.
    pub async fn heartbeat_token(&self, monitor_id: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT token FROM heartbeat_tokens WHERE monitor_id = $1")
                .bind(monitor_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets (or replaces) the push token of a monitor. A token already used by another
    /// monitor is refused by the unique index ([`StoreError::Database`]).
    pub async fn set_heartbeat_token(
        &self,
        monitor_id: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        set_in(&mut conn, monitor_id, token).await
    }

    /// The monitor a push token belongs to.
    pub async fn monitor_for_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT monitor_id FROM heartbeat_tokens WHERE token_sha256 = $1")
                .bind(token_hash(token))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records a ping as the monitor's last one (only the last is kept; the check results the
    /// heartbeat evaluator writes are the history).
    pub async fn record_ping(&self, monitor_id: &str, ping: &PingRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO heartbeat_pings (monitor_id, at, up, message) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (monitor_id) DO UPDATE SET at = excluded.at, up = excluded.up, \
             message = excluded.message",
        )
        .bind(monitor_id)
        .bind(to_ms(ping.at))
        .bind(i64::from(ping.up))
        .bind(ping.message.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last ping of a monitor.
    pub async fn last_ping(&self, monitor_id: &str) -> Result<Option<PingRecord>, StoreError> {
        let row = sqlx::query("SELECT at, up, message FROM heartbeat_pings WHERE monitor_id = $1")
            .bind(monitor_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(PingRecord {
                at: from_ms(row.try_get("at")?)?,
                up: row.try_get::<i64, _>("up")? != 0,
                message: row.try_get("message")?,
            })
        })
        .transpose()
    }
}
