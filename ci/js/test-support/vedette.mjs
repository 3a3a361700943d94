// Test support shared by the GitHub and Azure DevOps front ends' tests: a real `vedette serve` on
// 127.0.0.1 with a temporary database, an HTTP target process for monitors, and small API helpers.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, createWriteStream, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's root (ci/js/test-support/../../..). */
export const repoRoot = path.resolve(here, "..", "..", "..");

/** The admin token the test server creates on first start. */
export const TOKEN = "vdt_ci-ts-admin-token-0123456789abcdefghijkl";

/** The vedette binary under test: VEDETTE_BIN, else target/debug/vedette. */
export function vedetteBinary() {
  const bin = process.env.VEDETTE_BIN || path.join(repoRoot, "target", "debug", "vedette");
  if (!existsSync(bin)) {
    throw new Error(`no vedette binary at ${bin}: build it with 'cargo build --locked -p vedette-cli' or set VEDETTE_BIN`);
  }
  return bin;
}

/** Starts `vedette serve` on a free loopback port; resolves to {url, token, stop()}. */
async function startVedette() {
  const dir = mkdtempSync(path.join(tmpdir(), "vedette-ci-ts-"));
  const logPath = path.join(dir, "server.log");
  const log = createWriteStream(logPath);
  const child = spawn(vedetteBinary(), ["serve", "--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "data")], {
    env: { ...process.env, VEDETTE_BOOTSTRAP_TOKEN: TOKEN, VEDETTE_LOG_FORMAT: "text", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log);
  const url = await new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`vedette serve printed no 'listening' line in 60 s; log ${logPath}`)), 60_000);
    child.stderr.on("data", (chunk) => {
      log.write(chunk);
      buffer += chunk.toString();
      // Only a whole line: a chunk may end in the middle of the URL.
      const m = /vedette listening on (http:\/\/\S+)\r?\n/.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`vedette serve exited (${code}) before listening:\n${readFileSync(logPath, "utf8")}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    if (!process.env.VEDETTE_TEST_KEEP) {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { url, token: TOKEN, stop, logPath };
}

/**
 * Starts `vedette serve` before the tests of the suite it is called in and stops it after them;
 * the returned object gets startVedette's {url, token, stop, logPath} once the server is up.
 */
export function useVedette() {
  const server = {};
  before(async () => {
    Object.assign(server, await startVedette());
  });
  after(async () => {
    await server.stop?.();
  });
  return server;
}

/** Starts the HTTP target process; resolves to {base, stop()} with base like http://127.0.0.1:PORT. */
export async function startTarget() {
  const child = spawn(process.execPath, [path.join(here, "target.mjs")], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the target printed no port in 10 s")), 10_000);
    child.stdout.once("data", (chunk) => {
      clearTimeout(timer);
      resolve(Number(chunk.toString().trim()));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await exited;
    },
  };
}

/** Calls the API; resolves to {status, body} (body parsed when JSON). */
export async function api(server, method, apiPath, body) {
  const res = await fetch(`${server.url}/api/v1${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** Creates an HTTP monitor checked every second against the target. */
export async function createMonitor(server, id, url, labels) {
  const res = await api(server, "PUT", `/monitors/${id}`, {
    labels,
    spec: { name: id, http: { url }, interval: "1s", timeout: "1s" },
  });
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`creating monitor ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** A free loopback port with nothing listening (for the unreachable-server tests). */
export async function closedPort() {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
