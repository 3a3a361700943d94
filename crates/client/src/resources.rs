//! The calls every versioned resource kind shares — list, get, create, put, patch, delete —
//! written once over [`Kind`], with the API's conventions: label selectors and cursor pages,
//! `If-Match` / `If-None-Match` preconditions, and JSON Merge Patch.
//!
//! ```no_run
//! # async fn demo(client: vedette_client::Client) -> Result<(), vedette_client::Error> {
//! use vedette_client::{Monitor, Precondition};
//! let monitor = client.resources::<Monitor>().get("payments-api").await?;
//! client
//!     .monitors()
//!     .delete(&monitor.id, Precondition::Version(monitor.version))
//!     .await?;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::marker::PhantomData;

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vedette_model::Version;

use crate::client::decode;
use crate::{BySelector, Client, Error, ListQuery, Page, all_pages};

/// A kind of versioned resource served under `/api/v1/{COLLECTION}`, implemented by the type
/// its answers decode to.
pub trait Kind: DeserializeOwned {
    /// The collection's path segment: `monitors`.
    const COLLECTION: &'static str;
    /// What a write sends as `spec`.
    type Spec: Serialize + Sync;
    /// The answer to a create: the resource, or the resource with a secret shown only then.
    type Created: DeserializeOwned;
}

/// The body of a create or replace: `{"id"?, "labels", "spec"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Write<S> {
    /// The id; on `POST` chosen by the server when absent; on `PUT` it must match the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// The spec.
    pub spec: S,
}

/// The answer to a `PUT`: whether it created (201) or replaced (200) the resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Upserted<K: Kind> {
    /// It did not exist: the answer of a create.
    Created(K::Created),
    /// It existed and is replaced.
    Replaced(K),
}

/// A version precondition on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Write whatever is there.
    #[default]
    None,
    /// `If-Match: "<version>"`: only if the stored version is this one (412 otherwise).
    Version(Version),
    /// `If-Match: *`: only if it exists.
    Exists,
    /// `If-None-Match: *`: only if it does not exist yet (create only).
    Absent,
}

impl Precondition {
    /// `request` with this precondition's header.
    pub(crate) fn apply(self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::None => request,
            Self::Version(v) => request.header(header::IF_MATCH, format!("\"{v}\"")),
            Self::Exists => request.header(header::IF_MATCH, "*"),
            Self::Absent => request.header(header::IF_NONE_MATCH, "*"),
        }
    }
}

/// The resources of kind `K` on one server: from [`Client::resources`], or a shorthand such as
/// [`Client::monitors`].
#[derive(Debug)]
pub struct Resources<'c, K> {
    pub(crate) client: &'c Client,
    kind: PhantomData<fn() -> K>,
}

impl Client {
    /// The resources of kind `K`.
    pub fn resources<K: Kind>(&self) -> Resources<'_, K> {
        Resources {
            client: self,
            kind: PhantomData,
        }
    }
}

impl<K: Kind> Resources<'_, K> {
    /// `/api/v1/{COLLECTION}` + the given path segments.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut all = vec![K::COLLECTION];
        all.extend_from_slice(segments);
        self.client.api(&all)
    }

    /// `GET /api/v1/{COLLECTION}`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<K>, Error> {
        self.client.list(self.url(&[]), query).await
    }

    /// Every resource matching `selector`, following cursors.
    pub async fn all(&self, selector: Option<&str>) -> Result<Vec<K>, Error> {
        all_pages(None, |cursor| async move {
            let query = ListQuery {
                filter: BySelector {
                    selector: selector.map(str::to_owned),
                },
                limit: Some(1000),
                cursor,
            };
            self.list(&query).await
        })
        .await
    }

    /// `GET /api/v1/{COLLECTION}/{id}`.
    pub async fn get(&self, id: &str) -> Result<K, Error> {
        self.client.get(self.url(&[id])).await
    }

    /// `GET /api/v1/{COLLECTION}/{id}`, with `None` for 404.
    pub async fn find(&self, id: &str) -> Result<Option<K>, Error> {
        match self.get(id).await {
            Ok(resource) => Ok(Some(resource)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/v1/{COLLECTION}`: creates with the body's id, or one the server generates.
    pub async fn create(&self, body: &Write<K::Spec>) -> Result<K::Created, Error> {
        self.client
            .send_json(Method::POST, self.url(&[]), body, Precondition::None)
            .await
    }

    /// `PUT /api/v1/{COLLECTION}/{id}`: creates or replaces ([`Precondition::Absent`] to only
    /// create, [`Precondition::Version`] to only replace that version).
    pub async fn put(
        &self,
        id: &str,
        labels: &BTreeMap<String, String>,
        spec: &K::Spec,
        precondition: Precondition,
    ) -> Result<Upserted<K>, Error> {
        let url = self.url(&[id]);
        let body = Write {
            id: Some(id.to_owned()),
            labels: labels.clone(),
            spec,
        };
        let request = precondition.apply(self.client.request(Method::PUT, url.clone()).json(&body));
        let response = self.client.send(request, &url).await?;
        Ok(if response.status() == StatusCode::CREATED {
            Upserted::Created(decode(response, &url).await?)
        } else {
            Upserted::Replaced(decode(response, &url).await?)
        })
    }

    /// `PATCH /api/v1/{COLLECTION}/{id}` with a JSON Merge Patch over `{"labels", "spec"}`.
    pub async fn patch(
        &self,
        id: &str,
        patch: &serde_json::Value,
        precondition: Precondition,
    ) -> Result<K, Error> {
        let url = self.url(&[id]);
        let body = serde_json::to_vec(patch).map_err(|e| Error::decode(&url, e))?;
        let request = self
            .client
            .request(Method::PATCH, url.clone())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/merge-patch+json"),
            )
            .body(body);
        self.client.execute(precondition.apply(request), &url).await
    }

    /// `DELETE /api/v1/{COLLECTION}/{id}`.
    pub async fn delete(&self, id: &str, precondition: Precondition) -> Result<(), Error> {
        self.client.delete(self.url(&[id]), precondition).await
    }
}
