//! Monitors as stored: a versioned resource (see [`crate::resource`]) whose writes also claim
//! its push token, and whose deletion takes its status, pause and token along.

use chrono::Utc;
use vedette_model::{Event, MonitorSpec, Record, Version};

use crate::changes::ChangeBatch;
use crate::heartbeat;
use crate::incidents::{self, Incident};
use crate::resource;
use crate::{Store, StoreError};

/// A monitor resource as stored.
pub type MonitorRecord = Record<MonitorSpec>;

impl Store {
    /// Creates or updates a monitor; the version is bumped only when labels, spec or source
    /// change, and `created_at` is kept. Returns the record as stored.
    pub async fn put_monitor(&self, m: &MonitorRecord) -> Result<MonitorRecord, StoreError> {
        self.put_monitor_if(m, None).await
    }

    /// [`put_monitor`](Self::put_monitor) that writes only while the current version is
    /// `if_version` (0: the monitor must not exist yet); otherwise
    /// [`StoreError::VersionConflict`]. For `If-Match`.
    pub async fn put_monitor_if(
        &self,
        m: &MonitorRecord,
        if_version: Option<Version>,
    ) -> Result<MonitorRecord, StoreError> {
        if let Some(token) = m.spec.check.as_heartbeat().and_then(|h| h.token.as_ref()) {
            return self
                .put_monitor_claiming(m, token.expose(), if_version)
                .await;
        }
        self.put(m, if_version).await
    }

    /// Writes many monitors in one serialised transaction, each as
    /// [`put_monitor`](Self::put_monitor) would (claiming its push token): a config file of
    /// thousands costs one commit instead of one each. Returns the records as stored, in
    /// order; when one fails (a push token another monitor holds) nothing is written.
    pub async fn put_monitors(
        &self,
        monitors: &[MonitorRecord],
    ) -> Result<Vec<MonitorRecord>, StoreError> {
        let mut tx = self.begin_serialized("heartbeat_tokens").await?;
        for m in monitors {
            if let Some(token) = m.spec.check.as_heartbeat().and_then(|h| h.token.as_ref()) {
                if let Some(owner) = heartbeat::owner_in(&mut tx, token.expose()).await?
                    && owner != m.id
                {
                    return Err(StoreError::HeartbeatTokenTaken);
                }
                heartbeat::set_in(&mut tx, &m.id, token.expose()).await?;
            }
        }
        let mut changes = ChangeBatch::new(self.backend());
        let writes: Vec<_> = monitors.iter().map(|m| (m, None)).collect();
        let written = resource::put_many(&mut tx, &mut changes, &writes)
            .await?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        Ok(written.into_iter().map(|w| self.published(w)).collect())
    }

    /// Writes many monitors, each only while its current version is the one paired with it
    /// (0: it must not exist yet), in one serialised transaction: a discovery run creating
    /// thousands costs one commit instead of one each (on PostgreSQL, a round trip and a
    /// flush each). Each write's outcome is returned in order: a version conflict or a push
    /// token another monitor holds fails that write alone; any other error fails them all
    /// and writes nothing. Keep batches small enough not to hold the write lock long.
    pub async fn put_monitors_if(
        &self,
        writes: &[(MonitorRecord, Version)],
    ) -> Result<Vec<Result<MonitorRecord, StoreError>>, StoreError> {
        let mut tx = self.begin_serialized("heartbeat_tokens").await?;
        let mut changes = ChangeBatch::new(self.backend());
        // A write whose push token another monitor holds is refused before any is written.
        let mut allowed = Vec::with_capacity(writes.len());
        let mut taken = Vec::with_capacity(writes.len());
        for (m, expected) in writes {
            let token = m.spec.check.as_heartbeat().and_then(|h| h.token.as_ref());
            let held_by_another = match token {
                Some(token) => heartbeat::owner_in(&mut tx, token.expose())
                    .await?
                    .is_some_and(|owner| owner != m.id),
                None => false,
            };
            taken.push(held_by_another);
            if !held_by_another {
                allowed.push((m, Some(*expected)));
            }
        }
        let mut written = resource::put_many(&mut tx, &mut changes, &allowed)
            .await?
            .into_iter();
        let mut outcomes = Vec::with_capacity(writes.len());
        for ((m, _), held_by_another) in writes.iter().zip(taken) {
            if held_by_another {
                outcomes.push(Err(StoreError::HeartbeatTokenTaken));
                continue;
            }
            let outcome = written.next().expect("one outcome per allowed write");
            if outcome.is_ok()
                && let Some(token) = m.spec.check.as_heartbeat().and_then(|h| h.token.as_ref())
            {
                heartbeat::set_in(&mut tx, &m.id, token.expose()).await?;
            }
            outcomes.push(outcome);
        }
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        Ok(outcomes
            .into_iter()
            .map(|o| o.map(|w| self.published(w)))
            .collect())
    }

    /// Writes a monitor whose spec sets its push token, checking that no other monitor holds
    /// the token and recording it in the same serialised transaction: of concurrent writers
    /// of one token, one wins and the others store nothing
    /// ([`StoreError::HeartbeatTokenTaken`]).
    async fn put_monitor_claiming(
        &self,
        m: &MonitorRecord,
        token: &str,
        if_version: Option<Version>,
    ) -> Result<MonitorRecord, StoreError> {
        let mut tx = self.begin_serialized("heartbeat_tokens").await?;
        if let Some(owner) = heartbeat::owner_in(&mut tx, token).await?
            && owner != m.id
        {
            return Err(StoreError::HeartbeatTokenTaken);
        }
        heartbeat::set_in(&mut tx, &m.id, token).await?;
        let mut changes = ChangeBatch::new(self.backend());
        let written = resource::put_once(&mut tx, &mut changes, m, if_version).await?;
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        Ok(self.published(written))
    }

    /// One monitor.
    pub async fn get_monitor(&self, id: &str) -> Result<Option<MonitorRecord>, StoreError> {
        self.get(id).await
    }

    /// Every monitor, by id.
    pub async fn list_monitors(&self) -> Result<Vec<MonitorRecord>, StoreError> {
        self.list().await
    }

    /// Deletes a monitor with its status, runtime pause, heartbeat token and last ping; its results, rollups,
    /// incidents and events stay as history. Its open incidents are resolved now, each with
    /// the `incident.resolved` event `resolved` makes of it (the incident already marked
    /// resolved), in the same transaction, so the outbox never keeps an incident open for a
    /// monitor that is gone. Whether it existed.
    pub async fn delete_monitor(
        &self,
        id: &str,
        resolved: impl Fn(&Incident) -> Event + Send + Sync,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The push token first: a writer claiming a token locks `heartbeat_tokens` before the
        // monitor row, so taking them in the same order cannot deadlock with it.
        for sql in [
            "DELETE FROM heartbeat_tokens WHERE monitor_id = $1",
            "DELETE FROM monitor_status WHERE monitor_id = $1",
            "DELETE FROM monitor_pauses WHERE monitor_id = $1",
            "DELETE FROM heartbeat_pings WHERE monitor_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let mut changes = ChangeBatch::new(self.backend());
        let change = resource::delete_in::<MonitorSpec>(&mut tx, &mut changes, id).await?;
        if change.is_some() {
            incidents::resolve_all_in(&mut tx, id, Utc::now(), &resolved).await?;
        }
        changes.announce(&mut tx).await?;
        tx.commit().await?;
        if let Some(seq) = change {
            self.publish::<MonitorSpec>(seq, id, None);
        }
        Ok(change.is_some())
    }
}
