//! `/discovery-sources`: gateways whose routes become monitors, served by the shared resource
//! handlers ([`super::crud`]) with the status the reconciler keeps beside each
//! ([`crate::discovery`]); `GET /discovery-sources/{id}/preview` lists the gateway and shows
//! the plan without writing; `GET /discovery/http_sd` gives the discovered monitors to
//! Prometheus (HTTP service discovery).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::discovery::{
    DISCOVERED_BY, DiscoverySourceSpec, DiscoveryStatus, GatewayType, MAX_SOURCE_ID_LEN,
};
use vedette_model::{Audience, Record, Source, Version};

use super::ApiState;
use super::crud::{self, ApiResource};
use super::extract::PathId;
use super::problem::{ApiResult, Problem};
use super::view::record_view;
use crate::discovery::reconcile::Plan;

/// The discovery source kind of the API.
pub struct DiscoverySources;

/// A discovery source as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "DiscoverySource")]
pub struct DiscoverySourceView {
    /// Stable slug of at most 63 characters: the `discovered-by` label of its monitors.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// The gateway, filters and monitor template (credentials only as references).
    pub spec: DiscoverySourceSpec,
    /// What the last run found and did.
    pub status: DiscoveryStatus,
    /// Who wrote it last.
    pub managed_by: Source,
    /// Bumped on every change; sent as the ETag.
    pub version: Version,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl ApiResource for DiscoverySources {
    type Spec = DiscoverySourceSpec;
    type View = DiscoverySourceView;
    const KIND: &'static str = "discovery source";
    const COLLECTION: &'static str = "discovery-sources";
    const ID_PREFIX: &'static str = "dsc";
    const NAME: &'static str = "DiscoverySource";
    const NAMES: &'static str = "DiscoverySources";

    fn name(spec: &DiscoverySourceSpec) -> Option<&str> {
        spec.name.as_deref()
    }

    async fn view(
        state: &ApiState,
        record: Record<DiscoverySourceSpec>,
        _audience: Audience,
    ) -> ApiResult<DiscoverySourceView> {
        let status = state
            .engine
            .store()
            .discovery_status(&record.id)
            .await?
            .unwrap_or_default();
        Ok(record_view!(DiscoverySourceView, record { status: status }))
    }

    /// The id is the value of the `discovered-by` label of the source's monitors, so at most
    /// 63 characters; a file source must name a file under the server's discovery file root.
    fn prepare(
        state: &ApiState,
        wanted: &mut Record<DiscoverySourceSpec>,
        _stored: Option<&Record<DiscoverySourceSpec>>,
    ) -> ApiResult<()> {
        if wanted.id.len() > MAX_SOURCE_ID_LEN {
            return Err(Problem::invalid(
                "id",
                format!(
                    "at most {MAX_SOURCE_ID_LEN} characters: it labels the source's monitors \
                     ({DISCOVERED_BY}=<id>); give a shorter id or name"
                ),
            ));
        }
        if wanted.spec.gateway == GatewayType::Nginx
            && let Some(reason) = state
                .engine
                .discovery_file_root()
                .refuse_url(&wanted.spec.connection.url)
        {
            return Err(Problem::invalid("spec.connection.url", reason));
        }
        Ok(())
    }
}

/// `GET /discovery-sources/{id}/preview`: what a run would do now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiscoveryPreview {
    /// The source.
    pub source_id: String,
    /// Routes the gateway listed.
    pub routes_seen: u32,
    /// Of those, the routes the filters and opt-in/opt-out selected.
    pub routes_selected: u32,
    /// The writes a run would make; absent when the listing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Why the listing failed (nothing would be written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /discovery-sources/{id}/preview`: lists the gateway and plans, writing nothing.
pub async fn preview(
    State(state): State<ApiState>,
    PathId(id): PathId,
) -> ApiResult<Json<DiscoveryPreview>> {
    let record = crud::current::<DiscoverySources>(&state, &id).await?;
    let store = state.engine.store();
    let missing = store
        .discovery_status(&id)
        .await?
        .unwrap_or_default()
        .missing_since;
    let mut preview = DiscoveryPreview {
        source_id: id.clone(),
        routes_seen: 0,
        routes_selected: 0,
        plan: None,
        error: None,
    };
    let files = state.engine.discovery_file_root();
    match crate::discovery::run(store, &id, &record.spec, files, &missing, false).await {
        Ok(report) => {
            preview.routes_seen = report.routes_seen;
            preview.routes_selected = report.routes_selected;
            preview.plan = Some(report.plan);
        }
        Err(crate::discovery::RunError::Listing(error)) => preview.error = Some(error),
        Err(crate::discovery::RunError::Store(e)) => return Err(e.into()),
    }
    Ok(Json(preview))
}

/// `POST /discovery-sources/{id}/run`: runs the source now (writing, unless it is in dry run)
/// and answers with it and its new status.
pub async fn run(
    State(state): State<ApiState>,
    PathId(id): PathId,
) -> ApiResult<Json<DiscoverySourceView>> {
    let record = crud::current::<DiscoverySources>(&state, &id).await?;
    crate::discovery::run_for_engine(&state.engine, &id, &record.spec).await?;
    state.feed.caught_up().await;
    Ok(Json(
        DiscoverySources::view(&state, record, Audience::Writer).await?,
    ))
}

/// One target group of Prometheus HTTP service discovery.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HttpSdGroup {
    /// The monitored URL (for a blackbox exporter's `target`).
    pub targets: Vec<String>,
    /// `__meta_vedette_source`, `__meta_vedette_monitor`, `__meta_vedette_gateway_healthy`
    /// (when the gateway reports health) and the monitor's labels as
    /// `__meta_vedette_label_<name>`.
    pub labels: BTreeMap<String, String>,
}

/// The answer of `GET /discovery/http_sd`: Prometheus's HTTP SD format.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct HttpSdTargets(pub Vec<HttpSdGroup>);

/// Prometheus label names allow `[a-zA-Z0-9_]`.
fn prometheus_name(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `GET /discovery/http_sd`: every monitor a discovery source owns, one target group each.
pub async fn http_sd(State(state): State<ApiState>) -> ApiResult<Json<HttpSdTargets>> {
    let store = state.engine.store();
    let mut health = BTreeMap::new();
    for source in store.list::<DiscoverySourceSpec>().await? {
        if let Some(status) = store.discovery_status(&source.id).await? {
            health.extend(status.health);
        }
    }
    let groups = store
        .list_monitors()
        .await?
        .into_iter()
        .filter_map(|m| {
            let source = m.labels.get(DISCOVERED_BY)?.clone();
            let url = vedette_model::spec::redact_url(&m.spec.check.as_http()?.url);
            let mut labels = BTreeMap::from([
                ("__meta_vedette_source".to_owned(), source),
                ("__meta_vedette_monitor".to_owned(), m.id.clone()),
            ]);
            if let Some(h) = health.get(&m.id) {
                labels.insert(
                    "__meta_vedette_gateway_healthy".to_owned(),
                    h.healthy.to_string(),
                );
            }
            for (key, value) in &m.labels {
                labels.insert(
                    format!("__meta_vedette_label_{}", prometheus_name(key)),
                    value.clone(),
                );
            }
            Some(HttpSdGroup {
                targets: vec![url],
                labels,
            })
        })
        .collect();
    Ok(Json(HttpSdTargets(groups)))
}
