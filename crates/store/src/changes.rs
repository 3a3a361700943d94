//! The change feed of versioned resources: every committed write or delete of a [`Stored`]
//! kind has a row in `resource_changes`, written in the same transaction and numbered in commit
//! order, so readers (the engine of every server on the database) page through committed
//! changes by sequence number and never see a rolled-back one.
//!
//! Commit order: SQLite serialises writers itself; on PostgreSQL the change rows are inserted
//! under an `EXCLUSIVE` lock on `resource_changes`, taken before a transaction's first change
//! row (after its other writes when it writes one resource) and held to its commit, so
//! sequence numbers commit in order and a reader that has seen `n` never later finds a smaller
//! one. Plain reads do not wait for that lock.
//!
//! Wake-ups: a commit through a [`Store`] wakes the readers of that store and its clones at
//! once; on PostgreSQL it also sends `NOTIFY vedette_resource_changes` with the newest
//! sequence number the transaction recorded (delivered on commit, dropped on rollback), which
//! wakes readers in every other process. Readers also poll, so a lost notification only delays
//! a change.
//!
//! Hand-over: a store also keeps the last [`LOCAL_CHANGES_KEPT`] changes committed through it
//! (or a clone) with the records they wrote ([`Store::local_change`]), so a reader in the same
//! process need not read back from the database what was just written there.
//!
//! [`Stored`]: crate::Stored

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgNotification};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::watch;
use tokio::time::Instant;
use vedette_model::{Record, Version};

use crate::db::{Backend, MAX_BINDS, to_ms, values_rows};
use crate::{Store, StoreError, Stored};

/// Most changes one call of [`Store::changes_after`] returns.
pub const MAX_CHANGES_PAGE: u32 = 1000;

/// The PostgreSQL notification channel a committed change is announced on.
const CHANNEL: &str = "vedette_resource_changes";

/// Changes committed through a store that it keeps, with their records, for its readers
/// ([`Store::local_change`]); a reader further behind reads them from the database.
pub const LOCAL_CHANGES_KEPT: usize = 1024;

/// How long a reader waits before connecting its PostgreSQL listener again after a failure
/// (it polls meanwhile).
const LISTEN_RETRY: Duration = Duration::from_secs(30);

/// One committed change of a versioned resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its place in the feed; increasing in commit order (with gaps).
    pub seq: i64,
    /// The kind: its [`Stored::TABLE`](crate::Stored::TABLE), e.g. `monitors`.
    pub kind: String,
    /// The resource's id.
    pub id: String,
    /// The version written; 0 when the resource was deleted.
    pub version: Version,
}

impl Change {
    /// Whether the change deleted the resource.
    pub fn is_delete(&self) -> bool {
        self.version == 0
    }
}

/// A change committed through this process's store, with what it wrote.
#[derive(Clone)]
pub struct LocalChange {
    /// The change as the feed lists it.
    pub change: Change,
    /// The record written (a `Record<S>` of the change's kind); `None` for a delete.
    record: Option<Arc<dyn Any + Send + Sync>>,
}

impl LocalChange {
    /// The record written, when the change wrote a `Record<S>`.
    pub fn record<S: Stored>(&self) -> Option<&Record<S>> {
        self.record.as_deref()?.downcast_ref()
    }
}

impl std::fmt::Debug for LocalChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalChange")
            .field("change", &self.change)
            .finish_non_exhaustive()
    }
}

/// What a store (and its clones) remembers of the changes committed through it.
#[derive(Debug)]
pub(crate) struct LocalFeed {
    /// The newest sequence number committed; wakes readers.
    newest: watch::Sender<i64>,
    /// The last [`LOCAL_CHANGES_KEPT`] changes by sequence number (commits may be announced
    /// slightly out of order).
    recent: Mutex<BTreeMap<i64, LocalChange>>,
}

impl Default for LocalFeed {
    fn default() -> Self {
        Self {
            newest: watch::channel(0).0,
            recent: Mutex::default(),
        }
    }
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    /// Changes after the cursor asked for, ascending.
    pub changes: Vec<Change>,
    /// Changes right after the cursor may have been pruned (see [`Store::prune_changes`]): the
    /// reader missed them and must reload every resource it follows.
    pub pruned: bool,
}

/// The changes one transaction records. On PostgreSQL the feed's lock is taken before the
/// first and held to commit, and one `NOTIFY` ([`announce`](Self::announce)) names the newest:
/// a batch of writes pays each once, not once per resource.
pub(crate) struct ChangeBatch {
    backend: Backend,
    locked: bool,
    newest: Option<i64>,
}

