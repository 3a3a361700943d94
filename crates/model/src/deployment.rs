//! Deployments: a pipeline's record that a service version is going to an environment. They
//! name the monitors they affect by label selector, may mute those for a while (a maintenance
//! window from their start), and incidents opening soon after one name it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::maintenance::MaintenanceSpec;
use crate::validate::{Errors, FieldError, check_http_url};

/// Longest `service` and `version`, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// Longest `environment`, in bytes.
pub const MAX_ENVIRONMENT_LEN: usize = 64;
/// Longest `commit`, in bytes.
pub const MAX_COMMIT_LEN: usize = 64;
/// Longest `ref`, in bytes.
pub const MAX_REF_LEN: usize = 256;
/// Longest `mute` (one day).
pub const MAX_MUTE: Duration = Duration::from_secs(86_400);

/// The pipeline that recorded a deployment.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentSource {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
    /// Jenkins.
    Jenkins,
    /// Azure DevOps Pipelines.
    AzureDevops,
    /// The `vedette` CLI.
    Cli,
    /// The REST API directly.
    #[default]
    Api,
}

impl DeploymentSource {
    /// The wire name: `github`, `azure-devops`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Jenkins => "jenkins",
            Self::AzureDevops => "azure-devops",
            Self::Cli => "cli",
            Self::Api => "api",
        }
    }
}

/// Where a deployment stands.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum DeploymentStatus {
    /// Going on.
    #[default]
    Started,
    /// Finished well.
    Succeeded,
    /// Finished badly.
    Failed,
    /// Undone.
    RolledBack,
}

impl DeploymentStatus {
    /// The wire name: `started`, `rolled_back`, ...
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A deployment of `service` at `version` to `environment`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    /// The service deployed (`payments`), 1 to 128 bytes.
    pub service: String,
    /// The version deployed (`v1.4.2`), 1 to 128 bytes.
    pub version: String,
    /// Where it goes (`prod`), 1 to 64 bytes.
    pub environment: String,
    /// The commit deployed, at most 64 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The branch or tag deployed, at most 256 bytes.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The pipeline run (absolute http or https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The pipeline that recorded it.
    #[serde(default)]
    pub source: DeploymentSource,
    /// Label selector of the monitors it affects (`service=payments,env=prod`); without one it
    /// affects none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The selected monitors are in maintenance this long from `started_at` (at most 24h):
    /// results kept, notifications suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute: Option<Duration>,
    /// Where it stands.
    #[serde(default)]
    pub status: DeploymentStatus,
    /// When it started; set by the server when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished; set by the server when the status leaves `started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

impl DeploymentSpec {
    /// A started deployment with nothing else set.
    pub fn new(service: &str, version: &str, environment: &str) -> Self {
        Self {
            service: service.to_owned(),
            version: version.to_owned(),
            environment: environment.to_owned(),
            commit: None,
            git_ref: None,
            url: None,
            source: DeploymentSource::default(),
            selector: None,
            mute: None,
            status: DeploymentStatus::Started,
            started_at: None,
            finished_at: None,
        }
    }

    /// Every problem in the deployment; paths are relative to `prefix` (e.g. `spec`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Errors::default();
        for (field, text, max) in [
            ("service", &self.service, MAX_NAME_LEN),
            ("version", &self.version, MAX_NAME_LEN),
            ("environment", &self.environment, MAX_ENVIRONMENT_LEN),
        ] {
            if text.trim().is_empty() || text.len() > max {
                errs.add(
                    prefix,
                    field,
                    format!("expected 1 to {max} bytes, not blank"),
                );
            }
        }
        for (field, text, max) in [
            ("commit", &self.commit, MAX_COMMIT_LEN),
            ("ref", &self.git_ref, MAX_REF_LEN),
        ] {
            if text.as_ref().is_some_and(|t| t.len() > max) {
                errs.add(prefix, field, format!("must be at most {max} bytes"));
            }
        }
        if let Some(url) = &self.url
            && let Err(message) = check_http_url(url)
        {
            errs.add(prefix, "url", message);
        }
        if let Some(selector) = &self.selector
            && let Err(e) = crate::selector::parse(selector)
        {
            errs.add(prefix, "selector", e.to_string());
        }
        if let Some(mute) = self.mute {
            if mute.std().is_zero() || mute > MAX_MUTE {
                errs.add(
                    prefix,
                    "mute",
                    format!("must be more than 0s and at most 24h, got {mute}"),
                );
            }
            if self.selector.is_none() {
                errs.add(
                    prefix,
                    "mute",
                    "needs a selector naming the monitors to mute",
                );
            }
        }
        if let (Some(start), Some(end)) = (self.started_at, self.finished_at)
            && end < start
        {
            errs.add(prefix, "finished_at", "must not be before started_at");
        }
        if self.status == DeploymentStatus::Started && self.finished_at.is_some() {
            errs.add(
                prefix,
                "finished_at",
                "only a finished deployment (status succeeded, failed or rolled_back) has one",
            );
        }
        errs.into_vec()
    }

