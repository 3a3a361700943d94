//! `/monitors`: list (label selector, id-ordered cursor pages, served from the engine's
//! memory), read, create, replace, merge-patch, delete, pause, resume and run now.
//!
//! Pause and resume are operations beside the spec: they set or clear a stored runtime pause
//! (shown as `status.paused`) and never write a new version, so they work on monitors of every
//! source and applying an unchanged file keeps a paused monitor paused. `spec.paused` stays
//! the declarative pause; a monitor runs only when neither pauses it.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vedette_model::discovery::GatewayReading;
use vedette_model::selector::Selector;
use vedette_model::spec::{HttpAuth, Secret};
use vedette_model::{
    Audience, Check, CheckKind, FieldError, MonitorSpec, MonitorState, Outcome, REDACTED, Record,
    Redact, Source, Version,
};
use vedette_store::{
    MAX_PAUSE_REASON_CHARS, MonitorRecord, MonitorStatus, RuntimePause, StoreError,
};

use super::ApiState;
use super::auth::Principal;
use super::body::typed;
use super::crud::{self, ApiResource};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::problem::{ApiResult, Problem};
use super::resource::{self, Destination};
use super::view::record_view;
use crate::engine::new_token;
use crate::state_machine;

/// A monitor as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Monitor")]
pub struct MonitorView {
    /// Stable slug.
    id: String,
    /// Labels for selection and ownership.
    labels: BTreeMap<String, String>,
    /// What to check; credentials shown as `********`, and to read tokens header values and
    /// the push token too.
    spec: MonitorSpec,
    /// Where the monitor stands now.
    status: StatusView,
    /// Who wrote it last: `api`, `file` or `demo` (only `api` ones change through the API).
    managed_by: Source,
    /// Bumped on every change of labels, spec or source; sent as the ETag.
    version: Version,
    /// First written.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
}

/// A monitor's current state.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "MonitorStatus")]
struct StatusView {
    /// `pending`, `up`, `degraded`, `down` or `paused`.
    state: MonitorState,
    /// When it entered this state.
    since: DateTime<Utc>,
    /// The newest check, if any.
    last_result: Option<LastResult>,
    /// Id of the open incident, if any.
    open_incident: Option<String>,
    /// Where a heartbeat monitor is pinged (shown to write tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    push_url: Option<String>,
    /// The runtime pause (`POST .../pause`), absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    paused: Option<PauseView>,
    /// For a monitor found by a discovery source: the latest upstream health its gateway
    /// reported (what `gateway.healthy` reads), beside the monitor's own result.
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<GatewayReading>,
    /// The route's real traffic as the gateway reported it over the last minutes
    /// (`POST /ingest/kong...`), absent without reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    passive: Option<crate::passive::PassiveView>,
}

/// Who paused a monitor at runtime, when and why.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "RuntimePause")]
struct PauseView {
    /// When.
    at: DateTime<Utc>,
    /// The name of the token that paused it.
    by: String,
    /// Why, if given.
    reason: Option<String>,
}

/// The newest check of a monitor.
#[derive(Debug, Serialize, JsonSchema)]
struct LastResult {
    /// When it started.
    at: DateTime<Utc>,
    /// `success`, `failure` or `error`; absent for a heartbeat that has not been judged.
    outcome: Option<Outcome>,
    /// What went wrong, in one line.
    message: Option<String>,
    /// Total time, in milliseconds.
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
    let push_url = if record.spec.kind() == CheckKind::Heartbeat && audience == Audience::Writer {
        state
            .engine
            .store()
            .heartbeat_token(&record.id)
            .await?
            .map(|token| format!("{}/push/{token}", state.public_url.as_deref().unwrap_or("")))
    } else {
        None
    };
    let status = StatusView {
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
        gateway: state
            .engine
            .gateway_health()
            .reading(&record.id, &record.labels),
        passive: state.passive.view(&record.id, std::time::Instant::now()),
    };
    let record = Record {
        spec: record.spec.redacted(audience),
        ..record
    };
    Ok(record_view!(MonitorView, record { status: status }))
}

