//! The instance lock: one scheduler per database. Two `vedette serve` processes on one
//! database would check every monitor twice and open duplicate incidents, so the server takes
//! this lock before anything else and holds it for its whole life.
//!
//! - SQLite: an exclusive `flock` on `<data dir>/vedette.lock` (or `<database file>.lock` for a
//!   `sqlite:` URL), which holds the holder's pid. The kernel releases it when the process
//!   ends, even on `kill -9`.
//! - PostgreSQL: a session-level `pg_try_advisory_lock` held on a dedicated connection (its
//!   `application_name` names the holder's pid). The server checks that connection with
//!   [`InstanceLock::check`]; when it is lost the lock is gone and the server must stop.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::StoreConfig;
use crate::error::StoreError;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "vedette.lock";

/// The PostgreSQL advisory lock key ("vedette" and 1 in ASCII), scoped to one database.
pub const ADVISORY_LOCK_KEY: i64 = 0x7665_6465_7474_6501;

/// The `application_name` prefix of the connection holding the PostgreSQL lock.
const APPLICATION_NAME: &str = "vedette-scheduler-lock";

/// The held lock; released when dropped (or with [`InstanceLock::release`]).
#[derive(Debug)]
pub struct InstanceLock {
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// The open, `flock`ed lock file (closing it releases the lock).
    File { file: File, path: PathBuf },
    /// The connection whose session holds the advisory lock.
    Postgres {
        conn: PgConnection,
        database: String,
    },
    /// An in-memory SQLite database: nothing else can share it.
    Nothing,
}

impl InstanceLock {
    /// Takes the lock for the database `cfg` names, without waiting: fails with
    /// [`StoreError::Locked`] (naming the lock and its holder) when another process holds it.
    /// For the default SQLite database this creates the data directory.
    pub async fn acquire(cfg: &StoreConfig) -> Result<InstanceLock, StoreError> {
        let held = match cfg.database_url.as_deref() {
            None => {
                crate::db::create_data_dir(&cfg.data_dir)?;
                lock_file(&cfg.data_dir.join(LOCK_FILE))?
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                lock_postgres(url).await?
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)?;
                let db = options.get_filename();
                if db.as_os_str().is_empty() || db == Path::new(":memory:") {
                    Held::Nothing
                } else {
                    let mut path = db.as_os_str().to_owned();
                    path.push(".lock");
                    lock_file(Path::new(&path))?
                }
            }
            // Store::open refuses the URL with a clear message.
            Some(_) => Held::Nothing,
        };
        Ok(InstanceLock { held })
    }

    /// What is locked: the lock file's path or the database's `host:port/name`.
    pub fn describe(&self) -> String {
        match &self.held {
            Held::File { path, .. } => path.display().to_string(),
            Held::Postgres { database, .. } => format!("PostgreSQL database {database}"),
            Held::Nothing => "an in-memory database".to_owned(),
        }
    }

    /// Whether the lock can be lost while the process runs (a database connection can; a
    /// file lock cannot), so [`check`](Self::check) is worth calling periodically.
    pub fn can_be_lost(&self) -> bool {
        matches!(self.held, Held::Postgres { .. })
    }

    /// The lock file, for a lock held with `flock` (SQLite). The kernel lets the lock go only
    /// when its holder releases it or ends, so state kept beside the file by a previous holder
    /// belongs to a process that is gone.
    pub fn file(&self) -> Option<&Path> {
        match &self.held {
            Held::File { path, .. } => Some(path),
            Held::Postgres { .. } | Held::Nothing => None,
        }
    }

    /// Confirms the lock is still held: on PostgreSQL, that its connection still answers and
    /// its session still holds the advisory lock. An error means another process may now
    /// take the lock, so this one must stop scheduling.
    pub async fn check(&mut self) -> Result<(), StoreError> {
        let Held::Postgres { conn, database } = &mut self.held else {
            return Ok(());
        };
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() \
             AND locktype = 'advisory' AND granted AND objsubid = 1 \
             AND classid::bigint = $1 AND objid::bigint = $2)",
        )
        .bind(ADVISORY_LOCK_KEY >> 32)
        .bind(ADVISORY_LOCK_KEY & 0xffff_ffff)
        .fetch_one(&mut *conn)
        .await?;
        if held {
            Ok(())
        } else {
            Err(StoreError::LockLost(format!(
                "the advisory lock on PostgreSQL database {database} is no longer held"
            )))
        }
    }

    /// Releases the lock now (dropping it does too; this also closes a PostgreSQL connection
    /// cleanly).
    pub async fn release(self) {
        match self.held {
            Held::File { file, .. } => drop(file),
            Held::Postgres { mut conn, .. } => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(ADVISORY_LOCK_KEY)
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
            Held::Nothing => {}
        }
    }
}