    /// The maintenance window its `mute` stands for: its selected monitors from `started_at`
    /// for `mute`; `None` without a mute, a selector or a start.
    pub fn mute_window(&self) -> Option<MaintenanceSpec> {
        let start = self.started_at?;
        let length = chrono::Duration::from_std(self.mute?.std()).ok()?;
        Some(MaintenanceSpec {
            name: Some(format!(
                "{} {} to {}",
                self.service, self.version, self.environment
            )),
            description: None,
            start: Some(start),
            end: Some(start.checked_add_signed(length)?),
            cron: None,
            rrule: None,
            duration: None,
            monitors: Vec::new(),
            selector: Some(self.selector.clone()?),
        })
    }

    /// How an incident names it: the deployment `id` with what it deployed.
    pub fn reference(&self, id: &str) -> DeploymentRef {
        DeploymentRef {
            id: id.to_owned(),
            service: self.service.clone(),
            version: self.version.clone(),
            environment: self.environment.clone(),
            commit: self.commit.clone(),
            started_at: self.started_at.unwrap_or_default(),
        }
    }
}

/// A deployment as an incident and its events name it: the `deployment` object of
/// `incident.opened` and `monitor.down` when a monitor went down soon after it started.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct DeploymentRef {
    /// Deployment id.
    pub id: String,
    /// The service deployed.
    pub service: String,
    /// The version deployed.
    pub version: String,
    /// Where it went.
    pub environment: String,
    /// The commit deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

impl DeploymentRef {
    /// `down 2 min after payments v1.4.2 to prod`, for something that went down at `at`.
    pub fn describe(&self, at: DateTime<Utc>) -> String {
        let secs = (at - self.started_at).num_seconds().max(0);
        let after = if secs < 60 {
            format!("{secs} s")
        } else {
            format!("{} min", secs / 60)
        };
        format!(
            "down {after} after {} {} to {}",
            self.service, self.version, self.environment
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(spec: &DeploymentSpec) -> Vec<String> {
        spec.validate("spec").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_minimal_deployment_is_valid_and_started_from_the_api() {
        let spec: DeploymentSpec = serde_json::from_value(serde_json::json!({
            "service": "payments", "version": "v1.4.2", "environment": "prod"
        }))
        .unwrap();
        assert!(spec.validate("spec").is_empty());
        assert_eq!(spec.status, DeploymentStatus::Started);
        assert_eq!(spec.source, DeploymentSource::Api);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut spec = DeploymentSpec::new("", &"v".repeat(129), &"e".repeat(65));
        spec.commit = Some("c".repeat(65));
        spec.git_ref = Some("r".repeat(257));
        spec.url = Some("ftp://ci/run/1".into());
        spec.selector = Some("a in (".into());
        spec.mute = Some(Duration::from_secs(86_401));
        assert_eq!(
            fields(&spec),
            [
                "spec.service",
                "spec.version",
                "spec.environment",
                "spec.commit",
                "spec.ref",
                "spec.url",
                "spec.selector",
                "spec.mute"
            ]
        );
    }

    #[test]
    fn a_mute_needs_a_selector_and_becomes_a_one_off_window() {
        let mut spec = DeploymentSpec::new("payments", "v1", "prod");
        spec.mute = Some(Duration::from_secs(600));
        assert_eq!(fields(&spec), ["spec.mute"]);
        spec.selector = Some("service=payments".into());
        assert!(fields(&spec).is_empty());
        assert!(spec.mute_window().is_none(), "no start yet");
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        spec.started_at = Some(start);
        let window = spec.mute_window().unwrap();
        assert!(window.validate("").is_empty());
        assert_eq!(window.end, Some(start + chrono::Duration::minutes(10)));
    }

    #[test]
    fn a_started_deployment_has_no_finish() {
        let mut spec = DeploymentSpec::new("payments", "v1", "prod");
        spec.finished_at = Some(Utc::now());
        assert_eq!(fields(&spec), ["spec.finished_at"]);
    }

    #[test]
    fn a_reference_says_how_long_after_the_deployment() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut spec = DeploymentSpec::new("payments", "v1.4.2", "prod");
        spec.started_at = Some(start);
        let r = spec.reference("payments-v1-4-2-prod");
        assert_eq!(
            r.describe(start + chrono::Duration::seconds(130)),
            "down 2 min after payments v1.4.2 to prod"
        );
        assert_eq!(
            r.describe(start + chrono::Duration::seconds(5)),
            "down 5 s after payments v1.4.2 to prod"
        );
    }
}
