// The GitHub Actions runner's conventions for a node action, written out rather than pulled in
// from @actions/core: inputs from INPUT_* variables, outputs/state/summary through the files the
// runner names (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY), workflow commands on stdout.

import { appendFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { VedetteError } from "../../js/src/client.js";

/** An input by its action.yml name: `INPUT_` + the name upper-cased, spaces as `_` (dashes kept). */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

/** Appends `name<<delimiter` blocks (multi-line safe) to the file a runner variable names. */
function appendKeyValue(variable: string, name: string, value: string): void {
  const file = process.env[variable];
  if (file === undefined || file === "") {
    throw new VedetteError("usage", `${variable} is not set: run this action inside a GitHub Actions job`);
  }
  const delimiter = `ghadelimiter_${randomUUID()}`;
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

/** Sets a step output (`steps.<id>.outputs.<name>`). */
export function setOutput(name: string, value: string): void {
  appendKeyValue("GITHUB_OUTPUT", name, value);
}

/** Keeps a value for this action's post step (read back with getState). */
export function saveState(name: string, value: string): void {
  appendKeyValue("GITHUB_STATE", name, value);
}

/** A value saved by saveState in the main step; "" when none. */
export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? "";
}

/** Adds markdown to the job summary; a no-op outside a runner (no GITHUB_STEP_SUMMARY). */
export function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file !== undefined && file !== "") {
    appendFileSync(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  }
}

function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** Prints an error annotation (shown on the run's summary page). */
export function error(message: string, title?: string): void {
  const props = title !== undefined ? ` title=${escapeProperty(title)}` : "";
  process.stdout.write(`::error${props}::${escapeData(message)}\n`);
}

/** Prints a notice annotation. */
export function notice(message: string, title?: string): void {
  const props = title !== undefined ? ` title=${escapeProperty(title)}` : "";
  process.stdout.write(`::notice${props}::${escapeData(message)}\n`);
}

/** Asks the runner to mask a secret in every later log line. */
export function setSecret(secret: string): void {
  if (secret !== "") {
    process.stdout.write(`::add-mask::${escapeData(secret)}\n`);
  }
}

/** Prints a plain log line. */
export function info(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs an action body: any error becomes an error annotation and a failed step (exit 1). */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    error(message, err instanceof VedetteError ? titleFor(err) : "Vedette action failed");
    process.exitCode = 1;
  }
}

function titleFor(err: VedetteError): string {
  switch (err.kind) {
    case "usage":
      return "Vedette: bad input";
    case "auth":
      return "Vedette: token rejected";
    case "connection":
      return "Vedette: server unreachable";
    case "timeout":
      return "Vedette: no result in time";
    default:
      return "Vedette: API error";
  }
}
