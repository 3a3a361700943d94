//! The engine follows the store: writers (the API, config files, the demo) only write
//! resources to the store, and a [`Follower`] reads the store's change feed after commit and
//! hands each changed resource, as it is now stored, to whatever subscribed to its kind (the
//! engine's monitors and maintenance windows, [`crate::subscriptions`]). Every server on a
//! database follows the same feed, so a write through any of them reaches all of them.
//!
//! A write through this process's store is handed over as written: when it is the next change
//! of the feed it is applied at once, without reading the feed or the record back; otherwise
//! (a change from another server comes first) the feed is read and only the records this
//! process did not write are read, one query per kind and page.
//!
//! A kind subscribes with one [`Follow`] impl and one [`Follower::subscribe`] call.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vedette_model::Record;
use vedette_store::{Change, Store, StoreError, Stored, Wake};

/// How long the follower waits for a wake-up before it reads the feed anyway.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Changes read per page of the feed.
pub const PAGE_SIZE: u32 = 500;
/// Pages applied in one go before the follower checks whether it should stop.
const PAGES_PER_ROUND: usize = 20;
/// How long changes stay in the feed (pruned hourly): a server further behind than that
/// reloads every resource instead.
pub const CHANGES_KEPT: chrono::Duration = chrono::Duration::hours(1);
/// Longest a writer waits for the engine to apply its write ([`FeedPosition::caught_up`]).
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps something in line with the stored resources of one kind.
pub trait Follow<S: Stored>: Send + Sync + 'static {
    /// `record` was created or changed; this is it as stored now.
    fn upsert(&self, record: Record<S>) -> impl Future<Output = ()> + Send;

    /// The resource `id` was deleted.
    fn remove(&self, id: &str) -> impl Future<Output = ()> + Send;

    /// Drops whatever is held that is not among `stored`, the ids of every stored resource of
    /// the kind. A reload (at start, and when the follower fell so far behind that changes it
    /// had not read were pruned) hands every stored resource to [`upsert`](Self::upsert), a
    /// page at a time, then calls this.
    fn retain(&self, stored: &HashSet<String>) -> impl Future<Output = ()> + Send;
}

/// A subscription as the follower holds it, whatever its kind.
trait Subscription: Send + Sync {
    /// The kind's name in the feed ([`Stored::TABLE`]).
    fn kind(&self) -> &'static str;

    /// Hands over each resource of `changes` (of this kind, one change per resource, in feed
    /// order): as written when this process wrote it, else as now stored, or as removed.
    fn apply<'a>(
        &'a self,
        store: &'a Store,
        changes: Vec<&'a Change>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Hands over every stored resource of the kind, a page at a time, so the whole kind is
    /// never held twice.
    fn reload<'a>(&'a self, store: &'a Store) -> BoxFuture<'a, Result<(), StoreError>>;
}

struct Typed<S, F> {
    follow: F,
    kind: PhantomData<fn() -> S>,
}

impl<S: Stored, F: Follow<S>> Subscription for Typed<S, F> {
    fn kind(&self) -> &'static str {
        S::TABLE
    }

    fn apply<'a>(
        &'a self,
        store: &'a Store,
        changes: Vec<&'a Change>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let handed: Vec<(&Change, Option<Record<S>>)> = changes
                .into_iter()
                .map(|change| {
                    let local = store.local_change(change.seq);
                    (change, local.and_then(|l| l.record::<S>().cloned()))
                })
                .collect();
            let unread: Vec<&str> = handed
                .iter()
                .filter(|(change, record)| record.is_none() && !change.is_delete())
                .map(|(change, _)| change.id.as_str())
                .collect();
            let mut read: HashMap<String, Record<S>> = if unread.is_empty() {
                HashMap::new()
            } else {
                let records = store.get_many::<S>(&unread).await?;
                records.into_iter().map(|r| (r.id.clone(), r)).collect()
            };
            for (change, record) in handed {
                match record.or_else(|| read.remove(&change.id)) {
                    Some(record) => self.follow.upsert(record).await,
                    None => self.follow.remove(&change.id).await,
                }
            }
            Ok(())
        })
    }

    fn reload<'a>(&'a self, store: &'a Store) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut stored = HashSet::new();
            let mut after = String::new();
            loop {
                let page = store.list_after::<S>(&after, PAGE_SIZE).await?;
                let full = page.len() == PAGE_SIZE as usize;
                for record in page {
                    stored.insert(record.id.clone());
                    after.clone_from(&record.id);
                    self.follow.upsert(record).await;
                }
                if !full {
                    break;
                }
            }
            self.follow.retain(&stored).await;
            Ok(())
        })
    }
}

/// Reads the change feed of one store and applies each change to the subscriptions of its
/// kind, in feed order.
pub struct Follower {
    store: Store,
    subscriptions: Vec<Box<dyn Subscription>>,
    /// The last change applied.
    cursor: i64,
    applied: watch::Sender<i64>,
}

