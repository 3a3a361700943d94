//! The Vedette server: the engine (scheduler, probes, state machine, batch writer) and its
//! HTTP surface. `serve` wires them together for the `vedette serve` command.

pub mod api;
pub mod app;
pub mod claims;
pub mod demo;
pub mod deployments;
pub mod discovery;
pub mod engine;
pub mod files;
pub mod follow;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod passive;
pub mod routes;
pub mod scheduler;
pub mod serve;
pub mod state_machine;
pub mod states;
pub mod stats;
pub mod status_page;
pub mod subscriptions;
pub mod tasks;
pub mod verifications;
pub mod web;
pub mod writer;
pub mod xml;

pub use serve::{ServeConfig, serve};

/// Errors of the server library.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] vedette_store::StoreError),
    /// A probe resource could not be set up.
    #[error(transparent)]
    Probe(#[from] vedette_probe::ProbeError),
    /// Config files have errors (each line one error with file, line and field).
    #[error("configuration has errors:\n{0}")]
    Config(String),
    /// A resource is invalid.
    #[error("{0}")]
    Invalid(String),
    /// Network or file I/O failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The listen address could not be bound (in use, not local, or a privileged port).
    #[error("cannot listen on {addr} (--listen): {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The webhook dispatcher or its integration catalog could not be set up.
    #[error(transparent)]
    Webhooks(#[from] vedette_webhooks::delivery::DeliveryError),
}
