//! Verifications (`/api/v1/verifications`): deployment gates and their reports.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use vedette_model::verification::{VerificationSpec, VerificationStatus};
use vedette_model::{Source, Version};

use crate::{Client, Error, Kind, Resources};

/// A verification as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What was asked.
    pub spec: VerificationSpec,
    /// What the server computed.
    #[serde(default)]
    pub status: VerificationStatus,
    /// Who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Source>,
    /// Its version (the `ETag`).
    #[serde(default)]
    pub version: Version,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Kind for Verification {
    const COLLECTION: &'static str = "verifications";
    type Spec = VerificationSpec;
    type Created = Verification;
}

/// The formats of [`Resources::report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// JUnit XML.
    Junit,
    /// Markdown (a job summary).
    Markdown,
    /// The JSON view.
    Json,
}

impl ReportFormat {
    /// The `?format=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Junit => "junit",
            Self::Markdown => "markdown",
            Self::Json => "json",
        }
    }
}

impl Resources<'_, Verification> {
    /// `GET /api/v1/verifications/{id}/report?format=`: the report as text.
    pub async fn report(&self, id: &str, format: ReportFormat) -> Result<String, Error> {
        let mut url = self.url(&[id, "report"]);
        url.query_pairs_mut().append_pair("format", format.as_str());
        let response = self
            .client
            .send(self.client.request(Method::GET, url.clone()), &url)
            .await?;
        response
            .text()
            .await
            .map_err(|e| Error::transport(&url, &e))
    }
}

impl Client {
    /// The verifications.
    pub fn verifications(&self) -> Resources<'_, Verification> {
        self.resources()
    }
}
