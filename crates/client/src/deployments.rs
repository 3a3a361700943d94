//! Deployments (`/api/v1/deployments`): recorded by pipelines, finished with a status.

use reqwest::Method;
use serde::Serialize;
use vedette_model::deployment::{DeploymentSpec, DeploymentStatus};

use crate::{Client, Error, Item, Kind, Precondition, Resources, all_pages};

/// A deployment as the server returns it.
pub type Deployment = Item<DeploymentSpec>;

impl Kind for Deployment {
    const COLLECTION: &'static str = "deployments";
    type Spec = DeploymentSpec;
    type Created = Deployment;
}

/// `?selector=&service=&environment=&limit=&cursor=` of the deployment list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentQuery {
    /// Label selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Only this service's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only those to this environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Page size (1–1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Serialize)]
struct Finish {
    status: DeploymentStatus,
}

impl Client {
    /// The deployments.
    pub fn deployments(&self) -> Resources<'_, Deployment> {
        self.resources()
    }
}

impl Resources<'_, Deployment> {
    /// `POST /deployments/{id}/finish`: sets the status (`succeeded`, `failed`,
    /// `rolled_back`) and `finished_at`.
    pub async fn finish(&self, id: &str, status: DeploymentStatus) -> Result<Deployment, Error> {
        self.client
            .send_json(
                Method::POST,
                self.url(&[id, "finish"]),
                &Finish { status },
                Precondition::None,
            )
            .await
    }

    /// Every deployment `query` selects (its cursor ignored), by id.
    pub async fn filtered(&self, query: &DeploymentQuery) -> Result<Vec<Deployment>, Error> {
        all_pages(None, |cursor| {
            let query = DeploymentQuery {
                cursor,
                ..query.clone()
            };
            async move { self.client.list(self.url(&[]), &query).await }
        })
        .await
    }
}