impl Follower {
    /// A follower of `store` with no subscriptions yet.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            subscriptions: Vec::new(),
            cursor: 0,
            applied: watch::channel(0).0,
        }
    }

    /// Adds `follow` for the resources of kind `S`.
    pub fn subscribe<S: Stored>(mut self, follow: impl Follow<S>) -> Self {
        self.subscriptions.push(Box::new(Typed {
            follow,
            kind: PhantomData,
        }));
        self
    }

    /// How far the follower has got, for writers that wait for it.
    pub fn position(&self) -> FeedPosition {
        FeedPosition {
            store: self.store.clone(),
            applied: self.applied.subscribe(),
        }
    }

    /// Hands every stored resource to its subscriptions; changes are followed from here on.
    pub async fn load(&mut self) -> Result<(), StoreError> {
        // Read first: changes committed while loading are applied again, which is harmless.
        let cursor = self.store.last_change_seq().await?;
        for subscription in &self.subscriptions {
            subscription.reload(&self.store).await?;
        }
        self.advance(cursor);
        Ok(())
    }

    /// Follows the feed until `stop`: applies a write through this process at once, reads the
    /// feed on a PostgreSQL notification of a change through another, and every
    /// [`POLL_INTERVAL`]. A failing store is logged and read again later.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut signals = self.store.change_signals();
        let mut wake = Wake::Timeout;
        while !stop.is_cancelled() {
            let more = match self.follow(wake).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the change feed failed; retrying");
                    false
                }
            };
            if more {
                wake = Wake::Timeout;
                continue;
            }
            wake = tokio::select! {
                () = stop.cancelled() => Wake::Timeout,
                waited = signals.wait(POLL_INTERVAL) => waited.unwrap_or_else(|e| {
                    tracing::warn!(
                        error = %e,
                        "listening for changes from other servers failed; polling"
                    );
                    Wake::Timeout
                }),
            };
        }
    }

    /// Applies what `wake` says may be new: the writes through this process that come next in
    /// the feed, then the feed itself unless they were all there is; whether more is waiting.
    async fn follow(&mut self, wake: Wake) -> Result<bool, StoreError> {
        self.take_local().await?;
        let behind = match wake {
            Wake::Local => self.store.local_change_seq() > self.cursor,
            Wake::Notified(seq) => seq > self.cursor,
            Wake::Timeout => true,
        };
        if behind {
            self.catch_up().await
        } else {
            Ok(false)
        }
    }

    /// Applies the changes right after the cursor that were committed through this process's
    /// store, as written, reading nothing; stops at one it does not hold (committed elsewhere,
    /// not yet announced, or no longer kept), which only the feed has.
    async fn take_local(&mut self) -> Result<(), StoreError> {
        while let Some(local) = self.store.local_change(self.cursor + 1) {
            self.apply(std::slice::from_ref(&local.change)).await?;
            self.advance(local.change.seq);
        }
        Ok(())
    }

    /// Applies up to [`PAGES_PER_ROUND`] pages of changes; whether more are waiting.
    async fn catch_up(&mut self) -> Result<bool, StoreError> {
        for _ in 0..PAGES_PER_ROUND {
            let page = self.store.changes_after(self.cursor, PAGE_SIZE).await?;
            if page.pruned {
                tracing::warn!(
                    after = self.cursor,
                    "changes this server had not read were pruned; reloading every resource"
                );
                self.load().await?;
                continue;
            }
            let Some(last) = page.changes.last().map(|c| c.seq) else {
                return Ok(false);
            };
            self.apply(&page.changes).await?;
            self.advance(last);
            if page.changes.len() < PAGE_SIZE as usize {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Hands `changes` (in feed order) to the subscriptions of their kinds.
    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        for subscription in &self.subscriptions {
            let latest = latest_changes(changes, subscription.kind());
            if !latest.is_empty() {
                subscription.apply(&self.store, latest).await?;
            }
        }
        Ok(())
    }

    fn advance(&mut self, cursor: i64) {
        self.cursor = cursor;
        self.applied.send_replace(cursor);
    }
}

/// The last change of each resource of `kind` among `changes`, in feed order.
fn latest_changes<'a>(changes: &'a [Change], kind: &str) -> Vec<&'a Change> {
    let mut seen = HashSet::new();
    let mut latest: Vec<&Change> = changes
        .iter()
        .rev()
        .filter(|c| c.kind == kind && seen.insert(c.id.as_str()))
        .collect();
    latest.reverse();
    latest
}

/// Where a [`Follower`] has got; writers wait on it so that what they answer with is what the
/// engine serves.
#[derive(Debug, Clone)]
pub struct FeedPosition {
    store: Store,
    applied: watch::Receiver<i64>,
}

impl FeedPosition {
    /// Waits until the follower has applied every change committed through this process's
    /// store so far, at most [`CATCH_UP_TIMEOUT`] (and not at all once it has stopped).
    pub async fn caught_up(&self) {
        let target = self.store.local_change_seq();
        let mut applied = self.applied.clone();
        let _ = tokio::time::timeout(CATCH_UP_TIMEOUT, applied.wait_for(|a| *a >= target)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64, kind: &str, id: &str) -> Change {
        Change {
            seq,
            kind: kind.to_owned(),
            id: id.to_owned(),
            version: seq,
        }
    }

    #[test]
    fn latest_changes_are_one_per_resource_of_the_kind_in_feed_order() {
        let changes = [
            change(1, "monitors", "a"),
            change(2, "maintenance_windows", "a"),
            change(3, "monitors", "b"),
            change(4, "monitors", "a"),
        ];
        let seqs = |kind| -> Vec<i64> {
            latest_changes(&changes, kind)
                .iter()
                .map(|c| c.seq)
                .collect()
        };
        assert_eq!(seqs("monitors"), [3, 4]);
        assert_eq!(seqs("maintenance_windows"), [2]);
        assert!(seqs("webhooks").is_empty());
    }
}
