//! A typed async client of the Vedette REST API (`/api/v1`, see `docs/api.md`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), vedette_client::Error> {
//! let client = vedette_client::Client::new("http://127.0.0.1:8080", "vdt_...")?;
//! for monitor in client.monitors().all(Some("team=payments")).await? {
//!     println!("{} {:?}", monitor.id, monitor.status.map(|s| s.state));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Monitors, maintenance windows, deployments and webhook endpoints share one handle, [`Resources`], with
//! list, get, create, put, patch and delete; what only one kind has sits on top of it
//! (`client.monitors().pause(...)`). Wire types the server shares come from `vedette_model`.
//!
//! Error answers (RFC 9457 problem+json) become [`ApiError`]s whose `Display` reads well, e.g.
//! `422 Unprocessable Entity: spec.http.url: expected an absolute http:// or https:// URL`.

mod client;
mod deployments;
mod discovery;
mod error;
mod events;
mod ids;
mod incidents;
mod item;
mod maintenance;
mod monitors;
mod paging;
mod resources;
mod series;
mod server;
mod sse;
mod status_pages;
mod tokens;
mod verifications;
mod webhooks;

pub use client::{CONNECT_TIMEOUT, Client, DEFAULT_TIMEOUT};
pub use deployments::{Deployment, DeploymentFilter};
pub use discovery::DiscoverySource;
pub use error::{ApiError, Error, FieldError};
pub use events::{EventRecord, EventsQuery};
pub use incidents::IncidentFilter;
pub use item::{Item, ItemStatus, NoStatus};
pub use maintenance::MaintenanceWindow;
pub use monitors::{LastResult, Monitor, MonitorStatus, ResultRecord, ResultsFilter, RuntimePause};
pub use paging::{BySelector, ListQuery, MAX_PAGES, Page, all_pages};
pub use resources::{Kind, Precondition, Resources, Upserted, Write};
pub use series::{Bucket, MonitorSeries, Series, SeriesQuery};
pub use server::{StateCounts, Status};
pub use sse::{EventStream, StreamedEvent};
pub use status_pages::StatusPage;
pub use tokens::{CreatedToken, NewToken, TokenInfo};
pub use vedette_model::{Incident, IncidentState, Scope, Source, TimelineEntry, Version};
pub use verifications::{ReportFormat, Verification};
pub use webhooks::{
    CreatedWebhook, Delivery, DeliveryAttempt, DeliveryCounts, DeliveryFilter, EventTypeInfo,
    Integration, TestEventSent, Webhook,
};
