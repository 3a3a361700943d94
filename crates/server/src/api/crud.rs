//! The handlers every versioned resource shares — list, get, create, put, patch, delete — with
//! their conventions written once: label selectors and cursor pages, `ETag` / `If-Match` /
//! `If-None-Match`, ownership (`managed_by`, the `managed-by` label and `Vedette-Manager`), secrets sent back as `********`, and the
//! read-derive-write loop that retries when another writer got in between.
//!
//! A kind plugs in with one [`ApiResource`] impl: its spec type, how it is shown, and the few
//! hooks where it differs (where reads come from, what a write also does). Handlers only
//! write to the store; before answering they wait for the engine to have followed the write
//! ([`crate::follow`]), so what they answer with is what the engine serves and runs.

use std::future::Future;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use vedette_model::selector::{self, Selector};
use vedette_model::{Audience, Record, Version};
use vedette_store::{StoreError, Stored};

use super::ApiState;
use super::auth::Principal;
use super::body::{self, Envelope, Spec};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::pagination::{self, DEFAULT_LIMIT, MAX_LIMIT, Page};
use super::problem::{ApiResult, Problem};
use super::resource::{self, WRITE_ATTEMPTS, audience_of, ensure_api_managed, ensure_manager};
use super::route::{
    Body, CREATE_ERRORS, CURSOR, FORCE, ID, IF_MATCH, IF_NONE_MATCH, IF_NONE_MATCH_READ, LIMIT,
    MANAGER, Param, READ, Route, SELECTOR, WRITE, WRITE_ERRORS,
};

