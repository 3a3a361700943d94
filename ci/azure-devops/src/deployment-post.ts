// Task VedetteDeployment@1, post-job step: records the finish of the deployment the main step
// started, succeeded or failed after the job's status (Agent.JobStatus).

import * as tl from "azure-pipelines-task-lib/task";
import { finishStatus } from "../../js/src/inputs.js";
import { client, input, run } from "./connection.js";

void run(async () => {
  const id = tl.getTaskVariable("deploymentId") ?? "";
  if (id === "") {
    console.log("Vedette: the main step started no deployment; nothing to finish");
    return;
  }
  if (!tl.getBoolInput("finish", false) && input("finish") !== "") {
    console.log(`Vedette deployment ${id} left started (finish: false)`);
    return;
  }
  const jobStatus = tl.getVariable("Agent.JobStatus") ?? "";
  if (jobStatus === "") {
    throw new Error("Agent.JobStatus is not set: this step must run as the task's post-job step");
  }
  const api = client("vedette-azure-devops/deployment");
  const status = finishStatus(jobStatus);
  await api.finishDeployment(id, status);
  tl.setResult(tl.TaskResult.Succeeded, `Vedette deployment ${id} finished: ${status} (job status ${jobStatus})`);
});
