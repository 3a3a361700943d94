//! What follows the change feed in a server ([`crate::follow`]): the monitors the engine runs,
//! the maintenance windows and deployments it applies and the verifications it follows.

use std::collections::HashSet;
use std::sync::Arc;

use vedette_model::deployment::DeploymentSpec;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::verification::VerificationSpec;
use vedette_model::{MonitorSpec, Record, Source};

use crate::engine::Engine;
use crate::follow::Follow;

/// The engine's monitors: the stored ones of the sources this server runs (API ones always,
/// file ones with `--config`, demo ones with `--demo`), so a server started without them does
/// not check what an earlier one was configured with.
pub struct EngineMonitors {
    /// The engine that runs them.
    pub engine: Arc<Engine>,
    /// The sources whose monitors run.
    pub sources: Vec<Source>,
}

impl EngineMonitors {
    async fn run(&self, record: Record<MonitorSpec>) {
        let id = record.id.clone();
        if let Err(e) = self.engine.upsert(record).await {
            tracing::error!(monitor = %id, error = %e, "not running a stored monitor");
        }
    }
}

impl Follow<MonitorSpec> for EngineMonitors {
    async fn upsert(&self, record: Record<MonitorSpec>) {
        if self.sources.contains(&record.source) {
            self.run(record).await;
        } else if self.engine.monitor(&record.id).is_some() {
            self.engine.remove(&record.id);
        }
    }

    async fn remove(&self, id: &str) {
        self.engine.remove(id);
    }

    async fn retain(&self, stored: &HashSet<String>) {
        for id in self.engine.monitor_ids() {
            if !stored.contains(&id) {
                self.engine.remove(&id);
            }
        }
    }
}

/// The maintenance windows the engine applies to results: every stored one.
pub struct EngineMaintenance(pub Arc<Engine>);

impl Follow<MaintenanceSpec> for EngineMaintenance {
    async fn upsert(&self, record: Record<MaintenanceSpec>) {
        self.0.upsert_maintenance(&record.id, &record.spec);
    }

    async fn remove(&self, id: &str) {
        self.0.remove_maintenance(id);
    }

    async fn retain(&self, stored: &HashSet<String>) {
        self.0.retain_maintenance(stored);
    }
}

/// The deployments the engine mutes monitors for and names in incidents: every stored one
/// still recent (the engine keeps them bounded).
pub struct EngineDeployments(pub Arc<Engine>);

impl Follow<DeploymentSpec> for EngineDeployments {
    async fn upsert(&self, record: Record<DeploymentSpec>) {
        self.0.upsert_deployment(&record.id, &record.spec);
    }

    async fn remove(&self, id: &str) {
        self.0.remove_deployment(id);
    }

    async fn retain(&self, stored: &HashSet<String>) {
        self.0.retain_deployments(stored);
    }
}

/// The verifications the engine follows: a new one starts, a stored running one resumes
/// ([`crate::verifications::start`]), a deleted one is dropped.
pub struct EngineVerifications(pub Arc<Engine>);

impl Follow<VerificationSpec> for EngineVerifications {
    async fn upsert(&self, record: Record<VerificationSpec>) {
        crate::verifications::start(&self.0, record).await;
    }

    async fn remove(&self, id: &str) {
        self.0.verifications().forget(id);
    }

    async fn retain(&self, stored: &HashSet<String>) {
        for id in self.0.verifications().ids() {
            if !stored.contains(&id) {
                self.0.verifications().forget(&id);
            }
        }
    }
}
