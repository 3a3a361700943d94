//! Opening the database and the helpers every query module shares.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow, install_default_drivers};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, ConnectOptions, Connection, Transaction};

use crate::StoreError;

/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "vedette.db";

/// How long a SQLite connection waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Most bind parameters put in one multi-row statement. Both backends allow far more, but
/// binding a `$N` parameter is linear in the statement's parameters on SQLite (sqlx looks up
/// every parameter's name, and SQLite finds it by a linear scan of the statement's parameter
/// list), so a statement's binding is quadratic in this number. At 4,000 that lookup was 57 %
/// of the SQLite writer's CPU at 1,000 checks/s (perf, `vedette-bench`); at 256 the writer's
/// CPU per check fell from 0.33 to 0.07 ms, for a few more, shorter statements. The write
/// path's multi-row statements now number none of their parameters on SQLite (see
/// [`values_rows`]), which makes binding linear.
///
/// Multi-row statements are run with `persistent(false)`: their text varies with the row count,
/// so caching them would only churn the statement cache, and sqlx 0.9's `Any` driver binds a
/// NULL `f64` as a NULL `FLOAT4`, so a cached PostgreSQL statement first prepared with a NULL
/// float would reject every later non-NULL one ("incorrect binary data format").
pub(crate) const MAX_BINDS: usize = 256;

/// Where the store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Directory for local state; the SQLite database is `<data_dir>/vedette.db` unless
    /// `database_url` says otherwise.
    pub data_dir: PathBuf,
    /// `postgres://...` (or `postgresql://...`) for PostgreSQL, `sqlite://PATH` for a SQLite
    /// file elsewhere; SQLite in `data_dir` when absent.
    pub database_url: Option<String>,
}

impl StoreConfig {
    /// SQLite in `data_dir`.
    pub fn sqlite(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
        }
    }
}

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Lowercase name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A handle on the database; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The resource changes committed through this handle or its clones, for the change-feed
    /// readers of this process (see [`crate::changes`]).
    pub(crate) local: Arc<crate::changes::LocalFeed>,
}

impl Store {
    /// Opens (creating when needed) the database, applies pending migrations and returns the
    /// store. SQLite databases are put in WAL mode with `synchronous=NORMAL` and a busy timeout.
    pub async fn open(cfg: &StoreConfig) -> Result<Store, StoreError> {
        install_default_drivers();
        let (backend, url) = match &cfg.database_url {
            None => {
                create_data_dir(&cfg.data_dir)?;
                (
                    Backend::Sqlite,
                    sqlite_url(&cfg.data_dir.join(SQLITE_FILE))?,
                )
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (Backend::Postgres, url.clone())
            }
            Some(url) if url.starts_with("sqlite:") => (Backend::Sqlite, url.clone()),
            Some(url) => {
                return Err(StoreError::Config(format!(
                    "database_url must start with postgres://, postgresql:// or sqlite:, got {:?}",
                    url.split(':').next().unwrap_or_default()
                )));
            }
        };

        let pool = match backend {
            Backend::Sqlite => {
                prepare_sqlite(&url).await?;
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::raw_sql(
                                "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                            )
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
                    .map_err(|e| sqlite_open_error(&url, e))?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .connect(&url)
                    .await?
            }
        };
        let store = Store {
            pool,
            backend,
            local: Arc::default(),
        };
        crate::migrate::run(&store).await?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does (for readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::raw_sql("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so a read-then-write never fails with a lock upgrade; on PostgreSQL
    /// it serialises writers of results and rollups with a table lock, which also makes event
    /// sequence numbers commit in order (an outbox reader never skips a late commit).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::raw_sql("LOCK TABLE rollups IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
}

/// Creates the data directory (and its parents) when missing; the error names the path and
/// says when it exists but is not a directory.
pub(crate) fn create_data_dir(path: &Path) -> Result<(), StoreError> {
    let error = |source| StoreError::DataDir {
        path: path.to_owned(),
        source,
    };
    if path.exists() && !path.is_dir() {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "it exists but is not a directory",
        )));
    }
    std::fs::create_dir_all(path).map_err(error)
}

impl Store {
    /// Starts a transaction that writes versioned resources: on SQLite with the write lock up
    /// front (`BEGIN IMMEDIATE`, so its read-then-write never fails with a lock upgrade); on
    /// PostgreSQL a plain one, whose change row takes the feed's lock last (see
    /// [`crate::changes`]).
    pub(crate) async fn begin_resource_write(
        &self,
    ) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => Ok(self.pool.begin().await?),
        }
    }

    /// Starts a transaction that serialises with every other one taken on `table` this way: on
    /// SQLite the write lock up front (`BEGIN IMMEDIATE`), on PostgreSQL a self-conflicting
    /// `SHARE ROW EXCLUSIVE` lock on `table` (plain reads still proceed). For check-then-write
    /// rules that span rows, such as "keep one admin token" or "one monitor per push token".
    pub(crate) async fn begin_serialized(
        &self,
        table: &'static str,
    ) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"
                )))
                .execute(&mut *tx)
                .await?;
                Ok(tx)
            }
        }
    }
}