/// Puts the stored secret back where a write sent [`REDACTED`] (a GET body sent back as is):
/// HTTP credentials and header values. 422 when nothing of that kind is
/// stored, or when the request's destination (scheme, host, port) changed while a stored
/// HTTP secret would be kept.
fn restore_credentials(spec: &mut MonitorSpec, stored: Option<&MonitorSpec>) -> ApiResult<()> {
    let stored_http = stored.and_then(|s| s.check.as_http());
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
    if let Check::Http(http) = &mut spec.check {
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

/// 409 naming `spec.heartbeat.token`: the push token is another monitor's.
fn token_taken() -> Problem {
    Problem::conflict("spec.heartbeat.token: already used by another monitor").with_errors(vec![
        FieldError::new("spec.heartbeat.token", "already used by another monitor"),
    ])
}

/// 409 when a heartbeat token is already another monitor's (the store checks again
/// atomically when it writes).
async fn ensure_token_free(state: &ApiState, id: &str, spec: &MonitorSpec) -> ApiResult<()> {
    let Some(token) = spec.check.as_heartbeat().and_then(|h| h.token.as_ref()) else {
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

/// The monitor kind of the API.
pub struct Monitors;

impl ApiResource for Monitors {
    type Spec = MonitorSpec;
    type View = MonitorView;
    const KIND: &'static str = "monitor";
    const COLLECTION: &'static str = "monitors";
    const ID_PREFIX: &'static str = "mon";
    const NAME: &'static str = "Monitor";
    const NAMES: &'static str = "Monitors";

    fn name(spec: &MonitorSpec) -> Option<&str> {
        spec.name.as_deref()
    }

    async fn view(
        state: &ApiState,
        record: MonitorRecord,
        audience: Audience,
    ) -> ApiResult<MonitorView> {
        view(state, record, audience).await
    }

    fn shown(_state: &ApiState, spec: &MonitorSpec) -> MonitorSpec {
        spec.clone().redacted(Audience::Writer)
    }

    fn prepare(
        _state: &ApiState,
        wanted: &mut MonitorRecord,
        stored: Option<&MonitorRecord>,
    ) -> ApiResult<()> {
        restore_credentials(&mut wanted.spec, stored.map(|s| &s.spec))
    }

    /// The engine's copy (what is being checked), else the store's.
    async fn read(state: &ApiState, id: &str) -> ApiResult<Option<MonitorRecord>> {
        if let Some(live) = state.engine.monitor(id) {
            return Ok(Some(live.record.clone()));
        }
        Ok(state.engine.store().get_monitor(id).await?)
    }

    /// Served from the engine's memory.
    async fn page(
        state: &ApiState,
        after: Option<&str>,
        limit: usize,
        selector: &Selector,
    ) -> ApiResult<Vec<MonitorRecord>> {
        Ok(state
            .engine
            .monitors_page(after, limit, |m| selector.matches(&m.record.labels))
            .into_iter()
            .map(|live| live.record.clone())
            .collect())
    }

    /// Claims the push token with the write.
    async fn write(
        state: &ApiState,
        record: &MonitorRecord,
        expected: Version,
    ) -> ApiResult<Option<MonitorRecord>> {
        ensure_token_free(state, &record.id, &record.spec).await?;
        match state
            .engine
            .store()
            .put_monitor_if(record, Some(expected))
            .await
        {
            Ok(stored) => Ok(Some(stored)),
            Err(StoreError::VersionConflict { .. }) => Ok(None),
            Err(StoreError::HeartbeatTokenTaken) => Err(token_taken()),
            Err(e) => Err(e.into()),
        }
    }

    /// An open incident is resolved with the reason `monitor deleted` and its
    /// `incident.resolved` event written with the deletion.
    async fn remove(state: &ApiState, existing: &MonitorRecord) -> ApiResult<()> {
        let name = existing.spec.name.as_deref().unwrap_or(&existing.id);
        state
            .engine
            .store()
            .delete_monitor(&existing.id, |incident| {
                state_machine::resolved_by_deletion(incident, name)
            })
            .await?;
        Ok(())
    }
}

/// The optional body of `POST /monitors/{id}/pause`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// Why the monitor is paused: one line, trimmed, empty counts as none; `?reason=` wins.
    #[schemars(length(max = MAX_PAUSE_REASON_CHARS))]
    pub reason: Option<String>,
}

/// The reason a pause request gives: `?reason=`, else a JSON body [`PauseRequest`] (read
/// when the request declares a `Content-Type`); trimmed, empty counts as none.
async fn pause_reason(params: &Params, request: Request) -> ApiResult<Option<String>> {
    let from_body = if request.headers().contains_key(header::CONTENT_TYPE) {
        let JsonBody(body) = JsonBody::from_request(request, &()).await?;
        match body {
            Value::Null => None,
            Value::Object(_) => {
                let mut errors = Vec::new();
                match typed::<PauseRequest>(body, "", &mut errors) {
                    Some(body) => body.reason,
                    None => return Err(Problem::validation(errors)),
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
    let existing = crud::current::<Monitors>(state, id).await?;
    pre.check_write(&crud::what::<Monitors>(id), Some(existing.version))?;
    let pausing = pause.as_ref().map(|p| p.by.clone());
    state.engine.set_runtime_pause(id, pause).await?;
    match pausing {
        Some(by) => tracing::info!(monitor = %id, by = %by, "paused at runtime"),
        None => tracing::info!(monitor = %id, "runtime pause ended"),
    }
    let record = crud::current::<Monitors>(state, id).await?;
    crud::respond::<Monitors>(state, record, false).await
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
        return Err(crud::not_found::<Monitors>(&id));
    }
    match state.engine.run_now(&id).await {
        Some(result) => Ok(Json(result).into_response()),
        None if state.engine.monitor(&id).is_none() => Err(crud::not_found::<Monitors>(&id)),
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
    let existing = crud::current::<Monitors>(&state, &id).await?;
    let Some(heartbeat) = existing.spec.check.as_heartbeat() else {
        return Err(Problem::conflict(format!(
            "monitor {id:?} is not a heartbeat monitor: it has no push token"
        )));
    };
    let token = new_token();
    if heartbeat.token.is_some() {
        return crud::modify::<Monitors>(&state, &id, &pre, |existing| {
            let mut wanted = existing.clone();
            if let Some(h) = wanted.spec.check.as_heartbeat_mut() {
                h.token = Some(Secret(token.clone()));
            }
            Ok(wanted)
        })
        .await;
    }
    pre.check_write(&crud::what::<Monitors>(&id), Some(existing.version))?;
    state
        .engine
        .store()
        .set_heartbeat_token(&id, &token)
        .await?;
    tracing::info!(monitor = %id, "push token rotated");
    crud::respond::<Monitors>(&state, existing, false).await
}
