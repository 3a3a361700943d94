//! Deployments (`/api/v1/deployments`): recorded by pipelines, finished with a status.

use reqwest::Method;
use serde::Serialize;
use vedette_model::deployment::{DeploymentSpec, DeploymentStatus};

use crate::{Client, Error, Item, Kind, ListQuery, Precondition, Resources, all_pages};

/// A deployment as the server returns it.
pub type Deployment = Item<DeploymentSpec>;

impl Kind for Deployment {
    const COLLECTION: &'static str = "deployments";
    type Spec = DeploymentSpec;
    type Created = Deployment;
}

/// `?selector=&service=&environment=` of the deployment list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentFilter {
    /// Label selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Only this service's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only those to this environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
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
    pub async fn filtered(
        &self,
        query: &ListQuery<DeploymentFilter>,
    ) -> Result<Vec<Deployment>, Error> {
        all_pages(None, |cursor| async move {
            self.client.list(self.url(&[]), &query.at(cursor)).await
        })
        .await
    }
}
