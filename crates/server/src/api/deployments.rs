//! `/deployments`: deployments recorded by pipelines, served by the shared resource handlers
//! ([`super::crud`]), plus `POST /deployments/{id}/finish`. Their `deployment.started` and
//! `deployment.finished` events are written by the store in the write's transaction
//! ([`vedette_store::Stored::events`]); the engine follows them through the change feed for
//! mutes and incident correlation ([`crate::deployments`]).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use vedette_model::decode::Decoder;
use vedette_model::deployment::{DeploymentSpec, DeploymentStatus};
use vedette_model::selector::Selector;
use vedette_model::{Audience, Record, Source, Version};

use super::ApiState;
use super::crud::{self, ApiResource};
use super::extract::{JsonBody, Params, PathId, Preconditions};
use super::problem::{ApiResult, Problem};
use super::route::{CURSOR, LIMIT, Param, SELECTOR, query};
use super::view::record_view;

/// The deployment kind of the API.
pub struct Deployments;

/// A deployment as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Deployment")]
pub struct DeploymentView {
    /// Stable slug; `<service>-<version>-<environment>` when the creator gave none.
    id: String,
    /// Labels for selection and ownership.
    labels: BTreeMap<String, String>,
    /// What was deployed, where, and how it went.
    spec: DeploymentSpec,
    /// Who wrote it last.
    managed_by: Source,
    /// Bumped on every change; sent as the ETag.
    version: Version,
    /// First written.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
}

/// Body of `POST /deployments/{id}/finish`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// How it ended: `succeeded`, `failed` or `rolled_back`.
    pub status: DeploymentStatus,
}

const SERVICE: Param = query("service", "Only deployments of this service.");
const ENVIRONMENT: Param = query("environment", "Only deployments to this environment.");

impl ApiResource for Deployments {
    type Spec = DeploymentSpec;
    type View = DeploymentView;
    const KIND: &'static str = "deployment";
    const COLLECTION: &'static str = "deployments";
    const ID_PREFIX: &'static str = "dep";
    const NAME: &'static str = "Deployment";
    const NAMES: &'static str = "Deployments";
    const LIST_PARAMS: &'static [Param] = &[SELECTOR, SERVICE, ENVIRONMENT, LIMIT, CURSOR];

    fn name(_spec: &DeploymentSpec) -> Option<&str> {
        None
    }

    fn id_base(spec: &DeploymentSpec) -> Option<String> {
        Some(format!(
            "{}-{}-{}",
            spec.service, spec.version, spec.environment
        ))
    }

    async fn view(
        _state: &ApiState,
        record: Record<DeploymentSpec>,
        _audience: Audience,
    ) -> ApiResult<DeploymentView> {
        Ok(record_view!(DeploymentView, record {}))
    }

    /// Sets `started_at` (kept from the stored deployment, else now) and `finished_at` when
    /// the status leaves `started`; a finished deployment cannot start again.
    fn prepare(
        _state: &ApiState,
        wanted: &mut Record<DeploymentSpec>,
        stored: Option<&Record<DeploymentSpec>>,
    ) -> ApiResult<()> {
        let now = Utc::now();
        let spec = &mut wanted.spec;
        if let Some(stored) = stored {
            if stored.spec.status != DeploymentStatus::Started
                && spec.status == DeploymentStatus::Started
            {
                return Err(Problem::invalid(
                    "spec.status",
                    format!(
                        "the deployment already finished ({}); it cannot start again",
                        stored.spec.status
                    ),
                ));
            }
            spec.started_at = spec.started_at.or(stored.spec.started_at);
            if spec.status == stored.spec.status {
                spec.finished_at = spec.finished_at.or(stored.spec.finished_at);
            }
        }
        let started = *spec.started_at.get_or_insert(now);
        if spec.status != DeploymentStatus::Started && spec.finished_at.is_none() {
            spec.finished_at = Some(now.max(started));
        }
        Ok(())
    }

    async fn page_filtered(
        state: &ApiState,
        after: Option<&str>,
        limit: usize,
        selector: &Selector,
        params: &Params,
    ) -> ApiResult<Vec<Record<DeploymentSpec>>> {
        let service = params.get("service");
        let environment = params.get("environment");
        Ok(state
            .engine
            .store()
            .list::<DeploymentSpec>()
            .await?
            .into_iter()
            .filter(|r| after.is_none_or(|a| r.id.as_str() > a))
            .filter(|r| selector.matches(&r.labels))
            .filter(|r| service.is_none_or(|s| r.spec.service == s))
            .filter(|r| environment.is_none_or(|e| r.spec.environment == e))
            .take(limit)
            .collect())
    }
}

/// `POST /deployments/{id}/finish {"status"}`: the same as a merge patch of `spec.status`;
/// 200 with the deployment.
pub async fn finish(
    State(state): State<ApiState>,
    PathId(id): PathId,
    pre: Preconditions,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut decoder = Decoder::new();
    let request = decoder.decode::<FinishRequest>(body, "");
    let status = match request {
        Some(r) if decoder.is_empty() => r.value.status,
        _ => return Err(Problem::validation(decoder.finish())),
    };
    if status == DeploymentStatus::Started {
        return Err(Problem::invalid(
            "status",
            "expected succeeded, failed or rolled_back",
        ));
    }
    crud::modify::<Deployments>(&state, &id, &pre, |existing| {
        let mut wanted = existing.clone();
        if existing.spec.status != status {
            wanted.spec.status = status;
            wanted.spec.finished_at = None;
        }
        Ok(wanted)
    })
    .await
}
