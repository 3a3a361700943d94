// The verify action, bundled, against a real `vedette serve` and monitors of a real HTTP target.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { useVedette, startTarget, createMonitor, closedPort } from "../../js/test-support/vedette.mjs";
import { runAction } from "./run-action.mjs";

const VERIFY = "verify/dist/index.js";

describe("verify action", () => {
  const server = useVedette();
  let target;
  before(async () => {
    target = await startTarget();
    await createMonitor(server, "pay-api", `${target.base}/ok`, { service: "pay", env: "ci" });
    await createMonitor(server, "pay-web", `${target.base}/ok`, { service: "pay", env: "ci" });
    await createMonitor(server, "cart-api", `${target.base}/down`, { service: "cart", env: "ci" });
  });
  after(async () => {
    await target?.stop();
  });
  const inputs = (extra) => ({ url: server.url, token: server.token, consecutive: "2", timeout: "30s", ...extra });

  test("passes when every selected monitor is healthy: outputs, job summary, JUnit file", async () => {
    const r = await runAction(VERIFY, inputs({ selector: "service=pay" }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs.outcome, "passed");
    assert.match(r.outputs["verification-id"], /\S/);
    assert.equal(r.outputs["failed-monitors"], "");
    assert.match(r.summary, /pay-api/);
    assert.match(r.summary, /pay-web/);
    assert.doesNotMatch(r.stdout, /::error/);
  });

  test("writes the JUnit report with one test case per monitor", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vedette-junit-"));
    const junitPath = path.join(dir, "junit.xml");
    const r = await runAction(VERIFY, inputs({ ids: "pay-api, pay-web", junit: junitPath }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const xml = readFileSync(junitPath, "utf8");
    assert.match(xml, /<testsuites/);
    assert.match(xml, /name="pay-api"/);
    assert.match(xml, /name="pay-web"/);
    assert.doesNotMatch(xml, /<failure/);
    rmSync(dir, { recursive: true, force: true });
  });

  test("fails the step on a down monitor, with an error annotation naming it", async () => {
    const r = await runAction(VERIFY, inputs({ selector: "service=cart", "fail-fast": "true", "run-now": "true" }));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.outcome, "failed");
    assert.equal(r.outputs["failed-monitors"], "cart-api");
    assert.match(r.stdout, /^::error title=Vedette%3A cart-api is down::.*503/m);
    assert.match(r.stdout, /^::error title=Vedette verification failed::/m);
    assert.match(r.summary, /cart-api/);
  });

  test("no monitor matching the selector is outcome no_monitors and a failed step", async () => {
    const r = await runAction(VERIFY, inputs({ selector: "service=nothing-here" }));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.outcome, "no_monitors");
    assert.match(r.stdout, /::error title=Vedette verification no monitors::/);
  });

  test("a verification that cannot reach its successes in time is timed_out and a failed step", async () => {
    const r = await runAction(VERIFY, inputs({ ids: "pay-api", consecutive: "100", timeout: "3s" }));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.outcome, "timed_out");
    assert.equal(r.outputs["failed-monitors"], "pay-api");
  });

  test("a bad token is a clear error and a failed step, never a pass", async () => {
    const r = await runAction(VERIFY, inputs({ selector: "service=pay", token: "vdt_not-a-real-token-0123456789abcdefghij" }));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^::error title=Vedette%3A token rejected::Vedette rejected the token \(401/m);
    assert.equal(r.outputs.outcome, undefined);
    // Only the mask command (which tells the runner to hide it) may carry the token.
    assert.doesNotMatch((r.stdout + r.stderr).replace(/^::add-mask::.*$/m, ""), /vdt_not-a-real-token/);
  });

  test("an unreachable server is a clear error and a failed step", async () => {
    const port = await closedPort();
    const r = await runAction(VERIFY, inputs({ url: `http://127.0.0.1:${port}`, selector: "service=pay" }));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^::error title=Vedette%3A server unreachable::cannot reach Vedette at http:\/\/127\.0\.0\.1:\d+\/api\/v1.*ECONNREFUSED/m);
  });

  test("bad inputs name the input and what was expected", async () => {
    const cases = [
      [{ selector: "service=pay", ids: "pay-api" }, /selector, ids: give exactly one of them/],
      [{}, /selector, ids: give exactly one of them/],
      [{ selector: "service=pay", consecutive: "many" }, /consecutive: expected a whole number from 1 to 100, got "many"/],
      [{ selector: "service=pay", timeout: "soon" }, /timeout: expected a duration such as 90s/],
      [{ selector: "service=pay", "fail-fast": "maybe" }, /fail-fast: expected true or false, got "maybe"/],
      [{ selector: "service=pay", url: "ftp://x" }, /url: expected an http or https URL/],
    ];
    for (const [extra, want] of cases) {
      const r = await runAction(VERIFY, inputs(extra));
      assert.equal(r.code, 1, JSON.stringify(extra));
      assert.match(r.stdout, /^::error title=Vedette%3A bad input::/m);
      assert.match(r.stdout, want);
    }
  });

  test("the server's problem+json answer is shown with its field errors", async () => {
    const r = await runAction(VERIFY, inputs({ selector: "service in (" }));
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^::error title=Vedette%3A API error::Vedette answered 4\d\d to POST \/verifications: .*selector/m);
  });
});
