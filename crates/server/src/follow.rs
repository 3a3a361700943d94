//! The engine follows the store: writers (the API, config files, the demo) only write
//! resources to the store, and a [`Follower`] reads the store's change feed after commit and
//! hands each changed resource, as it is now stored, to whatever subscribed to its kind (the
//! engine's monitors and maintenance windows, [`crate::subscriptions`]). Every server on a
//! database follows the same feed, so a write through any of them reaches all of them.
//!
//! A kind subscribes with one [`Follow`] impl and one [`Follower::subscribe`] call.

use std::collections::HashSet;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vedette_model::Record;
use vedette_store::{Change, Store, StoreError, Stored};

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

    /// Every stored resource of the kind, replacing whatever is held: at start, and when the
    /// follower fell so far behind that changes it had not read were pruned.
    fn reset(&self, records: Vec<Record<S>>) -> impl Future<Output = ()> + Send;
}

/// A subscription as the follower holds it, whatever its kind.
trait Subscription: Send + Sync {
    /// The kind's name in the feed ([`Stored::TABLE`]).
    fn kind(&self) -> &'static str;

    /// Hands each of `ids` over as now stored, or as removed.
    fn apply<'a>(
        &'a self,
        store: &'a Store,
        ids: Vec<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Hands over every stored resource of the kind.
    fn reload<'a>(&'a self, store: &'a Store) -> BoxFuture<'a, Result<(), StoreError>>;
}

struct Typed<S, F> {
    follow: F,
    kind: PhantomData<fn() -> S>,
}

impl<S: Stored + 'static, F: Follow<S>> Subscription for Typed<S, F> {
    fn kind(&self) -> &'static str {
        S::TABLE
    }

    fn apply<'a>(
        &'a self,
        store: &'a Store,
        ids: Vec<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            for id in ids {
                match store.get::<S>(id).await? {
                    Some(record) => self.follow.upsert(record).await,
                    None => self.follow.remove(id).await,
                }
            }
            Ok(())
        })
    }

    fn reload<'a>(&'a self, store: &'a Store) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.follow.reset(store.list::<S>().await?).await;
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
    pub fn subscribe<S: Stored + 'static>(mut self, follow: impl Follow<S>) -> Self {
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

    /// Follows the feed until `stop`: reads it whenever a change may have been committed (at
    /// once for a write through this process, on a PostgreSQL notification for one through
    /// another) and every [`POLL_INTERVAL`]. A failing store is logged and read again later.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut signals = self.store.change_signals();
        while !stop.is_cancelled() {
            let more = match self.catch_up().await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the change feed failed; retrying");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                () = stop.cancelled() => {}
                waited = signals.wait(POLL_INTERVAL) => {
                    if let Err(e) = waited {
                        tracing::warn!(
                            error = %e,
                            "listening for changes from other servers failed; polling"
                        );
                    }
                }
            }
        }
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
            for subscription in &self.subscriptions {
                let ids = changed_ids(&page.changes, subscription.kind());
                if !ids.is_empty() {
                    subscription.apply(&self.store, ids).await?;
                }
            }
            self.advance(last);
            if page.changes.len() < PAGE_SIZE as usize {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn advance(&mut self, cursor: i64) {
        self.cursor = cursor;
        self.applied.send_replace(cursor);
    }
}

/// The ids of `kind` that `changes` touch, each once, in the order of their last change.
fn changed_ids<'a>(changes: &'a [Change], kind: &str) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    let mut ids: Vec<&str> = changes
        .iter()
        .rev()
        .filter(|c| c.kind == kind && seen.insert(c.id.as_str()))
        .map(|c| c.id.as_str())
        .collect();
    ids.reverse();
    ids
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
    fn changed_ids_are_distinct_per_kind_in_order_of_last_change() {
        let changes = [
            change(1, "monitors", "a"),
            change(2, "maintenance_windows", "a"),
            change(3, "monitors", "b"),
            change(4, "monitors", "a"),
        ];
        assert_eq!(changed_ids(&changes, "monitors"), ["b", "a"]);
        assert_eq!(changed_ids(&changes, "maintenance_windows"), ["a"]);
        assert!(changed_ids(&changes, "webhooks").is_empty());
    }
}
