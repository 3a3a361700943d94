// Reads a finished (or running) verification view for the pipeline log: progress lines, the
// monitors that failed and why. Pure functions over the server's view; no gate logic.

import type { MonitorProgress, VerificationView } from "./client.js";

/** One log line per monitor, e.g. `payments-api: up, 3 checks, 2/3 ok in a row`. */
export function progressLines(view: VerificationView): string[] {
  const want = view.spec.consecutive;
  return (view.status?.monitors ?? []).map((m) => {
    const parts = [`${m.state ?? "pending"}`, `${m.checks ?? 0} checks`];
    if (m.consecutive_ok !== undefined) {
      parts.push(`${m.consecutive_ok}${want !== undefined ? `/${want}` : ""} ok in a row`);
    }
    if (m.passed === true) {
      parts.push("passed");
    } else if (m.last_result?.ok === false) {
      parts.push(`failing: ${failureText(m)}`);
    }
    return `${m.id}: ${parts.join(", ")}`;
  });
}

/** A followVerification onProgress callback that logs the progress lines whenever they change. */
export function progressLogger(log: (text: string) => void): (view: VerificationView) => void {
  let last = "";
  return (view) => {
    const lines = progressLines(view).join("\n");
    if (lines !== last && lines !== "") {
      log(lines);
      last = lines;
    }
  };
}

/** Why a monitor failed: its failing assertions with actual values, else its last message. */
export function failureText(m: MonitorProgress): string {
  const failures = m.last_result?.failures ?? [];
  if (failures.length > 0) {
    return failures
      .map((f) => (f.actual !== undefined && f.actual !== null ? `${f.assertion} (actual: ${f.actual})` : f.assertion))
      .join("; ");
  }
  return m.last_result?.message ?? (m.passed === true ? "passed" : "no successful check in time");
}

/**
 * The monitors behind a non-passing outcome: those whose last check failed, and on a timeout also
 * those that did not reach their consecutive successes. Empty when the verification passed.
 */
export function failedMonitors(view: VerificationView): MonitorProgress[] {
  const state = view.status?.state;
  if (state === "passed") {
    return [];
  }
  const monitors = view.status?.monitors ?? [];
  const failing = monitors.filter(
    (m) => m.passed !== true && (m.last_result?.ok === false || m.state === "down" || state === "timed_out"),
  );
  return failing.length > 0 || state !== "failed" ? failing : monitors.filter((m) => m.passed !== true);
}

/** The one-line result of a verification, e.g. `failed: payments-api is down: …`. */
export function outcomeLine(view: VerificationView): string {
  const state = view.status?.state ?? "unknown";
  const reason = view.status?.reason;
  const count = view.status?.monitors?.length ?? 0;
  switch (state) {
    case "passed":
      return `Vedette verification ${view.id} passed (${count} monitor${count === 1 ? "" : "s"})`;
    case "no_monitors":
      return `Vedette verification ${view.id}: no monitor matched${view.spec.selector !== undefined ? ` the selector ${JSON.stringify(view.spec.selector)}` : " the ids"}; nothing was verified`;
    default:
      return `Vedette verification ${view.id} ${state.replace("_", " ")}${reason ? `: ${reason}` : ""}`;
  }
}
