//! Versioned resources (monitors, maintenance windows, webhook endpoints, and every kind to
//! come): one table per kind with the same columns — id, labels, spec JSON, source, version,
//! timestamps — and one optimistic-concurrency path for all of them. A kind is a spec type implementing [`Stored`].
//! Every write or delete that changes a row also appends to the change feed in its
//! transaction ([`crate::changes`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use vedette_model::discovery::DiscoverySourceSpec;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::verification::VerificationSpec;
use vedette_model::{Event, MonitorSpec, Record, Version};

use crate::changes::ChangeBatch;
use crate::db::{MAX_BINDS, bind_each, from_json, from_ms, param_list, to_ms, values_rows};
use crate::{Store, StoreError};

/// Attempts of an unconditional write before giving up with [`StoreError::Contention`].
const PUT_ATTEMPTS: usize = 8;

/// A spec type stored as a versioned resource.
pub trait Stored: Serialize + DeserializeOwned + PartialEq + Clone + Send + Sync + 'static {
    /// The table holding this kind (a constant, never user input); also the kind's name in
    /// the change feed ([`Change::kind`](crate::Change::kind)).
    const TABLE: &'static str;
    /// What errors call one of these: `monitor`, `maintenance window`.
    const KIND: &'static str;
    /// Rows of other tables that go with a resource when it is deleted, as `(table, column
    /// holding its id)`: a webhook endpoint's messages and delivery log.
    const OWNED: &'static [(&'static str, &'static str)] = &[];

    /// Columns kept beside the spec (not part of it, not versioned) that writing this spec
    /// over a stored one resets to NULL: enabling a webhook endpoint again clears its
    /// delivery health ([`crate::webhooks::HEALTH_COLUMNS`]).
    fn resets(&self) -> &'static [&'static str] {
        &[]
    }

    /// Events a write causes, appended to the outbox in the write's own transaction so no
    /// notification is lost: `before` is the stored record (`None`: a create), `after` the one
    /// written. None by default.
    fn events(_before: Option<&Record<Self>>, _after: &Record<Self>) -> Vec<Event> {
        Vec::new()
    }
}

impl Stored for MonitorSpec {
    const TABLE: &'static str = "monitors";
    const KIND: &'static str = "monitor";
}

impl Stored for MaintenanceSpec {
    const TABLE: &'static str = "maintenance_windows";
    const KIND: &'static str = "maintenance window";
}

impl Stored for VerificationSpec {
    const TABLE: &'static str = "verifications";
    const KIND: &'static str = "verification";
}

impl Stored for StatusPageSpec {
    const TABLE: &'static str = "status_pages";
    const KIND: &'static str = "status page";
}

impl Stored for DiscoverySourceSpec {
    const TABLE: &'static str = "discovery_sources";
    const KIND: &'static str = "discovery source";
    const OWNED: &'static [(&'static str, &'static str)] = &[("discovery_statuses", "id")];
}

/// A maintenance window as stored.
pub type MaintenanceRecord = Record<MaintenanceSpec>;

const COLUMNS: &str = "id, labels, spec, source, version, created_at, updated_at";

fn decode<S: Stored>(row: &AnyRow) -> Result<Record<S>, StoreError> {
    let id: String = row.try_get("id")?;
    let what = |field: &str| format!("{field} of {} {id}", S::KIND);
    let source: String = row.try_get("source")?;
    Ok(Record {
        labels: from_json(&row.try_get::<String, _>("labels")?, &what("labels"))?,
        spec: from_json(&row.try_get::<String, _>("spec")?, &what("spec"))?,
        source: source
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("source"))))?,
        version: row.try_get("version")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
        id,
    })
}

impl Store {
    /// Writes a resource. A new one gets version 1; an existing one keeps its `created_at`
    /// and gets version + 1 when labels, spec or source changed (otherwise it is returned
    /// unchanged). With `if_version` the write is one attempt that succeeds only while the
    /// stored version is that one (0: must not exist), else [`StoreError::VersionConflict`]:
    /// the caller, who derived the record from what it read, decides whether to retry.
    /// Without, it retries against concurrent writers itself.
    pub async fn put<S: Stored>(
        &self,
        record: &Record<S>,
        if_version: Option<Version>,
    ) -> Result<Record<S>, StoreError> {
        if let Some(expected) = if_version {
            return self.put_in_transaction(record, Some(expected)).await;
        }
        for _ in 0..PUT_ATTEMPTS {
            match self.put_in_transaction(record, None).await {
                Err(StoreError::VersionConflict { .. }) => continue,
                done => return done,
            }
        }
        Err(StoreError::Contention(record.id.clone()))
    }

