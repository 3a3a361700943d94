//! Vedette's webhook ecosystem: Standard Webhooks signing ([`signing`]), sandboxed payload
//! templates ([`templates`]), email endpoints ([`smtp`]), the integration catalog ([`catalog`]),
//! what the catalog and templates add to endpoint specs ([`endpoint`]) and the durable delivery engine ([`delivery`]) fed from
//! the events outbox, which sends through one channel per transport (HTTP, SMTP).

pub mod catalog;
mod channel;
pub mod delivery;
pub mod endpoint;
pub mod retry;
pub mod samples;
pub mod signing;
pub mod smtp;
pub mod ssrf;
pub mod templates;

pub use catalog::{Catalog, Manifest, RenderedRequest};
pub use delivery::{Dispatcher, DispatcherConfig, EndpointDisabled};
pub use endpoint::EndpointRules;
pub use retry::RetryPolicy;
pub use signing::{Signer, Verifier};
pub use templates::{Engine, TemplateError, TemplateLimits};
