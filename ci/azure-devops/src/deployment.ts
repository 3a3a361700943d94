// Task VedetteDeployment@1, main step: records the start of a deployment (source azure-devops,
// the run's URL, commit and branch by default) and keeps its id for the post-job step.

import * as tl from "azure-pipelines-task-lib/task";
import { deploymentRequest } from "../../js/src/inputs.js";
import { client, input, run } from "./connection.js";

/** The URL of this pipeline run, from the agent's predefined variables. */
function runUrl(): string {
  const server = tl.getVariable("System.CollectionUri");
  const project = tl.getVariable("System.TeamProject");
  const build = tl.getVariable("Build.BuildId");
  return server && project && build
    ? `${server.replace(/\/$/, "")}/${encodeURIComponent(project)}/_build/results?buildId=${build}`
    : "";
}

void run(async () => {
  const api = client("vedette-azure-devops/deployment");
  const defaults: Record<string, string | undefined> = {
    commit: tl.getVariable("Build.SourceVersion"),
    ref: tl.getVariable("Build.SourceBranch"),
    "run-url": runUrl(),
  };
  const { spec, labels } = deploymentRequest((name) => input(name) || (defaults[name] ?? ""), "azure-devops");
  const deployment = await api.createDeployment(spec, labels, input("id") || undefined);
  tl.setTaskVariable("deploymentId", deployment.id);
  tl.setVariable("deploymentId", deployment.id, false, true);
  tl.setResult(tl.TaskResult.Succeeded, `Vedette deployment ${deployment.id} started: ${spec.service} ${spec.version} to ${spec.environment}`);
});
