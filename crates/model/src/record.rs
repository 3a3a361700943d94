//! Versioned resources as every layer holds them: [`Record<S>`] wraps a spec with its id,
//! labels, version, [`Source`] and timestamps. The store keeps records, the API serves them,
//! files and the CLI write them; one shape, so a new kind of resource is one spec type.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Shown instead of a secret in every answer; sent back in a write, it keeps the stored value.
pub const REDACTED: &str = "********";

/// Label names Vedette itself sets or reserves.
pub mod labels {
    /// Who manages a resource (`file`, `demo`, `vedette-cli`, `terraform`, ...).
    pub const MANAGED_BY: &str = "managed-by";
    /// The apply set of `vedette apply --apply-set`, so `--prune` only removes its own.
    pub const APPLY_SET: &str = "vedette.dev/apply-set";
}

/// A resource version: 0 means "does not exist" in a conditional write, stored ones start at 1.
pub type Version = i64;

/// Who wrote a resource last; writers may change only what their source owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Source {
    /// The REST API (and everything built on it: CLI, Terraform, operator).
    #[default]
    Api,
    /// `--config` files; changed only by editing them.
    File,
    /// `serve --demo`'s built-in monitors.
    Demo,
}

impl Source {
    /// The name stored and shown as `managed_by`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(Self::Api),
            "file" => Ok(Self::File),
            "demo" => Ok(Self::Demo),
            other => Err(format!(
                "unknown source {other:?}: expected api, file or demo"
            )),
        }
    }
}

/// A versioned resource: a spec with its identity, labels and bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<S> {
    /// Stable slug.
    pub id: String,
    /// Labels for selection and ownership.
    pub labels: BTreeMap<String, String>,
    /// What the resource is.
    pub spec: S,
    /// Bumped on every change of labels, spec or source; the ETag. Ignored on write.
    pub version: Version,
    /// Who wrote it last.
    pub source: Source,
    /// First written. Ignored on write.
    pub created_at: DateTime<Utc>,
    /// Last changed. Ignored on write.
    pub updated_at: DateTime<Utc>,
}

impl<S> Record<S> {
    /// A record to write from the API: no labels; version and timestamps are set by the store.
    pub fn new(id: impl Into<String>, spec: S) -> Self {
        let now = Utc::now();
        Self {
            id: id.into(),
            labels: BTreeMap::new(),
            spec,
            version: 0,
            source: Source::Api,
            created_at: now,
            updated_at: now,
        }
    }

    /// The same record with these labels.
    pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// The same record written by `source`.
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }
}

/// Who reads a resource: some values (push tokens, header values) are shown only to tokens
/// that may write, and credentials to nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A `read` token.
    Reader,
    /// A `write` or `admin` token.
    Writer,
}

/// A spec with secrets: answers show it redacted, each secret replaced by [`REDACTED`].
pub trait Redact {
    /// The spec as `audience` may see it.
    fn redacted(self, audience: Audience) -> Self;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_through_their_names() {
        for source in [Source::Api, Source::File, Source::Demo] {
            assert_eq!(source.as_str().parse::<Source>(), Ok(source));
            assert_eq!(
                serde_json::to_value(source).unwrap(),
                serde_json::json!(source.as_str())
            );
        }
        assert!(
            "terraform"
                .parse::<Source>()
                .unwrap_err()
                .contains("api, file or demo")
        );
    }
}
