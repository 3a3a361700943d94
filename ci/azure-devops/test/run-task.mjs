// The task runner MockTestRunner starts (with the system node): sets the inputs a test passed in
// VEDETTE_TEST_INPUTS through TaskMockRunner, then runs the bundled task named by
// VEDETTE_TEST_SCRIPT with the real task library (no mocked answers: it talks to a real server).
import mockRun from "azure-pipelines-task-lib/mock-run.js";

const tmr = new mockRun.TaskMockRunner(process.env.VEDETTE_TEST_SCRIPT);
for (const [name, value] of Object.entries(JSON.parse(process.env.VEDETTE_TEST_INPUTS ?? "{}"))) {
  tmr.setInput(name, value);
}
tmr.run(true);
