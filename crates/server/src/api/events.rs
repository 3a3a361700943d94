//! `/events`: the outbox in ascending sequence order, as pages (`?after=`) and as a
//! Server-Sent Events stream that resumes after `Last-Event-ID`.
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
use tokio_util::sync::CancellationToken;
use vedette_model::{Event, EventType};
use vedette_store::Store;

use super::ApiState;
use super::auth::{Principal, too_many_requests};
use super::extract::Params;
use super::pagination::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use crate::limits::{RetryAfter, StreamPermit, StreamRefused};

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
    types: Vec<EventType>,
    pending: VecDeque<(i64, Event)>,
    stop: CancellationToken,
    /// The stream's place under the caps; cancelled when its token is revoked here.
    permit: StreamPermit,
    token_id: String,
    expires_at: Option<DateTime<Utc>>,
    next_recheck: tokio::time::Instant,
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
            match self
                .store
                .list_events_of(Some(self.after), STREAM_BATCH, &self.types)
                .await
            {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "event stream: reading the outbox failed"),
            }
            tokio::select! {
                () = self.stop.cancelled() => return None,
                () = self.permit.revoked.cancelled() => return None,
                () = sleep_until(self.expires_at) => return None,
                () = tokio::time::sleep(POLL_EVERY) => {}
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
    let types = parse_types(&params)?;
    let store = state.engine.store().clone();
    let after = match last_id.or(parse_seq(&params, "after")?) {
        Some(after) => after,
        None => store.last_event_seq().await?,
    };
    let tail = Tail {
        store,
        after,
        types,
        pending: VecDeque::new(),
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
