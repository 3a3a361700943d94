// Task VedetteVerify@1, bundled, under MockTestRunner against a real `vedette serve`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { useVedette, startTarget, createMonitor, closedPort } from "../../js/test-support/vedette.mjs";
import { runTask } from "./task-harness.mjs";

const TASK = "VedetteVerify/dist/index.js";
const CONN = "vedette-conn";

describe("VedetteVerify@1", () => {
  const server = useVedette();
  let target;
  let endpoint;
  before(async () => {
    target = await startTarget();
    await createMonitor(server, "pay-api", `${target.base}/ok`, { service: "pay" });
    await createMonitor(server, "cart-api", `${target.base}/down`, { service: "cart" });
    // A `vedette` service connection as the agent hands it to a task.
    endpoint = {
      [`ENDPOINT_URL_${CONN}`]: server.url,
      [`ENDPOINT_AUTH_${CONN}`]: JSON.stringify({ scheme: "Token", parameters: { apitoken: server.token } }),
      [`ENDPOINT_AUTH_PARAMETER_${CONN}_APITOKEN`]: server.token,
      [`ENDPOINT_AUTH_SCHEME_${CONN}`]: "Token",
    };
  });
  after(async () => {
    await target?.stop();
  });

  test("passes through a service connection: output variables, summary, published JUnit", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vedette-az-"));
    const junit = path.join(dir, "junit.xml");
    const { tr, outputs } = await runTask(
      TASK,
      { connection: CONN, selector: "service=pay", consecutive: "2", timeout: "30s", junit, publishTestResults: "true" },
      { ...endpoint, AGENT_TEMPDIRECTORY: dir },
    );
    assert.ok(tr.succeeded, tr.stdout + tr.stderr);
    assert.equal(outputs.outcome, "passed");
    assert.match(outputs.verificationId, /\S/);
    assert.equal(outputs.failedMonitors, "");
    assert.match(tr.stdout, /##vso\[task.setvariable variable=outcome;isOutput=true;issecret=false;\]passed/);
    const summary = /##vso\[task.uploadsummary\](.*)$/m.exec(tr.stdout);
    assert.ok(summary, "a summary is uploaded");
    assert.match(readFileSync(summary[1].trim(), "utf8"), /pay-api/);
    assert.match(readFileSync(junit, "utf8"), /name="pay-api"/);
    assert.match(tr.stdout, /##vso\[results.publish [^\]]*type=JUnit[^\]]*\]/);
    assert.equal(tr.errorIssues.length, 0, tr.errorIssues.join("\n"));
    rmSync(dir, { recursive: true, force: true });
  });

  test("fails on a down monitor with url/token inputs, naming the monitor", async () => {
    const { tr, outputs } = await runTask(TASK, { url: server.url, token: server.token, ids: "cart-api", consecutive: "2", timeout: "30s", failFast: "true" });
    assert.ok(tr.failed, tr.stdout);
    assert.equal(outputs.outcome, "failed");
    assert.equal(outputs.failedMonitors, "cart-api");
    assert.ok(tr.errorIssues.some((e) => /^Vedette: cart-api is down: .*503/.test(e)), tr.errorIssues.join("\n"));
  });

  test("no monitor matching is outcome no_monitors and a failed task", async () => {
    const { tr, outputs } = await runTask(TASK, { connection: CONN, selector: "service=none" }, endpoint);
    assert.ok(tr.failed, tr.stdout);
    assert.equal(outputs.outcome, "no_monitors");
  });

  test("a verification that cannot reach its successes in time is timed_out and a failed task", async () => {
    const { tr, outputs } = await runTask(TASK, { connection: CONN, ids: "pay-api", consecutive: "100", timeout: "3s" }, endpoint);
    assert.ok(tr.failed, tr.stdout);
    assert.equal(outputs.outcome, "timed_out");
    assert.equal(outputs.failedMonitors, "pay-api");
  });

  test("a bad token fails the task with a clear error", async () => {
    const { tr, outputs } = await runTask(TASK, { url: server.url, token: "vdt_not-a-real-token-0123456789abcdefghij", selector: "service=pay" });
    assert.ok(tr.failed);
    assert.equal(outputs.outcome, undefined);
    assert.ok(tr.errorIssues.some((e) => /Vedette rejected the token \(401/.test(e)), tr.errorIssues.join("\n"));
  });

  test("an unreachable server fails the task with a clear error", async () => {
    const port = await closedPort();
    const { tr } = await runTask(TASK, { url: `http://127.0.0.1:${port}`, token: server.token, selector: "service=pay" });
    assert.ok(tr.failed);
    assert.ok(tr.errorIssues.some((e) => /cannot reach Vedette at .*ECONNREFUSED/.test(e)), tr.errorIssues.join("\n"));
  });

  test("no service connection and no url is a usage error naming the inputs", async () => {
    const { tr } = await runTask(TASK, { selector: "service=pay" });
    assert.ok(tr.failed);
    assert.ok(tr.errorIssues.some((e) => /connection: give a vedette service connection, or the url and token inputs/.test(e)), tr.errorIssues.join("\n"));
  });

  test("bad inputs name the Azure input at fault", async () => {
    const { tr } = await runTask(TASK, { connection: CONN, selector: "service=pay", runNow: "perhaps" }, endpoint);
    assert.ok(tr.failed);
    assert.ok(tr.errorIssues.some((e) => /run-now: expected true or false, got "perhaps"/.test(e)), tr.errorIssues.join("\n"));
  });
});
