//! Maintenance windows (`/api/v1/maintenance`).

use vedette_model::maintenance::MaintenanceSpec;

use crate::{Client, Item, Kind, Resources};

/// A maintenance window as the server returns it.
pub type MaintenanceWindow = Item<MaintenanceSpec>;

impl Kind for MaintenanceWindow {
    const COLLECTION: &'static str = "maintenance";
    type Spec = MaintenanceSpec;
    type Created = MaintenanceWindow;
}

impl Client {
    /// The maintenance windows.
    pub fn maintenance(&self) -> Resources<'_, MaintenanceWindow> {
        self.resources()
    }
}