/// A versioned resource kind served by the shared handlers.
pub trait ApiResource: Sized + Send + Sync + 'static {
    /// What the resource is.
    type Spec: Spec + Stored + JsonSchema + 'static;
    /// How answers show it; its schema must be named [`Self::NAME`].
    type View: Serialize + JsonSchema + Send;

    /// Singular, for messages: `monitor`.
    const KIND: &'static str;
    /// The collection's path segment under `/api/v1`, also naming its cursors: `monitors`.
    const COLLECTION: &'static str;
    /// Prefix of generated ids when the spec's name gives none: `mon`.
    const ID_PREFIX: &'static str;
    /// The kind in operation ids and schema names: `Monitor` (`getMonitor`, `MonitorWrite`).
    const NAME: &'static str;
    /// The collection in operation ids: `Monitors` (`listMonitors`).
    const NAMES: &'static str;
    /// The schema of a create's answer (see [`Self::created`]).
    const CREATED: &'static str = Self::NAME;
    /// Ids this kind may not take (they are paths of routes of its own).
    const RESERVED_IDS: &'static [&'static str] = &[];

    /// Reads a write body (`{"id"?, "labels"?, "spec"}`); 422 listing every problem.
    fn parse(body: Value) -> ApiResult<Envelope<Self::Spec>> {
        body::parse(body)
    }

    /// Query parameters of the list operation (a kind with filters of its own adds them).
    const LIST_PARAMS: &'static [Param] = &[SELECTOR, LIMIT, CURSOR];

    /// The display name a new id is made from.
    fn name(spec: &Self::Spec) -> Option<&str>;

    /// What a new id is made from when the body gives none: the spec's name by default.
    fn id_base(spec: &Self::Spec) -> Option<String> {
        Self::name(spec).map(str::to_owned)
    }

    /// The answer for `record` as `audience` may see it.
    fn view(
        state: &ApiState,
        record: Record<Self::Spec>,
        audience: Audience,
    ) -> impl Future<Output = ApiResult<Self::View>> + Send;

    /// The answer for `record` read on its own (`GET /{collection}/{id}`), which may say
    /// more than a list does.
    fn detail(
        state: &ApiState,
        record: Record<Self::Spec>,
        audience: Audience,
    ) -> impl Future<Output = ApiResult<Self::View>> + Send {
        Self::view(state, record, audience)
    }

    /// The answer to a create, `record` as just stored: 201 with `Location`, `ETag` and the
    /// writer's view.
    fn created(
        state: &ApiState,
        record: Record<Self::Spec>,
    ) -> impl Future<Output = ApiResult<Response>> + Send {
        async move {
            let location = location::<Self>(&record.id);
            let version = record.version;
            let body = Self::view(state, record, Audience::Writer).await?;
            Ok(resource::created(location, version, body))
        }
    }

    /// The spec a writer is shown, which a merge patch applies to.
    fn shown(_state: &ApiState, spec: &Self::Spec) -> Self::Spec {
        spec.clone()
    }

    /// Makes `wanted` ready to write over `stored` (none: a create): secrets sent back as
    /// `********` restored, checks that need the stored value.
    fn prepare(
        _state: &ApiState,
        _wanted: &mut Record<Self::Spec>,
        _stored: Option<&Record<Self::Spec>>,
    ) -> ApiResult<()> {
        Ok(())
    }

    /// The current record for a read (the store's by default).
    fn read(
        state: &ApiState,
        id: &str,
    ) -> impl Future<Output = ApiResult<Option<Record<Self::Spec>>>> + Send {
        async move { Ok(state.engine.store().get::<Self::Spec>(id).await?) }
    }

    /// One page for a list: ids after `after` that `selector` matches, by id, at most `limit`.
    fn page(
        state: &ApiState,
        after: Option<&str>,
        limit: usize,
        selector: &Selector,
    ) -> impl Future<Output = ApiResult<Vec<Record<Self::Spec>>>> + Send {
        async move {
            Ok(state
                .engine
                .store()
                .list::<Self::Spec>()
                .await?
                .into_iter()
                .filter(|r| after.is_none_or(|a| r.id.as_str() > a))
                .filter(|r| selector.matches(&r.labels))
                .take(limit)
                .collect())
        }
    }

    /// [`page`](Self::page) for a list request with its query `params`, for a kind whose
    /// [`LIST_PARAMS`](Self::LIST_PARAMS) filter more than labels.
    fn page_filtered(
        state: &ApiState,
        after: Option<&str>,
        limit: usize,
        selector: &Selector,
        _params: &Params,
    ) -> impl Future<Output = ApiResult<Vec<Record<Self::Spec>>>> + Send {
        Self::page(state, after, limit, selector)
    }

    /// Writes `record` while the stored version is still `expected` (0: absent); `None` when
    /// another writer got in first.
    fn write(
        state: &ApiState,
        record: &Record<Self::Spec>,
        expected: Version,
    ) -> impl Future<Output = ApiResult<Option<Record<Self::Spec>>>> + Send {
        async move {
            match state.engine.store().put(record, Some(expected)).await {
                Ok(stored) => Ok(Some(stored)),
                Err(StoreError::VersionConflict { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
    }

    /// Deletes `existing`.
    fn remove(
        state: &ApiState,
        existing: &Record<Self::Spec>,
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async move {
            state
                .engine
                .store()
                .delete::<Self::Spec>(&existing.id)
                .await?;
            Ok(())
        }
    }
}

/// 404 naming the kind and id.
pub fn not_found<R: ApiResource>(id: &str) -> Problem {
    Problem::not_found(format!("no {} {id:?}", R::KIND))
}

/// Where a resource of kind `R` is served: `/api/v1/monitors/{id}`.
pub fn location<R: ApiResource>(id: &str) -> String {
    format!("/api/v1/{}/{id}", R::COLLECTION)
}

/// 422 unless the id in the URL is valid, not reserved for a route of `R`'s, and the body's
/// id, if any, is the same.
fn check_ids<R: ApiResource>(path_id: &str, body_id: Option<&str>) -> ApiResult<()> {
    resource::check_ids(path_id, body_id)?;
    if R::RESERVED_IDS.contains(&path_id) {
        return Err(Problem::invalid("id", format!("{path_id:?} is reserved")));
    }
    Ok(())
}

/// `monitor "id"`, for precondition messages.
pub fn what<R: ApiResource>(id: &str) -> String {
    format!("{} {id:?}", R::KIND)
}

fn contention<R: ApiResource>(id: &str) -> Problem {
    Problem::conflict(format!(
        "{} {id:?} kept changing while it was written; retry",
        R::KIND
    ))
}

/// The answer to a write: 201 with `Location` when created, else 200; both with the `ETag`.
pub async fn respond<R: ApiResource>(
    state: &ApiState,
    record: Record<R::Spec>,
    created: bool,
) -> ApiResult<Response> {
    if created {
        return R::created(state, record).await;
    }
    let version = record.version;
    let body = R::view(state, record, Audience::Writer).await?;
    Ok(resource::with_etag(StatusCode::OK, version, body))
}

/// Prepares and writes `wanted` over `stored`, then waits for the engine to follow; the
/// stored record, `None` on a lost race.
async fn commit<R: ApiResource>(
    state: &ApiState,
    mut wanted: Record<R::Spec>,
    stored: Option<&Record<R::Spec>>,
) -> ApiResult<Option<Record<R::Spec>>> {
    R::prepare(state, &mut wanted, stored)?;
    let written = R::write(state, &wanted, stored.map_or(0, |s| s.version)).await?;
    if written.is_some() {
        state.feed.caught_up().await;
    }
    Ok(written)
}

fn record<S>(id: &str, envelope: Envelope<S>) -> Record<S> {
    Record::new(id, envelope.spec).with_labels(envelope.labels)
}

/// `GET /{collection}?selector=&limit=&cursor=`, by id.
pub async fn list<R: ApiResource>(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    params: Params,
) -> ApiResult<Page<R::View>> {
    let audience = audience_of(principal.as_ref());
    let selector = selector::parse(params.get("selector").unwrap_or_default())
        .map_err(|e| Problem::bad_param("selector", e.to_string()))?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params
        .get("cursor")
        .map(|c| pagination::decode(R::COLLECTION, c))
        .transpose()?;
    let mut records =
        R::page_filtered(&state, after.as_deref(), limit + 1, &selector, &params).await?;
    let next_cursor = if records.len() > limit {
        records.truncate(limit);
        records
            .last()
            .map(|r| pagination::encode(R::COLLECTION, &r.id))
    } else {
        None
    };
    let mut items = Vec::with_capacity(records.len());
    for record in records {
        items.push(R::view(&state, record, audience).await?);
    }
    Ok(Page { items, next_cursor })
}

/// `GET /{collection}/{id}`; 304 when `If-None-Match` names the current version.
pub async fn get<R: ApiResource>(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<Response> {
    let record = R::read(&state, &id)
        .await?
        .ok_or_else(|| not_found::<R>(&id))?;
    if pre.not_modified(record.version) {
        return Ok(resource::not_modified(record.version));
    }
    let version = record.version;
    let view = R::detail(&state, record, audience_of(principal.as_ref())).await?;
    Ok(resource::with_etag(StatusCode::OK, version, view))
}

/// `PUT /{collection}/{id}`: idempotent create-or-replace; 201 created, 200 replaced.
pub async fn put<R: ApiResource>(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = R::parse(body)?;
    check_ids::<R>(&id, envelope.id.as_deref())?;
    let wanted = record(&id, envelope);
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state.engine.store().get::<R::Spec>(&id).await?;
        if let Some(existing) = &existing {
            ensure_api_managed(R::KIND, &id, existing.source)?;
            ensure_manager(R::KIND, &id, &existing.labels, Some(&wanted.labels), &pre)?;
        }
        pre.check_write(&what::<R>(&id), existing.as_ref().map(|r| r.version))?;
        if let Some(stored) = commit::<R>(&state, wanted.clone(), existing.as_ref()).await? {
            return respond::<R>(&state, stored, existing.is_none()).await;
        }
    }
    Err(contention::<R>(&id))
}

/// `POST /{collection}`: creates with the body's id, or one made from the spec's name.
pub async fn create<R: ApiResource>(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let envelope = R::parse(body)?;
    let candidates = match &envelope.id {
        Some(id) => vec![id.clone()],
        None => resource::id_candidates(R::id_base(&envelope.spec).as_deref(), R::ID_PREFIX),
    };
    for id in &candidates {
        check_ids::<R>(id, None)?;
        if let Some(stored) = commit::<R>(&state, record(id, envelope.clone()), None).await? {
            return respond::<R>(&state, stored, true).await;
        }
    }
    Err(Problem::conflict(format!(
        "{} {:?} already exists; PUT /api/v1/{}/{{id}} replaces it",
        R::KIND,
        candidates.first().map(String::as_str).unwrap_or_default(),
        R::COLLECTION,
    )))
}

/// `PATCH /{collection}/{id}`: JSON Merge Patch over `{"labels", "spec"}`, then validated.
pub async fn patch<R: ApiResource>(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(patch): JsonBody,
) -> ApiResult<Response> {
    body::expect_merge_patch(&patch)?;
    modify::<R>(&state, &id, &pre, |existing| {
        let mut document = body::document(&existing.labels, &R::shown(&state, &existing.spec))?;
        body::merge_patch(&mut document, &patch);
        let envelope = R::parse(document)?;
        check_ids::<R>(&id, envelope.id.as_deref())?;
        Ok(record(&id, envelope))
    })
    .await
}

/// Reads `id`, derives the new record with `change` and writes it if nothing changed in
/// between (re-reading otherwise); 200 with the stored record.
pub async fn modify<R: ApiResource>(
    state: &ApiState,
    id: &str,
    pre: &Preconditions,
    change: impl Fn(&Record<R::Spec>) -> ApiResult<Record<R::Spec>>,
) -> ApiResult<Response> {
    let stored = modified::<R>(state, id, pre, change).await?;
    respond::<R>(state, stored, false).await
}

/// [`modify`] answering the stored record, for operations that answer differently.
pub async fn modified<R: ApiResource>(
    state: &ApiState,
    id: &str,
    pre: &Preconditions,
    change: impl Fn(&Record<R::Spec>) -> ApiResult<Record<R::Spec>>,
) -> ApiResult<Record<R::Spec>> {
    for _ in 0..WRITE_ATTEMPTS {
        let existing = state
            .engine
            .store()
            .get::<R::Spec>(id)
            .await?
            .ok_or_else(|| not_found::<R>(id))?;
        ensure_api_managed(R::KIND, id, existing.source)?;
        ensure_manager(R::KIND, id, &existing.labels, None, pre)?;
        pre.check_write(&what::<R>(id), Some(existing.version))?;
        let wanted = change(&existing)?;
        if let Some(stored) = commit::<R>(state, wanted, Some(&existing)).await? {
            return Ok(stored);
        }
    }
    Err(contention::<R>(id))
}

/// `DELETE /{collection}/{id}`: 204.
pub async fn delete<R: ApiResource>(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
) -> ApiResult<StatusCode> {
    let existing = state
        .engine
        .store()
        .get::<R::Spec>(&id)
        .await?
        .ok_or_else(|| not_found::<R>(&id))?;
    ensure_api_managed(R::KIND, &id, existing.source)?;
    ensure_manager(R::KIND, &id, &existing.labels, None, &pre)?;
    pre.check_write(&what::<R>(&id), Some(existing.version))?;
    R::remove(&state, &existing).await?;
    state.feed.caught_up().await;
    Ok(StatusCode::NO_CONTENT)
}

/// The record of `id` for a read; 404 when there is none.
pub async fn current<R: ApiResource>(state: &ApiState, id: &str) -> ApiResult<Record<R::Spec>> {
    R::read(state, id).await?.ok_or_else(|| not_found::<R>(id))
}

/// The six operations of kind `R`, for [`crate::routes::all`]: list and create on the
/// collection, get, put, patch and delete on `/{id}`. Their paths and names are made once
/// for the life of the process (the route table is built once), so they are leaked.
pub fn routes<R: ApiResource>() -> [Route; 6] {
    let text = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let collection = text(format!("/api/v1/{}", R::COLLECTION));
    let item = text(format!("/api/v1/{}/{{id}}", R::COLLECTION));
    let schema = text(R::NAME.to_owned());
    let created = text(R::CREATED.to_owned());
    let write = text(format!("{}Write", R::NAME));
    let base = Route {
        method: "GET",
        path: item,
        operation_id: "",
        summary: "",
        tag: R::COLLECTION,
        scope: WRITE,
        params: &[ID, IF_MATCH, MANAGER, FORCE],
        request: Body::Empty,
        status: 200,
        response: Body::Json(schema),
        created: None,
        errors: &[],
        handler: || routing::get(get::<R>),
    };
    [
        Route {
            path: collection,
            operation_id: text(format!("list{}", R::NAMES)),
            summary: text(format!("List {}s, ordered by id", R::KIND)),
            scope: READ,
            params: R::LIST_PARAMS,
            response: Body::Json(text(format!("{}List", R::NAME))),
            errors: &[400],
            handler: || routing::get(list::<R>),
            ..base
        },
        Route {
            method: "POST",
            path: collection,
            operation_id: text(format!("create{}", R::NAME)),
            summary: text(format!(
                "Create a {} (id from the body, the spec's name or generated); 201 with Location",
                R::KIND
            )),
            params: &[],
            request: Body::Json(write),
            status: 201,
            response: Body::Json(created),
            errors: CREATE_ERRORS,
            handler: || routing::post(create::<R>),
            ..base
        },
        Route {
            operation_id: text(format!("get{}", R::NAME)),
            summary: text(format!("One {}", R::KIND)),
            scope: READ,
            params: &[ID, IF_NONE_MATCH_READ],
            errors: &[304, 404],
            ..base
        },
        Route {
            method: "PUT",
            operation_id: text(format!("put{}", R::NAME)),
            summary: text(format!(
                "Create or replace a {} (201 created, 200 replaced)",
                R::KIND
            )),
            params: &[ID, IF_MATCH, IF_NONE_MATCH, MANAGER, FORCE],
            request: Body::Json(write),
            created: Some(Body::Json(created)),
            errors: WRITE_ERRORS,
            handler: || routing::put(put::<R>),
            ..base
        },
        Route {
            method: "PATCH",
            operation_id: text(format!("patch{}", R::NAME)),
            summary: text(format!(
                "Change a {} with a JSON Merge Patch (RFC 7396) over labels and spec",
                R::KIND
            )),
            request: Body::MergePatch(text(format!("{}Patch", R::NAME))),
            errors: &[400, 404, 409, 412, 413, 415, 422],
            handler: || routing::patch(patch::<R>),
            ..base
        },
        Route {
            method: "DELETE",
            operation_id: text(format!("delete{}", R::NAME)),
            summary: text(format!("Delete a {}", R::KIND)),
            status: 204,
            response: Body::Empty,
            errors: &[404, 409, 412],
            handler: || routing::delete(delete::<R>),
            ..base
        },
    ]
}
