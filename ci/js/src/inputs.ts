// Turns the front ends' string inputs (the same names on every platform) into API specs, with a
// clear error naming the input and what was expected. Defaults are left to the server.

import { VedetteError, type DeploymentSpec, type VerificationSpec } from "./client.js";

/** Reads one input by its contract name (`fail-fast`, `run-url`, …); "" when not given. */
export type InputReader = (name: string) => string;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DURATION_MS = 24 * 3_600_000;

/** Parses a duration such as `90s`, `5m`, `1h30m` into milliseconds (at most 24 h). */
export function parseDuration(field: string, raw: string): number {
  const text = raw.trim();
  const re = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (text === "" || matched !== text.length) {
    throw new VedetteError("usage", `${field}: expected a duration such as 90s, 5m or 1h30m, got ${JSON.stringify(raw)}`);
  }
  if (total <= 0 || total > MAX_DURATION_MS) {
    throw new VedetteError("usage", `${field}: must be more than 0 and at most 24h, got ${JSON.stringify(raw)}`);
  }
  return total;
}

/** Parses `true`/`false` (also yes/no, 1/0, any case); undefined when empty. */
export function parseBool(field: string, raw: string): boolean | undefined {
  const text = raw.trim().toLowerCase();
  if (text === "") {
    return undefined;
  }
  if (["true", "yes", "1", "on"].includes(text)) {
    return true;
  }
  if (["false", "no", "0", "off"].includes(text)) {
    return false;
  }
  throw new VedetteError("usage", `${field}: expected true or false, got ${JSON.stringify(raw)}`);
}

/** Parses an integer within bounds; undefined when empty. */
export function parseInteger(field: string, raw: string, min: number, max: number): number | undefined {
  const text = raw.trim();
  if (text === "") {
    return undefined;
  }
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new VedetteError("usage", `${field}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(text);
}

/** Splits a comma/space/newline separated list, dropping empty items. */
export function parseList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((item) => item !== "");
}

/** Parses labels written `k=v`, separated by commas or newlines. */
export function parseLabels(field: string, raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of raw.split(/[\n,]+/).map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new VedetteError("usage", `${field}: expected key=value pairs separated by commas or newlines, got ${JSON.stringify(item)}`);
    }
    labels[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return labels;
}

/** The verification to create and how long the front end follows it. */
export interface VerifyRequest {
  spec: VerificationSpec;
  /** The verification's timeout in milliseconds (the server default, 5m, when not given). */
  timeoutMs: number;
}

/** Builds a verification spec from the contract's inputs (selector, ids, consecutive, …). */
export function verifyRequest(input: InputReader): VerifyRequest {
  const selector = input("selector").trim();
  const ids = parseList(input("ids"));
  if (selector !== "" && ids.length > 0) {
    throw new VedetteError("usage", "selector, ids: give exactly one of them, not both");
  }
  if (selector === "" && ids.length === 0) {
    throw new VedetteError("usage", "selector, ids: give exactly one of them (a label selector such as service=payments, or monitor ids)");
  }
  const spec: VerificationSpec = selector !== "" ? { selector } : { ids };
  const consecutive = parseInteger("consecutive", input("consecutive"), 1, 100);
  if (consecutive !== undefined) {
    spec.consecutive = consecutive;
  }
  let timeoutMs = 5 * 60_000;
  const timeout = input("timeout").trim();
  if (timeout !== "") {
    timeoutMs = parseDuration("timeout", timeout);
    spec.timeout = timeout;
  }
  const runNow = parseBool("run-now", input("run-now"));
  if (runNow !== undefined) {
    spec.run_now = runNow;
  }
  const failFast = parseBool("fail-fast", input("fail-fast"));
  if (failFast !== undefined) {
    spec.fail_fast = failFast;
  }
  const deployment = input("deployment").trim();
  if (deployment !== "") {
    spec.deployment = deployment;
  }
  return { spec, timeoutMs };
}

/** The deployment to record. */
export interface DeploymentRequest {
  spec: DeploymentSpec;
  labels: Record<string, string>;
}

/** Builds a deployment spec from the contract's inputs; `source` names the front end. */
export function deploymentRequest(input: InputReader, source: NonNullable<DeploymentSpec["source"]>): DeploymentRequest {
  const required = (name: string): string => {
    const value = input(name).trim();
    if (value === "") {
      throw new VedetteError("usage", `${name}: is required`);
    }
    return value;
  };
  const spec: DeploymentSpec = {
    service: required("service"),
    version: required("version"),
    environment: required("environment"),
    source,
  };
  const optional: [string, keyof DeploymentSpec][] = [
    ["commit", "commit"],
    ["ref", "ref"],
    ["run-url", "url"],
    ["selector", "selector"],
  ];
  for (const [name, key] of optional) {
    const value = input(name).trim();
    if (value !== "") {
      (spec as unknown as Record<string, string>)[key] = value;
    }
  }
  const mute = input("mute").trim();
  if (mute !== "") {
    parseDuration("mute", mute);
    spec.mute = mute;
  }
  return { spec, labels: parseLabels("labels", input("labels")) };
}

/** Maps a CI platform's job result to a deployment's final status. */
export function finishStatus(jobStatus: string): "succeeded" | "failed" {
  const s = jobStatus.trim().toLowerCase();
  return s === "success" || s === "succeeded" || s === "succeededwithissues" ? "succeeded" : "failed";
}
