//! Verifications (`/api/v1/verifications`): deployment gates and their reports.

use reqwest::Method;
use vedette_model::verification::{VerificationSpec, VerificationStatus};

use crate::{Client, Error, Item, Kind, Resources};

/// A verification as the server returns it.
pub type Verification = Item<VerificationSpec, VerificationStatus>;

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
