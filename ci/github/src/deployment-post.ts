// The `deployment` action's post step: records the finish of the deployment the main step
// started, succeeded or failed after the job's status (the `job-status` input, `${{ job.status }}`).

import { VedetteClient } from "../../js/src/client.js";
import { finishStatus } from "../../js/src/inputs.js";
import * as gh from "./runtime.js";

/** Runs the deployment action's post step; a failure is an error annotation and exit code 1. */
export function deploymentPost(): Promise<void> {
  return gh.run(async () => {
    const id = gh.getState("deployment-id");
    if (id === "") {
      gh.info("Vedette: no deployment was started by this step's main run; nothing to finish");
      return;
    }
    if (gh.getInput("finish").toLowerCase() === "false") {
      gh.info(`Vedette deployment ${id} left started (finish: false)`);
      return;
    }
    const token = gh.getInput("token");
    gh.setSecret(token);
    const client = new VedetteClient({ url: gh.getInput("url"), token, userAgent: "vedette-github-action/deployment" });
    const jobStatus = gh.getInput("job-status");
    if (jobStatus === "") {
      throw new Error("job-status: is empty; leave it at its default (${{ job.status }}) or pass success/failure");
    }
    const status = finishStatus(jobStatus);
    await client.finishDeployment(id, status);
    gh.info(`Vedette deployment ${id} finished: ${status} (job status ${jobStatus})`);
  });
}
