//! The reconciler's decision, as a pure function like the state machine: from the monitors a
//! listing wants, the monitors a source owns and since when their routes are missing, the
//! writes to make. A monitor is deleted only after its route has been missing for the whole
//! grace period; an id held by a monitor the source does not own is left alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::discovery::{DISCOVERED_BY, GatewayHealth, Route};
use vedette_model::document::slugify;
use vedette_model::{MonitorSpec, Record};

/// A monitor a listing wants.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Desired {
    /// Monitor id, made from the source id and the route ([`monitor_id`]).
    pub id: String,
    /// The route's key.
    pub route: String,
    /// Labels, `discovered-by` among them.
    pub labels: BTreeMap<String, String>,
    /// The monitor.
    pub spec: MonitorSpec,
    /// Upstream health the gateway reported for the route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<GatewayHealth>,
}

/// What a run writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Plan {
    /// Monitors to create.
    pub create: Vec<Desired>,
    /// Owned monitors whose labels or spec change.
    pub update: Vec<Desired>,
    /// Owned monitors to delete: their routes were missing for the whole grace period.
    pub delete: Vec<String>,
    /// Owned monitors already as wanted.
    pub unchanged: usize,
    /// Owned monitors whose route is missing, with the time it was first missed (those to
    /// delete left out).
    pub missing_since: BTreeMap<String, DateTime<Utc>>,
    /// Wanted monitor ids held by monitors the source does not own (left alone).
    pub conflicts: Vec<String>,
}

impl Plan {
    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// The monitor id of `route` in source `source`: `<source>-<host and path as a slug>-<hash>`,
/// at most 128 characters; the hash (FNV-1a of the route's key) keeps routes whose slugs
/// coincide apart.
pub fn monitor_id(source: &str, route: &Route) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in route.key.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let slug = slugify(&format!("{} {}", route.host, route.path));
    let room = 128 - source.len() - 2 - 8;
    let slug: String = slug.chars().take(room.min(48)).collect();
    let slug = slug.trim_end_matches('-');
    let hash = format!("{:08x}", hash as u32);
    if slug.is_empty() {
        format!("{source}-{hash}")
    } else {
        format!("{source}-{slug}-{hash}")
    }
}

/// Whether `record` is owned by source `source` (labelled `discovered-by=<source>`).
pub fn owned_by(record: &Record<MonitorSpec>, source: &str) -> bool {
    record.labels.get(DISCOVERED_BY).map(String::as_str) == Some(source)
}

