//! `GET /slo`: error budgets. For an availability target over a window ending at `to`, each
//! picked monitor's uptime, the share of its error budget left, its burn rate and the budget
//! spent over the window, computed from rollups like `/series`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_store::Bucket;

use super::ApiState;
use super::extract::Params;
use super::problem::{ApiResult, Problem};
use super::series::{MAX_POINTS, buckets, parse_step, select_monitors};

/// Target when `?target=` is absent, in percent.
const DEFAULT_TARGET: f64 = 99.9;
/// Window when `?window=` is absent.
const DEFAULT_WINDOW: &str = "30d";
/// Burn window when `?burn_window=` is absent.
const DEFAULT_BURN_WINDOW: &str = "1h";
/// Step of `budget_spent` when `?step=` is absent.
const DEFAULT_STEP: &str = "1d";
/// Longest window: rollups at day resolution reach about that far.
const MAX_WINDOW_DAYS: i64 = 400;

/// The answer of `GET /slo`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SloResponse {
    /// The availability target, in percent.
    target: f64,
    /// Length of the window.
    #[schemars(example = &"30d")]
    window: String,
    /// Start of the window (`to` minus the window).
    from: DateTime<Utc>,
    /// End of the window.
    to: DateTime<Utc>,
    /// Length of each `budget_spent` bucket.
    step: String,
    /// The recent span the burn rate is measured over, ending at `to`.
    burn_window: String,
    /// One entry per monitor, by id.
    monitors: Vec<SloMonitor>,
}

/// One monitor's error budget.
#[derive(Debug, Serialize, JsonSchema)]
struct SloMonitor {
    /// The monitor.
    monitor_id: String,
    /// Checks made in the window.
    checks: u64,
    /// Checks down outside maintenance in the window.
    failures: u64,
    /// Share of the checks outside maintenance that did not fail, 0 to 1; null without checks.
    uptime: Option<f64>,
    /// Share of the error budget left, 1 when no check failed, below 0 when overspent; null
    /// without checks outside maintenance.
    budget_remaining: Option<f64>,
    /// How fast the budget burns over the burn window: its failure share divided by the
    /// share the target allows (1 spends the budget exactly over the window); null without
    /// checks in the burn window.
    burn_rate: Option<f64>,
    /// Share of the window's budget spent by the end of each bucket, oldest first; null
    /// while there is no budget (no checks outside maintenance in the window).
    budget_spent: Vec<BudgetPoint>,
}

/// The budget spent by the end of one bucket.
#[derive(Debug, Serialize, JsonSchema)]
struct BudgetPoint {
    /// Start of the bucket, which lasts one step.
    start: DateTime<Utc>,
    /// Failures up to the end of the bucket over the failures the target allows in the
    /// window so far.
    spent: Option<f64>,
}

/// `?name=` (or `default`): whole minutes up to [`MAX_WINDOW_DAYS`], as text and duration.
fn parse_duration(params: &Params, name: &str, default: &str) -> ApiResult<(String, Duration)> {
    let text = params.get(name).unwrap_or(default);
    let invalid = || {
        Problem::invalid(
            name,
            format!(
                "expected a whole number of minutes up to {MAX_WINDOW_DAYS}d, such as 1h or 30d"
            ),
        )
    };
    let parsed: vedette_model::Duration = text.parse().map_err(|_| invalid())?;
    let ms = i64::try_from(parsed.as_millis()).map_err(|_| invalid())?;
    if ms < 60_000 || ms % 60_000 != 0 || ms > Duration::days(MAX_WINDOW_DAYS).num_milliseconds() {
        return Err(invalid());
    }
    Ok((parsed.to_string(), Duration::milliseconds(ms)))
}

fn parse_target(params: &Params) -> ApiResult<f64> {
    let Some(text) = params.get("target") else {
        return Ok(DEFAULT_TARGET);
    };
    match text.parse::<f64>() {
        Ok(t) if t > 0.0 && t < 100.0 => Ok(t),
        _ => Err(Problem::invalid(
            "target",
            "expected a percentage above 0 and below 100, such as 99.9",
        )),
    }
}

/// The share of `allowed` failures that `failures` is; `None` when nothing is allowed.
fn share(failures: u64, allowed: f64) -> Option<f64> {
    (allowed > 0.0).then(|| failures as f64 / allowed)
}

/// `GET /slo?selector=&ids=&target=&window=&to=&step=&burn_window=`.
pub async fn get(State(state): State<ApiState>, params: Params) -> ApiResult<Json<SloResponse>> {
    let now = Utc::now();
    let target = parse_target(&params)?;
    let (window_text, window) = parse_duration(&params, "window", DEFAULT_WINDOW)?;
    let (burn_text, burn_window) = parse_duration(&params, "burn_window", DEFAULT_BURN_WINDOW)?;
    if burn_window > window {
        return Err(Problem::invalid(
            "burn_window",
            "must not be longer than window",
        ));
    }
    let (step_text, step) = parse_step(&params, DEFAULT_STEP)?;
    let to = params.time("to", now, now)?;
    let from = to - window;
    let monitors = select_monitors(&state, &params)?;
    let (start, count) = buckets(from, to, step, monitors.len(), MAX_POINTS)?;
    let allowed_share = 1.0 - target / 100.0;
    let store = state.engine.store();

    let mut out = Vec::with_capacity(monitors.len());
    for monitor_id in monitors {
        let total = store.summary(&monitor_id, from, to).await?;
        let recent = store.summary(&monitor_id, to - burn_window, to).await?;
        let allowed = allowed_share * total.checks.saturating_sub(total.maintenance) as f64;
        let stored = store.series(&monitor_id, from, to, step).await?;
        let mut stored = stored.into_iter().peekable();
        let mut failures = 0;
        let mut budget_spent = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for i in 0..count {
            let at = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            if let Some(bucket) = stored.next_if(|b: &Bucket| b.start == at) {
                failures += bucket.failures;
            }
            budget_spent.push(BudgetPoint {
                start: at,
                spent: share(failures, allowed),
            });
        }
        let burn_rate = recent.uptime().map(|uptime| (1.0 - uptime) / allowed_share);
        out.push(SloMonitor {
            monitor_id,
            checks: total.checks,
            failures: total.failures,
            uptime: total.uptime(),
            budget_remaining: share(total.failures, allowed).map(|spent| 1.0 - spent),
            burn_rate,
            budget_spent,
        });
    }
    Ok(Json(SloResponse {
        target,
        window: window_text,
        from,
        to,
        step: step_text,
        burn_window: burn_text,
        monitors: out,
    }))
}
