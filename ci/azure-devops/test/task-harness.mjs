// Runs a bundled task under azure-pipelines-task-lib's MockTestRunner. The runner normally
// downloads a node build for the handler named in task.json; here its nodePath is set to the
// node running the tests (process.execPath), so nothing is downloaded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mockTest from "azure-pipelines-task-lib/mock-test.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const extensionRoot = path.resolve(here, "..");

/** Parses `##vso[task.setvariable …]` (and settaskvariable) lines into {name: value}. */
function variables(stdout, command) {
  const found = {};
  const re = new RegExp(`##vso\\[${command} ([^\\]]*)\\](.*)$`, "gm");
  for (const m of stdout.matchAll(re)) {
    const props = Object.fromEntries(m[1].split(";").filter(Boolean).map((p) => p.split("=")));
    found[props.variable] = m[2];
  }
  return found;
}

/**
 * Runs `task` (e.g. "VedetteVerify/dist/index.js") with `inputs` and extra environment `env`
 * (endpoints, agent variables); resolves to the runner plus its output and task variables.
 */
export async function runTask(task, inputs, env = {}) {
  const taskDir = task.split("/")[0];
  const tr = new mockTest.MockTestRunner(path.join(here, "run-task.mjs"), path.join(extensionRoot, "tasks", taskDir, "task.json"));
  // With nodePath set, LoadAsync returns at once instead of downloading a node build.
  tr.nodePath = process.execPath;
  await tr.LoadAsync();
  const saved = { ...process.env };
  // The agent's temporary directory (the summary goes there), unless the test gives its own.
  const agentTemp = env.AGENT_TEMPDIRECTORY ? undefined : mkdtempSync(path.join(tmpdir(), "vedette-agent-"));
  Object.assign(process.env, agentTemp ? { AGENT_TEMPDIRECTORY: agentTemp } : {}, env, {
    VEDETTE_TEST_SCRIPT: path.join(extensionRoot, "tasks", task),
    VEDETTE_TEST_INPUTS: JSON.stringify(inputs),
  });
  try {
    await tr.runAsync();
  } finally {
    for (const key of Object.keys(process.env)) {
      if (!(key in saved)) delete process.env[key];
    }
    Object.assign(process.env, saved);
    if (agentTemp) rmSync(agentTemp, { recursive: true, force: true });
  }
  return {
    tr,
    outputs: variables(tr.stdout, "task.setvariable"),
    taskVariables: variables(tr.stdout, "task.settaskvariable"),
  };
}
