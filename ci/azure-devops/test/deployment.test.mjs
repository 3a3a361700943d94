// Task VedetteDeployment@1 (main step, then post-job step after Agent.JobStatus), bundled, under
// MockTestRunner against a real `vedette serve`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useVedette, api } from "../../js/test-support/vedette.mjs";
import { runTask } from "./task-harness.mjs";

const agent = {
  SYSTEM_COLLECTIONURI: "https://dev.azure.example.com/acme/",
  SYSTEM_TEAMPROJECT: "Payments",
  BUILD_BUILDID: "77",
  BUILD_SOURCEVERSION: "89abcdef0123456789abcdef0123456789abcdef",
  BUILD_SOURCEBRANCH: "refs/heads/main",
};

describe("VedetteDeployment@1", () => {
  const server = useVedette();

  async function deploy(inputs, jobStatus) {
    const all = { url: server.url, token: server.token, ...inputs };
    const main = await runTask("VedetteDeployment/dist/main.js", all, agent);
    assert.ok(main.tr.succeeded, main.tr.stdout + main.tr.stderr);
    const id = main.taskVariables.deploymentId;
    assert.match(id ?? "", /\S/, "main keeps the deployment id as a task variable");
    const post = await runTask("VedetteDeployment/dist/post.js", all, {
      ...agent,
      VSTS_TASKVARIABLE_DEPLOYMENTID: id,
      AGENT_JOBSTATUS: jobStatus,
    });
    return { main, post, id };
  }

  test("records the start with the run's defaults and the finish as succeeded", async () => {
    const { main, post, id } = await deploy({ service: "payments", version: "2.0.0", environment: "prod", labels: "team=core\ntier=1", mute: "5m", selector: "service=payments" }, "Succeeded");
    assert.equal(main.outputs.deploymentId, id);
    assert.ok(post.tr.succeeded, post.tr.stdout + post.tr.stderr);
    const got = await api(server, "GET", `/deployments/${encodeURIComponent(id)}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const d = got.body;
    assert.equal(d.spec.source, "azure-devops");
    assert.equal(d.spec.commit, agent.BUILD_SOURCEVERSION);
    assert.equal(d.spec.ref, agent.BUILD_SOURCEBRANCH);
    assert.equal(d.spec.url, "https://dev.azure.example.com/acme/Payments/_build/results?buildId=77");
    assert.deepEqual(d.labels, { team: "core", tier: "1" });
    assert.equal(d.spec.status, "succeeded");
    assert.ok(d.spec.finished_at);
  });

  test("a failed job finishes the deployment as failed", async () => {
    const { post, id } = await deploy({ service: "payments", version: "2.0.1", environment: "prod", runUrl: "https://ci.example.com/7" }, "Failed");
    assert.ok(post.tr.succeeded, post.tr.stdout);
    const d = (await api(server, "GET", `/deployments/${encodeURIComponent(id)}`)).body;
    assert.equal(d.spec.status, "failed");
    assert.equal(d.spec.url, "https://ci.example.com/7");
  });

  test("a missing required input fails the main step naming it", async () => {
    const { tr } = await runTask("VedetteDeployment/dist/main.js", { url: server.url, token: server.token, service: "payments", version: "1" });
    assert.ok(tr.failed);
    assert.ok(tr.errorIssues.some((e) => /environment: is required/.test(e)), tr.errorIssues.join("\n"));
  });

  test("the post-job step does nothing when main started no deployment", async () => {
    const { tr } = await runTask("VedetteDeployment/dist/post.js", { url: server.url, token: server.token }, { AGENT_JOBSTATUS: "Succeeded" });
    assert.ok(tr.succeeded, tr.stdout);
    assert.match(tr.stdout, /nothing to finish/);
  });
});
