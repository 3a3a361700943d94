//! Status pages (`/api/v1/status-pages`).

use vedette_model::status_page::StatusPageSpec;

use crate::{Client, Item, Kind, Resources};

/// A status page as the server returns it.
pub type StatusPage = Item<StatusPageSpec>;

impl Kind for StatusPage {
    const COLLECTION: &'static str = "status-pages";
    type Spec = StatusPageSpec;
    type Created = StatusPage;
}

impl Client {
    /// The status pages.
    pub fn status_pages(&self) -> Resources<'_, StatusPage> {
        self.resources()
    }
}
