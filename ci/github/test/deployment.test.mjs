// The deployment action (main records the start, post the finish after the job's status), bundled,
// against a real `vedette serve`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useVedette, api } from "../../js/test-support/vedette.mjs";
import { runAction } from "./run-action.mjs";

const runner = {
  GITHUB_SERVER_URL: "https://github.example.com",
  GITHUB_REPOSITORY: "acme/payments",
  GITHUB_RUN_ID: "4242",
  GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  GITHUB_REF: "refs/heads/main",
};

describe("deployment action", () => {
  const server = useVedette();

  /** Runs main, then post with the state main saved and the given job status. */
  async function deploy(inputs, jobStatus) {
    const main = await runAction("deployment/dist/main.js", { url: server.url, token: server.token, ...inputs }, { env: runner });
    assert.equal(main.code, 0, main.stdout + main.stderr);
    const post = await runAction(
      "deployment/dist/post.js",
      { url: server.url, token: server.token, ...inputs, "job-status": jobStatus },
      { env: runner, state: main.state },
    );
    return { main, post };
  }

  test("records the start with the run's defaults and the finish as succeeded", async () => {
    const { main, post } = await deploy(
      { service: "payments", version: "1.4.2", environment: "prod", labels: "team=core, tier=1", selector: "service=payments" },
      "success",
    );
    const id = main.outputs["deployment-id"];
    assert.match(id, /\S/);
    assert.equal(main.state["deployment-id"], id);
    assert.equal(post.code, 0, post.stdout + post.stderr);
    const got = await api(server, "GET", `/deployments/${encodeURIComponent(id)}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const d = got.body;
    assert.equal(d.spec.service, "payments");
    assert.equal(d.spec.version, "1.4.2");
    assert.equal(d.spec.environment, "prod");
    assert.equal(d.spec.source, "github");
    assert.equal(d.spec.commit, runner.GITHUB_SHA);
    assert.equal(d.spec.ref, runner.GITHUB_REF);
    assert.equal(d.spec.url, "https://github.example.com/acme/payments/actions/runs/4242");
    assert.equal(d.spec.selector, "service=payments");
    assert.deepEqual(d.labels, { team: "core", tier: "1" });
    assert.equal(d.spec.status, "succeeded");
    assert.ok(d.spec.finished_at, "finished_at set");
  });

  test("a failed job finishes the deployment as failed", async () => {
    const { main, post } = await deploy({ service: "payments", version: "1.4.3", environment: "prod", commit: "abc123", "run-url": "https://ci.example.com/run/7" }, "failure");
    assert.equal(post.code, 0, post.stdout + post.stderr);
    const d = (await api(server, "GET", `/deployments/${encodeURIComponent(main.outputs["deployment-id"])}`)).body;
    assert.equal(d.spec.status, "failed");
    assert.equal(d.spec.commit, "abc123");
    assert.equal(d.spec.url, "https://ci.example.com/run/7");
  });

  test("a cancelled job finishes the deployment as failed", async () => {
    const { main } = await deploy({ service: "payments", version: "1.4.4", environment: "staging" }, "cancelled");
    const d = (await api(server, "GET", `/deployments/${encodeURIComponent(main.outputs["deployment-id"])}`)).body;
    assert.equal(d.spec.status, "failed");
  });

  test("post does nothing when main started no deployment", async () => {
    const post = await runAction("deployment/dist/post.js", { url: server.url, token: server.token, "job-status": "success" });
    assert.equal(post.code, 0, post.stdout + post.stderr);
    assert.match(post.stdout, /nothing to finish/);
  });

  test("a missing required input fails the step naming it", async () => {
    const r = await runAction("deployment/dist/main.js", { url: server.url, token: server.token, service: "payments", version: "1" });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^::error title=Vedette%3A bad input::environment: is required/m);
    assert.equal(r.state["deployment-id"], undefined);
  });

  test("a bad mute duration fails the step naming the input", async () => {
    const r = await runAction("deployment/dist/main.js", { url: server.url, token: server.token, service: "s", version: "1", environment: "e", mute: "forever" });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /mute: expected a duration/);
  });

  test("a bad token fails main with a clear error", async () => {
    const r = await runAction("deployment/dist/main.js", { url: server.url, token: "vdt_wrong-token-0123456789abcdefghijklmn", service: "s", version: "1", environment: "e" });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Vedette rejected the token \(401/);
  });

  test("post fails loudly when the finish cannot be recorded", async () => {
    const post = await runAction(
      "deployment/dist/post.js",
      { url: server.url, token: server.token, "job-status": "success" },
      { state: { "deployment-id": "no-such-deployment" } },
    );
    assert.equal(post.code, 1);
    assert.match(post.stdout, /^::error title=Vedette%3A API error::Vedette answered 404 to POST \/deployments\/no-such-deployment\/finish/m);
  });
});
