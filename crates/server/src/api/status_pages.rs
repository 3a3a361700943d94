//! `/status-pages`: status pages, served by the shared resource handlers ([`super::crud`]);
//! the public pages they describe are served by [`crate::status_page`], which follows them
//! through the change feed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::{Audience, FieldError, Record, Source, Version};

use super::ApiState;
use super::crud::ApiResource;
use super::problem::{ApiResult, Problem};
use super::view::record_view;

/// The status page kind of the API.
pub struct StatusPages;

/// A status page as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "StatusPage")]
pub struct StatusPageView {
    /// Stable slug.
    id: String,
    /// Labels for selection and ownership.
    labels: BTreeMap<String, String>,
    /// What the page shows and where.
    spec: StatusPageSpec,
    /// The public page's path: `/status/<slug>`.
    public_path: String,
    /// Who wrote it last: `api` or `file` (those are changed only in the files).
    managed_by: Source,
    /// Bumped on every change; sent as the ETag.
    version: Version,
    /// First written.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
}

impl ApiResource for StatusPages {
    type Spec = StatusPageSpec;
    type View = StatusPageView;
    const KIND: &'static str = "status page";
    const COLLECTION: &'static str = "status-pages";
    const ID_PREFIX: &'static str = "page";
    const NAME: &'static str = "StatusPage";
    const NAMES: &'static str = "StatusPages";

    fn name(spec: &StatusPageSpec) -> Option<&str> {
        Some(&spec.slug)
    }

    async fn view(
        _state: &ApiState,
        record: Record<StatusPageSpec>,
        _audience: Audience,
    ) -> ApiResult<StatusPageView> {
        Ok(record_view!(
            StatusPageView,
            record {
                public_path: format!("/status/{}", record.spec.slug),
            }
        ))
    }

    /// 409 when another page already has the slug or the custom domain (as this server
    /// follows them; of two written at once through different servers the older one serves).
    fn prepare(
        state: &ApiState,
        wanted: &mut Record<StatusPageSpec>,
        _stored: Option<&Record<StatusPageSpec>>,
    ) -> ApiResult<()> {
        let clashes = state.status_pages.clashes(&wanted.id, &wanted.spec);
        if clashes.is_empty() {
            return Ok(());
        }
        Err(Problem::conflict(
            clashes
                .iter()
                .map(FieldError::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ))
    }
}
