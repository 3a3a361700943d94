//! Vedette's model: monitor specs, validation, the assertion language, results and events.
//! Pure data and logic, no I/O, so every front door (API, files, Terraform, CRDs) shares it.

pub mod assertion;
pub mod check;
pub mod decode;
pub mod deployment;
pub mod discovery;
pub mod document;
pub mod duration;
pub mod event;
mod field_path;
pub mod incident;
pub mod kinds;
pub mod maintenance;
pub mod record;
pub mod result;
pub mod schedule;
pub mod scope;
pub mod selector;
mod serde_text;
pub mod spec;
pub mod state;
pub mod status_page;
pub mod terraform;
pub mod validate;
pub mod verification;
pub mod webhook;

pub use check::{Check, CheckKind};
pub use duration::Duration;
pub use event::{Event, EventType};
pub use incident::{Incident, IncidentState, TimelineEntry};
pub use record::{Audience, REDACTED, Record, Redact, Source, Version};
pub use result::{
    AssertionResult, CheckResult, FailureReason, GatewaySeen, Observation, Outcome, Phases,
};
pub use scope::Scope;
pub use spec::{MonitorDraft, MonitorSpec};
pub use state::MonitorState;
pub use validate::FieldError;
