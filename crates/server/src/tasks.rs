//! Supervision of the server's background tasks (scheduler, result writer, webhook dispatcher,
//! retention, config reloader, instance lock watcher): a task that panics, fails or ends before
//! shutdown is logged at ERROR and makes `/readyz` answer 503 naming it, so an orchestrator
//! sees a server that only looks alive.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The background tasks that have died, shared by the supervisor and `/readyz`.
#[derive(Debug, Default)]
pub struct TaskHealth {
    dead: Mutex<Vec<String>>,
}

impl TaskHealth {
    /// Records that task `name` died and why (logged at ERROR).
    pub fn record_death(&self, name: &str, why: &str) {
        tracing::error!(
            task = name,
            reason = why,
            "a background task died; not ready"
        );
        self.dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(format!("{name}: {why}"));
    }

    /// Each dead task as `name: why`; empty while all run.
    pub fn dead(&self) -> Vec<String> {
        self.dead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// How a supervised task's output tells whether it failed.
pub trait TaskOutcome {
    /// Why the task failed, or `None` when it finished well.
    fn failure(&self) -> Option<String>;
}

impl TaskOutcome for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

impl<E: std::fmt::Display> TaskOutcome for Result<(), E> {
    fn failure(&self) -> Option<String> {
        self.as_ref().err().map(|e| format!("failed: {e}"))
    }
}

/// Spawns `task` named `name`. A panic, an error, or an end before `stopping` is cancelled is
/// recorded in `health`; the handle yields the task's output, or `None` after a panic.
pub fn supervise<T, F>(
    health: &Arc<TaskHealth>,
    name: &'static str,
    stopping: CancellationToken,
    task: F,
) -> JoinHandle<Option<T>>
where
    F: Future<Output = T> + Send + 'static,
    T: TaskOutcome + Send + 'static,
{
    let health = Arc::clone(health);
    tokio::spawn(async move {
        match AssertUnwindSafe(task).catch_unwind().await {
            Ok(output) => {
                if let Some(why) = output.failure() {
                    health.record_death(name, &why);
                } else if !stopping.is_cancelled() {
                    health.record_death(name, "stopped unexpectedly");
                }
                Some(output)
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                health.record_death(name, &format!("panicked: {message}"));
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_errors_and_early_ends_are_recorded_but_a_stop_is_not() {
        let health = Arc::new(TaskHealth::default());
        let stop = CancellationToken::new();
        let panicked = supervise(&health, "retention", stop.clone(), async {
            let _ = std::hint::black_box(i64::MAX)
                .checked_add(1)
                .expect("overflow");
        });
        assert!(panicked.await.expect("join").is_none());
        let failed = supervise(&health, "dispatcher", stop.clone(), async {
            Err::<(), _>("database gone")
        });
        assert!(failed.await.expect("join").is_some());
        supervise(&health, "writer", stop.clone(), async {})
            .await
            .expect("join");
        assert_eq!(
            health.dead(),
            [
                "retention: panicked: overflow",
                "dispatcher: failed: database gone",
                "writer: stopped unexpectedly"
            ]
        );
        stop.cancel();
        supervise(&health, "scheduler", stop.clone(), async {})
            .await
            .expect("join");
        assert_eq!(health.dead().len(), 3);
    }

    /// GET `path` on `addr` over plain HTTP/1.1: (status code, body).
    async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        conn.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("request");
        let mut response = String::new();
        conn.read_to_string(&mut response).await.expect("response");
        let status = response[9..12].parse().expect("status code");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn readyz_fails_naming_a_dead_task() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = vedette_store::Store::open(&vedette_store::StoreConfig::sqlite(dir.path()))
            .await
            .expect("store");
        let (writer, _rx) = tokio::sync::mpsc::unbounded_channel();
        let scheduler = crate::scheduler::Scheduler::new(1);
        let feed = crate::follow::Follower::new(store.clone()).position();
        let engine = crate::engine::Engine::new(
            store,
            vedette_probe::ProbeContext::new().expect("probe"),
            scheduler.handle(),
            writer,
        )
        .await
        .expect("engine");
        let catalog = Arc::new(vedette_webhooks::Catalog::builtin().expect("catalog"));
        let health = Arc::new(TaskHealth::default());
        let app = crate::app::router(crate::app::AppState {
            engine,
            feed,
            ready: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            shutdown: CancellationToken::new(),
            webhooks: Arc::new(crate::api::webhooks::WebhookServices::new(
                catalog,
                vedette_webhooks::DispatcherConfig::default().template_limits,
            )),
            guards: Arc::default(),
            tasks: health.clone(),
            public_url: None,
            status_pages: Arc::default(),
            passive: Arc::default(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        assert_eq!(get(addr, "/readyz").await, (200, "ready".to_owned()));
        let stop = CancellationToken::new();
        supervise(&health, "retention", stop, async {
            let _ = std::hint::black_box(i64::MAX)
                .checked_add(1)
                .expect("overflow");
        })
        .await
        .expect("join");
        let (status, body) = get(addr, "/readyz").await;
        assert_eq!(status, 503);
        assert_eq!(body, "background task died: retention: panicked: overflow");
        assert_eq!(get(addr, "/healthz").await.0, 200);
        server.abort();
    }
}
