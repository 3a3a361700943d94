// The committed action metadata and bundles: the contract's inputs and outputs are declared, and
// the dist/ folders are what the sources build to (a stale bundle or stub fails here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { actionsRoot } from "./run-action.mjs";

/** The keys of a top-level mapping (`inputs:` or `outputs:`) of an action.yml. */
function keys(yaml, section) {
  const lines = yaml.split("\n");
  const start = lines.indexOf(`${section}:`);
  assert.ok(start >= 0, `no ${section}: section`);
  const found = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^ {2}([a-z-]+):\s*$/.exec(line);
    if (m) found.push(m[1]);
  }
  return found;
}

test("verify/action.yml declares the contract's inputs and outputs and runs on node24", () => {
  const yaml = readFileSync(path.join(actionsRoot, "verify", "action.yml"), "utf8");
  assert.deepEqual(keys(yaml, "inputs"), ["url", "token", "selector", "ids", "consecutive", "timeout", "run-now", "fail-fast", "deployment", "junit"]);
  assert.deepEqual(keys(yaml, "outputs"), ["outcome", "verification-id", "failed-monitors"]);
  assert.match(yaml, /^ {2}using: node24$/m);
  assert.match(yaml, /^ {2}main: dist\/index\.js$/m);
});

test("deployment/action.yml declares the contract's inputs and outputs, with main and post", () => {
  const yaml = readFileSync(path.join(actionsRoot, "deployment", "action.yml"), "utf8");
  const inputs = keys(yaml, "inputs");
  for (const name of ["url", "token", "service", "version", "environment", "commit", "ref", "run-url", "selector", "mute", "labels"]) {
    assert.ok(inputs.includes(name), `input ${name} missing`);
  }
  assert.deepEqual(keys(yaml, "outputs"), ["deployment-id"]);
  assert.match(yaml, /^ {4}default: \$\{\{ job\.status \}\}$/m);
  assert.match(yaml, /^ {2}main: dist\/main\.js$/m);
  assert.match(yaml, /^ {2}post: dist\/post\.js$/m);
});

test("the committed bundle and entry stubs are up to date with the sources", () => {
  const out = mkdtempSync(path.join(tmpdir(), "vedette-gh-dist-"));
  try {
    execFileSync(process.execPath, [path.join(actionsRoot, "build.mjs"), out], { stdio: "inherit" });
    for (const file of ["dist/actions.js", "verify/dist/index.js", "deployment/dist/main.js", "deployment/dist/post.js"]) {
      const fresh = readFileSync(path.join(out, file), "utf8");
      const committed = readFileSync(path.join(actionsRoot, file), "utf8");
      assert.ok(fresh === committed, `${file} is stale: run 'npm run build' in ci/github and commit the dist/ folders`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the examples pass only declared inputs, and every required one, to the actions", () => {
  // actionlint checks the local uses (./ci/github/...) of .github/workflows; the examples use the
  // published path, which it cannot resolve, so their inputs are checked here.
  const actions = {};
  for (const name of ["verify", "deployment"]) {
    actions[name] = parse(readFileSync(path.join(actionsRoot, name, "action.yml"), "utf8"));
  }
  const dir = path.join(actionsRoot, "examples");
  let uses = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yml"))) {
    const workflow = parse(readFileSync(path.join(dir, file), "utf8"));
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps) {
        const m = /^vedette-dev\/vedette\/ci\/github\/(\w+)@v1$/.exec(step.uses ?? "");
        if (!m) continue;
        uses++;
        const action = actions[m[1]];
        assert.ok(action, `${file}: unknown action ${step.uses}`);
        for (const input of Object.keys(step.with ?? {})) {
          assert.ok(input in action.inputs, `${file}: ${m[1]} has no input ${input}`);
        }
        for (const [input, decl] of Object.entries(action.inputs)) {
          assert.ok(!decl.required || input in (step.with ?? {}), `${file}: ${m[1]} needs ${input}`);
        }
      }
    }
  }
  assert.ok(uses >= 3, `the examples use the actions (${uses} uses found)`);
});
