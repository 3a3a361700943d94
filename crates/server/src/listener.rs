//! The HTTP listener: serves the router on accepted connections with a cap on open
//! connections, a header-read timeout and an idle timeout, so a flood of idle or slow sockets
//! can neither exhaust the process's file descriptors (which the probes need) nor keep
//! `/healthz` from answering.
//!
//! At the cap, a new connection takes the place of the connection that has been idle (no
//! request in flight) the longest; when every connection has a request in flight, the new one
//! is answered `503` and closed at once. When `accept()` itself fails (too many open files),
//! the longest-idle connection is closed and accepting resumes shortly after.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::limits::HttpLimits;

/// Sent to a connection over the cap when no idle connection can make room, before closing it.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
Content-Length: 34\r\nRetry-After: 1\r\nConnection: close\r\n\r\n\
too many connections; retry later\n";

/// How long accepting pauses after `accept()` failed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long a new connection waits, at the cap, for an idle one to close.
const ADMIT_WAIT: Duration = Duration::from_secs(1);

/// One open connection as the listener sees it.
#[derive(Debug)]
struct Conn {
    /// Requests whose response is not yet fully sent.
    busy: AtomicUsize,
    /// Milliseconds after the registry's epoch of the last byte read or written.
    last_io: AtomicU64,
    /// Cancelled to close the connection at once (to make room for another).
    close: CancellationToken,
    epoch: Instant,
}

impl Conn {
    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io.store(now, Ordering::Relaxed);
    }

    fn last_io(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_io.load(Ordering::Relaxed))
    }

    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }
}

/// The open connections: an entry per connection task, so per socket, removed only when the
/// task has dropped its socket.
#[derive(Debug)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Notified whenever a connection's socket is closed.
    freed: Notify,
    next_id: AtomicU64,
    epoch: Instant,
    last_warning: Mutex<Option<Instant>>,
}

impl Registry {
    fn new() -> Self {
        Self {
            conns: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            last_warning: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the connection idle the longest to close; whether there was one.
    fn evict_idle(conns: &HashMap<u64, Arc<Conn>>) -> bool {
        let oldest = conns
            .values()
            .filter(|c| c.is_idle() && !c.close.is_cancelled())
            .min_by_key(|c| c.last_io.load(Ordering::Relaxed));
        match oldest {
            Some(conn) => {
                conn.close.cancel();
                true
            }
            None => false,
        }
    }

    /// A place for a new connection under `cap`. At the cap, the longest-idle connection is
    /// asked to close and its socket awaited (so open sockets never exceed the cap by more
    /// than the one just accepted); `None` when every connection is busy.
    async fn admit(&self, cap: usize) -> Option<(u64, Arc<Conn>)> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut conns = self.lock();
                if conns.len() < cap {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let conn = Arc::new(Conn {
                        busy: AtomicUsize::new(0),
                        last_io: AtomicU64::new(0),
                        close: CancellationToken::new(),
                        epoch: self.epoch,
                    });
                    conn.touch();
                    conns.insert(id, Arc::clone(&conn));
                    return Some((id, conn));
                }
                let closing = conns.values().any(|c| c.close.is_cancelled());
                if !closing && !Self::evict_idle(&conns) {
                    return None;
                }
            }
            if tokio::time::timeout(ADMIT_WAIT, freed).await.is_err() {
                return None;
            }
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
        self.freed.notify_waiters();
    }

    /// Logs a warning at most every 10 s.
    fn warn(&self, message: &str, open: usize) {
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            tracing::warn!(open_connections = open, "{message}");
        }
    }
}

/// Removes its connection from the registry when the connection's task ends (declared before
/// the connection, so dropped after its socket).
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

