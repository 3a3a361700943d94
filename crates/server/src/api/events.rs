//! `/events`: the outbox in ascending sequence order, as pages (`?after=`) and as a
//! Server-Sent Events stream that resumes after `Last-Event-ID`.
//!
//! The stream also carries, when asked (`?resources=<kinds>` or `?type=resource.changed`),
//! the writes and deletes of versioned resources from the store's change feed:
//! `resource.changed` / `resource.deleted` with the kind, id and version — never the spec, so
//! never a secret. They are live only: sent without an SSE `id` (so `Last-Event-ID` keeps
//! naming the outbox) and not replayed after a reconnect, when a follower reloads what it
//! follows. They are not outbox events: not in the `/event-types` catalog, not deliverable to
//! webhooks.
//!
//! With the resource events of `monitors` comes `resource.status`: a monitor's state changed
//! (its first verdict too, which raises no outbox event), with the monitor's id, the state and
//! since when — live only as well, from the engine's [`crate::states`] feed once committed.
//!
//! A stream lives no longer than its token: it ends when the token is revoked through this
//! server (at once), when the token expires (at its expiry), and when a periodic look at the
//! store ([`TOKEN_RECHECK_EVERY`]) finds it revoked or gone (revoked by another server on the
//! same database). Open streams are capped in total and per token ([`crate::limits::Streams`]);
//! over a cap the request gets 429.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::str::FromStr;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::Stream;
use schemars::JsonSchema;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use vedette_model::MonitorSpec;
use vedette_model::deployment::DeploymentSpec;
use vedette_model::discovery::DiscoverySourceSpec;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::verification::VerificationSpec;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{Event, EventType};
use vedette_store::{Store, Stored};

use super::ApiState;
use super::auth::{Principal, too_many_requests};
use super::extract::Params;
use super::pagination::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use crate::limits::{RetryAfter, StreamPermit, StreamRefused};
use crate::states::StateChange;

/// How often the stream looks for new events.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Interval of the keep-alive comment on an idle stream.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Events read from the store at a time by the stream.
const STREAM_BATCH: u32 = 500;
/// How often a stream looks its token up in the store (revoked elsewhere, or deleted).
pub const TOKEN_RECHECK_EVERY: Duration = Duration::from_secs(10);

fn parse_types(params: &Params) -> ApiResult<Vec<EventType>> {
    params
        .list("type")
        .into_iter()
        .map(|t| EventType::from_str(t).map_err(|m| Problem::bad_param("type", m)))
        .collect()
}

/// SSE type of a resource written (created or replaced).
pub const RESOURCE_CHANGED: &str = "resource.changed";
/// SSE type of a resource deleted.
pub const RESOURCE_DELETED: &str = "resource.deleted";
/// SSE type of a monitor's state changed.
pub const RESOURCE_STATUS: &str = "resource.status";
/// Changes read from the feed at a time by the stream.
const CHANGES_BATCH: u32 = 500;

/// The kinds resource events name: each versioned kind's change-feed name.
pub const RESOURCE_KINDS: [&str; 7] = [
    <MonitorSpec as Stored>::TABLE,
    <MaintenanceSpec as Stored>::TABLE,
    <EndpointSpec as Stored>::TABLE,
    <StatusPageSpec as Stored>::TABLE,
    <DiscoverySourceSpec as Stored>::TABLE,
    <VerificationSpec as Stored>::TABLE,
    <DeploymentSpec as Stored>::TABLE,
];

/// What a stream carries.
#[derive(Debug, Default)]
struct StreamFilter {
    /// Outbox types (empty: all); `None`: no outbox events.
    outbox: Option<Vec<EventType>>,
    /// Resource events: of which kinds (empty: all); `None`: none.
    kinds: Option<Vec<String>>,
    /// Whether `resource.changed` is wanted.
    changed: bool,
    /// Whether `resource.deleted` is wanted.
    deleted: bool,
    /// Whether `resource.status` is wanted.
    status: bool,
}

impl StreamFilter {
    /// `?type=` (outbox types and `resource.changed`, `resource.deleted`, `resource.status`,
    /// `resource.*`) and `?resources=` (kinds, or `*`).
    fn parse(params: &Params) -> ApiResult<Self> {
        let mut types = Vec::new();
        let (mut changed, mut deleted, mut status) = (false, false, false);
        for t in params.list("type") {
            match t {
                RESOURCE_CHANGED => changed = true,
                RESOURCE_DELETED => deleted = true,
                RESOURCE_STATUS => status = true,
                "resource.*" => (changed, deleted, status) = (true, true, true),
                _ => types.push(EventType::from_str(t).map_err(|m| Problem::bad_param("type", m))?),
            }
        }
        let resource_events = changed || deleted || status;
        let only_resources = resource_events && types.is_empty();
        let listed = params.list("resources");
        for kind in &listed {
            if *kind != "*" && !RESOURCE_KINDS.contains(kind) {
                return Err(Problem::bad_param(
                    "resources",
                    format!("expected `*` or kinds among {}", RESOURCE_KINDS.join(", ")),
                ));
            }
        }
        if !listed.is_empty() && !resource_events {
            (changed, deleted, status) = (true, true, true);
        }
        let kinds = (changed || deleted || status).then(|| {
            if listed.contains(&"*") {
                Vec::new()
            } else {
                listed.iter().map(|k| (*k).to_owned()).collect()
            }
        });
        Ok(Self {
            outbox: (!only_resources).then_some(types),
            kinds,
            changed,
            deleted,
            status,
        })
    }

