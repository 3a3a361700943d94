//! The deployments the engine keeps in mind, following the store: those that mute their
//! monitors now (each mute is a one-off maintenance window of the selected monitors from the
//! deployment's start) and those recent enough for an incident to name. Bounded: entries past
//! both their mute and the deployment window are dropped, and at most [`MAX_RECENT`] are kept
//! (the newest).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use vedette_model::Duration;
use vedette_model::deployment::{DeploymentRef, DeploymentSpec};
use vedette_model::maintenance::CompiledWindow;
use vedette_model::selector::{self, Selector};

/// Most deployments kept in memory; older ones are forgotten first.
pub const MAX_RECENT: usize = 1_000;
/// How long after a deployment started an incident on one of its monitors names it, unless
/// `serve --deployment-window` says otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 60);

/// One deployment as the engine uses it.
#[derive(Debug)]
struct Entry {
    reference: DeploymentRef,
    /// The monitors it affects; `None` affects none.
    selector: Option<Selector>,
    /// Its mute as a maintenance window.
    mute: Option<CompiledWindow>,
    /// When neither its mute nor the deployment window needs it any more.
    keep_until: DateTime<Utc>,
}

/// Recent deployments by id.
#[derive(Debug)]
pub struct RecentDeployments {
    window: chrono::Duration,
    entries: HashMap<String, Entry>,
}

impl Default for RecentDeployments {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW)
    }
}

impl RecentDeployments {
    /// None yet; incidents name deployments that started at most `window` before.
    pub fn new(window: Duration) -> Self {
        Self {
            window: chrono::Duration::from_std(window.std()).unwrap_or(chrono::Duration::MAX),
            entries: HashMap::new(),
        }
    }

    /// Changes the deployment window.
    pub fn set_window(&mut self, window: Duration) {
        self.window = chrono::Duration::from_std(window.std()).unwrap_or(chrono::Duration::MAX);
    }

    /// Adds or replaces deployment `id` (forgotten when already past its use).
    pub fn upsert(&mut self, id: &str, spec: &DeploymentSpec, now: DateTime<Utc>) {
        self.entries.remove(id);
        let Some(started) = spec.started_at else {
            return;
        };
        let mute = spec.mute_window();
        let muted_until = mute.as_ref().and_then(|w| w.end).unwrap_or(started);
        let keep_until =
            muted_until.max(started.checked_add_signed(self.window).unwrap_or(started));
        if keep_until < now {
            return;
        }
        self.entries.insert(
            id.to_owned(),
            Entry {
                reference: spec.reference(id),
                selector: spec
                    .selector
                    .as_deref()
                    .and_then(|s| selector::parse(s).ok()),
                mute: mute.map(|w| w.compile()),
                keep_until,
            },
        );
        self.prune(now);
    }

    /// Forgets deployment `id`.
    pub fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// Forgets every deployment whose id is not in `kept`.
    pub fn retain(&mut self, kept: &HashSet<String>) {
        self.entries.retain(|id, _| kept.contains(id));
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a deployment's mute covers a monitor with `labels` at `at`.
    pub fn muted(&self, labels: &BTreeMap<String, String>, at: DateTime<Utc>) -> bool {
        self.entries.values().any(|e| {
            e.mute
                .as_ref()
                .is_some_and(|w| w.applies_to("", labels) && w.is_active(at))
        })
    }

    /// The latest deployment affecting a monitor with `labels` that started at most the
    /// deployment window before `at` (and not after it).
    pub fn latest_before(
        &self,
        labels: &BTreeMap<String, String>,
        at: DateTime<Utc>,
    ) -> Option<DeploymentRef> {
        self.entries
            .values()
            .filter(|e| e.selector.as_ref().is_some_and(|s| s.matches(labels)))
            .filter(|e| e.reference.started_at <= at && at - e.reference.started_at <= self.window)
            .max_by(|a, b| {
                (a.reference.started_at, &a.reference.id)
                    .cmp(&(b.reference.started_at, &b.reference.id))
            })
            .map(|e| e.reference.clone())
    }

    /// Drops what is past its use, then the oldest beyond [`MAX_RECENT`].
    fn prune(&mut self, now: DateTime<Utc>) {
        self.entries.retain(|_, e| e.keep_until >= now);
        if self.entries.len() > MAX_RECENT {
            let mut starts: Vec<(DateTime<Utc>, String)> = self
                .entries
                .iter()
                .map(|(id, e)| (e.reference.started_at, id.clone()))
                .collect();
            starts.sort();
            let excess = self.entries.len() - MAX_RECENT;
            for (_, id) in starts.into_iter().take(excess) {
                self.entries.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn deployment(started: DateTime<Utc>, mute_secs: Option<u64>) -> DeploymentSpec {
        let mut spec = DeploymentSpec::new("payments", "v1.4.2", "prod");
        spec.selector = Some("service=payments".into());
        spec.started_at = Some(started);
        spec.mute = mute_secs.map(Duration::from_secs);
        spec
    }

    #[test]
    fn a_mute_covers_the_selected_monitors_for_its_length() {
        let t0 = Utc::now();
        let mut recent = RecentDeployments::default();
        recent.upsert("d", &deployment(t0, Some(600)), t0);
        let payments = labels(&[("service", "payments")]);
        assert!(recent.muted(&payments, t0 + chrono::Duration::minutes(9)));
        assert!(!recent.muted(&payments, t0 + chrono::Duration::minutes(11)));
        assert!(!recent.muted(&labels(&[("service", "web")]), t0));
    }

    #[test]
    fn an_incident_names_the_latest_deployment_within_the_window() {
        let t0 = Utc::now() - chrono::Duration::minutes(20);
        let mut recent = RecentDeployments::new(Duration::from_secs(30 * 60));
        recent.upsert("old", &deployment(t0, None), t0);
        recent.upsert(
            "new",
            &deployment(t0 + chrono::Duration::minutes(5), None),
            t0,
        );
        let payments = labels(&[("service", "payments")]);
        let at = t0 + chrono::Duration::minutes(10);
        assert_eq!(recent.latest_before(&payments, at).unwrap().id, "new");
        assert!(recent.latest_before(&labels(&[]), at).is_none());
        assert!(
            recent
                .latest_before(&payments, t0 + chrono::Duration::minutes(40))
                .is_none(),
            "past the window"
        );
        assert!(
            recent
                .latest_before(&payments, t0 - chrono::Duration::minutes(1))
                .is_none(),
            "before it started"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let now = Utc::now();
        let mut recent = RecentDeployments::default();
        recent.upsert(
            "gone",
            &deployment(now - chrono::Duration::hours(2), None),
            now,
        );
        assert!(recent.is_empty(), "past its window when it arrives");
        for i in 0..MAX_RECENT + 5 {
            let at = now - chrono::Duration::seconds(i64::try_from(i).unwrap());
            recent.upsert(&format!("d{i}"), &deployment(at, None), now);
        }
        assert_eq!(recent.len(), MAX_RECENT);
        assert!(
            recent
                .latest_before(&labels(&[("service", "payments")]), now)
                .is_some()
        );
    }
}
