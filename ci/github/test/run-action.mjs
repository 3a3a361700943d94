// Runs a bundled action the way the GitHub runner does: `node dist/…js` with INPUT_* variables
// (upper-cased names, spaces as underscores, dashes kept) and the runner's file variables.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const actionsRoot = path.resolve(here, "..");

/** Parses a GITHUB_OUTPUT / GITHUB_STATE file (`name<<delimiter` blocks). */
export function parseFileCommands(text) {
  const values = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (!m) continue;
    const value = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]);
    values[m[1]] = value.join("\n");
  }
  return values;
}

/**
 * Runs `script` (relative to ci/github) with `inputs`; resolves to
 * {code, stdout, stderr, outputs, state, summary}. The runner's files are removed afterwards.
 */
export async function runAction(script, inputs, { env = {}, state = {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "vedette-gh-"));
  const files = { GITHUB_OUTPUT: "output", GITHUB_STATE: "state", GITHUB_STEP_SUMMARY: "summary" };
  const runnerEnv = {};
  for (const [name, file] of Object.entries(files)) {
    runnerEnv[name] = path.join(dir, file);
    writeFileSync(runnerEnv[name], "");
  }
  const inputEnv = {};
  for (const [name, value] of Object.entries(inputs)) {
    inputEnv[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  const stateEnv = {};
  for (const [name, value] of Object.entries(state)) {
    stateEnv[`STATE_${name}`] = value;
  }
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("INPUT_") && !k.startsWith("GITHUB_") && !k.startsWith("STATE_")));
  const child = spawn(process.execPath, [path.join(actionsRoot, script)], {
    env: { ...base, ...runnerEnv, ...inputEnv, ...stateEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  const result = {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(readFileSync(runnerEnv.GITHUB_OUTPUT, "utf8")),
    state: parseFileCommands(readFileSync(runnerEnv.GITHUB_STATE, "utf8")),
    summary: readFileSync(runnerEnv.GITHUB_STEP_SUMMARY, "utf8"),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}
