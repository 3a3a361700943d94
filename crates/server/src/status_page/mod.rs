//! Public status pages: `/status/<slug>` (HTML), `/status/<slug>.json`, the incidents feed
//! `/status/<slug>/feed.atom`, shields-style badges under `/badge/<slug>/`, and a page's
//! custom domain. No sign-in: what is shown is only what a page lists ([`snapshot`]).
//!
//! Pages are rendered from an in-memory snapshot per page ([`StatusPages`]), rebuilt at most
//! every [`REFRESH`] and at once after a status page, monitor or maintenance window changes
//! (the cache follows them through the change feed), so a busy page costs a map lookup.

mod atom;
mod badge;
pub mod handlers;
mod html;
pub mod snapshot;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use vedette_model::maintenance::MaintenanceSpec;
use vedette_model::status_page::StatusPageSpec;
use vedette_model::{FieldError, MonitorSpec, Record};

use crate::engine::Engine;
use crate::follow::Follow;

pub use snapshot::PublicPage;

/// Longest a page's snapshot is served before it is rebuilt.
pub const REFRESH: Duration = Duration::from_secs(5);

/// One page rendered from one snapshot, in every form it is served in.
pub struct Rendered {
    /// The data the forms were rendered from (badges are drawn from it).
    pub page: PublicPage,
    /// `text/html` (shared, not copied, by every answer).
    pub html: Bytes,
    /// `text/html` without the refresh (`?refresh=off`), rendered when first asked for.
    html_still: OnceLock<Bytes>,
    /// `application/json`.
    pub json: Bytes,
    /// `application/atom+xml`.
    pub atom: Bytes,
    built: Instant,
    generation: u64,
}

impl Rendered {
    /// The page as HTML that does not refresh itself, with a link to turn the refresh back
    /// on: the switch readers without JavaScript have.
    pub fn html_still(&self) -> Bytes {
        self.html_still
            .get_or_init(|| Bytes::from(html::render(&self.page, false)))
            .clone()
    }
}

/// The status pages this server follows and their rendered snapshots.
#[derive(Default)]
pub struct StatusPages {
    index: RwLock<Index>,
    rendered: RwLock<BTreeMap<String, Arc<Rendered>>>,
    /// Bumped by every followed change: a snapshot of an older generation is not served.
    generation: AtomicU64,
    /// One snapshot is built at a time; readers meanwhile serve the one they have.
    building: tokio::sync::Mutex<()>,
}

/// The pages by id, and which one serves each slug and custom domain.
#[derive(Default)]
struct Index {
    pages: BTreeMap<String, Record<StatusPageSpec>>,
    slugs: BTreeMap<String, String>,
    domains: BTreeMap<String, String>,
}

impl Index {
    /// Recomputes the slug and domain maps: of two pages claiming one, the older serves.
    fn rebuild(&mut self) {
        let mut by_age: Vec<&Record<StatusPageSpec>> = self.pages.values().collect();
        by_age.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        self.slugs.clear();
        self.domains.clear();
        for page in by_age {
            self.slugs
                .entry(page.spec.slug.clone())
                .or_insert_with(|| page.id.clone());
            if let Some(domain) = &page.spec.custom_domain {
                self.domains
                    .entry(domain.clone())
                    .or_insert_with(|| page.spec.slug.clone());
            }
        }
    }
}

impl StatusPages {
    /// No pages yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What `spec` (the page `id`) claims that another page already has: its slug or its
    /// custom domain.
    pub fn clashes(&self, id: &str, spec: &StatusPageSpec) -> Vec<FieldError> {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        let mut clashes = Vec::new();
        for other in index.pages.values().filter(|p| p.id != id) {
            if other.spec.slug == spec.slug {
                clashes.push(FieldError::new(
                    "spec.slug",
                    format!("status page {:?} already has this slug", other.id),
                ));
            }
            if other.spec.custom_domain.is_some() && other.spec.custom_domain == spec.custom_domain
            {
                clashes.push(FieldError::new(
                    "spec.custom_domain",
                    format!("status page {:?} already has this custom domain", other.id),
                ));
            }
        }
        clashes
    }

    /// The slug of the page served at `host` (a `Host` header, port and case ignored).
    pub fn slug_for_host(&self, host: &str) -> Option<String> {
        let host = host.trim().trim_end_matches('.');
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        if index.domains.is_empty() {
            return None;
        }
        index.domains.get(&name.to_ascii_lowercase()).cloned()
    }