    /// One attempt of [`put`](Self::put) in a transaction of its own, with its change.
    async fn put_in_transaction<S: Stored>(
        &self,
        record: &Record<S>,
        if_version: Option<Version>,
    ) -> Result<Record<S>, StoreError> {
        let mut tx = self.begin_resource_write().await?;
        let mut changes = ChangeBatch::new(self.backend());
        let written = put_once(&mut tx, &mut changes, record, if_version).await?;
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        Ok(self.published(written))
    }

    /// One resource by id.
    pub async fn get<S: Stored>(&self, id: &str) -> Result<Option<Record<S>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        get_in(&mut conn, id).await
    }

    /// The resources of `ids` that exist, in no particular order: one query per
    /// [`MAX_BINDS`] ids rather than one per id, for readers of a page of the change feed.
    pub async fn get_many<S: Stored>(&self, ids: &[&str]) -> Result<Vec<Record<S>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        get_many_in(&mut conn, ids).await
    }

    /// Every resource of a kind, by id.
    pub async fn list<S: Stored>(&self) -> Result<Vec<Record<S>>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {} ORDER BY id", S::TABLE);
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Up to `limit` resources of a kind with ids after `after` (`""`: from the first), by id:
    /// for readers of every resource that should not hold them all at once.
    pub async fn list_after<S: Stored>(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Record<S>>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {} WHERE id > $1 ORDER BY id LIMIT $2",
            S::TABLE
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Deletes a resource that holds nothing else (monitors have
    /// [`delete_monitor`](Self::delete_monitor)); whether it existed.
    pub async fn delete<S: Stored>(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_resource_write().await?;
        let mut changes = ChangeBatch::new(self.backend());
        let change = delete_in::<S>(&mut tx, &mut changes, id).await?;
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        if let Some(seq) = change {
            self.publish::<S>(seq, id, None);
        }
        Ok(change.is_some())
    }

    /// The record of a committed [`put_once`], its change announced.
    pub(crate) fn published<S: Stored>(&self, written: Written<S>) -> Record<S> {
        if let Some(seq) = written.change {
            self.publish(seq, &written.record.id, Some(&written.record));
        }
        written.record
    }
}

/// What [`put_once`] wrote, to announce once its transaction commits.
pub(crate) struct Written<S> {
    /// The record as stored.
    pub(crate) record: Record<S>,
    /// The sequence number of its change; `None` when nothing changed.
    pub(crate) change: Option<i64>,
}

/// One write of `record` inside `conn`'s transaction, its change recorded in `changes`: only
/// while the stored version is `expected` (0: absent; `None`: whichever version is stored when
/// read here). The stored record is built from what was written, without reading it back.
pub(crate) async fn put_once<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    changes: &mut ChangeBatch,
    record: &Record<S>,
    expected: Option<Version>,
) -> Result<Written<S>, StoreError> {
    let current = get_in::<S>(conn, &record.id).await?;
    put_read(conn, changes, record, current, expected).await
}