    /// Whether the stream carries `resource.status` (monitors among its kinds).
    fn wants_states(&self) -> bool {
        let monitors = <MonitorSpec as Stored>::TABLE;
        self.status
            && self
                .kinds
                .as_ref()
                .is_some_and(|k| k.is_empty() || k.iter().any(|k| k == monitors))
    }

    /// The SSE event for `change`, when the stream carries it.
    fn resource_event(&self, change: &vedette_store::Change) -> Option<SseEvent> {
        let kinds = self.kinds.as_ref()?;
        if !kinds.is_empty() && !kinds.contains(&change.kind) {
            return None;
        }
        let event_type = match change.is_delete() {
            true if self.deleted => RESOURCE_DELETED,
            false if self.changed => RESOURCE_CHANGED,
            _ => return None,
        };
        let data = ResourceEvent {
            kind: &change.kind,
            id: &change.id,
            version: change.version,
            change_seq: change.seq,
        };
        Some(
            SseEvent::default()
                .event(event_type)
                .data(serde_json::to_string(&data).unwrap_or_default()),
        )
    }
}

/// The `data` of a `resource.changed` / `resource.deleted` event: which resource, at which
/// version — never its spec.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceEvent<'a> {
    /// The kind, e.g. `monitors`, `maintenance_windows`.
    pub kind: &'a str,
    /// The resource's id.
    pub id: &'a str,
    /// The version written; 0 for a delete.
    pub version: i64,
    /// The change's place in the store's change feed.
    pub change_seq: i64,
}

/// The `data` of a `resource.status` event: a monitor's new state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceStatus<'a> {
    /// The kind: `monitors`.
    pub kind: &'a str,
    /// The monitor's id.
    pub id: &'a str,
    /// Its new state.
    pub state: vedette_model::MonitorState,
    /// When it entered that state.
    pub since: DateTime<Utc>,
}

impl ResourceStatus<'_> {
    /// The SSE event of `change`.
    fn event(change: &StateChange) -> SseEvent {
        let data = ResourceStatus {
            kind: <MonitorSpec as Stored>::TABLE,
            id: &change.monitor_id,
            state: change.state,
            since: change.since,
        };
        SseEvent::default()
            .event(RESOURCE_STATUS)
            .data(serde_json::to_string(&data).unwrap_or_default())
    }
}

/// A sequence number from `?name=`.
fn parse_seq(params: &Params, name: &str) -> ApiResult<Option<i64>> {
    params
        .get(name)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Problem::bad_param(name, "expected an event sequence number"))
        })
        .transpose()
}

/// An event as `GET /events` lists it: the `Event` with its place in the outbox.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SequencedEvent {
    /// Position in the outbox, increasing; pass as `after` (or `Last-Event-ID` on the stream)
    /// to resume after this event.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// `GET /events?after=&limit=&type=`: items are `Event` plus `seq`; `next_cursor` is the last