    /// The page at `slug`, rendered from a snapshot no older than [`REFRESH`] and taken after
    /// the last followed change; `None` when no page has that slug.
    pub async fn page(&self, engine: &Engine, slug: &str) -> Option<Arc<Rendered>> {
        let generation = self.generation.load(Ordering::Acquire);
        let held = self.held(slug);
        if let Some(held) = &held
            && held.generation == generation
        {
            if held.built.elapsed() < REFRESH {
                return Some(held.clone());
            }
            // Only old: one reader rebuilds it, the others serve it meanwhile.
            let Ok(guard) = self.building.try_lock() else {
                return Some(held.clone());
            };
            return self.build(engine, slug, guard).await;
        }
        let guard = self.building.lock().await;
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(held) = self.held(slug)
            && held.generation == generation
            && held.built.elapsed() < REFRESH
        {
            return Some(held);
        }
        self.build(engine, slug, guard).await
    }

    fn held(&self, slug: &str) -> Option<Arc<Rendered>> {
        self.rendered
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(slug)
            .cloned()
    }

    async fn build(
        &self,
        engine: &Engine,
        slug: &str,
        _building: tokio::sync::MutexGuard<'_, ()>,
    ) -> Option<Arc<Rendered>> {
        let generation = self.generation.load(Ordering::Acquire);
        let record = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            let id = index.slugs.get(slug)?;
            index.pages.get(id)?.clone()
        };
        let page = match snapshot::build(engine, &record.spec, chrono::Utc::now()).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(page = %record.id, error = %e, "building a status page failed");
                // Serve the last snapshot rather than nothing while the store fails.
                return self.held(slug);
            }
        };
        let rendered = Arc::new(Rendered {
            html: Bytes::from(html::render(&page, true)),
            html_still: OnceLock::new(),
            json: Bytes::from(serde_json::to_vec(&page).unwrap_or_default()),
            atom: Bytes::from(atom::render(&page)),
            page,
            built: Instant::now(),
            generation,
        });
        self.rendered
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(slug.to_owned(), rendered.clone());
        Some(rendered)
    }

    /// Something a page may show changed: no snapshot taken before is served again.
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn update_index(&self, change: impl FnOnce(&mut BTreeMap<String, Record<StatusPageSpec>>)) {
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        change(&mut index.pages);
        index.rebuild();
        let slugs: Vec<String> = index.slugs.keys().cloned().collect();
        drop(index);
        self.rendered
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|slug, _| slugs.contains(slug));
        self.invalidate();
    }
}

/// The status pages themselves: the cache's index.
pub struct FollowPages(pub Arc<StatusPages>);

impl Follow<StatusPageSpec> for FollowPages {
    async fn upsert(&self, record: Record<StatusPageSpec>) {
        self.0.update_index(|pages| {
            pages.insert(record.id.clone(), record);
        });
    }

    async fn remove(&self, id: &str) {
        self.0.update_index(|pages| {
            pages.remove(id);
        });
    }

    async fn retain(&self, stored: &HashSet<String>) {
        self.0.update_index(|pages| {
            pages.retain(|id, _| stored.contains(id));
        });
    }
}

/// A kind whose changes a page may show (monitors: names, labels matched by selectors;
/// maintenance windows): any change makes every snapshot stale.
pub struct Invalidate(pub Arc<StatusPages>);

macro_rules! invalidate_on {
    ($spec:ty) => {
        impl Follow<$spec> for Invalidate {
            async fn upsert(&self, _record: Record<$spec>) {
                self.0.invalidate();
            }

            async fn remove(&self, _id: &str) {
                self.0.invalidate();
            }

            async fn retain(&self, _stored: &HashSet<String>) {
                self.0.invalidate();
            }
        }
    };
}

invalidate_on!(MonitorSpec);
invalidate_on!(MaintenanceSpec);

/// Subscribes the cache to the change feed.
pub fn subscribe(
    follower: crate::follow::Follower,
    pages: &Arc<StatusPages>,
) -> crate::follow::Follower {
    follower
        .subscribe::<StatusPageSpec>(FollowPages(pages.clone()))
        .subscribe::<MonitorSpec>(Invalidate(pages.clone()))
        .subscribe::<MaintenanceSpec>(Invalidate(pages.clone()))
}