/// Serves `app` on `listener` within `limits` (at most `cap` connections) until `stop` is
/// cancelled, then lets open connections finish their requests and waits for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &HttpLimits,
    cap: usize,
    stop: CancellationToken,
) -> io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let registry = Arc::new(Registry::new());
    let mut tasks = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                let open = {
                    let conns = registry.lock();
                    Registry::evict_idle(&conns);
                    conns.len()
                };
                registry.warn(&format!("accepting a connection failed: {e}"), open);
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Some((id, conn)) = registry.admit(cap).await else {
            // Non-blocking: a client that does not read the refusal just loses it.
            let _ = stream.try_write(REFUSAL);
            registry.warn(
                "connection cap reached with every connection busy; refusing connections",
                cap,
            );
            continue;
        };
        tasks.spawn(serve_connection(Connection {
            builder: Arc::clone(&builder),
            registry: Arc::clone(&registry),
            app: app.clone(),
            stream,
            remote,
            id,
            conn,
            idle_timeout: limits.idle_timeout,
            stop: stop.clone(),
        }));
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// What one connection's task needs.
struct Connection {
    builder: Arc<Builder<TokioExecutor>>,
    registry: Arc<Registry>,
    app: Router,
    stream: TcpStream,
    remote: SocketAddr,
    id: u64,
    conn: Arc<Conn>,
    idle_timeout: Duration,
    stop: CancellationToken,
}

async fn serve_connection(c: Connection) {
    let Connection {
        builder,
        registry,
        app,
        stream,
        remote,
        id,
        conn,
        idle_timeout,
        stop,
    } = c;
    let _registered = Registered {
        registry: Arc::clone(&registry),
        id,
    };
    let io = TokioIo::new(Tracked {
        inner: stream,
        conn: Arc::clone(&conn),
    });
    let tracked = Arc::clone(&conn);
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        let busy = Busy::start(Arc::clone(&tracked));
        let app = app.clone();
        async move {
            let response = app.oneshot(req.map(Body::new)).await?;
            Ok::<_, std::convert::Infallible>(response.map(|inner| Guarded { inner, _busy: busy }))
        }
    });
    let serving = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(serving);
    let mut draining = false;
    loop {
        let deadline = if conn.is_idle() {
            conn.last_io() + idle_timeout
        } else {
            Instant::now() + idle_timeout
        };
        tokio::select! {
            result = serving.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "HTTP connection ended with an error");
                }
                break;
            }
            () = conn.close.cancelled() => {
                tracing::debug!(%remote, "closing an idle connection to make room");
                break;
            }
            () = stop.cancelled(), if !draining => {
                draining = true;
                serving.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                if conn.is_idle() && conn.last_io() + idle_timeout <= Instant::now() {
                    tracing::debug!(%remote, "closing an idle connection");
                    break;
                }
            }
        }
    }
}

/// Marks a request in flight on its connection until its response is fully sent.
#[derive(Debug)]
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        Self(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy while it is sent (an event stream
/// is not idle).
struct Guarded {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket that records when bytes last went through it.
struct Tracked {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{text}"
        );
    }

    #[tokio::test]
    async fn admission_evicts_the_longest_idle_and_refuses_when_all_are_busy() {
        let registry = Arc::new(Registry::new());
        let (first_id, first) = registry.admit(2).await.unwrap();
        let (_, second) = registry.admit(2).await.unwrap();
        first.last_io.store(0, Ordering::Relaxed);
        second.last_io.store(10, Ordering::Relaxed);
        // The first is asked to close; the third gets its place once its socket is gone.
        let closer = Arc::clone(&registry);
        let evicted = Arc::clone(&first);
        tokio::spawn(async move {
            evicted.close.cancelled().await;
            closer.remove(first_id);
        });
        let (_, third) = registry.admit(2).await.unwrap();
        assert!(first.close.is_cancelled());
        assert!(!second.close.is_cancelled());
        let _a = Busy::start(Arc::clone(&second));
        let _b = Busy::start(Arc::clone(&third));
        assert!(registry.admit(2).await.is_none());
    }
}
