//! Versioned resources (monitors, maintenance windows): one row of id, labels, spec JSON,
//! source, version and timestamps, with an upsert that bumps the version only on change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::db::{from_json, from_ms, to_ms};
use crate::{Store, StoreError};

/// Attempts of an optimistic upsert before giving up with [`StoreError::Contention`].
const PUT_ATTEMPTS: usize = 8;

/// A table holding versioned resources.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Monitors,
    Maintenance,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Monitors => "monitors",
            Self::Maintenance => "maintenance_windows",
        }
    }
}

/// A resource row with its spec as JSON.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub id: String,
    pub labels: BTreeMap<String, String>,
    pub spec: serde_json::Value,
    pub source: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, labels, spec, source, version, created_at, updated_at";

fn decode(row: &AnyRow) -> Result<Resource, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(Resource {
        labels: from_json(
            &row.try_get::<String, _>("labels")?,
            &format!("labels of {id}"),
        )?,
        spec: from_json(&row.try_get::<String, _>("spec")?, &format!("spec of {id}"))?,
        source: row.try_get("source")?,
        version: row.try_get("version")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
        id,
    })
}

impl Store {
    /// Inserts or updates a resource. A new one gets version 1; an existing one keeps its
    /// `created_at` and gets version + 1 when labels, spec or source changed (otherwise it is
    /// returned unchanged). With `if_version`, the write happens only if the current version
    /// is that one (0 meaning "must not exist").
    pub(crate) async fn put_resource(
        &self,
        table: Table,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: serde_json::Value,
        source: &str,
        if_version: Option<i64>,
    ) -> Result<Resource, StoreError> {
        for _ in 0..PUT_ATTEMPTS {
            let mut conn = self.pool.acquire().await?;
            if let Some(stored) =
                put_once(&mut conn, table, id, labels, &spec, source, if_version).await?
            {
                return Ok(stored);
            }
        }
        Err(StoreError::Contention(id.to_owned()))
    }

    /// One resource by id.
    pub(crate) async fn get_resource(
        &self,
        table: Table,
        id: &str,
    ) -> Result<Option<Resource>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {} WHERE id = $1", table.name());
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// Every resource of a table, by id.
    pub(crate) async fn list_resources(&self, table: Table) -> Result<Vec<Resource>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {} ORDER BY id", table.name());
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}

/// One attempt of [`Store::put_resource`] on `conn` (a pooled connection or a transaction);
/// `None` when a concurrent writer changed the row in between.
pub(crate) async fn put_once(
    conn: &mut sqlx::AnyConnection,
    table: Table,
    id: &str,
    labels: &BTreeMap<String, String>,
    spec: &serde_json::Value,
    source: &str,
    if_version: Option<i64>,
) -> Result<Option<Resource>, StoreError> {
    let labels_json = serde_json::to_string(labels)?;
    let spec_json = serde_json::to_string(spec)?;
    let now = to_ms(Utc::now());
    let current = get_in(conn, table, id).await?;
    if let Some(expected) = if_version {
        let found = current.as_ref().map(|c| c.version);
        if found.unwrap_or(0) != expected {
            return Err(StoreError::VersionConflict {
                id: id.to_owned(),
                expected,
                found,
            });
        }
    }
    let written = match current {
        None => {
            let sql = format!(
                "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5, $5) \
                 ON CONFLICT (id) DO NOTHING",
                table.name()
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(&labels_json)
                .bind(&spec_json)
                .bind(source)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
        Some(current)
            if current.labels == *labels && current.spec == *spec && current.source == source =>
        {
            return Ok(Some(current));
        }
        Some(current) => {
            let sql = format!(
                "UPDATE {} SET labels = $1, spec = $2, source = $3, version = version + 1, \
                 updated_at = $4 WHERE id = $5 AND version = $6",
                table.name()
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(&labels_json)
                .bind(&spec_json)
                .bind(source)
                .bind(now.max(to_ms(current.updated_at)))
                .bind(id)
                .bind(current.version)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
    };
    if written == 1 {
        return get_in(conn, table, id)
            .await?
            .ok_or_else(|| StoreError::Contention(id.to_owned()))
            .map(Some);
    }
    Ok(None)
}

/// One resource by id, read on `conn`.
async fn get_in(
    conn: &mut sqlx::AnyConnection,
    table: Table,
    id: &str,
) -> Result<Option<Resource>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM {} WHERE id = $1", table.name());
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Deletes a resource row inside `conn`'s transaction; whether it existed.
pub(crate) async fn delete(
    conn: &mut sqlx::AnyConnection,
    table: Table,
    id: &str,
) -> Result<bool, StoreError> {
    let sql = format!("DELETE FROM {} WHERE id = $1", table.name());
    let deleted = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}
