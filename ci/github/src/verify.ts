// The `verify` action: creates a verification, follows it to the end, writes the markdown report
// to the job summary and the JUnit report to a file, annotates failing monitors, and fails the
// step on any outcome but `passed`.

import { writeFileSync } from "node:fs";
import { VedetteClient } from "../../js/src/client.js";
import { verifyRequest } from "../../js/src/inputs.js";
import { failedMonitors, failureText, outcomeLine, progressLogger } from "../../js/src/outcome.js";
import * as gh from "./runtime.js";

/** Runs the verify action; a failure is an error annotation and exit code 1, never a rejection. */
export function verify(): Promise<void> {
  return gh.run(async () => {
    const token = gh.getInput("token");
    gh.setSecret(token);
    const client = new VedetteClient({ url: gh.getInput("url"), token, userAgent: "vedette-github-action/verify" });
    const { spec, timeoutMs } = verifyRequest(gh.getInput);
    const created = await client.createVerification(spec);
    gh.setOutput("verification-id", created.id);
    gh.info(`Vedette verification ${created.id} started (${spec.selector !== undefined ? `selector ${spec.selector}` : `ids ${spec.ids?.join(", ")}`})`);

    const view = await client.followVerification(created.id, { timeoutMs, intervalMs: 1000, onProgress: progressLogger(gh.info) });
    const outcome = view.status?.state ?? "failed";
    const failed = failedMonitors(view);
    gh.setOutput("outcome", outcome);
    gh.setOutput("failed-monitors", failed.map((m) => m.id).join(","));

    gh.appendSummary(await client.report(view.id, "markdown"));
    const junit = gh.getInput("junit");
    if (junit !== "") {
      writeFileSync(junit, await client.report(view.id, "junit"));
      gh.info(`JUnit report written to ${junit}`);
    }

    for (const m of failed) {
      gh.error(failureText(m), `Vedette: ${m.name ?? m.id} ${m.state === "down" ? "is down" : "did not pass"}`);
    }
    const line = outcomeLine(view);
    if (outcome === "passed") {
      gh.info(line);
    } else {
      gh.error(line, `Vedette verification ${outcome.replace("_", " ")}`);
      process.exitCode = 1;
    }
  });
}