/// Creates the SQLite file when missing and switches it to WAL (a persistent setting, done once
/// here with a native connection because the `Any` URL cannot carry it).
async fn prepare_sqlite(url: &str) -> Result<(), StoreError> {
    let opened = async {
        let mut conn = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .connect()
            .await?;
        sqlx::raw_sql("SELECT 1").execute(&mut conn).await?;
        conn.close().await
    };
    opened.await.map_err(|e| sqlite_open_error(url, e))
}

/// A failure to open the SQLite database at `url`, naming its file.
fn sqlite_open_error(url: &str, source: sqlx::Error) -> StoreError {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    StoreError::SqliteOpen {
        path: path
            .replace("%3F", "?")
            .replace("%23", "#")
            .replace("%25", "%"),
        source,
    }
}

/// A `sqlite://` URL for `path`, escaping the characters the URL parser would misread.
fn sqlite_url(path: &Path) -> Result<String, StoreError> {
    let text = path
        .to_str()
        .ok_or_else(|| StoreError::Config(format!("data_dir is not UTF-8: {}", path.display())))?;
    let escaped = text
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok(format!("sqlite://{escaped}"))
}

/// The row `sql` selects with `key` bound to `$1`, decoded with `decode`; `None` when there is
/// no such row.
pub(crate) async fn fetch_by_key<T>(
    pool: &AnyPool,
    sql: String,
    key: &str,
    decode: fn(&AnyRow) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    sqlx::query(AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// A timestamp as stored: unix milliseconds.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored timestamp back as a `DateTime`.
pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} ms is out of range")))
}

/// An optional stored timestamp back as a `DateTime`.
pub(crate) fn from_opt_ms(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_ms).transpose()
}

/// Parses stored JSON, naming `what` when it is not what was written.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Parses a stored lowercase enum name (`up`, `body_too_large`, ...) through its serde form.
pub(crate) fn parse_name<T: DeserializeOwned>(name: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("{what} {name:?}: {e}")))
}

/// A stored count that must not be negative.
pub(crate) fn to_count(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} is negative ({v})")))
}

/// A count for storage.
pub(crate) fn from_count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `($1,$2,..),(..)` for `rows` rows of `cols` parameters, the only parameters of a multi-row
/// statement run on `conn`; on SQLite `(?,?,..),(..)`: SQLite binds unnamed parameters in order
/// without the name lookup that makes binding numbered ones quadratic (see [`MAX_BINDS`]).
pub(crate) fn values_rows(conn: &AnyConnection, rows: usize, cols: usize) -> String {
    rows_of(rows, cols, unnamed(conn))
}

/// Whether statements on `conn` take unnamed `?` parameters (SQLite) rather than `$n`.
fn unnamed(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// A statement on either database.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// `$first, $first + 1, ..`: the placeholders of `count` parameters bound in that order, such
/// as an `IN (..)` list (see [`bind_each`]).
pub(crate) fn params_from(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `query` with each of `values` bound next, in order.
pub(crate) fn bind_each<'q, 'v>(
    query: AnyQuery<'q>,
    values: impl IntoIterator<Item = &'v str>,
) -> AnyQuery<'q> {
    values
        .into_iter()
        .fold(query, |query, value| query.bind(value))
}

/// `$1, $2, ..` (on SQLite `?, ?, ..`) for the `n` parameters of a statement run on `conn`
/// that has no others, such as an `IN (..)` list; see [`values_rows`].
pub(crate) fn param_list(conn: &AnyConnection, n: usize) -> String {
    if unnamed(conn) {
        vec!["?"; n].join(", ")
    } else {
        params_from(1, n)
    }
}

fn rows_of(rows: usize, cols: usize, unnamed: bool) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push(',');
            }
            if unnamed {
                out.push('?');
            } else {
                out.push('$');
                out.push_str(&(1 + r * cols + c).to_string());
            }
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rows_numbers_parameters() {
        assert_eq!(rows_of(2, 3, false), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(rows_of(2, 2, true), "(?,?),(?,?)");
    }

    #[test]
    fn sqlite_url_escapes_reserved_characters() {
        let url = sqlite_url(Path::new("/tmp/a?b#c%d/vedette.db")).expect("utf-8 path");
        assert_eq!(url, "sqlite:///tmp/a%3Fb%23c%25d/vedette.db");
    }
}