/// The writes that bring `owned` (the monitors the source owns) to `desired`: creates for
/// wanted ids no monitor holds, updates for owned ones that differ, deletes for owned ones
/// missing for at least `grace` (by `missing_since`, which the plan carries forward). Ids in
/// `taken` (monitors of others) are never written. Two wanted monitors with one id: the first
/// is kept.
pub fn plan(
    desired: Vec<Desired>,
    owned: &[Record<MonitorSpec>],
    taken: &BTreeSet<String>,
    missing_since: &BTreeMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> Plan {
    let owned: BTreeMap<&str, &Record<MonitorSpec>> =
        owned.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut plan = Plan::default();
    let mut wanted = BTreeSet::new();
    for d in desired {
        if !wanted.insert(d.id.clone()) {
            continue;
        }
        match owned.get(d.id.as_str()) {
            Some(current) if current.labels == d.labels && current.spec == d.spec => {
                plan.unchanged += 1;
            }
            Some(_) => plan.update.push(d),
            None if taken.contains(&d.id) => plan.conflicts.push(d.id),
            None => plan.create.push(d),
        }
    }
    for id in owned.keys().filter(|id| !wanted.contains(**id)) {
        let since = missing_since.get(*id).copied().unwrap_or(now).min(now);
        if now - since >= grace {
            plan.delete.push((*id).to_owned());
        } else {
            plan.missing_since.insert((*id).to_owned(), since);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SOURCE: &str = "edge";

    fn desired(n: u32) -> Desired {
        let route = Route::new(&format!("r{n}"), "http", "shop.local", &format!("/p{n}"));
        let mut labels = BTreeMap::new();
        labels.insert(DISCOVERED_BY.to_owned(), SOURCE.to_owned());
        Desired {
            id: monitor_id(SOURCE, &route),
            route: route.key,
            labels,
            spec: MonitorSpec::http(format!("http://127.0.0.1:1/p{n}")),
            health: None,
        }
    }

    /// Applies a plan to an in-memory set of monitors, counting writes.
    fn apply(monitors: &mut BTreeMap<String, Record<MonitorSpec>>, plan: &Plan) -> usize {
        for d in plan.create.iter().chain(&plan.update) {
            let record = Record::new(d.id.clone(), d.spec.clone()).with_labels(d.labels.clone());
            monitors.insert(d.id.clone(), record);
        }
        for id in &plan.delete {
            monitors.remove(id);
        }
        plan.create.len() + plan.update.len() + plan.delete.len()
    }

    fn owned(monitors: &BTreeMap<String, Record<MonitorSpec>>) -> Vec<Record<MonitorSpec>> {
        monitors
            .values()
            .filter(|r| owned_by(r, SOURCE))
            .cloned()
            .collect()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_missing_route_is_deleted_only_after_the_grace_period() {
        let grace = chrono::Duration::seconds(60);
        let mut monitors = BTreeMap::new();
        let none = BTreeMap::new();
        let first = plan(
            vec![desired(1), desired(2)],
            &[],
            &BTreeSet::new(),
            &none,
            at(0),
            grace,
        );
        assert_eq!(apply(&mut monitors, &first), 2);
        let missing = plan(
            vec![desired(1)],
            &owned(&monitors),
            &BTreeSet::new(),
            &none,
            at(10),
            grace,
        );
        assert!(missing.is_empty(), "{missing:?}");
        let id2 = desired(2).id;
        assert_eq!(missing.missing_since[&id2], at(10));
        let still = plan(
            vec![desired(1)],
            &owned(&monitors),
            &BTreeSet::new(),
            &missing.missing_since,
            at(69),
            grace,
        );
        assert!(still.is_empty());
        let gone = plan(
            vec![desired(1)],
            &owned(&monitors),
            &BTreeSet::new(),
            &still.missing_since,
            at(70),
            grace,
        );
        assert_eq!(gone.delete, [id2]);
        assert!(gone.missing_since.is_empty());
    }

    #[test]
    fn a_route_back_within_the_grace_period_is_kept_and_forgotten() {
        let grace = chrono::Duration::seconds(60);
        let mut monitors = BTreeMap::new();
        let none = BTreeMap::new();
        apply(
            &mut monitors,
            &plan(vec![desired(1)], &[], &BTreeSet::new(), &none, at(0), grace),
        );
        let missing = plan(
            vec![],
            &owned(&monitors),
            &BTreeSet::new(),
            &none,
            at(1),
            grace,
        );
        assert_eq!(missing.missing_since.len(), 1);
        let back = plan(
            vec![desired(1)],
            &owned(&monitors),
            &BTreeSet::new(),
            &missing.missing_since,
            at(2),
            grace,
        );
        assert!(back.is_empty() && back.missing_since.is_empty());
        assert_eq!(back.unchanged, 1);
    }

    #[test]
    fn monitors_of_others_are_never_written() {
        let mut foreign = desired(1);
        foreign.labels.clear();
        let foreign = Record::new(foreign.id.clone(), foreign.spec);
        let taken = BTreeSet::from([foreign.id.clone()]);
        let p = plan(
            vec![desired(1)],
            &[],
            &taken,
            &BTreeMap::new(),
            at(0),
            chrono::Duration::zero(),
        );
        assert!(p.is_empty());
        assert_eq!(p.conflicts, [foreign.id]);
    }

    #[test]
    fn an_update_is_planned_when_the_template_changes() {
        let mut monitors = BTreeMap::new();
        let none = BTreeMap::new();
        let grace = chrono::Duration::zero();
        apply(
            &mut monitors,
            &plan(vec![desired(1)], &[], &BTreeSet::new(), &none, at(0), grace),
        );
        let mut changed = desired(1);
        changed.spec.interval = vedette_model::Duration::from_secs(30);
        let p = plan(
            vec![changed],
            &owned(&monitors),
            &BTreeSet::new(),
            &none,
            at(1),
            grace,
        );
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 1, 0));
    }

    #[test]
    fn ids_are_valid_bounded_and_distinct() {
        let long = Route::new("a", "https", &"h".repeat(300), "/x");
        let id = monitor_id(&"s".repeat(63), &long);
        assert!(vedette_model::validate::check_id(&id).is_ok(), "{id}");
        let a = monitor_id(SOURCE, &Route::new("k1", "http", "h", "/a b"));
        let b = monitor_id(SOURCE, &Route::new("k2", "http", "h", "/a-b"));
        assert_ne!(a, b);
        let root = monitor_id(SOURCE, &Route::new("k", "http", "*", "/"));
        assert!(vedette_model::validate::check_id(&root).is_ok(), "{root}");
    }

    proptest! {
        /// Running again over the same listing writes nothing.
        #[test]
        fn a_repeated_run_over_the_same_listing_writes_nothing(
            routes in proptest::collection::btree_set(0u32..200, 0..60),
        ) {
            let mut monitors = BTreeMap::new();
            let want = || routes.iter().map(|n| desired(*n)).collect::<Vec<_>>();
            let grace = chrono::Duration::seconds(30);
            let first = plan(want(), &owned(&monitors), &BTreeSet::new(), &BTreeMap::new(), at(0), grace);
            prop_assert_eq!(apply(&mut monitors, &first), routes.len());
            for i in 1..4 {
                let again = plan(want(), &owned(&monitors), &BTreeSet::new(), &first.missing_since, at(i), grace);
                prop_assert!(again.is_empty());
                prop_assert_eq!(again.unchanged, routes.len());
            }
        }

        /// Routes added and removed in any order, then the grace period passing: exactly the
        /// last listing's monitors are left, and a monitor of another owner is untouched.
        #[test]
        fn churn_ends_with_exactly_the_desired_set(
            listings in proptest::collection::vec(proptest::collection::btree_set(0u32..40, 0..25), 1..12),
        ) {
            let grace = chrono::Duration::seconds(5);
            let mut monitors = BTreeMap::new();
            let stranger = Record::new("other", MonitorSpec::http("http://127.0.0.1:1/"));
            monitors.insert("other".to_owned(), stranger.clone());
            let mut missing = BTreeMap::new();
            let mut t = 0;
            for listing in &listings {
                let want = listing.iter().map(|n| desired(*n)).collect();
                let p = plan(want, &owned(&monitors), &BTreeSet::from(["other".to_owned()]), &missing, at(t), grace);
                apply(&mut monitors, &p);
                missing = p.missing_since;
                t += 2;
            }
            let last = listings.last().unwrap();
            let want = || last.iter().map(|n| desired(*n)).collect::<Vec<_>>();
            let settle = plan(want(), &owned(&monitors), &BTreeSet::new(), &missing, at(t + 10), grace);
            apply(&mut monitors, &settle);
            let expected: BTreeSet<String> = want().into_iter().map(|d| d.id).collect();
            let found: BTreeSet<String> = owned(&monitors).into_iter().map(|r| r.id).collect();
            prop_assert_eq!(found, expected);
            prop_assert_eq!(monitors.get("other"), Some(&stranger));
        }
    }
}
