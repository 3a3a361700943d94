// The extension's manifests, and the .vsix tfx-cli packages from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { extensionRoot } from "./task-harness.mjs";

const task = (name) => JSON.parse(readFileSync(path.join(extensionRoot, "tasks", name, "task.json"), "utf8"));

test("task.json inputs and outputs are the contract's, in Azure's camelCase", () => {
  const verify = task("VedetteVerify");
  assert.equal(verify.name, "VedetteVerify");
  assert.equal(verify.version.Major, 1);
  const inputs = verify.inputs.map((i) => i.name);
  for (const name of ["connection", "url", "token", "selector", "ids", "consecutive", "timeout", "runNow", "failFast", "deployment", "junit"]) {
    assert.ok(inputs.includes(name), `VedetteVerify input ${name}`);
  }
  assert.equal(verify.inputs.find((i) => i.name === "connection").type, "connectedService:vedette");
  assert.deepEqual(verify.outputVariables.map((o) => o.name), ["outcome", "verificationId", "failedMonitors"]);

  const deployment = task("VedetteDeployment");
  const dInputs = deployment.inputs.map((i) => i.name);
  for (const name of ["connection", "url", "token", "service", "version", "environment", "commit", "ref", "runUrl", "selector", "mute", "labels"]) {
    assert.ok(dInputs.includes(name), `VedetteDeployment input ${name}`);
  }
  assert.deepEqual(deployment.outputVariables.map((o) => o.name), ["deploymentId"]);
  assert.equal(deployment.postjobexecution.Node20_1.target, "dist/post.js");
});

test("tfx-cli packages a .vsix holding both tasks and the service connection type", () => {
  const out = mkdtempSync(path.join(tmpdir(), "vedette-vsix-"));
  try {
    const vsix = path.join(out, "vedette.vsix");
    execFileSync(
      path.join(extensionRoot, "node_modules", ".bin", "tfx"),
      ["extension", "create", "--manifest-globs", "vss-extension.json", "--output-path", vsix, "--no-prompt", "--no-color"],
      { cwd: extensionRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    assert.ok(existsSync(vsix), "the .vsix exists");
    // A zip's central directory names every entry in plain text.
    const zip = readFileSync(vsix).toString("latin1");
    for (const entry of [
      "tasks/VedetteVerify/task.json",
      "tasks/VedetteVerify/dist/index.js",
      "tasks/VedetteDeployment/task.json",
      "tasks/VedetteDeployment/dist/main.js",
      "tasks/VedetteDeployment/dist/post.js",
      "extension.vsomanifest",
    ]) {
      assert.ok(zip.includes(entry), `${entry} in the .vsix`);
    }
    const manifest = JSON.parse(readFileSync(path.join(extensionRoot, "vss-extension.json"), "utf8"));
    const endpoint = manifest.contributions.find((c) => c.type === "ms.vss-endpoint.service-endpoint-type");
    assert.equal(endpoint.properties.name, "vedette");
    assert.equal(endpoint.properties.authenticationSchemes[0].inputDescriptors[0].id, "apitoken");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the example pipeline passes only declared inputs, and every required one, to the tasks", () => {
  const pipeline = parse(readFileSync(path.join(extensionRoot, "examples", "azure-pipelines.yml"), "utf8"));
  const steps = pipeline.stages.flatMap((stage) => stage.jobs.flatMap((job) => job.steps));
  const used = steps.filter((s) => /^Vedette\w+@1$/.test(s.task ?? ""));
  assert.equal(used.length, 2);
  for (const step of used) {
    const declared = task(step.task.replace(/@1$/, "")).inputs;
    for (const name of Object.keys(step.inputs)) {
      assert.ok(declared.some((i) => i.name === name), `${step.task} has no input ${name}`);
    }
    for (const input of declared.filter((i) => i.required)) {
      assert.ok(input.name in step.inputs, `${step.task} needs ${input.name}`);
    }
  }
});
