//! An in-process `vedette` server on loopback, shared by the server's test binaries and the
//! benchmarks (`bench/src/lib.rs`): started from a config and waited for until it listens,
//! stopped through its cancellation token.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vedette_server::{ServeConfig, ServerError, serve};

/// How long a server may take to start listening, and to stop.
const WAIT: Duration = Duration::from_secs(30);

/// A running `serve` task.
pub struct Serving {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<Result<(), ServerError>>,
}

impl Serving {
    /// Starts `serve(config)` and waits until it listens; panics with the server's own error
    /// when it does not within 30 s.
    pub async fn start(config: ServeConfig) -> Serving {
        let stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(serve(config, stop.clone(), move |addr| {
            let _ = tx.send(addr);
        }));
        match tokio::time::timeout(WAIT, rx).await {
            Ok(Ok(addr)) => Serving { addr, stop, task },
            _ => {
                stop.cancel();
                panic!("the server did not start: {:?}", task.await);
            }
        }
    }

    /// Stops the server; it must stop cleanly within 30 s.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("server stops within 30 s")
            .expect("server task")
            .expect("server stopped cleanly");
    }
}