impl ChangeBatch {
    /// No change recorded yet.
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            backend,
            locked: false,
            newest: None,
        }
    }

    /// Records a change of `kind`/`id` (version 0: deleted) inside `conn`'s transaction; the
    /// change's sequence number, to [`Store::publish`] once committed.
    pub(crate) async fn append(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        kind: &str,
        id: &str,
        version: Version,
    ) -> Result<i64, StoreError> {
        self.lock(conn).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO resource_changes (kind, id, version, changed_at) \
             VALUES ($1, $2, $3, $4) RETURNING seq",
        )
        .bind(kind)
        .bind(id)
        .bind(version)
        .bind(to_ms(Utc::now()))
        .fetch_one(&mut *conn)
        .await?;
        self.noted(seq);
        Ok(seq)
    }

    /// Records a change of each `(id, version)` of `kind` (ids distinct), in multi-row
    /// statements; their sequence numbers, in the same order.
    pub(crate) async fn append_many(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        kind: &str,
        written: &[(&str, Version)],
    ) -> Result<Vec<i64>, StoreError> {
        const COLS: usize = 4;
        if written.is_empty() {
            return Ok(Vec::new());
        }
        self.lock(conn).await?;
        let now = to_ms(Utc::now());
        let mut seqs: HashMap<String, i64> = HashMap::with_capacity(written.len());
        for chunk in written.chunks(MAX_BINDS / COLS) {
            let sql = format!(
                "INSERT INTO resource_changes (kind, id, version, changed_at) VALUES {} \
                 RETURNING seq, id",
                values_rows(conn, chunk.len(), COLS)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for (id, version) in chunk {
                query = query.bind(kind).bind(*id).bind(*version).bind(now);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let seq: i64 = row.try_get(0)?;
                self.noted(seq);
                seqs.insert(row.try_get(1)?, seq);
            }
        }
        written
            .iter()
            .map(|(id, _)| {
                seqs.get(*id).copied().ok_or_else(|| {
                    StoreError::Corrupt(format!("no change was recorded for {kind} {id}"))
                })
            })
            .collect()
    }

    /// On PostgreSQL, takes the feed's lock before the transaction's first change row.
    async fn lock(&mut self, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres && !self.locked {
            sqlx::raw_sql("LOCK TABLE resource_changes IN EXCLUSIVE MODE")
                .execute(&mut *conn)
                .await?;
            self.locked = true;
        }
        Ok(())
    }

    /// Keeps `seq` if it is the newest recorded, for [`announce`](Self::announce).
    fn noted(&mut self, seq: i64) {
        self.newest = Some(self.newest.map_or(seq, |n| n.max(seq)));
    }

    /// Announces the newest change recorded to the other processes (PostgreSQL `NOTIFY`,
    /// delivered on commit): the transaction's last statement before it commits. Nothing when
    /// no change was recorded or on SQLite.
    pub(crate) async fn announce(self, conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        if let (Backend::Postgres, Some(seq)) = (self.backend, self.newest) {
            sqlx::raw_sql(AssertSqlSafe(format!("NOTIFY {CHANNEL}, '{seq}'")))
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Announces the committed change `seq` of the `S` named `id` to this process's feed
    /// readers, with the record it wrote (`None`: it deleted the resource), and wakes them.
    pub(crate) fn publish<S: Stored>(&self, seq: i64, id: &str, written: Option<&Record<S>>) {
        let committed = LocalChange {
            change: Change {
                seq,
                kind: S::TABLE.to_owned(),
                id: id.to_owned(),
                version: written.map_or(0, |r| r.version),
            },
            record: written.map(|r| Arc::new(r.clone()) as Arc<dyn Any + Send + Sync>),
        };
        {
            let mut recent = self.local.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent.insert(seq, committed);
            while recent.len() > LOCAL_CHANGES_KEPT {
                recent.pop_first();
            }
        }
        self.local.newest.send_if_modified(|newest| {
            let newer = seq > *newest;
            if newer {
                *newest = seq;
            }
            newer
        });
    }

    /// The newest change committed through this store (or a clone), 0 when none yet: a write
    /// that returned is at or before it.
    pub fn local_change_seq(&self) -> i64 {
        *self.local.newest.borrow()
    }

    /// The change `seq` with the record it wrote, when it was committed through this store
    /// (or a clone) among the last [`LOCAL_CHANGES_KEPT`]; otherwise read it from the feed.
    pub fn local_change(&self, seq: i64) -> Option<LocalChange> {
        let recent = self.local.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.get(&seq).cloned()
    }

    /// Changes with a sequence number above `after`, ascending, at most `limit` (1 to
    /// [`MAX_CHANGES_PAGE`]); with whether some right after `after` may have been pruned.
    pub async fn changes_after(&self, after: i64, limit: u32) -> Result<ChangePage, StoreError> {
        // One statement, so the page and the oldest change come from one snapshot. An empty
        // page is never a pruned one: pruning keeps the newest change.
        let rows = sqlx::query(
            "SELECT seq, kind, id, version, (SELECT MIN(seq) FROM resource_changes) AS oldest \
             FROM resource_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.clamp(1, MAX_CHANGES_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        let oldest: Option<i64> = rows.first().map(|row| row.try_get("oldest")).transpose()?;
        let changes = rows
            .iter()
            .map(|row| {
                Ok(Change {
                    seq: row.try_get("seq")?,
                    kind: row.try_get("kind")?,
                    id: row.try_get("id")?,
                    version: row.try_get("version")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(ChangePage {
            changes,
            pruned: oldest.is_some_and(|oldest| oldest > after.saturating_add(1)),
        })
    }

    /// The sequence number of the newest change (0 when there is none): where a reader that
    /// loads every resource now goes on from.
    pub async fn last_change_seq(&self) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM resource_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Deletes the changes made before `before`, except the newest one; how many. A reader
    /// further behind than that learns it from [`ChangePage::pruned`].
    pub async fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM resource_changes WHERE changed_at < $1 \
             AND seq < (SELECT MAX(seq) FROM resource_changes)",
        )
        .bind(to_ms(before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// What wakes a reader of the feed of this store.
    pub fn change_signals(&self) -> ChangeSignals {
        let listen_url = (self.backend() == Backend::Postgres)
            .then(|| self.pool.connect_options().database_url.to_string());
        ChangeSignals {
            local: self.local.newest.subscribe(),
            listen_url,
            listener: None,
            retry_at: None,
        }
    }
}

/// What wakes a feed reader: a commit through the same store (or a clone), a PostgreSQL
/// notification from any process, or the reader's poll interval.
pub struct ChangeSignals {
    local: watch::Receiver<i64>,
    /// Where to LISTEN (PostgreSQL only).
    listen_url: Option<String>,
    listener: Option<PgListener>,
    /// When to connect the listener again after it failed.
    retry_at: Option<Instant>,
}

impl std::fmt::Debug for ChangeSignals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeSignals")
            .field("listening", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// What ended a [`ChangeSignals::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A commit through the same store (or a clone): [`Store::local_change_seq`] says which,
    /// [`Store::local_change`] what it wrote.
    Local,
    /// PostgreSQL notifications: changes through this sequence number are committed
    /// (`i64::MAX` when a notification did not say).
    Notified(i64),
    /// The timeout passed: any change may have been committed elsewhere.
    Timeout,
}

impl ChangeSignals {
    /// Waits until a change may have been committed, or at most `timeout`; what woke it. An
    /// error says the PostgreSQL listener failed (after the wait): the reader should read the
    /// feed, waits go on by poll and local wake-ups, and the listener is connected again later.
    pub async fn wait(&mut self, timeout: Duration) -> Result<Wake, StoreError> {
        let connected = self.connect(timeout).await;
        let local = &mut self.local;
        let local = async move {
            if local.changed().await.is_err() {
                // Every store handle is gone: nothing local will wake this reader again.
                std::future::pending::<()>().await;
            }
        };
        let listened = tokio::select! {
            // Notifications first: they cover local commits too, and one left waiting is
            // only taken at the next wait.
            biased;
            heard = heard(self.listener.as_mut()) => heard.map(Wake::Notified),
            () = local => Ok(Wake::Local),
            () = tokio::time::sleep(timeout) => Ok(Wake::Timeout),
        };
        if listened.is_err() {
            self.listener = None;
            self.retry_at = Some(Instant::now() + LISTEN_RETRY);
        }
        connected.and(listened.map_err(StoreError::from))
    }

    /// Connects the PostgreSQL listener when there should be one and it is due.
    async fn connect(&mut self, timeout: Duration) -> Result<(), StoreError> {
        let Some(url) = &self.listen_url else {
            return Ok(());
        };
        if self.listener.is_some() || self.retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(());
        }
        let connecting = async {
            let mut listener = PgListener::connect(url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match tokio::time::timeout(timeout, connecting).await {
            Ok(Ok(listener)) => {
                self.listener = Some(listener);
                self.retry_at = None;
                Ok(())
            }
            Ok(Err(e)) => {
                self.retry_at = Some(Instant::now() + LISTEN_RETRY);
                Err(e.into())
            }
            Err(_) => {
                self.retry_at = Some(Instant::now() + LISTEN_RETRY);
                Err(StoreError::Database(sqlx::Error::PoolTimedOut))
            }
        }
    }
}

/// Waits for a notification on `listener` (forever without one), then takes the ones already
/// buffered with it: one wake-up for a burst of commits; the newest change they announce.
async fn heard(listener: Option<&mut PgListener>) -> Result<i64, sqlx::Error> {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    let announced = |n: PgNotification| n.payload().parse().unwrap_or(i64::MAX);
    let mut newest = announced(listener.recv().await?);
    while let Some(n) = listener.next_buffered() {
        newest = newest.max(announced(n));
    }
    Ok(newest)
}
