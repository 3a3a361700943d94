//! Schema migrations, embedded in the binary and applied at open.
//!
//! Each migration exists in a SQLite and a PostgreSQL flavour (they differ only in column types
//! and identity columns; every query elsewhere is shared). Applied versions are recorded in
//! `schema_migrations`; each migration runs in its own transaction with its record, so a failed
//! one leaves the database at the previous version. On PostgreSQL the table is locked while
//! migrating so replicas starting together apply each migration once.

use chrono::Utc;
use sqlx::Row;

use crate::StoreError;
use crate::db::{Backend, Store};

/// One schema change.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every migration, in order.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "tokens",
        sqlite: include_str!("../migrations/sqlite/0002_tokens.sql"),
        postgres: include_str!("../migrations/postgres/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "api",
        sqlite: include_str!("../migrations/sqlite/0003_api.sql"),
        postgres: include_str!("../migrations/postgres/0003_api.sql"),
    },
    Migration {
        version: 4,
        name: "webhooks",
        sqlite: include_str!("../migrations/sqlite/0004_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0004_webhooks.sql"),
    },
    Migration {
        version: 5,
        name: "pauses",
        sqlite: include_str!("../migrations/sqlite/0005_pauses.sql"),
        postgres: include_str!("../migrations/postgres/0005_pauses.sql"),
    },
    Migration {
        version: 6,
        name: "resource_changes",
        sqlite: include_str!("../migrations/sqlite/0006_resource_changes.sql"),
        postgres: include_str!("../migrations/postgres/0006_resource_changes.sql"),
    },
    Migration {
        version: 7,
        name: "webhook_claims",
        sqlite: include_str!("../migrations/sqlite/0007_webhook_claims.sql"),
        postgres: include_str!("../migrations/postgres/0007_webhook_claims.sql"),
    },
    Migration {
        version: 8,
        name: "webhook_source",
        sqlite: include_str!("../migrations/sqlite/0008_webhook_source.sql"),
        postgres: include_str!("../migrations/postgres/0008_webhook_source.sql"),
    },
    Migration {
        version: 9,
        name: "deployments",
        sqlite: include_str!("../migrations/sqlite/0009_deployments.sql"),
        postgres: include_str!("../migrations/postgres/0009_deployments.sql"),
    },
    Migration {
        version: 10,
        name: "verifications",
        sqlite: include_str!("../migrations/sqlite/0010_verifications.sql"),
        postgres: include_str!("../migrations/postgres/0010_verifications.sql"),
    },
    Migration {
        version: 11,
        name: "status_pages",
        sqlite: include_str!("../migrations/sqlite/0011_status_pages.sql"),
        postgres: include_str!("../migrations/postgres/0011_status_pages.sql"),
    },
    Migration {
        version: 12,
        name: "discovery_sources",
        sqlite: include_str!("../migrations/sqlite/0012_discovery_sources.sql"),
        postgres: include_str!("../migrations/postgres/0012_discovery_sources.sql"),
    },
    Migration {
        version: 13,
        name: "rollup_folding",
        sqlite: include_str!("../migrations/sqlite/0013_rollup_folding.sql"),
        postgres: include_str!("../migrations/postgres/0013_rollup_folding.sql"),
    },
];

/// The schema version this build expects.
pub const SCHEMA_VERSION: i64 = 13;

/// Applies every migration the database has not seen yet.
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
           version BIGINT PRIMARY KEY NOT NULL, \
           name TEXT NOT NULL, \
           applied_at BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;

    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&store.pool)
        .await?;
    if let Some(found) = found.filter(|v| *v > SCHEMA_VERSION) {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }

    for migration in MIGRATIONS {
        let mut tx = match store.backend() {
            Backend::Sqlite => store.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = store.pool.begin().await?;
                sqlx::raw_sql("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        let applied = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get::<i64, _>(0))
            .transpose()?
            .is_some();
        if applied {
            tx.rollback().await?;
            continue;
        }
        let sql = match store.backend() {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        let failed = |source| StoreError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(failed)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
    }
    Ok(())
}

impl Store {
    /// Migration versions applied to this database, ascending.
    pub async fn schema_versions(&self) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
