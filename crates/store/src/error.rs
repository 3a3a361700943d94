//! The one error type of the store.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The configuration cannot be used (unknown URL scheme, non-UTF-8 path, ...).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The data directory could not be created or used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The SQLite database file could not be opened or created.
    #[error("cannot open the SQLite database {path}: {source}")]
    SqliteOpen {
        /// The database file.
        path: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The lock file could not be created or locked (e.g. the data directory is read-only).
    #[error("cannot lock {path}: {source}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process holds the instance lock: one scheduler per database.
    #[error(
        "{lock} is held by {holder}: another vedette server already runs on this database \
         (two would check every monitor twice); stop it first"
    )]
    Locked {
        /// What is locked (the lock file or the database).
        lock: String,
        /// Who holds it, as far as known (e.g. `process 1234`).
        holder: String,
    },
    /// The instance lock was lost while the server ran (its database connection ended).
    #[error("lost the instance lock: {0}")]
    LockLost(String),
    /// A schema migration failed; the database is left at the previous version.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: &'static str,
        /// Why.
        source: sqlx::Error,
    },
    /// The database was migrated by a newer build than this one.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Highest version recorded in the database.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A stored value cannot be read back (bad JSON, out-of-range number, unknown enum value).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A value could not be encoded as JSON.
    #[error("cannot encode JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// A write expected a resource version that is no longer current.
    #[error(
        "version conflict on {id:?}: expected version {expected}, {}",
        .found.map_or_else(|| "but it does not exist".to_owned(), |v| format!("found version {v}"))
    )]
    VersionConflict {
        /// Resource id.
        id: String,
        /// The version the caller expected.
        expected: i64,
        /// The current version; `None` when the resource does not exist.
        found: Option<i64>,
    },
    /// A concurrent writer kept changing the same resource; the write may be retried.
    #[error("concurrent updates of {0:?} kept conflicting; retry")]
    Contention(String),
    /// A monitor's push token (`spec.heartbeat.token`) already belongs to another monitor;
    /// nothing was written.
    #[error("the heartbeat token is already used by another monitor")]
    HeartbeatTokenTaken,
    /// An argument is outside what the store accepts (e.g. a step that is not whole minutes).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn version_conflicts_read_without_rust_options() {
        let missing = StoreError::VersionConflict {
            id: "api".into(),
            expected: 2,
            found: None,
        };
        assert_eq!(
            missing.to_string(),
            "version conflict on \"api\": expected version 2, but it does not exist"
        );
        let moved = StoreError::VersionConflict {
            id: "api".into(),
            expected: 2,
            found: Some(3),
        };
        assert_eq!(
            moved.to_string(),
            "version conflict on \"api\": expected version 2, found version 3"
        );
    }
}