/// `seq` of a full page (pass it as `after` or `cursor`).
pub async fn list(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Page<SequencedEvent>> {
    let after = match parse_seq(&params, "after")? {
        Some(after) => Some(after),
        None => parse_seq(&params, "cursor")?,
    };
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let types = parse_types(&params)?;
    let events = state
        .engine
        .store()
        .list_events_of(after, u32::try_from(limit).unwrap_or(1), &types)
        .await?;
    let next_cursor = (events.len() == limit)
        .then(|| events.last().map(|(seq, _)| seq.to_string()))
        .flatten();
    let items = events
        .into_iter()
        .map(|(seq, event)| SequencedEvent { seq, event })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Where a stream stands: the last sequence sent and the events read but not yet sent.
struct Tail {
    store: Store,
    after: i64,
    filter: StreamFilter,
    pending: VecDeque<(i64, Event)>,
    /// The last change of the feed looked at (resource events only).
    changes_after: i64,
    /// Resource events read but not yet sent.
    pending_changes: VecDeque<SseEvent>,
    /// The engine's state changes, when the stream carries `resource.status`.
    states: Option<broadcast::Receiver<StateChange>>,
    stop: CancellationToken,
    /// The stream's place under the caps; cancelled when its token is revoked here.
    permit: StreamPermit,
    token_id: String,
    expires_at: Option<DateTime<Utc>>,
    next_recheck: tokio::time::Instant,
}

/// The next state change of `states`, or never when there is no feed.
async fn next_state(
    states: &mut Option<broadcast::Receiver<StateChange>>,
) -> Result<StateChange, RecvError> {
    match states {
        Some(states) => states.recv().await,
        None => std::future::pending().await,
    }
}

/// Waits until `at`, or forever when `None`.
async fn sleep_until(at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => {
            let left = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(left).await;
        }
        None => std::future::pending().await,
    }
}

impl Tail {
    /// Whether the stream's token still allows it, as far as known without the store.
    fn token_alive(&self) -> bool {
        !self.permit.revoked.is_cancelled() && self.expires_at.is_none_or(|at| Utc::now() < at)
    }

    /// Whether the store still holds the token as active (errors keep the stream going).
    async fn token_active_in_store(&mut self) -> bool {
        self.next_recheck = tokio::time::Instant::now() + TOKEN_RECHECK_EVERY;
        match self.store.get_token(&self.token_id).await {
            Ok(Some(token)) => token.revoked_at.is_none() && token.is_active(Utc::now()),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "event stream: looking up its token failed");
                true
            }
        }
    }

    /// The next event, waiting for one; `None` when the server shuts down or the token is
    /// revoked or expires.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if !self.token_alive() {
                return None;
            }
            if tokio::time::Instant::now() >= self.next_recheck
                && !self.token_active_in_store().await
            {
                return None;
            }
            if let Some((seq, event)) = self.pending.pop_front() {
                self.after = seq;
                let data = serde_json::to_string(&event).unwrap_or_default();
                return Some(
                    SseEvent::default()
                        .id(seq.to_string())
                        .event(event.event_type.as_str())
                        .data(data),
                );
            }
            if let Some(event) = self.pending_changes.pop_front() {
                return Some(event);
            }
            if let Some(types) = &self.filter.outbox {
                match self
                    .store
                    .list_events_of(Some(self.after), STREAM_BATCH, types)
                    .await
                {
                    Ok(events) if !events.is_empty() => {
                        self.pending.extend(events);
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream: reading the outbox failed");
                    }
                }
            }
            if self.filter.kinds.is_some() && self.read_changes().await {
                continue;
            }
            let state = tokio::select! {
                () = self.stop.cancelled() => return None,
                () = self.permit.revoked.cancelled() => return None,
                () = sleep_until(self.expires_at) => return None,
                state = next_state(&mut self.states) => state,
                () = tokio::time::sleep(POLL_EVERY) => continue,
            };
            match state {
                Ok(change) => return Some(ResourceStatus::event(&change)),
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "event stream: fell behind the state changes");
                }
                Err(RecvError::Closed) => self.states = None,
            }
        }
    }
}

impl Tail {
    /// Reads the next changes of the feed into `pending_changes`; whether any was read.
    async fn read_changes(&mut self) -> bool {
        match self
            .store
            .changes_after(self.changes_after, CHANGES_BATCH)
            .await
        {
            Ok(page) if !page.changes.is_empty() => {
                if let Some(last) = page.changes.last() {
                    self.changes_after = last.seq;
                }
                let events = page
                    .changes
                    .iter()
                    .filter_map(|c| self.filter.resource_event(c));
                self.pending_changes.extend(events);
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, "event stream: reading the change feed failed");
                false
            }
        }
    }
}

/// `GET /events/stream`: resumes after `Last-Event-ID` (or `?after=`), else starts with the
/// next new event; `?type=` filters; 429 when the token or the server holds as many streams
/// as allowed.
pub async fn stream(
    State(state): State<ApiState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let permit = match state.guards.streams.open(&principal.token_id) {
        Ok(permit) => permit,
        Err(refused) => {
            let detail = match refused {
                StreamRefused::PerToken(n) => {
                    format!("this token already has {n} event streams open, the most allowed")
                }
                StreamRefused::Total(n) => {
                    format!("the server already has {n} event streams open, the most allowed")
                }
            };
            return too_many_requests(&detail, RetryAfter(POLL_EVERY));
        }
    };
    match open_stream(state, principal, permit, headers, params).await {
        Ok(sse) => sse.into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// The stream of [`stream`] once it has its place.
async fn open_stream(
    state: ApiState,
    principal: Principal,
    permit: StreamPermit,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    Problem::bad_request("Last-Event-ID must be an event sequence number")
                })?,
        ),
    };
    let filter = StreamFilter::parse(&params)?;
    let states = filter
        .wants_states()
        .then(|| state.engine.states().follow());
    let store = state.engine.store().clone();
    let changes_after = match filter.kinds {
        Some(_) => store.last_change_seq().await?,
        None => 0,
    };
    let after = match last_id.or(parse_seq(&params, "after")?) {
        Some(after) => after,
        None => store.last_event_seq().await?,
    };
    let tail = Tail {
        store,
        after,
        filter,
        pending: VecDeque::new(),
        changes_after,
        pending_changes: VecDeque::new(),
        states,
        stop: state.shutdown.clone(),
        permit,
        token_id: principal.token_id,
        expires_at: principal.expires_at,
        next_recheck: tokio::time::Instant::now() + TOKEN_RECHECK_EVERY,
    };
    let events = futures::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok(event), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT_EVERY)))
}
