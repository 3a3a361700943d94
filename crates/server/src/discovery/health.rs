//! The latest upstream health each discovery source reported, kept in the engine's memory so a
//! check of a discovered monitor reads its gateway's health (`gateway.healthy`) without a
//! query, and the monitor's status shows it beside its own result.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use vedette_model::discovery::{
    DISCOVERED_BY, DiscoveryStatus, GatewayHealth, GatewayReading, GatewayType,
};

/// What one source's last successful listing reported.
#[derive(Debug)]
struct SourceHealth {
    gateway: GatewayType,
    observed_at: Option<DateTime<Utc>>,
    routes: BTreeMap<String, GatewayHealth>,
}

/// Gateway health by source, then by monitor id.
#[derive(Debug, Default)]
pub struct HealthBook {
    sources: RwLock<HashMap<String, Arc<SourceHealth>>>,
}

impl HealthBook {
    /// Keeps what `status` (source `source`'s, after a run or read from the store) says:
    /// the health of its last successful listing.
    pub fn record(&self, source: &str, gateway: GatewayType, status: &DiscoveryStatus) {
        let health = Arc::new(SourceHealth {
            gateway,
            observed_at: status.last_success,
            routes: status.health.clone(),
        });
        self.sources
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.to_owned(), health);
    }

    /// Whether source `source` is known.
    pub fn knows(&self, source: &str) -> bool {
        self.sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(source)
    }

    /// Forgets every source `keep` refuses (deleted ones).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.sources
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| keep(id));
    }

    /// The gateway health of monitor `id` with `labels`: `None` when it was not discovered
    /// (no `discovered-by` label) or its source is not known; a reading without `healthy`
    /// when the gateway reports none for it.
    pub fn reading(&self, id: &str, labels: &BTreeMap<String, String>) -> Option<GatewayReading> {
        let source = labels.get(DISCOVERED_BY)?;
        let health = self
            .sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)?
            .clone();
        let (healthy, detail) = match health.routes.get(id) {
            Some(h) => (Some(h.healthy), h.detail.clone()),
            None if !health.gateway.reports_health() => (
                None,
                format!("{} gateways report no upstream health", health.gateway),
            ),
            None if health.observed_at.is_none() => (
                None,
                format!("no listing of source {source} has succeeded yet"),
            ),
            None => (
                None,
                "the gateway reported no upstream health for this route".to_owned(),
            ),
        };
        Some(GatewayReading {
            source: source.clone(),
            gateway: health.gateway,
            healthy,
            detail,
            observed_at: health.observed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(source: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(DISCOVERED_BY.to_owned(), source.to_owned())])
    }

    #[test]
    fn readings_follow_the_last_status_and_say_why_health_is_unknown() {
        let book = HealthBook::default();
        assert_eq!(book.reading("m", &BTreeMap::new()), None);
        assert_eq!(book.reading("m", &labels("edge")), None);
        let mut status = DiscoveryStatus::default();
        book.record("edge", GatewayType::Envoy, &status);
        let unknown = book.reading("m", &labels("edge")).expect("reading");
        assert_eq!(unknown.healthy, None);
        assert!(unknown.detail.contains("has succeeded yet"), "{unknown:?}");
        status.last_success = Some(Utc::now());
        status.health.insert(
            "m".into(),
            GatewayHealth {
                healthy: false,
                healthy_upstreams: 0,
                upstreams: 1,
                detail: "cluster backend: 0/1 healthy".into(),
            },
        );
        book.record("edge", GatewayType::Envoy, &status);
        let down = book.reading("m", &labels("edge")).expect("reading");
        assert_eq!(down.healthy, Some(false));
        assert_eq!(down.detail, "cluster backend: 0/1 healthy");
        assert_eq!(down.observed_at, status.last_success);
        let other = book.reading("n", &labels("edge")).expect("reading");
        assert!(other.detail.contains("no upstream health for this route"));
        book.record("mesh", GatewayType::Istio, &status);
        let istio = book.reading("x", &labels("mesh")).expect("reading");
        assert_eq!(istio.detail, "istio gateways report no upstream health");
        book.retain(|id| id != "edge");
        assert!(!book.knows("edge") && book.knows("mesh"));
    }
}
