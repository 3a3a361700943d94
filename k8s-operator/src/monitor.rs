//! `Monitor` through the shared reconcile ([`crate::controller`]): the spec is the model's
//! monitor document, the Vedette monitor carries labels naming its resource, a heartbeat's
//! generated push token is kept, and the status reports what Vedette says about the monitor
//! (state, last result, incident, 24 h uptime) with the `Ready`, `Synced` and `Degraded`
//! conditions. The status is kept live by [`crate::follow`] waking the resource when Vedette
//! reports about its monitor, never by polling each monitor.

use std::collections::BTreeMap;

use kube::{Resource, ResourceExt};
use vedette_client::{Kind, SeriesQuery};
use vedette_model::record::labels::MANAGED_BY;
use vedette_model::{Audience, Check, MonitorSpec, Redact};

use crate::controller::{Context, Error, Mirrored, Spec, decode};
use crate::crd::{MANAGER, Monitor, MonitorStatus};
use crate::status::{self, NotSynced};

/// Label on a monitor naming the namespace of the resource it mirrors.
pub const NAMESPACE_LABEL: &str = "k8s.vedette.dev/namespace";
/// Label on a monitor naming the resource it mirrors.
pub const NAME_LABEL: &str = "k8s.vedette.dev/name";
/// How often a pending monitor is looked at until its first verdict while the event stream,
/// which announces it, is down.
const PENDING_LOOK_AGAIN: std::time::Duration = std::time::Duration::from_secs(2);

impl Mirrored for Monitor {
    type Remote = vedette_client::Monitor;
    const NOUN: &'static str = "monitor";
    const FEED_KIND: &'static str = "monitors";

    async fn desired(&self, _: &Context) -> Result<Result<MonitorSpec, NotSynced>, Error> {
        Ok(decode(self.document()))
    }

    fn remote_labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([(MANAGED_BY.to_owned(), MANAGER.to_owned())]);
        // Label values hold at most 63 characters; a longer name is still found through the id.
        for (key, value) in [
            (NAMESPACE_LABEL, self.namespace().unwrap_or_default()),
            (NAME_LABEL, self.name_any()),
        ] {
            if value.len() <= 63 {
                labels.insert(key.to_owned(), value);
            }
        }
        labels
    }

    fn in_sync(
        &self,
        desired: &mut MonitorSpec,
        stored: &vedette_client::Monitor,
        synced: bool,
    ) -> bool {
        keep_generated(desired, &stored.spec);
        in_sync(desired, &stored.spec, synced)
    }

    /// While pending, the first verdict is awaited: the event stream announces it
    /// (`resource.status`); when the stream is down, look again.
    fn look_again(status: &MonitorStatus) -> Option<std::time::Duration> {
        let synced = status
            .conditions
            .iter()
            .any(|c| c.type_ == "Synced" && c.status == "True");
        (synced && status.state.as_deref().is_none_or(|s| s == "pending"))
            .then_some(PENDING_LOOK_AGAIN)
    }

    fn created(created: <Self::Remote as Kind>::Created) -> Self::Remote {
        created
    }

    async fn report(
        &self,
        id: &str,
        outcome: Result<&vedette_client::Monitor, &NotSynced>,
        _: Option<&Spec<Self>>,
        ctx: &Context,
    ) -> MonitorStatus {
        let uptime = match outcome {
            Ok(_) => uptime(ctx, id).await,
            Err(_) => None,
        };
        status::build(
            self.meta().generation,
            id,
            outcome,
            uptime,
            self.status.as_ref(),
        )
    }
}

/// Keeps what the server generated and the resource leaves out: a heartbeat's push token.
fn keep_generated(desired: &mut MonitorSpec, current: &MonitorSpec) {
    if let (Check::Heartbeat(want), Check::Heartbeat(have)) = (&mut desired.check, &current.check)
        && want.token.is_none()
    {
        want.token.clone_from(&have.token);
    }
}

/// Whether the stored spec (its credentials shown as `********`) is the desired one. Credentials
/// cannot be compared: a spec holding some is in sync only if the resource was synced at this
/// generation (an edit of the resource writes them again).
fn in_sync(desired: &MonitorSpec, stored: &MonitorSpec, synced_this_generation: bool) -> bool {
    let redacted = desired.clone().redacted(Audience::Writer);
    redacted == *stored && (redacted == *desired || synced_this_generation)
}

/// Uptime of monitor `id` over the last 24 hours, when Vedette has results for it.
async fn uptime(ctx: &Context, id: &str) -> Option<f64> {
    let query = SeriesQuery {
        ids: Some(id.to_owned()),
        from: Some("-24h".to_owned()),
        step: Some("1h".to_owned()),
        metrics: Some("uptime".to_owned()),
        ..SeriesQuery::default()
    };
    ctx.metrics.vedette_calls(1);
    match ctx.vedette.series(&query).await {
        Ok(series) => series
            .series
            .iter()
            .find(|s| s.monitor_id == id)
            .and_then(|s| status::uptime(&s.buckets)),
        Err(e) => {
            tracing::debug!(monitor = id, error = %e, "no uptime");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use vedette_model::spec::{HttpAuth, HttpCheck, Secret};

    use super::*;

    fn with_password(password: &str) -> MonitorSpec {
        let mut http = HttpCheck::get("https://example.com/");
        http.auth = Some(HttpAuth::Bearer {
            token: Secret(password.to_owned()),
        });
        MonitorSpec::new(http)
    }

    #[test]
    fn credentials_shown_redacted_are_in_sync_only_at_a_synced_generation() {
        let desired = with_password("s3cret");
        let stored = with_password(vedette_model::REDACTED);
        assert!(in_sync(&desired, &stored, true));
        assert!(!in_sync(&desired, &stored, false));
        let plain = MonitorSpec::http("https://example.com/");
        assert!(in_sync(&plain, &plain, false));
        assert!(!in_sync(
            &plain,
            &MonitorSpec::http("https://example.com/x"),
            true
        ));
    }

    #[test]
    fn a_generated_push_token_is_kept() {
        let mut desired = MonitorSpec::new(vedette_model::spec::HeartbeatCheck {
            schedule: None,
            grace: vedette_model::Duration::from_secs(60),
            token: None,
        });
        let mut stored = desired.clone();
        if let Check::Heartbeat(h) = &mut stored.check {
            h.token = Some(Secret("generated".into()));
        }
        keep_generated(&mut desired, &stored);
        assert_eq!(desired, stored);
    }
}
