// Inputs shared by the Azure DevOps tasks: the server (a `vedette` service connection, or the
// url and token inputs) and the contract's input names mapped to Azure's camelCase ones.

import * as tl from "azure-pipelines-task-lib/task";
import { VedetteClient, VedetteError } from "../../js/src/client.js";
import type { InputReader } from "../../js/src/inputs.js";

/** Azure input names where they differ from the contract's (`fail-fast` → `failFast`). */
function azureName(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Reads an input by its contract name. */
export const input: InputReader = (name) => (tl.getInput(azureName(name), false) ?? "").trim();

/** A client for the service connection named by `connection`, else for the url/token inputs. */
export function client(userAgent: string): VedetteClient {
  const connection = input("connection");
  if (connection !== "") {
    const url = tl.getEndpointUrl(connection, true) ?? "";
    const token = tl.getEndpointAuthorizationParameter(connection, "apitoken", true) ?? "";
    if (url === "" || token === "") {
      throw new VedetteError("usage", `connection: the service connection ${connection} has no server URL or API token`);
    }
    tl.setSecret(token);
    return new VedetteClient({ url, token, userAgent });
  }
  const url = input("url");
  const token = input("token");
  if (url === "" && token === "") {
    throw new VedetteError("usage", "connection: give a vedette service connection, or the url and token inputs");
  }
  if (token !== "") {
    tl.setSecret(token);
  }
  return new VedetteClient({ url, token, userAgent });
}

/** Runs a task body: any error is logged as an error issue and fails the task. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    tl.setResult(tl.TaskResult.Failed, message);
  }
}