/// `flock`s `path` (creating it) and writes this process's pid into it.
fn lock_file(path: &Path) -> Result<Held, StoreError> {
    let io_error = |source| StoreError::LockFile {
        path: path.to_owned(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(StoreError::Locked {
                lock: path.display().to_string(),
                holder: if pid.is_empty() {
                    "another process".to_owned()
                } else {
                    format!("process {pid}")
                },
            });
        }
        Err(TryLockError::Error(source)) => return Err(io_error(source)),
    }
    file.set_len(0).map_err(io_error)?;
    file.rewind().map_err(io_error)?;
    writeln!(file, "{}", std::process::id()).map_err(io_error)?;
    file.sync_data().map_err(io_error)?;
    Ok(Held::File {
        file,
        path: path.to_owned(),
    })
}

/// Takes the advisory lock on a dedicated connection.
async fn lock_postgres(url: &str) -> Result<Held, StoreError> {
    let options = PgConnectOptions::from_str(url)?
        .application_name(&format!("{APPLICATION_NAME} pid {}", std::process::id()));
    let database = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options
            .get_database()
            .unwrap_or_else(|| options.get_username())
    );
    let mut conn = options.connect().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(ADVISORY_LOCK_KEY)
        .fetch_one(&mut conn)
        .await?;
    if locked {
        return Ok(Held::Postgres { conn, database });
    }
    let holder: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.application_name, host(a.client_addr) FROM pg_locks l \
         JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
         AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         LIMIT 1",
    )
    .bind(ADVISORY_LOCK_KEY >> 32)
    .bind(ADVISORY_LOCK_KEY & 0xffff_ffff)
    .fetch_optional(&mut conn)
    .await
    .unwrap_or_default();
    let _ = conn.close().await;
    let holder = match holder {
        Some((name, addr)) => {
            let who = name.strip_prefix(APPLICATION_NAME).map_or_else(
                || format!("session {name:?}"),
                |pid| format!("vedette {}", pid.trim()),
            );
            match addr {
                Some(addr) => format!("{who} connected from {addr}"),
                None => format!("{who} on a local socket"),
            }
        }
        None => "another session".to_owned(),
    };
    Err(StoreError::Locked {
        lock: format!("advisory lock {ADVISORY_LOCK_KEY} on PostgreSQL database {database}"),
        holder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_lock_on_one_data_dir_is_refused_with_the_holder_pid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = StoreConfig::sqlite(dir.path().join("data"));
        let first = InstanceLock::acquire(&cfg).await.expect("first lock");
        let err = InstanceLock::acquire(&cfg).await.expect_err("second lock");
        let text = err.to_string();
        assert!(text.contains(LOCK_FILE), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        first.release().await;
        InstanceLock::acquire(&cfg)
            .await
            .expect("lock again after release");
    }

    #[tokio::test]
    async fn a_sqlite_url_is_locked_next_to_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("elsewhere.db");
        let cfg = StoreConfig {
            data_dir: dir.path().join("unused"),
            database_url: Some(format!("sqlite://{}", file.display())),
        };
        let first = InstanceLock::acquire(&cfg).await.expect("first lock");
        assert_eq!(first.describe(), format!("{}.lock", file.display()));
        let err = InstanceLock::acquire(&cfg).await.expect_err("second lock");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(!first.can_be_lost());
    }
}