/// Many writes inside `conn`'s transaction, each like [`put_once`], with their
/// changes recorded in `changes`: the stored records are read in one query per [`MAX_BINDS`]
/// ids, and the new ones are inserted, and their changes recorded, in multi-row statements,
/// so a batch of thousands costs tens of statements instead of three per resource (a write
/// of an id already written in the batch is made after the others, alone). Each write's
/// outcome in order: a version conflict fails that write alone; any other error fails
/// them all.
pub(crate) async fn put_many<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    changes: &mut ChangeBatch,
    writes: &[(&Record<S>, Option<Version>)],
) -> Result<Vec<Result<Written<S>, StoreError>>, StoreError> {
    let ids: Vec<&str> = writes.iter().map(|(r, _)| r.id.as_str()).collect();
    let mut stored: HashMap<String, Record<S>> = get_many_in::<S>(conn, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let mut outcomes: Vec<Option<Result<Written<S>, StoreError>>> =
        writes.iter().map(|_| None).collect();
    let mut fresh = Vec::new();
    // A later write of an id already in the batch waits for the others, to see what they did.
    let mut again = Vec::new();
    let mut distinct = HashSet::with_capacity(writes.len());
    for (i, (record, expected)) in writes.iter().enumerate() {
        if !distinct.insert(record.id.as_str()) {
            again.push(i);
            continue;
        }
        let current = stored.remove(&record.id);
        if current.is_none() && expected.unwrap_or(0) == 0 {
            fresh.push(i);
            continue;
        }
        outcomes[i] = Some(conflict_alone(
            put_read(conn, changes, record, current, *expected).await,
        )?);
    }
    let now = Utc::now();
    let mut inserted = HashSet::with_capacity(fresh.len());
    for chunk in fresh.chunks(MAX_BINDS / INSERT_BINDS) {
        let sql = format!(
            "INSERT INTO {} ({COLUMNS}) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
            S::TABLE,
            values_rows(conn, chunk.len(), INSERT_BINDS)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for &i in chunk {
            let record = writes[i].0;
            query = query
                .bind(record.id.as_str())
                .bind(serde_json::to_string(&record.labels)?)
                .bind(serde_json::to_string(&record.spec)?)
                .bind(record.source.as_str())
                .bind(1_i64)
                .bind(to_ms(now))
                .bind(to_ms(now));
        }
        for row in query.fetch_all(&mut *conn).await? {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
    }
    let mut events = Vec::new();
    let mut created = Vec::with_capacity(inserted.len());
    for &i in &fresh {
        let record = writes[i].0;
        if inserted.contains(&record.id) {
            let stored = Record {
                version: 1,
                created_at: now,
                updated_at: now,
                ..record.clone()
            };
            events.extend(S::events(None, record));
            created.push((i, stored));
        } else {
            // Another writer created it between the read and the insert.
            let found = get_in::<S>(conn, &record.id).await?.map(|c| c.version);
            outcomes[i] = Some(Err(StoreError::VersionConflict {
                id: record.id.clone(),
                expected: 0,
                found,
            }));
        }
    }
    if !events.is_empty() {
        crate::events::insert(conn, &events.iter().collect::<Vec<_>>()).await?;
    }
    let appended: Vec<(&str, Version)> = created
        .iter()
        .map(|(_, r)| (r.id.as_str(), r.version))
        .collect();
    let seqs = changes.append_many(conn, S::TABLE, &appended).await?;
    for ((i, stored), seq) in created.into_iter().zip(seqs) {
        outcomes[i] = Some(Ok(Written {
            record: as_stored(stored)?,
            change: Some(seq),
        }));
    }
    for i in again {
        let (record, expected) = writes[i];
        outcomes[i] = Some(conflict_alone(
            put_once(conn, changes, record, expected).await,
        )?);
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every write has an outcome"))
        .collect())
}

/// A write's outcome of [`put_many`]: a version conflict fails the write alone, any other error
/// the batch.
fn conflict_alone<S>(
    written: Result<Written<S>, StoreError>,
) -> Result<Result<Written<S>, StoreError>, StoreError> {
    match written {
        Err(e @ StoreError::VersionConflict { .. }) => Ok(Err(e)),
        done => done.map(Ok),
    }
}

/// Bind parameters of one row [`put_many`] inserts: one per column of [`COLUMNS`].
const INSERT_BINDS: usize = 7;

/// [`put_once`] of `record` over `current`, the record stored now as read in `conn`'s
/// transaction.
async fn put_read<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    changes: &mut ChangeBatch,
    record: &Record<S>,
    current: Option<Record<S>>,
    expected: Option<Version>,
) -> Result<Written<S>, StoreError> {
    let found = current.as_ref().map(|c| c.version);
    let expected = expected.unwrap_or(found.unwrap_or(0));
    let conflict = |found: Option<Version>| StoreError::VersionConflict {
        id: record.id.clone(),
        expected,
        found,
    };
    if found.unwrap_or(0) != expected {
        return Err(conflict(found));
    }
    let labels = serde_json::to_string(&record.labels)?;
    let spec = serde_json::to_string(&record.spec)?;
    let events = S::events(current.as_ref(), record);
    let now = Utc::now();
    let (written, stored) = match current {
        None => {
            let sql = format!(
                "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5, $5) \
                 ON CONFLICT (id) DO NOTHING",
                S::TABLE
            );
            let written = sqlx::query(AssertSqlSafe(sql))
                .bind(&record.id)
                .bind(&labels)
                .bind(&spec)
                .bind(record.source.as_str())
                .bind(to_ms(now))
                .execute(&mut *conn)
                .await?
                .rows_affected();
            let stored = Record {
                version: 1,
                created_at: now,
                updated_at: now,
                ..record.clone()
            };
            (written, stored)
        }
        Some(current)
            if current.labels == record.labels
                && current.spec == record.spec
                && current.source == record.source =>
        {
            return Ok(Written {
                record: current,
                change: None,
            });
        }
        Some(current) => {
            let updated_at = now.max(current.updated_at);
            let sql = format!(
                "UPDATE {} SET labels = $1, spec = $2, source = $3, version = version + 1, \
                 updated_at = $4 WHERE id = $5 AND version = $6",
                S::TABLE
            );
            let written = sqlx::query(AssertSqlSafe(sql))
                .bind(&labels)
                .bind(&spec)
                .bind(record.source.as_str())
                .bind(to_ms(updated_at))
                .bind(&record.id)
                .bind(current.version)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if written == 1 && !record.spec.resets().is_empty() {
                reset(conn, S::TABLE, record.spec.resets(), &record.id).await?;
            }
            let stored = Record {
                version: current.version + 1,
                created_at: current.created_at,
                updated_at,
                ..record.clone()
            };
            (written, stored)
        }
    };
    // Another writer got in between the read and the write.
    if written == 0 {
        let found = get_in::<S>(conn, &record.id).await?.map(|c| c.version);
        return Err(conflict(found));
    }
    if !events.is_empty() {
        crate::events::insert(conn, &events.iter().collect::<Vec<_>>()).await?;
    }
    let change = changes
        .append(conn, S::TABLE, &stored.id, stored.version)
        .await?;
    Ok(Written {
        record: as_stored(stored)?,
        change: Some(change),
    })
}

/// `record` with its timestamps as stored, to the millisecond: what a read would give.
fn as_stored<S>(record: Record<S>) -> Result<Record<S>, StoreError> {
    Ok(Record {
        created_at: from_ms(to_ms(record.created_at))?,
        updated_at: from_ms(to_ms(record.updated_at))?,
        ..record
    })
}

/// Sets `columns` of resource `id` to NULL (see [`Stored::resets`]).
async fn reset(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    id: &str,
) -> Result<(), StoreError> {
    let set = columns
        .iter()
        .map(|c| format!("{c} = NULL"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE {table} SET {set} WHERE id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One resource by id, read on `conn`.
pub(crate) async fn get_in<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Record<S>>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM {} WHERE id = $1", S::TABLE);
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// The resources of `ids` that exist, read on `conn`, in no particular order: one query per
/// [`MAX_BINDS`] ids.
async fn get_many_in<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    ids: &[&str],
) -> Result<Vec<Record<S>>, StoreError> {
    let mut records = Vec::with_capacity(ids.len());
    select_ids::<S>(conn, COLUMNS, ids, |row| {
        records.push(decode(row)?);
        Ok(())
    })
    .await?;
    Ok(records)
}

/// Which of `ids` have a resource row, read inside `conn`'s transaction.
pub(crate) async fn existing_in<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    ids: &BTreeSet<&str>,
) -> Result<HashSet<String>, StoreError> {
    let ids: Vec<&str> = ids.iter().copied().collect();
    let mut found = HashSet::with_capacity(ids.len());
    select_ids::<S>(conn, "id", &ids, |row| {
        found.insert(row.try_get::<String, _>(0)?);
        Ok(())
    })
    .await?;
    Ok(found)
}

/// Reads `columns` of the rows of `ids` on `conn`, one query per [`MAX_BINDS`] ids, and hands
/// each row to `take`.
async fn select_ids<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    columns: &str,
    ids: &[&str],
    mut take: impl FnMut(&AnyRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT {columns} FROM {} WHERE id IN ({})",
            S::TABLE,
            param_list(conn, chunk.len())
        );
        // Not cached, like every statement whose length varies: see `MAX_BINDS`.
        let query = bind_each(
            sqlx::query(AssertSqlSafe(sql)).persistent(false),
            chunk.iter().copied(),
        );
        for row in query.fetch_all(&mut *conn).await? {
            take(&row)?;
        }
    }
    Ok(())
}

/// Deletes a resource row inside `conn`'s transaction, its change recorded in `changes`; the
/// change's sequence number, `None` when there was no such resource.
pub(crate) async fn delete_in<S: Stored>(
    conn: &mut sqlx::AnyConnection,
    changes: &mut ChangeBatch,
    id: &str,
) -> Result<Option<i64>, StoreError> {
    for (table, column) in S::OWNED {
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let sql = format!("DELETE FROM {} WHERE id = $1", S::TABLE);
    let deleted = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Ok(None);
    }
    Ok(Some(changes.append(conn, S::TABLE, id, 0).await?))
}
