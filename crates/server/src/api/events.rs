//! `/events`: the outbox in ascending sequence order, as pages (`?after=`) and as a
//! Server-Sent Events stream that resumes after `Last-Event-ID`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::str::FromStr;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use vedette_model::{Event, EventType};
use vedette_store::Store;

use super::ApiState;
use super::extract::Params;
use super::pagination::{DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::to_object;

/// How often the stream looks for new events.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Interval of the keep-alive comment on an idle stream.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Events read from the store at a time by the stream.
const STREAM_BATCH: u32 = 500;

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

/// `GET /events?after=&limit=&type=`: items are `Event` plus `seq`; `next_cursor` is the last
/// `seq` of a full page (pass it as `after` or `cursor`).
pub async fn list(
    State(state): State<ApiState>,
    params: Params,
) -> ApiResult<Page<Map<String, Value>>> {
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
    let mut items = Vec::with_capacity(events.len());
    for (seq, event) in &events {
        let mut item = to_object(event)?;
        item.insert("seq".to_owned(), Value::from(*seq));
        items.push(item);
    }
    Ok(Page { items, next_cursor })
}

/// Where a stream stands: the last sequence sent and the events read but not yet sent.
struct Tail {
    store: Store,
    after: i64,
    types: Vec<EventType>,
    pending: VecDeque<(i64, Event)>,
    stop: CancellationToken,
}

impl Tail {
    /// The next event, waiting for one; `None` when the server shuts down.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
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
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }
}

/// `GET /events/stream`: resumes after `Last-Event-ID` (or `?after=`), else starts with the
/// next new event; `?type=` filters.
pub async fn stream(
    State(state): State<ApiState>,
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
    };
    let events = futures::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok(event), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT_EVERY)))
}
