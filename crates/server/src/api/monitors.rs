//! `/monitors`: list (label selector, id-ordered cursor pages, served from the engine's
//! memory), read, create, replace, merge-patch, delete, pause, resume and run now.
//!
//! Pause and resume are operations beside the spec: they set or clear a stored runtime pause
//! (shown as `status.paused`) and never write a new version, so they work on monitors of every
//! source and applying an unchanged file keeps a paused monitor paused. `spec.paused` stays
//! the declarative pause; a monitor runs only when neither pauses it.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use vedette_model::spec::{HttpAuth, Secret};
use vedette_model::{CheckKind, FieldError, MonitorSpec, MonitorState, Outcome, selector};
use vedette_store::{
    MAX_PAUSE_REASON_CHARS, MonitorRecord, MonitorStatus, RuntimePause, StoreError,
};

use super::ApiState;
use super::auth::Principal;
use super::body::{self, Envelope};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::{self, Audience, Destination, REDACTED, WRITE_ATTEMPTS, ensure_api_managed};
use crate::engine::new_token;
use crate::state_machine;

const KIND: &str = "monitor";
const CURSOR: &str = "monitors";

/// A monitor as the API shows it.
#[derive(Debug, Serialize)]
pub struct MonitorView {
    id: String,
    labels: BTreeMap<String, String>,
    spec: MonitorSpec,
    status: StatusView,
    managed_by: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct StatusView {
    state: MonitorState,
    since: DateTime<Utc>,
    last_result: Option<LastResult>,
    open_incident: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_url: Option<String>,
    /// The runtime pause (`POST .../pause`), absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    paused: Option<PauseView>,
}

/// Who paused a monitor at runtime, when and why.
#[derive(Debug, Serialize)]
struct PauseView {
    at: DateTime<Utc>,
    by: String,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct LastResult {
    at: DateTime<Utc>,
    outcome: Option<Outcome>,
    message: Option<String>,
    latency_ms: Option<f64>,
}

/// Builds the view of `record` with the engine's status and, for heartbeats and writers, the
/// push URL (absolute under `--public-url` when set).
async fn view(
    state: &ApiState,
    record: MonitorRecord,
    audience: Audience,
) -> ApiResult<MonitorView> {
    let pause = state.engine.runtime_pause(&record.id);
    let status = state.engine.status(&record.id).unwrap_or_else(|| {
        let mut s = MonitorStatus::pending(&record.id, record.created_at);
        if record.spec.paused || pause.is_some() {
            s.state = MonitorState::Paused;
        }
        s
    });
    let push_url =
        if record.spec.kind() == Some(CheckKind::Heartbeat) && audience == Audience::Writer {
            state
                .engine
                .store()
                .heartbeat_token(&record.id)
                .await?
                .map(|token| format!("{}/push/{token}", state.public_url.as_deref().unwrap_or("")))
        } else {
            None
        };
    Ok(MonitorView {
        status: StatusView {
            state: status.state,
            since: status.since,
            last_result: status.last_result_at.map(|at| LastResult {
                at,
                outcome: status.last_outcome,
                message: status.last_message.clone(),
                latency_ms: status.last_latency_ms,
            }),
            open_incident: status.open_incident,
            push_url,
            paused: pause.map(|p| PauseView {
                at: p.at,
                by: p.by,
                reason: p.reason,
            }),
        },
        id: record.id,
        labels: record.labels,
        spec: redacted(record.spec, audience),
        managed_by: record.source,
        version: record.version,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

/// `spec` as responses show it: HTTP credentials replaced by [`REDACTED`], and for readers
/// also header values and the push token.
fn redacted(mut spec: MonitorSpec, audience: Audience) -> MonitorSpec {
    let hide = |s: &mut Secret| *s = Secret(REDACTED.to_owned());
    match spec.http.as_mut().and_then(|h| h.auth.as_mut()) {
        Some(HttpAuth::Basic { password, .. }) => hide(password),
        Some(HttpAuth::Bearer { token }) => hide(token),
        None => {}
    }
    // Credentials in a URL are refused on write; one stored before that rule is not shown.
    if let Some(http) = spec.http.as_mut() {
        http.url = vedette_model::spec::redact_url(&http.url);
    }
    if audience == Audience::Reader {
        if let Some(http) = spec.http.as_mut() {
            for value in http.headers.values_mut() {
                REDACTED.clone_into(value);
            }
        }
        if let Some(token) = spec.heartbeat.as_mut().and_then(|h| h.token.as_mut()) {
            hide(token);
        }
    }
    spec
}

/// Puts the stored secret back where a write sent [`REDACTED`] (a GET body sent back as is):
/// HTTP credentials and header values. 422 when nothing of that kind is
/// stored, or when the request's destination (scheme, host, port) changed while a stored
/// HTTP secret would be kept.
fn restore_credentials(spec: &mut MonitorSpec, stored: Option<&MonitorSpec>) -> ApiResult<()> {
    let stored_http = stored.and_then(|s| s.http.as_ref());
    let stored_auth = stored_http.and_then(|h| h.auth.as_ref());
    let placeholder = |field: &str| {
        Problem::invalid(
            field,
            format!(
                "{REDACTED:?} keeps a stored secret, but there is none of this kind; send the real value"
            ),
        )
    };
    let mut kept = Vec::new();
    if let Some(http) = spec.http.as_mut() {
        match http.auth.as_mut() {
            Some(HttpAuth::Basic { password, .. }) if password.expose() == REDACTED => {
                let field = "spec.http.auth.basic.password";
                match stored_auth {
                    Some(HttpAuth::Basic { password: p, .. }) => *password = p.clone(),
                    _ => return Err(placeholder(field)),
                }
                kept.push(field.to_owned());
            }
            Some(HttpAuth::Bearer { token }) if token.expose() == REDACTED => {
                let field = "spec.http.auth.bearer.token";
                match stored_auth {
                    Some(HttpAuth::Bearer { token: t }) => *token = t.clone(),
                    _ => return Err(placeholder(field)),
                }
                kept.push(field.to_owned());
            }
            _ => {}
        }
        for (name, value) in &mut http.headers {
            if value != REDACTED {
                continue;
            }
            let field = format!("spec.http.headers.{name}");
            match stored_http.and_then(|h| h.headers.get(name)) {
                Some(v) => value.clone_from(v),
                None => return Err(placeholder(&field)),
            }
            kept.push(field);
        }
        resource::ensure_kept_secrets_stay(
            &kept,
            stored_http
                .and_then(|h| Destination::of_url(&h.url))
                .as_ref(),
            Destination::of_url(&http.url).as_ref(),
        )?;
    }
    Ok(())
}

/// The current record of `id`: the engine's copy, else the store's; 404 when neither has it.
async fn current(state: &ApiState, id: &str) -> ApiResult<MonitorRecord> {
    if let Some(live) = state.engine.monitor(id) {
        return Ok(live.record.clone());
    }
    state
        .engine
        .store()
        .get_monitor(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("no monitor {id:?}"))
}

/// `GET /monitors?selector=&limit=&cursor=`.
pub async fn list(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    params: Params,
) -> ApiResult<Page<MonitorView>> {
    let audience = Audience::of(principal.as_ref());
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params
        .get("cursor")
        .map(|c| pagination::decode(CURSOR, c))
        .transpose()?;
    let mut page = state
        .engine
        .monitors_page(after.as_deref(), limit + 1, |m| {
            selector.matches(&m.record.labels)
        });
    let next_cursor = if page.len() > limit {
        page.truncate(limit);
        page.last()
            .map(|m| pagination::encode(CURSOR, &m.record.id))
    } else {
        None
    };
    let mut items = Vec::with_capacity(page.len());
    for live in page {
        items.push(view(&state, live.record.clone(), audience).await?);
    }
    Ok(Page { items, next_cursor })
}

/// `GET /monitors/{id}`; 304 when `If-None-Match` names the current version.
pub async fn get(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<Response> {
    let record = current(&state, &id).await?;
    if pre.not_modified(record.version) {
        return Ok(resource::not_modified(record.version));
    }
    let version = record.version;
    Ok(resource::with_etag(
        StatusCode::OK,
        version,
        view(&state, record, Audience::of(principal.as_ref())).await?,
    ))
}

/// 409 naming `spec.heartbeat.token`: the push token is another monitor's.
fn token_taken() -> Problem {
    Problem::conflict("spec.heartbeat.token: already used by another monitor").with_errors(vec![
        FieldError::new("spec.heartbeat.token", "already used by another monitor"),
    ])
}

/// 409 when a heartbeat token is already another monitor's (the store checks again
/// atomically when it writes).
async fn ensure_token_free(state: &ApiState, id: &str, spec: &MonitorSpec) -> ApiResult<()> {
    let Some(token) = spec.heartbeat.as_ref().and_then(|h| h.token.as_ref()) else {
        return Ok(());
    };
    match state
        .engine
        .store()
        .monitor_for_token(token.expose())
        .await?
    {
        Some(owner) if owner != id => Err(token_taken()),
        _ => Ok(()),
    }
}

/// Writes `record` if the stored version is still `expected` (0: absent) and hands it to the
/// engine; `None` when another writer got in first.
async fn commit(
    state: &ApiState,
    record: &MonitorRecord,
    expected: i64,
) -> ApiResult<Option<MonitorRecord>> {
    ensure_token_free(state, &record.id, &record.spec).await?;
    match state
        .engine
        .store()
        .put_monitor_if(record, Some(expected))
        .await
    {
        Ok(stored) => {
            state.engine.upsert(stored.clone()).await?;
            Ok(Some(stored))
        }
        Err(StoreError::VersionConflict { .. }) => Ok(None),
        Err(StoreError::HeartbeatTokenTaken) => Err(token_taken()),
        Err(e) => Err(e.into()),
    }
}

fn record(id: &str, labels: BTreeMap<String, String>, spec: MonitorSpec) -> MonitorRecord {
    let mut record = MonitorRecord::new(id, spec);
    record.labels = labels;
    record
}

fn contention(id: &str) -> Problem {
    Problem::conflict(format!(
        "monitor {id:?} kept changing while it was written; retry"
    ))
}

/// Creates or replaces `id` under the request's preconditions; the stored record and
/// whether it was created.
async fn put_record(
    state: &ApiState,
    id: &str,
    envelope: Envelope<MonitorSpec>,
    pre: &Preconditions,
) -> ApiResult<(MonitorRecord, bool)> {
    let what = format!("{KIND} {id:?}");
    let wanted = record(id, envelope.labels, envelope.spec);
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state.engine.store().get_monitor(id).await?;
        if let Some(existing) = &existing {
            ensure_api_managed(KIND, id, &existing.source)?;
        }
        let version = existing.as_ref().map(|m| m.version);
        pre.check_write(&what, version)?;
        let mut wanted = wanted.clone();
        restore_credentials(&mut wanted.spec, existing.as_ref().map(|m| &m.spec))?;
        if let Some(stored) = commit(state, &wanted, version.unwrap_or(0)).await? {
            return Ok((stored, existing.is_none()));
        }
    }
    Err(contention(id))
}

async fn respond(state: &ApiState, record: MonitorRecord, created: bool) -> ApiResult<Response> {
    let version = record.version;
    let location = format!("/api/v1/monitors/{}", record.id);
    let body = view(state, record, Audience::Writer).await?;
    Ok(if created {
        resource::created(location, version, body)
    } else {
        resource::with_etag(StatusCode::OK, version, body)
    })
}

/// `PUT /monitors/{id}`: idempotent create-or-replace; 201 created, 200 replaced.
pub async fn put(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = body::parse::<MonitorSpec>(body)?;
    resource::check_ids(&id, envelope.id.as_deref())?;
    let (stored, created) = put_record(&state, &id, envelope, &pre).await?;
    respond(&state, stored, created).await
}

/// `POST /monitors`: creates with the body's id or one generated from `spec.name`.
pub async fn create(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = body::parse::<MonitorSpec>(body)?;
    let candidates = match &envelope.id {
        Some(id) => vec![id.clone()],
        None => resource::id_candidates(envelope.spec.name.as_deref(), "mon"),
    };
    for id in &candidates {
        let mut wanted = record(id, envelope.labels.clone(), envelope.spec.clone());
        restore_credentials(&mut wanted.spec, None)?;
        if let Some(stored) = commit(&state, &wanted, 0).await? {
            return respond(&state, stored, true).await;
        }
    }
    Err(Problem::conflict(format!(
        "monitor {:?} already exists; PUT /api/v1/monitors/{{id}} replaces it",
        candidates.first().map(String::as_str).unwrap_or_default()
    )))
}

/// `PATCH /monitors/{id}`: JSON Merge Patch over `{"labels", "spec"}`, then validated.
pub async fn patch(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(patch): JsonBody,
) -> ApiResult<Response> {
    if !patch.is_object() {
        return Err(Problem::invalid(
            "",
            "expected a JSON merge patch object over labels and spec",
        ));
    }
    modify(&state, &id, &pre, |existing| {
        let shown = redacted(existing.spec.clone(), Audience::Writer);
        let mut document = body::document(&existing.labels, &shown)?;
        body::merge_patch(&mut document, &patch);
        let envelope = body::parse::<MonitorSpec>(document)?;
        resource::check_ids(&id, envelope.id.as_deref())?;
        Ok(record(&id, envelope.labels, envelope.spec))
    })
    .await
}

/// Reads `id`, derives the new record with `change` and writes it if nothing changed in
/// between (re-reading otherwise, unless a precondition pins the version).
async fn modify(
    state: &ApiState,
    id: &str,
    pre: &Preconditions,
    change: impl Fn(&MonitorRecord) -> ApiResult<MonitorRecord>,
) -> ApiResult<Response> {
    let what = format!("{KIND} {id:?}");
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state
            .engine
            .store()
            .get_monitor(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        ensure_api_managed(KIND, id, &existing.source)?;
        pre.check_write(&what, Some(existing.version))?;
        let mut wanted = change(&existing)?;
        restore_credentials(&mut wanted.spec, Some(&existing.spec))?;
        if let Some(stored) = commit(state, &wanted, existing.version).await? {
            return respond(state, stored, false).await;
        }
    }
    Err(contention(id))
}

/// `DELETE /monitors/{id}`: 204. An open incident is resolved with the reason
/// `monitor deleted` and its `incident.resolved` event written with the deletion.
pub async fn delete(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<StatusCode> {
    let existing = state
        .engine
        .store()
        .get_monitor(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    ensure_api_managed(KIND, &id, &existing.source)?;
    pre.check_write(&format!("{KIND} {id:?}"), Some(existing.version))?;
    let name = existing.spec.name.as_deref().unwrap_or(&id);
    state
        .engine
        .store()
        .delete_monitor(&id, |incident| {
            state_machine::resolved_by_deletion(incident, name)
        })
        .await?;
    state.engine.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// The reason a pause request gives: `?reason=`, else a JSON body `{"reason": "..."}` (read
/// when the request declares a `Content-Type`); trimmed, empty counts as none.
async fn pause_reason(params: &Params, request: Request) -> ApiResult<Option<String>> {
    let from_body = if request.headers().contains_key(header::CONTENT_TYPE) {
        let JsonBody(body) = JsonBody::from_request(request, &()).await?;
        match body {
            Value::Null => None,
            Value::Object(mut fields) => {
                if let Some(unknown) = fields.keys().find(|k| *k != "reason") {
                    return Err(Problem::invalid(
                        unknown,
                        "unknown field: a pause body takes only \"reason\"",
                    ));
                }
                match fields.remove("reason") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(reason)) => Some(reason),
                    Some(_) => return Err(Problem::invalid("reason", "expected a string")),
                }
            }
            _ => {
                return Err(Problem::invalid(
                    "",
                    "expected a JSON object such as {\"reason\": \"deploy\"}",
                ));
            }
        }
    } else {
        None
    };
    let reason = params.get("reason").map(str::to_owned).or(from_body);
    let Some(reason) = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
    else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_PAUSE_REASON_CHARS {
        return Err(Problem::invalid(
            "reason",
            format!("expected at most {MAX_PAUSE_REASON_CHARS} characters"),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(Problem::invalid(
            "reason",
            "expected one line of text without control characters",
        ));
    }
    Ok(Some(reason))
}

/// Sets (`Some`) or clears (`None`) the runtime pause of `id` and returns the monitor; its
/// spec and version stay as they are.
async fn set_runtime_pause(
    state: &ApiState,
    id: &str,
    pre: &Preconditions,
    pause: Option<RuntimePause>,
) -> ApiResult<Response> {
    let existing = current(state, id).await?;
    pre.check_write(&format!("{KIND} {id:?}"), Some(existing.version))?;
    let pausing = pause.as_ref().map(|p| p.by.clone());
    state.engine.set_runtime_pause(id, pause).await?;
    match pausing {
        Some(by) => tracing::info!(monitor = %id, by = %by, "paused at runtime"),
        None => tracing::info!(monitor = %id, "runtime pause ended"),
    }
    let record = current(state, id).await?;
    respond(state, record, false).await
}

/// `POST /monitors/{id}/pause?reason=` (or body `{"reason"}`): pauses the monitor at runtime,
/// whatever its source; pausing again replaces who, when and why.
pub async fn pause(
    State(state): State<ApiState>,
    Extension(principal): Extension<Principal>,
    PathId(id): PathId,
    params: Params,
    pre: Preconditions,
    request: Request,
) -> ApiResult<Response> {
    let reason = pause_reason(&params, request).await?;
    let pause = RuntimePause {
        at: Utc::now(),
        by: principal.name,
        reason,
    };
    set_runtime_pause(&state, &id, &pre, Some(pause)).await
}

/// `POST /monitors/{id}/resume`: ends the runtime pause (a no-op without one); a monitor whose
/// `spec.paused` is true stays paused.
pub async fn resume(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<Response> {
    set_runtime_pause(&state, &id, &pre, None).await
}

/// `POST /monitors/{id}/run`: runs the check now and returns its `CheckResult`. The result
/// is recorded like a scheduled one, except on a paused monitor (which stays paused).
pub async fn run(State(state): State<ApiState>, PathId(id): PathId) -> ApiResult<Response> {
    if state.engine.monitor(&id).is_none() {
        return Err(not_found(&id));
    }
    match state.engine.run_now(&id).await {
        Some(result) => Ok(Json(result).into_response()),
        None if state.engine.monitor(&id).is_none() => Err(not_found(&id)),
        None => Err(Problem::conflict(format!(
            "monitor {id:?} is a heartbeat monitor: it is judged from the pings it receives \
             and has nothing to report yet"
        ))),
    }
}

/// `POST /monitors/{id}/rotate-push-token`: gives a heartbeat monitor a new random push token
/// (the old one stops working at once) and returns the monitor with its new `push_url`. A
/// token set in the spec is replaced there (a new version); 409 for other kinds.
pub async fn rotate_push_token(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<Response> {
    let existing = current(&state, &id).await?;
    let Some(heartbeat) = existing.spec.heartbeat.as_ref() else {
        return Err(Problem::conflict(format!(
            "monitor {id:?} is not a heartbeat monitor: it has no push token"
        )));
    };
    let token = new_token();
    if heartbeat.token.is_some() {
        return modify(&state, &id, &pre, |existing| {
            let mut wanted = existing.clone();
            if let Some(h) = wanted.spec.heartbeat.as_mut() {
                h.token = Some(Secret(token.clone()));
            }
            Ok(wanted)
        })
        .await;
    }
    pre.check_write(&format!("{KIND} {id:?}"), Some(existing.version))?;
    state
        .engine
        .store()
        .set_heartbeat_token(&id, &token)
        .await?;
    tracing::info!(monitor = %id, "push token rotated");
    respond(&state, existing, false).await
}
