//! Incidents (`/api/v1/incidents`), in the model's [`Incident`] shape the server serves.

use serde::Serialize;
use vedette_model::{Incident, IncidentState};

use crate::{Client, Error, ListQuery, Page, all_pages};

/// `?monitor=&state=&from=&to=` of the incident list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentFilter {
    /// Only this monitor's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
    /// Only open or only resolved ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<IncidentState>,
    /// Opened at or after (RFC 3339 or relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Opened before (RFC 3339 or relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl Client {
    /// `GET /api/v1/incidents`: one page, newest first, without timelines.
    pub async fn list_incidents(
        &self,
        query: &ListQuery<IncidentFilter>,
    ) -> Result<Page<Incident>, Error> {
        self.list(self.api(&["incidents"]), query).await
    }

    /// Incidents matching `query` (its cursor ignored), at most `max`, following cursors.
    pub async fn all_incidents(
        &self,
        query: &ListQuery<IncidentFilter>,
        max: Option<usize>,
    ) -> Result<Vec<Incident>, Error> {
        all_pages(max, |cursor| async move {
            self.list_incidents(&query.at(cursor)).await
        })
        .await
    }

    /// `GET /api/v1/incidents/{id}` with its timeline.
    pub async fn get_incident(&self, id: &str) -> Result<Incident, Error> {
        self.get(self.api(&["incidents", id])).await
    }
}
