// Task VedetteVerify@1: creates a verification, follows it to the end, attaches the markdown
// report to the run's summary, writes (and publishes) the JUnit report, sets the output
// variables, and fails the task on any outcome but `passed`.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tl from "azure-pipelines-task-lib/task";
import { verifyRequest } from "../../js/src/inputs.js";
import { failedMonitors, failureText, outcomeLine, progressLogger } from "../../js/src/outcome.js";
import { client, input, run } from "./connection.js";

void run(async () => {
  const api = client("vedette-azure-devops/verify");
  const { spec, timeoutMs } = verifyRequest(input);
  const created = await api.createVerification(spec);
  tl.setVariable("verificationId", created.id, false, true);
  console.log(`Vedette verification ${created.id} started (${spec.selector !== undefined ? `selector ${spec.selector}` : `ids ${spec.ids?.join(", ")}`})`);

  const view = await api.followVerification(created.id, { timeoutMs, intervalMs: 1000, onProgress: progressLogger(console.log) });
  const outcome = view.status?.state ?? "failed";
  const failed = failedMonitors(view);
  tl.setVariable("outcome", outcome, false, true);
  tl.setVariable("failedMonitors", failed.map((m) => m.id).join(","), false, true);

  const summaryDir = tl.getVariable("Agent.TempDirectory") || mkdtempSync(path.join(tmpdir(), "vedette-"));
  const summary = path.join(summaryDir, `vedette-verification-${view.id}.md`);
  writeFileSync(summary, await api.report(view.id, "markdown"));
  tl.uploadSummary(summary);

  const junit = input("junit");
  if (junit !== "") {
    writeFileSync(junit, await api.report(view.id, "junit"));
    console.log(`JUnit report written to ${junit}`);
    if (tl.getBoolInput("publishTestResults", false)) {
      new tl.TestPublisher("JUnit").publish([junit], "false", "", "", `Vedette verification ${view.id}`, "true", "Vedette");
    }
  }

  for (const m of failed) {
    tl.error(`Vedette: ${m.name ?? m.id} ${m.state === "down" ? "is down" : "did not pass"}: ${failureText(m)}`);
  }
  const line = outcomeLine(view);
  if (outcome === "passed") {
    tl.setResult(tl.TaskResult.Succeeded, line);
  } else {
    tl.setResult(tl.TaskResult.Failed, line);
  }
});
