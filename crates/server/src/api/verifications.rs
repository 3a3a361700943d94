//! `/verifications`: deployment gates, served by the shared resource handlers ([`super::crud`]);
//! the engine follows them through the change feed ([`crate::verifications`]). A verification's
//! spec cannot be changed once created (its labels can); its status is computed by the server. Also its report
//! (`/verifications/{id}/report`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::verification::{VerificationSpec, VerificationStatus};
use vedette_model::{Audience, Record, Source, Version};

use super::ApiState;
use super::crud::{self, ApiResource};
use super::extract::{Params, PathId};
use super::problem::{ApiResult, Problem};
use super::verification_report;
use super::view::record_view;

/// The verification kind of the API.
pub struct Verifications;

/// A verification as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Verification")]
pub struct VerificationView {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// What was asked.
    pub spec: VerificationSpec,
    /// What the server computed: state, deadline, progress per monitor.
    pub status: VerificationStatus,
    /// Who wrote it: `api`.
    pub managed_by: Source,
    /// Its version (never changes: a verification cannot be changed).
    pub version: Version,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The current status of verification `id`: the engine's while it follows it, else the
/// stored one, else pending.
async fn status_of(state: &ApiState, id: &str) -> ApiResult<VerificationStatus> {
    if let Some(status) = state.engine.verifications().status(id) {
        return Ok(status);
    }
    Ok(state
        .engine
        .store()
        .verification_status(id)
        .await?
        .unwrap_or_default())
}

impl ApiResource for Verifications {
    type Spec = VerificationSpec;
    type View = VerificationView;
    const KIND: &'static str = "verification";
    const COLLECTION: &'static str = "verifications";
    const ID_PREFIX: &'static str = "ver";
    const NAME: &'static str = "Verification";
    const NAMES: &'static str = "Verifications";

    fn name(_spec: &VerificationSpec) -> Option<&str> {
        None
    }

    async fn view(
        state: &ApiState,
        record: Record<VerificationSpec>,
        _audience: Audience,
    ) -> ApiResult<VerificationView> {
        let status = status_of(state, &record.id).await?;
        Ok(record_view!(VerificationView, record { status: status }))
    }

    /// The spec is fixed at creation: a write over a stored verification may change its
    /// labels only (so a retried `PUT` of the same body succeeds).
    fn prepare(
        _state: &ApiState,
        wanted: &mut Record<VerificationSpec>,
        stored: Option<&Record<VerificationSpec>>,
    ) -> ApiResult<()> {
        match stored {
            Some(stored) if stored.spec != wanted.spec => Err(Problem::conflict(
                "verifications cannot be changed; create a new one",
            )),
            _ => Ok(()),
        }
    }

    async fn remove(state: &ApiState, existing: &Record<VerificationSpec>) -> ApiResult<()> {
        state
            .engine
            .store()
            .delete_verification(&existing.id)
            .await?;
        Ok(())
    }
}

/// `GET /verifications/{id}/report?format=junit|markdown|json` (json by default).
pub async fn report(
    State(state): State<ApiState>,
    PathId(id): PathId,
    params: Params,
) -> ApiResult<Response> {
    let format = params.get("format").unwrap_or("json");
    if !matches!(format, "junit" | "markdown" | "json") {
        return Err(Problem::bad_param(
            "format",
            format!("expected junit, markdown or json, got {format:?}"),
        ));
    }
    let record = crud::current::<Verifications>(&state, &id).await?;
    let view = Verifications::view(&state, record, Audience::Reader).await?;
    Ok(match format {
        "junit" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml")],
            verification_report::junit(&view.id, &view.spec, &view.status),
        )
            .into_response(),
        "markdown" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            verification_report::markdown(&view.id, &view.spec, &view.status),
        )
            .into_response(),
        _ => axum::Json(view).into_response(),
    })
}
