//! Leader election with a `coordination.k8s.io/v1` Lease: one operator process reconciles, the
//! others wait. The holder renews the lease every third of its duration; a candidate takes it
//! over once it has not been renewed for a whole duration. Every write is conditional on the
//! lease's `resourceVersion`, so two candidates never both win. A holder that stops releases the
//! lease at once so that another takes over without waiting for it to expire.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::PostParams;

/// One candidate for a lease.
#[derive(Clone)]
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

/// What a renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// This candidate holds the lease.
    Yes,
    /// Another holds it.
    No,
}

impl Elector {
    /// A candidate `identity` for the lease `name` in `namespace`, held for `duration`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
            duration,
        }
    }

    /// How often the holder renews, and a candidate retries.
    pub fn retry_period(&self) -> Duration {
        self.duration / 3
    }

    /// Waits until this candidate holds the lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire().await {
                Ok(Held::Yes) => return,
                Ok(Held::No) => {}
                Err(e) => tracing::warn!(error = %e, lease = %self.name, "leader election"),
            }
            tokio::time::sleep(self.retry_period()).await;
        }
    }

    /// Takes or renews the lease if it is free, expired or already ours.
    pub async fn try_acquire(&self) -> Result<Held, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Held::Yes),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(Held::No),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let ours = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        let renewed = spec.renew_time.as_ref().map(|t| t.0);
        let held_for = spec
            .lease_duration_seconds
            .map(|s| SignedDuration::from_secs(i64::from(s)))
            .unwrap_or_default();
        let expired = match (spec.holder_identity.as_deref(), renewed) {
            (None | Some(""), _) | (_, None) => true,
            (_, Some(renewed)) => renewed + held_for < now,
        };
        if !ours && !expired {
            return Ok(Held::No);
        }
        let acquired = if ours {
            spec.acquire_time.map(|t| t.0).unwrap_or(now)
        } else {
            now
        };
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
        lease.spec = Some(self.spec(acquired, now, transitions));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Held::Yes),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Held::No),
            Err(e) => Err(e),
        }
    }

    /// Renews the lease every retry period until it is lost (renewals failing for a whole
    /// duration, or another holder); returns then.
    pub async fn hold(&self) {
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.retry_period()).await;
            match self.try_acquire().await {
                Ok(Held::Yes) => last_renewed = tokio::time::Instant::now(),
                Ok(Held::No) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "lease renewal failed");
                    if last_renewed.elapsed() >= self.duration {
                        return;
                    }
                }
            }
        }
    }

    /// Gives the lease up if this candidate holds it, so that another takes over at once.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        spec.acquire_time = None;
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await?;
        Ok(())
    }

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.duration.as_secs().max(1) as i32),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}
