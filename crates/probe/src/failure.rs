//! The error every protocol probe returns: a reason from the closed set, a human message and
//! whatever was observed before the failure.

use std::time::Instant;

use vedette_model::{FailureReason, Observation};

/// A failed probe: why, in words, and the partial observation (phases so far, the certificate
/// when the handshake got that far).
#[derive(Debug, Clone)]
pub struct Failure {
    /// Why the probe failed.
    pub reason: FailureReason,
    /// Human summary, e.g. `connection refused by 127.0.0.1:8080`.
    pub message: String,
    /// What was observed before the failure.
    pub observation: Observation,
}

impl Failure {
    /// A failure with the given observation as it stands.
    pub fn new(
        reason: FailureReason,
        message: impl Into<String>,
        observation: Observation,
    ) -> Self {
        Self {
            reason,
            message: message.into(),
            observation,
        }
    }
}

/// Milliseconds elapsed since `start`, as a float with sub-millisecond precision.
pub(crate) fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// An observation under construction: it knows when the probe started so that every failure
/// carries the total time spent.
pub(crate) struct Trace {
    start: Instant,
    /// The observation so far.
    pub(crate) obs: Observation,
}

impl Trace {
    /// Starts timing a probe whose wall-clock start is `started_at`.
    pub(crate) fn start(started_at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            start: Instant::now(),
            obs: Observation {
                started_at,
                ..Observation::default()
            },
        }
    }

    /// Adds `ms` to a phase (phases add up across redirect hops).
    pub(crate) fn add(slot: &mut Option<f64>, ms: f64) {
        *slot = Some(slot.unwrap_or(0.0) + ms);
    }

    /// A failure carrying the observation so far, with `total_ms` filled in.
    pub(crate) fn fail(&self, reason: FailureReason, message: impl Into<String>) -> Failure {
        let mut observation = self.obs.clone();
        observation.phases.total_ms = ms_since(self.start);
        Failure::new(reason, message, observation)
    }

    /// The finished observation, with `total_ms` filled in.
    pub(crate) fn finish(mut self) -> Observation {
        self.obs.phases.total_ms = ms_since(self.start);
        self.obs
    }
}
