// The `deployment` action's main step: records the start of a deployment (source github, the
// run's URL, commit and ref by default) and keeps its id for the post step.

import { VedetteClient } from "../../js/src/client.js";
import { deploymentRequest } from "../../js/src/inputs.js";
import * as gh from "./runtime.js";

/** The URL of this workflow run, from the runner's default variables. */
function runUrl(): string {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : "";
}

/** Runs the deployment action's main step; a failure is an error annotation and exit code 1. */
export function deploymentMain(): Promise<void> {
  return gh.run(async () => {
    const token = gh.getInput("token");
    gh.setSecret(token);
    const client = new VedetteClient({ url: gh.getInput("url"), token, userAgent: "vedette-github-action/deployment" });
    const defaults: Record<string, string | undefined> = {
      commit: process.env.GITHUB_SHA,
      ref: process.env.GITHUB_REF,
      "run-url": runUrl(),
    };
    const input = (name: string): string => gh.getInput(name) || (defaults[name] ?? "");
    const { spec, labels } = deploymentRequest(input, "github");
    const id = gh.getInput("id");
    const deployment = await client.createDeployment(spec, labels, id === "" ? undefined : id);
    gh.saveState("deployment-id", deployment.id);
    gh.setOutput("deployment-id", deployment.id);
    gh.info(`Vedette deployment ${deployment.id} started: ${spec.service} ${spec.version} to ${spec.environment}`);
  });
}
